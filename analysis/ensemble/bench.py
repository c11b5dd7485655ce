"""Ensemble throughput benchmark (``make bench`` runs it after :mod:`analysis.bench`).

Runs the same ``N`` reconstructions (default 8) on a ``LocalCluster`` of 1 worker, then of 2
workers, each from an empty work folder, and reports reconstructions per minute, the parallel
efficiency ``(T1 / T2) / 2``, the peak resident memory of a worker and the mean time per
reconstruction split into generation, contract check and comparison, and analysis. Writes
``_build/bench/ensemble.json`` and ``ensemble.md``. Figures depend on the machine and its load:
they are measured, never asserted.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

from analysis import paths
from analysis.ensemble.engine import run_ensemble

OUT = paths.BUILD / "bench"


def bench_ensemble(n: int = 8, workers=(1, 2), root_seed: int = 20250617, log=print) -> dict:
    rows = []
    for w in workers:
        with tempfile.TemporaryDirectory(prefix="ensemble-bench-") as tmp:
            started = time.perf_counter()
            run = run_ensemble(n, root_seed, out=Path(tmp) / "out", work=Path(tmp) / "work", workers=w,
                               progress=False, log=lambda *_: None)
            wall = time.perf_counter() - started
        timings = run.timings
        rows.append({"workers": w, "n": n, "wall_s": round(wall, 1), "per_minute": round(60 * n / wall, 2),
                     "peak_rss_mb": round(max(t["peak_rss_mb"] for t in timings), 0),
                     **{f"{k}_s": round(statistics.mean(t[k] for t in timings), 2)
                        for k in ("generation", "check", "analysis")}})
        log(f"ensemble bench: {w} worker(s): {n} reconstructions in {wall:.1f} s "
            f"({rows[-1]['per_minute']} per minute), peak worker RSS {rows[-1]['peak_rss_mb']:.0f} MB")
    base = rows[0]["wall_s"]
    for r in rows:
        r["speedup"] = round(base / r["wall_s"], 2)
        r["efficiency"] = round(base / r["wall_s"] / r["workers"], 2)
    return {"rows": rows, "cpus": os.cpu_count(), "load_before": os.getloadavg()[0]}


def render_markdown(result: dict) -> str:
    lines = ["| workers | reconstructions | wall (s) | per minute | speed-up | efficiency | peak worker RSS (MB) "
             "| generation (s) | check (s) | analysis (s) |", "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]
    for r in result["rows"]:
        lines.append(f"| {r['workers']} | {r['n']} | {r['wall_s']} | {r['per_minute']} | {r['speedup']} | {r['efficiency']} "
                     f"| {r['peak_rss_mb']:.0f} | {r['generation_s']} | {r['check_s']} | {r['analysis_s']} |")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m analysis.ensemble.bench", description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=8, help="reconstructions per run (default 8)")
    parser.add_argument("--workers", default="1,2", help="worker counts to compare (default 1,2)")
    args = parser.parse_args(argv)
    result = bench_ensemble(args.n, tuple(int(w) for w in args.workers.split(",")))
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "ensemble.json").write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    (OUT / "ensemble.md").write_text(render_markdown(result), encoding="utf-8")
    print(render_markdown(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
