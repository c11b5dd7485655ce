"""Two clean builds of one commit give the same outputs (`make book`, `make pdf`, `make docx`,
`make jats`, `make submission` with the Makefile's ``SOURCE_DATE_EPOCH``, the commit's date).

The session's build of the minimal dataset (``submission_built``) is compared with a second
build made from scratch in another copy of the repository (another path, another day's clock
would not matter: no output carries the build's time or path). Byte for byte: the Word and JATS
files, every figure and table file of the run plan, the PDFs (xelatex writes the same bytes when
``SOURCE_DATE_EPOCH`` fixes its dates) and the zip. The PDFs' text and page count are compared
as well, so a difference is reported in words before it is reported in bytes.
"""
from __future__ import annotations

import subprocess

import pytest
from book_build_support import copy_repository, run_build
from submission_support import write_outputs

from analysis import build as runner
from analysis.export import companion_files
from analysis.submission import bundle

pytestmark = pytest.mark.slow
DATASET = "tests/data/minimal"


def pdf_text(path) -> str:
    return subprocess.run(["pdftotext", "-raw", str(path), "-"], check=True, capture_output=True, text=True).stdout


@pytest.fixture(scope="module")
def two_builds(submission_built, tmp_path_factory):
    first = submission_built(DATASET)
    root = copy_repository(tmp_path_factory.mktemp("second") / "repo")
    for extra in ((), ("--builder", "pdflatex")):
        result = run_build(root, DATASET, *extra)
        assert result.returncode == 0, result.output[-5000:]
    write_outputs(root)
    return first.root, root


def test_pdfs_have_the_same_text_pages_and_bytes(two_builds):
    """Test 1: each PDF of the second build has the first's text and page count, and its bytes."""
    first, second = two_builds
    for stem in ("paper", "supplement"):
        a, b = (root / "_build" / "latex" / f"{stem}.pdf" for root in (first, second))
        assert pdf_text(a) == pdf_text(b), stem
        assert a.read_bytes() == b.read_bytes(), f"{stem}.pdf: same text, different bytes"


def test_word_jats_figures_tables_and_zip_are_byte_identical(two_builds):
    """Test 2: the Word files, the JATS file, every figure and table file of the run plan and
    the zip are the same bytes in both builds."""
    first, second = two_builds
    files = ["_build/docx/paper.docx", "_build/docx/supplement.docx", "_build/jats/paper.xml",
             f"_build/submission/{bundle.BUNDLE}"]
    for run in runner.load_run_plan(first / "book" / "runplan.yml"):
        files += [f"book/generated/{run.id}/{name}" for artefact in run.artefacts.values()
                  for name in companion_files(artefact)]
    different = [file for file in files if (first / file).read_bytes() != (second / file).read_bytes()]
    assert different == []
    assert len(files) > 60
