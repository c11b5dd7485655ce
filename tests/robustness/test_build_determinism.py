"""Two clean builds of the same data, in two fresh copies of the repository, publish the same
numbers byte for byte: the merged registry (``_build/results/results.csv``), each run's registry
fragment and every table a run writes (``book/generated/<run>/*.csv``).

The two builds are the robustness session's ``make book`` of the synthetic cohort's tables placed
outside the repository (``built_copy``, presented as real data) and the test session's shared
clean build of ``data/synthetic`` (the ``built`` fixture of ``tests/conftest.py``, reused, so no
extra build is made when the browser, PDF or build tests ran). The tables are the same bytes;
the folder, its label and the synthetic flag differ, so equal registries also show that the
numbers depend on the data's content only.
"""
from __future__ import annotations

import pandas as pd
import pytest
from robustness_support import digest_tree

from analysis.build import load_run_plan
from analysis.presentation import UNDETERMINED_MARK

pytestmark = pytest.mark.slow
SYNTHETIC = "data/synthetic"


def _registry_diff(first: bytes, second: bytes) -> str:
    a, b = set(first.decode().splitlines()), set(second.decode().splitlines())
    return "only in the first: " + repr(sorted(a - b)[:5]) + "\nonly in the second: " + repr(sorted(b - a)[:5])


def test_both_builds_are_clean_and_from_the_same_tables(built_copy, built):
    """Test 1: both builds executed every run themselves, from byte-identical tables."""
    other = built(SYNTHETIC)
    runs = load_run_plan(built_copy.root / "book" / "runplan.yml")
    assert other.executed() == sorted(r.id for r in runs)
    assert "0 cached" in built_copy.build.output
    for name in ("subjects.csv", "visits.csv", "adverse_events.csv", "medications.csv"):
        assert (built_copy.data_dir / name).read_bytes() == (other.root / SYNTHETIC / name).read_bytes()


def test_two_clean_builds_give_a_byte_identical_registry(built_copy, built):
    """Test 2: results.csv of both builds has the same bytes (and is not empty)."""
    first = (built_copy.root / "_build" / "results" / "results.csv").read_bytes()
    second = (built(SYNTHETIC).root / "_build" / "results" / "results.csv").read_bytes()
    assert first.count(b"\n") > 1000
    assert first == second, _registry_diff(first, second)


def _as_numbers(path) -> list[list[str]]:
    """A written table without what only a synthetic build adds: the ‡ marks of values the
    published numbers do not determine and the reproduction report's column saying which values
    the generator targets (the copy is presented as real data, so it has neither)."""
    frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    frame = frame.drop(columns=[c for c in frame.columns if c in ("In the synthetic cohort", "construction")])
    return [list(frame.columns)] + [[cell.replace(UNDETERMINED_MARK, "") for cell in row] for row in frame.values]


def test_two_clean_builds_write_identical_tables_and_fragments(built_copy, built):
    """Test 3: every registry fragment a run wrote is byte-identical, and every paper-layout table
    has the same cells once the synthetic build's marks are set aside (which test 4 checks)."""
    def csvs(root):
        return {k: v for k, v in digest_tree(root / "book" / "generated").items() if k.endswith(".csv")}

    first = csvs(built_copy.root)
    second = csvs(built(SYNTHETIC).root)
    runs = load_run_plan(built_copy.root / "book" / "runplan.yml")
    assert {f"{run.id}/registry.csv" for run in runs} <= set(first)
    assert set(second) == set(first)
    fragments = {k for k in first if k.endswith("/registry.csv")}
    assert {k: second[k] for k in fragments} == {k: first[k] for k in fragments}
    for name in sorted(set(first) - fragments):
        a = _as_numbers(built_copy.root / "book" / "generated" / name)
        b = _as_numbers(built(SYNTHETIC).root / "book" / "generated" / name)
        assert a == b, name


def test_only_the_synthetic_build_marks_undetermined_values(built_copy, built):
    """Test 4: the ‡ marks appear in the synthetic build's tables and in none of the copy's,
    which is presented as real data (the ensemble describes reconstructions, not the trial)."""
    def marks(root):
        return sum(path.read_text(encoding="utf-8").count(UNDETERMINED_MARK)
                   for path in (root / "book" / "generated").glob("*/*.csv"))

    assert marks(built_copy.root) == 0
    assert marks(built(SYNTHETIC).root) > 0
