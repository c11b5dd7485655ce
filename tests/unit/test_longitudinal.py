"""Unit tests of analysis.longitudinal: visit selection and the mixed model's estimates.

With complete, balanced data and a saturated fixed part (one mean per arm x visit), the GLS
estimate of each cell mean equals the observed cell mean, and its variance is
(sigma_u^2 + sigma^2) / n under a random intercept (compound symmetry); the tests use these
closed forms as the independent reference.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from analysis.longitudinal import (
    filter_model_visits,
    fit_change_model,
    summarise_change_model,
    summarise_fits,
)


def balanced() -> pd.DataFrame:
    """4 patients per arm, visits 12 and 60, DAS28-ESR changes with patient effects."""
    rng = np.random.default_rng(7)
    rows = []
    for i in range(8):
        arm = "MSC" if i < 4 else "MSC+IFNG"
        patient = rng.normal(0, 0.4)
        for visit, shift in ((12, -1.0), (60, -1.3)):
            value = shift + (-1.2 if arm == "MSC+IFNG" else 0.0) + patient + rng.normal(0, 0.2)
            rows.append({"USUBJID": f"p{i}", "ARM": arm, "AVISITN": visit, "DAS28ESR_CHG": value,
                         "HAQDI_CHG": value / 3})
    return pd.DataFrame(rows)


def test_visits_without_enough_patients_in_every_arm_are_dropped():
    """Test 1: month 24 has one MSC patient -> dropped at min_per_arm = 2; missing values never count."""
    frame = pd.DataFrame({"USUBJID": list("abcdefg"), "ARM": ["MSC"] * 3 + ["MSC+IFNG"] * 4,
                          "AVISITN": [12, 12, 24, 12, 12, 24, 24],
                          "DAS28ESR_CHG": [-1.0, -2.0, -1.5, -2.0, np.nan, -2.5, -3.0]})
    kept = filter_model_visits(frame, "DAS28ESR_CHG", min_per_arm=2)
    assert kept["AVISITN"].unique().tolist() == []  # month 12: IFNG has only 1 observed
    kept = filter_model_visits(frame, "DAS28ESR_CHG", min_per_arm=1)
    assert sorted(kept["AVISITN"].unique()) == [12, 24] and kept["DAS28ESR_CHG"].notna().all()


def test_visits_count_patients_not_rows_in_any_row_order():
    """Test 1b: a patient listed twice at a visit counts once, with the rows in patient order
    or not (rows in strict patient-visit order are counted; otherwise the ids are)."""
    frame = pd.DataFrame({"USUBJID": ["a", "a", "b", "c", "d", "e", "f"],
                          "ARM": ["MSC"] * 3 + ["MSC+IFNG"] * 4,
                          "AVISITN": [12, 24, 12, 12, 12, 24, 24], "Y": [1.0, 2, 3, 4, 5, 6, 7]})
    assert filter_model_visits(frame, "Y").AVISITN.tolist() == [12, 12, 12, 12]
    assert filter_model_visits(frame.iloc[::-1], "Y").AVISITN.tolist() == [12, 12, 12, 12]
    twice = pd.concat([frame, frame.iloc[[1]]]).sort_values(["USUBJID", "AVISITN"], kind="stable")
    assert filter_model_visits(twice, "Y").AVISITN.tolist() == [12, 12, 12, 12]  # month 24: MSC has a only
    other = pd.concat([frame, frame.iloc[[1]].assign(USUBJID="g")])  # a second MSC patient at 24
    assert sorted(filter_model_visits(other, "Y").AVISITN.unique()) == [12, 24]


def test_cell_means_equal_observed_means_in_a_balanced_design():
    """Test 2: model-based arm x visit means = observed means (balanced, complete, saturated)."""
    data = balanced()
    summary = summarise_change_model(fit_change_model(data, "delta_das28_esr"))
    observed = data.groupby(["ARM", "AVISITN"])["DAS28ESR_CHG"].mean()
    for arm, code in (("MSC", "msc"), ("MSC+IFNG", "msc_ifng")):
        for visit in (12, 60):
            est = summary.query("arm == @code and AVISITN == @visit")["estimate"].item()
            assert est == pytest.approx(observed[(arm, visit)], abs=1e-6)


def test_difference_is_combination_minus_monotherapy():
    """Test 3: the 'diff' row is the MSC+IFNG mean minus the MSC mean at the same visit."""
    summary = summarise_change_model(fit_change_model(balanced(), "delta_das28_esr")).set_index(["arm", "AVISITN"])
    for visit in (12, 60):
        assert summary.loc[("diff", visit), "estimate"] == pytest.approx(
            summary.loc[("msc_ifng", visit), "estimate"] - summary.loc[("msc", visit), "estimate"], abs=1e-10)
        assert 0 <= summary.loc[("diff", visit), "p_value"] <= 1


def test_standard_error_of_a_cell_mean_follows_compound_symmetry():
    """Test 4: SE^2 of a cell mean = (var_patient + var_residual) / n with n = 4 patients."""
    model = fit_change_model(balanced(), "delta_das28_esr")
    total = float(model.result_.cov_re.iloc[0, 0]) + float(model.result_.scale)
    summary = summarise_change_model(model)
    se = summary.query("arm == 'msc' and AVISITN == 12")["se"].item()
    assert se ** 2 == pytest.approx(total / 4, rel=1e-4)


def test_confidence_interval_is_wald():
    """Test 5: CI = estimate -/+ 1.959964 SE."""
    summary = summarise_change_model(fit_change_model(balanced(), "delta_haq_di"))
    row = summary.iloc[0]
    assert row.ci_low == pytest.approx(row.estimate - 1.959964 * row.se, abs=1e-6)
    assert row.ci_high == pytest.approx(row.estimate + 1.959964 * row.se, abs=1e-6)


def test_fit_refuses_data_with_no_modelable_visit():
    """Test 6: one patient per arm -> ValueError naming the outcome."""
    frame = balanced().query("USUBJID in ['p0', 'p4']")
    with pytest.raises(ValueError, match="delta_das28_esr"):
        fit_change_model(frame, "delta_das28_esr")


def test_fit_refuses_an_arm_with_one_patient_seen_at_several_visits():
    """Test 6b: every visit kept (min_per_arm=1) but MSC has one patient (two rows): refused."""
    frame = balanced().query("USUBJID in ['p0', 'p4', 'p5']")
    with pytest.raises(ValueError, match="delta_das28_esr"):
        fit_change_model(frame, "delta_das28_esr", min_per_arm=1)
    model = fit_change_model(balanced().query("USUBJID in ['p0', 'p1', 'p4', 'p5']"), "delta_das28_esr",
                             min_per_arm=1)
    assert model.data["USUBJID"].nunique() == 4  # two patients per arm: fitted


@pytest.mark.parametrize("first_rows", [1, 63, 64, 65, 4095, 4096, 4097, 300_000])
def test_two_patients_found_wherever_the_second_one_starts(first_rows):
    """Test 6c: an arm whose second patient starts after ``first_rows`` rows of the first (the
    search looks at growing prefixes: 64, 4096, ... rows), with missing ids before it."""
    from analysis.longitudinal import _has_two_patients

    ids = np.array([None] + ["p1"] * first_rows + [None, "p2"], dtype=object)
    data = pd.DataFrame({"USUBJID": ids, "ARM": "MSC"})
    assert _has_two_patients(data, "MSC")
    assert not _has_two_patients(data.iloc[:-1], "MSC")  # only p1 (and missing ids)
    assert not _has_two_patients(data, "MSC+IFNG")  # no row of that arm
    other_arm = data.assign(ARM=["MSC"] * (len(data) - 1) + ["MSC+IFNG"])
    assert not _has_two_patients(other_arm, "MSC")  # p2 is in the other arm


def test_fit_summary_reports_convergence_and_size():
    """Test 7: one row per outcome with patients, observations and the converged flag."""
    data = balanced()
    models = {"delta_das28_esr": fit_change_model(data, "delta_das28_esr")}
    table = summarise_fits(models)
    assert table.loc["delta_das28_esr", "patients"] == 8
    assert table.loc["delta_das28_esr", "observations"] == 16
    assert table.loc["delta_das28_esr", "visits"] == "2 (months 12 to 60)"
    assert bool(table.loc["delta_das28_esr", "converged"])


def test_model_matrix_rows_are_their_cells_design_rows():
    """Each row of the fit's design is its arm x visit cell's design row (patsy on the full
    data gives the same matrix)."""
    from patsy import dmatrix

    from analysis.longitudinal import FORMULA, _model_matrix

    data = balanced().sample(frac=1.0, random_state=3).reset_index(drop=True)
    design, _info = _model_matrix(data, "DAS28ESR_CHG")
    expected = dmatrix(FORMULA.format(y="DAS28ESR_CHG").split("~", 1)[1], data, return_type="dataframe")
    assert design.columns == list(expected.columns)
    full = design.to_frame()
    np.testing.assert_array_equal(full.to_numpy(), expected.to_numpy())
    assert full.index.equals(pd.RangeIndex(len(data)))


def random_cell_design(n_rows: int, seed: int):
    """A treatment-coded 2-arm x 6-visit design (12 cells, 0/1), rows in random cell order."""
    from analysis.longitudinal import CellDesign

    rng = np.random.default_rng(seed)
    arm, visit = np.repeat([0, 1], 6), np.tile(np.arange(6), 2)
    cells = np.column_stack([np.ones(12), arm, *(visit == v for v in range(1, 6)),
                             *(arm * (visit == v) for v in range(1, 6))]).astype(float)
    columns = ["Intercept", "arm", *(f"v{v}" for v in range(1, 6)), *(f"arm:v{v}" for v in range(1, 6))]
    return CellDesign(pd.DataFrame(cells, columns=columns), rng.integers(0, 12, n_rows)), rng


@pytest.mark.parametrize("n_rows", [3, 30, 2047, 2048, 3 * 2048 + 1, 3 * 2048 + 2, 3 * 2048 + 3, 3 * 2048 + 4])
def test_cell_design_products_equal_the_full_matrix_to_the_bit(n_rows):
    """The REML fit's products from the cells equal BLAS's on the full Fortran-ordered matrix
    bit for bit (the registry's values depend on it): X'X, per-group sums, X beta, and X'y,
    whose BLAS sum runs in 2048-row blocks (sizes around the block and the 4-row tail)."""
    design, rng = random_cell_design(n_rows, seed=n_rows)
    X = np.asfortranarray(design.to_frame().to_numpy())
    y = rng.normal(0, 1, n_rows) * 10.0 ** rng.integers(-3, 4, n_rows)
    groups = rng.integers(0, max(n_rows // 5, 1), n_rows)
    n_groups = groups.max() + 1
    per_group = np.column_stack([np.bincount(groups, weights=X[:, k], minlength=n_groups) for k in range(X.shape[1])])
    assert np.array_equal(design.gram(), X.T @ X)
    assert np.array_equal(design.group_sums(groups, n_groups), per_group)
    assert design.group_sums(groups, n_groups).flags["C_CONTIGUOUS"]
    assert np.array_equal(design.transpose_dot(y), X.T @ y)
    for _ in range(5):
        beta = rng.normal(0, 1, X.shape[1]) * 10.0 ** rng.integers(-3, 4, X.shape[1])
        assert np.array_equal(design.dot(beta), X @ beta)


def test_cell_design_refuses_entries_other_than_0_and_1():
    """The exact integer counts need a 0/1 design: anything else is refused."""
    from analysis.longitudinal import CellDesign

    with pytest.raises(ValueError, match="0 or 1"):
        CellDesign(pd.DataFrame({"x": [0.5, 1.0]}), np.array([0, 1]))
