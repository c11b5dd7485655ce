"""The cache key covers exactly what a run can reach (issue 10, item 1): the notebook's static
import closure of ``analysis``, the declared dataset tables and the declared repository
sources. Checked on a copy of the repository's code, run plan and published registry, at the
key level: :func:`analysis.build.prepare_book` executes exactly the runs whose key has no
cache entry, so a run whose key is unchanged is not re-executed (the end-to-end version of the
tooling case is in tests/build/test_book_build.py).
"""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from analysis import build, notebook, paths
from analysis.published import load_published

ALL_RUNS = {"patient_flow", "baseline", "safety", "efficacy_completers", "medications", "durability", "clusters",
            "longitudinal", "efficacy_nri", "dropouts", "safety_sensitivity", "reproduction", "ensemble", "audit"}
#: Runs whose tables mark the values the published numbers do not determine (they read data/ensemble).
MARKED_RUNS = {"baseline", "safety", "efficacy_completers", "medications", "durability", "clusters",
               "efficacy_nri", "dropouts", "safety_sensitivity"}


@pytest.fixture(scope="module")
def repo(tmp_path_factory) -> Path:
    """A copy of what the keys read: the code, the book's notebooks and run plan, the lock and
    the published registry."""
    root = tmp_path_factory.mktemp("keys") / "repo"
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", "generated", ".ipynb_checkpoints")
    for name in ("analysis", "book", "data/published", "data/ensemble"):
        shutil.copytree(paths.ROOT / name, root / name, ignore=ignore)
    shutil.copy2(paths.ROOT / "requirements.lock", root / "requirements.lock")
    return root


def keys(root: Path) -> dict[str, str]:
    runs = build.load_run_plan(root / "book" / "runplan.yml")
    return build.run_keys(runs, build.describe_dataset(paths.TEST_DATASET), root)


def rerun_after(root: Path, relative: str, edit=lambda text: text + "\n# edited\n") -> set[str]:
    """Run ids whose key changes when the file ``relative`` of ``root`` is edited (then restored)."""
    path = root / relative
    original = path.read_bytes()
    before = keys(root)
    try:
        path.write_text(edit(original.decode("utf-8")), encoding="utf-8")
        after = keys(root)
    finally:
        path.write_bytes(original)
    assert keys(root) == before  # restoring the file restores every key
    return {rid for rid in before if before[rid] != after[rid]}


def test_the_plan_has_the_runs_this_file_names(repo):
    """Test 1: the run ids below are those of the committed plan (so the sets are exact)."""
    assert set(keys(repo)) == ALL_RUNS


@pytest.mark.parametrize("tool", ["analysis/bench.py", "analysis/codecheck.py", "analysis/build/runner.py",
                                  "analysis/build/__init__.py",
                                  "analysis/ensemble/engine.py", "analysis/ensemble/bench.py"])
def test_editing_tooling_changes_no_run_key(repo, tool):
    """Test 2: benchmarks, the CODECHECK writer, the runner itself and the ensemble's Dask engine
    are imported by no notebook: editing them re-executes nothing."""
    assert rerun_after(repo, tool) == set()


@pytest.mark.parametrize("generator", ["analysis/synthetic/generate.py", "analysis/synthetic/__init__.py"])
def test_editing_the_generator_reruns_only_the_ensemble_page(repo, generator):
    """Test 2b: the synthetic generator is imported by no analysis notebook; only the ensemble page
    reaches it, because it checks whether the stored ensemble is stale (it digests the generator)."""
    assert rerun_after(repo, generator) == {"ensemble"}


def test_editing_the_ensemble_summary_reruns_the_runs_that_read_it(repo):
    """Test 2c: data/ensemble is in the key of the runs declaring it: the ensemble page, the
    reproduction report (targeted or derived) and the runs whose tables carry the marks."""
    assert rerun_after(repo, "data/ensemble/summary.csv",
                       lambda text: text.replace("not determined", "not determined ", 1)) == (
        MARKED_RUNS | {"reproduction", "ensemble"})


def test_editing_safety_reruns_exactly_the_runs_that_reach_it(repo):
    """Test 3: analysis.safety is reached by every notebook: directly (safety, safety_sensitivity),
    through analysis.tables (which builds every artefact's registry rows), or through
    analysis.presentation and analysis.disposition (the audit via presentation)."""
    assert rerun_after(repo, "analysis/safety.py") == ALL_RUNS


def test_editing_figures_reruns_only_the_runs_that_draw_a_figure(repo):
    """Test 4: analysis.figures is imported by the five notebooks that draw a figure only."""
    assert rerun_after(repo, "analysis/figures.py") == {"patient_flow", "durability", "clusters", "longitudinal",
                                                        "ensemble"}


def test_editing_the_published_registry_reruns_only_the_runs_that_declare_it(repo):
    """Test 5: data/published is in the key of the runs declaring `sources: [data/published]` only."""
    assert rerun_after(repo, "data/published/table2.csv",
                       lambda text: text.replace("Table 2", "Table 2 (edited)", 1)) == {"reproduction", "audit",
                                                                                       "ensemble"}


def test_editing_a_notebook_reruns_only_its_runs(repo):
    """Test 6: the efficacy notebook serves two runs."""
    assert rerun_after(repo, "book/notebooks/efficacy.ipynb",
                       lambda text: text.replace("papermill replaces", "papermill replaces (edited)", 1)
                       ) == {"efficacy_completers", "efficacy_nri"}


def test_a_folder_source_is_hashed_file_by_file(tmp_path):
    """Test 7: a declared folder (as `sources: [data/ensemble]` will be) changes the hash when
    a file in it changes, is added or is renamed; an empty list hashes to a constant."""
    folder = tmp_path / "data" / "ensemble"
    (folder / "m1").mkdir(parents=True)
    (folder / "m1" / "subjects.csv").write_text("a\n")
    first = build.hash_sources(["data/ensemble"], tmp_path)
    (folder / "m1" / "subjects.csv").write_text("b\n")
    second = build.hash_sources(["data/ensemble"], tmp_path)
    (folder / "m2").mkdir()
    (folder / "m2" / "subjects.csv").write_text("b\n")
    third = build.hash_sources(["data/ensemble"], tmp_path)
    (folder / "m2").rename(folder / "m3")
    fourth = build.hash_sources(["data/ensemble"], tmp_path)
    assert len({first, second, third, fourth}) == 4
    assert build.hash_sources([], tmp_path) == build.hash_sources([], paths.ROOT)


def test_closure_follows_function_level_and_relative_imports(tmp_path):
    """Test 8: the closure follows imports inside functions and relative imports, includes the
    packages' __init__ files, and leaves out modules nothing imports."""
    pkg = tmp_path / "analysis"
    (pkg / "sub").mkdir(parents=True)
    (pkg / "__init__.py").write_text("")
    (pkg / "sub" / "__init__.py").write_text("from . import leaf\n")
    (pkg / "sub" / "leaf.py").write_text("X = 1\n")
    (pkg / "top.py").write_text("def f():\n    from analysis.sub import leaf\n    return leaf.X\n")
    (pkg / "unused.py").write_text("")
    nb = tmp_path / "nb.ipynb"
    nb.write_text(json.dumps({"cells": [{"cell_type": "code", "id": "imports", "source": "%matplotlib inline\nfrom analysis import top",
                                         "metadata": {}, "outputs": [], "execution_count": None}],
                              "metadata": {}, "nbformat": 4, "nbformat_minor": 5}))
    files = {p.relative_to(tmp_path).as_posix() for p in build.analysis_closure(nb, tmp_path)}
    assert files == {"analysis/__init__.py", "analysis/top.py", "analysis/sub/__init__.py", "analysis/sub/leaf.py"}


@pytest.mark.parametrize("entry, message", [
    ("    inputs: []\n    sources: [data/nothing]\n", "source 'data/nothing' not found"),
    ("    inputs: []\n    sources: [/etc]\n", "must be a path inside the repository"),
    ("    inputs: []\n    sources: data/published\n", "sources must be a list"),
    ("", "inputs must be a list"),
])
def test_bad_inputs_and_sources_are_refused(tmp_path, entry, message):
    """Test 9: `inputs` is required (`[]` for none); a source must exist inside the repository."""
    nb = tmp_path / "notebooks" / "a.ipynb"
    nb.parent.mkdir()
    shutil.copy2(paths.BOOK / "notebooks" / "audit.ipynb", nb)
    plan = tmp_path / "runplan.yml"
    plan.write_text("runs:\n  - id: a\n    notebook: notebooks/a.ipynb\n" + entry)
    with pytest.raises(build.BuildError, match=message):
        build.load_run_plan(plan)


def test_empty_inputs_and_a_folder_source_are_accepted():
    """Test 10: the audit run reads no dataset table and declares the published registry."""
    audit = next(r for r in build.load_run_plan() if r.id == "audit")
    assert (audit.inputs, audit.sources) == ((), ("data/published",))


def test_reading_an_undeclared_source_in_a_run_fails_loudly(tmp_path):
    """Test 11: inside a run (the runner wrote run.json beside the output folder) reading the
    published registry without declaring it raises, naming the run and the fix; declared, it reads."""
    out = tmp_path / "entry" / "safety"
    out.parent.mkdir()
    try:
        (out.parent / notebook.RUN_FILE).write_text(json.dumps({"run": "safety", "sources": []}))
        notebook.output_path(out)
        with pytest.raises(RuntimeError, match=r"run 'safety' reads data/published, which it does not declare"):
            load_published()
        (out.parent / notebook.RUN_FILE).write_text(json.dumps({"run": "audit", "sources": ["data/published"]}))
        notebook.output_path(out)
        assert len(load_published()) > 0
    finally:
        paths.declare_sources(None)
