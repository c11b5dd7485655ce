"""Dataset in, results registry and reproduction report out: what ``make verify`` runs."""
from __future__ import annotations

import sys
from pathlib import Path

from analysis import paths
from analysis.contract import DataContractError, load_dataset
from analysis.ensemble.report import load_ensemble, registry_ensemble
from analysis.published import load_published
from analysis.reports import compute_report_results
from analysis.results import results_frame, write_results
from analysis.tables import compute_results
from analysis.verify import build_reproduction, summarise_reproduction


def compute_book_results(dataset, published=None, results=None):
    """Every value of the book's results registry: :func:`analysis.tables.compute_results`, the
    report pages' rows (:func:`analysis.reports.compute_report_results`) and the rows of the
    reconstruction-ensemble page (:func:`analysis.ensemble.report.registry_ensemble`)."""
    published = load_published() if published is None else published
    results = compute_results(dataset) if results is None else results
    report = compute_report_results(dataset, published, results)
    ensemble = registry_ensemble(load_ensemble(), dict(zip(results["key"], results["value"])))
    return results_frame([*results.to_dict("records"), *report.to_dict("records"), *ensemble])


def run_verify(data_dir: str | Path | None = None, results_dir: Path = paths.RESULTS) -> int:
    """Validate the dataset, compute every result, compare with the published registry.

    Writes ``results.csv`` and ``reproduction.csv`` to ``results_dir``, prints the summary and
    returns the exit status: 0 when every published value matches or is documented, 1 when any
    is a mismatch or missing, 2 when the dataset breaks the data contract (nothing is written).
    """
    directory = paths.dataset_dir(data_dir)
    try:
        dataset = load_dataset(directory)
    except DataContractError as err:
        print(f"invalid dataset {directory}:\n{err}", file=sys.stderr)
        return 2
    results = compute_results(dataset)
    published = load_published()
    reproduction = build_reproduction(published, results)
    # The same registry the book writes: the results, the report pages' and the ensemble page's rows.
    write_results(compute_book_results(dataset, published, results), results_dir / "results.csv")
    tmp = results_dir / "reproduction.csv.tmp"
    reproduction.to_csv(tmp, index=False, lineterminator="\n")
    tmp.replace(results_dir / "reproduction.csv")
    print(f"dataset: {directory}")
    print(summarise_reproduction(reproduction))
    bad = reproduction["status"].isin(["mismatch", "missing"]).any()
    return 1 if bad else 0
