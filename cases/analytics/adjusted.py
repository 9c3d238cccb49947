"""Rows for the adjusted comparisons: one per referred case with its outcome and
covariates (entity type, field, bloc, year, post), read in one query, for
models_fit to fit."""

from datetime import date

from django.db.models import Exists, Max, Min, OuterRef, QuerySet

from cases import rules
from cases.analytics.cohorts import check_outcome, group_expression
from cases.models import Case, CheckRun, Finding

COVARIATES = {
    "entity_type": "entity_type",
    "field": "technology_field",
    "bloc": "bloc",
    "year": "year",
    "post": "post",
}


def _referred(cases: QuerySet[Case]) -> QuerySet[Case]:
    return cases.filter(kind=Case.Kind.REFERRED, index_date__isnull=False)


def _annotated(cases: QuerySet[Case], outcome: str) -> QuerySet[Case]:
    positives = Finding.objects.filter(rules.positive_finding_q(outcome), case=OuterRef("pk"))
    return cases.annotate(
        is_positive=Exists(positives),
        **{name: group_expression(by) for name, by in COVARIATES.items()},
    )


def logit_rows(cases: QuerySet[Case], *, outcome: str = "any") -> list[dict]:
    """One row per referred, reviewed case: `positive` and the covariates."""
    check_outcome(outcome)
    reviewed = _referred(cases).filter(rules.reviewed_case_q())
    rows = _annotated(reviewed, outcome).values("is_positive", *COVARIATES)
    return [dict(row, positive=row.pop("is_positive")) for row in rows]


def last_searched_to(case_ids) -> dict[int, date]:
    """The plain censoring date: the last day searched by a successful check per case."""
    runs = CheckRun.objects.filter(
        case_id__in=case_ids, status__in=rules.SUCCESSFUL_CHECK_STATES
    ).values("case_id")
    return dict(runs.annotate(last=Max("searched_to")).values_list("case_id", "last"))


def cox_rows(cases: QuerySet[Case], *, outcome: str = "any", censored_at=None) -> list[dict]:
    """One row per followed referred case: `duration` in days from the index date to the
    first positive finding, or to the censoring date when none (`event` false).

    `censored_at(case_ids) -> {case_id: date}` gives each case's end of follow-up
    (last_searched_to unless another is passed in); a case without one is not followed
    and left out, unless it is positive."""
    check_outcome(outcome)
    censored_at = censored_at or last_searched_to
    first = Finding.objects.filter(rules.positive_finding_q(outcome), case=OuterRef("pk"))
    first = first.values("case").annotate(first=Min("event_date")).values("first")
    rows = list(
        _annotated(_referred(cases), outcome)
        .annotate(first_positive=first[:1])
        .values("id", "index_date", "first_positive", *COVARIATES)
    )
    ends = censored_at([row["id"] for row in rows])
    out = []
    for row in rows:
        end, event = row.pop("first_positive"), True
        if end is None:
            end, event = ends.get(row["id"]), False
        if end is None:
            continue
        out.append(dict(row, duration=(end - row["index_date"]).days, event=event))
    return out
