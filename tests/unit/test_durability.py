"""Unit tests of analysis.durability: hand-built visit tables, durations worked out by hand.

One behaviour per test. Dates are chosen so that durations are whole numbers of days;
months are days / 30.4375 (365.25 / 12).
"""
from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from analysis import durability
from analysis.contract import load_dataset
from analysis.derived import derive_visit_endpoints
from analysis.durability import (
    DAYS_PER_MONTH,
    compare_durability,
    derive_response_durations,
    fit_durability,
    registry_durability,
    summarise_durability,
)
from analysis.paths import TEST_DATASET
from analysis.populations import filter_population


def visits(rows: list[tuple[str, int, str, object]]) -> pd.DataFrame:
    """Derived-visits stand-in: (USUBJID, AVISITN, ADT, ACR20 flag or None)."""
    frame = pd.DataFrame(rows, columns=["USUBJID", "AVISITN", "ADT", "ACR20"])
    frame["ADT"] = pd.to_datetime(frame["ADT"])
    frame["ACR20"] = pd.array(frame["ACR20"].tolist(), dtype="boolean")
    return frame


SUBJECTS = pd.DataFrame({"USUBJID": ["a", "b", "c", "d"], "ARM": ["MSC", "MSC", "MSC+IFNG", "MSC+IFNG"]})


def durations(rows, subjects=SUBJECTS) -> pd.DataFrame:
    return derive_response_durations(visits(rows), subjects, "acr20").set_index("USUBJID")


def test_duration_runs_from_first_response_to_first_loss():
    """Test 1: response at months 3 and 6, lost at 12 -> event after (2018-01-01 - 2017-04-01) days."""
    out = durations([("a", 0, "2017-01-01", None), ("a", 3, "2017-04-01", True),
                     ("a", 6, "2017-07-01", True), ("a", 12, "2018-01-01", False)])
    assert out.loc["a", "CNSR"] == 0
    assert out.loc["a", "AVAL"] == pytest.approx(275 / DAYS_PER_MONTH)
    assert out.loc["a", "STARTDT"] == pd.Timestamp("2017-04-01")
    assert out.loc["a", "ADT"] == pd.Timestamp("2018-01-01")


def test_response_kept_is_censored_at_last_evaluable_visit():
    """Test 2: never lost -> censored (CNSR 1) at the last visit where ACR20 was assessed."""
    out = durations([("a", 0, "2017-01-01", None), ("a", 12, "2018-01-01", True),
                     ("a", 36, "2020-01-01", True), ("a", 60, "2022-01-01", None)])
    assert out.loc["a", "CNSR"] == 1
    assert out.loc["a", "ADT"] == pd.Timestamp("2020-01-01")
    assert out.loc["a", "AVAL"] == pytest.approx(730 / DAYS_PER_MONTH)


def test_non_evaluable_visit_neither_continues_nor_ends_a_response():
    """Test 3: a missing ACR20 between two responding visits is skipped."""
    out = durations([("a", 0, "2017-01-01", None), ("a", 12, "2018-01-01", True),
                     ("a", 24, "2019-01-01", None), ("a", 36, "2020-01-01", False)])
    assert out.loc["a", "CNSR"] == 0
    assert out.loc["a", "ADT"] == pd.Timestamp("2020-01-01")


def test_patients_who_never_respond_are_not_in_the_analysis():
    """Test 4: no responding visit -> no row."""
    out = durations([("a", 0, "2017-01-01", None), ("a", 12, "2018-01-01", False),
                     ("b", 0, "2017-01-01", None), ("b", 12, "2018-01-01", True)])
    assert out.index.tolist() == ["b"]


def test_response_only_at_last_visit_gives_zero_censored():
    """Test 5: first response at the last evaluable visit -> duration 0, censored."""
    out = durations([("a", 0, "2017-01-01", None), ("a", 12, "2018-01-01", False),
                     ("a", 60, "2022-01-01", True)])
    assert (out.loc["a", "AVAL"], out.loc["a", "CNSR"]) == (0.0, 1)


def test_regain_after_loss_does_not_undo_the_event():
    """Test 6: True, False, True -> the event is the first False."""
    out = durations([("a", 0, "2017-01-01", None), ("a", 3, "2017-04-01", True),
                     ("a", 6, "2017-07-01", False), ("a", 12, "2018-01-01", True)])
    assert out.loc["a", "CNSR"] == 0
    assert out.loc["a", "ADT"] == pd.Timestamp("2017-07-01")


def test_baseline_row_is_ignored_even_if_flagged():
    """Test 7: a flag on the baseline row (AVISITN 0) does not start a response."""
    out = durations([("a", 0, "2017-01-01", True), ("a", 12, "2018-01-01", False)])
    assert out.empty


def test_only_patients_of_the_population_are_kept():
    """Test 8: visits of a patient absent from `subjects` are ignored; ARM comes from subjects."""
    out = durations([("a", 12, "2018-01-01", True), ("z", 12, "2018-01-01", True)],
                    subjects=SUBJECTS.iloc[[0]])
    assert out.index.tolist() == ["a"] and out.loc["a", "ARM"] == "MSC"


def test_kaplan_meier_steps_by_hand():
    """Test 9: 4 responders, losses at 2 and 6, censored at 4 and 8:
    S(2) = 3/4, S(6) = 3/4 * 1/2 = 0.375; median = 6 (first time S <= 0.5)."""
    table = pd.DataFrame({"ARM": ["MSC"] * 4, "AVAL": [2.0, 4.0, 6.0, 8.0], "CNSR": [0, 1, 0, 1]})
    km = fit_durability(table)["MSC"]
    assert float(km.predict(2.0)) == pytest.approx(0.75)
    assert float(km.predict(7.0)) == pytest.approx(0.375)
    assert km.median_survival_time_ == 6.0


def test_arm_without_responders_has_no_curve():
    """Test 10: only MSC responders -> only an MSC fit."""
    table = pd.DataFrame({"ARM": ["MSC"], "AVAL": [2.0], "CNSR": [0]})
    assert list(fit_durability(table)) == ["MSC"]


def test_log_rank_against_hand_computation():
    """Test 11: MSC losses at 1, 2 (4 at risk, 2 per arm at the first time); IFNG censored at 3, 4.
    t=1: n=4 (2 MSC), E=0.5, V=2*2*1*3/(16*3)=0.25; t=2: n=3 (1 MSC), E=1/3, V=1*2*1*2/(9*2)=2/9.
    chi2 = (2 - 5/6)^2 / (0.25 + 2/9) = 2.8824."""
    table = pd.DataFrame({"ARM": ["MSC", "MSC", "MSC+IFNG", "MSC+IFNG"], "AVAL": [1.0, 2.0, 3.0, 4.0],
                          "CNSR": [0, 0, 1, 1]})
    result = compare_durability(table)
    assert result.statistic == pytest.approx((2 - 5 / 6) ** 2 / (0.25 + 2 / 9), rel=1e-9)
    assert result.test == "log-rank"


def test_log_rank_is_nan_without_events_or_with_an_empty_arm():
    """Test 12: nothing to compare -> NaN statistic and p."""
    no_events = pd.DataFrame({"ARM": ["MSC", "MSC+IFNG"], "AVAL": [1.0, 2.0], "CNSR": [1, 1]})
    one_arm = pd.DataFrame({"ARM": ["MSC", "MSC"], "AVAL": [1.0, 2.0], "CNSR": [0, 0]})
    assert math.isnan(compare_durability(no_events).p_value)
    assert math.isnan(compare_durability(one_arm).p_value)


def test_summary_counts_and_median_not_reached():
    """Test 13: 2 MSC responders, one loss at 3 months, one censored at 30 -> S stays 0.5 at 3,
    median 3; IFNG never loses -> median inf; percentages only within the observed range."""
    frame = pd.DataFrame({"PARAMCD": ["acr20"] * 4, "ARM": ["MSC", "MSC", "MSC+IFNG", "MSC+IFNG"],
                          "AVAL": [3.0, 30.0, 20.0, 50.0], "CNSR": [0, 1, 1, 1]})
    summary = summarise_durability(frame).set_index(["endpoint", "arm"])
    msc, ifng = summary.loc[("acr20", "msc")], summary.loc[("acr20", "msc_ifng")]
    assert (msc.responders, msc.losses, msc.median_months) == (2, 1, 3.0)
    assert msc.month24 == pytest.approx(50.0) and math.isnan(msc.month48)
    assert ifng.median_months == np.inf and ifng.month48 == pytest.approx(100.0)
    assert summary.loc[("das28_lda", "msc"), "responders"] == 0


def test_registry_rows_are_finite_or_missing_with_a_reached_flag():
    """Test 14: on the minimal dataset every key has the grammar, no value is infinite, and
    median_reached is 0 exactly where the median is missing for responders."""
    from analysis.contract import load_dataset
    from analysis.paths import TEST_DATASET

    rows = {r["key"]: r["value"] for r in registry_durability(load_dataset(TEST_DATASET))}
    assert not any(np.isinf(v) for v in rows.values())
    assert all(k.startswith("durability.") for k in rows)
    for key, value in rows.items():
        if key.endswith(".median_reached") and value == 0:
            assert math.isnan(rows[key.replace("median_reached", "median_months")])
    assert "durability.acr20.followup.p" in rows


def test_stacked_durations_equal_each_endpoint_derived_alone():
    """Test: derive_durability sorts the visits once for every endpoint; each endpoint's rows
    are exactly those derive_response_durations gives for that endpoint alone (values, order)."""
    dataset = load_dataset(TEST_DATASET)
    stacked = durability.derive_durability(dataset, "randomised")
    subjects = filter_population(dataset.subjects, "randomised")
    derived = derive_visit_endpoints(dataset)
    alone = pd.concat([derive_response_durations(derived, subjects, endpoint)
                       for endpoint in durability.DURABILITY_ENDPOINTS], ignore_index=True)
    assert len(stacked) > 0 and stacked["PARAMCD"].nunique() > 1
    pd.testing.assert_frame_equal(stacked, alone)


def _durations_by_grouping(post: pd.DataFrame, endpoint: str) -> pd.DataFrame:
    """Reference: the durations by pandas grouping on PATIENT (the formulation the run-based
    arrays of durability._durations_from_visits replace; first/last skip NaT)."""
    column = durability.DURABILITY_ENDPOINTS[endpoint]
    post = post[post[column].notna()]
    flag = post[column].astype(bool)
    responded = flag.groupby(post["PATIENT"]).cummax()
    start = post.loc[flag].groupby("PATIENT")["ADT"].first().rename("STARTDT")
    lost = post.loc[responded & ~flag].groupby("PATIENT")["ADT"].first().rename("LOSSDT")
    last = post.loc[responded].groupby("PATIENT")["ADT"].last().rename("LASTDT")
    ids = post.drop_duplicates("PATIENT").set_index("PATIENT")["USUBJID"]
    out = pd.concat([start, lost, last], axis=1).loc[start.index]
    loss = out["LOSSDT"].notna()
    return pd.DataFrame({"USUBJID": ids.reindex(out.index).to_numpy(), "STARTDT": out["STARTDT"].to_numpy(),
                         "ADT": out["LOSSDT"].where(loss, out["LASTDT"]).to_numpy(),
                         "CNSR": (~loss).astype(int).to_numpy()}).sort_values("USUBJID").reset_index(drop=True)


@pytest.mark.parametrize("seed", range(8))
def test_durations_equal_grouping_per_patient_with_gaps_and_missing_dates(seed):
    """Test: random visit tables (responses True/False/<NA>, some dates NaT, patients outside
    the population, patients without an evaluable visit) give exactly the durations of
    grouping by patient."""
    rng = np.random.default_rng(seed)
    rows = []
    for i in range(40):
        for month in range(0, 12 * int(rng.integers(1, 6)) + 1, 6):
            date = "NaT" if rng.random() < 0.1 else str(np.datetime64("2017-01-01") + 30 * month + int(rng.integers(0, 5)))
            rows.append((f"p{i:02d}", month, date, [True, False, None][int(rng.choice(3, p=[0.5, 0.3, 0.2]))]))
    table = visits(rows)
    subjects = pd.DataFrame({"USUBJID": [f"p{i:02d}" for i in range(40) if i % 7], "ARM": "MSC"})
    post = durability._post_baseline_visits(table, subjects, ["ACR20"])
    got = durability._durations_from_visits(post, "acr20")
    assert len(got) > 10 and set(got["CNSR"]) == {0, 1}
    pd.testing.assert_frame_equal(got[["USUBJID", "STARTDT", "ADT", "CNSR"]], _durations_by_grouping(post, "acr20"),
                                  check_exact=True)
