"""The book's extension book/_ext/rst_offsets.py: an ``{eval-rst}`` block parsed from a line offset
gives the nodes, line numbers and messages that MyST's blank-line padding gives, without the padding."""
from __future__ import annotations

import doctest

import pytest
from docutils.frontend import get_default_settings
from docutils.utils import new_document
from myst_parser.mocking import MockRSTParser

# What the notebooks display: a grid table with a name, a role defined and used in a list-table,
# a directive with nested content, and an unknown role (an error message with its line).
SAMPLE = """\
.. table:: A paper table
   :name: tbl-sample
   :class: paper-table

   +-----------+---------+
   | Row       | Value   |
   +===========+=========+
   | ``key.a`` | 1.5     |
   +-----------+---------+

.. role:: status-match
   :class: status status-match

.. list-table:: A status table
   :name: tbl-status
   :header-rows: 1
   :widths: 3 1

   * - Key
     - Status
   * - ``key.a``
     - :status-match:`match`

.. note::

   A note with *emphasis* and :undefined-role:`x`.
"""


@pytest.fixture(scope="module")
def extension(book_extension):
    return book_extension("rst_offsets")


def parse(parser, text: str, **settings):
    defaults = get_default_settings(MockRSTParser)
    for name, value in settings.items():
        setattr(defaults, name, value)
    document = new_document("generated/page.ipynb", defaults)
    document.reporter.halt_level = 5  # keep the error as a node, as Sphinx does
    document.reporter.stream = False
    parser.parse(text, document)
    return document


def described(document) -> list[tuple]:
    """Every node of the tree: type, source, line, attributes and text."""
    return [(type(node).__name__, node.source, node.line,
             sorted((k, repr(v)) for k, v in getattr(node, "attributes", {}).items()), node.astext())
            for node in document.findall()]


@pytest.mark.parametrize("offset", [0, 7, 210_000])
def test_offset_parse_equals_padded_parse(extension, offset):
    """Test 1: the same nodes with the same sources, lines and attributes (the error included)."""
    padded = described(parse(MockRSTParser(), "\n" * offset + SAMPLE))
    offset_parsed = described(parse(extension.OffsetRSTParser(line_offset=offset), SAMPLE))
    assert offset_parsed == padded
    assert any(kind == "system_message" for kind, *_ in padded)  # the sample does report an error
    lines = [line for _, _, line, _, _ in offset_parsed if line is not None]
    assert min(lines) > offset  # numbered from the offset, not from 1


def test_too_long_line_is_reported_at_its_page_line(extension):
    """Test 2: docutils' line-length limit names the line as the padded input does."""
    text = "x" * 20 + "\n"
    padded = parse(MockRSTParser(), "\n" * 500 + text, line_length_limit=10)
    offset_parsed = parse(extension.OffsetRSTParser(line_offset=500), text, line_length_limit=10)
    assert described(offset_parsed) == described(padded)
    assert "Line 501 exceeds" in offset_parsed.astext()


def test_default_role_is_kept(extension):
    """Test 3: like MyST's parser, parsing a block leaves a page's default role in place."""
    from docutils.parsers.rst import roles

    marker = roles._roles.get("")
    roles._roles[""] = sentinel = object()
    try:
        parse(extension.OffsetRSTParser(line_offset=3), SAMPLE)
        assert roles._roles[""] is sentinel
    finally:
        if marker is None:
            roles._roles.pop("", None)
        else:
            roles._roles[""] = marker


def test_docstring_examples(extension):
    result = doctest.testmod(extension, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 0 and result.failed == 0
