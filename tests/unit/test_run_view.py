"""What a notebook run sees of the dataset, and what its cache key covers.

Runs do not get the contract columns no result reads (``analysis.schema.UNANALYSED_COLUMNS``),
so the run cache keys each table by the digest of the run's view of it
(``analysis.build.digest_run_views``). These tests hold the claim behind that: every result is
the same without those columns, and the digest follows exactly the columns runs see.
"""
from __future__ import annotations

import dataclasses
import shutil
from pathlib import Path

import pandas as pd
import pytest
from pandas.testing import assert_frame_equal

from analysis import notebook, paths
from analysis.build import describe_dataset, digest_run_views
from analysis.build.cache import run_inputs
from analysis.build.runplan import Run
from analysis.contract import FILES, load_dataset
from analysis.schema import COLUMNS, UNANALYSED_COLUMNS
from analysis.tables import compute_results


@pytest.fixture(scope="module", params=[paths.SYNTHETIC, paths.TEST_DATASET], ids=["synthetic", "minimal"])
def dataset(request):
    return load_dataset(request.param)


def test_unanalysed_columns_are_contract_columns():
    """Test 1: each unanalysed column is a column of its file's contract (a typo would hide nothing)."""
    for file, columns in UNANALYSED_COLUMNS.items():
        assert set(columns) <= {spec.name for spec in COLUMNS[file]}, file
    assert UNANALYSED_COLUMNS["adverse_events.csv"] == ("AESEQ", "AETERM")
    assert UNANALYSED_COLUMNS["medications.csv"] == ("CMDECOD",)


def test_every_result_is_the_same_without_the_unanalysed_columns(dataset):
    """Test 2: the registry computed from the runs' view equals the full dataset's, row for row
    and bit for bit; a result that read a hidden column would raise a KeyError here."""
    view = notebook.restrict_to_run(dataset, FILES)
    for file, columns in UNANALYSED_COLUMNS.items():
        assert not set(columns) & set(getattr(view, file.removesuffix(".csv")).columns), file
    assert_frame_equal(compute_results(view), compute_results(dataset), check_exact=True)


def test_a_run_cannot_read_an_unanalysed_column():
    """Test 3: a notebook reading a verbatim term fails loudly instead of going unkeyed."""
    ds = notebook.load_run_dataset(str(paths.TEST_DATASET), ["adverse_events.csv"])
    with pytest.raises(KeyError, match="AETERM"):
        ds.adverse_events["AETERM"]


def test_the_digest_follows_exactly_what_runs_see(dataset):
    """Test 4: rewriting every unanalysed cell leaves each table's digest unchanged; changing one
    analysed cell changes that table's digest and no other."""
    before = digest_run_views(dataset)
    assert set(before) == set(FILES)
    scrambled = {}
    for file, columns in UNANALYSED_COLUMNS.items():
        name = file.removesuffix(".csv")
        frame = getattr(dataset, name)
        if columns and len(frame):
            scrambled[name] = frame.assign(**{c: frame[c].iloc[::-1].to_numpy() for c in columns})
    assert digest_run_views(dataclasses.replace(dataset, **scrambled)) == before
    for file, column in [("visits.csv", "ESR"), ("adverse_events.csv", "AESER"), ("medications.csv", "CMENDT"),
                         ("subjects.csv", "AGE")]:
        name = file.removesuffix(".csv")
        frame = getattr(dataset, name).copy()
        if frame.empty:
            continue
        position = frame[column].first_valid_index()
        frame.loc[position, column] = {"ESR": 7.0, "AESER": "N" if frame.loc[position, column] == "Y" else "Y",
                                       "CMENDT": pd.Timestamp("2030-01-01"), "AGE": 99}[column]
        after = digest_run_views(dataclasses.replace(dataset, **{name: frame}))
        assert [f for f in FILES if after[f] != before[f]] == [file], column


def test_the_data_contract_names_the_unanalysed_columns():
    """Test 5: data/README.md marks exactly the unanalysed columns "not analysed", so a trial team
    reading the contract knows which columns no result uses."""
    text = (paths.ROOT / "data" / "README.md").read_text(encoding="utf-8")
    marked = {row.split("`")[1] for row in text.splitlines() if row.startswith("| `") and "not analysed |" in row}
    assert marked == {c for columns in UNANALYSED_COLUMNS.values() for c in columns}


def test_the_preview_before_validation_ignores_only_unanalysed_cells(tmp_path):
    """Test 6: the raw-file digests that decide whether the build warms kernels early (the inputs
    a run's key read, :func:`analysis.build.run_inputs`) ignore an edited drug name (CMDECOD) and
    change with an edited start date or any byte of a table without unanalysed columns."""
    data = tmp_path / "d"
    shutil.copytree(paths.TEST_DATASET, data)
    every_table = Run("all", paths.BOOK / "notebooks" / "reproduction.ipynb", tuple(FILES))

    def views():
        inputs = run_inputs(every_table, describe_dataset(data), paths.BOOK / "runplan.yml")
        return {Path(i.path).name: i.digest() for i in inputs if Path(i.path).parent == data.resolve()}

    def edit(file, old, new):
        path = data / file
        text = path.read_text()
        assert old in text
        path.write_text(text.replace(old, new, 1))

    before = views()
    edit("medications.csv", "Methotrexate", "Methotrexate sodium")
    assert views() == before
    edit("medications.csv", "2012-04-01", "2012-04-02")
    after_date = views()
    assert [f for f in FILES if after_date[f] != before[f]] == ["medications.csv"]
    edit("visits.csv", "\n", "\r\n")
    assert [f for f in FILES if views()[f] != after_date[f]] == ["visits.csv"]
