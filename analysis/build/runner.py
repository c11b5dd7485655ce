"""Notebook execution with papermill, each run into its own cache entry."""
from __future__ import annotations

import functools
import json
import re
import shutil
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

import nbformat

from analysis import paths
from analysis.build.dataset import DatasetInfo
from analysis.build.errors import Log, NotebookRunError
from analysis.build.kernels import WorkerKernel, Workers
from analysis.build.runplan import GENERATED, Run, run_parameters
from analysis.export import companion_files
from analysis.notebook import FRAGMENT, RUN_FILE


@dataclass
class RunRecord:
    """A run of this build: its key, its cache entry and how its results were obtained."""

    run: Run
    key: str
    entry: Path
    executed: bool = False
    meta: dict = field(default_factory=dict)

    @property
    def notebook_out(self) -> Path:
        return self.entry / f"{self.run.id}.ipynb"

    @property
    def output_dir(self) -> Path:
        return self.entry / self.run.id


def _strip_ansi(text: str) -> str:
    return re.sub(r"\x1b\[[0-9;]*[A-Za-z]", "", text)


def _source_cell_number(run: Run, executed_notebook: Path, source_text: str) -> int | None:
    """1-based number of the failing cell in the *source* notebook.

    The executed notebook has extra cells (papermill's injected parameters and its error
    banners), so the failing cell is found by the id of the cell holding the error output,
    and, failing that, by its source text.
    """
    source = nbformat.read(run.notebook, as_version=4)
    failing_id = None
    try:
        executed = nbformat.read(executed_notebook, as_version=4)
        failing_id = next((cell.get("id") for cell in executed.cells if cell.cell_type == "code"
                           and any(o.get("output_type") == "error" for o in cell.get("outputs", []))), None)
    except Exception:  # noqa: BLE001 - fall back to the source text
        pass
    for number, cell in enumerate(source.cells, start=1):
        if failing_id is not None and cell.get("id") == failing_id:
            return number
    matches = [n for n, cell in enumerate(source.cells, start=1) if cell.source == source_text]
    return matches[0] if len(matches) == 1 else None


def _describe_failure(run: Run, err: Exception, executed_notebook: Path) -> str:
    from papermill.exceptions import PapermillExecutionError  # only on failure (see execute_run)

    rel_nb = run.notebook.relative_to(paths.ROOT) if run.notebook.is_relative_to(paths.ROOT) else run.notebook
    if isinstance(err, PapermillExecutionError):
        number = _source_cell_number(run, executed_notebook, err.source)
        where = f"cell {number} of {rel_nb}" if number else f"a cell of {rel_nb}"
        source = "\n".join("    | " + line for line in err.source.splitlines()[:12])
        trace = "\n".join(_strip_ansi(line) for line in err.traceback[-3:])
        return (f"notebook run {run.id!r} failed in {where} (execution count {err.exec_count}):\n"
                f"{source}\n{err.ename}: {err.evalue}\n\n{trace}\n\n"
                f"The executed notebook with the error is {executed_notebook}.")
    return f"notebook run {run.id!r} ({rel_nb}) failed: {type(err).__name__}: {err}"


#: papermill's and nbclient's timings (notebook and cells): they differ at every execution.
_TIMINGS = ("start_time", "end_time", "duration")


def make_publishable(nb: nbformat.NotebookNode, record: RunRecord, dataset: DatasetInfo, output_dir: str) -> None:
    """Prepare an executed notebook for the book, in place.

    The page shows the injected parameters folded, like the notebook's own, with where the
    data were (the dataset's public label) and where the outputs are published
    (``book/generated/<run id>``), not the machine's or the cache entry's paths. papermill's
    record of the machine's paths and every timing are dropped (the run's time is in its
    ``meta.json``), and the injected cell gets a fixed id instead of papermill's random one,
    so that the notebook's bytes depend only on what it computed: an identical re-execution
    (after an edit that changes none of its outputs) leaves the page as it was, and Sphinx
    does not read it again.
    """
    public_output = (GENERATED / record.run.id).relative_to(paths.ROOT).as_posix()
    replacements = [(dataset.label, dataset.public_label), (output_dir, public_output)]
    for cell in nb.cells:
        if "injected-parameters" in cell.metadata.get("tags", []):
            cell.metadata["tags"] = [*cell.metadata["tags"], "hide-input"]
            cell.id = "injected-parameters"
            for machine, public in replacements:
                cell.source = cell.source.replace(repr(machine), repr(public)).replace(
                    json.dumps(machine), json.dumps(public))
        cell.metadata.pop("execution", None)
        for name in _TIMINGS:
            cell.metadata.get("papermill", {}).pop(name, None)
    papermill_meta = nb.metadata.get("papermill", {})
    for name in ("input_path", "output_path", *_TIMINGS):
        papermill_meta.pop(name, None)
    parameters = papermill_meta.get("parameters", {})
    parameters.pop("data_dir", None)
    if "output_dir" in parameters:
        parameters["output_dir"] = public_output


def execute_run(record: RunRecord, dataset: DatasetInfo, kernel: WorkerKernel | None = None) -> RunRecord:
    """Execute one run with papermill into its cache entry; write ``meta.json`` last.

    ``kernel``: the worker's kernel (:class:`analysis.build.kernels.WorkerKernel`), reused
    and reset between runs; ``None`` starts a new kernel for this run only.
    """
    import papermill  # slow to import; a build with every run cached never needs it

    if record.entry.exists():
        shutil.rmtree(record.entry)
    record.output_dir.mkdir(parents=True)
    # What the notebook may read besides the dataset (enforced by analysis.notebook.output_path).
    (record.entry / RUN_FILE).write_text(json.dumps({"run": record.run.id, "sources": list(record.run.sources)}),
                                         encoding="utf-8")
    params = run_parameters(record.run, dataset, record.output_dir.relative_to(paths.ROOT).as_posix())
    started = datetime.now(timezone.utc)
    t0 = time.perf_counter()
    kernel = kernel or WorkerKernel(reuse=False)
    ok = False
    try:
        papermill.execute_notebook(str(record.run.notebook), str(record.notebook_out), parameters=params,
                                   kernel_name="python3", language="python", cwd=str(paths.ROOT), progress_bar=False,
                                   log_output=False, request_save_on_cell_execute=False, start_timeout=120,
                                   km=kernel.acquire())
        ok = True
    except NotebookRunError:
        raise
    except Exception as err:  # noqa: BLE001 - every failure becomes one report
        raise NotebookRunError(_describe_failure(record.run, err, record.notebook_out)) from None
    finally:
        kernel.release(ok)
    seconds = time.perf_counter() - t0
    nb = nbformat.read(record.notebook_out, as_version=4)
    make_publishable(nb, record, dataset, params["output_dir"])
    nbformat.write(nb, record.notebook_out)
    # every artefact with its submission files (analysis.export.companion_files)
    written = [FRAGMENT, *(name for artefact in record.run.artefacts.values() for name in companion_files(artefact))]
    missing = [name for name in written if not (record.output_dir / name).is_file()]
    if missing:
        raise NotebookRunError(f"notebook run {record.run.id!r} finished without writing {missing} "
                               f"to its output folder {record.output_dir}")
    record.meta = {"run": record.run.id, "key": record.key, "seconds": round(seconds, 2),
                   "executed_at": started.isoformat(timespec="seconds"), "parameters": params}
    tmp = record.entry / "meta.json.tmp"
    tmp.write_text(json.dumps(record.meta, indent=1, sort_keys=True), encoding="utf-8")
    tmp.replace(record.entry / "meta.json")
    record.executed = True
    return record


def execute_runs(records: list[RunRecord], dataset: DatasetInfo, workers: int, log: Log = print,
                 reuse_kernels: bool | None = None, started: Workers | None = None) -> None:
    """Execute ``records`` on ``workers`` :class:`~analysis.build.kernels.Workers` (or on the
    ``started`` ones), each with one kernel that it reuses for its runs (``reuse_kernels=None``
    follows ``$BOOK_KERNELS``). Runs start in the order given. The first failure stops the
    workers from starting more runs and is raised once the running ones have finished. With no
    record, ``started`` workers are ended without waiting for them (the caller joins them)."""
    if not records:
        if started is not None:
            started.close(wait=False)  # joined at exit (start_workers_early)
        return
    pool = started or Workers(min(workers, len(records)), reuse_kernels)
    pool.run([functools.partial(_execute_and_report, record, dataset, log) for record in records])


def _execute_and_report(record: RunRecord, dataset: DatasetInfo, log: Log, kernel: WorkerKernel) -> None:
    execute_run(record, dataset, kernel)
    log(f"[reproduce] executed {record.run.id} in {record.meta['seconds']:.1f} s")
