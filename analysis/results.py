"""The results registry: every number the analysis computes, under a stable key.

Keys follow the published registry's grammar (``data/published/README.md``), so that
comparing published and reproduced values is a join on ``key``. Values without a published
counterpart (confidence intervals, sensitivity analyses) get keys of the same grammar.
"""
from __future__ import annotations

import math
from pathlib import Path

import pandas as pd

RESULT_COLUMNS = ["key", "value", "artefact", "method"]


def make_result(key: str, value: float, method: str) -> dict:
    """One registry row; the artefact is the key's first component.

    ``value`` is stored as a float at full precision; rounding happens only when a number is
    printed or compared with a printed value.

    Examples
    --------
    >>> make_result("table2.n.msc", 80, "patients in the safety population")
    {'key': 'table2.n.msc', 'value': 80.0, 'artefact': 'table2', 'method': 'patients in the safety population'}
    """
    return {"key": key, "value": float(value), "artefact": key.split(".", 1)[0], "method": method}


def results_frame(rows: list[dict]) -> pd.DataFrame:
    """Rows -> a registry frame, checked for duplicate keys.

    Examples
    --------
    >>> results_frame([make_result("a.x", 1, "m"), make_result("a.x", 2, "m")])
    Traceback (most recent call last):
    ...
    ValueError: duplicate result keys: ['a.x']
    """
    frame = pd.DataFrame(rows, columns=RESULT_COLUMNS)
    dupes = frame.loc[frame["key"].duplicated(), "key"].tolist()
    if dupes:
        raise ValueError(f"duplicate result keys: {dupes}")
    return frame.reset_index(drop=True)


def registry_values(registry: pd.DataFrame | dict) -> dict:
    """A registry as ``key -> value``: a frame's rows as a dict; a dict (a
    :class:`analysis.printing.MarkedRegistry` included) as it is, so that its reads are still
    recorded.

    Examples
    --------
    >>> registry_values(results_frame([make_result("a.n", 3, "count")]))
    {'a.n': 3.0}
    """
    return registry if isinstance(registry, dict) else dict(zip(registry["key"], registry["value"]))


def write_results(frame: pd.DataFrame, path: Path) -> Path:
    """Write the registry as CSV, sorted by key, floats in ``repr`` precision (deterministic).

    The file is written to a temporary name and renamed, so a reader never sees half a file;
    an unchanged registry is not rewritten, so its modification time (which Sphinx tracks for
    the pages that cite it) moves only when a value does.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    out = frame.sort_values("key", kind="stable").copy()
    out["value"] = [format_full(v) for v in out["value"]]
    text = out.to_csv(index=False, lineterminator="\n")
    if path.exists() and path.read_text(encoding="utf-8") == text:
        return path
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(path)
    return path


def read_results(path: Path) -> pd.DataFrame:
    """Read a registry written by :func:`write_results`."""
    frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    if list(frame.columns) != RESULT_COLUMNS:
        raise ValueError(f"{path}: registry columns must be {RESULT_COLUMNS}, found {list(frame.columns)}")
    # float() rather than pd.to_numeric: the latter refuses a leading "nan"; "inf" must round-trip too.
    frame["value"] = [float(v) if v else float("nan") for v in frame["value"]]
    return frame


def format_full(value: float) -> str:
    """Shortest text that round-trips the float (``repr``); NaN as empty.

    Examples
    --------
    >>> format_full(0.1 + 0.2), format_full(float("nan")), format_full(80.0)
    ('0.30000000000000004', '', '80.0')
    """
    return "" if math.isnan(value) else repr(float(value))
