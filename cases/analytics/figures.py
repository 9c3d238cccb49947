"""The counts behind the outcome rates, per cohort in one SQL query: cases, checked,
reviewed, concluded and positive cases, cases with qualifying leads waiting, cases whose
only would-be-positive findings have unknown timing, the cases with any evidence (the
strata of the verification correction, estimates.py), and on PostgreSQL the median days
to the first positive finding.

The findings are read once, aggregated per case and joined to the cases; correlated
subqueries per case (one for every aggregate that used them) took seconds at 100,000
cases (bench/outcome_rates.py). Django cannot aggregate over an aggregate within a
GROUP BY, so the outer query is written here around two ORM-compiled querysets.
"""

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from django.db import connection
from django.db.models import Count, Min, Q, QuerySet, Value

from cases import rules
from cases.analytics.cohorts import DIMENSIONS, check_outcome, group_annotation
from cases.models import Case, CheckRun, CooperationMethod, Finding

FIGURE_NAMES = (
    "cases",
    "reviewed",
    "positive",
    "checked",
    "concluded",
    "waiting",
    "unknown_timing",
    "unknown_unreviewed",
    "evidence",
    "evidence_reviewed",
)


# The answers given within figures_reused(), by question; None outside it.
_answers: ContextVar[dict | None] = ContextVar("cohort_figures_answers", default=None)

# Dimensions that put every case in exactly one cohort: their cohorts add up to the total.
_ONE_COHORT_EACH = frozenset(DIMENSIONS) - {"cooperation_method", "cohort"}


@contextmanager
def figures_reused() -> Iterator[None]:
    """Within the block, cohort_figures answers the referred and the control cases of a
    set and dimension in one query, on PostgreSQL their totals too, and a question asked
    again from its first answer. The analytics page asks five questions (its dimension
    and the total, of the referred cases; per entity type and the total, of the control
    cases and the referred) and each is a pass over every finding; nothing writes in
    between."""
    token = _answers.set({})
    try:
        yield
    finally:
        _answers.reset(token)


def cohort_figures(cases: QuerySet[Case], *, by: str | None, outcome: str, kind: str) -> dict:
    """{group value: {FIGURE_NAMES[, median_days]}} of the cases of `kind`, grouped by
    `by` (everything under "all" when it is None)."""
    check_outcome(outcome)
    if cases.query.is_empty():
        return {}
    answers = _answers.get()
    if answers is None:
        return _figures(cases, by=by, outcome=outcome, kinds=[kind], totals=False)[kind, by]
    sql, params = cases.query.sql_with_params()
    asked = (sql, tuple(params), outcome)
    if (*asked, kind, by) not in answers:
        totals = by in _ONE_COHORT_EACH and connection.vendor == "postgresql"
        kinds = list(Case.Kind.values)
        for (each, dimension), figures in _figures(
            cases, by=by, outcome=outcome, kinds=kinds, totals=totals
        ).items():
            answers.setdefault((*asked, each, dimension), figures)
    return {value: dict(figures) for value, figures in answers[(*asked, kind, by)].items()}


def _figures(
    cases: QuerySet[Case], *, by: str | None, outcome: str, kinds: list[str], totals: bool
) -> dict[tuple[str, str | None], dict]:
    """{(kind, by): figures} for each of `kinds`, and {(kind, None): figures} with
    `totals` (PostgreSQL's GROUPING SETS; for a dimension of _ONE_COHORT_EACH only)."""
    members = _members(cases, by=by, kinds=kinds)
    decided = _findings_per_case(outcome)
    checked = _checked_cases()
    if cases.query.where:
        # A subset: aggregate the findings of its cases only (a semi-join), rather than
        # every case's and then throw most away; for all cases the join alone is faster.
        decided = decided.filter(case__in=members.values("id"))
        checked = checked.filter(case__in=members.values("id"))
    postgres = connection.vendor == "postgresql"
    sql, params = _figures_query(members, decided, checked, by=by, postgres=postgres, totals=totals)
    names = [*FIGURE_NAMES, *(["median_days"] if postgres else [])]
    dimensions = [by, None] if totals else [by]
    result: dict = {(kind, dimension): {} for kind in kinds for dimension in dimensions}
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        for kind, total, value, *figures in cursor:
            key = (kind, None) if total else (kind, by)
            result[key]["all" if total else value] = dict(zip(names, figures, strict=True))
    return result


def _members(cases: QuerySet[Case], *, by: str | None, kinds: list[str]) -> QuerySet:
    """One row per case of `kinds`: its id, kind, index date, status and group value."""
    group = Value("all") if by is None else group_annotation(by)
    members = (
        cases.filter(kind__in=kinds)
        .order_by()
        .values("id", "kind", "index_date", "status", group=group)
    )
    if by == "cohort":
        members = members.filter(group__isnull=False)  # a case in no cohort is in no row
    return members


def _findings_per_case(outcome: str) -> QuerySet[Finding]:
    """One row per case with a finding: its first positive date, how many positive
    findings, qualifying leads waiting and confirmed would-be-positives of unknown timing.

    A qualifying lead would make the case positive if confirmed: after the index date,
    Chinese counterparty, of the outcome kind (rules.positive_finding_q with the review
    state swapped). Likewise an unknown-timing finding is positive_finding_q but for its
    timing.
    """
    kind = Q() if outcome == "any" else Q(kind=outcome)
    chinese = Q(counterparty_country__in=sorted(rules.CHINESE_JURISDICTIONS)) & kind
    return (
        Finding.objects.order_by()
        .values("case")
        .annotate(
            first_positive=Min("event_date", filter=rules.positive_finding_q(outcome)),
            positives=Count("id", filter=rules.positive_finding_q(outcome)),
            waiting=Count(
                "id",
                filter=chinese
                & Q(review_state=Finding.ReviewState.LEAD, timing=Finding.Timing.AFTER),
            ),
            unknown=Count(
                "id",
                filter=chinese
                & Q(review_state=Finding.ReviewState.CONFIRMED, timing=Finding.Timing.UNKNOWN),
            ),
        )
    )


def _checked_cases() -> QuerySet[CheckRun]:
    """One row per case with a successful check."""
    return (
        CheckRun.objects.filter(status__in=rules.SUCCESSFUL_CHECK_STATES)
        .order_by()
        .values("case")
        .distinct()
    )


def _figures_query(
    members: QuerySet,
    decided: QuerySet[Finding],
    checked: QuerySet[CheckRun],
    *,
    by: str | None,
    postgres: bool,
    totals: bool,
) -> tuple[str, list]:
    members_sql, members_params = members.query.sql_with_params()
    findings_sql, findings_params = decided.query.sql_with_params()
    checked_sql, checked_params = checked.query.sql_with_params()
    median = (
        ", percentile_cont(0.5) WITHIN GROUP (ORDER BY f.first_positive - c.index_date)"
        if postgres
        else ""
    )
    group_sql, methods_sql, methods_params = 'c."group"', "", []
    if by == "cooperation_method":
        group_sql = "m.method"
        methods_sql, methods_params = _methods_join(postgres)
    # Reviewed is rules.reviewed_case_q read off the join: concluded, or a positive
    # finding. Waiting and unknown timing count unreviewed / not positive cases only.
    reviewed = "(c.status = %s OR COALESCE(f.positives, 0) > 0)"
    grouping = f"c.kind, {group_sql}"
    total = "0"
    if totals:
        grouping = f"GROUPING SETS ((c.kind, {group_sql}), (c.kind))"
        total = f"GROUPING({group_sql})"
    sql = f"""
        SELECT c.kind, {total}, {group_sql},
               COUNT(*),
               COUNT(CASE WHEN {reviewed} THEN 1 END),
               COUNT(f.first_positive),
               COUNT(k."case"),
               COUNT(CASE WHEN c.status = %s THEN 1 END),
               COUNT(CASE WHEN NOT {reviewed} AND f.waiting > 0 THEN 1 END),
               COUNT(CASE WHEN f.positives = 0 AND f.unknown > 0 THEN 1 END),
               COUNT(CASE WHEN NOT {reviewed} AND f.unknown > 0 THEN 1 END),
               COUNT(f."case"),
               COUNT(CASE WHEN f."case" IS NOT NULL AND {reviewed} THEN 1 END){median}
        FROM ({members_sql}) c
        LEFT JOIN ({findings_sql}) f ON f."case" = c.id
        LEFT JOIN ({checked_sql}) k ON k."case" = c.id
        {methods_sql}
        GROUP BY {grouping}
    """
    concluded = Case.Status.CONCLUDED
    params = [
        *[concluded] * 5,
        *members_params,
        *findings_params,
        *checked_params,
        *methods_params,
    ]
    return sql, params


def _methods_join(postgres: bool) -> tuple[str, list]:
    """A join giving each case one row `m.method` per method its index referral lists."""
    if postgres:
        # The stored ",a,b," list, unnested.
        sql = (
            "CROSS JOIN LATERAL unnest(string_to_array(trim(BOTH ',' FROM c.\"group\"), ','))"
            " AS m(method)"
        )
        return sql, []
    # Elsewhere each method is matched as `__has` matches one.
    sql = 'JOIN ({}) m ON c."group" {}'.format(
        " UNION ALL ".join(["SELECT %s AS method, %s AS pattern"] * len(CooperationMethod)),
        connection.operators["contains"] % "m.pattern",
    )
    params = []
    for method in CooperationMethod.values:
        params += [method, f"%,{connection.ops.prep_for_like_query(method)},%"]
    return sql, params
