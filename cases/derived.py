"""Keeping derived values right: name keys on entity saves, evidence hashes on finding saves,
index dates (after referral saves and deletes), finding timings, alliance blocs and DoD
1260H flags. Every write that changes what these are derived from calls a function here,
whichever page, import, check or admin form made it.
"""

import hashlib
from collections import defaultdict
from collections.abc import Callable, Iterable
from datetime import date, datetime
from functools import cache

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Exists, OuterRef, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from cases import blocs, normalize, rules
from cases.bulk import chunks
from cases.checks import matching
from cases.models import (
    Case,
    Entity,
    Finding,
    MatchCriterion,
    Referral,
)


def evidence_sha256(content: bytes | str) -> str:
    if isinstance(content, str):
        content = content.encode("utf-8")
    return hashlib.sha256(content).hexdigest()


@transaction.atomic
def entity_save(*, entity: Entity) -> Entity:
    """Save an entity with its name key recomputed and make sure it has a case.

    Invisible formatting characters (bidi overrides, zero-width ones) are dropped from its
    names, whichever form typed them: shown as they are, they make a name read otherwise
    than it sorts and matches. Imports report what they removed (cases.intake.rows).
    """
    entity.name = normalize.strip_invisible(entity.name)[0]
    entity.name_native = normalize.strip_invisible(entity.name_native)[0]
    entity.aliases = normalize.strip_invisible(entity.aliases)[0]
    entity.name_key = normalize.name_key(entity.name)
    entity.full_clean()
    entity.save()
    Case.objects.get_or_create(entity=entity)
    return entity


def earliest_referral() -> QuerySet[Referral]:
    """The outer entity's referrals, its index referral first."""
    return Referral.objects.filter(entity_id=OuterRef("entity_id")).order_by(
        *rules.index_referral_order()
    )


def case_index_dates_refresh(*, case_ids: Iterable[int] | None = None) -> int:
    """Set each case's index date (and index referral) to its entity's earliest referral.

    A control case, never referred, takes the index date of the referred case it is
    matched to. Then re-derive the timing of the findings of those cases and the
    alliance blocs of their referrals. Returns the number of cases updated. Called
    after any change to referrals.
    """
    earliest = earliest_referral()
    referred = {
        "index_date": Subquery(earliest.values("date")[:1]),
        "index_date_precision": Coalesce(
            Subquery(earliest.values("date_precision")[:1]), Value("")
        ),
        "index_referral": Subquery(earliest.values("id")[:1]),
        # Provisional, so that the row meets case_index_period_ordered at once: the end
        # is derived in Python next (_index_period_ends_refresh), as SQL cannot say
        # where a month ends on every database.
        "index_period_end": Subquery(earliest.values("date")[:1]),
    }
    matched = Case.objects.filter(pk=OuterRef("matched_case_id"))
    control = {
        "index_date": Subquery(matched.values("index_date")[:1]),
        "index_date_precision": Coalesce(
            Subquery(matched.values("index_date_precision")[:1]), Value("")
        ),
        "index_period_end": Subquery(matched.values("index_period_end")[:1]),
        "index_referral": None,
    }

    def refresh(cases) -> int:
        count = cases.filter(kind=Case.Kind.REFERRED).update(**referred)
        _index_period_ends_refresh(cases.filter(kind=Case.Kind.REFERRED))
        count += cases.filter(kind=Case.Kind.CONTROL).update(**control)
        controls_referred_flag(cases)
        return count

    with transaction.atomic():
        if case_ids is None:
            updated = refresh(Case.objects.all())
            finding_timings_refresh()
            referral_blocs_refresh()
            return updated
        updated = 0
        for chunk in chunks(sorted(set(case_ids))):
            updated += refresh(Case.objects.filter(id__in=chunk))
            # Controls matched to a case whose index date just moved follow it.
            followers = list(
                Case.objects.filter(kind=Case.Kind.CONTROL, matched_case__in=chunk)
                .exclude(id__in=chunk)
                .values_list("id", flat=True)
            )
            updated += refresh(Case.objects.filter(id__in=followers))
            finding_timings_refresh(case_ids=chunk + followers)
            referral_blocs_refresh(case_ids=chunk)
    return updated


def _index_period_ends_refresh(cases: QuerySet[Case]) -> None:
    """Set the index period ends of these referred cases (rules.index_period_end), which
    no single referral row holds: a referral known to the year can start the period and
    a later one known to the day end it."""
    periods = defaultdict(list)
    rows = Referral.objects.filter(entity__case__in=cases).values_list(
        "entity__case", "date", "date_precision"
    )
    for case_id, day, precision in rows.iterator(chunk_size=5000):
        periods[case_id].append((day, precision))
    changed = []
    for case in cases.only("id", "index_period_end"):
        end = rules.index_period_end(periods.get(case.pk, ()))
        if end != case.index_period_end:
            case.index_period_end = end
            changed.append(case)
    Case.objects.bulk_update(changed, ["index_period_end"], batch_size=2000)


def controls_referred_flag(cases: QuerySet[Case]) -> int:
    """Flag the controls among `cases` whose entity now has a referral, with when and
    the referral: a control stands for a never-referred entity, so a referred one has
    left its pair (the paired comparison sets it apart). The flag stays if the referral
    is later deleted: the entity was found in the bulletin once. Returns how many."""
    referrals = Referral.objects.filter(entity_id=OuterRef("entity_id"))
    return (
        cases.filter(kind=Case.Kind.CONTROL, referred_later_at__isnull=True)
        .filter(Exists(referrals))
        .update(
            referred_later_at=timezone.now(),
            later_referral=Subquery(earliest_referral().values("id")[:1]),
        )
    )


def control_match_derive(case: Case) -> None:
    """Set a control case's matching record from its entity and matched case (a referred
    case keeps none), and refuse a control that misses a criterion nobody relaxed.

    Raises ValidationError naming each criterion missed, with both sides' values, or when
    criteria are relaxed without a note saying why; the case is not saved here.
    """
    if case.kind != Case.Kind.CONTROL or case.matched_case is None:
        # A control made a referred case (once referred after all, say) keeps when it was
        # found referred: the flag was set by a bulk update, so no history row holds it.
        case.match_criteria, case.match_relaxed, case.match_note = [], [], ""
        return
    met = rules.control_match(case.entity, case.matched_case)
    relaxed = [c for c in MatchCriterion.values if c in case.match_relaxed and c not in met]
    missed = [c for c in MatchCriterion.values if c not in met and c not in relaxed]
    case.match_criteria, case.match_relaxed = met, relaxed
    if missed:
        raise ValidationError({"match_relaxed": control_mismatch_message(case, missed)})
    case.match_note = case.match_note.strip() if relaxed else ""
    if relaxed and not case.match_note:
        raise ValidationError({"match_note": "Say why the matching criteria are relaxed."})


def control_mismatch_message(case: Case, missed: list[str]) -> str:
    country, kind, fields = rules.matched_profile(case.matched_case)
    entity = case.entity
    sides = {
        MatchCriterion.HOST_COUNTRY: (entity.country, country),
        MatchCriterion.ENTITY_KIND: (entity.kind, kind),
        MatchCriterion.TECHNOLOGY_FIELD: (
            entity.technology_fields or "no field",
            "; ".join(sorted(fields)) or "no field recorded",
        ),
    }
    parts = [f"{MatchCriterion(c).label} ({sides[c][0]} against {sides[c][1]})" for c in missed]
    return (
        f"The control does not meet the matching criteria of case {case.matched_case.pk}: "
        f"{'; '.join(parts)}. Correct it, or relax those criteria explicitly."
    )


@transaction.atomic
def entity_index_dates_refresh(*, entity_ids: Iterable[int | None]) -> int:
    """Re-derive the index dates of these entities' cases after their referrals changed.

    None (an entity not saved yet) is skipped. Returns the number of cases updated.
    """
    ids = {pk for pk in entity_ids if pk is not None}
    case_ids = list(Case.objects.filter(entity_id__in=ids).values_list("pk", flat=True))
    return case_index_dates_refresh(case_ids=case_ids) if case_ids else 0


@transaction.atomic
def referral_save(*, referral: Referral) -> Referral:
    """Validate and save a referral, then re-derive the index dates of its entity's case
    and, when it was moved from another entity, of that entity's case."""
    previous_entity_id = None
    if referral.pk is not None:
        previous = Referral.objects.filter(pk=referral.pk).values_list("entity_id", flat=True)
        previous_entity_id = previous.first()
    referral.full_clean()
    referral.save()
    entity_index_dates_refresh(entity_ids=[referral.entity_id, previous_entity_id])
    return referral


@transaction.atomic
def referrals_delete(*, referrals: QuerySet[Referral]) -> int:
    """Delete referrals and re-derive the index dates of their entities' cases.

    Returns the number of referrals deleted.
    """
    entity_ids = set(referrals.values_list("entity_id", flat=True))
    _, deleted = referrals.delete()
    entity_index_dates_refresh(entity_ids=entity_ids)
    return deleted.get(Referral._meta.label, 0)


def referral_blocs_refresh(*, case_ids: Iterable[int] | None = None) -> int:
    """Re-derive each referral's alliance bloc from its host country and date."""
    referrals = Referral.objects.only("id", "host_country", "date", "alliance_bloc")
    if case_ids is not None:
        referrals = referrals.filter(entity__case__in=list(case_ids))
    changed = []
    for referral in referrals.iterator(chunk_size=5000):
        bloc = blocs.bloc_on(referral.host_country, referral.date)
        if bloc != referral.alliance_bloc:
            referral.alliance_bloc = bloc
            changed.append(referral)
    Referral.objects.bulk_update(changed, ["alliance_bloc"], batch_size=2000)
    return len(changed)


@transaction.atomic
def finding_dod_flags_refresh() -> int:
    """Re-derive the DoD 1260H flag of every automated finding from its counterparty name.

    Run after the DoD list changes; returns the number of findings changed. Other flags
    are kept. A flag raised on a name the finding does not store (one of GLEIF's other
    names) stays while the name it gives is still on the list. Manual findings are
    never flagged, as when they are recorded.
    """
    findings = Finding.objects.exclude(source=Finding.MANUAL).only(
        "id", "counterparty_name", "flags"
    )
    flag_of = cache(matching.dod_1260h_flag)  # the same counterparties recur
    changed = []
    for finding in findings.iterator(chunk_size=2000):
        flags = _dod_flags_rederived(finding.flags, finding.counterparty_name, flag_of=flag_of)
        if flags != finding.flags:
            finding.flags = flags
            changed.append(finding)
    Finding.objects.bulk_update(changed, ["flags"], batch_size=2000)
    return len(changed)


def _dod_flags_rederived(
    flags: str, counterparty_name: str, *, flag_of: Callable[[str], str]
) -> str:
    parts = [part for part in flags.split("; ") if part]
    others = [part for part in parts if not part.startswith(matching.DOD_1260H_FLAG)]
    flag = flag_of(counterparty_name) or next(
        (
            part
            for part in parts
            if part.startswith(matching.DOD_1260H_FLAG)
            and flag_of(part.removeprefix(matching.DOD_1260H_FLAG))
        ),
        "",
    )
    return "; ".join([*others, flag] if flag else others)[:300]


def finding_timings_refresh(*, case_ids: Iterable[int] | None = None) -> int:
    """Re-derive before/after/unknown for the findings of these cases (all if None)."""
    findings = Finding.objects.select_related("case").only(
        "id",
        "timing",
        "event_date",
        "event_date_precision",
        "case__index_date",
        "case__index_period_end",
    )
    if case_ids is not None:
        findings = findings.filter(case_id__in=list(case_ids))
    changed = []
    for finding in findings.iterator(chunk_size=2000):
        timing = rules.finding_timing(
            finding.event_date, finding.event_date_precision, finding.case
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
    finding.timing = rules.finding_timing(finding.event_date, finding.event_date_precision, case)
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
