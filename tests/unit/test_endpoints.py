"""Unit tests of analysis.endpoints: hand-built inputs, expected values worked out by hand.

One behaviour per test (pharmaverse/admiral style); tables are compared after sorting by
USUBJID and AVISITN.
"""
from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from analysis.endpoints import (
    HAQ_CATEGORIES,
    classify_das28_activity,
    compute_acr_response,
    compute_das28_crp,
    compute_das28_esr,
    compute_eular_response,
    compute_haq_di,
    compute_percent_improvement,
    derive_acr_response,
    derive_baseline,
    derive_change_from_baseline,
    derive_das28,
    derive_efficacy_endpoints,
    derive_haq_di,
    is_das28_lda,
    is_das28_remission,
)

KEYS = ["USUBJID", "AVISITN"]


def by_key(df: pd.DataFrame) -> pd.DataFrame:
    return df.sort_values(KEYS).reset_index(drop=True)


def boolean(values) -> pd.Series:
    return pd.Series(pd.array(values, dtype="boolean"))


def acr_record(**overrides) -> dict:
    """A baseline record of the ACR core set; every measure 10 (ESR, CRP included)."""
    base = {"TJC68": 10, "SJC66": 10, "PTGA": 10.0, "PHGA": 10.0, "PAIN": 10.0,
            "HAQDI": 1.0, "ESR": 10.0, "CRP": 10.0}
    base.update(overrides)
    return base


# ----------------------------------------------------------------------------- DAS28
def test_das28_esr_formula_on_simple_inputs():
    """Test 1: DAS28-ESR = 0.56*sqrt(4) + 0.28*sqrt(9) + 0.70*ln(e) + 0.014*50 = 3.36."""
    assert compute_das28_esr(4, 9, math.e, 50) == pytest.approx(1.12 + 0.84 + 0.70 + 0.70, abs=1e-12)


def test_das28_esr_is_zero_for_no_activity_and_esr_1():
    """Test 2: no joints, ESR 1 mm/h (ln 1 = 0) and PTGA 0 give exactly 0."""
    assert compute_das28_esr(0, 0, 1, 0) == 0.0


def test_das28_crp_formula_on_simple_inputs():
    """Test 3: DAS28-CRP = 0.56*4 + 0.28*2 + 0.36*ln(0+1) + 0.014*100 + 0.96 = 5.16."""
    assert compute_das28_crp(16, 4, 0, 100) == pytest.approx(2.24 + 0.56 + 0.0 + 1.4 + 0.96, abs=1e-12)


def test_das28_crp_uses_ln_crp_plus_one():
    """Test 4: CRP = e - 1 mg/L contributes 0.36*ln(e) = 0.36 on top of the 0.96 constant."""
    assert compute_das28_crp(0, 0, math.e - 1, 0) == pytest.approx(1.32, abs=1e-12)


@pytest.mark.parametrize("missing", ["tjc28", "sjc28", "apr", "ptga"])
def test_das28_missing_component_gives_nan(missing):
    """Test 5: any missing component (Int64 <NA>, None or NaN) gives NaN, no fallback."""
    args = {"tjc28": pd.Series([4, 4], dtype="Int64"), "sjc28": pd.Series([9, 9], dtype="Int64"),
            "apr": pd.Series([10.0, 10.0]), "ptga": pd.Series([50.0, 50.0])}
    args[missing] = args[missing].astype("Float64")
    args[missing].iloc[1] = pd.NA
    for f in (compute_das28_esr, compute_das28_crp):
        out = f(args["tjc28"], args["sjc28"], args["apr"], args["ptga"])
        assert not np.isnan(out.iloc[0])
        assert np.isnan(out.iloc[1])
    assert np.isnan(compute_das28_esr(None, 9, 10.0, 50.0))


def test_das28_keeps_the_shape_and_index_of_the_input():
    """Test 6: Series -> Series on the same index; ndarray -> ndarray; scalars -> float."""
    s = compute_das28_esr(pd.Series([0, 4], index=[7, 3]), 0, 1.0, 0.0)
    assert isinstance(s, pd.Series) and s.index.tolist() == [7, 3]
    assert s.tolist() == pytest.approx([0.0, 1.12])
    a = compute_das28_crp(np.array([0, 16]), 0, 0.0, 0.0)
    assert isinstance(a, np.ndarray) and a.tolist() == pytest.approx([0.96, 3.2])
    assert isinstance(compute_das28_esr(1, 1, 1.0, 1.0), float)


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda: compute_das28_esr(pd.Series([1, 2]), 1, pd.Series([10.0, 0.0]), 50.0), "esr.*row 1"),
        (lambda: compute_das28_esr(29, 1, 10.0, 50.0), "tjc28"),
        (lambda: compute_das28_crp(1, -1, 1.0, 50.0), "sjc28"),
        (lambda: compute_das28_crp(1, 1, -0.5, 50.0), "crp"),
        (lambda: compute_das28_esr(1, 1, 10.0, 101.0), "ptga"),
    ],
)
def test_das28_out_of_range_input_raises_naming_argument_and_row(call, message):
    """Test 7: ESR <= 0, counts outside 0-28, CRP < 0, PTGA > 100 raise a ValueError."""
    with pytest.raises(ValueError, match=message):
        call()


def test_das28_series_with_different_indexes_raise():
    """Test 8: Series inputs are combined by position, so different indexes are refused."""
    with pytest.raises(ValueError, match="different indexes"):
        compute_das28_esr(pd.Series([1], index=[0]), pd.Series([1], index=[1]), 10.0, 50.0)


# ---------------------------------------------------------------- activity categories
def test_das28_category_exact_cutoffs():
    """Test 9: 2.6 is low (not remission), 3.2 is low, 5.1 is moderate."""
    out = classify_das28_activity(pd.Series([2.6, 3.2, 5.1]))
    assert out.tolist() == ["low", "low", "moderate"]


def test_das28_category_compares_the_score_rounded_to_2_decimals():
    """Test 10: 2.5949->2.59 remission, 2.595->2.60 low, 3.2049 low, 3.2051 moderate,
    5.1049 moderate, 5.105->5.11 high."""
    out = classify_das28_activity(np.array([2.5949, 2.595, 3.2049, 3.2051, 5.1049, 5.105]))
    assert list(out) == ["remission", "low", "low", "moderate", "moderate", "high"]


def test_das28_category_is_ordered_and_missing_stays_missing():
    """Test 11: ordered categories remission < low < moderate < high; NaN -> missing."""
    out = classify_das28_activity(pd.Series([1.0, np.nan, 6.0]))
    assert out.cat.categories.tolist() == ["remission", "low", "moderate", "high"]
    assert out.cat.ordered
    assert out.isna().tolist() == [False, True, False]
    assert (out < "moderate").tolist() == [True, False, False]


def test_remission_flag_is_below_2_6_after_rounding():
    """Test 12: remission is DAS28 < 2.6 on the 2-decimal score; missing -> <NA>."""
    out = is_das28_remission(pd.Series([2.59, 2.5949, 2.595, 2.6, np.nan]))
    pd.testing.assert_series_equal(out, boolean([True, True, False, False, None]))


def test_lda_flag_includes_remission_and_3_2():
    """Test 13: LDA is DAS28 <= 3.2 (remission included); 3.2049 yes, 3.2051 no."""
    out = is_das28_lda(pd.Series([1.0, 2.6, 3.2, 3.2049, 3.2051, np.nan]))
    pd.testing.assert_series_equal(out, boolean([True, True, True, True, False, None]))


def test_flags_on_scalars_return_bool_or_na():
    """Test 14: scalar in -> True/False or pd.NA out."""
    assert is_das28_remission(2.0) is True
    assert is_das28_lda(3.3) is False
    assert is_das28_lda(None) is pd.NA


# ----------------------------------------------------------------------------- EULAR
@pytest.mark.parametrize(
    "baseline, current, expected",
    [
        (4.41, 3.20, "good"),       # improvement 1.21, current <= 3.2
        (4.40, 3.20, "moderate"),   # improvement exactly 1.2 is not > 1.2
        (4.42, 3.21, "moderate"),   # improvement 1.21 but current > 3.2
        (3.80, 3.20, "none"),       # improvement exactly 0.6, current <= 3.2
        (3.81, 3.20, "moderate"),   # improvement 0.61, current <= 3.2
        (5.71, 5.10, "moderate"),   # improvement 0.61, current exactly 5.1
        (5.70, 5.10, "none"),       # improvement exactly 0.6
        (5.72, 5.11, "none"),       # improvement 0.61, current > 5.1
        (6.32, 5.11, "moderate"),   # improvement 1.21, current > 5.1
        (6.31, 5.11, "none"),       # improvement exactly 1.2, current > 5.1
        (3.00, 3.50, "none"),       # worsening
    ],
)
def test_eular_response_boundaries(baseline, current, expected):
    """Test 15: EULAR table at each boundary (improvement 0.6/1.2, current 3.2/5.1)."""
    assert compute_eular_response(baseline, current) == expected


def test_eular_response_rounds_scores_before_the_difference():
    """Test 16: 4.404 -> 3.196 is 1.208 unrounded (good) but 4.40 -> 3.20 = 1.20 as
    reported, hence moderate."""
    assert compute_eular_response(4.404, 3.196) == "moderate"


def test_eular_response_rounds_half_up_despite_binary_representation():
    """Test 17: 4.395 is stored as 4.39499...; it is read as 4.40 (half up), so
    4.395 -> 3.19 is an improvement of 1.21 with current <= 3.2: good."""
    assert compute_eular_response(4.395, 3.19) == "good"


def test_eular_response_missing_score_gives_missing():
    """Test 18: either score missing -> missing; categories ordered none < moderate < good."""
    out = compute_eular_response(pd.Series([np.nan, 5.0, 5.0]), pd.Series([3.0, np.nan, 3.0]))
    assert out.isna().tolist() == [True, True, False]
    assert out.cat.categories.tolist() == ["none", "moderate", "good"]
    assert out.cat.ordered


# ---------------------------------------------------------------------------- HAQ-DI
def haq_frame(rows) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=list(HAQ_CATEGORIES)).astype("Int64")


def test_haq_di_with_8_answered_is_a_multiple_of_one_eighth():
    """Test 19: (0+1+2+3+0+1+2+3)/8 = 1.5 and 1/8 = 0.125."""
    out = compute_haq_di(haq_frame([[0, 1, 2, 3, 0, 1, 2, 3], [1, 0, 0, 0, 0, 0, 0, 0]]))
    assert out.tolist() == [1.5, 0.125]


def test_haq_di_with_6_answered_divides_by_6():
    """Test 20: 6 answered categories summing to 9 give 9/6 = 1.5."""
    out = compute_haq_di(haq_frame([[3, 3, 0, 0, 1, 2, None, None]]))
    assert out.tolist() == [1.5]


def test_haq_di_with_7_answered_divides_by_7():
    """Test 21: 7 answered summing to 7 give 1.0."""
    assert compute_haq_di(haq_frame([[1, 1, 1, 1, 1, 1, 1, None]])).tolist() == [1.0]


def test_haq_di_with_5_answered_is_missing():
    """Test 22: fewer than 6 answered categories -> NaN."""
    out = compute_haq_di(haq_frame([[3, 3, 3, 3, 3, None, None, None]]))
    assert np.isnan(out.iloc[0])


def test_haq_di_ignores_other_columns_and_keeps_the_index():
    """Test 23: extra columns are ignored; the result is on the frame's index."""
    df = haq_frame([[2] * 8]).set_axis([42]).assign(USUBJID="a")
    out = compute_haq_di(df)
    assert out.index.tolist() == [42] and out.tolist() == [2.0]


@pytest.mark.parametrize("bad", [4, -1])
def test_haq_di_invalid_category_score_raises(bad):
    """Test 24: a category score outside {0,1,2,3} raises, naming the column."""
    with pytest.raises(ValueError, match="HAQEAT"):
        compute_haq_di(haq_frame([[0, 0, bad, 0, 0, 0, 0, 0]]))


def test_haq_di_non_integer_score_raises():
    """Test 25: 1.5 is not a category score."""
    with pytest.raises(ValueError, match="HAQDRESS"):
        compute_haq_di(np.array([[1.5, 0, 0, 0, 0, 0, 0, 0]]))


def test_haq_di_missing_category_column_raises():
    """Test 26: a DataFrame without one of the eight columns raises KeyError."""
    with pytest.raises(KeyError, match="HAQACTIV"):
        compute_haq_di(haq_frame([[0] * 8]).drop(columns="HAQACTIV"))


# --------------------------------------------------------------- percent improvement
def test_percent_improvement_formula():
    """Test 27: 10 -> 8 is 20 %, 10 -> 3 is 70 %, 4 -> 5 is -25 % (worsening)."""
    out = compute_percent_improvement(np.array([10, 10, 4]), np.array([8, 3, 5]))
    assert out.tolist() == [20.0, 70.0, -25.0]


def test_percent_improvement_zero_baseline_is_not_evaluable():
    """Test 28: baseline 0 gives NaN, whether the current value is 0 or not."""
    out = compute_percent_improvement(pd.Series([0, 0]), pd.Series([0, 3]))
    assert out.isna().all()


def test_percent_improvement_missing_gives_nan_and_negative_raises():
    """Test 29: missing baseline/current -> NaN; a negative value raises."""
    assert np.isnan(compute_percent_improvement(None, 3))
    assert np.isnan(compute_percent_improvement(3, np.nan))
    with pytest.raises(ValueError, match="current"):
        compute_percent_improvement(3, -1)


def test_percent_improvement_is_not_rounded():
    """Test 30: 0.7 -> 0.56 is 20 % exactly but 19.999999999999986 in floating point; the
    value is returned unrounded (the ACR functions round it)."""
    assert compute_percent_improvement(0.7, 0.56) < 20


# ------------------------------------------------------------------------------- ACR
def test_acr20_exactly_20_percent_everywhere_responds():
    """Test 31: 10 -> 8 in both counts and in 3 core measures (exactly 20 %) is ACR20."""
    cur = acr_record(TJC68=8, SJC66=8, PTGA=8.0, PHGA=8.0, PAIN=8.0)
    assert compute_acr_response(acr_record(), cur, level=20) is True


def test_acr20_just_below_20_percent_in_one_count_fails():
    """Test 32: tender 10 -> 9 (10 %) fails although everything else improves 50 %."""
    cur = acr_record(TJC68=9, SJC66=5, PTGA=5.0, PHGA=5.0, PAIN=5.0, HAQDI=0.5, ESR=5.0)
    assert compute_acr_response(acr_record(), cur, level=20) is False


def test_acr50_and_acr70_at_exact_thresholds():
    """Test 33: 10 -> 5 is exactly 50 % (ACR50, not ACR70); 10 -> 3 is exactly 70 % (ACR70)."""
    half = acr_record(TJC68=5, SJC66=5, PTGA=5.0, PHGA=5.0, PAIN=5.0)
    assert compute_acr_response(acr_record(), half, level=50) is True
    assert compute_acr_response(acr_record(), half, level=70) is False
    seventy = acr_record(TJC68=3, SJC66=3, PTGA=3.0, PHGA=3.0, PAIN=3.0)
    assert compute_acr_response(acr_record(), seventy, level=70) is True


def test_acr_float_noise_does_not_flip_an_exact_threshold():
    """Test 34: CRP 0.7 -> 0.56 (19.999999999999986 % in floats) counts as 20 % with apr=CRP."""
    bl = acr_record(CRP=0.7)
    cur = acr_record(TJC68=8, SJC66=8, PTGA=8.0, PHGA=8.0, CRP=0.56)
    assert compute_acr_response(bl, cur, level=20, apr="CRP") is True


def test_acr_needs_3_of_5_core_measures():
    """Test 35: counts improve but only 2 of 5 core measures do -> not a responder."""
    cur = acr_record(TJC68=5, SJC66=5, PTGA=5.0, PHGA=5.0)
    assert compute_acr_response(acr_record(), cur, level=20) is False


def test_acr_core_measure_with_zero_baseline_is_not_improved():
    """Test 36: HAQ-DI 0 -> 0 does not count; 2 improved + HAQ 0 baseline -> False,
    3 improved + HAQ 0 baseline -> True."""
    bl = acr_record(HAQDI=0.0)
    assert compute_acr_response(bl, acr_record(TJC68=5, SJC66=5, PTGA=5.0, PHGA=5.0, HAQDI=0.0)) is False
    assert compute_acr_response(bl, acr_record(TJC68=5, SJC66=5, PTGA=5.0, PHGA=5.0, PAIN=5.0,
                                               HAQDI=0.0)) is True


def test_acr_missing_core_measure_is_not_improved():
    """Test 37: PAIN missing at the visit counts as not improved (2 of 5 left) -> False."""
    cur = acr_record(TJC68=5, SJC66=5, PTGA=5.0, PHGA=5.0, PAIN=None)
    assert compute_acr_response(acr_record(), cur) is False


def test_acr_zero_baseline_joint_count_is_not_a_responder():
    """Test 38: swollen count 0 at baseline cannot improve by 20 % -> False (not <NA>)."""
    bl = acr_record(SJC66=0)
    cur = acr_record(TJC68=2, SJC66=0, PTGA=2.0, PHGA=2.0, PAIN=2.0, HAQDI=0.0, ESR=2.0)
    assert compute_acr_response(bl, cur, level=20) is False


@pytest.mark.parametrize("when", ["baseline", "current"])
def test_acr_missing_joint_count_is_not_evaluable(when):
    """Test 39: TJC68 missing at baseline or at the visit -> <NA>."""
    bl, cur = acr_record(), acr_record(TJC68=1, SJC66=1, PTGA=1.0, PHGA=1.0, PAIN=1.0)
    (bl if when == "baseline" else cur)["TJC68"] = None
    assert compute_acr_response(bl, cur) is pd.NA


def test_acr_apr_option_selects_the_acute_phase_reactant():
    """Test 40: ESR improves and CRP does not; with 2 other core measures improved the
    patient responds with apr=ESR, not with apr=CRP."""
    cur = acr_record(TJC68=5, SJC66=5, PTGA=5.0, PHGA=5.0, ESR=5.0, CRP=10.0)
    assert compute_acr_response(acr_record(), cur, apr="ESR") is True
    assert compute_acr_response(acr_record(), cur, apr="CRP") is False


def test_acr_worsening_is_not_a_response():
    """Test 41: every measure worse than baseline -> False."""
    cur = {k: v * 2 for k, v in acr_record().items()}
    assert compute_acr_response(acr_record(), cur) is False


def test_acr_on_data_frames_returns_nullable_boolean_on_the_index():
    """Test 42: DataFrames in -> Series[boolean] on their shared index."""
    bl = pd.DataFrame([acr_record(), acr_record()], index=["x", "y"])
    cur = pd.DataFrame([acr_record(TJC68=5, SJC66=5, PTGA=5.0, PHGA=5.0, PAIN=5.0),
                        acr_record(TJC68=None)], index=["x", "y"])
    cur["TJC68"] = cur["TJC68"].astype("Int64")
    out = compute_acr_response(bl, cur, level=50)
    pd.testing.assert_series_equal(out, boolean([True, None]).set_axis(["x", "y"]))


@pytest.mark.parametrize("kwargs", [{"level": 0}, {"level": 120}, {"apr": "PCT"}])
def test_acr_invalid_options_raise(kwargs):
    """Test 43: level outside (0, 100] or an unknown acute-phase reactant raises."""
    with pytest.raises(ValueError):
        compute_acr_response(acr_record(), acr_record(), **kwargs)


def test_acr_missing_column_raises():
    """Test 44: a core-set column absent from the input raises KeyError naming it."""
    cur = acr_record()
    del cur["PHGA"]
    with pytest.raises(KeyError, match="PHGA"):
        compute_acr_response(acr_record(), cur)


# ------------------------------------------------------------------ derive_* (tables)
def visits_frame() -> pd.DataFrame:
    """Three patients, rows deliberately out of order.

    * P1: baseline and months 3, 12; ACR20 at month 3 (with ESR; not with CRP, which
      does not improve), ACR70 at month 12.
    * P2: baseline and month 12; tender count missing at month 12; HAQ 5 answered at 12.
    * P3: no baseline row (month 12 only).
    """
    rows = [
        # USUBJID AVISITN TJC28 SJC28 TJC68 SJC66  ESR   CRP  PTGA PHGA PAIN   HAQ (x8)
        ("P1", 12, 1, 1, 3, 3, 10.0, 1.0, 10.0, 10.0, 10.0, [0] * 8),
        ("P2", 0, 9, 4, 12, 6, 40.0, 15.0, 60.0, 50.0, 60.0, [2] * 8),
        ("P1", 0, 16, 9, 10, 10, 50.0, 20.0, 70.0, 60.0, 70.0, [2] * 8),
        ("P3", 12, 4, 4, 6, 6, 20.0, 5.0, 30.0, 30.0, 30.0, [1] * 8),
        ("P1", 3, 4, 4, 8, 8, 30.0, 20.0, 56.0, 48.0, 70.0, [2] * 8),
        ("P2", 12, 4, 1, None, 2, 20.0, 3.0, 20.0, 20.0, 20.0, [1, 1, 1, 1, 1, None, None, None]),
    ]
    records = []
    for u, v, t28, s28, t68, s66, esr, crp, ptga, phga, pain, haq in rows:
        rec = {"USUBJID": u, "AVISITN": v, "TJC28": t28, "SJC28": s28, "TJC68": t68,
               "SJC66": s66, "ESR": esr, "CRP": crp, "PTGA": ptga, "PHGA": phga, "PAIN": pain}
        rec.update(dict(zip(HAQ_CATEGORIES, haq)))
        records.append(rec)
    df = pd.DataFrame(records)
    int_cols = ["AVISITN", "TJC28", "SJC28", "TJC68", "SJC66", *HAQ_CATEGORIES]
    df[int_cols] = df[int_cols].astype("Int64")
    df.insert(2, "ADT", pd.Timestamp("2016-01-01") + pd.to_timedelta(df["AVISITN"].astype(int) * 30, "D"))
    return df


def test_derive_das28_adds_scores_and_category():
    """Test 45: DAS28ESR/DAS28CRP/DAS28CAT on P1 baseline: 0.56*4 + 0.28*3 + 0.70*ln 50
    + 0.98 = 6.7984 (high); DAS28-CRP = 2.24 + 0.84 + 0.36*ln 21 + 0.98 + 0.96."""
    out = by_key(derive_das28(visits_frame()))
    p1_bl = out[(out.USUBJID == "P1") & (out.AVISITN == 0)].iloc[0]
    assert p1_bl["DAS28ESR"] == pytest.approx(2.24 + 0.84 + 0.70 * math.log(50) + 0.98)
    assert p1_bl["DAS28CRP"] == pytest.approx(2.24 + 0.84 + 0.36 * math.log(21) + 0.98 + 0.96)
    assert p1_bl["DAS28CAT"] == "high"
    assert out["DAS28CAT"].dtype == "category"


def test_derive_haq_di_adds_haqdi():
    """Test 46: HAQDI per row; P2 month 12 has only 5 categories answered -> NaN."""
    out = by_key(derive_haq_di(visits_frame()))
    expected = [2.0, 2.0, 0.0, 2.0, np.nan, 1.0]  # P1 0,3,12; P2 0,12; P3 12
    np.testing.assert_array_equal(out["HAQDI"].to_numpy(), expected)


def test_derive_baseline_copies_each_patients_baseline_value():
    """Test 47: <col>_BL from the AVISITN == 0 row, whatever the row order; a patient
    without baseline gets <NA>; Int64 stays Int64."""
    out = by_key(derive_baseline(visits_frame(), ["TJC68", "ESR"]))
    pd.testing.assert_series_equal(
        out["TJC68_BL"], pd.Series([10, 10, 10, 12, 12, None], dtype="Int64", name="TJC68_BL"))
    pd.testing.assert_series_equal(
        out["ESR_BL"], pd.Series([50.0, 50.0, 50.0, 40.0, 40.0, np.nan], name="ESR_BL"))


def test_derive_baseline_with_two_baseline_rows_raises():
    """Test 48: two AVISITN == 0 rows for one patient is invalid data."""
    v = visits_frame()
    v = pd.concat([v, v[(v.USUBJID == "P2") & (v.AVISITN == 0)]], ignore_index=True)
    with pytest.raises(ValueError, match="'P2' has 2 baseline rows"):
        derive_baseline(v, ["ESR"])


def test_derive_change_from_baseline_computes_bl_when_absent():
    """Test 49: ESR_CHG = ESR - ESR_BL; 0 on baseline rows, NaN without a baseline."""
    out = by_key(derive_change_from_baseline(visits_frame(), "ESR"))
    np.testing.assert_array_equal(out["ESR_CHG"].to_numpy(), [0.0, -20.0, -40.0, 0.0, -20.0, np.nan])


def test_derive_change_from_baseline_uses_an_existing_bl_column():
    """Test 50: an existing <col>_BL column is used as is."""
    v = visits_frame().assign(ESR_BL=100.0)
    out = by_key(derive_change_from_baseline(v, "ESR"))
    assert out["ESR_CHG"].tolist() == [-50.0, -70.0, -90.0, -60.0, -80.0, -80.0]


def test_derive_acr_response_by_hand():
    """Test 51: P1 month 3: counts 10->8 (20 %), PTGA 70->56 (20 %), PHGA 60->48 (20 %),
    ESR 50->30 (40 %) -> ACR20 only. P1 month 12: counts 70 %, PTGA/PHGA/PAIN >= 83 %,
    HAQ 100 %, ESR 80 % -> ACR70. P2 month 12: TJC68 missing -> <NA>. P3: no baseline ->
    <NA>. Baseline rows -> <NA>."""
    out = by_key(derive_acr_response(visits_frame()))
    # order: P1 0, P1 3, P1 12, P2 0, P2 12, P3 12
    expected = {
        "ACR20": [None, True, True, None, None, None],
        "ACR50": [None, False, True, None, None, None],
        "ACR70": [None, False, True, None, None, None],
    }
    for col, values in expected.items():
        pd.testing.assert_series_equal(out[col], boolean(values).rename(col))


def test_derive_acr_response_with_crp():
    """Test 52: with apr=CRP, P1 month 3 no longer responds (CRP 20 -> 20 leaves only
    PTGA and PHGA improved), month 12 still does (CRP 20 -> 1)."""
    out = by_key(derive_acr_response(visits_frame(), apr="CRP"))
    assert out["ACR20"].tolist()[:3] == [pd.NA, False, True]


def test_derive_efficacy_endpoints_adds_every_column_in_order():
    """Test 53: the documented columns, appended after the input columns."""
    v = visits_frame()
    out = derive_efficacy_endpoints(v)
    added = ["DAS28ESR", "DAS28CRP", "DAS28CAT", "HAQDI", "DAS28ESR_BL", "HAQDI_BL",
             "DAS28ESR_CHG", "HAQDI_CHG", "REMISSION", "LDA", "EULAR", "ACR20", "ACR50", "ACR70"]
    assert out.columns.tolist() == v.columns.tolist() + added


def test_derive_efficacy_endpoints_values_by_hand():
    """Test 54: P1 month 12: DAS28-ESR = 0.56 + 0.28 + 0.70*ln 10 + 0.14 = 2.5918
    (remission, LDA), change 2.5918 - 6.7984, HAQ-DI change -2, EULAR good; P1 baseline:
    REMISSION/LDA False, EULAR and ACR missing."""
    out = by_key(derive_efficacy_endpoints(visits_frame()))
    das_bl = 2.24 + 0.84 + 0.70 * math.log(50) + 0.98
    das_12 = 0.56 + 0.28 + 0.70 * math.log(10) + 0.14
    p1_12 = out.iloc[2]
    assert p1_12["DAS28ESR"] == pytest.approx(das_12)
    assert p1_12["DAS28ESR_CHG"] == pytest.approx(das_12 - das_bl)
    assert p1_12["HAQDI_CHG"] == -2.0
    assert (p1_12["REMISSION"], p1_12["LDA"], p1_12["EULAR"], p1_12["ACR70"]) == (True, True, "good", True)
    p1_0 = out.iloc[0]
    assert (p1_0["REMISSION"], p1_0["LDA"]) == (False, False)
    assert pd.isna(p1_0["EULAR"]) and p1_0["ACR20"] is pd.NA


def test_derive_efficacy_endpoints_eular_missing_on_baseline_rows_only():
    """Test 55: EULAR is missing on baseline rows and where no baseline DAS28 exists (P3)."""
    out = by_key(derive_efficacy_endpoints(visits_frame()))
    assert out["EULAR"].isna().tolist() == [True, False, False, True, False, True]


def test_derive_functions_do_not_modify_their_input():
    """Test 56: every derive_* returns a copy; the input keeps its columns and values."""
    v = visits_frame()
    before = v.copy()
    for f in (derive_das28, derive_haq_di, derive_acr_response, derive_efficacy_endpoints):
        f(v)
    derive_baseline(v, ["ESR"])
    derive_change_from_baseline(v, "ESR")
    pd.testing.assert_frame_equal(v, before)


def test_derive_efficacy_endpoints_does_not_depend_on_row_order():
    """Test 57: shuffling the rows gives the same table after sorting by key."""
    v = visits_frame()
    a = by_key(derive_efficacy_endpoints(v))
    b = by_key(derive_efficacy_endpoints(v.sample(frac=1, random_state=7)))
    pd.testing.assert_frame_equal(a, b)


def test_derive_missing_required_column_raises():
    """Test 58: a table without a required column raises KeyError naming it."""
    with pytest.raises(KeyError, match="ESR"):
        derive_das28(visits_frame().drop(columns="ESR"))
    with pytest.raises(KeyError, match="PHGA"):
        derive_acr_response(visits_frame().drop(columns="PHGA"))
