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
from analysis.presentation.layouts import ARM_COLUMN_LABELS, PaperTable, Row, visit_display
from analysis.printing import MISSING, format_number, format_value
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
    paths.check_source(directory)
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
                                                               "Holds in the dataset of this build"])], rows,
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


def show_stale_notice(ensemble: Ensemble):
    """What the ensemble page displays of :func:`stale_notice`: the warning, or nothing at all (an
    empty Markdown output would print its Python name in the HTML)."""
    from IPython.display import Markdown

    notice = stale_notice(ensemble)
    return Markdown(notice) if notice else None
