"""Helpers of the build tests: build the book in throw-away copies of the repository.

Every build test works in a copy (``analysis/``, ``book/``, the configuration, the lock and the
datasets) under pytest's tmp directory, so the copy has its own ``_build/`` and
``book/generated/`` and nothing of the working tree is touched. ``analysis.paths`` resolves the
copy's root from its own ``analysis/__file__``; the book's extension puts the copy first on
``sys.path`` and papermill starts kernels in the copy's root, so the copy's code is what runs.

A clean build of a dataset is made once per session (:func:`built`) and shared; tests that
change something work on a further copy of a built tree, whose cache is content-keyed and so
still valid after the move.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from analysis import paths

#: Datasets the book is built from in the tests: the minimal test dataset always, the
#: synthetic cohort when it is present in this checkout.
DATASETS = ["tests/data/minimal"] + (["data/synthetic"] if (paths.SYNTHETIC / "subjects.csv").is_file() else [])
JUPYTER_BOOK = Path(sys.executable).parent / "jupyter-book"
_IGNORE = shutil.ignore_patterns("__pycache__", "*.pyc", "generated", ".ipynb_checkpoints")


@dataclass
class Build:
    """One ``jupyter-book build`` of a copy: its root, exit status, output and wall time."""

    root: Path
    data_dir: str
    returncode: int
    output: str
    seconds: float

    @property
    def html(self) -> Path:
        return self.root / "_build" / "html"

    def page(self, docname: str) -> str:
        return (self.html / f"{docname}.html").read_text(encoding="utf-8")

    def executed(self) -> list[str]:
        """Run ids the runner reports as executed in this build."""
        return sorted(line.split("executed ", 1)[1].split(" in ")[0]
                      for line in self.output.splitlines() if "[reproduce] executed " in line)


def copy_repository(target: Path) -> Path:
    """Copy what a build needs (no outputs) to ``target`` and return it."""
    target.mkdir(parents=True)
    for name in ("analysis", "book"):
        shutil.copytree(paths.ROOT / name, target / name, ignore=_IGNORE, symlinks=True)
    for name in ("_config.yml", "_toc.yml", "requirements.lock", "requirements.in", "README.md"):
        shutil.copy2(paths.ROOT / name, target / name)
    shutil.copytree(paths.DATA, target / "data", ignore=_IGNORE)
    shutil.copytree(paths.TEST_DATASET, target / "tests" / "data" / "minimal")
    return target


def copy_built(build: Build, target: Path) -> Path:
    """Copy a built tree, outputs and cache included."""
    shutil.copytree(build.root, target, symlinks=True)
    return target


def commit_epoch() -> str:
    """The date of the checkout's last commit (seconds since 1970), as the Makefile passes it to
    builds in ``SOURCE_DATE_EPOCH``; empty outside a git checkout. The copies have no ``.git``."""
    proc = subprocess.run(["git", "log", "-1", "--format=%ct"], cwd=paths.ROOT, capture_output=True, text=True)
    return proc.stdout.strip() if proc.returncode == 0 else ""


def run_build(root: Path, data_dir: str, *extra: str, warnings_as_errors: bool = True) -> Build:
    """``jupyter-book build book/ [-W]`` in ``root`` with ``ANALYSIS_DATA_DIR=data_dir``."""
    env = {**os.environ, "ANALYSIS_DATA_DIR": data_dir, "MPLBACKEND": "Agg", "PYTHONHASHSEED": "0"}
    if commit_epoch() and "SOURCE_DATE_EPOCH" not in env:  # as the Makefile sets it
        env["SOURCE_DATE_EPOCH"] = commit_epoch()
    args = [str(JUPYTER_BOOK), "build", "book/", *(["-W"] if warnings_as_errors else []), *extra]
    start = time.perf_counter()
    proc = subprocess.run(args, cwd=root, env=env, capture_output=True, text=True, timeout=900)
    seconds = time.perf_counter() - start
    return Build(root, data_dir, proc.returncode, proc.stdout + "\n" + proc.stderr, seconds)
