"""Helpers of the robustness tests: a throw-away copy of the repository driven through ``make``,
datasets broken in code, digests of what a build publishes, and the privacy scan.

``make verify`` and ``make book`` are what a user runs, so these tests run them, in a copy made
by :func:`book_build_support.copy_repository` plus the ``Makefile`` and a ``.venv`` symlink to
this checkout's environment (the working tree is never built into).
"""
from __future__ import annotations

import csv
import hashlib
import io
import os
import re
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from analysis import paths

sys.path.insert(0, str(paths.TESTS / "build"))
from book_build_support import copy_repository  # noqa: E402

#: Variables of an enclosing ``make test`` that must not reach the copy's ``make`` (a
#: ``DATA_DIR=...`` given to ``make test`` travels in MAKEFLAGS).
_MAKE_VARS = ("MAKEFLAGS", "MFLAGS", "MAKELEVEL", "MAKEOVERRIDES")
_ANSI = re.compile(r"\x1b\[[0-9;]*m")
#: Output that shows a notebook was planned or executed (runner, papermill, myst-nb).
EXECUTION_MARKERS = ("to execute", "[reproduce] executed", "Executing notebook", "papermill", "Executing:")


@dataclass
class MakeResult:
    """One ``make`` run in the copy: exit status, output (stdout + stderr, colours removed), wall time."""

    target: str
    returncode: int
    output: str
    seconds: float


def make_copy(target: Path) -> Path:
    """A copy of the repository that ``make`` can build: sources, datasets, Makefile, and
    ``.venv`` as a symlink whose stamp is up to date (so ``make`` never rebuilds it)."""
    root = copy_repository(target)
    shutil.copy2(paths.ROOT / "Makefile", root / "Makefile")
    (root / ".venv").symlink_to(paths.ROOT / ".venv")
    stale = subprocess.run(["make", "-q", ".venv/.installed"], cwd=root, env=make_env(), capture_output=True)
    assert stale.returncode == 0, ".venv is missing or older than requirements.lock: run `make setup` first"
    return root


def make_env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if k not in _MAKE_VARS and k != "ANALYSIS_DATA_DIR"}


def start_make(root: Path, target: str, data_dir: Path | str) -> tuple[subprocess.Popen, float]:
    proc = subprocess.Popen(["make", target, f"DATA_DIR={data_dir}"], cwd=root, env=make_env(),
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    return proc, time.perf_counter()


def finish_make(target: str, started: tuple[subprocess.Popen, float], timeout: float = 900) -> MakeResult:
    proc, start = started
    output, _ = proc.communicate(timeout=timeout)
    return MakeResult(target, proc.returncode, _ANSI.sub("", output), time.perf_counter() - start)


def run_make(root: Path, target: str, data_dir: Path | str) -> MakeResult:
    """``make TARGET DATA_DIR=data_dir`` in ``root``."""
    return finish_make(target, start_make(root, target, data_dir))


# ----------------------------------------------------------------------------- what a build publishes
def digest_tree(directory: Path) -> dict[str, str]:
    """``relative path -> SHA-256`` of every file under ``directory`` (empty if it does not exist)."""
    if not directory.is_dir():
        return {}
    return {p.relative_to(directory).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(directory.rglob("*")) if p.is_file()}


def published_state(root: Path) -> dict[str, dict[str, str]]:
    """Digests of what a build publishes: the HTML, the executed pages and the registry."""
    return {name: digest_tree(root / name) for name in ("_build/html", "book/generated", "_build/results")}


# ----------------------------------------------------------------------------- datasets broken in code
class BadDataset:
    """A writable copy of a dataset, edited cell by cell (the pattern of tests/contract's
    ``DatasetCopy``). A *line* is the CSV line as an editor shows it: header = line 1."""

    def __init__(self, directory: Path):
        self.directory = directory

    def path(self, file: str) -> Path:
        return self.directory / file

    def rows(self, file: str) -> list[list[str]]:
        with open(self.path(file), newline="", encoding="utf-8") as handle:
            return list(csv.reader(handle))

    def write_rows(self, file: str, rows: list[list[str]]) -> None:
        buffer = io.StringIO()
        csv.writer(buffer, lineterminator="\n").writerows(rows)
        self.path(file).write_text(buffer.getvalue(), encoding="utf-8")

    def line_of(self, file: str, **match: str) -> int:
        rows = self.rows(file)
        for number, row in enumerate(rows[1:], start=2):
            if all(row[rows[0].index(c)] == v for c, v in match.items()):
                return number
        raise LookupError(f"{file}: no row with {match}")

    def get(self, file: str, line: int, column: str) -> str:
        rows = self.rows(file)
        return rows[line - 1][rows[0].index(column)]

    def set(self, file: str, line: int, column: str, value: str) -> None:
        rows = self.rows(file)
        rows[line - 1][rows[0].index(column)] = value
        self.write_rows(file, rows)

    def copy_row(self, file: str, line: int, **changes: str) -> int:
        """Append a copy of row ``line`` with some cells changed; return the new line."""
        rows = self.rows(file)
        values = dict(zip(rows[0], rows[line - 1]), **changes)
        rows.append([values[c] for c in rows[0]])
        self.write_rows(file, rows)
        return len(rows)

    def delete_line(self, file: str, line: int) -> None:
        rows = self.rows(file)
        del rows[line - 1]
        self.write_rows(file, rows)

    def rename_column(self, file: str, old: str, new: str) -> None:
        rows = self.rows(file)
        rows[0][rows[0].index(old)] = new
        self.write_rows(file, rows)

    def drop_column(self, file: str, column: str) -> None:
        rows = self.rows(file)
        i = rows[0].index(column)
        self.write_rows(file, [r[:i] + r[i + 1:] for r in rows])

    def add_column(self, file: str, column: str, value: str = "") -> None:
        rows = self.rows(file)
        self.write_rows(file, [rows[0] + [column]] + [r + [value] for r in rows[1:]])


# ----------------------------------------------------------------------------- privacy scan
#: Text files of a built book that a reader can open or download.
TEXT_SUFFIXES = {".html", ".js", ".txt", ".csv", ".ipynb", ".json", ".md", ".svg", ".xml", ".inv", ".tex"}
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def published_text_files(root: Path) -> list[Path]:
    """Every text file of the built HTML (pages, search index, sources of the executed
    notebooks, downloads) and of the executed notebooks with their outputs (book/generated)."""
    files = [p for p in (root / "_build" / "html").rglob("*") if p.is_file() and p.suffix in TEXT_SUFFIXES
             and "_static" not in p.relative_to(root / "_build" / "html").parts]
    files += [p for p in (root / "book" / "generated").rglob("*") if p.is_file() and p.suffix in TEXT_SUFFIXES]
    return sorted(files)


def repository_copies(root: Path, files: list[Path]) -> list[Path]:
    """The files of ``files`` that are byte-for-byte copies of a source file of the repository
    (e.g. ``data/README.md`` offered as a download, ``book/methods.md`` as a page source). They
    are the same whatever the dataset, so they cannot carry it; a privacy scan skips them."""
    skip = {"_build", "generated", ".venv", "__pycache__"}
    sources = {hashlib.sha256(p.read_bytes()).hexdigest() for p in root.rglob("*")
               if p.is_file() and not skip & set(p.relative_to(root).parts)}
    return [p for p in files if hashlib.sha256(p.read_bytes()).hexdigest() in sources]


def date_renderings(iso: str) -> list[str]:
    """Ways a date may be printed: ISO, with slashes or dots, day-month-year and month-day-year
    (numeric), ``27 Jul 2016`` and ``Jul 27, 2016``.

    Examples
    --------
    >>> date_renderings("2016-07-05")
    ['2016-07-05', '2016/07/05', '05/07/2016', '07/05/2016', '05.07.2016', '5 Jul 2016', 'Jul 5, 2016', 'Jul 05, 2016', '05 Jul 2016']
    """
    year, month, day = iso.split("-")
    mon = _MONTHS[int(month) - 1]
    out = [iso, f"{year}/{month}/{day}", f"{day}/{month}/{year}", f"{month}/{day}/{year}", f"{day}.{month}.{year}",
           f"{int(day)} {mon} {year}", f"{mon} {int(day)}, {year}", f"{mon} {day}, {year}", f"{day} {mon} {year}"]
    return list(dict.fromkeys(out))


#: A token that may be a USUBJID (letters, digits, ``_`` and ``-``), not part of a longer one.
_TOKEN = re.compile(r"(?<![\w\-])[\w\-]+(?![\w\-])")
#: The renderings of :func:`date_renderings`, not inside a longer number; a time may follow
#: ("2016-07-05T00:00:00").
_DATE = re.compile(r"(?<![\w.\-/])(\d{4}-\d{2}-\d{2}|\d{4}/\d{2}/\d{2}|\d{2}/\d{2}/\d{4}|\d{2}\.\d{2}\.\d{4}"
                   r"|\d{1,2} [A-Z][a-z]{2} \d{4}|[A-Z][a-z]{2} \d{1,2}, \d{4})(?=T\d|[^\w\-/.]|\.(?!\d)|$)")


def find_occurrences(files: list[Path], needles: dict[str, str], root: Path,
                     allowed: set[str] = frozenset()) -> list[str]:
    """``file: needle (what it is)`` for every needle found in a file. A needle matches only
    as a whole token (not inside a longer code or number); exact strings in ``allowed`` (e.g.
    the build's own timestamps) are removed from the text first.

    Candidates are found by two generic patterns (code-like tokens, dates) and looked up in
    ``needles``, so the scan takes one pass per file whatever the number of needles; a needle of
    another shape (e.g. a USUBJID with a dot) is searched for literally.

    Examples
    --------
    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     page = Path(tmp) / "p.html"
    ...     _ = page.write_text("<td>RA-001</td><td>RA-0017</td><td>2016-07-05T00:00:00</td><td>x 2017-01-01</td>")
    ...     find_occurrences([page], {"RA-001": "USUBJID", "RA-017": "USUBJID", "2016-07-05": "ADT",
    ...                               "2017-01-01": "ADT"}, page.parent, allowed={"x 2017-01-01"})
    ["p.html: '2016-07-05' (ADT)", "p.html: 'RA-001' (USUBJID)"]
    """
    generic = {n for n in needles if _TOKEN.fullmatch(n) or _DATE.fullmatch(n)}
    others = sorted(set(needles) - generic, key=len, reverse=True)
    literal = (re.compile(r"(?<![\w.\-/])(" + "|".join(map(re.escape, others)) + r")(?=T\d|[^\w\-/.]|\.(?!\d)|$)")
               if others else None)
    found = []
    for path in files:
        text = path.read_text(encoding="utf-8", errors="replace")
        for token in allowed:
            text = text.replace(token, "")
        hits = {t for t in _TOKEN.findall(text) if t in generic} | {t for t in _DATE.findall(text) if t in generic}
        if literal is not None:
            hits |= set(literal.findall(text))
        found += [f"{path.relative_to(root).as_posix()}: {hit!r} ({needles[hit]})" for hit in sorted(hits)]
    return found
