"""Exposure-adjusted incidence and between-arm rate ratios (sensitivity views of Table 2)."""
from __future__ import annotations

from types import SimpleNamespace

import pandas as pd
import pytest

from analysis.safety import compare_arms_by_row, summarise_adverse_events, summarise_incidence

d = pd.to_datetime


def _dataset():
    subjects = pd.DataFrame({
        "USUBJID": ["a", "b", "c"], "ARM": ["MSC", "MSC", "MSC+IFNG"],
        "TRTSDT": d(["2017-01-01", "2017-01-01", "2017-01-01"]),
        "EOSDT": d(["2018-01-01", "2019-01-01", "2018-01-01"]),
        "EOSSTT": ["COMPLETED"] * 3, "DCSREAS": ["", "", ""]})
    ae = pd.DataFrame({
        "USUBJID": ["a", "a", "c"], "AEDECOD": ["COVID-19", "COVID-19", "Pyrexia"], "AESER": ["N"] * 3,
        "AESTDT": d(["2017-07-02", "2017-10-01", "2017-01-02"])})
    return SimpleNamespace(subjects=subjects, adverse_events=ae)


def test_incidence_counts_patients_and_stops_exposure_at_first_event():
    """Test 1: patient a has 2 COVID events; counted once, at risk 182 days (to the first);
    patient b, no event, contributes 730 days. EAIR = 100 * 1 / (912 / 365.25)."""
    inc = summarise_incidence(_dataset()).set_index(["row", "arm"])
    covid = inc.loc[("covid19", "msc")]
    assert covid.patients == 1
    assert covid.py_at_risk == pytest.approx((182 + 730) / 365.25)
    assert covid.eair == pytest.approx(100 / ((182 + 730) / 365.25))
    assert covid.eair_low < covid.eair < covid.eair_high


def test_incidence_zero_patients_has_zero_rate_and_full_exposure():
    """Test 2: no COVID in the combination arm: 0 patients, 365 days at risk, EAIR 0."""
    inc = summarise_incidence(_dataset()).set_index(["row", "arm"])
    row = inc.loc[("covid19", "msc_ifng")]
    assert (row.patients, row.eair, row.eair_low) == (0, 0.0, 0.0)
    assert row.py_at_risk == pytest.approx(365 / 365.25)


def test_rate_ratio_per_row():
    """Test 3: COVID events 2 over 1095 days (MSC) vs 0 (MSC+IFNG): ratio inf, p = 1 by exact test
    only when balanced; fever 0 vs 1: ratio 0."""
    table = summarise_adverse_events(_dataset())
    ratios = compare_arms_by_row(table).set_index("row")
    assert ratios.loc["covid19", "rate_ratio"] == float("inf")
    assert ratios.loc["fever_chills", "rate_ratio"] == 0.0
    assert 0 <= ratios.loc["covid19", "p_value"] <= 1
