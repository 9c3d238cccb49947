"""Writes to the case store. Every change that derives a value (name keys, index dates,
timings, evidence hashes) goes through a function here, so the admin, the importer, the
commands and later the checks and pages all keep the derived values right.
"""

import hashlib
import random
import secrets
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import TYPE_CHECKING

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Case as SqlCase
from django.db.models import F, IntegerField, OuterRef, QuerySet, Subquery, Value, When
from django.db.models.functions import Coalesce
from django.utils import timezone

from . import blocs, normalize
from .bulk import bulk_insert, filter_in
from .importer import CheckedFile, ReferralRecord, RowError, gc_paused
from .models import (
    Case,
    CaseStatusChange,
    CheckRun,
    Cohort,
    Entity,
    Finding,
    Post,
    Referral,
    SecondCoding,
    Team,
)
from .selectors import PossibleDuplicate, entity_possible_duplicates

if TYPE_CHECKING:
    from .http import HttpClient
    from .sources import Hit

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


def _earliest_referral():
    return Referral.objects.filter(entity_id=OuterRef("entity_id")).order_by(
        "date", _PRECISION_RANK
    )


def case_index_dates_refresh(*, case_ids: Iterable[int] | None = None) -> int:
    """Set each case's index date (and index referral) to its entity's earliest referral.

    A control case, never referred, takes the index date of the referred case it is
    matched to. Then re-derive the timing of the findings of those cases and the
    alliance blocs of their referrals. Returns the number of cases updated. Called
    after any change to referrals.
    """
    earliest = _earliest_referral()
    referred = {
        "index_date": Subquery(earliest.values("date")[:1]),
        "index_date_precision": Coalesce(
            Subquery(earliest.values("date_precision")[:1]), Value("")
        ),
        "index_referral": Subquery(earliest.values("id")[:1]),
    }
    matched = Case.objects.filter(pk=OuterRef("matched_case_id"))
    control = {
        "index_date": Subquery(matched.values("index_date")[:1]),
        "index_date_precision": Coalesce(
            Subquery(matched.values("index_date_precision")[:1]), Value("")
        ),
        "index_referral": None,
    }

    def refresh(cases) -> int:
        count = cases.filter(kind=Case.Kind.REFERRED).update(**referred)
        count += cases.filter(kind=Case.Kind.CONTROL).update(**control)
        return count

    with transaction.atomic():
        if case_ids is None:
            updated = refresh(Case.objects.all())
            finding_timings_refresh()
            referral_blocs_refresh()
            return updated
        updated = 0
        for chunk in _chunks(sorted(set(case_ids))):
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


def referral_blocs_refresh(*, case_ids: Iterable[int] | None = None) -> int:
    """Re-derive each referral's alliance bloc from its host country and date.

    Without the reference lists nothing is touched: blocs derived earlier stay.
    """
    if blocs.memberships() is None:
        return 0
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


def finding_timings_refresh(*, case_ids: Iterable[int] | None = None) -> int:
    """Re-derive before/after/unknown for the findings of these cases (all if None)."""
    findings = Finding.objects.select_related("case").only(
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
    for finding in findings.iterator(chunk_size=2000):
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


class EditConflict(Exception):
    """The row changed after the form was opened; nothing was saved."""


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
            "was not saved. Reload the page to see the current state, then try again."
        )
    return obj


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
) -> Finding:
    """Record a finding a person read, confirmed at once.

    The same evidence (kind, counterparty, date, URL) is recorded once per case: its key
    goes into external_id, which the database keeps unique per case and source, so a
    form sent twice cannot count the evidence twice.
    """
    key = "|".join(
        [kind, normalize.name_key(counterparty_name), counterparty_country,
         f"{event_date:%Y-%m-%d}", event_date_precision, source_url.strip()]
    )  # fmt: skip
    external_id = "manual:" + evidence_sha256(key)[:32]
    already = ValidationError("This finding is already recorded on the case.")
    if Finding.objects.filter(case=case, source=Finding.MANUAL, external_id=external_id).exists():
        raise already
    try:
        with transaction.atomic():
            return finding_create(
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
    except IntegrityError:  # the same form sent twice at the same moment
        raise already from None


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
    locked = _lock(Finding, finding.pk, version, f"Finding {finding.pk}")
    locked.review_state = state
    locked.reviewed_by = reviewer
    locked.reviewed_at = timezone.now()
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
        case_status_change_record(
            case=locked, from_status=locked.status, to_status=status, actor=actor
        )
        locked.status = status
        locked.version += 1
        locked._history_user = actor
        locked.save(update_fields=["status", "version", "updated_at"])
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
    case.assignee, case.version = locked.assignee, locked.version
    return case


def _check_assignee(case: Case, assignee: AbstractBaseUser) -> None:
    """An assignee must be able to see and work the case."""
    name = assignee.get_username()
    if not assignee.is_active:
        raise ValidationError({"assignee": f"{name} is not an active user."})
    if assignee.is_staff:
        return  # admins see every case
    if case.team_id is None:
        raise ValidationError(
            {"assignee": "Only admins see a case without a team: move it to a team first."}
        )
    if not assignee.teams.filter(pk=case.team_id).exists():
        raise ValidationError({"assignee": f"{name} is not on the case's team."})
    if not assignee.groups.filter(name="analyst").exists():
        raise ValidationError({"assignee": f"{name} is not an analyst."})
    if SecondCoding.objects.filter(case=case, coder=assignee).exists():
        raise ValidationError(
            {"assignee": f"{name} is the case's blind second coder; give the case to another."}
        )


def case_status_change_record(
    *, case: Case, from_status: str, to_status: str, actor: AbstractBaseUser | None
) -> CaseStatusChange | None:
    """Log a status change made elsewhere (the admin's change form)."""
    if from_status == to_status:
        return None
    return CaseStatusChange.objects.create(
        case=case, from_status=from_status, to_status=to_status, changed_by=actor
    )


@transaction.atomic
def cases_move_to_team(*, cases: Iterable[Case], team: Team) -> int:
    """Hand cases to a team; an assignee who is not on it is unassigned."""
    count = 0
    for case in cases:
        locked = _lock(Case, case.pk, None, f"Case {case.pk}")
        locked.team = team
        if locked.assignee_id and not team.members.filter(pk=locked.assignee_id).exists():
            locked.assignee = None
        locked.version += 1
        locked.save(update_fields=["team", "assignee", "version", "updated_at"])
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


@transaction.atomic
def demo_data_remove() -> dict[str, int]:
    """Delete every row marked as demo, evidence first so nothing is protected."""
    demo_cases = Case.objects.filter(entity__is_demo=True)
    counts = {
        "findings": Finding.objects.filter(case__in=demo_cases).delete()[0],
        "check runs": CheckRun.objects.filter(case__in=demo_cases).delete()[0],
        "referrals": Referral.objects.filter(entity__is_demo=True).delete()[0],
        "second codings": SecondCoding.objects.filter(case__in=demo_cases).delete()[0],
        # Controls first: a referred case cannot go while a control is matched to it.
        "cases": demo_cases.filter(kind=Case.Kind.CONTROL).delete()[1].get("cases.Case", 0),
    }
    counts["cases"] += demo_cases.delete()[1].get("cases.Case", 0)
    # Cohort has no demo flag; the demo's cohorts are named like every demo row.
    cohorts = Cohort.objects.filter(name__endswith=" (demo)").delete()[1]
    counts["cohorts"] = cohorts.get("cases.Cohort", 0)
    counts["entities"] = Entity.objects.filter(is_demo=True).delete()[0]
    counts["posts"] = Post.objects.filter(is_demo=True, referrals__isnull=True).delete()[0]
    teams = Team.objects.filter(is_demo=True, cases__isnull=True).delete()[1]
    counts["teams"] = teams.get("cases.Team", 0)
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
    aliases_added: int = 0
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
        return bool(
            self.posts_created
            or self.entities_created
            or self.referrals_created
            or self.aliases_added
        )


# Column orders of the rows the import writes with bulk_insert.
ENTITY_COLUMNS = [
    "name", "name_native", "name_key", "country", "kind", "technology_fields", "aliases",
    "is_demo", "created_at", "updated_at",
]  # fmt: skip
CASE_COLUMNS = [
    "entity_id", "status", "index_date", "index_date_precision", "priority", "notes",
    "created_at", "updated_at",
]  # fmt: skip
REFERRAL_COLUMNS = [
    "external_id", "entity_id", "post_id", "date", "date_precision", "host_country",
    "alliance_bloc", "technology_field", "cooperation_methods", "proposed_amount", "currency",
    "summary", "original_text", "source_url", "source_reference", "created_at",
]  # fmt: skip


def _entities_in_countries(countries: set[str]):
    """Yield (id, name key, country, kind, name, aliases) of every entity in these countries.

    One scan instead of IN lists of name keys: an import touches most countries anyway.
    """
    return (
        Entity.objects.filter(country__in=sorted(countries))
        .values_list("id", "name_key", "country", "kind", "name", "aliases")
        .iterator(chunk_size=10000)
    )


def _stored_referrals(external_ids: list[str]) -> dict[str, dict]:
    """Return the comparable values of the stored referrals with these ids."""
    stored = {}
    columns = (
        "external_id",
        "entity__name_key",
        "entity__country",
        "date",
        "date_precision",
        "post__name",
        "host_country",
        "technology_field",
        "cooperation_methods",
        "proposed_amount",
        "currency",
        "summary",
        "source_url",
        "source_reference",
    )
    for queryset in filter_in(Referral.objects.all(), "external_id", external_ids):
        for row in queryset.values_list(*columns):
            values = dict(zip(columns, row, strict=True))
            stored[values["external_id"]] = {
                "entity": (values["entity__name_key"], values["entity__country"]),
                "date": values["date"],
                "date_precision": values["date_precision"],
                "post": values["post__name"] or "",
                "host_country": values["host_country"],
                "technology_field": values["technology_field"],
                "cooperation_methods": sorted(values["cooperation_methods"]),
                "proposed_amount": values["proposed_amount"],
                "currency": values["currency"],
                "summary": values["summary"],
                "source_url": values["source_url"],
                "source_reference": values["source_reference"],
            }
    return stored


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
    with gc_paused(), transaction.atomic():
        existing = _stored_referrals([r.external_id for r in records])
        new_records = []
        for record in records:
            stored = existing.get(record.external_id)
            if stored is None:
                new_records.append(record)
                continue
            incoming = record.referral_values()
            differences = [name for name, value in incoming.items() if stored[name] != value]
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
        refresh_ids = _cases_ensure(entities, new_entity_ids, new_records, result)

        now = timezone.now()
        referrals = [
            (
                r.external_id,
                entities[(r.entity_key, r.host_country)],
                posts[(r.post_name, r.host_country)] if r.post_name else None,
                r.date.value,
                r.date.precision,
                r.host_country,
                blocs.bloc_on(r.host_country, r.date.value),
                r.technology_field,
                r.cooperation_methods,
                r.proposed_amount,
                r.currency,
                r.summary,
                "",
                r.source_url,
                r.source_reference,
                now,
            )
            for r in new_records
        ]
        bulk_insert(Referral, REFERRAL_COLUMNS, referrals)
        result.referrals_created = len(referrals)
        _index_referrals_set(new_entity_ids)
        result.cases_touched = result.cases_created + len(refresh_ids)
        if refresh_ids:
            case_index_dates_refresh(case_ids=refresh_ids)
        result.duplicates = entity_possible_duplicates(
            entity_ids=new_entity_ids,
            threshold=settings.WISHLIST_DUPLICATE_THRESHOLD,
            countries={country for _, country in entities},
        )
        if dry_run:
            transaction.set_rollback(True)
    return result


def _post_ids(names: Iterable[str]) -> dict[tuple[str, str], int]:
    """(name, host country): id of the stored posts with these names."""
    found = {}
    for queryset in filter_in(Post.objects.all(), "name", sorted(set(names))):
        for pk, name, country in queryset.values_list("id", "name", "host_country"):
            found[(name, country)] = pk
    return found


def _posts_get_or_create(
    records: list[ReferralRecord], result: ImportResult
) -> dict[tuple[str, str], int]:
    wanted = {(r.post_name, r.host_country) for r in records if r.post_name}
    found = _post_ids(name for name, _ in wanted)
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
        found.update(_post_ids(post.name for post in missing))
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
    alias_updates = []
    for pk, key, country, kind, name, aliases in _entities_in_countries({c for _, c in first}):
        record = first.get((key, country))
        if record is None:
            continue
        found[(key, country)] = pk
        if record.entity_kind != kind:
            result.warnings.append(
                f"line {record.line}: {record.entity_name!r} is stored as {name!r}, "
                f"a {kind}; the file says {record.entity_kind}. The stored kind is kept."
            )
        known = {name, *normalize.split_list(aliases, "\n")}
        new_spellings = [n for n in spellings[(key, country)] if n not in known]
        if new_spellings:
            alias_updates.append(
                Entity(id=pk, aliases="\n".join(filter(None, [aliases, *new_spellings])))
            )
            result.aliases_added += len(new_spellings)
    Entity.objects.bulk_update(alias_updates, ["aliases"], batch_size=1000)
    missing_keys = sorted(first.keys() - found.keys())
    now = timezone.now()
    bulk_insert(
        Entity,
        ENTITY_COLUMNS,
        [
            (
                first[key].entity_name,
                natives.get(key, ""),
                key[0],
                key[1],
                first[key].entity_kind,
                "; ".join(sorted(fields[key]))[:500],
                "\n".join(n for n in spellings[key] if n != first[key].entity_name),
                False,
                now,
                now,
            )
            for key in missing_keys
        ],
    )
    result.entities_created = len(missing_keys)
    new_ids = []
    if missing_keys:
        wanted = set(missing_keys)
        for pk, key, country, *_ in _entities_in_countries({c for _, c in wanted}):
            if (key, country) in wanted:
                found[(key, country)] = pk
                new_ids.append(pk)
    return found, new_ids


_RANK = {"day": 0, "month": 1, "year": 2}


def _cases_ensure(
    entities: dict[tuple[str, str], int],
    new_entity_ids: list[int],
    records: list[ReferralRecord],
    result: ImportResult,
) -> list[int]:
    """Create the cases of new entities with their index dates taken from the file.

    Return the ids of the cases of existing entities, whose index dates must be
    recomputed from every stored referral.
    """
    new_ids = set(new_entity_ids)
    earliest: dict[int, tuple] = {}
    for r in records:
        entity_id = entities[(r.entity_key, r.host_country)]
        if entity_id in new_ids:
            candidate = (r.date.value, _RANK[r.date.precision], r.date.precision)
            if entity_id not in earliest or candidate < earliest[entity_id]:
                earliest[entity_id] = candidate
    now = timezone.now()
    new_cases = [
        (
            entity_id,
            Case.Status.OPEN,
            earliest[entity_id][0] if entity_id in earliest else None,
            earliest[entity_id][2] if entity_id in earliest else "",
            Case.Priority.NORMAL,
            "",
            now,
            now,
        )
        for entity_id in new_entity_ids
    ]
    bulk_insert(Case, CASE_COLUMNS, new_cases)
    result.cases_created = len(new_cases)

    old_ids = sorted(set(entities.values()) - new_ids)
    refresh = _case_ids(old_ids)
    orphans = [Case(entity_id=pk) for pk in old_ids if pk not in refresh]
    if orphans:  # entities made outside the services, without their case
        Case.objects.bulk_create(orphans)
        result.cases_created += len(orphans)
        refresh.update(_case_ids([c.entity_id for c in orphans]))
    return list(refresh.values())


def _index_referrals_set(entity_ids: list[int]) -> None:
    """Point the new cases at their earliest referral (their index date came from the file)."""
    earliest = Subquery(_earliest_referral().values("id")[:1])
    for cases in filter_in(Case.objects.all(), "entity_id", entity_ids):
        cases.update(index_referral=earliest)


def _case_ids(entity_ids: list[int]) -> dict[int, int]:
    """entity id: case id, for these entities."""
    found = {}
    for queryset in filter_in(Case.objects.all(), "entity_id", entity_ids):
        found.update(queryset.values_list("entity_id", "id"))
    return found


# ------------------------------------------------------------------ follow-up checks


def checks_queue(*, pairs: Iterable[tuple[int, str]]) -> list[int]:
    """Record a queued CheckRun for each (case id, source name); return their ids.

    The rows exist before any task runs, so a check that is queued but never run is
    visible, and a re-delivered task finds its own row instead of making a second one.
    """
    now = timezone.now()
    runs = CheckRun.objects.bulk_create(
        [CheckRun(case_id=case_id, source=source, queued_at=now) for case_id, source in pairs],
        batch_size=1000,
    )
    if runs and runs[0].pk is None:  # backends that return no ids from bulk inserts
        return list(
            CheckRun.objects.filter(queued_at=now, status=CheckRun.Status.QUEUED).values_list(
                "id", flat=True
            )
        )
    return [run.pk for run in runs]


def _check_run_claim(check_run_id: int) -> bool:
    """Mark the run as running, unless it already finished (a duplicate delivery).

    A conditional UPDATE, so two deliveries of the same task never both run the check
    to completion twice over: the second finds it finished and does nothing.
    """
    return bool(
        CheckRun.objects.filter(
            id=check_run_id, status__in=[CheckRun.Status.QUEUED, CheckRun.Status.RUNNING]
        ).update(
            status=CheckRun.Status.RUNNING,
            attempts=F("attempts") + 1,
            started_at=Coalesce("started_at", Value(timezone.now())),
        )
    )


def _check_run_finish(run: CheckRun, status: str, *, error: str = "", **values) -> CheckRun:
    run.status = status
    run.error = error[:5000]
    run.finished_at = timezone.now()
    for name, value in values.items():
        setattr(run, name, value)
    run.save(update_fields=["status", "error", "finished_at", *values])
    return run


def check_execute(*, check_run_id: int, client: "HttpClient | None" = None) -> CheckRun:
    """Run one queued check: ask the source, file its hits as leads, record the run.

    Idempotent: a finished run is left alone, leads are unique per case, source and
    external id (a rejected lead is never raised again), and the run is marked
    finished in the same transaction that files its leads, so "last checked" only
    moves forward once the findings are committed.
    """
    from .http import HttpError, PermanentHttpError, RateLimitedError
    from .sources import SourceSkipped, get_sources

    claimed = _check_run_claim(check_run_id)
    run = CheckRun.objects.select_related("case__entity").get(id=check_run_id)
    if not claimed:
        return run
    case, entity = run.case, run.case.entity
    source = get_sources().get(run.source)
    if source is None:
        return _check_run_finish(run, CheckRun.Status.ERROR, error=f"unknown source {run.source!r}")
    reason = source.skip_reason(entity)
    if not reason and case.index_date is None:
        reason = "the case has no referral date to search from"
    if reason:
        return _check_run_finish(run, CheckRun.Status.SKIPPED, error=reason)
    client = client or source.client()
    try:
        result = source.search(entity, case.index_date, client)
    except (SourceSkipped, HttpError) as exc:
        if isinstance(exc, SourceSkipped):
            status, error = CheckRun.Status.SKIPPED, str(exc)
        elif isinstance(exc, RateLimitedError):
            status, error = CheckRun.Status.RATE_LIMITED, str(exc)
        elif isinstance(exc, PermanentHttpError):
            status, error = CheckRun.Status.ERROR, f"permanent: {exc}"
        else:
            status, error = CheckRun.Status.ERROR, f"transient: {exc}"
        asked = "\n".join(getattr(client, "asked", []))
        return _check_run_finish(run, status, error=error, query=asked[:5000])
    with transaction.atomic():
        created = leads_file(case=case, source=source.name, hits=result.hits)
        status = CheckRun.Status.OK if result.hits else CheckRun.Status.NO_RESULTS
        return _check_run_finish(run, status, leads_created=created, query=result.query[:5000])


def leads_file(*, case: Case, source: str, hits: Iterable["Hit"]) -> int:
    """File hits that match the entity well enough as leads; return how many are new.

    Evidence already recorded for this case and source (whatever its review state) is
    skipped, by its external id, so a rejected lead never comes back.
    """
    threshold = settings.WISHLIST_MATCH_THRESHOLD
    wanted = {}
    for hit in hits:
        if hit.score >= threshold and hit.external_id not in wanted:
            wanted[hit.external_id] = hit
    if not wanted:
        return 0
    known = set(
        Finding.objects.filter(case=case, source=source, external_id__in=list(wanted)).values_list(
            "external_id", flat=True
        )
    )
    now = timezone.now()
    new = [
        Finding(
            case=case,
            kind=hit.kind,
            counterparty_name=hit.counterparty_name[:300],
            counterparty_country=hit.counterparty_country,
            event_date=hit.event_date,
            event_date_precision=hit.event_date_precision if hit.event_date else "",
            timing=normalize.compare_periods(
                hit.event_date,
                hit.event_date_precision,
                case.index_date,
                case.index_date_precision,
            ),
            source=source,
            source_url=hit.url[:1000],
            excerpt=hit.excerpt,
            retrieved_at=now,
            evidence_sha256=hit.evidence_sha256,
            external_id=hit.external_id[:300],
            match_score=hit.score,
            match_explanation=hit.explanation,
            flags="; ".join(hit.flags)[:300],
            confidence=Finding.Confidence.MEDIUM,
        )
        for external_id, hit in wanted.items()
        if external_id not in known
    ]
    # ignore_conflicts: a concurrent delivery of the same check may have filed them first.
    Finding.objects.bulk_create(new, ignore_conflicts=True)
    return len(new)


# ----------------------------------------------------------------- cohorts and coding


@transaction.atomic
def cohort_save(
    *,
    name: str,
    cases: QuerySet[Case],
    actor: AbstractBaseUser | None,
    filter_query: str = "",
    description: str = "",
) -> Cohort:
    """Save every case of a filtered set as a named cohort."""
    ids = list(cases.values_list("pk", flat=True))
    cohort = Cohort(
        name=name.strip(),
        description=description,
        filter_query=filter_query,
        population=len(ids),
        created_by=actor,
    )
    cohort.full_clean()
    cohort.save()
    cohort.cases.set(ids)
    return cohort


def sample_ids(ids: Iterable[int], *, size: int, seed: int) -> list[int]:
    """The same `size` ids for the same seed and the same set, whatever their order."""
    population = sorted(set(ids))
    return sorted(random.Random(seed).sample(population, min(size, len(population))))


@transaction.atomic
def cohort_sample_draw(
    *,
    name: str,
    cases: QuerySet[Case],
    size: int,
    actor: AbstractBaseUser | None,
    seed: int | None = None,
    filter_query: str = "",
    description: str = "",
) -> Cohort:
    """Draw `size` cases at random from a filtered set and save them as a cohort.

    The seed is recorded (a fresh one is drawn when none is given) so anyone can draw
    the same sample again from the same set.
    """
    if size < 1:
        raise ValidationError({"size": "Draw at least one case."})
    if seed is None:
        seed = secrets.randbelow(2**31)
    ids = list(cases.values_list("pk", flat=True))
    picked = sample_ids(ids, size=size, seed=seed)
    cohort = Cohort(
        name=name.strip(),
        description=description,
        filter_query=filter_query,
        population=len(ids),
        seed=seed,
        sample_size=len(picked),
        created_by=actor,
    )
    cohort.full_clean()
    cohort.save()
    cohort.cases.set(picked)
    return cohort


@transaction.atomic
def second_coding_assign(
    *, case: Case, coder: AbstractBaseUser, actor: AbstractBaseUser | None
) -> SecondCoding:
    """Give a case to a second analyst for a blind reading of its outcome."""
    if case.assignee_id is not None and case.assignee_id == coder.pk:
        raise ValidationError({"coder": "The second coder must not be the case's analyst."})
    if not coder.groups.filter(name="analyst").exists() and not coder.is_staff:
        raise ValidationError({"coder": f"{coder.get_username()} is not an analyst."})
    if case.team_id is not None and not coder.teams.filter(pk=case.team_id).exists():
        raise ValidationError({"coder": f"{coder.get_username()} is not on the case's team."})
    coding = SecondCoding.objects.select_for_update().filter(case=case).first()
    if coding is not None and coding.recorded_at is not None:
        raise ValidationError({"coder": "The second reading of this case is already recorded."})
    if coding is None:
        coding = SecondCoding(case=case)
    coding.coder = coder
    coding.assigned_by = actor
    coding.assigned_at = timezone.now()
    coding.save()
    return coding


@transaction.atomic
def second_coding_record(
    *, coding: SecondCoding, positive_kinds: list[str], note: str, actor: AbstractBaseUser
) -> SecondCoding:
    """Record the second coder's reading: the outcome kinds the evidence shows (or none)."""
    locked = SecondCoding.objects.select_for_update().get(pk=coding.pk)
    if locked.coder_id != actor.pk:
        raise ValidationError("Only the assigned second coder records this reading.")
    unknown = set(positive_kinds) - set(Finding.Kind.values)
    if unknown:
        raise ValidationError({"positive_kinds": f"Unknown kinds: {', '.join(sorted(unknown))}"})
    locked.positive_kinds = sorted(set(positive_kinds))
    locked.note = note.strip()
    locked.recorded_at = timezone.now()
    locked.save()
    return locked


@transaction.atomic
def control_case_create(
    *,
    name: str,
    country: str,
    kind: str,
    matched_case: Case,
    technology_fields: str = "",
    team: Team | None = None,
    actor: AbstractBaseUser | None = None,
) -> Case:
    """Enter a comparable entity that was never referred, as a control case whose clock
    starts on its matched referred case's index date."""
    if matched_case.kind != Case.Kind.REFERRED:
        raise ValidationError({"matched_case": "Match a control to a referred case."})
    entity = entity_save(
        entity=Entity(name=name, country=country, kind=kind, technology_fields=technology_fields)
    )
    # entity_save gave the entity its case; make it the control.
    case = entity.case
    case.kind = Case.Kind.CONTROL
    case.matched_case = matched_case
    case.team = team if team is not None else matched_case.team
    case.save(update_fields=["kind", "matched_case", "team", "updated_at"])
    case_index_dates_refresh(case_ids=[case.pk])
    case.refresh_from_db()
    return case
