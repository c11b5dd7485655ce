"""Family 1: percentages against their counts and denominators (GRIM)."""
from __future__ import annotations

import math

import pandas as pd

from analysis.audit.primitives import ARMS, UNDECIDABLE, _fmt, _frame, _Printed, _row, _status, compute_matching_counts
from analysis.verify import prints_as


def _percent_denominator(printed: _Printed, key: str) -> str | None:
    parts = key.split(".")
    if len(parts) < 4:
        return None
    artefact, arm = parts[0], parts[2]
    if artefact in ("table1", "table3", "table4") and arm in ARMS:
        return f"{artefact}.n.{arm}"
    if artefact in ("abstract", "text", "discussion") and arm in ARMS:
        if "table3." + key.split(".", 1)[1] in printed:
            return f"table3.n.{arm}"
    if arm == "total" and "disposition.randomised.total.n" in printed:
        return "disposition.randomised.total.n"
    return None


def audit_grim_percentages(published: pd.DataFrame) -> pd.DataFrame:
    """GRIM for percentages: every printed percentage against its count and denominator.

    For each registry key ending in ``.pct``:

    * the denominator is the arm's N of the same table (``table1.n.<arm>``,
      ``table3.n.<arm>``, ``table4.n.<arm>``); for a percentage restated in the abstract,
      Results or Discussion, the N of the table it restates (Table 3); for a pooled
      (``total``) percentage, the 110 randomised patients (``disposition.randomised.total.n``);
    * the count is the sibling key with stat ``n`` or ``patients``. With a count, the check
      is ``100 * count / N`` prints as the percentage; without one (Table 1 RF/ACPA, Table 3),
      it is that some whole count ``k`` of ``N`` does (:func:`compute_matching_counts`).

    A percentage with no resolvable denominator is ``undecidable``.

    Parameters
    ----------
    published : pandas.DataFrame
        Registry rows with ``key``, ``number``, ``comparison`` and ``decimals``
        (:func:`analysis.published.load_published`, or :func:`tabulate_printed_values`).

    Returns
    -------
    pandas.DataFrame
        Audit rows (:data:`AUDIT_COLUMNS`), family ``grim_percent``, check id
        ``grim.<percentage key>``.

    Examples
    --------
    >>> from analysis.audit.primitives import tabulate_printed_values
    >>> reg = tabulate_printed_values({"table1.n.msc": "69", "table1.female.msc.n": "59",
    ...     "table1.female.msc.pct": "85.5", "table1.rf_positive.msc.pct": "95.8"})
    >>> for r in audit_grim_percentages(reg).itertuples():
    ...     print(r.check_id, r.status, "|", r.evidence)
    grim.table1.female.msc.pct consistent | 59/69 = 85.507% prints as 85.5
    grim.table1.rf_positive.msc.pct inconsistent | no whole count of 69 gives 95.8 (66/69 = 95.652%, 67/69 = 97.101%)
    """
    printed = _Printed(published)
    rows = []
    for key in printed.keys:
        if not key.endswith(".pct"):
            continue
        pct, d = printed[key], printed.decimals[key]
        check_id = f"grim.{key}"
        denominator = _percent_denominator(printed, key)
        if denominator is None or denominator not in printed:
            rows.append(_row(check_id, "grim_percent", [key], UNDECIDABLE,
                             f"no denominator printed for {printed.value[key]}%"))
            continue
        n = printed.count(denominator)
        count_key = next((key[:-len("pct")] + s for s in ("n", "patients")
                          if key[:-len("pct")] + s in printed), None)
        if count_key is not None:
            k = printed.count(count_key)
            ok = prints_as(100 * k / n, pct, d)
            rows.append(_row(check_id, "grim_percent", [key, count_key, denominator], _status(ok),
                             f"{k}/{n} = {_fmt(100 * k / n, d + 2)}% "
                             f"{'prints' if ok else 'does not print'} as {printed.value[key]}"))
            continue
        ks = compute_matching_counts(pct, d, n)
        if len(ks) == 1:
            evidence = f"k = {ks[0]} of {n} gives {_fmt(100 * ks[0] / n, d + 2)}%, printed {printed.value[key]}"
        elif ks:
            evidence = f"k in {ks} of {n} all print as {printed.value[key]}"
        else:
            lo = math.floor(pct * n / 100)
            near = ", ".join(f"{k}/{n} = {_fmt(100 * k / n, d + 2)}%" for k in (lo, lo + 1) if 0 <= k <= n)
            evidence = f"no whole count of {n} gives {printed.value[key]} ({near})"
        rows.append(_row(check_id, "grim_percent", [key, denominator], _status(bool(ks)), evidence))
    return _frame(rows)
