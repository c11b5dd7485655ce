"""Dataset in, results registry and reproduction report out: what ``make verify`` runs."""
from __future__ import annotations

import dataclasses
import sys
from pathlib import Path

import pandas as pd

from analysis import paths
from analysis.build.lock import LOCK_FILE, acquire_build_lock
from analysis.build.verifycache import SOURCES, store_verification
from analysis.contract import DataContractError, load_dataset
from analysis.crosswalk import summarise_uncollected
from analysis.dataset_io import table_name
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


def run_verify(data_dir: str | Path | None = None, results_dir: Path = paths.RESULTS,
               lock_path: Path = LOCK_FILE, cache_key: str | None = None) -> int:
    """Validate the dataset, compute every result, compare with the published registry.

    Writes ``results.csv`` and ``reproduction.csv`` to ``results_dir``, prints the summary and
    returns the exit status: 0 when every published value matches or is documented, 1 when any
    is a mismatch or missing, 2 when the dataset breaks the data contract (nothing is written).
    The files are written under the checkout's build lock (``lock_path``), which a book build
    holds while it publishes the same registry: ``make verify`` during a build waits for it.
    With ``cache_key`` (:func:`analysis.build.verifycache.verify_key` of the dataset), a valid
    dataset's verification is stored under it; while computing, reading a repository source
    other than :data:`analysis.build.verifycache.SOURCES` raises (the key covers only those).
    """
    directory = paths.dataset_dir(data_dir)
    try:
        dataset = load_dataset(directory)
    except DataContractError as err:
        print(f"invalid dataset {directory}:\n{err}", file=sys.stderr)
        return 2
    paths.declare_sources(SOURCES, run="verify")
    try:
        results = compute_results(dataset)
        published = load_published()
        reproduction = build_reproduction(published, results)
        # The same registry the book writes: the results, the report pages' and the ensemble page's rows.
        registry = compute_book_results(dataset, published, results)
    finally:
        paths.declare_sources(None)
    report = f"dataset: {directory}\n{summarise_reproduction(reproduction)}\n"
    status = 1 if reproduction["status"].isin(["mismatch", "missing"]).any() else 0
    lock = acquire_build_lock(lock_path, log=lambda message: print(message, file=sys.stderr))
    try:
        write_results(registry, results_dir / "results.csv")
        tmp = results_dir / "reproduction.csv.tmp"
        reproduction.to_csv(tmp, index=False, lineterminator="\n")
        tmp.replace(results_dir / "reproduction.csv")
        if cache_key is not None:  # under the lock: the files stored are the ones just written
            store_verification(cache_key, results_dir, report, status)
    finally:
        lock.release()
    print(report, end="")
    return status


def compute_affected_results(uncollected: dict[str, list[str]]) -> pd.DataFrame:
    """The results that depend on the given columns: the shipped synthetic cohort is
    analysed twice, as it is and with those columns emptied, and every registry value that
    changes (or can no longer be computed) is listed with its artefact.

    Measured, not declared: the list follows the analysis code as it is. Returns the
    registry rows (``key``, ``artefact``, ``value`` on the full cohort, ``without``).
    """
    full = load_dataset(paths.SYNTHETIC)
    emptied = {}
    for file, columns in uncollected.items():
        frame = getattr(full, table_name(file)).copy()
        for column in columns:
            frame[column] = frame[column].where(pd.Series(False, index=frame.index))
        emptied[table_name(file)] = frame
    before = compute_results(full)[["key", "artefact", "value"]]
    after = compute_results(dataclasses.replace(full, **emptied))[["key", "value"]].rename(
        columns={"value": "without"})
    both = before.merge(after, on="key", how="left")
    same = (both["value"] == both["without"]) | (both["value"].isna() & both["without"].isna())
    return both.loc[~same].reset_index(drop=True)


def report_uncollected(dataset, affected: bool = True) -> list[str]:
    """Lines of the report of what the contract needs that the data lack."""
    uncollected = summarise_uncollected(dataset)
    if not uncollected:
        return ["every contract column holds data"]
    lines = [f"not collected: {file}: {', '.join(columns)}" for file, columns in uncollected.items()]
    if affected:
        rows = compute_affected_results(uncollected)
        lines.append(f"results that cannot be computed as published without them: {len(rows)} registry values")
        for artefact, group in rows.groupby("artefact", sort=True):
            keys = group["key"].tolist()
            shown = ", ".join(keys[:3]) + (f" and {len(keys) - 3} more" if len(keys) > 3 else "")
            lines.append(f"  {artefact}: {shown}")
    return lines
