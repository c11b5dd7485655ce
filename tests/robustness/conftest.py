"""Session fixtures of the robustness tests: one clean ``make book`` of a dataset presented as
real, in a throw-away copy of the repository. The malformed-dataset tests run their failing
builds in that copy and check that they leave its published book as it was; the privacy tests
scan that book; the determinism test compares it with a second clean build.
"""
from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

import pytest
from robustness_support import MakeResult, make_copy, published_state, run_make

from analysis import paths
from analysis.contract import FILES as CONTRACT_FILES


@dataclass
class BuiltCopy:
    """A repository copy with a valid build: its root, the dataset, the build, what it published."""

    root: Path
    data_dir: Path
    build: MakeResult
    state: dict[str, dict[str, str]]


def copy_as_real(target: Path) -> Path:
    """The synthetic cohort's four tables in a folder outside the repository with no README and
    no SYNTHETIC marker: a build presents it as a real dataset, as it would a hospital's."""
    target.mkdir(parents=True)
    for name in CONTRACT_FILES:
        shutil.copy2(paths.SYNTHETIC / name, target / name)
    return target


@pytest.fixture(scope="session")
def real_dataset(tmp_path_factory) -> Path:
    return copy_as_real(tmp_path_factory.mktemp("real") / "dataset")


@pytest.fixture(scope="session")
def built_copy(tmp_path_factory, real_dataset) -> BuiltCopy:
    """``make book DATA_DIR=<real dataset>`` once, from a clean copy."""
    root = make_copy(tmp_path_factory.mktemp("robustness") / "repo")
    result = run_make(root, "book", real_dataset)
    assert result.returncode == 0, result.output[-5000:]
    print(f"clean make book on the real-like dataset: {result.seconds:.1f} s")
    return BuiltCopy(root, real_dataset, result, published_state(root))
