"""Unit tests of analysis.clusters: category counts and the linear-by-linear trend test.

Expected statistics are computed by hand from the definition M^2 = (N - 1) r^2 (Agresti 2002,
sec. 3.4.6), independently of statsmodels.
"""
from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from analysis.clusters import (
    compare_activity,
    summarise_activity_clusters,
    tabulate_activity_tests,
    visit_label,
)
from analysis.endpoints import DAS28_CATEGORIES


def activity(rows: list[tuple[str, int, str]]) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=["ARM", "AVISITN", "DAS28CAT"])
    frame["DAS28CAT"] = pd.Categorical(frame["DAS28CAT"], categories=list(DAS28_CATEGORIES), ordered=True)
    frame["USUBJID"] = [f"p{i}" for i in range(len(frame))]
    return frame


def mantel_m2(counts_a, counts_b) -> float:
    """M^2 = (N - 1) r^2 with scores 0/1 for the groups and 0..3 for the categories."""
    group, score = [], []
    for g, counts in enumerate((counts_a, counts_b)):
        for s, n in enumerate(counts):
            group += [g] * n
            score += [s] * n
    r = np.corrcoef(group, score)[0, 1]
    return (len(group) - 1) * r * r


def test_visit_labels_follow_the_key_grammar():
    """Test 1: 0 -> baseline, multiples of 12 -> yearN, others -> monthN."""
    assert [visit_label(m) for m in (0, 1, 6, 12, 24, 60)] == [
        "baseline", "month1", "month6", "year1", "year2", "year5"]


def test_percentages_are_of_patients_assessed_at_the_visit():
    """Test 2: 3 MSC patients at month 12 (1 low, 2 high) -> 33.3 % and 66.7 %; empty categories are 0."""
    table = summarise_activity_clusters(activity([("MSC", 12, "low"), ("MSC", 12, "high"), ("MSC", 12, "high")]))
    cell = table.query("arm == 'msc' and AVISITN == 12").set_index("category")
    assert cell["n"].tolist() == [0, 1, 0, 2]
    assert cell.loc["low", "pct"] == pytest.approx(100 / 3)
    assert cell["total"].unique().tolist() == [3]


def test_each_arm_only_has_its_own_visits():
    """Test 3: a visit seen only in one arm has rows only for that arm."""
    table = summarise_activity_clusters(activity([("MSC", 0, "high"), ("MSC+IFNG", 0, "high"), ("MSC+IFNG", 3, "low")]))
    assert sorted(table.query("arm == 'msc'")["AVISITN"].unique()) == [0]
    assert sorted(table.query("arm == 'msc_ifng'")["AVISITN"].unique()) == [0, 3]


def test_linear_by_linear_statistic_equals_n_minus_1_r_squared():
    """Test 4: statsmodels' ordinal test reproduces the hand-computed M^2 and its chi-square(1) p."""
    a, b = [2, 5, 10, 3], [6, 8, 4, 1]
    result = compare_activity(a, b)
    m2 = mantel_m2(a, b)
    assert result.statistic == pytest.approx(m2, rel=1e-10)
    from scipy.stats import chi2

    assert result.p_value == pytest.approx(chi2.sf(m2, 1), rel=1e-10)


def test_empty_cells_are_not_shifted():
    """Test 5: zeros stay zeros (statsmodels would add 0.5 without shift_zeros=False)."""
    a, b = [0, 0, 3, 4], [2, 3, 0, 0]
    assert compare_activity(a, b).statistic == pytest.approx(mantel_m2(a, b), rel=1e-10)


def test_no_variation_gives_p_one_and_empty_group_gives_nan():
    """Test 6: all patients in one category -> p = 1; a group without patients -> NaN."""
    assert compare_activity([0, 0, 3, 0], [0, 0, 5, 0]).p_value == 1.0
    assert math.isnan(compare_activity([1, 1, 0, 0], [0, 0, 0, 0]).p_value)


def test_shift_direction_does_not_change_the_two_sided_p():
    """Test 7: swapping the groups gives the same statistic and p."""
    a, b = [1, 4, 6, 2], [5, 4, 1, 0]
    assert compare_activity(a, b).p_value == pytest.approx(compare_activity(b, a).p_value)


def test_tests_table_has_between_arm_tests_at_every_visit_and_baseline_tests_after():
    """Test 8: one between-arm test per visit; vs-baseline tests only after baseline, per arm present."""
    rows = [("MSC", 0, "high"), ("MSC", 0, "moderate"), ("MSC+IFNG", 0, "high"), ("MSC+IFNG", 0, "high"),
            ("MSC", 12, "moderate"), ("MSC", 12, "low"), ("MSC+IFNG", 12, "low"), ("MSC+IFNG", 12, "remission")]
    tests = tabulate_activity_tests(summarise_activity_clusters(activity(rows)))
    between = tests.query("comparison == 'between_arms'")
    assert between["AVISITN"].tolist() == [0, 12]
    vs_base = tests.query("comparison == 'vs_baseline'")
    assert sorted(zip(vs_base["arm"], vs_base["AVISITN"])) == [("msc", 12), ("msc_ifng", 12)]
    expected = mantel_m2([0, 0, 0, 2], [1, 1, 0, 0])  # IFNG baseline vs month 12
    assert vs_base.set_index("arm").loc["msc_ifng", "statistic"] == pytest.approx(expected)
