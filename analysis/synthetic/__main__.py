"""Command line: ``python -m analysis.synthetic --seed 20250617 --out data/synthetic``.

Generates the cohort, writes it to a temporary folder next to ``--out``, loads it through the
data contract and compares every published value; only when everything prints as published
(apart from the values no dataset of this form can print, listed in the README) are the files
moved into ``--out``. Exit status 0 on success, 1 when a published value is not reproduced
(the keys are named), 2 when the generator cannot build a cohort.
"""
from __future__ import annotations

import argparse
import os
import shutil
import sys
import time
from pathlib import Path

from analysis.synthetic.generate import DEFAULT_SEED, check_cohort, generate_cohort, write_tables
from analysis.synthetic.moments import MomentsNotReached
from analysis.synthetic.readme import write_readme
from analysis.synthetic.schedule import GenerationError


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m analysis.synthetic",
                                     description="Generate the synthetic cohort (data contract CSVs + README).")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED, help=f"random seed (default {DEFAULT_SEED})")
    parser.add_argument("--out", type=Path, default=Path("data/synthetic"), help="output folder")
    parser.add_argument("--no-check", action="store_true",
                        help="skip the comparison with the published registry (faster; for experiments)")
    return parser


def run(seed: int, out: Path, check: bool = True, stream=sys.stdout) -> int:
    """Generate, check and write; returns the exit status."""
    started = time.perf_counter()
    try:
        cohort = generate_cohort(seed)
    except (GenerationError, MomentsNotReached) as err:
        print(f"synthetic: cannot generate a cohort for seed {seed}: {err}", file=sys.stderr)
        return 2
    out = out.absolute()
    staging = out.parent / f".{out.name}.staging-{os.getpid()}"
    if staging.exists():
        shutil.rmtree(staging)
    try:
        files = write_tables(cohort, staging)
        if check:
            result = check_cohort(staging)
            if not result.ok:
                print(f"synthetic: seed {seed}: {len(result.failures)} published value(s) not reproduced:",
                      file=sys.stderr)
                for key, (published, reproduced) in sorted(result.failures.items()):
                    print(f"  {key}: published {published}, reproduced {reproduced or '(not computed)'}",
                          file=sys.stderr)
                return 1
        write_readme(cohort, staging, files)
        out.mkdir(parents=True, exist_ok=True)
        for path in sorted(staging.iterdir()):
            os.replace(path, out / path.name)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    elapsed = time.perf_counter() - started
    sizes = ", ".join(f"{len(f)} {name.removesuffix('.csv')}" for name, f in cohort.frames().items())
    print(f"synthetic: seed {seed}: {sizes} written to {out} in {elapsed:.1f} s", file=stream)
    if check:
        print(f"synthetic: {result.matched} of {result.total - result.documented} published values "
              f"reproduced ({result.documented} documented in the registry)", file=stream)
    return 0


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return run(args.seed, args.out, check=not args.no_check)


if __name__ == "__main__":
    sys.exit(main())
