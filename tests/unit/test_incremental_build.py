"""The book's extension book/_ext/incremental.py: figure and table numbers are assigned again
whenever a page is removed or added, or a page read has other numbered nodes than before, and kept
as they are otherwise (nothing read, or only pages whose numbered nodes are the same)."""
from __future__ import annotations

import base64
import re
import shutil
from pathlib import Path

import pytest
from sphinx.application import Sphinx

from analysis import paths

CONF = f"""
import sys
sys.path.insert(0, {str(paths.BOOK / "_ext")!r})
extensions = ["incremental"]
numfig = True
root_doc = "index"
"""
INDEX = """Book
====

.. toctree::

   first
   second
"""
PIXEL = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAAAAAA6fptVAAAACklEQVR4nGNgAAAAAgABSK+kcQAAAABJRU5ErkJggg=="  # a 1 x 1 grey PNG
FIGURE = """
.. figure:: pic.png

   {caption}
"""


def page(title: str, *captions: str) -> str:
    return f"{title}\n{'=' * len(title)}\n" + "".join(FIGURE.format(caption=c) for c in captions)


def build(src: Path) -> Sphinx:
    app = Sphinx(str(src), str(src), str(src / "_build" / "html"), str(src / "_build" / "doctrees"), "html",
                 status=None, warning=None, freshenv=False)
    app.build()
    return app


def numbers(src: Path, name: str) -> list[str]:
    return re.findall(r"Fig\. (\d+)", (src / "_build" / "html" / f"{name}.html").read_text(encoding="utf-8"))


@pytest.fixture
def project(tmp_path):
    src = tmp_path / "src"
    src.mkdir()
    (src / "conf.py").write_text(CONF)
    (src / "index.rst").write_text(INDEX)
    (src / "first.rst").write_text(page("First", "one"))
    (src / "second.rst").write_text(page("Second", "two"))
    (src / "pic.png").write_bytes(base64.b64decode(PIXEL))
    return src


def test_numbers_follow_a_figure_added_to_an_earlier_page(project):
    """Test 1: a figure added to the first page renumbers the second page's figure, which is
    not re-read (its source did not change) but is rewritten with its new number."""
    build(project)
    assert numbers(project, "second") == ["2"]
    (project / "first.rst").write_text(page("First", "one", "one b"))
    app = build(project)
    assert app.incremental_pages_touched is True and app.incremental_renumbered is True
    assert numbers(project, "first") == ["1", "2"] and numbers(project, "second") == ["3"]


def test_nothing_read_keeps_the_pickled_numbers_without_loading_doctrees(project, monkeypatch):
    """Test 2: a build that reads no page assigns no figure number and loads no doctree, and
    the numbers it keeps are those of the previous build."""
    build(project)
    from sphinx.environment import BuildEnvironment
    from sphinx.environment.collectors.toctree import TocTreeCollector

    def fail(*args, **kwargs):
        raise AssertionError("figure numbers assigned again although nothing was read")

    monkeypatch.setattr(TocTreeCollector, "assign_figure_numbers", fail)
    monkeypatch.setattr(BuildEnvironment, "get_doctree", fail)
    app = build(project)
    assert app.incremental_pages_touched is False
    assert app.env.toc_fignumbers["second"] == {"figure": {"id1": (2,)}}


def test_a_removed_page_counts_as_touched(project):
    """Test 3: removing a page (and its toctree entry) renumbers what follows it."""
    (project / "third.rst").write_text(page("Third", "three"))
    (project / "index.rst").write_text(INDEX + "   third\n")
    build(project)
    assert numbers(project, "third") == ["3"]
    (project / "second.rst").unlink()
    (project / "index.rst").write_text(INDEX.replace("   second\n", "") + "   third\n")
    app = build(project)
    assert app.incremental_pages_touched is True
    assert numbers(project, "third") == ["2"]


def forbid_renumbering(monkeypatch):
    from sphinx.environment.collectors.toctree import TocTreeCollector

    def fail(*args, **kwargs):
        raise AssertionError("figure numbers assigned again although no numbered node changed")

    monkeypatch.setattr(TocTreeCollector, "assign_figure_numbers", fail)


def test_a_page_read_with_the_same_numbered_nodes_keeps_the_numbers(project, monkeypatch):
    """Test 4: the first page read again with other prose and another caption but the same
    figure: no renumbering, and both pages (the one read, whose numbers Sphinx dropped when it
    purged it, and the other) print the numbers of before."""
    build(project)
    (project / "first.rst").write_text(page("First", "one, reworded") + "\nA new paragraph.\n")
    forbid_renumbering(monkeypatch)
    app = build(project)
    assert app.incremental_pages_touched is True and app.incremental_renumbered is False
    assert app.env.toc_fignumbers["first"] == {"figure": {"id1": (1,)}}
    assert numbers(project, "first") == ["1"] and numbers(project, "second") == ["2"]
    assert "one, reworded" in (project / "_build" / "html" / "first.html").read_text(encoding="utf-8")


@pytest.mark.parametrize("edit, renumbered", [
    pytest.param(lambda src: (src / "first.rst").write_text(page("First")), True, id="figure removed"),
    pytest.param(lambda src: (src / "index.rst").write_text(INDEX.replace("   first\n   second\n", "   second\n   first\n")),
                 True, id="pages reordered"),
    pytest.param(lambda src: (src / "third.rst").write_text(page("Third", "three")), True, id="page added"),
    pytest.param(lambda src: (src / "first.rst").write_text(page("First", "one") + "\n.. figure:: pic.png\n"),
                 False, id="uncaptioned figure added (not numbered)"),
])
def test_numbers_equal_those_of_a_build_from_nothing(project, edit, renumbered):
    """Test 5: a page read whose numbered nodes or toctree changed, or a page added, renumbers;
    a figure without caption, which Sphinx does not number, does not. Either way the numbers
    printed are those of a build from nothing."""
    build(project)
    edit(project)
    app = build(project)
    assert app.incremental_renumbered is renumbered
    fresh = project.parent / "fresh"
    shutil.copytree(project, fresh, ignore=shutil.ignore_patterns("_build"))
    build(fresh)
    for name in ("first", "second"):
        assert numbers(project, name) == numbers(fresh, name), name


def test_the_signature_lists_the_nodes_sphinx_numbers(tmp_path):
    """Test 6: the numbered nodes of a page's signature are exactly those Sphinx numbered
    (figure, table, captioned code block; not an uncaptioned figure), in Sphinx's order."""
    src = tmp_path / "src"
    src.mkdir()
    (src / "conf.py").write_text(CONF)
    (src / "index.rst").write_text("Book\n====\n\n.. toctree::\n\n   mixed\n")
    (src / "pic.png").write_bytes(base64.b64decode(PIXEL))
    (src / "mixed.rst").write_text(
        "Mixed\n=====\n\n.. figure:: pic.png\n\n   Captioned.\n\n.. figure:: pic.png\n\n"
        "Section\n-------\n\n.. table:: A table.\n\n   ===  ===\n   a    b\n   ===  ===\n   1    2\n   ===  ===\n\n"
        ".. code-block:: python\n   :caption: Some code.\n\n   x = 1\n\n.. code-block:: python\n\n   y = 2\n")
    app = build(src)
    signature = app.env.incremental_numbering["mixed"]
    numbered = [(kind, node_id) for item, *rest in signature if item == "number" for kind, node_id in [rest]]
    by_sphinx = sorted((kind, node_id) for kind, ids in app.env.toc_fignumbers["mixed"].items() for node_id in ids)
    assert sorted(numbered) == by_sphinx and len(numbered) == 3
    assert [kind for kind, _ in numbered] == ["figure", "table", "code-block"]
    assert ("toctree", ("mixed",)) in app.env.incremental_numbering["index"]
