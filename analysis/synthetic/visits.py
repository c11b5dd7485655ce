"""Visit measurements: joint counts, ESR, CRP, VAS and HAQ-DI categories at every visit.

Construction, per arm and efficacy year (months 12, 36, 60), for the completers:

1. Every completer has a latent responsiveness (shared by the three years, plus a little
   year-specific noise), so responders stay responders (durable response).
2. HAQ-DI changes (in 1/8 steps) are drawn along that latent and moved until their mean and SD
   print as Table 3's.
3. DAS28-ESR at the visit: natural values along the latent, the published numbers of patients
   in remission and low disease activity taken by rank, and the values then adjusted within
   their category so that the change from baseline has Table 3's mean and SD.
4. ACR level (none, 20, 50, 70) by rank of the improvement, with Table 3's counts.
5. Each patient's four DAS28 components are solved so that the score is the planned one, with
   a mix of improvements that makes the planned ACR level reachable; then the measures that
   only the ACR uses (joints outside the 28, physician's global, pain) are chosen, nearest to
   their natural values, so that the ACR level is exactly the planned one.
6. Whole-mm changes of the patient's global assessment (and whole mm/h of ESR) bring the mean
   and SD of the DAS28 change inside the printed windows, never changing a category or an ACR
   level.

Other visits interpolate between these anchors with noise: improvement builds up over months
1, 3 and 6, then holds. Dropouts get anchors from simple non-response (or, for the two
narrative adverse-event dropouts, ordinary response) profiles. CRP follows ESR.
"""
from __future__ import annotations

import numpy as np
from scipy import optimize

from analysis.endpoints import compute_acr_response, compute_das28_esr, is_das28_lda, is_das28_remission
from analysis.synthetic.assumptions import Assumptions
from analysis.synthetic.baseline import BaselineTable, haq_categories
from analysis.synthetic.moments import CombinedMoves, LatticeMoves, tune_moments
from analysis.synthetic.schedule import GenerationError, Patient
from analysis.synthetic.targets import YEARS, Targets

#: The measures of a visit that the generator constructs (HAQ as the sum of 8 categories).
COMPONENTS = ("tjc28", "sjc28", "xtjc", "xsjc", "esr", "ptga", "phga", "pain", "haq")
#: Category codes: 0 remission, 1 low disease activity (not remission), 2 above 3.2.
REM, LDA, ACTIVE = 0, 1, 2
#: Planned DAS28 values keep this distance from the cut-offs 2.6 and 3.2.
BANDS = {REM: (1.75, 2.55), LDA: (2.65, 3.15), ACTIVE: (3.25, 7.5)}
#: SD of the per-patient, per-measure offsets added to the latent responsiveness, the same every
#: year (so HAQ-DI, DAS28 and ACR do not rank patients identically); scaled by
#: ``Assumptions.measure_discordance``. The year-specific noise is ``Assumptions.year_noise``.
NOISE = {"haq": 0.5, "das28": 0.25, "acr": 0.25}
ACR_NEXT = {0: 20, 20: 50, 50: 70, 70: np.inf}
ESR_MIN = 3
#: Follow-up VAS values stay at or below this, and at most VAS_WORSENING mm above baseline.
VAS_MAX = 95
VAS_WORSENING = 12


# ----------------------------------------------------------------------------- scores
def das28(t, s, e, g) -> np.ndarray:
    """DAS28-ESR through the analysis package (the generator never re-implements it)."""
    return np.asarray(compute_das28_esr(np.asarray(t), np.asarray(s), np.asarray(e), np.asarray(g)),
                      dtype=float)


def category(das) -> np.ndarray:
    """0 remission, 1 low disease activity, 2 moderate/high, as the analysis classifies."""
    das = np.atleast_1d(np.asarray(das, dtype=float))
    rem = np.asarray(is_das28_remission(das), dtype=bool)
    lda = np.asarray(is_das28_lda(das), dtype=bool)
    return np.where(rem, REM, np.where(lda, LDA, ACTIVE))


def _improvement(base, current) -> np.ndarray:
    """Percent improvement, rounded to 6 decimals as the ACR comparison does."""
    base = np.asarray(base, dtype=float)
    current = np.asarray(current, dtype=float)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.round(np.where(base == 0, np.nan, 100.0 * (base - current) / base), 6)


def acr_level_fast(base: dict, cur: dict) -> np.ndarray:
    """ACR level (0, 20, 50, 70) for arrays of visits; used inside searches, where the
    analysis function's overhead would dominate. Final values are checked with
    :func:`acr_level` (the analysis package)."""
    it = _improvement(base["tjc68"], cur["tjc68"])
    is_ = _improvement(base["sjc66"], cur["sjc66"])
    core = [_improvement(base[k], cur[k]) for k in ("ptga", "phga", "pain", "haqdi", "esr")]
    level = np.zeros(np.broadcast(it, is_, *core).shape, dtype=int)
    with np.errstate(invalid="ignore"):
        for lv in (20, 50, 70):
            n_core = sum((c >= lv).astype(int) for c in core)
            level = np.where((it >= lv) & (is_ >= lv) & (n_core >= 3), lv, level)
    return level


def acr_level(base: dict, cur: dict) -> np.ndarray:
    """ACR level computed by :func:`analysis.endpoints.compute_acr_response`."""
    names = {"tjc68": "TJC68", "sjc66": "SJC66", "ptga": "PTGA", "phga": "PHGA", "pain": "PAIN",
             "haqdi": "HAQDI", "esr": "ESR"}
    b = {names[k]: np.asarray(v, dtype=float) for k, v in base.items()}
    c = {names[k]: np.asarray(v, dtype=float) for k, v in cur.items()}
    level = np.zeros(len(np.atleast_1d(c["TJC68"])), dtype=int)
    for lv in (20, 50, 70):
        flag = np.asarray(compute_acr_response(b, c, level=lv), dtype=bool)
        level = np.where(flag, lv, level)
    return level


def acr_inputs(bl: BaselineTable, i, comps: dict) -> tuple[dict, dict]:
    base = {"tjc68": bl.tjc28[i] + bl.xtjc[i], "sjc66": bl.sjc28[i] + bl.xsjc[i], "ptga": bl.ptga[i],
            "phga": bl.phga[i], "pain": bl.pain[i], "haqdi": bl.haq[i] / 8.0, "esr": bl.esr[i]}
    cur = {"tjc68": comps["tjc28"] + comps["xtjc"], "sjc66": comps["sjc28"] + comps["xsjc"],
           "ptga": comps["ptga"], "phga": comps["phga"], "pain": comps["pain"],
           "haqdi": np.asarray(comps["haq"]) / 8.0, "esr": comps["esr"]}
    return base, cur


def _standardise(x: np.ndarray) -> np.ndarray:
    sd = x.std(ddof=1)
    return (x - x.mean()) / (sd if sd > 0 else 1.0)


# ----------------------------------------------------------------------------- planning
def _plan_categories(n_rem: int, n_lda: int, c0: np.ndarray, forced_rem: np.ndarray) -> np.ndarray:
    """Lowest planned DAS28 values take remission, the next ones low activity."""
    key = np.where(forced_rem, -np.inf, c0)
    order = np.argsort(key, kind="stable")
    cat = np.full(len(c0), ACTIVE)
    cat[order[:n_rem]] = REM
    cat[order[n_rem:n_lda]] = LDA
    return cat


def _solve_das_targets(c0, b, cat, mean, sd) -> np.ndarray:
    """DAS28 values nearest to ``c0`` inside their category bands whose change from
    baseline ``b`` has the given mean and SD (ddof = 1)."""
    low = np.array([BANDS[k][0] for k in cat])
    high = np.array([min(BANDS[k][1], bb + 0.8) if k == ACTIVE else BANDS[k][1] for k, bb in zip(cat, b)])
    high = np.maximum(high, low + 0.05)
    x0 = np.clip(c0, low, high)
    n = len(b)
    def sd_jac(c):
        d = c - b
        return (d - d.mean()) / ((n - 1) * max(np.std(d, ddof=1), 1e-9))

    cons = [{"type": "eq", "fun": lambda c: np.mean(c - b) - mean, "jac": lambda c: np.full(n, 1.0 / n)},
            {"type": "eq", "fun": lambda c: np.std(c - b, ddof=1) - sd, "jac": sd_jac}]
    res = optimize.minimize(lambda c: np.sum((c - c0) ** 2), x0, jac=lambda c: 2 * (c - c0),
                            bounds=list(zip(low, high)), constraints=cons, method="SLSQP",
                            options={"maxiter": 500, "ftol": 1e-10})
    c = np.clip(res.x, low, high)
    if abs(np.mean(c - b) - mean) > 0.01 or abs(np.std(c - b, ddof=1) - sd) > 0.01:
        raise GenerationError(f"DAS28 plan: no values in their categories have change {mean} (SD {sd})"
                              f" for n = {n}")
    return c


def _plan_levels(counts: dict[int, int], score: np.ndarray) -> np.ndarray:
    """ACR level by rank of ``score``: the highest ``counts[70]`` get 70, and so on."""
    order = np.argsort(-score, kind="stable")
    level = np.zeros(len(score), dtype=int)
    level[order[: counts[20]]] = 20
    level[order[: counts[50]]] = 50
    level[order[: counts[70]]] = 70
    return level


# ----------------------------------------------------------------------------- realising
def _components_at(bl: BaselineTable, i: np.ndarray, g: np.ndarray, delta: np.ndarray) -> dict:
    """Continuous DAS28 components for improvement ``g`` (+ per-component offsets)."""
    f = np.clip(g[:, None] + delta, -1.0, 0.97)
    return {"tjc28": np.clip(bl.tjc28[i] * (1 - f[:, 0]), 0, 28),
            "sjc28": np.clip(bl.sjc28[i] * (1 - f[:, 1]), 0, 28),
            "esr": np.maximum(ESR_MIN, bl.esr[i] * (1 - f[:, 2])),
            "ptga": np.clip(bl.ptga[i] * (1 - f[:, 3]), 0, np.minimum(VAS_MAX, bl.ptga[i] + VAS_WORSENING))}


def _solve_g(bl, i, c, delta) -> np.ndarray:
    lo, hi = np.full(len(i), -1.5), np.full(len(i), 1.2)
    for _ in range(50):
        mid = (lo + hi) / 2
        x = _components_at(bl, i, mid, delta)
        d = 0.56 * np.sqrt(x["tjc28"]) + 0.28 * np.sqrt(x["sjc28"]) + 0.70 * np.log(x["esr"]) + 0.014 * x["ptga"]
        more = d > c
        lo = np.where(more, mid, lo)
        hi = np.where(more, hi, mid)
    return (lo + hi) / 2


def _round_components(bl, i, c, cat, g, delta) -> tuple[dict, np.ndarray]:
    """Whole-number components nearest the planned score, in the planned category; returns
    them and a mask of the patients for which that worked."""
    x = _components_at(bl, i, g, delta)
    t = np.clip(np.round(x["tjc28"]), 0, 28).astype(int)
    s = np.clip(np.round(x["sjc28"]), 0, 28).astype(int)
    e = np.maximum(ESR_MIN, np.round(x["esr"])).astype(int)
    g0 = np.clip(np.round(x["ptga"]), 0, 100).astype(int)
    shifts = np.arange(-10, 11)
    cand = np.clip(g0[:, None] + shifts[None, :], 0, np.minimum(VAS_MAX, bl.ptga[i] + VAS_WORSENING)[:, None])
    d = das28(np.repeat(t, len(shifts)), np.repeat(s, len(shifts)), np.repeat(e, len(shifts)),
              cand.ravel()).reshape(cand.shape)
    good = category(d.ravel()).reshape(cand.shape) == cat[:, None]
    cost = np.where(good, np.abs(d - c[:, None]) + 0.002 * np.abs(shifts)[None, :], np.inf)
    best = np.argmin(cost, axis=1)
    ok = np.isfinite(cost[np.arange(len(i)), best]) & (cost[np.arange(len(i)), best] < 0.12)
    return {"tjc28": t, "sjc28": s, "esr": e, "ptga": cand[np.arange(len(i)), best]}, ok


def _acr_room(bl, i, comps, haq, level) -> np.ndarray:
    """Whether the ACR level is reachable by choosing the ACR-only measures.

    With PHGA and pain free, the third-best core-set improvement can be anything between the
    worst and the best of PTGA, ESR and HAQ-DI; joints outside the 28 can lower the joint
    improvements down to their baseline number plus two. The level is reachable when the best
    achievable ACR score reaches it and the worst stays below the next level."""
    t68b = bl.tjc28[i] + bl.xtjc[i]
    s66b = bl.sjc28[i] + bl.xsjc[i]
    it_max, is_max = _improvement(t68b, comps["tjc28"]), _improvement(s66b, comps["sjc28"])
    it_min = _improvement(t68b, comps["tjc28"] + bl.xtjc[i] + 2)
    is_min = _improvement(s66b, comps["sjc28"] + bl.xsjc[i] + 2)
    h = np.vstack([_improvement(bl.ptga[i], comps["ptga"]), _improvement(bl.esr[i], comps["esr"]),
                   _improvement(bl.haq[i] / 8.0, haq / 8.0)])
    s_max = np.minimum.reduce([it_max, is_max, h.max(axis=0)])
    s_min = np.minimum.reduce([it_min, is_min, h.min(axis=0)])
    nxt = np.array([ACR_NEXT.get(int(lv), np.inf) for lv in level], dtype=float)
    free = level < 0
    up = free | (level == 0) | (s_max >= level)
    down = free | (s_min < nxt)
    return up & down


def _choose_acr_measures(rng, bl, i: int, comps: dict, level: int, g: float) -> dict | None:
    """Joints outside the 28, PHGA and PAIN nearest their natural values such that the ACR
    level is ``level`` (any level when ``level`` < 0)."""
    f = float(np.clip(g, -0.5, 0.95))
    x_nat = bl.xtjc[i] * (1 - f) + rng.normal(0, 0.7)
    y_nat = bl.xsjc[i] * (1 - f) + rng.normal(0, 0.5)
    # the physician's global follows the joints; pain follows the patient's own global
    joints = (comps["tjc28"] + comps["sjc28"] + 1) / (bl.tjc28[i] + bl.sjc28[i] + 1)
    p_nat = bl.phga[i] * (0.5 * (1 - np.clip(f + rng.normal(0, 0.08), -0.5, 0.95)) + 0.5 * joints)
    q_nat = bl.pain[i] * (0.4 * (1 - np.clip(f + rng.normal(0, 0.1), -0.5, 0.95))
                          + 0.6 * comps["ptga"] / bl.ptga[i])
    if level < 0:
        return {"xtjc": int(max(0, round(x_nat))), "xsjc": int(max(0, round(y_nat))),
                "phga": int(np.clip(round(p_nat), 0, min(VAS_MAX, bl.phga[i] + VAS_WORSENING))),
                "pain": int(np.clip(round(q_nat), 0, min(VAS_MAX, bl.pain[i] + VAS_WORSENING)))}
    xs = np.arange(0, bl.xtjc[i] + 3)
    ys = np.arange(0, bl.xsjc[i] + 3)
    ps = np.unique(np.clip(np.round(p_nat + np.arange(-40, 41, 2)), 0,
                           min(VAS_MAX, bl.phga[i] + VAS_WORSENING))).astype(int)
    qs = np.unique(np.clip(np.round(q_nat + np.arange(-40, 41, 2)), 0,
                           min(VAS_MAX, bl.pain[i] + VAS_WORSENING))).astype(int)
    X, Y, P, Q = (a.ravel() for a in np.meshgrid(xs, ys, ps, qs, indexing="ij"))
    base, _ = acr_inputs(bl, i, {k: comps[k] for k in ("tjc28", "sjc28", "esr", "ptga", "haq")}
                          | {"xtjc": 0, "xsjc": 0, "phga": 0, "pain": 0})
    cur = {"tjc68": comps["tjc28"] + X, "sjc66": comps["sjc28"] + Y, "ptga": comps["ptga"], "phga": P,
           "pain": Q, "haqdi": comps["haq"] / 8.0, "esr": comps["esr"]}
    lv = acr_level_fast(base, cur)
    cost = ((X - x_nat) / 1.2) ** 2 + ((Y - y_nat) / 0.9) ** 2 + ((P - p_nat) / 7) ** 2 + ((Q - q_nat) / 7) ** 2
    cost = np.where(lv == level, cost, np.inf)
    k = int(np.argmin(cost))
    if not np.isfinite(cost[k]):
        return None
    return {"xtjc": int(X[k]), "xsjc": int(Y[k]), "phga": int(P[k]), "pain": int(Q[k])}


def realise(rng, bl: BaselineTable, idx: np.ndarray, c: np.ndarray, cat: np.ndarray, level: np.ndarray,
            haq: np.ndarray, delta0: np.ndarray) -> tuple[dict, np.ndarray]:
    """Components of one visit for patients ``idx`` with planned DAS28 ``c`` (category
    ``cat``), ACR level (``-1`` = free) and HAQ sum. Returns the components and a mask of
    patients that could not be realised."""
    n = len(idx)
    out = {k: np.zeros(n, dtype=int) for k in COMPONENTS}
    out["haq"] = haq.astype(int).copy()
    todo = np.arange(n)
    for attempt in range(60):
        if len(todo) == 0:
            break
        spread = 0.06 + 0.01 * attempt
        delta = delta0[todo] + rng.normal(0, spread, (len(todo), 4))
        sub = idx[todo]
        g = _solve_g(bl, sub, c[todo], delta)
        comps, ok = _round_components(bl, sub, c[todo], cat[todo], g, delta)
        comps["haq"] = haq[todo]
        ok &= _acr_room(bl, sub, comps, haq[todo], level[todo])
        done = []
        for j in np.flatnonzero(ok):
            k = todo[j]
            one = {key: comps[key][j] for key in ("tjc28", "sjc28", "esr", "ptga", "haq")}
            extra = _choose_acr_measures(rng, bl, idx[k], one, int(level[k]), float(g[j]))
            if extra is None:
                continue
            for key, value in (one | extra).items():
                out[key][k] = value
            done.append(k)
        todo = np.setdiff1d(todo, done)
    failed = np.zeros(n, dtype=bool)
    failed[todo] = True
    return out, failed


# ----------------------------------------------------------------------------- the year plan
def _tune_das_change(rng, bl, idx, comps, cat, level, mean, sd, label) -> None:
    """Whole-mm PTGA and whole-mm/h ESR moves until the DAS28 change prints as published."""
    b = bl.das28(idx)
    g_nat, e_nat = comps["ptga"].copy(), comps["esr"].copy()

    def value(g=None, e=None):
        return das28(comps["tjc28"], comps["sjc28"], comps["esr"] if e is None else e,
                     comps["ptga"] if g is None else g) - b

    def allowed_with(g, e):
        d = das28(comps["tjc28"], comps["sjc28"], e, g)
        trial = dict(comps, ptga=g, esr=e)
        base, cur = acr_inputs(bl, idx, trial)
        return (category(d) == cat) & (acr_level_fast(base, cur) == level)

    g_max = np.minimum(VAS_MAX, bl.ptga[idx] + VAS_WORSENING)
    ptga_moves = LatticeMoves(comps["ptga"], lambda g: value(g=g), np.maximum(0, g_nat - 8),
                              np.minimum(g_max, g_nat + 8), lambda g: allowed_with(g, comps["esr"]))
    esr_moves = LatticeMoves(comps["esr"], lambda e: value(e=e), np.maximum(ESR_MIN, (0.75 * e_nat).astype(int)),
                             (1.3 * e_nat + 2).astype(int), lambda e: allowed_with(comps["ptga"], e))
    tune_moments(CombinedMoves(ptga_moves, esr_moves, values=value), mean, sd, rng, label=label)


def _tune_haq_change(rng, bl, idx, haq, mean, sd, label) -> None:
    hb = bl.haq[idx]
    moves = LatticeMoves(haq, lambda h: (h - hb) / 8.0, np.maximum(0, hb - 22), np.minimum(24, hb + 3))
    tune_moments(moves, mean, sd, rng, label=label)


def plan_completer_year(rng, bl: BaselineTable, idx: np.ndarray, u: np.ndarray, own: dict[str, np.ndarray],
                        delta0: np.ndarray, forced_rem: np.ndarray, targets: Targets, arm: str, year: str) -> dict:
    """Anchor visit of every completer of ``arm`` at ``year`` (components, category, level).

    ``u`` is the year's latent responsiveness; ``own`` holds each patient's persistent
    measure-specific offsets (``haq``, ``das28``, ``acr``), the same in every year."""
    b = bl.das28(idx)
    # HAQ-DI change (1/8 steps) along the latent responsiveness
    h_mean, h_sd = targets.change_moments("delta_haq_di", arm, year)
    dh = h_mean.value - h_sd.value * _standardise(u + NOISE['haq'] * own['haq'])
    haq = np.clip(np.round(bl.haq[idx] + 8 * dh), np.maximum(0, bl.haq[idx] - 22),
                  np.minimum(24, bl.haq[idx] + 3)).astype(int)
    _tune_haq_change(rng, bl, idx, haq, h_mean, h_sd, f"table3.delta_haq_di.{arm}.{year}")
    # DAS28: natural values, categories by rank, then exact change moments within categories
    d_mean, d_sd = targets.change_moments("delta_das28_esr", arm, year)
    score = _standardise(u + NOISE['das28'] * own['das28'])
    c0 = b + d_mean.value + d_sd.value * (-0.3 * _standardise(b) - 0.95 * score)
    n_rem = targets.responders("das28_remission", arm, year)
    n_lda = targets.responders("das28_lda", arm, year)
    cat = _plan_categories(n_rem, n_lda, c0, forced_rem)
    c = _solve_das_targets(c0, b, cat, d_mean.value, d_sd.value)
    # ACR levels by rank of improvement (plus HAQ change), categories favoured
    counts = {lv: targets.responders(f"acr{lv}", arm, year) for lv in (20, 50, 70)}
    a_score = (0.75 * _standardise(b - c) + 0.25 * _standardise(-(haq - bl.haq[idx]))
               + NOISE['acr'] * own['acr'] + np.select([cat == REM, cat == LDA], [1.5, 0.8], 0.0))
    level = _plan_levels(counts, a_score)
    comps, failed = realise(rng, bl, idx, c, cat, level, haq, delta0)
    for _swap in range(40):
        if not failed.any():
            break
        k = int(np.flatnonzero(failed)[0])
        # swap the ACR level with the patient of another level nearest in planned improvement
        others = np.flatnonzero(level != level[k])
        j = int(others[np.argmin(np.abs((b - c)[others] - (b - c)[k]))])
        level[[k, j]] = level[[j, k]]
        pair = np.array([k, j])
        sub, sub_failed = realise(rng, bl, idx[pair], c[pair], cat[pair], level[pair], haq[pair], delta0[pair])
        for key in COMPONENTS:
            comps[key][pair] = sub[key]
        failed[pair] = sub_failed
    if failed.any():
        raise GenerationError(f"{arm} {year}: visits of {int(failed.sum())} completers cannot be realised")
    _tune_das_change(rng, bl, idx, comps, cat, level, d_mean, d_sd, f"table3.delta_das28_esr.{arm}.{year}")
    return {"comps": comps, "cat": cat, "level": level}


# ----------------------------------------------------------------------------- all visits
def _dropout_anchors(rng, bl: BaselineTable, p: Patient, delta0: np.ndarray) -> dict[int, dict]:
    """Anchor visits of a dropout: month 12, (36), and the last visit."""
    i = p.index
    b = float(bl.das28([i])[0])
    months = [m for m in (12, 36) if m < p.months[-1]] + [p.months[-1]]
    anchors = {}
    for m in months:
        for _try in range(30):
            if p.role == "lack_of_efficacy":
                change = rng.normal(-0.55, 0.4) if m == 12 else rng.normal(-0.2, 0.35)
                level = 20 if (m == 12 and rng.random() < 0.25) else 0
            elif p.role in ("sjogren", "sle"):
                change, level = rng.normal(-0.6, 0.35) if m == 12 else rng.normal(-0.35, 0.35), 0
            else:  # adverse-event dropouts whose RA responded like other monotherapy patients
                change, level = rng.normal(-1.4, 0.6), -1
            c = b + change
            if level >= 0:
                c = max(c, BANDS[ACTIVE][0] + 0.1)
            cat = int(category([c])[0])
            lo, hi = BANDS[cat]
            c = float(np.clip(c, lo, hi))
            dh = 0.3 * change + rng.normal(0, 0.12)
            haq = int(np.clip(round(bl.haq[i] + 8 * dh), 0, 24))
            comps, failed = realise(rng, bl, np.array([i]), np.array([c]), np.array([cat]), np.array([level]),
                                    np.array([haq]), delta0[[i]])
            if not failed[0]:
                break
        else:
            raise GenerationError(f"{p.usubjid}: month-{m} visit cannot be realised")
        anchors[m] = {k: int(v[0]) for k, v in comps.items()}
    return anchors


def _status(bl: BaselineTable, i: int, v: dict) -> tuple[int, int]:
    """(ACR level, DAS28 category) of one visit of patient ``i``."""
    one = {k: np.array([v[k]]) for k in COMPONENTS}
    base, cur = acr_inputs(bl, i, one)
    return int(acr_level_fast(base, cur)[0]), int(category(das28(v["tjc28"], v["sjc28"], v["esr"], v["ptga"]))[0])


#: Visit-to-visit noise of the interpolated measures (SD; ESR is multiplied by a log-normal).
INTERIM_NOISE = {"tjc28": 0.8, "sjc28": 0.6, "xtjc": 0.5, "xsjc": 0.4, "ptga": 5, "phga": 5, "pain": 5,
                 "haq": 0.7, "esr": 0.12}
#: Share of the year-1 improvement reached at months 1, 3 and 6.
RAMP = {1: 0.35, 3: 0.7, 6: 0.92}


def _interpolate(rng, bl: BaselineTable, p: Patient, anchors: dict[int, dict],
                 variability: float = 1.0) -> dict[int, dict]:
    """Every visit of ``p``: anchors as planned, other visits between them with noise.

    A visit between two anchors keeps its ACR level and DAS28 category between theirs (after
    the last anchor: equal to it; before the first: not better than it), so responses do not
    flicker in and out at the visits the tables do not use; a draw that breaks this is redrawn
    with less noise, closer to the nearer anchor. ``variability`` scales :data:`INTERIM_NOISE`."""
    i = p.index
    base = {k: int(getattr(bl, k)[i]) for k in COMPONENTS}
    anchors = {0: base, **anchors}
    keys = sorted(anchors)
    status = {m: _status(bl, i, v) for m, v in anchors.items()}
    upper = {"tjc28": 28, "sjc28": 28, "xtjc": 40, "xsjc": 38, "ptga": VAS_MAX, "phga": VAS_MAX,
             "pain": VAS_MAX, "haq": 24}
    visits = {}
    for m in p.months:
        if m in anchors:
            visits[m] = dict(anchors[m])
            continue
        first = keys[1]
        if m < first:
            lo, hi, w = 0, first, float(np.clip(RAMP.get(m, m / first) + rng.normal(0, 0.05), 0.05, 1.0))
            levels, cats = (0, status[first][0]), (status[first][1], ACTIVE)
        elif m > keys[-1]:
            lo, hi, w = keys[-1], keys[-1], 0.0
            levels, cats = (status[lo][0],) * 2, (status[lo][1],) * 2
        else:
            lo = max(k for k in keys if k < m)
            hi = min(k for k in keys if k > m)
            w = (m - lo) / (hi - lo)
            levels = tuple(sorted((status[lo][0], status[hi][0])))
            cats = tuple(sorted((status[lo][1], status[hi][1])))
        a, z = anchors[lo], anchors[hi]
        for attempt in range(12):
            scale = 0.75**attempt * variability
            ww = w if attempt < 4 else (round(w) if attempt >= 8 else w + (round(w) - w) * 0.5)
            v = {}
            for k in COMPONENTS:
                mid = a[k] + ww * (z[k] - a[k])
                if k == "esr":
                    v[k] = int(max(ESR_MIN, round(mid * rng.lognormal(0, INTERIM_NOISE[k] * scale))))
                else:
                    v[k] = int(np.clip(round(mid + rng.normal(0, INTERIM_NOISE[k] * scale)), 0, upper[k]))
            level, cat = _status(bl, i, v)
            if levels[0] <= level <= levels[1] and cats[0] <= cat <= cats[1]:
                break
        else:
            v = dict(a if w < 0.5 else z)
        visits[m] = v
    return visits


def _crp(rng, bl: BaselineTable, i: int, esr: int, month: int) -> int:
    """CRP in tenths of mg/L, following ESR (baseline CRP as matched for Table 1)."""
    if month == 0:
        return int(bl.crp[i])
    ratio = esr / bl.esr[i]
    return int(np.clip(round(bl.crp[i] * ratio**1.3 * rng.lognormal(0, 0.15)), 3, 2000))


def _force_remission(v: dict) -> None:
    """Lower PTGA, then ESR, then the 28-joint counts until the visit is in remission."""
    for _ in range(200):
        if category([das28(v["tjc28"], v["sjc28"], v["esr"], v["ptga"])])[0] == REM:
            return
        if v["ptga"] > 8:
            v["ptga"] -= 2
        elif v["esr"] > 8:
            v["esr"] -= 1
        elif v["tjc28"] > 0:
            v["tjc28"] -= 1
        else:
            v["sjc28"] = max(0, v["sjc28"] - 1)
    raise GenerationError("drug-free remission visit cannot be brought into remission")


def _force_no_acr20(bl: BaselineTable, i: int, v: dict) -> None:
    """Add tender joints outside the 28 until the visit is not an ACR20 response."""
    for _ in range(60):
        base, cur = acr_inputs(bl, i, {k: np.array([v[k]]) for k in COMPONENTS})
        if acr_level(base, cur)[0] < 20:
            return
        v["xtjc"] += 1
    raise GenerationError("autoimmune dropout: visit keeps reaching ACR20")


def build_visits(rng: np.random.Generator, patients: list[Patient], bl: BaselineTable,
                 targets: Targets, assumptions: Assumptions = Assumptions()) -> dict[int, dict[int, dict]]:
    """Measurements of every visit: ``{patient index: {month: {component: value, "crp": ...}}}``."""
    n = len(patients)
    delta0 = rng.normal(0, 0.08, (n, 4))
    z = rng.standard_normal(n)
    own = {k: rng.standard_normal(n) * assumptions.measure_discordance for k in ("haq", "das28", "acr")}
    anchors: dict[int, dict[int, dict]] = {p.index: {} for p in patients}
    for arm in ("MSC", "MSC+IFNG"):
        group = [p for p in patients if p.arm == arm and p.completer]
        idx = np.array([p.index for p in group])
        forced = np.array([p.role == "drug_free" for p in group])
        zz = np.where(forced, 3.0, z[idx])
        for year, month in YEARS.items():
            u = zz + assumptions.year_noise * rng.standard_normal(len(idx))
            plan = plan_completer_year(rng, bl, idx, u, {k: v[idx] for k, v in own.items()}, delta0[idx],
                                       forced, targets, arm, year)
            for j, p in enumerate(group):
                anchors[p.index][month] = {k: int(v[j]) for k, v in plan["comps"].items()}
    for p in patients:
        if not p.completer:
            anchors[p.index] = _dropout_anchors(rng, bl, p, delta0)
    visits = {}
    for p in patients:
        vs = _interpolate(rng, bl, p, anchors[p.index], assumptions.interim_variability)
        for m, v in vs.items():
            if p.role == "drug_free" and 12 <= m <= 60:
                _force_remission(v)
            if p.role in ("sjogren", "sle") and m > 0:
                _force_no_acr20(bl, p.index, v)
            v["crp"] = _crp(rng, bl, p.index, v["esr"], m)
        visits[p.index] = vs
    return visits


def haq_items(bl: BaselineTable, i: int, total: int) -> np.ndarray:
    """The eight HAQ category scores of patient ``i`` for a HAQ sum."""
    return haq_categories(total, bl.haq_weights[i])
