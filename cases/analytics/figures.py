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
from cases.analytics.cohorts import check_outcome, group_annotation
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


@contextmanager
def figures_reused() -> Iterator[None]:
    """Within the block, a question cohort_figures has answered already is answered from
    the first answer. The analytics page asks for some twice (the referred cases' total
    for the rate table and for the control comparison, and per entity type when that is
    the page's dimension), each a pass over every finding; nothing writes in between."""
    token = _answers.set({})
    try:
        yield
    finally:
        _answers.reset(token)


def cohort_figures(cases: QuerySet[Case], *, by: str | None, outcome: str, kind: str) -> dict:
    """{group value: {FIGURE_NAMES[, median_days]}} of the cases of `kind`, grouped by
    `by` (everything under "all" when it is None)."""
    check_outcome(outcome)
    members = _members(cases, by=by, kind=kind)
    if members.query.is_empty():
        return {}
    answers = _answers.get()
    if answers is None:
        return _figures(cases, members, by=by, outcome=outcome)
    sql, params = members.query.sql_with_params()
    question = (sql, tuple(params), by, outcome)
    if question not in answers:
        answers[question] = _figures(cases, members, by=by, outcome=outcome)
    return {value: dict(figures) for value, figures in answers[question].items()}


def _figures(cases: QuerySet[Case], members: QuerySet, *, by: str | None, outcome: str) -> dict:
    decided = _findings_per_case(outcome)
    checked = _checked_cases()
    if cases.query.where:
        # A subset: aggregate the findings of its cases only (a semi-join), rather than
        # every case's and then throw most away; for all cases the join alone is faster.
        decided = decided.filter(case__in=members.values("id"))
        checked = checked.filter(case__in=members.values("id"))
    postgres = connection.vendor == "postgresql"
    sql, params = _figures_query(members, decided, checked, by=by, postgres=postgres)
    names = [*FIGURE_NAMES, *(["median_days"] if postgres else [])]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return {value: dict(zip(names, figures, strict=True)) for value, *figures in cursor}


def _members(cases: QuerySet[Case], *, by: str | None, kind: str) -> QuerySet:
    """One row per case of `kind`: its id, index date, status and group value."""
    group = Value("all") if by is None else group_annotation(by)
    members = cases.filter(kind=kind).order_by().values("id", "index_date", "status", group=group)
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
    sql = f"""
        SELECT {group_sql},
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
        GROUP BY {group_sql}
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
