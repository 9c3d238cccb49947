"""cases.analytics.agreement against published worked examples, each figure derived by hand
from its 2x2 table in the test, and kappa against statsmodels. No database."""

import itertools
import math

import numpy as np
import pytest
from statsmodels.stats.inter_rater import cohens_kappa as sm_cohens_kappa

from cases.analytics import agreement
from cases.analytics.agreement import Table


def pairs_of(t: Table) -> list[tuple[bool, bool]]:
    """The (first positive, second positive) pairs that make table t."""
    return (
        [(True, True)] * t.a
        + [(True, False)] * t.b
        + [(False, True)] * t.c
        + [(False, False)] * t.d
    )


# ------------------------------------------------------------- published examples
#
# Feinstein & Cicchetti (1990), "High agreement but low kappa: I", J Clin Epidemiol 43:543,
# the prevalence paradox: two tables, both with 85 % observed agreement.
# Rows: first reading +/-; columns: second reading +/-.
#
#   A:  40   9 | 49         B:  80  10 | 90
#        6  45 | 51              5   5 | 10
#       46  54   100            85  15   100
#
# Byrt, Bishop & Carlin (1993), J Clin Epidemiol 46:423, define PABAK = 2 po - 1, the
# prevalence index (a - d)/n and the bias index (b - c)/n; Cicchetti & Feinstein (1990),
# "High agreement but low kappa: II", J Clin Epidemiol 43:551, define the specific
# agreements ppos = 2a/(2a + b + c) and pneg = 2d/(2d + b + c).

TABLE_A = Table(a=40, b=9, c=6, d=45)
TABLE_B = Table(a=80, b=10, c=5, d=5)


def test_table_a_by_hand():
    # po = (40 + 45)/100 = 0.85
    # pe = (49 * 46 + 51 * 54)/100^2 = (2254 + 2754)/10000 = 0.5008
    # kappa = (0.85 - 0.5008)/(1 - 0.5008) = 0.3492/0.4992 = 0.6995... (reported 0.70)
    # PABAK = 2 * 0.85 - 1 = 0.70
    # PI = (40 - 45)/100 = -0.05;  BI = (9 - 6)/100 = 0.03
    # ppos = 80/(80 + 15) = 0.8421...;  pneg = 90/(90 + 15) = 0.8571...
    f = agreement.figures(TABLE_A)
    assert f["observed"] == pytest.approx(0.85)
    assert f["kappa"] == pytest.approx(0.3492 / 0.4992)
    assert round(f["kappa"], 2) == 0.70
    assert f["pabak"] == pytest.approx(0.70)
    assert f["prevalence_index"] == pytest.approx(-0.05)
    assert f["bias_index"] == pytest.approx(0.03)
    assert f["positive_agreement"] == pytest.approx(80 / 95)
    assert f["negative_agreement"] == pytest.approx(90 / 105)


def test_table_b_by_hand_the_prevalence_paradox():
    # po = (80 + 5)/100 = 0.85, as in A
    # pe = (90 * 85 + 10 * 15)/100^2 = (7650 + 150)/10000 = 0.78
    # kappa = (0.85 - 0.78)/(1 - 0.78) = 0.07/0.22 = 0.318... (reported 0.32)
    # PABAK = 2 * 0.85 - 1 = 0.70, as in A: the whole gap to A's kappa is prevalence,
    # PI = (80 - 5)/100 = 0.75;  BI = (10 - 5)/100 = 0.05
    # ppos = 160/(160 + 15) = 0.914...;  pneg = 10/(10 + 15) = 0.40: the coders agree on
    # the positives and barely on the few negatives.
    f = agreement.figures(TABLE_B)
    assert f["observed"] == pytest.approx(0.85)
    assert f["kappa"] == pytest.approx(0.07 / 0.22)
    assert round(f["kappa"], 2) == 0.32
    assert f["pabak"] == pytest.approx(0.70)
    assert f["prevalence_index"] == pytest.approx(0.75)
    assert f["bias_index"] == pytest.approx(0.05)
    assert f["positive_agreement"] == pytest.approx(160 / 175)
    assert f["negative_agreement"] == pytest.approx(0.40)


# The bias paradox of Feinstein & Cicchetti (1990): same po = 0.60, kappa higher where the
# coders' margins differ more.
#
#   C:  45  15 | 60         D:  25  35 | 60
#       25  15 | 40              5  35 | 40
#       70  30   100            30  70   100


def test_the_bias_paradox_by_hand():
    # C: pe = (60 * 70 + 40 * 30)/10^4 = 0.54; kappa = 0.06/0.46 = 0.130...
    #    BI = (15 - 25)/100 = -0.10;  PI = (45 - 15)/100 = 0.30
    # D: pe = (60 * 30 + 40 * 70)/10^4 = 0.46; kappa = 0.14/0.54 = 0.259...
    #    BI = (35 - 5)/100 = 0.30;  PI = (25 - 35)/100 = -0.10
    # PABAK = 2 * 0.60 - 1 = 0.20 in both.
    c = agreement.figures(Table(a=45, b=15, c=25, d=15))
    d = agreement.figures(Table(a=25, b=35, c=5, d=35))
    assert c["kappa"] == pytest.approx(0.06 / 0.46)
    assert d["kappa"] == pytest.approx(0.14 / 0.54)
    assert (c["bias_index"], d["bias_index"]) == pytest.approx((-0.10, 0.30))
    assert (c["prevalence_index"], d["prevalence_index"]) == pytest.approx((0.30, -0.10))
    assert c["pabak"] == pytest.approx(0.20) == d["pabak"]


# ----------------------------------------------------------- kappa against statsmodels


@pytest.mark.parametrize(
    "counts",
    [
        (40, 9, 6, 45),
        (80, 10, 5, 5),
        (45, 15, 25, 15),
        (25, 35, 5, 35),
        (1, 0, 0, 9),
        (0, 3, 4, 5),
        (7, 1, 2, 0),
        *[c for c in itertools.product(range(4), repeat=4) if sum(c) >= 2],
    ],
)
def test_kappa_matches_statsmodels(counts):
    t = Table(*counts)
    mine = agreement.figures(t)["kappa"]
    # Both readings used one label throughout: chance agreement is 1, kappa undefined.
    one_label = (t.a == t.n) or (t.d == t.n)
    if one_label:
        assert mine is None
        return
    with np.errstate(invalid="ignore", divide="ignore"):
        theirs = sm_cohens_kappa(np.array([[t.a, t.b], [t.c, t.d]])).kappa
    assert mine == pytest.approx(theirs)


def test_undefined_specific_agreements_are_none():
    # No positive in either reading: 2a/(2a + b + c) is 0/0.
    f = agreement.figures(Table(a=0, b=0, c=0, d=12))
    assert f["positive_agreement"] is None
    assert f["negative_agreement"] == 1.0
    assert f["kappa"] is None
    assert f["pabak"] == 1.0


# --------------------------------------------------------------------- bootstrap


def by_hand_bootstrap(t: Table, seed: int, replicates: int, name: str) -> tuple[float, float]:
    """The percentile interval recomputed pair by pair in plain Python from the same draws."""
    pairs = pairs_of(t)
    cell = {(True, True): "a", (True, False): "b", (False, True): "c", (False, False): "d"}
    rng = np.random.default_rng(seed)
    indices = rng.integers(0, len(pairs), size=(replicates, len(pairs)))
    values = []
    for row in indices:
        counts = {"a": 0, "b": 0, "c": 0, "d": 0}
        for i in row:
            counts[cell[pairs[i]]] += 1
        a, b, c, d = counts["a"], counts["b"], counts["c"], counts["d"]
        n = a + b + c + d
        if name == "pabak":
            values.append(2 * (a + d) / n - 1)
        elif name == "positive_agreement" and 2 * a + b + c:
            values.append(2 * a / (2 * a + b + c))
        elif name == "kappa":
            po = (a + d) / n
            pe = ((a + b) * (a + c) + (c + d) * (b + d)) / n**2
            if not math.isclose(pe, 1):
                values.append((po - pe) / (1 - pe))
    low, high = np.percentile(values, [2.5, 97.5])
    return float(low), float(high)


@pytest.mark.parametrize("name", ["kappa", "pabak", "positive_agreement"])
def test_the_bootstrap_interval_matches_a_pair_by_pair_recomputation(name):
    t = Table(a=8, b=2, c=3, d=20)
    result = agreement.kind_agreement("x", pairs_of(t), seed=7, replicates=300)
    interval = result.intervals[name]
    assert (interval.low, interval.high) == pytest.approx(by_hand_bootstrap(t, 7, 300, name))
    assert interval.low <= getattr(result, name) <= interval.high


def test_the_same_seed_gives_the_same_intervals_and_another_seed_others():
    pairs = pairs_of(TABLE_A)
    first = agreement.kind_agreement("x", pairs)
    again = agreement.kind_agreement("x", pairs)
    other = agreement.kind_agreement("x", pairs, seed=agreement.BOOTSTRAP_SEED + 1)
    assert first.intervals == again.intervals
    assert first.intervals["kappa"] != other.intervals["kappa"]
    assert (first.seed, first.replicates) == (20131, 2000)


def test_an_interval_is_none_where_many_replicates_leave_the_figure_undefined():
    # One positive pair in 12: (11/12)^12, about 35 % of resamples, hold no positive, and
    # ppos is then 0/0; over 5 % undefined, so no interval.
    t = Table(a=1, b=0, c=0, d=11)
    result = agreement.kind_agreement("x", pairs_of(t), replicates=400)
    assert result.positive_agreement == 1.0
    assert result.intervals["positive_agreement"] == agreement.Interval(None, None)
    assert result.intervals["negative_agreement"].low is not None


# ------------------------------------------------------------------- too few to say


def test_under_ten_pairs_there_are_no_figures_but_a_reason():
    result = agreement.kind_agreement("x", pairs_of(Table(a=3, b=1, c=1, d=4)))
    assert result.n == 9
    assert result.too_few == "too few to say (n < 10)"
    assert result.kappa is result.pabak is result.positive_agreement is None
    assert result.intervals == {}
    assert result.table == Table(3, 1, 1, 4)  # the table itself is still given


def test_ten_pairs_are_enough():
    result = agreement.kind_agreement("x", pairs_of(Table(a=3, b=1, c=1, d=5)))
    assert result.too_few == ""
    assert result.kappa is not None


# --------------------------------------------------------------------- per kind


def test_per_kind_a_reading_is_positive_for_the_kinds_it_holds():
    readings = (
        [({"joint_venture"}, {"joint_venture"})] * 4
        + [({"joint_venture", "partnership"}, {"partnership"})] * 3
        + [(set(), {"acquisition"})] * 2
        + [(set(), set())] * 3
    )
    result = {
        r.kind: r
        for r in agreement.agreement_by_kind(
            readings, ["joint_venture", "partnership", "acquisition"], replicates=50
        )
    }
    assert list(result) == ["any", "joint_venture", "partnership", "acquisition"]
    # any: 7 both positive, 2 second only, 3 neither.
    assert result["any"].table == Table(a=7, b=0, c=2, d=3)
    assert result["joint_venture"].table == Table(a=4, b=3, c=0, d=5)
    assert result["partnership"].table == Table(a=3, b=0, c=0, d=9)
    assert result["acquisition"].table == Table(a=0, b=0, c=2, d=10)
    assert result["acquisition"].disagreements == 2


def test_a_kinds_figures_do_not_depend_on_the_other_kinds_asked_for():
    readings = [({"joint_venture"}, {"joint_venture"})] * 6 + [(set(), {"joint_venture"})] * 6
    alone = agreement.agreement_by_kind(readings, ["joint_venture"])[1]
    among = agreement.agreement_by_kind(readings, ["partnership", "joint_venture"])[2]
    assert alone == among
