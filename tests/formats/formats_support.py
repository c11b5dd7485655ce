"""The shipped synthetic cohort converted, in code, into the files a trial team holds.

Each ``write_*`` function writes one dataset directory in one format, with the differences
a real export has (renamed variables, numeric codes with value labels, the tool's own date
encoding, CRP in mg/dL), and the ``mapping.yml`` that brings it back to the contract. The
tests check that every one gives the same results registry as the CSV cohort.
"""
from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

from analysis.contract import COLUMNS, FILES, FLAG_COLUMNS, load_dataset
from analysis.paths import SYNTHETIC

#: Their variable names for the contract columns that get renamed (the rest: lower case).
RENAMED = {"USUBJID": "patid", "STUDYID": "trial", "ARM": "group", "AGE": "age_yrs", "TRTSDT": "msc_date",
           "EOSDT": "last_safety", "ADT": "visit_date", "AVISITN": "month", "CRP": "crp_mgdl",
           "AESER": "serious", "CMCLASS": "drug_class"}
#: Codes with value labels, as an SPSS or Stata file holds them: column -> {code: label}.
LABELS = {
    "STUDYID": {1: "ChiCTR-ONC-16008770", 2: "ChiCTR-INR-17012462"},  # labels equal to contract values
    "ARM": {1: "MSC", 2: "MSC + IFN-γ"},
    "SEX": {1: "Male", 2: "Female"},
    "EOSSTT": {1: "Completed", 2: "Discontinued"},
    "DCSREAS": {1: "Lack of efficacy", 2: "Adverse event", 3: "Death", 4: "Withdrawal by subject",
                5: "Lost to follow-up", 6: "Other"},
    "CMCLASS": {1: "csDMARD", 2: "bDMARD", 3: "tsDMARD", 4: "NSAID", 5: "Prednisone"},
}
CONTRACT_VALUES = {
    "ARM": {1: "MSC", 2: "MSC+IFNG"}, "SEX": {1: "M", 2: "F"}, "EOSSTT": {1: "COMPLETED", 2: "DISCONTINUED"},
    "DCSREAS": {1: "LACK OF EFFICACY", 2: "ADVERSE EVENT", 3: "DEATH", 4: "WITHDRAWAL BY SUBJECT",
                5: "LOST TO FOLLOW-UP", 6: "OTHER"},
    "CMCLASS": {1: "csDMARD", 2: "bDMARD", 3: "tsDMARD", 4: "NSAID", 5: "PREDNISONE"},
    "STUDYID": {1: "ChiCTR-ONC-16008770", 2: "ChiCTR-INR-17012462"},
}
FLAG_LABELS = {0: "No", 1: "Yes"}


def cohort(source: Path = SYNTHETIC) -> dict[str, pd.DataFrame]:
    """A contract dataset (default: the synthetic cohort) as typed frames, by contract file."""
    ds = load_dataset(source)
    return {"subjects.csv": ds.subjects, "visits.csv": ds.visits, "adverse_events.csv": ds.adverse_events,
            "medications.csv": ds.medications}


def their_name(column: str, upper: bool = False) -> str:
    name = RENAMED.get(column, column.lower())
    return name.upper()[:8] if upper else name  # SAS transport v5: 8 characters


def is_flag(file: str, column: str) -> bool:
    return column in FLAG_COLUMNS


def crp_in_mg_dl(values: pd.Series) -> pd.Series:
    """CRP mg/L -> mg/dL, exactly (decimal), as a lab export would print it."""
    return values.map(lambda v: v if pd.isna(v) else float(Decimal(repr(float(v))) / 10))


def coded(tables: dict[str, pd.DataFrame], upper: bool = False, lte_date: bool = True):
    """Their tables: renamed, codes for text and flags, CRP in mg/dL; plus the mapping and
    the value labels (``their column -> {code: label}``)."""
    out, labels, mapping = {}, {}, {"tables": {}}
    for file, frame in tables.items():
        table, columns = {}, {}
        for spec in COLUMNS[file]:
            name, values = their_name(spec.name, upper), frame[spec.name]
            entry: dict = {"from": name}
            if spec.name in LABELS:
                inverse = {v: k for k, v in CONTRACT_VALUES[spec.name].items()}
                values = values.map(inverse).astype("float64")
                labels[name] = LABELS[spec.name]
                if spec.name == "ARM":  # keyed by the label, as a statistician reading SPSS would
                    entry["codes"] = {LABELS["ARM"][k]: v for k, v in CONTRACT_VALUES["ARM"].items()}
                elif spec.name != "STUDYID":  # STUDYID: the labels are the contract values
                    entry["codes"] = dict(CONTRACT_VALUES[spec.name])
            elif is_flag(file, spec.name):
                if spec.name == "LTEFL" and lte_date:
                    name = "LTE_CONS" if upper else "lte_consent"
                    trt = frame["TRTSDT"]
                    values = (trt + pd.Timedelta(days=400)).where(frame["LTEFL"] == "Y")
                    entry = {"from": name, "derive": "date_given"}
                else:
                    values = values.map({"N": 0, "Y": 1}).astype("float64")
                    labels[name] = FLAG_LABELS
                    entry["codes"] = {0: "N", 1: "Y"}
            elif spec.name == "CRP":
                values = crp_in_mg_dl(values)
                entry["unit"] = "mg/dL"
            elif spec.kind == "integer":
                values = values.astype("float64")
            table[name] = values
            columns[spec.name] = entry if len(entry) > 1 or entry["from"] != spec.name else spec.name
        out[file] = pd.DataFrame(table)
        mapping["tables"][file.removesuffix(".csv")] = {"columns": columns}
    return out, labels, mapping


def write_mapping(directory: Path, mapping: dict) -> None:
    (directory / "mapping.yml").write_text(yaml.safe_dump(mapping, sort_keys=False, allow_unicode=True),
                                           encoding="utf-8")


def _dates_to_objects(frame: pd.DataFrame) -> pd.DataFrame:
    frame = frame.copy()
    for name in frame.columns:
        if pd.api.types.is_datetime64_any_dtype(frame[name]):
            frame[name] = [None if pd.isna(v) else v.date() for v in frame[name]]
    return frame


def _text_to_str(frame: pd.DataFrame) -> pd.DataFrame:
    frame = frame.copy()
    for name in frame.columns:
        if frame[name].dtype == object and not all(isinstance(v, dt.date) for v in frame[name].dropna()):
            frame[name] = frame[name].fillna("").astype(str)
    return frame


def write_parquet(directory: Path, source: Path = SYNTHETIC) -> Path:
    """Four Parquet files, contract names and values, native dates (date32), no mapping."""
    directory.mkdir(parents=True)
    for file, frame in cohort(source).items():
        _dates_to_objects(frame).to_parquet(directory / file.replace(".csv", ".parquet"), index=False)
    return directory


def write_spss(directory: Path, source: Path = SYNTHETIC) -> Path:
    """Four SPSS files: renamed variables, numeric codes with value labels, DATE11 dates,
    CRP in mg/dL, LTEFL derived from a consent date, a mapping."""
    import pyreadstat

    directory.mkdir(parents=True)
    tables, labels, mapping = coded(cohort(source))
    for file, frame in tables.items():
        frame = _text_to_str(_dates_to_objects(frame))
        pyreadstat.write_sav(frame, directory / file.replace(".csv", ".sav"),
                             variable_value_labels={k: v for k, v in labels.items() if k in frame.columns},
                             column_labels={c: f"variable {c}" for c in frame.columns})
    write_mapping(directory, mapping)
    return directory


def write_stata(directory: Path, source: Path = SYNTHETIC) -> Path:
    """Four Stata files (%td dates, value labels on codes), a mapping."""
    import pyreadstat

    directory.mkdir(parents=True)
    tables, labels, mapping = coded(cohort(source))
    for file, frame in tables.items():
        frame = _text_to_str(_dates_to_objects(frame))
        pyreadstat.write_dta(frame, directory / file.replace(".csv", ".dta"),
                             variable_value_labels={k: v for k, v in labels.items() if k in frame.columns})
    write_mapping(directory, mapping)
    return directory


def write_sas(directory: Path, source: Path = SYNTHETIC) -> Path:
    """SAS: subjects as .sas7bdat, the others as transport files (.xpt, version 5), upper-case
    names, DATE9 dates, numeric codes (SAS keeps formats in a catalogue, not in the file: the
    mapping gives the codes)."""
    import pyreadstat

    directory.mkdir(parents=True)
    tables, _, mapping = coded(cohort(source), upper=True)
    for table in mapping["tables"].values():  # no value labels in a SAS file: map codes, not labels
        for name, entry in table["columns"].items():
            if isinstance(entry, dict) and name in CONTRACT_VALUES:
                entry["codes"] = dict(CONTRACT_VALUES[name])
    for file, frame in tables.items():
        frame = _text_to_str(_dates_to_objects(frame))
        formats = {c: "DATE9" for c in frame.columns if frame[c].map(lambda v: isinstance(v, dt.date)).any()}
        if file == "subjects.csv":
            pyreadstat.write_sas7bdat(frame, directory / "subjects.sas7bdat")
        else:
            pyreadstat.write_xport(frame, directory / file.replace(".csv", ".xpt"), table_name=file.removesuffix(".csv")[:8].upper(),
                                   variable_format=formats, file_format_version=5)
    write_mapping(directory, mapping)
    return directory


def write_workbook(directory: Path, source: Path = SYNTHETIC, workbook_name: str = "trial.xlsx") -> Path:
    """One Excel workbook with a sheet per table: renamed columns, Excel date cells, CRP in
    mg/dL, flags as Yes/No text, a title row above the header is *not* used (row 1 = names)."""
    from openpyxl import Workbook

    directory.mkdir(parents=True)
    tables, _, mapping = coded(cohort(source), lte_date=False)
    for file, table in mapping["tables"].items():
        for column, entry in table["columns"].items():
            if isinstance(entry, dict) and "codes" in entry and column in LABELS:
                entry["codes"] = {LABELS[column][k]: v for k, v in CONTRACT_VALUES[column].items()}
            elif isinstance(entry, dict) and "codes" in entry:
                entry["codes"] = {"Yes": "Y", "No": "N"}
    workbook = Workbook()
    workbook.remove(workbook.active)
    for file, frame in tables.items():
        sheet = workbook.create_sheet(file.removesuffix(".csv"))
        sheet.append(list(frame.columns))
        columns = mapping["tables"][file.removesuffix(".csv")]["columns"]
        for row in frame.itertuples(index=False):
            cells = []
            for name, value in zip(frame.columns, row):
                contract = next((c for c, e in columns.items() if (e if isinstance(e, str) else e.get("from")) == name),
                                None)
                if pd.isna(value):
                    cells.append(None)
                elif isinstance(value, pd.Timestamp):
                    cells.append(value.to_pydatetime())
                elif contract in LABELS:
                    cells.append(LABELS[contract][int(value)])
                elif contract is not None and is_flag(file, contract):
                    cells.append(FLAG_LABELS[int(value)])
                elif isinstance(value, float) and value.is_integer():
                    cells.append(int(value))
                else:
                    cells.append(value)
            sheet.append(cells)
        for column_cells in sheet.iter_cols(min_row=2):
            for cell in column_cells:
                if isinstance(cell.value, dt.datetime):
                    cell.number_format = "dd/mm/yyyy"
    workbook.save(directory / workbook_name)
    write_mapping(directory, mapping)
    return directory


WRITERS = {"parquet": write_parquet, "spss": write_spss, "stata": write_stata, "sas": write_sas,
           "excel_workbook": write_workbook}


def registry(directory: Path) -> pd.DataFrame:
    from analysis.tables import compute_results

    return compute_results(load_dataset(directory)).reset_index(drop=True)


def contract_frames(directory: Path) -> dict[str, pd.DataFrame]:
    ds = load_dataset(directory)
    return {file: getattr(ds, file.removesuffix(".csv"))[[s.name for s in COLUMNS[file]]] for file in FILES}


__all__ = ["WRITERS", "coded", "cohort", "contract_frames", "np", "registry", "write_mapping"]
