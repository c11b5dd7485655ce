"""One reconstruction, as a Dask task: generate, check against the published registry, compute.

The task writes the cohort to a temporary folder and reads it back through the data contract,
as ``make data`` does, so a reconstruction is checked exactly like the shipped one. It returns
small, plain values (per-key numbers and a Kaplan-Meier grid), never the cohort.
"""
from __future__ import annotations

import math
import resource
import tempfile
import time
from pathlib import Path

import numpy as np

from analysis.contract import load_dataset
from analysis.durability import DURABILITY_ENDPOINTS, derive_durability, fit_durability
from analysis.ensemble.plan import ReconstructionSpec
from analysis.populations import ARMS
from analysis.synthetic.generate import check_results, generate_cohort, write_tables
from analysis.synthetic.moments import MomentsNotReached
from analysis.synthetic.schedule import GenerationError
from analysis.synthetic.targets import Targets
from analysis.tables import compute_results

#: Months since the first response at which each Kaplan-Meier curve is stored (ensemble bands).
CURVE_MONTHS: tuple[int, ...] = tuple(range(0, 73))
#: Significant digits kept of every stored value: far beyond any printed precision, and coarse
#: enough that the last-bit noise of a BLAS summation order cannot change a stored byte.
SIGNIFICANT_DIGITS = 12


def stored_value(value: float) -> float:
    """A value as the ensemble stores it (NaN kept; 12 significant digits).

    Examples
    --------
    >>> stored_value(0.1 + 0.2), stored_value(float("nan")) != stored_value(float("nan"))
    (0.3, True)
    """
    value = float(value)
    return value if not math.isfinite(value) else float(f"{value:.{SIGNIFICANT_DIGITS}g}")


def summarise_km_grid(dataset, months=CURVE_MONTHS, population: str = "completers") -> list[list]:
    """Kaplan-Meier share still responding (percent) on a month grid, per endpoint and arm.

    Rows ``[endpoint, arm code, month, percent]``; past an arm's last observed duration the
    curve is not extrapolated (no row), as :func:`analysis.durability.summarise_durability`
    leaves those horizons empty.
    """
    durations = derive_durability(dataset, population)
    rows = []
    for endpoint in DURABILITY_ENDPOINTS:
        data = durations[durations["PARAMCD"] == endpoint]
        fits = fit_durability(data)
        for arm, code in ARMS.items():
            if arm not in fits:
                continue
            last = float(data.loc[data["ARM"] == arm, "AVAL"].max())
            grid = [m for m in months if m <= last]
            values = np.asarray(fits[arm].predict(grid), dtype=float).reshape(-1) if grid else []
            rows += [[endpoint, code, int(m), stored_value(100 * v)] for m, v in zip(grid, values)]
    return rows


def run_reconstruction(spec: ReconstructionSpec) -> dict:
    """Generate, check and analyse one reconstruction; a plain dict for the part file.

    ``status`` is ``ok``, or ``failed`` with the ``reason`` (the generator could not build the
    cohort, or a published value is not reproduced: the keys are listed). ``timings`` (seconds
    of generation, contract check and comparison, analysis) are for benchmarks only and are
    not part of the ensemble's stored output.
    """
    record = {"index": spec.index, "seed": spec.seed, "assumptions": spec.assumptions.as_dict(),
              "status": "ok", "reason": "", "values": {}, "curves": [], "targeted": [], "timings": {}}
    started = time.perf_counter()
    targets = Targets()
    try:
        cohort = generate_cohort(spec.seed, targets=targets, assumptions=spec.assumptions)
    except (GenerationError, MomentsNotReached) as err:
        record.update(status="failed", reason=f"generator: {err}")
        return record
    generated = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="reconstruction-") as tmp:
        write_tables(cohort, Path(tmp))
        dataset = load_dataset(tmp)
    loaded = time.perf_counter()
    results = compute_results(dataset)
    analysed = time.perf_counter()
    check = check_results(results)
    checked = time.perf_counter()
    if not check.ok:
        shown = ", ".join(f"{k} (published {p}, got {r or 'nothing'})" for k, (p, r) in sorted(check.failures.items())[:5])
        more = f" and {len(check.failures) - 5} more" if len(check.failures) > 5 else ""
        record.update(status="failed", reason=f"{len(check.failures)} published value(s) not reproduced: {shown}{more}")
        return record
    record["values"] = {k: stored_value(v) for k, v in zip(results["key"], results["value"])}
    record["targeted"] = sorted(targets.consulted)
    record["curves"] = summarise_km_grid(dataset)
    finished = time.perf_counter()
    record["timings"] = {"generation": generated - started, "check": (loaded - generated) + (checked - analysed),
                         "analysis": (analysed - loaded) + (finished - checked),
                         # peak resident memory of the worker process so far (Linux: KiB)
                         "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}
    return record
