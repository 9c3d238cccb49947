"""Kaplan-Meier summaries a reviewer asks for: cumulative incidence at fixed times with
its interval, and the median with its interval. Pure functions, no database.

Intervals follow Kalbfleisch and Prentice's log(-log) transform of Greenwood's variance
(the "exponential Greenwood" interval lifelines and R's survival package draw): it stays
inside [0, 1] and is not symmetric near 0 or 1, where the plain Greenwood interval fails.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from scipy.stats import norm

DAYS_PER_YEAR = 365.25
HORIZONS_YEARS = (1, 2, 5)


@dataclass(frozen=True)
class Band:
    """The curve as steps: survival[i] holds from times[i] until times[i + 1]."""

    times: list[float]  # 0.0, then each distinct event time
    survival: list[float]
    low: list[float]  # lower bound of survival
    high: list[float]  # upper bound of survival
    at_risk: list[int]


@dataclass(frozen=True)
class Incidence:
    years: int
    estimate: float | None  # 1 - S(t); None once no case is followed that long
    low: float | None
    high: float | None
    at_risk: int  # cases still followed, event-free, at that time


@dataclass(frozen=True)
class IncidenceBounds:
    """Cumulative incidence with every date placed as early and as late as it allows."""

    years: int
    earliest: float | None  # events at their earliest, censoring from the index period end
    latest: float | None  # events at their latest, censoring from the index period start

    @property
    def low(self) -> float | None:
        """The smaller of the two: with censoring among the events the earliest dating
        need not give the larger incidence."""
        if self.earliest is None or self.latest is None:
            return None
        return min(self.earliest, self.latest)

    @property
    def high(self) -> float | None:
        if self.earliest is None or self.latest is None:
            return None
        return max(self.earliest, self.latest)


@dataclass(frozen=True)
class Median:
    estimate: float | None  # days; None: not reached
    low: float | None  # None: not reached by the lower band either
    high: float | None


def km_band(durations: Sequence[float], observed: Sequence[bool], *, alpha: float = 0.05) -> Band:
    """Kaplan-Meier estimate with its pointwise (1 - alpha) log(-log) interval."""
    if len(durations) != len(observed):
        raise ValueError("durations and observed differ in length")
    if any(d < 0 or math.isnan(d) for d in durations):
        raise ValueError("durations must be non-negative numbers")
    z = norm.ppf(1 - alpha / 2)
    pairs = sorted(zip(durations, observed, strict=True))
    times, survival, low, high, at_risk = [0.0], [1.0], [1.0], [1.0], [len(pairs)]
    n, s, greenwood, i = len(pairs), 1.0, 0.0, 0
    while i < len(pairs):
        t = pairs[i][0]
        deaths = leaving = 0
        while i < len(pairs) and pairs[i][0] == t:
            deaths += bool(pairs[i][1])
            leaving += 1
            i += 1
        if deaths:
            s *= 1 - deaths / n
            if n > deaths:
                greenwood += deaths / (n * (n - deaths))
            times.append(float(t))
            survival.append(s)
            at_risk.append(n)
            if 0 < s < 1:
                spread = z * math.sqrt(greenwood) / abs(math.log(s))
                centre = math.log(-math.log(s))
                low.append(math.exp(-math.exp(centre + spread)))
                high.append(math.exp(-math.exp(centre - spread)))
            else:  # S = 0 (everyone had the event): the transform is undefined
                low.append(s)
                high.append(s)
        n -= leaving
    return Band(times, survival, low, high, at_risk)


def _step(band: Band, values: list[float], t: float) -> float:
    value = values[0]
    for time, v in zip(band.times, values, strict=True):
        if time > t:
            break
        value = v
    return value


def cumulative_incidence(
    durations: Sequence[float],
    observed: Sequence[bool],
    *,
    years: Sequence[int] = HORIZONS_YEARS,
    alpha: float = 0.05,
) -> list[Incidence]:
    """1 - S(t) at each horizon with its interval; no estimate past the longest follow-up
    (the curve says nothing there, and carrying its last step forward would pretend so)."""
    band = km_band(durations, observed, alpha=alpha)
    longest = max(durations, default=0.0)
    result = []
    for year in years:
        t = year * DAYS_PER_YEAR
        at_risk = sum(1 for d in durations if d >= t)
        if t > longest:
            result.append(Incidence(year, None, None, None, at_risk))
            continue
        result.append(
            Incidence(
                year,
                1 - _step(band, band.survival, t),
                1 - _step(band, band.high, t),
                1 - _step(band, band.low, t),
                at_risk,
            )
        )
    return result


def _first_at_or_below_half(band: Band, values: list[float]) -> float | None:
    for time, v in zip(band.times, values, strict=True):
        if v <= 0.5:
            return time
    return None


def km_median(
    durations: Sequence[float], observed: Sequence[bool], *, alpha: float = 0.05
) -> Median:
    """The first time the curve reaches 0.5, with the interval read off the bands (the
    lower band reaches 0.5 first): Brookmeyer-Crowley style, as lifelines reports it."""
    band = km_band(durations, observed, alpha=alpha)
    return Median(
        _first_at_or_below_half(band, band.survival),
        _first_at_or_below_half(band, band.low),
        _first_at_or_below_half(band, band.high),
    )


def incidence_bounds(
    earliest: Sequence[float],
    latest: Sequence[float],
    observed: Sequence[bool],
    *,
    years: Sequence[int] = HORIZONS_YEARS,
) -> list[IncidenceBounds]:
    """The cumulative incidence at each horizon under the earliest and the latest dating.

    Each case's clock runs from its index period to the finding's period (or to the end
    of its follow-up), so its duration is only known to lie between the two. The two
    datings bracket the estimate a coarse date leaves open; with censoring among the
    events they are the two extreme datings, not bounds over every mixed one.
    """
    if not len(earliest) == len(latest) == len(observed):
        raise ValueError("earliest, latest and observed differ in length")
    if any(low > high for low, high in zip(earliest, latest, strict=True)):
        raise ValueError("an earliest duration is after its latest")
    early = cumulative_incidence(earliest, observed, years=years)
    late = cumulative_incidence(latest, observed, years=years)
    return [
        IncidenceBounds(a.years, a.estimate, b.estimate) for a, b in zip(early, late, strict=True)
    ]
