"""Medication exposure intervals consistent with Table 1 (history) and Table 4 (use).

For the completers, the drug classes in use at transplantation and at the year-1, -3 and -5
visits are chosen first, exactly as many as Table 4 prints, by weighted draws: a patient who
used a class at the previous time point is much more likely to keep it, and a patient without
a clinical response (no ACR20, DAS28 above 3.2) is more likely to keep glucocorticoids,
NSAIDs and biologics or to start a tsDMARD, so that tapering happens mostly among responders
and in the protocol's order (glucocorticoids, then NSAIDs, then csDMARDs). bDMARDs and
tsDMARDs are never combined; tsDMARDs start only after their approval in China.

The states then become intervals: starts before transplantation follow the Table 1 history
flags (a class ever used before; stopped before transplantation when not in use at
baseline), stops and starts fall between the time points, away from the visit dates.
Dropouts get the same story without published counts.
"""
from __future__ import annotations

import datetime as dt

import numpy as np

from analysis.synthetic import design
from analysis.synthetic.baseline import BaselineTable
from analysis.synthetic.schedule import GenerationError, Patient
from analysis.synthetic.targets import YEARS, Targets

CLASSES = ("csDMARD", "bDMARD", "tsDMARD", "PREDNISONE", "NSAID")
#: Where in the interval between two time points a change happens (share of the interval):
#: glucocorticoids are tapered first, then NSAIDs, then csDMARDs; a switch from a bDMARD to
#: a tsDMARD stops the bDMARD first.
STOP_WINDOW = {"PREDNISONE": (0.05, 0.35), "NSAID": (0.4, 0.65), "csDMARD": (0.7, 0.92),
               "bDMARD": (0.1, 0.45), "tsDMARD": (0.1, 0.45)}
START_WINDOW = {"PREDNISONE": (0.2, 0.8), "NSAID": (0.2, 0.8), "bDMARD": (0.15, 0.5),
                "tsDMARD": (0.5, 0.9), "csDMARD": (0.2, 0.8)}


def _pick(rng, k: int, weights: np.ndarray, forced_in: np.ndarray, forced_out: np.ndarray) -> np.ndarray:
    """Boolean mask of exactly ``k`` users: ``forced_in`` first, then weighted draws."""
    n = len(weights)
    chosen = forced_in.copy()
    need = k - int(chosen.sum())
    pool = ~chosen & ~forced_out & (weights > 0)
    if need < 0 or need > int(pool.sum()):
        raise GenerationError(f"cannot choose {k} users ({int(chosen.sum())} forced, {int(pool.sum())} eligible)")
    keys = np.full(n, -np.inf)
    keys[pool] = np.log(rng.random(int(pool.sum()))) / weights[pool]
    if need:
        chosen[np.argsort(-keys, kind="stable")[:need]] = True
    return chosen


def _completer_states(rng, group: list[Patient], bl: BaselineTable, response: dict, targets: Targets,
                      arm: str) -> dict[str, np.ndarray]:
    """State matrices (patients x [baseline, year1, year3, year5]) per class, Table 4 counts."""
    n = len(group)
    idx = np.array([p.index for p in group])
    role = np.array([p.role for p in group])
    free, mono = role == "drug_free", role == "b_mono"
    none = np.zeros(n, dtype=bool)
    states = {c: np.zeros((n, 4), dtype=bool) for c in CLASSES}
    # csDMARDs: everybody at baseline; off later only for the two narrative patients
    states["csDMARD"][:, 0] = True
    for t, year in enumerate(YEARS, start=1):
        states["csDMARD"][:, t] = _pick(rng, targets.users("csdmard", arm, year), np.ones(n), none, free | mono)
    if targets.users("csdmard", arm, "baseline") != n:
        raise GenerationError("the generator assumes every completer uses a csDMARD at baseline")
    # baseline use among those with a history of the class
    states["bDMARD"][:, 0] = _pick(rng, targets.users("bdmard", arm, "baseline"), bl.hx_bdmard[idx].astype(float),
                                   mono, none)
    states["PREDNISONE"][:, 0] = _pick(rng, targets.users("prednisone", arm, "baseline"),
                                       bl.hx_pred[idx].astype(float), none, none)
    states["NSAID"][:, 0] = (rng.random(n) < 0.88) | free
    if targets.users("tsdmard", arm, "baseline") != 0:
        raise GenerationError("tsDMARDs were not available at transplantation")
    for t, year in enumerate(YEARS, start=1):
        poor = response[year]  # 0 (deep response) .. 1 (no response)
        date_ok = np.array([p.date_of(YEARS[year]) >= design.TSDMARD_APPROVAL + dt.timedelta(days=60)
                            for p in group])
        prev = {c: states[c][:, t - 1] for c in CLASSES}
        w_ts = np.where(prev["tsDMARD"], 40.0, 0.5 + 4.0 * poor) * date_ok
        states["tsDMARD"][:, t] = _pick(rng, targets.users("tsdmard", arm, year), w_ts, none, free | mono)
        w_b = np.where(prev["bDMARD"], 12.0 * (1 + poor), 0.1 * (1 + 3 * poor))
        states["bDMARD"][:, t] = _pick(rng, targets.users("bdmard", arm, year), w_b, mono,
                                       free | states["tsDMARD"][:, t])
        w_p = np.where(prev["PREDNISONE"], 8.0 * (1 + 3 * poor), 0.15 * (1 + 3 * poor))
        states["PREDNISONE"][:, t] = _pick(rng, targets.users("prednisone", arm, year), w_p, none, free)
        # NSAIDs (no published counts): stopped mostly by responders off glucocorticoids
        keep = np.where(states["PREDNISONE"][:, t], 0.95, 0.55 + 0.4 * poor)
        states["NSAID"][:, t] = np.where(prev["NSAID"], rng.random(n) < keep, rng.random(n) < 0.05) & ~free
    return states


def _dropout_states(rng, p: Patient, bl: BaselineTable, anchors: list[dt.date]) -> dict[str, np.ndarray]:
    """States at baseline and the year visits a dropout reached (no published counts)."""
    i, k = p.index, len(anchors)
    s = {c: np.zeros(k, dtype=bool) for c in CLASSES}
    s["csDMARD"][:] = True
    s["bDMARD"][0] = bl.hx_bdmard[i] and rng.random() < 0.9
    s["PREDNISONE"][0] = bl.hx_pred[i] and rng.random() < 0.95
    s["NSAID"][0] = rng.random() < 0.9
    for t in range(1, k):
        s["bDMARD"][t] = s["bDMARD"][t - 1] or rng.random() < 0.1
        s["PREDNISONE"][t] = s["PREDNISONE"][t - 1] and rng.random() < 0.8
        s["NSAID"][t] = s["NSAID"][t - 1] and rng.random() < 0.9
        if anchors[t] >= design.TSDMARD_APPROVAL + dt.timedelta(days=60) and not s["bDMARD"][t]:
            s["tsDMARD"][t] = s["tsDMARD"][t - 1] or rng.random() < 0.15
    return s


def _date_between(rng, a: dt.date, b: dt.date, window: tuple[float, float], margin: int = 20) -> dt.date:
    span = (b - a).days - 2 * margin
    if span < 2:
        raise GenerationError(f"no room for a medication change between {a} and {b}")
    share = rng.uniform(*window)
    return a + dt.timedelta(days=margin + int(round(share * span)))


def _drug(rng, cmclass: str) -> str:
    names = design.DRUGS[cmclass]
    weights = np.array([0.6 if j == 0 else 0.4 / max(1, len(names) - 1) for j in range(len(names))])
    return str(rng.choice(names, p=weights / weights.sum()))


def _intervals(rng, p: Patient, bl: BaselineTable, anchors: list[dt.date], states: dict[str, np.ndarray]
               ) -> list[dict]:
    """Exposure intervals of one patient from the states at the anchor dates."""
    i = p.index
    t0 = p.trtsdt
    diagnosis = t0 - dt.timedelta(days=int(round(bl.radury[i] * 36.525)))
    rows = []
    history = {"csDMARD": True, "bDMARD": bool(bl.hx_bdmard[i]), "PREDNISONE": bool(bl.hx_pred[i]),
               "NSAID": True, "tsDMARD": False}
    for cmclass in CLASSES:
        s = states[cmclass]
        if s[0] and not history[cmclass]:
            raise GenerationError(f"{p.usubjid}: {cmclass} in use at baseline without history")
        drug = _drug(rng, cmclass)
        spans: list[list] = []  # [start, end or None, name]
        # csDMARDs from diagnosis; NSAIDs may come first; a biologic only after csDMARDs failed
        earliest = diagnosis + dt.timedelta(days={"csDMARD": 0, "NSAID": -120, "PREDNISONE": 0,
                                                  "bDMARD": 270, "tsDMARD": 0}[cmclass])
        start = earliest + dt.timedelta(days=int(rng.integers(0, 60 if cmclass == "csDMARD" else 120)))
        if history[cmclass] and not s[0]:
            # used before, stopped before transplantation
            start = min(start, t0 - dt.timedelta(days=150))
            end = start + dt.timedelta(days=int(rng.integers(60, max(61, (t0 - start).days - 30))))
            spans.append([start, end, drug])
        elif s[0]:
            spans.append([min(start, t0 - dt.timedelta(days=60)), None, drug])
        for t in range(1, len(anchors)):
            a, b = anchors[t - 1], anchors[t]
            if s[t - 1] and not s[t]:
                spans[-1][1] = _date_between(rng, a, b, STOP_WINDOW[cmclass])
            elif s[t] and not s[t - 1]:
                if cmclass == "tsDMARD":  # only after approval, in the rest of the interval
                    a = max(a, design.TSDMARD_APPROVAL - dt.timedelta(days=20))
                start = _date_between(rng, a, b, START_WINDOW[cmclass])
                name = drug if cmclass != "bDMARD" or rng.random() < 0.5 else _drug(rng, cmclass)
                spans.append([start, None, name])
        # a second csDMARD in combination for a third of the patients (same fate as the first)
        if cmclass == "csDMARD" and rng.random() < 0.35:
            second = str(rng.choice([d for d in design.DRUGS["csDMARD"] if d != drug]))
            start0 = spans[0][0] + dt.timedelta(days=int(rng.integers(90, 400)))
            if start0 < t0 - dt.timedelta(days=30):
                spans.append([start0, spans[0][1], second])
        for start, end, name in spans:
            rows.append({"USUBJID": p.usubjid, "CMCLASS": cmclass, "CMDECOD": name, "CMSTDT": start, "CMENDT": end})
    return rows


def _poor_response(visit: dict) -> float:
    """0 for a deep response (ACR70 or remission) up to 1 for no response, from the visit's
    planned ACR level and DAS28 category."""
    level = visit["acr"]
    cat = visit["cat"]
    return float(np.clip(1.0 - level / 70.0 - (0.3 if cat <= 1 else 0.0), 0.0, 1.0))


def build_medications(rng: np.random.Generator, patients: list[Patient], bl: BaselineTable,
                      responses: dict[int, dict[int, dict]], targets: Targets) -> list[dict]:
    """Every exposure interval. ``responses[i][month]`` holds ``acr`` and ``cat`` of a visit."""
    # the patient kept on a bDMARD alone must have used one before and at transplantation
    for arm in ("MSC", "MSC+IFNG"):
        mono = [p for p in patients if p.arm == arm and p.role == "b_mono"]
        for p in mono:
            if not bl.hx_bdmard[p.index]:
                donor = next(q for q in patients if q.arm == arm and q.completer and q.role == "completer"
                             and bl.hx_bdmard[q.index])
                bl.hx_bdmard[p.index], bl.hx_bdmard[donor.index] = True, False
    rows = []
    states_of: dict[int, tuple[list, dict]] = {}
    for arm in ("MSC", "MSC+IFNG"):
        group = [p for p in patients if p.arm == arm and p.completer]
        response = {year: np.array([_poor_response(responses[p.index][m]) for p in group])
                    for year, m in YEARS.items()}
        states = _completer_states(rng, group, bl, response, targets, arm)
        for j, p in enumerate(group):
            anchors = [p.trtsdt] + [p.date_of(m) for m in YEARS.values()]
            states_of[p.index] = (anchors, {c: s[j] for c, s in states.items()})
    for p in patients:
        if p.completer:
            anchors, states = states_of[p.index]
        else:
            anchors = [p.trtsdt] + [p.date_of(m) for m in YEARS.values() if p.date_of(m) is not None]
            states = _dropout_states(rng, p, bl, anchors)
        rows += _intervals(rng, p, bl, anchors, states)
    return rows
