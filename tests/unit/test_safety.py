"""Unit tests of analysis.safety: Table 2 rows, event counts, exposure, rates and their CIs.

A hand-built dataset of five patients (four transplanted) with every expected count written
out below; patient-years are exact day counts divided by 365.25, worked out by hand from the
dates. Frames are compared after sorting by (row, arm).
"""
from __future__ import annotations

import math
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from analysis.safety import (
    COVID_TERMS,
    TABLE2_ROWS,
    compare_event_rates,
    compute_event_rate,
    compute_rate_ci,
    derive_exposure,
    derive_table2_row,
    summarise_adverse_events,
    summarise_serious_events,
)

D = pd.to_datetime

# Exposure, counted by hand from the dates below:
#   p1 2017-01-01 -> 2019-01-01 = 365 + 365 = 730 days
#   p2 2017-01-01 -> 2018-01-01 = 365 days
#   p3 2017-01-01 -> 2020-01-01 = 3 * 365 = 1095 days (2020-02-29 is after the end)
#   p4 2018-01-01 -> 2018-07-02 = 31+28+31+30+31+30 + 1 = 182 days
PY_MSC = (730 + 365) / 365.25        # 2.997946...
PY_IFNG = (1095 + 182) / 365.25      # 3.496235...


def subjects() -> pd.DataFrame:
    return pd.DataFrame({
        "USUBJID": ["p1", "p2", "p3", "p4", "p5"],
        "ARM": ["MSC", "MSC", "MSC+IFNG", "MSC+IFNG", "MSC"],
        "TRTSDT": D(["2017-01-01", "2017-01-01", "2017-01-01", "2018-01-01", None]),
        "EOSDT": D(["2019-01-01", "2018-01-01", "2020-01-01", "2018-07-02", "2018-01-01"]),
        "EOSSTT": ["COMPLETED", "DISCONTINUED", "COMPLETED", "DISCONTINUED", "DISCONTINUED"],
        # p2 died (a hand-built value: the paper counts deaths from DCSREAS == "DEATH").
        "DCSREAS": [np.nan, "DEATH", np.nan, "ADVERSE EVENT", "WITHDRAWAL BY SUBJECT"],
    })


def adverse_events() -> pd.DataFrame:
    rows = [
        ("p1", 1, "Pyrexia", "N"), ("p1", 2, "Chills", "N"), ("p1", 3, "Lymphopenia", "N"),
        ("p1", 4, "Systemic lupus erythematosus", "Y"), ("p1", 5, "Pneumonia", "Y"),
        ("p2", 1, "Pyrexia", "N"), ("p2", 2, "Headache", "N"),       # Headache: no Table 2 row
        ("p2", 3, "Appendicitis", "Y"),                                 # unlisted serious term
        ("p3", 1, "COVID-19 pneumonia", "Y"), ("p3", 2, "Sjogren's syndrome", "Y"),
        ("p3", 3, "Nausea", "N"), ("p3", 4, "Pneumonia", "N"),         # non-serious pneumonia
        ("p5", 1, "Pyrexia", "N"),                                      # p5 never transplanted
    ]
    frame = pd.DataFrame(rows, columns=["USUBJID", "AESEQ", "AEDECOD", "AESER"])
    frame["AESEQ"] = frame["AESEQ"].astype("Int64")
    frame["AETERM"] = frame["AEDECOD"].str.lower()
    frame["AESTDT"] = D("2017-06-01")
    frame["AEENDT"] = pd.NaT
    return frame


def dataset(**overrides) -> SimpleNamespace:
    parts = {"subjects": subjects(), "adverse_events": adverse_events(),
             "visits": pd.DataFrame(), "medications": pd.DataFrame()}
    parts.update(overrides)
    return SimpleNamespace(**parts)


ROW_IDS = [r for r, *_ in TABLE2_ROWS]

#: (row, arm) -> (events, patients), counted by hand from adverse_events() and subjects().
#: Rows not listed are (0, 0).
EXPECTED_COUNTS = {
    ("any_ae", "msc"): (5, 2),                      # p1: 3 non-serious, p2: 2 (Headache too)
    ("lymphocyte_count_decreased", "msc"): (1, 1),  # Lymphopenia
    ("fever_chills", "msc"): (3, 2),                # p1 Pyrexia + Chills, p2 Pyrexia
    ("sae", "msc"): (3, 2),                         # SLE, Pneumonia, Appendicitis (unlisted)
    ("sae_autoimmune", "msc"): (1, 1),
    ("sae_sle", "msc"): (1, 1),
    ("sae_infections", "msc"): (1, 1),
    ("sae_pneumonia", "msc"): (1, 1),
    ("death", "msc"): (1, 1),                       # p2
    ("any_ae", "msc_ifng"): (2, 1),                 # Nausea, non-serious Pneumonia
    ("gastrointestinal_disorders", "msc_ifng"): (1, 1),
    ("sae", "msc_ifng"): (2, 1),
    ("sae_autoimmune", "msc_ifng"): (1, 1),
    ("sae_sjogren", "msc_ifng"): (1, 1),
    ("sae_infections", "msc_ifng"): (1, 1),         # COVID-19 pneumonia
    ("sae_pneumonia", "msc_ifng"): (1, 1),
}


# ----------------------------------------------------------------------------- derive_table2_row
@pytest.mark.parametrize("term, serious, row", [
    ("Pyrexia", "N", "fever_chills"),
    ("Chills", "N", "fever_chills"),
    ("Lymphopenia", "N", "lymphocyte_count_decreased"),
    ("SARS-CoV-2 test positive", "N", "covid19"),
    ("Dyslipidaemia", "N", "hyperlipidemia"),
    ("Systemic lupus erythematosus", "Y", "sae_sle"),
    ("Sjogren's syndrome", "Y", "sae_sjogren"),
    ("COVID-19 pneumonia", "Y", "sae_pneumonia"),
    ("Pulmonary tuberculosis", "Y", "sae_tuberculosis"),
    ("Rectal cancer", "Y", "sae_malignancy"),
    ("Graft versus host disease", "Y", "sae_gvhd"),
])
def test_table2_row_maps_listed_terms_to_their_most_specific_row(term, serious, row):
    """Test 1: a listed term goes to its leaf row in its own block (SLE -> sae_sle, not the
    sae_autoimmune parent)."""
    out = derive_table2_row(pd.DataFrame({"AEDECOD": [term], "AESER": [serious]}))
    assert out["T2ROW"].tolist() == [row]


@pytest.mark.parametrize("term, serious", [
    ("Pneumonia", "N"),          # listed only in the serious block
    ("Hypertension", "N"),       # listed only in the serious block
    ("Pyrexia", "Y"),            # listed only in the non-serious block
    ("COVID-19", "Y"),           # non-serious row only; a serious one is not "SAE infections"
    ("Headache", "N"),           # not listed at all
    ("Appendicitis", "Y"),
])
def test_table2_row_is_none_for_terms_unlisted_in_their_block(term, serious):
    """Test 2: serious and non-serious blocks are separate; an unlisted (term, block) -> None."""
    out = derive_table2_row(pd.DataFrame({"AEDECOD": [term], "AESER": [serious]}))
    assert out["T2ROW"].tolist() == [None]


def test_table2_row_keeps_rows_index_and_input():
    """Test 3: one output row per input row, same index, input frame not modified."""
    ae = pd.DataFrame({"AEDECOD": ["Nausea", "Headache"], "AESER": ["N", "N"]}, index=[10, 20])
    before = ae.copy()
    out = derive_table2_row(ae)
    assert out.index.tolist() == [10, 20]
    assert out["T2ROW"].tolist() == ["gastrointestinal_disorders", None]
    pd.testing.assert_frame_equal(ae, before)


# ----------------------------------------------------------------------------- exposure and rate
def test_exposure_is_days_over_365_25():
    """Test 4: EXPOSYR of p1 (730 days) is 730/365.25 = 1.998631 years."""
    out = derive_exposure(subjects().iloc[[0]])
    assert out["EXPOSYR"].iloc[0] == pytest.approx(730 / 365.25, abs=1e-12)


def test_event_rate_is_per_100_patient_years():
    """Test 5: 161 events over 445.15 PY = 36.1676 per 100 PY (the paper's 36.17); 0 events -> 0."""
    assert float(compute_event_rate(161, 445.15)) == pytest.approx(16100 / 445.15, abs=1e-12)
    assert float(compute_event_rate(0, 10.0)) == 0.0


# ----------------------------------------------------------------------------- summarise_adverse_events
def test_summary_has_one_row_per_table2_row_and_arm():
    """Test 6: 20 Table 2 rows x 2 arms = 40 rows, in TABLE2_ROWS order within each arm."""
    table = summarise_adverse_events(dataset())
    assert len(table) == 2 * len(TABLE2_ROWS) == 40
    assert table.loc[table["arm"] == "msc", "row"].tolist() == ROW_IDS
    assert table.loc[table["arm"] == "msc_ifng", "row"].tolist() == ROW_IDS


def test_summary_events_and_patients_per_row_and_arm():
    """Test 7: every (row, arm) has the events and patients counted by hand."""
    table = summarise_adverse_events(dataset())
    got = table.sort_values(["row", "arm"]).reset_index(drop=True)[["row", "arm", "events", "patients"]]
    expected = pd.DataFrame(
        [(row, arm, *EXPECTED_COUNTS.get((row, arm), (0, 0)))
         for row in ROW_IDS for arm in ("msc", "msc_ifng")],
        columns=["row", "arm", "events", "patients"],
    ).sort_values(["row", "arm"]).reset_index(drop=True)
    pd.testing.assert_frame_equal(got, expected, check_dtype=False)


def test_summary_patient_years_and_n_per_arm():
    """Test 8: PY per arm from exact dates (MSC 1095/365.25, MSC+IFNG 1277/365.25); n = 2 per arm
    (p5, never transplanted, is outside the safety population)."""
    table = summarise_adverse_events(dataset()).groupby("arm")[["py", "n"]].first()
    assert table.loc["msc", "py"] == pytest.approx(PY_MSC, abs=1e-12)
    assert table.loc["msc_ifng", "py"] == pytest.approx(PY_IFNG, abs=1e-12)
    assert table["n"].to_dict() == {"msc": 2, "msc_ifng": 2}


def test_summary_rates_are_100_events_over_py():
    """Test 9: rate = 100 * events / arm PY, e.g. MSC any AE = 500 / 2.997946 = 166.78."""
    table = summarise_adverse_events(dataset()).set_index(["row", "arm"])
    assert table.loc[("any_ae", "msc"), "rate"] == pytest.approx(500 / PY_MSC, abs=1e-9)
    assert table.loc[("any_ae", "msc"), "rate"] == pytest.approx(166.780822, abs=1e-6)
    assert table.loc[("sae", "msc_ifng"), "rate"] == pytest.approx(200 / PY_IFNG, abs=1e-9)
    assert table.loc[("fever_chills", "msc"), "rate"] == pytest.approx(300 / PY_MSC, abs=1e-9)


def test_any_ae_row_is_all_non_serious_events_including_unlisted_terms():
    """Test 10: "At least one AE" counts events (not patients) of every non-serious term,
    Headache and the non-serious Pneumonia included, and no serious event."""
    table = summarise_adverse_events(dataset()).set_index(["row", "arm"])
    assert table.loc[("any_ae", "msc"), "events"] == 5
    assert table.loc[("any_ae", "msc_ifng"), "events"] == 2


def test_sae_row_counts_unlisted_serious_terms_beyond_its_sub_rows():
    """Test 11: the SAE total (3 for MSC) exceeds the sum of its listed leaf rows (SLE 1 +
    pneumonia 1): the unlisted serious Appendicitis still counts, as in the paper (11 vs 9)."""
    table = summarise_adverse_events(dataset()).set_index(["row", "arm"])["events"]
    leaves = ["sae_sle", "sae_sjogren", "sae_pneumonia", "sae_tuberculosis", "sae_hypertension",
              "sae_diabetes_t2", "sae_malignancy", "sae_cerebral_infarction", "sae_gvhd"]
    assert table[("sae", "msc")] == 3
    assert sum(table[(leaf, "msc")] for leaf in leaves) == 2


def test_parent_rows_are_the_union_of_their_children():
    """Test 12: sae_autoimmune = SLE + Sjogren's and sae_infections = pneumonia + tuberculosis,
    in each arm."""
    table = summarise_adverse_events(dataset()).set_index(["row", "arm"])["events"]
    for arm in ("msc", "msc_ifng"):
        assert table[("sae_autoimmune", arm)] == table[("sae_sle", arm)] + table[("sae_sjogren", arm)]
        assert table[("sae_infections", arm)] == table[("sae_pneumonia", arm)] + table[("sae_tuberculosis", arm)]
    assert (table[("sae_autoimmune", "msc")], table[("sae_autoimmune", "msc_ifng")]) == (1, 1)


def test_death_is_counted_from_discontinuation_reason():
    """Test 13: death row = patients with DCSREAS "DEATH" (p2 in MSC; none in MSC+IFNG), as
    events and patients, with rate 100 / PY."""
    table = summarise_adverse_events(dataset()).set_index(["row", "arm"])
    assert table.loc[("death", "msc"), ["events", "patients"]].tolist() == [1, 1]
    assert table.loc[("death", "msc"), "rate"] == pytest.approx(100 / PY_MSC, abs=1e-9)
    assert table.loc[("death", "msc_ifng"), ["events", "patients"]].tolist() == [0, 0]


def test_a_valid_dataset_can_record_a_death(tmp_path):
    """Test 14: the death row counts DCSREAS == "DEATH", so a dataset that passes the data
    contract must be able to say so. Copy of the minimal dataset with RA-003's reason changed
    from LACK OF EFFICACY to DEATH: it loads, and Table 2 counts 1 death in MSC."""
    from analysis import paths
    from analysis.contract import load_dataset

    for name in ("subjects.csv", "visits.csv", "adverse_events.csv", "medications.csv"):
        (tmp_path / name).write_bytes((paths.TEST_DATASET / name).read_bytes())
    text = (tmp_path / "subjects.csv").read_text(encoding="utf-8")
    assert text.count("DISCONTINUED,LACK OF EFFICACY") == 1
    (tmp_path / "subjects.csv").write_text(
        text.replace("DISCONTINUED,LACK OF EFFICACY", "DISCONTINUED,DEATH"), encoding="utf-8")
    table = summarise_adverse_events(load_dataset(tmp_path)).set_index(["row", "arm"])
    assert table.loc[("death", "msc"), "events"] == 1


def test_arm_with_zero_events_has_rate_zero_and_garwood_upper_limit():
    """Test 15: no fever in MSC+IFNG -> rate 0.0, CI (0, 100 * -ln(0.025) / PY): for k = 0 the
    exact upper limit is chi2(0.975, 2)/2 = -ln(0.025) = 3.68888 events."""
    row = summarise_adverse_events(dataset()).set_index(["row", "arm"]).loc[("fever_chills", "msc_ifng")]
    assert row["rate"] == 0.0
    assert row["rate_low"] == 0.0
    assert row["rate_high"] == pytest.approx(100 * -math.log(0.025) / PY_IFNG, rel=1e-9)


def test_events_of_patients_outside_the_safety_population_are_ignored():
    """Test 16: p5 (no TRTSDT) has a Pyrexia event; it is in neither arm's counts, so MSC fever
    stays 3 events and removing p5's event changes nothing."""
    with_p5 = summarise_adverse_events(dataset())
    ae = adverse_events()
    without_p5 = summarise_adverse_events(dataset(adverse_events=ae[ae["USUBJID"] != "p5"]))
    pd.testing.assert_frame_equal(with_p5, without_p5)


def test_arm_without_patients_has_nan_rate():
    """Test 17: an arm with no safety patient has n 0, PY 0 and rate/CI NaN (no division by 0)."""
    s = subjects()
    ds = dataset(subjects=s[s["ARM"] == "MSC"])
    table = summarise_adverse_events(ds).set_index(["row", "arm"])
    row = table.loc[("sae", "msc_ifng")]
    assert row["n"] == 0 and row["py"] == 0.0 and row["events"] == 0
    assert np.isnan(row["rate"]) and np.isnan(row["rate_low"]) and np.isnan(row["rate_high"])


def test_summary_ci_brackets_the_rate():
    """Test 18: in every row with PY > 0, rate_low <= rate <= rate_high."""
    table = summarise_adverse_events(dataset())
    assert (table["rate_low"] <= table["rate"]).all()
    assert (table["rate"] <= table["rate_high"]).all()


def test_extra_arm_column_in_adverse_events_is_ignored():
    """Test 19: the data contract keeps extra columns, and an ADaM-style export often repeats
    ARM on every adverse-event row. The arm comes from subjects; an extra ARM column in
    adverse_events (here equal to the subject's arm, as text) must not change Table 2 or the
    serious-event summary."""
    ae = adverse_events()
    ae["ARM"] = ae["USUBJID"].map(dict(zip(subjects()["USUBJID"], subjects()["ARM"])))
    pd.testing.assert_frame_equal(summarise_adverse_events(dataset(adverse_events=ae)),
                                  summarise_adverse_events(dataset()))
    assert summarise_serious_events(dataset(adverse_events=ae)) == summarise_serious_events(dataset())


# ----------------------------------------------------------------------------- compute_rate_ci
@pytest.mark.parametrize("k", [1, 2, 5, 10, 11])
def test_rate_ci_matches_chi_square_formula(k):
    """Test 20: Garwood limits: chi2.ppf(0.025, 2k)/2 and chi2.ppf(0.975, 2k+2)/2 events,
    times 100 / PY."""
    py = 445.15
    low, high = compute_rate_ci(k, py)
    assert low == pytest.approx(100 * stats.chi2.ppf(0.025, 2 * k) / 2 / py, rel=1e-9)
    assert high == pytest.approx(100 * stats.chi2.ppf(0.975, 2 * k + 2) / 2 / py, rel=1e-9)


def test_rate_ci_closed_forms_for_zero_and_one_event():
    """Test 21: with 2 degrees of freedom chi2.ppf(p, 2) = -2 ln(1 - p), so by hand:
    k = 0 -> (0, -ln 0.025) = (0, 3.688879) and k = 1 lower = -ln 0.975 = 0.025318 events
    (PY = 100, so the rate per 100 PY equals the event count)."""
    assert compute_rate_ci(0, 100.0) == pytest.approx((0.0, -math.log(0.025)), abs=1e-12)
    assert compute_rate_ci(0, 100.0)[1] == pytest.approx(3.688879454113936, abs=1e-9)
    assert compute_rate_ci(1, 100.0)[0] == pytest.approx(-math.log(0.975), rel=1e-9)


def test_rate_ci_alpha_changes_the_level():
    """Test 22: alpha = 0.10 uses the 5%/95% quantiles and gives a narrower interval."""
    low90, high90 = compute_rate_ci(3, 50.0, alpha=0.10)
    assert low90 == pytest.approx(100 * stats.chi2.ppf(0.05, 6) / 2 / 50.0, rel=1e-9)
    assert high90 == pytest.approx(100 * stats.chi2.ppf(0.95, 8) / 2 / 50.0, rel=1e-9)
    low95, high95 = compute_rate_ci(3, 50.0)
    assert low95 < low90 < high90 < high95


def test_rate_ci_scales_inversely_with_exposure():
    """Test 23: doubling PY halves both limits (the count interval is divided by exposure)."""
    a = compute_rate_ci(7, 100.0)
    b = compute_rate_ci(7, 200.0)
    assert b == pytest.approx((a[0] / 2, a[1] / 2), rel=1e-12)


# ----------------------------------------------------------------------------- summarise_serious_events
def test_serious_summary_counts_patients_with_sae_over_safety_population():
    """Test 24: p1, p2 and p3 have an SAE; safety population n = 4 (p5 excluded) -> 75.0 %."""
    out = summarise_serious_events(dataset())
    assert out["patients"] == 3
    assert out["n"] == 4
    assert out["pct"] == pytest.approx(75.0, abs=1e-12)


def test_noncovid_sae_excludes_covid_pneumonia():
    """Test 25: MSC+IFNG has 2 SAEs, one "COVID-19 pneumonia": 1 non-COVID event, rate 100/PY;
    MSC keeps all 3 (its Pneumonia is not COVID-coded)."""
    out = summarise_serious_events(dataset())
    assert out["msc_ifng.noncovid_events"] == 1
    assert out["msc_ifng.noncovid_rate"] == pytest.approx(100 / PY_IFNG, abs=1e-9)
    assert out["msc.noncovid_events"] == 3
    assert out["msc.noncovid_rate"] == pytest.approx(300 / PY_MSC, abs=1e-9)


@pytest.mark.parametrize("term", sorted(COVID_TERMS))
def test_noncovid_sae_excludes_every_covid_term(term):
    """Test 26: a serious event coded with any COVID term is left out of the non-COVID count."""
    ae = adverse_events()
    ae.loc[(ae["USUBJID"] == "p1") & (ae["AESEQ"] == 5), "AEDECOD"] = term   # p1's serious Pneumonia
    out = summarise_serious_events(dataset(adverse_events=ae))
    assert out["msc.noncovid_events"] == 2


def test_serious_summary_ignores_non_serious_events():
    """Test 27: non-serious events never make an SAE patient: with only the non-serious
    events left, no patient has an SAE and both non-COVID counts are 0."""
    ae = adverse_events()
    out = summarise_serious_events(dataset(adverse_events=ae[ae["AESER"] == "N"]))
    assert out["patients"] == 0 and out["pct"] == 0.0
    assert out["msc.noncovid_events"] == 0 and out["msc.noncovid_rate"] == 0.0


# ----------------------------------------------------------------------------- compare_event_rates
def test_rate_ratio_with_equal_exposure():
    """Test 28: 4 vs 2 events over 100 PY each: ratio 2.0; conditional on 6 events, k_a ~
    Bin(6, 0.5); two-sided p sums outcomes no likelier than P(4) = 15/64:
    (1 + 6 + 15 + 15 + 6 + 1) / 64 = 44/64 = 0.6875."""
    r = compare_event_rates(4, 100.0, 2, 100.0)
    assert r.statistic == pytest.approx(2.0, abs=1e-12)
    assert r.p_value == pytest.approx(44 / 64, abs=1e-12)


def test_rate_ratio_ci_is_clopper_pearson_mapped_to_ratio():
    """Test 29: the CI is the Clopper-Pearson interval of 4/6, beta.ppf(0.025; 4, 3) and
    beta.ppf(0.975; 5, 2), mapped by p/(1-p) (equal PY); it contains the ratio 2."""
    r = compare_event_rates(4, 100.0, 2, 100.0)
    pl, pu = stats.beta.ppf(0.025, 4, 3), stats.beta.ppf(0.975, 5, 2)
    assert r.ci == pytest.approx((pl / (1 - pl), pu / (1 - pu)), rel=1e-7)
    assert r.ci[0] < r.statistic < r.ci[1]


def test_rate_ratio_with_unequal_exposure():
    """Test 30: 2 events / 100 PY vs 2 / 300 PY: ratio 3.0; k_a ~ Bin(4, 1/4) under H0, p =
    P(2)+P(3)+P(4) = (54 + 12 + 1)/256 = 0.26171875; CI contains 3."""
    r = compare_event_rates(2, 100.0, 2, 300.0)
    assert r.statistic == pytest.approx(3.0, abs=1e-12)
    assert r.p_value == pytest.approx(67 / 256, abs=1e-12)
    assert r.ci[0] < 3.0 < r.ci[1]


def test_rate_ratio_with_no_events_at_all():
    """Test 31: 0 vs 0 events: nothing to compare -> ratio NaN, p 1, CI (0, inf)."""
    r = compare_event_rates(0, 100.0, 0, 50.0)
    assert np.isnan(r.statistic)
    assert r.p_value == 1.0
    assert r.ci == (0.0, float("inf"))


def test_rate_ratio_with_no_events_in_comparator():
    """Test 32: 3 vs 0 events, equal PY: ratio inf, p = 2 * (1/2)^3 = 0.25; CI lower =
    q/(1-q) with q = 0.025^(1/3) (Clopper-Pearson for 3/3), upper inf."""
    r = compare_event_rates(3, 100.0, 0, 100.0)
    q = 0.025 ** (1 / 3)
    assert r.statistic == float("inf")
    assert r.p_value == pytest.approx(0.25, abs=1e-12)
    assert r.ci[0] == pytest.approx(q / (1 - q), rel=1e-7)
    assert r.ci[1] == float("inf")


def test_rate_ratio_with_no_events_in_first_arm():
    """Test 33: 0 vs 3 events, equal PY: ratio 0, CI (0, u/(1-u)) with u = 1 - 0.025^(1/3)."""
    r = compare_event_rates(0, 100.0, 3, 100.0)
    u = 1 - 0.025 ** (1 / 3)
    assert r.statistic == 0.0
    assert r.ci[0] == 0.0
    assert r.ci[1] == pytest.approx(u / (1 - u), rel=1e-7)
