"""The pyarrow reader of contract CSV files gives exactly what the text reader gives.

``dataset_io.read_csv_text`` reads a plain file with pyarrow (each column coded as a
``Categorical``) and anything else with pandas as text, as it always did. These tests
read the same bytes both ways (the text way by switching the fast reader off) and
compare: frames, line numbers, header, and the loaded dataset. Test N: behaviour.
"""
from __future__ import annotations

import shutil

import numpy as np
import pandas as pd
import pytest

from analysis import dataset_io
from analysis.contract import DataContractError, load_dataset
from analysis.paths import SYNTHETIC, TEST_DATASET


def _read(tmp_path, content: bytes, fast: bool, monkeypatch) -> tuple:
    path = tmp_path / "visits.csv"
    path.write_bytes(content)
    with monkeypatch.context() as patch:
        if not fast:
            patch.setattr(dataset_io, "_read_csv_coded", lambda *args: None)
        found = []
        read = dataset_io.read_csv_text(path, "visits.csv", found, coded=True)
    return read, found


def _as_text(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.astype(object)


# Files the fast reader takes: every one must come out as the text reader reads it.
PLAIN = {
    "lf": b"A,B,C\n1,x,\n2,,2016-01-05\n",
    "crlf": b"A,B,C\r\n1,x,\r\n2,,2016-01-05\r\n",
    "no final newline": b"A,B,C\n1,x,\n2,y,z",
    "blank lines": b"A,B,C\n\n1,x,\n\r\n2,y,z\n\n",
    "byte-order mark": b"\xef\xbb\xbfA,B,C\n1,x,\n",
    "header only": b"A,B,C\n",
    "repeated names": b"A,B,A\n1,2,3\n",
    "spaces and unicode": b"A,B,C\n 1 ,\xc3\xa9t\xc3\xa9,  \n",
    "quoted cells": b'A,B,C\n"1,5",x,"say ""hi"""\n"a\nb",,""\n3,"",z\n',
    "quoted crlf": b'A,B,C\r\n"a\r\nb",x,"q"\r\n',
    "one column": b"A\n1\n\n2\n",
}


# Test 1: a plain file is read by pyarrow, and cell for cell as the text reader reads it.
@pytest.mark.parametrize("name", PLAIN)
def test_plain_file_reads_as_text_reader(tmp_path, monkeypatch, name):
    (fast, fast_found), (slow, slow_found) = (_read(tmp_path, PLAIN[name], f, monkeypatch)
                                              for f in (True, False))
    assert fast_found == slow_found == []
    assert all(isinstance(t, pd.CategoricalDtype) for t in fast[0].dtypes)  # the fast path ran
    assert _as_text(fast[0]).equals(slow[0]) and list(fast[0].columns) == list(slow[0].columns)
    np.testing.assert_array_equal(fast[1], slow[1])
    assert fast[1].dtype == slow[1].dtype == np.int64
    assert fast[2] == slow[2]


# Test 2: files pyarrow might split differently are left to the text reader.
@pytest.mark.parametrize("content", [
    b"A,B\n1,a\rb\n",  # a carriage return that ends no line
    b"A,B\n1,a\x00b\n",  # a NUL byte
    b'A,B\n1,a"b"\n',  # a quote inside an unquoted cell
    b'A,B\n1,"a"b\n',  # text after a closing quote
], ids=["lone CR", "NUL", "quote in cell", "text after quote"])
def test_unusual_file_falls_back(content):
    header = content.split(b"\n", 1)[0].decode().split(",")
    blank = np.zeros(content.count(b"\n"), dtype=bool)
    assert dataset_io._read_csv_coded(content, header, blank) is None


# Test 3: a ragged row is refused by pyarrow, then reported exactly as the text reader does.
def test_ragged_row_report_unchanged(tmp_path, monkeypatch):
    content = b"A,B,C\n1,2,3\n4,5\n6,7,8,9\n"
    (fast, fast_found), (slow, slow_found) = (_read(tmp_path, content, f, monkeypatch)
                                              for f in (True, False))
    assert fast is None and slow is None
    assert [str(v) for v in fast_found] == [str(v) for v in slow_found]
    assert fast_found[0].rows == (3, 4)


def _load_both(directory, monkeypatch):
    fast = load_dataset(directory)
    with monkeypatch.context() as patch:
        patch.setattr(dataset_io, "_read_csv_coded", lambda *args: None)
        slow = load_dataset(directory)
    return fast, slow


# Test 4: the loaded datasets are equal, values and dtypes, whichever reader read them.
@pytest.mark.parametrize("directory", [TEST_DATASET, SYNTHETIC], ids=["minimal", "synthetic"])
def test_loaded_dataset_identical(directory, monkeypatch):
    fast, slow = _load_both(directory, monkeypatch)
    for name in ("subjects", "visits", "adverse_events", "medications"):
        a, b = getattr(fast, name), getattr(slow, name)
        assert a.equals(b), name
        assert a.dtypes.astype(str).tolist() == b.dtypes.astype(str).tolist(), name
        for column in a.select_dtypes(object).columns:  # text stays str, missing stays NaN
            assert a[column].map(type).equals(b[column].map(type)), (name, column)


# Test 5: an invalid dataset gets the same report, line for line, from either reader.
def test_invalid_dataset_same_report(tmp_path, monkeypatch):
    directory = tmp_path / "d"
    shutil.copytree(TEST_DATASET, directory)
    path = directory / "visits.csv"
    text = path.read_text(encoding="utf-8").splitlines()
    header = text[0].split(",")
    cells = text[2].split(",")
    cells[header.index("ESR")] = "fast"  # not a number
    cells[header.index("TJC28")] = "99"  # above TJC68 and out of range
    text[2] = ",".join(cells)
    path.write_text("\n".join(text) + "\n", encoding="utf-8")
    reports = []
    for fast in (True, False):
        with monkeypatch.context() as patch:
            if not fast:
                patch.setattr(dataset_io, "_read_csv_coded", lambda *args: None)
            with pytest.raises(DataContractError) as err:
                load_dataset(directory)
        reports.append(str(err.value))
    assert reports[0] == reports[1]
    assert "visits.csv: column ESR, line 3: must be a number (got 'fast')" in reports[0]


# Test 6: pyarrow reads a copy of the file in memory Arrow owns, never a Python object.
# Its reader's worker threads may release their input after read_csv has returned; a
# Python input is released under the GIL, which aborts or hangs a process that is exiting
# by then (seen in CI: `python -m analysis verify` of an invalid dataset, status -6).
def test_pyarrow_reads_memory_arrow_owns(monkeypatch):
    import pyarrow as pa
    from pyarrow import csv as pa_csv

    copies, inputs = [], []
    copy, read_csv = dataset_io._arrow_owned_copy, pa_csv.read_csv
    monkeypatch.setattr(dataset_io, "_arrow_owned_copy", lambda raw: copies.append(copy(raw)) or copies[-1])
    monkeypatch.setattr(pa_csv, "read_csv", lambda source, **options: inputs.append(source) or read_csv(source, **options))
    content = PLAIN["quoted cells"]
    header = content.split(b"\n", 1)[0].decode().split(",")
    frame = dataset_io._read_csv_coded(content, header, np.zeros(3, dtype=bool))
    assert frame is not None and len(copies) == len(inputs) == 1
    source, buffer = inputs[0], copies[0]
    assert isinstance(source, pa.BufferReader)
    source.seek(0)
    assert source.read_buffer().address == buffer.address  # reads the copy, not a view of `content`
    assert buffer.to_pybytes() == content and buffer.address != pa.py_buffer(content).address
