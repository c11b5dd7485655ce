"""Sphinx extension of the book: the HTML's bibliography as a list that assistive technology reads.

docutils writes a bibliography (sphinxcontrib-bibtex's ``{bibliography}``) as a
``<div role="list">`` whose entries carry ``role="doc-biblioentry"``. ARIA 1.2 deprecates that
role, and a ``list`` must own ``listitem`` children, so axe-core reports both (WCAG 2, rules
``aria-deprecated-role`` and ``aria-required-children``; checked in tests/browser). Each entry
becomes a ``listitem`` of its list; nothing else of the page changes, and other builders are
not touched.
"""
from __future__ import annotations

import re

from sphinx.application import Sphinx

#: The entry role docutils writes, and the one the list needs.
DEPRECATED_ROLE = re.compile(r'(<div class="citation"[^>]*?) role="doc-biblioentry"')


def on_html_page_context(app: Sphinx, pagename, templatename, context, doctree) -> None:
    """Give the entries of every bibliography list the ``listitem`` role.

    Examples
    --------
    >>> context = {"body": '<div class="citation-list" role="list"><div class="citation" id="id1" role="doc-biblioentry">'}
    >>> on_html_page_context(None, "references", "page.html", context, None)
    >>> context["body"]
    '<div class="citation-list" role="list"><div class="citation" id="id1" role="listitem">'
    """
    if "body" in context:
        context["body"] = DEPRECATED_ROLE.sub(r'\1 role="listitem"', context["body"])


def setup(app: Sphinx) -> dict:
    app.connect("html-page-context", on_html_page_context)
    return {"version": "1", "parallel_read_safe": True, "parallel_write_safe": True}
