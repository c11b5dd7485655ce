"""The book's extension book/_ext/reproduce.py resolves ``{numref}`` from the labelled nodes it
kept when the target page was read (StandardDomainNumberingFromTargets): the same text and links
as Sphinx's own resolution, without reading the target page's doctree."""
from __future__ import annotations

import inspect
import re
from pathlib import Path

import pytest
from sphinx.application import Sphinx
from sphinx.environment import BuildEnvironment

from analysis import paths

CONF = f"""
import importlib.util
spec = importlib.util.spec_from_file_location("reproduce_ext", {str(paths.BOOK / "_ext" / "reproduce.py")!r})
reproduce = importlib.util.module_from_spec(spec)
spec.loader.exec_module(reproduce)
numfig = True
root_doc = "index"
KEPT = {{kept}}

def setup(app):
    if KEPT:
        app.add_domain(reproduce.StandardDomainNumberingFromTargets, override=True)
        app.connect("doctree-read", reproduce.on_doctree_read, priority=900)
        app.connect("env-purge-doc", reproduce.on_env_purge_doc)
"""
PAGES = {
    "index.rst": "Book\n====\n\n.. toctree::\n\n   first\n   second\n",
    "first.rst": "First\n=====\n\n.. _fig-a:\n\n.. figure:: pic.png\n\n   A figure.\n\n"
                 ".. _tbl-a:\n\n.. table:: A table.\n\n   ===  ===\n   a    b\n   ===  ===\n   1    2\n   ===  ===\n\n"
                 ".. _code-a:\n\n.. code-block:: python\n   :caption: Some code.\n\n   x = 1\n",
    "second.rst": "Second\n======\n\nSee :numref:`fig-a`, :numref:`tbl-a`, :numref:`code-a` and :numref:`Tab. {number} <tbl-a>`.\n",
}


def project(root: Path, kept: bool) -> Path:
    root.mkdir()
    (root / "conf.py").write_text(CONF.format(kept=kept))
    for name, text in PAGES.items():
        (root / name).write_text(text)
    (root / "pic.png").write_bytes(b"")
    return root


def build(src: Path) -> Sphinx:
    app = Sphinx(str(src), str(src), str(src / "_build" / "html"), str(src / "_build" / "doctrees"), "html",
                 status=None, warning=None, freshenv=False)
    app.build()
    return app


def references(src: Path) -> list[str]:
    html = (src / "_build" / "html" / "second.html").read_text(encoding="utf-8")
    return re.findall(r'<a class="reference internal" href="([^"]+)"><span class="std std-numref">([^<]+)</span>', html)


@pytest.fixture
def doctree_reads(monkeypatch):
    """Pages whose doctree is read while a {numref} is resolved."""
    reads = []
    original = BuildEnvironment.get_doctree

    def get_doctree(self, docname):
        if any(frame.function == "_resolve_numref_xref" for frame in inspect.stack()):
            reads.append(docname)
        return original(self, docname)

    monkeypatch.setattr(BuildEnvironment, "get_doctree", get_doctree)
    return reads


def test_numref_text_and_links_equal_sphinx_own(tmp_path, doctree_reads):
    """Test 1: a figure, a table, a captioned code block and an explicit title resolve as with
    Sphinx's standard domain, and no target page is read to resolve them."""
    build(project(tmp_path / "sphinx", kept=False))
    assert doctree_reads == ["first"] * 4  # Sphinx's own resolution reads the target page for each reference
    doctree_reads.clear()
    build(project(tmp_path / "kept", kept=True))
    expected = references(tmp_path / "sphinx")
    assert [text for _, text in expected] == ["Fig. 1", "Table 1", "Listing 1", "Tab. 1"]
    assert references(tmp_path / "kept") == expected
    assert doctree_reads == []


def test_a_page_not_read_again_is_resolved_from_what_was_kept(tmp_path, doctree_reads):
    """Test 2: only the referring page changes; the target page is not re-read and its kept
    nodes (pickled with the environment) still resolve the references."""
    src = project(tmp_path / "kept", kept=True)
    build(src)
    (src / "second.rst").write_text(PAGES["second.rst"] + "\nEdited.\n")
    doctree_reads.clear()
    build(src)
    assert [text for _, text in references(src)] == ["Fig. 1", "Table 1", "Listing 1", "Tab. 1"]
    assert doctree_reads == []
