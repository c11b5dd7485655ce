"""Longitudinal mixed-effect model of the change from baseline in DAS28-ESR and HAQ-DI.

The paper evaluated the changes "using a mixed-effect longitudinal model" without giving
the model. The one fitted here, for each outcome separately:

.. math::

    \\Delta y_{ij} = \\mu + \\alpha_{\\mathrm{arm}(i)} + \\beta_{v(j)}
        + (\\alpha\\beta)_{\\mathrm{arm}(i), v(j)} + u_i + \\varepsilon_{ij},
    \\qquad u_i \\sim N(0, \\sigma_u^2),\\ \\varepsilon_{ij} \\sim N(0, \\sigma^2)

i.e. ``change ~ C(ARM) * C(AVISITN)`` with a random intercept per patient, fitted by REML
(:func:`fit_random_intercept_reml`: the model statsmodels ``MixedLM`` fits, computed from
per-patient sums so that it takes linear time; tests/reference checks it against
``MixedLM``). Arm and visit are categorical, so each arm has
its own mean change at each visit (no shape is imposed on the time course); the random
intercept absorbs the correlation between visits of one patient.

Conventions:

* **Data**: every post-baseline visit (``AVISITN > 0``) with the change observed, of every
  patient of the population. The default population is *all randomised patients*: the
  model uses each patient's observed visits, so a patient who left the study contributes
  until they left; the estimates are valid if dropping out depends only on what was
  observed (missing at random). This differs from Table 3, which uses completers only.
* **Visits modelled**: only visits at which *each* arm has at least :data:`MIN_PER_ARM`
  patients with the change observed, so that every arm x visit mean is estimable.
* **Estimates**: the model's mean change per arm and visit (the fixed-effect prediction
  for that cell) with a Wald 95% CI, and the between-arm difference (MSC+IFNG minus MSC)
  at each visit with its Wald z-test p-value, all from the fixed effects and their
  covariance (``fe_params``, ``cov_params``).
* Convergence problems are not hidden: the fit's warnings are kept on the result
  (``warnings_``) and ``converged_`` is reported in the registry.
"""
from __future__ import annotations

import warnings
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import stats

from analysis.clusters import visit_label
from analysis.derived import derive_visit_endpoints
from analysis.populations import ARMS, filter_population, merge_subject_arm
from analysis.results import make_result

#: Outcome id -> (change column of the derived visits table, readable label).
OUTCOMES: dict[str, tuple[str, str]] = {
    "delta_das28_esr": ("DAS28ESR_CHG", "Change in DAS28-ESR from baseline"),
    "delta_haq_di": ("HAQDI_CHG", "Change in HAQ-DI from baseline"),
}
#: Fewest patients with the outcome an arm needs at a visit for the visit to be modelled.
MIN_PER_ARM = 2
#: The model's formula; ``{y}`` is the outcome's change column.
FORMULA = "{y} ~ C(ARM) * C(AVISITN)"


@dataclass
class ChangeModel:
    """A fitted change-from-baseline model: the statsmodels result and what it was fitted on."""

    outcome: str
    data: pd.DataFrame
    result_: object
    converged_: bool
    warnings_: list[str] = field(default_factory=list)

    @property
    def visits_(self) -> list[int]:
        """Visits (months) in the model."""
        return sorted(int(v) for v in self.data["AVISITN"].unique())


def derive_longitudinal(dataset, population: str = "randomised") -> pd.DataFrame:
    """Post-baseline visits of ``population`` with both change scores: ``USUBJID``, ``ARM``,
    ``AVISITN`` (int), and the change columns of :data:`OUTCOMES`."""
    subjects = filter_population(dataset.subjects, population)[["USUBJID", "ARM"]]
    derived = derive_visit_endpoints(dataset)
    columns = [column for column, _label in OUTCOMES.values()]
    out = merge_subject_arm(derived.loc[derived["AVISITN"] > 0, ["USUBJID", "AVISITN", *columns]], subjects)
    out["AVISITN"] = out["AVISITN"].astype(int)
    return out[["USUBJID", "ARM", "AVISITN", *columns]].sort_values(["USUBJID", "AVISITN"]).reset_index(drop=True)


def filter_model_visits(frame: pd.DataFrame, column: str, min_per_arm: int = MIN_PER_ARM) -> pd.DataFrame:
    """Rows with ``column`` observed, at visits where every arm has >= ``min_per_arm`` of them.

    Examples
    --------
    >>> f = pd.DataFrame({"USUBJID": list("abcdef"), "ARM": ["MSC"] * 3 + ["MSC+IFNG"] * 3,
    ...                   "AVISITN": [12, 12, 24, 12, 12, 24], "Y": [1.0, 2, 3, 4, np.nan, 6]})
    >>> filter_model_visits(f, "Y", min_per_arm=1).AVISITN.tolist()
    [12, 12, 24, 12, 24]
    >>> filter_model_visits(f, "Y", min_per_arm=2).AVISITN.tolist()
    []
    """
    observed = frame[frame[column].notna()]
    per_arm = observed.groupby(["AVISITN", "ARM"])["USUBJID"].nunique().unstack("ARM")
    per_arm = per_arm.reindex(columns=list(ARMS)).fillna(0)
    keep = per_arm.index[(per_arm >= min_per_arm).all(axis=1)]
    return observed[observed["AVISITN"].isin(keep)].reset_index(drop=True)


@dataclass
class RandomInterceptResult:
    """A REML fit of ``y = X beta + u_group + e`` (:func:`fit_random_intercept_reml`); the
    attributes have the names of statsmodels' ``MixedLMResults``."""

    fe_params: pd.Series
    cov_fe: pd.DataFrame
    cov_re: pd.DataFrame
    scale: float
    converged: bool
    design_info: object

    def cov_params(self) -> pd.DataFrame:
        """Covariance of the fixed effects, ``scale * (X' V^-1 X)^-1`` with ``V`` in units of ``scale``."""
        return self.cov_fe


def fit_random_intercept_reml(y: np.ndarray, exog: pd.DataFrame, groups, design_info=None) -> RandomInterceptResult:
    """REML estimates of a linear model with one random intercept per group.

    Within group ``i`` (``n_i`` rows), ``V_i = s2 (I + g 1 1')`` with ``g = var_u / s2``, so
    (Sherman-Morrison) ``V_i^-1 = (I - c_i 1 1') / s2`` with ``c_i = g / (1 + g n_i)``, and every
    term of the restricted likelihood is a sum over groups of ``X_i' 1``, ``1' y_i`` and ``n_i``:

    .. math::

        A(g) = X'X - \\sum_i c_i X_i'1\\,1'X_i, \\quad \\hat\\beta = A^{-1}\\big(X'y - \\sum_i c_i X_i'1\\,1'y_i\\big),
        \\quad \\mathrm{RSS} = r'r - \\sum_i c_i (1'r_i)^2, \\quad \\hat s^2 = \\mathrm{RSS}/(N-p),

        -2\\ell_R(g) = (N - p)\\log \\hat s^2 + \\sum_i \\log(1 + g n_i) + \\log|A| + \\mathrm{const}

    (Patterson & Thompson 1971; Harville 1977), minimised over ``log g`` (bounded Brent), the
    boundary ``g = 0`` included. ``Cov(beta) = s2 A^-1``. One pass over the rows per
    evaluation, no loop over groups: the same estimates as statsmodels ``MixedLM(reml=True)``
    with a random intercept (tests/reference), in linear time.
    """
    from scipy import optimize, sparse

    X = exog.to_numpy(dtype=float)
    y = np.asarray(y, dtype=float)
    codes, _ = pd.factorize(np.asarray(groups))
    n_obs, p = X.shape
    member = sparse.csr_matrix((np.ones(n_obs), (codes, np.arange(n_obs))), shape=(codes.max() + 1, n_obs))
    n = np.asarray(member.sum(axis=1)).ravel()
    # Per-group column sums S = member @ X, one column at a time: np.bincount adds each group's
    # rows in row order starting from 0, exactly as the CSR product does, without the C-order
    # copy of the whole (Fortran-ordered) X that scipy makes first. S stays C-ordered, as before.
    S = np.empty((member.shape[0], p))
    for k in range(p):
        S[:, k] = np.bincount(codes, weights=X[:, k], minlength=member.shape[0])
    t = member @ y
    XtX, Xty = X.T @ X, X.T @ y

    # The optimiser's best point, and g = 0 when it is the maximum, are solved again after the
    # search: each g is solved once and its arrays reused (the same g gives the same arrays).
    solved: dict[float, tuple] = {}

    def solve(g: float):
        if float(g) not in solved:
            c = g / (1.0 + g * n)
            A = XtX - (S * c[:, None]).T @ S
            beta = np.linalg.solve(A, Xty - S.T @ (c * t))
            r = y - X @ beta
            solved[float(g)] = A, beta, float(r @ r - c @ (member @ r) ** 2)
        return solved[float(g)]

    def objective(g: float) -> float:
        A, _beta, rss = solve(g)
        return (n_obs - p) * np.log(rss / (n_obs - p)) + np.log1p(g * n).sum() + np.linalg.slogdet(A)[1]

    found = optimize.minimize_scalar(lambda log_g: objective(np.exp(log_g)), bounds=(-20.0, 10.0),
                                     method="bounded", options={"xatol": 1e-9})
    g = float(np.exp(found.x))
    converged = bool(found.success) and found.x < 10.0 - 1e-6
    if objective(0.0) <= found.fun:  # the maximum is on the boundary: no between-patient variance
        g, converged = 0.0, bool(found.success)
    A, beta, rss = solve(g)
    s2 = rss / (n_obs - p)
    names = list(exog.columns)
    return RandomInterceptResult(pd.Series(beta, index=names),
                                 pd.DataFrame(s2 * np.linalg.inv(A), index=names, columns=names),
                                 pd.DataFrame([[g * s2]], index=["Group"], columns=["Group"]), s2, converged,
                                 design_info)


def _model_matrix(data: pd.DataFrame, column: str) -> tuple[pd.DataFrame, object]:
    """Design of :data:`FORMULA`'s right-hand side for ``data``, built by patsy on the distinct
    arm x visit cells and indexed to the rows (patsy on a million rows takes seconds)."""
    from patsy import dmatrix

    keys = data[["ARM", "AVISITN"]]
    cells = keys.drop_duplicates().reset_index(drop=True)
    design = dmatrix(FORMULA.format(y=column).split("~", 1)[1], cells, return_type="dataframe")
    # Each row's cell, numbered in order of first appearance: the order of ``cells``.
    rows = keys.groupby(["ARM", "AVISITN"], sort=False).ngroup().to_numpy()
    # One copy of the n x p matrix (iloc then reset_index made two), laid out as that
    # copy was: pandas' block is p x n in C order, so the fit reads a Fortran-ordered
    # matrix and its floating-point sums, hence the registry, stay the same to the bit.
    # Filled one row of the block at a time: a 1-d gather per column is many times faster than
    # ``np.take(..., axis=1)`` on the whole p x cells array, and copies the same values.
    # ``rows`` are cell numbers, always in range: mode="clip" only spares numpy's buffered copy.
    cell_columns = np.ascontiguousarray(design.to_numpy().T)
    block = np.empty((cell_columns.shape[0], len(rows)))
    for column_values, out in zip(cell_columns, block):
        np.take(column_values, rows, out=out, mode="clip")
    return pd.DataFrame(block.T, columns=design.columns, copy=False), design.design_info


def fit_change_model(frame: pd.DataFrame, outcome: str, min_per_arm: int = MIN_PER_ARM) -> ChangeModel:
    """Fit :data:`FORMULA` with a random intercept per patient (REML) for one outcome
    (:func:`fit_random_intercept_reml`).

    Raises ``ValueError`` when fewer than one visit or two patients per arm remain.
    """
    column = OUTCOMES[outcome][0]
    data = filter_model_visits(frame, column, min_per_arm)
    if data.empty or data.groupby("ARM")["USUBJID"].nunique().reindex(list(ARMS)).fillna(0).min() < 2:
        raise ValueError(f"fit_change_model({outcome!r}): no visit has >= {min_per_arm} patients "
                         f"with {column} in every arm")
    data = data.assign(**{column: data[column].astype(float)})
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        exog, design_info = _model_matrix(data, column)
        result = fit_random_intercept_reml(data[column].to_numpy(), exog, data["USUBJID"], design_info)
    messages = sorted({f"{w.category.__name__}: {w.message}" for w in caught})
    return ChangeModel(outcome, data, result, result.converged, messages)


def _design(model: ChangeModel, grid: pd.DataFrame) -> np.ndarray:
    """Fixed-effect design rows of ``grid`` (columns ARM, AVISITN) for the fitted formula."""
    from patsy import build_design_matrices

    return np.asarray(build_design_matrices([model.result_.design_info], grid)[0])


def summarise_change_model(model: ChangeModel) -> pd.DataFrame:
    """Model-based mean change per arm and visit, and the between-arm difference per visit.

    Columns: ``arm`` (code, or ``diff`` for MSC+IFNG minus MSC), ``AVISITN``, ``estimate``,
    ``se``, ``ci_low``, ``ci_high`` (Wald 95%), ``p_value`` (Wald z; differences only),
    ``n`` (observations in the cell; differences: both arms).
    """
    result = model.result_
    names = list(result.fe_params.index)
    beta = result.fe_params.to_numpy()
    cov = result.cov_params().loc[names, names].to_numpy()
    z = stats.norm.ppf(0.975)
    records = []
    for visit in model.visits_:
        grid = pd.DataFrame({"ARM": list(ARMS), "AVISITN": [visit] * len(ARMS), "_y": 0.0})
        grid = grid.rename(columns={"_y": OUTCOMES[model.outcome][0]})
        design = _design(model, grid)
        counts = model.data.loc[model.data["AVISITN"] == visit, "ARM"].value_counts()
        rows = list(zip(ARMS.values(), design)) + [("diff", design[1] - design[0])]
        for code, x in rows:
            est, se = float(x @ beta), float(np.sqrt(x @ cov @ x))
            n = int(counts.sum()) if code == "diff" else int(counts.get(next(a for a, c in ARMS.items() if c == code), 0))
            records.append({"arm": code, "AVISITN": visit, "estimate": est, "se": se,
                            "ci_low": est - z * se, "ci_high": est + z * se,
                            "p_value": float(2 * stats.norm.sf(abs(est / se))) if code == "diff" else np.nan,
                            "n": n})
    return pd.DataFrame(records)


def fit_change_models(dataset, population: str = "randomised") -> dict[str, ChangeModel]:
    """:func:`fit_change_model` for every outcome of :data:`OUTCOMES`, on ``population``."""
    frame = derive_longitudinal(dataset, population)
    return {outcome: fit_change_model(frame, outcome) for outcome in OUTCOMES}


def summarise_fits(models: dict[str, ChangeModel]) -> pd.DataFrame:
    """One row per fitted model: patients, observations, visits, convergence and warnings."""
    return pd.DataFrame([{"outcome": outcome, "patients": model.data["USUBJID"].nunique(),
                          "observations": len(model.data),
                          "visits": f"{len(model.visits_)} (months {model.visits_[0]} to {model.visits_[-1]})",
                          "converged": model.converged_, "warnings": "; ".join(model.warnings_) or "none"}
                         for outcome, model in models.items()]).set_index("outcome")


def registry_longitudinal(dataset, population: str = "randomised") -> list[dict]:
    """Registry rows of the mixed models of both outcomes (artefact ``longitudinal``)."""
    rows = []
    for outcome, model in fit_change_models(dataset, population).items():
        base = f"longitudinal.{outcome}"
        rows += [make_result(f"{base}.total.n_patients", model.data["USUBJID"].nunique(),
                             f"patients in the model ({population})"),
                 make_result(f"{base}.total.n_obs", len(model.data), "observations in the model"),
                 make_result(f"{base}.total.converged", model.converged_, "1 if the REML fit converged"),
                 make_result(f"{base}.total.var_patient", float(model.result_.cov_re.iloc[0, 0]),
                             "random-intercept variance (REML)"),
                 make_result(f"{base}.total.var_residual", float(model.result_.scale), "residual variance (REML)")]
        for r in summarise_change_model(model).itertuples(index=False):
            visit = visit_label(r.AVISITN)
            if r.arm == "diff":
                rows += [make_result(f"{base}.{visit}.diff", r.estimate, "MSC+IFNG minus MSC, mixed model"),
                         make_result(f"{base}.{visit}.ci_low", r.ci_low, "Wald 95% CI of the difference, lower"),
                         make_result(f"{base}.{visit}.ci_high", r.ci_high, "Wald 95% CI of the difference, upper"),
                         make_result(f"{base}.{visit}.p", r.p_value, "Wald z-test of the difference, two-sided")]
            else:
                rows += [make_result(f"{base}.{r.arm}.{visit}.mean", r.estimate, "model-based mean change"),
                         make_result(f"{base}.{r.arm}.{visit}.ci_low", r.ci_low, "Wald 95% CI, lower"),
                         make_result(f"{base}.{r.arm}.{visit}.ci_high", r.ci_high, "Wald 95% CI, upper"),
                         make_result(f"{base}.{r.arm}.{visit}.n", r.n, "observations at the visit")]
    return rows
