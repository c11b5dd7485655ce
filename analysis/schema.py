"""The contract's vocabulary: its tables, columns, controlled terms and the violation record.

The lowest module of the data layer. :mod:`analysis.dataset_io` (reading the files a trial
team holds), :mod:`analysis.crosswalk` (``mapping.yml``) and :mod:`analysis.contract`
(validation, :func:`~analysis.contract.load_dataset`) all build on these definitions, so
each is written once. ``analysis.contract`` re-exports every public name.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import pandera.pandas as pa

__all__ = [
    "ARMS",
    "CMCLASSES",
    "COLUMNS",
    "DCSREAS_VALUES",
    "DIRECT_IDENTIFIERS",
    "EOSSTT_VALUES",
    "FILES",
    "FLAGS",
    "FLAG_COLUMNS",
    "KINDS",
    "MAX_LISTED",
    "NEED_ROWS",
    "SEXES",
    "STUDYIDS",
    "UNANALYSED_COLUMNS",
    "ColumnSpec",
    "Violation",
]

# --------------------------------------------------------------------------------------
# Controlled terminology
# --------------------------------------------------------------------------------------

#: The four files of a dataset, in the order they are checked and reported.
FILES = ("subjects.csv", "visits.csv", "adverse_events.csv", "medications.csv")

#: Trial registry numbers of the two core RCTs (paper, Introduction).
STUDYIDS = ("ChiCTR-ONC-16008770", "ChiCTR-INR-17012462")
#: Treatment groups: MSCs monotherapy, MSCs combined with IFN-gamma.
ARMS = ("MSC", "MSC+IFNG")
SEXES = ("F", "M")
FLAGS = ("Y", "N")
EOSSTT_VALUES = ("COMPLETED", "DISCONTINUED")
#: Allowed reasons for discontinuation (CDISC DCSREAS wording).
DCSREAS_VALUES = (
    "LACK OF EFFICACY",
    "ADVERSE EVENT",
    "DEATH",
    "WITHDRAWAL BY SUBJECT",
    "LOST TO FOLLOW-UP",
    "OTHER",
)
#: Drug classes of the medication table (paper, Table 4).
CMCLASSES = ("csDMARD", "bDMARD", "tsDMARD", "NSAID", "PREDNISONE")
#: Column names (compared case-insensitively) refused anywhere: direct identifiers.
DIRECT_IDENTIFIERS = frozenset(
    {
        "NAME", "FIRSTNAME", "LASTNAME", "PATIENTNAME", "BRTHDTC", "BRTHDT", "DOB",
        "DATEOFBIRTH", "PHONE", "TELEPHONE", "EMAIL", "ADDRESS", "IDNUM", "NATIONALID",
        "MRN",
    }
)

#: At most this many rows (and values) are written out per violation in a report.
MAX_LISTED = 10

# --------------------------------------------------------------------------------------
# Column specifications
# --------------------------------------------------------------------------------------

KINDS = ("string", "integer", "float", "date")


def _one_of(values) -> pa.Check:
    return pa.Check.isin(list(values), error="must be one of " + ", ".join(values))


def _between(low, high) -> pa.Check:
    return pa.Check.in_range(low, high, error=f"must be between {low} and {high}")


@dataclass(frozen=True)
class ColumnSpec:
    """One column of the contract.

    Parameters
    ----------
    name : str
        Column name (CDISC where one exists).
    kind : {"string", "integer", "float", "date"}
        Loaded as object ``str``, pandas nullable ``Int64``, ``float64`` or
        ``datetime64[ns]``.
    required : bool
        True if every cell must be non-empty; False if an empty cell (missing / not
        assessed) is allowed. The column itself must always be present.
    checks : tuple of pandera.Check
        Value checks on the typed column; each carries the rule text used in reports.
    unique : bool
        True if no two rows may share a value.
    analysed : bool
        False for a column the contract checks but no result reads (identifiers of a record,
        verbatim text). The book's notebook runs do not see such columns
        (:func:`analysis.notebook.load_run_dataset`), so their cache keys do not cover them and
        editing one executes no run. Make a column analysed before a result uses it.

    Examples
    --------
    >>> [spec.name for spec in COLUMNS["medications.csv"]]
    ['USUBJID', 'CMCLASS', 'CMDECOD', 'CMSTDT', 'CMENDT']
    >>> esr = next(spec for spec in COLUMNS["visits.csv"] if spec.name == "ESR")
    >>> esr.kind, esr.required, [check.error for check in esr.checks]
    ('float', False, ['must be > 0', 'must be <= 200'])
    """

    name: str
    kind: str
    required: bool = True
    checks: tuple = ()
    unique: bool = False
    analysed: bool = True

    def __post_init__(self):
        if self.kind not in KINDS:
            raise ValueError(f"ColumnSpec {self.name}: unknown kind {self.kind!r}")


def _flag(name: str) -> ColumnSpec:
    return ColumnSpec(name, "string", checks=(_one_of(FLAGS),))


def _measure(name: str, kind: str, *checks: pa.Check) -> ColumnSpec:
    return ColumnSpec(name, kind, required=False, checks=checks)


_HAQ_ITEMS = ("HAQDRESS", "HAQARISE", "HAQEAT", "HAQWALK",
              "HAQHYGN", "HAQREACH", "HAQGRIP", "HAQACTIV")

#: The contract columns of each file, in the order of ``data/README.md``.
COLUMNS: Mapping[str, tuple[ColumnSpec, ...]] = {
    "subjects.csv": (
        ColumnSpec("USUBJID", "string", unique=True),
        ColumnSpec("STUDYID", "string", checks=(_one_of(STUDYIDS),), analysed=False),
        ColumnSpec("ARM", "string", checks=(_one_of(ARMS),)),
        ColumnSpec("SEX", "string", checks=(_one_of(SEXES),)),
        ColumnSpec("AGE", "integer", checks=(_between(18, 100),)),
        ColumnSpec("RADURY", "float", checks=(pa.Check.ge(0, error="must be >= 0"),)),
        _flag("RFFL"),
        _flag("ACPAFL"),
        _flag("HXCSDMRD"),
        _flag("HXBDMRD"),
        _flag("HXNSAID"),
        _flag("HXPRED"),
        ColumnSpec("TRTSDT", "date"),
        _flag("LTEFL"),
        ColumnSpec("EOSDT", "date"),
        ColumnSpec("EOSSTT", "string", checks=(_one_of(EOSSTT_VALUES),)),
        ColumnSpec("DCSREAS", "string", required=False, checks=(_one_of(DCSREAS_VALUES),)),
    ),
    "visits.csv": (
        ColumnSpec("USUBJID", "string"),
        ColumnSpec("AVISITN", "integer", checks=(pa.Check.ge(0, error="must be >= 0"),)),
        ColumnSpec("ADT", "date"),
        _measure("TJC28", "integer", _between(0, 28)),
        _measure("SJC28", "integer", _between(0, 28)),
        _measure("TJC68", "integer", _between(0, 68)),
        _measure("SJC66", "integer", _between(0, 66)),
        _measure("ESR", "float", pa.Check.gt(0, error="must be > 0"),
                 pa.Check.le(200, error="must be <= 200")),
        _measure("CRP", "float", pa.Check.ge(0, error="must be >= 0"),
                 pa.Check.le(300, error="must be <= 300")),
        _measure("PTGA", "float", _between(0, 100)),
        _measure("PHGA", "float", _between(0, 100)),
        _measure("PAIN", "float", _between(0, 100)),
        *(_measure(item, "integer", _between(0, 3)) for item in _HAQ_ITEMS),
    ),
    "adverse_events.csv": (
        ColumnSpec("USUBJID", "string"),
        ColumnSpec("AESEQ", "integer", checks=(pa.Check.ge(1, error="must be >= 1"),), analysed=False),
        ColumnSpec("AETERM", "string", analysed=False),  # verbatim; AEDECOD is analysed
        ColumnSpec("AEDECOD", "string"),
        _flag("AESER"),
        ColumnSpec("AESTDT", "date"),
        ColumnSpec("AEENDT", "date", required=False),
    ),
    "medications.csv": (
        ColumnSpec("USUBJID", "string"),
        ColumnSpec("CMCLASS", "string", checks=(_one_of(CMCLASSES),)),
        ColumnSpec("CMDECOD", "string", required=False, analysed=False),  # the class is analysed
        ColumnSpec("CMSTDT", "date"),
        ColumnSpec("CMENDT", "date", required=False),
    ),
}

#: Columns holding a ``Y``/``N`` flag (in any file); a crosswalk may derive them from dates.
FLAG_COLUMNS = frozenset(spec.name for specs in COLUMNS.values() for spec in specs
                         if any(check.error == _one_of(FLAGS).error for check in spec.checks))

#: Contract columns of each file that no result reads (``ColumnSpec.analysed`` False).
UNANALYSED_COLUMNS: Mapping[str, tuple[str, ...]] = {
    file: tuple(spec.name for spec in specs if not spec.analysed) for file, specs in COLUMNS.items()
}

#: Files that must contain at least one data row (the others may be header-only).
NEED_ROWS = ("subjects.csv", "visits.csv")


@dataclass(frozen=True)
class Violation:
    """One broken rule, with every place it is broken.

    Parameters
    ----------
    file : str
        File name, e.g. ``"visits.csv"`` (or the directory, if that is what is wrong).
    column : str or None
        Column the rule is about; None for whole-file and whole-row problems.
    rows : tuple of int
        CSV **line numbers** where the rule is broken: the header is line 1, the first
        data row is line 2. Empty when no line applies (e.g. a missing file).
    rule : str
        The rule, phrased as what the value must be (e.g. ``"must be > 0"``).
    values : tuple of str
        What was found, for the first rows (at most :data:`MAX_LISTED`), aligned with
        ``rows``: the cell as written in the file, or ``NAME value`` pairs for a rule
        over several columns; may be empty.
    sheet : str, optional
        Worksheet of an Excel workbook holding the table.
    source_column : str, optional
        The column's name in the file when it differs from the contract name (renamed by
        a ``mapping.yml``); reported as ``column THEIRS (contract NAME)``.
    row_label : str
        What ``rows`` count, as the file's own tool shows them: ``line`` (CSV, text
        editor), ``row`` (Excel row number; Parquet row, 1 = first data row), ``case``
        (SPSS case number), ``observation`` (Stata, SAS).

    Examples
    --------
    >>> print(Violation("visits.csv", "ESR", (5,), "must be > 0", ("0",)))
    visits.csv: column ESR, line 5: must be > 0 (got 0)
    >>> print(Violation("visits.csv", "CRP", tuple(range(2, 15)), "must be >= 0"))
    visits.csv: column CRP, lines 2, 3, 4, 5, 6, 7, 8, 9, 10, 11 and 3 more: must be >= 0
    >>> print(Violation("medications.csv", None, (), "file is missing"))
    medications.csv: file is missing
    >>> print(Violation("trial.xlsx", "CRP", (7,), "must be <= 300", ("'35 mg/dL'",),
    ...                 sheet="visits", source_column="crp_mgdl", row_label="row"))
    trial.xlsx, sheet visits: column crp_mgdl (contract CRP), row 7: must be <= 300 (got '35 mg/dL')
    """

    file: str
    column: str | None
    rows: tuple[int, ...]
    rule: str
    values: tuple[str, ...] = ()
    sheet: str | None = None
    source_column: str | None = None
    row_label: str = "line"

    def __str__(self) -> str:
        where = self.file
        if self.sheet is not None:
            where += f", sheet {self.sheet}"
        if self.column is not None:
            if self.source_column is not None and self.source_column != self.column:
                where += f": column {self.source_column} (contract {self.column})"
            else:
                where += f": column {self.column}"
        if self.rows:
            shown = ", ".join(str(r) for r in self.rows[:MAX_LISTED])
            more = len(self.rows) - MAX_LISTED
            if more > 0:
                shown += f" and {more} more"
            label = self.row_label if len(self.rows) == 1 else self.row_label + "s"
            where += f", {label} {shown}"
        text = f"{where}: {self.rule}"
        if self.values:
            sep = "; " if any(", " in v for v in self.values) else ", "
            text += f" (got {sep.join(self.values[:MAX_LISTED])})"
        return text
