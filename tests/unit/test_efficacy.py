"""Unit tests of analysis.efficacy: time-point table, response rates, change scores, tests.

Hand-built inputs; expected values are worked out by hand in each docstring (or, for the two
test statistics, compared with scipy called directly on the hand-built table). Frames are
compared after sorting by (USUBJID, TIMEPOINT) or (endpoint, arm, timepoint).
"""
from __future__ import annotations

import math
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from analysis import efficacy
from analysis.efficacy import (
    CHANGE_ENDPOINTS,
    RESPONSE_ENDPOINTS,
    compare_change_scores,
    compare_response_rates,
    derive_efficacy_timepoints,
    summarise_change_scores,
    summarise_response_rates,
    tabulate_efficacy,
)
from analysis.endpoints import HAQ_CATEGORIES

# ----------------------------------------------------------------------------- hand-built visits
#: Baseline: ACR core set 10 tender, 10 swollen, globals and pain 50 mm, ESR 30, HAQ-DI 2.
BASELINE = {"TJC28": 8, "SJC28": 6, "TJC68": 10, "SJC66": 10, "ESR": 30.0, "CRP": 10.0,
            "PTGA": 50.0, "PHGA": 50.0, "PAIN": 50.0, "HAQ": 2}
#: Every ACR measure improves by >= 50 % (joints 10 -> 5, globals/pain 50 -> 20, ESR 30 -> 15,
#: HAQ-DI 2 -> 1): ACR20 and ACR50 True, ACR70 False.
RESPONSE = {"TJC28": 4, "SJC28": 3, "TJC68": 5, "SJC66": 5, "ESR": 15.0, "CRP": 5.0,
            "PTGA": 20.0, "PHGA": 20.0, "PAIN": 20.0, "HAQ": 1}


def visit(usubjid: str, month: int, values: dict) -> dict:
    row = {"USUBJID": usubjid, "AVISITN": month,
           "ADT": pd.Timestamp("2017-01-01") + pd.Timedelta(days=30 * month)}
    row.update({k: v for k, v in values.items() if k != "HAQ"})
    row.update({c: values["HAQ"] for c in HAQ_CATEGORIES})
    return row


def visits_frame(rows: list[dict]) -> pd.DataFrame:
    frame = pd.DataFrame(rows)
    for col in ("AVISITN", "TJC28", "SJC28", "TJC68", "SJC66", *HAQ_CATEGORIES):
        frame[col] = frame[col].astype("Int64")
    return frame


def dataset() -> SimpleNamespace:
    """A: MSC completer, responds at years 1 and 3, not at year 5.
    B: MSC, discontinued after year 1 (responder there), no later visits.
    C: MSC+IFNG completer, responds at years 1 and 5, year-3 visit missing."""
    subjects = pd.DataFrame({
        "USUBJID": ["A", "B", "C"],
        "ARM": ["MSC", "MSC", "MSC+IFNG"],
        "EOSSTT": ["COMPLETED", "DISCONTINUED", "COMPLETED"],
        "TRTSDT": pd.to_datetime(["2017-01-01"] * 3),
    })
    visits = visits_frame([
        visit("A", 0, BASELINE), visit("A", 12, RESPONSE), visit("A", 36, RESPONSE),
        visit("A", 60, BASELINE),
        visit("B", 0, BASELINE), visit("B", 12, RESPONSE),
        visit("C", 0, BASELINE), visit("C", 12, RESPONSE), visit("C", 60, RESPONSE),
    ])
    return SimpleNamespace(subjects=subjects, visits=visits, adverse_events=None, medications=None)


def flags(frame: pd.DataFrame, column: str) -> dict:
    """{(USUBJID, TIMEPOINT): value}, with <NA> as None, for easy comparison."""
    return {(u, t): (None if pd.isna(v) else bool(v))
            for u, t, v in zip(frame["USUBJID"], frame["TIMEPOINT"], frame[column])}


# ----------------------------------------------------------------------------- derive_efficacy_timepoints
def test_timepoints_completers_have_one_row_per_completer_and_year():
    """Test 1: completers A and C x (year1, year3, year5) = 6 rows; B (discontinued) absent;
    AVISITN 12, 36, 60."""
    out = derive_efficacy_timepoints(dataset(), "completers").sort_values(["USUBJID", "AVISITN"])
    assert list(zip(out["USUBJID"], out["TIMEPOINT"], out["AVISITN"].astype(int))) == [
        ("A", "year1", 12), ("A", "year3", 36), ("A", "year5", 60),
        ("C", "year1", 12), ("C", "year3", 36), ("C", "year5", 60)]


def test_timepoints_carry_response_flags_of_the_visit():
    """Test 2: A responds (ACR20) at years 1 and 3, not at 5 (back to baseline values); ACR50 as
    ACR20 (every measure improved exactly 50 % or more); ACR70 never."""
    out = derive_efficacy_timepoints(dataset(), "completers")
    a = out[out["USUBJID"] == "A"]
    assert flags(a, "ACR20") == {("A", "year1"): True, ("A", "year3"): True, ("A", "year5"): False}
    assert flags(a, "ACR50") == flags(a, "ACR20")
    assert set(flags(a, "ACR70").values()) == {False}


def test_completers_keep_a_missing_visit_as_missing():
    """Test 3: C has no month-36 visit: under "completers" its year-3 response is <NA> (not
    evaluable) and its year-3 change score NaN."""
    out = derive_efficacy_timepoints(dataset(), "completers")
    c3 = out[(out["USUBJID"] == "C") & (out["TIMEPOINT"] == "year3")]
    assert len(c3) == 1
    for col in RESPONSE_ENDPOINTS.values():
        assert pd.isna(c3[col].iloc[0])
    assert np.isnan(float(c3["DAS28ESR_CHG"].iloc[0]))


def test_randomised_nri_makes_a_dropouts_missing_response_a_non_responder():
    """Test 4: under "randomised" (NRI) B, discontinued after year 1, has rows for years 3 and 5
    with every response False; B's observed year-1 response stays True."""
    out = derive_efficacy_timepoints(dataset(), "randomised")
    b = out[out["USUBJID"] == "B"]
    assert flags(b, "ACR20") == {("B", "year1"): True, ("B", "year3"): False, ("B", "year5"): False}
    for col in RESPONSE_ENDPOINTS.values():
        assert b.loc[b["TIMEPOINT"] == "year3", col].tolist() == [False]


def test_discontinued_patient_is_absent_under_completers():
    """Test 5: the same year-3 response of B is absent (no row at all) under "completers", and
    present as False under "randomised": 6 versus 9 rows."""
    completers = derive_efficacy_timepoints(dataset(), "completers")
    randomised = derive_efficacy_timepoints(dataset(), "randomised")
    assert "B" not in set(completers["USUBJID"])
    assert len(completers) == 6 and len(randomised) == 9
    assert flags(randomised, "ACR20")[("B", "year3")] is False


def test_randomised_nri_imputes_responses_not_change_scores():
    """Test 6: NRI fills response flags only; C's year-3 change score stays NaN (summarised over
    observed values), and C's year-3 remission becomes False."""
    out = derive_efficacy_timepoints(dataset(), "randomised")
    c3 = out[(out["USUBJID"] == "C") & (out["TIMEPOINT"] == "year3")]
    assert np.isnan(float(c3["DAS28ESR_CHG"].iloc[0]))
    assert np.isnan(float(c3["HAQDI_CHG"].iloc[0]))
    assert c3["REMISSION"].tolist() == [False]


def test_timepoints_change_scores_are_visit_minus_baseline():
    """Test 7: HAQ-DI change at a response visit is 1 - 2 = -1; at A's year 5 (baseline values
    again) both changes are 0."""
    out = derive_efficacy_timepoints(dataset(), "completers").set_index(["USUBJID", "TIMEPOINT"])
    assert out.loc[("A", "year1"), "HAQDI_CHG"] == pytest.approx(-1.0, abs=1e-12)
    assert out.loc[("A", "year5"), "HAQDI_CHG"] == pytest.approx(0.0, abs=1e-12)
    assert out.loc[("A", "year5"), "DAS28ESR_CHG"] == pytest.approx(0.0, abs=1e-12)


# ----------------------------------------------------------------------------- summarise_response_rates
def response_frame(arm: str, timepoint: str, n: int, responders: dict[str, int]) -> pd.DataFrame:
    """n rows; for each response column the first k rows are True, the rest False."""
    data = {"ARM": [arm] * n, "TIMEPOINT": [timepoint] * n}
    for column in RESPONSE_ENDPOINTS.values():
        k = responders.get(column, 0)
        data[column] = pd.array([True] * k + [False] * (n - k), dtype="boolean")
    return pd.DataFrame(data)


def test_response_rate_2_of_69_is_2_9_with_sd_16_8():
    """Test 8: 2/69 -> pct 200/69 = 2.898551 and SD 100*sqrt(p(1-p)) = 100*sqrt(2*67)/69 =
    16.776575 (printed 16.8; the n-1 SD would print 16.9)."""
    eff = response_frame("MSC", "year5", 69, {"REMISSION": 2})
    row = summarise_response_rates(eff).query("endpoint == 'das28_remission'").iloc[0]
    assert (row["arm"], row["timepoint"], row["n"], row["responders"]) == ("msc", "year5", 69, 2)
    assert row["pct"] == pytest.approx(200 / 69, abs=1e-12)
    assert row["pct"] == pytest.approx(2.898550724637681, abs=1e-12)
    assert row["sd"] == pytest.approx(100 * math.sqrt(134) / 69, abs=1e-12)
    assert row["sd"] == pytest.approx(16.776575, abs=1e-6)
    assert round(row["sd"], 1) == 16.8


def test_response_rate_sd_uses_denominator_n():
    """Test 9: 4/28 -> SD 100*sqrt(4*24)/28 = 34.992711 (prints 35.0; the n-1 SD gives 35.6)."""
    eff = response_frame("MSC+IFNG", "year1", 28, {"ACR70": 4})
    row = summarise_response_rates(eff).query("endpoint == 'acr70'").iloc[0]
    assert row["pct"] == pytest.approx(100 * 4 / 28, abs=1e-12)
    assert row["sd"] == pytest.approx(100 * math.sqrt(96) / 28, abs=1e-12)
    assert round(row["sd"], 1) == 35.0


def test_response_rate_excludes_missing_from_n():
    """Test 10: [True, False, <NA>, <NA>] -> n 2, 1 responder, 50 %, SD 50."""
    eff = response_frame("MSC", "year3", 4, {})
    eff["ACR20"] = pd.array([True, False, pd.NA, pd.NA], dtype="boolean")
    row = summarise_response_rates(eff).query("endpoint == 'acr20'").iloc[0]
    assert (row["n"], row["responders"], row["pct"], row["sd"]) == (2, 1, 50.0, 50.0)


def test_response_rates_one_row_per_endpoint_arm_timepoint():
    """Test 11: 5 endpoints x 2 arms x 2 time points = 20 rows, each group counted apart:
    MSC year1 LDA 3/10 = 30 %, MSC+IFNG year3 LDA 5/5 = 100 % (SD 0)."""
    eff = pd.concat([
        response_frame("MSC", "year1", 10, {"LDA": 3}),
        response_frame("MSC", "year3", 10, {"LDA": 1}),
        response_frame("MSC+IFNG", "year1", 5, {"LDA": 4}),
        response_frame("MSC+IFNG", "year3", 5, {"LDA": 5}),
    ], ignore_index=True)
    table = summarise_response_rates(eff)
    assert len(table) == 20
    lda = table[table["endpoint"] == "das28_lda"].set_index(["arm", "timepoint"])
    assert lda["pct"].to_dict() == {("msc", "year1"): 30.0, ("msc", "year3"): 10.0,
                                    ("msc_ifng", "year1"): 80.0, ("msc_ifng", "year3"): 100.0}
    assert lda.loc[("msc_ifng", "year3"), "sd"] == 0.0


def test_response_rate_with_nothing_evaluable_is_nan():
    """Test 12: a group with only <NA> responses has n 0 and pct/SD NaN (no division by zero)."""
    eff = response_frame("MSC", "year5", 2, {})
    eff["ACR50"] = pd.array([pd.NA, pd.NA], dtype="boolean")
    row = summarise_response_rates(eff).query("endpoint == 'acr50'").iloc[0]
    assert row["n"] == 0 and np.isnan(row["pct"]) and np.isnan(row["sd"])


# ----------------------------------------------------------------------------- summarise_change_scores
def change_frame(arm, timepoint, das, haq) -> pd.DataFrame:
    return pd.DataFrame({"ARM": arm, "TIMEPOINT": timepoint, "DAS28ESR_CHG": das, "HAQDI_CHG": haq})


def test_change_score_mean_and_sample_sd():
    """Test 13: [-1, -2, -4]: mean -7/3; deviations 4/3, 1/3, -5/3, squares sum 42/9, / (n-1 = 2)
    = 7/3, SD sqrt(7/3) = 1.527525."""
    table = summarise_change_scores(change_frame("MSC", "year1", [-1.0, -2.0, -4.0], [0.0, 0.0, 0.0]))
    row = table.query("endpoint == 'delta_das28_esr'").iloc[0]
    assert row["n"] == 3
    assert row["mean"] == pytest.approx(-7 / 3, abs=1e-12)
    assert row["sd"] == pytest.approx(math.sqrt(7 / 3), abs=1e-12)
    assert row["sd"] == pytest.approx(1.5275252, abs=1e-7)


def test_change_score_ignores_missing_values():
    """Test 14: HAQ changes [-0.5, NaN, -1.0]: n 2, mean -0.75, SD |(-0.5) - (-1.0)| / sqrt(2)."""
    table = summarise_change_scores(change_frame("MSC+IFNG", "year3", [0.0, 0.0, 0.0], [-0.5, np.nan, -1.0]))
    row = table.query("endpoint == 'delta_haq_di'").iloc[0]
    assert (row["arm"], row["timepoint"], row["n"]) == ("msc_ifng", "year3", 2)
    assert row["mean"] == pytest.approx(-0.75, abs=1e-12)
    assert row["sd"] == pytest.approx(0.5 / math.sqrt(2), abs=1e-12)


def test_change_score_single_value_has_nan_sd():
    """Test 15: one observed value: mean is the value, sample SD undefined (NaN)."""
    table = summarise_change_scores(change_frame("MSC", "year5", [-2.5], [np.nan]))
    das = table.query("endpoint == 'delta_das28_esr'").iloc[0]
    haq = table.query("endpoint == 'delta_haq_di'").iloc[0]
    assert das["mean"] == -2.5 and np.isnan(das["sd"])
    assert haq["n"] == 0 and np.isnan(haq["mean"])


# ----------------------------------------------------------------------------- compare_response_rates
def test_chi_square_by_hand_formula():
    """Test 16: 2/69 vs 7/28: a=2, b=67, c=7, d=21, N=97; chi2 = N(ad-bc)^2 / (r1 r2 c1 c2) =
    97 * 427^2 / (69 * 28 * 9 * 88) = 11.5583; p = chi2.sf(11.5583, 1) = 0.00067."""
    r = compare_response_rates(2, 69, 7, 28)
    by_hand = 97 * 427 ** 2 / (69 * 28 * 9 * 88)
    assert r.statistic == pytest.approx(by_hand, rel=1e-12)
    assert r.p_value == pytest.approx(stats.chi2.sf(by_hand, 1), rel=1e-9)
    assert round(r.p_value, 5) == 0.00067


@pytest.mark.parametrize("ka, na, kb, nb", [(2, 69, 7, 28), (20, 69, 8, 28), (60, 69, 27, 28), (1, 5, 4, 6)])
def test_chi_square_matches_scipy_without_correction(ka, na, kb, nb):
    """Test 17: statistic and p equal scipy's chi2_contingency(correction=False) on the table."""
    chi2, p, _dof, _exp = stats.chi2_contingency([[ka, na - ka], [kb, nb - kb]], correction=False)
    r = compare_response_rates(ka, na, kb, nb)
    assert r.statistic == pytest.approx(chi2, rel=1e-12)
    assert r.p_value == pytest.approx(p, rel=1e-12)
    assert r.test == "chi-square (no continuity correction)"


def test_chi_square_is_not_yates_corrected():
    """Test 18: the Yates-corrected p of 2/69 vs 7/28 is 0.0026; the function's is 0.00067."""
    yates = stats.chi2_contingency([[2, 67], [7, 21]], correction=True)[1]
    assert yates > 0.002
    assert compare_response_rates(2, 69, 7, 28).p_value < 0.001


@pytest.mark.parametrize("ka, na, kb, nb", [(69, 69, 28, 28), (0, 69, 0, 28), (3, 10, 0, 0)])
def test_degenerate_tables_give_p_1(ka, na, kb, nb):
    """Test 19: a zero margin (100 % vs 100 %, 0 % vs 0 %, an empty arm) has nothing to test:
    statistic 0 and p = 1, no exception."""
    r = compare_response_rates(ka, na, kb, nb)
    assert (r.statistic, r.p_value) == (0.0, 1.0)


# ----------------------------------------------------------------------------- compare_change_scores
def test_t_test_by_hand():
    """Test 20: a = [-1, -1.5, -0.5] (mean -1), b = [-2.5, -3, -2] (mean -2.5), both variance
    0.25: pooled SE sqrt(0.25 (1/3 + 1/3)) = sqrt(1/6); t = 1.5 / sqrt(1/6) = 3.674235;
    df = 4; p = 2 t.sf(t, 4)."""
    r = compare_change_scores(pd.Series([-1.0, -1.5, -0.5]), pd.Series([-2.5, -3.0, -2.0]))
    t = 1.5 / math.sqrt(1 / 6)
    assert r.statistic == pytest.approx(t, rel=1e-12)
    assert r.statistic == pytest.approx(3.674235, abs=1e-6)
    assert r.p_value == pytest.approx(2 * stats.t.sf(t, 4), rel=1e-9)
    assert r.test == "Student t-test"


def test_t_test_matches_scipy_and_drops_missing():
    """Test 21: NaN values are dropped before scipy's ttest_ind(equal_var=True)."""
    a = pd.Series([-1.2, np.nan, -0.4, -2.0, -1.1])
    b = pd.Series([-3.0, -2.2, np.nan, -2.9])
    expected = stats.ttest_ind([-1.2, -0.4, -2.0, -1.1], [-3.0, -2.2, -2.9], equal_var=True)
    r = compare_change_scores(a, b)
    assert r.statistic == pytest.approx(expected.statistic, rel=1e-12)
    assert r.p_value == pytest.approx(expected.pvalue, rel=1e-12)


def test_t_test_is_not_welch():
    """Test 22: with unequal variances and sizes the pooled and Welch p-values differ; the
    function gives the pooled one."""
    a, b = pd.Series([0.0, 0.1, -0.1, 0.05, -0.05, 0.0]), pd.Series([-1.0, 1.0, -3.0])
    pooled = stats.ttest_ind(a, b, equal_var=True).pvalue
    welch = stats.ttest_ind(a, b, equal_var=False).pvalue
    assert abs(pooled - welch) > 0.01
    assert compare_change_scores(a, b).p_value == pytest.approx(pooled, rel=1e-12)


# ----------------------------------------------------------------------------- tabulate_efficacy
def table3_frame() -> pd.DataFrame:
    """Year 1, 69 MSC vs 28 MSC+IFNG patients.
    remission 2/69 vs 7/28 (p 0.00067, marker); LDA 20/69 vs 8/28 (p ~ 0.97); ACR20 100 % vs
    100 % (p 1); ACR50 10/69 vs 10/28 (p ~ 0.019: < 0.05 but no marker); ACR70 0 % vs 0 %;
    DAS28 change about -1 vs -3 (p << 0.001, marker); HAQ change about equal halves of -0.5 and
    -0.25 in both arms (p ~ 0.95)."""
    msc = response_frame("MSC", "year1", 69, {"REMISSION": 2, "LDA": 20, "ACR20": 69, "ACR50": 10})
    ifng = response_frame("MSC+IFNG", "year1", 28, {"REMISSION": 7, "LDA": 8, "ACR20": 28, "ACR50": 10})
    msc["DAS28ESR_CHG"] = [-1.0, -1.1, -0.9] * 23
    ifng["DAS28ESR_CHG"] = ([-3.0, -3.1, -2.9] * 10)[:28]
    msc["HAQDI_CHG"] = [-0.5, -0.25] * 34 + [-0.5]
    ifng["HAQDI_CHG"] = [-0.5, -0.25] * 14
    return pd.concat([msc, ifng], ignore_index=True)


def test_tabulate_efficacy_rows_and_values():
    """Test 23: 7 endpoints x 2 arms = 14 rows; value is pct for responses, mean for changes
    (remission MSC 200/69, DAS28 change MSC+IFNG mean of the 28 values)."""
    tidy = tabulate_efficacy(table3_frame())
    assert len(tidy) == 14
    assert set(tidy["endpoint"]) == set(RESPONSE_ENDPOINTS) | set(CHANGE_ENDPOINTS)
    t = tidy.set_index(["endpoint", "arm"])
    assert t.loc[("das28_remission", "msc"), "value"] == pytest.approx(200 / 69, abs=1e-12)
    assert t.loc[("delta_das28_esr", "msc_ifng"), "value"] == pytest.approx(
        np.mean(([-3.0, -3.1, -2.9] * 10)[:28]), abs=1e-12)


def test_tabulate_efficacy_p_value_shared_by_both_arm_rows():
    """Test 24: each endpoint's test is on both of its arm rows, equal to the direct call."""
    t = tabulate_efficacy(table3_frame()).set_index(["endpoint", "arm"])
    p = compare_response_rates(2, 69, 7, 28).p_value
    assert t.loc[("das28_remission", "msc"), "p_value"] == pytest.approx(p, rel=1e-12)
    assert t.loc[("das28_remission", "msc_ifng"), "p_value"] == pytest.approx(p, rel=1e-12)
    assert t.loc[("acr20", "msc"), "p_value"] == 1.0


def test_tabulate_efficacy_marker_is_p_below_0_001():
    """Test 25: marker 1 exactly where p < 0.001: remission (0.00067) and the DAS28 change; not
    ACR50 (p ~ 0.019 < 0.05), nor the degenerate ACR20/ACR70, nor LDA or HAQ."""
    tidy = tabulate_efficacy(table3_frame())
    assert (tidy["marker"] == (tidy["p_value"] < 0.001).astype(int)).all()
    marked = set(tidy.loc[tidy["marker"] == 1, "endpoint"])
    assert marked == {"das28_remission", "delta_das28_esr"}
    acr50 = tidy.loc[tidy["endpoint"] == "acr50", "p_value"].iloc[0]
    assert 0.001 < acr50 < 0.05


@pytest.mark.parametrize("p, marker", [(0.001, 0), (0.000999, 1), (0.0010001, 0), (0.0, 1)])
def test_tabulate_efficacy_marker_threshold_is_strict(monkeypatch, p, marker):
    """Test 26: the footnote says P < 0.001, so p = 0.001 exactly is unmarked."""
    monkeypatch.setattr(efficacy, "compare_response_rates",
                        lambda *args: efficacy.ComparisonResult(1.0, p, "stub"))
    tidy = tabulate_efficacy(table3_frame())
    assert set(tidy.loc[tidy["endpoint"].isin(RESPONSE_ENDPOINTS), "marker"]) == {marker}


@pytest.mark.parametrize("population", ["completers", "randomised"])
def test_timepoints_joined_by_patient_rows_equal_the_join_on_text_ids(population):
    """Test: derive_efficacy_timepoints joins visits by (subjects row, time point) integers when
    the subjects are numbered 0..n-1; renumbering the subjects (which forces the join on
    USUBJID and AVISITN) gives the same table, with visits of a patient missing from subjects."""

    from analysis.contract import load_dataset
    from analysis.derived import derivations_not_reused, derive_visit_subject_rows
    from analysis.paths import TEST_DATASET

    data = load_dataset(TEST_DATASET)
    dropped = data.subjects["USUBJID"].iloc[0]  # its visits stay: a patient not in subjects
    subjects = data.subjects.iloc[1:].reset_index(drop=True)
    by_rows = SimpleNamespace(subjects=subjects, visits=data.visits)
    by_text = SimpleNamespace(subjects=subjects.set_axis(subjects.index + 100), visits=data.visits)
    with derivations_not_reused():
        assert derive_visit_subject_rows(by_rows) is not None and derive_visit_subject_rows(by_text) is None
        got = derive_efficacy_timepoints(by_rows, population)
        pd.testing.assert_frame_equal(got, derive_efficacy_timepoints(by_text, population), check_exact=True)
    assert len(got) > 0 and dropped not in set(got["USUBJID"])
