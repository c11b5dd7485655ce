"""One test per published number: the shipped dataset reproduces it, or the published
registry records why no honest dataset can (status ``documented``, with its reason).

Tolerances come from each value's printed precision (``analysis.verify.is_reproduced``):
``|reproduced - published| <= 0.5 * 10**-decimals``; p-value bounds must fall on the same side.
"""
from __future__ import annotations

import pytest

from analysis import paths
from analysis.contract import load_dataset
from analysis.published import load_published
from analysis.tables import compute_results
from analysis.verify import build_reproduction

PUBLISHED = load_published()


@pytest.fixture(scope="module")
def reproduction():
    dataset = load_dataset(paths.SYNTHETIC)
    return build_reproduction(PUBLISHED, compute_results(dataset)).set_index("key")


@pytest.mark.parametrize("key", PUBLISHED["key"].tolist())
def test_published_value_reproduces(key, reproduction):
    row = reproduction.loc[key]
    if row.status == "documented":
        assert row.reason.strip(), f"{key}: documented without a reason"
        return
    assert row.status == "match", (
        f"{key} ({row.source}): published {row.published}, reproduced {row.reproduced or '(not computed)'}"
        f" [{row.tolerance}]")
