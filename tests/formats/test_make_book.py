"""``make verify`` and ``make book`` on a dataset the trial team holds: the synthetic cohort as
SPSS files with a mapping.yml, in a folder outside the repository (presented as real data).

In a throw-away copy of the repository (:mod:`robustness_support`, the helpers of
``tests/robustness``), a clean ``make book`` must build, ``make verify`` must reproduce every
published value, no page may carry the dataset's path, and then three malformed variants in
other formats must stop ``make book`` with the place named, before any notebook is planned or
run, leaving the published book, the registry and the run cache byte for byte as they were.
"""
from __future__ import annotations

import shutil
import sys

import pytest
from formats_support import WRITERS
from test_malformed_formats import CASES, assert_reported

from analysis import paths

sys.path.insert(0, str(paths.TESTS / "robustness"))
from robustness_support import (
    EXECUTION_MARKERS,
    digest_tree,
    make_copy,
    published_state,
    published_text_files,
    repository_copies,
    run_make,
)

pytestmark = pytest.mark.slow

#: Malformed variants run through a real ``make book`` (one per format family).
BUILD_CASES = ("unmapped_code", "missing_sheet", "sas_date_out_of_range")


@pytest.fixture(scope="module")
def spss_build(tmp_path_factory):
    data = WRITERS["spss"](tmp_path_factory.mktemp("hospital") / "ra_export")
    root = make_copy(tmp_path_factory.mktemp("formats") / "repo")
    result = run_make(root, "book", data)
    assert result.returncode == 0, result.output[-5000:]
    print(f"clean make book on the SPSS export: {result.seconds:.1f} s")
    return root, data


def test_make_verify_reproduces_every_published_value_from_spss(spss_build):
    root, data = spss_build
    result = run_make(root, "verify", data)
    assert result.returncode == 0, result.output[-3000:]
    summary = result.output.rstrip().splitlines()[-1]
    assert summary.startswith("verify: 401 of 401 published values reproduced"), summary
    csv = run_make(root, "verify", "data/synthetic")  # the same summary as the CSV cohort's
    assert summary == csv.output.rstrip().splitlines()[-1]


def test_book_names_the_spss_folder_only_by_its_name(spss_build):
    root, data = spss_build
    files = published_text_files(root)
    files = [p for p in files if p not in set(repository_copies(root, files))]
    assert files
    leaks = [p.relative_to(root).as_posix() for p in files if str(data.parent) in p.read_text(errors="replace")]
    assert leaks == []
    intro = (root / "_build" / "html" / "intro.html").read_text(encoding="utf-8")
    assert "ra_export (a folder outside the repository)" in intro


@pytest.mark.parametrize("case_id", BUILD_CASES)
def test_malformed_export_stops_make_book_and_keeps_the_build(spss_build, tmp_path, case_id):
    root, _ = spss_build
    case = next(c for c in CASES if c.id == case_id)
    data = tmp_path / "dataset"
    shutil.copytree(WRITERS[case.fmt](tmp_path / "clean", paths.TEST_DATASET), data)
    expected = case.breaks(data)
    state, cache = published_state(root), digest_tree(root / "_build" / "book-runs")
    result = run_make(root, "book", data)
    assert result.returncode != 0
    assert "invalid dataset" in result.output
    assert_reported(result.output, expected)
    assert not [m for m in EXECUTION_MARKERS if m in result.output], result.output[-3000:]
    assert published_state(root) == state
    assert digest_tree(root / "_build" / "book-runs") == cache
