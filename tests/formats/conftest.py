"""Fixtures of the format tests: the synthetic cohort and the minimal dataset written in each
format (:mod:`formats_support`), once per session."""
from __future__ import annotations

import pytest
from formats_support import WRITERS, registry

from analysis.paths import SYNTHETIC


@pytest.fixture(scope="session")
def csv_registry():
    """The results registry of the shipped CSV cohort: what every format must reproduce."""
    return registry(SYNTHETIC)


@pytest.fixture(scope="session")
def cohort_in(tmp_path_factory):
    """``cohort_in(fmt)`` -> a directory holding the synthetic cohort in that format."""
    made = {}

    def get(fmt: str):
        if fmt not in made:
            made[fmt] = WRITERS[fmt](tmp_path_factory.mktemp(fmt) / "dataset")
        return made[fmt]

    return get
