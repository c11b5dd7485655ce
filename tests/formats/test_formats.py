"""Every supported format, with a trial team's differences, gives the CSV cohort's results.

The synthetic cohort is written in code into Parquet, SPSS, Stata, SAS (``.sas7bdat`` and
``.xpt``) and one Excel workbook with four sheets, with renamed variables, numeric codes with
value labels, each tool's date encoding, CRP in mg/dL and LTEFL derived from a date
(:mod:`formats_support`). Read through its ``mapping.yml``, each must give typed tables and a
results registry identical to the CSV cohort's -- not close: identical.
"""
from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from formats_support import WRITERS, contract_frames, registry

from analysis import paths
from analysis.build import describe_dataset, hash_file, render_reproducibility_page
from analysis.contract import FILES
from analysis.crosswalk import describe_dataset_files


@pytest.mark.parametrize("fmt", sorted(WRITERS))
def test_format_gives_the_csv_cohorts_tables(cohort_in, fmt):
    ours, theirs = contract_frames(paths.SYNTHETIC), contract_frames(cohort_in(fmt))
    for file in FILES:
        pd.testing.assert_frame_equal(theirs[file], ours[file], check_exact=True, obj=f"{fmt} {file}")


@pytest.mark.parametrize("fmt", sorted(WRITERS))
def test_format_gives_the_csv_cohorts_registry(cohort_in, csv_registry, fmt):
    got = registry(cohort_in(fmt))
    pd.testing.assert_frame_equal(got, csv_registry, check_exact=True)


def test_the_formats_really_differ_from_the_contract(cohort_in):
    """The conversions are not the CSV files under another suffix: names, codes, units differ."""
    import pyreadstat

    frame, meta = pyreadstat.read_sav(cohort_in("spss") / "visits.sav")
    assert "crp_mgdl" in frame.columns and "CRP" not in frame.columns
    assert frame["crp_mgdl"].max() < 30  # mg/dL: a tenth of the mg/L values
    subjects, meta = pyreadstat.read_sav(cohort_in("spss") / "subjects.sav")
    assert set(subjects["group"].dropna()) == {1.0, 2.0}
    assert meta.variable_value_labels["group"] == {1.0: "MSC", 2.0: "MSC + IFN-γ"}
    assert meta.original_variable_types["msc_date"].startswith("DATE")
    assert sorted(p.name for p in cohort_in("excel_workbook").iterdir()) == ["mapping.yml", "trial.xlsx"]


def run_cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "analysis", *map(str, args)], capture_output=True, text=True,
                          cwd=paths.ROOT, check=False)


def test_validate_accepts_each_format(cohort_in):
    for fmt in sorted(WRITERS):
        result = run_cli("validate", cohort_in(fmt))
        assert result.returncode == 0, result.stderr
        assert result.stdout.startswith(f"valid: {cohort_in(fmt)} (110 subjects, 1565 visits,"), result.stdout


def test_import_writes_the_contract_csv_files(cohort_in, tmp_path):
    out = tmp_path / "out"
    result = run_cli("import", cohort_in("spss"), "--out", out)
    assert result.returncode == 0, result.stderr
    assert sorted(p.name for p in out.iterdir()) == sorted(FILES)
    assert "every contract column holds data" in result.stdout
    ours, written = contract_frames(paths.SYNTHETIC), contract_frames(out)
    for file in FILES:
        pd.testing.assert_frame_equal(written[file], ours[file], check_exact=True)
    again = run_cli("import", cohort_in("spss"), "--out", out)  # OUT is not empty now
    assert again.returncode == 2 and "is not an empty directory" in again.stderr


def test_import_reports_what_the_data_lack(cohort_in, tmp_path):
    """A trial that counted 28 joints only: the report names the columns and the results lost."""
    import shutil

    import yaml

    data = tmp_path / "only28"
    shutil.copytree(cohort_in("spss"), data)
    mapping = yaml.safe_load((data / "mapping.yml").read_text(encoding="utf-8"))
    mapping["tables"]["visits"]["columns"].update(TJC68="not collected", SJC66="not collected")
    (data / "mapping.yml").write_text(yaml.safe_dump(mapping, allow_unicode=True), encoding="utf-8")
    result = run_cli("import", data, "--out", tmp_path / "out")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert "not collected: visits.csv: TJC68, SJC66" in lines
    lost = next(line for line in lines if line.startswith("results that cannot be computed"))
    assert int(lost.split(": ")[1].split()[0]) > 0
    # ACR responses need the 68/66 counts (ACR core set); DAS28 does not.
    assert any(line.startswith("  table3: table3.acr20") for line in lines), lines
    assert not any("das28" in line for line in lines), lines
    assert run_cli("validate", data).stdout.splitlines()[1:] == ["not collected: visits.csv: TJC68, SJC66"]


def test_hash_of_a_logical_table_covers_its_source_and_the_mapping(cohort_in, tmp_path):
    import shutil

    data = tmp_path / "sav"
    shutil.copytree(cohort_in("spss"), data)
    before, sizes = describe_dataset_files(data, hash_file)
    assert sorted(before) == sorted(FILES)
    assert sizes["visits.csv"] == (data / "visits.sav").stat().st_size  # mapping.yml is part of every table, not a file of its own
    (data / "medications.sav").write_bytes((data / "medications.sav").read_bytes() + b"\0")
    after, _ = describe_dataset_files(data, hash_file)
    assert [f for f in FILES if after[f] != before[f]] == ["medications.csv"]
    with open(data / "mapping.yml", "a", encoding="utf-8") as handle:
        handle.write("# a comment\n")
    assert all(describe_dataset_files(data, hash_file)[0][f] != after[f] for f in FILES)
    info = describe_dataset(data)
    assert (info.files, info.sizes) == describe_dataset_files(data, hash_file)
    # The plain CSV layout keeps its file hashes (existing caches stay valid).
    assert describe_dataset(paths.SYNTHETIC).files["visits.csv"] == hash_file(paths.SYNTHETIC / "visits.csv")


def test_workbook_tables_hash_by_sheet(cohort_in):
    hashes, _ = describe_dataset_files(cohort_in("excel_workbook"), hash_file)
    assert sorted(hashes) == sorted(FILES)
    assert len(set(hashes.values())) == 4  # one workbook, four logical tables


def test_appendix_names_the_file_and_sheet_holding_each_table(cohort_in):
    """The reproducibility appendix lists each contract table with what holds it: a sheet of the
    workbook, not a CSV file of the table's name that the folder does not have."""
    directory = Path(cohort_in("excel_workbook"))
    page = render_reproducibility_page([], describe_dataset(directory))
    workbook = next(p.name for p in directory.iterdir() if p.suffix == ".xlsx")
    for table in FILES:
        row = next(line for line in page.splitlines() if line.startswith(f"| `{table}` |"))
        assert f"| `{workbook}, sheet " in row, row


def test_public_label_of_an_outside_folder_is_its_name_only(cohort_in):
    info = describe_dataset(Path(cohort_in("sas")))
    assert info.public_label == "dataset (a folder outside the repository)"


def test_excel_serial_dates_text_dates_and_vas_in_cm(tmp_path):
    """Dates stored as plain Excel serial numbers (``origin: excel``), a CSV export with
    day/month/year dates (``format:``), VAS in cm: the minimal dataset comes back unchanged."""
    from decimal import Decimal

    from openpyxl import Workbook

    from analysis.contract import load_dataset

    ours = load_dataset(paths.TEST_DATASET)
    data = tmp_path / "mixed"
    data.mkdir()
    for name in ("adverse_events.csv", "medications.csv"):
        shutil.copy2(paths.TEST_DATASET / name, data / name)
    subjects = pd.read_csv(paths.TEST_DATASET / "subjects.csv", dtype=str, keep_default_na=False)
    for column in ("TRTSDT", "EOSDT"):
        subjects[column] = pd.to_datetime(subjects[column]).dt.strftime("%d/%m/%Y")
    subjects.to_csv(data / "subjects.csv", index=False)
    visits = ours.visits
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(["USUBJID", "AVISITN", "ADT_SERIAL", *[c for c in visits.columns if c not in
                                                         ("USUBJID", "AVISITN", "ADT")]])
    for row in visits.itertuples(index=False):
        values = row._asdict()
        cells = [values["USUBJID"], int(values["AVISITN"]), (values["ADT"] - pd.Timestamp("1899-12-30")).days]
        for column in visits.columns[3:]:
            value = values[column]
            if pd.isna(value):
                cells.append(None)
            elif column == "PTGA":
                cells.append(float(Decimal(repr(float(value))) / 10))
            else:
                cells.append(float(value))
        sheet.append(cells)
    workbook.save(data / "visits.xlsx")
    (data / "mapping.yml").write_text(
        "tables:\n"
        "  subjects:\n    columns:\n"
        "      TRTSDT: {from: TRTSDT, format: '%d/%m/%Y'}\n"
        "      EOSDT: {from: EOSDT, format: '%d/%m/%Y'}\n"
        "  visits:\n    columns:\n"
        "      ADT: {from: ADT_SERIAL, origin: excel}\n"
        "      PTGA: {from: PTGA, unit: cm}\n", encoding="utf-8")
    theirs = load_dataset(data)
    for table in ("subjects", "visits", "adverse_events", "medications"):
        pd.testing.assert_frame_equal(getattr(theirs, table), getattr(ours, table), check_exact=True, obj=table)
