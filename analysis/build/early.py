"""Start the runner's kernels at the first moment of a build, if a run may be stale.

A warm kernel costs about 3 s of CPU (the interpreter, ipykernel, then pandas, SciPy,
statsmodels and matplotlib imported by the notebooks). On this project's 2-core machine the
build's own process spends its first two seconds on one core, importing Sphinx's extensions and
the analysis and validating the dataset: the other core is idle. The book's first extension
(``book/_ext/earlystart.py``) therefore calls :func:`start_workers_early` before any other
extension is imported, and this module imports nothing heavier than jupyter_client.

Whether a run may be stale is decided without the analysis: the last build whose runs all
succeeded recorded, per run, every input its cache key read (:func:`record_inputs`: the
notebook, the run plan, the lock, the ``analysis`` modules the notebook reaches, the build's
own code, the declared sources and the dataset files the run declares) with each one's digest.
A run may be stale when one of them differs now (:func:`stale_runs`), when the dataset folder
or its list of files is another, or when there is no record. Contract tables are digested as
runs see them where that needs no validation (:func:`digest_csv_view`: a plain CSV file
without its unanalysed columns), so a build after editing a verbatim term starts no kernel.

This is a guess that can only cost time, never change a result: what executes is decided by the
real cache keys (:func:`analysis.build.prepare_book`, from the validated tables). Kernels
started for runs that turn out to be cached are ended unused; a stale run that was not guessed
starts its kernel when it runs.
"""
from __future__ import annotations

import atexit
import csv
import hashlib
import json
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from analysis import paths
from analysis.build.hashing import hash_file, hash_tree
from analysis.build.kernels import Workers, default_workers, preload_code

#: Run id -> the inputs its key read, with their digests, as of the last build whose runs all
#: succeeded (:func:`record_inputs`); what :func:`stale_runs` compares.
INPUTS_FILE = paths.BUILD / "book-runs" / "inputs.json"
#: Version of the record's format: another version is no record.
FORMAT = 1


@dataclass(frozen=True)
class Input:
    """One input of a run's key: ``kind`` ``file`` (its bytes), ``tree`` (every file under a
    folder, :func:`~analysis.build.hashing.hash_tree`), ``listing`` (the names of a folder's
    files) or ``view`` (a CSV table without the columns ``hidden``, :func:`digest_csv_view`)."""

    kind: str
    path: str
    hidden: tuple[str, ...] = ()

    def digest(self) -> str:
        """The input's digest now ("" when it cannot be read: then it differs from any record)."""
        path = Path(self.path)
        try:
            if self.kind == "file":
                return hash_file(path)
            if self.kind == "tree":
                return hash_tree(path) if path.is_dir() else ""
            if self.kind == "listing":
                names = sorted(p.name for p in path.iterdir() if p.is_file())
                return hashlib.sha256("\n".join(names).encode()).hexdigest()
            if self.kind == "view":
                return digest_csv_view(path, self.hidden)
        except OSError:
            return ""
        raise ValueError(f"unknown kind of input {self.kind!r}")


@dataclass
class EarlyStart:
    """What :func:`start_workers_early` did: the workers it started (``None``: no run can be
    stale), the run plan it decided for (resolved) and the runs it guessed may be stale."""

    workers: Workers | None
    runplan: Path | None = None
    maybe_stale: list[str] = field(default_factory=list)


def digest_csv_view(path: Path, hidden: Sequence[str]) -> str:
    """SHA-256 of a CSV file's cells without the columns ``hidden``, parsed by :mod:`csv`,
    row by row with each row's length; the file's hash when :mod:`csv` cannot read it.

    Examples
    --------
    >>> import tempfile
    >>> folder = Path(tempfile.mkdtemp())
    >>> _ = (folder / "a.csv").write_text("ID,TERM,DATE\\n1,Headache,2012-04-01\\n")
    >>> _ = (folder / "b.csv").write_text("ID,TERM,DATE\\n1,Migraine,2012-04-01\\n")
    >>> digest_csv_view(folder / "a.csv", ["TERM"]) == digest_csv_view(folder / "b.csv", ["TERM"])
    True
    >>> digest_csv_view(folder / "a.csv", []) == digest_csv_view(folder / "b.csv", [])
    False
    """
    hidden = set(hidden)
    try:
        with open(path, encoding="utf-8-sig", newline="") as handle:
            rows = csv.reader(handle)
            header = next(rows, [])
            keep = [i for i, name in enumerate(header) if name not in hidden]
            digest = hashlib.sha256()
            for row in [header, *rows]:
                digest.update("\x1f".join(row[i] if i < len(row) else "\x00" for i in keep).encode() + b"\x1e")
                digest.update(str(len(row)).encode())
    except (UnicodeDecodeError, csv.Error):
        return hash_file(path)
    return digest.hexdigest()


def record_inputs(runs: dict[str, tuple[Path, Iterable[Input]]], dataset_dir: Path,
                  path: Path = INPUTS_FILE) -> None:
    """Write every input of the runs (id -> notebook and inputs) with its digest now, which
    inputs each run has, and the dataset folder: the record :func:`stale_runs` compares with.
    Called once every run of a build has succeeded (a failed build leaves the last record)."""
    items = sorted({item for _notebook, inputs in runs.values() for item in inputs},
                   key=lambda i: (i.kind, i.path, i.hidden))
    index = {item: number for number, item in enumerate(items)}
    record = {
        "format": FORMAT,
        "dataset": str(Path(dataset_dir).resolve()),
        "inputs": [[item.kind, item.path, list(item.hidden), item.digest()] for item in items],
        "runs": {run_id: {"notebook": str(notebook), "inputs": sorted({index[item] for item in inputs})}
                 for run_id, (notebook, inputs) in sorted(runs.items())},
    }
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    text = json.dumps(record, sort_keys=True, separators=(",", ":"))
    if not path.is_file() or path.read_text(encoding="utf-8") != text:
        tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")
        tmp.write_text(text, encoding="utf-8")
        tmp.replace(path)


def stale_runs(dataset_dir: Path, path: Path = INPUTS_FILE) -> dict[str, Path] | None:
    """The runs that may be stale (run id -> notebook), from the record of the last successful
    build (:func:`record_inputs`): those with an input whose digest differs now. ``None`` when
    there is no usable record, or it was made for another dataset folder: then any run may be."""
    try:
        record = json.loads(Path(path).read_text(encoding="utf-8"))
        if record["format"] != FORMAT or record["dataset"] != str(Path(dataset_dir).resolve()):
            return None
        changed = [Input(kind, item_path, tuple(hidden)).digest() != digest
                   for kind, item_path, hidden, digest in record["inputs"]]
        return {run_id: Path(run["notebook"]) for run_id, run in record["runs"].items()
                if any(changed[number] for number in run["inputs"])}
    except (OSError, ValueError, TypeError, KeyError, IndexError):
        return None  # no record, or not one this module wrote


def plan_notebooks(runplan: Path) -> list[Path]:
    """Every notebook of the run plan (read with :mod:`yaml` only: what a build with no record
    preloads; the plan is checked by :func:`analysis.build.load_run_plan`). Empty when the
    plan cannot be read."""
    try:
        plan = yaml.safe_load(Path(runplan).read_text(encoding="utf-8"))
        return sorted({(Path(runplan).parent / run["notebook"]).resolve() for run in plan["runs"]})
    except (OSError, yaml.YAMLError, TypeError, KeyError):
        return []


def start_workers_early(runplan: Path, data_dir=None, workers: int | None = None,
                        inputs_path: Path = INPUTS_FILE) -> EarlyStart:
    """Start the runner's workers now if a run may be stale (:func:`stale_runs`), each warming
    its kernel with the imports of the notebooks that may run, at most one worker per such run;
    start none when no run may be stale (nothing changed, a prose edit, a verbatim term edited).
    The workers are handed to :func:`analysis.build.prepare_book`, and shut down at exit however
    the build ends."""
    runplan = Path(runplan).resolve()
    stale = stale_runs(paths.dataset_dir(data_dir), inputs_path)
    notebooks = plan_notebooks(runplan) if stale is None else sorted(set(stale.values()))
    if not notebooks:
        return EarlyStart(None, runplan)
    count = min(workers or default_workers(), len(notebooks) if stale is None else len(stale))
    started = Workers(count, preload=preload_code([n for n in notebooks if n.is_file()]))
    atexit.register(started.close)  # however the build ends, its kernels are shut down before it exits
    return EarlyStart(started, runplan, sorted(stale) if stale is not None else [])
