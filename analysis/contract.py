"""The data contract: load a patient-level dataset and refuse it loudly if it is invalid.

A dataset is a directory of four CSV files (UTF-8, comma-separated, one header row,
dates ``YYYY-MM-DD``, an empty cell means "not assessed / missing"):

``subjects.csv``
    one row per randomised patient (design, baseline characteristics, disposition);
``visits.csv``
    one row per patient per assessment (joint counts, ESR, CRP, VAS, HAQ-DI items);
``adverse_events.csv``
    one row per adverse event (MedDRA preferred term, seriousness, dates);
``medications.csv``
    one row per drug-class exposure interval.

The human-readable data dictionary is ``data/README.md``; this module is the executable
one. :func:`load_dataset` is the only way the analysis reads patient data.

How a dataset is checked, in order
----------------------------------
1. *Structure* of each file: present, not empty, valid UTF-8, one header row, every row
   with as many fields as the header, quoting as in RFC 4180. A structural failure stops
   the checks of that file (its cells cannot be trusted to sit in the right columns); the
   other files are still checked.
2. *Header*: every contract column present, names unique, no direct identifiers.
3. *Text form* of every cell, parsed once and vectorised: required cells non-empty,
   numbers parse, integers are whole, dates are ISO dates. A cell that fails here is
   missing (``NA``) in the typed frame, so it is not reported twice.
4. *Values* (pandera ``DataFrameSchema`` per file, :data:`SCHEMAS`, validated with
   ``lazy=True`` so every failure is collected): dtypes, ranges, allowed values, unique
   ``USUBJID``.
5. *Row rules* inside one file (e.g. ``TJC28 <= TJC68``, ``EOSDT >= TRTSDT``, one row per
   ``USUBJID``/``AVISITN``) and *cross-file rules* (referential integrity, baseline
   visit, visit / AE / medication dates inside the patient's observation window), as
   explicit vectorised checks. A rule is skipped where a column it needs is missing, and
   a row is skipped where a cell the rule needs is empty or did not parse (those are
   reported in steps 2 and 3).

All violations found are collected and raised together as one :class:`DataContractError`.

Line numbers
------------
Every row number in a :class:`Violation` is a **line number of the CSV file as a text
editor shows it**: the header is line 1, the first data row is line 2. Blank lines and
line breaks inside quoted cells are counted, so the number always points at the line
where the offending row starts.

Examples
--------
>>> from analysis.paths import TEST_DATASET
>>> ds = load_dataset(TEST_DATASET)
>>> len(ds.subjects), sorted(ds.subjects["ARM"].unique())
(8, ['MSC', 'MSC+IFNG'])
>>> ds.visits[["TJC28", "ADT"]].dtypes.astype(str).tolist()
['Int64', 'datetime64[ns]']
"""
from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import pandera.pandas as pa
from pandera.errors import SchemaErrors

from analysis import crosswalk, dataset_io
from analysis.schema import (
    ARMS,
    CMCLASSES,
    COLUMNS,
    DCSREAS_VALUES,
    DIRECT_IDENTIFIERS,
    FILES,
    FLAG_COLUMNS,
    MAX_LISTED,
    NEED_ROWS,
    STUDYIDS,
    ColumnSpec,
    Violation,
)

__all__ = [
    "ARMS",
    "CMCLASSES",
    "COLUMNS",
    "DCSREAS_VALUES",
    "DIRECT_IDENTIFIERS",
    "FILES",
    "FLAG_COLUMNS",
    "MAX_LISTED",
    "SCHEMAS",
    "STUDYIDS",
    "ColumnSpec",
    "DataContractError",
    "Dataset",
    "Violation",
    "load_dataset",
]

# --------------------------------------------------------------------------------------
# Terms, columns and the violation record live in analysis.schema (below the readers).
# --------------------------------------------------------------------------------------

# Text columns are declared ``object``, not ``str``: pandera checks ``str`` element by
# element in Python (seconds per million rows), and read_csv(dtype=str) already
# guarantees every non-missing cell is a str.
_DTYPES = {"string": object, "integer": "Int64", "float": "float64", "date": "datetime64[ns]"}
_PARSE_RULES = {
    "integer": "must be an integer",
    "float": "must be a number",
    "date": "must be a date YYYY-MM-DD",
}
_NON_EMPTY_RULE = "must not be empty"
_ISO_DATE = r"\d{4}-\d{2}-\d{2}"




def _typed_schema(file: str) -> pa.DataFrameSchema:
    columns = {
        spec.name: pa.Column(
            _DTYPES[spec.kind],
            checks=list(spec.checks),
            nullable=not spec.required,
            unique=spec.unique,
            report_duplicates="all",
            required=True,
        )
        for spec in COLUMNS[file]
    }
    return pa.DataFrameSchema(columns, strict=False, name=file)


#: Pandera schemas of the *typed* frames that :func:`load_dataset` returns (single-column
#: rules; the row and cross-file rules are in :func:`load_dataset`). Example:
#: ``SCHEMAS["visits.csv"].validate(frame, lazy=True)``.
SCHEMAS: Mapping[str, pa.DataFrameSchema] = {file: _typed_schema(file) for file in FILES}

# --------------------------------------------------------------------------------------
# Parsing text to typed columns (vectorised)
# --------------------------------------------------------------------------------------


def _parse_float(text: pd.Series) -> tuple[pd.Series, pd.Series]:
    # Not astype(float): Python's float() also takes "1_000" and non-ASCII digits.
    values = pd.to_numeric(text, errors="coerce").astype("float64")
    # Text such as "nan" or "inf" is not a number here: missing is an empty cell.
    ok = pd.Series(np.isfinite(values.to_numpy()), index=text.index)
    return values.where(ok), ok


def _parse_integer(text: pd.Series) -> tuple[pd.Series, pd.Series]:
    # A whole number written with decimals (``5.0``) is accepted as 5.
    values, ok = _parse_float(text)
    ok &= values.mod(1).eq(0) & values.abs().lt(2**53)  # whole, and exact in float64
    data = np.where(ok, values.to_numpy(), 0).astype(np.int64)
    array = pd.arrays.IntegerArray(data, ~ok.to_numpy())
    return pd.Series(array, index=text.index), ok


def _parse_date(text: pd.Series) -> tuple[pd.Series, pd.Series]:
    # to_datetime alone accepts 2016-1-5; the pattern insists on zero-padded ISO dates.
    iso = text.str.fullmatch(_ISO_DATE).fillna(False).astype(bool)
    values = pd.to_datetime(text.where(iso), format="%Y-%m-%d", errors="coerce")
    values = values.astype("datetime64[ns]")
    return values, values.notna()


def _parse_string(text: pd.Series) -> tuple[pd.Series, pd.Series]:
    return text.mask(text == ""), pd.Series(True, index=text.index)


_PARSERS: dict[str, Callable[[pd.Series], tuple[pd.Series, pd.Series]]] = {
    "string": _parse_string,
    "integer": _parse_integer,
    "float": _parse_float,
    "date": _parse_date,
}


def _parse_column(text: pd.Series, kind: str) -> tuple[pd.Series, np.ndarray, np.ndarray]:
    """Typed values, a mask of the cells that parsed and a mask of the empty cells.

    Numbers and dates repeat few distinct texts (joint counts, scores, visit dates), so each
    distinct text is parsed once and the result is spread back to the cells by its code:
    the same parsers give the same values, at a fraction of the cost on large files.
    """
    if isinstance(text.dtype, pd.CategoricalDtype):  # read by pyarrow: already coded
        codes = text.cat.codes.to_numpy().astype(np.intp)
        uniques = text.cat.categories.to_numpy(dtype=object)
        if kind == "string":  # the texts themselves, "" as missing, as text.mask gives
            empty = (uniques == "")[codes]
            return pd.Series(np.where(uniques == "", np.nan, uniques).astype(object).take(codes),
                             index=text.index), np.ones(len(text), dtype=bool), empty
    elif kind == "string":
        empty = (text == "").to_numpy()
        return text.mask(empty), np.ones(len(text), dtype=bool), empty
    else:
        codes, uniques = pd.factorize(text.to_numpy(dtype=object))
    if len(codes) and codes.min() < 0:  # a missing cell (not from a CSV): parsed as missing
        codes = np.where(codes < 0, len(uniques), codes)
        uniques = np.append(uniques.astype(object), None)
    distinct = pd.Series(uniques, dtype=object)
    values, ok = _PARSERS[kind](distinct)
    empty = (distinct == "").to_numpy()[codes]
    return pd.Series(values.array.take(codes), index=text.index), ok.to_numpy()[codes], empty

# --------------------------------------------------------------------------------------
# Violations and the error
# --------------------------------------------------------------------------------------


class DataContractError(ValueError):
    """A dataset breaks the data contract.

    Parameters
    ----------
    violations : list of Violation
        Every violation found, in report order.
    directory : path-like, optional
        The dataset directory, kept for callers that report it.

    Notes
    -----
    ``str(err)`` is the report: one line per violation (see :class:`Violation`).

    Examples
    --------
    >>> err = DataContractError([Violation("visits.csv", "ESR", (5,), "must be > 0", ("0",)),
    ...                          Violation("subjects.csv", "ARM", (3,), "must be one of MSC, "
    ...                                    "MSC+IFNG", ("'MSC+IFN'",))])
    >>> print(err)
    visits.csv: column ESR, line 5: must be > 0 (got 0)
    subjects.csv: column ARM, line 3: must be one of MSC, MSC+IFNG (got 'MSC+IFN')
    >>> isinstance(err, ValueError), len(err.violations)
    (True, 2)
    """

    def __init__(self, violations, directory=None):
        self.violations = list(violations)
        self.directory = None if directory is None else Path(directory)
        super().__init__("\n".join(str(v) for v in self.violations))

    def __reduce__(self):  # survive pickling (e.g. across processes) with its records
        return type(self), (self.violations, self.directory)


@dataclass(frozen=True, eq=False)
class Dataset:
    """A validated dataset.

    Every frame has a fresh ``RangeIndex`` with rows in file order; contract columns
    come first in :data:`COLUMNS` order, then any extra columns (as text). Dates are
    ``datetime64[ns]``, integers pandas nullable ``Int64``, other numbers ``float64``,
    flags and codes ``str`` (``"Y"``/``"N"``). An empty cell is ``NA``/``NaT``/``NaN``.
    """

    directory: Path
    subjects: pd.DataFrame
    visits: pd.DataFrame
    adverse_events: pd.DataFrame
    medications: pd.DataFrame


# --------------------------------------------------------------------------------------
# Reading one file
# --------------------------------------------------------------------------------------


@dataclass
class _Table:
    """One table after reading: raw text, typed values and the place of each row."""

    file: str  # the contract's file name (e.g. "visits.csv")
    raw: pd.DataFrame  # every cell a str ("" = empty), contract column names
    typed: pd.DataFrame  # contract columns converted; unparseable cells are NA
    lines: np.ndarray  # row number as the file's tool shows it (CSV: line)
    kinds: dict[str, str]
    source: str | None = None  # the file holding it, when not ``file`` (e.g. "trial.sav")
    sheet: str | None = None
    row_label: str = "line"
    their: dict[str, str] = field(default_factory=dict)  # contract column -> name in the file
    shown: pd.DataFrame | None = None  # values as written in the file, for reports

    def has(self, *columns: str) -> bool:
        return all(c in self.typed.columns for c in columns)

    @property
    def place(self) -> str:
        """Where the table is, as reports name it: ``subjects.csv``, ``trial.sav``, ``trial.xlsx, sheet subjects``."""
        return f"{self.source or self.file}" + (f", sheet {self.sheet}" if self.sheet is not None else "")

    def violation(self, column: str | None, rows: tuple[int, ...], rule: str,
                  values: tuple[str, ...] = ()) -> Violation:
        """A :class:`Violation` placed in this table's own file (sheet, their column name)."""
        return Violation(self.source or self.file, column, rows, rule, values, sheet=self.sheet,
                         source_column=self.their.get(column), row_label=self.row_label)


def _read_table(directory: Path, file: str, found: list[Violation]) -> _Table | None:
    """Read one contract CSV file as text and convert it; append violations to ``found``.

    Returns None when the file cannot be read reliably (then nothing more is checked).
    """
    path = directory / file
    if not path.is_file():
        found.append(Violation(file, None, (), "file is missing"))
        return None
    read = dataset_io.read_csv_text(path, file, found, coded=True)
    if read is None:
        return None
    frame, lines, header = read
    _check_header(file, header, found)
    if len(frame) == 0 and file in NEED_ROWS:
        found.append(Violation(file, None, (), "must have at least one data row"))
    # Duplicate names cannot be told apart below: keep the first of each.
    frame = frame.loc[:, ~frame.columns.duplicated()]
    return type_table(_Table(file, frame, pd.DataFrame(index=frame.index), lines, {}), found)


def type_table(table: _Table, found: list[Violation],
               reported: Mapping[str, np.ndarray] | None = None) -> _Table:
    """Parse the text cells of ``table.raw`` into ``table.typed`` (contract columns typed,
    extra columns kept as text), appending empty-cell and parse violations to ``found``.

    ``reported`` maps a column to a boolean mask of cells already reported by the reader
    (e.g. a SAS date out of range): they are missing in the typed frame, not reported again.
    """
    frame, file = table.raw, table.file
    table.kinds = {spec.name: spec.kind for spec in COLUMNS[file] if spec.name in frame.columns}
    typed = {}
    for spec in COLUMNS[file]:
        if spec.name not in frame.columns:
            continue
        typed[spec.name], parsed, empty = _parse_column(frame[spec.name], spec.kind)
        if reported is not None and spec.name in reported:
            done = np.asarray(reported[spec.name], dtype=bool)
            typed[spec.name] = typed[spec.name].mask(done)
            empty &= ~done
            parsed = parsed | done
        if spec.required:
            found += _flagged(table, pd.Series(empty), spec.name, _NON_EMPTY_RULE)
        if spec.kind != "string":
            found += _flagged(table, pd.Series(~empty & ~parsed), spec.name,
                              _PARSE_RULES[spec.kind],
                              lambda p, c=spec.name: _render(table, c, p, quote=True))
    for name in frame.columns:
        if name not in typed:
            text = frame[name].astype(object)  # extra columns stay text
            typed[name] = text.mask(text == "")
    table.typed = pd.DataFrame(typed, index=frame.index)
    return table


def _prepared_table(prepared: crosswalk.PreparedTable, found: list[Violation]) -> _Table:
    """A table read from another format and crosswalked, typed like a CSV table."""
    source = prepared.source
    table = _Table(source.table, prepared.text, pd.DataFrame(index=prepared.text.index), prepared.rows, {},
                   source=source.path.name, sheet=source.sheet, row_label=source.row_label,
                   their=prepared.their, shown=prepared.shown)
    return type_table(table, found, prepared.reported)


def _check_header(file: str, header: list[str], found: list[Violation]) -> None:
    seen = set()
    for name in header:
        if name in seen:
            found.append(Violation(file, name, (1,), "column names must be unique"))
        seen.add(name)
        if name.strip().upper() in DIRECT_IDENTIFIERS:
            found.append(Violation(
                file, name, (1,),
                "no direct identifiers: remove this column (names, birth dates, contact "
                "details and ID numbers must not be in the dataset)"))
    for spec in COLUMNS[file]:
        if spec.name not in header:
            near = [h for h in header if h.strip().upper() == spec.name.upper()]
            hint = f" (found {near[0]!r}; names are exact)" if near else ""
            found.append(Violation(file, spec.name, (1,), "required column is missing" + hint))


# --------------------------------------------------------------------------------------
# Turning pandera failures into violations
# --------------------------------------------------------------------------------------

# Reported elsewhere: missing columns by _check_header; empty or unparseable cells by the
# parse step of _read_table (an unparseable cell is NA in the typed frame).
_SKIPPED_CHECKS = {"column_in_dataframe", "not_nullable"}
_CHECK_NAMES = {"field_uniqueness": "must be unique"}


def _render(table: _Table, column: str, positions: np.ndarray, quote: bool) -> tuple:
    source = table.raw if table.shown is None else table.shown
    text = source[column].to_numpy()[positions[:MAX_LISTED]]
    return tuple(repr(v) if quote else str(v) for v in text)


def _pandera_violations(table: _Table) -> list[Violation]:
    present = [c for c in table.typed.columns if c in SCHEMAS[table.file].columns]
    try:
        SCHEMAS[table.file].select_columns(present).validate(
            table.typed, lazy=True, inplace=True)  # nothing is coerced: no copy needed
    except SchemaErrors as err:
        cases = err.failure_cases
    else:
        return []
    cases = cases[~cases["check"].isin(_SKIPPED_CHECKS)]
    found = []
    # Failures without a row (e.g. a wrong dtype) should not happen after parsing; if
    # one does, it is still reported rather than dropped.
    for row in cases[cases["index"].isna()].itertuples():
        found.append(table.violation(row.column, (), str(row.check), (str(row.failure_case),)))
    cases = cases[cases["index"].notna()]
    for (column, check), group in cases.groupby(["column", "check"], sort=False):
        positions = np.unique(group["index"].astype(np.int64).to_numpy())
        rule = _CHECK_NAMES.get(check, check)
        values = _render(table, column, positions, table.kinds.get(column) == "string")
        rows = tuple(int(x) for x in table.lines[positions])
        found.append(table.violation(column, rows, rule, values))
    return found


# --------------------------------------------------------------------------------------
# Row rules (inside one file) and cross-file rules: explicit and vectorised
# --------------------------------------------------------------------------------------


def _flagged(table: _Table, mask: pd.Series, column: str, rule: str,
             show: Callable[[np.ndarray], tuple] | None = None) -> list[Violation]:
    """A violation of ``rule`` on every row where ``mask`` is True (NA counts as False)."""
    positions = np.flatnonzero(mask.fillna(False).to_numpy(dtype=bool))
    if len(positions) == 0:
        return []
    rows = tuple(int(x) for x in table.lines[positions])
    values = show(positions[:MAX_LISTED]) if show is not None else ()
    return [table.violation(column, rows, rule, values)]


def _pairs(*columns: tuple[str, pd.Series]) -> Callable[[np.ndarray], tuple]:
    """Render ``NAME=value`` pairs for the given rows (dates as YYYY-MM-DD)."""

    def show(positions):
        parts = []
        for name, series in columns:
            values = series.iloc[positions]
            if pd.api.types.is_datetime64_any_dtype(values):
                values = values.dt.strftime("%Y-%m-%d")
            parts.append([f"{name} {v}" for v in values.astype(object).where(values.notna(), "")])
        return tuple(", ".join(p) for p in zip(*parts))

    return show


def _duplicates(table: _Table, keys: tuple[str, ...], column: str) -> list[Violation]:
    if not table.has(*keys):
        return []
    key = table.typed[list(keys)]
    mask = key.duplicated(keep=False) & key.notna().all(axis=1)
    rule = "must be unique per " + ", ".join(k for k in keys if k != column)
    return _flagged(table, mask, column, rule,
                    _pairs(*((k, table.typed[k]) for k in keys)))


def _not_before(table: _Table, later: str, earlier: str) -> list[Violation]:
    if not table.has(later, earlier):
        return []
    a, b = table.typed[later], table.typed[earlier]
    return _flagged(table, a < b, later, f"must be on or after {earlier}",
                    _pairs((later, a), (earlier, b)))


def _not_above(table: _Table, small: str, large: str) -> list[Violation]:
    if not table.has(small, large):
        return []
    a, b = table.typed[small], table.typed[large]
    return _flagged(table, a > b, small, f"must be <= {large}",
                    _pairs((small, a), (large, b)))


def _row_rules(tables: dict[str, _Table]) -> list[Violation]:
    found: list[Violation] = []
    subjects = tables.get("subjects.csv")
    if subjects is not None:
        found += _not_before(subjects, "EOSDT", "TRTSDT")
        if subjects.has("EOSSTT", "DCSREAS"):
            status, reason = subjects.typed["EOSSTT"], subjects.typed["DCSREAS"]
            found += _flagged(subjects, (status == "DISCONTINUED") & reason.isna(), "DCSREAS",
                              "must not be empty when EOSSTT is DISCONTINUED")
            found += _flagged(subjects, (status == "COMPLETED") & reason.notna(), "DCSREAS",
                              "must be empty when EOSSTT is COMPLETED",
                              lambda p: _render(subjects, "DCSREAS", p, True))
    visits = tables.get("visits.csv")
    if visits is not None:
        found += _duplicates(visits, ("USUBJID", "AVISITN"), "AVISITN")
        found += _not_above(visits, "TJC28", "TJC68")
        found += _not_above(visits, "SJC28", "SJC66")
    events = tables.get("adverse_events.csv")
    if events is not None:
        found += _duplicates(events, ("USUBJID", "AESEQ"), "AESEQ")
        found += _not_before(events, "AEENDT", "AESTDT")
    meds = tables.get("medications.csv")
    if meds is not None:
        found += _not_before(meds, "CMENDT", "CMSTDT")
    return found


def _cross_file_rules(tables: dict[str, _Table]) -> list[Violation]:
    subjects = tables.get("subjects.csv")
    if subjects is None or not subjects.has("USUBJID"):
        return []  # nothing to refer to; subjects.csv's own problems are reported
    per_subject = subjects.typed.drop_duplicates("USUBJID").set_index("USUBJID")
    known = per_subject.index
    rows: dict[str, np.ndarray] = {}  # file -> row of each USUBJID in per_subject (-1: none)

    def subject_row(table: _Table) -> np.ndarray:
        # One hash look-up per table, shared by every rule (as Series.map would do each time).
        if table.file not in rows:
            rows[table.file] = known.get_indexer(table.typed["USUBJID"])
        return rows[table.file]

    def subject_value(table: _Table, column: str) -> pd.Series:
        values = per_subject[column].array.take(subject_row(table), allow_fill=True)
        return pd.Series(values, index=table.typed.index)

    found: list[Violation] = []
    for file in FILES[1:]:
        table = tables.get(file)
        if table is None or not table.has("USUBJID"):
            continue
        ids = table.typed["USUBJID"]
        found += _flagged(table, ids.notna() & (subject_row(table) < 0), "USUBJID",
                          f"must exist in {subjects.place} (referential integrity)",
                          lambda p, t=table: _render(t, "USUBJID", p, True))

    visits = tables.get("visits.csv")
    if visits is not None and visits.has("USUBJID", "AVISITN"):
        baseline = visits.typed["AVISITN"] == 0
        with_baseline = visits.typed.loc[baseline.fillna(False), "USUBJID"]
        found += _flagged(subjects, ~subjects.typed["USUBJID"].isin(with_baseline)
                          & subjects.typed["USUBJID"].notna(), "USUBJID",
                          f"must have a baseline visit (AVISITN 0) in {visits.place}",
                          lambda p: _render(subjects, "USUBJID", p, True))
    has_dates = subjects.has("TRTSDT", "EOSDT")
    if visits is not None and has_dates and visits.has("USUBJID", "AVISITN", "ADT"):
        adt, avisitn = visits.typed["ADT"], visits.typed["AVISITN"]
        trt, eos = subject_value(visits, "TRTSDT"), subject_value(visits, "EOSDT")
        show = _pairs(("ADT", adt), ("TRTSDT", trt))
        found += _flagged(visits, (avisitn == 0) & (adt > trt), "ADT",
                          "baseline visit (AVISITN 0) must be on or before TRTSDT", show)
        found += _flagged(visits, (avisitn > 0) & (adt <= trt), "ADT",
                          "post-baseline visit (AVISITN > 0) must be after TRTSDT", show)
        found += _flagged(visits, (avisitn > 0) & (adt > eos), "ADT",
                          "must be on or before EOSDT (last safety assessment)",
                          _pairs(("ADT", adt), ("EOSDT", eos)))
    events = tables.get("adverse_events.csv")
    if events is not None and has_dates and events.has("USUBJID", "AESTDT"):
        start = events.typed["AESTDT"]
        trt, eos = subject_value(events, "TRTSDT"), subject_value(events, "EOSDT")
        found += _flagged(events, start < trt, "AESTDT",
                          "must be on or after TRTSDT (treatment-emergent events only)",
                          _pairs(("AESTDT", start), ("TRTSDT", trt)))
        found += _flagged(events, start > eos, "AESTDT",
                          "must be on or before EOSDT (last safety assessment)",
                          _pairs(("AESTDT", start), ("EOSDT", eos)))
    meds = tables.get("medications.csv")
    if meds is not None and subjects.has("EOSDT") and meds.has("USUBJID", "CMSTDT"):
        start, eos = meds.typed["CMSTDT"], subject_value(meds, "EOSDT")
        found += _flagged(meds, start > eos, "CMSTDT",
                          "must be on or before EOSDT (last safety assessment)",
                          _pairs(("CMSTDT", start), ("EOSDT", eos)))
    return found


# --------------------------------------------------------------------------------------
# Entry point
# --------------------------------------------------------------------------------------


def _ordered(table: _Table) -> pd.DataFrame:
    names = [spec.name for spec in COLUMNS[table.file]]
    extra = [c for c in table.typed.columns if c not in names]
    frame = table.typed
    # Select and re-index only when needed: each is a full copy of a large table.
    if list(frame.columns) != names + extra:
        frame = frame[names + extra]
    if not frame.index.equals(pd.RangeIndex(len(frame))):
        frame = frame.reset_index(drop=True)
    return frame


def load_dataset(directory: str | os.PathLike) -> Dataset:
    """Read, validate and type the four CSV files of a dataset.

    Parameters
    ----------
    directory : path-like
        Directory holding ``subjects.csv``, ``visits.csv``, ``adverse_events.csv`` and
        ``medications.csv`` (see ``data/README.md`` for the columns and rules).

    Returns
    -------
    Dataset
        Typed frames in file order (see :class:`Dataset`).

    Raises
    ------
    DataContractError
        If anything breaks the contract -- including a missing directory or file. Every
        violation found is listed; rows are CSV line numbers (header = line 1).

    Notes
    -----
    Everything is vectorised (pandas, numpy, pandera), so a 100,000-patient dataset
    (about two million visit rows) is checked in seconds. Extra columns are kept as
    text; a column named like a direct identifier (:data:`DIRECT_IDENTIFIERS`) is
    refused.

    Examples
    --------
    >>> from analysis.paths import TEST_DATASET
    >>> ds = load_dataset(TEST_DATASET)
    >>> len(ds.subjects), len(ds.visits), len(ds.adverse_events), len(ds.medications)
    (8, 42, 19, 22)
    >>> ds.subjects.loc[0, ["USUBJID", "TRTSDT", "RFFL"]].tolist()
    ['RA-001', Timestamp('2016-09-12 00:00:00'), 'Y']
    >>> try:
    ...     load_dataset("no/such/directory")
    ... except DataContractError as err:
    ...     print(str(err).replace(str(err.directory), "DIR"))
    DIR: dataset directory does not exist
    """
    directory = Path(directory)
    if not directory.is_dir():
        what = "is not a directory" if directory.exists() else "dataset directory does not exist"
        raise DataContractError([Violation(str(directory), None, (), what)], directory)

    mapping, found = crosswalk.load_mapping(directory)
    if mapping == {} and found:  # mapping.yml unreadable: the tables cannot be interpreted
        raise DataContractError(found, directory)
    sources, problems = dataset_io.locate_sources(directory, crosswalk.chosen_sources(directory))
    found += problems
    tables: dict[str, _Table] = {}
    for file in FILES:
        source = sources.get(file)
        table_map = (mapping or {}).get(file)
        if source is None:
            continue
        if source.path.name == file and source.sheet is None and table_map is None:
            table = _read_table(directory, file, found)  # the contract's own layout
        else:
            raw = dataset_io.read_source(source, found)
            prepared = None if raw is None else crosswalk.apply_mapping(raw, table_map, found)
            table = None if prepared is None else _prepared_table(prepared, found)
        if table is not None:
            tables[file] = table
            found += _pandera_violations(table)
    found += _row_rules(tables)
    found += _cross_file_rules(tables)
    if found:
        order = {file: i for i, file in enumerate(FILES)}
        for i, file in enumerate(FILES):
            if file in sources:
                order.setdefault(sources[file].path.name, i)
                order[(sources[file].path.name, sources[file].sheet)] = i
        found.sort(key=lambda v: (order.get((v.file, v.sheet), order.get(v.file, -1)), v.rows[:1] or (0,)))
        raise DataContractError(found, directory)
    return Dataset(
        directory=directory,
        subjects=_ordered(tables["subjects.csv"]),
        visits=_ordered(tables["visits.csv"]),
        adverse_events=_ordered(tables["adverse_events.csv"]),
        medications=_ordered(tables["medications.csv"]),
    )
