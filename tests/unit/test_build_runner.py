"""Unit tests of analysis.build without running notebooks: cache key, dataset classification,
run-plan checks, declared inputs, publishing and registry merging.

The end-to-end behaviour (builds, cache hits, failures) is in tests/build/.
"""
from __future__ import annotations

import dataclasses
import math
import os
import shutil
from pathlib import Path

import nbformat
import pandas as pd
import pytest

from analysis import build, notebook, paths
from analysis.results import make_result


# ----------------------------------------------------------------------------- helpers
def write_notebook(path: Path, parameters: str = "", body: str = "x = 1") -> Path:
    nb = nbformat.v4.new_notebook()
    params = nbformat.v4.new_code_cell(
        'data_dir = "d"\ndataset_files = []\nsynthetic = True\noutput_dir = "o"\n' + parameters)
    params.metadata["tags"] = ["parameters"]
    nb.cells = [params, nbformat.v4.new_code_cell(body)]
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, path)
    return path


def dataset_info(**files: str) -> build.DatasetInfo:
    files = {"subjects.csv": "s", "visits.csv": "v", "adverse_events.csv": "a", "medications.csv": "m",
             "README.md": "r", **files}
    return build.DatasetInfo(Path("/data"), "data", False, "", files, {k: 1 for k in files})


@pytest.fixture
def run(tmp_path) -> build.Run:
    notebook = write_notebook(tmp_path / "nb.ipynb", 'population = "completers"')
    return build.Run("nb", notebook, ("subjects.csv", "visits.csv"), {"population": "completers"})


# ----------------------------------------------------------------------------- cache key
def key(run, dataset=None, code="code", lock="lock"):
    return build.compute_run_key(run, dataset or dataset_info(), code, lock)


def test_key_is_stable_for_unchanged_inputs(run):
    """Test 1: same inputs, same key (nothing changed: no notebook runs)."""
    assert key(run) == key(run)


def test_key_ignores_dataset_tables_the_run_does_not_declare(run):
    """Test 2: changing medications.csv leaves a run reading subjects and visits cached."""
    assert key(run, dataset_info(**{"medications.csv": "M2", "adverse_events.csv": "A2"})) == key(run)


@pytest.mark.parametrize("change", ["declared input", "non-table dataset file", "dataset folder", "synthetic flag"])
def test_key_changes_with_the_dataset_files_it_covers(run, change):
    """Test 3: a declared table, a README/marker, the folder or the synthetic flag change the key."""
    base = dataset_info()
    changed = {
        "declared input": dataset_info(**{"visits.csv": "v2"}),
        "non-table dataset file": dataset_info(**{"README.md": "r2"}),
        "dataset folder": dataclasses.replace(base, label="elsewhere"),
        "synthetic flag": dataclasses.replace(base, synthetic=True),
    }[change]
    assert key(run, changed) != key(run, base)


def test_key_changes_with_notebook_source(run):
    """Test 4: editing the notebook changes its runs' keys."""
    before = key(run)
    write_notebook(run.notebook, 'population = "completers"', body="x = 2")
    assert key(run) != before


def test_key_changes_with_parameters_code_and_lock(run):
    """Test 5: a parameter, the analysis package hash or requirements.lock hash change the key."""
    other = dataclasses.replace(run, parameters={"population": "randomised"})
    assert len({key(run), key(other), key(run, code="code2"), key(run, lock="lock2")}) == 4


def test_hash_tree_ignores_bytecode(tmp_path):
    """Test 6: __pycache__ and .pyc files do not change the analysis hash; a source edit does."""
    (tmp_path / "m.py").write_text("a = 1\n")
    before = build.hash_tree(tmp_path)
    (tmp_path / "__pycache__").mkdir()
    (tmp_path / "__pycache__" / "m.cpython-311.pyc").write_bytes(b"\0")
    assert build.hash_tree(tmp_path) == before
    (tmp_path / "m.py").write_text("a = 2\n")
    assert build.hash_tree(tmp_path) != before


# ----------------------------------------------------------------------------- dataset
def test_synthetic_marker_file(tmp_path):
    """Test 7: a SYNTHETIC file declares the dataset synthetic."""
    (tmp_path / "SYNTHETIC").write_text("")
    assert build.classify_dataset(tmp_path)[0] is True


def test_readme_opening_declares_synthetic_but_later_mention_does_not(tmp_path):
    """Test 8: only the first line and first paragraph of README.md count."""
    readme = tmp_path / "README.md"
    readme.write_text("# Cohort X\n\nA synthetic cohort.\n")
    assert build.classify_dataset(tmp_path)[0] is True
    readme.write_text("# Cohort X\n\nTrial data, site 3.\n\nUnlike the synthetic cohort, these are real.\n")
    assert build.classify_dataset(tmp_path)[0] is False


def test_repository_cohort_is_synthetic_by_location():
    """Test 9: data/synthetic is synthetic whatever it holds."""
    assert build.classify_dataset(paths.SYNTHETIC)[0] is True


def test_dataset_description_hashes_every_file(tmp_path):
    """Test 10: every top-level file is hashed; the fingerprint changes with any byte."""
    shutil.copytree(paths.TEST_DATASET, tmp_path / "d")
    info = build.describe_dataset(tmp_path / "d")
    assert set(info.files) >= set(build.CONTRACT_FILES)
    (tmp_path / "d" / "README.md").write_text("changed")
    assert build.describe_dataset(tmp_path / "d").fingerprint != info.fingerprint


def test_invalid_dataset_is_reported_with_the_contract_message(tmp_path):
    """Test 11: inspect_dataset raises BuildError carrying the contract's file/column/line/rule."""
    shutil.copytree(paths.TEST_DATASET, tmp_path / "d")
    subjects = tmp_path / "d" / "subjects.csv"
    subjects.write_text(subjects.read_text().replace(",MSC,F,45,", ",MSC+IFN,F,45,", 1))
    with pytest.raises(build.BuildError, match=r"subjects.csv: column ARM, line 2: must be one of"):
        build.inspect_dataset(tmp_path / "d")


def test_undeclared_table_raises_on_use():
    """Test 12: a run declaring only subjects.csv cannot read adverse events."""
    dataset = notebook.load_run_dataset(str(paths.TEST_DATASET), ["subjects.csv", "visits.csv"])
    assert len(dataset.visits) > 0
    with pytest.raises(RuntimeError, match="adverse_events.csv, which its run does not declare"):
        dataset.adverse_events.merge(dataset.subjects)


# ----------------------------------------------------------------------------- run plan
def write_plan(tmp_path: Path, text: str) -> Path:
    write_notebook(tmp_path / "notebooks" / "a.ipynb", 'population = "completers"')
    plan = tmp_path / "runplan.yml"
    plan.write_text(text)
    return plan


def test_run_plan_is_read_with_paths_relative_to_it(tmp_path):
    """Test 13: a valid plan gives Run objects; the page is generated/<id>."""
    plan = write_plan(tmp_path, "runs:\n  - id: a\n    notebook: notebooks/a.ipynb\n    inputs: [subjects.csv]\n"
                                "    parameters: {population: randomised}\n")
    (run,) = build.load_run_plan(plan)
    assert (run.id, run.page, run.inputs, run.parameters) == ("a", "generated/a", ("subjects.csv",),
                                                              {"population": "randomised"})
    assert run.notebook == (tmp_path / "notebooks" / "a.ipynb").resolve()


@pytest.mark.parametrize("entry, message", [
    ("  - id: a\n    notebook: notebooks/missing.ipynb\n    inputs: [subjects.csv]\n", "not found"),
    ("  - id: a\n    notebook: notebooks/a.ipynb\n    inputs: [patients.csv]\n", "inputs must be"),
    ("  - id: a\n    notebook: notebooks/a.ipynb\n    inputs: [subjects.csv]\n    parameters: {prefix: x}\n",
     "no parameters cell defining \\['prefix'\\]"),
    ("  - id: a\n    notebook: notebooks/a.ipynb\n    inputs: [subjects.csv]\n"
     "  - id: a\n    notebook: notebooks/a.ipynb\n    inputs: [subjects.csv]\n", "used twice"),
    ("  - id: A-1\n    notebook: notebooks/a.ipynb\n    inputs: [subjects.csv]\n", "lower-case"),
])
def test_run_plan_errors_name_the_run_and_the_problem(tmp_path, entry, message):
    """Test 14: each malformed run is refused with a message naming it."""
    plan = write_plan(tmp_path, "runs:\n" + entry)
    with pytest.raises(build.BuildError, match=message):
        build.load_run_plan(plan)


def test_notebook_parameters_are_read_from_the_tagged_cell(tmp_path):
    """Test 15: names assigned in the `parameters` cell, annotated assignments included."""
    nb = write_notebook(tmp_path / "n.ipynb", "population: str = 'x'\nprefix = 'y'")
    assert build.notebook_parameter_names(nb) == {"data_dir", "dataset_files", "synthetic", "output_dir",
                                                  "population", "prefix"}


def test_the_book_run_plan_is_valid_and_runs_efficacy_twice():
    """Test 16: the committed plan loads; the efficacy notebook runs for completers and with NRI."""
    runs = build.load_run_plan(build.RUNPLAN)
    efficacy = [r for r in runs if r.notebook.name == "efficacy.ipynb"]
    assert {r.parameters["population"] for r in efficacy} == {"completers", "randomised"}


# ----------------------------------------------------------------------------- publishing
def record(tmp_path: Path, rid: str, rows: list[dict]) -> build.RunRecord:
    entry = tmp_path / "cache" / rid / "k"
    (entry / rid).mkdir(parents=True)
    (entry / f"{rid}.ipynb").write_text("{}")
    notebook.write_fragment(rows, entry / rid)
    return build.RunRecord(build.Run(rid, Path("nb.ipynb"), ("subjects.csv",)), "k", entry)


def test_publish_writes_only_changed_files_and_removes_stale_ones(tmp_path):
    """Test 17: an unchanged file keeps its mtime; a file of no run is deleted."""
    rec = record(tmp_path, "a", [make_result("t.x.msc.n", 1, "m")])
    generated = tmp_path / "generated"
    build.publish([rec], generated)
    page = generated / "a.ipynb"
    os.utime(page, (1, 1))
    (generated / "old.ipynb").write_text("stale")
    written = build.publish([rec], generated)
    assert written == [] and page.stat().st_mtime == 1
    assert not (generated / "old.ipynb").exists()
    assert (generated / ".gitignore").read_text().splitlines()[-1] == "*"


def test_merge_refuses_a_key_written_by_two_runs(tmp_path):
    """Test 18: two fragments with the same key -> BuildError naming both runs."""
    a = record(tmp_path, "a", [make_result("t.x.msc.n", 1, "m")])
    b = record(tmp_path, "b", [make_result("t.x.msc.n", 2, "m")])
    with pytest.raises(build.BuildError, match=r"'t.x.msc.n' \(runs a and b\)"):
        build.merge_registry([a, b])


def test_merge_adds_restatements_whose_source_is_present(tmp_path):
    """Test 19: text keys restating a computed key are added; others are not invented."""
    a = record(tmp_path, "a", [make_result("table2.sae.msc.rate", 2.47, "m")])
    merged = build.merge_registry([a]).set_index("key")["value"]
    assert merged["abstract.sae.msc.rate"] == 2.47 and merged["text.sae.msc.rate"] == 2.47
    assert "abstract.sae.msc_ifng.rate" not in merged


def test_registry_is_rewritten_only_when_a_value_changes(tmp_path):
    """Test 20: same frame -> file untouched (same mtime); another value -> rewritten."""
    import os

    from analysis.results import write_results

    frame = pd.DataFrame([make_result("a.x.msc.n", 1, "m"), make_result("a.y.msc.p", float("nan"), "m")])
    path = tmp_path / "results.csv"
    write_results(frame, path)
    os.utime(path, ns=(1, 1))
    write_results(frame, path)
    assert path.stat().st_mtime_ns == 1
    frame.loc[0, "value"] = 2.0
    write_results(frame, path)
    assert path.stat().st_mtime_ns != 1
    assert "a.x.msc.n,2.0," in path.read_text()


def test_registry_reader_keeps_missing_values_whatever_their_position(tmp_path):
    """Test 21: an empty value first in the file reads as NaN (pandas' to_numeric refuses 'nan')."""
    path = tmp_path / "r.csv"
    path.write_text("key,value,artefact,method\na.p,,a,m\nb.n,3.0,b,m\n")
    frame = build.read_registry(path)
    assert math.isnan(frame["value"][0]) and frame["value"][1] == 3.0


def test_registry_reference_renders_with_the_key_format_and_refuses_unknown_keys():
    """Test 22: the {reg} text; an unknown key is a KeyError naming it."""
    registry = {"table3.acr20.year1.p": 0.0004, "table2.n.msc": 80.0}
    assert build.render_registry_value(registry, "table3.acr20.year1.p:pexpr") == "p < 0.001"
    assert build.render_registry_value(registry, "table2.n.msc") == "80"
    with pytest.raises(KeyError, match="table2.n.total"):
        build.render_registry_value(registry, "table2.n.total")


def test_cache_pruning_keeps_current_and_recent_entries(tmp_path):
    """Test 23: incomplete entries and runs no longer planned go; the current entry and the
    `keep` most recent complete ones of a planned run stay."""
    runs = tmp_path / "book-runs"
    for name, complete in (("k1", True), ("k2", True), ("k3", True), ("half", False)):
        (runs / "a" / name).mkdir(parents=True)
        if complete:
            (runs / "a" / name / "meta.json").write_text("{}")
            os.utime(runs / "a" / name / "meta.json", (int(name[1]), int(name[1])))
    (runs / "gone" / "k").mkdir(parents=True)
    current = build.RunRecord(build.Run("a", Path("nb.ipynb"), ("subjects.csv",)), "k1", runs / "a" / "k1")
    build.prune_cache([current], keep=1, runs_dir=runs)
    assert sorted(p.name for p in (runs / "a").iterdir()) == ["k1", "k3"]
    assert not (runs / "gone").exists()
