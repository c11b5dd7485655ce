"""Unit tests of analysis.medications: assessment dates, interval coverage, Table 4.

Hand-built subjects, visits and exposure intervals; nominal dates counted by hand on the
calendar. Frames are compared after sorting by (USUBJID, TIMEPOINT).
"""
from __future__ import annotations

from types import SimpleNamespace

import pandas as pd
import pytest
from scipy import stats

from analysis.medications import (
    DRUG_CLASSES,
    TABLE4_DRUGS,
    TABLE4_TIMEPOINTS,
    compare_use,
    derive_assessment_dates,
    derive_medication_use,
    tabulate_medication_use,
)

D = pd.Timestamp


def dataset(medications: pd.DataFrame | None = None, visits: pd.DataFrame | None = None) -> SimpleNamespace:
    """a: MSC completer, transplanted 2017-01-10, baseline visit 2017-01-08 and a year-1 visit on
    2018-01-12 only. b: MSC+IFNG completer, transplanted 2018-03-01, no post-baseline visit.
    c: MSC, discontinued."""
    subjects = pd.DataFrame({
        "USUBJID": ["a", "b", "c"], "ARM": ["MSC", "MSC+IFNG", "MSC"],
        "TRTSDT": pd.to_datetime(["2017-01-10", "2018-03-01", "2017-05-01"]),
        "EOSSTT": ["COMPLETED", "COMPLETED", "DISCONTINUED"],
    })
    if visits is None:
        visits = pd.DataFrame({"USUBJID": ["a", "a", "b", "c"],
                               "AVISITN": pd.array([0, 12, 0, 0], dtype="Int64"),
                               "ADT": pd.to_datetime(["2017-01-08", "2018-01-12", "2018-02-27", "2017-04-30"])})
    if medications is None:
        medications = intervals([])
    return SimpleNamespace(subjects=subjects, visits=visits, medications=medications, adverse_events=None)


def intervals(rows: list[tuple]) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=["USUBJID", "CMCLASS", "CMSTDT", "CMENDT"])
    frame["CMSTDT"] = pd.to_datetime(frame["CMSTDT"])
    frame["CMENDT"] = pd.to_datetime(frame["CMENDT"])
    frame["CMDECOD"] = None
    return frame


def dates(frame: pd.DataFrame) -> dict:
    return {(u, t): d for u, t, d in zip(frame["USUBJID"], frame["TIMEPOINT"], frame["ADT"])}


# ----------------------------------------------------------------------------- derive_assessment_dates
def test_assessment_dates_grid_of_completers():
    """Test 1: completers a and b x (baseline, year1, year3, year5) = 8 rows; c excluded."""
    out = derive_assessment_dates(dataset())
    assert len(out) == 8
    assert set(out["USUBJID"]) == {"a", "b"}
    assert set(out["TIMEPOINT"]) == set(TABLE4_TIMEPOINTS)


def test_baseline_date_is_transplantation_not_visit_date():
    """Test 2: baseline is read at TRTSDT (2017-01-10), not at the month-0 visit (2017-01-08)."""
    assert dates(derive_assessment_dates(dataset()))[("a", "baseline")] == D("2017-01-10")


def test_year_date_is_the_visit_date_when_the_visit_exists():
    """Test 3: a's year 1 is its month-12 visit, 2018-01-12 (not the nominal 2018-01-10)."""
    assert dates(derive_assessment_dates(dataset()))[("a", "year1")] == D("2018-01-12")


def test_missing_visit_gives_nominal_date():
    """Test 4: missing visits -> TRTSDT + round(365.25 k) days, counted on the calendar:
    a (2017-01-10): year 3 + 1096 d (1095.75 rounds up) = 2020-01-11; year 5 + 1826 d
    (1826.25 rounds down; 2020 is a leap year) = 2022-01-10.
    b (2018-03-01): year 1 + 365 d = 2019-03-01; year 3 + 1096 d = 2021-03-01 (crosses
    2020-02-29); year 5 + 1826 d = 2023-03-01."""
    got = dates(derive_assessment_dates(dataset()))
    assert got[("a", "year3")] == D("2020-01-11")
    assert got[("a", "year5")] == D("2022-01-10")
    assert got[("b", "year1")] == D("2019-03-01")
    assert got[("b", "year3")] == D("2021-03-01")
    assert got[("b", "year5")] == D("2023-03-01")
    assert got[("b", "baseline")] == D("2018-03-01")


def test_assessment_dates_for_randomised_population():
    """Test 5: "randomised" adds c (4 more rows); its baseline is its TRTSDT."""
    out = derive_assessment_dates(dataset(), "randomised")
    assert len(out) == 12
    assert dates(out)[("c", "baseline")] == D("2017-05-01")


# ----------------------------------------------------------------------------- derive_medication_use
def baseline_use(rows: list[tuple]) -> dict:
    """USE_* columns of patient a at baseline (2017-01-10) for the given intervals."""
    out = derive_medication_use(dataset(intervals(rows)))
    row = out[(out["USUBJID"] == "a") & (out["TIMEPOINT"] == "baseline")]
    assert len(row) == 1
    return {drug: bool(row[f"USE_{drug}"].iloc[0]) for drug in DRUG_CLASSES}


def test_interval_starting_on_the_date_covers_it():
    """Test 6: CMSTDT == assessment date (2017-01-10), ongoing -> in use."""
    assert baseline_use([("a", "csDMARD", "2017-01-10", None)])["csdmard"] is True


def test_interval_ending_on_the_date_covers_it():
    """Test 7: CMENDT == assessment date -> in use (both ends inclusive)."""
    assert baseline_use([("a", "bDMARD", "2016-01-01", "2017-01-10")])["bdmard"] is True


def test_interval_ending_the_day_before_does_not_cover():
    """Test 8: CMENDT = 2017-01-09, the day before -> not in use."""
    assert baseline_use([("a", "PREDNISONE", "2016-01-01", "2017-01-09")])["prednisone"] is False


def test_interval_starting_the_day_after_does_not_cover():
    """Test 9: CMSTDT = 2017-01-11, the day after -> not in use."""
    assert baseline_use([("a", "tsDMARD", "2017-01-11", None)])["tsdmard"] is False


def test_ongoing_interval_covers_every_later_date():
    """Test 10: started 2015, CMENDT empty (ongoing) -> in use at baseline and at year 5."""
    out = derive_medication_use(dataset(intervals([("a", "NSAID", "2015-06-01", None)])))
    a = out[out["USUBJID"] == "a"].set_index("TIMEPOINT")["USE_nsaid"]
    assert a.to_dict() == {"baseline": True, "year1": True, "year3": True, "year5": True}


def test_use_is_per_class_and_per_patient():
    """Test 11: a's csDMARD interval makes a (not b) a csDMARD user, and no other class."""
    out = derive_medication_use(dataset(intervals([("a", "csDMARD", "2010-01-01", None)])))
    at_base = out[out["TIMEPOINT"] == "baseline"].set_index("USUBJID")
    assert at_base["USE_csdmard"].to_dict() == {"a": True, "b": False}
    for drug in set(DRUG_CLASSES) - {"csdmard"}:
        assert not at_base[f"USE_{drug}"].any()


def test_use_at_visit_date_of_year_1():
    """Test 12: prednisone 2015-05-01 to 2018-01-11 covers baseline (2017-01-10) but not a's
    year-1 visit on 2018-01-12, although it covers the nominal date 2018-01-10."""
    out = derive_medication_use(dataset(intervals([("a", "PREDNISONE", "2015-05-01", "2018-01-11")])))
    a = out[out["USUBJID"] == "a"].set_index("TIMEPOINT")["USE_prednisone"]
    assert (a["baseline"], a["year1"]) == (True, False)


def test_overlapping_intervals_count_once():
    """Test 13: two csDMARD intervals covering the same date give one True, no extra rows."""
    rows = [("a", "csDMARD", "2010-01-01", None), ("a", "csDMARD", "2016-06-01", "2017-06-01")]
    out = derive_medication_use(dataset(intervals(rows)))
    assert len(out) == 8
    assert out.loc[(out["USUBJID"] == "a") & (out["TIMEPOINT"] == "baseline"), "USE_csdmard"].tolist() == [True]


def test_no_medication_rows_gives_all_false_boolean_columns():
    """Test 14: an empty medications table: every USE_* column present, bool, all False."""
    out = derive_medication_use(dataset())
    for drug in DRUG_CLASSES:
        assert out[f"USE_{drug}"].dtype == bool
        assert not out[f"USE_{drug}"].any()


# ----------------------------------------------------------------------------- compare_use
def test_fisher_exact_by_hand():
    """Test 15: 3/3 users vs 0/3: hypergeometric P(table) = C(3,3) C(3,0) / C(6,3) = 1/20;
    the equally extreme 0/3 vs 3/3 doubles it: p = 0.1."""
    assert compare_use(3, 3, 0, 3) == pytest.approx(0.1, abs=1e-12)


@pytest.mark.parametrize("ua, na, ub, nb", [(69, 69, 26, 28), (10, 69, 9, 28), (0, 69, 0, 28), (5, 10, 5, 10)])
def test_fisher_matches_scipy(ua, na, ub, nb):
    """Test 16: equals scipy.stats.fisher_exact (two-sided) of [[users, non-users] per arm]."""
    expected = stats.fisher_exact([[ua, na - ua], [ub, nb - ub]], alternative="two-sided").pvalue
    assert compare_use(ua, na, ub, nb) == pytest.approx(expected, rel=1e-12)


# ----------------------------------------------------------------------------- tabulate_medication_use
def use_frame() -> pd.DataFrame:
    """3 MSC and 2 MSC+IFNG patients at every time point; csDMARD users: MSC 3, MSC+IFNG 0 at
    baseline; 1 and 2 at year 5; nobody uses anything else."""
    rows = []
    for arm, patients in (("MSC", ["m1", "m2", "m3"]), ("MSC+IFNG", ["i1", "i2"])):
        for tp in TABLE4_TIMEPOINTS:
            for k, u in enumerate(patients):
                use = {f"USE_{d}": False for d in DRUG_CLASSES}
                if tp == "baseline":
                    use["USE_csdmard"] = arm == "MSC"
                if tp == "year5":
                    use["USE_csdmard"] = (arm == "MSC" and k == 0) or arm == "MSC+IFNG"
                rows.append({"USUBJID": u, "ARM": arm, "TIMEPOINT": tp, **use})
    return pd.DataFrame(rows)


def test_table4_has_one_row_per_drug_timepoint_arm():
    """Test 17: 4 Table 4 drugs x 4 time points x 2 arms = 32 rows (NSAIDs not tabulated)."""
    table = tabulate_medication_use(use_frame())
    assert len(table) == len(TABLE4_DRUGS) * len(TABLE4_TIMEPOINTS) * 2 == 32
    assert set(table["drug"]) == set(TABLE4_DRUGS)
    assert not table.duplicated(["drug", "timepoint", "arm"]).any()


def test_table4_counts_percentages_and_p():
    """Test 18: csDMARD at baseline: MSC 3/3 = 100 %, MSC+IFNG 0/2 = 0 %, Fisher p of
    [[3, 0], [0, 2]] = 1/C(5,2) = 0.1 on both rows; at year 5 MSC 1/3 = 33.3 %, MSC+IFNG 2/2."""
    t = tabulate_medication_use(use_frame()).set_index(["drug", "timepoint", "arm"])
    base_msc, base_ifng = t.loc[("csdmard", "baseline", "msc")], t.loc[("csdmard", "baseline", "msc_ifng")]
    assert (base_msc["n"], base_msc["users"], base_msc["pct"]) == (3, 3, 100.0)
    assert (base_ifng["n"], base_ifng["users"], base_ifng["pct"]) == (2, 0, 0.0)
    assert base_msc["p_value"] == pytest.approx(0.1, abs=1e-12)
    assert base_ifng["p_value"] == base_msc["p_value"]
    y5 = t.loc[("csdmard", "year5", "msc")]
    assert (y5["users"], y5["pct"]) == (1, pytest.approx(100 / 3))
    assert t.loc[("csdmard", "year5", "msc_ifng"), "pct"] == 100.0


def test_table4_no_users_gives_zero_and_p_1():
    """Test 19: prednisone is used by nobody: 0 %, Fisher p = 1."""
    t = tabulate_medication_use(use_frame())
    pred = t[t["drug"] == "prednisone"]
    assert (pred["users"] == 0).all() and (pred["pct"] == 0.0).all()
    assert (pred["p_value"] == 1.0).all()
