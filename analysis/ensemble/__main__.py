"""Command line: ``python -m analysis.ensemble [--n N] [--seed ROOT] [--scheduler ADDR] [--check]``.

Exit status: 0 on success; 1 with ``--check`` when the stored ensemble is stale (its manifest no
longer matches the code or the published registry) or when reconstructions failed and
``--strict`` is given; 2 on a usage or set-up error.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from analysis import paths
from analysis.ensemble.digest import stale_reasons
from analysis.ensemble.engine import run_ensemble
from analysis.ensemble.store import read_manifest

#: The default ensemble (``make ensemble``): its size and root seed.
DEFAULT_N = 200
DEFAULT_ROOT_SEED = 20250617


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m analysis.ensemble", description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=DEFAULT_N, help=f"reconstructions (default {DEFAULT_N})")
    parser.add_argument("--seed", type=int, default=DEFAULT_ROOT_SEED, help=f"root seed (default {DEFAULT_ROOT_SEED})")
    parser.add_argument("--out", type=Path, default=paths.ENSEMBLE, help="output folder (default data/ensemble)")
    parser.add_argument("--work", type=Path, default=None, help="folder of the resumable parts (default _build/ensemble-work)")
    parser.add_argument("--scheduler", default=None,
                        help="address of a Dask scheduler (default: $DASK_SCHEDULER_ADDRESS, else a local cluster)")
    parser.add_argument("--workers", type=int, default=None, help="workers of the local cluster (default: CPUs)")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    parser.add_argument("--strict", action="store_true", help="exit 1 if any reconstruction failed")
    parser.add_argument("--check", action="store_true",
                        help="only check that the stored ensemble in --out matches the code and the registry")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.check:
        manifest_path = args.out / "manifest.json"
        if not manifest_path.is_file():
            print(f"ensemble: no ensemble in {args.out} (run `make ensemble`)", file=sys.stderr)
            return 1
        reasons = stale_reasons(read_manifest(args.out))
        if reasons:
            print(f"ensemble: {args.out} is stale: " + "; ".join(reasons) + " (run `make ensemble`)", file=sys.stderr)
            return 1
        print(f"ensemble: {args.out} matches the code and the published registry")
        return 0
    if args.n < 1:
        print("ensemble: --n must be at least 1", file=sys.stderr)
        return 2
    run = run_ensemble(args.n, args.seed, out=args.out, work=args.work, scheduler=args.scheduler,
                       workers=args.workers, progress=not args.no_progress)
    return 1 if args.strict and run.manifest["failed"] else 0


if __name__ == "__main__":
    sys.exit(main())
