"""Family 8: nested response criteria (ACR70 within ACR50 within ACR20, remission within LDA)."""
from __future__ import annotations

import pandas as pd

from analysis.audit.primitives import ARMS, UNDECIDABLE, _frame, _Printed, _reconstruct_count, _row, _status


def audit_response_nesting(published: pd.DataFrame) -> pd.DataFrame:
    """Nested response criteria within Table 3: a stricter response cannot be more frequent.

    Per arm and time point, with the counts reconstructed from the percentages: ACR70 <=
    ACR50 <= ACR20 (``nesting.table3.acr.<arm>.<timepoint>``) and DAS28 remission (< 2.6) <=
    low disease activity (<= 3.2) (``nesting.table3.das28.<arm>.<timepoint>``).

    Examples
    --------
    >>> from analysis.audit.primitives import tabulate_printed_values
    >>> reg = tabulate_printed_values({"table3.n.msc": "69",
    ...     "table3.das28_remission.msc.year1.pct": "2.9", "table3.das28_lda.msc.year1.pct": "1.4"})
    >>> for r in audit_response_nesting(reg).itertuples():
    ...     print(r.check_id, r.status, "|", r.evidence)
    nesting.table3.das28.msc.year1 inconsistent | das28_remission 2 > das28_lda 1 of 69
    """
    printed = _Printed(published)
    rows = []
    chains = {"acr": ("acr70", "acr50", "acr20"), "das28": ("das28_remission", "das28_lda")}
    for name, chain in chains.items():
        for arm in ARMS:
            for t in ("year1", "year3", "year5"):
                keys = [f"table3.{e}.{arm}.{t}.pct" for e in chain]
                n_key = f"table3.n.{arm}"
                if not printed.has(n_key, *keys):
                    continue
                n = printed.count(n_key)
                counts = [_reconstruct_count(printed, k, n) for k in keys]
                if any(len(c) != 1 for c in counts):
                    rows.append(_row(f"nesting.table3.{name}.{arm}.{t}", "nesting", [*keys, n_key], UNDECIDABLE,
                                     "a percentage does not fix one count"))
                    continue
                ks = [c[0] for c in counts]
                ok = all(a <= b for a, b in zip(ks, ks[1:]))
                evidence = (" <= ".join(f"{e} {k}" for e, k in zip(chain, ks)) if ok else
                            "; ".join(f"{e1} {k1} > {e2} {k2}" for e1, k1, e2, k2 in
                                      zip(chain, ks, chain[1:], ks[1:]) if k1 > k2))
                rows.append(_row(f"nesting.table3.{name}.{arm}.{t}", "nesting", [*keys, n_key], _status(ok),
                                 f"{evidence} of {n}"))
    return _frame(rows)
