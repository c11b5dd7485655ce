"""Build bad datasets in code: copy the minimal dataset, change one thing, expect a report.

No bad dataset is committed: each test starts from ``tests/data/minimal`` copied into
``tmp_path`` and breaks it with the helpers of :class:`DatasetCopy`, so the one change a
test makes is visible in the test itself.
"""
from __future__ import annotations

import csv
import io
import re
import shutil
from pathlib import Path

import pytest

from analysis.contract import DataContractError, load_dataset
from analysis.paths import TEST_DATASET


class DatasetCopy:
    """A writable copy of the minimal dataset, edited cell by cell.

    A ``line`` here is the record number + 1 (header = line 1, first data row = line 2):
    the line the validator reports, as long as no cell spans several lines.
    """

    def __init__(self, directory: Path):
        self.directory = directory

    # -- reading and writing whole files ------------------------------------------
    def path(self, file: str) -> Path:
        return self.directory / file

    def rows(self, file: str) -> list[list[str]]:
        """All records of ``file``, header first."""
        with open(self.path(file), newline="", encoding="utf-8") as handle:
            return list(csv.reader(handle))

    def write_rows(self, file: str, rows: list[list[str]]) -> None:
        buffer = io.StringIO()
        csv.writer(buffer, lineterminator="\n").writerows(rows)
        self.path(file).write_text(buffer.getvalue(), encoding="utf-8")

    # -- finding and changing cells -----------------------------------------------
    def line_of(self, file: str, **match: str) -> int:
        """Line of the first row whose cells equal ``match`` (column=value)."""
        rows = self.rows(file)
        header = rows[0]
        for number, row in enumerate(rows[1:], start=2):
            if all(row[header.index(col)] == value for col, value in match.items()):
                return number
        raise LookupError(f"{file}: no row with {match}")

    def get(self, file: str, line: int, column: str) -> str:
        rows = self.rows(file)
        return rows[line - 1][rows[0].index(column)]

    def set(self, file: str, line: int, column: str, value: str) -> None:
        """Write ``value`` into one cell."""
        rows = self.rows(file)
        rows[line - 1][rows[0].index(column)] = value
        self.write_rows(file, rows)

    def append(self, file: str, **values: str) -> int:
        """Append a row (unnamed columns empty); return its line."""
        rows = self.rows(file)
        rows.append([values.get(col, "") for col in rows[0]])
        self.write_rows(file, rows)
        return len(rows)

    def copy_row(self, file: str, line: int, **changes: str) -> int:
        """Append a copy of row ``line`` with some cells changed; return its line."""
        rows = self.rows(file)
        header = rows[0]
        values = dict(zip(header, rows[line - 1]))
        values.update(changes)
        return self.append(file, **values)

    def delete_rows(self, file: str, **match: str) -> int:
        """Delete every row whose cells equal ``match``; return how many."""
        rows = self.rows(file)
        header = rows[0]
        keep = [r for r in rows[1:]
                if not all(r[header.index(col)] == value for col, value in match.items())]
        self.write_rows(file, [header] + keep)
        return len(rows) - 1 - len(keep)

    def drop_column(self, file: str, column: str) -> None:
        rows = self.rows(file)
        index = rows[0].index(column)
        self.write_rows(file, [r[:index] + r[index + 1:] for r in rows])

    def add_column(self, file: str, column: str, value: str = "") -> None:
        rows = self.rows(file)
        self.write_rows(file, [rows[0] + [column]] + [r + [value] for r in rows[1:]])

    # -- expectations ------------------------------------------------------------------
    def load(self):
        return load_dataset(self.directory)

    def invalid(self) -> DataContractError:
        """Load the copy, expecting DataContractError; return it."""
        with pytest.raises(DataContractError) as info:
            load_dataset(self.directory)
        return info.value

    def assert_reported(self, file: str, column: str | None, line: int | None,
                        rule: str) -> DataContractError:
        """Expect a violation of ``rule`` at ``file``/``column``/``line``, both in the
        structured record and in the readable report; return the error."""
        err = self.invalid()
        return assert_reported(err, file, column, line, rule)


def _report_lines(err: DataContractError, file: str, column: str | None) -> list[str]:
    prefix = f"{file}: column {column}" if column is not None else file
    return [text for text in str(err).splitlines() if text.startswith(prefix)]


def _lines_in(text: str) -> list[int]:
    """The line numbers a report line lists ("line 5" / "lines 2, 3 and 4 more")."""
    found = re.match(r"^[^:]+(?:: column [^,]+)?, lines? ([\d, ]+)", text)
    return [int(x) for x in re.findall(r"\d+", found.group(1))] if found else []


def assert_reported(err: DataContractError, file: str, column: str | None,
                    line: int | None, rule: str) -> DataContractError:
    """Assert ``err`` reports ``rule`` for ``file``/``column``/``line`` (None: no line)."""
    records = [v for v in err.violations
               if v.file == file and v.column == column and rule in v.rule
               and (line is None or line in v.rows)]
    assert records, f"no Violation({file}, {column}, line {line}, {rule!r}) in:\n{err}"
    candidates = [text for text in _report_lines(err, file, column) if rule in text]
    if line is not None:
        candidates = [text for text in candidates if line in _lines_in(text)]
    assert candidates, f"report does not name {file}/{column}/line {line}/{rule!r}:\n{err}"
    return err


@pytest.fixture
def dataset(tmp_path: Path) -> DatasetCopy:
    """A fresh copy of the minimal dataset in ``tmp_path``."""
    target = tmp_path / "dataset"
    shutil.copytree(TEST_DATASET, target, ignore=shutil.ignore_patterns("README.md"))
    return DatasetCopy(target)


@pytest.fixture
def reported():
    """The :func:`assert_reported` helper, for tests that build the error themselves."""
    return assert_reported
