"""Which pages an incremental build re-reads because a value they print changed, and how the
dataset notice of the pages it does not write again is brought up to date (the book's extension,
book/_ext/reproduce.py; the end-to-end checks are in tests/build/test_book_build.py)."""
from __future__ import annotations

import doctest
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


BANNER = '<aside class="bd-header-announcement" aria-label="Announcement">\n  <div class="bd-header-announcement__content">{}</div>\n</aside>'


def test_only_the_banner_content_is_replaced(extension):
    """Test 4: the notice replaces the banner's content and nothing else of the page, also when
    the page holds other divs and the same words elsewhere."""
    old = "Built from the dataset <code>d</code> (version 1)."
    page = f"<html><body>{BANNER.format(old)}<div class='x'>{old}</div></body></html>"
    new = "⚠ Built from <strong>synthetic data</strong>: <code>d</code> (version 2)."
    assert extension.replace_notice(page, new) == f"<html><body>{BANNER.format(new)}<div class='x'>{old}</div></body></html>"
    assert extension.replace_notice(page, old) == page


@pytest.mark.parametrize("page", ["<html><body><p>no banner</p></body></html>", BANNER.format("a") + BANNER.format("b")])
def test_a_page_without_exactly_one_banner_is_refused(extension, page):
    """Test 5: no banner or two banners: the notice cannot be placed, and the build must say so."""
    with pytest.raises(ValueError, match="announcement banners in the page instead of one"):
        extension.replace_notice(page, "notice")


def test_a_notice_holding_a_div_is_refused(extension):
    """Test 6: the banner's content ends at its first </div>, so a notice may hold no div."""
    with pytest.raises(ValueError, match="<div"):
        extension.replace_notice(BANNER.format("a"), "<div>b</div>")


def test_docstring_examples(extension):
    result = doctest.testmod(extension, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 0 and result.failed == 0
