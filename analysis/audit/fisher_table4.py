"""Family 4: Table 4 p-values against Fisher's exact test on the printed counts."""
from __future__ import annotations

import pandas as pd

from analysis.audit.primitives import ARMS, _frame, _p4, _Printed, _row, _status, compare_proportions, meets_printed_p


def audit_fisher_table4(published: pd.DataFrame) -> pd.DataFrame:
    """Table 4 p-values recomputed by a two-sided Fisher exact test from the printed counts.

    For each ``table4.<drug>.<timepoint>.p``: the 2x2 table is (users, non-users) x arm, with
    the users ``table4.<drug>.<arm>.<timepoint>.n`` and the arm sizes ``table4.n.<arm>``
    (:func:`compare_proportions`, ``fisher``). Compared with :func:`meets_printed_p`: equal at
    the printed precision, or beyond a printed bound.

    Check id ``fisher.table4.<drug>.<timepoint>``.

    Examples
    --------
    >>> from analysis.audit.primitives import tabulate_printed_values
    >>> reg = tabulate_printed_values({"table4.n.msc": "69", "table4.n.msc_ifng": "28",
    ...     "table4.bdmard.msc.year5.n": "12", "table4.bdmard.msc_ifng.year5.n": "2",
    ...     "table4.bdmard.year5.p": "0.338"})
    >>> for r in audit_fisher_table4(reg).itertuples():
    ...     print(r.check_id, r.status, "|", r.evidence)
    fisher.table4.bdmard.year5 consistent | 12/69 vs 2/28: Fisher exact p = 0.3382, printed 0.338
    """
    printed = _Printed(published)
    rows = []
    for m in printed.matching(r"table4\.(?P<drug>[a-z0-9_]+)\.(?P<t>baseline|year\d)\.p"):
        key, drug, t = m.group(0), m["drug"], m["t"]
        count_keys = [f"table4.{drug}.{arm}.{t}.n" for arm in ARMS]
        n_keys = [f"table4.n.{arm}" for arm in ARMS]
        if not printed.has(*count_keys, *n_keys):
            continue
        (a, b), (na, nb) = [printed.count(k) for k in count_keys], [printed.count(k) for k in n_keys]
        p = compare_proportions(a, na, b, nb, "fisher").p_value
        ok = meets_printed_p(p, printed[key], printed.comparison[key], printed.decimals[key])
        rows.append(_row(f"fisher.{key[:-2]}", "fisher_table4", [key, *count_keys, *n_keys], _status(ok),
                         f"{a}/{na} vs {b}/{nb}: Fisher exact p = {_p4(p)}, printed {printed.value[key]}"
                         + ("" if ok else " (does not match)")))
    return _frame(rows)
