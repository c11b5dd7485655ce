"""Marks of the values the published numbers do not determine, and what the generator targets.

Light on purpose: every notebook that prints a table imports it, and the book's run cache follows
imports, so it depends on the stored summary only (``data/ensemble/summary.csv`` and
``targets.csv``), not on the ensemble's generator and analysis code.
"""
from __future__ import annotations

from pathlib import Path

import pandas as pd

from analysis import paths
from analysis.ensemble.summary import read_summary
from analysis.printing import MarkedRegistry, format_value, stat_of
from analysis.results import registry_values


def undetermined_intervals(summary: pd.DataFrame) -> dict[str, tuple[float, float]]:
    """Key -> (2.5 %, 97.5 %) interval of every key classed *not determined*."""
    rows = summary[summary["class"] == "not determined"]
    return {r.key: (float(r.p2_5), float(r.p97_5)) for r in rows.itertuples(index=False)}


#: What a marker after a value that is not determined links to and says.
MARK = "‡"
MARK_PAGE = "generated/ensemble"


def marks_for_dataset(synthetic: bool, directory: str | Path = paths.ENSEMBLE) -> dict[str, tuple[float, float]]:
    """The not-determined intervals to mark on the pages of a build, or ``{}``.

    Only a synthetic dataset is marked: the ensemble says how far the published numbers pin
    down a *reconstruction*; a real dataset's numbers are the trial's, whatever the ensemble says.
    """
    if not synthetic:
        return {}
    paths.check_source(directory)
    if not (Path(directory) / "summary.csv").is_file():
        return {}
    return undetermined_intervals(read_summary(Path(directory) / "summary.csv"))


def format_mark(key: str, interval: tuple[float, float], spec: str | None = None) -> str:
    """The marker text after a value: ``‡`` and the 2.5-97.5 % range, printed like the value.

    Examples
    --------
    >>> format_mark("durability.acr20.msc.month12.pct", (71.25, 95.0))
    '‡ 71.3–95.0'
    >>> format_mark("clusters.activity.year1.p", (0.0004, 0.2), "pexpr")
    '‡ <0.001–0.200'
    """
    if spec in ("pexpr", "marker"):
        spec = "p" if spec == "pexpr" else None
    low, high = (format_value(key, v, spec) for v in interval)
    return f"{MARK} {low}–{high}"


def marked_registry(registry, synthetic: bool, directory: str | Path = paths.ENSEMBLE):
    """``registry`` (frame or dict) as a :class:`analysis.printing.MarkedRegistry` whose
    tables mark the values the published numbers do not determine (none for a real dataset)."""
    return MarkedRegistry(registry_values(registry), marks_for_dataset(synthetic, directory))


def describe_derivation(key: str) -> str:
    """How the analysis derives a published value the generator does not target.

    Examples
    --------
    >>> describe_derivation("table3.acr20.year1.marker"), describe_derivation("abstract.sae.msc.rate")
    ('derived: significance marker from the test of the counts', 'derived: restates a table value')
    """
    artefact, stat = key.split(".", 1)[0], stat_of(key)
    if artefact in ("abstract", "text", "discussion"):
        return "derived: restates a table value"
    if stat == "marker":
        return "derived: significance marker from the test of the counts"
    if stat == "p":
        return "derived: p-value from the counts"
    if stat == "sd" and artefact == "table3" and "delta" not in key:  # change scores have their own SDs
        return "derived: SD of a percentage, from its count"
    if stat in ("rate", "rate_low", "rate_high"):
        return "derived: rate from events and patient-years"
    if stat == "pct":
        return "derived: percentage from a targeted count"
    return "derived: computed from targeted values"


def add_construction(reproduction: pd.DataFrame, synthetic: bool,
                     directory: str | Path = paths.ENSEMBLE) -> pd.DataFrame:
    """Add the column ``construction`` to the reproduction comparison of a synthetic dataset:
    ``targeted`` when the generator aims at the published value directly (so its match holds by
    construction), else how the analysis derives it (so its match tests the article's
    arithmetic). A real dataset, or no stored ensemble, leaves the comparison as it is."""
    path = Path(directory) / "targets.csv"
    if not synthetic:
        return reproduction
    paths.check_source(directory)
    if not path.is_file():
        return reproduction
    targeted = set(pd.read_csv(path, dtype=str)["key"])
    out = reproduction.copy()
    out["construction"] = ["targeted" if k in targeted else describe_derivation(k) for k in out["key"]]
    return out
