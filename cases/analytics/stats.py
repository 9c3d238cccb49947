"""Statistics for the supervisor analytics page: rates with intervals, follow-up time to
an outcome (agreement between coders is in agreement.py). Pure functions, no database."""

import math
import statistics
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from statsmodels.duration.survfunc import SurvfuncRight
from statsmodels.stats.proportion import confint_proportions_2indep, proportion_confint


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


def median_or_none(values: Sequence[float]) -> float | None:
    """Return the median of values, or None when there are none."""
    return statistics.median(values) if values else None
