"""Structural facts and judgement calls of the synthetic cohort (no published numbers here).

Two kinds of constants live in this module, and each says which kind it is:

* **Stated by the paper** (or by the trial registry it cites): the two trials and their
  registration dates, the visit schedule's anchor months, the calendar of China's COVID-19
  waves, the year tsDMARDs were approved in China, and the case narratives of the serious
  adverse events (which patient had which events, in which order).
* **Our judgement** where the paper is silent (split of the monotherapy arm between the
  trials, enrolment windows, data cut-off, distributions of natural values, the preferred
  terms of the serious events that Table 2 does not list). Every judgement is repeated in
  the README the generator writes.

All counts (how many patients, events, responders) come from the published registry through
:class:`analysis.synthetic.targets.Targets`.
"""
from __future__ import annotations

import datetime as dt

D = dt.date

# ---------------------------------------------------------------- stated by the paper
#: Trial registrations (paper, Abstract): id -> registration date.
TRIALS: dict[str, dt.date] = {
    "ChiCTR-ONC-16008770": D(2016, 7, 3),
    "ChiCTR-INR-17012462": D(2017, 8, 24),
}
TRIAL_MONO, TRIAL_COMBO = tuple(TRIALS)
#: tsDMARDs became available in China in 2019 (paper, Results, Medication regimens).
TSDMARD_APPROVAL = D(2019, 7, 1)
#: The core trials last 48 weeks; discontinuations happen in the extension, after month 12.
FIRST_EXTENSION_MONTH = 12
#: Efficacy is read at years 1, 3, 5 (Table 3), i.e. nominal months 12, 36, 60.
ANCHOR_MONTHS = (12, 36, 60)
#: Early visits of the core trials, then every 6 months (our reading of the schedule).
EARLY_MONTHS = (1, 3, 6)

# ---------------------------------------------------------------- our judgement: calendar
#: Enrolment (transplantation) windows per trial: after registration, one year each.
ENROLMENT: dict[str, tuple[dt.date, dt.date]] = {
    TRIAL_MONO: (D(2016, 7, 25), D(2017, 4, 28)),
    TRIAL_COMBO: (D(2017, 9, 11), D(2018, 8, 31)),
}
#: Monotherapy patients enrolled in the first trial (the rest in the second; judgement).
MONO_IN_FIRST_TRIAL = 45
#: Last possible date of a completer's final assessment (data cut-off; judgement).
DATA_CUTOFF = D(2024, 12, 31)
#: Completers' final visit is one of these months (5 to 7 years).
FINAL_MONTHS = (60, 66, 72, 78, 84)
#: A completer's follow-up is extended, where the cut-off allows, to cover this date, so that
#: the December 2022 - January 2023 COVID-19 wave falls inside most observation periods.
WAVE_COVERED_BY = D(2023, 2, 15)
#: Days of scheduling jitter around a nominal visit date.
VISIT_JITTER = 7

#: COVID-19 infection windows in China (start, end, relative weight of a reinfection or late
#: infection): sporadic infections in 2022, the nationwide wave after the end of zero-COVID
#: (Dec 2022 - Jan 2023; see MAIN_WAVE_ATTACK), the XBB wave (May - Jul 2023), the JN.1 winter
#: wave and a summer 2024 wave. No infection before 2022.
COVID_WINDOWS: tuple[tuple[dt.date, dt.date, float], ...] = (
    (D(2022, 3, 15), D(2022, 10, 31), 0.1),
    (D(2022, 12, 1), D(2023, 1, 25), 0.0),
    (D(2023, 4, 25), D(2023, 7, 31), 1.0),
    (D(2023, 11, 15), D(2024, 2, 28), 0.6),
    (D(2024, 6, 1), D(2024, 9, 30), 0.3),
)
#: Share of the patients under observation infected in the main wave (surveys in China found
#: about four in five people infected by the end of January 2023).
MAIN_WAVE_ATTACK = (0.78, 0.88)
#: At most this many COVID-19 episodes per patient.
MAX_COVID_EPISODES = 3
#: The serious COVID-19 pneumonia and the COVID-19 before the ILD worsening are in the main wave.
MAIN_WAVE = COVID_WINDOWS[1]

# ---------------------------------------------------------------- MedDRA terms
#: Preferred terms written for each Table 2 row (verbatim text, preferred term).
TERMS: dict[str, list[tuple[str, str]]] = {
    "lymphocyte_count_decreased": [("Lymphocyte count decreased", "Lymphocyte count decreased")],
    "fever_chills": [("Fever after infusion", "Pyrexia"), ("Chills after infusion", "Chills")],
    "covid19": [("COVID-19 infection", "COVID-19")],
    "hyperglycemia": [("Elevated blood glucose", "Hyperglycaemia")],
    "hyperlipidemia": [("Raised blood lipids", "Hyperlipidaemia")],
    "gastrointestinal_disorders": [("Nausea after infusion", "Nausea")],
}
#: Serious events named by the paper (verbatim text, preferred term).
SAE_TERMS: dict[str, tuple[str, str]] = {
    "sjogren": ("New-onset Sjogren's syndrome", "Sjogren's syndrome"),
    "sle": ("New-onset systemic lupus erythematosus", "Systemic lupus erythematosus"),
    "covid_pneumonia": ("COVID-19 pneumonia requiring hospitalisation", "COVID-19 pneumonia"),
    "tuberculosis": ("Pulmonary tuberculosis", "Pulmonary tuberculosis"),
    "rectal_cancer": ("Rectal cancer, surgically treated", "Rectal cancer"),
    "hypertension": ("Hypertension", "Hypertension"),
    "cerebral_infarction": ("Cerebral infarction", "Cerebral infarction"),
    "diabetes": ("Type 2 diabetes mellitus", "Type 2 diabetes mellitus"),
}
#: Judgement: serious events that Table 2 counts in its SAE total but lists under no row.
#: Non-infectious, non-autoimmune terms only (an infection or autoimmune term would contradict
#: the listed rows); the first is the ILD worsening the paper describes.
UNLISTED_SAE_TERMS: dict[str, tuple[str, str]] = {
    "ild": ("Worsening of RA-associated interstitial lung disease", "Interstitial lung disease"),
    "fracture_hip": ("Femoral neck fracture after a fall", "Femoral neck fracture"),
    "cholecystitis": ("Acute calculous cholecystitis", "Cholecystitis"),
    "fracture_spine": ("Lumbar vertebral compression fracture", "Lumbar vertebral fracture"),
}

# ---------------------------------------------------------------- medications
#: Drug names per class, most common first (judgement: common choices in China 2016-2024).
DRUGS: dict[str, tuple[str, ...]] = {
    "csDMARD": ("Methotrexate", "Leflunomide", "Hydroxychloroquine", "Sulfasalazine"),
    "bDMARD": ("Etanercept", "Adalimumab", "Tocilizumab", "Infliximab"),
    "tsDMARD": ("Tofacitinib", "Baricitinib"),
    "NSAID": ("Celecoxib", "Loxoprofen", "Meloxicam", "Diclofenac"),
    "PREDNISONE": ("Prednisone",),
}
