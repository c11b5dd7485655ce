"""The run cache: each run's key and its entries under ``_build/book-runs/``."""
from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

from analysis import paths
from analysis.build.dataset import DatasetInfo
from analysis.build.early import Input
from analysis.build.hashing import analysis_closure, hash_file, hash_sources
from analysis.build.runner import RunRecord
from analysis.build.runplan import CONTRACT_FILES, Run, run_parameters
from analysis.codegraph import digest_files
from analysis.dataset_io import MAPPING_FILE
from analysis.schema import UNANALYSED_COLUMNS

#: Bump to invalidate every cache entry (a change of this runner's contract with notebooks).
RUNNER_VERSION = "2"
#: Cache of executed runs: ``<run id>/<key>/`` holds ``<run id>.ipynb``, ``<run id>/``
#: (the run's outputs) and ``meta.json`` (written last: an entry without it is incomplete).
RUNS = paths.BUILD / "book-runs"


def compute_run_key(run: Run, dataset: DatasetInfo, code_hash: str, lock_hash: str,
                    sources_hash: str = "") -> str:
    """The cache key of a run (first 16 hex digits of a SHA-256; see the module notes).

    ``code_hash`` is :func:`~analysis.codegraph.digest_files` of the run's :func:`analysis_closure`,
    ``sources_hash`` :func:`hash_sources` of its declared ``sources``.

    Examples
    --------
    >>> import dataclasses
    >>> ds = DatasetInfo(Path("d"), "d", False, "", {"subjects.csv": "a", "visits.csv": "b", "README.md": "c"}, {})
    >>> run = Run("x", Path(__file__), ("subjects.csv",), {"population": "completers"})
    >>> key = compute_run_key(run, ds, "code", "lock")
    >>> key == compute_run_key(run, dataclasses.replace(ds, files={**ds.files, "visits.csv": "B"}), "code", "lock")
    True
    >>> key == compute_run_key(run, dataclasses.replace(ds, files={**ds.files, "README.md": "C"}), "code", "lock")
    False
    """
    parameters = run_parameters(run, dataset, output_dir="")
    payload = {
        "runner": RUNNER_VERSION,
        "notebook": hash_file(run.notebook),
        "parameters": parameters,
        "inputs": {f: dataset.input_digest(f) for f in run.inputs},
        "dataset_other_files": {f: h for f, h in dataset.files.items() if f not in CONTRACT_FILES},
        "code": code_hash,
        "lock": lock_hash,
        "sources": {"declared": sorted(run.sources), "content": sources_hash},
    }
    return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()[:16]


def run_code_hashes(runs: list[Run], root: Path | None = None) -> dict[str, tuple[str, str, str]]:
    """Run id -> the parts of its key that do not depend on the dataset: the hash of the code
    it reaches (:func:`~analysis.codegraph.digest_files` of its :func:`analysis_closure`), of the lock and of its
    declared sources."""
    root = paths.ROOT if root is None else Path(root)
    lock_hash = hash_file(root / "requirements.lock")
    return {run.id: (digest_files(analysis_closure(run.notebook, root), root), lock_hash,
                     hash_sources(run.sources, root)) for run in runs}


def run_keys(runs: list[Run], dataset: DatasetInfo, root: Path | None = None,
             code_hashes: dict[str, tuple[str, str, str]] | None = None) -> dict[str, str]:
    """The cache key of every run of ``runs`` (run id -> key). ``code_hashes``: what
    :func:`run_code_hashes` returned for these runs earlier in the same build (a run it does
    not cover is hashed now)."""
    code_hashes = dict(code_hashes or {})
    missing = [run for run in runs if run.id not in code_hashes]
    if missing:
        code_hashes.update(run_code_hashes(missing, root))
    return {run.id: compute_run_key(run, dataset, *code_hashes[run.id]) for run in runs}


def run_inputs(run: Run, dataset: DatasetInfo, runplan: Path, root: Path | None = None) -> list[Input]:
    """Every file the key of ``run`` (:func:`compute_run_key`) is computed from, as inputs the
    next build can digest before it has loaded the analysis (:mod:`analysis.build.early`): the
    notebook, the run plan (its parameters), the lock, the ``analysis`` modules it reaches, the
    build package (the key's formula, :data:`RUNNER_VERSION`) and the import graph's reader, its
    declared sources, and of the dataset folder its list of files, the contract tables the run
    declares and every other file. A plain CSV table is an input as the run sees it without
    validation (without its unanalysed columns); with a ``mapping.yml`` every file of the folder
    is one, byte for byte. Unchanged inputs mean an unchanged key; a changed one, a key that
    may have changed."""
    root = paths.ROOT if root is None else Path(root)
    inputs = [Input("file", str(run.notebook)), Input("file", str(runplan)),
              Input("file", str(root / "requirements.lock")), Input("tree", str(root / "analysis" / "build")),
              Input("file", str(root / "analysis" / "codegraph.py"))]
    inputs += [Input("file", str(path)) for path in analysis_closure(run.notebook, root)]
    inputs += [Input("tree" if (root / s).is_dir() else "file", str(root / s)) for s in run.sources]
    folder = Path(dataset.directory).resolve()
    files = sorted(p for p in folder.iterdir() if p.is_file()) if folder.is_dir() else []
    plain = not (folder / MAPPING_FILE).exists()
    inputs.append(Input("listing", str(folder)))
    for path in files:
        if plain and path.name in CONTRACT_FILES and path.name not in run.inputs:
            continue
        hidden = tuple(UNANALYSED_COLUMNS.get(path.name, ())) if plain else ()
        inputs.append(Input("view", str(path), hidden) if hidden else Input("file", str(path)))
    return inputs


def last_seconds(run_id: str, runs_dir: Path = RUNS) -> float | None:
    """How long the most recent complete execution of ``run_id`` took (its ``meta.json``,
    whatever its key), or ``None`` if the cache holds none."""
    metas = sorted((runs_dir / run_id).glob("*/meta.json"), key=lambda p: p.stat().st_mtime)
    return json.loads(metas[-1].read_text(encoding="utf-8"))["seconds"] if metas else None


def longest_first(records: list[RunRecord], runs_dir: Path = RUNS) -> list[RunRecord]:
    """``records`` in the order to start them: runs never timed first (in plan order), then the
    longest last time first, so that with two workers the long runs do not end up last, one
    worker busy and the other idle (longest processing time first).

    Examples
    --------
    >>> import tempfile
    >>> from analysis.build.runplan import Run
    >>> runs_dir = Path(tempfile.mkdtemp())
    >>> for run_id, seconds in {"short": 1.5, "long": 9.0}.items():
    ...     (runs_dir / run_id / "old-key").mkdir(parents=True)
    ...     _ = (runs_dir / run_id / "old-key" / "meta.json").write_text(json.dumps({"seconds": seconds}))
    >>> records = [RunRecord(Run(i, Path(f"{i}.ipynb"), ()), "k", runs_dir / i / "k") for i in ("short", "long", "new")]
    >>> [r.run.id for r in longest_first(records, runs_dir)]
    ['new', 'long', 'short']
    """
    seconds = {record.run.id: last_seconds(record.run.id, runs_dir) for record in records}
    return sorted(records, key=lambda r: (seconds[r.run.id] is not None, -(seconds[r.run.id] or 0.0)))


def prune_cache(records: list[RunRecord], keep: int = 4, runs_dir: Path = RUNS) -> list[Path]:
    """Remove cache entries: incomplete ones (no ``meta.json``), entries of runs no longer in
    the plan, and all but the ``keep`` most recent other keys of each run (so switching
    between a few datasets stays cached). The entries of ``records`` are never removed."""
    in_use = {record.entry for record in records}
    removed = []
    if not runs_dir.is_dir():
        return removed
    plan_ids = {record.run.id for record in records}
    for run_dir in sorted(p for p in runs_dir.iterdir() if p.is_dir()):
        entries = [p for p in run_dir.iterdir() if p.is_dir() and p not in in_use]
        complete = sorted((p for p in entries if (p / "meta.json").is_file()),
                          key=lambda p: (p / "meta.json").stat().st_mtime, reverse=True)
        keep_here = complete[:keep] if run_dir.name in plan_ids else []
        for path in entries:
            if path not in keep_here:
                shutil.rmtree(path, ignore_errors=True)
                removed.append(path)
        if not any(run_dir.iterdir()):
            run_dir.rmdir()
    return removed
