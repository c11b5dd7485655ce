"""File-level rules: presence, emptiness, encoding, CSV structure, header.

Each test breaks one thing in a copy of the minimal dataset (fixture ``dataset``) and
checks that the report names the file, the column (where one applies), the line and the
rule. Test N: behaviour.
"""
from __future__ import annotations

import pytest

from analysis.contract import FILES, DataContractError, load_dataset


# Test 1: a missing file is reported by name.
@pytest.mark.parametrize("file", FILES)
def test_missing_file(dataset, file):
    dataset.path(file).unlink()
    err = dataset.assert_reported(file, None, None, "file is missing")
    assert f"{file}: file is missing" in str(err).splitlines()


# Test 2: a 0-byte file is empty: it has no header line.
@pytest.mark.parametrize("file", FILES)
def test_empty_file(dataset, file):
    dataset.path(file).write_bytes(b"")
    err = dataset.assert_reported(file, None, 1, "file is empty")
    assert f"{file}, line 1: file is empty: it needs a header row" in str(err)


# Test 3: subjects and visits need at least one data row ...
@pytest.mark.parametrize("file", ["subjects.csv", "visits.csv"])
def test_header_only_subjects_or_visits(dataset, file):
    header = dataset.rows(file)[0]
    dataset.write_rows(file, [header])
    dataset.assert_reported(file, None, None, "must have at least one data row")


# Test 4: ... while adverse_events and medications may be header-only.
def test_header_only_adverse_events_and_medications_are_valid(dataset):
    for file in ("adverse_events.csv", "medications.csv"):
        dataset.write_rows(file, [dataset.rows(file)[0]])
    ds = dataset.load()
    assert len(ds.adverse_events) == 0 and len(ds.medications) == 0
    assert str(ds.adverse_events["AESTDT"].dtype) == "datetime64[ns]"
    assert str(ds.adverse_events["AESEQ"].dtype) == "Int64"


# Test 5: a byte that is not UTF-8 is located by line, byte offset and column.
def test_non_utf8_bytes(dataset):
    line = dataset.line_of("adverse_events.csv", AEDECOD="Hypertension")
    raw = dataset.path("adverse_events.csv").read_bytes()
    raw = raw.replace(b"high blood pressure", b"high blood pressure \xe9lev\xe9e")
    dataset.path("adverse_events.csv").write_bytes(raw)
    offset = raw.index(b"\xe9")
    err = dataset.assert_reported("adverse_events.csv", "AETERM", line, "must be valid UTF-8")
    assert f"byte 0xe9 at byte offset {offset}" in str(err)


# Test 6: a row with fewer fields than the header is refused (not silently padded).
def test_short_row(dataset):
    raw = dataset.path("medications.csv").read_text()
    lines = raw.splitlines()
    lines[3] = lines[3].rsplit(",", 1)[0]  # drop the last field of line 4
    dataset.path("medications.csv").write_text("\n".join(lines) + "\n")
    err = dataset.assert_reported("medications.csv", None, 4,
                                  "every row must have as many fields as the header (5)")
    assert "(got 4 fields)" in str(err)


# Test 7: a row with more fields than the header is refused.
def test_long_row(dataset):
    line = dataset.line_of("visits.csv", USUBJID="RA-002", AVISITN="36")
    lines = dataset.path("visits.csv").read_text().splitlines()
    lines[line - 1] += ",99"
    dataset.path("visits.csv").write_text("\n".join(lines) + "\n")
    dataset.assert_reported("visits.csv", None, line, "every row must have as many fields")


# Test 8: an unclosed quote is reported at the line where it opens.
def test_unbalanced_quote(dataset):
    line = dataset.line_of("adverse_events.csv", AEDECOD="Chills")
    lines = dataset.path("adverse_events.csv").read_text().splitlines()
    lines[line - 1] = lines[line - 1].replace("chills after infusion", '"chills after infusion')
    dataset.path("adverse_events.csv").write_text("\n".join(lines) + "\n")
    dataset.assert_reported("adverse_events.csv", None, line, "unbalanced quotes")


# Test 9: a required column that is absent is named, at the header line.
@pytest.mark.parametrize("file,column", [("subjects.csv", "ACPAFL"), ("visits.csv", "ESR"),
                                         ("adverse_events.csv", "AEENDT"),
                                         ("medications.csv", "CMCLASS")])
def test_missing_column(dataset, file, column):
    dataset.drop_column(file, column)
    dataset.assert_reported(file, column, 1, "required column is missing")


# Test 10: a column name that differs only in case gets a hint.
def test_missing_column_hint(dataset):
    rows = dataset.rows("visits.csv")
    rows[0][rows[0].index("CRP")] = "crp"
    dataset.write_rows("visits.csv", rows)
    err = dataset.assert_reported("visits.csv", "CRP", 1, "required column is missing")
    assert "found 'crp'" in str(err)


# Test 11: a duplicated column name is refused.
def test_duplicate_column_name(dataset):
    dataset.add_column("medications.csv", "CMDECOD", "x")
    dataset.assert_reported("medications.csv", "CMDECOD", 1, "column names must be unique")


# Test 12: direct identifiers are refused whatever their case, in any file.
@pytest.mark.parametrize("file,column", [("subjects.csv", "NAME"), ("subjects.csv", "dob"),
                                         ("visits.csv", "Mrn"), ("adverse_events.csv", "EMAIL"),
                                         ("medications.csv", "NationalID")])
def test_direct_identifier_column(dataset, file, column):
    dataset.add_column(file, column, "x")
    dataset.assert_reported(file, column, 1, "no direct identifiers")


# Test 13: other extra columns are allowed and kept, as text, after the contract columns.
def test_extra_column_allowed(dataset):
    dataset.add_column("visits.csv", "SITE", "Daping")
    ds = dataset.load()
    assert ds.visits.columns[-1] == "SITE"
    assert (ds.visits["SITE"] == "Daping").all()


# Test 14: a UTF-8 byte-order mark, CRLF line ends and blank lines are tolerated, and
# line numbers still count every physical line.
def test_bom_crlf_and_blank_lines(dataset):
    lines = dataset.path("visits.csv").read_text().splitlines()
    lines.insert(3, "")  # a blank line 4: RA-001's month-3 visit moves to line 5

    def write(rows):
        text = "\r\n".join(rows) + "\r\n\r\n"
        dataset.path("visits.csv").write_bytes(b"\xef\xbb\xbf" + text.encode())

    write(lines)
    assert len(dataset.load().visits) == len(lines) - 2  # header and blank line
    assert lines[4].startswith("RA-001,3,") and ",41," in lines[4]
    lines[4] = lines[4].replace(",41,", ",0,")  # its ESR
    write(lines)
    dataset.assert_reported("visits.csv", "ESR", 5, "must be > 0")


# Test 15: a quoted cell spanning two lines shifts the following line numbers.
def test_line_numbers_after_multiline_cell(dataset):
    line = dataset.line_of("adverse_events.csv", AEDECOD="Hyperlipidaemia")
    dataset.set("adverse_events.csv", line, "AETERM", "raised\nblood lipids")
    later = dataset.line_of("adverse_events.csv", AEDECOD="Chills")  # csv-record number
    dataset.set("adverse_events.csv", later, "AESER", "maybe")
    # the record after the two-line cell starts one physical line further down
    dataset.assert_reported("adverse_events.csv", "AESER", later + 1, "must be one of Y, N")


def test_missing_directory_is_a_contract_error(tmp_path):
    """Test 16: a directory that does not exist is a DataContractError, not a traceback."""
    with pytest.raises(DataContractError, match="dataset directory does not exist"):
        load_dataset(tmp_path / "nowhere")


def test_file_instead_of_directory(tmp_path):
    """Test 17: a path that is a file is refused as a dataset directory."""
    path = tmp_path / "subjects.csv"
    path.write_text("USUBJID\n")
    with pytest.raises(DataContractError, match="is not a directory"):
        load_dataset(path)
