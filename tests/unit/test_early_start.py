"""The early start of the book's kernels (:mod:`analysis.build.early`): light, and exact about
what changed since the last successful build."""
from __future__ import annotations

import importlib
import json
import pkgutil
import subprocess
import sys
from pathlib import Path

from analysis import build, codegraph, paths
from analysis.build.early import Input, record_inputs, stale_runs


def test_the_first_extension_imports_no_analysis_library():
    """Test 1: what the build's first extension imports (before any other extension) loads none
    of pandas, pandera, SciPy or matplotlib: their import is what the kernels overlap."""
    code = ("import sys; sys.path.insert(0, 'book/_ext'); import earlystart; "
            "print(sorted(m for m in ('pandas', 'pandera', 'scipy', 'matplotlib', 'statsmodels') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], cwd=paths.ROOT, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_a_run_may_be_stale_exactly_when_one_of_its_inputs_changed(tmp_path):
    """Test 2: with a record, the runs whose inputs (a file, a folder, a folder's list of files,
    a CSV table without a hidden column) are unchanged are not stale; each change marks exactly
    the runs that have the input; no record, another format or another dataset folder: None."""
    data, code = tmp_path / "data", tmp_path / "code"
    data.mkdir(), code.mkdir()
    (data / "t.csv").write_text("ID,TERM,DATE\n1,Headache,2012-04-01\n")
    (data / "README.md").write_text("synthetic\n")
    (code / "m.py").write_text("x = 1\n")
    (tmp_path / "a.ipynb").write_text("{}")
    shared = [Input("listing", str(data)), Input("view", str(data / "t.csv"), ("TERM",))]
    runs = {"a": (tmp_path / "a.ipynb", [*shared, Input("file", str(tmp_path / "a.ipynb"))]),
            "b": (tmp_path / "b.ipynb", [*shared, Input("tree", str(code)), Input("file", str(data / "README.md"))])}
    record = tmp_path / "inputs.json"
    assert stale_runs(data, record) is None
    record_inputs(runs, data, record)
    assert stale_runs(data, record) == {}
    (data / "t.csv").write_text("ID,TERM,DATE\n1,Migraine,2012-04-01\n")  # a hidden column only
    assert stale_runs(data, record) == {}
    (code / "m.py").write_text("x = 2\n")
    assert stale_runs(data, record) == {"b": tmp_path / "b.ipynb"}
    (code / "m.py").write_text("x = 1\n")
    (tmp_path / "a.ipynb").write_text('{"cells": []}')
    assert set(stale_runs(data, record)) == {"a"}
    (tmp_path / "a.ipynb").write_text("{}")
    (data / "SYNTHETIC").write_text("")  # a file added to the dataset folder
    assert set(stale_runs(data, record)) == {"a", "b"}
    (data / "SYNTHETIC").unlink()
    (data / "t.csv").unlink()  # an input that cannot be read has changed
    assert set(stale_runs(data, record)) == {"a", "b"}
    assert stale_runs(code, record) is None
    record.write_text(json.dumps({**json.loads(record.read_text()), "format": 0}))
    assert stale_runs(data, record) is None


def test_every_public_name_of_the_build_package_is_what_its_submodule_defines():
    """Test 3: ``analysis.build`` loads its public names on first use; each resolves to the
    object its submodule defines, whichever submodules were imported before (a submodule named
    like a public name would replace it on import), and the list the package reads its names
    from is the one the static import graph sees."""
    modules = {m.name for m in pkgutil.iter_modules(build.__path__)}
    for module in modules:
        importlib.import_module(f"analysis.build.{module}")
    names = build._public_names()
    assert not set(names) & modules
    for name, module in names.items():
        assert getattr(build, name) is getattr(importlib.import_module(module), name), name
    assert set(names) <= set(dir(build))
    assert set(names.values()) <= codegraph.module_imports(Path(build.__file__), "analysis.build")
