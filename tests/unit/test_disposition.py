"""Unit tests of analysis.disposition: disposition counts, the discontinued autoimmune
non-responders, and completers' follow-up.

Hand-built subjects, visits and events; counts, percentages and durations worked out by hand.
The disposition table is compared as a {(stage, arm): (n, pct)} mapping.
"""
from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from analysis.disposition import (
    count_discontinued_autoimmune_nonresponders,
    summarise_disposition,
    summarise_followup,
)
from analysis.endpoints import HAQ_CATEGORIES


def disposition_subjects() -> pd.DataFrame:
    """5 randomised: MSC completer, MSC lack of efficacy (no LTE), MSC adverse event;
    MSC+IFNG completer, MSC+IFNG withdrawal."""
    return pd.DataFrame({
        "USUBJID": ["m1", "m2", "m3", "i1", "i2"],
        "ARM": ["MSC", "MSC", "MSC", "MSC+IFNG", "MSC+IFNG"],
        "LTEFL": ["Y", "N", "Y", "Y", "Y"],
        "EOSSTT": ["COMPLETED", "DISCONTINUED", "DISCONTINUED", "COMPLETED", "DISCONTINUED"],
        "DCSREAS": [np.nan, "LACK OF EFFICACY", "ADVERSE EVENT", np.nan, "WITHDRAWAL BY SUBJECT"],
    })


def as_dict(table: pd.DataFrame) -> dict:
    return {(s, a): (n, p) for s, a, n, p in zip(table["stage"], table["arm"], table["n"], table["pct"])}


# ----------------------------------------------------------------------------- summarise_disposition
def test_disposition_counts_per_stage_and_arm():
    """Test 1: every stage x (msc, msc_ifng, total), counted by hand."""
    got = {k: n for k, (n, _p) in as_dict(summarise_disposition(disposition_subjects())).items()}
    assert got == {
        ("randomised", "msc"): 3, ("randomised", "msc_ifng"): 2, ("randomised", "total"): 5,
        ("entered_lte", "msc"): 2, ("entered_lte", "msc_ifng"): 2, ("entered_lte", "total"): 4,
        ("completed", "msc"): 1, ("completed", "msc_ifng"): 1, ("completed", "total"): 2,
        ("discontinued", "msc"): 2, ("discontinued", "msc_ifng"): 1, ("discontinued", "total"): 3,
        ("discontinued_lack_of_efficacy", "msc"): 1, ("discontinued_lack_of_efficacy", "msc_ifng"): 0,
        ("discontinued_lack_of_efficacy", "total"): 1,
        ("discontinued_adverse_event", "msc"): 1, ("discontinued_adverse_event", "msc_ifng"): 0,
        ("discontinued_adverse_event", "total"): 1,
    }


def test_disposition_percentages_are_of_all_randomised():
    """Test 2: percentages use the randomised total (5) for arm rows too: MSC completed
    1/5 = 20 % (not 1/3); total completed 2/5 = 40 %; randomised total 100 %."""
    got = as_dict(summarise_disposition(disposition_subjects()))
    assert got[("completed", "msc")][1] == pytest.approx(20.0, abs=1e-12)
    assert got[("completed", "total")][1] == pytest.approx(40.0, abs=1e-12)
    assert got[("randomised", "msc_ifng")][1] == pytest.approx(40.0, abs=1e-12)
    assert got[("randomised", "total")][1] == 100.0


def test_other_reasons_count_as_discontinued_only():
    """Test 3: WITHDRAWAL BY SUBJECT has no reason row of its own but is in "discontinued"."""
    got = as_dict(summarise_disposition(disposition_subjects()))
    assert got[("discontinued", "msc_ifng")][0] == 1
    assert got[("discontinued_lack_of_efficacy", "msc_ifng")][0] == 0
    assert got[("discontinued_adverse_event", "msc_ifng")][0] == 0


def test_disposition_counts_are_ints():
    """Test 4: n is a plain int (it becomes a registry value and printed counts)."""
    table = summarise_disposition(disposition_subjects())
    assert all(type(n) is int for n in table["n"])


# ----------------------------------------------------------------------------- autoimmune non-responders
#: ACR core set at baseline: 10 tender (68), 10 swollen (66), globals and pain 50, ESR 30, HAQ 2.
BASELINE = {"TJC68": 10, "SJC66": 10, "PTGA": 50.0, "PHGA": 50.0, "PAIN": 50.0, "ESR": 30.0, "HAQ": 2}
#: >= 20 % better on both joint counts and on PTGA, PHGA, PAIN (3 of 5): ACR20 reached.
ACR20 = {"TJC68": 8, "SJC66": 8, "PTGA": 40.0, "PHGA": 40.0, "PAIN": 40.0, "ESR": 30.0, "HAQ": 2}
#: Joints 10 -> 9 (10 %): ACR20 not reached whatever the rest.
NO_ACR20 = {"TJC68": 9, "SJC66": 9, "PTGA": 10.0, "PHGA": 10.0, "PAIN": 10.0, "ESR": 10.0, "HAQ": 0}


def visit(usubjid: str, month: int, values: dict) -> dict:
    row = {"USUBJID": usubjid, "AVISITN": month, "TJC28": 5, "SJC28": 5, "CRP": 5.0}
    row.update({k: v for k, v in values.items() if k != "HAQ"})
    row.update({c: values["HAQ"] for c in HAQ_CATEGORIES})
    return row


def autoimmune_dataset() -> SimpleNamespace:
    """d1 MSC, discontinued, serious SLE, visits never ACR20           -> counted
    d2 MSC, discontinued, serious Sjogren's, ACR20 at month 6          -> not (responded once)
    d3 MSC+IFNG, discontinued, SLE reported as NON-serious, no ACR20   -> not (not an SAE)
    d4 MSC+IFNG, completed, serious SLE, no ACR20                      -> not (not discontinued)
    d5 MSC+IFNG, discontinued, serious Sjogren's, baseline visit only  -> counted (never ACR20)
    d6 MSC, discontinued, serious pneumonia (not autoimmune), no ACR20 -> not"""
    subjects = pd.DataFrame({
        "USUBJID": ["d1", "d2", "d3", "d4", "d5", "d6"],
        "ARM": ["MSC", "MSC", "MSC+IFNG", "MSC+IFNG", "MSC+IFNG", "MSC"],
        "EOSSTT": ["DISCONTINUED", "DISCONTINUED", "DISCONTINUED", "COMPLETED", "DISCONTINUED", "DISCONTINUED"],
    })
    visits = pd.DataFrame([
        visit("d1", 0, BASELINE), visit("d1", 6, NO_ACR20), visit("d1", 12, NO_ACR20),
        visit("d2", 0, BASELINE), visit("d2", 6, ACR20), visit("d2", 12, NO_ACR20),
        visit("d3", 0, BASELINE), visit("d3", 6, NO_ACR20),
        visit("d4", 0, BASELINE), visit("d4", 12, NO_ACR20),
        visit("d5", 0, BASELINE),
        visit("d6", 0, BASELINE), visit("d6", 6, NO_ACR20),
    ])
    for col in ("AVISITN", "TJC28", "SJC28", "TJC68", "SJC66", *HAQ_CATEGORIES):
        visits[col] = visits[col].astype("Int64")
    adverse_events = pd.DataFrame({
        "USUBJID": ["d1", "d2", "d3", "d4", "d5", "d6"],
        "AESEQ": pd.array([1] * 6, dtype="Int64"),
        "AEDECOD": ["Systemic lupus erythematosus", "Sjogren's syndrome", "Systemic lupus erythematosus",
                    "Systemic lupus erythematosus", "Sjogren's syndrome", "Pneumonia"],
        "AESER": ["Y", "Y", "N", "Y", "Y", "Y"],
    })
    return SimpleNamespace(subjects=subjects, visits=visits, adverse_events=adverse_events, medications=None)


def test_discontinued_autoimmune_nonresponders_per_arm():
    """Test 5: d1 (MSC) and d5 (MSC+IFNG) qualify: {'msc': 1, 'msc_ifng': 1}."""
    assert count_discontinued_autoimmune_nonresponders(autoimmune_dataset()) == {"msc": 1, "msc_ifng": 1}


def test_one_acr20_response_at_any_visit_excludes_the_patient():
    """Test 6: d2 responded at month 6 only (not at month 12); making its month-6 visit a
    non-response adds it to the MSC count (1 -> 2)."""
    ds = autoimmune_dataset()
    v = ds.visits
    v.loc[(v["USUBJID"] == "d2") & (v["AVISITN"] == 6), ["TJC68", "SJC66"]] = 9
    assert count_discontinued_autoimmune_nonresponders(ds) == {"msc": 2, "msc_ifng": 1}


def test_non_serious_autoimmune_event_does_not_count():
    """Test 7: turning d3's SLE into a serious event adds d3 to MSC+IFNG (1 -> 2)."""
    ds = autoimmune_dataset()
    ds.adverse_events.loc[ds.adverse_events["USUBJID"] == "d3", "AESER"] = "Y"
    assert count_discontinued_autoimmune_nonresponders(ds) == {"msc": 1, "msc_ifng": 2}


def test_no_autoimmune_events_gives_zero_counts():
    """Test 8: without any adverse event both arms are 0 (present in the dict)."""
    ds = autoimmune_dataset()
    ds.adverse_events = ds.adverse_events.iloc[0:0]
    assert count_discontinued_autoimmune_nonresponders(ds) == {"msc": 0, "msc_ifng": 0}


# ----------------------------------------------------------------------------- summarise_followup
def followup_subjects() -> pd.DataFrame:
    """Completers followed 1461 days (2016-01-01 -> 2020-01-01, = 4 Julian years) and 2922
    days (2016-01-01 -> 2024-01-01, = 8 years); a discontinued patient followed 366 days."""
    return pd.DataFrame({
        "EOSSTT": ["COMPLETED", "COMPLETED", "DISCONTINUED"],
        "TRTSDT": pd.to_datetime(["2016-01-01", "2016-01-01", "2016-01-01"]),
        "EOSDT": pd.to_datetime(["2020-01-01", "2024-01-01", "2017-01-01"]),
    })


def test_followup_of_completers():
    """Test 9: completers only: mean 6, min 4, max 8 years."""
    out = summarise_followup(followup_subjects())
    assert out == pytest.approx({"mean": 6.0, "min": 4.0, "max": 8.0}, abs=1e-12)


def test_followup_of_safety_population_includes_dropouts():
    """Test 10: "safety" adds the 366-day patient: min 366/365.25, mean (4 + 8 + 366/365.25)/3."""
    out = summarise_followup(followup_subjects(), "safety")
    short = 366 / 365.25
    assert out["min"] == pytest.approx(short, abs=1e-12)
    assert out["mean"] == pytest.approx((4 + 8 + short) / 3, abs=1e-12)
    assert out["max"] == pytest.approx(8.0, abs=1e-12)
