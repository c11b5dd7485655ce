"""The README that the generator writes next to the synthetic cohort.

Everything in it is a function of the seed and of the files themselves (row counts,
SHA-256), so regenerating the cohort regenerates the README bit for bit.
"""
from __future__ import annotations

import hashlib
from pathlib import Path

from analysis.synthetic import design
from analysis.synthetic.generate import Cohort


def sha256(path: Path) -> str:
    """Hex SHA-256 of a file's bytes."""
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _windows() -> str:
    return "; ".join(f"{a.isoformat()} to {b.isoformat()}" for a, b, _w in design.COVID_WINDOWS)


def render_readme(cohort: Cohort, files: dict[str, Path]) -> str:
    """README text for ``cohort`` whose CSV files are ``files`` (name -> path)."""
    rows = {name: len(frame) for name, frame in cohort.frames().items()}
    hashes = "\n".join(f"| `{name}` | {rows[name]} | `{sha256(path)}` |" for name, path in files.items())
    unreachable = "\n".join(f"- `{key}`: {reason}." for key, reason in sorted(cohort.unreachable.items()))
    if not unreachable:
        unreachable = "- none"
    ae = cohort.adverse_events
    sae_patients = ae.loc[ae["AESER"] == "Y", "USUBJID"].nunique()
    first, second = design.TRIAL_MONO, design.TRIAL_COMBO
    (f0, f1), (s0, s1) = design.ENROLMENT[first], design.ENROLMENT[second]
    return f"""# Synthetic cohort: NOT the trial's data

> **SYNTHETIC DATA.** Every patient, date and measurement in this folder was invented by a
> program (`analysis/synthetic/`). None of it comes from the trial of Yang, He et al. (2025,
> *Stem Cell Research & Therapy*, doi:10.1186/s13287-025-04772-x), whose patient-level data
> are not public. The cohort was built so that the analysis code, run on it, prints the
> aggregate numbers the article publishes. It is a test bed for that code, nothing more.

## Files

Written by `python -m analysis.synthetic --seed {cohort.seed} --out data/synthetic` (`make data`).
The same seed gives the same bytes; the SHA-256 digests below identify this version.

| file | rows | SHA-256 |
|---|---|---|
{hashes}

The columns and rules are the data contract (`data/README.md`, `analysis/contract.py`).
Only raw measurements are stored: joint counts, ESR, CRP, visual analogue scales, HAQ-DI
category scores, dates, adverse-event terms and medication intervals. Every score, response,
population and table is derived by the `analysis` package.

## How it was made

The generator reads its targets from the published registry (`data/published/*.csv`) when it
runs; no published number is written into its code. It builds the cohort constructively, so
that counts are right by construction, and uses small integer steps for means and SDs:

1. **Patients and dates.** {rows["subjects.csv"]} patients in the two arms and roles taken from the registry
   (completers, dropouts for lack of efficacy, dropouts with a new autoimmune disease, and the
   two other adverse-event dropouts the article describes). Transplantation dates fall after
   each trial's registration; the combination arm belongs to the second trial. Visits: a
   baseline on or a few days before transplantation, months 1, 3, 6 and 12, then every six
   months, each within a few days of its nominal date. Completers' last visit (their end of
   study) is at month 60 to 84; the months, then the days, are solved so that each arm's
   patient-years and the completers' mean, shortest and longest follow-up print as published.
   Where the data cut-off allows, follow-up covers the COVID-19 wave of winter 2022-23.
2. **Baseline.** Natural draws (age, RA duration, ESR, CRP, joint counts, global assessments,
   HAQ-DI), then one-step moves until every Table 1 mean and SD prints as published; binary
   characteristics go to exactly the published number of completers. Dropouts come from the
   same distributions, redrawn until no characteristic differs from completers' at p <= 0.10.
3. **Efficacy.** Each completer has a latent responsiveness shared by years 1, 3 and 5 (plus a
   little noise per year), which makes responses durable. Per arm and year, HAQ-DI changes and
   DAS28-ESR values are drawn along it; the published numbers of patients in remission and low
   disease activity take the lowest DAS28 values; values are then adjusted within their
   category so that the change from baseline has the published mean and SD; ACR levels go by
   rank of improvement with the published counts. The four DAS28 components are solved for the
   planned score, and the measures only the ACR criteria use (joints outside the 28-joint set,
   physician's global, pain) are chosen nearest their natural values so that the ACR level is
   exactly the planned one. Whole-mm and whole-mm/h moves finish the means and SDs. Visits
   between the anchors interpolate with noise (improvement builds up over months 1 to 6, then
   holds); CRP follows ESR.
4. **Medications.** Use of each drug class at transplantation and at the year-1, -3 and -5
   visits is drawn with weights (keep what was used, stop more often after a response, in the
   order glucocorticoids, NSAIDs, csDMARDs), exactly as many users as Table 4 prints; then
   turned into intervals whose pre-transplant part matches the Table 1 history flags.
5. **Adverse events.** Serious events follow the article's narratives; the others get
   plausible dates (lymphocyte decreases mostly in the first four weeks and resolved by week
   8-12, fever and chills on the day of infusion, COVID-19 in China's infection waves), in
   exactly Table 2's numbers.
6. **Check.** The files are loaded through the data contract and every published value is
   recomputed by the analysis package; the generator stops with an error naming any value that
   does not print as published.

Quantities the article shows only in figures (durations of response, disease-activity
clusters) were not targeted; they come out of the construction.

## Judgement calls

- Seed `{cohort.seed}`; one `numpy.random.default_rng` stream, steps in a fixed order.
- Monotherapy arm split between the trials: {design.MONO_IN_FIRST_TRIAL} in `{first}`, the rest in `{second}`.
  Enrolment windows: {f0.isoformat()} to {f1.isoformat()} and {s0.isoformat()} to {s1.isoformat()};
  no transplant at weekends. Data cut-off {design.DATA_CUTOFF.isoformat()}.
- A patient's end of study (EOSDT, the last safety assessment) is the date of the last visit,
  except for the ILD patient, whose last assessment follows the hospital stay of winter
  2022-23 (the last efficacy visit is earlier).
- Table 2's serious-event sub-rows add up to fewer events than its SAE totals, in both arms.
  We read the table as listing selected SAE categories only and add serious events with
  preferred terms that map to no listed row, none of them an infection or an autoimmune
  disease (either would contradict the listed rows): interstitial lung disease (the ILD
  worsening the article describes) and a femoral neck fracture in the monotherapy arm,
  cholecystitis and a lumbar vertebral fracture in the combination arm. They fall on patients
  who already have a serious event, so the number of patients with a serious event stays at
  {sae_patients}.
- Serious events per patient: the three Sjögren's syndromes and the SLE are new diagnoses in
  four dropouts (two of them in the combination arm, who never reach an ACR20 response; the
  other two are treated the same way); the pneumonia is COVID-19 pneumonia in a completer;
  the ILD patient has non-serious COVID-19, then ILD worsening, pulmonary tuberculosis and
  rectal cancer, and leaves the study before five years; the hypertension patient has two
  cerebral infarctions and leaves the study; type 2 diabetes (after a non-serious
  hyperglycaemia) is in a completer.
- The combination arm's two patients off csDMARDs at years 1, 3 and 5 are the patient in
  sustained drug-free remission (tapered off glucocorticoids, then NSAIDs, then csDMARDs
  during the first year) and a patient kept on a bDMARD alone.
- bDMARDs and tsDMARDs are never used together; tsDMARDs start only after
  {design.TSDMARD_APPROVAL.isoformat()}.
- COVID-19 windows: {_windows()}; between {design.MAIN_WAVE_ATTACK[0]:.0%} and
  {design.MAIN_WAVE_ATTACK[1]:.0%} of the patients under observation are infected in the winter
  2022-23 wave, at most {design.MAX_COVID_EPISODES} episodes per patient.
- Whole numbers for ESR (mm/h), VAS (mm) and joint counts; CRP and RA duration to one decimal;
  HAQ-DI categories 0-3 filled hardest-first (grip and activities before eating) with
  patient-specific weights. Whole-number ESR is why one Table 1 mean cannot print as
  published (below).
- Natural distributions: age, RA duration (log-normal, at least one year), ESR, CRP (correlated
  with ESR), DAS28-ESR and HAQ-DI follow Table 1's completers pooled over the arms; tender and
  swollen joint counts, the joints outside the 28-joint set and the global assessments (kept
  within 30-95 mm at baseline) are our choice. Binary characteristics of dropouts are drawn
  with the completers' pooled proportions.
- Visits: baseline 0-7 days before transplantation, other visits within
  {design.VISIT_JITTER} days of the nominal date (3 days at month 1). Dropouts leave at a
  scheduled visit after month {design.FIRST_EXTENSION_MONTH}: lack of efficacy at months 18-42,
  a new autoimmune disease at the visit after its diagnosis.
- Response model: a latent responsiveness per patient (year-to-year noise SD {cohort.assumptions.year_noise} on a
  standard normal scale), with patient-specific offsets for HAQ-DI, DAS28 and ACR so that the three do
  not rank patients identically. Dropouts for lack of efficacy improve a little, then lose it;
  dropouts with a new autoimmune disease never reach ACR20 (the article says so for the
  combination arm; we apply it to all four).
- Adverse events: about one lymphocyte decrease in ten happens later in follow-up (during a
  COVID-19 episode where the patient has one); hyperlipidaemia and the chronic serious
  diagnoses stay ongoing (no end date).
- Medications: NSAIDs in use at transplantation for most patients (no published count); a
  second csDMARD in combination for about a third of the patients; bDMARDs in the history
  start at least nine months after diagnosis; a bDMARD restarted after a pause may be a
  different one.
- No missing visits or values; COVID-19 lockdowns are not modelled as missed visits.

## Published values no dataset of this form can print

{unreachable}

The analysis reports each as a mismatch until the published registry records the reason in
its `documented_reason` column; the generator uses the nearest printable value and checks
that nothing else is off.

## What not to conclude

This cohort reproduces published aggregates and nothing else. Any other quantity computed from
it (a correlation, a subgroup, a time to event, a distribution's shape, an individual
trajectory, an association between an adverse event and a response) reflects the generator's
assumptions, not the trial. It cannot confirm or refute the article's findings, support a
clinical or regulatory decision, or stand in for the trial's data in a meta-analysis.
"""


def write_readme(cohort: Cohort, directory: Path, files: dict[str, Path]) -> Path:
    path = directory / "README.md"
    path.write_text(render_readme(cohort, files), encoding="utf-8", newline="\n")
    return path
