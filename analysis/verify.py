"""Published versus reproduced: the comparison behind ``make verify``.

A reproduced value *matches* a published one when it would print the same:

* ``=`` values: ``|reproduced - published| <= 0.5 * 10**-decimals`` (the printed precision; a
  tiny 1e-9 allowance absorbs binary floating-point error at exact half-way points);
* ``<`` / ``>`` bounds (p-values such as "<0.001", ">0.999"): the reproduced value lies on the
  same side of the printed bound;
* significance markers: equal (1 = "*" printed, 0 = no marker).

Statuses: ``match``; ``mismatch``; ``missing`` (no computed value under that key);
``documented`` (no match, and the published registry records why no honest dataset can
reproduce it).
"""
from __future__ import annotations

import math

import pandas as pd

STATUSES = ("match", "mismatch", "missing", "documented")
FLOAT_SLACK = 1e-9


#: Label of the row that sums every group in :func:`count_statuses`.
ALL = "all"


def count_statuses(frame: pd.DataFrame, statuses: tuple[str, ...] | list[str], by: str) -> pd.DataFrame:
    """Rows per group (``by``) and status, with a last row :data:`ALL` summing the groups.

    Groups keep their order of first appearance in ``frame``; every status of ``statuses``
    is a column, in that order, even when no row has it. This is the table that
    :func:`summarise_reproduction` prints (``by="artefact"``).

    Raises
    ------
    ValueError
        If a row has a status outside ``statuses``.

    Examples
    --------
    >>> rep = pd.DataFrame({"artefact": ["b", "a", "b"], "status": ["match", "match", "mismatch"]})
    >>> count_statuses(rep, ("match", "mismatch", "missing"), "artefact")
         match  mismatch  missing
    b        1         1        0
    a        1         0        0
    all      2         1        0
    """
    unknown = sorted(set(frame["status"]) - set(statuses))
    if unknown:
        raise ValueError(f"statuses {unknown} are not among {list(statuses)}")
    counts = (frame.groupby([by, "status"], sort=False).size()
              .unstack(fill_value=0).reindex(columns=list(statuses), fill_value=0))
    counts = counts.reindex(list(dict.fromkeys(frame[by]))).fillna(0).astype(int)
    counts.loc[ALL] = counts.sum()
    counts.index.name = None
    counts.columns.name = None
    return counts


def tolerance(decimals: int) -> float:
    """Half a unit of the last printed digit.

    Examples
    --------
    >>> tolerance(2), tolerance(0)
    (0.005, 0.5)
    """
    return 0.5 * 10.0 ** -int(decimals)


def prints_as(value: float, printed: float, decimals: int) -> bool:
    """Whether ``value`` prints as ``printed`` at ``decimals`` digits: within half a unit of the
    last digit (:func:`tolerance`), either tie direction, plus :data:`FLOAT_SLACK`. The one
    rounding rule of the project: ``make verify`` and the consistency audit both apply it.

    Examples
    --------
    >>> prints_as(100 * 59 / 69, 85.5, 1), prints_as(100 * 59 / 69, 85.6, 1), prints_as(0.125, 0.13, 2)
    (True, False, True)
    """
    return abs(value - printed) <= tolerance(decimals) + FLOAT_SLACK


def is_reproduced(reproduced: float, published: float, comparison: str, decimals: int) -> bool:
    """Whether ``reproduced`` prints as the published value (see module notes).

    Examples
    --------
    >>> is_reproduced(36.1671, 36.17, "=", 2), is_reproduced(36.1749, 36.17, "=", 2)
    (True, True)
    >>> is_reproduced(36.1751, 36.17, "=", 2)
    False
    >>> is_reproduced(0.0004, 0.001, "<", 3), is_reproduced(0.0012, 0.001, "<", 3)
    (True, False)
    >>> is_reproduced(1.0, 0.999, ">", 3), is_reproduced(float("nan"), 1, "=", 0)
    (True, False)
    """
    if reproduced is None or math.isnan(reproduced):
        return False
    if comparison == "<":
        return reproduced < published
    if comparison == ">":
        return reproduced > published
    if comparison == "=":
        return prints_as(reproduced, published, decimals)
    raise ValueError(f"unknown comparison {comparison!r}")


def format_as_printed(reproduced: float, kind: str, comparison: str, decimals: int, bound: float) -> str:
    """The reproduced value written the way the paper writes the published one.

    p-values that fall beyond the printed bound are written as the bound ("<0.001");
    markers as "*" or "none".

    Examples
    --------
    >>> format_as_printed(36.16713, "rate_per_100py", "=", 2, 36.17)
    '36.17'
    >>> format_as_printed(0.00012, "p_value", "<", 3, 0.001), format_as_printed(0.0123, "p_value", "<", 3, 0.001)
    ('<0.001', '0.012')
    >>> format_as_printed(1.0, "p_value", ">", 3, 0.999), format_as_printed(1.0, "marker", "=", 0, 1)
    ('>0.999', '*')
    >>> format_as_printed(float("nan"), "mean", "=", 2, 1.0)
    ''
    """
    if reproduced is None or math.isnan(reproduced):
        return ""
    if kind == "marker":
        return "*" if reproduced >= 0.5 else "none"
    if kind == "p_value":
        if reproduced < 10.0 ** -decimals or (comparison == "<" and reproduced < bound):
            return f"<{10.0 ** -decimals:.{decimals}f}"
        if comparison == ">" and reproduced > bound:
            return f">{bound:.{decimals}f}"
    return f"{reproduced:.{int(decimals)}f}"


def build_reproduction(published: pd.DataFrame, results: pd.DataFrame) -> pd.DataFrame:
    """Join the published registry with the results registry, key by key.

    Returns one row per published value: ``key``, ``artefact``, ``source``, ``published`` (as
    printed), ``reproduced`` (as it would be printed), ``reproduced_value`` (full precision),
    ``tolerance``, ``status`` and ``reason``.

    Examples
    --------
    >>> pub = pd.DataFrame({"key": ["t.a", "t.b", "t.c"], "value": ["2.47", "<0.001", "5"],
    ...     "number": [2.47, 0.001, 5.0], "comparison": ["=", "<", "="], "decimals": [2, 3, 0],
    ...     "kind": ["rate_per_100py", "p_value", "count"], "artefact": ["t"] * 3, "source": ["x"] * 3,
    ...     "documented_reason": ["", "", ""]})
    >>> res = pd.DataFrame({"key": ["t.a", "t.b"], "value": [2.4711, 0.02]})
    >>> build_reproduction(pub, res)[["key", "published", "reproduced", "status"]]
       key published reproduced    status
    0  t.a      2.47       2.47     match
    1  t.b    <0.001      0.020  mismatch
    2  t.c         5              missing
    """
    values = results.set_index("key")["value"]
    records = []
    for row in published.itertuples(index=False):
        has_value = row.key in values.index
        value = float(values[row.key]) if has_value else float("nan")
        if not has_value:
            status = "missing"
        elif is_reproduced(value, row.number, row.comparison, row.decimals):
            status = "match"
        elif row.documented_reason:
            status = "documented"
        else:
            status = "mismatch"
        records.append({
            "key": row.key, "artefact": row.artefact, "source": row.source, "published": row.value,
            "reproduced": format_as_printed(value, row.kind, row.comparison, row.decimals, row.number),
            "reproduced_value": value,
            "tolerance": "same side of bound" if row.comparison != "=" else f"±{tolerance(row.decimals):g}",
            "status": status, "reason": row.documented_reason if status == "documented" else "",
        })
    return pd.DataFrame(records)


def summarise_reproduction(reproduction: pd.DataFrame) -> str:
    """A readable report: counts per artefact and status, every non-match listed, and a last
    line ``verify: N of M published values reproduced`` where M excludes documented values.

    Examples
    --------
    >>> rep = pd.DataFrame({"key": ["a.x", "a.y", "b.z"], "artefact": ["a", "a", "b"],
    ...     "published": ["1", "2", "3"], "reproduced": ["1", "3", "4"], "source": ["s"] * 3,
    ...     "status": ["match", "mismatch", "documented"], "reason": ["", "", "paper contradicts itself"]})
    >>> print(summarise_reproduction(rep))  # doctest: +NORMALIZE_WHITESPACE
    artefact          match   mismatch    missing documented
    a                     1          1          0          0
    b                     0          0          0          1
    all                   1          1          0          1
    <BLANKLINE>
    mismatch: a.y published 2, reproduced 3 (s)
    documented: b.z published 3, reproduced 4 (s): paper contradicts itself
    <BLANKLINE>
    verify: 1 of 2 published values reproduced (1 documented, listed above)
    """
    counts = count_statuses(reproduction, STATUSES, "artefact")
    lines = [f"{'artefact':<12}" + "".join(f"{s:>11}" for s in STATUSES)]
    lines += [f"{a:<12}" + "".join(f"{int(counts.loc[a, s]):>11}" for s in STATUSES) for a in counts.index]
    problems = reproduction[reproduction["status"] != "match"]
    if len(problems):
        lines.append("")
    for row in problems.itertuples(index=False):
        shown = row.reproduced if row.reproduced != "" else "(not computed)"
        line = f"{row.status}: {row.key} published {row.published}, reproduced {shown} ({row.source})"
        lines.append(line + (f": {row.reason}" if row.status == "documented" else ""))
    documented = int((reproduction["status"] == "documented").sum())
    checked = len(reproduction) - documented
    matched = int((reproduction["status"] == "match").sum())
    tail = f" ({documented} documented, listed above)" if documented else ""
    lines += ["", f"verify: {matched} of {checked} published values reproduced{tail}"]
    return "\n".join(lines)
