"""The build lock (issue 10, item 8): a second build of one checkout waits for the first, or
stops at once naming it; a lock left by a killed build is taken over. The holders here are
real processes (``fcntl.flock`` is per process); two real ``jupyter-book build`` processes are
in tests/build/test_book_build.py."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time

import pytest

from analysis import build, paths, pipeline

HOLDER = textwrap.dedent("""
    import sys, time
    from pathlib import Path
    from analysis import build
    lock = build.acquire_build_lock(Path(sys.argv[1]), wait=False)
    print("held", flush=True)
    time.sleep(float(sys.argv[2]))
    lock.release()
""")


def start_holder(path, seconds: float) -> subprocess.Popen:
    proc = subprocess.Popen([sys.executable, "-c", HOLDER, str(path), str(seconds)], cwd=paths.ROOT,
                            stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "held"
    return proc


def test_second_build_fails_at_once_naming_the_holder(tmp_path):
    """Test 1: with wait=False (BOOK_LOCK=fail) the error names the holder's pid and start time."""
    holder = start_holder(tmp_path / "book.lock", 30)
    try:
        with pytest.raises(build.BuildError, match=rf"another build of this checkout is running: build pid "
                                                  rf"{holder.pid} started 20\d\d-"):
            build.acquire_build_lock(tmp_path / "book.lock", wait=False)
    finally:
        holder.kill()
        holder.wait()


def test_second_build_waits_for_the_first_and_says_so(tmp_path):
    """Test 2: the second acquirer logs who it waits for and gets the lock once it is released."""
    holder = start_holder(tmp_path / "book.lock", 1.5)
    messages = []
    start = time.perf_counter()
    lock = build.acquire_build_lock(tmp_path / "book.lock", wait=True, log=messages.append, poll_seconds=0.1)
    waited = time.perf_counter() - start
    lock.release()
    holder.wait()
    assert messages[0].startswith(f"[reproduce] waiting for build pid {holder.pid} started ")
    assert messages[-1] == "[reproduce] the other build has finished; continuing"
    assert waited > 0.5


def test_lock_of_a_killed_build_is_taken_over(tmp_path):
    """Test 3: a build killed with SIGKILL leaves its record but not its lock: the next build
    takes it over at once and names the dead build."""
    holder = start_holder(tmp_path / "book.lock", 60)
    os.kill(holder.pid, signal.SIGKILL)
    holder.wait()
    messages = []
    lock = build.acquire_build_lock(tmp_path / "book.lock", wait=False, log=messages.append)
    lock.release()
    assert messages == [f"[reproduce] taking over the build lock left by build pid {holder.pid} started "
                        f"{messages[0].split(' started ')[1].split(' ')[0]} (-c {tmp_path / 'book.lock'} 60), "
                        "which is no longer running"]


def test_a_finished_build_leaves_no_holder_to_take_over(tmp_path):
    """Test 4: a build that released its lock (the normal end) is not reported as taken over."""
    holder = start_holder(tmp_path / "book.lock", 0)
    holder.wait()
    messages = []
    lock = build.acquire_build_lock(tmp_path / "book.lock", wait=False, log=messages.append)
    lock.release()
    assert messages == []
    assert (tmp_path / "book.lock").read_text() == ""


def test_verify_waits_for_a_build_before_writing_the_registry(tmp_path, capsys):
    """Test 5: `make verify` writes the registry the book publishes; while a build holds the
    lock it waits, says for whom, and writes once the build has finished (the holder holds the
    lock longer than verify computes, even on a loaded machine)."""
    start = time.perf_counter()
    holder = start_holder(tmp_path / "book.lock", 10)
    status = pipeline.run_verify(paths.ROOT / "tests" / "data" / "minimal", results_dir=tmp_path,
                                 lock_path=tmp_path / "book.lock")
    assert time.perf_counter() - start >= 10, "verify wrote while the build still held the lock"
    holder.wait()
    assert status in (0, 1)
    assert f"[reproduce] waiting for build pid {holder.pid} started " in capsys.readouterr().err
    assert (tmp_path / "results.csv").is_file() and (tmp_path / "reproduction.csv").is_file()
