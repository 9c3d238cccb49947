"""cases.analytics.stats against textbook formulas and published worked examples. No database."""

import math
from statistics import NormalDist

import pytest

from cases.analytics.stats import (
    Difference,
    difference_interval,
    kaplan_meier,
    median_or_none,
    number_at_risk,
    rate,
    wilson_interval,
)

Z95 = NormalDist().inv_cdf(0.975)  # 1.959963...


def textbook_wilson(positive: int, total: int, z: float = Z95) -> tuple[float, float]:
    """Wilson (1927) score interval in closed form."""
    p = positive / total
    denom = 1 + z**2 / total
    centre = (p + z**2 / (2 * total)) / denom
    half = z * math.sqrt(p * (1 - p) / total + z**2 / (4 * total**2)) / denom
    return centre - half, centre + half


def textbook_newcombe(
    pos_a: int, n_a: int, pos_b: int, n_b: int, z: float = Z95
) -> tuple[float, float]:
    """Newcombe (1998) method 10: the hybrid score interval built from two Wilson intervals."""
    p_a, p_b = pos_a / n_a, pos_b / n_b
    low_a, high_a = textbook_wilson(pos_a, n_a, z)
    low_b, high_b = textbook_wilson(pos_b, n_b, z)
    d = p_a - p_b
    return (
        d - math.sqrt((p_a - low_a) ** 2 + (high_b - p_b) ** 2),
        d + math.sqrt((high_a - p_a) ** 2 + (p_b - low_b) ** 2),
    )


# ------------------------------------------------------------------------------ rate


def test_rate_is_none_without_cases():
    assert rate(0, 0) is None


def test_rate_divides():
    assert rate(3, 4) == 0.75
    assert rate(0, 7) == 0.0


@pytest.mark.parametrize(("positive", "total"), [(5, 4), (-1, 4), (0, -1)])
def test_rate_rejects_impossible_counts(positive, total):
    with pytest.raises(ValueError):
        rate(positive, total)


# ------------------------------------------------------------------- wilson_interval


def test_wilson_has_no_interval_without_cases():
    assert wilson_interval(0, 0) == (None, None)


def test_wilson_zero_of_n_starts_at_zero():
    low, high = wilson_interval(0, 10)
    assert low == 0.0
    # For 0 of n the Wilson upper bound reduces to z^2 / (n + z^2).
    assert high == pytest.approx(Z95**2 / (10 + Z95**2), rel=1e-9)
    assert high == pytest.approx(0.2775, abs=1e-4)


def test_wilson_n_of_n_ends_at_one():
    low, high = wilson_interval(10, 10)
    assert high == 1.0
    assert low == pytest.approx(10 / (10 + Z95**2), rel=1e-9)


def test_wilson_one_of_one():
    low, high = wilson_interval(1, 1)
    assert high == 1.0
    assert low == pytest.approx(1 / (1 + Z95**2), rel=1e-9)
    assert low == pytest.approx(0.2065, abs=1e-4)


@pytest.mark.parametrize(("positive", "total"), [(15, 30), (1, 20), (7, 9), (123, 456)])
def test_wilson_matches_closed_form(positive, total):
    assert wilson_interval(positive, total) == pytest.approx(
        textbook_wilson(positive, total), rel=1e-6
    )


def test_wilson_half_of_thirty_is_symmetric_around_half():
    low, high = wilson_interval(15, 30)
    assert low == pytest.approx(0.3315, abs=1e-4)
    assert high == pytest.approx(0.6685, abs=1e-4)


def test_wilson_alpha_sets_the_confidence_level():
    z90 = NormalDist().inv_cdf(0.95)
    assert wilson_interval(15, 30, alpha=0.10) == pytest.approx(
        textbook_wilson(15, 30, z=z90), rel=1e-6
    )
    low90, high90 = wilson_interval(15, 30, alpha=0.10)
    low95, high95 = wilson_interval(15, 30)
    assert low95 < low90 < high90 < high95


@pytest.mark.parametrize(("positive", "total"), [(11, 10), (-1, 10)])
def test_wilson_and_difference_reject_impossible_counts(positive, total):
    with pytest.raises(ValueError):
        wilson_interval(positive, total)
    with pytest.raises(ValueError):
        difference_interval(positive, total, 1, 10)
    with pytest.raises(ValueError):
        difference_interval(1, 10, positive, total)


def test_wilson_returns_plain_floats():
    low, high = wilson_interval(3, 8)
    assert type(low) is float
    assert type(high) is float


# --------------------------------------------------------------- difference_interval


def test_difference_matches_newcombe_method_10():
    result = difference_interval(15, 30, 5, 30)
    assert result.estimate == pytest.approx(1 / 3)
    assert (result.low, result.high) == pytest.approx(textbook_newcombe(15, 30, 5, 30), rel=1e-6)
    assert result.low == pytest.approx(0.0947, abs=1e-4)
    assert result.high == pytest.approx(0.5259, abs=1e-4)


def test_difference_is_a_minus_b_with_unequal_groups():
    # Unequal counts and sizes, so swapping a count with a size, or a with b, shows.
    result = difference_interval(3, 40, 12, 25)
    assert result.estimate == pytest.approx(3 / 40 - 12 / 25)
    assert (result.low, result.high) == pytest.approx(textbook_newcombe(3, 40, 12, 25), rel=1e-6)
    assert result.high < 0


def test_difference_swapping_groups_mirrors_the_interval():
    ab = difference_interval(15, 30, 5, 30)
    ba = difference_interval(5, 30, 15, 30)
    assert ba.estimate == pytest.approx(-ab.estimate)
    assert ba.low == pytest.approx(-ab.high)
    assert ba.high == pytest.approx(-ab.low)


@pytest.mark.parametrize(
    ("pos_a", "n_a", "pos_b", "n_b"),
    [
        (0, 10, 0, 10),
        (10, 10, 0, 10),
        (0, 10, 10, 10),
        (10, 10, 10, 10),
        (1, 1, 0, 1),
        (0, 5, 7, 7),
    ],
)
def test_difference_edges_have_finite_bounds_inside_minus_one_one(pos_a, n_a, pos_b, n_b):
    result = difference_interval(pos_a, n_a, pos_b, n_b)
    assert -1.0 <= result.low <= result.estimate <= result.high <= 1.0
    assert all(math.isfinite(v) for v in (result.estimate, result.low, result.high))
    assert (result.low, result.high) == pytest.approx(
        textbook_newcombe(pos_a, n_a, pos_b, n_b), rel=1e-6, abs=1e-12
    )


def test_difference_all_versus_none_reaches_one():
    result = difference_interval(10, 10, 0, 10)
    assert result == Difference(estimate=1.0, low=pytest.approx(0.6075, abs=1e-4), high=1.0)


def test_difference_alpha_sets_the_confidence_level():
    result = difference_interval(15, 30, 5, 30, alpha=0.10)
    z90 = NormalDist().inv_cdf(0.95)
    assert (result.low, result.high) == pytest.approx(
        textbook_newcombe(15, 30, 5, 30, z=z90), rel=1e-6
    )


@pytest.mark.parametrize(("n_a", "n_b"), [(0, 10), (10, 0), (0, 0)])
def test_difference_is_none_when_a_group_is_empty(n_a, n_b):
    assert difference_interval(0, n_a, 0, n_b) is None


# ---------------------------------------------------------------------- kaplan_meier

# Freireich et al. (1963), 6-MP arm of the leukaemia remission trial, as tabulated by
# Gehan (1965) and in Kleinbaum & Klein, "Survival Analysis", chapter 2.
SIX_MP = [
    (6, True), (6, True), (6, True), (6, False), (7, True), (9, False), (10, True),
    (10, False), (11, False), (13, True), (16, True), (17, False), (19, False), (20, False),
    (22, True), (23, True), (25, False), (32, False), (32, False), (34, False), (35, False),
]  # fmt: skip
SIX_MP_DURATIONS = [t for t, _ in SIX_MP]
SIX_MP_OBSERVED = [e for _, e in SIX_MP]


def test_kaplan_meier_six_mp_textbook_values():
    curve = kaplan_meier(SIX_MP_DURATIONS, SIX_MP_OBSERVED)
    assert curve.n == 21
    assert curve.times == [6, 7, 10, 13, 16, 22, 23]
    assert [round(s, 3) for s in curve.survival] == [
        0.857, 0.807, 0.753, 0.690, 0.627, 0.538, 0.448
    ]  # fmt: skip
    assert curve.at_risk == [21, 17, 15, 12, 11, 7, 6]
    assert curve.events == [3, 1, 1, 1, 1, 1, 1]
    assert curve.median == 23


def test_kaplan_meier_six_mp_matches_product_limit():
    curve = kaplan_meier(SIX_MP_DURATIONS, SIX_MP_OBSERVED)
    s = 1.0
    expected = []
    for t in sorted({t for t, e in SIX_MP if e}):
        risk = sum(1 for d, _ in SIX_MP if d >= t)
        deaths = sum(1 for d, e in SIX_MP if d == t and e)
        s *= 1 - deaths / risk
        expected.append(s)
    assert curve.survival == pytest.approx(expected, rel=1e-12)


def test_kaplan_meier_censored_case_leaves_the_risk_set():
    # The case censored at 3 is not at risk at 5, so the step at 5 is 1/2, not 1/3.
    curve = kaplan_meier([2, 3, 5, 7], [True, False, True, True])
    assert curve.times == [2, 5, 7]
    assert curve.at_risk == [4, 2, 1]
    assert curve.survival == pytest.approx([3 / 4, 3 / 8, 0.0])
    assert curve.median == 5


def test_kaplan_meier_case_censored_at_an_event_time_is_still_at_risk_then():
    curve = kaplan_meier([4, 4, 9], [True, False, True])
    assert curve.at_risk == [3, 1]
    assert curve.survival == pytest.approx([2 / 3, 0.0])


def test_kaplan_meier_median_is_first_time_survival_reaches_half():
    # S(2) = 3/4 * 2/3, which floating point makes 0.5000000000000001; the median is
    # still 2 (statsmodels' own quantile(0.5) would say 3).
    curve = kaplan_meier([1, 2, 3, 4], [True, True, True, True])
    assert curve.survival[1] == pytest.approx(0.5)
    assert curve.median == 2


def test_kaplan_meier_median_is_none_when_survival_stays_above_half():
    curve = kaplan_meier([3, 5, 8], [True, False, False])
    assert curve.survival == pytest.approx([2 / 3])
    assert curve.median is None


def test_kaplan_meier_all_censored_stays_at_one():
    curve = kaplan_meier([3, 5, 8], [False, False, False])
    assert curve.n == 3
    assert curve.times == []
    assert all(s >= 1.0 for s in curve.survival)
    assert curve.at_risk == []
    assert curve.events == []
    assert curve.median is None


def test_kaplan_meier_without_cases():
    curve = kaplan_meier([], [])
    assert curve.n == 0
    assert curve.times == curve.survival == curve.at_risk == curve.events == []
    assert curve.median is None


def test_kaplan_meier_takes_fractional_days():
    curve = kaplan_meier([0.5, 1.5, 2.25], [True, False, True])
    assert curve.times == [0.5, 2.25]
    assert curve.survival == pytest.approx([2 / 3, 0.0])


def test_kaplan_meier_returns_plain_python_values():
    curve = kaplan_meier(SIX_MP_DURATIONS, SIX_MP_OBSERVED)
    assert all(type(t) is float for t in curve.times)
    assert all(type(s) is float for s in curve.survival)
    assert all(type(r) is int for r in curve.at_risk)
    assert all(type(e) is int for e in curve.events)


def test_kaplan_meier_rejects_mismatched_inputs():
    with pytest.raises(ValueError):
        kaplan_meier([1, 2, 3], [True, False])


# -------------------------------------------------------------------- number_at_risk


def test_number_at_risk_counts_durations_not_yet_over():
    assert number_at_risk(SIX_MP_DURATIONS, [0, 10, 20, 30, 40]) == [21, 15, 8, 4, 0]


def test_number_at_risk_agrees_with_the_curve():
    curve = kaplan_meier(SIX_MP_DURATIONS, SIX_MP_OBSERVED)
    assert number_at_risk(SIX_MP_DURATIONS, curve.times) == curve.at_risk


def test_number_at_risk_edges():
    assert number_at_risk([], [0, 5]) == [0, 0]
    assert number_at_risk([1, 2], []) == []
    assert number_at_risk([5, 5], [5, 5.0001]) == [2, 0]


# -------------------------------------------------------------------- median_or_none


def test_median_or_none_without_values():
    assert median_or_none([]) is None


@pytest.mark.parametrize(
    ("values", "median"), [([3], 3), ([5, 1, 3], 3), ([1, 2, 3, 4], 2.5), ([2.5, 0.5], 1.5)]
)
def test_median_or_none(values, median):
    assert median_or_none(values) == median
