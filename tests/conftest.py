"""Session fixture shared by every test folder that needs a built book (``tests/build``,
``tests/browser``, ``tests/pdf``): one clean build of the book per dataset, made once per session in a throw-away
copy of the repository (see ``tests/build/book_build_support.py`` for how the copies are made).
"""
from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent / "build"))
from book_build_support import Build, copy_repository, run_build  # noqa: E402

_BUILDS: dict[str, Build] = {}

# Conftest files are loaded by pytest as plugins, not collected: `--doctest-modules` would import
# each again as the module `conftest`, which clashes with whichever conftest was loaded last
# (this one, or any two folders given on the command line: `pytest tests/browser tests/pdf`).
collect_ignore_glob = ["conftest.py", "*/conftest.py"]


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
