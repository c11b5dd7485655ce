"""Session fixture of the PDF tests: the book of a dataset built as a PDF, the way `make pdf` does
(``jupyter-book build book/ --builder pdflatex -W``), in a copy of the session's HTML build of
that dataset (``built``, tests/conftest.py). The notebook cache is keyed on content, so the copy
executes no notebook: the PDF shows the very results the HTML of the same build shows.
"""
from __future__ import annotations

import shutil
import subprocess
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import pytest
from book_build_support import Build, copy_built, run_build

#: Debian packages the PDF build needs (`make system-deps` installs them).
NEEDS = {"xelatex": "texlive-xetex", "latexmk": "latexmk", "pdftotext": "poppler-utils",
         "pdfimages": "poppler-utils"}


@dataclass
class PdfBuild:
    """A PDF build: the ``jupyter-book`` run, the HTML build it was copied from, the PDF."""

    build: Build
    html: Build

    @property
    def root(self) -> Path:
        return self.build.root

    @property
    def latex_dir(self) -> Path:
        return self.root / "_build" / "latex"

    @property
    def pdf(self) -> Path:
        return self.latex_dir / "paper.pdf"

    def text(self, *options: str) -> str:
        """``pdftotext [options] paper.pdf -``."""
        return subprocess.run(["pdftotext", *options, str(self.pdf), "-"], check=True, capture_output=True,
                              text=True).stdout

    @cached_property
    def raw_text(self) -> str:
        """The text in the order it was typeset: a table reads row by row, cell by cell."""
        return self.text("-raw")

    @cached_property
    def tex(self) -> str:
        return (self.latex_dir / "paper.tex").read_text(encoding="utf-8")

    @cached_property
    def log(self) -> str:
        return (self.latex_dir / "paper.log").read_text(encoding="utf-8", errors="replace")


_PDFS: dict[str, PdfBuild] = {}


@pytest.fixture(scope="session")
def pdf_built(built, tmp_path_factory):
    """``pdf_built(data_dir)`` -> the session's PDF build of the book on that dataset."""
    missing = sorted({pkg for tool, pkg in NEEDS.items() if shutil.which(tool) is None})
    assert not missing, f"the PDF tests need the Debian packages {missing}: run `make system-deps`"

    def get(data_dir: str) -> PdfBuild:
        if data_dir not in _PDFS:
            html = built(data_dir)
            root = copy_built(html, tmp_path_factory.mktemp("pdf") / "repo")
            result = run_build(root, data_dir, "--builder", "pdflatex")
            assert result.returncode == 0, result.output[-5000:]
            _PDFS[data_dir] = PdfBuild(result, html)
        return _PDFS[data_dir]

    return get
