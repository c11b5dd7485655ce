"""Unit tests of the ensemble's plan (seeds, assumptions) and summary (classification)."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from analysis.ensemble.plan import plan_reconstructions
from analysis.ensemble.summary import classify_key, summarise_ensemble
from analysis.ensemble.task import stored_value
from analysis.synthetic.assumptions import RANGES, Assumptions


def test_1_reconstruction_i_does_not_depend_on_n():
    small, large = plan_reconstructions(4, 11), plan_reconstructions(30, 11)
    assert small == large[:4]


def test_2_child_seeds_differ_between_reconstructions_and_root_seeds():
    a, b = plan_reconstructions(50, 1), plan_reconstructions(50, 2)
    assert len({s.seed for s in a}) == 50
    assert not {s.seed for s in a} & {s.seed for s in b}


def test_3_assumptions_drawn_inside_their_ranges_and_spread():
    specs = plan_reconstructions(200, 20250617)
    for name, (low, high) in RANGES.items():
        values = np.array([getattr(s.assumptions, name) for s in specs])
        assert values.min() >= low and values.max() <= high, name
        # a uniform draw over 200 reconstructions covers most of the range
        assert values.max() - values.min() > 0.8 * (high - low), name


def test_4_default_assumptions_are_the_shipped_cohorts():
    a = Assumptions()
    assert (a.year_noise, a.measure_discordance, a.interim_variability, a.late_lymphopenia_share,
            a.metabolic_onset_skew) == (0.15, 1.0, 1.0, 0.1, 1.0)


def test_5_negative_n_is_refused():
    with pytest.raises(ValueError, match=">= 0"):
        plan_reconstructions(-1, 1)


@pytest.mark.parametrize("key, values, published, expected", [
    ("t.x.msc.pct", [50.0, 50.0, 50.0], True, "published"),
    ("t.x.msc.pct", [50.01, 49.98], False, "determined"),          # both print 50.0
    ("t.x.msc.pct", [50.0, 50.1], False, "not determined"),
    ("t.x.msc.n", [3.0, 3.0], False, "determined"),
    ("t.x.p", [0.2, 0.9], False, "conclusion determined"),          # both >= 0.05
    ("t.x.p", [0.0001, 0.0004], False, "determined"),               # both print <0.001
    ("t.x.p", [0.001, 0.04], False, "conclusion determined"),
    ("t.x.p", [0.04, 0.06], False, "not determined"),
    ("t.x.p", [0.5, np.nan], False, "not determined"),              # not computable in one
    ("t.x.median_months", [np.nan, np.nan], False, "determined"),   # "not reached" in all
    ("t.x.median_months", [np.nan, 6.0], False, "not determined"),
])
def test_6_classification_rule(key, values, published, expected):
    assert classify_key(key, np.array(values, dtype=float), published) == expected


def test_7_summary_statistics_by_hand():
    values = pd.DataFrame({"reconstruction": range(5), "key": ["a.b.msc.pct"] * 5,
                           "value": [10.0, 20.0, 30.0, 40.0, np.nan]})
    row = summarise_ensemble(values, published_keys=set()).iloc[0]
    assert (row["n"], row["n_missing"], row["median"], row["min"], row["max"]) == (4, 1, 25.0, 10.0, 40.0)
    # linear interpolation: position 0.025 * 3 = 0.075 between 10 and 20
    assert row["p2_5"] == pytest.approx(10.75) and row["p97_5"] == pytest.approx(39.25)
    assert row["class"] == "not determined" and row["printed"] == ""
    assert np.isnan(row["share_p_below_0_05"])


def test_8_p_value_shares():
    values = pd.DataFrame({"reconstruction": range(4), "key": ["a.b.p"] * 4, "value": [0.0005, 0.01, 0.2, 0.5]})
    row = summarise_ensemble(values, published_keys=set()).iloc[0]
    assert (row["share_p_below_0_05"], row["share_p_below_0_001"]) == (0.5, 0.25)


def test_9_infinite_bounds_do_not_break_percentiles():
    values = pd.DataFrame({"reconstruction": range(3), "key": ["a.b.rate_ratio_high"] * 3,
                           "value": [2.0, 3.0, np.inf]})
    row = summarise_ensemble(values, published_keys=set()).iloc[0]
    assert row["median"] == 3.0 and row["max"] == np.inf


def test_10_stored_values_are_rounded_to_12_significant_digits():
    assert stored_value(0.1 + 0.2) == 0.3
    assert stored_value(123456.7890123456) == 123456.789012
    assert np.isnan(stored_value(np.nan)) and stored_value(np.inf) == np.inf
