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
from analysis.derived import derive_visit_endpoints, derive_visit_subject_rows
from analysis.populations import (
    ARMS,
    filter_population,
    in_patient_order,
    merge_subject_arm,
    select_rows,
    sort_by_patient,
)
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
    post = (derived["AVISITN"] > 0).to_numpy(dtype=bool, na_value=False)
    rows = derive_visit_subject_rows(dataset)
    out = merge_subject_arm(derived.loc[post, ["USUBJID", "AVISITN", *columns]], subjects,
                            None if rows is None else rows[post])
    out["AVISITN"] = out["AVISITN"].astype(int)
    out = sort_by_patient(out[["USUBJID", "ARM", "AVISITN", *columns]], "AVISITN")
    # Rows already numbered 0, 1, ... unless the sort moved them: no second copy then.
    return out if out.index.equals(pd.RangeIndex(len(out))) else out.reset_index(drop=True)


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
    observed = select_rows(frame, frame[column].notna())
    groups = observed.groupby(["AVISITN", "ARM"])
    # Patients per visit and arm. Rows in strict (USUBJID, AVISITN) order (derive_longitudinal's
    # table) hold a patient at most once per visit: counting rows counts patients, without
    # hashing the text ids.
    if in_patient_order(observed, "AVISITN", strict=True):
        per_arm = groups.size().unstack("ARM")
    else:
        per_arm = groups["USUBJID"].nunique().unstack("ARM")
    per_arm = per_arm.reindex(columns=list(ARMS)).fillna(0)
    keep = per_arm.index[(per_arm >= min_per_arm).all(axis=1)]
    if len(keep) == len(per_arm) and observed["AVISITN"].notna().all():  # all kept: no second copy
        return observed
    return select_rows(observed, observed["AVISITN"].isin(keep))


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


#: Rows per block in which OpenBLAS's ``dgemv_t`` (``X' y``) sums each column: it adds the dot
#: products of successive 2048-row blocks in order, then the last ``n % 4`` rows (``NBMAX`` in
#: its kernel/x86_64/dgemv_t_4.c). :meth:`CellDesign.transpose_dot` follows the same blocks.
GEMV_T_BLOCK = 2048


class CellDesign:
    """A 0/1 design matrix ``X`` (n x p) kept as its distinct rows: ``X = cells[rows]``.

    :data:`FORMULA`'s design has one distinct row per arm x visit cell, so the REML fit does not
    need the n x p matrix (338 MB at 100,000 patients, slow to write on first touch). Each
    product the fit uses is computed from ``cells`` and ``rows`` with the *same floating-point
    result* as on the full Fortran-ordered ``X`` (checked bit for bit in
    tests/unit/test_longitudinal.py):

    * ``X'X`` and the per-group sums ``member @ X`` are integer counts (entries are 0 or 1), exact
      in any summation order below 2**53: they are computed from cell counts.
    * ``X beta``: BLAS (``dgemv_n``, on Fortran-ordered matrices) computes each row from that
      row's entries alone, so row ``i`` is row ``rows[i]`` of ``cells @ beta`` with ``cells``
      Fortran-ordered too (in C order numpy would call ``dgemv_t``, whose sums differ).
    * ``X' y``: BLAS (``dgemv_t``) sums each column in blocks of :data:`GEMV_T_BLOCK` rows and
      adds the blocks in order, then the last ``n % 4`` rows; the same BLAS call on each block
      (a 2048 x p Fortran-ordered piece of ``X``) gives the same block sums.

    Parameters
    ----------
    cells : pandas.DataFrame
        One row per distinct design row, columns named as the design's; entries 0 or 1.
    rows : numpy.ndarray
        Row number in ``cells`` of each of the n rows of ``X``.

    Examples
    --------
    >>> design = CellDesign(pd.DataFrame({"Intercept": [1.0, 1.0], "b": [0.0, 1.0]}), np.array([0, 1, 1]))
    >>> design.to_frame().to_numpy().tolist()
    [[1.0, 0.0], [1.0, 1.0], [1.0, 1.0]]
    >>> design.gram().tolist(), design.dot(np.array([2.0, 0.5])).tolist()
    ([[3.0, 2.0], [2.0, 2.0]], [2.0, 2.5, 2.5])
    """

    def __init__(self, cells: pd.DataFrame, rows: np.ndarray):
        values = cells.to_numpy(dtype=float)
        if not np.isin(values, (0.0, 1.0)).all():
            raise ValueError("CellDesign: entries must be 0 or 1 (the exact-count products rely on it)")
        self.columns = list(cells.columns)
        self.rows = np.asarray(rows, dtype=np.intp)
        self.shape = (len(self.rows), values.shape[1])
        self._cells = np.asfortranarray(values)  # the layout the full X had
        self._columns_by_cell = np.ascontiguousarray(values.T)

    def to_frame(self) -> pd.DataFrame:
        """The n x p matrix ``X`` itself (Fortran-ordered)."""
        return pd.DataFrame(np.asfortranarray(self._cells[self.rows]), columns=self.columns)

    def _cell_counts(self, codes: np.ndarray | None = None, n_groups: int = 1) -> np.ndarray:
        """Rows of each cell (per group of ``codes`` when given), as floats: groups x cells."""
        n_cells = self._cells.shape[0]
        keys = self.rows if codes is None else codes * n_cells + self.rows
        return np.bincount(keys, minlength=n_groups * n_cells).reshape(n_groups, n_cells).astype(float)

    def gram(self) -> np.ndarray:
        """``X'X`` from the cell counts (integers: exact)."""
        counts = self._cell_counts()[0]
        return self._cells.T @ (counts[:, None] * self._cells)

    def group_sums(self, codes: np.ndarray, n_groups: int) -> np.ndarray:
        """Column sums of ``X`` per group (``codes``: group number of each row), C-ordered
        ``n_groups x p``: cell counts per group times the cells (integers: exact)."""
        return np.ascontiguousarray(self._cell_counts(codes, n_groups) @ self._cells)

    def dot(self, beta: np.ndarray) -> np.ndarray:
        """``X @ beta``: each cell's value, repeated for its rows."""
        return (self._cells @ beta)[self.rows]

    def transpose_dot(self, y: np.ndarray) -> np.ndarray:
        """``X' y`` summed in BLAS's own blocks (:data:`GEMV_T_BLOCK` rows, then ``n % 4``)."""
        n_obs, p = self.shape
        body = n_obs - n_obs % 4
        total = np.zeros(p)
        for start in range(0, body, GEMV_T_BLOCK):
            stop = min(start + GEMV_T_BLOCK, body)
            # X' for the block, p x block in C order as the full X' is (X is Fortran-ordered); in
            # F order numpy would call dgemv_n instead, whose sums differ. ``a[:, idx]`` is F-ordered.
            block_t = np.take(self._columns_by_cell, self.rows[start:stop], axis=1)
            total = total + block_t @ y[start:stop]
        if body < n_obs:  # the kernel adds the last n % 4 rows as total + (x_0 y_0 + x_1 y_1 + ...)
            last = self._cells[self.rows[body:]]
            part = last[0] * y[body]
            for x_row, y_value in zip(last[1:], y[body + 1:]):
                part = part + x_row * y_value
            total = total + part
        return total


def fit_random_intercept_reml(y: np.ndarray, exog: CellDesign, groups, design_info=None) -> RandomInterceptResult:
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
    with a random intercept (tests/reference), in linear time. ``exog`` is the design ``X`` as a
    :class:`CellDesign`; its products equal those of the full matrix to the bit.
    """
    from scipy import optimize, sparse

    y = np.asarray(y, dtype=float)
    codes, _ = pd.factorize(np.asarray(groups))
    n_obs, p = exog.shape
    member = sparse.csr_matrix((np.ones(n_obs), (codes, np.arange(n_obs))), shape=(codes.max() + 1, n_obs))
    n = np.asarray(member.sum(axis=1)).ravel()
    S = exog.group_sums(codes, member.shape[0])  # member @ X
    t = member @ y
    XtX, Xty = exog.gram(), exog.transpose_dot(y)

    # The optimiser's best point, and g = 0 when it is the maximum, are solved again after the
    # search: each g is solved once and its arrays reused (the same g gives the same arrays).
    solved: dict[float, tuple] = {}

    def solve(g: float):
        if float(g) not in solved:
            c = g / (1.0 + g * n)
            A = XtX - (S * c[:, None]).T @ S
            beta = np.linalg.solve(A, Xty - S.T @ (c * t))
            r = y - exog.dot(beta)
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
    names = exog.columns
    return RandomInterceptResult(pd.Series(beta, index=names),
                                 pd.DataFrame(s2 * np.linalg.inv(A), index=names, columns=names),
                                 pd.DataFrame([[g * s2]], index=["Group"], columns=["Group"]), s2, converged,
                                 design_info)


def _model_matrix(data: pd.DataFrame, column: str) -> tuple[CellDesign, object]:
    """Design of :data:`FORMULA`'s right-hand side for ``data``: patsy on the distinct arm x
    visit cells (patsy on a million rows takes seconds), with each row's cell number."""
    from patsy import dmatrix

    keys = data[["ARM", "AVISITN"]]
    # Each row's cell, numbered in order of first appearance.
    rows = keys.groupby(["ARM", "AVISITN"], sort=False).ngroup().to_numpy()
    if len(rows) and (rows >= 0).all():
        # The cells are the first row of each number (what drop_duplicates keeps), found from
        # the numbers instead of hashing the keys a second time.
        cells = keys.iloc[np.unique(rows, return_index=True)[1]].reset_index(drop=True)
    else:  # a missing key (no cell number): the cells as drop_duplicates gives them
        cells = keys.drop_duplicates().reset_index(drop=True)
    design = dmatrix(FORMULA.format(y=column).split("~", 1)[1], cells, return_type="dataframe")
    return CellDesign(design, rows), design.design_info


def _has_two_patients(data: pd.DataFrame, arm: str) -> bool:
    """Whether ``arm`` has at least two distinct patients (``USUBJID``) in ``data``: some id
    differs from the first, found without hashing every id as a distinct count would.

    The arm's rows are searched in growing prefixes (64 rows, then 64 times more each step),
    so a table of many patients is answered from its first rows instead of a comparison of
    every id; an arm of one patient is still compared in full.

    Examples
    --------
    >>> f = pd.DataFrame({"USUBJID": ["a", "a", None, "b"], "ARM": ["MSC", "MSC", "MSC+IFNG", "MSC+IFNG"]})
    >>> _has_two_patients(f, "MSC"), _has_two_patients(f, "MSC+IFNG")
    (False, False)
    >>> _has_two_patients(f.assign(ARM="MSC"), "MSC")
    True
    """
    rows = np.flatnonzero(data["ARM"].to_numpy() == arm)
    ids = data["USUBJID"].to_numpy()
    first, start, stop = None, 0, 64
    while start < len(rows):
        chunk = ids[rows[start:stop]]
        chunk = chunk[pd.notna(chunk)]
        if first is None and len(chunk):
            first = chunk[0]
        if first is not None and bool((chunk != first).any()):
            return True
        start, stop = stop, stop * 64
    return False


def fit_change_model(frame: pd.DataFrame, outcome: str, min_per_arm: int = MIN_PER_ARM) -> ChangeModel:
    """Fit :data:`FORMULA` with a random intercept per patient (REML) for one outcome
    (:func:`fit_random_intercept_reml`).

    Raises ``ValueError`` when fewer than one visit or two patients per arm remain.
    """
    column = OUTCOMES[outcome][0]
    data = filter_model_visits(frame, column, min_per_arm)
    if data.empty or not all(_has_two_patients(data, arm) for arm in ARMS):
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
    # Observations per visit and arm, counted in one pass over the model's rows.
    cell_counts = model.data.groupby(["AVISITN", "ARM"]).size().unstack("ARM", fill_value=0)
    for visit in model.visits_:
        grid = pd.DataFrame({"ARM": list(ARMS), "AVISITN": [visit] * len(ARMS), "_y": 0.0})
        grid = grid.rename(columns={"_y": OUTCOMES[model.outcome][0]})
        design = _design(model, grid)
        counts = cell_counts.loc[visit]
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
