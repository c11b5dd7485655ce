"""Adverse events: the paper's narratives for the serious ones, calendar-plausible dates for
the rest, and exactly Table 2's number of events per row and arm.

* Lymphocyte count decreased: mostly starting within 4 weeks of transplantation and resolved
  by week 8-12; about one event in ten later in follow-up, during an intercurrent infection
  where there is one.
* Fever and chills, and the one gastrointestinal event: the day of infusion or the next.
* COVID-19: events are placed in China's infection windows (design.COVID_WINDOWS), mostly the
  December 2022 - January 2023 wave, with reinfections in the later waves; a patient can only
  be infected while under observation.
* Serious events follow the narratives of :mod:`analysis.synthetic.schedule` (dates drawn
  there); the serious events Table 2 lists under no row get the non-infectious,
  non-autoimmune terms of :data:`analysis.synthetic.design.UNLISTED_SAE_TERMS`.
"""
from __future__ import annotations

import datetime as dt

import numpy as np

from analysis.synthetic import design
from analysis.synthetic.assumptions import Assumptions
from analysis.synthetic.schedule import MONTH_DAYS, GenerationError, Patient
from analysis.synthetic.targets import Targets


def _days(n: int) -> dt.timedelta:
    return dt.timedelta(days=int(n))


def _event(p: Patient, verbatim: str, term: str, serious: bool, start: dt.date, end: dt.date | None) -> dict:
    if not (p.trtsdt <= start <= p.eosdt):
        raise GenerationError(f"{p.usubjid}: {term} on {start} is outside {p.trtsdt}..{p.eosdt}")
    return {"USUBJID": p.usubjid, "AETERM": verbatim, "AEDECOD": term, "AESER": "Y" if serious else "N",
            "AESTDT": start, "AEENDT": end}


def _at_month(rng, p: Patient, low: float, high: float) -> dt.date:
    return p.trtsdt + _days(round(rng.uniform(low, high) * MONTH_DAYS))


def _serious_events(rng, p: Patient) -> list[dict]:
    """The serious events of the narrative roles."""
    out = []
    s, u = design.SAE_TERMS, design.UNLISTED_SAE_TERMS
    if p.role in ("sjogren", "sle"):
        out.append(_event(p, *s[p.role], True, p.story["autoimmune"], None))
        # a second, unrelated serious event before the autoimmune diagnosis (combination arm)
        if p.arm == "MSC+IFNG":
            extra = u["cholecystitis"] if p.role == "sle" else u["fracture_spine"]
            months = (p.story["autoimmune"] - p.trtsdt).days / MONTH_DAYS
            day = _at_month(rng, p, 4, max(5, months - 2))
            out.append(_event(p, *extra, True, day, day + _days(rng.integers(8, 30))))
    elif p.role == "ild":
        st = p.story
        out.append(_event(p, *design.TERMS["covid19"][0], False, st["covid"], st["covid"] + _days(10)))
        out.append(_event(p, *u["ild"], True, st["ild"], None))
        out.append(_event(p, *s["tuberculosis"], True, st["tuberculosis"], None))
        out.append(_event(p, *s["rectal_cancer"], True, st["rectal_cancer"], None))
    elif p.role == "stroke":
        st = p.story
        out.append(_event(p, *s["hypertension"], True, st["hypertension"], None))
        for key in ("infarction1", "infarction2"):
            out.append(_event(p, *s["cerebral_infarction"], True, st[key], st[key] + _days(rng.integers(14, 30))))
    elif p.role == "covid_pneumonia":
        start, end, _w = design.MAIN_WAVE
        day = start + _days(rng.integers(0, (min(end, p.eosdt) - start).days + 1))
        p.story["covid"] = day
        out.append(_event(p, *s["covid_pneumonia"], True, day, day + _days(rng.integers(14, 28))))
    elif p.role == "diabetes":
        hyper = _at_month(rng, p, 14, 24)
        p.story["hyperglycaemia"] = hyper
        out.append(_event(p, *design.TERMS["hyperglycemia"][0], False, hyper, hyper + _days(rng.integers(30, 90))))
        out.append(_event(p, *s["diabetes"], True, _at_month(rng, p, 26, 40), None))
        last = (p.eosdt - p.trtsdt).days / MONTH_DAYS
        day = _at_month(rng, p, 44, last - 2)
        out.append(_event(p, *u["fracture_hip"], True, day, day + _days(rng.integers(40, 90))))
    return out


def _weighted_pick(rng, weights: np.ndarray, k: int) -> np.ndarray:
    """``k`` positions drawn without replacement with probability proportional to weight
    (Efraimidis-Spirakis keys)."""
    if k > int((weights > 0).sum()):
        raise GenerationError(f"cannot draw {k} events from {int((weights > 0).sum())} possible slots")
    keys = np.where(weights > 0, np.log(rng.random(len(weights))) / np.where(weights > 0, weights, 1), -np.inf)
    return np.sort(np.argsort(-keys, kind="stable")[:k])


def _covid_events(rng, group: list[Patient], n_events: int) -> list[dict]:
    """Non-serious COVID-19 events, ``n_events`` in all: first the main wave (a share of the
    patients under observation then), then earlier and later waves by weight, at most
    :data:`design.MAX_COVID_EPISODES` episodes per patient."""
    verbatim, term = design.TERMS["covid19"][0]
    wave_start, wave_end, _w = design.MAIN_WAVE
    fixed = [p for p in group if p.role == "ild"]  # infected in the main wave by the narrative
    episodes = {p.usubjid: int(p.role in ("ild", "covid_pneumonia")) for p in group}

    def window_of(p, start, end):
        lo, hi = max(start, p.trtsdt + _days(1)), min(end, p.eosdt)
        return (lo, hi) if lo <= hi else None

    wave = [(p, *w) for p in group if p.role not in ("ild", "covid_pneumonia")
            for w in [window_of(p, wave_start, wave_end)] if w is not None]
    n_wave = min(int(round(rng.uniform(*design.MAIN_WAVE_ATTACK) * len(wave))), n_events - len(fixed))
    chosen = [wave[k] for k in _weighted_pick(rng, np.ones(len(wave)), n_wave)] if n_wave > 0 else []
    for p, _lo, _hi in chosen:
        episodes[p.usubjid] += 1
    others, weights = [], []
    for p in group:
        for start, end, weight in design.COVID_WINDOWS:
            w = window_of(p, start, end)
            if weight > 0 and w is not None:
                others.append((p, *w))
                weights.append(weight)
    keys = np.log(rng.random(len(others))) / np.array(weights)
    need = n_events - len(fixed) - n_wave
    for k in np.argsort(-keys, kind="stable"):
        if need == 0:
            break
        p = others[k][0]
        if episodes[p.usubjid] < design.MAX_COVID_EPISODES:
            chosen.append(others[k])
            episodes[p.usubjid] += 1
            need -= 1
    if need:
        raise GenerationError(f"cannot place {n_events} COVID-19 events in the observation periods")
    out = []
    for p, lo, hi in chosen:
        day = lo + _days(rng.integers(0, (hi - lo).days + 1))
        out.append(_event(p, verbatim, term, False, day, day + _days(rng.integers(5, 15))))
    return out


def build_adverse_events(rng: np.random.Generator, patients: list[Patient], targets: Targets,
                         assumptions: Assumptions = Assumptions()) -> list[dict]:
    """Every adverse event row (without AESEQ), per Table 2 counts.

    ``assumptions`` sets the share of late lymphocyte decreases and when metabolic events fall."""
    rows: list[dict] = []
    for arm in ("MSC", "MSC+IFNG"):
        group = [p for p in patients if p.arm == arm]
        serious = [e for p in group for e in _serious_events(rng, p)]
        rows += serious
        n_sae = sum(e["AESER"] == "Y" for e in serious)
        if n_sae != targets.events("sae", arm):
            raise GenerationError(f"{arm}: the narratives give {n_sae} serious events, Table 2 has "
                                  f"{targets.events('sae', arm)}")
        covid = _covid_events(rng, group, targets.events("covid19", arm))
        rows += covid
        rows += _lymphocyte_events(rng, group, targets.events("lymphocyte_count_decreased", arm), covid,
                                   assumptions.late_lymphopenia_share)
        rows += _infusion_events(rng, group, "fever_chills", targets.events("fever_chills", arm))
        rows += _infusion_events(rng, group, "gastrointestinal_disorders",
                                 targets.events("gastrointestinal_disorders", arm))
        already = sum(e["AEDECOD"] == design.TERMS["hyperglycemia"][0][1] for e in serious)
        rows += _later_events(rng, group, "hyperglycemia", targets.events("hyperglycemia", arm) - already,
                              duration=(30, 120), skew=assumptions.metabolic_onset_skew)
        rows += _later_events(rng, group, "hyperlipidemia", targets.events("hyperlipidemia", arm), duration=None,
                              skew=assumptions.metabolic_onset_skew)
    patients_with_sae = {e["USUBJID"] for e in rows if e["AESER"] == "Y"}
    if len(patients_with_sae) != targets.sae_patients:
        raise GenerationError(f"{len(patients_with_sae)} patients with serious events, the text has "
                              f"{targets.sae_patients}")
    return rows


def _lymphocyte_events(rng, group: list[Patient], n: int, covid: list[dict], late_share: float) -> list[dict]:
    verbatim, term = design.TERMS["lymphocyte_count_decreased"][0]
    n_late = int(round(late_share * n))
    n_early = n - n_late
    if n_early > len(group):
        raise GenerationError("more early lymphocyte decreases than patients")
    out = []
    for k in np.sort(rng.choice(len(group), size=n_early, replace=False)):
        p = group[k]
        start = p.trtsdt + _days(rng.choice(np.arange(1, 29), p=_early_onset_weights()))
        out.append(_event(p, verbatim, term, False, start, p.trtsdt + _days(rng.integers(49, 85))))
    infections = {}
    for e in covid:
        infections.setdefault(e["USUBJID"], []).append(e["AESTDT"])
    for k in rng.choice(len(group), size=n_late, replace=False):
        p = group[k]
        if p.usubjid in infections:
            start = infections[p.usubjid][0] + _days(rng.integers(1, 6))
        else:
            start = p.trtsdt + _days(rng.integers(120, max(121, (p.eosdt - p.trtsdt).days - 30)))
        start = min(start, p.eosdt)
        out.append(_event(p, verbatim, term, False, start, start + _days(rng.integers(14, 42))))
    return out


def _early_onset_weights() -> np.ndarray:
    """Onset day 1-28 after transplantation, most often in the second week."""
    days = np.arange(1, 29)
    w = np.exp(-0.5 * ((days - 10) / 6.0) ** 2)
    return w / w.sum()


def _infusion_events(rng, group: list[Patient], row: str, n: int) -> list[dict]:
    """Events on the day of infusion or the next (a patient may have fever and chills)."""
    terms = design.TERMS[row]
    pairs = [(k, t) for k in range(len(group)) for t in range(len(terms))]
    weights = np.array([0.7 if t == 0 else 0.3 for _k, t in pairs])
    out = []
    for j in _weighted_pick(rng, weights, n):
        k, t = pairs[j]
        p = group[k]
        start = p.trtsdt + _days(rng.integers(0, 2))
        out.append(_event(p, *terms[t], False, start, start + _days(rng.integers(1, 3))))
    return out


def _later_events(rng, group: list[Patient], row: str, n: int, duration, skew: float = 1.0) -> list[dict]:
    """Metabolic events at a random time of follow-up (chronic ones stay ongoing).

    The start day is drawn uniformly between day 90 and 30 days before the end of study; its
    relative position ``u`` in that window is then moved to ``u ** skew`` (``skew`` 1 keeps it)."""
    if n < 0:
        raise GenerationError(f"{row}: the narratives already exceed Table 2's count")
    verbatim, term = design.TERMS[row][0]
    out = []
    for k in np.sort(rng.choice(len(group), size=n, replace=False)):
        p = group[k]
        span = (p.eosdt - p.trtsdt).days
        high = max(91, span - 30)
        day = int(rng.integers(90, high))
        if skew != 1.0:
            day = 90 + int(round(((day - 90) / (high - 90)) ** skew * (high - 90)))
        start = p.trtsdt + _days(day)
        end = None if duration is None else start + _days(rng.integers(*duration))
        out.append(_event(p, verbatim, term, False, start, end))
    return out
