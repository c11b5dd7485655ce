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


#: Repository sources the current notebook run declares (``sources:`` in the run plan), as
#: absolute paths; ``None`` outside a run, where nothing is restricted.
_DECLARED_SOURCES: tuple[Path, ...] | None = None
_RUN = ""


def declare_sources(sources, run: str = "") -> None:
    """Restrict this process to the repository ``sources`` (paths from the root) of a run:
    afterwards :func:`check_source` refuses any other (``None`` lifts the restriction). Called by
    :func:`analysis.notebook.output_path` in a notebook that the book's runner executes."""
    global _DECLARED_SOURCES, _RUN
    _DECLARED_SOURCES = None if sources is None else tuple((ROOT / s).resolve() for s in sources)
    _RUN = run


def check_source(path: str | os.PathLike) -> None:
    """Raise if a run that did not declare ``path`` (or a folder holding it) reads it.

    Code that reads a repository source a run can declare (the published registry, a
    reconstruction folder) calls this first, so that the run's cache key, which covers only
    its declared sources, cannot miss what the notebook read.

    Examples
    --------
    >>> declare_sources(["data/published"], run="audit")
    >>> check_source(PUBLISHED / "table2.csv")
    >>> check_source(DATA / "ensemble")
    Traceback (most recent call last):
    ...
    RuntimeError: run 'audit' reads data/ensemble, which it does not declare; add it to the run's sources in book/runplan.yml
    >>> declare_sources(None)  # back to an unrestricted session
    """
    if _DECLARED_SOURCES is None:
        return
    resolved = Path(path).resolve()
    if any(resolved == s or resolved.is_relative_to(s) for s in _DECLARED_SOURCES):
        return
    try:
        shown = resolved.relative_to(ROOT.resolve()).as_posix()
    except ValueError:
        shown = str(resolved)
    raise RuntimeError(f"run {_RUN!r} reads {shown}, which it does not declare; "
                       f"add it to the run's sources in book/runplan.yml")
