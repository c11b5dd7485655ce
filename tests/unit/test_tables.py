"""Unit tests of analysis.tables.compute_results on the hand-made minimal dataset.

``tests/data/minimal`` (8 invented patients, see its README) goes through the whole pipeline
once per module. The "no missing" guarantee: every key of the published registry has a
computed value. A few values are checked against numbers worked out by hand from the CSV
files (dates, counts), with the working in the docstrings.
"""
from __future__ import annotations

from datetime import date

import pytest

from analysis import paths
from analysis.contract import load_dataset
from analysis.narrative import NARRATIVE_KEYS
from analysis.published import load_published
from analysis.results import RESULT_COLUMNS
from analysis.tables import compute_results
from analysis.verify import build_reproduction


@pytest.fixture(scope="module")
def dataset():
    return load_dataset(paths.TEST_DATASET)


@pytest.fixture(scope="module")
def results(dataset):
    return compute_results(dataset)


@pytest.fixture(scope="module")
def value(results):
    values = results.set_index("key")["value"]
    return lambda key: float(values[key])


def days(start: tuple, end: tuple) -> int:
    return (date(*end) - date(*start)).days


# ----------------------------------------------------------------------------- registry shape
def test_every_published_key_is_computed(results):
    """Test 1 ("no missing"): each key of data/published/*.csv is in the results registry."""
    missing = sorted(set(load_published()["key"]) - set(results["key"]))
    assert missing == []


def test_no_published_value_has_status_missing(results):
    """Test 2: the same guarantee seen through verify: no reproduction row is "missing"."""
    rep = build_reproduction(load_published(), results)
    assert (rep["status"] != "missing").all()
    assert len(rep) == len(load_published())


def test_result_keys_are_unique(results):
    """Test 3: one value per key."""
    assert not results["key"].duplicated().any()


def test_results_have_the_registry_columns_and_artefact_prefix(results):
    """Test 4: columns key, value, artefact, method; artefact is the key's first component."""
    assert list(results.columns) == RESULT_COLUMNS
    assert (results["artefact"] == results["key"].str.split(".").str[0]).all()


def test_narrative_keys_restate_their_source(results, value):
    """Test 5: every text key carries exactly the value of the computed key it restates."""
    for key, source in NARRATIVE_KEYS.items():
        a, b = value(key), value(source)
        assert (a == b) or (a != a and b != b), key


# ----------------------------------------------------------------------------- values by hand
def test_table2_safety_population_sizes(value):
    """Test 6: RA-001..004 are MSC, RA-005..008 MSC+IFNG, all transplanted: N = 4, 4, total 8."""
    assert value("table2.n.msc") == 4
    assert value("table2.n.msc_ifng") == 4
    assert value("table2.n.total") == 8
    assert value("abstract.treated.total.n") == 8


def test_table2_patient_years_from_dates(value):
    """Test 7: MSC exposure days from subjects.csv (TRTSDT -> EOSDT):
    RA-001 2016-09-12 -> 2023-03-13 = 2373, RA-002 2016-11-03 -> 2023-10-23 = 2545,
    RA-003 2017-01-16 -> 2018-01-08 = 357, RA-004 2017-08-21 -> 2023-04-10 = 2058;
    sum 7333 days / 365.25 = 20.0767 PY. MSC+IFNG: 2205 + 1981 + 910 + 2198 = 7294 days."""
    msc = [days((2016, 9, 12), (2023, 3, 13)), days((2016, 11, 3), (2023, 10, 23)),
           days((2017, 1, 16), (2018, 1, 8)), days((2017, 8, 21), (2023, 4, 10))]
    assert msc == [2373, 2545, 357, 2058]
    ifng = [days((2017, 6, 5), (2023, 6, 19)), days((2017, 9, 11), (2023, 2, 13)),
            days((2017, 11, 20), (2020, 5, 18)), days((2018, 1, 15), (2024, 1, 22))]
    assert ifng == [2205, 1981, 910, 2198]
    assert value("table2.py.msc") == pytest.approx(7333 / 365.25, abs=1e-12)
    assert value("table2.py.msc_ifng") == pytest.approx(7294 / 365.25, abs=1e-12)
    assert value("table2.py.total") == pytest.approx((7333 + 7294) / 365.25, abs=1e-12)


def test_table2_event_counts(value):
    """Test 8: adverse_events.csv, MSC (RA-001..004): non-serious 3 + 2 + 1 + 1 = 7; serious
    Pneumonia (RA-002), Pulmonary tuberculosis and Rectal cancer (RA-004) = 3. MSC+IFNG serious:
    two cerebral infarctions (RA-006), SLE (RA-007), Sjogren's (RA-008) = 4."""
    assert value("table2.any_ae.msc.events") == 7
    assert value("table2.sae.msc.events") == 3
    assert value("table2.sae.msc_ifng.events") == 4
    assert value("table2.sae_cerebral_infarction.msc_ifng.events") == 2
    assert value("table2.sae_cerebral_infarction.msc_ifng.patients") == 1
    assert value("table2.sae.msc.rate") == pytest.approx(100 * 3 / (7333 / 365.25), abs=1e-12)


def test_serious_event_patients(value):
    """Test 9: patients with an SAE: RA-002, RA-004, RA-006, RA-007, RA-008 = 5 of 8 = 62.5 %."""
    assert value("safety.sae.total.patients") == 5
    assert value("safety.sae.total.pct") == pytest.approx(62.5, abs=1e-12)


def test_table1_completers(value):
    """Test 10: MSC completers RA-001 (F, 45), RA-002 (M, 52), RA-004 (F, 61): N 3, female 2
    (66.7 %), mean age 158/3."""
    assert value("table1.n.msc") == 3
    assert value("table1.female.msc.n") == 2
    assert value("table1.female.msc.pct") == pytest.approx(200 / 3, abs=1e-12)
    assert value("table1.age.msc.mean") == pytest.approx(158 / 3, abs=1e-12)


def test_disposition(value):
    """Test 11: 8 randomised, 6 completed (75 %), RA-003 lack of efficacy, RA-007 adverse
    event; RA-007 (discontinued, serious SLE, joints never 20 % better) is the one discontinued
    new-autoimmune non-responder, in MSC+IFNG."""
    assert value("disposition.randomised.total.n") == 8
    assert value("disposition.completed.total.n") == 6
    assert value("disposition.completed.total.pct") == pytest.approx(75.0, abs=1e-12)
    assert value("disposition.discontinued_lack_of_efficacy.msc.n") == 1
    assert value("disposition.discontinued_adverse_event.msc_ifng.n") == 1
    assert value("disposition.discontinued_new_autoimmune_no_acr20.msc_ifng.n") == 1
    assert value("disposition.discontinued_new_autoimmune_no_acr20.msc.n") == 0


def test_followup_of_completers(value):
    """Test 12: completers' follow-up days 2373, 2545, 2058, 2205, 1981, 2198: min 1981/365.25,
    max 2545/365.25."""
    assert value("disposition.followup_years.total.min") == pytest.approx(1981 / 365.25, abs=1e-12)
    assert value("disposition.followup_years.total.max") == pytest.approx(2545 / 365.25, abs=1e-12)


def test_table4_bdmard_use(value):
    """Test 13: MSC completers on bDMARDs at transplantation: RA-001 (etanercept 2015-03-10 to
    2018-06-30 covers 2016-09-12) and RA-004 (tocilizumab 2016-02-01 to 2019-09-30 covers
    2017-08-21): 2 of 3. At year 3 (visits 2019-09-07 and 2020-08-27) both had stopped: 0."""
    assert value("table4.bdmard.msc.baseline.n") == 2
    assert value("table4.bdmard.msc.baseline.pct") == pytest.approx(200 / 3, abs=1e-12)
    assert value("table4.bdmard.msc.year3.n") == 0
