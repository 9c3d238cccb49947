"""The adjusted fits against independent fits: statsmodels' formula interface on the
same data for the logistic regression, and lifelines' published Rossi coefficients for
the Cox model; and the honest refusals on data that cannot be fitted."""

import math
import random

import numpy as np
import pandas as pd
import pytest
import statsmodels.formula.api as smf
from lifelines.datasets import load_rossi

from cases.analytics import models_fit


def synthetic_rows(n=400, seed=3):
    rng = random.Random(seed)
    rows = []
    for _ in range(n):
        kind = rng.choice(["company"] * 3 + ["university"])
        field = rng.choice(["ai", "bio", "energy"])
        year = rng.choice([2016, 2017, 2018])
        post = f"post {rng.randrange(12)}"
        logit = -0.5 + (0.8 if kind == "university" else 0) + (0.5 if field == "bio" else 0)
        rows.append(
            {
                "positive": rng.random() < 1 / (1 + math.exp(-logit)),
                "entity_type": kind,
                "field": field,
                "bloc": rng.choice(["nato", "other"]),
                "year": year,
                "post": post,
            }
        )
    return rows


def test_logit_matches_the_formula_interface_with_clustered_errors():
    rows = synthetic_rows()
    result = models_fit.logit_fit(
        rows, references={"entity_type": "company", "field": "ai", "bloc": "nato", "year": "2016"}
    )
    assert result.ok, result.error
    frame = pd.DataFrame(rows)
    frame["y"] = frame["positive"].astype(int)
    frame["post_code"] = pd.factorize(frame["post"])[0]
    independent = smf.logit(
        "y ~ C(entity_type, Treatment('company')) + C(field, Treatment('ai'))"
        " + C(bloc, Treatment('nato')) + C(year, Treatment(2016))",
        data=frame,
    ).fit(disp=0, cov_type="cluster", cov_kwds={"groups": frame["post_code"]})
    term = {t.name: t for t in result.terms}
    pairs = {
        "entity_type = university": "C(entity_type, Treatment('company'))[T.university]",
        "field = bio": "C(field, Treatment('ai'))[T.bio]",
        "year = 2018": "C(year, Treatment(2016))[T.2018]",
    }
    for mine, theirs in pairs.items():
        assert term[mine].ratio == pytest.approx(math.exp(independent.params[theirs]), rel=1e-6)
        assert term[mine].p == pytest.approx(independent.pvalues[theirs], rel=1e-3)
        low = math.exp(independent.conf_int().loc[theirs, 0])
        assert term[mine].ci_low == pytest.approx(low, rel=1e-3)
    assert result.n == 400 and result.clusters == 12
    assert result.references["field"] == "ai"


def test_logit_states_the_most_common_level_as_reference_by_default():
    result = models_fit.logit_fit(synthetic_rows())
    assert result.references["entity_type"] == "company"
    assert not any(t.name.startswith("entity_type = company") for t in result.terms)


def test_logit_refuses_one_outcome_class():
    rows = [dict(row, positive=False) for row in synthetic_rows(50)]
    result = models_fit.logit_fit(rows)
    assert not result.ok and "same outcome" in result.error


def test_logit_refuses_a_single_post():
    rows = [dict(row, post="Houston") for row in synthetic_rows(50)]
    result = models_fit.logit_fit(rows)
    assert not result.ok and "one post" in result.error


def test_logit_refuses_separation_and_names_the_level():
    rows = synthetic_rows(200)
    rows += [dict(rows[0], field="quantum", positive=True) for _ in range(5)]
    result = models_fit.logit_fit(rows)
    assert not result.ok and "field = quantum" in result.error


def test_logit_refuses_too_few_cases():
    assert "at least" in models_fit.logit_fit(synthetic_rows(5)).error


def test_logit_drops_a_covariate_with_one_level():
    rows = [dict(row, bloc="nato") for row in synthetic_rows()]
    result = models_fit.logit_fit(rows)
    assert result.ok and result.dropped == ["bloc"]


def test_cox_reproduces_the_published_rossi_coefficients():
    # lifelines' documentation, "Survival regression": coef fin -0.38, age -0.06,
    # race 0.31, wexp -0.15, mar -0.43, paro -0.08, prio 0.09.
    rossi = load_rossi()
    rows = rossi.to_dict("records")
    result = models_fit.cox_fit(
        rows,
        duration="week",
        event="arrest",
        categorical=("fin", "race", "wexp", "mar", "paro"),
        numeric=("age", "prio"),
        references=dict.fromkeys(("fin", "race", "wexp", "mar", "paro"), "0"),
    )
    assert result.ok, result.error
    coef = {t.name: round(math.log(t.ratio), 2) for t in result.terms}
    assert coef == {
        "fin = 1": -0.38,
        "race = 1": 0.31,
        "wexp = 1": -0.15,
        "mar = 1": -0.43,
        "paro = 1": -0.08,
        "age": -0.06,
        "prio": 0.09,
    }
    # The PH check of the same docs flags age (p < 0.05) and wexp, not prio.
    ph = {t.name: t.p for t in result.ph_tests}
    assert ph["age"] < 0.05 and ph["prio"] > 0.05
    assert result.n == 432 and result.events == 114


def test_cox_refuses_too_few_events():
    rows = [
        {"duration": 100 + n, "event": n < 2, "entity_type": "company" if n % 2 else "university"}
        for n in range(30)
    ]
    result = models_fit.cox_fit(rows, categorical=("entity_type",))
    assert not result.ok and "events" in result.error


def test_cox_ignores_cases_without_follow_up():
    rng = np.random.default_rng(1)
    rows = [
        {
            "duration": float(rng.exponential(300)) if n < 60 else None,
            "event": bool(rng.random() < 0.6),
            "entity_type": "company" if n % 3 else "university",
        }
        for n in range(70)
    ]
    result = models_fit.cox_fit(rows, categorical=("entity_type",))
    assert result.ok and result.n == 60
