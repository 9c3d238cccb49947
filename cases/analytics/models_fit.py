"""Adjusted comparisons, as pure functions of rows in hand (no database): a logistic
regression of the outcome on categorical covariates with errors clustered by post, and
a Cox proportional-hazards model of time to first positive with its PH check.

Each fit returns a result that either holds its figures or says plainly why it could
not be fitted ("cannot fit: ..."): too few cases, one outcome class only, a single
cluster, a level that predicts the outcome perfectly (separation), or collinear levels.
"""

import warnings
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

MIN_CASES = 10
MIN_EVENTS = 5


@dataclass
class Term:
    name: str  # "covariate = level" for a dummy, the covariate for a number
    ratio: float  # odds ratio or hazard ratio
    ci_low: float
    ci_high: float
    p: float


@dataclass
class FitResult:
    model: str
    n: int = 0
    events: int = 0
    clusters: int = 0
    terms: list[Term] = field(default_factory=list)
    references: dict[str, str] = field(default_factory=dict)
    dropped: list[str] = field(default_factory=list)
    ph_tests: list[Term] = field(default_factory=list)  # ratio = test statistic
    error: str = ""

    @property
    def ok(self) -> bool:
        return not self.error


def _level(value) -> str:
    return "(none)" if value is None or value == "" else str(value)


def design_matrix(
    rows: Sequence[Mapping],
    categorical: Iterable[str],
    numeric: Iterable[str] = (),
    references: Mapping[str, str] | None = None,
) -> tuple[pd.DataFrame, dict[str, str], list[str]]:
    """Dummy-code `categorical` against a reference level (the given one, else the most
    common, ties by name) and keep `numeric` as they are; return the matrix (no
    intercept), the references and the covariates dropped for having one level only.
    Only levels present in `rows` get a column, so empty levels never enter the fit."""
    references = dict(references or {})
    columns: dict[str, list] = {}
    used_refs, dropped = {}, []
    for name in categorical:
        values = [_level(row.get(name)) for row in rows]
        counts = Counter(values)
        if len(counts) < 2:
            dropped.append(name)
            continue
        ref = references.get(name)
        if ref is None or ref not in counts:
            ref = sorted(counts, key=lambda level: (-counts[level], level))[0]
        used_refs[name] = ref
        for level in sorted(counts):
            if level != ref:
                columns[f"{name} = {level}"] = [1.0 if v == level else 0.0 for v in values]
    for name in numeric:
        columns[name] = [float(row[name]) for row in rows]
    return pd.DataFrame(columns), used_refs, dropped


def _separated_level(X: pd.DataFrame, y: np.ndarray, numeric: Iterable[str]) -> str:
    """The first dummy whose cases all have the same outcome, which sends its
    coefficient to infinity; "" when there is none."""
    skip = set(numeric)
    for column in X.columns:
        if column in skip:
            continue
        outcomes = y[X[column].to_numpy() == 1]
        if len(outcomes) and (outcomes.min() == outcomes.max()):
            return column
    return ""


def logit_fit(
    rows: Sequence[Mapping],
    *,
    outcome: str = "positive",
    categorical: Sequence[str] = ("entity_type", "field", "bloc", "year"),
    numeric: Sequence[str] = (),
    cluster: str = "post",
    references: Mapping[str, str] | None = None,
) -> FitResult:
    """Logistic regression of `outcome` (true/false) with standard errors clustered by
    `cluster`; odds ratios with 95 % Wald intervals from the cluster-robust covariance."""
    import statsmodels.api as sm
    from statsmodels.tools.sm_exceptions import PerfectSeparationWarning

    result = FitResult(model="logistic regression, errors clustered by " + cluster)
    rows = list(rows)
    result.n = len(rows)
    y = np.array([1.0 if row[outcome] else 0.0 for row in rows])
    result.events = int(y.sum())
    groups = [_level(row.get(cluster)) for row in rows]
    result.clusters = len(set(groups))
    if result.n < MIN_CASES:
        result.error = f"cannot fit: {result.n} cases, at least {MIN_CASES} needed"
        return result
    if result.events in (0, result.n):
        result.error = "cannot fit: every case has the same outcome"
        return result
    if result.clusters < 2:
        result.error = f"cannot fit: one {cluster} only, so no clustered errors"
        return result
    X, result.references, result.dropped = design_matrix(rows, categorical, numeric, references)
    separated = _separated_level(X, y, numeric)
    if separated:
        result.error = f"cannot fit: every case with {separated} has the same outcome (separation)"
        return result
    X = sm.add_constant(X, has_constant="add")
    if np.linalg.matrix_rank(X.to_numpy()) < X.shape[1]:
        result.error = "cannot fit: levels are collinear (one covariate determines another)"
        return result
    codes = pd.factorize(pd.Series(groups))[0]
    with warnings.catch_warnings():
        warnings.simplefilter("error", PerfectSeparationWarning)
        try:
            fit = sm.GLM(y, X, family=sm.families.Binomial()).fit(
                cov_type="cluster", cov_kwds={"groups": codes}
            )
        except (PerfectSeparationWarning, np.linalg.LinAlgError, ValueError) as error:
            result.error = f"cannot fit: {error}"
            return result
    ci = fit.conf_int()
    for name in X.columns:
        if name == "const":
            continue
        result.terms.append(
            Term(
                name,
                float(np.exp(fit.params[name])),
                float(np.exp(ci.loc[name, 0])),
                float(np.exp(ci.loc[name, 1])),
                float(fit.pvalues[name]),
            )
        )
    return result


def cox_fit(
    rows: Sequence[Mapping],
    *,
    duration: str = "duration",
    event: str = "event",
    categorical: Sequence[str] = ("entity_type", "field", "bloc", "year"),
    numeric: Sequence[str] = (),
    references: Mapping[str, str] | None = None,
) -> FitResult:
    """Cox proportional-hazards model of `duration` (days, > 0) with `event` (true when the
    case turned positive, false when censored); hazard ratios with 95 % intervals and
    the Schoenfeld-residual test of proportional hazards per covariate (rank time)."""
    from lifelines import CoxPHFitter
    from lifelines.exceptions import ConvergenceError
    from lifelines.statistics import proportional_hazard_test

    result = FitResult(model="Cox proportional hazards")
    rows = [row for row in rows if row.get(duration) is not None and row[duration] > 0]
    result.n = len(rows)
    result.events = sum(1 for row in rows if row[event])
    if result.n < MIN_CASES:
        result.error = f"cannot fit: {result.n} followed cases, at least {MIN_CASES} needed"
        return result
    if result.events < MIN_EVENTS:
        result.error = f"cannot fit: {result.events} events, at least {MIN_EVENTS} needed"
        return result
    X, result.references, result.dropped = design_matrix(rows, categorical, numeric, references)
    if X.shape[1] == 0:
        result.error = "cannot fit: no covariate has two levels"
        return result
    events = np.array([1 if row[event] else 0 for row in rows])
    never = [c for c in X.columns if c not in set(numeric) and not events[X[c] == 1].any()]
    if never:
        result.error = f"cannot fit: no case with {never[0]} had an event (separation)"
        return result
    if np.linalg.matrix_rank(X.to_numpy()) < X.shape[1]:
        result.error = "cannot fit: levels are collinear (one covariate determines another)"
        return result
    frame = X.copy()
    frame["_duration"] = [float(row[duration]) for row in rows]
    frame["_event"] = events
    fitter = CoxPHFitter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            fitter.fit(frame, duration_col="_duration", event_col="_event")
            ph = proportional_hazard_test(fitter, frame, time_transform="rank")
        except (ConvergenceError, np.linalg.LinAlgError, ValueError) as error:
            result.error = f"cannot fit: {error}"
            return result
    summary = fitter.summary
    for name in X.columns:
        result.terms.append(
            Term(
                name,
                float(summary.loc[name, "exp(coef)"]),
                float(summary.loc[name, "exp(coef) lower 95%"]),
                float(summary.loc[name, "exp(coef) upper 95%"]),
                float(summary.loc[name, "p"]),
            )
        )
    ph_summary = ph.summary
    for name in X.columns:
        result.ph_tests.append(
            Term(
                name,
                float(ph_summary.loc[name, "test_statistic"]),
                float("nan"),
                float("nan"),
                float(ph_summary.loc[name, "p"]),
            )
        )
    return result
