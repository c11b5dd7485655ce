"""Digests that say whether a stored ensemble still matches the code and the published registry.

* ``generator``: the source of every ``analysis.synthetic`` module a reconstruction runs;
* ``analysis``: the source of every other ``analysis`` module in the static import closure of
  the ensemble's task and summary (derivations, statistics, registry, contract, this package);
* ``published``: the published registry's files (``data/published/*.csv``).

The closure is read from the modules' ``import`` statements (module level and inside
functions, :mod:`analysis.codegraph`), so tooling the task never imports (``bench``,
``codecheck``, the book build) does not make a stored ensemble stale, and neither do the table
layouts: the classification depends on how a value prints (:mod:`analysis.printing`), not on
where it is placed.
"""
from __future__ import annotations

from pathlib import Path

from analysis import codegraph, paths
from analysis.codegraph import digest_files

#: Modules whose import closure is the ensemble's code. Named, not imported: checking staleness
#: (``make verify``, the book's ensemble page) must stay cheap. The ensemble page declares the
#: generator and the task as run-plan ``sources``, so its cache key covers what this digests.
ENTRY_MODULES = ("analysis.ensemble.task", "analysis.ensemble.summary", "analysis.ensemble.store")


def import_closure(entries=ENTRY_MODULES) -> dict[str, Path]:
    """Every ``analysis`` module reachable from ``entries`` (:func:`analysis.codegraph.import_closure`).

    Examples
    --------
    >>> closure = import_closure()
    >>> "analysis.tables" in closure, "analysis.printing" in closure, "analysis.presentation" in closure
    (True, True, False)
    """
    return codegraph.import_closure(entries)


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
