"""Statistics for the supervisor analytics page: rates with intervals, follow-up time to
an outcome, and agreement between two coders. Pure functions, no database."""

import math
import statistics
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from statsmodels.duration.survfunc import SurvfuncRight
from statsmodels.stats.inter_rater import cohens_kappa as sm_cohens_kappa
from statsmodels.stats.proportion import confint_proportions_2indep, proportion_confint

# Kappa's large-sample variance is of order 1/n; anything this small is rounding around 0.
_DEGENERATE_VARIANCE = 1e-12


def _check_counts(positive: int, total: int) -> None:
    # statsmodels returns nonsense (a rate above 1, a nan bound) rather than raising.
    if total < 0 or not 0 <= positive <= total:
        raise ValueError(f"need 0 <= positive <= total, got {positive} of {total}")


def _finite(value: float) -> float | None:
    """Return value as a float, or None where statsmodels gave nan or an infinity."""
    value = float(value)
    return value if math.isfinite(value) else None


def rate(positive: int, total: int) -> float | None:
    """Return positive / total, or None when there is nothing to divide by."""
    _check_counts(positive, total)
    return positive / total if total else None


def wilson_interval(
    positive: int, total: int, alpha: float = 0.05
) -> tuple[float | None, float | None]:
    """Return the Wilson score interval (95% by default) for positive of total.

    Wilson rather than the normal approximation: it stays inside [0, 1] and is not
    zero-width at 0 of n or n of n, which are common on small caseloads.
    """
    _check_counts(positive, total)
    if total == 0:
        return None, None
    # statsmodels clips to [0, 1], so 0 of n gives exactly 0.0 and n of n exactly 1.0.
    low, high = proportion_confint(positive, total, alpha=alpha, method="wilson")
    return float(low), float(high)


@dataclass(frozen=True)
class Difference:
    estimate: float
    low: float
    high: float


def difference_interval(
    pos_a: int, n_a: int, pos_b: int, n_b: int, alpha: float = 0.05
) -> Difference | None:
    """Return rate a minus rate b with Newcombe's hybrid score interval, or None when
    either group is empty.

    Newcombe's interval combines the two Wilson intervals, so it keeps their good
    behaviour at 0 of n and n of n, where the Wald interval collapses.
    """
    _check_counts(pos_a, n_a)
    _check_counts(pos_b, n_b)
    if n_a == 0 or n_b == 0:
        return None
    low, high = confint_proportions_2indep(
        pos_a, n_a, pos_b, n_b, method="newcomb", compare="diff", alpha=alpha
    )
    return Difference(estimate=pos_a / n_a - pos_b / n_b, low=float(low), high=float(high))


@dataclass(frozen=True)
class SurvivalCurve:
    """Kaplan-Meier estimate, one point per distinct event time.

    survival[i] is the estimated share still without the event just after times[i];
    before times[0] it is 1.0. at_risk and events are the risk set and the number of
    events at each of those times.
    """

    times: list[float]
    survival: list[float]
    at_risk: list[int]
    events: list[int]
    median: float | None
    n: int


def kaplan_meier(durations: Sequence[float], observed: Sequence[bool]) -> SurvivalCurve:
    """Return the Kaplan-Meier curve for durations (days from the index date to the
    event, or to censoring where observed is False).

    A curve with no event (no input, or everything censored) has no points and no
    median: survival is 1.0 throughout.
    """
    fit = SurvfuncRight(np.asarray(durations, dtype=float), np.asarray(observed, dtype=float))
    times = [float(t) for t in fit.surv_times]
    survival = [float(s) for s in fit.surv_prob]
    return SurvivalCurve(
        times=times,
        survival=survival,
        at_risk=[int(r) for r in fit.n_risk],
        events=[int(e) for e in fit.n_events],
        median=_median_survival(times, survival),
        n=len(durations),
    )


def _median_survival(times: list[float], survival: list[float]) -> float | None:
    # Not SurvfuncRight.quantile(0.5): it follows SAS with a strict S(t) < 0.5, and
    # returns nan when the curve never gets there. The usual definition is the first
    # time S(t) <= 0.5, and a product of ratios that is exactly 1/2 can come out a hair
    # above 0.5 (e.g. 0.5000000000000001), hence isclose.
    for time, value in zip(times, survival, strict=True):
        if value < 0.5 or math.isclose(value, 0.5):
            return time
    return None


def number_at_risk(durations: Sequence[float], times: Sequence[float]) -> list[int]:
    """Return, for each of times, how many durations are still under follow-up (>= t).

    This is the "number at risk" row printed under a survival chart. Someone censored at
    t is still counted at t, as in the Kaplan-Meier risk set.
    """
    return [sum(1 for d in durations if d >= t) for t in times]


@dataclass(frozen=True)
class Agreement:
    n: int
    observed: float | None
    kappa: float | None
    low: float | None
    high: float | None


def cohens_kappa(pairs: Sequence[tuple[str, str]]) -> Agreement:
    """Return Cohen's kappa (with a 95% interval) for two coders' labels on the same items.

    Each pair is (coder A's label, coder B's label) for one item. Kappa is undefined when
    chance agreement is certain, which happens only when both coders used one and the same
    label throughout: observed agreement is then 1.0 and kappa None. The interval is the
    large-sample one of Fleiss, Cohen and Everitt, clipped to [-1, 1], and None where its
    variance is zero (perfect agreement, no agreement at all, a coder who used one label).
    """
    n = len(pairs)
    if n == 0:
        return Agreement(n=0, observed=None, kappa=None, low=None, high=None)
    observed = sum(1 for a, b in pairs if a == b) / n
    labels = sorted({label for pair in pairs for label in pair})
    if len(labels) == 1:
        # statsmodels would divide 0 by 0 here and warn; the answer is known.
        return Agreement(n=n, observed=observed, kappa=None, low=None, high=None)
    index = {label: i for i, label in enumerate(labels)}
    table = np.zeros((len(labels), len(labels)))
    for (a, b), count in Counter(pairs).items():
        table[index[a], index[b]] = count
    # A zero large-sample variance (handled below) makes statsmodels divide 0 by 0 for
    # its z statistic, which is not used here.
    with np.errstate(invalid="ignore", divide="ignore"):
        result = sm_cohens_kappa(table)
    kappa = _finite(result.kappa)
    # The variance is zero on degenerate tables (perfect agreement, no agreement at all, a
    # coder who used one label); rounding can make it a hair negative, and statsmodels then
    # gives a nan interval instead of a zero-width one. Either would claim certainty from a
    # handful of items, so there is no interval then.
    if kappa is None or not result.var_kappa > _DEGENERATE_VARIANCE:
        return Agreement(n=n, observed=observed, kappa=kappa, low=None, high=None)
    # The normal approximation runs past kappa's range on small samples (1.2 at n=4).
    return Agreement(
        n=n,
        observed=observed,
        kappa=kappa,
        low=max(float(result.kappa_low), -1.0),
        high=min(float(result.kappa_upp), 1.0),
    )


def median_or_none(values: Sequence[float]) -> float | None:
    """Return the median of values, or None when there are none."""
    return statistics.median(values) if values else None
