"""Command line: ``python -m analysis COMMAND``.

Commands
--------
validate [DIR]
    Check a dataset against the data contract (``data/README.md``). ``DIR`` defaults
    to :func:`analysis.paths.dataset_dir` (``$ANALYSIS_DATA_DIR``, else the synthetic
    cohort). Prints ``valid: DIR (N subjects, ...)`` and exits 0, or prints the report
    to stderr, prefixed ``invalid dataset DIR:``, and exits 2.
import DIR --out OUT
    Read a dataset in any supported format (``.csv``, ``.parquet``, ``.xlsx``, ``.sav``,
    ``.dta``, ``.xpt``, ``.sas7bdat``, with an optional ``mapping.yml``), validate it and
    write the contract's four CSV files into ``OUT`` (which must not exist, or be empty);
    then report the contract columns the data lack and the results that depend on them.
    Exit 0, or 2 for an invalid dataset (nothing is written).
verify [DIR]
    Compute every result from the dataset, compare each published value with it, write
    ``_build/results/results.csv`` and ``reproduction.csv``, print the summary ending in
    ``verify: N of M published values reproduced``. Exit 0 when every published value
    matches or is documented, 1 when any mismatches or is missing, 2 for an invalid dataset.
    A verification of exactly the same inputs as a stored one (dataset files, analysis code,
    published values, lock: :mod:`analysis.build.verifycache`) publishes the stored files and
    report instead of computing them; ``--recompute`` computes them again.

Each command is one ``_cmd_*`` function registered in :func:`build_parser`; it returns
the exit status. Each imports the modules it needs when it runs, so that ``verify`` served
from its cache does not import the statistics (about a second of the command's two).
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from analysis.build.verifycache import replay_verification, verify_key
from analysis.paths import dataset_dir

#: Exit status for a dataset that breaks the contract (argparse uses 2 for bad usage too).
EXIT_INVALID = 2


def _cmd_validate(args: argparse.Namespace) -> int:
    """Validate a dataset directory; print a one-line summary or the full report."""
    from analysis.contract import DataContractError, load_dataset
    from analysis.crosswalk import summarise_uncollected

    # An explicit DIR is a command-line path, so relative to the working directory;
    # without one, dataset_dir() applies the build's rule ($ANALYSIS_DATA_DIR, default).
    explicit = None if args.directory is None else Path(args.directory).absolute()
    directory = dataset_dir(explicit)
    try:
        ds = load_dataset(directory)
    except DataContractError as err:
        print(f"invalid dataset {directory}:\n{err}", file=sys.stderr)
        return EXIT_INVALID
    print(
        f"valid: {directory} ({len(ds.subjects)} subjects, {len(ds.visits)} visits, "
        f"{len(ds.adverse_events)} adverse events, "
        f"{len(ds.medications)} medication intervals)"
    )
    for file, columns in summarise_uncollected(ds).items():  # what it costs: `import` says
        print(f"not collected: {file}: {', '.join(columns)}")
    return 0


def _cmd_import(args: argparse.Namespace) -> int:
    """Convert a dataset to the contract's four CSV files, and say what it lacks."""
    from analysis.contract import DataContractError, load_dataset
    from analysis.dataset_io import write_contract_csv
    from analysis.pipeline import report_uncollected

    directory = Path(args.directory).absolute()
    out = Path(args.out).absolute()
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        print(f"import: {out} exists and is not an empty directory; choose a new one", file=sys.stderr)
        return EXIT_INVALID
    try:
        ds = load_dataset(directory)
    except DataContractError as err:
        print(f"invalid dataset {directory}:\n{err}", file=sys.stderr)
        return EXIT_INVALID
    written = write_contract_csv(ds, out)
    load_dataset(out)  # what was written is itself a valid dataset (raises otherwise)
    print(f"imported: {directory} -> {out} ({', '.join(p.name for p in written)})")
    for line in report_uncollected(ds):
        print(line)
    return 0


def _cmd_verify(args: argparse.Namespace) -> int:
    """Published versus reproduced, number by number (see :mod:`analysis.verify`)."""
    explicit = None if args.directory is None else Path(args.directory).absolute()
    key = verify_key(dataset_dir(explicit))
    if not args.recompute:
        status = replay_verification(key)
        if status is not None:
            return status
    from analysis.pipeline import run_verify

    return run_verify(explicit, cache_key=key)


def build_parser() -> argparse.ArgumentParser:
    """The ``python -m analysis`` parser, one subparser per command."""
    parser = argparse.ArgumentParser(prog="python -m analysis", description=__doc__.split("\n")[0])
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    validate = commands.add_parser(
        "validate",
        help="check a dataset against the data contract (data/README.md)",
        description="Check a dataset directory against the data contract. Exit status: "
        "0 valid, 2 invalid (the report, one line per violation, goes to stderr).",
    )
    validate.add_argument(
        "directory", nargs="?", default=None, metavar="DIR",
        help="dataset directory (default: $ANALYSIS_DATA_DIR, else data/synthetic)",
    )
    validate.set_defaults(func=_cmd_validate)

    imported = commands.add_parser(
        "import",
        help="convert a dataset (SPSS, Stata, SAS, Excel, Parquet, CSV + mapping.yml) to the contract's CSV files",
        description="Validate a dataset in any supported format and write the contract's four CSV files. "
        "Exit status: 0 written, 2 invalid dataset or OUT not empty.",
    )
    imported.add_argument("directory", metavar="DIR", help="dataset directory")
    imported.add_argument("--out", required=True, metavar="OUT", help="new directory for the four CSV files")
    imported.set_defaults(func=_cmd_import)

    verify = commands.add_parser(
        "verify",
        help="say which published numbers the dataset reproduces",
        description="Compare every published value with the one computed from a dataset. Exit "
        "status: 0 all reproduced (or documented), 1 a mismatch or missing value, 2 invalid dataset.",
    )
    verify.add_argument("directory", nargs="?", default=None, metavar="DIR",
                        help="dataset directory (default: $ANALYSIS_DATA_DIR, else data/synthetic)")
    verify.add_argument("--recompute", action="store_true",
                        help="compute every result even when a verification of the same inputs is stored")
    verify.set_defaults(func=_cmd_verify)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the command line; return the exit status."""
    args = build_parser().parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
