"""Content hashes of files, folders, repository sources and the analysis code a notebook reaches."""
from __future__ import annotations

import ast
import hashlib
from pathlib import Path

import nbformat

from analysis import paths
from analysis.build.errors import BuildError
from analysis.codegraph import import_closure, imported_modules, memoised_imports, module_imports


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
    nothing. The closure is static (see :mod:`analysis.codegraph` for the one module that
    loads others by name, and how the graph still sees them).

    Examples
    --------
    >>> files = [p.relative_to(paths.ROOT).as_posix() for p in analysis_closure(paths.BOOK / "notebooks" / "safety.ipynb")]
    >>> "analysis/safety.py" in files, "analysis/bench.py" in files, "analysis/build/runner.py" in files
    (True, False, False)
    """
    entries = memoised_imports(f"notebook|{hash_file(notebook)}",
                               lambda: imported_modules(notebook_source_tree(notebook)))
    return sorted(import_closure(entries, root).values())


def extension_closure(extension_dir: Path, root: Path | None = None) -> list[Path]:
    """Source files of the book's Sphinx extensions (every ``.py`` of ``extension_dir``) and
    of the ``analysis`` modules they reach: the code that turns the pages into HTML and LaTeX
    besides Sphinx itself (the ``{reg}`` role, the directives, the banner, the writers).

    Sphinx's incremental build does not know that code: the book's extension puts its digest
    in a configuration value that rebuilds the environment, so that editing it reads every
    page again instead of leaving pages rendered by the old code. The statistics, tables and
    figures are not in it (they reach the pages through the notebook runs and their keys).

    Examples
    --------
    >>> files = {p.relative_to(paths.ROOT).as_posix() for p in extension_closure(paths.BOOK / "_ext")}
    >>> "book/_ext/reproduce.py" in files, "analysis/printing.py" in files, "analysis/safety.py" in files
    (True, True, False)
    """
    sources = sorted(Path(extension_dir).glob("*.py"))
    modules = set().union(*(module_imports(path, path.stem) for path in sources))
    return sources + sorted(import_closure(sorted(modules), root).values())
