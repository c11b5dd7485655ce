"""Which pages an incremental build re-reads because a value they print changed (the book's
extension, book/_ext/reproduce.py; the end-to-end check is in tests/build/test_book_build.py)."""
from __future__ import annotations

import math

import pytest


@pytest.fixture(scope="module")
def extension(book_extension):
    return book_extension("reproduce")


def uses(**pages):
    return {doc: {(kind, name): value for kind, name, value in items} for doc, items in pages.items()}


def test_only_pages_printing_a_changed_value_are_outdated(extension):
    """Test 1: intro prints a value that changed, study one that did not."""
    recorded = uses(intro=[("reg", "table2.n.msc", "80.0")], study=[("reg", "table4.x", "1.0")])
    current = {"reg": {"table2.n.msc": 81.0, "table4.x": 1.0}, "build": {}}
    assert extension.changed_pages(recorded, current) == {"intro": ["table2.n.msc"]}


def test_nan_is_unchanged_and_a_new_or_vanished_key_is_a_change(extension):
    """Test 2: NaN equals NaN (no endless re-reads); a key that appears or vanishes is a change."""
    recorded = uses(a=[("reg", "k.nan", "nan")], b=[("reg", "k.new", None)], c=[("reg", "k.gone", "1.0")])
    current = {"reg": {"k.nan": math.nan, "k.new": 2.0}, "build": {}}
    assert extension.changed_pages(recorded, current) == {"b": ["k.new"], "c": ["k.gone"]}


def test_build_facts_count_like_registry_values(extension):
    """Test 3: a page printing the dataset version is re-read when the dataset changes."""
    recorded = uses(intro=[("build", "dataset_version", "abc"), ("build", "dataset", "data/synthetic")])
    current = {"reg": {}, "build": {"dataset_version": "def", "dataset": "data/synthetic"}}
    assert extension.changed_pages(recorded, current) == {"intro": ["dataset_version"]}
