"""Family 6: means against sample sizes (GRIM) and SDs against means (GRIMMER)."""
from __future__ import annotations

import math

import pandas as pd

from analysis.audit.primitives import (
    CONSISTENT,
    GRIM_ITEMS,
    INCONSISTENT,
    UNDECIDABLE,
    _fmt,
    _fmt_step,
    _frame,
    _plural,
    _Printed,
    _row,
    compute_grim_sums,
    compute_grimmer_sums_of_squares,
    compute_tolerance,
)


def audit_grim_means(published: pd.DataFrame) -> pd.DataFrame:
    """GRIM (and GRIMMER where it applies) for means of integer or discretised values.

    For each item of :data:`GRIM_ITEMS` and arm, with N the arm's N of the same table: is
    there a whole ``m`` with ``m * step / N`` printing as the mean
    (:func:`compute_grim_sums`)? ``undecidable`` when the granularity ``step / N`` is no
    larger than the printing step (every mean is then reachable). The verdict rests on the
    item's granularity (e.g. ESR read in whole mm/h), which the evidence states; an
    ``inconsistent`` mean is reported with the nearest smaller N (down to N - 3) that would
    reach it, since one missing value would explain it.

    For integer data (step 1) the SD is checked GRIMMER-style
    (:func:`compute_grimmer_sums_of_squares`, check id ``grimmer.<sd key>``) over every total
    the mean allows; ``undecidable`` when, for every such total, at least two whole sums of
    squares of the right parity fit the printed SD (the check cannot fail).

    Check ids ``grim_mean.<artefact>.<item>.<arm>[.<t>]``
    and ``grimmer.<sd key>``.

    Examples
    --------
    >>> from analysis.audit.primitives import tabulate_printed_values
    >>> reg = tabulate_printed_values({"table1.n.msc": "69", "table1.n.msc_ifng": "28",
    ...     "table1.esr.msc.mean": "45.87", "table1.esr.msc_ifng.mean": "46.59"})
    >>> for r in audit_grim_means(reg).itertuples():
    ...     print(r.check_id, r.status, "|", r.evidence)
    grim_mean.table1.esr.msc consistent | values in whole mm/h: 3165/69 = 45.8696 prints as 45.87
    grim_mean.table1.esr.msc_ifng inconsistent | values in whole mm/h: no total over 28 prints as 46.59 (1304/28 = 46.5714, 1305/28 = 46.6071); reachable with N = 27 (1258/27 = 46.5926)
    """
    printed = _Printed(published)
    rows = []
    for (artefact, item), (step, unit) in GRIM_ITEMS.items():
        total_decimals = 0 if step == 1 else 3
        pattern = rf"{artefact}\.{item}\.(?P<arm>msc|msc_ifng)(?:\.(?P<t>year\d))?\.mean"
        for m in printed.matching(pattern):
            key, arm, t = m.group(0), m["arm"], m["t"]
            n_key = f"{artefact}.n.{arm}"
            if n_key not in printed:
                continue
            n, mean, d = printed.count(n_key), printed[key], printed.decimals[key]
            check_id = f"grim_mean.{artefact}.{item}.{arm}" + (f".{t}" if t else "")
            if step is None:
                rows.append(_row(check_id, "grim_mean", [key, n_key], UNDECIDABLE,
                                 f"values are {unit}: no granularity to test the mean {printed.value[key]} against"))
                continue
            sums = compute_grim_sums(mean, d, n, step)
            if sums is None:
                rows.append(_row(check_id, "grim_mean", [key, n_key], UNDECIDABLE,
                                 f"values in {unit}: granularity {_fmt_step(step)}/{n} = {step / n:.4f} is no larger "
                                 f"than the printing step {10.0 ** -d:g}, so every mean is reachable"))
                half = compute_tolerance(d)
                candidates = list(range(math.ceil((mean - half) * n / step), math.floor((mean + half) * n / step) + 1))
            elif sums:
                s = sums[0]
                rows.append(_row(check_id, "grim_mean", [key, n_key], CONSISTENT,
                                 f"values in {unit}: {_fmt(s * step, total_decimals)}/{n} = "
                                 f"{_fmt(s * step / n, d + 2)} prints as {printed.value[key]}"))
                candidates = sums
            else:
                lo = math.floor(mean * n / step)
                near = ", ".join(f"{_fmt(k * step, total_decimals)}/{n} = {_fmt(k * step / n, d + 2)}"
                                 for k in (lo, lo + 1))
                evidence = f"values in {unit}: no total over {n} prints as {printed.value[key]} ({near})"
                for smaller in range(n - 1, max(n - 4, 0), -1):
                    fits = compute_grim_sums(mean, d, smaller, step)
                    if fits:
                        evidence += (f"; reachable with N = {smaller} ({_fmt(fits[0] * step, total_decimals)}/"
                                     f"{smaller} = {_fmt(fits[0] * step / smaller, d + 2)})")
                        break
                rows.append(_row(check_id, "grim_mean", [key, n_key], INCONSISTENT, evidence))
                candidates = []
            sd_key = key[:-len("mean")] + "sd"
            if step == 1 and candidates and sd_key in printed:
                rows.append(_grimmer_row(printed, sd_key, key, n_key, candidates, n))
    return _frame(rows)


def _grimmer_row(printed: _Printed, sd_key: str, mean_key: str, n_key: str, sums: list[int], n: int) -> dict:
    """GRIMMER row. The whole sums of squares fitting a printed SD lie in an interval of width
    ``(n - 1) * 4 * sd * h`` (``h`` the rounding half-unit); from width 2 it always holds a
    whole number of either parity, and the check cannot fail."""
    sd, d = printed[sd_key], printed.decimals[sd_key]
    width = (n - 1) * 4 * sd * (0.5 * 10.0 ** -d)
    feasible = sum(len(compute_grimmer_sums_of_squares(s, n, sd, d)) for s in sums)
    check_id = f"grimmer.{sd_key}"
    keys = [sd_key, mean_key, n_key]
    if width >= 2:
        return _row(check_id, "grim_mean", keys, UNDECIDABLE,
                    f"SD {printed.value[sd_key]} over {n}: the sums of squares that fit span {width:.1f} "
                    f"(>= 2), so whole values of either parity always fit and GRIMMER cannot fail")
    totals = ", ".join(map(str, sums))
    if feasible == 0:
        return _row(check_id, "grim_mean", keys, INCONSISTENT,
                    f"no whole sum of squares of the right parity gives SD {printed.value[sd_key]} "
                    f"with total(s) {totals} over {n}")
    return _row(check_id, "grim_mean", keys, CONSISTENT,
                f"SD {printed.value[sd_key]} over {n} is reached by {_plural(feasible, 'whole sum')} "
                f"of squares with total(s) {totals}")
