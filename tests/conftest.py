"""Session fixtures shared by every test folder that needs a built book (``tests/build``,
``tests/browser``, ``tests/pdf``, ``tests/submission``): one clean build of the book per dataset, made once per
session in a throw-away copy of the repository (see ``tests/build/book_build_support.py`` for how the copies are
made), and one PDF build per dataset in a copy of it (``tests/build/pdf_build_support.py``).
"""
from __future__ import annotations

import importlib.util
import shutil
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent / "build"))
from book_build_support import Build, copy_built, copy_repository, run_build  # noqa: E402
from pdf_build_support import NEEDS, PdfBuild  # noqa: E402

from analysis import paths  # noqa: E402

_BUILDS: dict[str, Build] = {}
_PDFS: dict[str, PdfBuild] = {}

# Conftest files are loaded by pytest as plugins, not collected: `--doctest-modules` would import
# each again as the module `conftest`, which clashes with whichever conftest was loaded last
# (this one, or any two folders given on the command line: `pytest tests/browser tests/pdf`).
collect_ignore_glob = ["conftest.py", "*/conftest.py"]


@pytest.fixture(scope="session")
def book_extension():
    """``book_extension(name)`` -> the book's Sphinx extension ``book/_ext/<name>.py``, loaded as a
    module (the extensions are not importable as a package)."""
    def load(name: str):
        spec = importlib.util.spec_from_file_location(f"{name}_ext", paths.BOOK / "_ext" / f"{name}.py")
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        return module

    return load


@pytest.fixture(scope="session")
def built(tmp_path_factory):
    """``built(data_dir)`` -> the session's clean build of the book (HTML) on that dataset."""

    def get(data_dir: str) -> Build:
        if data_dir not in _BUILDS:
            root = copy_repository(tmp_path_factory.mktemp("book") / "repo")
            result = run_build(root, data_dir)
            assert result.returncode == 0, result.output[-5000:]
            _BUILDS[data_dir] = result
        return _BUILDS[data_dir]

    return get


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
