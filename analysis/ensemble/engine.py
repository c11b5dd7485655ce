"""Run an ensemble on Dask distributed, resumably.

Where the tasks run:

* no address: a ``LocalCluster`` of worker *processes*, one thread each (the work is
  pure-Python/pandas, which threads would serialise), one worker per CPU unless ``workers``
  says otherwise;
* ``scheduler="tcp://host:8786"`` (or ``$DASK_SCHEDULER_ADDRESS``): the same ensemble on an
  existing Dask cluster, no code change. Its workers need this repository at the same commit
  and the locked environment (``make setup``), with the repository importable.

Each finished reconstruction is written at once (:func:`analysis.ensemble.store.write_part`);
tasks have explicit keys, so a worker that dies has its task rescheduled by the scheduler,
and a rerun after an interruption computes only the missing reconstructions. Results do not
depend on which worker ran what: the assembled output is sorted by reconstruction and key.
"""
from __future__ import annotations

import contextlib
import os
import sys
from dataclasses import dataclass, field
from pathlib import Path

from analysis import paths
from analysis.ensemble.digest import compute_digests
from analysis.ensemble.plan import ReconstructionSpec, plan_reconstructions
from analysis.ensemble.store import assemble, read_part, run_fingerprint, write_part
from analysis.ensemble.task import run_reconstruction

#: Default folder of the resumable parts (never committed).
WORK_ROOT = paths.BUILD / "ensemble-work"


@dataclass
class EnsembleRun:
    """What :func:`run_ensemble` did."""

    out: Path
    work: Path
    manifest: dict
    computed: list[int] = field(default_factory=list)
    reused: list[int] = field(default_factory=list)
    timings: list[dict] = field(default_factory=list)


def default_workers() -> int:
    return max(1, os.cpu_count() or 1)


def scheduler_address(scheduler: str | None = None) -> str | None:
    """The scheduler to join: ``scheduler``, else ``$DASK_SCHEDULER_ADDRESS``, else None (a local cluster)."""
    return scheduler or os.environ.get("DASK_SCHEDULER_ADDRESS") or None


@contextlib.contextmanager
def dask_client(scheduler: str | None = None, workers: int | None = None, memory_limit: str = "auto"):
    """A ``distributed.Client``: to ``scheduler`` (or ``$DASK_SCHEDULER_ADDRESS``) if given, else
    to a new ``LocalCluster`` of processes, one thread each."""
    from distributed import Client, LocalCluster

    address = scheduler_address(scheduler)
    if address:
        with Client(address) as client:
            yield client
        return
    with LocalCluster(n_workers=workers or default_workers(), threads_per_worker=1, processes=True,
                      memory_limit=memory_limit, dashboard_address=None) as cluster, \
            Client(cluster) as client:
        yield client


def _progress(total: int, initial: int, enabled: bool):
    from tqdm import tqdm

    return tqdm(total=total, initial=initial, unit="reconstruction", file=sys.stderr, disable=not enabled,
                dynamic_ncols=True, desc="ensemble")


def run_ensemble(n: int, root_seed: int, out: Path = paths.ENSEMBLE, work: Path | None = None,
                 scheduler: str | None = None, workers: int | None = None, progress: bool = True,
                 log=print) -> EnsembleRun:
    """Compute the missing reconstructions of (``n``, ``root_seed``) on Dask, then assemble ``out``."""
    digests = compute_digests()
    work = (WORK_ROOT if work is None else Path(work)) / run_fingerprint(root_seed, digests)
    specs = plan_reconstructions(n, root_seed)
    records: dict[int, dict] = {}
    for spec in specs:
        part = read_part(work, spec.index)
        if part is not None and part["seed"] == spec.seed:
            records[spec.index] = part
    todo: list[ReconstructionSpec] = [s for s in specs if s.index not in records]
    run = EnsembleRun(out=Path(out), work=work, manifest={}, reused=sorted(records))
    if todo:
        address = scheduler_address(scheduler)
        log(f"ensemble: {len(records)} of {n} reconstructions already computed, {len(todo)} to run "
            f"({f'scheduler {address}' if address else 'local cluster'})")
        from distributed import as_completed

        with dask_client(scheduler, workers) as client:
            keys = [f"reconstruction-{work.name}-{s.index}" for s in todo]
            futures = client.map(run_reconstruction, todo, key=keys, retries=1)
            with _progress(n, len(records), progress) as bar:
                for _future, record in as_completed(futures, with_results=True):
                    write_part(work, record)
                    records[record["index"]] = record
                    run.computed.append(record["index"])
                    bar.update(1)
    run.timings = [records[i]["timings"] for i in sorted(records) if records[i].get("timings")]
    run.manifest = assemble([records[i] for i in range(n)], Path(out), root_seed, digests)
    failed = run.manifest["failed"]
    log(f"ensemble: {run.manifest['succeeded']} of {n} reconstructions reproduce every published value"
        + (f"; {failed} failed (reasons in {Path(out) / 'index.csv'})" if failed else "")
        + f"; written to {out}")
    return run
