"""Verification bounds, the corrected rate, and many-cohort tests: pure functions on counts.

The rate over reviewed cases is biased when cases with evidence are reviewed more often
than cases without (issue 13, item 1). The model of who gets reviewed stated on the page:
within a stratum of "has evidence (any finding) yes / no", whether a case was reviewed
does not depend on its outcome (missing at random given the stratum). Under it the
Begg-Greenes estimate is the rate over reviewed cases in each stratum, weighted by the
stratum's share of all cases; it equals inverse-probability weighting of the reviewed
cases by 1 / (share reviewed in their stratum).
"""

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy.stats import chi2_contingency, fisher_exact
from statsmodels.stats.multitest import multipletests
from statsmodels.stats.proportion import proportion_confint

# Cohorts with fewer reviewed cases than this are flagged as small (issue 13, item 6).
SMALL_COHORT = 10

# Bootstrap of the corrected estimate: the seed is recorded so the interval is reproducible.
BOOTSTRAP_SEED = 20131
BOOTSTRAP_REPLICATES = 2000

# Interval methods: the names statsmodels' proportion_confint takes.
INTERVAL_METHODS = {"wilson": "Wilson", "beta": "Clopper-Pearson", "jeffreys": "Jeffreys"}


@dataclass(frozen=True)
class Stratum:
    """One stratum of the review model: its cases, how many reviewed, how many positive."""

    cases: int
    reviewed: int
    positive: int

    def __post_init__(self):
        if not 0 <= self.positive <= self.reviewed <= self.cases:
            raise ValueError(
                f"need 0 <= positive <= reviewed <= cases, got {self.positive}, "
                f"{self.reviewed}, {self.cases}"
            )


def _share(part: int, whole: int) -> float | None:
    return part / whole if whole else None


def interval(positive: int, total: int, method: str = "wilson", alpha: float = 0.05):
    """A binomial interval for positive of total: Wilson, Clopper-Pearson ("beta") or
    Jeffreys; (None, None) without cases."""
    if method not in INTERVAL_METHODS:
        raise ValueError(
            f"unknown interval method {method!r}; one of {', '.join(INTERVAL_METHODS)}"
        )
    if not 0 <= positive <= total:
        raise ValueError(f"need 0 <= positive <= total, got {positive} of {total}")
    if total == 0:
        return None, None
    low, high = proportion_confint(positive, total, alpha=alpha, method=method)
    return float(low), float(high)


def bounds(positive: int, reviewed: int, cases: int) -> tuple[float | None, float | None]:
    """The rate over all cases with the unreviewed counted negative, and counted positive."""
    Stratum(cases, reviewed, positive)
    return _share(positive, cases), _share(positive + cases - reviewed, cases)


def waiting_bound(positive: int, waiting: int, cases: int) -> float | None:
    """The rate over all cases with the unreviewed cases that have a qualifying lead
    waiting counted positive and the other unreviewed negative."""
    return _share(positive + waiting, cases)


def unknown_timing_bounds(
    positive: int, reviewed: int, unknown: int, unknown_unreviewed: int
) -> tuple[float | None, float | None]:
    """The rate over reviewed cases with the cases whose would-be-positive findings have
    unknown timing counted as before the index date (the rate as it stands) and as after
    (positive, hence reviewed)."""
    return _share(positive, reviewed), _share(positive + unknown, reviewed + unknown_unreviewed)


def begg_greenes(strata: Sequence[Stratum]) -> float | None:
    """Sum over strata of (stratum cases / all cases) x (positive / reviewed in the stratum).

    None when there are no cases, or a stratum with cases has none reviewed (the model
    then says nothing about it).
    """
    total = sum(s.cases for s in strata)
    if not total or any(s.cases and not s.reviewed for s in strata):
        return None
    return sum(s.cases / total * s.positive / s.reviewed for s in strata if s.cases)


def corrected_interval(
    strata: Sequence[Stratum],
    *,
    seed: int = BOOTSTRAP_SEED,
    replicates: int = BOOTSTRAP_REPLICATES,
    alpha: float = 0.05,
) -> tuple[float | None, float | None]:
    """Percentile bootstrap interval of begg_greenes, resampling cases with replacement.

    A case is one of three cells in its stratum (reviewed positive, reviewed negative,
    unreviewed), so resampling cases is a multinomial draw over the cells. Replicates in
    which a stratum has no reviewed case are dropped.
    """
    total = sum(s.cases for s in strata)
    if begg_greenes(strata) is None:
        return None, None
    cells = np.array(
        [[s.positive, s.reviewed - s.positive, s.cases - s.reviewed] for s in strata], float
    ).ravel()
    rng = np.random.default_rng(seed)
    draws = rng.multinomial(total, cells / total, size=replicates).reshape(
        replicates, len(strata), 3
    )
    positive, negative, unreviewed = draws[..., 0], draws[..., 1], draws[..., 2]
    reviewed = positive + negative
    size = reviewed + unreviewed
    keep = ~((size > 0) & (reviewed == 0)).any(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        within = np.where(reviewed > 0, positive / np.maximum(reviewed, 1), 0.0)
    estimates = (size / total * within).sum(axis=1)[keep]
    if not len(estimates):
        return None, None
    low, high = np.quantile(estimates, [alpha / 2, 1 - alpha / 2])
    return float(low), float(high)


def versus_rest_p_values(counts: Sequence[tuple[int, int]]) -> list[float | None]:
    """Fisher's exact p-value of each cohort's (positive, reviewed) against the rest pooled;
    None for a cohort without reviewed cases or when the rest has none."""
    total_positive = sum(p for p, _ in counts)
    total_reviewed = sum(r for _, r in counts)
    result = []
    for positive, reviewed in counts:
        rest_positive, rest_reviewed = total_positive - positive, total_reviewed - reviewed
        if not reviewed or not rest_reviewed:
            result.append(None)
            continue
        table = [[positive, reviewed - positive], [rest_positive, rest_reviewed - rest_positive]]
        result.append(float(fisher_exact(table).pvalue))
    return result


def holm(p_values: Sequence[float]) -> np.ndarray:
    """Holm's step-down adjusted p-values: the k-th smallest of m times (m - k + 1), kept
    non-decreasing in that order, at most 1.

    Written here because statsmodels' multipletests(method="holm") runs a full garbage
    collection on every call, which on the analytics page's heap took 0.6 s a call
    (bench/analytics_page.py --profile). Tied p-values get the same adjusted value
    whichever order the sort leaves them in.
    """
    p = np.asarray(p_values, float)
    order = np.argsort(p)
    stepped = np.maximum.accumulate(p[order] * np.arange(len(p), 0, -1))
    result = np.empty(len(p))
    result[order] = np.minimum(stepped, 1.0)
    return result


def adjust(p_values: Sequence[float | None], method: str) -> list[float | None]:
    """Holm ("holm") or Benjamini-Hochberg ("fdr_bh") adjusted p-values over the p-values
    that exist, the missing left None."""
    present = [i for i, p in enumerate(p_values) if p is not None]
    result: list[float | None] = [None] * len(p_values)
    if present:
        values = [p_values[i] for i in present]
        adjusted = holm(values) if method == "holm" else multipletests(values, method=method)[1]
        for i, p in zip(present, adjusted, strict=True):
            result[i] = float(p)
    return result


def homogeneity_p_value(counts: Sequence[tuple[int, int]]) -> float | None:
    """Pearson's chi-square test that every cohort has the same rate, over the cohorts
    with reviewed cases; None with fewer than two of them or no variation to test."""
    table = [[p, r - p] for p, r in counts if r]
    if len(table) < 2:
        return None
    columns = np.array(table).sum(axis=0)
    if (columns == 0).any():
        return None
    return float(chi2_contingency(table, correction=False).pvalue)
