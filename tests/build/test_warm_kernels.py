"""Reused kernels (analysis.build.kernels): a run's outputs do not depend on the runs that
shared its kernel before it.

1. What a notebook can change in its process (namespace, execution counter, rcParams, open
   figures, warning filters, random state, environment, working directory, the sources a run
   declared) is back to a new kernel's state in the next run of the same kernel.
2. Runs really share a kernel (same process id), and do not with ``BOOK_KERNELS=new``.
3. A failed run's kernel is shut down, not reused.
4. The book's own runs, executed in one reused kernel in two orders, give the same notebooks
   (every output, execution counts included) and the same bytes in every output file as a new
   kernel per run.
5. An executed notebook's bytes depend only on what it computed: executed twice into two cache
   entries (two keys), it is the same file, showing the published output folder.
"""
from __future__ import annotations

import shutil
import time
import uuid
from pathlib import Path

import nbformat
import pytest

from analysis import build, paths
from analysis.build.kernels import WorkerKernel, preload_code, reuse_enabled

PARAMETERS = 'data_dir = "d"\ndataset_files = []\nsynthetic = True\noutput_dir = "o"\n'
#: Changes everything kernelstate.restore() must undo, and records the kernel's process id.
DIRTY = """\
import os, sys, warnings, random
import matplotlib
import matplotlib.pyplot as plt
import numpy as np
from analysis import notebook, paths
out = notebook.output_path(output_dir)
(out / "pid.txt").write_text(str(os.getpid()))
notebook.write_fragment([], out)
leaked = 1
matplotlib.rcParams["lines.linewidth"] = 9.0
plt.figure()
warnings.simplefilter("error")
random.seed(1); np.random.seed(1)
os.environ["LEAKED"] = "1"
os.chdir("/")
sys.path.insert(0, "/leaked")
paths.declare_sources([], run="dirty")
"""
#: Fails (and so fails its run) if any of DIRTY's changes survived.
CLEAN = """\
import os, sys, warnings, random
import matplotlib
import matplotlib.pyplot as plt
import numpy as np
from analysis import notebook, paths
problems = [name for name, leaked in [
    ("namespace", "leaked" in globals()),
    ("rcParams", matplotlib.rcParams["lines.linewidth"] == 9.0),
    ("figures", bool(plt.get_fignums())),
    ("warning filters", any(f[0] == "error" and f[2] is Warning for f in warnings.filters)),
    ("environment", "LEAKED" in os.environ),
    ("working directory", os.getcwd() == "/"),
    ("sys.path", "/leaked" in sys.path),
    ("declared sources", paths._DECLARED_SOURCES is not None),
]  if leaked]
assert not problems, f"state left by the previous run: {problems}"
out = notebook.output_path(output_dir)
(out / "pid.txt").write_text(str(os.getpid()))
notebook.write_fragment([], out)
"""
FAIL = "raise ValueError('this run fails')"


def write_notebook(path: Path, body: str) -> Path:
    nb = nbformat.v4.new_notebook()
    params = nbformat.v4.new_code_cell(PARAMETERS)
    params.metadata["tags"] = ["parameters"]
    nb.cells = [params, nbformat.v4.new_code_cell(body)]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, path)
    return path


@pytest.fixture
def workdir():
    """A folder under the repository root (a run's output folder must be), removed after."""
    path = paths.ROOT / "_build" / f"test-kernels-{uuid.uuid4().hex[:8]}"
    path.mkdir(parents=True)
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture(scope="module")
def minimal():
    return build.inspect_dataset(paths.TEST_DATASET)


def records(workdir: Path, bodies: dict[str, str]) -> list[build.RunRecord]:
    out = []
    for run_id, body in bodies.items():
        run = build.Run(run_id, write_notebook(workdir / f"{run_id}.ipynb", body), ())
        out.append(build.RunRecord(run, "k", workdir / "entries" / run_id))
    return out


def pid(record: build.RunRecord) -> int:
    return int((record.output_dir / "pid.txt").read_text())


def test_next_run_in_a_kernel_starts_from_a_new_kernels_state(workdir, minimal):
    """Test 1: every change DIRTY makes is undone before CLEAN runs in the same kernel, and
    CLEAN's first cell is numbered 1 as in a new kernel."""
    dirty, clean = records(workdir, {"dirty": DIRTY, "clean": CLEAN})
    build.execute_runs([dirty, clean], minimal, workers=1, log=lambda _: None, reuse_kernels=True)
    assert pid(dirty) == pid(clean)
    executed = nbformat.read(clean.notebook_out, as_version=4)
    assert [c.execution_count for c in executed.cells if c.cell_type == "code"] == [1, 2, 3]


def test_runs_share_a_kernel_only_when_reused(workdir, minimal, monkeypatch):
    """Test 2: two runs on one worker share its kernel; with BOOK_KERNELS=new they do not."""
    first, second = records(workdir, {"a": CLEAN, "b": CLEAN})
    build.execute_runs([first, second], minimal, workers=1, log=lambda _: None)
    assert pid(first) == pid(second)
    monkeypatch.setenv("BOOK_KERNELS", "new")
    build.execute_runs([first, second], minimal, workers=1, log=lambda _: None)
    assert pid(first) != pid(second)
    monkeypatch.setenv("BOOK_KERNELS", "fresh")
    with pytest.raises(ValueError, match="BOOK_KERNELS='fresh': expected 'reuse' .* or 'new'"):
        reuse_enabled()


def test_a_failed_runs_kernel_is_not_reused(workdir, minimal):
    """Test 3: after a failure the worker's kernel is shut down; its next run gets a new one."""
    before, failing, after = records(workdir, {"before": CLEAN, "failing": FAIL, "after": CLEAN})
    kernel = WorkerKernel()
    try:
        build.execute_run(before, minimal, kernel)
        km = kernel.km
        with pytest.raises(build.NotebookRunError, match="this run fails"):
            build.execute_run(failing, minimal, kernel)
        assert kernel.km is None and not km.has_kernel
        build.execute_run(after, minimal, kernel)
        assert pid(after) != pid(before)
    finally:
        kernel.shutdown()


# ----------------------------------------------------------------------------- the book's runs
#: Figures in the house style (rcParams), a statsmodels fit, a table, the audit.
BOOK_RUNS = ("durability", "longitudinal", "safety", "audit")


def execute_book_runs(order: tuple[str, ...], reuse: bool, base: Path, dataset, warm: bool = False) -> dict:
    plan = {run.id: run for run in build.load_run_plan()}
    recs = [build.RunRecord(plan[run_id], "k", base / run_id) for run_id in order]
    started = build.Workers(1, reuse, preload_code([plan[r].notebook for r in order])) if warm else None
    build.execute_runs(recs, dataset, workers=1, log=lambda _: None, reuse_kernels=reuse, started=started)
    outputs = {}
    for record in recs:
        files = {p.relative_to(record.output_dir).as_posix(): p.read_bytes()
                 for p in sorted(record.output_dir.rglob("*")) if p.is_file()}
        outputs[record.run.id] = (record.notebook_out.read_bytes(), files)
    return outputs


@pytest.mark.slow
def test_book_runs_in_one_reused_kernel_equal_new_kernels(workdir, minimal):
    """Test 4: same bytes in every output file and in the executed notebooks (outputs,
    execution counts, metadata), whatever ran before in the kernel, and in a kernel warmed with
    the notebooks' imports before its first run (what the book build does while it validates)."""
    new = execute_book_runs(BOOK_RUNS, False, workdir, minimal)
    forward = execute_book_runs(BOOK_RUNS, True, workdir, minimal)
    backward = execute_book_runs(BOOK_RUNS[::-1], True, workdir, minimal)
    warmed = execute_book_runs(BOOK_RUNS[::-1], True, workdir, minimal, warm=True)
    for run_id in BOOK_RUNS:
        assert forward[run_id][1].keys() == new[run_id][1].keys(), run_id
        for name in new[run_id][1]:
            assert forward[run_id][1][name] == new[run_id][1][name], f"{run_id}/{name} after {BOOK_RUNS}"
            assert backward[run_id][1][name] == new[run_id][1][name], f"{run_id}/{name} after {BOOK_RUNS[::-1]}"
            assert warmed[run_id][1][name] == new[run_id][1][name], f"{run_id}/{name} in a warmed kernel"
        assert forward[run_id][0] == new[run_id][0], run_id
        assert backward[run_id][0] == new[run_id][0], run_id
        assert warmed[run_id][0] == new[run_id][0], run_id


def test_executed_notebook_bytes_do_not_depend_on_the_execution(workdir, minimal):
    """Test 5: no timing, no cache path, no random cell id in the published notebook."""
    (first,) = records(workdir, {"a": CLEAN})
    second = build.RunRecord(first.run, "other-key", workdir / "entries" / "a-again")
    build.execute_runs([first, second], minimal, workers=1, log=lambda _: None)
    assert first.output_dir != second.output_dir
    published = first.notebook_out.read_bytes()
    assert published == second.notebook_out.read_bytes()
    text = published.decode()
    assert "book/generated/a" in text and "entries" not in text and "start_time" not in text


# ----------------------------------------------------------------------------- early start
def test_workers_start_early_only_when_a_run_may_be_stale(tmp_path):
    """Test 6: before the analysis is imported, the build starts workers for the runs one of whose
    recorded inputs changed since the last successful build (all of them without a record, or
    for another dataset folder), and none when nothing a key reads changed or only an
    unanalysed cell did (a drug name)."""
    data = tmp_path / "data"
    shutil.copytree(paths.TEST_DATASET, data)
    record = tmp_path / "inputs.json"
    plan = build.load_run_plan()

    def start(workers=2):
        return build.start_workers_early(build.RUNPLAN, data_dir=data, workers=workers, inputs_path=record)

    def edit(old, new):
        text = (data / "medications.csv").read_text()
        assert old in text
        (data / "medications.csv").write_text(text.replace(old, new, 1))

    first = start(workers=1)
    try:
        assert first.workers is not None and len(first.workers._threads) == 1 and first.maybe_stale == []
    finally:
        first.workers.close()
    info = build.describe_dataset(data)
    build.record_inputs({run.id: (run.notebook, build.run_inputs(run, info, build.RUNPLAN)) for run in plan}, data,
                        record)
    again = start()
    assert again.workers is None
    edit("Methotrexate", "Methotrexate sodium")
    assert start().workers is None
    edit("2012-04-01", "2012-04-02")
    one = start()
    try:
        assert one.maybe_stale == sorted(r.id for r in plan if "medications.csv" in r.inputs) != []
        assert len(one.workers._threads) == 2
    finally:
        one.workers.close()
    assert not any(t.is_alive() for t in one.workers._threads)
    assert build.stale_runs(tmp_path, record) is None  # recorded for another folder


def test_a_warm_up_that_fails_leaves_the_run_to_report_it(workdir, minimal):
    """Test 7: a preload that raises (a module that does not import) leaves no kernel; the run
    then starts a new kernel and fails from its own cell, with the usual report."""
    (broken,) = records(workdir, {"broken": "import analysis_no_such_module"})
    kernel = WorkerKernel()
    try:
        assert kernel.warm("import analysis_no_such_module") is False and kernel.km is None
        with pytest.raises(build.NotebookRunError, match="analysis_no_such_module"):
            build.execute_run(broken, minimal, kernel)
    finally:
        kernel.shutdown()


def test_ended_workers_skip_the_imports(minimal):
    """Test 8: workers ended before their kernel is up (no run was stale) skip the preload."""
    workers = build.Workers(1, True, preload="import time; time.sleep(30)")
    start = time.perf_counter()
    workers.close()
    waited = time.perf_counter() - start
    assert waited < 25, f"closing waited {waited:.1f} s for a preload no run needed"
