"""Session fixture of the build tests: one clean build of the book per dataset
(see ``book_build_support`` for how the copies are made)."""
from __future__ import annotations

import pytest
from book_build_support import Build, copy_repository, run_build

_BUILDS: dict[str, Build] = {}


@pytest.fixture(scope="session")
def built(tmp_path_factory):
    """``built(data_dir)`` -> the session's clean build of the book on that dataset."""

    def get(data_dir: str) -> Build:
        if data_dir not in _BUILDS:
            root = copy_repository(tmp_path_factory.mktemp("book") / "repo")
            result = run_build(root, data_dir)
            assert result.returncode == 0, result.output[-5000:]
            _BUILDS[data_dir] = result
        return _BUILDS[data_dir]

    return get
