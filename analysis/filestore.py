"""Content-addressed stores of files: one folder per key, complete or absent, the most recently
used kept.

Two caches keep finished work this way: ``make verify``'s stored verifications
(:mod:`analysis.build.verifycache`) and the book's drawn figures (:func:`analysis.figures.export_plot`).
An entry is written to a staging folder and renamed into place, so a reader never sees a
partial one; reading an entry marks it used (its folder's modification time), and storing one
removes all but the ``keep`` most recently used. Several processes (two builds, two notebook
kernels) may share a store: an entry removed or stored by another one meanwhile is not an error.
"""
from __future__ import annotations

import os
import shutil
from collections.abc import Iterable, Mapping
from pathlib import Path


def find_entry(store: Path, key: str, names: Iterable[str]) -> Path | None:
    """The folder of ``key`` in ``store`` if it holds every file of ``names`` (marked as the most
    recently used), else ``None``.

    Examples
    --------
    >>> import tempfile
    >>> store = Path(tempfile.mkdtemp())
    >>> find_entry(store, "k", ["a.txt"]) is None
    True
    >>> _ = store_entry(store, "k", {"a.txt": b"A"}, keep=2)
    >>> (find_entry(store, "k", ["a.txt"]) / "a.txt").read_text()
    'A'
    """
    entry = Path(store) / key
    if not all((entry / name).is_file() for name in names):
        return None
    try:
        os.utime(entry)  # most recently used first, so that another process's pruning keeps it
    except FileNotFoundError:  # pruned meanwhile
        return None
    return entry


def store_entry(store: Path, key: str, files: Mapping[str, Path | bytes], keep: int) -> Path:
    """Store ``files`` (name -> a file to copy, or its bytes) as the entry ``key`` of ``store``,
    replacing an entry of that key, then keep the ``keep`` most recently used entries."""
    store = Path(store)
    entry = store / key
    staging = store / f".{key}.{os.getpid()}"
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    for name, content in files.items():
        if isinstance(content, bytes):
            (staging / name).write_bytes(content)
        else:
            shutil.copyfile(content, staging / name)
    shutil.rmtree(entry, ignore_errors=True)
    try:
        staging.rename(entry)
    except OSError:  # another process stored the same key meanwhile
        shutil.rmtree(staging, ignore_errors=True)
    prune_entries(store, keep)
    return entry


def prune_entries(store: Path, keep: int) -> None:
    """Remove all but the ``keep`` most recently used entries of ``store`` (staging folders,
    named with a leading dot, are left to the process writing them)."""
    used = {}
    for entry in Path(store).iterdir():
        try:
            if entry.is_dir() and not entry.name.startswith("."):
                used[entry] = entry.stat().st_mtime
        except FileNotFoundError:  # removed meanwhile by another process's pruning
            continue
    for stale in sorted(used, key=used.get, reverse=True)[keep:]:
        shutil.rmtree(stale, ignore_errors=True)
