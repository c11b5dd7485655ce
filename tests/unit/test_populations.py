"""Unit tests of analysis.populations: population filters, durations in years, arm sizes.

Hand-built frames; every expected value is written out by hand (pharmaverse/admiral style,
one behaviour per test). Frames are compared after sorting by USUBJID.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from analysis.populations import (
    arm_sizes,
    compute_duration_years,
    filter_population,
    merge_subject_arm,
    select_rows,
    sort_by_patient,
)


def subjects() -> pd.DataFrame:
    """Four patients: a completer, a discontinued patient, a completer never transplanted
    (TRTSDT empty) and a second completer in the other arm."""
    return pd.DataFrame({
        "USUBJID": ["p1", "p2", "p3", "p4"],
        "ARM": ["MSC", "MSC", "MSC+IFNG", "MSC+IFNG"],
        "EOSSTT": ["COMPLETED", "DISCONTINUED", "COMPLETED", "COMPLETED"],
        "TRTSDT": pd.to_datetime(["2017-01-01", "2017-02-01", None, "2017-03-01"]),
    })


def ids(frame: pd.DataFrame) -> list[str]:
    return sorted(frame["USUBJID"])


def test_safety_population_is_every_transplanted_patient():
    """Test 1: "safety" keeps every patient with a TRTSDT, whatever the end-of-study status."""
    assert ids(filter_population(subjects(), "safety")) == ["p1", "p2", "p4"]


def test_completers_are_transplanted_patients_who_completed():
    """Test 2: "completers" drops the discontinued patient and the untransplanted completer."""
    assert ids(filter_population(subjects(), "completers")) == ["p1", "p4"]


def test_randomised_population_is_every_row():
    """Test 3: "randomised" returns all four rows, the untransplanted patient included."""
    out = filter_population(subjects(), "randomised")
    pd.testing.assert_frame_equal(out.sort_values("USUBJID").reset_index(drop=True),
                                  subjects().sort_values("USUBJID").reset_index(drop=True))


def test_filter_keeps_columns_and_does_not_modify_input():
    """Test 4: the filter selects rows only: same columns, input unchanged."""
    s = subjects()
    before = s.copy()
    out = filter_population(s, "completers")
    assert list(out.columns) == list(s.columns)
    pd.testing.assert_frame_equal(s, before)


@pytest.mark.parametrize("population", ["itt", "Safety", "", "completer"])
def test_unknown_population_raises(population):
    """Test 5: a population outside {safety, completers, randomised} raises ValueError naming it."""
    with pytest.raises(ValueError, match="unknown population"):
        filter_population(subjects(), population)


def test_duration_in_julian_years():
    """Test 6: 2016-01-01 -> 2020-01-01 is 1461 days = exactly 4 Julian years (365.25 d);
    2017-01-01 -> 2018-01-01 is 365 days = 365/365.25 = 0.999316... years."""
    start = pd.Series(pd.to_datetime(["2016-01-01", "2017-01-01"]))
    end = pd.Series(pd.to_datetime(["2020-01-01", "2018-01-01"]))
    out = compute_duration_years(start, end)
    assert out.tolist() == pytest.approx([4.0, 365 / 365.25], abs=1e-12)
    assert out.iloc[1] == pytest.approx(0.9993155373032169, abs=1e-12)


def test_duration_same_day_is_zero_and_missing_is_nan():
    """Test 7: same-day start and end give 0; a missing date gives NaN (no silent zero)."""
    start = pd.Series(pd.to_datetime(["2017-05-05", None]))
    end = pd.Series(pd.to_datetime(["2017-05-05", "2018-01-01"]))
    out = compute_duration_years(start, end)
    assert out.iloc[0] == 0.0
    assert np.isnan(out.iloc[1])


def test_duration_uses_365_25_not_365():
    """Test 8: 2016-01-01 -> 2017-01-01 (leap year, 366 days) is 366/365.25 = 1.002053 years,
    not 366/365 = 1.00274."""
    out = compute_duration_years(pd.Series(pd.to_datetime(["2016-01-01"])),
                                 pd.Series(pd.to_datetime(["2017-01-01"])))
    assert out.iloc[0] == pytest.approx(1.0020533880903491, abs=1e-12)


def test_arm_sizes_counts_each_arm():
    """Test 9: two MSC and one MSC+IFNG patient -> {'msc': 2, 'msc_ifng': 1}."""
    assert arm_sizes(pd.DataFrame({"ARM": ["MSC", "MSC+IFNG", "MSC"]})) == {"msc": 2, "msc_ifng": 1}


def test_arm_sizes_reports_an_empty_arm_as_zero():
    """Test 10: an arm with no patient is present with 0 (not missing from the dict)."""
    assert arm_sizes(pd.DataFrame({"ARM": ["MSC", "MSC"]})) == {"msc": 2, "msc_ifng": 0}
    assert arm_sizes(pd.DataFrame({"ARM": pd.Series([], dtype=object)})) == {"msc": 0, "msc_ifng": 0}


def test_arm_sizes_values_are_python_ints():
    """Test 11: counts are plain ints (they go into result keys and JSON)."""
    sizes = arm_sizes(pd.DataFrame({"ARM": ["MSC+IFNG"]}))
    assert all(type(v) is int for v in sizes.values())


def visits() -> pd.DataFrame:
    """Visits out of patient order, a patient (p9) absent from the subjects, a repeated visit."""
    return pd.DataFrame({"USUBJID": ["p2", "p1", "p9", "p2", "p1"], "AVISITN": [0, 0, 0, 12, 12],
                         "Y": pd.array([1, None, 3, 4, 5], dtype="Int64")}, index=[10, 11, 12, 13, 14])


def test_merge_subject_arm_keeps_visit_order_and_drops_other_patients():
    """merge_subject_arm: the population's visits in the visits' order, ARM appended, a new 0..n-1
    index; a patient outside the population is dropped."""
    out = merge_subject_arm(visits(), subjects().iloc[:2])
    assert out["USUBJID"].tolist() == ["p2", "p1", "p2", "p1"]
    assert out["ARM"].tolist() == ["MSC"] * 4
    assert out.columns.tolist() == ["USUBJID", "AVISITN", "Y", "ARM"]
    assert out.index.tolist() == [0, 1, 2, 3]
    assert str(out["Y"].dtype) == "Int64"


@pytest.mark.parametrize("chosen", [[0, 1, 2, 3], [3, 0], [], [0, 0, 2]], ids=["all", "reordered", "none", "repeated-id"])
def test_merge_subject_arm_equals_the_inner_merge(chosen):
    """merge_subject_arm is the inner merge on USUBJID, frame for frame (dtypes and index included),
    whatever the subjects' order; a repeated id falls back to the merge (rows repeated)."""
    subj = subjects().iloc[chosen]
    expected = visits().merge(subj[["USUBJID", "ARM"]], on="USUBJID", how="inner")
    pd.testing.assert_frame_equal(merge_subject_arm(visits(), subj), expected)


@pytest.mark.parametrize("order", ["stored", "shuffled", "ties", "missing date"])
def test_sort_by_patient_equals_a_stable_sort(order):
    """sort_by_patient gives the rows and index of a stable sort on (USUBJID, column), whether
    the rows are in order already (then no sort runs), shuffled, tied, or with a missing value."""
    frame = pd.DataFrame({"USUBJID": ["a", "a", "a", "b", "c", "c"],
                          "ADT": pd.to_datetime(["2020-01-01", "2020-02-01", "2020-03-01", "2020-01-05",
                                                 "2020-01-01", "2021-01-01"]),
                          "X": range(6)})
    if order == "shuffled":
        frame = frame.sample(frac=1.0, random_state=1)
    elif order == "ties":
        frame.loc[2, "ADT"] = frame.loc[1, "ADT"]
        frame = frame.iloc[[3, 2, 1, 0, 5, 4]]
    elif order == "missing date":
        frame.loc[1, "ADT"] = pd.NaT
    expected = frame.sort_values(["USUBJID", "ADT"], kind="stable")
    result = sort_by_patient(frame, "ADT")
    pd.testing.assert_frame_equal(result, expected)
    assert (result is frame) == (order == "stored")


@pytest.mark.parametrize("mask", [[True, False, True, True], [False] * 4, [True] * 4])
def test_select_rows_equals_boolean_selection_then_reset_index(mask):
    """Test: select_rows(frame, mask) is frame[mask].reset_index(drop=True) (values, dtypes,
    index 0..n-1), on a frame of mixed dtypes whose index is not 0..n-1."""
    frame = pd.DataFrame({"USUBJID": ["a", "b", "c", "d"], "AVISITN": pd.array([0, 12, None, 24], dtype="Int64"),
                          "Y": [1.5, np.nan, 2.0, 3.0], "ADT": pd.to_datetime(["2020-01-01", None, "2020-02-01", "2020-03-01"])},
                         index=[10, 3, 7, 1])
    got = select_rows(frame, pd.Series(mask, index=frame.index))
    pd.testing.assert_frame_equal(got, frame[pd.Series(mask, index=frame.index)].reset_index(drop=True))
    assert isinstance(got.index, pd.RangeIndex)


def test_merge_by_subject_rows_equals_merge_by_text_ids():
    """Test: merge_subject_arm with each visit's subject row (derive_visit_subject_rows) gives
    the rows, order and columns of the text-id look-up, for every population, including a
    visit whose patient is not in subjects and rows taken out of order."""
    from types import SimpleNamespace

    from analysis.derived import derive_visit_subject_rows

    visits = pd.DataFrame({"USUBJID": ["p3", "p1", "p9", "p2", "p1", "p4", "p3"], "AVISITN": [0, 0, 0, 0, 12, 0, 12]})
    dataset = SimpleNamespace(subjects=subjects(), visits=visits)
    rows = derive_visit_subject_rows(dataset)
    assert rows.tolist() == [2, 0, -1, 1, 0, 3, 2]
    order = np.array([6, 4, 2, 0, 1, 3, 5])
    for population in ("safety", "completers", "randomised"):
        chosen = filter_population(dataset.subjects, population)
        by_text = merge_subject_arm(visits.iloc[order], chosen)
        pd.testing.assert_frame_equal(merge_subject_arm(visits.iloc[order], chosen, rows[order]), by_text)
        assert len(by_text) > 0


def test_subject_rows_are_not_used_when_subjects_are_not_numbered_or_not_unique():
    """Test: derive_visit_subject_rows gives None (the text ids are matched instead) when the
    subjects table is not numbered 0, 1, ... or lists a patient twice."""
    from types import SimpleNamespace

    from analysis.derived import derive_visit_subject_rows

    visits = pd.DataFrame({"USUBJID": ["p1", "p2"]})
    renumbered = subjects().set_axis([5, 6, 7, 8])
    doubled = pd.concat([subjects(), subjects().iloc[[0]]], ignore_index=True)
    assert derive_visit_subject_rows(SimpleNamespace(subjects=renumbered, visits=visits)) is None
    assert derive_visit_subject_rows(SimpleNamespace(subjects=doubled, visits=visits)) is None
