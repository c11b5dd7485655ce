"""Family 3: event rates, sub-rows and totals of Table 2."""
from __future__ import annotations

import pandas as pd

from analysis.audit.primitives import ARMS, TABLE2_SUBROWS, _arm_sum_rows, _fmt, _frame, _Printed, _row, _status
from analysis.verify import prints_as


def audit_event_rates(published: pd.DataFrame) -> pd.DataFrame:
    """Event rates against events and patient-years; Table 2 sub-rows against their totals.

    Checks (rate = ``100 * events / PY``, at the printed precision):

    ``rate.table2.<row>.<arm>``
        every Table 2 rate against the row's events and the arm's PY;
    ``rate.<text key>``
        every abstract/Results/Discussion rate of one arm against the Table 2 events and PY of
        the row it restates, at the text's own precision;
    ``subtotal.table2.<parent>.<arm>``
        the parent row's events against the sum of the rows printed under it
        (:data:`TABLE2_SUBROWS`). For "at least one AE" the evidence also says whether the
        number can be a patient count (it cannot when it exceeds the arm's N);
    ``total.<text key>``
        a pooled event count in the text against the sum of the arms' Table 2 events.

    Examples
    --------
    >>> from analysis.audit.primitives import tabulate_printed_values
    >>> reg = tabulate_printed_values({"table2.py.msc": "445.15", "table2.sae.msc.events": "11",
    ...     "table2.sae.msc.rate": "2.47", "table2.sae_autoimmune.msc.events": "2",
    ...     "table2.sae_sle.msc.events": "0", "table2.sae_sjogren.msc.events": "2"})
    >>> for r in audit_event_rates(reg).itertuples():
    ...     print(r.check_id, r.status, "|", r.evidence)
    rate.table2.sae.msc consistent | 100 x 11/445.15 PY = 2.4711 prints as 2.47
    subtotal.table2.sae_autoimmune.msc consistent | 2 events = 0 + 2 (sae_sle + sae_sjogren)
    """
    printed = _Printed(published)
    rows = []
    for m in printed.matching(r"table2\.(?P<item>[a-z0-9_]+)\.(?P<arm>msc|msc_ifng)\.rate"):
        key, item, arm = m.group(0), m["item"], m["arm"]
        events_key, py_key = f"table2.{item}.{arm}.events", f"table2.py.{arm}"
        if not printed.has(events_key, py_key):
            continue
        rows.append(_rate_row(printed, f"rate.table2.{item}.{arm}", key, events_key, py_key))
    for m in printed.matching(r"(?:abstract|text|discussion)\.(?P<item>[a-z0-9_]+)\.(?P<arm>msc|msc_ifng)\.rate"):
        key, item, arm = m.group(0), m["item"], m["arm"]
        events_key, py_key = f"table2.{item}.{arm}.events", f"table2.py.{arm}"
        if printed.has(events_key, py_key):
            rows.append(_rate_row(printed, f"rate.{key}", key, events_key, py_key))
    for parent, children in TABLE2_SUBROWS.items():
        for arm in ARMS:
            parent_key = f"table2.{parent}.{arm}.events"
            child_keys = [f"table2.{c}.{arm}.events" for c in children]
            if not printed.has(parent_key, *child_keys):
                continue
            total = printed.count(parent_key)
            parts = [printed.count(k) for k in child_keys]
            ok = total == sum(parts)
            terms = " + ".join(str(p) for p in parts)
            if ok:
                evidence = f"{total} events = {terms} ({' + '.join(children)})"
            else:
                evidence = (f"{total} events printed, but the rows under it add up to {sum(parts)} "
                            f"({terms}): {total - sum(parts)} event(s) not shown in any category")
            n_key = f"table2.n.{arm}"
            if parent == "any_ae" and n_key in printed:
                n = printed.count(n_key)
                if total > n:
                    evidence += (f"; {total} exceeds the {n} patients of the arm, so the row counts "
                                 f"events (excluding SAEs) although its label reads as a patient count")
            rows.append(_row(f"subtotal.table2.{parent}.{arm}", "event_rates",
                             [parent_key, *child_keys], _status(ok), evidence))
    rows += _arm_sum_rows(printed, r"(?:abstract|text|discussion)\.(?P<item>[a-z0-9_]+)\.total\.events", "total",
                          "event_rates", lambda key, item, ok, parts: (
                              f"{printed.value[key]} {'=' if ok else '!='} {parts[0]} + {parts[1]} "
                              f"(Table 2, {item}, both arms)"))
    return _frame(rows)


def _rate_row(printed: _Printed, check_id: str, key: str, events_key: str, py_key: str) -> dict:
    events, py = printed[events_key], printed[py_key]
    rate, d = 100 * events / py, printed.decimals[key]
    ok = prints_as(rate, printed[key], d)
    return _row(check_id, "event_rates", [key, events_key, py_key], _status(ok),
                f"100 x {printed.count(events_key)}/{printed.value[py_key]} PY = {_fmt(rate, max(d, 2) + 2)} "
                f"{'prints' if ok else 'does not print'} as {printed.value[key]}")
