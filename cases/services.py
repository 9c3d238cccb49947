"""Writes to the case store. Every change that derives a value (name keys, index dates,
timings, evidence hashes) goes through a function here, so the admin, the importer, the
commands and later the checks and pages all keep the derived values right.
"""

import hashlib
from collections.abc import Iterable
from datetime import date, datetime

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.db.models import Case as SqlCase
from django.db.models import IntegerField, OuterRef, Subquery, Value, When
from django.db.models.functions import Coalesce
from django.utils import timezone

from . import normalize
from .models import Case, CheckRun, Entity, Finding, Post, Referral

# Finer precision first, so that of two referrals starting on the same day the one
# known to the day sets the index date.
_PRECISION_RANK = SqlCase(
    When(date_precision="day", then=Value(0)),
    When(date_precision="month", then=Value(1)),
    default=Value(2),
    output_field=IntegerField(),
)


def evidence_sha256(content: bytes | str) -> str:
    if isinstance(content, str):
        content = content.encode("utf-8")
    return hashlib.sha256(content).hexdigest()


@transaction.atomic
def entity_save(*, entity: Entity) -> Entity:
    """Save an entity with its name key recomputed and make sure it has a case."""
    entity.name_key = normalize.name_key(entity.name)
    entity.full_clean()
    entity.save()
    Case.objects.get_or_create(entity=entity)
    return entity


def case_index_dates_refresh(*, case_ids: Iterable[int] | None = None) -> int:
    """Set each case's index date to its entity's earliest referral, in one UPDATE.

    Then re-derive the timing of the findings of those cases. Returns the number of
    cases updated. Called after any change to referrals.
    """
    earliest = Referral.objects.filter(entity_id=OuterRef("entity_id")).order_by(
        "date", _PRECISION_RANK
    )
    cases = Case.objects.all()
    if case_ids is not None:
        case_ids = list(case_ids)
        cases = cases.filter(id__in=case_ids)
    with transaction.atomic():
        updated = cases.update(
            index_date=Subquery(earliest.values("date")[:1]),
            index_date_precision=Coalesce(
                Subquery(earliest.values("date_precision")[:1]), Value("")
            ),
        )
        finding_timings_refresh(case_ids=case_ids)
    return updated


def finding_timings_refresh(*, case_ids: Iterable[int] | None = None) -> int:
    """Re-derive before/after/unknown for the findings of these cases (all if None)."""
    findings = Finding.objects.select_related(None).only(
        "id",
        "timing",
        "event_date",
        "event_date_precision",
        "case__index_date",
        "case__index_date_precision",
    )
    if case_ids is not None:
        findings = findings.filter(case_id__in=list(case_ids))
    changed = []
    for finding in findings.select_related("case").iterator(chunk_size=2000):
        timing = normalize.compare_periods(
            finding.event_date,
            finding.event_date_precision,
            finding.case.index_date,
            finding.case.index_date_precision,
        )
        if timing != finding.timing:
            finding.timing = timing
            changed.append(finding)
    Finding.objects.bulk_update(changed, ["timing"], batch_size=2000)
    return len(changed)


@transaction.atomic
def finding_save(*, finding: Finding) -> Finding:
    """Validate and save a finding with its timing derived from the case's index date."""
    case = finding.case
    finding.timing = normalize.compare_periods(
        finding.event_date, finding.event_date_precision, case.index_date, case.index_date_precision
    )
    finding.full_clean()
    finding.save()
    return finding


def finding_create(
    *,
    case: Case,
    kind: str,
    source: str = Finding.MANUAL,
    counterparty_name: str = "",
    counterparty_country: str = "",
    event_date: date | None = None,
    event_date_precision: str = "",
    source_url: str = "",
    excerpt: str = "",
    evidence: bytes | str | None = None,
    external_id: str = "",
    retrieved_at: datetime | None = None,
    confidence: str = Finding.Confidence.MEDIUM,
    created_by: AbstractBaseUser | None = None,
    review_state: str = Finding.ReviewState.LEAD,
) -> Finding:
    """Record a finding; automated sources file leads, people may file confirmed findings."""
    finding = Finding(
        case=case,
        kind=kind,
        source=source,
        counterparty_name=counterparty_name,
        counterparty_country=counterparty_country,
        event_date=event_date,
        event_date_precision=event_date_precision if event_date else "",
        source_url=source_url,
        excerpt=excerpt,
        evidence_sha256=evidence_sha256(evidence) if evidence is not None else "",
        external_id=external_id,
        retrieved_at=retrieved_at,
        confidence=confidence,
        created_by=created_by,
        review_state=review_state,
    )
    if review_state != Finding.ReviewState.LEAD:
        finding.reviewed_by = created_by
        finding.reviewed_at = timezone.now()
    return finding_save(finding=finding)


@transaction.atomic
def finding_review(
    *, finding: Finding, state: str, reviewer: AbstractBaseUser | None, note: str = ""
) -> Finding:
    """Confirm or reject a finding, recording who did it and when."""
    if state not in (Finding.ReviewState.CONFIRMED, Finding.ReviewState.REJECTED):
        raise ValueError(f"A review sets confirmed or rejected, not {state!r}.")
    finding.review_state = state
    finding.reviewed_by = reviewer
    finding.reviewed_at = timezone.now()
    finding.review_note = note
    finding.save(
        update_fields=["review_state", "reviewed_by", "reviewed_at", "review_note", "updated_at"]
    )
    return finding


def findings_review(
    *, findings: Iterable[Finding], state: str, reviewer: AbstractBaseUser | None, note: str = ""
) -> int:
    """Review several findings; each is saved on its own so its history is recorded."""
    count = 0
    with transaction.atomic():
        for finding in findings:
            finding_review(finding=finding, state=state, reviewer=reviewer, note=note)
            count += 1
    return count


def cases_assign(*, cases: Iterable[Case], assignee: AbstractBaseUser | None) -> int:
    count = 0
    with transaction.atomic():
        for case in cases:
            case.assignee = assignee
            case.save(update_fields=["assignee", "updated_at"])
            count += 1
    return count


def cases_set_status(*, cases: Iterable[Case], status: str) -> int:
    if status not in Case.Status.values:
        raise ValueError(f"Unknown case status {status!r}.")
    count = 0
    with transaction.atomic():
        for case in cases:
            case.status = status
            case.save(update_fields=["status", "updated_at"])
            count += 1
    return count


@transaction.atomic
def demo_data_remove() -> dict[str, int]:
    """Delete every row marked as demo, evidence first so nothing is protected."""
    demo_cases = Case.objects.filter(entity__is_demo=True)
    counts = {
        "findings": Finding.objects.filter(case__in=demo_cases).delete()[0],
        "check runs": CheckRun.objects.filter(case__in=demo_cases).delete()[0],
        "referrals": Referral.objects.filter(entity__is_demo=True).delete()[0],
        "cases": demo_cases.delete()[0],
    }
    counts["entities"] = Entity.objects.filter(is_demo=True).delete()[0]
    counts["posts"] = Post.objects.filter(is_demo=True, referrals__isnull=True).delete()[0]
    return counts
