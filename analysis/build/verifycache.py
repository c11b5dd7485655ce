"""The cache of ``make verify``: a verification of exactly the same inputs is not computed again.

``python -m analysis verify`` validates the dataset, computes every result and compares it with
the published registry (:func:`analysis.pipeline.run_verify`). What it prints, the two files it
writes (``results.csv``, ``reproduction.csv``) and its exit status are a function of:

* every file of the dataset folder (by content, recursively: :func:`~analysis.build.hashing.hash_tree`,
  and the folder's resolved path);
* the source of the ``analysis`` modules :mod:`analysis.pipeline` reaches, at module level and
  inside functions (:func:`analysis.codegraph.import_closure`);
* the repository sources it reads, :data:`SOURCES` (the published registry and the
  reconstruction ensemble; :func:`analysis.paths.check_source` refuses any other while it
  computes, so this list cannot fall behind the code);
* ``requirements.lock``, the Python version and the machine architecture.

:func:`verify_key` hashes these; a successful verification (exit 0 or 1: the dataset was valid)
is stored under ``_build/verify-cache/<key>/``, and a later verification with the same key
publishes the stored files and prints the stored report. An invalid dataset is never stored, so
its report is always produced afresh. ``--recompute`` ignores the stored entry.

This module imports no pandas: a verification that hits the cache takes the interpreter's
start-up, the build lock's import and a few milliseconds of hashing.
"""
from __future__ import annotations

import hashlib
import json
import platform
import shutil
import sys
from pathlib import Path

from analysis import paths
from analysis.build.hashing import hash_file, hash_sources, hash_tree
from analysis.build.lock import LOCK_FILE, acquire_build_lock
from analysis.codegraph import digest_files, import_closure, load_import_memo, save_import_memo
from analysis.filestore import find_entry, store_entry

#: Bump to invalidate every stored verification.
CACHE_VERSION = "1"
VERIFY_CACHE = paths.BUILD / "verify-cache"
#: Repository sources a verification reads besides the dataset and the analysis code.
SOURCES = ("data/published", "data/ensemble")
#: Files of an entry: the two published files, the printed report and the exit status.
ENTRY_FILES = ("results.csv", "reproduction.csv", "report.txt", "status")
#: Entries kept (the most recently used).
KEEP = 8
#: Memo of each module's imports by content (its own: the book build's keeps the notebooks' modules).
IMPORT_MEMO = paths.BUILD / "verify-imports.json"


def verify_key(directory: Path, root: Path | None = None) -> str:
    """The cache key of verifying the dataset in ``directory`` (SHA-256, hex; see the module notes).

    Examples
    --------
    >>> key = verify_key(paths.TEST_DATASET)
    >>> len(key), key == verify_key(paths.TEST_DATASET), key == verify_key(paths.SYNTHETIC)
    (64, True, False)
    """
    root = paths.ROOT if root is None else Path(root)
    load_import_memo(IMPORT_MEMO)
    code = digest_files(list(import_closure(["analysis.pipeline"], root).values()), root)
    save_import_memo(IMPORT_MEMO)
    payload = {
        "version": CACHE_VERSION,
        "python": sys.version,
        "machine": platform.machine(),
        "dataset": {"path": str(Path(directory).resolve()), "files": hash_tree(Path(directory))},
        "code": code,
        "sources": hash_sources(SOURCES, root),
        "lock": hash_file(root / "requirements.lock"),
    }
    return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()


def store_verification(key: str, results_dir: Path, report: str, status: int,
                       cache_dir: Path = VERIFY_CACHE) -> Path:
    """Store a finished verification: the files it wrote to ``results_dir``, its report, its
    exit status (:func:`analysis.filestore.store_entry`: an entry is complete or absent)."""
    files = {name: results_dir / name for name in ENTRY_FILES[:2]}
    files.update({"report.txt": report.encode("utf-8"), "status": f"{status}\n".encode()})
    return store_entry(cache_dir, key, files, keep=KEEP)


def replay_verification(key: str, results_dir: Path = paths.RESULTS, lock_path: Path = LOCK_FILE,
                        cache_dir: Path = VERIFY_CACHE) -> int | None:
    """Publish a stored verification of ``key`` (under the build lock, as a computed one is)
    and print its report; return its exit status, or ``None`` when none is stored."""
    entry = find_entry(cache_dir, key, ENTRY_FILES)
    if entry is None:
        return None
    lock = acquire_build_lock(lock_path, log=lambda message: print(message, file=sys.stderr))
    try:
        results_dir.mkdir(parents=True, exist_ok=True)
        for name in ENTRY_FILES[:2]:
            tmp = results_dir / f"{name}.tmp"
            shutil.copyfile(entry / name, tmp)
            tmp.replace(results_dir / name)
    finally:
        lock.release()
    print("verify: the dataset, the analysis code, the published values and the lock are those of a "
          "stored verification; its results are published again (--recompute computes them)")
    print((entry / "report.txt").read_text(encoding="utf-8"), end="")
    return int((entry / "status").read_text(encoding="utf-8"))

