"""Orchestration: from the dataset and the run plan to published pages and registry."""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from analysis.build.appendix import render_reproducibility_page
from analysis.build.cache import RUNS, longest_first, prune_cache, run_inputs, run_keys
from analysis.build.dataset import DatasetInfo
from analysis.build.early import EarlyStart, record_inputs
from analysis.build.errors import Log
from analysis.build.kernels import default_workers
from analysis.build.publishing import GENERATED, REGISTRY_FILE, merge_registry, publish
from analysis.build.runner import RunRecord, execute_runs
from analysis.build.runplan import RUNPLAN, Run, load_run_plan
from analysis.codegraph import load_import_memo, save_import_memo
from analysis.results import write_results

#: The imports of the notebooks and modules that run keys were computed from, by content
#: (:func:`analysis.codegraph.memoised_imports`): a build parses only what changed since.
IMPORT_MEMO = RUNS.parent / "book-imports.json"


@dataclass
class BookState:
    """What the Sphinx extension needs after :func:`prepare_book`."""

    dataset: DatasetInfo
    runs: list[Run]
    records: list[RunRecord]
    registry: dict[str, float]
    executed: list[str]


def prepare_book(dataset: DatasetInfo, runplan: Path = RUNPLAN, workers: int | None = None,
                 log: Log = print, generated: Path = GENERATED, registry_file: Path = REGISTRY_FILE,
                 early: EarlyStart | None = None) -> BookState:
    """Execute what is stale, then publish pages and registry (only if every run succeeded).

    ``early``: what :func:`analysis.build.early.start_workers_early` started (its workers run
    the stale runs, or are ended without waiting if none is stale; a build that stops ends them
    at exit). On success, the inputs of every run's key are recorded for the next build's
    early start (:func:`analysis.build.early.record_inputs`)."""
    runs = load_run_plan(runplan)
    load_import_memo(IMPORT_MEMO)  # what earlier builds parsed to find the code each run reaches
    keys = run_keys(runs, dataset)
    save_import_memo(IMPORT_MEMO)
    records = []
    for run in runs:
        key = keys[run.id]
        record = RunRecord(run, key, RUNS / run.id / key)
        meta = record.entry / "meta.json"
        if meta.is_file():
            record.meta = json.loads(meta.read_text(encoding="utf-8"))
        records.append(record)
    stale = [r for r in records if not r.meta]
    log(f"[reproduce] dataset {dataset.label} ({'synthetic' if dataset.synthetic else 'not synthetic'}); "
        f"{len(runs)} runs, {len(runs) - len(stale)} cached, {len(stale)} to execute"
        + (f": {', '.join(r.run.id for r in stale)}" if stale else ""))
    execute_runs(longest_first(stale), dataset, workers or default_workers(), log,
                 started=early.workers if early else None)
    registry = merge_registry(records)
    page = render_reproducibility_page(records, dataset).encode()
    publish(records, generated, extra={"reproducibility.md": page})
    write_results(registry, registry_file)
    prune_cache(records)
    record_inputs({run.id: (run.notebook, run_inputs(run, dataset, runplan)) for run in runs}, dataset.directory)
    return BookState(dataset, runs, records, dict(zip(registry["key"], registry["value"])),
                     [r.run.id for r in stale])
