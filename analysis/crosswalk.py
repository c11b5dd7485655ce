"""The crosswalk from a trial team's variables to the data contract: ``mapping.yml``.

An optional ``mapping.yml`` beside the data says, table by table, which of their
variables holds each contract column and how to turn their values into the contract's::

    tables:
      subjects:
        file: trial.sav            # optional: the file (and sheet) holding the table
        columns:
          USUBJID: patid           # a plain rename
          ARM:                     # codes -> contract values (keys: the code or its label)
            from: group
            codes: {1: MSC, 2: MSC+IFNG}
          LTEFL: {from: lte_consent_date, derive: date_given}   # Y when a date is given
      visits:
        columns:
          CRP: {from: crp, unit: mg/dL}      # converted to mg/L (x 10)
          ADT: {from: visit_date, origin: excel}   # numbers counted as Excel serial dates
          TJC68: not collected               # the column is empty (the report says what it costs)

Rules (each failure names ``mapping.yml``, its line and the data file):

* a table key is one of ``subjects``, ``visits``, ``adverse_events``, ``medications``; a
  column key is a contract column of that table;
* a contract column not listed is taken from the variable of the same name; if the file
  has none, the column is *left unmapped* (an error: write ``not collected`` if the
  trial did not collect it);
* ``codes`` must cover every value found (a value is matched by its code or, in SPSS and
  Stata files, by its value label); without ``codes``, a text column with value labels
  takes the label, as SPSS's "show value labels" does;
* ``unit`` is one of :data:`UNITS` for that column; the value is multiplied exactly, in
  decimal, so ``1.23`` mg/dL becomes ``12.3`` mg/L, not ``12.299999999999999``;
* ``origin`` (``excel``, ``spss``, ``sas``, ``stata``) reads numbers as dates counted as
  that tool does; ``format`` (e.g. ``"%d/%m/%Y"``) reads text dates;
* ``derive: date_given`` makes a ``Y``/``N`` flag from whether a date is given.

Identifier columns are refused before anything else: a variable named like one of
:data:`analysis.schema.DIRECT_IDENTIFIERS`, or whose variable label says it is a name,
a birth date, a hospital, record or ID number, or contact details
(:data:`IDENTIFIER_LABEL`), whether or not the mapping uses it.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import re
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

from analysis.dataset_io import (
    DATE_RANGE,
    MAPPING_FILE,
    TABLES,
    RawTable,
    Source,
    convert_date_numbers,
    locate_sources,
    table_name,
)
from analysis.schema import (
    COLUMNS,
    DIRECT_IDENTIFIERS,
    FLAG_COLUMNS,
    MAX_LISTED,
    NEED_ROWS,
    Violation,
)

__all__ = [
    "IDENTIFIER_LABEL",
    "NOT_COLLECTED",
    "ORIGINS",
    "UNITS",
    "ColumnMap",
    "PreparedTable",
    "TableMap",
    "apply_mapping",
    "chosen_sources",
    "compute_unit_conversion",
    "describe_dataset_files",
    "load_mapping",
    "summarise_uncollected",
]

#: Units accepted per contract column, with the factor to the contract's unit (first).
UNITS = {
    "CRP": {"mg/L": Decimal(1), "mg/dL": Decimal(10)},
    "ESR": {"mm/h": Decimal(1)},
    "PTGA": {"mm": Decimal(1), "cm": Decimal(10)},
    "PHGA": {"mm": Decimal(1), "cm": Decimal(10)},
    "PAIN": {"mm": Decimal(1), "cm": Decimal(10)},
}
#: Date encodings a numeric date column may use (``origin:``).
ORIGINS = {"excel": ("D", "Excel serial date (days since 1899-12-30)"),
           "spss": ("s", "SPSS date (seconds since 1582-10-14)"),
           "sas": ("D", "SAS date (days since 1960-01-01)"),
           "stata": ("D", "Stata date (days since 1960-01-01)")}
#: The value of a column entry for a column the trial did not collect.
NOT_COLLECTED = "not collected"
#: A variable label that says the variable identifies a person (English and Chinese).
IDENTIFIER_LABEL = re.compile(
    r"(\b(patient|subject|first|last|family|given|full|sur)\s*'?s?\s*name\b|^\s*name\s*$|\bname of (the )?patient"
    r"|\bsurname\b|\bdate of birth\b|\bbirth\s*date\b|\bbirthday\b|\bdob\b"
    r"|\b(hospital|medical record|record|patient|admission|inpatient|outpatient|case|national|id card|identity card"
    r"|passport|insurance)\s*(number|no\b|no\.|id\b|#)|\bmrn\b"
    r"|\b(tele)?phone\b|\bmobile\b|\be-?mail\b|\baddress\b"
    r"|姓名|出生日期|生日|住院号|病历号|门诊号|身份证|电话|手机|住址|地址)",
    flags=re.IGNORECASE)
_ENTRY_KEYS = {"from", "codes", "unit", "origin", "format", "derive"}
_DERIVATIONS = {"date_given": "Y when the date is given, N when it is empty"}
_IDENTIFIER_RULE = ("no direct identifiers: remove this column (names, birth dates, contact details and ID "
                    "numbers must not be in the dataset)")


# ----------------------------------------------------------------------------- YAML with lines
class _Located(dict):
    """A YAML mapping that remembers the line of each key (1-based)."""

    line: int = 0

    def __init__(self):
        super().__init__()
        self.lines: dict = {}


class _Loader(yaml.SafeLoader):
    """Safe YAML, lines kept; only true/false are booleans (YAML 1.1 also reads ``N``-like
    words such as ``no``, ``off`` and ``yes`` as booleans, a trap for code lists)."""


_Loader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:bool"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()}
_Loader.add_implicit_resolver("tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"),
                              list("tTfF"))


def _construct_mapping(loader, node):
    loader.flatten_mapping(node)
    result = _Located()
    result.line = node.start_mark.line + 1
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        result[key] = loader.construct_object(value_node, deep=True)
        result.lines[key] = key_node.start_mark.line + 1
    return result


_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


# ----------------------------------------------------------------------------- the mapping
@dataclass
class ColumnMap:
    """How one contract column is obtained from their table."""

    name: str  # contract column
    line: int  # line of its entry in mapping.yml (0: not listed, taken by name)
    source: str | None  # their column; None when not collected
    codes: dict[str, str] | None = None  # their code (canonical text) or label -> contract value
    unit: str | None = None
    origin: str | None = None
    format: str | None = None
    derive: str | None = None


@dataclass
class TableMap:
    """The mapping of one table: where it is and its columns."""

    file: str  # contract file name
    line: int
    columns: dict[str, ColumnMap] = field(default_factory=dict)
    source_file: str | None = None
    sheet: str | None = None
    #: contract columns whose entry is wrong (already reported): not reported again as unmapped
    invalid: set[str] = field(default_factory=set)


def _code_text(value) -> str:
    """A code as text, the same whether it came from YAML, a CSV cell or an SPSS number.

    Examples
    --------
    >>> [_code_text(v) for v in (1, 1.0, "1", True, 2.5, " MSC ")]
    ['1', '1', '1', 'TRUE', '2.5', 'MSC']
    """
    if isinstance(value, (bool, np.bool_)):
        return "TRUE" if value else "FALSE"
    if isinstance(value, (int, np.integer)):
        return str(int(value))
    if isinstance(value, (float, np.floating)):
        return str(int(value)) if float(value).is_integer() and abs(value) < 2**53 else repr(float(value))
    if isinstance(value, str):
        text = value.strip()
        try:
            number = float(text)
        except ValueError:
            return text
        return _code_text(number) if np.isfinite(number) and re.fullmatch(r"[-+]?\d+(\.\d*)?", text) else text
    return str(value)


def load_mapping(directory: Path) -> tuple[dict[str, TableMap] | None, list[Violation]]:
    """Read and check ``directory/mapping.yml``: ``(tables, violations)``; ``(None, [])``
    when there is no mapping. Checks that need the data (their column exists, every code
    is mapped) are made by :func:`apply_mapping`.

    Examples
    --------
    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     _ = (Path(tmp) / "mapping.yml").write_text(
    ...         "tables:\\n  visits:\\n    columns:\\n      CRP: {from: crp, unit: mg/dl}\\n      XYZ: x\\n")
    ...     tables, problems = load_mapping(Path(tmp))
    >>> for p in problems: print(p)
    mapping.yml, line 4: visits.CRP: unsupported unit 'mg/dl' (supported for CRP: mg/L, mg/dL)
    mapping.yml, line 5: visits.XYZ: unknown contract column (visits has USUBJID, AVISITN, ADT, TJC28, SJC28, TJC68, SJC66, ESR, CRP, PTGA, PHGA, PAIN, HAQDRESS, HAQARISE, HAQEAT, HAQWALK, HAQHYGN, HAQREACH, HAQGRIP, HAQACTIV)
    """
    path = Path(directory) / MAPPING_FILE
    if not path.is_file():
        return None, []

    def problem(line: int, rule: str) -> Violation:
        return Violation(MAPPING_FILE, None, (line,) if line else (), rule)

    try:
        document = yaml.load(path.read_text(encoding="utf-8"), Loader=_Loader)
    except UnicodeDecodeError:
        return {}, [problem(0, "file must be valid UTF-8")]
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        return {}, [problem(mark.line + 1 if mark else 0, f"is not valid YAML ({getattr(err, 'problem', err)})")]
    if not isinstance(document, _Located) or "tables" not in document:
        return {}, [problem(1, "must be a mapping with a key 'tables'")]
    found = [problem(document.lines[k], f"unknown key {k!r} (expected: tables)") for k in document if k != "tables"]
    tables = document["tables"]
    if not isinstance(tables, _Located):
        return {}, found + [problem(document.lines["tables"], "tables must map table names to their mapping")]
    result: dict[str, TableMap] = {}
    for name, entry in tables.items():
        line = tables.lines[name]
        if name not in TABLES:
            found.append(problem(line, f"{name}: unknown table (expected {', '.join(TABLES)})"))
            continue
        if not isinstance(entry, _Located):
            found.append(problem(line, f"{name}: must be a mapping (file, sheet, columns)"))
            continue
        file = TABLES[name]
        table = TableMap(file, line, source_file=entry.get("file"), sheet=entry.get("sheet"))
        for key in entry:
            if key not in ("file", "sheet", "columns"):
                found.append(problem(entry.lines[key], f"{name}: unknown key {key!r} (expected file, sheet, columns)"))
        columns = entry.get("columns") or _Located()
        if not isinstance(columns, _Located):
            found.append(problem(entry.lines.get("columns", line), f"{name}.columns: must map contract columns"))
            columns = _Located()
        specs = {spec.name: spec for spec in COLUMNS[file]}
        for column, value in columns.items():
            where, cline = f"{name}.{column}", columns.lines[column]
            if column not in specs:
                found.append(problem(cline, f"{where}: unknown contract column ({name} has {', '.join(specs)})"))
                continue
            parsed = _column_entry(column, value, cline, specs[column].kind, where, found, problem)
            if parsed is not None:
                table.columns[column] = parsed
            else:
                table.invalid.add(column)
        result[file] = table
    return result, found


def _column_entry(column, value, line, kind, where, found, problem) -> ColumnMap | None:
    if value is None or value == NOT_COLLECTED:
        return ColumnMap(column, line, None)
    if isinstance(value, (str, int)) and not isinstance(value, bool):
        return ColumnMap(column, line, str(value))
    if not isinstance(value, _Located):
        found.append(problem(line, f"{where}: must be their column name, '{NOT_COLLECTED}', or a mapping "
                                   f"with {', '.join(sorted(_ENTRY_KEYS))}"))
        return None
    entry = ColumnMap(column, line, None if value.get("from") is None else str(value.get("from")))
    ok = True
    for key in value:
        if key not in _ENTRY_KEYS:
            found.append(problem(value.lines[key], f"{where}: unknown key {key!r} "
                                                   f"(expected {', '.join(sorted(_ENTRY_KEYS))})"))
            ok = False
    if entry.source is None:
        found.append(problem(line, f"{where}: 'from' must name their column (or write '{NOT_COLLECTED}')"))
        ok = False
    if "codes" in value:
        codes = value["codes"]
        if not isinstance(codes, _Located) or not codes:
            found.append(problem(value.lines["codes"], f"{where}: codes must map their codes to contract values"))
            ok = False
        else:
            entry.codes = {_code_text(k): _code_text(v) for k, v in codes.items()}
    if "unit" in value:
        entry.unit = str(value["unit"])
        supported = UNITS.get(column, {})
        if entry.unit not in supported:
            allowed = f"supported for {column}: {', '.join(supported)}" if supported else \
                f"{column} takes no unit conversion; supported: " + \
                "; ".join(f"{c} {', '.join(u)}" for c, u in UNITS.items())
            found.append(problem(value.lines["unit"], f"{where}: unsupported unit {entry.unit!r} ({allowed})"))
            ok = False
    if "origin" in value:
        entry.origin = str(value["origin"]).lower()
        if entry.origin not in ORIGINS or kind != "date":
            found.append(problem(value.lines["origin"], f"{where}: origin must be one of {', '.join(ORIGINS)}, "
                                                        "on a date column"))
            ok = False
    if "format" in value:
        entry.format = str(value["format"])
        if kind != "date" or "%" not in entry.format:
            found.append(problem(value.lines["format"], f"{where}: format must be a strftime date pattern "
                                                        "such as '%d/%m/%Y', on a date column"))
            ok = False
    if "derive" in value:
        entry.derive = str(value["derive"])
        if entry.derive not in _DERIVATIONS or column not in FLAG_COLUMNS:
            found.append(problem(value.lines["derive"], f"{where}: derive must be one of "
                                                        f"{', '.join(_DERIVATIONS)}, on a Y/N flag"))
            ok = False
    return entry if ok else None


def chosen_sources(directory: Path) -> dict[str, tuple[str | None, str | None]]:
    """``contract file -> (file, sheet)`` named in ``mapping.yml`` (empty if none or unreadable)."""
    tables, _ = load_mapping(directory)
    return {file: (t.source_file, t.sheet) for file, t in (tables or {}).items()
            if t.source_file is not None or t.sheet is not None}


# ----------------------------------------------------------------------------- applying it
def compute_unit_conversion(text: pd.Series, factor: Decimal) -> pd.Series:
    """Multiply numbers written as text by ``factor``, exactly (decimal arithmetic on the
    shortest text of each number); cells that are not numbers are returned unchanged.

    Examples
    --------
    >>> compute_unit_conversion(pd.Series(["1.23", "", "n/a", "0.1"]), Decimal(10)).tolist()
    ['12.3', '', 'n/a', '1']
    """
    def convert(cell: str) -> str:
        try:
            number = Decimal(cell)
        except InvalidOperation:
            return cell
        if not number.is_finite():
            return cell
        result = (number * factor).normalize()
        return format(result, "f")

    unique = pd.unique(text)
    table = {cell: (convert(cell) if cell != "" else "") for cell in unique}
    return text.map(table)


def _cell_text(value) -> str:
    """A native cell as the contract's text: dates ISO, whole numbers without decimals."""
    if value is None or value is pd.NaT or (isinstance(value, float) and np.isnan(value)) or value is pd.NA:
        return ""
    if isinstance(value, (pd.Timestamp, dt.datetime, dt.date)):
        return value.strftime("%Y-%m-%d")
    if isinstance(value, str):
        return value.rstrip() if value.strip() else ""
    return _code_text(value)


def _float_text(column: pd.Series) -> pd.Series:
    """Floats as text, vectorised for whole numbers (most cells: counts, scores, codes)."""
    values = column.to_numpy(dtype="float64")
    whole = np.isfinite(values) & (np.mod(values, 1) == 0) & (np.abs(values) < 2**53)
    text = pd.Series("", index=column.index, dtype=object)
    text[whole] = values[whole].astype(np.int64).astype(str)
    other = np.isfinite(values) & ~whole
    text[other] = [repr(float(v)) for v in values[other]]
    return text


def _as_text(column: pd.Series) -> pd.Series:
    """A column as the contract's text (see :func:`_cell_text`).

    Examples
    --------
    >>> _as_text(pd.Series([5.0, None, 1.25])).tolist()
    ['5', '', '1.25']
    >>> _as_text(pd.Series(pd.to_datetime(["2016-07-27", None]))).tolist()
    ['2016-07-27', '']
    """
    if pd.api.types.is_datetime64_any_dtype(column):
        return column.dt.strftime("%Y-%m-%d").fillna("").astype(object)
    if pd.api.types.is_float_dtype(column) or (pd.api.types.is_integer_dtype(column) and not column.isna().any()):
        return _float_text(column.astype("float64"))
    if column.dtype == object and all(isinstance(v, str) for v in column.head(1000)):
        return column.fillna("")  # CSV text: as written
    return column.map(_cell_text).astype(object)


@dataclass
class PreparedTable:
    """One table in the contract's text form, ready to be typed and validated by
    :mod:`analysis.contract`: contract column names, every cell a ``str``."""

    source: Source
    text: pd.DataFrame  # contract columns (and extra columns) as the contract's text
    shown: pd.DataFrame  # the same cells as their file holds them, for reports
    rows: np.ndarray  # row number of each row, as their tool shows it
    their: dict[str, str]  # contract column -> their column
    reported: dict[str, np.ndarray]  # cells already reported (not to be reported again)


def apply_mapping(raw: RawTable, mapping: TableMap | None, found: list[Violation]) -> PreparedTable | None:
    """Turn one table as read (:class:`~analysis.dataset_io.RawTable`) into the contract's
    typed table, applying its mapping (None: contract names, values as they are).

    Appends to ``found`` the mapping's data-dependent failures (their column not in the
    file, a code with no mapping, a contract column left unmapped) and the refused
    identifier columns, placed in their file. Returns the table in the contract's text
    form (typed and validated by :mod:`analysis.contract`), or None when identifiers were
    found (nothing else of the table is read).
    """
    source, file = raw.source, raw.source.table
    frame = raw.frame
    header = (raw.header_row,) if raw.header_row else ()
    def at_column(name: str, rule: str, rows: tuple = header, values: tuple = ()) -> Violation:
        return Violation(source.path.name, name, rows, rule, values, sheet=source.sheet, row_label=source.row_label)

    problems = []
    names = [str(c) for c in frame.columns]
    for name in sorted({n for n in names if names.count(n) > 1}):
        problems.append(at_column(name, "column names must be unique"))
    for name in names:
        label = str(raw.labels.get(name) or "")
        if name.strip().upper() in DIRECT_IDENTIFIERS:
            problems.append(at_column(name, _IDENTIFIER_RULE))
        elif IDENTIFIER_LABEL.search(label):
            problems.append(at_column(name, _IDENTIFIER_RULE + f" (its label {label!r} says it identifies a person)"))
    if problems:
        found += problems
        return None
    frame = frame.loc[:, ~frame.columns.duplicated()]

    where = f"{source.label}"
    text, shown, their, reported = {}, {}, {}, {}
    used = set()
    for spec in COLUMNS[file]:
        entry = mapping.columns.get(spec.name) if mapping is not None else None
        if mapping is not None and spec.name in mapping.invalid:
            continue  # its mapping entry is reported; the column cannot be read
        if entry is None:
            if spec.name in frame.columns:
                entry = ColumnMap(spec.name, 0, spec.name)
            elif mapping is not None:
                found.append(Violation(MAPPING_FILE, None, (mapping.line,),
                                       f"{table_name(file)}.{spec.name}: contract column left unmapped ({where} has "
                                       f"no column {spec.name}; map it with '{spec.name}: THEIR_COLUMN', or write "
                                       f"'{spec.name}: {NOT_COLLECTED}')"))
                continue
            else:
                near = [c for c in frame.columns if str(c).strip().upper() == spec.name.upper()]
                hint = f" (found {near[0]!r}; names are exact, or map it in {MAPPING_FILE})" if near else ""
                found.append(at_column(spec.name, "required column is missing" + hint))
                continue
        if entry.source is None:  # not collected
            text[spec.name] = pd.Series("", index=frame.index, dtype=object)
            shown[spec.name] = text[spec.name]
            continue
        if entry.source not in frame.columns:
            found.append(Violation(MAPPING_FILE, None, (entry.line,),
                                   f"{table_name(file)}.{spec.name}: column {entry.source!r} is not in {where}"))
            continue
        used.add(entry.source)
        their[spec.name] = entry.source
        column = frame[entry.source]
        if entry.source in raw.bad_dates:
            bad, numbers = raw.bad_dates[entry.source]
            if bad.any():
                reported[spec.name] = bad
                positions = np.flatnonzero(bad)
                found.append(Violation(source.path.name, spec.name, tuple(int(r) for r in raw.rows[positions]),
                                       f"must be a date between {DATE_RANGE[0]:%Y-%m-%d} and {DATE_RANGE[1]:%Y-%m-%d}",
                                       tuple(f"{_code_text(numbers.iloc[p])} {raw.date_origin[entry.source]}"
                                             for p in positions[:MAX_LISTED]),
                                       sheet=source.sheet, source_column=entry.source, row_label=source.row_label))
        values, display, unmapped = _convert(column, entry, spec, raw, where, found)
        text[spec.name], shown[spec.name] = values, display
        if unmapped is not None:  # reported against mapping.yml; not again as an empty cell
            reported[spec.name] = unmapped | reported.get(spec.name, False)
    for name in frame.columns:
        if name in used or name in text:
            continue
        text[name] = _as_text(frame[name])
        shown[name] = text[name]
    if len(frame) == 0 and file in NEED_ROWS:
        found.append(Violation(source.path.name, None, (), "must have at least one data row", sheet=source.sheet))
    return PreparedTable(source, pd.DataFrame(text, index=frame.index), pd.DataFrame(shown, index=frame.index),
                         raw.rows, their, reported)


def _with_labels(shown: pd.Series, labels: dict[str, str]) -> pd.Series:
    """Codes as reports show them: the code and its value label, ``1 (Yes)``."""
    return shown.map(lambda c: f"{c} ({labels[c]})" if c in labels else c).astype(object)


def _convert(column: pd.Series, entry: ColumnMap, spec, raw: RawTable, where: str,
             found: list[Violation]) -> tuple[pd.Series, pd.Series, np.ndarray | None]:
    """One contract column as text, as their file shows it (for reports), and the mask of
    cells whose code has no mapping (already reported)."""
    shown = _as_text(column)
    if entry.derive == "date_given":
        given = column.notna() & (shown != "")
        return pd.Series(np.where(given, "Y", "N"), index=column.index, dtype=object), shown, None
    if spec.kind == "date" and entry.origin is not None:
        unit, what = ORIGINS[entry.origin]
        # Excel columns are object-typed: numbers are counted; other cells (a native date,
        # text) keep their text and are parsed as any date cell.
        numbers = pd.to_numeric(column.where(column.map(lambda v: isinstance(v, (int, float, np.number))
                                                        and not isinstance(v, bool))), errors="coerce")
        dates, bad = convert_date_numbers(numbers, entry.origin, unit)
        values = dates.dt.strftime("%Y-%m-%d").astype(object).where(dates.notna(), shown)
        return values, shown.where(~bad, shown + f" ({what})"), None
    if spec.kind == "date" and entry.format is not None:
        parsed = pd.to_datetime(shown, format=entry.format, errors="coerce")
        values = parsed.dt.strftime("%Y-%m-%d").astype(object)
        return values.where(parsed.notna(), shown), shown, None
    text, unmapped = shown, None
    labels = {_code_text(k): str(v) for k, v in (raw.value_labels.get(entry.source) or {}).items()}
    if entry.codes is not None:
        mapped = text.map(entry.codes)
        by_label = text.map(labels).map(entry.codes)
        mapped = mapped.where(mapped.notna(), by_label)
        unmapped = ((text != "") & mapped.isna()).to_numpy()
        if unmapped.any():
            for code in pd.unique(text[unmapped]):  # one report per code, with its rows
                rows = raw.rows[np.flatnonzero((text == code).to_numpy())]
                shown_rows = ", ".join(str(int(r)) for r in rows[:MAX_LISTED])
                more = f" and {len(rows) - MAX_LISTED} more" if len(rows) > MAX_LISTED else ""
                label = f" (label {labels[code]!r})" if code in labels else ""
                noun = raw.source.row_label + ("s" if len(rows) > 1 else "")
                found.append(Violation(MAPPING_FILE, None, (entry.line,),
                                       f"{table_name(raw.source.table)}.{spec.name}: code {code!r}{label} "
                                       f"found in {where}, column {entry.source}, {noun} {shown_rows}{more}, has no "
                                       f"mapping in codes"))
        text = mapped.fillna("").astype(object)
        shown = _with_labels(shown, labels)
    elif labels and spec.kind == "string":
        text = text.map(lambda c: labels.get(c, c)).astype(object)
        shown = _with_labels(shown, labels)
    if entry.unit is not None:
        factor = UNITS[spec.name][entry.unit]
        if factor != 1:
            text = compute_unit_conversion(text, factor)
        shown = shown.where(shown == "", shown + f" {entry.unit}")
    return text, shown, unmapped



# ----------------------------------------------------------------------------- what the data lack
def summarise_uncollected(dataset) -> dict[str, list[str]]:
    """Contract columns that hold no value at all in a valid dataset, by contract file
    (e.g. the 68/66 joint counts of a trial that collected only 28-joint counts).

    Examples
    --------
    >>> from analysis.contract import load_dataset
    >>> from analysis.paths import TEST_DATASET
    >>> summarise_uncollected(load_dataset(TEST_DATASET))
    {}
    """
    empty = {}
    for file in COLUMNS:
        frame = getattr(dataset, table_name(file))
        columns = [spec.name for spec in COLUMNS[file] if len(frame) and frame[spec.name].isna().all()]
        if columns:
            empty[file] = columns
    return empty


# ----------------------------------------------------------------------------- build hashing
def describe_dataset_files(directory: Path, hash_file) -> tuple[dict[str, str], dict[str, int]]:
    """What identifies each part of a dataset, for the book's cache keys: ``(hashes, sizes)``.

    Each contract table (``subjects.csv``...) is one entry whatever holds it: its hash covers
    the name and bytes of the file holding it, the sheet, and ``mapping.yml`` when there is
    one; its size is that file's. Every other file of the folder (README, marker) is an entry
    of its own. A table that cannot be located gets no entry (the dataset is then invalid
    and the build stops before hashing matters). The plain layout of four contract CSV
    files keeps each file's own hash, so existing caches stay valid.

    Examples
    --------
    >>> from analysis.paths import TEST_DATASET
    >>> from analysis.build import hash_file
    >>> hashes, sizes = describe_dataset_files(TEST_DATASET, hash_file)
    >>> sorted(hashes) == sorted(sizes) == ['README.md', 'adverse_events.csv', 'medications.csv',
    ...                                     'subjects.csv', 'visits.csv']
    True
    >>> hashes["visits.csv"] == hash_file(TEST_DATASET / "visits.csv")
    True
    """
    directory = Path(directory)
    if not directory.is_dir():
        return {}, {}
    mapping = directory / MAPPING_FILE
    sources, _ = locate_sources(directory, chosen_sources(directory))
    used = {s.path for s in sources.values()} | ({mapping} if mapping.is_file() else set())
    others = [p for p in sorted(directory.iterdir()) if p.is_file() and p not in used]
    hashes = {p.name: hash_file(p) for p in others}
    sizes = {p.name: p.stat().st_size for p in others}
    for file, source in sources.items():
        sizes[file] = source.path.stat().st_size
        if source.path.name == file and source.sheet is None and not mapping.is_file():
            hashes[file] = hash_file(source.path)
            continue
        parts = [source.path.name, source.sheet or "", hash_file(source.path)]
        if mapping.is_file():
            parts.append(hash_file(mapping))
        hashes[file] = hashlib.sha256("\n".join(parts).encode()).hexdigest()
    return dict(sorted(hashes.items())), dict(sorted(sizes.items()))
