"""Fixtures of the ensemble tests: real Dask scheduler and worker processes on 127.0.0.1."""
from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest

DASK = Path(sys.executable).parent / "dask"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_for_port(port: int, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.2)
    raise TimeoutError(f"nothing listens on 127.0.0.1:{port} after {timeout} s")


@dataclass
class Cluster:
    """A scheduler and workers, each its own process group (so a kill takes the nanny too)."""

    address: str
    scheduler: subprocess.Popen
    workers: list[subprocess.Popen] = field(default_factory=list)
    logs: Path | None = None

    def wait_for_workers(self, n: int, timeout: float = 90.0) -> None:
        from distributed import Client

        with Client(self.address, timeout=30, set_as_default=False) as client:
            client.wait_for_workers(n, timeout=timeout)

    def kill_worker(self, i: int) -> None:
        os.killpg(self.workers[i].pid, signal.SIGKILL)
        self.workers[i].wait(30)

    def stop(self) -> None:
        for proc in [*self.workers, self.scheduler]:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
        for proc in [*self.workers, self.scheduler]:
            try:
                proc.wait(20)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)


@pytest.fixture
def dask_cluster(tmp_path):
    """``dask_cluster(n_workers)`` -> a running :class:`Cluster`; stopped after the test."""
    started: list[Cluster] = []

    def start(n_workers: int = 2) -> Cluster:
        port = free_port()
        address = f"tcp://127.0.0.1:{port}"
        logs = tmp_path / f"dask-{port}"
        logs.mkdir()

        def spawn(args, name):
            # the child keeps its own copy of the descriptor, so the log can be closed here
            with open(logs / f"{name}.log", "w") as out:
                return subprocess.Popen([str(DASK), *args], stdout=out, stderr=subprocess.STDOUT,
                                        start_new_session=True, cwd=tmp_path)

        scheduler = spawn(["scheduler", "--host", "127.0.0.1", "--port", str(port), "--no-dashboard"], "scheduler")
        cluster = Cluster(address, scheduler, logs=logs)
        started.append(cluster)
        _wait_for_port(port)
        for i in range(n_workers):
            cluster.workers.append(spawn(["worker", address, "--nthreads", "1", "--nworkers", "1", "--no-dashboard",
                                          "--host", "127.0.0.1", "--name", f"w{i}"], f"worker{i}"))
        cluster.wait_for_workers(n_workers)
        return cluster

    yield start
    for cluster in started:
        cluster.stop()
