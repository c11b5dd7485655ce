"""Would a rheumatologist believe the shipped synthetic cohort? Checks on data/synthetic.

Each test reads the raw files (through the data contract) and derives what it needs with the
analysis package; nothing here reads a flag the generator stored.
"""
from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest
from scipy.stats import spearmanr

from analysis.endpoints import HAQ_CATEGORIES
from analysis.medications import derive_medication_use
from analysis.populations import DAYS_PER_YEAR
from analysis.safety import COVID_TERMS, derive_table2_row

REGISTRATION = {"ChiCTR-ONC-16008770": pd.Timestamp("2016-07-03"),
                "ChiCTR-INR-17012462": pd.Timestamp("2017-08-24")}
TSDMARD_APPROVAL_YEAR = pd.Timestamp("2019-01-01")
#: Words that would put an unlisted serious event under Table 2's infection or autoimmune rows.
INFECTION_OR_AUTOIMMUNE = ("infect", "pneumon", "tubercul", "sepsis", "covid", "lupus", "sjogren",
                           "vasculitis", "arthritis", "myositis", "sclero", "thyroiditis")


def _days(a: pd.Series, b: pd.Series) -> pd.Series:
    return (a - b).dt.days


# ----------------------------------------------------------------------- measurements
def test_counts_and_scales_in_range(dataset):
    v = dataset.visits
    assert v[["TJC28", "SJC28"]].le(28).all().all() and v[["TJC28", "SJC28"]].ge(0).all().all()
    assert (v["TJC28"] <= v["TJC68"]).all() and (v["SJC28"] <= v["SJC66"]).all()
    assert v["TJC68"].le(68).all() and v["SJC66"].le(66).all()
    assert v[list(HAQ_CATEGORIES)].isin([0, 1, 2, 3]).all().all()
    assert v[["PTGA", "PHGA", "PAIN"]].ge(0).all().all() and v[["PTGA", "PHGA", "PAIN"]].le(100).all().all()
    assert v["ESR"].between(1, 150).all() and v["CRP"].between(0, 200).all()
    assert (v["ESR"] == v["ESR"].round()).all(), "ESR is a whole number of mm/h"


def test_acute_phase_reactants_follow_disease_activity(endpoints):
    assert spearmanr(endpoints["ESR"], endpoints["DAS28ESR"])[0] > 0.3
    assert spearmanr(endpoints["CRP"], endpoints["DAS28ESR"])[0] > 0.3
    assert spearmanr(endpoints["CRP"], endpoints["ESR"])[0] > 0.5


def test_baseline_mostly_high_disease_activity(endpoints):
    baseline = endpoints[endpoints["AVISITN"] == 0]
    assert (baseline["DAS28ESR"] > 5.1).mean() >= 0.75
    assert baseline["DAS28ESR"].between(3.2, 8.0).all()
    assert baseline["PTGA"].between(30, 95).all(), "active RA: patient's global not near 0 or 100"


def test_improvement_builds_up_over_six_months_then_holds(endpoints):
    completers = endpoints[endpoints["EOSSTT"] == "COMPLETED"]
    mean = completers.groupby(["ARM", "AVISITN"])["DAS28ESR"].mean().unstack(0)
    for arm in mean.columns:
        assert mean.loc[0, arm] > mean.loc[1, arm] > mean.loc[3, arm] > mean.loc[6, arm]
        assert abs(mean.loc[60, arm] - mean.loc[12, arm]) < 0.3
        assert abs(mean.loc[12, arm] - mean.loc[6, arm]) < 0.4


def test_haq_categories_track_the_index(endpoints):
    """Every HAQ category moves with the disability index (no category is noise)."""
    for category in HAQ_CATEGORIES:
        assert spearmanr(endpoints[category].astype(float), endpoints["HAQDI"])[0] > 0.5, category
    zero = endpoints[endpoints["HAQDI"] == 0]
    assert (zero[list(HAQ_CATEGORIES)] == 0).all().all()


# ----------------------------------------------------------------------- dates
def test_transplants_after_registration(dataset):
    s = dataset.subjects
    assert (s["TRTSDT"] > s["STUDYID"].map(REGISTRATION)).all()
    assert (s.loc[s["ARM"] == "MSC+IFNG", "STUDYID"] == "ChiCTR-INR-17012462").all()


def test_visits_ordered_and_inside_follow_up(dataset):
    v = dataset.visits.merge(dataset.subjects[["USUBJID", "TRTSDT", "EOSDT"]], on="USUBJID")
    v = v.sort_values(["USUBJID", "AVISITN"])
    assert v.groupby("USUBJID")["ADT"].apply(lambda d: d.is_monotonic_increasing and d.is_unique).all()
    baseline = v[v["AVISITN"] == 0]
    assert _days(baseline["TRTSDT"], baseline["ADT"]).between(0, 14).all()
    later = v[v["AVISITN"] > 0]
    assert (later["ADT"] > later["TRTSDT"]).all() and (later["ADT"] <= later["EOSDT"]).all()


def test_visits_near_their_nominal_month(dataset):
    v = dataset.visits.merge(dataset.subjects[["USUBJID", "TRTSDT"]], on="USUBJID")
    v = v[v["AVISITN"] > 0]
    nominal = v["AVISITN"].astype(float) * DAYS_PER_YEAR / 12
    assert (_days(v["ADT"], v["TRTSDT"]) - nominal).abs().max() <= 10


def test_completers_followed_five_to_seven_years(dataset):
    s = dataset.subjects[dataset.subjects["EOSSTT"] == "COMPLETED"]
    years = _days(s["EOSDT"], s["TRTSDT"]) / DAYS_PER_YEAR
    assert years.between(5, 7).all()
    assert 5.5 <= years.mean() < 6.5


def test_dropouts_have_no_data_after_end_of_study(dataset):
    s = dataset.subjects[dataset.subjects["EOSSTT"] == "DISCONTINUED"][["USUBJID", "EOSDT", "TRTSDT"]]
    v = dataset.visits.merge(s, on="USUBJID")
    ae = dataset.adverse_events.merge(s, on="USUBJID")
    cm = dataset.medications.merge(s, on="USUBJID")
    assert (v["ADT"] <= v["EOSDT"]).all()
    assert (ae["AESTDT"] <= ae["EOSDT"]).all()
    assert (cm["CMSTDT"] <= cm["EOSDT"]).all()
    assert (_days(s["EOSDT"], s["TRTSDT"]) < 5 * DAYS_PER_YEAR).all(), "a dropout left before five years"
    assert v.groupby("USUBJID")["AVISITN"].max().ge(12).all(), "dropouts left during the extension"


# ----------------------------------------------------------------------- adverse events
def test_lymphocyte_decreases_early_and_resolved(dataset):
    ae = dataset.adverse_events.merge(dataset.subjects[["USUBJID", "TRTSDT"]], on="USUBJID")
    lym = ae[ae["AEDECOD"].isin(["Lymphocyte count decreased", "Lymphopenia"])]
    onset = _days(lym["AESTDT"], lym["TRTSDT"])
    early = lym[onset <= 28]
    assert len(early) >= 0.8 * len(lym)
    assert (_days(early["AEENDT"], early["TRTSDT"]) <= 84).all()
    assert early["AEENDT"].notna().all()


def test_fever_and_chills_around_the_infusion(dataset):
    ae = dataset.adverse_events.merge(dataset.subjects[["USUBJID", "TRTSDT"]], on="USUBJID")
    fever = ae[ae["AEDECOD"].isin(["Pyrexia", "Chills"])]
    assert len(fever) > 0
    assert _days(fever["AESTDT"], fever["TRTSDT"]).between(0, 2).all()


def test_covid_in_the_pandemic_calendar(dataset):
    ae = dataset.adverse_events.merge(dataset.subjects[["USUBJID", "TRTSDT"]], on="USUBJID")
    covid = ae[ae["AEDECOD"].isin(COVID_TERMS)]
    assert (covid["AESTDT"] >= pd.Timestamp("2020-01-01")).all()
    assert (covid["AESTDT"] >= covid["TRTSDT"]).all()
    wave = covid["AESTDT"].between(pd.Timestamp("2022-12-01"), pd.Timestamp("2023-01-31"))
    assert wave.mean() >= 0.6, "most infections in the winter 2022-23 wave"
    assert covid.groupby("USUBJID").size().max() <= 3
    gaps = covid.sort_values("AESTDT").groupby("USUBJID")["AESTDT"].diff().dt.days.dropna()
    assert (gaps >= 60).all(), "reinfections months apart"


def test_unlisted_serious_events_are_neither_infections_nor_autoimmune(dataset):
    rows = derive_table2_row(dataset.adverse_events)
    unlisted = rows[(rows["AESER"] == "Y") & rows["T2ROW"].isna()]
    assert len(unlisted) > 0
    for term in unlisted["AEDECOD"]:
        assert not any(w in term.lower() for w in INFECTION_OR_AUTOIMMUNE), term


def test_combination_dropouts_never_reach_acr20(endpoints, dataset):
    drop = endpoints[(endpoints["ARM"] == "MSC+IFNG") & (endpoints["EOSSTT"] == "DISCONTINUED")]
    assert drop["USUBJID"].nunique() == 2
    assert not drop["ACR20"].fillna(False).astype(bool).any()
    ae = dataset.adverse_events
    autoimmune = ae[(ae["AESER"] == "Y") & ae["AEDECOD"].isin(["Systemic lupus erythematosus",
                                                               "Sjogren's syndrome"])]
    assert set(drop["USUBJID"]) <= set(autoimmune["USUBJID"])


# ----------------------------------------------------------------------- medications
def test_tsdmards_start_after_approval(dataset):
    ts = dataset.medications[dataset.medications["CMCLASS"] == "tsDMARD"]
    assert len(ts) > 0
    assert (ts["CMSTDT"] >= TSDMARD_APPROVAL_YEAR).all()


@pytest.mark.parametrize("flag, cmclass", [("HXCSDMRD", "csDMARD"), ("HXBDMRD", "bDMARD"),
                                           ("HXNSAID", "NSAID"), ("HXPRED", "PREDNISONE")])
def test_history_flags_match_intervals(dataset, flag, cmclass):
    cm = dataset.medications.merge(dataset.subjects[["USUBJID", "TRTSDT"]], on="USUBJID")
    before = set(cm.loc[(cm["CMCLASS"] == cmclass) & (cm["CMSTDT"] < cm["TRTSDT"]), "USUBJID"])
    flagged = set(dataset.subjects.loc[dataset.subjects[flag] == "Y", "USUBJID"])
    assert before == flagged


def test_no_biologic_together_with_a_jak_inhibitor(dataset):
    use = derive_medication_use(dataset)
    assert not (use["USE_bdmard"] & use["USE_tsdmard"]).any()


def test_tapering_story(dataset):
    """Glucocorticoid use falls among completers, and the patient off every drug stopped
    glucocorticoids first, then NSAIDs, then csDMARDs."""
    use = derive_medication_use(dataset)
    by_time = use.groupby("TIMEPOINT")["USE_prednisone"].mean()
    assert by_time["year1"] < by_time["baseline"] and by_time["year5"] <= by_time["year1"]
    drugs = [c for c in use.columns if c.startswith("USE_")]
    off = use[use["TIMEPOINT"] != "baseline"].groupby("USUBJID")[drugs].any().any(axis=1)
    free = off[~off].index.tolist()
    assert len(free) == 1
    cm = dataset.medications[dataset.medications["USUBJID"] == free[0]]
    last_stop = cm.groupby("CMCLASS")["CMENDT"].max()
    assert last_stop["PREDNISONE"] < last_stop["NSAID"] < last_stop["csDMARD"]


def test_history_starts_after_diagnosis(dataset):
    """Disease-modifying drugs and glucocorticoids start after RA was diagnosed (NSAIDs may
    come a few months earlier); a biologic comes after at least five months of csDMARDs."""
    s = dataset.subjects[["USUBJID", "TRTSDT", "RADURY"]]
    cm = dataset.medications.merge(s, on="USUBJID")
    diagnosis = cm["TRTSDT"] - pd.to_timedelta(np.round(cm["RADURY"] * DAYS_PER_YEAR), unit="D")
    dmard = cm["CMCLASS"].isin(["csDMARD", "bDMARD", "PREDNISONE"])
    assert (cm.loc[dmard, "CMSTDT"] >= diagnosis[dmard] - dt.timedelta(days=1)).all()
    first_cs = cm[cm["CMCLASS"] == "csDMARD"].groupby("USUBJID")["CMSTDT"].min()
    first_b = cm[cm["CMCLASS"] == "bDMARD"].groupby("USUBJID")["CMSTDT"].min()
    assert ((first_b - first_cs.reindex(first_b.index)).dt.days >= 150).all()
