"""The cache of `make verify` (analysis.build.verifycache): exact, or not used.

A stored verification is replayed only for the same dataset files, analysis code, published
values, ensemble and lock; what it publishes is byte for byte what a computation writes; an
invalid dataset is never stored; and while verify computes, reading a repository source its key
does not cover raises.
"""
from __future__ import annotations

import shutil
import subprocess
import sys

import pytest

from analysis import paths, pipeline
from analysis.build import verifycache

MINIMAL = paths.TEST_DATASET


def verify_cli(*args: str) -> subprocess.CompletedProcess:
    """`python -m analysis verify ARGS` in a fresh process; its last stdout line says whether
    the statistics were imported."""
    code = ("import sys; from analysis.__main__ import main; status = main(['verify', *sys.argv[1:]]); "
            "print('imported statistics:', 'analysis.tables' in sys.modules); sys.exit(status)")
    return subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, cwd=paths.ROOT)


@pytest.fixture
def repo(tmp_path):
    """The parts of the repository a verification key reads: analysis/, data/published,
    data/ensemble and the lock, copied."""
    root = tmp_path / "repo"
    shutil.copytree(paths.ROOT / "analysis", root / "analysis", ignore=shutil.ignore_patterns("__pycache__"))
    for source in verifycache.SOURCES:
        shutil.copytree(paths.ROOT / source, root / source)
    shutil.copy2(paths.ROOT / "requirements.lock", root / "requirements.lock")
    shutil.copytree(MINIMAL, root / "dataset")
    return root


def test_a_second_verification_replays_the_first_exactly(tmp_path):
    """Test 1: the same inputs twice: the second run does not import the statistics, prints the
    same report (after one line saying so), exits the same, and publishes the same bytes."""
    dataset = tmp_path / "minimal"
    shutil.copytree(MINIMAL, dataset)
    first = verify_cli(str(dataset), "--recompute")
    assert first.returncode in (0, 1), first.stderr[-2000:]
    assert first.stdout.splitlines()[-1] == "imported statistics: True"
    written = {name: (paths.RESULTS / name).read_bytes() for name in ("results.csv", "reproduction.csv")}
    second = verify_cli(str(dataset))
    assert second.returncode == first.returncode
    assert second.stdout.splitlines()[-1] == "imported statistics: False"
    notice, *report = second.stdout.splitlines()[:-1]
    assert notice.startswith("verify: the dataset, the analysis code, the published values and the lock are those")
    assert report == first.stdout.splitlines()[:-1]
    assert report[-1].startswith("verify: ") and "published values reproduced" in report[-1]
    assert {name: (paths.RESULTS / name).read_bytes() for name in written} == written
    # --recompute computes again.
    assert verify_cli(str(dataset), "--recompute").stdout.splitlines()[-1] == "imported statistics: True"


def test_the_key_changes_with_every_input_it_covers(repo):
    """Test 2: one byte of a dataset file, a new file in the dataset folder, a module verify
    imports, a published value, the ensemble or the lock each change the key; a module verify
    does not import (the benchmark) does not."""
    def key() -> str:
        return verifycache.verify_key(repo / "dataset", repo)

    keys = [key()]
    edits = [
        lambda: (repo / "dataset" / "visits.csv").write_bytes((repo / "dataset" / "visits.csv").read_bytes() + b"\n"),
        lambda: (repo / "dataset" / "notes.txt").write_text("a note"),
        lambda: (repo / "analysis" / "safety.py").write_text((repo / "analysis" / "safety.py").read_text() + "\n#\n"),
        lambda: (repo / "data" / "published" / "table2.csv").write_text(
            (repo / "data" / "published" / "table2.csv").read_text() + "\n"),
        lambda: (repo / "data" / "ensemble" / "README.md").write_text("edited"),
        lambda: (repo / "requirements.lock").write_text((repo / "requirements.lock").read_text() + "\n"),
    ]
    for edit in edits:
        edit()
        keys.append(key())
    assert len(set(keys)) == len(keys)
    (repo / "analysis" / "bench.py").write_text((repo / "analysis" / "bench.py").read_text() + "\n#\n")
    assert key() == keys[-1]


def test_an_invalid_dataset_is_never_stored(tmp_path):
    """Test 3: a dataset that breaks the contract exits 2 with its report each time; no entry."""
    dataset = tmp_path / "bad"
    shutil.copytree(MINIMAL, dataset)
    visits = dataset / "visits.csv"
    lines = visits.read_text().splitlines()
    assert lines[0].split(",")[1] == "AVISITN"
    cells = lines[1].split(",")
    cells[1] = "-3"  # AVISITN must be >= 0
    lines[1] = ",".join(cells)
    visits.write_text("\n".join(lines) + "\n")
    key = verifycache.verify_key(dataset)
    for _ in range(2):
        result = verify_cli(str(dataset))
        assert result.returncode == 2 and "invalid dataset" in result.stderr
        assert "AVISITN" in result.stderr
    assert not (verifycache.VERIFY_CACHE / key).exists()


def test_reading_a_source_the_key_does_not_cover_raises(tmp_path, monkeypatch):
    """Test 4: while verify computes, only verifycache.SOURCES may be read: code that reads
    another repository source fails instead of leaving a stale entry."""
    def reads_the_book(dataset):
        paths.check_source(paths.ROOT / "book" / "intro.md")

    monkeypatch.setattr(pipeline, "compute_results", reads_the_book)
    with pytest.raises(RuntimeError, match="reads book/intro.md, which it does not declare"):
        pipeline.run_verify(MINIMAL, results_dir=tmp_path, lock_path=tmp_path / "lock", cache_key="k")
    paths.check_source(paths.ROOT / "book" / "intro.md")  # lifted afterwards
    assert not (verifycache.VERIFY_CACHE / "k").exists()


def test_store_keeps_the_most_recent_entries(tmp_path):
    """Test 5: the cache holds at most verifycache.KEEP entries, the most recently used."""
    results = tmp_path / "results"
    results.mkdir()
    for name in ("results.csv", "reproduction.csv"):
        (results / name).write_text(name)
    cache = tmp_path / "cache"
    for i in range(verifycache.KEEP + 3):
        verifycache.store_verification(f"k{i:02d}", results, "report\n", 0, cache_dir=cache)
    kept = sorted(p.name for p in cache.iterdir())
    assert len(kept) == verifycache.KEEP and "k00" not in kept and f"k{verifycache.KEEP + 2:02d}" in kept
