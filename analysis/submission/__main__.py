"""``python -m analysis.submission docx|jats|bundle``: see :mod:`analysis.submission`."""
from __future__ import annotations

import argparse
import sys

from analysis.submission import bundle, manuscript


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m analysis.submission", description=__doc__)
    parser.add_argument("what", choices=("docx", "jats", "bundle"))
    args = parser.parse_args(argv)
    try:
        if args.what == "docx":
            written = [manuscript.write_docx(stem) for stem in manuscript.DOCUMENTS]
        elif args.what == "jats":
            written = [manuscript.write_jats("paper")]
        else:
            written = [bundle.write_bundle()]
    except manuscript.SubmissionError as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    for path in written:
        print(f"{args.what}: {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
