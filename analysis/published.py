"""The published-value registry: every number the article reports about its own data.

The registry lives in ``data/published/*.csv`` (one file per artefact: the patient
disposition paragraph, Tables 1-4, and ``text.csv`` for the abstract, the Results text and
the Discussion). ``data/published/README.md`` documents the columns, the key grammar and
what was left out. This module reads the files and checks that they are well formed, so
that the tests comparing published and reproduced values can trust what they read.

Only numbers and short labels are stored; the article (CC BY-NC-ND 4.0) is cited, never
quoted.
"""
from __future__ import annotations

import math
import numbers
import os
import re
from pathlib import Path

import pandas as pd

from analysis import paths

#: Columns of every registry file, in this order.
COLUMNS = (
    "key",
    "value",
    "number",
    "comparison",
    "decimals",
    "kind",
    "group",
    "timepoint",
    "unit",
    "artefact",
    "source",
    "documented_reason",
)

#: Allowed entries of the ``kind`` column.
KINDS = frozenset(
    {
        "count",
        "percent",
        "mean",
        "sd",
        "rate_per_100py",
        "patient_years",
        "p_value",
        "marker",
        "years",
        "n",
    }
)

#: Allowed entries of the ``group`` column.
GROUPS = frozenset({"MSC", "MSC+IFNG", "both"})

#: Allowed entries of the ``comparison`` column.
COMPARISONS = frozenset({"=", "<", ">"})

#: Allowed entries of the ``artefact`` column (also the first segment of every key).
ARTEFACTS = frozenset(
    {"disposition", "table1", "table2", "table3", "table4", "abstract", "text", "discussion"}
)

#: Allowed entries of the ``timepoint`` column (empty for group-size headers).
TIMEPOINTS = frozenset({"", "baseline", "year1", "year3", "year5", "followup"})

#: Printed significance markers and the number each one stands for.
MARKERS = {"*": 1.0, "none": 0.0}

_NUMERIC = re.compile(r"(?P<cmp>[<>]?)(?P<num>-?\d+(?:\.(?P<frac>\d+))?)")


def parse_printed_value(value: str) -> tuple[str, float, int]:
    """Parse a value as printed in the article into (comparison, number, decimals).

    Parameters
    ----------
    value : str
        The printed value: a plain number (``"36.17"``, ``"-1.34"``, ``"100"``), a bound
        (``"<0.001"``, ``">0.999"``), or a significance marker (``"*"`` for an asterisk,
        ``"none"`` where the cell has no asterisk).

    Returns
    -------
    tuple of (str, float, int)
        ``comparison`` is ``"<"`` or ``">"`` for a printed bound, else ``"="``;
        ``number`` is the numeric part (a bound keeps its printed limit, so ``"<0.001"``
        gives 0.001; ``"*"`` gives 1 and ``"none"`` gives 0); ``decimals`` counts the digits
        printed after the decimal point (0 for integers and markers).

    Raises
    ------
    ValueError
        If ``value`` is neither a number, a bound nor a marker.

    Examples
    --------
    >>> parse_printed_value("<0.001")
    ('<', 0.001, 3)
    >>> parse_printed_value("0.00")
    ('=', 0.0, 2)
    >>> parse_printed_value("*")
    ('=', 1.0, 0)
    """
    if value in MARKERS:
        return "=", MARKERS[value], 0
    match = _NUMERIC.fullmatch(value)
    if match is None:
        raise ValueError(f"not a printed number, bound or marker: {value!r}")
    return match["cmp"] or "=", float(match["num"]), len(match["frac"] or "")


def _lines(df: pd.DataFrame) -> tuple[list[str], list[int]]:
    """File name and CSV line (header = line 1) of each row, by position, in file order."""
    files = list(df["file"]) if "file" in df.columns else ["<frame>"] * len(df)
    seen: dict[str, int] = {}
    lines = []
    for name in files:
        seen[name] = seen.get(name, 1) + 1
        lines.append(seen[name])
    return files, lines


def check_published(df: pd.DataFrame) -> None:
    """Check that a registry frame is well formed; raise on the first file with problems.

    Rules, each reported as ``<file>:<line>: <rule>: <detail>`` (line 1 is the CSV header;
    line numbers assume the rows of each file are in file order, as
    :func:`load_published` returns them; a frame without a ``file`` column is reported as
    ``<frame>``):

    ``columns``
        the frame has every registry column (:data:`COLUMNS`).
    ``duplicate key``
        every key appears once across all files.
    ``unknown kind`` / ``unknown group`` / ``unknown comparison`` / ``unknown artefact`` /
    ``unknown timepoint``
        the column holds one of the allowed entries (:data:`KINDS`, :data:`GROUPS`,
        :data:`COMPARISONS`, :data:`ARTEFACTS`, :data:`TIMEPOINTS`).
    ``value does not parse``
        ``value`` parses (:func:`parse_printed_value`) to the row's ``comparison``,
        ``number`` and ``decimals``; markers must also have kind ``marker`` and vice versa.
    ``key prefix``
        the key's first dot-separated segment equals ``artefact``.

    Parameters
    ----------
    df : pandas.DataFrame
        Registry rows with the columns of :data:`COLUMNS` (``number`` float, ``decimals``
        int), optionally a ``file`` column naming the CSV each row came from.

    Raises
    ------
    ValueError
        Listing every violation found, one per line.

    Examples
    --------
    >>> import pandas as pd
    >>> row = dict(key="table2.sae.msc.rate", value="2.47", number=2.47, comparison="=",
    ...            decimals=2, kind="rate_per_100py", group="MSC", timepoint="followup",
    ...            unit="events/100 PY", artefact="table2", source="Table 2", documented_reason="")
    >>> check_published(pd.DataFrame([row]))  # well formed: returns None
    >>> check_published(pd.DataFrame([{**row, "decimals": 1}]))
    Traceback (most recent call last):
    ...
    ValueError: published registry: 1 problem(s)
    <frame>:2: value does not parse: '2.47' gives ('=', 2.47, 2), row says ('=', 2.47, 1)
    """
    missing = [c for c in COLUMNS if c not in df.columns]
    if missing:
        raise ValueError(f"published registry: columns: missing {missing}")
    files, lines = _lines(df)
    problems: list[str] = []

    def report(i, rule: str, detail: str) -> None:
        problems.append(f"{files[i]}:{lines[i]}: {rule}: {detail}")

    first_seen: dict[str, str] = {}
    allowed = {
        "kind": KINDS,
        "group": GROUPS,
        "comparison": COMPARISONS,
        "artefact": ARTEFACTS,
        "timepoint": TIMEPOINTS,
    }
    for i, row in enumerate(df.to_dict("records")):
        key = row["key"]
        where = f"{files[i]}:{lines[i]}"
        if key in first_seen:
            report(i, "duplicate key", f"{key!r} already at {first_seen[key]}")
        else:
            first_seen[key] = where
        for column, choices in allowed.items():
            if row[column] not in choices:
                report(i, f"unknown {column}", f"{row[column]!r} not in {sorted(choices)}")
        try:
            parsed = parse_printed_value(row["value"])
        except ValueError as err:
            report(i, "value does not parse", str(err))
        else:
            stated = (row["comparison"], row["number"], row["decimals"])
            same = (
                parsed[0] == stated[0]
                and isinstance(stated[1], numbers.Real)
                and math.isclose(parsed[1], stated[1], rel_tol=1e-12, abs_tol=1e-12)
                and parsed[2] == stated[2]
            )
            if not same:
                report(i, "value does not parse", f"{row['value']!r} gives {parsed}, row says {stated}")
            if (row["value"] in MARKERS) != (row["kind"] == "marker"):
                report(i, "value does not parse", f"marker value {row['value']!r} with kind {row['kind']!r}")
        prefix = str(key).split(".", 1)[0]
        if prefix != row["artefact"]:
            report(i, "key prefix", f"key {key!r} starts with {prefix!r}, artefact is {row['artefact']!r}")
    if problems:
        raise ValueError(
            f"published registry: {len(problems)} problem(s)\n" + "\n".join(problems)
        )


def load_published(directory: str | os.PathLike = paths.PUBLISHED) -> pd.DataFrame:
    """Read every ``*.csv`` of the published-value registry and check it.

    Files are read as text (``dtype=str``, ``keep_default_na=False``, so ``"none"`` and
    empty cells stay strings), concatenated in file-name order, then ``number`` is
    converted to float and ``decimals`` to int, and :func:`check_published` is applied.

    Parameters
    ----------
    directory : str or os.PathLike, default :data:`analysis.paths.PUBLISHED`
        Folder holding the registry CSV files.

    Returns
    -------
    pandas.DataFrame
        The columns of :data:`COLUMNS` plus ``file`` (the CSV file name), one row per
        published value, with a fresh ``RangeIndex``.

    Raises
    ------
    ValueError
        If the folder has no CSV file, a file's header differs from :data:`COLUMNS`,
        ``number``/``decimals`` do not convert (message names file and line), or
        :func:`check_published` finds a problem.

    Examples
    --------
    >>> df = load_published()
    >>> sorted(df["file"].unique())  # doctest: +NORMALIZE_WHITESPACE
    ['disposition.csv', 'table1.csv', 'table2.csv', 'table3.csv', 'table4.csv',
     'text.csv']
    >>> sae = df.set_index("key").loc["table2.sae.msc.rate"]
    >>> sae["value"], float(sae["number"]), int(sae["decimals"]), sae["file"]
    ('2.47', 2.47, 2, 'table2.csv')
    """
    directory = Path(directory)
    paths.check_source(directory)
    csvs = sorted(directory.glob("*.csv"))
    if not csvs:
        raise ValueError(f"published registry: no *.csv in {directory}")
    frames = []
    for path in csvs:
        frame = pd.read_csv(path, dtype=str, keep_default_na=False)
        if tuple(frame.columns) != COLUMNS:
            raise ValueError(
                f"{path.name}:1: columns: header {list(frame.columns)} != {list(COLUMNS)}"
            )
        frame["file"] = path.name
        for column, convert in (("number", float), ("decimals", int)):
            converted = []
            for line, text in enumerate(frame[column], start=2):
                try:
                    converted.append(convert(text))
                except ValueError:
                    raise ValueError(
                        f"{path.name}:{line}: {column} not {convert.__name__}: {text!r}"
                    ) from None
            frame[column] = converted
        frames.append(frame)
    df = pd.concat(frames, ignore_index=True)
    df["decimals"] = df["decimals"].astype(int)
    df["number"] = df["number"].astype(float)
    check_published(df)
    return df
