"""The analytics tables as files and text: exact rows of each CSV download from selector
results made here by hand, cohort names that would run as spreadsheet formulas, empty
input, and the outcome_rates command's text table and formatters. No database."""

import csv
import io
import json

import pytest

from cases.analytics import agreement as agreement_module
from cases.analytics import downloads, stats
from cases.analytics.paired import PairTable
from cases.analytics.selectors import (
    CohortAgreement,
    CohortRate,
    CohortSurvival,
    PairedGroup,
)

HOSTILE_NAMES = ["=HYPERLINK(1)", "+1+2", "-1", "@SUM(A1)", "\tTab", "\rReturn"]

# The keys issue 13 adds to every rate row for scripts (outcome_rates --format json).
CONTRACT_KEYS = (
    "checked",
    "concluded",
    "bound_low",
    "bound_high",
    "corrected",
    "corrected_ci_low",
    "corrected_ci_high",
    "small",
    "p_adjusted",
)


def rate(cohort: str = "2017", **values) -> CohortRate:
    figures = {
        "cases": 5,
        "reviewed": 4,
        "positive": 1,
        "rate": 0.25,
        "ci_low": 0.05,
        "ci_high": 0.7,
        "median_days": 120.0,
    }
    return CohortRate(cohort=cohort, **{**figures, **values})


def survival(cohort: str = "2017") -> CohortSurvival:
    members = [
        (1, 100, 80, 130, "event"),
        (2, 300, 300, 300, "event"),
        (3, 50, 20, 50, "censored"),
        (4, 400, 400, 400, "censored"),
        (5, None, None, None, "not followed"),
    ]
    durations, observed = [100, 300, 50, 400], [True, True, False, False]
    curve = stats.kaplan_meier(durations, observed)
    return CohortSurvival(
        cohort, curve, watched=4, unwatched=1, durations=durations, members=members
    )


def agreement(cohort: str = "2017") -> CohortAgreement:
    pairs = [(True, True)] * 8 + [(True, False)] * 2 + [(False, True)] * 3 + [(False, False)] * 20
    figures = agreement_module.kind_agreement("joint_venture", pairs, replicates=200)
    return CohortAgreement(cohort, figures, disagreements=figures.disagreements)


def parsed(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text)))


# ------------------------------------------------------------------------ formatters


@pytest.mark.parametrize(
    "share, text",
    [(None, "—"), (0.0, "0.0%"), (0.25, "25.0%"), (2 / 3, "66.7%"), (1.0, "100.0%")],
)
def test_a_share_is_a_percentage_with_one_decimal(share, text):
    assert downloads.percent(share) == text


def test_a_percentage_may_leave_its_sign_to_the_column_heading():
    assert downloads.percent(0.123, sign="") == "12.3"
    assert downloads.percent(None, sign="") == "—"


@pytest.mark.parametrize(
    "low, high, text",
    [(0.041, 0.302, "4.1–30.2%"), (0.0, 1.0, "0.0–100.0%"), (None, 0.5, "—"), (0.5, None, "—")],
)
def test_an_interval_is_two_percentages_and_one_sign(low, high, text):
    assert downloads.interval(low, high) == text


@pytest.mark.parametrize(
    "value, text", [(None, "—"), (0, "0"), (120.0, "120"), (297.5, "297.5"), (12.25, "12.2")]
)
def test_days_are_whole_unless_a_median_falls_between_two(value, text):
    assert downloads.days(value) == text


# --------------------------------------------------------------------------- CSV rows


def test_rates_rows_are_the_rate_fields_in_order():
    rows = downloads.rates_rows([rate(), rate("all", cases=9, rate=None, median_days=None)])

    # The first columns as they always were; the verification figures after them.
    assert [row[:8] for row in rows] == [
        ["2017", 5, 4, 1, 0.25, 0.05, 0.7, 120.0],
        ["all", 9, 4, 1, None, 0.05, 0.7, None],
    ]
    assert downloads.RATES_HEADER[:8] == [
        "cohort",
        "cases",
        "reviewed",
        "positive",
        "rate",
        "ci_low",
        "ci_high",
        "median_days",
    ]
    assert set(CONTRACT_KEYS) <= set(downloads.RATES_HEADER)
    assert all(len(row) == len(downloads.RATES_HEADER) for row in rows)


def test_rates_csv_for_scripts_writes_unrounded_figures_and_empty_cells_for_none():
    text = downloads.rates_csv([rate(rate=1 / 3, median_days=None)], for_scripts=True)
    header, row = list(csv.reader(io.StringIO(text)))

    assert header == downloads.RATES_HEADER
    assert row[:8] == ["2017", "5", "4", "1", "0.3333333333333333", "0.05", "0.7", ""]
    assert row[header.index("corrected")] == ""


def test_the_rates_download_shows_shares_as_rounded_percentages():
    """16 of 31 is 0.5161290322580645: 51.6 in a column named with %; a small p-value keeps
    three significant figures instead of rounding to 0."""
    text = downloads.rates_csv(
        [rate(rate=16 / 31, ci_low=0.3398, ci_high=0.6886, p_adjusted=0.0000123456, p_bh=0.5)]
    )
    header, row = parsed(text)
    cells = dict(zip(header, row, strict=True))

    assert header == downloads.spreadsheet_header(downloads.RATES_HEADER)
    assert "rate" not in header
    assert (cells["rate_%"], cells["ci_low_%"], cells["ci_high_%"]) == ("51.6", "34.0", "68.9")
    assert float(cells["p_adjusted"]) == pytest.approx(1.23e-05, rel=1e-12)
    assert cells["p_bh"] == "0.5"
    assert cells["corrected_%"] == ""  # undefined stays empty
    assert (cells["cases"], cells["reviewed"], cells["positive"]) == ("5", "4", "1")
    assert cells["median_days"] == "120.0"


def test_survival_rows_are_one_per_case_with_event_and_censoring_times():
    rows = downloads.survival_rows([survival("2017"), survival("2019")])

    assert rows[:5] == [
        ["2017", 1, 100, 80, 130, "event"],
        ["2017", 2, 300, 300, 300, "event"],
        ["2017", 3, 50, 20, 50, "censored"],
        ["2017", 4, 400, 400, 400, "censored"],
        ["2017", 5, None, None, None, "not followed"],
    ]
    assert [row[:2] for row in rows[5:]] == [["2019", n] for n in (1, 2, 3, 4, 5)]


def test_the_survival_rows_refit_the_cohorts_curve():
    """The file is enough to redraw the curve: its followed rows give back the estimate
    (censored at 50 days, then 2/3 after 100 and 2/3 * 1/2 after 300, by hand)."""
    item = survival()

    followed = [row for row in downloads.survival_rows([item]) if row[5] != "not followed"]
    refit = stats.kaplan_meier(
        [row[2] for row in followed], [row[5] == "event" for row in followed]
    )

    assert (refit.times, refit.survival) == (item.curve.times, item.curve.survival)
    assert refit.survival == pytest.approx([2 / 3, 1 / 3])


def test_the_survival_csv_leaves_the_days_of_a_case_not_followed_empty():
    rows = parsed(downloads.survival_csv([survival()]))

    assert rows[0] == downloads.SURVIVAL_HEADER
    assert rows[5] == ["2017", "5", "", "", "", "not followed"]


def test_control_rows_carry_the_pair_table_and_the_paired_figures():
    group = PairedGroup(
        "all",
        PairTable(2, 5, 1, 3),
        unreviewed=2,
        referred_unreviewed=1,
        control_unreviewed=1,
        left=1,
        referred_cases=13,
        control_cases=13,
        referred_checks=13,
        control_checks=26,
        p_value=0.21875,
        difference=(4 / 11, 0.02, 0.63),
        odds_ratio=(5.0, 0.6, 42.0),
    )

    rows = downloads.control_rows([group])

    assert rows == [
        ["all", 11, 2, 5, 1, 3, 7 / 11, 3 / 11, 0.21875, 4 / 11, 0.02, 0.63, 5.0, 0.6, 42.0]
        + [2, 1, 1, 1, 1.0, 2.0]
    ]
    assert len(rows[0]) == len(downloads.CONTROL_HEADER)


def test_the_control_download_rounds_rates_differences_p_values_and_ratios():
    group = PairedGroup(
        "all",
        PairTable(2, 5, 1, 3),
        referred_cases=3,
        control_cases=3,
        referred_checks=4,
        control_checks=5,
        p_value=0.21875,
        difference=(4 / 11, 0.0213, 0.6312),
        odds_ratio=(5.0, 0.60417, 42.1372),
    )

    header, row = parsed(downloads.control_csv([group]))
    cells = dict(zip(header, row, strict=True))

    assert (cells["referred_rate_%"], cells["control_rate_%"]) == ("63.6", "27.3")
    assert (cells["difference_pp"], cells["difference_low_pp"]) == ("36.4", "2.1")
    assert cells["difference_high_pp"] == "63.1"
    assert cells["mcnemar_exact_p"] == "0.219"
    assert (cells["odds_ratio_mh"], cells["odds_ratio_low"], cells["odds_ratio_high"]) == (
        "5.0",
        "0.604",
        "42.1",
    )
    assert (cells["referred_checks_per_case"], cells["control_checks_per_case"]) == (
        "1.33",
        "1.67",
    )


def test_the_agreement_download_rounds_shares_and_coefficients():
    item = agreement("2017")
    a = item.agreement

    header, row = parsed(downloads.agreement_csv([], [item]))
    cells = dict(zip(header, row, strict=True))

    assert cells["observed_agreement_%"] == "84.8"  # 28 of 33
    assert cells["positive_agreement_%"] == "76.2"  # 16 of 21
    assert float(cells["kappa"]) == round(a.kappa, 3)
    assert cells["pabak"] == "0.697"  # 2 * 28/33 - 1
    assert cells["prevalence_index"] == "-0.364"  # (8 - 20) / 33
    assert (cells["double_coded"], cells["bootstrap_seed"]) == ("33", "20131")


def test_a_group_without_pairs_has_empty_cells():
    rows = parsed(downloads.control_csv([PairedGroup("company", PairTable(0, 0, 0, 0))]))

    assert rows[1] == ["company", "0", "0", "0", "0", "0", *[""] * 9, "0", "0", "0", "0", "", ""]


def test_agreement_rows_carry_the_table_every_figure_its_interval_and_the_seed():
    item = agreement("2017")
    a, ci = item.agreement, item.agreement.intervals

    [row] = downloads.agreement_rows([], [item])

    cells = dict(zip(downloads.AGREEMENT_HEADER, row, strict=True))
    assert row[:7] == ["2017", "joint_venture", 33, 8, 2, 3, 20]
    assert cells["observed_agreement"] == pytest.approx(28 / 33)
    assert (cells["kappa"], cells["kappa_low"], cells["kappa_high"]) == (
        a.kappa,
        ci["kappa"].low,
        ci["kappa"].high,
    )
    assert cells["pabak"] == pytest.approx(2 * 28 / 33 - 1)
    assert cells["prevalence_index"] == pytest.approx((8 - 20) / 33)
    assert cells["bias_index"] == pytest.approx((2 - 3) / 33)
    assert cells["positive_agreement"] == pytest.approx(16 / 21)
    assert cells["negative_agreement_high"] == ci["negative_agreement"].high
    assert (cells["too_few"], cells["disagreements"]) == ("", 5)
    assert (cells["bootstrap_seed"], cells["replicates"]) == (20131, 200)


def test_agreement_rows_put_every_kind_of_all_cases_first():
    few = agreement_module.kind_agreement("any", [(True, True)] * 4, label="any outcome")

    rows = downloads.agreement_rows([few], [agreement("2017")])

    assert [row[:2] for row in rows] == [["all", "any"], ["2017", "joint_venture"]]
    cells = dict(zip(downloads.AGREEMENT_HEADER, rows[0], strict=True))
    assert cells["too_few"] == "too few to say (n < 10)"
    assert cells["kappa"] is cells["kappa_low"] is cells["bootstrap_seed"] is None
    assert cells["replicates"] is None


# ------------------------------------------------------------------ hostile and empty


@pytest.mark.parametrize("name", HOSTILE_NAMES)
def test_a_cohort_name_never_becomes_a_formula_in_any_download(name):
    comparison = PairedGroup(name, PairTable(1, 0, 0, 1))
    texts = [
        downloads.rates_csv([rate(name)]),
        downloads.survival_csv([survival(name)]),
        downloads.control_csv([comparison]),
        downloads.agreement_csv([], [agreement(name)]),
    ]

    for text in texts:
        cells = [row[0] for row in parsed(text)[1:]]
        assert cells and all(cell == "'" + name for cell in cells), text


def test_a_hostile_name_that_is_not_a_formula_is_written_verbatim():
    name = '<script>alert(1)</script>, "quoted" $5M'

    rows = parsed(downloads.rates_csv([rate(name)]))

    assert rows[1][0] == name


@pytest.mark.parametrize(
    "write, header",
    [
        (downloads.rates_csv, downloads.RATES_HEADER),
        (downloads.survival_csv, downloads.SURVIVAL_HEADER),
        (downloads.control_csv, downloads.CONTROL_HEADER),
        (downloads.agreement_csv, downloads.AGREEMENT_HEADER),
    ],
)
def test_no_rows_is_a_header_alone(write, header):
    assert write([]) == ",".join(downloads.spreadsheet_header(header)) + "\r\n"


@pytest.mark.parametrize(
    "kind, name",
    [
        ("rates", "outcome-rates-post-joint_venture.csv"),
        ("survival", "time-to-outcome-post-joint_venture.csv"),
        ("control", "control-pairs-post-joint_venture.csv"),
        ("agreement", "agreement-post-joint_venture.csv"),
    ],
)
def test_each_download_is_named_for_its_table_dimension_and_outcome(kind, name):
    assert downloads.file_name(kind, by="post", outcome="joint_venture") == name


# ---------------------------------------------------------- the outcome_rates command


def test_the_text_table_lines_up_and_ends_with_the_total():
    rows = [rate("2017"), rate("(none)", cases=1, reviewed=0, positive=0, rate=None, ci_low=None)]
    total = rate("all", cases=6, median_days=297.5)

    text = downloads.rates_table("year", rows, total)

    assert text.splitlines() == [
        "year    cases  reviewed  positive   rate  95% interval  median days",
        "------  -----  --------  --------  -----  ------------  -----------",
        "2017        5         4         1  25.0%     5.0–70.0%          120",
        "(none)      1         0         0      —             —          120",
        "------  -----  --------  --------  -----  ------------  -----------",
        "all         6         4         1  25.0%     5.0–70.0%        297.5",
    ]


def test_the_text_table_of_no_cohorts_still_has_the_total():
    empty = CohortRate("all", 0, 0, 0, None, None, None, None)

    lines = downloads.rates_table("team", [], empty).splitlines()

    assert lines[0].split()[0] == "team"
    assert lines[1] == lines[2]
    assert lines[-1].split() == ["all", "0", "0", "0", "—", "—", "—"]


def test_json_is_each_rate_as_its_fields_with_names_kept_as_typed():
    text = downloads.rates_json([rate("北京 =1")])

    assert "北京" in text
    (row,) = json.loads(text)
    assert {key: row[key] for key in list(row)[:8]} == {
        "cohort": "北京 =1",
        "cases": 5,
        "reviewed": 4,
        "positive": 1,
        "rate": 0.25,
        "ci_low": 0.05,
        "ci_high": 0.7,
        "median_days": 120.0,
    }
    assert set(CONTRACT_KEYS) <= set(row)
    assert downloads.rates_json([]) == "[]"
