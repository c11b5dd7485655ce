"""The book's extension book/_ext/incremental.py: figure and table numbers are assigned again
whenever a page is read or removed, and kept as they are only when nothing was."""
from __future__ import annotations

import base64
import re
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
    assert app.incremental_pages_touched is True
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
