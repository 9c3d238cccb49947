"""Writes of the research pages and the admin's case actions: reviews, hand-entered
findings, status, assignee, team and identifier changes and whole-case saves, each able to
refuse a save over someone else's newer edit (EditConflict).
"""

from collections.abc import Iterable
from datetime import date

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from cases import access, normalize, rules
from cases.casework.history import finding_name
from cases.casework.tags import case_tags_drop_other_teams
from cases.derived import (
    case_index_dates_refresh,
    control_match_derive,
    entity_save,
    evidence_sha256,
    finding_create,
)
from cases.evidence import services as evidence_services
from cases.models import Case, CaseStatusChange, Entity, Finding, SecondCoding, Team
from cases.notifications import services as notification_services
from cases.webhooks import services as webhook_services


class EditConflict(Exception):
    """The row changed after the form was opened; nothing was saved."""

    def __init__(self, message: str = "", *, row=None):
        super().__init__(message)
        # The row as it is now (when it still exists), to tell its last editor.
        self.row = row


def _last_editor(obj) -> str:
    record = obj.history.select_related("history_user").first()
    if record is None:
        return "someone"
    who = record.history_user.get_username() if record.history_user else "an automated task"
    return f"{who} at {timezone.localtime(record.history_date):%Y-%m-%d %H:%M}"


def _lock(model, pk: int, version: int | None, what: str):
    """Return the row locked for this transaction, refusing it if its version moved on.

    A form carries the version it was rendered with; a second analyst saving a stale
    form gets an error naming the first one's edit instead of overwriting it.
    """
    try:
        obj = model.objects.select_for_update().get(pk=pk)
    except model.DoesNotExist:
        raise EditConflict(f"{what} was deleted after you opened it; nothing was saved.") from None
    if version is not None and obj.version != version:
        raise EditConflict(
            f"{what} was changed by {_last_editor(obj)} after you opened it, so your change "
            "was not saved. Reload the page to see the current state, then try again.",
            row=obj,
        )
    return obj


def edit_conflict_notify(exc: Exception, *, actor: AbstractBaseUser | None) -> None:
    """After a stale save was refused (and its transaction rolled back), tell the person
    whose edit it would have overwritten; anything but an EditConflict from _lock is
    ignored, so a view can pass on whatever it caught."""
    row = getattr(exc, "row", None) if isinstance(exc, EditConflict) else None
    if isinstance(row, Case):
        case, what = row, ""
    elif isinstance(row, Finding):
        case, what = row.case, _finding_what(row).replace("The ", "the ", 1)
    else:
        return  # a comment's only editor is its author; nobody else to tell
    record = row.history.select_related("history_user").first()
    notification_services.notify_refused_edit(
        case=case,
        kept_for=record.history_user if record is not None else None,
        refused=actor,
        what=what,
    )


def finding_record_by_hand(
    *,
    case: Case,
    actor: AbstractBaseUser,
    kind: str,
    counterparty_name: str,
    counterparty_country: str,
    event_date: date,
    event_date_precision: str,
    source_url: str,
    excerpt: str,
    confidence: str = Finding.Confidence.MEDIUM,
    record_anyway: bool = False,
) -> Finding:
    """Record a finding a person read, confirmed at once.

    The same evidence (kind, counterparty, date, URL) is recorded once per case: its key
    goes into external_id, which the database keeps unique per case and source, so a
    form sent twice cannot count the evidence twice. A finding that only looks like one
    on the case (rules.looks_like_same_event: another article on the same event) is
    refused with SimilarFindings unless the person said to record it anyway.
    """
    key = "|".join(
        [kind, normalize.name_key(counterparty_name), counterparty_country,
         f"{event_date:%Y-%m-%d}", event_date_precision, source_url.strip()]
    )  # fmt: skip
    external_id = "manual:" + evidence_sha256(key)[:32]
    already = ValidationError("This finding is already recorded on the case.")
    if Finding.objects.filter(case=case, source=Finding.MANUAL, external_id=external_id).exists():
        raise already
    if not record_anyway:
        similar = similar_findings(
            case=case,
            kind=kind,
            counterparty_name=counterparty_name,
            event_date=event_date,
            event_date_precision=event_date_precision,
        )
        if similar:
            raise SimilarFindings(similar)
    try:
        with transaction.atomic():
            finding = finding_create(
                case=case,
                kind=kind,
                counterparty_name=counterparty_name,
                counterparty_country=counterparty_country,
                event_date=event_date,
                event_date_precision=event_date_precision,
                source_url=source_url,
                excerpt=excerpt,
                confidence=confidence,
                external_id=external_id,
                created_by=actor,
                review_state=Finding.ReviewState.CONFIRMED,
            )
            webhook_services.finding_confirmed(finding, actor)
            # Confirmed as it is recorded: its page is kept as a reviewed lead's is.
            evidence_services.evidence_capture_on_confirm(finding=finding, actor=actor)
            return finding
    except IntegrityError:  # the same form sent twice at the same moment
        raise already from None


class SimilarFindings(ValidationError):
    """The finding looks like findings already on the case; nothing was saved."""

    def __init__(self, findings: list[Finding]):
        self.findings = findings
        names = "; ".join(_similar_name(finding) for finding in findings)
        super().__init__(
            f"This looks like a finding already on the case: {names}. If it is a different "
            "event, tick “Record anyway” and record it again."
        )


def _similar_name(finding: Finding) -> str:
    how = "recorded by hand" if finding.source == Finding.MANUAL else f"from {finding.source}"
    dated = finding.event_date_display or "undated"
    return (
        f"the {finding_name(finding.kind, finding.counterparty_name)} ({dated}, "
        f"{finding.get_review_state_display()}, {how})"
    )


def similar_findings(
    *,
    case: Case,
    kind: str,
    counterparty_name: str,
    event_date: date | None,
    event_date_precision: str,
) -> list[Finding]:
    """The case's findings that look like the same event, earliest first."""
    return [
        finding
        for finding in case.findings.filter(kind=kind).order_by("event_date", "id")
        if rules.looks_like_same_event(
            kind, counterparty_name, event_date, event_date_precision, finding
        )
    ]


@transaction.atomic
def finding_review(
    *,
    finding: Finding,
    state: str,
    reviewer: AbstractBaseUser | None,
    note: str = "",
    version: int | None = None,
) -> Finding:
    """Confirm or reject a finding, recording who did it and when.

    A rejection needs a note saying why, so a later reader can trust it. With a version,
    a finding reviewed by someone else since the form was rendered is refused.
    """
    if state not in (Finding.ReviewState.CONFIRMED, Finding.ReviewState.REJECTED):
        raise ValueError(f"A review sets confirmed or rejected, not {state!r}.")
    note = note.strip()
    if state == Finding.ReviewState.REJECTED and not note:
        raise ValidationError({"note": "Say why the finding is rejected."})
    locked = _lock(Finding, finding.pk, version, _finding_what(finding))
    reviewed = _review_write(finding, locked, state, reviewer, note, reviewed=True)
    if state == Finding.ReviewState.CONFIRMED:
        webhook_services.finding_confirmed(reviewed, reviewer)
        # Its page is kept in the background, once this review commits.
        evidence_services.evidence_capture_on_confirm(finding=locked, actor=reviewer)
    return reviewed


def _review_write(
    finding: Finding,
    locked: Finding,
    state: str,
    reviewer: AbstractBaseUser | None,
    note: str,
    *,
    reviewed: bool,
) -> Finding:
    """Write a review state onto the locked row (who and when only for a review made, not
    for one undone) and copy it to the caller's instance."""
    locked.review_state = state
    locked.reviewed_by = reviewer if reviewed else None
    locked.reviewed_at = timezone.now() if reviewed else None
    locked.review_note = note
    locked.version += 1
    locked._history_user = reviewer
    locked.save(
        update_fields=[
            "review_state",
            "reviewed_by",
            "reviewed_at",
            "review_note",
            "version",
            "updated_at",
        ]
    )
    for name in ("review_state", "reviewed_by", "reviewed_at", "review_note", "version"):
        setattr(finding, name, getattr(locked, name))
    return finding


def _finding_what(finding: Finding) -> str:
    """How a refusal names the finding: by kind and counterparty, not by id."""
    return "The " + finding_name(finding.kind, finding.counterparty_name)


def _reason(reason: str, field: str, message: str) -> str:
    reason = reason.strip()
    if not reason:
        raise ValidationError({field: message})
    return reason


@transaction.atomic
def finding_reopen(
    *,
    finding: Finding,
    reviewer: AbstractBaseUser | None,
    reason: str,
    version: int | None = None,
) -> Finding:
    """Put a confirmed or rejected finding back among the leads, saying why.

    The review is undone, not rewritten: the history keeps who confirmed or rejected it
    and who reopened it, and the reason becomes the lead's note. Whether the case is
    positive follows at once, as the outcome rule reads only confirmed findings.
    """
    reason = _reason(reason, "note", "Say why the review is reopened.")
    locked = _lock(Finding, finding.pk, version, _finding_what(finding))
    if locked.review_state == Finding.ReviewState.LEAD:
        raise ValidationError(
            f"{_finding_what(locked)} is waiting for review already; there is nothing to reopen."
        )
    return _review_write(
        finding, locked, Finding.ReviewState.LEAD, reviewer, reason, reviewed=False
    )


def findings_review(
    *,
    findings: Iterable[Finding],
    state: str,
    reviewer: AbstractBaseUser | None,
    note: str = "",
    versions: dict[int, int] | None = None,
) -> int:
    """Review several findings at once: all or none; each keeps its own history row."""
    versions = versions or {}
    count = 0
    with transaction.atomic():
        for finding in findings:
            finding_review(
                finding=finding,
                state=state,
                reviewer=reviewer,
                note=note,
                version=versions.get(finding.pk),
            )
            count += 1
    return count


@transaction.atomic
def case_set_status(
    *, case: Case, status: str, actor: AbstractBaseUser | None, version: int | None = None
) -> Case:
    """Move a case to a status, logging the transition with who and when."""
    if status not in Case.Status.values:
        raise ValidationError({"status": f"Unknown case status {status!r}."})
    locked = _lock(Case, case.pk, version, f"Case {case.pk}")
    if locked.status != status:
        _status_write(locked, status, actor)
    case.status, case.version = locked.status, locked.version
    return case


def _status_write(locked: Case, status: str, actor, reason: str = "") -> None:
    """Move the locked case to `status`, logging the change (with its reason, if any)."""
    case_status_change_record(
        case=locked, from_status=locked.status, to_status=status, actor=actor, reason=reason
    )
    locked.status = status
    locked.version += 1
    locked._history_user = actor
    locked.save(update_fields=["status", "version", "updated_at"])


@transaction.atomic
def case_reopen(
    *, case: Case, actor: AbstractBaseUser | None, reason: str, version: int | None = None
) -> Case:
    """Take a concluded case back to in review, saying why; the reason is logged with the
    status change. A reopened case is no longer a reviewed negative until concluded again.
    """
    reason = _reason(reason, "reason", "Say why the case is reopened.")
    locked = _lock(Case, case.pk, version, "The case")
    if locked.status != Case.Status.CONCLUDED:
        raise ValidationError(
            f"Only a concluded case is reopened; this one is {locked.get_status_display()}."
        )
    _status_write(locked, Case.Status.IN_REVIEW, actor, reason)
    case.status, case.version = locked.status, locked.version
    return case


@transaction.atomic
def case_assign(
    *,
    case: Case,
    assignee: AbstractBaseUser | None,
    actor: AbstractBaseUser | None = None,
    version: int | None = None,
) -> Case:
    """Give a case to a member of its team (or to nobody)."""
    locked = _lock(Case, case.pk, version, f"Case {case.pk}")
    if assignee is not None:
        _check_assignee(locked, assignee)
    if locked.assignee_id != (assignee.pk if assignee else None):
        locked.assignee = assignee
        locked.version += 1
        locked._history_user = actor
        locked.save(update_fields=["assignee", "version", "updated_at"])
        notification_services.notify_assigned(case=locked, assignee=assignee, actor=actor)
    case.assignee, case.version = locked.assignee, locked.version
    return case


def _check_assignee(case: Case, assignee: AbstractBaseUser) -> None:
    """An assignee must be able to see and work the case."""
    name = assignee.get_username()
    if not assignee.is_active:
        raise ValidationError({"assignee": f"{name} is not an active user."})
    if access.is_admin(assignee):
        return  # admins see every case
    if case.team_id is None:
        raise ValidationError(
            {"assignee": "Only admins see a case without a team: move it to a team first."}
        )
    if not assignee.teams.filter(pk=case.team_id).exists():
        raise ValidationError({"assignee": f"{name} is not on the case's team."})
    if not assignee.groups.filter(name=access.ANALYST).exists():
        raise ValidationError({"assignee": f"{name} is not an analyst."})
    if SecondCoding.objects.filter(case=case, coder=assignee).exists():
        raise ValidationError(
            {"assignee": f"{name} is the case's blind second coder; give the case to another."}
        )


def case_status_change_record(
    *,
    case: Case,
    from_status: str,
    to_status: str,
    actor: AbstractBaseUser | None,
    reason: str = "",
) -> CaseStatusChange | None:
    """Log a status change, or nothing when the status stays."""
    if from_status == to_status:
        return None
    return CaseStatusChange.objects.create(
        case=case, from_status=from_status, to_status=to_status, changed_by=actor, reason=reason
    )


@transaction.atomic
def case_save(*, case: Case, actor: AbstractBaseUser | None, version: int | None = None) -> Case:
    """Validate and save a case edited as a whole (the admin's form), with what follows.

    An edit raises the version, so forms open on the research pages are refused, and logs
    a status change. A new case, or one whose kind or matched case changed, has its index
    date derived again (a control case takes its matched case's). A control that misses
    a matching criterion nobody relaxed is refused. With a version, a case changed since
    the form was rendered is refused.
    """
    # A control is held to its matching criteria whichever form made it.
    control_match_derive(case)
    if case.pk is None:
        case.full_clean()
        case._history_user = actor
        case.save()
        case_index_dates_refresh(case_ids=[case.pk])
        notification_services.notify_assigned(case=case, assignee=case.assignee, actor=actor)
        return case
    locked = _lock(Case, case.pk, version, f"Case {case.pk}")
    case.full_clean()
    case_status_change_record(
        case=case, from_status=locked.status, to_status=case.status, actor=actor
    )
    case.version = locked.version + 1
    case._history_user = actor
    case.save()
    if (case.kind, case.matched_case_id) != (locked.kind, locked.matched_case_id):
        case_index_dates_refresh(case_ids=[case.pk])
    if case.assignee_id != locked.assignee_id:
        # As on the case page: the new assignee learns the case is theirs.
        notification_services.notify_assigned(case=case, assignee=case.assignee, actor=actor)
    return case


@transaction.atomic
def cases_move_to_team(
    *, cases: Iterable[Case], team: Team, actor: AbstractBaseUser | None = None
) -> int:
    """Hand cases to a team; an assignee who is not on it is unassigned, and the old
    team's tags come off (tags are a team's own words)."""
    count = 0
    for case in cases:
        locked = _lock(Case, case.pk, None, f"Case {case.pk}")
        locked.team = team
        if locked.assignee_id and not team.members.filter(pk=locked.assignee_id).exists():
            locked.assignee = None
        locked.version += 1
        locked._history_user = actor
        locked.save(update_fields=["team", "assignee", "version", "updated_at"])
        case_tags_drop_other_teams(case_ids=[locked.pk], team_id=team.pk)
        count += 1
    return count


def cases_assign(*, cases: Iterable[Case], assignee: AbstractBaseUser | None, actor=None) -> int:
    count = 0
    with transaction.atomic():
        for case in cases:
            case_assign(case=case, assignee=assignee, actor=actor)
            count += 1
    return count


def cases_set_status(
    *, cases: Iterable[Case], status: str, actor: AbstractBaseUser | None = None
) -> int:
    if status not in Case.Status.values:
        raise ValueError(f"Unknown case status {status!r}.")
    count = 0
    with transaction.atomic():
        for case in cases:
            case_set_status(case=case, status=status, actor=actor)
            count += 1
    return count


# The entity fields an analyst may correct from the case page.
ENTITY_EDITABLE = (
    "name_native",
    "aliases",
    "website",
    "lei",
    "sec_cik",
    "uk_company_number",
    "ror_id",
    "openalex_id",
    "wikidata_id",
)


@transaction.atomic
def case_entity_update(
    *, case: Case, values: dict, actor: AbstractBaseUser | None, version: int | None = None
) -> Entity:
    """Correct the entity's identifiers and other names; refused if the case moved on."""
    locked = _lock(Case, case.pk, version, f"Case {case.pk}")
    entity = Entity.objects.select_for_update().get(pk=locked.entity_id)
    unknown = set(values) - set(ENTITY_EDITABLE)
    if unknown:
        raise ValueError(f"Not editable here: {', '.join(sorted(unknown))}")
    for name, value in values.items():
        if isinstance(value, str):
            value = value.strip()
            if name in ("lei", "wikidata_id"):
                value = value.upper()
        setattr(entity, name, value)
    entity._history_user = actor
    entity_save(entity=entity)
    locked.version += 1
    locked._history_user = actor
    locked.save(update_fields=["version", "updated_at"])
    case.version = locked.version
    case.entity = entity
    return entity
