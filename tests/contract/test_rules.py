"""Cell, row and cross-file rules: one failing input per rule.

Each test changes one thing in a copy of the minimal dataset (fixture ``dataset``, see
conftest.py) and checks that :class:`DataContractError` names the file, the column, the
CSV line (header = line 1) and the rule. Test N: behaviour.
"""
from __future__ import annotations

import pickle

import pytest

from analysis.contract import MAX_LISTED, DataContractError


def _visit(dataset, usubjid: str, avisitn: str) -> int:
    return dataset.line_of("visits.csv", USUBJID=usubjid, AVISITN=avisitn)


def _subject(dataset, usubjid: str) -> int:
    return dataset.line_of("subjects.csv", USUBJID=usubjid)


# --------------------------------------------------------------------------------------
# Text form: empty, type, date
# --------------------------------------------------------------------------------------

# Test 1: text in an integer column.
def test_text_in_integer_column(dataset):
    line = _visit(dataset, "RA-001", "12")
    dataset.set("visits.csv", line, "TJC28", "seven")
    err = dataset.assert_reported("visits.csv", "TJC28", line, "must be an integer")
    assert f"visits.csv: column TJC28, line {line}: must be an integer (got 'seven')" in str(err)


# Test 2: a fractional value in an integer column.
def test_fraction_in_integer_column(dataset):
    line = _visit(dataset, "RA-005", "6")
    dataset.set("visits.csv", line, "HAQGRIP", "1.5")
    dataset.assert_reported("visits.csv", "HAQGRIP", line, "must be an integer")


# Test 3: a whole number written with decimals is an integer.
def test_whole_number_with_decimals_is_accepted(dataset):
    line = _visit(dataset, "RA-005", "6")
    dataset.set("visits.csv", line, "TJC28", "3.0")
    assert dataset.load().visits.loc[line - 2, "TJC28"] == 3


# Test 4: text in a float column ("NA" is not how missing is written).
def test_text_in_float_column(dataset):
    line = _visit(dataset, "RA-002", "12")
    dataset.set("visits.csv", line, "CRP", "NA")
    dataset.assert_reported("visits.csv", "CRP", line, "must be a number")


# Test 5: dates must be real ISO dates, zero-padded.
@pytest.mark.parametrize("bad", ["2017-13-01", "2017-02-30", "01/03/2017", "2017-3-1"])
def test_bad_date(dataset, bad):
    line = _visit(dataset, "RA-004", "3")
    dataset.set("visits.csv", line, "ADT", bad)
    err = dataset.assert_reported("visits.csv", "ADT", line, "must be a date YYYY-MM-DD")
    assert f"(got '{bad}')" in str(err)


# Test 6: required cells may not be empty ...
@pytest.mark.parametrize("file,column", [("visits.csv", "USUBJID"), ("visits.csv", "AVISITN"),
                                         ("visits.csv", "ADT"), ("subjects.csv", "TRTSDT"),
                                         ("adverse_events.csv", "AEDECOD"),
                                         ("medications.csv", "CMSTDT")])
def test_required_cell_empty(dataset, file, column):
    dataset.set(file, 3, column, "")
    dataset.assert_reported(file, column, 3, "must not be empty")


# Test 7: ... but measurements and optional columns may (not assessed / ongoing).
def test_optional_cells_may_be_empty(dataset):
    line = _visit(dataset, "RA-001", "36")
    for column in ("TJC28", "ESR", "PAIN", "HAQEAT"):
        dataset.set("visits.csv", line, column, "")
    dataset.set("medications.csv", 2, "CMENDT", "")
    ds = dataset.load()
    assert ds.visits.loc[line - 2, ["TJC28", "ESR", "PAIN", "HAQEAT"]].isna().all()


# --------------------------------------------------------------------------------------
# Ranges and allowed values
# --------------------------------------------------------------------------------------

# Test 8: joint counts out of range.
@pytest.mark.parametrize("column,bad,rule", [("SJC28", "29", "must be between 0 and 28"),
                                             ("TJC28", "-1", "must be between 0 and 28"),
                                             ("TJC68", "69", "must be between 0 and 68"),
                                             ("SJC66", "67", "must be between 0 and 66")])
def test_joint_count_out_of_range(dataset, column, bad, rule):
    line = _visit(dataset, "RA-003", "6")
    dataset.set("visits.csv", line, column, bad)
    err = dataset.assert_reported("visits.csv", column, line, rule)
    assert f"(got {bad})" in str(err)


# Test 9: the 28-joint count cannot exceed the 68/66-joint count.
@pytest.mark.parametrize("small,large", [("TJC28", "TJC68"), ("SJC28", "SJC66")])
def test_28_joint_count_above_full_count(dataset, small, large):
    line = _visit(dataset, "RA-001", "6")
    dataset.set("visits.csv", line, small, "20")
    dataset.set("visits.csv", line, large, "19")
    err = dataset.assert_reported("visits.csv", small, line, f"must be <= {large}")
    assert f"(got {small} 20, {large} 19)" in str(err)


# Test 10: ESR must be positive.
def test_esr_zero(dataset):
    line = _visit(dataset, "RA-006", "12")
    dataset.set("visits.csv", line, "ESR", "0")
    err = dataset.assert_reported("visits.csv", "ESR", line, "must be > 0")
    assert f"visits.csv: column ESR, line {line}: must be > 0 (got 0)" in str(err)


# Test 11: ESR and CRP have plausible upper limits.
@pytest.mark.parametrize("column,bad,rule", [("ESR", "201", "must be <= 200"),
                                             ("CRP", "300.5", "must be <= 300")])
def test_lab_above_limit(dataset, column, bad, rule):
    line = _visit(dataset, "RA-006", "12")
    dataset.set("visits.csv", line, column, bad)
    dataset.assert_reported("visits.csv", column, line, rule)


# Test 12: CRP cannot be negative.
def test_crp_negative(dataset):
    line = _visit(dataset, "RA-006", "60")
    dataset.set("visits.csv", line, "CRP", "-0.5")
    dataset.assert_reported("visits.csv", "CRP", line, "must be >= 0")


# Test 13: VAS scores are 0-100 mm.
@pytest.mark.parametrize("column", ["PTGA", "PHGA", "PAIN"])
def test_vas_101(dataset, column):
    line = _visit(dataset, "RA-007", "3")
    dataset.set("visits.csv", line, column, "101")
    dataset.assert_reported("visits.csv", column, line, "must be between 0 and 100")


# Test 14: HAQ-DI category scores are 0-3.
def test_haq_score_4(dataset):
    line = _visit(dataset, "RA-008", "12")
    dataset.set("visits.csv", line, "HAQWALK", "4")
    dataset.assert_reported("visits.csv", "HAQWALK", line, "must be between 0 and 3")


# Test 15: visit numbers are months since transplantation, so not negative.
def test_negative_avisitn(dataset):
    line = _visit(dataset, "RA-008", "12")
    dataset.set("visits.csv", line, "AVISITN", "-12")
    dataset.assert_reported("visits.csv", "AVISITN", line, "must be >= 0")


# Test 16: controlled terminology in subjects.csv.
@pytest.mark.parametrize("column,bad,rule", [
    ("ARM", "MSC+IFN-gamma", "must be one of MSC, MSC+IFNG"),
    ("STUDYID", "ChiCTR-XXX-1", "must be one of ChiCTR-ONC-16008770, ChiCTR-INR-17012462"),
    ("SEX", "female", "must be one of F, M"),
    ("RFFL", "yes", "must be one of Y, N"),
    ("LTEFL", "", "must not be empty"),
    ("EOSSTT", "ONGOING", "must be one of COMPLETED, DISCONTINUED"),
])
def test_subjects_terminology(dataset, column, bad, rule):
    line = _subject(dataset, "RA-005")
    dataset.set("subjects.csv", line, column, bad)
    err = dataset.assert_reported("subjects.csv", column, line, rule)
    if bad:
        assert f"(got '{bad}')" in str(err)


# Test 17: age 18-100, RA duration not negative.
@pytest.mark.parametrize("column,bad,rule", [("AGE", "17", "must be between 18 and 100"),
                                             ("AGE", "101", "must be between 18 and 100"),
                                             ("RADURY", "-1", "must be >= 0")])
def test_subject_numbers(dataset, column, bad, rule):
    line = _subject(dataset, "RA-002")
    dataset.set("subjects.csv", line, column, bad)
    dataset.assert_reported("subjects.csv", column, line, rule)


# Test 18: an unknown reason for discontinuation.
def test_unknown_dcsreas(dataset):
    line = _subject(dataset, "RA-003")
    dataset.set("subjects.csv", line, "DCSREAS", "INEFFICACY")
    dataset.assert_reported("subjects.csv", "DCSREAS", line, "must be one of LACK OF EFFICACY")


# Test 19: terminology in adverse_events.csv and medications.csv.
def test_events_and_medications_terminology(dataset, reported):
    dataset.set("adverse_events.csv", 2, "AESER", "yes")
    dataset.set("adverse_events.csv", 3, "AESEQ", "0")
    dataset.set("medications.csv", 4, "CMCLASS", "steroid")
    err = dataset.invalid()
    reported(err, "adverse_events.csv", "AESER", 2, "must be one of Y, N")
    reported(err, "adverse_events.csv", "AESEQ", 3, "must be >= 1")
    reported(err, "medications.csv", "CMCLASS", 4,
             "must be one of csDMARD, bDMARD, tsDMARD, NSAID, PREDNISONE")
    assert "adverse_events.csv: column AESER, line 2: must be one of Y, N (got 'yes')" in str(err)


# --------------------------------------------------------------------------------------
# Uniqueness and row rules
# --------------------------------------------------------------------------------------

# Test 20: one row per patient in subjects.csv; both rows are listed.
def test_duplicate_usubjid(dataset):
    first = _subject(dataset, "RA-004")
    copy = dataset.copy_row("subjects.csv", first)
    err = dataset.assert_reported("subjects.csv", "USUBJID", copy, "must be unique")
    assert f"lines {first}, {copy}: must be unique" in str(err)


# Test 21: one row per patient and visit number.
def test_duplicate_avisitn(dataset):
    first = _visit(dataset, "RA-002", "36")
    copy = dataset.copy_row("visits.csv", first, ADT="2019-11-20")
    err = dataset.assert_reported("visits.csv", "AVISITN", copy, "must be unique per USUBJID")
    assert err.violations[0].rows == (first, copy)


# Test 22: one AESEQ per patient.
def test_duplicate_aeseq(dataset):
    first = dataset.line_of("adverse_events.csv", USUBJID="RA-006", AESEQ="2")
    copy = dataset.copy_row("adverse_events.csv", first, AEDECOD="Headache")
    dataset.assert_reported("adverse_events.csv", "AESEQ", copy, "must be unique per USUBJID")


# Test 23: DCSREAS is required iff the patient discontinued ...
def test_dcsreas_missing_for_discontinued(dataset):
    line = _subject(dataset, "RA-007")
    dataset.set("subjects.csv", line, "DCSREAS", "")
    dataset.assert_reported("subjects.csv", "DCSREAS", line,
                            "must not be empty when EOSSTT is DISCONTINUED")


# Test 24: ... and must be empty for completers.
def test_dcsreas_given_for_completer(dataset):
    line = _subject(dataset, "RA-001")
    dataset.set("subjects.csv", line, "DCSREAS", "OTHER")
    dataset.assert_reported("subjects.csv", "DCSREAS", line, "must be empty when EOSSTT is COMPLETED")


# Test 25: the last safety assessment cannot precede transplantation.
def test_eosdt_before_trtsdt(dataset):
    line = _subject(dataset, "RA-003")
    dataset.set("subjects.csv", line, "EOSDT", "2016-12-31")
    err = dataset.assert_reported("subjects.csv", "EOSDT", line, "must be on or after TRTSDT")
    assert "(got EOSDT 2016-12-31, TRTSDT 2017-01-16)" in str(err)


# Test 26: an AE cannot end before it starts.
def test_aeendt_before_aestdt(dataset):
    line = dataset.line_of("adverse_events.csv", USUBJID="RA-002", AESEQ="3")
    dataset.set("adverse_events.csv", line, "AEENDT", "2022-12-28")
    dataset.assert_reported("adverse_events.csv", "AEENDT", line, "must be on or after AESTDT")


# Test 27: a medication interval cannot end before it starts.
def test_cmendt_before_cmstdt(dataset):
    line = dataset.line_of("medications.csv", USUBJID="RA-004", CMCLASS="bDMARD")
    dataset.set("medications.csv", line, "CMENDT", "2015-01-01")
    dataset.assert_reported("medications.csv", "CMENDT", line, "must be on or after CMSTDT")


# --------------------------------------------------------------------------------------
# Cross-file rules
# --------------------------------------------------------------------------------------

# Test 28: referential integrity, in each file that refers to subjects.csv.
@pytest.mark.parametrize("file", ["visits.csv", "adverse_events.csv", "medications.csv"])
def test_unknown_usubjid(dataset, file):
    dataset.set(file, 3, "USUBJID", "RA-999")
    err = dataset.assert_reported(file, "USUBJID", 3, "must exist in subjects.csv")
    assert "(got 'RA-999')" in str(err)


# Test 29: every patient has a baseline visit (reported at the patient's subjects line).
def test_no_baseline_visit(dataset):
    line = _subject(dataset, "RA-006")
    assert dataset.delete_rows("visits.csv", USUBJID="RA-006", AVISITN="0") == 1
    dataset.assert_reported("subjects.csv", "USUBJID", line,
                            "must have a baseline visit (AVISITN 0) in visits.csv")


# Test 30: a post-baseline visit on or before the transplantation date.
def test_visit_before_transplantation(dataset):
    line = _visit(dataset, "RA-005", "1")
    dataset.set("visits.csv", line, "ADT", "2017-06-05")  # = TRTSDT
    err = dataset.assert_reported("visits.csv", "ADT", line, "post-baseline visit (AVISITN > 0) "
                                  "must be after TRTSDT")
    assert "(got ADT 2017-06-05, TRTSDT 2017-06-05)" in str(err)


# Test 31: a baseline visit after the transplantation date.
def test_baseline_after_transplantation(dataset):
    line = _visit(dataset, "RA-005", "0")
    dataset.set("visits.csv", line, "ADT", "2017-06-06")
    dataset.assert_reported("visits.csv", "ADT", line,
                            "baseline visit (AVISITN 0) must be on or before TRTSDT")


# Test 32: a visit after the last safety assessment.
def test_visit_after_eosdt(dataset):
    line = _visit(dataset, "RA-007", "24")
    dataset.set("visits.csv", line, "ADT", "2020-05-19")  # EOSDT 2020-05-18
    dataset.assert_reported("visits.csv", "ADT", line, "must be on or before EOSDT")


# Test 33: an AE after the last safety assessment.
def test_ae_after_eosdt(dataset):
    line = dataset.line_of("adverse_events.csv", USUBJID="RA-007", AESEQ="1")
    dataset.set("adverse_events.csv", line, "AESTDT", "2020-06-01")
    err = dataset.assert_reported("adverse_events.csv", "AESTDT", line,
                                  "must be on or before EOSDT")
    assert "(got AESTDT 2020-06-01, EOSDT 2020-05-18)" in str(err)


# Test 34: an AE before transplantation is not treatment-emergent.
def test_ae_before_trtsdt(dataset):
    line = dataset.line_of("adverse_events.csv", USUBJID="RA-003", AESEQ="1")
    dataset.set("adverse_events.csv", line, "AESTDT", "2017-01-15")
    dataset.set("adverse_events.csv", line, "AEENDT", "")
    dataset.assert_reported("adverse_events.csv", "AESTDT", line, "must be on or after TRTSDT")


# Test 35: a medication cannot start after the last safety assessment (it may start
# before transplantation: background therapy).
def test_medication_after_eosdt(dataset):
    line = dataset.line_of("medications.csv", USUBJID="RA-003", CMCLASS="NSAID")
    dataset.set("medications.csv", line, "CMSTDT", "2018-01-09")
    dataset.set("medications.csv", line, "CMENDT", "")
    dataset.assert_reported("medications.csv", "CMSTDT", line, "must be on or before EOSDT")


# --------------------------------------------------------------------------------------
# Reporting
# --------------------------------------------------------------------------------------

# Test 36: violations in several files and columns are all reported in one error.
def test_several_violations_reported_together(dataset, reported):
    esr = _visit(dataset, "RA-001", "3")
    dataset.set("visits.csv", esr, "ESR", "0")
    haq = _visit(dataset, "RA-002", "60")
    dataset.set("visits.csv", haq, "HAQEAT", "4")
    arm = _subject(dataset, "RA-008")
    dataset.set("subjects.csv", arm, "ARM", "placebo")
    ae = dataset.line_of("adverse_events.csv", USUBJID="RA-006", AESEQ="1")
    dataset.set("adverse_events.csv", ae, "AESER", "U")
    dataset.path("medications.csv").unlink()
    err = dataset.invalid()
    reported(err, "visits.csv", "ESR", esr, "must be > 0")
    reported(err, "visits.csv", "HAQEAT", haq, "must be between 0 and 3")
    reported(err, "subjects.csv", "ARM", arm, "must be one of MSC, MSC+IFNG")
    reported(err, "adverse_events.csv", "AESER", ae, "must be one of Y, N")
    reported(err, "medications.csv", None, None, "file is missing")
    assert len(err.violations) == 5
    assert len(str(err).splitlines()) == 5
    # report order: file order, then line
    assert [v.file for v in err.violations] == ["subjects.csv", "visits.csv", "visits.csv",
                                                "adverse_events.csv", "medications.csv"]


# Test 37: one rule broken on many rows is one line, listing MAX_LISTED lines and a count.
def test_many_rows_are_capped(dataset):
    rows = dataset.rows("visits.csv")
    esr = rows[0].index("ESR")
    for row in rows[1:]:
        row[esr] = "0"
    dataset.write_rows("visits.csv", rows)
    err = dataset.invalid()
    (violation,) = err.violations
    assert violation.rows == tuple(range(2, len(rows) + 1))
    assert len(violation.values) == MAX_LISTED
    listed = ", ".join(str(n) for n in range(2, 2 + MAX_LISTED))
    more = len(rows) - 1 - MAX_LISTED
    assert str(err) == (f"visits.csv: column ESR, lines {listed} and {more} more: "
                        f"must be > 0 (got {', '.join(['0'] * MAX_LISTED)})")


# Test 38: a cell reported for its text form is not reported again for its value, and a
# cross-file rule still runs on the other rows.
def test_no_double_reporting(dataset):
    line = _visit(dataset, "RA-001", "12")
    dataset.set("visits.csv", line, "ADT", "someday")
    dataset.set("visits.csv", line, "USUBJID", "RA-404")
    err = dataset.invalid()
    assert {(v.column, v.rule) for v in err.violations} == {
        ("ADT", "must be a date YYYY-MM-DD"),
        ("USUBJID", "must exist in subjects.csv (referential integrity)"),
    }


# Test 39: the error keeps its records through pickling (e.g. from a worker process).
def test_error_pickles_with_its_violations(dataset):
    dataset.set("visits.csv", 2, "ESR", "0")
    err = dataset.invalid()
    copy = pickle.loads(pickle.dumps(err))
    assert isinstance(copy, DataContractError)
    assert copy.violations == err.violations and str(copy) == str(err)
    assert copy.directory == dataset.directory
