"""The memo of parsed imports that the book build keeps between builds
(``analysis.codegraph.load_import_memo`` / ``save_import_memo``): keyed on content, so a module
edited after the memo was saved is parsed again and its new imports are in the closure."""
from __future__ import annotations

import json

import pytest

from analysis import build, codegraph


@pytest.fixture
def fresh_memo(monkeypatch):
    """An empty in-process memo, restored afterwards."""
    monkeypatch.setattr(codegraph, "_IMPORTS_MEMO", {})
    monkeypatch.setattr(codegraph, "_IMPORTS_USED", set())


def package(root):
    pkg = root / "analysis"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "top.py").write_text("from analysis import a\n")
    (pkg / "a.py").write_text("X = 1\n")
    (pkg / "b.py").write_text("Y = 2\n")
    nb = root / "nb.ipynb"
    nb.write_text(json.dumps({"cells": [{"cell_type": "code", "id": "imports", "source": "from analysis import top", "metadata": {},
                                         "outputs": [], "execution_count": None}],
                              "metadata": {}, "nbformat": 4, "nbformat_minor": 5}))
    return nb


def closure(nb, root) -> set[str]:
    return {p.relative_to(root).as_posix() for p in build.analysis_closure(nb, root)}


def test_saved_memo_gives_the_same_closure_without_parsing(tmp_path, fresh_memo, monkeypatch):
    """Test 1: a memo saved by one build lets the next find the same closure with no parse."""
    nb = package(tmp_path)
    expected = closure(nb, tmp_path)
    assert expected == {"analysis/__init__.py", "analysis/top.py", "analysis/a.py"}
    memo = tmp_path / "_build" / "book-imports.json"
    codegraph.save_import_memo(memo)
    monkeypatch.setattr(codegraph, "_IMPORTS_MEMO", {})
    codegraph.load_import_memo(memo)

    def no_parse(*args, **kwargs):
        raise AssertionError("parsed although the memo holds this source")

    monkeypatch.setattr(codegraph.ast, "parse", no_parse)
    monkeypatch.setattr(build.hashing, "notebook_source_tree", no_parse)
    assert closure(nb, tmp_path) == expected


def test_an_edited_module_is_parsed_again(tmp_path, fresh_memo, monkeypatch):
    """Test 2: after the memo is saved, top.py starts importing b: the closure follows the edit."""
    nb = package(tmp_path)
    closure(nb, tmp_path)
    memo = tmp_path / "book-imports.json"
    codegraph.save_import_memo(memo)
    monkeypatch.setattr(codegraph, "_IMPORTS_MEMO", {})
    codegraph.load_import_memo(memo)
    (tmp_path / "analysis" / "top.py").write_text("from analysis import a\n\ndef f():\n    from analysis import b\n")
    assert "analysis/b.py" in closure(nb, tmp_path)


def test_the_memo_keeps_only_what_was_used_and_survives_a_bad_file(tmp_path, fresh_memo, monkeypatch):
    """Test 3: entries of sources no longer read are dropped on save; an unreadable memo file
    is ignored (the sources are parsed)."""
    nb = package(tmp_path)
    monkeypatch.setattr(codegraph, "_IMPORTS_MEMO", {"module|analysis.gone|0|abc": ["analysis.x"]})
    closure(nb, tmp_path)
    memo = tmp_path / "book-imports.json"
    codegraph.save_import_memo(memo)
    saved = json.loads(memo.read_text())
    assert "module|analysis.gone|0|abc" not in saved and len(saved) == 4  # notebook, __init__, top, a
    memo.write_text("{not json")
    monkeypatch.setattr(codegraph, "_IMPORTS_MEMO", {})
    codegraph.load_import_memo(memo)
    assert closure(nb, tmp_path) == {"analysis/__init__.py", "analysis/top.py", "analysis/a.py"}
