"""Family 2: standard deviations printed for percentages."""
from __future__ import annotations

import pandas as pd

from analysis.audit.primitives import (
    UNDECIDABLE,
    _fmt,
    _frame,
    _Printed,
    _reconstruct_count,
    _row,
    _status,
    compute_percentage_sd,
)
from analysis.verify import prints_as


def audit_percentage_sds(published: pd.DataFrame) -> pd.DataFrame:
    """Which formula reproduces the "SD" printed beside each Table 3 percentage.

    The count ``k`` of each cell is reconstructed from the percentage and the arm's N
    (:func:`compute_matching_counts`; a cell whose count is not unique is ``undecidable``).
    Two candidates are compared at the printed precision (:func:`compute_percentage_sd`):

    * population SD of the 0/1 response, ``100 sqrt(p (1 - p))`` (denominator ``n``);
    * sample SD, ``100 sqrt(p (1 - p) n / (n - 1))`` (denominator ``n - 1``).

    A cell is ``consistent`` when at least one formula reproduces it. One summary row,
    ``sd_formula.table3.summary``, names the formula(s) that reproduce every cell; it is
    ``inconsistent`` when no single formula does.

    Check ids ``sd_formula.<sd key>`` and the
    summary.

    Examples
    --------
    >>> from analysis.audit.primitives import tabulate_printed_values
    >>> reg = tabulate_printed_values({"table3.n.msc": "69", "table3.acr70.msc.year3.pct": "2.9",
    ...                                "table3.acr70.msc.year3.sd": "16.8"})
    >>> for r in audit_percentage_sds(reg).itertuples():
    ...     print(r.check_id, r.status, "|", r.evidence)
    sd_formula.table3.acr70.msc.year3.sd consistent | k = 2 of 69: population SD 16.78 prints as 16.8; sample SD 16.90 does not
    sd_formula.table3.summary consistent | population SD 100*sqrt(p(1-p)) reproduces 1 of 1 cells; sample SD (n-1 denominator) reproduces 0 of 1
    """
    printed = _Printed(published)
    rows = []
    matches = {"population": 0, "sample": 0}
    cells = []
    for m in printed.matching(r"table3\.(?P<item>[a-z0-9_]+)\.(?P<arm>msc|msc_ifng)\.(?P<t>year\d)\.sd"):
        key = m.group(0)
        pct_key = key[:-len("sd")] + "pct"
        n_key = f"table3.n.{m['arm']}"
        if not printed.has(pct_key, n_key):
            continue
        n = printed.count(n_key)
        ks = _reconstruct_count(printed, pct_key, n)
        keys = [key, pct_key, n_key]
        check_id = f"sd_formula.{key}"
        if len(ks) != 1:
            rows.append(_row(check_id, "sd_of_percent", keys, UNDECIDABLE,
                             f"the percentage {printed.value[pct_key]} does not fix one count of {n} ({ks})"))
            continue
        k, sd, d = ks[0], printed[key], printed.decimals[key]
        cells.append(key)
        found = {}
        for name, ddof in (("population", 0), ("sample", 1)):
            value = compute_percentage_sd(k, n, ddof)
            found[name] = (value, prints_as(value, sd, d))
            matches[name] += found[name][1]
        pop, samp = found["population"], found["sample"]
        evidence = (f"k = {k} of {n}: population SD {_fmt(pop[0], d + 1)} "
                    f"{'prints' if pop[1] else 'does not print'} as {printed.value[key]}; "
                    f"sample SD {_fmt(samp[0], d + 1)} {'also does' if samp[1] else 'does not'}")
        if pop[1] and samp[1]:
            evidence = (f"k = {k} of {n}: population SD {_fmt(pop[0], d + 1)} and sample SD "
                        f"{_fmt(samp[0], d + 1)} both print as {printed.value[key]}")
        elif samp[1]:
            evidence = (f"k = {k} of {n}: sample SD {_fmt(samp[0], d + 1)} prints as "
                        f"{printed.value[key]}; population SD {_fmt(pop[0], d + 1)} does not")
        rows.append(_row(check_id, "sd_of_percent", keys, _status(pop[1] or samp[1]), evidence))
    if cells:
        total = len(cells)
        all_fit = [name for name, hits in matches.items() if hits == total]
        evidence = (f"population SD 100*sqrt(p(1-p)) reproduces {matches['population']} of {total} cells; "
                    f"sample SD (n-1 denominator) reproduces {matches['sample']} of {total}")
        rows.append(_row("sd_formula.table3.summary", "sd_of_percent", cells,
                         _status(bool(all_fit)), evidence))
    return _frame(rows)


def identify_percentage_sd_formula(published: pd.DataFrame) -> list[str]:
    """Names of the SD formulas (``population``, ``sample``) that reproduce every Table 3
    percentage SD at its printed precision.

    Examples
    --------
    >>> from analysis.published import load_published
    >>> identify_percentage_sd_formula(load_published())
    ['population']
    """
    printed = _Printed(published)
    fits = {"population": True, "sample": True}
    for m in printed.matching(r"table3\.[a-z0-9_]+\.(?P<arm>msc|msc_ifng)\.year\d\.sd"):
        key = m.group(0)
        pct_key = key[:-len("sd")] + "pct"
        if pct_key not in printed:
            continue
        n = printed.count(f"table3.n.{m['arm']}")
        ks = _reconstruct_count(printed, pct_key, n)
        if len(ks) != 1:
            return []
        for name, ddof in (("population", 0), ("sample", 1)):
            fits[name] &= prints_as(compute_percentage_sd(ks[0], n, ddof), printed[key], printed.decimals[key])
    return [name for name, ok in fits.items() if ok]
