"""Derive once (issue 10, item 5): every table of compute_results reuses the derived analysis
dataset, and the reuse changes no registry value. The reference is the same code with reuse
switched off (each table derives its own copy, as before), compared key by key and bit for bit."""
from __future__ import annotations

import math

import pytest

from analysis import derived, endpoints, paths
from analysis.contract import load_dataset
from analysis.tables import compute_results

DATASETS = [paths.TEST_DATASET] + ([paths.SYNTHETIC] if (paths.SYNTHETIC / "subjects.csv").is_file() else [])


@pytest.mark.parametrize("directory", DATASETS, ids=lambda p: p.name)
def test_reuse_changes_no_registry_value(directory):
    """Test 1: compute_results with and without reuse: same keys, same values (NaN = NaN), same methods."""
    with derived.derivations_not_reused():
        before = compute_results(load_dataset(directory)).set_index("key")
    after = compute_results(load_dataset(directory)).set_index("key")
    assert list(after.index) == list(before.index)
    unequal = [k for k in before.index if not (before.at[k, "value"] == after.at[k, "value"]
                                               or (math.isnan(before.at[k, "value"]) and math.isnan(after.at[k, "value"])))]
    assert unequal == []
    assert (after["method"] == before["method"]).all()


def test_endpoints_are_derived_once_per_dataset(monkeypatch):
    """Test 2: one compute_results derives the visit endpoints once (it was ten times)."""
    calls = []
    original = endpoints.derive_efficacy_endpoints

    def counting(visits, *args, **kwargs):
        calls.append(len(visits))
        return original(visits, *args, **kwargs)

    monkeypatch.setattr(derived, "derive_efficacy_endpoints", counting)
    compute_results(load_dataset(paths.TEST_DATASET))
    assert len(calls) == 1
    with derived.derivations_not_reused():
        compute_results(load_dataset(paths.TEST_DATASET))
    assert len(calls) == 1 + 10


def test_a_new_dataset_object_is_derived_afresh():
    """Test 3: reuse is per dataset object: a second load derives again (an edited file is seen)."""
    first, second = load_dataset(paths.TEST_DATASET), load_dataset(paths.TEST_DATASET)
    assert derived.derive_visit_endpoints(first) is derived.derive_visit_endpoints(first)
    assert derived.derive_visit_endpoints(second) is not derived.derive_visit_endpoints(first)
