"""The ensemble on real Dask processes: a scheduler and two workers on 127.0.0.1.

Test 1: the same small ensemble through ``--scheduler`` and through a ``LocalCluster`` gives
byte-identical outputs, whose rows equal the committed ensemble's for the same reconstructions.
Test 2: a worker killed mid-run: the scheduler reschedules its task, the run finishes, and the
output is the same.
Test 3: a rerun computes only the reconstructions whose parts are missing (resume).
"""
from __future__ import annotations

import subprocess
import sys
import time

import pytest
from ensemble_support import assert_rows_equal_committed, output_bytes, run_cli

from analysis import paths

pytestmark = pytest.mark.slow
N = 3


def test_1_scheduler_run_equals_local_cluster_and_committed_rows(dask_cluster, tmp_path):
    cluster = dask_cluster(2)
    remote = run_cli("--n", str(N), "--scheduler", cluster.address, "--out", str(tmp_path / "remote"),
                     "--work", str(tmp_path / "work-remote"))
    assert remote.returncode == 0, remote.stderr[-3000:]
    assert f"scheduler {cluster.address}" in remote.stdout
    local = run_cli("--n", str(N), "--workers", "2", "--out", str(tmp_path / "local"),
                    "--work", str(tmp_path / "work-local"))
    assert local.returncode == 0, local.stderr[-3000:]
    assert "local cluster" in local.stdout
    assert output_bytes(tmp_path / "remote") == output_bytes(tmp_path / "local")
    assert assert_rows_equal_committed(tmp_path / "remote") > 0


def test_2_killed_worker_run_finishes_with_identical_output(dask_cluster, tmp_path):
    cluster = dask_cluster(2)
    work = tmp_path / "work"
    proc = subprocess.Popen([sys.executable, "-m", "analysis.ensemble", "--no-progress", "--n", "4",
                             "--scheduler", cluster.address, "--out", str(tmp_path / "out"), "--work", str(work)],
                            cwd=paths.ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline and not list(work.glob("*/r*.json")):
        assert proc.poll() is None, proc.communicate()[1][-3000:]
        time.sleep(0.2)
    parts_before_kill = len(list(work.glob("*/r*.json")))
    assert 1 <= parts_before_kill < 4
    cluster.kill_worker(0)
    stdout, stderr = proc.communicate(timeout=600)
    assert proc.returncode == 0, stderr[-3000:]
    assert "4 of 4 reconstructions reproduce every published value" in stdout
    assert assert_rows_equal_committed(tmp_path / "out") > 0


def test_3_rerun_resumes_with_only_the_missing_reconstructions(tmp_path):
    args = ["--n", "2", "--workers", "1", "--out", str(tmp_path / "out"), "--work", str(tmp_path / "work")]
    first = run_cli(*args)
    assert first.returncode == 0, first.stderr[-3000:]
    before = output_bytes(tmp_path / "out")
    parts = sorted((tmp_path / "work").glob("*/r*.json"))
    assert len(parts) == 2
    parts[1].unlink()  # as if the run had been interrupted before reconstruction 1 was written
    second = run_cli(*args)
    assert second.returncode == 0, second.stderr[-3000:]
    assert "1 of 2 reconstructions already computed, 1 to run" in second.stdout
    assert output_bytes(tmp_path / "out") == before
    third = run_cli(*args)
    assert "to run" not in third.stdout  # nothing left to compute
    assert output_bytes(tmp_path / "out") == before
