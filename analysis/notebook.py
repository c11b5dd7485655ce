"""What a notebook of the run plan calls: its dataset, its output folder, its registry fragment.

The notebooks of ``book/notebooks/`` import this module, not :mod:`analysis.build`: it holds
no runner (no papermill, no Sphinx, no cache), so a notebook's static import closure -- which
the run's cache key covers (:func:`analysis.build.analysis_closure`) -- stays the modules it
really uses.

Declared inputs are enforced here. A run gets its dataset through :func:`load_run_dataset`,
where every table the run does not declare (``inputs:`` in ``book/runplan.yml``) raises on
first use; and :func:`output_path` reads the sources the runner recorded for the run
(``sources:``, e.g. ``data/published``), after which reading an undeclared source of the
repository raises (:func:`analysis.paths.check_source`). A wrong declaration therefore fails
loudly instead of leaving a stale cache entry. The contract columns no result reads
(:data:`analysis.schema.UNANALYSED_COLUMNS`: record identifiers, verbatim text) are removed from
the tables a run gets (:func:`restrict_to_run`), so a run's cache key need not cover them.
"""
from __future__ import annotations

import dataclasses
import json
import os
from pathlib import Path

import pandas as pd

from analysis import paths
from analysis.contract import FILES, load_dataset
from analysis.results import results_frame, write_results
from analysis.schema import UNANALYSED_COLUMNS

#: Registry fragment every notebook writes into its output folder.
FRAGMENT = "registry.csv"
#: File the runner writes beside a run's output folder: the run's declared ``sources``.
RUN_FILE = "run.json"


class UndeclaredInput:
    """Stands in for a dataset table a run did not declare: any use raises."""

    def __init__(self, file: str, declared: tuple[str, ...]):
        self._message = (f"this notebook uses {file}, which its run does not declare as an input "
                         f"(inputs: {', '.join(declared) or 'none'}); add it to the run's inputs in book/runplan.yml")

    def __getattr__(self, name):
        if name.startswith("__"):
            raise AttributeError(name)
        raise RuntimeError(self._message)

    def __getitem__(self, item):
        raise RuntimeError(self._message)

    def __len__(self):
        raise RuntimeError(self._message)

    def __iter__(self):
        raise RuntimeError(self._message)


def restrict_to_run(dataset, dataset_files: list[str] | tuple[str, ...]):
    """What a run sees of a validated dataset: the tables in ``dataset_files`` without their
    unanalysed columns (:data:`~analysis.schema.UNANALYSED_COLUMNS`); every other table is an
    :class:`UndeclaredInput`. The run cache keys a table by the digest of exactly this view
    (:func:`analysis.build.digest_run_views`).

    Examples
    --------
    >>> ds = restrict_to_run(load_dataset("tests/data/minimal"), ["medications.csv"])
    >>> list(ds.medications.columns)
    ['USUBJID', 'CMCLASS', 'CMSTDT', 'CMENDT']
    """
    declared = _declared(dataset_files)
    tables = {f.removesuffix(".csv"): run_view(getattr(dataset, f.removesuffix(".csv")), f) if f in declared
              else UndeclaredInput(f, declared) for f in FILES}
    return dataclasses.replace(dataset, **tables)


def run_view(frame: pd.DataFrame, file: str) -> pd.DataFrame:
    """``frame`` (the table of contract file ``file``) without the columns no result reads."""
    return frame.drop(columns=[c for c in UNANALYSED_COLUMNS.get(file, ()) if c in frame.columns])


def load_run_dataset(data_dir: str, dataset_files: list[str] | tuple[str, ...]):
    """The validated dataset of ``data_dir`` as run ``dataset_files`` sees it
    (:func:`restrict_to_run`): only those tables, without their unanalysed columns.

    Examples
    --------
    >>> ds = load_run_dataset("tests/data/minimal", ["subjects.csv"])
    >>> len(ds.subjects)
    8
    >>> ds.visits["AVISITN"]
    Traceback (most recent call last):
    ...
    RuntimeError: this notebook uses visits.csv, which its run does not declare as an input (inputs: subjects.csv); add it to the run's inputs in book/runplan.yml
    """
    declared = _declared(dataset_files)  # checked before the dataset is read
    return restrict_to_run(load_dataset(paths.dataset_dir(data_dir)), declared)


def _declared(dataset_files) -> tuple[str, ...]:
    unknown = sorted(set(dataset_files) - set(FILES))
    if unknown:
        raise ValueError(f"unknown dataset files {unknown}; expected some of {FILES}")
    return tuple(dataset_files)


def output_path(output_dir: str | os.PathLike) -> Path:
    """A run's output folder as an absolute path (relative paths are from the repository
    root), created if missing.

    When the runner has recorded the run's declared sources beside the folder
    (:data:`RUN_FILE`), they become the only repository sources this process may read
    (:func:`analysis.paths.declare_sources`); outside a run (an interactive session) nothing
    is restricted.
    """
    path = Path(output_dir)
    path = path if path.is_absolute() else paths.ROOT / path
    path.mkdir(parents=True, exist_ok=True)
    run_file = path.parent / RUN_FILE
    if run_file.is_file():
        record = json.loads(run_file.read_text(encoding="utf-8"))
        paths.declare_sources(record["sources"], run=record["run"])
    return path


def write_fragment(rows: list[dict], output_dir: str | os.PathLike) -> pd.DataFrame:
    """Write a run's registry rows to ``<output_dir>/registry.csv``; return them as a frame
    (duplicate keys raise)."""
    frame = results_frame(rows)
    write_results(frame, output_path(output_dir) / FRAGMENT)
    return frame
