"""Bulk actions of the case list: assign, set status, move to a team, add or remove a
tag, over the picked cases or every case the filter matches.

Each case goes through the same service as on its page (services.case_assign,
case_set_status, cases_move_to_team, tags.case_tag_add/remove), so its history, status
log and the team rules apply, one case at a time: a case refused (an assignee not on its
team, a case without a team that takes no tag) is reported and the others are saved. All
or nothing would make one odd case among 300 undo the other 299 and leave the analyst to
find it; per case, the message says which were refused and why.
"""

from collections import defaultdict
from dataclasses import dataclass, field

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import transaction

from cases.casework import services, tags
from cases.models import Case, Team

# A bulk action saves case by case, each in its own transaction; past this many the page
# would wait minutes. The filter narrows the list first.
MAX_CASES = 1000
SHOWN_NAMES = 5  # cases named per refusal reason; the rest are counted


class Action:
    ASSIGN = "assign"
    STATUS = "status"
    TEAM = "team"
    TAG_ADD = "tag_add"
    TAG_REMOVE = "tag_remove"

    LABELS = {
        ASSIGN: "assign to",
        STATUS: "set status to",
        TEAM: "move to team",
        TAG_ADD: "add tag",
        TAG_REMOVE: "remove tag",
    }


def allowed_actions(*, can_edit: bool, can_assign: bool, is_admin: bool) -> list[str]:
    """What a role may do in bulk: supervisors only assign; moving teams is the admins'."""
    actions = []
    if can_assign:
        actions.append(Action.ASSIGN)
    if can_edit:
        actions += [Action.STATUS, Action.TAG_ADD, Action.TAG_REMOVE]
    if is_admin:
        actions.append(Action.TEAM)
    return [action for action in Action.LABELS if action in actions]


def _count(n: int) -> str:
    return f"{n} case" if n == 1 else f"{n} cases"


@dataclass
class BulkOutcome:
    done: int = 0
    unchanged: int = 0
    refused: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))
    unseen: int = 0  # picked ids that are not among the user's cases

    @property
    def refused_count(self) -> int:
        return sum(len(names) for names in self.refused.values()) + self.unseen

    def message(self, done: str, unchanged: str) -> str:
        """E.g. "12 cases set to monitoring; 1 already monitoring; 2 refused: ..."."""
        parts = [f"{_count(self.done)} {done}"]
        if self.unchanged:
            parts.append(f"{self.unchanged} {unchanged}")
        if self.refused_count:
            reasons = []
            for reason, names in self.refused.items():
                shown = ", ".join(names[:SHOWN_NAMES])
                more = len(names) - SHOWN_NAMES
                shown += f" and {more} more" if more > 0 else ""
                reasons.append(f"{reason} ({shown})")
            if self.unseen:
                reasons.append(f"{_count(self.unseen)} not among your cases")
            parts.append(f"{self.refused_count} refused: " + "; ".join(reasons))
        return "; ".join(parts) + "."


def _reason(exc: Exception) -> str:
    messages = getattr(exc, "messages", None) or [str(exc)]
    return " ".join(messages).rstrip(".")


def _apply_one(case: Case, outcome: BulkOutcome, change) -> None:
    """Run `change(case)` in its own transaction; it returns False when nothing changed."""
    try:
        with transaction.atomic():
            changed = change(case)
    except (ValidationError, services.EditConflict) as exc:
        outcome.refused[_reason(exc)].append(case.entity.name)
        return
    if changed:
        outcome.done += 1
    else:
        outcome.unchanged += 1


def cases_bulk_assign(
    *, cases: list[Case], assignee: AbstractBaseUser | None, actor: AbstractBaseUser
) -> BulkOutcome:
    outcome = BulkOutcome()

    def change(case: Case) -> bool:
        if case.assignee_id == (assignee.pk if assignee else None):
            return False
        services.case_assign(case=case, assignee=assignee, actor=actor)
        return True

    for case in cases:
        _apply_one(case, outcome, change)
    return outcome


def cases_bulk_status(*, cases: list[Case], status: str, actor: AbstractBaseUser) -> BulkOutcome:
    outcome = BulkOutcome()

    def change(case: Case) -> bool:
        if case.status == status:
            return False
        services.case_set_status(case=case, status=status, actor=actor)
        return True

    for case in cases:
        _apply_one(case, outcome, change)
    return outcome


def cases_bulk_move(*, cases: list[Case], team: Team, actor: AbstractBaseUser) -> BulkOutcome:
    outcome = BulkOutcome()

    def change(case: Case) -> bool:
        if case.team_id == team.pk:
            return False
        services.cases_move_to_team(cases=[case], team=team, actor=actor)
        return True

    for case in cases:
        _apply_one(case, outcome, change)
    return outcome


def cases_bulk_tag(
    *, cases: list[Case], name: str, add: bool, actor: AbstractBaseUser
) -> BulkOutcome:
    """Add the tag to (or take it off) each case; its team's tag of that name is used,
    made for a team that has none when adding."""
    tags.tag_name_clean(name)  # a bad name is refused once, not once per case
    outcome = BulkOutcome()

    def change(case: Case) -> bool:
        try:
            if add:
                tags.case_tag_add(case=case, name=name, actor=actor)
            else:
                tags.case_tag_remove(case=case, name=name)
        except tags.AlreadyTagged:
            return False
        except tags.NotTagged:
            return False
        return True

    for case in cases:
        _apply_one(case, outcome, change)
    return outcome
