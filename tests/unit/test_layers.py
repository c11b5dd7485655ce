"""One-way layers of the ``analysis`` package, checked on its import graph (issue 10, item 3).

The graph is read with ``ast`` from every module's import statements, at module level and inside
functions alike (the cache key follows both, :mod:`analysis.codegraph`). A module
may import modules of its own layer or of a lower one; the graph has no cycle.
"""
from __future__ import annotations

import subprocess
import sys

import pytest

from analysis import codegraph, paths

#: Layers, lowest first. `results` (the registry's row format) and `printing` (how a registry value
#: prints) have no dependency and serve every layer above, so they sit with the data layer;
#: `notebook` (what notebooks call) writes fragments and reads the dataset, below the reports.
LAYERS = [
    ("data", ["analysis", "analysis.paths", "analysis.schema", "analysis.dataset_io", "analysis.crosswalk",
              "analysis.contract", "analysis.published", "analysis.results", "analysis.printing",
              "analysis.codegraph", "analysis.filestore"]),
    ("derivations", ["analysis.endpoints", "analysis.populations", "analysis.derived"]),
    ("statistics per artefact", ["analysis.safety", "analysis.efficacy", "analysis.baseline", "analysis.medications",
                                 "analysis.disposition", "analysis.durability", "analysis.clusters",
                                 "analysis.longitudinal"]),
    ("results registry", ["analysis.tables", "analysis.narrative", "analysis.notebook"]),
    ("reports and audit", ["analysis.verify", "analysis.audit", "analysis.reports", "analysis.export",
                           "analysis.presentation", "analysis.figures"]),
    ("book build and tooling", ["analysis.build", "analysis.pipeline", "analysis.__main__", "analysis.codecheck",
                                "analysis.bench", "analysis.synthetic", "analysis.ensemble",
                                "analysis.submission", "analysis.kernelstate"]),
]


def module_name(path) -> str:
    parts = path.relative_to(paths.ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def layer_of(name: str) -> int:
    """Index of a module's layer; a subpackage's modules share its layer."""
    for index, (_label, modules) in enumerate(LAYERS):
        if any(name == m or (m != "analysis" and name.startswith(m + ".")) for m in modules):
            return index
    raise AssertionError(f"module {name} has no layer: add it to LAYERS in {__file__}")


def import_graph() -> dict[str, set[str]]:
    """module -> the analysis modules it imports (names that are modules only)."""
    files = {module_name(p): p for p in (paths.ROOT / "analysis").rglob("*.py") if "__pycache__" not in p.parts}
    graph = {}
    for name, path in files.items():
        imported = codegraph.module_imports(path, name)
        # A submodule's own packages are loaded before it whatever it imports, and naming one
        # (`from analysis.synthetic import moments`) imports the submodule, listed separately.
        ancestors = {name.rsplit(".", i)[0] for i in range(1, name.count(".") + 1)}
        graph[name] = {m for m in imported if m in files and m != name and m not in ancestors}
    return graph


def find_cycle(graph: dict[str, set[str]]) -> list[str]:
    """One cycle of ``graph`` as a list of modules (first = last), or [] (depth-first search)."""
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str]:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                return stack[stack.index(nxt):] + [nxt]
            if nxt not in state:
                found = visit(nxt)
                if found:
                    return found
        stack.pop()
        state[node] = 2
        return []

    for node in sorted(graph):
        if node not in state:
            found = visit(node)
            if found:
                return found
    return []


def test_cycle_finder_finds_a_cycle():
    """Test 1: the checker can fail (a hand-built graph with a cycle, one without)."""
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": set()}) == []


def test_the_analysis_import_graph_has_no_cycle():
    """Test 2: no module reaches itself through imports (e.g. reports <-> verify)."""
    assert find_cycle(import_graph()) == []


def test_every_import_follows_the_layer_order():
    """Test 3: data -> derivations -> statistics per artefact -> results registry -> reports and
    audit -> book build; no module imports a module of a higher layer."""
    against = sorted(f"{m} ({LAYERS[layer_of(m)][0]}) imports {i} ({LAYERS[layer_of(i)][0]})"
                     for m, imported in import_graph().items() for i in imported if layer_of(i) > layer_of(m))
    assert against == []


def test_the_layer_check_sees_function_level_imports(tmp_path):
    """Test 4: an import inside a function counts (it is how cycles used to be dodged)."""
    module = tmp_path / "m.py"
    module.write_text("def f():\n    from analysis.build import Run\n    return Run\n")
    assert codegraph.module_imports(module, "analysis.m") >= {"analysis.build"}


def test_no_function_level_import_of_analysis_modules_outside_the_benchmarks():
    """Test 5: imports of analysis modules sit at module level, where a reader sees the graph;
    two modules import inside functions on purpose: the benchmark worker (their import time is
    measured) and the command line, whose commands import what they need when they run (so that
    `verify` served from its cache does not import the statistics). A module-level
    `if TYPE_CHECKING:` block is module level too (`analysis.build` lists its public names there,
    each loaded on first use)."""
    import ast

    inner = []
    for path in (paths.ROOT / "analysis").rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        checking = [node.body for node in tree.body
                    if isinstance(node, ast.If) and isinstance(node.test, ast.Name) and node.test.id == "TYPE_CHECKING"]
        top = set(map(id, tree.body)) | {id(node) for body in checking for node in body}
        for node in codegraph.import_statements(tree):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else [node.module or "."]
            if id(node) not in top and any(n.startswith("analysis") or n.startswith(".") for n in names):
                inner.append(f"{module_name(path)}:{node.lineno}")
    assert [i for i in inner if not i.startswith(("analysis.bench:", "analysis.__main__:"))] == []


@pytest.mark.parametrize("module", ["analysis.notebook", "analysis.presentation", "analysis.figures",
                                    "analysis.tables", "analysis.reports"])
def test_the_notebook_api_does_not_import_the_runner(module):
    """Test 6: what notebooks import loads neither papermill nor the runner (analysis.build)."""
    code = (f"import sys, {module}; "
            "print(sorted(m for m in ('papermill', 'analysis.build', 'sphinx') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=paths.ROOT)
    assert out.stdout.strip() == "[]"
