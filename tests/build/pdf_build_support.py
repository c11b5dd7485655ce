"""Helpers of the PDF build shared by ``tests/pdf`` and ``tests/submission``: the book of a
dataset built as PDFs, the way `make pdf` does (``jupyter-book build book/ --builder pdflatex
-W``), in a copy of the session's HTML build of that dataset (fixture ``pdf_built`` of
tests/conftest.py). The notebook cache is keyed on content, so the copy executes no notebook:
the PDFs show the very results the HTML of the same build shows.

One build writes two PDFs, the article (``paper.pdf``) and its supplement (``supplement.pdf``);
:func:`document_pages` says, independently of the book's extension, which pages each should
hold, from ``_toc.yml`` and ``submission_documents`` in ``_config.yml``.
"""
from __future__ import annotations

import subprocess
import unicodedata
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import yaml
from book_build_support import Build

#: Debian packages the PDF build needs (`make system-deps` installs them).
NEEDS = {"xelatex": "texlive-xetex", "latexmk": "latexmk", "pdftotext": "poppler-utils",
         "pdfimages": "poppler-utils"}
#: The two documents, by the stem of their files in _build/latex.
DOCUMENTS = ("paper", "supplement")


def document_pages(root: Path) -> dict[str, list[str]]:
    """Document stem -> its pages in reading order: the root page (unless the document is
    ``toctree_only``), the pages of its parts of ``_toc.yml``, and its single ``pages``."""
    toc = yaml.safe_load((root / "_toc.yml").read_text(encoding="utf-8"))
    config = yaml.safe_load((root / "_config.yml").read_text(encoding="utf-8"))
    specs = config["sphinx"]["config"]["submission_documents"]
    out = {}
    for stem in DOCUMENTS:
        spec = specs[f"{stem}.tex"]
        pages = [] if spec.get("toctree_only") else [toc["root"]]
        for part in toc["parts"]:
            for chapter in part["chapters"]:
                if part["caption"] in spec.get("parts", []) or chapter["file"] in spec.get("pages", []):
                    pages.append(chapter["file"])
        out[stem] = pages
    return out


@dataclass
class PdfDocument:
    """One PDF of a build: ``paper`` or ``supplement``."""

    latex_dir: Path
    stem: str

    @property
    def pdf(self) -> Path:
        return self.latex_dir / f"{self.stem}.pdf"

    def text(self, *options: str) -> str:
        """``pdftotext [options] <stem>.pdf -``."""
        return subprocess.run(["pdftotext", *options, str(self.pdf), "-"], check=True, capture_output=True,
                              text=True).stdout

    @cached_property
    def raw_text(self) -> str:
        """The text in the order it was typeset: a table reads row by row, cell by cell."""
        return self.text("-raw")

    @cached_property
    def pages(self) -> int:
        info = subprocess.run(["pdfinfo", str(self.pdf)], check=True, capture_output=True, text=True).stdout
        return int(next(line.split()[1] for line in info.splitlines() if line.startswith("Pages:")))

    @cached_property
    def tex(self) -> str:
        return (self.latex_dir / f"{self.stem}.tex").read_text(encoding="utf-8")

    @cached_property
    def log(self) -> str:
        return (self.latex_dir / f"{self.stem}.log").read_text(encoding="utf-8", errors="replace")


@dataclass
class PdfBuild:
    """A PDF build: the ``jupyter-book`` run, the HTML build it was copied from, the PDFs."""

    build: Build
    html: Build

    @property
    def root(self) -> Path:
        return self.build.root

    @property
    def latex_dir(self) -> Path:
        return self.root / "_build" / "latex"

    @cached_property
    def documents(self) -> dict[str, PdfDocument]:
        return {stem: PdfDocument(self.latex_dir, stem) for stem in DOCUMENTS}

    @cached_property
    def pages_of(self) -> dict[str, list[str]]:
        return document_pages(self.root)

    def document_of(self, docname: str) -> PdfDocument:
        """The PDF that holds the page ``docname`` (the article first)."""
        stem = next(stem for stem in DOCUMENTS if docname in self.pages_of[stem])
        return self.documents[stem]


def normalise(text: str) -> str:
    """Letters, digits and ``. < > %`` of ``text`` (NFKC: ligatures and ``…`` unfolded).

    Examples
    --------
    >>> normalise("per 100 patient-\\nyears: 2.47 (p < 0.001) – “ﬁne”…")
    'per100patientyears2.47p<0.001fine...'
    """
    text = unicodedata.normalize("NFKC", text)
    return "".join(ch for ch in text if ch.isalnum() or ch in ".<>%")
