"""Shared fixtures: the shipped synthetic cohort, loaded once through the data contract."""
from __future__ import annotations

import pandas as pd
import pytest

from analysis.contract import load_dataset
from analysis.endpoints import derive_efficacy_endpoints
from analysis.paths import SYNTHETIC


@pytest.fixture(scope="session")
def dataset():
    return load_dataset(SYNTHETIC)


@pytest.fixture(scope="session")
def endpoints(dataset) -> pd.DataFrame:
    """Visits with every derived endpoint, plus the subject columns the tests need."""
    keep = ["USUBJID", "ARM", "TRTSDT", "EOSDT", "EOSSTT", "DCSREAS"]
    return derive_efficacy_endpoints(dataset.visits).merge(dataset.subjects[keep], on="USUBJID")
