"""The case history in words: each saved version of a case, its entity or a finding turned
into one sentence a reader follows ("ana confirmed the joint venture lead from gdelt")
instead of field names and ids.

Pure functions of the values a history row holds, so each wording is tested without a
database. The sentences are plain text; templates escape them like any other value.
"""

from dataclasses import dataclass

from django.core.exceptions import FieldDoesNotExist

from cases.models import Case, Entity, Finding

AUTOMATED = "An automated task"

_KINDS = dict(Finding.Kind.choices)
_STATUSES = dict(Case.Status.choices)
_PRIORITIES = dict(Case.Priority.choices)
_CASE_KINDS = dict(Case.Kind.choices)


def finding_name(kind: str, counterparty_name: str) -> str:
    """A finding as a reader knows it: its kind and counterparty, never its id."""
    return f"{_KINDS.get(kind, kind)} with {counterparty_name or 'an unnamed party'}"


def lead_name(kind: str, source: str) -> str:
    """ "the joint venture lead from gdelt", or "the hand-entered joint venture finding"."""
    kind_text = _KINDS.get(kind, kind)
    if source == Finding.MANUAL:
        return f"the hand-entered {kind_text} finding"
    return f"the {kind_text} lead from {source}"


@dataclass(frozen=True)
class Change:
    field: str
    old: object
    new: object


def _with_reason(sentence: str, reason: str) -> str:
    reason = (reason or "").strip()
    return f"{sentence}: {reason}" if reason else sentence


def _quoted(value: object) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, (list, tuple)):
        value = ", ".join(str(item).replace("_", " ") for item in value)
    return f"“{value}”" if value not in (None, "") else "nothing"


def _field_label(model, field: str) -> str:
    try:
        return str(model._meta.get_field(field).verbose_name)
    except FieldDoesNotExist:  # a column the model has since dropped
        return field.replace("_", " ")


def finding_sentence(
    who: str, action: str, values: dict, changes: list[Change], users: dict[int, str]
) -> str:
    """One finding history row in words. `values` are the row's fields after the change."""
    subject = lead_name(values["kind"], values["source"])
    actor = who or AUTOMATED
    if action == "created":
        what = finding_name(values["kind"], values["counterparty_name"])
        if who:
            return f"{who} added a finding: {what}"
        return f"A check of {values['source']} filed a lead: {what}"
    if action == "deleted":
        return f"{actor} deleted {subject}"
    state = next((c for c in changes if c.field == "review_state"), None)
    if state is not None:
        note = values.get("review_note", "")
        if state.new == Finding.ReviewState.LEAD:
            return _with_reason(f"{actor} reopened {subject}", note)
        if state.new == Finding.ReviewState.CONFIRMED:
            return _with_reason(f"{actor} confirmed {subject}", note)
        return _with_reason(f"{actor} rejected {subject}", note)
    rest = [c for c in changes if c.field not in ("reviewed_by", "reviewed_at", "review_note")]
    if not rest:
        return f"{actor} edited {subject}"
    parts = []
    for change in rest:
        old, new = change.old, change.new
        if change.field == "timing":
            old, new = Finding.Timing(old).label if old else old, Finding.Timing(new).label
        elif change.field == "kind":
            old, new = _KINDS.get(old, old), _KINDS.get(new, new)
        elif change.field in ("created_by",):
            old, new = users.get(old, "someone"), users.get(new, "someone")
        parts.append(f"{_field_label(Finding, change.field)} from {_quoted(old)} to {_quoted(new)}")
    return f"{actor} changed {subject}: " + "; ".join(parts)


def _case_part(change: Change, users: dict[int, str], teams: dict[int, str]) -> str:
    old, new = change.old, change.new
    if change.field == "status":
        return f"moved the case from {_STATUSES.get(old, old)} to {_STATUSES.get(new, new)}"
    if change.field == "assignee":
        return f"assigned the case to {users.get(new, 'someone')}" if new else "unassigned the case"
    if change.field == "team":
        return f"moved the case to team {teams.get(new, 'another')}" if new else "took the team off"
    if change.field == "priority":
        return f"set the priority to {_PRIORITIES.get(new, new)}"
    if change.field == "kind":
        return f"made the case {_CASE_KINDS.get(new, new)}"
    if change.field == "matched_case":
        return "matched the control to another case" if new else "unmatched the control"
    label = _field_label(Case, change.field)
    return f"changed the {label} from {_quoted(old)} to {_quoted(new)}"


def case_sentence(
    who: str,
    action: str,
    changes: list[Change],
    users: dict[int, str],
    teams: dict[int, str],
) -> str:
    actor = who or AUTOMATED
    if action == "created":
        return f"{actor} opened the case"
    if action == "deleted":
        return f"{actor} deleted the case"
    if not changes:
        return f"{actor} saved the case unchanged"
    return f"{actor} " + "; ".join(_case_part(c, users, teams) for c in changes)


def entity_sentence(who: str, action: str, changes: list[Change]) -> str:
    actor = who or AUTOMATED
    if action == "created":
        return f"{actor} recorded the entity"
    if action == "deleted":
        return f"{actor} deleted the entity"
    if not changes:
        return f"{actor} saved the entity unchanged"
    parts = [
        f"the {_field_label(Entity, c.field)} from {_quoted(c.old)} to {_quoted(c.new)}"
        for c in changes
    ]
    return f"{actor} changed " + "; ".join(parts)


def status_change_sentence(who: str, from_status: str, to_status: str, reason: str) -> str:
    actor = who or AUTOMATED
    if from_status == Case.Status.CONCLUDED and to_status == Case.Status.IN_REVIEW and reason:
        return _with_reason(f"{actor} reopened the concluded case", reason)
    return _with_reason(
        f"{actor} moved the case from {_STATUSES.get(from_status, from_status)} to "
        f"{_STATUSES.get(to_status, to_status)}",
        reason,
    )
