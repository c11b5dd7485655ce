"""Digests that say whether a stored ensemble still matches the code and the published registry.

* ``generator``: the source of every ``analysis.synthetic`` module a reconstruction runs;
* ``analysis``: the source of every other ``analysis`` module in the static import closure of
  the ensemble's task and summary (derivations, statistics, registry, contract, this package);
* ``published``: the published registry's files (``data/published/*.csv``).

The closure is read from the modules' ``import`` statements (module level and inside
functions), so tooling the task never imports (``bench``, ``codecheck``, the book build) does
not make a stored ensemble stale.
"""
from __future__ import annotations

import ast
import hashlib
from pathlib import Path

from analysis import paths

#: Modules whose import closure is the ensemble's code. Named, not imported: checking staleness
#: (``make verify``, the book's ensemble page) must stay cheap. The ensemble page declares the
#: generator and the task as run-plan ``sources``, so its cache key covers what this digests.
ENTRY_MODULES = ("analysis.ensemble.task", "analysis.ensemble.summary", "analysis.ensemble.store")


def module_path(module: str) -> Path | None:
    """Source file of an ``analysis`` module (package ``__init__`` for a package), or None."""
    base = paths.ROOT.joinpath(*module.split("."))
    for candidate in (base.with_suffix(".py"), base / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


def imported_modules(path: Path, module: str) -> set[str]:
    """``analysis`` modules that the file imports (absolute and relative imports)."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                parts = package.split(".")
                base = ".".join(parts[: len(parts) - node.level + 1])
                stem = f"{base}.{node.module}" if node.module else base
            else:
                stem = node.module or ""
            found.add(stem)
            found.update(f"{stem}.{alias.name}" for alias in node.names)
    return {m for m in found if m == "analysis" or m.startswith("analysis.")}


def import_closure(entries=ENTRY_MODULES) -> dict[str, Path]:
    """Every ``analysis`` module reachable from ``entries``, with its source file.

    Examples
    --------
    >>> closure = import_closure(("analysis.ensemble.plan",))
    >>> "analysis.synthetic.assumptions" in closure, "analysis.bench" in closure
    (True, False)
    """
    closure: dict[str, Path] = {}
    todo = list(entries)
    while todo:
        module = todo.pop()
        if module in closure:
            continue
        path = module_path(module)
        if path is None:  # a name imported from a module, not a module
            continue
        closure[module] = path
        parts = module.split(".")
        # importing a.b.c runs the __init__ of a and a.b as well
        todo += [".".join(parts[:k]) for k in range(1, len(parts))]
        todo += sorted(imported_modules(path, module))
    return dict(sorted(closure.items()))


def digest_files(files) -> str:
    """SHA-256 over the files' repository-relative names and contents (order-independent)."""
    h = hashlib.sha256()
    for path in sorted(Path(f) for f in files):
        h.update(path.resolve().relative_to(paths.ROOT).as_posix().encode() + b"\0")
        h.update(hashlib.sha256(path.read_bytes()).digest())
    return h.hexdigest()


def compute_digests() -> dict[str, str]:
    """The three digests a stored ensemble is checked against."""
    closure = import_closure()
    generator = [p for m, p in closure.items() if m.startswith("analysis.synthetic")]
    analysis = [p for m, p in closure.items() if not m.startswith("analysis.synthetic")]
    paths.check_source(paths.PUBLISHED)
    return {"generator": digest_files(generator), "analysis": digest_files(analysis),
            "published": digest_files(sorted(paths.PUBLISHED.glob("*.csv")))}


def stale_reasons(manifest: dict, current: dict[str, str] | None = None) -> list[str]:
    """Why a stored ensemble no longer matches (empty when it matches).

    Examples
    --------
    >>> stale_reasons({"digests": {"generator": "a", "analysis": "b", "published": "c"}},
    ...               {"generator": "a", "analysis": "B", "published": "c"})
    ['the analysis code changed since the ensemble was generated']
    """
    current = compute_digests() if current is None else current
    stored = manifest.get("digests", {})
    what = {"generator": "the generator", "analysis": "the analysis code", "published": "the published registry"}
    return [f"{what[name]} changed since the ensemble was generated" for name in what
            if stored.get(name) != current.get(name)]
