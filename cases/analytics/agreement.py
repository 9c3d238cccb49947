"""Agreement between a case's first reading and its blind second reading, per outcome kind:
the 2x2 table, Cohen's kappa and the figures that say why kappa is what it is. Pure
functions, no database.

Kappa alone misleads on this data: outcomes are rare for most kinds, and two coders who
agree on 95 % of cases can get a kappa near 0 (Feinstein & Cicchetti 1990). So each kind
also gets PABAK, the prevalence and bias indices (Byrt, Bishop & Carlin 1993) and the
positive and negative specific agreements (Cicchetti & Feinstein 1990), each with a
percentile bootstrap interval over the pairs, from a recorded seed.
"""

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np

# Below this many pairs a 2x2 table's figures swing with a single case: none are shown.
MIN_PAIRS = 10
BOOTSTRAP_SEED = 20131
REPLICATES = 2000
ANY = "any"

# More resamples than this share without a figure, and the figure has no interval.
_UNDEFINED_SHARE = 0.05

# A pair's cell: 0 both positive (a), 1 first only (b), 2 second only (c), 3 neither (d).
_CELLS = 4


@dataclass(frozen=True)
class Table:
    """The 2x2 table: rows the first reading, columns the second."""

    a: int  # both positive
    b: int  # first positive, second negative
    c: int  # first negative, second positive
    d: int  # both negative

    @property
    def n(self) -> int:
        return self.a + self.b + self.c + self.d


@dataclass(frozen=True)
class Interval:
    low: float | None
    high: float | None


@dataclass(frozen=True)
class KindAgreement:
    """The figures of one outcome kind, or a reason why there are none."""

    kind: str
    table: Table
    label: str = ""  # how the page names the kind
    too_few: str = ""  # the reason no figure is given; empty when they are
    observed: float | None = None
    kappa: float | None = None
    pabak: float | None = None
    prevalence_index: float | None = None
    bias_index: float | None = None
    positive_agreement: float | None = None
    negative_agreement: float | None = None
    intervals: dict[str, Interval] = field(default_factory=dict)
    seed: int | None = None
    replicates: int = 0

    @property
    def n(self) -> int:
        return self.table.n

    @property
    def disagreements(self) -> int:
        return self.table.b + self.table.c


def table(pairs: Iterable[tuple[bool, bool]]) -> Table:
    """The 2x2 table of (first positive, second positive) pairs."""
    counts = [0] * _CELLS
    for first, second in pairs:
        counts[_cell(first, second)] += 1
    return Table(*counts)


def _cell(first: bool, second: bool) -> int:
    return (0 if second else 1) if first else (2 if second else 3)


# --- the figures, each on arrays of counts so that the bootstrap reuses them ---
# A figure whose denominator is zero is undefined (nan here, None outside this module).


def _divide(top: np.ndarray, bottom: np.ndarray) -> np.ndarray:
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(bottom > 0, top / np.where(bottom > 0, bottom, 1), np.nan)


def _observed(a, b, c, d):
    return _divide(a + d, a + b + c + d)


def _kappa(a, b, c, d):
    """Cohen (1960): (po - pe) / (1 - pe), pe from the two readings' own margins; here
    multiplied through by n squared so that it stays in whole numbers until the division.
    Undefined when pe is 1 (both readings used one and the same label throughout)."""
    n = a + b + c + d
    chance = (a + b) * (a + c) + (c + d) * (b + d)
    return _divide(n * (a + d) - chance, n * n - chance)


def _pabak(a, b, c, d):
    """Byrt et al. (1993): kappa with balanced margins and 50 % prevalence, 2 po - 1."""
    return 2 * _observed(a, b, c, d) - 1


def _prevalence_index(a, b, c, d):
    """Byrt et al. (1993): (a - d) / n; far from 0, kappa is pulled down."""
    return _divide(a - d, a + b + c + d)


def _bias_index(a, b, c, d):
    """Byrt et al. (1993): (b - c) / n; positive when the first reading finds more."""
    return _divide(b - c, a + b + c + d)


def _positive_agreement(a, b, c, d):
    """Cicchetti & Feinstein (1990): 2a / (2a + b + c)."""
    return _divide(2 * a, 2 * a + b + c)


def _negative_agreement(a, b, c, d):
    """Cicchetti & Feinstein (1990): 2d / (2d + b + c)."""
    return _divide(2 * d, 2 * d + b + c)


FIGURES: dict[str, Callable] = {
    "observed": _observed,
    "kappa": _kappa,
    "pabak": _pabak,
    "prevalence_index": _prevalence_index,
    "bias_index": _bias_index,
    "positive_agreement": _positive_agreement,
    "negative_agreement": _negative_agreement,
}


def _value(figure: Callable, t: Table) -> float | None:
    value = float(figure(*(np.array(x) for x in (t.a, t.b, t.c, t.d))))
    return None if np.isnan(value) else value


def figures(t: Table) -> dict[str, float | None]:
    """Every figure of a table (None where its denominator is zero)."""
    return {name: _value(figure, t) for name, figure in FIGURES.items()}


def bootstrap_intervals(
    cells: Sequence[int], *, seed: int = BOOTSTRAP_SEED, replicates: int = REPLICATES
) -> dict[str, Interval]:
    """95 % percentile bootstrap intervals of every figure, resampling the pairs.

    `cells` holds each pair's cell (0 a, 1 b, 2 c, 3 d). Where a figure is undefined on
    more than 5 % of the resamples (no positive among them, say, when the table holds one
    or two), its interval is None: the defined ones would be a resample conditioned on
    what is rare, and their percentiles would claim more certainty than the pairs hold.
    """
    codes = np.asarray(cells)
    rng = np.random.default_rng(seed)
    draws = codes[rng.integers(0, len(codes), size=(replicates, len(codes)))]
    a, b, c, d = ((draws == cell).sum(axis=1) for cell in range(_CELLS))
    result = {}
    for name, figure in FIGURES.items():
        values = figure(a, b, c, d)
        values = values[~np.isnan(values)]
        if len(values) < replicates * (1 - _UNDEFINED_SHARE):
            result[name] = Interval(None, None)
        else:
            low, high = np.percentile(values, [2.5, 97.5])
            result[name] = Interval(float(low), float(high))
    return result


def kind_agreement(
    kind: str,
    pairs: Sequence[tuple[bool, bool]],
    *,
    seed: int = BOOTSTRAP_SEED,
    replicates: int = REPLICATES,
    label: str = "",
) -> KindAgreement:
    """The figures of one kind from its (first positive, second positive) pairs, or,
    under MIN_PAIRS pairs, none and the reason."""
    t = table(pairs)
    label = label or kind
    if t.n < MIN_PAIRS:
        return KindAgreement(
            kind=kind, table=t, label=label, too_few=f"too few to say (n < {MIN_PAIRS})"
        )
    cells = [_cell(first, second) for first, second in pairs]
    return KindAgreement(
        kind=kind,
        table=t,
        label=label,
        intervals=bootstrap_intervals(cells, seed=seed, replicates=replicates),
        seed=seed,
        replicates=replicates,
        **figures(t),
    )


def agreement_by_kind(
    readings: Sequence[tuple[Iterable[str], Iterable[str]]],
    kinds: Sequence[str],
    *,
    labels: dict[str, str] | None = None,
    seed: int = BOOTSTRAP_SEED,
    replicates: int = REPLICATES,
) -> list[KindAgreement]:
    """Per kind ("any" first, then `kinds`): agreement between readings, each reading the
    set of outcome kinds a coder found positive (empty: negative for every kind).

    Every kind is resampled with the same seed over the same pairs, so the figures of one
    kind do not depend on which other kinds are asked for.
    """
    labels = labels or {}
    sets = [(frozenset(first), frozenset(second)) for first, second in readings]
    by_kind = {ANY: [(bool(f), bool(s)) for f, s in sets]}
    for kind in kinds:
        by_kind[kind] = [(kind in f, kind in s) for f, s in sets]
    return [
        kind_agreement(kind, pairs, seed=seed, replicates=replicates, label=labels.get(kind, kind))
        for kind, pairs in by_kind.items()
    ]
