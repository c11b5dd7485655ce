"""Baseline characteristics (Table 1) and baseline measurements of every patient.

Completers' characteristics are drawn from natural distributions and then moved, one lattice
step at a time, until each Table 1 mean and SD prints as published (whole years of age, RA
duration to 0.1 year, whole mm/h of ESR, CRP to 0.1 mg/L, HAQ-DI in steps of 1/8, DAS28-ESR
through whole-mm changes of the patient's global assessment). Binary characteristics are
assigned to exactly the published number of completers. Dropouts are drawn from the same
distributions, without matching, and redrawn until no baseline characteristic differs
between completers and dropouts at p <= 0.05 (the paper's Table S2 statement).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import stats

from analysis.endpoints import compute_das28_esr
from analysis.synthetic.moments import LatticeMoves, nearest_lattice_mean, tune_moments
from analysis.synthetic.schedule import GenerationError, Patient
from analysis.synthetic.targets import ARM_CODES, Targets

#: HAQ-DI category weights (dressing, arising, eating, walking, hygiene, reach, grip,
#: activities): grip and activities are the hardest in RA, eating the easiest (judgement).
HAQ_CATEGORY_WEIGHTS = np.array([1.0, 1.1, 0.7, 1.0, 0.9, 1.0, 1.25, 1.2])
#: Dropouts' baseline must not differ from completers' at this p-value (margin over 0.05).
DROPOUT_MIN_P = 0.10


@dataclass
class BaselineTable:
    """Subject characteristics and baseline measurements, arrays indexed by patient."""

    sex: np.ndarray          # "F"/"M"
    age: np.ndarray          # int years
    radury: np.ndarray       # int tenths of a year
    rf: np.ndarray           # bool
    acpa: np.ndarray         # bool
    hx_bdmard: np.ndarray    # bool
    hx_pred: np.ndarray      # bool
    tjc28: np.ndarray        # ints
    sjc28: np.ndarray
    xtjc: np.ndarray         # tender joints outside the 28 (TJC68 - TJC28)
    xsjc: np.ndarray         # swollen joints outside the 28 (SJC66 - SJC28)
    esr: np.ndarray          # int mm/h
    crp: np.ndarray          # int tenths of mg/L
    ptga: np.ndarray         # int mm
    phga: np.ndarray
    pain: np.ndarray
    haq: np.ndarray          # HAQ-DI sum of the 8 category scores (0-24)
    haq_weights: np.ndarray  # (n, 8) per-patient category propensities

    def das28(self, idx=slice(None)) -> np.ndarray:
        return np.asarray(compute_das28_esr(self.tjc28[idx], self.sjc28[idx], self.esr[idx],
                                            self.ptga[idx]), dtype=float)


def haq_categories(total: int, weights: np.ndarray) -> np.ndarray:
    """Split a HAQ-DI sum (0-24) into 8 category scores 0-3, hardest categories first.

    The split is deterministic given the patient's weights, so the same patient's answers
    change consistently as the sum changes.

    Examples
    --------
    >>> haq_categories(13, HAQ_CATEGORY_WEIGHTS).tolist(), int(haq_categories(13, HAQ_CATEGORY_WEIGHTS).sum())
    ([2, 2, 1, 2, 1, 1, 2, 2], 13)
    """
    scores = np.zeros(8, dtype=int)
    for _ in range(int(total)):
        room = scores < 3
        priority = np.where(room, weights / (scores + 1.0), -np.inf)
        scores[int(np.argmax(priority))] += 1
    return scores


def _exact_flags(rng, n: int, k: int) -> np.ndarray:
    flags = np.zeros(n, dtype=bool)
    flags[rng.choice(n, size=k, replace=False)] = True
    return flags


def fit_joint_counts(tjc: np.ndarray, sjc: np.ndarray, esr: np.ndarray, goal: np.ndarray
                     ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Joint counts and patient's global assessment (PTGA) giving DAS28-ESR near ``goal``.

    PTGA carries the fine adjustment but stays in 45-85 mm, the range of active RA; joint
    counts move one joint at a time when PTGA would leave it.

    Examples
    --------
    >>> t, s, g = fit_joint_counts(np.array([8]), np.array([5]), np.array([45]), np.array([6.5]))
    >>> int(t[0]), int(s[0]), int(g[0])
    (11, 8, 85)
    """
    tjc, sjc = tjc.copy(), sjc.copy()
    need = np.zeros(len(goal))
    for step in range(40):
        rest = 0.56 * np.sqrt(tjc) + 0.28 * np.sqrt(sjc) + 0.70 * np.log(esr)
        need = (goal - rest) / 0.014
        high, low = need > 85, need < 45
        if not (high | low).any():
            break
        if step % 2 == 0:
            tjc = np.where(high & (tjc < 26), tjc + 1, np.where(low & (tjc > 3), tjc - 1, tjc))
        else:
            sjc = np.where(high & (sjc < tjc), sjc + 1, np.where(low & (sjc > 2), sjc - 1, sjc))
    return tjc, sjc, np.clip(np.round(need), 40, 92).astype(int)


@dataclass(frozen=True)
class Prior:
    """Natural distribution of the baseline draws: Table 1's completers pooled over the arms
    (from the registry), so that dropouts resemble completers as the paper reports."""

    moments: dict[str, tuple[float, float]]
    shares: dict[str, float]

    @classmethod
    def from_targets(cls, targets: Targets) -> "Prior":
        items = ("age", "ra_duration", "das28_esr", "haq_di", "esr", "crp")
        flags = ("female", "rf_positive", "acpa_positive", "hx_bdmard", "hx_prednisone")
        return cls({k: targets.pooled_moments(k) for k in items}, {k: targets.pooled_share(k) for k in flags})


def _draw(rng, n: int, prior: Prior) -> dict[str, np.ndarray]:
    """Natural baseline values of ``n`` patients with active, long-standing RA. Means and SDs
    come from ``prior``; shapes, bounds and the measures Table 1 does not report (joint
    counts, global assessments, pain) are our judgement."""
    m = prior.moments
    esr = np.clip(np.round(rng.normal(*m["esr"], n)), 15, 95).astype(int)
    # CRP correlates with ESR (rho = 0.5, judgement)
    z_esr = (esr - m["esr"][0]) / m["esr"][1]
    crp = m["crp"][0] + m["crp"][1] * (0.5 * z_esr + np.sqrt(0.75) * rng.standard_normal(n))
    crp10 = np.clip(np.round(10 * crp), 40, 600).astype(int)
    mean, sd = m["ra_duration"]
    sigma2 = np.log(1 + (sd / mean) ** 2)
    radury = np.clip(np.round(10 * rng.lognormal(np.log(mean) - sigma2 / 2, np.sqrt(sigma2), n)), 10, 160)
    tjc = np.clip(np.round(rng.normal(9, 3.5, n)), 4, 24).astype(int)
    sjc = np.minimum(np.clip(np.round(rng.normal(6, 2.5, n)), 2, 18).astype(int), tjc + 2)
    tjc, sjc, ptga = fit_joint_counts(tjc, sjc, esr, rng.normal(*m["das28_esr"], n))
    haq_mean, haq_sd = m["haq_di"]
    return {
        "age": np.clip(np.round(rng.normal(*m["age"], n)), 20, 75).astype(int),
        "radury": radury.astype(int),
        "esr": esr,
        "crp": crp10,
        "tjc28": tjc,
        "sjc28": sjc,
        "xtjc": rng.poisson(3.0, n),
        "xsjc": rng.poisson(1.5, n),
        "ptga": ptga,
        "phga": _companion(rng, ptga, -4, 30, 90),
        "pain": _companion(rng, ptga, 0, 30, 94),
        "haq": np.clip(np.round(8 * rng.normal(haq_mean, haq_sd, n)), 6, 22).astype(int),
        "haq_weights": HAQ_CATEGORY_WEIGHTS * rng.lognormal(0, 0.2, (n, 8)),
    }


def _companion(rng, ptga: np.ndarray, shift: float, low: int, high: int) -> np.ndarray:
    """Physician's global assessment or pain VAS, correlated with the patient's global."""
    return np.clip(np.round(ptga + shift + rng.normal(0, 7, len(ptga))), low, high).astype(int)


def _tune(values: np.ndarray, scale: float, mean, sd, low, high, rng, key: str, unit: str) -> dict[str, str]:
    """Tune integer ``values`` (in units of ``scale``) to the printed mean/SD, in place.

    Returns ``{key: reason}`` when no values on this lattice have a mean that prints as
    published (the nearest printable mean is used instead), else an empty dict."""
    n = len(values)
    target, ok = nearest_lattice_mean(mean, n, scale)
    moves = LatticeMoves(values, lambda k: k * scale, np.full(n, low), np.full(n, high))
    tune_moments(moves, target, sd, rng, label=key.rsplit(".", 1)[0])
    if ok:
        return {}
    below = np.floor(mean.value * n / scale) * scale / n
    above = np.ceil(mean.value * n / scale) * scale / n
    return {key: (f"values are recorded in steps of {scale:g} {unit}, so the mean of {n} values is a "
                  f"multiple of {scale:g}/{n}; none lies within {mean.low:.{mean.decimals + 1}f}-"
                  f"{mean.high:.{mean.decimals + 1}f} (the nearest are {below:.3f} and {above:.3f}), so no "
                  f"such dataset prints {mean.value:.{mean.decimals}f}")}


def _match_completers(rng, d: dict, targets: Targets, arm: str) -> dict[str, str]:
    """Move completers' natural values until every Table 1 mean and SD prints as published."""
    unreachable: dict[str, str] = {}
    for item, key, scale, low, high, unit in (("age", "age", 1.0, 20, 75, "year"),
                                              ("ra_duration", "radury", 0.1, 10, 160, "year"),
                                              ("esr", "esr", 1.0, 15, 95, "mm/h"),
                                              ("crp", "crp", 0.1, 40, 600, "mg/L"),
                                              ("haq_di", "haq", 0.125, 6, 22, "(HAQ-DI)")):
        mean, sd = targets.baseline_moments(item, arm)
        values = d[key]
        # start from the natural draw rescaled to the target moments (keeps its shape)
        z = (values - values.mean()) / values.std(ddof=1)
        values[:] = np.clip(np.round((mean.value + sd.value * z) / scale), low, high).astype(int)
        unreachable |= _tune(values, scale, mean, sd, low, high, rng,
                             f"table1.{item}.{ARM_CODES[arm]}.mean", unit)
    # CRP goes with ESR: keep the rank correlation the draw had by re-sorting CRP along ESR
    # plus noise (same multiset, so its moments are unchanged)
    order = np.argsort(d["esr"] + rng.normal(0, 6, len(d["esr"])), kind="stable")
    d["crp"][order] = np.sort(d["crp"])
    # DAS28-ESR through the patient's global assessment (whole mm)
    mean, sd = targets.baseline_moments("das28_esr", arm)
    rest = 0.56 * np.sqrt(d["tjc28"]) + 0.28 * np.sqrt(d["sjc28"]) + 0.70 * np.log(d["esr"])
    z = rng.standard_normal(len(rest))
    z = (z - z.mean()) / z.std(ddof=1)
    # order the DAS goals along the current DAS so that joint counts and ESR still matter
    current = rest + 0.014 * d["ptga"]
    goals = np.empty_like(current)
    goals[np.argsort(current, kind="stable")] = np.sort(mean.value + sd.value * z)
    tjc, sjc, ptga = fit_joint_counts(d["tjc28"], d["sjc28"], d["esr"], goals)
    d["tjc28"][:], d["sjc28"][:], d["ptga"][:] = tjc, sjc, ptga
    esr = d["esr"]
    moves = LatticeMoves(d["ptga"], lambda g: np.asarray(compute_das28_esr(tjc, sjc, esr, g)),
                         np.full(len(rest), 38), np.full(len(rest), 92))
    tune_moments(moves, mean, sd, rng, label=f"table1.das28_esr.{ARM_CODES[arm]}")
    d["phga"][:] = _companion(rng, d["ptga"], -4, 30, 90)
    d["pain"][:] = _companion(rng, d["ptga"], 0, 30, 94)
    return unreachable


def _dropout_pvalues(table: BaselineTable, completer: np.ndarray) -> dict[str, float]:
    """p-values of the completers-versus-dropouts comparison (Welch t, Fisher exact)."""
    out = {}
    das = table.das28()
    for name, values in (("age", table.age), ("radury", table.radury), ("das28", das), ("haq", table.haq),
                         ("esr", table.esr), ("crp", table.crp)):
        a, b = values[completer].astype(float), values[~completer].astype(float)
        out[name] = float(stats.ttest_ind(a, b, equal_var=False).pvalue)
    for name, flags in (("sex", table.sex == "F"), ("rf", table.rf), ("acpa", table.acpa),
                        ("hx_bdmard", table.hx_bdmard), ("hx_pred", table.hx_pred)):
        a, b = flags[completer], flags[~completer]
        out[name] = float(stats.fisher_exact([[a.sum(), (~a).sum()], [b.sum(), (~b).sum()]]).pvalue)
    return out


def build_baseline(rng: np.random.Generator, patients: list[Patient], targets: Targets
                   ) -> tuple[BaselineTable, dict[str, str]]:
    """Baseline table for every patient, and the Table 1 keys no lattice can print (with the
    reason)."""
    n = len(patients)
    arms = np.array([p.arm for p in patients])
    completer = np.array([p.completer for p in patients])
    prior = Prior.from_targets(targets)
    d = _draw(rng, n, prior)
    share = prior.shares
    sex = np.where(rng.random(n) < share["female"], "F", "M")
    rf, acpa = rng.random(n) < share["rf_positive"], rng.random(n) < share["acpa_positive"]
    hx_b, hx_p = rng.random(n) < share["hx_bdmard"], rng.random(n) < share["hx_prednisone"]
    unreachable: dict[str, str] = {}
    for arm in ("MSC", "MSC+IFNG"):
        idx = np.flatnonzero((arms == arm) & completer)
        m = len(idx)
        if m != targets.n_completers(arm):
            raise GenerationError(f"{arm}: {m} completers, Table 1 has {targets.n_completers(arm)}")
        sex[idx] = np.where(_exact_flags(rng, m, targets.baseline_count("female", arm)), "F", "M")
        rf[idx] = _exact_flags(rng, m, targets.baseline_count("rf_positive", arm))
        acpa[idx] = _exact_flags(rng, m, targets.baseline_count("acpa_positive", arm))
        hx_b[idx] = _exact_flags(rng, m, targets.baseline_count("hx_bdmard", arm))
        hx_p[idx] = _exact_flags(rng, m, targets.baseline_count("hx_prednisone", arm))
        for item in ("hx_csdmard", "hx_nsaid"):
            if targets.baseline_count(item, arm) != m:
                raise GenerationError(f"{item}: the generator assumes every completer has used it")
        sub = {k: v[idx].copy() for k, v in d.items()}
        unreachable |= _match_completers(rng, sub, targets, arm)
        for k, v in sub.items():
            d[k][idx] = v
    table = BaselineTable(sex=sex, age=d["age"], radury=d["radury"], rf=rf, acpa=acpa, hx_bdmard=hx_b,
                          hx_pred=hx_p, tjc28=d["tjc28"], sjc28=d["sjc28"], xtjc=d["xtjc"], xsjc=d["xsjc"],
                          esr=d["esr"], crp=d["crp"], ptga=d["ptga"], phga=d["phga"], pain=d["pain"],
                          haq=d["haq"], haq_weights=d["haq_weights"])
    _balance_dropouts(rng, table, completer, prior)
    return table, unreachable


def _balance_dropouts(rng, table: BaselineTable, completer: np.ndarray, prior: Prior) -> None:
    """Redraw dropouts' characteristics until none differs from completers at p <= 0.10."""
    drop = np.flatnonzero(~completer)
    groups = {"age": ("age",), "radury": ("radury",), "esr": ("esr", "tjc28", "sjc28", "ptga"),
              "crp": ("crp",), "haq": ("haq",), "das28": ("tjc28", "sjc28", "ptga", "esr")}
    flags = {"sex": "female", "rf": "rf_positive", "acpa": "acpa_positive", "hx_bdmard": "hx_bdmard",
             "hx_pred": "hx_prednisone"}
    for _attempt in range(200):
        p = _dropout_pvalues(table, completer)
        bad = sorted(k for k, v in p.items() if v <= DROPOUT_MIN_P)
        if not bad:
            return
        name = bad[0]
        if name in groups:
            fresh = _draw(rng, len(drop), prior)
            for column in groups[name]:
                getattr(table, column)[drop] = fresh[column]
        else:
            drawn = rng.random(len(drop)) < prior.shares[flags[name]]
            if name == "sex":
                table.sex[drop] = np.where(drawn, "F", "M")
            else:
                getattr(table, name)[drop] = drawn
    raise GenerationError("dropouts' baseline keeps differing from completers' (p <= 0.10)")
