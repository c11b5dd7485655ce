"""Unit tests of analysis.presentation: a hand-built registry in, the printed cells out.

Expected texts are written by hand from the paper's conventions (no. (%) with the printed
decimals, rounding half away from zero, p below 0.001 as "<0.001")."""
from __future__ import annotations

import math
import re

import pandas as pd
import pytest

from analysis import paths
from analysis import presentation as p
from analysis.reports import registry_reproduction

DRUGS = ("csdmard", "tsdmard", "bdmard", "prednisone")
TIMES = ("baseline", "year1", "year3", "year5")


def table4_registry() -> dict[str, float]:
    """Every key of Table 4: 40 MSC and 20 MSC+IFN-γ completers; csDMARDs used by 10 and 5
    patients at every time point, nobody uses the other classes; p = 1 except csDMARDs at
    year 5 (p = 0.0004)."""
    v = {"table4.n.msc": 40.0, "table4.n.msc_ifng": 20.0}
    for drug in DRUGS:
        for tp in TIMES:
            for code, n_arm, users in (("msc", 40, 10), ("msc_ifng", 20, 5)):
                used = users if drug == "csdmard" else 0
                v[f"table4.{drug}.{code}.{tp}.n"] = float(used)
                v[f"table4.{drug}.{code}.{tp}.pct"] = 100.0 * used / n_arm
            v[f"table4.{drug}.{tp}.p"] = 0.0004 if (drug, tp) == ("csdmard", "year5") else 1.0
    return v


def test_table4_headers_and_groups():
    """Test 1: one column group per time point, each with both arms (their N) and p."""
    table = p.layout_table4(table4_registry())
    assert [title for title, _ in table.groups] == ["Baseline", "Year 1", "Year 3", "Year 5"]
    assert table.groups[0][1] == ["MSCs (N = 40)", "MSCs + IFN-γ (N = 20)", "p"]


def test_table4_cells_as_printed():
    """Test 2: users as no. (%) with whole percentages, a drug nobody uses as "0", p as printed."""
    rows = {row.label: row.cells for row in p.layout_table4(table4_registry()).rows}
    assert list(rows) == ["csDMARDs", "tsDMARDs", "bDMARDs", "Prednisone"]
    assert rows["csDMARDs"][:3] == ["10 (25)", "5 (25)", ">0.999"]
    assert rows["csDMARDs"][-1] == "<0.001"
    assert rows["bDMARDs"][:2] == ["0", "0"]


def test_table4_missing_key_raises():
    """Test 3: a registry without one of the table's keys is an error, not a blank cell."""
    registry = table4_registry()
    del registry["table4.prednisone.msc.year3.pct"]
    registry["table4.prednisone.msc.year3.n"] = 3.0
    try:
        p.layout_table4(registry)
    except KeyError as err:
        assert "table4.prednisone.msc.year3.pct" in str(err)
    else:
        raise AssertionError("layout_table4 accepted a registry without a key it prints")


def test_registry_frame_and_dict_give_the_same_table():
    """Test 4: the layouts accept the registry as a frame (as notebooks pass it) or a dict."""
    registry = table4_registry()
    frame = pd.DataFrame({"key": list(registry), "value": list(registry.values())})
    assert p.layout_table4(frame).to_frame().equals(p.layout_table4(registry).to_frame())


def test_csv_frame_flattens_groups_and_indents_levels():
    """Test 5: the CSV download has one column per group x column and indents nested rows."""
    table = p.PaperTable("Item", [("Year 1", ["A", "B"]), ("", ["p"])],
                         [p.Row("Group", [], group=True), p.Row("x", ["1", "2", "0.5"], level=1)])
    frame = table.to_frame()
    assert list(frame.columns) == ["Item", "Year 1 | A", "Year 1 | B", "p"]
    assert frame.iloc[1].tolist() == ["  x", "1", "2", "0.5"]
    assert frame.iloc[0].tolist() == ["Group", "", "", ""]


def test_number_formats_round_half_away_from_zero():
    """Test 6: printed tables round 0.125 to 0.13 and 2.5 to 3 (Python's round gives 0.12, 2)."""
    assert [p.format_number(0.125, 2), p.format_number(2.5, 0), p.format_number(-2.5, 0)] == ["0.13", "3", "-3"]
    assert p.format_number(math.nan, 1) == p.MISSING


def test_value_format_follows_the_key_stat_or_the_spec():
    """Test 7: the key's last segment picks the decimals; a spec or a named rule overrides it."""
    assert p.format_value("table3.acr20.msc.year1.pct", 56.25) == "56.3"
    assert p.format_value("table2.n.msc", 80.0) == "80"
    assert p.format_value("table3.acr20.year1.p", 0.0004) == "<0.001"
    assert p.format_value("table3.acr20.year1.p", 0.0614, "pexpr") == "p = 0.061"
    assert p.format_value("table2.sae.msc.rate", 2.4711, ".1f") == "2.5"


def test_reproduction_summary_counts_from_registry_rows():
    """Test 8: the summary table prints the counts registry_reproduction writes, per artefact."""
    reproduction = pd.DataFrame({"artefact": ["table2", "table2", "table3"],
                                 "status": ["match", "mismatch", "documented"]})
    registry = {r["key"]: r["value"] for r in registry_reproduction(reproduction)}
    table = p.layout_reproduction_summary(registry)
    assert table.columns == ["Match", "Mismatch", "Missing", "Documented", "Published"]
    assert {row.label: row.cells for row in table.rows} == {
        "Table 2, adverse events": ["1", "1", "0", "0", "2"],
        "Table 3, efficacy": ["0", "0", "0", "1", "1"],
        "All published values": ["1", "1", "0", "1", "3"],
    }


def contrast_ratio(foreground: str, background: str) -> float:
    """WCAG 2 contrast ratio of two ``#rrggbb`` colours, from 1 (none) to 21 (black on white):
    ``(L1 + 0.05) / (L2 + 0.05)``, ``L = 0.2126 R + 0.7152 G + 0.0722 B`` of the linearised sRGB
    channels, ``L1`` the lighter colour (WCAG 2.1, *relative luminance*, *contrast ratio*)."""
    def luminance(colour: str) -> float:
        channels = [int(colour.lstrip("#")[i:i + 2], 16) / 255 for i in (0, 2, 4)]
        linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
        return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]

    light, dark = sorted((luminance(foreground), luminance(background)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


def test_contrast_ratio_reference_values():
    """The formula against WCAG's end points and a published pair (#767676 on white: 4.54)."""
    assert round(contrast_ratio("#000000", "#ffffff"), 1) == 21.0
    assert round(contrast_ratio("#ffffff", "#ffffff"), 1) == 1.0
    assert round(contrast_ratio("#767676", "#ffffff"), 2) == 4.54


def test_every_status_has_a_badge_style_of_contrast_7_in_both_themes():
    """book/_static/status.css styles every status a badge can show, in the light and the dark
    theme, each text/background pair at 7:1 or more (WCAG 2 AAA)."""
    css = (paths.BOOK / "_static" / "status.css").read_text(encoding="utf-8")
    rule = r"{prefix}span\.status-{status} \{{ color: (#[0-9a-f]{{6}}); background-color: (#[0-9a-f]{{6}}); \}}"
    for status in p.STATUSES:
        for prefix in ("^", r'^html\[data-theme="dark"\] '):
            found = re.search(rule.format(prefix=prefix, status=status), css, re.MULTILINE)
            assert found, (status, prefix)
            assert contrast_ratio(*found.groups()) >= 7, (status, prefix, found.groups())


def test_status_badge_refuses_an_unknown_status():
    assert p.format_status("documented") == ":status-documented:`documented`"
    with pytest.raises(ValueError, match="unknown status 'fine'"):
        p.format_status("fine")
