"""Verification bounds, the corrected rate and the many-cohort tests, each against a
computation written apart from the module: inverse-probability weights over single
cases, Holm and Benjamini-Hochberg by hand, Pearson's chi-square by hand, the
Clopper-Pearson limit in closed form."""

import math

import numpy as np
import pytest
from statsmodels.stats.multitest import multipletests

from cases.analytics import estimates
from cases.analytics.estimates import Stratum


def test_the_bounds_count_the_unreviewed_negative_then_positive():
    # 100 cases, 40 reviewed, 10 positive.
    assert estimates.bounds(10, 40, 100) == (0.10, pytest.approx(0.70))
    assert estimates.waiting_bound(10, 5, 100) == pytest.approx(0.15)


def test_impossible_counts_are_refused():
    with pytest.raises(ValueError, match="positive <= reviewed <= cases"):
        estimates.bounds(5, 4, 10)


def _ipw_over_cases(strata: list[Stratum]) -> float:
    """Inverse-probability weighting written over individual cases: each reviewed case
    weighs 1 / (share reviewed in its stratum), the estimate is the weighted share positive."""
    weights, outcomes = [], []
    for s in strata:
        weight = s.cases / s.reviewed
        weights += [weight] * s.reviewed
        outcomes += [1] * s.positive + [0] * (s.reviewed - s.positive)
    return float(np.average(outcomes, weights=weights))


def test_begg_greenes_equals_inverse_probability_weighting_of_the_reviewed():
    # Cases with evidence are reviewed 71 % of the time, cases without 10 % (the issue's
    # demo figures, rounded): the rate over reviewed cases overstates the share positive.
    strata = [Stratum(cases=200, reviewed=142, positive=100), Stratum(300, 30, 3)]

    corrected = estimates.begg_greenes(strata)

    assert corrected == pytest.approx(_ipw_over_cases(strata))
    assert corrected == pytest.approx(200 / 500 * 100 / 142 + 300 / 500 * 3 / 30)
    assert corrected < 103 / 172  # below the rate over reviewed cases


def test_a_stratum_nobody_reviewed_leaves_no_corrected_estimate():
    assert estimates.begg_greenes([Stratum(10, 5, 2), Stratum(10, 0, 0)]) is None
    assert estimates.corrected_interval([Stratum(10, 5, 2), Stratum(10, 0, 0)]) == (None, None)


def test_the_bootstrap_interval_holds_the_estimate_and_is_reproducible_by_its_seed():
    strata = [Stratum(200, 142, 100), Stratum(300, 30, 3)]

    low, high = estimates.corrected_interval(strata)

    assert low < estimates.begg_greenes(strata) < high
    assert estimates.corrected_interval(strata) == (low, high)
    assert estimates.corrected_interval(strata, seed=1) != (low, high)


def test_holm_and_benjamini_hochberg_as_worked_by_hand():
    p = [0.01, 0.04, 0.03, None]
    # Holm: sorted 0.01 x 3, 0.03 x 2, 0.04 x 1, kept non-decreasing.
    assert estimates.adjust(p, "holm") == [
        pytest.approx(0.03),
        pytest.approx(0.06),
        pytest.approx(0.06),
        None,
    ]
    # BH: 0.01 x 3/1, 0.03 x 3/2, 0.04 x 3/3, kept non-increasing from the top.
    assert estimates.adjust(p, "fdr_bh") == [
        pytest.approx(0.03),
        pytest.approx(0.04),
        pytest.approx(0.04),
        None,
    ]


def test_holm_matches_statsmodels_with_ties_and_values_past_one():
    rng = np.random.default_rng(3)
    for size in (1, 2, 7, 40):
        p = rng.choice([0.001, 0.01, 0.2, 0.5, 0.9, *rng.random(size)], size=size)

        expected = multipletests(p, method="holm")[1]

        assert estimates.holm(p) == pytest.approx(expected)
        assert estimates.adjust(list(p), "holm") == pytest.approx(list(expected))


def test_homogeneity_is_pearsons_chi_square_as_worked_by_hand():
    # 10 of 20 against 5 of 20: expected 7.5 and 12.5 per row, chi-square 8/3 on 1 df.
    statistic = 2 * (2.5**2 / 7.5 + 2.5**2 / 12.5)
    by_hand = math.erfc(math.sqrt(statistic / 2))  # the chi-square survival on 1 df

    assert estimates.homogeneity_p_value([(10, 20), (5, 20)]) == pytest.approx(by_hand)
    assert estimates.homogeneity_p_value([(10, 20)]) is None
    assert estimates.homogeneity_p_value([(0, 20), (0, 5)]) is None


def test_a_cohort_against_the_rest():
    p = estimates.versus_rest_p_values([(10, 20), (5, 20), (0, 0)])

    assert p[2] is None
    # Two cohorts: each against the other is the same table, the same p.
    assert p[0] == pytest.approx(p[1])
    assert 0.05 < p[0] < 0.5


def test_the_interval_methods():
    # Clopper-Pearson's upper limit for 0 of n in closed form: 1 - (alpha / 2) ** (1 / n).
    assert estimates.interval(0, 10, "beta")[1] == pytest.approx(1 - 0.025 ** (1 / 10))
    wilson = estimates.interval(3, 10)
    jeffreys = estimates.interval(3, 10, "jeffreys")
    assert wilson[0] < 0.3 < wilson[1] and jeffreys[0] < 0.3 < jeffreys[1]
    assert estimates.interval(0, 0) == (None, None)
    with pytest.raises(ValueError, match="unknown interval method"):
        estimates.interval(1, 2, "wald")
