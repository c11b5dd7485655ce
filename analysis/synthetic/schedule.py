"""Who the patients are (arm, trial, role), when they were treated, and when they were seen.

Roles carry the paper's narratives: completers; dropouts for lack of efficacy; dropouts with a
new autoimmune disease (Sjögren's syndrome, SLE); the monotherapy patient with RA-associated
interstitial lung disease (COVID-19, then ILD worsening, pulmonary tuberculosis and rectal
cancer); the monotherapy patient with hypertension and two cerebral infarctions; among
completers, the patient with COVID-19 pneumonia, a patient with type 2 diabetes, and in the
combination arm the patient in sustained drug-free remission and a patient who stopped
csDMARDs (kept on a bDMARD alone).

Follow-up lengths are solved so that each arm's patient-years print as published and the
completers' mean, minimum and maximum follow-up print as published.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import numpy as np

from analysis.populations import DAYS_PER_YEAR
from analysis.synthetic import design
from analysis.synthetic.targets import Targets

MONTH_DAYS = DAYS_PER_YEAR / 12

#: Roles of discontinued patients -> DCSREAS.
DROPOUT_REASONS = {
    "lack_of_efficacy": "LACK OF EFFICACY",
    "sjogren": "ADVERSE EVENT",
    "sle": "ADVERSE EVENT",
    "ild": "ADVERSE EVENT",
    "stroke": "ADVERSE EVENT",
}


class GenerationError(RuntimeError):
    """The generator cannot build a cohort that meets a published target."""


def nominal_day(month: int) -> int:
    """Days from transplantation to the nominal visit of ``month`` (365.25/12-day months).

    Examples
    --------
    >>> nominal_day(1), nominal_day(12), nominal_day(60)
    (30, 365, 1826)
    """
    return int(round(month * MONTH_DAYS))


def _weekday(day: dt.date) -> dt.date:
    """Move a Saturday or Sunday to the next Monday (no transplants at weekends)."""
    return day + dt.timedelta(days=(7 - day.weekday()) % 7) if day.weekday() >= 5 else day


@dataclass
class Patient:
    """One randomised patient: design, role, dates and visit schedule."""

    index: int
    arm: str
    trial: str
    role: str
    completer: bool
    trtsdt: dt.date
    usubjid: str = ""
    eosdt: dt.date | None = None
    months: list[int] = field(default_factory=list)
    dates: list[dt.date] = field(default_factory=list)
    #: Dates of the narrative events (onset of a new autoimmune disease, SAEs, ...).
    story: dict[str, dt.date] = field(default_factory=dict)

    @property
    def dcsreas(self) -> str:
        return "" if self.completer else DROPOUT_REASONS[self.role]

    def date_of(self, month: int) -> dt.date | None:
        return self.dates[self.months.index(month)] if month in self.months else None

    @property
    def exposure_days(self) -> int:
        return (self.eosdt - self.trtsdt).days


def _random_date(rng: np.random.Generator, start: dt.date, end: dt.date) -> dt.date:
    return start + dt.timedelta(days=int(rng.integers(0, (end - start).days + 1)))


def assign_roles(targets: Targets) -> dict[str, list[str]]:
    """Roles per arm, from the registry's counts and the paper's narratives.

    The combination arm's dropouts are its new autoimmune diseases (one SLE, one Sjögren's);
    the monotherapy arm's Sjögren's cases are the rest of the three; the two other
    adverse-event dropouts are the ILD and the cerebral-infarction narratives; every other
    monotherapy dropout left for lack of efficacy.
    """
    roles: dict[str, list[str]] = {}
    sle_combo = targets.events("sae_sle", "MSC+IFNG")
    sjogren_combo = targets.events("sae_sjogren", "MSC+IFNG")
    sjogren_mono = targets.autoimmune_patients("sjogren") - sjogren_combo
    if targets.autoimmune_patients("sle") != sle_combo or targets.events("sae_sle", "MSC") != 0:
        raise GenerationError("SLE cases: the narrative puts the only SLE in the combination arm")
    combo_drop = targets.n_safety("MSC+IFNG") - targets.n_completers("MSC+IFNG")
    if combo_drop != sle_combo + sjogren_combo or combo_drop != targets.autoimmune_no_acr20_dropouts:
        raise GenerationError("combination-arm dropouts must be its new autoimmune diseases")
    mono_drop = targets.n_safety("MSC") - targets.n_completers("MSC")
    ae_mono = targets.n_discontinued["ADVERSE EVENT"] - combo_drop
    narrative_ae = ["ild", "stroke"]
    if ae_mono != sjogren_mono + len(narrative_ae):
        raise GenerationError(f"{ae_mono} monotherapy AE dropouts do not fit the narratives")
    loe = mono_drop - ae_mono
    if loe != targets.n_discontinued["LACK OF EFFICACY"]:
        raise GenerationError("lack-of-efficacy dropouts do not add up")
    roles["MSC"] = (["completer"] * (targets.n_completers("MSC") - 2) + ["covid_pneumonia", "diabetes"]
                    + ["lack_of_efficacy"] * loe + ["sjogren"] * sjogren_mono + narrative_ae)
    n_free = targets.drug_free_remission("MSC+IFNG")
    n_cs_off = targets.n_completers("MSC+IFNG") - targets.users("csdmard", "MSC+IFNG", "year1")
    if n_free != 1 or n_cs_off != 2:
        raise GenerationError("the combination arm needs one drug-free patient and one more off csDMARDs")
    roles["MSC+IFNG"] = (["completer"] * (targets.n_completers("MSC+IFNG") - 2) + ["drug_free", "b_mono"]
                         + ["sle"] * sle_combo + ["sjogren"] * sjogren_combo)
    return roles


def _transplant_dates(rng, roles) -> list[tuple[str, str, str, dt.date]]:
    """(arm, trial, role, TRTSDT) for every patient; the ILD patient is enrolled late in the
    second trial so that the events of winter 2022-23 fall before the five-year mark."""
    rows = []
    mono_roles = list(roles["MSC"])
    order = rng.permutation(len(mono_roles))
    mono_roles = [mono_roles[i] for i in order]
    # the ILD patient goes to the second trial; fill the first trial from the others
    others = [r for r in mono_roles if r != "ild"]
    first = others[: design.MONO_IN_FIRST_TRIAL]
    second = others[design.MONO_IN_FIRST_TRIAL:] + ["ild"]
    for trial, arm, group in ((design.TRIAL_MONO, "MSC", first), (design.TRIAL_COMBO, "MSC", second),
                              (design.TRIAL_COMBO, "MSC+IFNG", list(roles["MSC+IFNG"]))):
        start, end = design.ENROLMENT[trial]
        for role in group:
            if role == "ild":
                day = _random_date(rng, end - dt.timedelta(days=100), end)
            else:
                day = _random_date(rng, start, end)
            rows.append((arm, trial, role, _weekday(day)))
    return rows


def _schedule(rng, p: Patient, last_month: int, last_offset: int | None = None) -> None:
    """Visit months and dates up to ``last_month``; baseline a few days before TRTSDT."""
    months = [0, *design.EARLY_MONTHS] + list(range(12, last_month + 1, 6))
    dates = []
    for m in months:
        if m == 0:
            day = p.trtsdt - dt.timedelta(days=int(rng.integers(0, 8)))
        else:
            jitter = 3 if m == 1 else design.VISIT_JITTER
            off = int(rng.integers(-jitter, jitter + 1))
            if m == last_month and last_offset is not None:
                off = last_offset
            day = p.trtsdt + dt.timedelta(days=nominal_day(m) + off)
        dates.append(day)
    p.months, p.dates = months, dates


def _months_after(day: dt.date, trtsdt: dt.date) -> float:
    return (day - trtsdt).days / MONTH_DAYS


def _next_visit_month(day: dt.date, trtsdt: dt.date) -> int:
    """First 6-monthly visit month (>= 12) after ``day``."""
    m = int(np.ceil(_months_after(day, trtsdt) / 6.0) * 6)
    return max(m, design.FIRST_EXTENSION_MONTH + 6)


def _dropout_story(rng, p: Patient) -> int:
    """Narrative dates of a dropout; returns the month of the last (discontinuation) visit."""
    t0 = p.trtsdt

    def at(months: float) -> dt.date:
        return t0 + dt.timedelta(days=int(round(months * MONTH_DAYS)))

    if p.role == "lack_of_efficacy":
        return int(rng.choice([18, 24, 30, 36, 42], p=[0.2, 0.3, 0.25, 0.15, 0.1]))
    if p.role in ("sjogren", "sle"):
        onset = at(rng.uniform(14, 30) if p.role == "sle" else rng.uniform(16, 40))
        p.story["autoimmune"] = onset
        return _next_visit_month(onset + dt.timedelta(days=20), t0)
    if p.role == "stroke":
        p.story["hypertension"] = at(rng.uniform(14, 22))
        p.story["infarction1"] = at(rng.uniform(26, 34))
        p.story["infarction2"] = p.story["infarction1"] + dt.timedelta(days=int(rng.integers(150, 270)))
        return _next_visit_month(p.story["infarction2"] + dt.timedelta(days=30), t0)
    if p.role == "ild":
        wave_start, _end, _w = design.MAIN_WAVE
        covid = wave_start + dt.timedelta(days=int(rng.integers(3, 25)))
        p.story["covid"] = covid
        p.story["ild"] = covid + dt.timedelta(days=int(rng.integers(10, 21)))
        p.story["tuberculosis"] = p.story["ild"] + dt.timedelta(days=int(rng.integers(12, 25)))
        p.story["rectal_cancer"] = p.story["tuberculosis"] + dt.timedelta(days=int(rng.integers(6, 18)))
        p.story["eos"] = p.story["rectal_cancer"] + dt.timedelta(days=int(rng.integers(20, 35)))
        if (p.story["eos"] - t0).days >= 5 * 365:
            raise GenerationError("ILD patient: the events must fall before the five-year mark")
        last = max(m for m in range(12, 61, 6) if nominal_day(m) + design.VISIT_JITTER < (covid - t0).days)
        return last
    raise GenerationError(f"unknown dropout role {p.role}")


def _solve_final_months(rng, patients: list[Patient], need_days: int) -> dict[int, int]:
    """Final visit month of each completer so that their nominal days add up to about
    ``need_days`` (within half a visit interval), covering the main COVID-19 wave where the
    data cut-off allows."""
    cutoff = design.DATA_CUTOFF
    fmax, fwave, final = {}, {}, {}
    for p in patients:
        ok = [m for m in design.FINAL_MONTHS
              if p.trtsdt + dt.timedelta(days=nominal_day(m) + design.VISIT_JITTER) <= cutoff]
        if not ok:
            raise GenerationError(f"{p.usubjid}: five years do not fit before the data cut-off")
        fmax[p.index] = max(ok)
        wave = [m for m in ok if p.trtsdt + dt.timedelta(days=nominal_day(m) - design.VISIT_JITTER)
                >= design.WAVE_COVERED_BY]
        fwave[p.index] = min(wave) if wave else max(ok)
        final[p.index] = fwave[p.index]
    step = nominal_day(6)

    def total():
        return sum(nominal_day(final[p.index]) for p in patients)

    guard = 0
    while abs(total() - need_days) > step / 2 and guard < 1000:
        guard += 1
        if total() < need_days:
            pool = [p.index for p in patients if final[p.index] < fmax[p.index]]
        else:
            pool = [p.index for p in patients if final[p.index] > max(60, fwave[p.index])]
            if not pool:
                pool = [p.index for p in patients if final[p.index] > 60]
        if not pool:
            raise GenerationError("completers' follow-up cannot add up to the published patient-years")
        i = int(rng.choice(pool))
        final[i] += 6 if total() < need_days else -6
    # the shortest follow-up prints as 5 years and the longest as 7: one 60 and one 84
    for month, partner_step in ((60, 6), (84, -6)):
        if month in final.values():
            continue
        near = [p.index for p in patients if final[p.index] == month + partner_step
                and (month != 84 or fmax[p.index] >= 84)]
        partners = [p.index for p in patients if p.index not in near[:1]
                    and 60 <= final[p.index] + partner_step <= fmax[p.index]]
        if not near or not partners:
            raise GenerationError(f"no completer can be followed for exactly {month} months")
        i, j = near[0], int(rng.choice(partners))
        final[i] = month
        final[j] += partner_step
    return final


def build_patients(rng: np.random.Generator, targets: Targets) -> list[Patient]:
    """Every randomised patient with role, trial, TRTSDT, EOSDT and visit dates."""
    roles = assign_roles(targets)
    rows = _transplant_dates(rng, roles)
    rows.sort(key=lambda r: (r[3], r[1], r[0], r[2]))
    patients = []
    for i, (arm, trial, role, day) in enumerate(rows):
        completer = role in ("completer", "covid_pneumonia", "diabetes", "drug_free", "b_mono")
        patients.append(Patient(index=i, arm=arm, trial=trial, role=role, completer=completer,
                                trtsdt=day, usubjid=f"RA-{i + 1:03d}"))
    # dropouts: narrative dates, last visit, end of study
    for p in patients:
        if p.completer:
            continue
        last = _dropout_story(rng, p)
        _schedule(rng, p, last)
        p.eosdt = p.story.get("eos", p.dates[-1])
    # completers: final month solved against the published patient-years
    for arm in ("MSC", "MSC+IFNG"):
        group = [p for p in patients if p.arm == arm]
        window = targets.patient_years(arm)
        target_days = int(round(window.value * DAYS_PER_YEAR))
        if abs(target_days / DAYS_PER_YEAR - window.value) > window.tol * 0.5:
            raise GenerationError(f"{arm}: no whole number of days gives {window.value} PY")
        dropout_days = sum(p.exposure_days for p in group if not p.completer)
        completers = [p for p in group if p.completer]
        final = _solve_final_months(rng, completers, target_days - dropout_days)
        _final_offsets(rng, completers, final, target_days - dropout_days)
    _check_followup(patients, targets)
    return patients


def _final_offsets(rng, completers: list[Patient], final: dict[int, int], need_days: int) -> None:
    """Jitter of each completer's final visit (= EOSDT), adjusted so that the days add up
    exactly to ``need_days``; 60-month visits fall after day 1826 and 84-month visits before
    day 2557, so that follow-up stays within 5 to 7 years."""
    low, high, off = {}, {}, {}
    for p in completers:
        m = final[p.index]
        lo, hi = -design.VISIT_JITTER, design.VISIT_JITTER
        if m == 60:
            lo = max(lo, int(np.ceil(5 * DAYS_PER_YEAR)) - nominal_day(60))
        if m == 84:
            hi = min(hi, int(np.floor(7 * DAYS_PER_YEAR)) - nominal_day(84))
        room = (design.DATA_CUTOFF - p.trtsdt).days - nominal_day(m)
        hi = min(hi, room)
        low[p.index], high[p.index] = lo, hi
        off[p.index] = int(rng.integers(lo, hi + 1))
    diff = need_days - sum(nominal_day(final[p.index]) + off[p.index] for p in completers)
    guard = 0
    while diff != 0 and guard < 100000:
        guard += 1
        p = completers[int(rng.integers(len(completers)))]
        step = 1 if diff > 0 else -1
        if low[p.index] <= off[p.index] + step <= high[p.index]:
            off[p.index] += step
            diff -= step
    if diff != 0:
        raise GenerationError("completers' days cannot add up to the published patient-years")
    for p in completers:
        _schedule(rng, p, final[p.index], last_offset=off[p.index])
        p.eosdt = p.dates[-1]


def _check_followup(patients: list[Patient], targets: Targets) -> None:
    years = np.array([p.exposure_days / DAYS_PER_YEAR for p in patients if p.completer])
    for stat, value in (("mean", years.mean()), ("min", years.min()), ("max", years.max())):
        window = targets.followup(stat)
        if not window.contains(value, margin=0.05):
            raise GenerationError(f"completers' follow-up {stat} {value:.3f} does not print as {window.value}")
