"""Kaplan-Meier summaries checked against lifelines, an independent implementation, on
its bundled Walton data set (lifelines.datasets.load_waltons: 163 fruit flies, days to
death, the "miR-137" and "control" groups)."""

import math

import pytest
from lifelines import KaplanMeierFitter
from lifelines.datasets import load_waltons
from lifelines.utils import median_survival_times

from cases.analytics import survival_stats


@pytest.fixture(scope="module")
def waltons():
    data = load_waltons()
    return [float(t) for t in data["T"]], [bool(e) for e in data["E"]]


@pytest.fixture(scope="module")
def lifelines_fit(waltons):
    durations, observed = waltons
    return KaplanMeierFitter().fit(durations, observed, alpha=0.05)


def test_the_band_matches_lifelines_at_every_event_time(waltons, lifelines_fit):
    band = survival_stats.km_band(*waltons)
    ci = lifelines_fit.confidence_interval_survival_function_
    for time, value, low, high in zip(band.times, band.survival, band.low, band.high, strict=True):
        assert value == pytest.approx(lifelines_fit.survival_function_at_times(time).iloc[0])
        if time > 0 and 0 < value < 1:
            assert low == pytest.approx(ci.loc[time].iloc[0], abs=1e-6)
            assert high == pytest.approx(ci.loc[time].iloc[1], abs=1e-6)


def test_the_median_and_its_interval_match_lifelines(waltons, lifelines_fit):
    median = survival_stats.km_median(*waltons)
    low, high = median_survival_times(lifelines_fit.confidence_interval_).iloc[0]

    assert median.estimate == pytest.approx(lifelines_fit.median_survival_time_)
    assert (median.low, median.high) == (pytest.approx(low), pytest.approx(high))


def test_cumulative_incidence_is_one_minus_survival_and_stops_past_follow_up():
    # Every case followed at least three years, two events in the first year.
    durations = [100.0, 200.0, 1200.0, 1300.0, 1500.0]
    observed = [True, True, False, False, False]
    fit = KaplanMeierFitter().fit(durations, observed)

    one, two, five = survival_stats.cumulative_incidence(durations, observed)

    assert one.estimate == pytest.approx(1 - fit.survival_function_at_times(365.25).iloc[0])
    assert two.estimate == pytest.approx(0.4)
    assert one.low <= one.estimate <= one.high
    # Nobody is followed five years: no estimate, rather than the last step carried on.
    assert five.estimate is None


def test_a_curve_that_never_reaches_half_has_no_median():
    median = survival_stats.km_median([10.0, 20.0, 30.0, 40.0], [True, False, False, False])

    assert median.estimate is None
    assert not (median.high is not None and math.isnan(median.high))


def test_incidence_bounds_bracket_lifelines_interval_censored_estimate():
    """lifelines.datasets.load_diabetes: 731 times to diabetic nephronophthisis known only
        to an interval [left, right], none censored. Without censoring any dating of the
        intervals, the Turnbull estimate lifelines fits among them, has an incidence between
        the all-at-left and the all-at-right ones. Its whole-numbered times are scaled so that
    10.3 make a year: the horizons fall between them, clear of how lifelines labels the
    step at a time where mass sits."""
    from lifelines.datasets import load_diabetes

    data = load_diabetes()
    scale = survival_stats.DAYS_PER_YEAR / 10.3
    left = [float(v) * scale for v in data["left"]]
    right = [float(v) * scale for v in data["right"]]
    years = (1, 2, 3, 4)
    bounds = survival_stats.incidence_bounds(left, right, [True] * len(left), years=years)
    fit = KaplanMeierFitter().fit_interval_censoring(left, right)
    steps = fit.survival_function_
    for item in bounds:
        t = item.years * survival_stats.DAYS_PER_YEAR
        row = steps[steps.index <= t].iloc[-1]
        for survival in (row["NPMLE_estimate_upper"], row["NPMLE_estimate_lower"]):
            assert item.latest - 1e-4 <= 1 - survival <= item.earliest + 1e-4  # EM tolerance
        # uncensored, each dating's incidence is the share of its times by t
        assert item.earliest == pytest.approx(sum(v <= t for v in left) / len(left))
        assert item.latest == pytest.approx(sum(v <= t for v in right) / len(right))


def test_incidence_bounds_refuse_an_interval_that_ends_before_it_starts():
    with pytest.raises(ValueError, match="earliest duration is after its latest"):
        survival_stats.incidence_bounds([10.0], [5.0], [True])


def test_incidence_bounds_report_their_range_in_order():
    """By hand, at 1 year: dated earliest, the second case is censored at 200 days, before
    the event at 250, which then has 2 at risk (1/2); dated latest it is censored at 300,
    after it, with 3 at risk (1/3). low and high give the range whichever dating is
    larger (censoring among the events decides which)."""
    earliest, latest = [250.0, 200.0, 900.0], [250.0, 300.0, 900.0]
    observed = [True, False, False]

    [one] = survival_stats.incidence_bounds(earliest, latest, observed, years=(1,))

    assert (one.earliest, one.latest) == (pytest.approx(1 / 2), pytest.approx(1 / 3))
    assert (one.low, one.high) == (pytest.approx(1 / 3), pytest.approx(1 / 2))
