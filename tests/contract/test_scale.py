"""Validation is vectorised: a large dataset is checked in seconds, and a dataset broken
on every row is still reported quickly, in one line per rule."""
from __future__ import annotations

import time

import numpy as np
import pandas as pd
import pytest

from analysis.contract import DataContractError, load_dataset
from analysis.paths import TEST_DATASET

COPIES = 2_500  # 20,000 patients, 105,000 visits


def _write_tiled(directory, copies: int) -> None:
    """The minimal dataset repeated ``copies`` times, USUBJIDs made unique."""
    directory.mkdir()
    for file in ("subjects.csv", "visits.csv", "adverse_events.csv", "medications.csv"):
        frame = pd.read_csv(TEST_DATASET / file, dtype=str, keep_default_na=False)
        tiled = pd.concat([frame] * copies, ignore_index=True)
        copy = np.repeat(np.arange(copies), len(frame)).astype(str)
        tiled["USUBJID"] = tiled["USUBJID"] + "-" + copy
        tiled.to_csv(directory / file, index=False)


@pytest.fixture(scope="module")
def big(tmp_path_factory):
    directory = tmp_path_factory.mktemp("scale") / "dataset"
    _write_tiled(directory, COPIES)
    return directory


def test_large_dataset_validates_quickly(big):
    start = time.perf_counter()
    ds = load_dataset(big)
    elapsed = time.perf_counter() - start
    assert len(ds.subjects) == 8 * COPIES and len(ds.visits) == 42 * COPIES
    # ~1 s here; a per-row Python loop would take far longer. Generous for slow CI.
    assert elapsed < 20, f"validation took {elapsed:.1f} s"


def test_large_broken_dataset_reports_quickly(big, tmp_path):
    visits = pd.read_csv(big / "visits.csv", dtype=str, keep_default_na=False)
    visits["ESR"] = "0"
    visits.loc[visits["AVISITN"] == "60", "ADT"] = "2030-01-01"
    broken = tmp_path / "broken"
    broken.mkdir()
    for file in ("subjects.csv", "adverse_events.csv", "medications.csv"):
        (broken / file).write_bytes((big / file).read_bytes())
    visits.to_csv(broken / "visits.csv", index=False)
    start = time.perf_counter()
    with pytest.raises(DataContractError) as info:
        load_dataset(broken)
    elapsed = time.perf_counter() - start
    rules = [(v.column, v.rule) for v in info.value.violations]
    assert rules == [("ESR", "must be > 0"),
                     ("ADT", "must be on or before EOSDT (last safety assessment)")]
    assert len(info.value.violations[0].rows) == len(visits)
    assert len(str(info.value).splitlines()) == 2
    assert elapsed < 20, f"validation took {elapsed:.1f} s"
