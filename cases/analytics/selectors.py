"""Reads of the analytics: outcome rates per cohort, time to outcome, referred against
control cases, agreement between first and second readings.
"""

from collections import defaultdict
from dataclasses import asdict, dataclass, fields

from django.db import connection
from django.db.models import (
    BooleanField,
    DateField,
    ExpressionWrapper,
    F,
    Max,
    Min,
    OuterRef,
    QuerySet,
    Subquery,
    Value,
)
from django.db.models.functions import NullIf

from cases import rules
from cases.analytics import stats
from cases.models import (
    AllianceBloc,
    Case,
    CheckRun,
    CooperationMethod,
    Entity,
    Finding,
)

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
        rules.positive_findings(outcome)
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
    """Cases annotated with their first positive date and whether they were reviewed."""
    _check_outcome(outcome)
    return cases.annotate(
        first_positive=_first_positive(outcome),
        was_reviewed=ExpressionWrapper(rules.reviewed_case_q(), output_field=BooleanField()),
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
        Finding.objects.filter(review_state__in=rules.DECIDED_STATES)
        .order_by()
        .values("case")
        .annotate(first_positive=Min("event_date", filter=rules.positive_finding_q(outcome)))
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
    positives = rules.positive_findings(outcome)
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
