"""The stored ensemble as the book shows it: classes, bands, intervals, statements, markers.

Reads the committed ensemble (``data/ensemble``, :mod:`analysis.ensemble.store`) and lays it out
for the page *What the published numbers determine* and for the markers that other pages put
after a value the published numbers do not determine.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from analysis import paths
from analysis.ensemble.digest import stale_reasons
from analysis.ensemble.statements import STATEMENTS, evaluate_statements
from analysis.ensemble.store import read_curves, read_manifest, read_values
from analysis.ensemble.summary import CLASSES, read_summary
from analysis.presentation import (ARM_COLUMN_LABELS, MISSING, MarkedRegistry, PaperTable, Row, format_number,
                                   format_value, stat_of,
                                   visit_display)
from analysis.results import make_result

CLASS_KEYS = {c: c.replace(" ", "_") for c in CLASSES}


class EnsembleMissing(FileNotFoundError):
    """The ensemble folder has no ensemble (run ``make ensemble``)."""


@dataclass
class Ensemble:
    """A stored ensemble, read back."""

    directory: Path
    manifest: dict
    summary: pd.DataFrame
    values: pd.DataFrame
    curves: pd.DataFrame
    index: pd.DataFrame
    #: Why it no longer matches the code or the published registry (empty: it matches).
    stale: list[str] = field(default_factory=list)

    @property
    def n(self) -> int:
        return int(self.manifest["n"])

    def value_table(self) -> pd.DataFrame:
        """Reconstructions x keys (wide), for rules that combine several keys."""
        return self.values.pivot(index="reconstruction", columns="key", values="value")


def load_ensemble(directory: str | Path = paths.ENSEMBLE, check_stale: bool = True) -> Ensemble:
    """Read an ensemble written by ``python -m analysis.ensemble``."""
    directory = Path(directory)
    if not (directory / "manifest.json").is_file():
        raise EnsembleMissing(f"no reconstruction ensemble in {directory} (run `make ensemble`)")
    manifest = read_manifest(directory)
    return Ensemble(directory=directory, manifest=manifest, summary=read_summary(directory / "summary.csv"),
                    values=read_values(directory), curves=read_curves(directory),
                    index=pd.read_csv(directory / "index.csv", dtype={"seed": str}, keep_default_na=False),
                    stale=stale_reasons(manifest) if check_stale else [])


# ----------------------------------------------------------------------------- tables
def tabulate_classes(summary: pd.DataFrame) -> pd.DataFrame:
    """Keys per artefact and class (columns in :data:`CLASSES` order, plus ``total``).

    Examples
    --------
    >>> s = pd.DataFrame({"artefact": ["a", "a", "b"], "class": ["published", "determined", "not determined"]})
    >>> tabulate_classes(s).to_dict("records")[0]
    {'artefact': 'a', 'published': 1, 'determined': 1, 'conclusion determined': 0, 'not determined': 0, 'total': 2}
    """
    table = pd.crosstab(summary["artefact"], summary["class"]).reindex(columns=list(CLASSES), fill_value=0)
    table["total"] = table.sum(axis=1)
    return table.reset_index().rename_axis(columns=None)


def summarise_curve_bands(curves: pd.DataFrame) -> pd.DataFrame:
    """Per endpoint, arm and month: the median and the 2.5-97.5 % band of the Kaplan-Meier
    percentage over the reconstructions whose curve reaches that month (``n`` of them)."""
    grouped = curves.groupby(["endpoint", "arm", "month"], sort=True)["percent"]
    out = grouped.agg(n="size", median="median",
                      low=lambda x: float(np.percentile(x, 2.5)), high=lambda x: float(np.percentile(x, 97.5)))
    return out.reset_index()


def tabulate_intervals(summary: pd.DataFrame, pattern: str) -> pd.DataFrame:
    """Summary rows whose key matches the regular expression ``pattern`` (``key``, class,
    median and 2.5-97.5 % interval, min, max)."""
    rows = summary[summary["key"].str.fullmatch(pattern)]
    return rows[["key", "class", "median", "p2_5", "p97_5", "min", "max"]].reset_index(drop=True)


def tabulate_assumptions(manifest: dict) -> pd.DataFrame:
    """What the ensemble varies: assumption, meaning, range drawn from, the shipped cohort's value."""
    rows = [{"assumption": name, "meaning": a["meaning"], "low": a["low"], "high": a["high"], "scale": a["scale"],
             "shipped": a["shipped"]} for name, a in sorted(manifest["assumptions"].items())]
    return pd.DataFrame(rows)


def tabulate_statements(ensemble: Ensemble, dataset_values: dict) -> pd.DataFrame:
    """Each qualitative statement: the share of reconstructions where it holds, and whether it
    holds for this build's dataset (``None`` when the dataset lacks the analysis)."""
    wide = ensemble.value_table()
    per_reconstruction = [evaluate_statements(row.to_dict()) for _, row in wide.iterrows()]
    mine = evaluate_statements(dataset_values)
    rows = []
    for s in STATEMENTS:
        held = [r[s.id] for r in per_reconstruction if r[s.id] is not None]
        rows.append({"id": s.id, "claim": s.claim, "where": s.where, "rule": s.rule, "n": len(held),
                     "holds": int(sum(held)), "pct": 100.0 * sum(held) / len(held) if held else np.nan,
                     "this_dataset": mine[s.id]})
    return pd.DataFrame(rows)


# ----------------------------------------------------------------------------- registry
def registry_ensemble(ensemble: Ensemble, dataset_values: dict) -> list[dict]:
    """Registry rows of the ensemble page (artefact ``ensemble``): its size, the number of keys
    per class, and the share of reconstructions in which each statement holds."""
    m = ensemble.manifest
    rows = [make_result("ensemble.reconstructions.total.n", m["n"], "reconstructions in the stored ensemble"),
            make_result("ensemble.succeeded.total.n", m["succeeded"],
                        "reconstructions that reproduce every published value"),
            make_result("ensemble.failed.total.n", m["failed"], "reconstructions the generator could not complete"),
            make_result("ensemble.stale.total.n", len(ensemble.stale),
                        "reasons the stored ensemble no longer matches the code or the registry")]
    counts = ensemble.summary["class"].value_counts()
    rows += [make_result(f"ensemble.{CLASS_KEYS[c]}.total.n", int(counts.get(c, 0)), f"keys classed '{c}'")
             for c in CLASSES]
    for r in tabulate_statements(ensemble, dataset_values).itertuples(index=False):
        rows.append(make_result(f"ensemble.statement_{r.id}.total.pct", r.pct,
                                "% of reconstructions in which the statement holds"))
    return rows


# ----------------------------------------------------------------------------- markers
def undetermined_intervals(summary: pd.DataFrame) -> dict[str, tuple[float, float]]:
    """Key -> (2.5 %, 97.5 %) interval of every key classed *not determined*."""
    rows = summary[summary["class"] == "not determined"]
    return {r.key: (float(r.p2_5), float(r.p97_5)) for r in rows.itertuples(index=False)}


# ----------------------------------------------------------------------------- layouts
def _interval(low: float, high: float, key: str) -> str:
    return f"{format_value(key, low)} to {format_value(key, high)}"


def layout_classes(summary: pd.DataFrame) -> PaperTable:
    """Keys per artefact and class, as a book table."""
    table = tabulate_classes(summary)
    rows = [Row(r["artefact"], [str(int(r[c])) for c in (*CLASSES, "total")]) for r in table.to_dict("records")]
    totals = table[[*CLASSES, "total"]].sum()
    rows.append(Row("All results", [str(int(totals[c])) for c in (*CLASSES, "total")]))
    return PaperTable("Artefact (key prefix)", [("", [c.capitalize() for c in CLASSES] + ["Keys"])], rows,
                      ["Published: printed in the article and reproduced by every reconstruction by construction. "
                       "Determined: every reconstruction prints the same value at the book's precision. "
                       "Conclusion determined: a p-value on the same side of 0.05 in every reconstruction. "
                       "Not determined: anything else."])


def layout_statements(statements: pd.DataFrame, n_ok: int) -> PaperTable:
    """The qualitative statements with the share of reconstructions in which each holds."""
    rows = []
    for r in statements.to_dict("records"):
        mine = {True: "yes", False: "no", None: MISSING}[r["this_dataset"]]
        rows.append(Row(r["claim"], [r["where"], r["rule"], f"{r['holds']} of {r['n']} ({format_number(r['pct'], 1)}%)",
                                     mine]))
    return PaperTable("The article says (our wording)", [("", ["Where", "Checked as", "Holds in reconstructions",
                                                               "Holds in this build's dataset"])], rows,
                      [f"Shares over the {n_ok} reconstructions that reproduce every published value."])


def layout_assumptions(manifest: dict) -> PaperTable:
    table = tabulate_assumptions(manifest)
    rows = [Row(r["assumption"], [r["meaning"], f"{r['low']:g} to {r['high']:g} ({r['scale']})", f"{r['shipped']:g}"])
            for r in table.to_dict("records")]
    return PaperTable("Assumption", [("", ["What it decides", "Drawn from", "Shipped cohort"])], rows)


def layout_intervals(summary: pd.DataFrame, pattern: str, label) -> PaperTable:
    """Median and 2.5-97.5 % interval over the reconstructions of the keys matching ``pattern``;
    ``label(key)`` names each row."""
    table = tabulate_intervals(summary, pattern)
    rows = [Row(label(r["key"]), [format_value(r["key"], r["median"]), _interval(r["p2_5"], r["p97_5"], r["key"]),
                                  r["class"]]) for r in table.to_dict("records")]
    return PaperTable("Result", [("", ["Median", "2.5 % to 97.5 %", "Class"])], rows)


ITEM_LABELS = {"remission": "Remission", "low": "Low activity", "moderate": "Moderate activity",
               "high": "High activity", "delta_das28_esr": "Change in DAS28-ESR", "delta_haq_di": "Change in HAQ-DI"}
STAT_LABELS = {"pct": "%", "diff": "difference", "p": "p"}


def describe_key(key: str) -> str:
    """A readable row label for a cluster or mixed-model key.

    Examples
    --------
    >>> describe_key("clusters.low.msc_ifng.year3.pct")
    'Low activity, MSCs + IFN-γ, month 36 (year 3), %'
    >>> describe_key("longitudinal.delta_haq_di.year5.p")
    'Change in HAQ-DI, month 60 (year 5), p'
    """
    parts = key.split(".")
    arm = [ARM_COLUMN_LABELS[p] for p in parts[2:-1] if p in ARM_COLUMN_LABELS]
    visit = [visit_display(p).lower() for p in parts[2:-1] if p not in ARM_COLUMN_LABELS]
    return ", ".join([ITEM_LABELS.get(parts[1], parts[1]), *arm, *visit, STAT_LABELS.get(parts[-1], parts[-1])])


def stale_notice(ensemble: Ensemble) -> str:
    """A warning (MyST admonition) when the stored ensemble no longer matches; else empty."""
    if not ensemble.stale:
        return ""
    reasons = "; ".join(ensemble.stale)
    return (":::{warning}\nThe stored reconstruction ensemble is **stale**: " + reasons
            + ". Its numbers may no longer be those the current code would give; run `make ensemble`.\n:::")


#: What a marker after a value that is not determined links to and says.
MARK = "‡"
MARK_PAGE = "generated/ensemble"


def marks_for_dataset(synthetic: bool, directory: str | Path = paths.ENSEMBLE) -> dict[str, tuple[float, float]]:
    """The not-determined intervals to mark on the pages of a build, or ``{}``.

    Only a synthetic dataset is marked: the ensemble says how far the published numbers pin
    down a *reconstruction*; a real dataset's numbers are the trial's, whatever the ensemble says.
    """
    if not synthetic or not (Path(directory) / "summary.csv").is_file():
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
    """``registry`` (frame or dict) as a :class:`analysis.presentation.MarkedRegistry` whose
    tables mark the values the published numbers do not determine (none for a real dataset)."""
    values = registry if isinstance(registry, dict) else dict(zip(registry["key"], registry["value"]))
    return MarkedRegistry(values, marks_for_dataset(synthetic, directory))


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
    if stat == "sd" and ".pct" not in key and artefact == "table3" and "delta" not in key:
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
    if not synthetic or not path.is_file():
        return reproduction
    targeted = set(pd.read_csv(path, dtype=str)["key"])
    out = reproduction.copy()
    out["construction"] = ["targeted" if k in targeted else describe_derivation(k) for k in out["key"]]
    return out
