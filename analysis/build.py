"""The book's build: run plan, notebook execution with papermill, cache, registry to prose.

``jupyter-book build book/`` loads the local Sphinx extension ``book/_ext/reproduce.py``,
which calls this module in two steps:

1. **when the configuration is read** (:func:`inspect_dataset`): the dataset is located
   (``$ANALYSIS_DATA_DIR``, else ``data/synthetic``), validated with
   :func:`analysis.contract.load_dataset` and classified as synthetic or not
   (:func:`classify_dataset`). An invalid dataset stops the build here, with the
   contract's report, before any notebook runs.
2. **when the builder starts** (:func:`prepare_book`): every run of the run plan
   (``book/runplan.yml``: notebook x parameters -> executed page) gets a cache key
   (:func:`compute_run_key`); runs whose key has no complete cache entry are executed by
   papermill, in parallel, each into its own cache entry under ``_build/book-runs/``.
   Only when **every** run has succeeded are the executed notebooks and their outputs
   copied into ``book/generated/`` (the pages Sphinx reads) and the registry fragments
   merged into ``_build/results/results.csv``. A failing notebook stops the build with the
   run, the cell and the error; the pages and the registry keep their previous, complete
   state, and Sphinx never starts reading.

Cache key
---------
A run's key is the SHA-256 of exactly what the run can reach: the notebook file, the run's
parameters (including the dataset directory and its synthetic flag), the content of every
dataset table the run declares as an input (``inputs`` in the run plan; ``[]`` for none) and
of every non-table file of the dataset folder (README, marker), the source of the
``analysis`` modules in the notebook's static import closure (:func:`analysis_closure`:
the modules its code cells import, then theirs, transitively, module- and function-level),
``requirements.lock``, the repository paths the run declares as ``sources`` (files or
folders, e.g. ``data/published`` for the runs that compare with the published registry) and
:data:`RUNNER_VERSION`. Tooling no notebook imports (``analysis.bench``,
``analysis.codecheck``, ``analysis.synthetic``) is in no key. Nothing changed: no notebook
runs. One input changed: only the runs whose key covers it.

Declarations are enforced: a notebook gets the dataset through
:func:`analysis.notebook.load_run_dataset`, where every undeclared table raises on first
use, and the runner records the run's ``sources`` beside its output folder, after which
code that reads a repository source (:func:`analysis.paths.check_source`) raises for an
undeclared one. A wrong declaration fails loudly instead of leaving a stale cache entry.

Files are copied into ``book/generated/`` only when their bytes differ, so Sphinx's
incremental build re-reads exactly the pages whose notebook re-ran. A page that prints
registry values or build facts is re-read when one of the values it printed changed (the
book's extension records them per page), not whenever the registry does.

Registry to prose
-----------------
Notebooks write their registry rows (the ``registry_*`` functions of
:mod:`analysis.tables` and of the durability, clusters and longitudinal modules) with
:func:`analysis.notebook.write_fragment`. The merged registry plus the restatements of
:data:`analysis.tables.NARRATIVE_KEYS` equals :func:`analysis.tables.compute_results` for the same
dataset (tested). Prose and captions print a value with the ``{reg}`` role
(``{reg}`table2.sae.msc.rate```), formatted by :func:`analysis.printing.format_value`;
a key that is not in the registry fails the build.
"""
from __future__ import annotations

import ast
import fcntl
import hashlib
import html
import json
import os
import re
import shutil
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from datetime import datetime, timezone
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Callable

import nbformat
import pandas as pd
import yaml

from analysis import paths
from analysis.codegraph import import_closure, imported_modules
from analysis.contract import FILES, DataContractError, load_dataset
from analysis.crosswalk import describe_dataset_files
from analysis.export import companion_files
from analysis.notebook import FRAGMENT, RUN_FILE
from analysis.presentation.layouts import POPULATION_LABELS
from analysis.printing import format_value
from analysis.results import read_results, results_frame, write_results
from analysis.tables import registry_narrative

#: Bump to invalidate every cache entry (a change of this runner's contract with notebooks).
RUNNER_VERSION = "1"
RUNPLAN = paths.BOOK / "runplan.yml"
#: Executed notebooks and their outputs, as the book reads them (generated; never committed).
GENERATED = paths.BOOK / "generated"
#: Cache of executed runs: ``<run id>/<key>/`` holds ``<run id>.ipynb``, ``<run id>/``
#: (the run's outputs) and ``meta.json`` (written last: an entry without it is incomplete).
RUNS = paths.BUILD / "book-runs"
REGISTRY_FILE = paths.RESULTS / "results.csv"
#: Parameters the runner injects into every notebook (they must be in its parameters cell).
INJECTED = ("data_dir", "dataset_files", "synthetic", "output_dir")
#: The contract's tables, as run plans name them (the rest of the folder counts for every run).
CONTRACT_FILES = FILES

Log = Callable[[str], None]


class BuildError(RuntimeError):
    """The book cannot be built; the message says why (and is shown as is)."""


class NotebookRunError(BuildError):
    """A notebook of the run plan failed: names the run, the notebook, the cell and the error."""


# ----------------------------------------------------------------------------- hashing
def hash_file(path: Path) -> str:
    """SHA-256 of a file's bytes (hex)."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def hash_tree(directory: Path) -> str:
    """SHA-256 over the relative paths and bytes of every file under ``directory``
    (``__pycache__`` and ``*.pyc`` excluded), in sorted order."""
    digest = hashlib.sha256()
    for path in sorted(p for p in Path(directory).rglob("*") if p.is_file()):
        rel = path.relative_to(directory).as_posix()
        if "__pycache__" in rel or rel.endswith(".pyc"):
            continue
        digest.update(rel.encode() + b"\0" + hash_file(path).encode() + b"\n")
    return digest.hexdigest()


def hash_sources(sources: tuple[str, ...] | list[str], root: Path | None = None) -> str:
    """SHA-256 over the repository paths ``sources`` (files or folders, relative to ``root``,
    default the repository) and their content: a file by its bytes, a folder by
    :func:`hash_tree`. The empty tuple hashes to a constant."""
    root = paths.ROOT if root is None else Path(root)
    digest = hashlib.sha256()
    for source in sorted(sources):
        path = root / source
        content = hash_tree(path) if path.is_dir() else hash_file(path)
        digest.update(f"{source}\0{'dir' if path.is_dir() else 'file'}\0{content}\n".encode())
    return digest.hexdigest()


# ----------------------------------------------------------------------------- import closure
def notebook_source_tree(notebook: Path) -> ast.Module:
    """The code cells of a notebook as one Python module (IPython magics and shell lines,
    which are not Python, left out)."""
    nb = nbformat.read(notebook, as_version=4)
    code = []
    for cell in nb.cells:
        if cell.cell_type == "code":
            code += [line for line in cell.source.splitlines() if not line.lstrip().startswith(("%", "!"))]
    try:
        return ast.parse("\n".join(code), filename=str(notebook))
    except SyntaxError as err:
        raise BuildError(f"notebook {notebook}: cannot be parsed to find its imports: {err}") from None


def analysis_closure(notebook: Path, root: Path | None = None) -> list[Path]:
    """Source files of the ``analysis`` modules a notebook can reach: the modules its code
    cells import, then, transitively, the modules those import (module-level and
    function-level imports alike), with the ``__init__.py`` of every package on the way.

    This is what a run's cache key covers of the code, so editing a module no notebook
    reaches (``analysis.bench``, ``analysis.codecheck``, ``analysis.synthetic``) re-executes
    nothing. The closure is static: a module loaded by ``importlib`` with a computed name
    would be missed (the package has none).

    Examples
    --------
    >>> files = [p.relative_to(paths.ROOT).as_posix() for p in analysis_closure(paths.BOOK / "notebooks" / "safety.ipynb")]
    >>> "analysis/safety.py" in files, "analysis/bench.py" in files, "analysis/build.py" in files
    (True, False, False)
    """
    return sorted(import_closure(imported_modules(notebook_source_tree(notebook)), root).values())


def hash_modules(files: list[Path], root: Path | None = None) -> str:
    """SHA-256 over the relative paths and bytes of ``files`` (an import closure)."""
    root = paths.ROOT if root is None else Path(root)
    digest = hashlib.sha256()
    for path in sorted(files):
        digest.update(path.relative_to(root).as_posix().encode() + b"\0" + hash_file(path).encode() + b"\n")
    return digest.hexdigest()


# ----------------------------------------------------------------------------- dataset
@dataclass(frozen=True)
class DatasetInfo:
    """The dataset a build uses: where it is, whether it is synthetic, what its files hold."""

    directory: Path
    label: str
    synthetic: bool
    reason: str
    files: dict[str, str]
    sizes: dict[str, int]

    @property
    def public_label(self) -> str:
        """How published pages name the dataset: :attr:`label` for a folder of the repository;
        for a folder outside it, only the folder's name (an absolute path can name a person, a
        hospital or a server, and says nothing about the data).

        Examples
        --------
        >>> DatasetInfo(Path("/home/jdoe/ward7/ra"), "/home/jdoe/ward7/ra", False, "", {}, {}).public_label
        'ra (a folder outside the repository)'
        >>> DatasetInfo(paths.SYNTHETIC, "data/synthetic", True, "", {}, {}).public_label
        'data/synthetic'
        """
        if not Path(self.label).is_absolute():
            return self.label
        return f"{Path(self.label).name} (a folder outside the repository)"

    @property
    def fingerprint(self) -> str:
        """First 12 hex digits of a hash over every file hash: names this dataset version."""
        text = "\n".join(f"{name} {digest}" for name, digest in sorted(self.files.items()))
        return hashlib.sha256(text.encode()).hexdigest()[:12]


def dataset_label(directory: Path) -> str:
    """How the book names a dataset folder: relative to the repository when inside it.

    Examples
    --------
    >>> dataset_label(paths.ROOT / "tests" / "data" / "minimal")
    'tests/data/minimal'
    """
    try:
        return Path(directory).resolve().relative_to(paths.ROOT.resolve()).as_posix()
    except ValueError:
        return str(Path(directory).resolve())


def classify_dataset(directory: Path) -> tuple[bool, str]:
    """Is the dataset synthetic? Returns ``(synthetic, reason)``.

    The rule (documented in the book's *Study and data* page): a dataset is **synthetic**
    when (1) it is the repository's cohort ``data/synthetic``, or (2) its folder holds a
    file named ``SYNTHETIC`` (any content), or (3) the opening of its ``README.md`` -- the
    first line and the first paragraph after it -- contains the word "synthetic". Anything
    else is presented as a real dataset. The rule errs towards the label: a README that
    opens with "not synthetic" is labelled synthetic, never the other way round.

    Examples
    --------
    >>> classify_dataset(paths.TEST_DATASET)
    (True, 'the opening of its README.md declares it synthetic')
    """
    directory = Path(directory)
    if directory.resolve() == paths.SYNTHETIC.resolve():
        return True, "it is the repository's synthetic cohort (data/synthetic)"
    if (directory / "SYNTHETIC").is_file():
        return True, "its folder holds a SYNTHETIC marker file"
    readme = directory / "README.md"
    if readme.is_file():
        blocks = [b.strip() for b in re.split(r"\n\s*\n", readme.read_text(encoding="utf-8", errors="replace").strip())]
        opening = " ".join(blocks[:2])
        if re.search(r"\bsynthetic\b", opening, flags=re.IGNORECASE):
            return True, "the opening of its README.md declares it synthetic"
    return False, "it declares itself neither by a SYNTHETIC file nor in its README.md"


def describe_dataset(directory: Path) -> DatasetInfo:
    """Locate, classify and hash a dataset folder (top-level files; no validation). Each
    contract table is hashed under its logical name (``visits.csv``) whatever file holds
    it (:func:`analysis.crosswalk.describe_dataset_files`)."""
    directory = Path(directory)
    files, sizes = describe_dataset_files(directory, hash_file)
    synthetic, reason = classify_dataset(directory)
    return DatasetInfo(directory=directory, label=dataset_label(directory), synthetic=synthetic, reason=reason,
                       files=files, sizes=sizes)


def inspect_dataset(data_dir: str | os.PathLike | None = None) -> DatasetInfo:
    """Validate the build's dataset against the data contract and describe it.

    Raises :class:`BuildError` with the contract's report (file, column, line, rule) when
    the dataset is invalid.
    """
    directory = paths.dataset_dir(data_dir)
    try:
        load_dataset(directory)
    except DataContractError as err:
        raise BuildError(f"invalid dataset {directory}:\n{err}") from None
    return describe_dataset(directory)


# ----------------------------------------------------------------------------- run plan
@dataclass(frozen=True)
class Run:
    """One run of the plan: a notebook, its parameters, its dataset inputs, its artefacts."""

    id: str
    notebook: Path
    inputs: tuple[str, ...]
    parameters: dict = field(default_factory=dict)
    artefacts: dict = field(default_factory=dict)
    title: str = ""
    #: Repository paths (files or folders, from the root) the run reads besides the dataset.
    sources: tuple[str, ...] = ()

    @property
    def page(self) -> str:
        """Docname of the executed notebook in the book."""
        return f"generated/{self.id}"


def notebook_parameter_names(notebook: Path) -> set[str]:
    """Names assigned in the cell tagged ``parameters`` of a notebook (empty if none)."""
    nb = nbformat.read(notebook, as_version=4)
    for cell in nb.cells:
        if cell.cell_type == "code" and "parameters" in cell.metadata.get("tags", []):
            tree = ast.parse(cell.source)
            return {t.id for node in ast.walk(tree) if isinstance(node, (ast.Assign, ast.AnnAssign))
                    for t in (node.targets if isinstance(node, ast.Assign) else [node.target])
                    if isinstance(t, ast.Name)}
    return set()


def check_source_path(source, root: Path | None = None) -> str:
    """What is wrong with a ``sources:`` entry ('' if nothing): it must be a path relative to
    the repository ``root``, inside it, naming a file or folder that exists.

    Examples
    --------
    >>> check_source_path("data/published"), check_source_path("../elsewhere")
    ('', "source '../elsewhere' must be a path inside the repository, relative to its root")
    >>> check_source_path("data/nothing")
    "source 'data/nothing' not found in the repository"
    """
    root = paths.ROOT if root is None else Path(root)
    text = str(source)
    if not text or Path(text).is_absolute() or not (root / text).resolve().is_relative_to(root.resolve()):
        return f"source {text!r} must be a path inside the repository, relative to its root"
    if not (root / text).exists():
        return f"source {text!r} not found in the repository"
    return ""


def load_run_plan(path: Path = RUNPLAN) -> list[Run]:
    """Read and check the run plan: unique ids, notebooks present, inputs a list (possibly
    empty) of the contract's files, sources existing paths inside the repository, every
    parameter (given and injected) defined in the notebook's ``parameters`` cell. Raises
    :class:`BuildError` naming the run and the problem."""
    path = Path(path)
    try:
        plan = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as err:
        raise BuildError(f"run plan {path}: cannot be read: {err}") from None
    runs, problems = [], []
    for i, entry in enumerate((plan or {}).get("runs") or [], start=1):
        rid = str(entry.get("id", f"#{i}"))
        where = f"run plan {path.name}, run {rid}"
        if not re.fullmatch(r"[a-z0-9_]+", rid):
            problems.append(f"{where}: id must be lower-case letters, digits and _")
        notebook = (path.parent / str(entry.get("notebook", ""))).resolve()
        if not notebook.is_file():
            problems.append(f"{where}: notebook {entry.get('notebook')!r} not found")
            continue
        inputs = entry.get("inputs")
        if not isinstance(inputs, list) or any(f not in CONTRACT_FILES for f in inputs):
            problems.append(f"{where}: inputs must be a list of some of {', '.join(CONTRACT_FILES)} "
                            f"([] for none; got {inputs!r})")
            inputs = []
        sources = entry.get("sources", [])
        if not isinstance(sources, list):
            problems.append(f"{where}: sources must be a list of repository paths (got {sources!r})")
            sources = []
        problems += [f"{where}: {problem}" for problem in map(check_source_path, sources) if problem]
        parameters = dict(entry.get("parameters") or {})
        defined = notebook_parameter_names(notebook)
        missing = [p for p in (*INJECTED, *parameters) if p not in defined]
        if missing:
            problems.append(f"{where}: {notebook.name} has no parameters cell defining {missing}")
        runs.append(Run(rid, notebook, tuple(inputs), parameters, dict(entry.get("artefacts") or {}),
                        str(entry.get("title", "")), tuple(str(p).rstrip("/") for p in sources)))
    ids = [r.id for r in runs]
    problems += [f"run plan {path.name}: id {d!r} used twice" for d in sorted({i for i in ids if ids.count(i) > 1})]
    if not runs and not problems:
        problems.append(f"run plan {path}: no runs")
    if problems:
        raise BuildError("\n".join(problems))
    return runs


def run_parameters(run: Run, dataset: DatasetInfo, output_dir: str) -> dict:
    """Every parameter papermill injects into a run: the plan's plus :data:`INJECTED`."""
    return {"data_dir": dataset.label, "dataset_files": list(run.inputs), "synthetic": dataset.synthetic,
            "output_dir": output_dir, **run.parameters}


def compute_run_key(run: Run, dataset: DatasetInfo, code_hash: str, lock_hash: str,
                    sources_hash: str = "") -> str:
    """The cache key of a run (first 16 hex digits of a SHA-256; see the module notes).

    ``code_hash`` is :func:`hash_modules` of the run's :func:`analysis_closure`,
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
        "inputs": {f: dataset.files.get(f, "") for f in run.inputs},
        "dataset_other_files": {f: h for f, h in dataset.files.items() if f not in CONTRACT_FILES},
        "code": code_hash,
        "lock": lock_hash,
        "sources": {"declared": sorted(run.sources), "content": sources_hash},
    }
    return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()[:16]


def run_keys(runs: list[Run], dataset: DatasetInfo, root: Path | None = None) -> dict[str, str]:
    """The cache key of every run of ``runs`` (run id -> key), hashing each module and
    source once."""
    root = paths.ROOT if root is None else Path(root)
    lock_hash = hash_file(root / "requirements.lock")
    keys = {}
    for run in runs:
        code_hash = hash_modules(analysis_closure(run.notebook, root), root)
        keys[run.id] = compute_run_key(run, dataset, code_hash, lock_hash, hash_sources(run.sources, root))
    return keys


# ----------------------------------------------------------------------------- execution
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


def execute_run(record: RunRecord, dataset: DatasetInfo) -> RunRecord:
    """Execute one run with papermill into its cache entry; write ``meta.json`` last."""
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
    try:
        papermill.execute_notebook(str(record.run.notebook), str(record.notebook_out), parameters=params,
                                   kernel_name="python3", language="python", cwd=str(paths.ROOT), progress_bar=False,
                                   log_output=False, request_save_on_cell_execute=False, start_timeout=120)
    except Exception as err:  # noqa: BLE001 - every failure becomes one report
        raise NotebookRunError(_describe_failure(record.run, err, record.notebook_out)) from None
    seconds = time.perf_counter() - t0
    nb = nbformat.read(record.notebook_out, as_version=4)
    for cell in nb.cells:  # the injected parameters are shown folded, like the notebook's own
        if "injected-parameters" in cell.metadata.get("tags", []):
            cell.metadata["tags"] = [*cell.metadata["tags"], "hide-input"]
            # The page shows where the data were, not the machine's path to them.
            cell.source = cell.source.replace(repr(dataset.label), repr(dataset.public_label)).replace(
                json.dumps(dataset.label), json.dumps(dataset.public_label))
    # papermill records the machine's paths (input, output, parameters): not published.
    nb.metadata.get("papermill", {}).pop("input_path", None)
    nb.metadata.get("papermill", {}).pop("output_path", None)
    nb.metadata.get("papermill", {}).get("parameters", {}).pop("data_dir", None)
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


def execute_runs(records: list[RunRecord], dataset: DatasetInfo, workers: int, log: Log = print) -> None:
    """Execute ``records`` in parallel (``workers`` kernels). The first failure cancels the
    runs not yet started and is raised once the running ones have finished."""
    if not records:
        return
    failure: NotebookRunError | None = None
    with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
        futures = {pool.submit(execute_run, record, dataset): record for record in records}
        for future in as_completed(futures):
            record = futures[future]
            if future.cancelled():
                continue
            try:
                future.result()
                log(f"[reproduce] executed {record.run.id} in {record.meta['seconds']:.1f} s")
            except NotebookRunError as err:
                if failure is None:
                    failure = err
                    for other in futures:
                        other.cancel()
    if failure is not None:
        raise failure


# ----------------------------------------------------------------------------- publishing
def _write_if_changed(path: Path, data: bytes) -> bool:
    """Write ``data`` to ``path`` unless it already holds exactly that; True if written."""
    if path.is_file() and path.read_bytes() == data:
        return False
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_bytes(data)
    tmp.replace(path)
    return True


def publish(records: list[RunRecord], generated: Path = GENERATED, extra: dict[str, bytes] | None = None) -> list[str]:
    """Make ``generated`` mirror the cache entries of ``records`` (plus ``extra`` files),
    touching only files whose bytes changed; remove anything else. Returns the paths written."""
    generated.mkdir(parents=True, exist_ok=True)
    wanted: dict[Path, bytes] = {generated / ".gitignore": b"# generated by the book build; never commit\n*\n"}
    for record in records:
        wanted[generated / record.notebook_out.name] = record.notebook_out.read_bytes()
        for path in record.output_dir.rglob("*"):
            if path.is_file():
                wanted[generated / record.run.id / path.relative_to(record.output_dir)] = path.read_bytes()
    for name, data in (extra or {}).items():
        wanted[generated / name] = data
    written = [p.relative_to(generated).as_posix() for p, data in wanted.items() if _write_if_changed(p, data)]
    for path in sorted(generated.rglob("*"), reverse=True):
        if path.is_file() and path not in wanted:
            path.unlink()
        elif path.is_dir() and not any(path.iterdir()):
            path.rmdir()
    return written


def merge_registry(records: list[RunRecord]) -> pd.DataFrame:
    """Merge the runs' fragments, add the text's restatements (:data:`analysis.tables.NARRATIVE_KEYS`
    whose source is present) and return the registry frame. A key written by two runs raises."""
    frames, owner, clashes = [], {}, []
    for record in records:
        frame = read_registry(record.output_dir / FRAGMENT)
        for key in frame["key"]:
            if key in owner:
                clashes.append(f"{key!r} (runs {owner[key]} and {record.run.id})")
            owner[key] = record.run.id
        frames.append(frame)
    if clashes:
        raise BuildError("registry keys written by more than one run: " + ", ".join(clashes[:10]))
    merged = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=["key", "value", "artefact", "method"])
    computed = dict(zip(merged["key"], merged["value"]))
    rows = merged.to_dict("records")
    rows += registry_narrative(computed, only_present=True)
    return results_frame(rows)


def read_registry(path: Path) -> pd.DataFrame:
    """Read a registry file (a fragment or the merged registry); a malformed one is a
    :class:`BuildError`."""
    try:
        return read_results(path)
    except ValueError as err:
        raise BuildError(str(err)) from err


# ----------------------------------------------------------------------------- registry to prose
def load_registry(path: Path = REGISTRY_FILE) -> dict[str, float]:
    """Registry ``key -> value`` as written by the build."""
    frame = read_registry(path)
    return dict(zip(frame["key"], frame["value"]))


def render_registry_value(registry: dict[str, float], reference: str) -> str:
    """Text of a ``{reg}`` reference: ``key`` or ``key:spec`` (spec as in
    :func:`analysis.printing.format_value`). Raises ``KeyError`` for an unknown key.

    Examples
    --------
    >>> render_registry_value({"table2.sae.msc.rate": 2.4711}, "table2.sae.msc.rate")
    '2.47'
    >>> render_registry_value({"table2.sae.msc.rate": 2.4711}, "table2.sae.msc.rate:.1f")
    '2.5'
    >>> render_registry_value({}, "table9.x.msc.pct")
    Traceback (most recent call last):
    ...
    KeyError: "no key 'table9.x.msc.pct' in the results registry"
    """
    key, _, spec = reference.strip().partition(":")
    if key not in registry:
        raise KeyError(f"no key {key!r} in the results registry")
    return format_value(key, registry[key], spec or None)


def describe_parameter(run: Run, name: str) -> str:
    """Text of a ``{run}`` reference on a run's page: a parameter's value, populations by
    their readable name (:data:`analysis.presentation.layouts.POPULATION_LABELS`)."""
    if name == "title":
        return run.title
    if name not in run.parameters:
        raise KeyError(f"run {run.id!r} has no parameter {name!r}")
    value = run.parameters[name]
    return POPULATION_LABELS.get(value, str(value)) if name == "population" else str(value)


def announcement_html(dataset: DatasetInfo) -> str:
    """The banner every page shows: which dataset the book was built from."""
    where = f"<code>{html.escape(dataset.public_label)}</code> (version {dataset.fingerprint})"
    if dataset.synthetic:
        return (f"⚠ Built from <strong>synthetic data</strong>: {where}. These are not the trial's "
                f"patients; no number here is a result of the study.")
    return f"Built from the dataset {where}."


def build_facts(dataset: DatasetInfo) -> dict[str, str]:
    """Values of the ``{build}`` role."""
    return {
        "dataset": dataset.public_label,
        "dataset_version": dataset.fingerprint,
        "dataset_kind": "synthetic" if dataset.synthetic else "declared real",
        "dataset_reason": dataset.reason,
        "data_note": "Synthetic data, not the trial's." if dataset.synthetic else "",
    }


# ----------------------------------------------------------------------------- reproducibility page
def _git(*args: str) -> str:
    try:
        return subprocess.run(["git", *args], cwd=paths.ROOT, capture_output=True, text=True, timeout=20,
                              check=True).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return ""


def _package_versions() -> list[tuple[str, str]]:
    names = []
    for line in (paths.ROOT / "requirements.in").read_text(encoding="utf-8").splitlines():
        name = re.split(r"[<>=!~\[; ]", line.split("#", 1)[0].strip(), maxsplit=1)[0]
        if name:
            names.append(name)
    out = []
    for name in names:
        try:
            out.append((name, version(name)))
        except PackageNotFoundError:
            out.append((name, "not installed"))
    return out


def _md_cell(text: str) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def render_reproducibility_page(records: list[RunRecord], dataset: DatasetInfo) -> str:
    """The generated appendix: dataset hashes, code version, packages, the run plan with
    each run's parameters, and where every table and figure comes from.
    Deterministic for unchanged inputs (no build timestamp, no run time: these stay in the run
    cache's ``meta.json``), so an unchanged build does not re-read it and two clean builds of one
    commit print the same page (the PDF, Word and JATS outputs are compared byte for byte)."""
    commit = _git("rev-parse", "HEAD") or "unknown (not a git checkout)"
    dirty = _git("status", "--porcelain", "--untracked-files=no")
    lines = [
        "# Reproducibility",
        "",
        "This page is written by the build (`analysis.build.render_reproducibility_page`); it records "
        "what the numbers of this book were computed from.",
        "",
        "## Dataset",
        "",
        f"Folder `{dataset.public_label}`, version {dataset.fingerprint}; "
        f"{'synthetic' if dataset.synthetic else 'not declared synthetic'}, because {dataset.reason}.",
        "",
        "| file | bytes | SHA-256 |",
        "| --- | ---: | --- |",
        *[f"| `{name}` | {dataset.sizes[name]} | `{digest}` |" for name, digest in sorted(dataset.files.items())],
        "",
        "## Code and environment",
        "",
        f"- Git commit: `{commit}`" + (" with uncommitted changes to tracked files" if dirty else ""),
        f"- Python {sys.version.split()[0]}; `requirements.lock` SHA-256 `{hash_file(paths.ROOT / 'requirements.lock')}`",
        f"- `analysis` package SHA-256 `{hash_tree(paths.ROOT / 'analysis')}`",
        "",
        "| package (requirements.in) | installed version |",
        "| --- | --- |",
        *[f"| {name} | {ver} |" for name, ver in _package_versions()],
        "",
        "## Run plan",
        "",
        "Every page under *Results* is a notebook executed by papermill with these parameters "
        "(`book/runplan.yml`). A run is repeated only when its cache key changes; its run time and "
        "start are recorded in `_build/book-runs/<run>/<cache key>/meta.json`.",
        "",
        "| run | notebook | parameters | inputs and sources | cache key |",
        "| --- | --- | --- | --- | --- |",
    ]
    for record in records:
        params = {k: (dataset.public_label if k == "data_dir" else v)
                  for k, v in record.meta.get("parameters", {}).items() if k not in ("output_dir", "dataset_files")}
        params_text = ", ".join(f"`{k}={v!r}`" for k, v in sorted(params.items()))
        lines.append(f"| {{doc}}`{record.run.id} <{record.run.page.removeprefix('generated/')}>` | "
                     f"`{record.run.notebook.relative_to(paths.ROOT).as_posix()}` | {_md_cell(params_text)} | "
                     f"{', '.join((*record.run.inputs, *record.run.sources)) or 'none'} | `{record.key}` |")
    lines += ["", "## Where each table and figure comes from", "",
              "| artefact | run | notebook | output file |", "| --- | --- | --- | --- |"]
    for record in records:
        for label, name in record.run.artefacts.items():
            lines.append(f"| {{numref}}`{label}` | {record.run.id} | "
                         f"`{record.run.notebook.relative_to(paths.ROOT).as_posix()}` | "
                         f"`book/generated/{record.run.id}/{name}` |")
    lines += ["", "The merged results registry is `_build/results/results.csv`; each run's own rows are "
              "`book/generated/<run>/registry.csv`.", ""]
    return "\n".join(lines)


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


# ----------------------------------------------------------------------------- build lock
#: Held by the build that runs notebooks, publishes and reads pages; the second build of the
#: same checkout waits for it (or, with ``BOOK_LOCK=fail``, stops at once naming the holder).
LOCK_FILE = paths.BUILD / "book.lock"


@dataclass
class BuildLock:
    """An exclusive ``fcntl.flock`` on :data:`LOCK_FILE`, held until :meth:`release` or until
    the process ends (the kernel drops the lock of a killed build, so it never goes stale)."""

    path: Path
    handle: object = None

    def release(self) -> None:
        if self.handle is not None:
            fcntl.flock(self.handle, fcntl.LOCK_UN)
            self.handle.close()
            self.handle = None


def _describe_holder(text: str) -> tuple[str, int | None]:
    """``(description, pid)`` of the build recorded in a lock file's text."""
    try:
        holder = json.loads(text)
        return (f"build pid {holder['pid']} started {holder['started']} ({holder['command']})",
                int(holder["pid"]))
    except (ValueError, KeyError, TypeError):
        return "a build that has not yet recorded itself", None


def _pid_alive(pid: int | None) -> bool:
    if pid is None:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def acquire_build_lock(path: Path = LOCK_FILE, wait: bool | None = None, log: Log = print,
                       poll_seconds: float = 0.5) -> BuildLock:
    """Take the build lock of this checkout (run cache, ``book/generated``, the registry and
    Sphinx's outputs), saying who holds it if it is taken.

    ``wait`` (default: unless ``$BOOK_LOCK`` is ``fail``) waits for the other build, naming it
    once; otherwise :class:`BuildError` names it at once. A lock file left by a build that was
    killed names a process that no longer runs: its lock is free, and this build takes it over
    and says so.
    """
    wait = os.environ.get("BOOK_LOCK", "wait") != "fail" if wait is None else wait
    path.parent.mkdir(parents=True, exist_ok=True)
    handle = open(path, "a+", encoding="utf-8")  # noqa: SIM115 - held open for the lock's lifetime
    announced = False
    while True:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            break
        except BlockingIOError:
            handle.seek(0)
            holder, _pid = _describe_holder(handle.read())
            if not wait:
                handle.close()
                raise BuildError(f"another build of this checkout is running: {holder}; it holds {path}. "
                                 f"Wait for it to finish, or unset BOOK_LOCK=fail to wait automatically.") from None
            if not announced:
                log(f"[reproduce] waiting for {holder} to finish (it holds {path})")
                announced = True
            time.sleep(poll_seconds)
    handle.seek(0)
    previous, pid = _describe_holder(handle.read())
    if pid is not None and pid != os.getpid() and not _pid_alive(pid):
        log(f"[reproduce] taking over the build lock left by {previous}, which is no longer running")
    elif announced:
        log("[reproduce] the other build has finished; continuing")
    handle.seek(0)
    handle.truncate()
    handle.write(json.dumps({"pid": os.getpid(), "started": datetime.now(timezone.utc).isoformat(timespec="seconds"),
                             "command": " ".join(os.path.basename(a) if i == 0 else a
                                                 for i, a in enumerate(sys.argv))[:200]}))
    handle.flush()
    return BuildLock(path, handle)


# ----------------------------------------------------------------------------- orchestration
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


def prepare_book(dataset: DatasetInfo, runplan: Path = RUNPLAN, workers: int | None = None,
                 log: Log = print, generated: Path = GENERATED, registry_file: Path = REGISTRY_FILE) -> BookState:
    """Execute what is stale, then publish pages and registry (only if every run succeeded)."""
    runs = load_run_plan(runplan)
    keys = run_keys(runs, dataset)
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
    execute_runs(stale, dataset, workers or default_workers(), log)
    registry = merge_registry(records)
    page = render_reproducibility_page(records, dataset).encode()
    publish(records, generated, extra={"reproducibility.md": page})
    write_results(registry, registry_file)
    prune_cache(records)
    return BookState(dataset, runs, records, dict(zip(registry["key"], registry["value"])),
                     [r.run.id for r in stale])
