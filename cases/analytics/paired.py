"""Pure statistics for matched referred/control pairs: McNemar's exact test, the paired
difference of proportions with Newcombe's interval, and the Mantel-Haenszel odds ratio
with one stratum per pair. No database.
"""

import math
from dataclasses import dataclass

import numpy as np
from statsmodels.stats.contingency_tables import StratifiedTable, mcnemar
from statsmodels.stats.proportion import proportion_confint


@dataclass(frozen=True)
class PairTable:
    """Counts of pairs: referred positive/negative (first sign) by control (second)."""

    both: int  # ++
    referred_only: int  # +-
    control_only: int  # -+
    neither: int  # --

    @property
    def n(self) -> int:
        return self.both + self.referred_only + self.control_only + self.neither


def mcnemar_exact_p(table: PairTable) -> float | None:
    """Two-sided exact (binomial) McNemar p-value over the discordant pairs."""
    if table.n == 0:
        return None
    result = mcnemar(
        [[table.both, table.referred_only], [table.control_only, table.neither]], exact=True
    )
    return float(result.pvalue)


def paired_difference(
    table: PairTable, *, alpha: float = 0.05
) -> tuple[float, float, float] | None:
    """Referred minus control proportion, with Newcombe's (1998) method 10 interval.

    Wilson score limits for each margin combined with the phi correlation of the pairs;
    phi's numerator is shrunk by n/2 (not below 0) when positive, as in the paper.
    """
    a, b, c, d, n = table.both, table.referred_only, table.control_only, table.neither, table.n
    if n == 0:
        return None
    p1, p2 = (a + b) / n, (a + c) / n
    l1, u1 = proportion_confint(a + b, n, alpha=alpha, method="wilson")
    l2, u2 = proportion_confint(a + c, n, alpha=alpha, method="wilson")
    denominator = (a + b) * (c + d) * (a + c) * (b + d)
    numerator = a * d - b * c
    if numerator > 0:
        numerator = max(numerator - n / 2, 0)
    phi = numerator / math.sqrt(denominator) if denominator else 0.0
    delta = math.sqrt(max((p1 - l1) ** 2 - 2 * phi * (p1 - l1) * (u2 - p2) + (u2 - p2) ** 2, 0))
    epsilon = math.sqrt(max((u1 - p1) ** 2 - 2 * phi * (u1 - p1) * (p2 - l2) + (p2 - l2) ** 2, 0))
    theta = (b - c) / n
    return theta, max(theta - delta, -1.0), min(theta + epsilon, 1.0)


def mantel_haenszel_pairs(table: PairTable) -> tuple[float, float, float] | None:
    """Mantel-Haenszel odds ratio (referred against control) with one stratum per pair,
    and its 95 % interval; None when there are no discordant pairs on one side.

    With 1:1 pairs this equals b/c, the conditional maximum-likelihood estimate.
    """
    if table.referred_only == 0 or table.control_only == 0:
        return None
    # Rows: referred, control; columns: positive, negative.
    kinds = {
        "both": [[1, 0], [1, 0]],
        "referred_only": [[1, 0], [0, 1]],
        "control_only": [[0, 1], [1, 0]],
        "neither": [[0, 1], [0, 1]],
    }
    strata = [kinds[name] for name in kinds for _ in range(getattr(table, name))]
    stratified = StratifiedTable(np.array(strata, dtype=float).transpose(1, 2, 0))
    low, high = stratified.oddsratio_pooled_confint()
    return float(stratified.oddsratio_pooled), float(low), float(high)
