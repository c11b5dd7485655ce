"""The hand-made minimal dataset is valid, typed as documented, and covers what the
analysis needs (both studies and arms, completers and each discontinuation reason, the
visit schedule, serious AEs, every drug class)."""
from __future__ import annotations

import pandas as pd
import pytest

from analysis.contract import ARMS, CMCLASSES, COLUMNS, STUDYIDS, Dataset, load_dataset
from analysis.paths import TEST_DATASET


@pytest.fixture(scope="module")
def ds() -> Dataset:
    return load_dataset(TEST_DATASET)


def test_minimal_dataset_is_valid(ds):
    assert (len(ds.subjects), len(ds.visits), len(ds.adverse_events), len(ds.medications)) == (
        8, 42, 19, 22)
    assert ds.directory == TEST_DATASET


@pytest.mark.parametrize("name,file", [("subjects", "subjects.csv"), ("visits", "visits.csv"),
                                       ("adverse_events", "adverse_events.csv"),
                                       ("medications", "medications.csv")])
def test_frames_are_typed_as_documented(ds, name, file):
    frame = getattr(ds, name)
    expected = {"string": "object", "integer": "Int64", "float": "float64",
                "date": "datetime64[ns]"}
    assert list(frame.columns) == [spec.name for spec in COLUMNS[file]]
    for spec in COLUMNS[file]:
        assert str(frame[spec.name].dtype) == expected[spec.kind], spec.name
    assert isinstance(frame.index, pd.RangeIndex) and frame.index.start == 0


def test_rows_keep_file_order(ds):
    raw = pd.read_csv(TEST_DATASET / "visits.csv", dtype=str, keep_default_na=False)
    assert ds.visits["USUBJID"].tolist() == raw["USUBJID"].tolist()
    assert ds.visits["AVISITN"].astype(str).tolist() == raw["AVISITN"].tolist()


def test_flags_are_y_n_strings(ds):
    for column in ("RFFL", "ACPAFL", "HXCSDMRD", "HXBDMRD", "HXNSAID", "HXPRED", "LTEFL"):
        assert set(ds.subjects[column]) <= {"Y", "N"}
    assert set(ds.adverse_events["AESER"]) == {"Y", "N"}


def test_empty_cells_are_missing(ds):
    assert ds.visits[["TJC68", "SJC66", "CRP", "PAIN"]].isna().any().all()
    assert ds.subjects["DCSREAS"].isna().sum() == 6
    assert ds.adverse_events["AEENDT"].isna().any()
    assert ds.medications["CMENDT"].isna().any() and ds.medications["CMDECOD"].isna().any()


def test_minimal_dataset_covers_the_design(ds):
    s = ds.subjects
    assert set(s["STUDYID"]) == set(STUDYIDS)
    assert set(s["ARM"]) == set(ARMS)
    assert set(s["EOSSTT"]) == {"COMPLETED", "DISCONTINUED"}
    assert {"LACK OF EFFICACY", "ADVERSE EVENT"} <= set(s["DCSREAS"].dropna())
    assert set(s["LTEFL"]) == {"Y", "N"}
    assert s["TRTSDT"].dt.year.between(2016, 2018).all()
    completers = s[s["EOSSTT"] == "COMPLETED"]
    years = (completers["EOSDT"] - completers["TRTSDT"]).dt.days / 365.25
    assert years.between(5, 7).all()
    assert {0, 1, 3, 6, 12, 36, 60} <= set(ds.visits["AVISITN"])
    for usubjid in completers["USUBJID"]:
        visits = set(ds.visits.loc[ds.visits["USUBJID"] == usubjid, "AVISITN"])
        assert {0, 12, 36, 60} <= visits, usubjid
    assert set(ds.medications["CMCLASS"]) == set(CMCLASSES)
    ae = ds.adverse_events
    assert (ae["AESER"] == "Y").sum() >= 5
    assert {"Lymphocyte count decreased", "COVID-19", "Pyrexia", "Chills", "Hyperglycaemia",
            "Hyperlipidaemia", "Sjogren's syndrome", "Systemic lupus erythematosus",
            "Pneumonia", "Pulmonary tuberculosis", "Hypertension", "Type 2 diabetes mellitus",
            "Rectal cancer", "Cerebral infarction"} == set(ae["AEDECOD"])


def test_minimal_dataset_readme_says_what_it_is():
    text = (TEST_DATASET / "README.md").read_text().lower()
    for word in ("hand-made", "synthetic", "tests"):
        assert word in text
