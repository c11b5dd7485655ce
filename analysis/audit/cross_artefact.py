"""Family 7: agreement between tables, text and patient flow."""
from __future__ import annotations

import re

import pandas as pd

from analysis.audit.primitives import (
    ARMS,
    CONSISTENT,
    INCONSISTENT,
    MARKER_ALPHA,
    MEDICATION_PAIRS,
    RESTATED_ELSEWHERE,
    UNDECIDABLE,
    _arm_sum_rows,
    _fmt,
    _frame,
    _plural,
    _Printed,
    _reconstruct_count,
    _row,
    _status,
)
from analysis.verify import prints_as


def audit_cross_artefact(published: pd.DataFrame) -> pd.DataFrame:
    """Values that two artefacts both print, or that one artefact derives from another.

    Checks:

    ``medication.<drug>.<arm>``
        Table 1 medication history against Table 4 use at baseline (:data:`MEDICATION_PAIRS`):
        history >= current use is required. Equal counts are ``consistent``; a history count
        above the baseline count is ``consistent`` only under the reading "ever used"
        (Table 1, labelled as history) vs "in use at baseline" (Table 4), which the evidence
        says; a history count below current use is ``inconsistent``.
    ``restated.<key>``
        each abstract/Results/Discussion value with a table or patient-flow counterpart (same
        key after the artefact prefix, or :data:`RESTATED_ELSEWHERE`): equal at the coarser
        printed precision. Abstract p-values are compared with the Table 3 marker (the marker
        means p < 0.001).
    ``disposition.*``
        the patient flow adds up (completers + discontinued = randomised, the two reasons =
        discontinued, arms = completers, safety population = randomised, group sizes of
        Tables 1, 3, 4 = completers per arm, the combination arm's dropouts, follow-up range,
        mean follow-up against total patient-years).
    ``sae_patients.total``
        patients with an SAE lie between the distinct patients with a new autoimmune disease
        and the number of SAE events.
    ``noncovid.<key>``
        the Discussion's non-COVID SAE rates: SAE events minus the arm's pneumonia SAE (the
        COVID-19 pneumonia), per 100 PY.
    ``pooled.<key>``
        pooled patient/event counts of the Discussion against the sum over arms of the Table 2
        events (one event per patient for new diagnoses), and new autoimmune diagnoses =
        Sjögren + SLE.
    ``patients_vs_events.<key>``
        patients the text counts for an SAE category of one arm <= that row's Table 2 events.
    ``drug_free.<key>``
        patients in drug-free remission at year 5 <= patients in remission at year 5.
    ``unverifiable.<key>``
        a pooled p-value of the text comparing groups that no registered table prints
        (completers vs dropouts): ``undecidable``.

    Examples
    --------
    >>> from analysis.audit.primitives import tabulate_printed_values
    >>> reg = tabulate_printed_values({"table1.hx_bdmard.msc_ifng.n": "13",
    ...     "table4.bdmard.msc_ifng.baseline.n": "10", "table3.acr20.msc.year5.pct": "44.9",
    ...     "discussion.acr20.msc.year5.pct": "45"})
    >>> for r in audit_cross_artefact(reg).itertuples():
    ...     print(r.check_id, r.status, "|", r.evidence)
    medication.bdmard.msc_ifng consistent | history 13 > baseline use 10: consistent only if Table 1 counts ever-use and Table 4 use at baseline
    restated.discussion.acr20.msc.year5.pct consistent | 45 vs table3.acr20.msc.year5.pct = 44.9: agree at 0 decimals
    """
    printed = _Printed(published)
    fam = "cross_artefact"
    rows = []
    for hx, drug in MEDICATION_PAIRS.items():
        for arm in ARMS:
            hx_key, now_key = f"table1.{hx}.{arm}.n", f"table4.{drug}.{arm}.baseline.n"
            if not printed.has(hx_key, now_key):
                continue
            before, now = printed.count(hx_key), printed.count(now_key)
            if before == now:
                status, evidence = CONSISTENT, f"history {before} = baseline use {now}"
            elif before > now:
                status = CONSISTENT
                evidence = (f"history {before} > baseline use {now}: consistent only if Table 1 counts "
                            f"ever-use and Table 4 use at baseline")
            else:
                status, evidence = INCONSISTENT, f"history {before} < baseline use {now}: more current than past users"
            rows.append(_row(f"medication.{drug}.{arm}", fam, [hx_key, now_key], status, evidence))
    for key in printed.keys:
        artefact, tail = key.split(".", 1)
        if artefact not in ("abstract", "text", "discussion"):
            continue
        twins = [f"{table}.{tail}" for table in ("table1", "table2", "table3", "table4", "disposition")]
        twin = RESTATED_ELSEWHERE.get(key) or next((t for t in twins if t in printed), None)
        if twin is not None:
            d = min(printed.decimals[key], printed.decimals[twin])
            same_bound = printed.comparison[key] == printed.comparison[twin]
            ok = same_bound and prints_as(printed[twin], printed[key], d)
            rows.append(_row(f"restated.{key}", fam, [key, twin], _status(ok),
                             f"{printed.value[key]} vs {twin} = {printed.value[twin]}: "
                             f"{'agree' if ok else 'differ'} at {_plural(d, 'decimal')}"))
        elif re.fullmatch(r"abstract\.[a-z0-9_]+\.year\d\.p", key):
            marker = f"table3.{tail[:-2]}.marker"
            if marker in printed:
                significant = (printed[key] <= MARKER_ALPHA if printed.comparison[key] == "<"
                               else printed.comparison[key] == "=" and printed[key] < MARKER_ALPHA)
                ok = significant == (printed[marker] == 1)
                rows.append(_row(f"restated.{key}", fam, [key, marker], _status(ok),
                                 f"abstract p {printed.value[key]} vs Table 3 marker "
                                 f"{printed.value[marker]} (P<{MARKER_ALPHA:g}): {'agree' if ok else 'differ'}"))
    for m in printed.matching(r"(?:abstract|text|discussion)\.(?P<item>[a-z0-9_]+)\.total\.p"):
        rows.append(_row(f"unverifiable.{m.group(0)}", fam, [m.group(0)], UNDECIDABLE,
                         f"p {printed.value[m.group(0)]} compares groups whose values are not printed in the "
                         f"registered tables (a supplementary table), so nothing here can check it"))
    rows += _disposition_rows(printed)
    rows += _safety_text_rows(printed)
    return _frame(rows)


def _disposition_rows(printed: _Printed) -> list[dict]:
    fam, rows = "cross_artefact", []
    d = "disposition."

    def sum_check(check_id, total_key, part_keys, label):
        if not printed.has(total_key, *part_keys):
            return
        parts = [printed.count(k) for k in part_keys]
        ok = printed.count(total_key) == sum(parts)
        rows.append(_row(check_id, fam, [total_key, *part_keys], _status(ok),
                         f"{' + '.join(map(str, parts))} {'=' if ok else '!='} {printed.count(total_key)} ({label})"))

    sum_check("disposition.completed_plus_discontinued", d + "randomised.total.n",
              [d + "completed.total.n", d + "discontinued.total.n"], "completers + discontinued = randomised")
    sum_check("disposition.discontinued_reasons", d + "discontinued.total.n",
              [d + "discontinued_lack_of_efficacy.total.n", d + "discontinued_adverse_event.total.n"],
              "lack of efficacy + adverse events = discontinued")
    sum_check("disposition.completers_by_arm", d + "completed.total.n",
              [d + "completed.msc.n", d + "completed.msc_ifng.n"], "arms = completers")
    sum_check("disposition.completed_restated", d + "completed.total.n", [d + "completed_restated.total.n"],
              "completer count printed twice")
    sum_check("disposition.safety_population", d + "randomised.total.n", ["table2.n.msc", "table2.n.msc_ifng"],
              "Table 2 arms = randomised")
    for arm in ARMS:
        keys = [f"{t}.n.{arm}" for t in ("table1", "table3", "table4")]
        comp = f"{d}completed.{arm}.n"
        if printed.has(comp, *keys):
            values = [printed.count(k) for k in keys]
            ok = all(v == printed.count(comp) for v in values)
            rows.append(_row(f"disposition.group_size.{arm}", fam, [comp, *keys], _status(ok),
                             f"Tables 1, 3, 4 N = {values}, completers = {printed.count(comp)}"))
    drop_keys = ["table2.n.msc", "table2.n.msc_ifng", d + "completed.msc.n", d + "completed.msc_ifng.n",
                 d + "discontinued.total.n"]
    if printed.has(*drop_keys):
        n1, n2, c1, c2, disc = (printed.count(k) for k in drop_keys)
        ok = (n1 - c1) + (n2 - c2) == disc and n1 >= c1 and n2 >= c2
        rows.append(_row("disposition.dropouts_by_arm", fam, drop_keys, _status(ok),
                         f"dropouts {n1} - {c1} = {n1 - c1} (MSC) + {n2} - {c2} = {n2 - c2} (MSC+IFNG) "
                         f"{'=' if ok else '!='} {disc} discontinued"))
    ifng_keys = ["table2.n.msc_ifng", d + "completed.msc_ifng.n", d + "discontinued_new_autoimmune_no_acr20.msc_ifng.n"]
    if printed.has(*ifng_keys):
        n2, c2, special = (printed.count(k) for k in ifng_keys)
        ok = special <= n2 - c2
        rows.append(_row("disposition.ifng_dropouts", fam, ifng_keys, _status(ok),
                         f"{special} combination-arm dropouts with a new autoimmune disease and no ACR20 "
                         f"{'<=' if ok else '>'} {n2} - {c2} = {n2 - c2} combination-arm dropouts"
                         + (" (so they are all of them)" if ok and special == n2 - c2 else "")))
    fu = [d + "followup_years.total." + s for s in ("min", "mean", "max", "range_max")]
    if printed.has(*fu):
        lo, mean, hi, hi2 = (printed[k] for k in fu)
        ok = lo <= mean <= hi and hi == hi2
        rows.append(_row("disposition.followup_range", fam, fu, _status(ok),
                         f"min {lo:g} <= mean {mean:g} <= max {hi:g}; maximum {hi:g} and range end {hi2:g} "
                         f"{'agree' if hi == hi2 else 'differ'}"))
    py_keys = ["table2.py.msc", "table2.py.msc_ifng", d + "randomised.total.n", d + "followup_years.total.mean",
               d + "completed.total.n", d + "followup_years.total.min", d + "followup_years.total.max"]
    if printed.has(*py_keys):
        py1, py2 = printed[py_keys[0]], printed[py_keys[1]]
        n, mean, comp, lo, hi = (printed[k] for k in py_keys[2:])
        py = py1 + py2
        per_patient = py / n
        ok = prints_as(per_patient, mean, printed.decimals[py_keys[3]]) and comp * lo <= py <= n * hi
        rows.append(_row("disposition.followup_vs_py", fam, py_keys, _status(ok),
                         f"{py1:.2f} + {py2:.2f} = {py:.2f} PY over {n:g} patients = {per_patient:.2f} years "
                         f"{'prints' if prints_as(per_patient, mean, 0) else 'does not print'} as {mean:g}; "
                         f"{comp:g} completers x {lo:g} years = {comp * lo:g} <= {py:.2f} <= {n:g} x {hi:g} = {n * hi:g}"))
    return rows


def _safety_text_rows(printed: _Printed) -> list[dict]:
    fam, rows = "cross_artefact", []
    sae_keys = ["text.sae.total.patients", "table2.sae.msc.events", "table2.sae.msc_ifng.events",
                "discussion.sae_autoimmune.total.patients"]
    if printed.has(*sae_keys):
        patients, e1, e2, auto = (printed.count(k) for k in sae_keys)
        ok = auto <= patients <= e1 + e2
        rows.append(_row("sae_patients.total", fam, sae_keys, _status(ok),
                         f"{auto} patients with a new autoimmune disease <= {patients} patients with an SAE "
                         f"<= {e1} + {e2} = {e1 + e2} SAE events"))
    for arm in ARMS:
        key = f"discussion.sae_noncovid.{arm}.rate"
        parts = [f"table2.sae.{arm}.events", f"table2.sae_pneumonia.{arm}.events", f"table2.py.{arm}"]
        if not printed.has(key, *parts):
            continue
        sae, pneu = printed.count(parts[0]), printed.count(parts[1])
        rate, d = 100 * (sae - pneu) / printed[parts[2]], printed.decimals[key]
        ok = prints_as(rate, printed[key], d)
        rows.append(_row(f"noncovid.{key}", fam, [key, *parts], _status(ok),
                         f"100 x ({sae} SAEs - {pneu} COVID-19 pneumonia)/{printed.value[parts[2]]} PY = "
                         f"{_fmt(rate, d + 2)} {'prints' if ok else 'does not print'} as {printed.value[key]}"))
    for m in printed.matching(r"(?:text|discussion)\.(?P<item>sae_[a-z0-9_]+)\.(?P<arm>msc|msc_ifng)\.patients"):
        key, events_key = m.group(0), f"table2.{m['item']}.{m['arm']}.events"
        if events_key not in printed:
            continue
        patients, events = printed.count(key), printed.count(events_key)
        ok = (events == 0) == (patients == 0) and patients <= events
        rows.append(_row(f"patients_vs_events.{key}", fam, [key, events_key], _status(ok),
                         f"{_plural(patients, 'patient')} {'<=' if ok else 'vs'} {_plural(events, 'event')} in Table 2"
                         + (" (repeat episodes)" if ok and patients < events else "")))
    # pooled event counts are checked in audit_event_rates (``total.<key>``)
    rows += _arm_sum_rows(printed, r"discussion\.(?P<item>sae_[a-z0-9_]+)\.total\.patients", "pooled", fam,
                          lambda key, item, ok, parts: (
                              f"{_plural(printed.count(key), 'patient')} {'=' if ok else '!='} {parts[0]} + {parts[1]} "
                              f"Table 2 events (one event per patient)"))
    auto = ["discussion.sae_autoimmune.total.patients", "discussion.sae_sjogren.total.patients",
            "discussion.sae_sle.total.patients"]
    if printed.has(*auto):
        total, sjogren, sle = (printed.count(k) for k in auto)
        ok = total == sjogren + sle
        rows.append(_row("pooled.discussion.sae_autoimmune.sjogren_plus_sle", fam, auto, _status(ok),
                         f"{sjogren} Sjögren + {sle} SLE {'=' if ok else '!='} {total} new autoimmune diagnoses"))
    dfr = ["text.drug_free_remission.msc_ifng.year5.patients", "table3.das28_remission.msc_ifng.year5.pct",
           "table3.n.msc_ifng"]
    if printed.has(*dfr):
        n = printed.count(dfr[2])
        ks = _reconstruct_count(printed, dfr[1], n)
        patients = printed.count(dfr[0])
        ok = len(ks) == 1 and patients <= ks[0]
        rows.append(_row(f"drug_free.{dfr[0]}", fam, dfr, _status(ok),
                         f"{_plural(patients, 'patient')} in drug-free remission "
                         f"{'<=' if ok else 'exceeds'} {ks[0] if len(ks) == 1 else ks} of {n} in remission at year 5"))
    return rows
