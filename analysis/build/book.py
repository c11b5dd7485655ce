"""Orchestration: from the dataset and the run plan to published pages and registry."""
from __future__ import annotations

import atexit
import dataclasses
import json
import os
from dataclasses import dataclass, field
from pathlib import Path

from analysis import paths
from analysis.build.appendix import render_reproducibility_page
from analysis.build.cache import RUNS, longest_first, prune_cache, run_code_hashes, run_keys
from analysis.build.dataset import DatasetInfo, describe_dataset, preview_run_views
from analysis.build.errors import BuildError, Log
from analysis.build.kernels import preload_code
from analysis.build.publish import GENERATED, REGISTRY_FILE, merge_registry, publish, write_if_changed
from analysis.build.runner import RunRecord, Workers, execute_runs
from analysis.build.runplan import RUNPLAN, Run, load_run_plan
from analysis.codegraph import load_import_memo, save_import_memo
from analysis.results import write_results

#: The imports of the notebooks and modules that run keys were computed from, by content
#: (:func:`analysis.codegraph.memoised_imports`): a build parses only what changed since.
IMPORT_MEMO = RUNS.parent / "book-imports.json"
#: Run id -> the run's key computed from the raw dataset files (not the validated tables;
#: :func:`analysis.build.dataset.preview_run_views`), as of the last build whose runs all
#: succeeded: what :func:`start_workers_early` compares.
FILE_KEYS = RUNS / "file-keys.json"


@dataclass
class EarlyStart:
    """What :func:`start_workers_early` did: the workers it started (``None``: no run can be
    stale) and the file-level keys it computed, recorded by a successful :func:`prepare_book`."""

    workers: Workers | None
    file_keys: dict[str, str]
    code_hashes: dict[str, tuple[str, str, str]] = field(default_factory=dict)


@dataclass
class BookState:
    """What the Sphinx extension needs after :func:`prepare_book`."""

    dataset: DatasetInfo
    runs: list[Run]
    records: list[RunRecord]
    registry: dict[str, float]
    executed: list[str]


def default_workers() -> int:
    """Kernels run in parallel: ``$BOOK_WORKERS``, else the CPU count (at most 4)."""
    return int(os.environ.get("BOOK_WORKERS") or min(os.cpu_count() or 1, 4))


def start_workers_early(runplan: Path = RUNPLAN, data_dir=None, workers: int | None = None,
                        file_keys_path: Path = FILE_KEYS) -> EarlyStart:
    """Before the dataset is validated (a second or two): start the runner's workers if a run
    may be stale, each warming its kernel with the imports of the notebooks that may run
    (:meth:`analysis.build.kernels.WorkerKernel.warm`), so that the imports overlap validation.

    A run may be stale when its key computed from the raw files (no validation needed; the
    tables without their unanalysed columns where :func:`analysis.build.dataset.preview_run_views`
    can read them) differs from the last successful build's (:data:`FILE_KEYS`): a rebuild with
    nothing changed, after a prose edit or after editing a verbatim term, starts no kernel. What executes is still decided by the
    real keys (:func:`prepare_book`, from the validated tables as runs see them); workers
    started for runs that turn out to be cached are ended unused. A run plan or dataset folder
    this step cannot read starts nothing: the steps after it report the problem.
    """
    try:
        runs = load_run_plan(runplan)
        load_import_memo(IMPORT_MEMO)
        hashes = run_code_hashes(runs)
        files = describe_dataset(paths.dataset_dir(data_dir))
        keys = run_keys(runs, dataclasses.replace(files, run_views=preview_run_views(files)), code_hashes=hashes)
    except (BuildError, OSError):
        return EarlyStart(None, {})
    try:
        last = json.loads(Path(file_keys_path).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        last = {}
    maybe = [run for run in runs if last.get(run.id) != keys[run.id]]
    if not maybe:
        return EarlyStart(None, keys, hashes)
    count = min(workers or default_workers(), len(maybe))
    started = Workers(count, preload=preload_code(sorted({run.notebook for run in maybe})))
    atexit.register(started.close)  # however the build ends, its kernels are shut down before it exits
    return EarlyStart(started, keys, hashes)


def prepare_book(dataset: DatasetInfo, runplan: Path = RUNPLAN, workers: int | None = None,
                 log: Log = print, generated: Path = GENERATED, registry_file: Path = REGISTRY_FILE,
                 early: EarlyStart | None = None) -> BookState:
    """Execute what is stale, then publish pages and registry (only if every run succeeded).

    ``early``: what :func:`start_workers_early` started (its workers run the stale runs, or are
    ended without waiting if none is stale; a build that stops ends them at exit) and the
    file-level keys it computed (recorded on success)."""
    runs = load_run_plan(runplan)
    load_import_memo(IMPORT_MEMO)  # what earlier builds parsed to find the code each run reaches
    keys = run_keys(runs, dataset, code_hashes=early.code_hashes if early else None)
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
    if early is not None and early.file_keys:
        write_if_changed(FILE_KEYS, json.dumps(early.file_keys, indent=1, sort_keys=True).encode())
    return BookState(dataset, runs, records, dict(zip(registry["key"], registry["value"])),
                     [r.run.id for r in stale])
