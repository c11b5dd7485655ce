"""Unit tests of the ensemble's digests (what makes a stored ensemble stale), its report
helpers (markers, targeted vs derived) and the marking of table values."""
from __future__ import annotations

import pandas as pd

from analysis import paths
from analysis.ensemble.digest import import_closure, stale_reasons
from analysis.ensemble.marks import add_construction, describe_derivation, format_mark, marks_for_dataset
from analysis.presentation import MarkedRegistry, PaperTable, Row, format_number, format_p, undetermined_note


def test_1_tooling_is_outside_the_ensembles_code():
    closure = import_closure()
    for tooling in ("analysis.bench", "analysis.codecheck", "analysis.build", "analysis.ensemble.engine"):
        assert tooling not in closure, tooling
    for needed in ("analysis.tables", "analysis.contract", "analysis.synthetic.visits", "analysis.ensemble.task"):
        assert needed in closure, needed


def test_2_stale_reasons_name_every_changed_digest():
    stored = {"digests": {"generator": "g", "analysis": "a", "published": "p"}}
    assert stale_reasons(stored, {"generator": "g", "analysis": "a", "published": "p"}) == []
    assert len(stale_reasons(stored, {"generator": "G", "analysis": "A", "published": "P"})) == 3


def test_3_marks_only_for_synthetic_datasets(tmp_path):
    (tmp_path / "summary.csv").write_text(
        "key,artefact,class,n,n_missing,median,p2_5,p97_5,min,max,share_p_below_0_05,share_p_below_0_001,printed\n"
        "a.b.msc.pct,a,not determined,2,0,5,1,9,1,9,,,\n"
        "a.c.msc.pct,a,determined,2,0,5,5,5,5,5,,,5.0\n")
    assert marks_for_dataset(True, tmp_path) == {"a.b.msc.pct": (1.0, 9.0)}
    assert marks_for_dataset(False, tmp_path) == {}
    assert marks_for_dataset(True, tmp_path / "absent") == {}


def test_4_mark_text_prints_the_interval_like_the_value():
    assert format_mark("x.y.msc.pct", (33.333, 100.0)) == "‡ 33.3–100.0"
    assert format_mark("x.y.p", (0.01, 0.3), "pexpr") == "‡ 0.010–0.300"


def test_5_marked_registry_marks_exactly_the_marked_values_in_cells_and_notes():
    v = MarkedRegistry({"t.a.msc.pct": 12.0, "t.b.msc.pct": 50.0, "t.c.p": 0.04}, {"t.a.msc.pct": (5.0, 20.0),
                                                                                  "t.c.p": (0.01, 0.2)})
    rows = [Row("first", [format_number(v["t.a.msc.pct"], 1), format_number(v["t.b.msc.pct"], 1)]),
            Row("second", [format_p(v["t.c.p"])]), Row("third", [format_number(v["t.b.msc.pct"], 0)])]
    assert [r.cells for r in rows] == [["12.0‡", "50.0"], ["0.040‡"], ["50"]]
    assert [len(r.marked) for r in rows] == [1, 1, 0]
    note = undetermined_note(PaperTable("x", [("", ["a", "b"])], rows))
    assert note.startswith("‡ Not determined") and "first, t.a.msc.pct 5.0 to 20.0" in note and "0.010 to 0.200" in note


def test_6_a_plain_registry_marks_nothing():
    row = Row("x", [format_number({"t.a.msc.pct": 1.0}["t.a.msc.pct"], 1)])
    assert row.cells == ["1.0"] and row.marked == []


def test_7_targeted_or_derived_column(tmp_path):
    (tmp_path / "targets.csv").write_text("key\ntable3.acr20.msc.year1.pct\n")
    rep = pd.DataFrame({"key": ["table3.acr20.msc.year1.pct", "table3.acr20.year1.marker", "text.sae.msc.rate"]})
    out = add_construction(rep, True, tmp_path)
    assert list(out["construction"]) == ["targeted", describe_derivation("table3.acr20.year1.marker"),
                                         "derived: restates a table value"]
    assert "construction" not in add_construction(rep, False, tmp_path)


def test_8_every_targeted_key_is_published():
    targeted = set(pd.read_csv(paths.ENSEMBLE / "targets.csv", dtype=str)["key"])
    from analysis.published import load_published

    assert targeted and targeted <= set(load_published()["key"])
