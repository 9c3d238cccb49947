"""The analytics tables as files and text: the CSV downloads of the analytics page and the
outcome_rates command's output, each a pure function of selector results.

The page's CSV downloads are opened in spreadsheets: a share of 1 is a percentage with
one decimal in a column named with "_%" (a difference of shares in percentage points,
"_pp"), p-values and ratios keep three significant figures, coefficients three
decimals (SPREADSHEET). The outcome_rates command's CSV is read by scripts and keeps
every figure unrounded, shares as fractions of 1, under RATES_HEADER. The text table and
the page show figures through the one set of formatters below.
"""

import json
from collections.abc import Iterable

from cases.analytics.agreement import Interval, KindAgreement
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
SURVIVAL_HEADER = ["cohort", "case_id", "days", "days_earliest", "days_latest", "status"]
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
# Agreement: the 2x2 table (a both positive, b first only, c second only, d neither),
# then each figure with its bootstrap interval; a row under agreement.MIN_PAIRS pairs has
# the table and the reason in too_few, and no figures.
AGREEMENT_HEADER = [
    "cohort",
    "outcome",
    "double_coded",
    "both_positive",
    "first_only",
    "second_only",
    "both_negative",
    "observed_agreement",
    "kappa",
    "kappa_low",
    "kappa_high",
    "pabak",
    "pabak_low",
    "pabak_high",
    "prevalence_index",
    "bias_index",
    "positive_agreement",
    "positive_agreement_low",
    "positive_agreement_high",
    "negative_agreement",
    "negative_agreement_low",
    "negative_agreement_high",
    "too_few",
    "disagreements",
    "bootstrap_seed",
    "replicates",
]


# --- rounding for spreadsheets ---


def _share(value: float) -> float:
    return round(value * 100, 1)


def _significant(value: float) -> float:
    # A p-value of 0.00001234 must not round to 0: three significant figures, not places.
    return float(f"{value:.3g}")


def _coefficient(value: float) -> float:
    return round(value, 3)


def _mean(value: float) -> float:
    return round(value, 2)


# Each figure that is not a count: its column's suffix in a download and its rounding.
_SHARE, _POINTS = ("_%", _share), ("_pp", _share)
SPREADSHEET = {
    **dict.fromkeys(
        [
            "rate",
            "ci_low",
            "ci_high",
            "bound_low",
            "bound_high",
            "corrected",
            "corrected_ci_low",
            "corrected_ci_high",
            "waiting_bound",
            "rate_unknown_after",
            "referred_rate",
            "control_rate",
            "observed_agreement",
            "positive_agreement",
            "positive_agreement_low",
            "positive_agreement_high",
            "negative_agreement",
            "negative_agreement_low",
            "negative_agreement_high",
        ],
        _SHARE,
    ),
    **dict.fromkeys(["difference", "difference_low", "difference_high"], _POINTS),
    **dict.fromkeys(
        [
            "p_adjusted",
            "p_bh",
            "mcnemar_exact_p",
            "odds_ratio_mh",
            "odds_ratio_low",
            "odds_ratio_high",
        ],
        ("", _significant),
    ),
    **dict.fromkeys(
        [
            "kappa",
            "kappa_low",
            "kappa_high",
            "pabak",
            "pabak_low",
            "pabak_high",
            "prevalence_index",
            "bias_index",
        ],
        ("", _coefficient),
    ),
    **dict.fromkeys(["referred_checks_per_case", "control_checks_per_case"], ("", _mean)),
}


def spreadsheet_header(header: Iterable[str]) -> list[str]:
    """A table's header as its download has it: each rounded share named with "_%"."""
    return [name + SPREADSHEET.get(name, ("",))[0] for name in header]


def spreadsheet_rows(header: list[str], rows: Iterable[Iterable]) -> list[list]:
    """The rows with each figure rounded as SPREADSHEET says; counts, words and empty
    cells as they are."""
    rounders = [SPREADSHEET[name][1] if name in SPREADSHEET else None for name in header]
    return [
        [
            value if rounder is None or value is None else rounder(value)
            for rounder, value in zip(rounders, row, strict=True)
        ]
        for row in rows
    ]


def spreadsheet_csv(header: list[str], rows: Iterable[Iterable]) -> str:
    """A table as a download's CSV text: rounded, under the download's header."""
    return csv_text(spreadsheet_header(header), spreadsheet_rows(header, rows))


# --- the tables ---


def file_name(kind: str, *, by: str, outcome: str) -> str:
    return FILE_NAMES[kind].format(by=by, outcome=outcome)


def rates_rows(rates: Iterable[CohortRate]) -> list[list]:
    return [[getattr(rate, name) for name in RATES_HEADER] for rate in rates]


def rates_csv(rates: Iterable[CohortRate], *, for_scripts: bool = False) -> str:
    """The rates as the page's download (rounded) or, `for_scripts`, as the outcome_rates
    command writes them: unrounded under RATES_HEADER, a contract for scripts."""
    if for_scripts:
        return csv_text(RATES_HEADER, rates_rows(rates))
    return spreadsheet_csv(RATES_HEADER, rates_rows(rates))


def survival_rows(curves: Iterable[CohortSurvival]) -> list[list]:
    """One row per cohort and case of its population: the days to its first positive
    (status "event") or to the end of its follow-up ("censored"), from the start of the
    index period, with the shortest and longest its coarse dates allow; no days for a
    case "not followed". Enough to refit the curve, or to fit another model."""
    return [
        [item.cohort, case_id, days, earliest, latest, status]
        for item in curves
        for case_id, days, earliest, latest, status in item.members
    ]


def survival_csv(curves: Iterable[CohortSurvival]) -> str:
    return spreadsheet_csv(SURVIVAL_HEADER, survival_rows(curves))


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
    return spreadsheet_csv(CONTROL_HEADER, control_rows(groups))


def _with_interval(item: KindAgreement, name: str) -> list:
    ci = item.intervals.get(name, Interval(None, None))
    return [getattr(item, name), ci.low, ci.high]


def _agreement_row(cohort: str, item: KindAgreement) -> list:
    t = item.table
    return [
        cohort,
        item.kind,
        t.n,
        t.a,
        t.b,
        t.c,
        t.d,
        item.observed,
        *_with_interval(item, "kappa"),
        *_with_interval(item, "pabak"),
        item.prevalence_index,
        item.bias_index,
        *_with_interval(item, "positive_agreement"),
        *_with_interval(item, "negative_agreement"),
        item.too_few,
        item.disagreements,
        item.seed,
        item.replicates or None,
    ]


def agreement_rows(
    kinds: Iterable[KindAgreement], cohorts: Iterable[CohortAgreement] = ()
) -> list[list]:
    """Every kind over all double-coded cases (cohort "all"), then the chosen outcome per
    cohort."""
    return [_agreement_row("all", item) for item in kinds] + [
        _agreement_row(item.cohort, item.agreement) for item in cohorts
    ]


def agreement_csv(kinds: Iterable[KindAgreement], cohorts: Iterable[CohortAgreement] = ()) -> str:
    return spreadsheet_csv(AGREEMENT_HEADER, agreement_rows(kinds, cohorts))


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


# --- what a download carries beside its rows (issue 13, item 9) ---

# Readers skip these lines: pandas.read_csv(comment="#", encoding="utf-8-sig") and R's
# read.csv(comment.char="#") both do, and a spreadsheet shows them as a note above the
# header. A download's BOM (exports.BOM) comes before the first of them.
COMMENT = "# "


def _one_line(value: object) -> str:
    # A filter is typed by a user: a line break in it must not end the comment block.
    return " ".join(str(value).split())


def metadata_lines(metadata: dict) -> list[str]:
    """The metadata as comment lines: title, extraction time, code version, one line per
    filter and per definition."""
    lines = [metadata["title"]] if metadata.get("title") else []
    lines += [
        f"extracted_at: {metadata['extracted_at']}",
        f"code_version: {metadata['code_version']}",
    ]
    lines += [f"filter {name}: {value}" for name, value in metadata["filters"].items()]
    lines += [f"definition {term}: {text}" for term, text in metadata["definitions"].items()]
    return [COMMENT + _one_line(line) for line in lines]


def csv_with_metadata(text: str, metadata: dict) -> str:
    """A CSV table with its metadata as a leading block of comment lines, then the header."""
    return "".join(line + "\r\n" for line in metadata_lines(metadata)) + text


def json_with_metadata(data: object, metadata: dict) -> str:
    """A JSON document: the metadata object beside the data."""
    return json.dumps({"metadata": metadata, "data": data}, ensure_ascii=False, indent=1)
