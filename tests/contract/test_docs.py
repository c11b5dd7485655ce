"""The contract's documentation runs (doctests) and agrees with the code (data/README.md)."""
from __future__ import annotations

import doctest
import re

import pytest

import analysis.contract as contract
from analysis.paths import DATA


def test_contract_doctests_pass():
    result = doctest.testmod(contract, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.attempted >= 10
    assert result.failed == 0


@pytest.fixture(scope="module")
def dictionary() -> str:
    return (DATA / "README.md").read_text(encoding="utf-8")


def _table_columns(dictionary: str, file: str) -> list[str]:
    """Column names in the first column of the table under the heading naming ``file``."""
    heading = re.search(rf"^#+ .*`{re.escape(file)}`.*$", dictionary, flags=re.M)
    assert heading, f"data/README.md has no heading naming `{file}`"
    section = re.split(r"^#+ ", dictionary[heading.end():], flags=re.M)[0]
    return re.findall(r"^\| `([A-Z0-9]+)` \|", section, flags=re.M)


@pytest.mark.parametrize("file", contract.FILES)
def test_data_dictionary_lists_every_column_in_order(dictionary, file):
    assert _table_columns(dictionary, file) == [spec.name for spec in contract.COLUMNS[file]]


def test_data_dictionary_lists_the_terminology(dictionary):
    for values in (contract.STUDYIDS, contract.ARMS, contract.DCSREAS_VALUES,
                   contract.CMCLASSES, sorted(contract.DIRECT_IDENTIFIERS)):
        for value in values:
            assert value in dictionary, value
