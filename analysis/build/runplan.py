"""The run plan (``book/runplan.yml``): which notebook runs with which parameters, inputs and sources."""
from __future__ import annotations

import ast
import re
from dataclasses import dataclass, field
from pathlib import Path

import nbformat
import yaml

from analysis import paths
from analysis.build.dataset import DatasetInfo
from analysis.build.errors import BuildError
from analysis.contract import FILES
from analysis.populations import POPULATION_LABELS

RUNPLAN = paths.BOOK / "runplan.yml"
#: Where the executed notebooks and their outputs are published, as the book reads them
#: (``<run id>.ipynb`` and ``<run id>/``; generated, never committed).
GENERATED = paths.BOOK / "generated"

#: Parameters the runner injects into every notebook (they must be in its parameters cell).
INJECTED = ("data_dir", "dataset_files", "synthetic", "output_dir")
#: The contract's tables, as run plans name them (the rest of the folder counts for every run).
CONTRACT_FILES = FILES


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




def describe_parameter(run: Run, name: str) -> str:
    """Text of a ``{run}`` reference on a run's page: a parameter's value, populations by
    their readable name (:data:`analysis.populations.POPULATION_LABELS`)."""
    if name == "title":
        return run.title
    if name not in run.parameters:
        raise KeyError(f"run {run.id!r} has no parameter {name!r}")
    value = run.parameters[name]
    return POPULATION_LABELS.get(value, str(value)) if name == "population" else str(value)
