"""Reads and aggregates over the case store: possible duplicate entities, the case
export, which follow-up checks are due, and what the research pages show (case lists
with their outcome, a case's check history and change history, the review queue)."""

from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass, fields
from datetime import datetime, timedelta

import numpy
from django.contrib.auth import get_user_model
from django.db import connection
from django.db.models import (
    BooleanField,
    Count,
    DateField,
    Exists,
    ExpressionWrapper,
    F,
    IntegerField,
    Max,
    Min,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
)
from django.db.models.functions import Coalesce, NullIf
from django.utils import timezone
from rapidfuzz import fuzz, process

from . import normalize, stats
from .models import (
    AllianceBloc,
    Case,
    CaseStatusChange,
    CheckRun,
    CooperationMethod,
    Entity,
    Finding,
    Referral,
)

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


def _positive(kind: str | None = None) -> Q:
    """The outcome rule on a finding: confirmed, after the index date, Chinese counterparty."""
    condition = Q(
        review_state=Finding.ReviewState.CONFIRMED,
        timing=Finding.Timing.AFTER,
        counterparty_country__in=OUTCOME_COUNTRIES,
    )
    if kind and kind != "any":
        condition &= Q(kind=kind)
    return condition


def positive_findings(kind: str | None = None) -> QuerySet[Finding]:
    """Confirmed findings dated after their case's index date with a Chinese counterparty."""
    return Finding.objects.filter(_positive(kind))


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


# Bookkeeping columns that change on every save and tell a reader nothing.
_HISTORY_SKIP = {"version", "updated_at", "name_key"}


def _history_value(value, users: dict[int, str], field: str) -> str:
    if value is None or value == "":
        return "—"
    if field in _USER_FIELDS:
        return users.get(value, f"user {value}")
    if isinstance(value, datetime):
        return f"{timezone.localtime(value):%Y-%m-%d %H:%M}"
    return str(value)


_USER_FIELDS = {"assignee", "reviewed_by", "created_by", "changed_by", "coder"}


def _changes(record) -> list:
    """The field changes a history record made, bookkeeping columns left out."""
    previous = record.prev_record
    if previous is None:
        return []
    delta = record.diff_against(previous)
    return [change for change in delta.changes if change.field not in _HISTORY_SKIP]


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
    shown = [(what, record, _changes(record)) for what, record in records[:limit]]
    # Users named in the changes (assignee, reviewer, ...), looked up in one query.
    user_ids = {
        value
        for _, _, changes in shown
        for change in changes
        if change.field in _USER_FIELDS
        for value in (change.old, change.new)
        if value is not None
    }
    users = dict(get_user_model().objects.filter(pk__in=user_ids).values_list("pk", "username"))
    entries = []
    for what, record, changes in shown:
        who = record.history_user.get_username() if record.history_user else "system"
        label = {"+": "created", "~": "changed", "-": "deleted"}[record.history_type]
        name = what if what != "finding" else f"finding {record.id}"
        lines = [
            f"{change.field}: {_history_value(change.old, users, change.field)} → "
            f"{_history_value(change.new, users, change.field)}"
            for change in changes
        ]
        entries.append(HistoryEntry(record.history_date, who, f"{name} {label}", lines))
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


# ----------------------------------------------------------------- analytics

# Cohort dimensions and where each lives. Referral-level dimensions come from the
# case's index referral: the referral that started its clock.
DIMENSIONS = {
    "year": "index_date__year",
    "host_country": "index_referral__host_country",
    "bloc": "index_referral__alliance_bloc",
    "post": "index_referral__post__name",
    "technology_field": "index_referral__technology_field",
    "entity_type": "entity__kind",
    "cooperation_method": None,  # several per referral: one column per method
    "team": "team__name",
    "cohort": "cohorts__name",
}
OUTCOME_KINDS = ("any", *Finding.Kind.values)


@dataclass
class CohortRate:
    cohort: str
    cases: int
    reviewed: int
    positive: int
    rate: float | None
    ci_low: float | None
    ci_high: float | None
    median_days: float | None

    def as_dict(self) -> dict:
        return asdict(self)


RATE_FIELDS = [f.name for f in fields(CohortRate)]


def _first_positive(outcome: str) -> Subquery:
    first = (
        positive_findings(outcome)
        .filter(case=OuterRef("pk"))
        .order_by()
        .values("case")
        .annotate(first=Min("event_date"))
        .values("first")
    )
    return Subquery(first, output_field=DateField())


def _check_outcome(outcome: str) -> None:
    if outcome not in OUTCOME_KINDS:
        raise ValueError(f"Unknown outcome {outcome!r}; one of {', '.join(OUTCOME_KINDS)}")


def _outcome_cases(cases: QuerySet[Case], outcome: str) -> QuerySet[Case]:
    """Cases annotated with their first positive date and whether they were reviewed.

    Reviewed: concluded, or at least one finding confirmed or rejected.
    """
    _check_outcome(outcome)
    decided = Finding.objects.filter(
        case=OuterRef("pk"),
        review_state__in=[Finding.ReviewState.CONFIRMED, Finding.ReviewState.REJECTED],
    )
    return cases.annotate(
        first_positive=_first_positive(outcome),
        was_reviewed=ExpressionWrapper(
            Q(status=Case.Status.CONCLUDED) | Exists(decided), output_field=BooleanField()
        ),
    )


def _rate_row(cohort: str, values: dict, median_days: float | None = None) -> CohortRate:
    low, high = stats.wilson_interval(values["positive"], values["reviewed"])
    median = values.get("median_days", median_days)
    return CohortRate(
        cohort=cohort,
        cases=values["cases"],
        reviewed=values["reviewed"],
        positive=values["positive"],
        rate=stats.rate(values["positive"], values["reviewed"]),
        ci_low=low,
        ci_high=high,
        median_days=float(median) if median is not None else None,
    )


def _cohort_label(by: str, value) -> str:
    if value is None or value == "":
        return "(none)" if by != "bloc" else "(unknown)"
    if by == "bloc":
        return AllianceBloc(value).label
    if by == "entity_type":
        return Entity.Kind(value).label
    if by == "cooperation_method":
        return CooperationMethod(value).label
    return str(value)


def outcome_rates(
    cases: QuerySet[Case], *, by: str, outcome: str = "any", kind: str = Case.Kind.REFERRED
) -> list[CohortRate]:
    """Per cohort of `by`: cases, reviewed, positive, rate over reviewed with its 95 %
    Wilson interval and the median days from index date to the first positive finding.

    One aggregate query over the whole set (see _cohort_figures); on SQLite, which lacks
    a median, one more query reads the days of the positive cases only.
    """
    if by not in DIMENSIONS:
        raise ValueError(f"Unknown dimension {by!r}; one of {', '.join(DIMENSIONS)}")
    groups = _cohort_figures(cases, by=by, outcome=outcome, kind=kind)
    medians = (
        {}
        if connection.vendor == "postgresql"
        else _medians_in_python(_outcome_cases(cases.filter(kind=kind), outcome), by)
    )
    result = [
        _rate_row(_cohort_label(by, value), values, medians.get(value))
        for value, values in groups.items()
        if values["cases"] and not (by == "cohort" and value is None)
    ]
    return sorted(result, key=lambda row: (-row.cases, row.cohort))


def _group_expression(by: str):
    """The dimension's column, with an empty text value read as no value, so a case
    without one is in a single "(none)" cohort whether the value is NULL or ""."""
    if by == "year":
        return F(DIMENSIONS[by])
    return NullIf(F(DIMENSIONS[by]), Value(""))


def _decided_per_case(outcome: str) -> QuerySet[Finding]:
    """One row per case with a confirmed or rejected finding, with its first positive date."""
    return (
        Finding.objects.filter(
            review_state__in=[Finding.ReviewState.CONFIRMED, Finding.ReviewState.REJECTED]
        )
        .order_by()
        .values("case")
        .annotate(first_positive=Min("event_date", filter=_positive(outcome)))
    )


def _cohort_figures(cases: QuerySet[Case], *, by: str | None, outcome: str, kind: str) -> dict:
    """{group value: {cases, reviewed, positive[, median_days]}} in one query.

    The findings are read once, aggregated per case and joined to the cases; correlated
    subqueries per case (one for every aggregate that used them) took seconds at
    100,000 cases. Django cannot aggregate over an aggregate within a GROUP BY, so the
    outer query is written here around the two compiled querysets.
    """
    _check_outcome(outcome)
    if by is None:
        group = Value("all")
    elif by == "cooperation_method":
        group = F("index_referral__cooperation_methods")
    else:
        group = _group_expression(by)
    members = cases.filter(kind=kind).order_by().values("id", "index_date", "status", group=group)
    if by == "cohort":
        members = members.filter(group__isnull=False)  # a case in no cohort is in no row
    if members.query.is_empty():
        return {}
    members_sql, members_params = members.query.sql_with_params()
    decided = _decided_per_case(outcome)
    if cases.query.where:
        # A subset: aggregate the findings of its cases only (a semi-join), rather than
        # every case's and then throw most away; for all cases the join alone is faster.
        decided = decided.filter(case__in=members.values("id"))
    findings_sql, findings_params = decided.query.sql_with_params()
    postgres = connection.vendor == "postgresql"
    median = (
        ", percentile_cont(0.5) WITHIN GROUP (ORDER BY f.first_positive - c.index_date)"
        if postgres
        else ""
    )
    group_sql, methods_sql, methods_params = 'c."group"', "", []
    if by == "cooperation_method" and postgres:
        # One row per method in the stored ",a,b," list.
        methods_sql = (
            "CROSS JOIN LATERAL unnest(string_to_array(trim(BOTH ',' FROM c.\"group\"), ','))"
            " AS m(method)"
        )
        group_sql = "m.method"
    elif by == "cooperation_method":
        # One row per method the index referral lists, matched as `__has` matches one.
        methods_sql = 'JOIN ({}) m ON c."group" {}'.format(
            " UNION ALL ".join(["SELECT %s AS method, %s AS pattern"] * len(CooperationMethod)),
            connection.operators["contains"] % "m.pattern",
        )
        for method in CooperationMethod.values:
            methods_params += [method, f"%,{connection.ops.prep_for_like_query(method)},%"]
        group_sql = "m.method"
    sql = f"""
        SELECT {group_sql},
               COUNT(*),
               COUNT(CASE WHEN c.status = %s OR f."case" IS NOT NULL THEN 1 END),
               COUNT(f.first_positive){median}
        FROM ({members_sql}) c
        LEFT JOIN ({findings_sql}) f ON f."case" = c.id
        {methods_sql}
        GROUP BY {group_sql}
    """
    params = [Case.Status.CONCLUDED, *members_params, *findings_params, *methods_params]
    names = ["cases", "reviewed", "positive", *(["median_days"] if postgres else [])]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return {value: dict(zip(names, figures, strict=True)) for value, *figures in cursor}


def _medians_in_python(annotated: QuerySet[Case], by: str | None) -> dict:
    """Median days per cohort ("all" without `by`), from the positive cases only
    (databases without a median)."""
    days: dict = defaultdict(list)
    positives = annotated.filter(first_positive__isnull=False)
    if by is None:
        for first, start in positives.values_list("first_positive", "index_date"):
            days["all"].append((first - start).days)
    elif by == "cooperation_method":
        rows = positives.values_list(
            "index_referral__cooperation_methods", "first_positive", "index_date"
        )
        for methods, first, start in rows:
            for method in methods or []:
                days[method].append((first - start).days)
    else:
        for group, first, start in positives.annotate(group=_group_expression(by)).values_list(
            "group", "first_positive", "index_date"
        ):
            days[group].append((first - start).days)
    return {group: stats.median_or_none(values) for group, values in days.items()}


def outcome_total(
    cases: QuerySet[Case], *, outcome: str = "any", kind: str = Case.Kind.REFERRED
) -> CohortRate:
    """The same figures over every case of the set, as one row."""
    values = _cohort_figures(cases, by=None, outcome=outcome, kind=kind).get(
        "all", {"cases": 0, "reviewed": 0, "positive": 0}
    )
    median = values.get("median_days")
    if connection.vendor != "postgresql":
        annotated = _outcome_cases(cases.filter(kind=kind), outcome)
        median = _medians_in_python(annotated, None).get("all")
    return _rate_row("all", values, median)


@dataclass
class CohortSurvival:
    cohort: str
    curve: stats.SurvivalCurve
    watched: int  # cases with an event or a successful check
    unwatched: int  # never checked successfully and no positive finding: left out
    durations: list[float]  # days to the event or to censoring, for the number at risk


def time_to_outcome(
    cases: QuerySet[Case], *, by: str | None = None, outcome: str = "any"
) -> list[CohortSurvival]:
    """Kaplan-Meier curves of days from the index date to the first positive finding.

    A case without a positive finding is censored at its last successful check; a case
    never checked successfully was never watched and is left out (counted as unwatched).
    """
    _check_outcome(outcome)
    members = cases.filter(kind=Case.Kind.REFERRED, index_date__isnull=False)
    if by == "cooperation_method":
        members = members.annotate(group=F("index_referral__cooperation_methods"))
    elif by is not None:
        members = members.annotate(group=_group_expression(by))
    # Three plain scans joined here by case id: per-case correlated subqueries cost
    # seconds at 100,000 cases (bench/outcome_rates.py).
    positives = positive_findings(outcome)
    checks = CheckRun.objects.filter(status__in=[CheckRun.Status.OK, CheckRun.Status.NO_RESULTS])
    if cases.query.where:
        positives = positives.filter(case__in=members.values("id"))
        checks = checks.filter(case__in=members.values("id"))
    first_positive = dict(
        positives.order_by()
        .values("case")
        .annotate(first=Min("event_date"))
        .values_list("case", "first")
    )
    last_check = dict(
        checks.order_by()
        .values("case")
        .annotate(last=Max("finished_at"))
        .values_list("case", "last")
    )
    rows = (
        (index_date, first_positive.get(pk), last_check.get(pk), *group)
        for pk, index_date, *group in members.values_list(
            "id", "index_date", *(["group"] if by else [])
        ).iterator(chunk_size=10000)
    )
    samples: dict = defaultdict(lambda: ([], [], [0]))
    for index_date, first, last_check_at, *group in rows:
        if by == "cooperation_method":
            keys = group[0] or []
        elif by is not None:
            keys = group
        else:
            keys = ["all"]
        for key in keys:
            durations, observed, unwatched = samples[key]
            if first is not None:
                durations.append((first - index_date).days)
                observed.append(True)
            elif last_check_at is not None:
                durations.append(max((last_check_at.date() - index_date).days, 0))
                observed.append(False)
            else:
                unwatched[0] += 1
    result = []
    for key, (durations, observed, unwatched) in samples.items():
        if by == "cohort" and key is None:
            continue
        label = _cohort_label(by, key) if by else "all"
        curve = stats.kaplan_meier(durations, observed)
        result.append(CohortSurvival(label, curve, len(durations), unwatched[0], durations))
    return sorted(result, key=lambda s: (-s.watched, s.cohort))


@dataclass
class ControlComparison:
    group: str
    referred: CohortRate
    control: CohortRate
    difference: stats.Difference | None


def control_comparison(
    cases: QuerySet[Case], *, outcome: str = "any", by: str = "entity_type"
) -> list[ControlComparison]:
    """Referred versus control cases: each rate and the difference with its interval,
    over all cases and, with by="entity_type" (the default), per entity type."""
    rows = []
    referred_all = outcome_total(cases, outcome=outcome, kind=Case.Kind.REFERRED)
    control_all = outcome_total(cases, outcome=outcome, kind=Case.Kind.CONTROL)
    rows.append(("all", referred_all, control_all))
    if by == "entity_type":
        referred = {r.cohort: r for r in outcome_rates(cases, by=by, outcome=outcome)}
        control = {
            r.cohort: r
            for r in outcome_rates(cases, by=by, outcome=outcome, kind=Case.Kind.CONTROL)
        }
        empty = CohortRate("", 0, 0, 0, None, None, None, None)
        for group in sorted(set(referred) | set(control)):
            rows.append((group, referred.get(group, empty), control.get(group, empty)))
    result = []
    for group, ref, ctl in rows:
        difference = stats.difference_interval(
            ref.positive, ref.reviewed, ctl.positive, ctl.reviewed
        )
        result.append(ControlComparison(group, ref, ctl, difference))
    return result


@dataclass
class CodingPair:
    case_id: int
    entity_name: str
    cohort: str
    first: str  # the first analyst's reading: the case's confirmed outcome
    second: str  # the second coder's blind reading
    coder: str


def coding_pairs(cases: QuerySet[Case], *, outcome: str = "any", by: str | None = None):
    """(first, second) readings of every double-coded case: "positive" or "negative".

    The first reading is what the case's reviewed findings say (the outcome rule); the
    second is the second coder's blind record of which outcome kinds the evidence shows.
    """
    coded = _outcome_cases(
        cases.filter(second_coding__recorded_at__isnull=False), outcome
    ).select_related("entity", "second_coding__coder", "index_referral")
    if by and by != "cooperation_method":
        coded = coded.annotate(group=_group_expression(by))
    pairs = []
    for case in coded:
        coding = case.second_coding
        kinds = coding.positive_kinds
        second = bool(kinds) if outcome == "any" else outcome in kinds
        groups = (
            [getattr(case, "group", "all")]
            if by != "cooperation_method"
            else (case.index_referral.cooperation_methods if case.index_referral_id else [])
        )
        for group in groups:
            pairs.append(
                CodingPair(
                    case_id=case.pk,
                    entity_name=case.entity.name,
                    cohort=_cohort_label(by, group) if by else "all",
                    first="positive" if case.first_positive else "negative",
                    second="positive" if second else "negative",
                    coder=coding.coder.get_username(),
                )
            )
    return pairs


@dataclass
class CohortAgreement:
    cohort: str
    agreement: stats.Agreement
    disagreements: int


def agreement_by_cohort(pairs: list[CodingPair]) -> list[CohortAgreement]:
    grouped: dict[str, list[CodingPair]] = defaultdict(list)
    for pair in pairs:
        grouped[pair.cohort].append(pair)
    result = [
        CohortAgreement(
            cohort,
            stats.cohens_kappa([(p.first, p.second) for p in items]),
            sum(1 for p in items if p.first != p.second),
        )
        for cohort, items in grouped.items()
    ]
    return sorted(result, key=lambda a: (-a.agreement.n, a.cohort))
