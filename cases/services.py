"""Writes to the case store. Every change that derives a value (name keys, index dates,
timings, evidence hashes) goes through a function here, so the admin, the importer, the
commands and later the checks and pages all keep the derived values right.
"""

import hashlib
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.db.models import Case as SqlCase
from django.db.models import IntegerField, OuterRef, Subquery, Value, When
from django.db.models.functions import Coalesce
from django.utils import timezone

from . import normalize
from .importer import CheckedFile, ReferralRecord, RowError
from .models import Case, CheckRun, Entity, Finding, Post, Referral
from .selectors import PossibleDuplicate, entity_possible_duplicates

CHUNK = 5000  # ids per IN query; keeps SQLite under its parameter limit


def _chunks(items: list, size: int = CHUNK) -> Iterator[list]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


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
    values = {
        "index_date": Subquery(earliest.values("date")[:1]),
        "index_date_precision": Coalesce(
            Subquery(earliest.values("date_precision")[:1]), Value("")
        ),
    }
    with transaction.atomic():
        if case_ids is None:
            updated = Case.objects.update(**values)
            finding_timings_refresh()
            return updated
        updated = 0
        for chunk in _chunks(sorted(set(case_ids))):
            updated += Case.objects.filter(id__in=chunk).update(**values)
            finding_timings_refresh(case_ids=chunk)
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


# ----------------------------------------------------------------- referral import


@dataclass
class ImportResult:
    rows_read: int = 0
    repeated_rows: int = 0
    posts_created: int = 0
    entities_created: int = 0
    cases_created: int = 0
    referrals_created: int = 0
    referrals_unchanged: int = 0
    cases_touched: int = 0
    dry_run: bool = False
    errors: list[RowError] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    duplicates: list[PossibleDuplicate] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors

    @property
    def changed_anything(self) -> bool:
        return bool(self.posts_created or self.entities_created or self.referrals_created)


def _referral_differences(referral: Referral, record: ReferralRecord) -> list[str]:
    stored = {
        "entity": (referral.entity.name_key, referral.entity.country),
        "date": referral.date,
        "date_precision": referral.date_precision,
        "post": referral.post.name if referral.post else "",
        "host_country": referral.host_country,
        "technology_field": referral.technology_field,
        "cooperation_methods": sorted(referral.cooperation_methods),
        "proposed_amount": referral.proposed_amount,
        "currency": referral.currency,
        "summary": referral.summary,
        "source_url": referral.source_url,
        "source_reference": referral.source_reference,
    }
    incoming = record.referral_values()
    return [name for name, value in incoming.items() if stored[name] != value]


def referrals_import(*, checked: CheckedFile, dry_run: bool = False) -> ImportResult:
    """Write checked referral records: posts, entities, cases and referrals, in bulk.

    All or nothing: if the file had errors, or a referral id already exists with other
    content, nothing is written. Existing posts and entities (by name key and country)
    are reused, identical referrals are left alone, and index dates are recomputed for
    every case touched. With dry_run the same work is done and then rolled back, so the
    counts reported are exact.
    """
    result = ImportResult(
        rows_read=checked.rows_read, repeated_rows=checked.repeated_rows, dry_run=dry_run
    )
    if checked.errors:
        result.errors = list(checked.errors)
        return result
    records = checked.records
    with transaction.atomic():
        existing: dict[str, Referral] = {}
        for chunk in _chunks([r.external_id for r in records]):
            for referral in Referral.objects.filter(external_id__in=chunk).select_related(
                "entity", "post"
            ):
                existing[referral.external_id] = referral
        new_records = []
        for record in records:
            referral = existing.get(record.external_id)
            if referral is None:
                new_records.append(record)
                continue
            differences = _referral_differences(referral, record)
            if differences:
                result.errors.append(
                    RowError(
                        record.line,
                        "referral_id",
                        f"referral id {record.external_id!r} is already stored with a "
                        f"different {', '.join(differences)}",
                    )
                )
            else:
                result.referrals_unchanged += 1
        if result.errors:
            return result

        posts = _posts_get_or_create(new_records, result)
        entities, new_entity_ids = _entities_get_or_create(new_records, result)
        case_ids = _cases_ensure(list(entities.values()), result)

        referrals = [
            Referral(
                external_id=r.external_id,
                entity_id=entities[(r.entity_key, r.host_country)],
                post_id=posts[(r.post_name, r.host_country)] if r.post_name else None,
                date=r.date.value,
                date_precision=r.date.precision,
                host_country=r.host_country,
                technology_field=r.technology_field,
                cooperation_methods=r.cooperation_methods,
                proposed_amount=r.proposed_amount,
                currency=r.currency,
                summary=r.summary,
                source_url=r.source_url,
                source_reference=r.source_reference,
            )
            for r in new_records
        ]
        Referral.objects.bulk_create(referrals, batch_size=2000)
        result.referrals_created = len(referrals)
        if referrals:
            result.cases_touched = len(case_ids)
            case_index_dates_refresh(case_ids=case_ids)
        result.duplicates = entity_possible_duplicates(
            entity_ids=new_entity_ids, threshold=settings.WISHLIST_DUPLICATE_THRESHOLD
        )
        if dry_run:
            transaction.set_rollback(True)
    return result


def _posts_get_or_create(
    records: list[ReferralRecord], result: ImportResult
) -> dict[tuple[str, str], int]:
    wanted = {(r.post_name, r.host_country) for r in records if r.post_name}
    found: dict[tuple[str, str], int] = {}
    for chunk in _chunks(sorted({name for name, _ in wanted})):
        for pk, name, country in Post.objects.filter(name__in=chunk).values_list(
            "id", "name", "host_country"
        ):
            found[(name, country)] = pk
    missing = [
        Post(
            name=name,
            host_country=country,
            kind=normalize.post_kind(name),
            city=normalize.post_city(name),
        )
        for name, country in sorted(wanted - found.keys())
    ]
    if missing:
        Post.objects.bulk_create(missing, batch_size=2000)
        result.posts_created = len(missing)
        for chunk in _chunks(sorted({p.name for p in missing})):
            for pk, name, country in Post.objects.filter(name__in=chunk).values_list(
                "id", "name", "host_country"
            ):
                found[(name, country)] = pk
    return found


def _entities_get_or_create(
    records: list[ReferralRecord], result: ImportResult
) -> tuple[dict[tuple[str, str], int], list[int]]:
    first: dict[tuple[str, str], ReferralRecord] = {}
    natives: dict[tuple[str, str], str] = {}
    fields: dict[tuple[str, str], set[str]] = defaultdict(set)
    # Other spellings of the same entity in the file become aliases, so none is lost.
    spellings: dict[tuple[str, str], dict[str, None]] = defaultdict(dict)
    for r in records:
        key = (r.entity_key, r.host_country)
        first.setdefault(key, r)
        spellings[key][r.entity_name] = None
        if r.entity_name_native:
            natives.setdefault(key, r.entity_name_native)
        if r.technology_field:
            fields[key].add(r.technology_field)

    found: dict[tuple[str, str], int] = {}
    for chunk in _chunks(sorted({k for k, _ in first})):
        rows = Entity.objects.filter(name_key__in=chunk).values_list(
            "id", "name_key", "country", "kind", "name"
        )
        for pk, key, country, kind, name in rows:
            if (key, country) in first:
                found[(key, country)] = pk
                record = first[(key, country)]
                if record.entity_kind != kind:
                    result.warnings.append(
                        f"line {record.line}: {record.entity_name!r} is stored as {name!r}, "
                        f"a {kind}; the file says {record.entity_kind}. The stored kind is kept."
                    )
    missing_keys = sorted(first.keys() - found.keys())
    new_entities = [
        Entity(
            name=first[key].entity_name,
            name_native=natives.get(key, ""),
            name_key=key[0],
            country=key[1],
            kind=first[key].entity_kind,
            technology_fields="; ".join(sorted(fields[key]))[:500],
            aliases="\n".join(n for n in spellings[key] if n != first[key].entity_name),
        )
        for key in missing_keys
    ]
    Entity.objects.bulk_create(new_entities, batch_size=2000)
    result.entities_created = len(new_entities)
    new_ids = []
    for chunk in _chunks(sorted({k for k, _ in missing_keys})):
        for pk, key, country in Entity.objects.filter(name_key__in=chunk).values_list(
            "id", "name_key", "country"
        ):
            if (key, country) in first and (key, country) not in found:
                found[(key, country)] = pk
                new_ids.append(pk)
    return found, new_ids


def _cases_ensure(entity_ids: list[int], result: ImportResult) -> list[int]:
    """Make sure every entity has its case; return the case ids."""
    case_ids: dict[int, int] = {}
    for chunk in _chunks(entity_ids):
        case_ids.update(Case.objects.filter(entity_id__in=chunk).values_list("entity_id", "id"))
    missing = [Case(entity_id=pk) for pk in entity_ids if pk not in case_ids]
    if missing:
        Case.objects.bulk_create(missing, batch_size=2000)
        result.cases_created = len(missing)
        for chunk in _chunks([c.entity_id for c in missing]):
            case_ids.update(Case.objects.filter(entity_id__in=chunk).values_list("entity_id", "id"))
    return list(case_ids.values())
