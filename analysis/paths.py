"""Every path the project uses, resolved from this file.

papermill and Sphinx change the working directory, so nothing may depend on it
(showyourwork's ``paths.py`` pattern).
"""
from __future__ import annotations

import os
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "data"
PUBLISHED = DATA / "published"
SYNTHETIC = DATA / "synthetic"
#: The committed reconstruction ensemble (``make ensemble``).
ENSEMBLE = DATA / "ensemble"
BOOK = ROOT / "book"
BUILD = ROOT / "_build"
RESULTS = BUILD / "results"
TESTS = ROOT / "tests"
TEST_DATASET = TESTS / "data" / "minimal"

#: Environment variable that selects the dataset for a whole build.
DATA_DIR_ENV = "ANALYSIS_DATA_DIR"


def dataset_dir(override: str | os.PathLike | None = None) -> Path:
    """Return the dataset directory: ``override``, else ``$ANALYSIS_DATA_DIR``, else the
    synthetic cohort. Relative paths are taken from the repository root, so the answer
    does not depend on the working directory.

    Examples
    --------
    >>> dataset_dir("tests/data/minimal") == ROOT / "tests" / "data" / "minimal"
    True
    """
    chosen = override if override is not None else os.environ.get(DATA_DIR_ENV) or SYNTHETIC
    path = Path(chosen)
    return path if path.is_absolute() else (ROOT / path)
