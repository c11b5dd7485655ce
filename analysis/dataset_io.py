"""Reading a dataset's four tables from the files a trial team holds.

A dataset directory may hold each contract table (:data:`analysis.contract.FILES`) as

========================  =====================  ===============================
file                      read with              a row is reported as
========================  =====================  ===============================
``subjects.csv``          the contract's reader  ``line N`` (text editor line)
``subjects.parquet``      ``pyarrow``            ``row N`` (1 = first data row)
``subjects.xlsx``         ``openpyxl``           ``row N`` (Excel's row number)
``subjects.sav``          ``pyreadstat``         ``case N`` (SPSS case number)
``subjects.dta``          ``pyreadstat``         ``observation N`` (Stata)
``subjects.xpt``          ``pyreadstat``         ``observation N`` (SAS)
``subjects.sas7bdat``     ``pyreadstat``         ``observation N`` (SAS)
========================  =====================  ===============================

or one Excel workbook (any name) with a sheet per table, named after the table
(``subjects``, ``visits``, ``adverse_events``, ``medications``). File and sheet names
are matched without regard to case; a ``mapping.yml`` (:mod:`analysis.crosswalk`) may
name the file and sheet of a table explicitly. Two files (or sheets) for one table are
refused, naming both.

Native dates are read as dates: Excel date cells (1900 or 1904 date system), Parquet
date and timestamp columns, and SPSS, Stata and SAS variables with a date or date-time
display format (``DATE11``, ``ADATE10``, ``%td``, ``DATE9.``, ``E8601DA.``...). The
numbers behind SPSS/Stata/SAS dates are converted here rather than by ``pyreadstat``,
so a date outside :data:`DATE_RANGE` is reported at its case instead of failing the
whole file. SPSS user-missing values and Stata/SAS special missing values are read as
missing. Value labels and variable labels are kept for the crosswalk and the privacy
check.
"""
from __future__ import annotations

import csv
import datetime as dt
import io
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from analysis.schema import FILES, MAX_LISTED, Violation

if TYPE_CHECKING:  # for annotations; pyarrow is imported where it is used
    import pyarrow as pa

__all__ = [
    "DATE_RANGE",
    "SUFFIXES",
    "TABLES",
    "RawTable",
    "Source",
    "locate_sources",
    "read_source",
    "table_name",
    "write_contract_csv",
]

#: The contract's tables by logical name (``"subjects"`` -> ``"subjects.csv"``).
TABLES = {file.removesuffix(".csv"): file for file in FILES}
#: Supported file suffixes and how each names a row.
SUFFIXES = {".csv": "line", ".parquet": "row", ".xlsx": "row", ".sav": "case",
            ".dta": "observation", ".xpt": "observation", ".sas7bdat": "observation"}
#: Native dates outside this range are refused (a typo in a year, or a number that is
#: not a date at all); the analysis stores dates as ``datetime64[ns]``.
DATE_RANGE = (pd.Timestamp("1900-01-01"), pd.Timestamp("2100-12-31"))
MAPPING_FILE = "mapping.yml"

# Display formats that mark a number as a date (D) or date-time (T), by family; the
# lists follow pyreadstat's. Origins: SPSS counts seconds from 1582-10-14, Stata and SAS
# days (or seconds / milliseconds for date-times) from 1960-01-01.
_SAS_DATE = ("WEEKDATE", "MMDDYY", "DDMMYY", "YYMMDD", "DATE", "WEEKDATX", "DTDATE",
             "IS8601DA", "E8601DA", "B8601DA")
_SAS_DATETIME = ("DATETIME", "E8601DT", "DATEAMPM", "MDYAMPM", "IS8601DT", "B8601DT", "B8601DN")
_SPSS_DATE = ("DATE", "ADATE", "EDATE", "JDATE", "SDATE")
_SPSS_DATETIME = ("DATETIME", "YMDHMS")
_ORIGINS = {"spss": (dt.datetime(1582, 10, 14), "s"), "sas": (dt.datetime(1960, 1, 1), "D"),
            "stata": (dt.datetime(1960, 1, 1), "D"), "excel": (dt.datetime(1899, 12, 30), "D")}


def table_name(file: str) -> str:
    """The logical name of a contract file.

    Examples
    --------
    >>> table_name("adverse_events.csv")
    'adverse_events'
    """
    return file.removesuffix(".csv")


@dataclass(frozen=True)
class Source:
    """Where one contract table is: a file and, for a workbook, a sheet."""

    table: str  # contract file name, e.g. "visits.csv"
    path: Path
    sheet: str | None = None

    @property
    def label(self) -> str:
        """How reports name it: ``trial.xlsx, sheet visits`` or ``visits.sav``."""
        return self.path.name if self.sheet is None else f"{self.path.name}, sheet {self.sheet}"

    @property
    def row_label(self) -> str:
        return SUFFIXES[self.path.suffix.lower()]


@dataclass
class RawTable:
    """One table as read from its file, before the crosswalk.

    ``frame`` has the file's column names and native values (CSV: text). ``rows`` is the
    row number each row has in the file's own tool. ``header_row`` is the row of the
    column names (CSV and Excel), None where the format has no such row.
    """

    source: Source
    frame: pd.DataFrame
    rows: np.ndarray
    header_row: int | None = None
    labels: dict[str, str] = field(default_factory=dict)  # variable labels
    value_labels: dict[str, dict] = field(default_factory=dict)  # column -> {code: label}
    #: column -> (mask of numbers that are no date in DATE_RANGE, the numbers as read)
    bad_dates: dict[str, tuple[np.ndarray, pd.Series]] = field(default_factory=dict)
    date_origin: dict[str, str] = field(default_factory=dict)  # column -> what its numbers count


# ----------------------------------------------------------------------------- locating tables
def _candidates(directory: Path) -> list[Path]:
    # Office lock files (~$x.xlsx) and hidden files are not data.
    return sorted(p for p in directory.iterdir() if p.is_file() and p.suffix.lower() in SUFFIXES
                  and not p.name.startswith(("~$", ".")))


def _sheet_names(path: Path) -> list[str]:
    from openpyxl import load_workbook

    workbook = load_workbook(path, read_only=True)
    try:
        return list(workbook.sheetnames)
    finally:
        workbook.close()


def locate_sources(directory: Path, chosen: dict[str, tuple[str | None, str | None]] | None = None
                   ) -> tuple[dict[str, Source], list[Violation]]:
    """Find the file (and sheet) of each contract table in ``directory``.

    Parameters
    ----------
    directory : Path
        The dataset directory (top level only).
    chosen : dict, optional
        ``contract file -> (file name, sheet)`` from a ``mapping.yml``; either may be None.

    Returns
    -------
    (sources, violations)
        ``sources`` maps each contract file found to its :class:`Source`; a table that is
        missing, or held by two files or sheets, is reported instead.

    Examples
    --------
    >>> from analysis.paths import TEST_DATASET
    >>> sources, problems = locate_sources(TEST_DATASET)
    >>> sorted(s.path.name for s in sources.values()), problems
    (['adverse_events.csv', 'medications.csv', 'subjects.csv', 'visits.csv'], [])
    """
    chosen = chosen or {}
    files = _candidates(directory)
    found: dict[str, list[Source]] = {file: [] for file in FILES}
    workbooks = []
    for path in files:
        stem = path.stem.lower()
        if stem in TABLES:
            found[TABLES[stem]].append(Source(TABLES[stem], path))
        elif path.suffix.lower() == ".xlsx":
            workbooks.append(path)
    sheets = {}
    for path in workbooks:
        try:
            sheets[path] = _sheet_names(path)
        except Exception as err:  # noqa: BLE001 - any unreadable workbook is reported
            return {}, [Violation(path.name, None, (), f"is not a readable Excel workbook ({err})")]
        for sheet in sheets[path]:
            if sheet.strip().lower() in TABLES:
                found[TABLES[sheet.strip().lower()]].append(Source(TABLES[sheet.strip().lower()], path, sheet))
    problems = []
    sources = {}
    for file in FILES:
        name, sheet = chosen.get(file, (None, None))
        if name is not None:
            path = directory / name
            if not path.is_file():
                problems.append(Violation(name, None, (), f"file is missing (named for {table_name(file)} "
                                                          f"in {MAPPING_FILE})"))
                continue
            if sheet is None and path.suffix.lower() == ".xlsx" and path.stem.lower() != table_name(file):
                names = sheets.get(path) or _sheet_names(path)
                match = [s for s in names if s.strip().lower() == table_name(file)]
                sheet = match[0] if match else (names[0] if len(names) == 1 else None)
            sources[file] = Source(file, path, sheet)
            continue
        if sheet is not None:  # a sheet named in the mapping, in the one workbook
            found[file] = [Source(file, path, sheet) for path in workbooks if sheet in sheets[path]] or found[file]
        options = found[file]
        if len(options) > 1:
            problems.append(Violation(table_name(file), None, (),
                                      "two sources hold this table: " + " and ".join(s.label for s in options)
                                      + " (keep one, or name it in mapping.yml)"))
        elif options:
            sources[file] = options[0]
        elif len(workbooks) == 1 and any(TABLES.get(s.strip().lower()) for s in sheets[workbooks[0]]):
            problems.append(Violation(workbooks[0].name, None, (),
                                      f"sheet {table_name(file)} is missing (sheets: "
                                      f"{', '.join(sheets[workbooks[0]])}; each table needs a sheet named "
                                      "after it, or a file of its own)"))
        else:
            problems.append(Violation(file, None, (), "file is missing"))
    return sources, problems


# ----------------------------------------------------------------------------- reading
# CSV (the contract's own format): structure checked byte by byte, vectorised.

def _scan_records(raw: bytes, count_fields: bool = True):
    """Split ``raw`` into CSV records without Python loops.

    A comma or newline is structural when an even number of ``"`` precede it (RFC 4180
    escapes a quote inside a quoted cell by doubling it, which keeps the parity).
    Returns the line each record starts on, its number of fields (None unless
    ``count_fields``: finding every comma is most of the cost), whether it is blank, and
    whether the quotes are balanced.
    """
    buf = np.frombuffer(raw, dtype=np.uint8)
    commas = None
    if b'"' in raw:
        outside = (np.cumsum(buf == ord('"'), dtype=np.uint8) & 1) == 0
        ends = np.flatnonzero((buf == ord("\n")) & outside)
        if count_fields:
            commas = np.flatnonzero((buf == ord(",")) & outside)
        balanced = bool(outside[-1])
    else:
        ends = np.flatnonzero(buf == ord("\n"))
        if count_fields:
            commas = np.flatnonzero(buf == ord(","))
        balanced = True
    if len(buf) and (len(ends) == 0 or ends[-1] != len(buf) - 1):
        ends = np.append(ends, len(buf))  # a last record without a (structural) newline
    starts = np.concatenate(([0], ends[:-1] + 1)).astype(np.int64)
    n_fields = None if commas is None else np.searchsorted(commas, ends) - np.searchsorted(commas, starts) + 1
    length = ends - starts
    first = buf[np.minimum(starts, len(buf) - 1)] if len(buf) else np.zeros(0, np.uint8)
    blank = (length == 0) | ((length == 1) & (first == ord("\r")))
    if b'"' in raw:
        line = np.searchsorted(np.flatnonzero(buf == ord("\n")), starts) + 1
    else:
        line = np.arange(1, len(starts) + 1)
    return line, n_fields, blank, balanced


def _utf8_violation(file: str, raw: bytes, err: UnicodeDecodeError) -> Violation:
    offset = err.start
    line = raw.count(b"\n", 0, offset) + 1
    line_start = raw.rfind(b"\n", 0, offset) + 1
    prefix = raw[line_start:offset].decode("utf-8", errors="replace")
    field = len(next(csv.reader([prefix]), [""])) - 1 if prefix else 0
    header = next(csv.reader([raw.split(b"\n", 1)[0].decode("utf-8", errors="replace")]))
    column = header[field].strip("\ufeff\r") if line > 1 and field < len(header) else None
    return Violation(
        file, column, (line,),
        f"file must be valid UTF-8: byte 0x{raw[offset]:02x} at byte offset {offset} "
        "is not (re-save the file as UTF-8)",
    )


def _quotes_follow_rfc4180(buf: np.ndarray) -> bool:
    r"""Whether every ``"`` in ``buf`` opens a cell, closes one or doubles a quote inside one.

    The quotes alternate opening and closing (a doubled quote closes and reopens): an
    opening quote must start a cell (after a comma, a newline or the file's start, or
    right after a closing quote), a closing quote must end one (before a comma, a line
    end, the file's end, or an opening quote).

    Examples
    --------
    >>> def check(text):
    ...     return _quotes_follow_rfc4180(np.frombuffer(text, dtype=np.uint8))
    >>> check(b'a,"b, c"\n"say ""hi"" now",\n'), check(b'a,b"c"\n'), check(b'"a"b,c\n')
    (True, False, False)
    """
    quotes = np.flatnonzero(buf == ord('"'))
    if len(quotes) % 2:
        return False
    opening, closing = quotes[0::2], quotes[1::2]
    before = buf[np.maximum(opening - 1, 0)]
    after = buf[np.minimum(closing + 1, len(buf) - 1)]
    opens = (opening == 0) | np.isin(before, np.frombuffer(b',\n"', dtype=np.uint8))
    closes = (closing == len(buf) - 1) | np.isin(after, np.frombuffer(b',\r\n"', dtype=np.uint8))
    return bool(opens.all() and closes.all())


def _arrow_owned_copy(raw: bytes) -> pa.Buffer:
    """``raw`` copied into memory that Arrow allocates and frees (a ``pyarrow.Buffer``).

    Why not hand pyarrow ``io.BytesIO(raw)``, or ``raw`` itself: pyarrow keeps a Python
    object it reads from behind a handle whose release takes the GIL, and the CSV reader's
    worker threads may drop the last reference to its input after ``read_csv`` has returned.
    When the interpreter is exiting by then (a command that stops at once on an invalid
    dataset), the worker is stopped inside that release: the process aborts with
    ``terminate called without an active exception`` (status -6) or hangs in Arrow's
    thread-pool shutdown, after printing a correct report. Memory Arrow owns is released
    without Python. The copy costs one pass over the file.

    Examples
    --------
    >>> _arrow_owned_copy(b"a,b\\n1,2\\n").to_pybytes()
    b'a,b\\n1,2\\n'
    """
    import pyarrow as pa

    buffer = pa.allocate_buffer(len(raw))
    np.frombuffer(buffer, dtype=np.uint8)[:] = np.frombuffer(raw, dtype=np.uint8)
    return buffer


def _read_csv_coded(raw: bytes, header: list[str], data_blank: np.ndarray) -> pd.DataFrame | None:
    """The data rows of ``raw`` read by pyarrow, each column a ``Categorical`` of its texts.

    Returns None (the caller then reads the file as text, as it always did) unless the file
    is plain enough that pyarrow and pandas cannot split it differently: no NUL byte, no
    carriage return outside a CRLF line end, quotes as in RFC 4180, every row with as many
    fields as the header, and as many rows as the structure scan found.
    """
    import pyarrow as pa
    from pyarrow import csv as pa_csv

    if b"\x00" in raw or (b"\r" in raw and raw.count(b"\r") != raw.count(b"\r\n")):
        return None
    quoted = b'"' in raw
    if quoted and not _quotes_follow_rfc4180(np.frombuffer(raw, dtype=np.uint8)):
        return None
    names = [f"c{i}" for i in range(len(header))]  # the file's own names may repeat
    coded = pa.dictionary(pa.int32(), pa.string())
    try:
        table = pa_csv.read_csv(
            pa.BufferReader(_arrow_owned_copy(raw)),
            read_options=pa_csv.ReadOptions(column_names=names, skip_rows=1),
            parse_options=pa_csv.ParseOptions(newlines_in_values=quoted),
            convert_options=pa_csv.ConvertOptions(
                column_types=dict.fromkeys(names, coded), null_values=[],
                strings_can_be_null=False, quoted_strings_can_be_null=False))
    except (pa.ArrowInvalid, pa.ArrowException):
        return None  # a ragged row, for instance: the text path reports it
    if table.num_rows != int((~data_blank).sum()) or table.num_columns != len(header):
        return None
    frame = pd.DataFrame({i: table.column(i).to_pandas() for i in range(len(header))})
    frame.columns = header
    return frame


def _header(raw: bytes) -> list[str]:
    r"""The column names on the first line of ``raw`` (without copying the rest of the file).

    Examples
    --------
    >>> _header(b'USUBJID,"A,B"\r\nRA-001,1\r\n')
    ['USUBJID', 'A,B']
    """
    end = raw.find(b"\n")
    return next(csv.reader([raw[:None if end < 0 else end].decode("utf-8").rstrip("\r")]))


def read_csv_text(path: Path, file: str, found: list[Violation],
                  coded: bool = False) -> tuple[pd.DataFrame, np.ndarray, list[str]] | None:
    """Read a CSV file as text: ``(frame, line of each row, header)``, or None (with the
    structural violation appended to ``found``) when its rows cannot be trusted.

    ``file`` is the name reports give the file. Every cell is a ``str`` (``""`` = empty);
    blank lines are dropped; line numbers count as a text editor does (header = 1).
    With ``coded``, a column may instead be a ``Categorical`` of those texts (a large file
    read by pyarrow: each distinct text is one Python string, not one per cell).
    """
    raw = path.read_bytes()
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError as err:
        found.append(_utf8_violation(file, raw, err))
        return None
    if raw.startswith(b"\xef\xbb\xbf"):
        raw = raw[3:]  # a UTF-8 byte-order mark is tolerated
    if not raw or raw.isspace():  # not raw.strip(), which copies the whole file
        found.append(Violation(file, None, (1,), "file is empty: it needs a header row"))
        return None

    # Fast path: count no fields here, let pyarrow split the rows (it refuses a ragged
    # one); anything it does not take is read below exactly as before.
    line, _, blank, balanced = _scan_records(raw, count_fields=False)
    if balanced and not blank[0]:
        header = _header(raw)
        frame = _read_csv_coded(raw, header, blank[1:])
        if frame is not None:
            if not coded:
                frame = frame.astype(object)
            return frame, line[1:][~blank[1:]].astype(np.int64), header

    line, n_fields, blank, balanced = _scan_records(raw)
    if not balanced:
        found.append(Violation(file, None, (int(line[-1]),),
                               'unbalanced quotes: a quote (") opened here is never closed'))
        return None
    header = _header(raw)
    data_line, data_fields, data_blank = line[1:], n_fields[1:], blank[1:]
    ragged = ~data_blank & (data_fields != len(header))
    if ragged.any():
        rows = tuple(int(x) for x in data_line[ragged])
        got = tuple(f"{int(x)} fields" for x in data_fields[ragged][:MAX_LISTED])
        found.append(Violation(file, None, rows,
                               f"every row must have as many fields as the header "
                               f"({len(header)})", got))
        return None

    try:
        frame = pd.read_csv(io.BytesIO(raw), dtype=str, keep_default_na=False,
                            na_filter=False, skip_blank_lines=False, encoding="utf-8")
    except (pd.errors.ParserError, ValueError) as err:
        found.append(Violation(file, None, (), f"is not a readable CSV file ({err})"))
        return None
    if len(frame) != len(data_line):
        found.append(Violation(file, None, (),
                               "is not a readable CSV file: quotes must follow RFC 4180 "
                               '(a quote inside a quoted cell is written "")'))
        return None
    keep = ~data_blank
    if not keep.all():  # dropping rows copies the whole frame: only when there are blank lines
        frame = frame.loc[keep].reset_index(drop=True)
    frame.columns = header  # the names as written: pandas renames duplicates to X.1
    lines = data_line[keep].astype(np.int64)
    return frame, lines, header


def read_source(source: Source, found: list[Violation]) -> RawTable | None:
    """Read one table from its file; None (with the reason in ``found``) if unreadable."""
    suffix = source.path.suffix.lower()
    if suffix == ".csv":
        read = read_csv_text(source.path, source.path.name, found)
        if read is None:
            return None
        frame, lines, _ = read
        return RawTable(source, frame, lines, header_row=1)
    try:
        if suffix == ".xlsx":
            return _read_excel(source, found)
        if suffix == ".parquet":
            frame = pd.read_parquet(source.path)
            return RawTable(source, _native_dates(frame), np.arange(1, len(frame) + 1))
        return _read_stat(source)
    except Exception as err:  # noqa: BLE001 - the library's reason is the report
        what = {".xlsx": "Excel workbook", ".parquet": "Parquet file", ".sav": "SPSS file",
                ".dta": "Stata file"}.get(suffix, "SAS file")
        found.append(Violation(source.path.name, None, (), f"is not a readable {what} ({err})"))
        return None


def _native_dates(frame: pd.DataFrame) -> pd.DataFrame:
    """Parquet date32 columns arrive as ``datetime.date`` objects: make them datetime64."""
    import datetime as dt

    for name in frame.columns:
        column = frame[name]
        if column.dtype == object:
            values = column.dropna()
            if len(values) and all(isinstance(v, dt.date) for v in values.head(100)):
                frame[name] = pd.to_datetime(column)
    return frame


def _read_excel(source: Source, found: list[Violation]) -> RawTable | None:
    from openpyxl import load_workbook

    workbook = load_workbook(source.path, read_only=True, data_only=True)
    try:
        # A workbook named after its table: the sheet of that name if there is one, else the first.
        named = [s for s in workbook.sheetnames if s.strip().lower() == source.path.stem.lower()]
        sheet_name = source.sheet or (named or workbook.sheetnames)[0]
        if sheet_name not in workbook.sheetnames:
            found.append(Violation(source.path.name, None, (), f"sheet {sheet_name} is missing "
                                   f"(sheets: {', '.join(workbook.sheetnames)})"))
            return None
        rows = [(number, values) for number, values in
                enumerate(workbook[sheet_name].iter_rows(values_only=True), start=1)
                if any(v is not None and v != "" for v in values)]
    finally:
        workbook.close()
    if not rows:
        found.append(Violation(source.path.name, None, (), "is empty: it needs a header row", sheet=source.sheet))
        return None
    header_row, header = rows[0]
    width = max(i + 1 for i, v in enumerate(header) if v is not None)
    names = [("" if v is None else str(v)).strip() for v in header[:width]]
    data = [list(values[:width]) + [None] * (width - len(values)) for _, values in rows[1:]]
    frame = pd.DataFrame(data, columns=names, dtype=object)
    # An unnamed column is kept under its Excel letter, so it can still be reported.
    from openpyxl.utils import get_column_letter

    frame.columns = [name or f"column {get_column_letter(i + 1)}" for i, name in enumerate(names)]
    return RawTable(source, frame, np.array([n for n, _ in rows[1:]], dtype=np.int64), header_row=header_row)


def _date_kind(fmt: str | None, suffix: str) -> str | None:
    """``"date"``, ``"datetime"`` or None for a SPSS/Stata/SAS display format."""
    if not fmt:
        return None
    if suffix == ".dta":
        return "date" if fmt.startswith("%td") or fmt == "%d" else "datetime" if fmt[:3] in ("%tc", "%tC") else None
    name = re.match(r"[A-Z][A-Z0-9]*?[A-Z]?(?=\d|\.|$)", fmt.upper())
    name = name.group(0) if name else ""
    dates, datetimes = (_SPSS_DATE, _SPSS_DATETIME) if suffix == ".sav" else (_SAS_DATE, _SAS_DATETIME)
    if name in datetimes:
        return "datetime"
    if name in dates or name.rstrip("BCDNPS") in dates:
        return "date"
    return None


def convert_date_numbers(values: pd.Series, origin: str, unit: str) -> tuple[pd.Series, np.ndarray]:
    """Numbers counted from ``origin`` (``spss``, ``sas``, ``stata``, ``excel``) to dates;
    also the mask of numbers that are not dates inside :data:`DATE_RANGE`.

    ``unit`` is ``"D"`` (days), ``"s"`` (seconds) or ``"ms"``. The time of day is dropped.

    Examples
    --------
    >>> dates, bad = convert_date_numbers(pd.Series([20662.0, None, 9e7]), "sas", "D")
    >>> dates.dt.strftime("%Y-%m-%d").tolist(), bad.tolist()
    (['2016-07-27', nan, nan], [False, False, True])
    """
    start = np.datetime64(_ORIGINS[origin][0].date(), "D")  # 1582 is outside datetime64[ns]
    numbers = pd.to_numeric(values, errors="coerce").astype("float64")
    per_day = {"D": 1.0, "s": 86400.0, "ms": 86400000.0}[unit]
    days = np.floor(numbers.to_numpy() / per_day)
    low = (np.datetime64(DATE_RANGE[0].date(), "D") - start).astype(np.int64)
    high = (np.datetime64(DATE_RANGE[1].date(), "D") - start).astype(np.int64)
    bad = np.isfinite(days) & ((days < low) | (days > high))
    ok = np.isfinite(days) & ~bad
    out = np.full(len(days), np.datetime64("NaT"), dtype="datetime64[ns]")
    out[ok] = (start + days[ok].astype(np.int64)).astype("datetime64[ns]")
    out = pd.Series(out, index=values.index)
    return out, bad


def _read_stat(source: Source) -> RawTable:
    import pyreadstat

    suffix = source.path.suffix.lower()
    reader = {".sav": pyreadstat.read_sav, ".dta": pyreadstat.read_dta, ".xpt": pyreadstat.read_xport,
              ".sas7bdat": pyreadstat.read_sas7bdat}[suffix]
    # Dates are converted below (a date out of range must be reported at its case, not
    # raise for the whole file); user-missing values (SPSS) are read as missing.
    frame, meta = reader(source.path, disable_datetime_conversion=True)
    table = RawTable(source, frame, np.arange(1, len(frame) + 1),
                     labels={k: v for k, v in (meta.column_names_to_labels or {}).items() if v},
                     value_labels=dict(meta.variable_value_labels or {}))
    origin = {".sav": "spss", ".dta": "stata"}.get(suffix, "sas")
    for name, fmt in (meta.original_variable_types or {}).items():
        kind = _date_kind(fmt, suffix)
        if kind is None or not pd.api.types.is_numeric_dtype(frame[name]):
            continue
        unit = "s" if origin == "spss" else ("D" if kind == "date" else ("ms" if origin == "stata" else "s"))
        original = frame[name]
        frame[name], bad = convert_date_numbers(original, origin, unit)
        table.bad_dates[name] = (bad, original)
        table.date_origin[name] = {"spss": "seconds since 1582-10-14", "sas": "days since 1960-01-01",
                                   "stata": "days since 1960-01-01"}[origin] if unit != "ms" else \
            "milliseconds since 1960-01-01"
        if origin == "sas" and unit == "s":
            table.date_origin[name] = "seconds since 1960-01-01"
    return table


# ----------------------------------------------------------------------------- writing
def write_contract_csv(dataset, out: Path) -> list[Path]:
    """Write a validated dataset as the contract's four CSV files (UTF-8, ISO dates, empty
    cell = missing, numbers in their shortest exact form); return the paths written.

    Examples
    --------
    >>> import tempfile
    >>> from analysis.contract import load_dataset
    >>> from analysis.paths import TEST_DATASET
    >>> original = load_dataset(TEST_DATASET)
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     written = write_contract_csv(original, Path(tmp) / "out")
    ...     again = load_dataset(Path(tmp) / "out")
    >>> [p.name for p in written]
    ['subjects.csv', 'visits.csv', 'adverse_events.csv', 'medications.csv']
    >>> all(getattr(again, t).equals(getattr(original, t)) for t in TABLES)
    True
    """
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for file in FILES:
        frame = getattr(dataset, table_name(file)).copy()
        for name in frame.columns:
            if pd.api.types.is_datetime64_any_dtype(frame[name]):
                frame[name] = frame[name].dt.strftime("%Y-%m-%d")
            elif pd.api.types.is_float_dtype(frame[name]):
                frame[name] = frame[name].map(lambda v: "" if pd.isna(v) else
                                              (str(int(v)) if v.is_integer() else repr(float(v))))
        frame.to_csv(out / file, index=False, lineterminator="\n", encoding="utf-8")
        written.append(out / file)
    return written
