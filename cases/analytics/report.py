"""The cohort report a supervisor can send: the rates table, time to outcome, coverage,
the methods and the limitations on one document, as self-contained HTML or as a PDF.

Shared by the cohort_report command and the supervisors' report view; the figures come
from the same selectors as the analytics page, the words from methods.py.
"""

import datetime
from collections.abc import Mapping
from dataclasses import dataclass

from django.db.models import QuerySet
from django.template.loader import render_to_string

from cases.analytics import charts, estimates, methods, selectors
from cases.analytics.cohorts import DIMENSIONS, OUTCOME_KINDS
from cases.analytics.forms import AnalyticsForm
from cases.models import Case

FORMATS = ("html", "pdf")

# What the figures cannot say, whatever the data: the reader of a sent report has no page
# around it to ask.
LIMITATIONS = [
    "The rate counts reviewed cases only. Analysts review cases with evidence more often "
    "than cases without, so it overstates the share of positives; the bounds show how far "
    "the unreviewed cases could move it, and the corrected estimate holds only under its "
    "stated model of who gets reviewed.",
    "A case counts as positive only for findings someone confirmed; cooperation that no "
    "source reported, or that no check searched for, is invisible here.",
    "Follow-up is what was searched: a case is followed only over the period its checks "
    "covered, and not-followed cases are left out of the time-to-outcome curve.",
    "Small cohorts give wide intervals; their rates are anecdotes, not estimates.",
    "The p-values compare each cohort with the rest of this table only; Holm adjusts for "
    "the cohorts shown, not for other tables or dimensions looked at.",
    "The figures describe the referred entities that were followed up. They are not "
    "causal: a referral is not shown to have led to the cooperation found.",
]


@dataclass(frozen=True)
class Coverage:
    cohort: str
    cases: int
    checked: int
    followed: int
    not_followed: int


def check_arguments(*, by: str, outcome: str, format: str = "html") -> None:
    """Refuse a dimension, an outcome or a format the report does not know, naming the
    known ones."""
    if by not in DIMENSIONS:
        raise ValueError(f"unknown dimension {by!r}; one of {', '.join(DIMENSIONS)}")
    if outcome not in OUTCOME_KINDS:
        raise ValueError(f"unknown outcome {outcome!r}; one of {', '.join(OUTCOME_KINDS)}")
    if format not in FORMATS:
        raise ValueError(f"unknown format {format!r}; one of {', '.join(FORMATS)}")


def _labels() -> tuple[dict, dict]:
    fields = AnalyticsForm.base_fields
    return dict(fields["dimension"].choices), dict(fields["outcome"].choices)


def _coverage(rows, curves, total, overall) -> list[Coverage]:
    followed = {curve.cohort: curve for curve in curves}
    result = []
    for row in rows:
        curve = followed.get(row.cohort)
        result.append(
            Coverage(
                row.cohort,
                row.cases,
                row.checked,
                curve.watched if curve else 0,
                curve.unwatched if curve else 0,
            )
        )
    result.append(
        Coverage(
            "all",
            total.cases,
            total.checked,
            overall.watched if overall else 0,
            overall.unwatched if overall else 0,
        )
    )
    return result


def report_context(
    cases: QuerySet[Case],
    *,
    by: str,
    outcome: str,
    filters: Mapping[str, object],
    now: datetime.datetime | None = None,
    interval: str = "wilson",
    group_small: bool = False,
) -> dict:
    """Everything the report template shows, for the given cases."""
    check_arguments(by=by, outcome=outcome)
    dimensions, outcomes = _labels()
    dimension_label, outcome_label = dimensions[by], outcomes[outcome]
    rows = selectors.outcome_rates(
        cases, by=by, outcome=outcome, interval=interval, group_small=group_small
    )
    total = selectors.outcome_total(cases, outcome=outcome, interval=interval)
    curves, overall = selectors.curves_and_overall(cases, by=by, outcome=outcome)
    metadata = methods.download_metadata(
        title=f"Outcome rates by {dimension_label} ({outcome_label})",
        filters={"dimension": by, "outcome": outcome, **filters},
        now=now,
        interval=interval,
        group_small=group_small,
    )
    return {
        "metadata": metadata,
        "title": metadata["title"],
        "dimension_label": dimension_label,
        "outcome_label": outcome_label,
        "rows": rows,
        "total": total,
        "curves": curves,
        "overall_curve": overall,
        "survival_chart": charts.survival_chart(
            curves, title=f"Time to first positive finding ({outcome_label})"
        ),
        "coverage": _coverage(rows, curves, total, overall),
        "definitions": methods.definitions(interval, group_small),
        "by": by,
        "interval_label": estimates.INTERVAL_METHODS[interval],
        "limitations": LIMITATIONS,
    }


def report_html(context: dict) -> str:
    return render_to_string("cases/analytics/report.html", context)


def report_pdf(html: str) -> bytes:
    """The report as PDF. WeasyPrint is imported here, not at start-up: it loads Pango
    through cffi, which only the report needs."""
    import weasyprint

    # No base_url and nothing external in the template: WeasyPrint fetches nothing.
    return weasyprint.HTML(string=html).write_pdf()
