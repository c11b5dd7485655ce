"""One build per checkout at a time: the build lock."""
from __future__ import annotations

import fcntl
import json
import os
import sys
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from analysis import paths
from analysis.build.errors import BuildError, Log

#: Held by the build that runs notebooks, publishes and reads pages; the second build of the
#: same checkout waits for it (or, with ``BOOK_LOCK=fail``, stops at once naming the holder).
LOCK_FILE = paths.BUILD / "book.lock"


@dataclass
class BuildLock:
    """An exclusive ``fcntl.flock`` on :data:`LOCK_FILE`, held until :meth:`release` or until
    the process ends (the kernel drops the lock of a killed build, so it never goes stale)."""

    path: Path
    handle: object = None

    def release(self) -> None:
        if self.handle is not None:
            # A released lock names no holder: only a killed build leaves its record behind.
            self.handle.seek(0)
            self.handle.truncate()
            self.handle.flush()
            fcntl.flock(self.handle, fcntl.LOCK_UN)
            self.handle.close()
            self.handle = None


def _describe_holder(text: str) -> tuple[str, int | None]:
    """``(description, pid)`` of the build recorded in a lock file's text."""
    try:
        holder = json.loads(text)
        return (f"build pid {holder['pid']} started {holder['started']} ({holder['command']})",
                int(holder["pid"]))
    except (ValueError, KeyError, TypeError):
        return "a build that has not yet recorded itself", None


def _pid_alive(pid: int | None) -> bool:
    if pid is None:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def acquire_build_lock(path: Path = LOCK_FILE, wait: bool | None = None, log: Log = print,
                       poll_seconds: float = 0.5) -> BuildLock:
    """Take the build lock of this checkout (run cache, ``book/generated``, the registry and
    Sphinx's outputs), saying who holds it if it is taken.

    ``wait`` (default: unless ``$BOOK_LOCK`` is ``fail``) waits for the other build, naming it
    once; otherwise :class:`BuildError` names it at once. A lock file left by a build that was
    killed names a process that no longer runs: its lock is free, and this build takes it over
    and says so.
    """
    wait = os.environ.get("BOOK_LOCK", "wait") != "fail" if wait is None else wait
    path.parent.mkdir(parents=True, exist_ok=True)
    handle = open(path, "a+", encoding="utf-8")  # noqa: SIM115 - held open for the lock's lifetime
    announced = False
    while True:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            break
        except BlockingIOError:
            handle.seek(0)
            holder, _pid = _describe_holder(handle.read())
            if not wait:
                handle.close()
                raise BuildError(f"another build of this checkout is running: {holder}; it holds {path}. "
                                 f"Wait for it to finish, or unset BOOK_LOCK=fail to wait automatically.") from None
            if not announced:
                log(f"[reproduce] waiting for {holder} to finish (it holds {path})")
                announced = True
            time.sleep(poll_seconds)
    handle.seek(0)
    previous, pid = _describe_holder(handle.read())
    if pid is not None and pid != os.getpid() and not _pid_alive(pid):
        log(f"[reproduce] taking over the build lock left by {previous}, which is no longer running")
    elif announced:
        log("[reproduce] the other build has finished; continuing")
    handle.seek(0)
    handle.truncate()
    handle.write(json.dumps({"pid": os.getpid(), "started": datetime.now(timezone.utc).isoformat(timespec="seconds"),
                             "command": " ".join(os.path.basename(a) if i == 0 else a
                                                 for i, a in enumerate(sys.argv))[:200]}))
    handle.flush()
    return BuildLock(path, handle)
