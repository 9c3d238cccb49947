"""The analytics tables as files and text: the CSV downloads of the analytics page and the
outcome_rates command's output, each a pure function of selector results.

CSV cells hold the figures unrounded (shares as fractions of 1); the text table and the
page show them through the one set of formatters below.
"""

import json
from collections.abc import Iterable

from cases.analytics.selectors import (
    RATE_FIELDS,
    CohortAgreement,
    CohortRate,
    CohortSurvival,
    PairedGroup,
)
from cases.exports import csv_text

NONE = "—"

# --- formatters ---


def percent(share: float | None, *, sign: str = "%") -> str:
    """A share of 1 as a percentage with one decimal ("12.3%"); a dash when undefined."""
    return NONE if share is None else f"{share * 100:.1f}{sign}"


def interval(low: float | None, high: float | None) -> str:
    """An interval of shares as percentages ("4.1–30.2%"); a dash when undefined."""
    if low is None or high is None:
        return NONE
    return f"{percent(low, sign='')}–{percent(high)}"


def days(value: float | None) -> str:
    """A number of days: whole when it is whole, else with one decimal (a median of two)."""
    if value is None:
        return NONE
    return f"{value:.0f}" if float(value).is_integer() else f"{value:.1f}"


# --- CSV downloads ---

# File names of the page's downloads, by the `download` parameter.
FILE_NAMES = {
    "rates": "outcome-rates-{by}-{outcome}.csv",
    "survival": "time-to-outcome-{by}-{outcome}.csv",
    "control": "control-pairs-{by}-{outcome}.csv",
    "agreement": "agreement-{by}-{outcome}.csv",
}

RATES_HEADER = RATE_FIELDS
SURVIVAL_HEADER = ["cohort", "days", "survival", "at_risk", "events"]
CONTROL_HEADER = [
    "group",
    "pairs",
    "both_positive",
    "referred_only_positive",
    "control_only_positive",
    "both_negative",
    "referred_rate",
    "control_rate",
    "mcnemar_exact_p",
    "difference",
    "difference_low",
    "difference_high",
    "odds_ratio_mh",
    "odds_ratio_low",
    "odds_ratio_high",
    "pairs_not_counted",
    "referred_not_reviewed",
    "control_not_reviewed",
    "controls_left_pair",
    "referred_checks_per_case",
    "control_checks_per_case",
]
AGREEMENT_HEADER = [
    "cohort",
    "double_coded",
    "observed_agreement",
    "kappa",
    "kappa_low",
    "kappa_high",
    "disagreements",
]


def file_name(kind: str, *, by: str, outcome: str) -> str:
    return FILE_NAMES[kind].format(by=by, outcome=outcome)


def rates_rows(rates: Iterable[CohortRate]) -> list[list]:
    return [[getattr(rate, name) for name in RATES_HEADER] for rate in rates]


def rates_csv(rates: Iterable[CohortRate]) -> str:
    return csv_text(RATES_HEADER, rates_rows(rates))


def survival_rows(curves: Iterable[CohortSurvival]) -> list[list]:
    """One row per cohort and event time of its Kaplan-Meier curve."""
    return [
        [item.cohort, time, survival, at_risk, events]
        for item in curves
        for time, survival, at_risk, events in zip(
            item.curve.times,
            item.curve.survival,
            item.curve.at_risk,
            item.curve.events,
            strict=True,
        )
    ]


def survival_csv(curves: Iterable[CohortSurvival]) -> str:
    return csv_text(SURVIVAL_HEADER, survival_rows(curves))


def control_rows(groups: Iterable[PairedGroup]) -> list[list]:
    """One row per group of matched pairs: the pair table and its paired figures."""
    rows = []
    for item in groups:
        table = item.table
        difference = item.difference or (None, None, None)
        odds_ratio = item.odds_ratio or (None, None, None)
        rows.append(
            [
                item.group,
                item.pairs,
                table.both,
                table.referred_only,
                table.control_only,
                table.neither,
                item.referred_rate,
                item.control_rate,
                item.p_value,
                *difference,
                *odds_ratio,
                item.unreviewed,
                item.referred_unreviewed,
                item.control_unreviewed,
                item.left,
                item.referred_checks_per_case,
                item.control_checks_per_case,
            ]
        )
    return rows


def control_csv(groups: Iterable[PairedGroup]) -> str:
    return csv_text(CONTROL_HEADER, control_rows(groups))


def agreement_rows(table: Iterable[CohortAgreement]) -> list[list]:
    return [
        [
            item.cohort,
            item.agreement.n,
            item.agreement.observed,
            item.agreement.kappa,
            item.agreement.low,
            item.agreement.high,
            item.disagreements,
        ]
        for item in table
    ]


def agreement_csv(table: Iterable[CohortAgreement]) -> str:
    return csv_text(AGREEMENT_HEADER, agreement_rows(table))


# --- the outcome_rates command ---


def rates_json(rates: Iterable[CohortRate]) -> str:
    return json.dumps([rate.as_dict() for rate in rates], ensure_ascii=False, indent=1)


def rates_table(by: str, rates: Iterable[CohortRate], total: CohortRate) -> str:
    """The rates as a plain-text table, one line per cohort and the total under a rule."""
    header = [by, "cases", "reviewed", "positive", "rate", "95% interval", "median days"]
    cells = [
        [
            row.cohort,
            str(row.cases),
            str(row.reviewed),
            str(row.positive),
            percent(row.rate),
            interval(row.ci_low, row.ci_high),
            days(row.median_days),
        ]
        for row in [*rates, total]
    ]
    widths = [max(len(line[i]) for line in [header, *cells]) for i in range(len(header))]

    def line(values: list[str]) -> str:
        first = values[0].ljust(widths[0])
        rest = [value.rjust(width) for value, width in zip(values[1:], widths[1:], strict=True)]
        return "  ".join([first, *rest]).rstrip()

    rule = "  ".join("-" * width for width in widths)
    return "\n".join([line(header), rule, *(line(c) for c in cells[:-1]), rule, line(cells[-1])])
