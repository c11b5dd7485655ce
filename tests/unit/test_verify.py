"""Unit tests of analysis.verify: printed-precision tolerance, bounds, formatting, statuses and
the report's last line.

Expected values are written by hand; reproduction frames are compared as {key: status}.
"""
from __future__ import annotations

import math

import pandas as pd
import pytest

from analysis.verify import (
    build_reproduction,
    format_as_printed,
    is_reproduced,
    summarise_reproduction,
    tolerance,
)


# ----------------------------------------------------------------------------- tolerance
@pytest.mark.parametrize("decimals, expected", [(0, 0.5), (1, 0.05), (2, 0.005), (3, 0.0005)])
def test_tolerance_is_half_the_last_printed_digit(decimals, expected):
    """Test 1: 0.5 * 10**-decimals."""
    assert tolerance(decimals) == pytest.approx(expected, rel=1e-15)


# ----------------------------------------------------------------------------- is_reproduced
def test_exact_half_way_is_inside():
    """Test 2: 36.175 vs printed 36.17 (2 decimals) differs by exactly half a unit: inside, by
    the documented inclusive rule (|x - v| <= 0.005, with slack for binary floating point);
    the other half-way point 36.165 too."""
    assert is_reproduced(36.175, 36.17, "=", 2) is True
    assert is_reproduced(36.165, 36.17, "=", 2) is True


def test_just_outside_half_a_unit_is_a_mismatch():
    """Test 3: 36.1751 and 36.1649 are more than 0.005 away from 36.17."""
    assert is_reproduced(36.1751, 36.17, "=", 2) is False
    assert is_reproduced(36.1649, 36.17, "=", 2) is False


def test_integer_counts_compare_at_zero_decimals():
    """Test 4: printed 80 (0 decimals): 80.0 and 80.4 match, 81 does not."""
    assert is_reproduced(80.0, 80, "=", 0) is True
    assert is_reproduced(80.4, 80, "=", 0) is True
    assert is_reproduced(81.0, 80, "=", 0) is False


def test_less_than_bound_requires_strictly_below():
    """Test 5: "<0.001": 0.0009 matches; 0.001 itself and 0.0012 do not."""
    assert is_reproduced(0.0009, 0.001, "<", 3) is True
    assert is_reproduced(0.001, 0.001, "<", 3) is False
    assert is_reproduced(0.0012, 0.001, "<", 3) is False


def test_greater_than_bound_requires_strictly_above():
    """Test 6: ">0.999": 1.0 and 0.9995 match; 0.999 and 0.5 do not."""
    assert is_reproduced(1.0, 0.999, ">", 3) is True
    assert is_reproduced(0.9995, 0.999, ">", 3) is True
    assert is_reproduced(0.999, 0.999, ">", 3) is False
    assert is_reproduced(0.5, 0.999, ">", 3) is False


@pytest.mark.parametrize("comparison", ["=", "<", ">"])
def test_missing_value_never_reproduces(comparison):
    """Test 7: NaN or None is never a match, whatever the comparison."""
    assert is_reproduced(float("nan"), 0.001, comparison, 3) is False
    assert is_reproduced(None, 0.001, comparison, 3) is False


def test_unknown_comparison_raises():
    """Test 8: a comparison other than =, <, > is an error, not a silent mismatch."""
    with pytest.raises(ValueError, match="unknown comparison"):
        is_reproduced(1.0, 1.0, "<=", 0)


def test_markers_compare_as_equal_numbers():
    """Test 9: marker "*" is 1 and "none" 0 at 0 decimals: 1 vs 1 match, 0 vs 1 mismatch."""
    assert is_reproduced(1.0, 1.0, "=", 0) is True
    assert is_reproduced(0.0, 1.0, "=", 0) is False


# ----------------------------------------------------------------------------- format_as_printed
@pytest.mark.parametrize("value, kind, comparison, decimals, bound, expected", [
    (36.16713, "rate_per_100py", "=", 2, 36.17, "36.17"),
    (2.0, "percent", "=", 1, 2.0, "2.0"),
    (80.0, "n", "=", 0, 80, "80"),
    (-1.3449, "mean", "=", 2, -1.34, "-1.34"),
    (0.00012, "p_value", "<", 3, 0.001, "<0.001"),
    (0.0123, "p_value", "<", 3, 0.001, "0.012"),
    (0.0004, "p_value", "=", 3, 0.012, "<0.001"),     # below printable precision
    (0.081, "p_value", "=", 3, 0.081, "0.081"),
    (1.0, "p_value", ">", 3, 0.999, ">0.999"),
    (0.5, "p_value", ">", 3, 0.999, "0.500"),
    (1.0, "marker", "=", 0, 1, "*"),
    (0.0, "marker", "=", 0, 1, "none"),
])
def test_format_as_printed(value, kind, comparison, decimals, bound, expected):
    """Test 10: reproduced values are written as the paper writes the published one."""
    assert format_as_printed(value, kind, comparison, decimals, bound) == expected


def test_format_missing_value_is_empty():
    """Test 11: NaN and None format as "" (shown as "(not computed)" in the report)."""
    assert format_as_printed(float("nan"), "mean", "=", 2, 1.0) == ""
    assert format_as_printed(None, "p_value", "<", 3, 0.001) == ""


# ----------------------------------------------------------------------------- build_reproduction
def published() -> pd.DataFrame:
    rows = [
        # key,       value,    number, cmp, dec, kind,             reason
        ("t.match", "36.17", 36.17, "=", 2, "rate_per_100py", ""),
        ("t.mismatch", "2.47", 2.47, "=", 2, "rate_per_100py", ""),
        ("t.missing", "5", 5.0, "=", 0, "count", ""),
        ("t.documented", "12.5", 12.5, "=", 1, "percent", "the paper's two tables disagree"),
        ("t.documented_but_matches", "3", 3.0, "=", 0, "count", "a reason that no longer applies"),
        ("t.missing_with_reason", "7", 7.0, "=", 0, "count", "some reason"),
        ("t.pbound", "<0.001", 0.001, "<", 3, "p_value", ""),
    ]
    frame = pd.DataFrame(rows, columns=["key", "value", "number", "comparison", "decimals", "kind",
                                        "documented_reason"])
    frame["artefact"] = "t"
    frame["source"] = "Table X"
    return frame


def results() -> pd.DataFrame:
    return pd.DataFrame({
        "key": ["t.match", "t.mismatch", "t.documented", "t.documented_but_matches", "t.pbound",
                "t.extra_not_published"],
        "value": [36.175, 2.50, 13.0, 3.0, 0.0004, 99.0],
    })


def statuses(reproduction: pd.DataFrame) -> dict:
    return dict(zip(reproduction["key"], reproduction["status"]))


def test_statuses_match_mismatch_missing_documented():
    """Test 12: half-way 36.175 matches; 2.50 vs 2.47 mismatches; absent key is missing; 13.0 vs
    12.5 (1 decimal) fails and has a reason -> documented; p 0.0004 is below "<0.001"."""
    got = statuses(build_reproduction(published(), results()))
    assert got == {
        "t.match": "match",
        "t.mismatch": "mismatch",
        "t.missing": "missing",
        "t.documented": "documented",
        "t.documented_but_matches": "match",
        "t.missing_with_reason": "missing",
        "t.pbound": "match",
    }


def test_documented_only_when_not_matching():
    """Test 13: a value that matches is "match" even if a reason is recorded, and its reason
    column is empty; a missing key stays "missing" even with a reason."""
    rep = build_reproduction(published(), results()).set_index("key")
    assert rep.loc["t.documented_but_matches", "reason"] == ""
    assert rep.loc["t.documented", "reason"] == "the paper's two tables disagree"
    assert rep.loc["t.missing_with_reason", "reason"] == ""


def test_reproduction_has_one_row_per_published_value():
    """Test 14: 7 published keys -> 7 rows in published order; the unpublished result is ignored."""
    rep = build_reproduction(published(), results())
    assert rep["key"].tolist() == published()["key"].tolist()


def test_reproduction_printed_columns_and_tolerance():
    """Test 15: "reproduced" is formatted as printed, "reproduced_value" keeps full precision,
    "tolerance" is ±half a unit or "same side of bound"; a missing value prints empty."""
    rep = build_reproduction(published(), results()).set_index("key")
    assert rep.loc["t.match", "reproduced"] == "36.17"      # binary 36.175 is 36.17499999...
    assert rep.loc["t.match", "reproduced_value"] == 36.175
    assert rep.loc["t.match", "tolerance"] == "±0.005"
    assert rep.loc["t.missing", "tolerance"] == "±0.5"
    assert rep.loc["t.pbound", "tolerance"] == "same side of bound"
    assert rep.loc["t.pbound", "reproduced"] == "<0.001"
    assert rep.loc["t.missing", "reproduced"] == ""
    assert math.isnan(rep.loc["t.missing", "reproduced_value"])
    assert rep.loc["t.mismatch", "published"] == "2.47"


# ----------------------------------------------------------------------------- summarise_reproduction
def report(status_list: list[str]) -> str:
    n = len(status_list)
    rep = pd.DataFrame({
        "key": [f"a.k{i}" for i in range(n)], "artefact": ["a"] * n, "published": ["1"] * n,
        "reproduced": ["1"] * n, "source": ["s"] * n, "status": status_list,
        "reason": ["why" if s == "documented" else "" for s in status_list],
    })
    return summarise_reproduction(rep)


def test_last_line_excludes_documented_from_the_total():
    """Test 16: 3 match, 1 mismatch, 1 missing, 2 documented -> "verify: 3 of 5 published
    values reproduced (2 documented, listed above)"."""
    text = report(["match", "match", "match", "mismatch", "missing", "documented", "documented"])
    assert text.splitlines()[-1] == "verify: 3 of 5 published values reproduced (2 documented, listed above)"


def test_last_line_without_documented_values_has_no_tail():
    """Test 17: 2 match -> "verify: 2 of 2 published values reproduced"."""
    assert report(["match", "match"]).splitlines()[-1] == "verify: 2 of 2 published values reproduced"


def test_missing_counts_against_reproduction():
    """Test 18: a missing value is in the denominator: 1 match + 1 missing -> "1 of 2"."""
    assert report(["match", "missing"]).splitlines()[-1] == "verify: 1 of 2 published values reproduced"


def test_report_lists_every_non_match():
    """Test 19: each non-match has its own line naming status and key; matches are not listed;
    a value not computed is shown as "(not computed)"."""
    rep = pd.DataFrame({
        "key": ["a.x", "a.y", "b.z"], "artefact": ["a", "a", "b"], "published": ["1", "2", "3"],
        "reproduced": ["1", "", "4"], "source": ["s1", "s2", "s3"],
        "status": ["match", "missing", "documented"], "reason": ["", "", "contradiction"],
    })
    lines = summarise_reproduction(rep).splitlines()
    assert "missing: a.y published 2, reproduced (not computed) (s2)" in lines
    assert "documented: b.z published 3, reproduced 4 (s3): contradiction" in lines
    assert not any(line.startswith("match:") for line in lines)


def test_report_table_counts_per_artefact_and_total():
    """Test 20: the count table has one line per artefact plus "all" with the column sums."""
    rep = pd.DataFrame({
        "key": ["a.x", "a.y", "b.z"], "artefact": ["a", "a", "b"], "published": ["1"] * 3,
        "reproduced": ["1"] * 3, "source": ["s"] * 3,
        "status": ["match", "mismatch", "match"], "reason": [""] * 3,
    })
    lines = summarise_reproduction(rep).splitlines()
    assert lines[0].split() == ["artefact", "match", "mismatch", "missing", "documented"]
    assert lines[1].split() == ["a", "1", "1", "0", "0"]
    assert lines[2].split() == ["b", "1", "0", "0", "0"]
    assert lines[3].split() == ["all", "2", "1", "0", "0"]
