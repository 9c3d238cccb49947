"""Reads and aggregates over the case store: possible duplicate entities, the case
export, which follow-up checks are due, and what the research pages show (case lists
with their outcome, a case's check history and change history, the review queue)."""

from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta

import numpy
from django.db.models import (
    Count,
    Exists,
    F,
    IntegerField,
    Max,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
)
from django.db.models.functions import Coalesce
from rapidfuzz import fuzz, process

from . import normalize
from .models import Case, CaseStatusChange, CheckRun, Entity, Finding, Referral

# A blocking token shared by more names than this says little about identity
# ("technology", "university"), so its block is not compared pair by pair.
MAX_BLOCK = 400


@dataclass(frozen=True)
class PossibleDuplicate:
    entity_id: int
    entity_name: str
    other_id: int
    other_name: str
    country: str
    score: float
    matched: str  # which names matched, for the report

    def __str__(self) -> str:
        return (
            f"{self.entity_name!r} looks like {self.other_name!r} ({self.country}, "
            f"score {self.score:.0f}: {self.matched})"
        )


def _blocks(items: list[tuple[int, str, str, str]]) -> Iterator[list[int]]:
    """Group item indexes by country and each word of 3+ letters; a name with no such
    word is grouped by its first three letters."""
    groups: dict[tuple[str, str], list[int]] = defaultdict(list)
    for index, (_, _, key, country) in enumerate(items):
        words = {w for w in key.split(" ") if len(w) >= 3} or {"~" + key[:3]}
        for word in words:
            groups[(country, word)].append(index)
    for members in groups.values():
        if 1 < len(members) <= MAX_BLOCK:
            yield members


def entity_possible_duplicates(
    *, entity_ids: Iterable[int], threshold: int, countries: Iterable[str] | None = None
) -> list[PossibleDuplicate]:
    """Return pairs of differently keyed entities whose names are alike, one of which is
    in `entity_ids` (typically the entities an import just created).

    Names are compared within blocks (same country and a shared word or prefix) with
    rapidfuzz's token-sort ratio, so the work grows with block sizes, not with the square
    of the number of entities. Aliases of the entities take part as names.
    """
    new_ids = set(entity_ids)
    if not new_ids:
        return []
    if countries is None:
        # Chunked IN keeps SQLite under its parameter limit.
        countries = set()
        id_list = sorted(new_ids)
        for start in range(0, len(id_list), 5000):
            countries.update(
                Entity.objects.filter(id__in=id_list[start : start + 5000])
                .values_list("country", flat=True)
                .distinct()
            )
    items: list[tuple[int, str, str, str]] = []  # (entity id, shown name, key, country)
    rows = Entity.objects.filter(country__in=sorted(countries)).values_list(
        "id", "name", "name_key", "aliases", "country"
    )
    for entity_id, name, key, aliases, country in rows.iterator(chunk_size=5000):
        items.append((entity_id, name, key, country))
        if not aliases:
            continue
        for alias in normalize.split_list(aliases, "\n"):
            alias_key = normalize.name_key(alias)
            if alias_key and alias_key != key:
                items.append((entity_id, alias, alias_key, country))

    sorted_keys = [" ".join(sorted(item[2].split(" "))) for item in items]
    best: dict[tuple[int, int], PossibleDuplicate] = {}
    for members in _blocks(items):
        if not any(items[i][0] in new_ids for i in members):
            continue
        # Keys with their words sorted make plain ratio equal to token_sort_ratio,
        # without sorting again for every pair.
        keys = [sorted_keys[i] for i in members]
        # One thread: blocks are small, and starting threads costs more than it saves.
        scores = process.cdist(
            keys, keys, scorer=fuzz.ratio, score_cutoff=threshold, workers=1, dtype=numpy.uint8
        )
        for a, b in zip(*numpy.triu(scores, 1).nonzero(), strict=True):
            left, right = items[members[a]], items[members[b]]
            if left[0] == right[0] or left[2] == right[2]:
                continue
            if left[0] not in new_ids:
                left, right = right, left
            pair = (min(left[0], right[0]), max(left[0], right[0]))
            score = float(scores[a, b])
            if pair not in best or best[pair].score < score:
                best[pair] = PossibleDuplicate(
                    entity_id=left[0],
                    entity_name=left[1],
                    other_id=right[0],
                    other_name=right[1],
                    country=left[3],
                    score=score,
                    matched=f"name keys {left[2]!r} and {right[2]!r}",
                )
    return sorted(best.values(), key=lambda d: (-d.score, d.entity_name))


def case_export_queryset() -> QuerySet[Case]:
    """Every case with its entity, referral count and confirmed findings per kind."""
    confirmed = Q(findings__review_state=Finding.ReviewState.CONFIRMED)
    per_kind = {
        f"confirmed_{kind}": Count(
            "findings", filter=confirmed & Q(findings__kind=kind), distinct=True
        )
        for kind in Finding.Kind.values
    }
    return (
        Case.objects.select_related("entity", "assignee")
        .annotate(
            referral_count=Count("entity__referrals", distinct=True),
            confirmed_total=Count("findings", filter=confirmed, distinct=True),
            **per_kind,
        )
        .order_by("id")
    )


EXPORT_FIELDS = (
    "case_id",
    "entity_name",
    "entity_name_native",
    "entity_type",
    "country",
    "index_date",
    "status",
    "priority",
    "assignee",
    "referral_count",
    "confirmed_total",
    *(f"confirmed_{kind}" for kind in Finding.Kind.values),
)


def case_export_rows() -> Iterator[dict]:
    for case in case_export_queryset().iterator(chunk_size=2000):
        entity = case.entity
        row = {
            "case_id": case.id,
            "entity_name": entity.name,
            "entity_name_native": entity.name_native,
            "entity_type": entity.kind,
            "country": entity.country,
            "index_date": case.index_date_display,
            "status": case.status,
            "priority": case.get_priority_display(),
            "assignee": case.assignee.get_username() if case.assignee else "",
            "referral_count": case.referral_count,
            "confirmed_total": case.confirmed_total,
        }
        for kind in Finding.Kind.values:
            row[f"confirmed_{kind}"] = getattr(case, f"confirmed_{kind}")
        yield row


# How soon a check that failed (error, rate limited) is tried again.
RETRY_FAILED_AFTER = timedelta(hours=6)


def checks_due(
    *, now: datetime, sources: Iterable[str], case_ids: Iterable[int] | None = None
) -> list[tuple[int, str]]:
    """Return the (case id, source) pairs whose last completed check is older than the
    source's interval; one query per source.

    Closed cases are left out. A check that is queued or running is not due again, and
    one that failed is retried after RETRY_FAILED_AFTER rather than on every pass.
    """
    from .sources import get_sources

    due = []
    for name in sources:
        source = get_sources()[name]
        done = [CheckRun.Status.OK, CheckRun.Status.NO_RESULTS, CheckRun.Status.SKIPPED]
        runs = CheckRun.objects.filter(case=OuterRef("pk"), source=name)
        cases = (
            Case.objects.exclude(status=Case.Status.CLOSED)
            .annotate(
                last_done=Max(
                    "check_runs__finished_at",
                    filter=Q(check_runs__source=name, check_runs__status__in=done),
                ),
                last_tried=Max("check_runs__finished_at", filter=Q(check_runs__source=name)),
                pending=Exists(
                    runs.filter(status__in=[CheckRun.Status.QUEUED, CheckRun.Status.RUNNING])
                ),
            )
            .filter(
                Q(last_done__isnull=True) | Q(last_done__lt=now - source.interval),
                Q(last_tried__isnull=True) | Q(last_tried__lt=now - RETRY_FAILED_AFTER),
                pending=False,
            )
        )
        if case_ids is not None:
            cases = cases.filter(id__in=list(case_ids))
        due.extend((case_id, name) for case_id in cases.values_list("id", flat=True))
    return due


def check_summary(check_run_ids: Iterable[int]) -> dict[str, dict[str, int]]:
    """Per source: how many runs ended in each status, and the leads they created."""
    rows = (
        CheckRun.objects.filter(id__in=list(check_run_ids))
        .values("source", "status")
        .annotate(runs=Count("id"), leads=Sum("leads_created"))
        .order_by("source", "status")
    )
    summary: dict[str, dict[str, int]] = {}
    for row in rows:
        entry = summary.setdefault(row["source"], {"leads": 0})
        entry[row["status"]] = row["runs"]
        entry["leads"] += row["leads"] or 0
    return summary


# ----------------------------------------------------------------- outcomes and pages

# A finding counts towards an outcome only with a counterparty in mainland China, Hong
# Kong or Macau (DOMAIN.md, "Outcome").
OUTCOME_COUNTRIES = ("CN", "HK", "MO")


def positive_findings(kind: str | None = None) -> QuerySet[Finding]:
    """Confirmed findings dated after their case's index date with a Chinese counterparty."""
    findings = Finding.objects.filter(
        review_state=Finding.ReviewState.CONFIRMED,
        timing=Finding.Timing.AFTER,
        counterparty_country__in=OUTCOME_COUNTRIES,
    )
    if kind and kind != "any":
        findings = findings.filter(kind=kind)
    return findings


def _count_of(queryset: QuerySet) -> Coalesce:
    """A correlated COUNT(*) of the queryset's rows for the outer case, 0 when none."""
    counted = queryset.order_by().values("case").annotate(n=Count("id")).values("n")
    return Coalesce(Subquery(counted, output_field=IntegerField()), Value(0))


def case_list(cases: QuerySet[Case]) -> QuerySet[Case]:
    """The cases with what a list row shows, in a fixed number of queries per page."""
    leads = Finding.objects.filter(case=OuterRef("pk"), review_state=Finding.ReviewState.LEAD)
    return cases.select_related("entity", "team", "assignee").annotate(
        lead_count=_count_of(leads),
        is_positive=Exists(positive_findings().filter(case=OuterRef("pk"))),
    )


@dataclass(frozen=True)
class Outcome:
    positive: bool
    kinds: list[tuple[str, str]]  # (kind label, first date) per positive kind
    first_date: str


def case_outcome(case: Case) -> Outcome:
    """Which outcome kinds the case is positive for, and when each was first seen."""
    first: dict[str, Finding] = {}
    for finding in positive_findings().filter(case=case).order_by("event_date", "id"):
        first.setdefault(finding.kind, finding)
    kinds = [(f.get_kind_display(), f.event_date_display) for f in first.values()]
    dates = [f for f in first.values() if f.event_date]
    earliest = min(dates, key=lambda f: f.event_date).event_date_display if dates else ""
    return Outcome(positive=bool(first), kinds=kinds, first_date=earliest)


@dataclass
class SourceHistory:
    source: str
    runs: list[CheckRun]
    last_success: datetime | None
    last_error: str


def case_check_history(case: Case, *, per_source: int = 5) -> list[SourceHistory]:
    """Each source's latest runs for the case, its last success and its last error."""
    by_source: dict[str, list[CheckRun]] = defaultdict(list)
    for run in CheckRun.objects.filter(case=case).order_by("source", "-queued_at", "-id"):
        by_source[run.source].append(run)
    done = (CheckRun.Status.OK, CheckRun.Status.NO_RESULTS)
    history = []
    for source, runs in sorted(by_source.items()):
        success = next((r.finished_at for r in runs if r.status in done), None)
        error = next(
            (
                r.error
                for r in runs
                if r.status in (CheckRun.Status.ERROR, CheckRun.Status.RATE_LIMITED)
            ),
            "",
        )
        history.append(SourceHistory(source, runs[:per_source], success, error))
    return history


def case_pending_sources(case: Case) -> set[str]:
    """Sources with a run of this case queued or running now."""
    return set(
        CheckRun.objects.filter(
            case=case, status__in=[CheckRun.Status.QUEUED, CheckRun.Status.RUNNING]
        ).values_list("source", flat=True)
    )


@dataclass(frozen=True)
class HistoryEntry:
    when: datetime
    who: str
    what: str
    changes: list[str]


def _diff_lines(record) -> list[str]:
    previous = record.prev_record
    if previous is None:
        return []
    delta = record.diff_against(previous)
    return [f"{change.field}: {change.old!s} → {change.new!s}" for change in delta.changes]


def case_change_history(case: Case, *, limit: int = 30) -> list[HistoryEntry]:
    """Edits of the case, its entity and its findings, newest first.

    Differences are worked out only for the entries shown (each costs a query).
    """
    records = []
    sources = [
        ("case", case.history.all()),
        ("entity", case.entity.history.all()),
        ("finding", Finding.history.filter(case_id=case.pk)),
    ]
    for what, history in sources:
        for record in history.select_related("history_user").order_by("-history_date")[:limit]:
            records.append((what, record))
    records.sort(key=lambda item: item[1].history_date, reverse=True)
    entries = []
    for what, record in records[:limit]:
        who = record.history_user.get_username() if record.history_user else "system"
        label = {"+": "created", "~": "changed", "-": "deleted"}[record.history_type]
        name = what if what != "finding" else f"finding {record.id}"
        entries.append(
            HistoryEntry(record.history_date, who, f"{name} {label}", _diff_lines(record))
        )
    return entries


def case_status_changes(case: Case) -> QuerySet[CaseStatusChange]:
    return case.status_changes.select_related("changed_by").order_by("-changed_at", "-id")


def review_queue(findings: QuerySet[Finding]) -> QuerySet[Finding]:
    """Leads waiting for review, best match first, then the oldest."""
    return (
        findings.filter(review_state=Finding.ReviewState.LEAD)
        .select_related("case__entity", "case__team")
        .order_by(F("match_score").desc(nulls_last=True), "created_at", "id")
    )


def case_referrals(case: Case) -> QuerySet[Referral]:
    return Referral.objects.filter(entity_id=case.entity_id).select_related("post").order_by("date")
