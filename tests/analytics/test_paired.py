"""Paired statistics against scipy, statsmodels' conditional logit and Newcombe (1998)."""

import numpy as np
import pytest
from scipy.stats import binomtest
from statsmodels.discrete.conditional_models import ConditionalLogit

from cases.analytics.paired import (
    PairTable,
    mantel_haenszel_pairs,
    mcnemar_exact_p,
    paired_difference,
)


def test_newcombe_1998_worked_example_method_10():
    # Newcombe (1998), Stat Med 17:2635, example a=36 b=12 c=2 d=0: method 10 limits
    # +0.0569 to +0.3404 around the difference +0.2.
    theta, low, high = paired_difference(PairTable(36, 12, 2, 0))
    assert theta == pytest.approx(0.2)
    assert low == pytest.approx(0.0569, abs=5e-5)
    assert high == pytest.approx(0.3404, abs=5e-5)


def test_paired_difference_of_the_issue_table():
    # The 42 demo pairs of the issue, recomputed there independently: +21.4 [3.5, 37.5].
    theta, low, high = paired_difference(PairTable(7, 12, 3, 20))
    assert (round(theta * 100, 1), round(low * 100, 1), round(high * 100, 1)) == (21.4, 3.5, 37.5)


def test_mcnemar_exact_is_the_binomial_test_of_discordant_pairs():
    p = mcnemar_exact_p(PairTable(7, 12, 3, 20))
    assert p == pytest.approx(binomtest(3, 15, 0.5).pvalue)
    assert round(p, 3) == 0.035


def test_no_pairs_gives_no_figures():
    assert mcnemar_exact_p(PairTable(0, 0, 0, 0)) is None
    assert paired_difference(PairTable(0, 0, 0, 0)) is None
    assert mantel_haenszel_pairs(PairTable(3, 2, 0, 1)) is None


def test_mantel_haenszel_matches_conditional_logistic_regression():
    table = PairTable(7, 12, 3, 20)
    estimate, low, high = mantel_haenszel_pairs(table)
    assert estimate == pytest.approx(12 / 3)
    # Independent: conditional logit stratified by pair, referred = 1.
    outcome, exposure, groups = [], [], []
    pattern = {"both": (1, 1), "referred_only": (1, 0), "control_only": (0, 1), "neither": (0, 0)}
    pair = 0
    for name, (ref, ctl) in pattern.items():
        for _ in range(getattr(table, name)):
            outcome += [ref, ctl]
            exposure += [1, 0]
            groups += [pair, pair]
            pair += 1
    fit = ConditionalLogit(
        np.array(outcome), np.array(exposure, dtype=float)[:, None], groups=np.array(groups)
    ).fit(disp=False)  # concordant pairs carry no information and are dropped
    assert np.exp(fit.params[0]) == pytest.approx(estimate, rel=1e-4)
    assert low < estimate < high
