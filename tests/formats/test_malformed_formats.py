"""Malformed datasets in the trial team's formats fail with the place named.

Each case writes the minimal test dataset in one format (:mod:`formats_support`), breaks one
thing in code, and states by hand the report line ``python -m analysis validate`` must print:
the file (and sheet), their column and the contract's, the row as their tool numbers it (Excel
row, SPSS case, Stata/SAS observation, Parquet row), the rule and the value; or, for the
crosswalk, ``mapping.yml`` with its line. The command must exit 2 and print nothing else. A line ending in ``(`` is
matched as the start of a line (the rest is the library's own wording).
"""
from __future__ import annotations

import shutil
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pytest
from formats_support import WRITERS

from analysis import paths
from analysis.contract import COLUMNS

IDENTIFIER_RULE = ("no direct identifiers: remove this column (names, birth dates, contact details and ID "
                   "numbers must not be in the dataset)")


@dataclass(frozen=True)
class Case:
    id: str
    fmt: str
    breaks: Callable[[Path], list[str]]


def mapping_line(d: Path, text: str, after: str | None = None) -> int:
    """Line number (1-based) of the first line of mapping.yml equal to ``text`` (stripped),
    after the line equal to ``after`` when given."""
    lines = [line.strip() for line in (d / "mapping.yml").read_text(encoding="utf-8").splitlines()]
    start = lines.index(after) if after else 0
    return lines.index(text, start) + 1


def edit_mapping(d: Path, old: str, new: str) -> None:
    text = (d / "mapping.yml").read_text(encoding="utf-8")
    assert old in text, old
    (d / "mapping.yml").write_text(text.replace(old, new, 1), encoding="utf-8")


def edit_stat(path: Path, change: Callable[[pd.DataFrame], None], labels: dict | None = None) -> None:
    """Change an SPSS or Stata file in place, keeping its value and variable labels."""
    import pyreadstat

    read, write = ((pyreadstat.read_sav, pyreadstat.write_sav) if path.suffix == ".sav"
                   else (pyreadstat.read_dta, pyreadstat.write_dta))
    frame, meta = read(path)
    change(frame)
    column_labels = {c: label for c, label in meta.column_names_to_labels.items() if label}
    column_labels.update(labels or {})
    write(frame, path, variable_value_labels=meta.variable_value_labels,
          column_labels={c: column_labels.get(c, "") for c in frame.columns})


def edit_cell(path: Path, sheet: str, cell: str, value) -> None:
    from openpyxl import load_workbook

    workbook = load_workbook(path)
    workbook[sheet][cell] = value
    workbook.save(path)


def _unmapped_code(d):
    edit_stat(d / "subjects.sav", lambda f: f.__setitem__("group", f["group"].where(f.index != 2, 3.0)))
    return [(f"mapping.yml, line {mapping_line(d, 'ARM:')}: subjects.ARM: code '3' found in subjects.sav, "
            "column group, case 3, has no mapping in codes")]


def _wrong_unit(d):
    edit_mapping(d, "unit: mg/dL", "unit: mg/dl")
    return [(f"mapping.yml, line {mapping_line(d, 'unit: mg/dl')}: visits.CRP: unsupported unit 'mg/dl' "
            "(supported for CRP: mg/L, mg/dL)")]


def _unit_on_a_column_without_units(d):
    edit_mapping(d, "from: age_yrs", "from: age_yrs\n        unit: months")
    return [(f"mapping.yml, line {mapping_line(d, 'unit: months')}: subjects.AGE: unsupported unit 'months' (AGE "
            "takes no unit conversion; supported: CRP mg/L, mg/dL; ESR mm/h; PTGA mm, cm; PHGA mm, cm; PAIN mm, cm)")]


def _two_files_one_table(d):
    shutil.copy2(paths.TEST_DATASET / "subjects.csv", d / "subjects.csv")
    return [("subjects: two sources hold this table: subjects.csv and subjects.sav (keep one, or name it in "
            "mapping.yml)")]


def _missing_sheet(d):
    from openpyxl import load_workbook

    workbook = load_workbook(d / "trial.xlsx")
    del workbook["medications"]
    workbook.save(d / "trial.xlsx")
    return [("trial.xlsx: sheet medications is missing (sheets: subjects, visits, adverse_events; each table needs "
            "a sheet named after it, or a file of its own)")]


def _label_only_identifier(d):
    edit_stat(d / "subjects.sav", lambda f: f.__setitem__("v17", "x"), labels={"v17": "Patient name"})
    return [f"subjects.sav: column v17: {IDENTIFIER_RULE} (its label 'Patient name' says it identifies a person)"]


def _chinese_label_identifier(d):
    edit_stat(d / "visits.dta", lambda f: f.__setitem__("zyh", "123"), labels={"zyh": "住院号"})
    return [f"visits.dta: column zyh: {IDENTIFIER_RULE} (its label '住院号' says it identifies a person)"]


def _identifier_by_name(d):
    frame = pd.read_parquet(d / "subjects.parquet")
    frame["DOB"] = "1970-01-01"
    frame.to_parquet(d / "subjects.parquet", index=False)
    return [f"subjects.parquet: column DOB: {IDENTIFIER_RULE}"]


def _excel_text_in_number(d):
    edit_cell(d / "trial.xlsx", "visits", "H5", "n/a")  # H = esr; row 5 = the fourth visit
    return ["trial.xlsx, sheet visits: column esr (contract ESR), row 5: must be a number (got 'n/a')"]


def _excel_text_date(d):
    edit_cell(d / "trial.xlsx", "visits", "C3", "31/02/2016")
    return [("trial.xlsx, sheet visits: column visit_date (contract ADT), row 3: must be a date YYYY-MM-DD "
            "(got '31/02/2016')")]


def _excel_unmapped_flag(d):
    edit_cell(d / "trial.xlsx", "adverse_events", "E2", "Maybe")
    return [(f"mapping.yml, line {mapping_line(d, 'AESER:')}: adverse_events.AESER: code 'Maybe' found in "
            "trial.xlsx, sheet adverse_events, column serious, row 2, has no mapping in codes")]


def _sas_date_out_of_range(d):
    import pyreadstat

    path = d / "visits.xpt"
    frame, meta = pyreadstat.read_xport(path, disable_datetime_conversion=True)
    frame.loc[3, "VISIT_DA"] = 9e7
    pyreadstat.write_xport(frame, path, table_name="VISITS", file_format_version=5,
                           variable_format={c: f for c, f in meta.original_variable_types.items() if f})
    return [("visits.xpt: column VISIT_DA (contract ADT), observation 4: must be a date between 1900-01-01 and "
            "2100-12-31 (got 90000000 days since 1960-01-01)")]


def _unknown_contract_column(d):
    edit_mapping(d, "      AGE:\n", "      AGEX: age_yrs\n      AGE:\n")
    names = ", ".join(spec.name for spec in COLUMNS["subjects.csv"])
    return [(f"mapping.yml, line {mapping_line(d, 'AGEX: age_yrs')}: subjects.AGEX: unknown contract column "
            f"(subjects has {names})")]


def _left_unmapped(d):
    edit_mapping(d, "      AGE:\n        from: age_yrs\n", "")
    return [(f"mapping.yml, line {mapping_line(d, 'subjects:')}: subjects.AGE: contract column left unmapped "
            "(subjects.sav has no column AGE; map it with 'AGE: THEIR_COLUMN', or write 'AGE: not collected')")]


def _column_not_in_file(d):
    edit_mapping(d, "from: age_yrs", "from: agee")
    return [f"mapping.yml, line {mapping_line(d, 'AGE:')}: subjects.AGE: column 'agee' is not in subjects.sav"]


def _converted_value_out_of_range(d):
    edit_stat(d / "visits.sav", lambda f: f.__setitem__("crp_mgdl", f["crp_mgdl"].where(f.index != 1, 35.0)))
    return ["visits.sav: column crp_mgdl (contract CRP), case 2: must be <= 300 (got 35 mg/dL)"]


def _empty_required(d):
    edit_stat(d / "visits.dta", lambda f: f.__setitem__("patid", f["patid"].where(f.index != 5, "")))
    return ["visits.dta: column patid (contract USUBJID), observation 6: must not be empty"]


def _invalid_yaml(d):
    with open(d / "mapping.yml", "a", encoding="utf-8") as handle:
        handle.write("  extra: [unclosed\n")
    return ["mapping.yml, line "]


def _referential_integrity(d):
    frame = pd.read_parquet(d / "adverse_events.parquet")
    frame.loc[0, "USUBJID"] = "RA-999"
    frame.to_parquet(d / "adverse_events.parquet", index=False)
    return [("adverse_events.parquet: column USUBJID, row 1: must exist in subjects.parquet (referential integrity) "
            "(got 'RA-999')")]


def _excel_unknown_subject(d):
    # A cross-table rule names the table it checks against where that table is: here a sheet.
    edit_cell(d / "trial.xlsx", "adverse_events", "A2", "RA-999")
    return [("trial.xlsx, sheet adverse_events: column patid (contract USUBJID), row 2: must exist in "
             "trial.xlsx, sheet subjects (referential integrity) (got 'RA-999')")]


def _labels_that_are_not_contract_values(d):
    # Without codes, a labelled text column takes the labels (Yes/No), which are not Y/N.
    edit_mapping(d, "      RFFL:\n        from: rffl\n        codes:\n          0: N\n          1: Y\n", "      RFFL: rffl\n")
    return [("subjects.sav: column rffl (contract RFFL), cases 1, 2, 3, 4, 5, 6, 7, 8: must be one of Y, N "
            "(got '1 (Yes)', '1 (Yes)', '0 (No)', '1 (Yes)', '1 (Yes)', '0 (No)', '1 (Yes)', '1 (Yes)')")]


def _corrupt_file(d):
    (d / "medications.sav").write_bytes(b"not an SPSS file")
    return ["medications.sav: is not a readable SPSS file ("]


CASES = [
    Case("unmapped_code", "spss", _unmapped_code),
    Case("wrong_unit", "spss", _wrong_unit),
    Case("unit_on_a_column_without_units", "spss", _unit_on_a_column_without_units),
    Case("two_files_one_table", "spss", _two_files_one_table),
    Case("missing_sheet", "excel_workbook", _missing_sheet),
    Case("label_only_identifier", "spss", _label_only_identifier),
    Case("chinese_label_identifier", "stata", _chinese_label_identifier),
    Case("identifier_by_name", "parquet", _identifier_by_name),
    Case("excel_text_in_number", "excel_workbook", _excel_text_in_number),
    Case("excel_text_date", "excel_workbook", _excel_text_date),
    Case("excel_unmapped_flag", "excel_workbook", _excel_unmapped_flag),
    Case("sas_date_out_of_range", "sas", _sas_date_out_of_range),
    Case("unknown_contract_column", "spss", _unknown_contract_column),
    Case("left_unmapped", "spss", _left_unmapped),
    Case("column_not_in_file", "spss", _column_not_in_file),
    Case("converted_value_out_of_range", "spss", _converted_value_out_of_range),
    Case("empty_required", "stata", _empty_required),
    Case("invalid_yaml", "spss", _invalid_yaml),
    Case("referential_integrity", "parquet", _referential_integrity),
    Case("excel_unknown_subject", "excel_workbook", _excel_unknown_subject),
    Case("labels_that_are_not_contract_values", "spss", _labels_that_are_not_contract_values),
    Case("corrupt_file", "spss", _corrupt_file),
]


@pytest.fixture(scope="module")
def minimal_in(tmp_path_factory):
    """``minimal_in(fmt)`` -> a fresh copy of the minimal dataset written in that format."""
    made = {}

    def get(fmt: str, target: Path) -> Path:
        if fmt not in made:
            made[fmt] = WRITERS[fmt](tmp_path_factory.mktemp(fmt) / "minimal", paths.TEST_DATASET)
        shutil.copytree(made[fmt], target)
        return target

    return get


def assert_reported(output: str, expected: list[str]) -> None:
    lines = output.splitlines()
    for line in expected:
        if line.endswith(("(", "line ")):
            assert any(got.startswith(line) for got in lines), f"no line starting {line!r} in:\n{output}"
        else:
            assert line in lines, f"missing {line!r} in:\n{output}"


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_malformed_format_fails_with_the_place_named(minimal_in, tmp_path, case):
    data = minimal_in(case.fmt, tmp_path / "dataset")
    expected = case.breaks(data)
    result = subprocess.run([sys.executable, "-m", "analysis", "validate", str(data)], capture_output=True,
                            text=True, cwd=paths.ROOT, check=False)
    assert result.returncode == 2, result.stdout + result.stderr
    assert result.stderr.startswith(f"invalid dataset {data}:\n")
    assert_reported(result.stderr, expected)
    # One thing broken, one report: nothing said twice (e.g. an unmapped code again as an empty cell).
    assert len(result.stderr.splitlines()) == 1 + len(expected), result.stderr


def test_every_case_starts_from_a_valid_dataset(minimal_in, tmp_path):
    """The breakage is what fails, not the conversion: unbroken, each format is valid."""
    for fmt in sorted({case.fmt for case in CASES}):
        data = minimal_in(fmt, tmp_path / fmt)
        result = subprocess.run([sys.executable, "-m", "analysis", "validate", str(data)], capture_output=True,
                                text=True, cwd=paths.ROOT, check=False)
        assert result.returncode == 0, result.stderr
