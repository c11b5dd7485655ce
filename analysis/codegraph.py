"""The static import graph of the :mod:`analysis` package, read with :mod:`ast`.

Two things depend on which code a computation can reach: a notebook run's cache key
(:func:`analysis.build.analysis_closure`) and the reconstruction ensemble's staleness digest
(:mod:`analysis.ensemble.digest`). Both follow the import statements of the modules, at module
level and inside functions alike, with the ``__init__`` of every package on the way, so
tooling a computation never imports (``bench``, ``codecheck``, the book build) is outside it.
The graph is static: a module loaded by ``importlib`` with a computed name would be missed.
The package's one such loader, :mod:`analysis.build` loading its public names on first use,
lists them as imports in an ``if TYPE_CHECKING:`` block, which the graph reads like any other.
"""
from __future__ import annotations

import ast
import hashlib
import json
import os
from collections.abc import Callable, Iterable
from pathlib import Path

from analysis import paths

PACKAGE = "analysis"


def module_file(name: str, root: Path | None = None) -> Path | None:
    """The source file of module ``name`` (``analysis.x.y``) under ``root`` (a package's
    ``__init__.py``), or None when ``name`` is not a module (a name imported from one).

    Examples
    --------
    >>> module_file("analysis.paths").name, module_file("analysis.ensemble").name, module_file("analysis.paths.ROOT")
    ('paths.py', '__init__.py', None)
    """
    # strings, not Path objects: a build looks up thousands of names (most are not modules)
    base = os.path.join(paths.ROOT if root is None else root, *name.split("."))
    for candidate in (base + ".py", os.path.join(base, "__init__.py")):
        if os.path.isfile(candidate):
            return Path(candidate)
    return None


def import_statements(tree: ast.AST):
    """The import statements of ``tree`` at any depth of statements (module level, in
    functions, classes, ``if``/``try`` blocks); expressions are not searched, as no import
    statement can be inside one."""
    stack = [tree]
    while stack:
        node = stack.pop()
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            yield node
            continue
        for field in ("body", "orelse", "finalbody", "handlers", "cases"):
            children = getattr(node, field, None)
            if isinstance(children, list):
                stack.extend(child for child in children
                             if isinstance(child, (ast.stmt, ast.excepthandler, ast.match_case)))


def imported_modules(tree: ast.AST, module: str = "", is_package: bool = False) -> set[str]:
    """Dotted names that the import statements of ``tree`` may load from the ``analysis``
    package, relative imports resolved from ``module``. ``from analysis.x import name``
    yields ``analysis.x`` and ``analysis.x.name`` (the latter counts only if it is a module).

    Examples
    --------
    >>> sorted(imported_modules(ast.parse("from analysis.x import y\\ndef f():\\n    import json")))
    ['analysis.x', 'analysis.x.y']
    >>> sorted(imported_modules(ast.parse("from .plan import Spec"), "analysis.ensemble.task"))
    ['analysis.ensemble.plan', 'analysis.ensemble.plan.Spec']
    """
    names: set[str] = set()
    for node in import_statements(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        else:
            base = node.module or ""
            if node.level:
                parts = module.split(".") if is_package else module.split(".")[:-1]
                parts = parts[: len(parts) - (node.level - 1)]
                base = ".".join([*parts, base] if base else parts)
            names.add(base)
            names.update(f"{base}.{alias.name}" for alias in node.names)
    return {n for n in names if n == PACKAGE or n.startswith(PACKAGE + ".")}


#: Imports found by a parse, by what was parsed: ``module|<name>|<is package>|<SHA-256 of the
#: source>`` (or another caller's key, :func:`memoised_imports`). Each source is parsed once per
#: process, and once in all when a caller keeps the memo in a file (the book build does, between
#: builds: :func:`load_import_memo`, :func:`save_import_memo`); keyed on content, it cannot go stale.
_IMPORTS_MEMO: dict[str, list[str]] = {}
_IMPORTS_USED: set[str] = set()


def memoised_imports(key: str, compute: Callable[[], set[str]]) -> set[str]:
    """``compute()``, remembered under ``key`` (which must name the content it depends on)."""
    if key not in _IMPORTS_MEMO:
        _IMPORTS_MEMO[key] = sorted(compute())
    _IMPORTS_USED.add(key)
    return set(_IMPORTS_MEMO[key])


def module_imports(path: Path, name: str) -> set[str]:
    """:func:`imported_modules` of the module ``name`` stored at ``path`` (parsed once)."""
    source = path.read_bytes()
    is_package = path.name == "__init__.py"
    key = f"module|{name}|{int(is_package)}|{hashlib.sha256(source).hexdigest()}"
    return memoised_imports(key, lambda: imported_modules(ast.parse(source, filename=str(path)), name, is_package))


def load_import_memo(path: Path) -> None:
    """Add the imports saved in ``path`` by :func:`save_import_memo` to this process's memo (a
    missing or unreadable file adds nothing: the sources are parsed)."""
    try:
        saved = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return
    if isinstance(saved, dict):
        _IMPORTS_MEMO.update({k: v for k, v in saved.items() if isinstance(v, list)})


def save_import_memo(path: Path) -> None:
    """Write the imports this process used to ``path`` (JSON, replaced atomically), so the
    entries of sources that have since changed are dropped."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")
    tmp.write_text(json.dumps({k: _IMPORTS_MEMO[k] for k in sorted(_IMPORTS_USED)}, indent=0), encoding="utf-8")
    tmp.replace(path)


def import_closure(entries: Iterable[str], root: Path | None = None) -> dict[str, Path]:
    """Every ``analysis`` module reachable from the modules ``entries``, with its source file:
    the entries, transitively the modules they import, and the packages on the way (importing
    ``a.b.c`` runs the ``__init__`` of ``a`` and ``a.b``).

    Examples
    --------
    >>> closure = import_closure(["analysis.ensemble.plan"])
    >>> "analysis.synthetic.assumptions" in closure, "analysis.ensemble" in closure, "analysis.bench" in closure
    (True, True, False)
    """
    root = paths.ROOT if root is None else Path(root)
    pending = sorted(entries, reverse=True)
    found: dict[str, Path] = {}
    seen: set[str] = set()  # names looked up, modules or not (many imports name the same ones)
    while pending:
        name = pending.pop()
        if name in seen:
            continue
        seen.add(name)
        path = module_file(name, root)
        if path is None:
            continue
        found[name] = path
        parents = [".".join(name.split(".")[:i]) for i in range(1, name.count(".") + 1)]
        pending += [*parents, *sorted(module_imports(path, name))]
    return dict(sorted(found.items()))


def digest_files(files: Iterable[Path], root: Path | None = None) -> str:
    """SHA-256 over the files' names relative to ``root`` (default the repository) and their
    contents, in sorted order (the order given does not matter): the digest of the code an
    import closure holds, in a run's cache key, ``make verify``'s, the figure cache's and the
    reconstruction ensemble's.

    Examples
    --------
    >>> files = import_closure(["analysis.paths"]).values()
    >>> digest_files(files) == digest_files(reversed(list(files))), len(digest_files(files))
    (True, 64)
    """
    root = (paths.ROOT if root is None else Path(root)).resolve()
    digest = hashlib.sha256()
    for path in sorted(Path(f) for f in files):
        digest.update(path.resolve().relative_to(root).as_posix().encode() + b"\0")
        digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()
