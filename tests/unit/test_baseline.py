"""Unit tests of analysis.baseline: baseline characteristics of completers (Table 1).

Hand-built rows; every count, percentage, mean and sample SD below is worked out by hand.
The tidy table is compared as a {(item, arm, stat): value} mapping (order-free).
"""
from __future__ import annotations

import math
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from analysis.baseline import (
    BINARY_ITEMS,
    CONTINUOUS_ITEMS,
    derive_baseline_characteristics,
    tabulate_baseline,
)
from analysis.endpoints import HAQ_CATEGORIES


def characteristics() -> pd.DataFrame:
    """Three MSC and two MSC+IFNG completers."""
    return pd.DataFrame({
        "ARM": ["MSC", "MSC", "MSC", "MSC+IFNG", "MSC+IFNG"],
        "SEX": ["F", "F", "M", "F", "F"],
        "AGE": pd.array([40, 50, 66, 30, 34], dtype="Int64"),
        "RADURY": [1.0, 2.0, 6.0, 10.0, 10.0],
        "DAS28ESR": [5.0, 6.0, 7.0, 4.0, 5.0],
        "HAQDI": [1.0, 1.5, 2.0, 0.5, 1.0],
        "ESR": [30.0, 40.0, 50.0, 20.0, 22.0],
        "CRP": [10.0, np.nan, 20.0, 3.0, 5.0],
        "RFFL": ["Y", "Y", "N", "Y", "N"],
        "ACPAFL": ["N", "N", "N", "Y", "Y"],
        "HXCSDMRD": ["Y", "Y", "Y", "Y", "N"],
        "HXBDMRD": ["Y", "N", "N", "N", "N"],
        "HXNSAID": ["Y", "Y", "N", "N", "N"],
        "HXPRED": ["N", "N", "N", "Y", "Y"],
    })


def as_dict(table: pd.DataFrame) -> dict:
    return {(i, a, s): v for i, a, s, v in zip(table["item"], table["arm"], table["stat"], table["value"])}


def test_arm_sizes_are_the_n_row():
    """Test 1: item "n" (stat n) is 3 for MSC and 2 for MSC+IFNG."""
    t = as_dict(tabulate_baseline(characteristics()))
    assert t[("n", "msc", "n")] == 3.0
    assert t[("n", "msc_ifng", "n")] == 2.0


def test_female_count_and_percentage_of_arm():
    """Test 2: MSC 2 of 3 female = 66.67 %; MSC+IFNG 2 of 2 = 100 %."""
    t = as_dict(tabulate_baseline(characteristics()))
    assert t[("female", "msc", "n")] == 2.0
    assert t[("female", "msc", "pct")] == pytest.approx(200 / 3, abs=1e-12)
    assert t[("female", "msc_ifng", "pct")] == 100.0


def test_mean_and_sample_sd_of_age():
    """Test 3: MSC ages 40, 50, 66: mean 52; deviations -12, -2, 14, squares 144 + 4 + 196 =
    344, / (n - 1) = 172, SD sqrt(172) = 13.114877. MSC+IFNG 30, 34: mean 32, SD sqrt(8)."""
    t = as_dict(tabulate_baseline(characteristics()))
    assert t[("age", "msc", "mean")] == pytest.approx(52.0, abs=1e-12)
    assert t[("age", "msc", "sd")] == pytest.approx(math.sqrt(172), abs=1e-12)
    assert t[("age", "msc", "sd")] == pytest.approx(13.114877, abs=1e-6)
    assert t[("age", "msc_ifng", "mean")] == pytest.approx(32.0, abs=1e-12)
    assert t[("age", "msc_ifng", "sd")] == pytest.approx(math.sqrt(8), abs=1e-12)


def test_missing_values_are_left_out_of_mean_and_sd():
    """Test 4: MSC CRP [10, NaN, 20] -> mean 15, SD sqrt(50) = 7.071068 (n = 2 observed)."""
    t = as_dict(tabulate_baseline(characteristics()))
    assert t[("crp", "msc", "mean")] == pytest.approx(15.0, abs=1e-12)
    assert t[("crp", "msc", "sd")] == pytest.approx(math.sqrt(50), abs=1e-12)


def test_other_continuous_items():
    """Test 5: DAS28-ESR 5, 6, 7 -> mean 6, SD 1; HAQ-DI 1, 1.5, 2 -> mean 1.5, SD 0.5;
    RA duration of MSC+IFNG 10, 10 -> SD 0."""
    t = as_dict(tabulate_baseline(characteristics()))
    assert (t[("das28_esr", "msc", "mean")], t[("das28_esr", "msc", "sd")]) == pytest.approx((6.0, 1.0))
    assert (t[("haq_di", "msc", "mean")], t[("haq_di", "msc", "sd")]) == pytest.approx((1.5, 0.5))
    assert t[("ra_duration", "msc_ifng", "sd")] == 0.0


def test_medication_history_flags():
    """Test 6: history rows count "Y" flags: bDMARDs MSC 1/3 = 33.3 %; NSAIDs MSC 2/3; prednisone
    MSC 0 (0 %), MSC+IFNG 2/2 (100 %); csDMARDs MSC+IFNG 1/2 = 50 %."""
    t = as_dict(tabulate_baseline(characteristics()))
    assert (t[("hx_bdmard", "msc", "n")], t[("hx_bdmard", "msc", "pct")]) == pytest.approx((1.0, 100 / 3))
    assert t[("hx_nsaid", "msc", "n")] == 2.0
    assert (t[("hx_prednisone", "msc", "n")], t[("hx_prednisone", "msc", "pct")]) == (0.0, 0.0)
    assert t[("hx_prednisone", "msc_ifng", "pct")] == 100.0
    assert t[("hx_csdmard", "msc_ifng", "pct")] == 50.0


def test_antibody_rows_print_percentage_only():
    """Test 7: RF and ACPA rows carry "pct" only (as Table 1 prints them): RF MSC 2/3, ACPA
    MSC+IFNG 2/2."""
    t = as_dict(tabulate_baseline(characteristics()))
    assert ("rf_positive", "msc", "n") not in t
    assert ("acpa_positive", "msc", "n") not in t
    assert t[("rf_positive", "msc", "pct")] == pytest.approx(200 / 3, abs=1e-12)
    assert t[("acpa_positive", "msc_ifng", "pct")] == 100.0
    assert t[("acpa_positive", "msc", "pct")] == 0.0


def test_table_has_every_item_once_per_arm_and_stat():
    """Test 8: per arm 1 (n) + the printed stats of each binary item + 2 per continuous item;
    no duplicate (item, arm, stat)."""
    table = tabulate_baseline(characteristics())
    per_arm = 1 + sum(len(printed) for *_x, printed in BINARY_ITEMS.values()) + 2 * len(CONTINUOUS_ITEMS)
    assert len(table) == 2 * per_arm
    assert not table.duplicated(["item", "arm", "stat"]).any()


def test_empty_arm_gives_zero_count_and_nan_statistics():
    """Test 9: no MSC+IFNG row: n 0, counts 0, percentages and means NaN."""
    c = characteristics()
    t = as_dict(tabulate_baseline(c[c["ARM"] == "MSC"]))
    assert t[("n", "msc_ifng", "n")] == 0.0
    assert t[("female", "msc_ifng", "n")] == 0.0
    assert np.isnan(t[("female", "msc_ifng", "pct")])
    assert np.isnan(t[("age", "msc_ifng", "mean")])


# ----------------------------------------------------------------------------- derive_baseline_characteristics
def visit(usubjid, month, tjc28, sjc28, esr, crp, ptga, haq) -> dict:
    row = {"USUBJID": usubjid, "AVISITN": month, "TJC28": tjc28, "SJC28": sjc28,
           "TJC68": tjc28, "SJC66": sjc28, "ESR": esr, "CRP": crp, "PTGA": ptga,
           "PHGA": ptga, "PAIN": ptga}
    row.update({c: haq for c in HAQ_CATEGORIES})
    return row


def baseline_dataset() -> SimpleNamespace:
    subjects = pd.DataFrame({
        "USUBJID": ["s1", "s2", "s3"], "ARM": ["MSC", "MSC", "MSC+IFNG"],
        "EOSSTT": ["COMPLETED", "DISCONTINUED", "COMPLETED"],
        "TRTSDT": pd.to_datetime(["2017-01-01"] * 3), "AGE": [40, 50, 60],
    })
    visits = pd.DataFrame([
        visit("s1", 12, 0, 0, 10.0, 1.0, 10.0, 0),       # listed first: order must not matter
        visit("s1", 0, 4, 9, math.e, 5.0, 50.0, 1),
        visit("s2", 0, 1, 1, 10.0, 2.0, 20.0, 1),
        visit("s3", 0, 16, 4, 1.0, 7.0, 100.0, 2),
    ])
    for col in ("AVISITN", "TJC28", "SJC28", "TJC68", "SJC66", *HAQ_CATEGORIES):
        visits[col] = visits[col].astype("Int64")
    return SimpleNamespace(subjects=subjects, visits=visits, adverse_events=None, medications=None)


def test_baseline_characteristics_use_the_month_0_visit_of_completers():
    """Test 10: completers s1 and s3 only. DAS28-ESR at month 0, by hand:
    s1 0.56*sqrt(4) + 0.28*sqrt(9) + 0.70*ln(e) + 0.014*50 = 1.12 + 0.84 + 0.70 + 0.70 = 3.36;
    s3 0.56*4 + 0.28*2 + 0.70*ln(1) + 0.014*100 = 2.24 + 0.56 + 0 + 1.40 = 4.20.
    HAQ-DI = the common category score (1, 2); ESR and CRP copied from month 0."""
    out = derive_baseline_characteristics(baseline_dataset()).sort_values("USUBJID").reset_index(drop=True)
    assert out["USUBJID"].tolist() == ["s1", "s3"]
    assert out["DAS28ESR"].tolist() == pytest.approx([3.36, 4.20], abs=1e-12)
    assert out["HAQDI"].tolist() == pytest.approx([1.0, 2.0])
    assert out["ESR"].tolist() == pytest.approx([math.e, 1.0])
    assert out["CRP"].tolist() == pytest.approx([5.0, 7.0])


def test_baseline_characteristics_keep_subject_columns_and_population():
    """Test 11: subject columns (AGE) are kept; "randomised" brings s2 back."""
    out = derive_baseline_characteristics(baseline_dataset(), "randomised").sort_values("USUBJID")
    assert out["USUBJID"].tolist() == ["s1", "s2", "s3"]
    assert out["AGE"].tolist() == [40, 50, 60]
