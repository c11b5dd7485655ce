"""Benchmarks of the build and of the analysis: ``python -m analysis.bench`` (``make bench``).

Two groups of measurements, written to ``_build/bench/`` (``bench.json``, one CSV per group
and ``bench.md``, the tables the README shows):

**book** -- wall time of ``make book`` in a throw-away copy of the repository (the tracked
and untracked, not ignored, files of the working tree; ``.venv`` is a symlink to this
checkout's), never in the working tree itself:

1. clean build (no ``_build/``, no ``book/generated/``): every run of the run plan executes;
2. rebuild with nothing changed: the runner must report ``N cached, 0 to execute``;
3. rebuild after appending a line to ``book/methods.md``: no notebook may run;
4. rebuild after editing one dataset file (``medications.csv``, then ``adverse_events.csv``):
   only the runs that declare it as an input execute;
5. for comparison, in the same copy: a full Sphinx build with the run cache warm (what a
   build costs besides executing notebooks), Jupyter Book's own forced execution of the
   same executed notebooks (``execute_notebooks: force`` through a temporary ``--config``
   file, with our runner fully cached, so the notebooks are executed by myst-nb/nbclient,
   one after the other), our clean build with one worker (``BOOK_WORKERS=1``), which
   separates the gain of parallel kernels from the rest, and our clean build with a new
   kernel for every run (``BOOK_KERNELS=new``), which measures what reusing each worker's
   kernel saves.

**scale** -- the analysis without the book (:func:`analysis.contract.load_dataset`,
:func:`analysis.tables.compute_results` and the comparison with the published registry,
:func:`analysis.verify.build_reproduction`, as ``make verify`` runs them) on cohorts made by
resampling the shipped synthetic cohort (:func:`resample_cohort`), each size in a fresh
Python process so its peak resident memory is its own; the growth of time with size is the
slope of a least-squares line through ``log(time)`` against ``log(patients)``. With
``--profile``, each size is run once more under ``cProfile`` and the cumulative time of every
``registry_*`` function is reported, which names the component that grows fastest.

Nothing here is a test: the numbers depend on the machine. The targets printed next to
them are the project's goals (clean build < 90 s, nothing changed < 10 s, prose edit < 15 s,
100,000 patients < 60 s and < 4 GB).
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
import pandas as pd

from analysis import paths
from analysis.contract import FILES

OUT = paths.BUILD / "bench"
CONTRACT_FILES = FILES  # the contract's tables, defined once in analysis.contract
#: Targets (seconds) of the book benchmarks, by step id.
BOOK_TARGETS = {"clean": 90.0, "nothing_changed": 10.0, "prose_edit": 15.0}
#: Targets of the scale benchmark at 100,000 patients.
SCALE_TARGET_SECONDS = 60.0
SCALE_TARGET_BYTES = 4 * 1024**3
DEFAULT_SIZES = (1_000, 10_000, 100_000)
#: Environment variables of a parent ``make`` that must not leak into the copy's ``make``
#: (``make bench DATA_DIR=x`` would otherwise pass DATA_DIR=x down through MAKEFLAGS).
_MAKE_VARS = ("MAKEFLAGS", "MFLAGS", "MAKELEVEL", "MAKEOVERRIDES", "MAKE_TERMOUT", "MAKE_TERMERR")
_ANSI = re.compile(r"\x1b\[[0-9;]*m")


# ----------------------------------------------------------------------------- repository copy
def copy_worktree(target: Path, source: Path = paths.ROOT) -> Path:
    """Copy the working tree's files (tracked, and untracked but not ignored) to ``target``.

    Outputs (``_build/``, ``book/generated/``) are git-ignored, so they are not copied;
    ``.venv`` becomes a symlink to ``source/.venv``. Falls back to copying the folders a
    build needs when ``source`` is not a git checkout.
    """
    target.mkdir(parents=True)
    listed = subprocess.run(["git", "ls-files", "-co", "--exclude-standard", "-z"], cwd=source,
                            capture_output=True, check=False)
    if listed.returncode == 0 and listed.stdout:
        names = [n for n in listed.stdout.decode().split("\0") if n]
        for name in names:
            src, dst = source / name, target / name
            if not (src.is_file() or src.is_symlink()):
                continue  # deleted in the working tree but still in the index
            dst.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dst, follow_symlinks=False)
    else:
        ignore = shutil.ignore_patterns("__pycache__", "*.pyc", "generated", ".ipynb_checkpoints")
        for name in ("analysis", "book", "data", "tests", "tools"):
            if (source / name).is_dir():
                shutil.copytree(source / name, target / name, ignore=ignore, symlinks=True)
        for name in ("Makefile", "_config.yml", "_toc.yml", "requirements.lock", "requirements.in",
                     "pyproject.toml"):
            shutil.copy2(source / name, target / name, follow_symlinks=False)
    (target / ".venv").symlink_to(source / ".venv")
    # Never let the copy's `make` rebuild the environment (it would replace the symlink with
    # a fresh venv and time pip instead of the book): the stamp must be up to date.
    check = subprocess.run(["make", "-q", ".venv/.installed"], cwd=target, env=clean_env(target),
                           capture_output=True)
    if check.returncode != 0:
        raise RuntimeError(f"{source}/.venv is missing or older than requirements.lock; run `make setup` first")
    return target


def clean_env(root: Path, **extra: str) -> dict[str, str]:
    """Environment of a command in the copy: no parent-make variables, the copy first on
    ``sys.path`` (the venv's .pth file points at the original checkout)."""
    env = {k: v for k, v in os.environ.items() if k not in _MAKE_VARS and k not in ("ANALYSIS_DATA_DIR", "BOOK_KERNELS")}
    env.update(PYTHONPATH=str(root), PYTHONHASHSEED="0", MPLBACKEND="Agg")
    env.update(extra)
    return env


# ----------------------------------------------------------------------------- one build
def parse_build_log(output: str) -> dict:
    """What the runner and Sphinx report in a build's output.

    Returns ``runs``, ``cached``, ``to_execute`` (from the runner's plan line), ``executed``
    (run ids, sorted), ``mystnb_executed`` (notebooks executed by Jupyter Book itself) and
    ``sphinx_env`` (Sphinx's ``added, changed, removed`` counts), ``None`` where absent.

    Examples
    --------
    >>> log = ("[reproduce] dataset d (synthetic); 9 runs, 8 cached, 1 to execute: medications\\n"
    ...        "[reproduce] executed medications in 1.6 s\\n"
    ...        "\\x1b[01mupdating environment: \\x1b[39;49;00m0 added, 2 changed, 0 removed\\n")
    >>> info = parse_build_log(log)
    >>> info["runs"], info["cached"], info["to_execute"], info["executed"], info["sphinx_env"]
    (9, 8, 1, ['medications'], '0 added, 2 changed, 0 removed')
    >>> parse_build_log("updating environment: [reproduce] re-reading 1 page(s) whose printed values "
    ...                 "changed: intro (dataset_version)\\n0 added, 2 changed, 0 removed\\n")["sphinx_env"]
    '0 added, 2 changed, 0 removed'
    """
    text = _ANSI.sub("", output)
    plan = re.search(r"\[reproduce\] dataset .*?; (\d+) runs, (\d+) cached, (\d+) to execute", text)
    # The book's extension may log a line between "updating environment:" and Sphinx's counts.
    env = re.search(r"updating environment: (?:.*\n)??.*?(\d+ added, \d+ changed, \d+ removed)", text)
    return {
        "runs": int(plan.group(1)) if plan else None,
        "cached": int(plan.group(2)) if plan else None,
        "to_execute": int(plan.group(3)) if plan else None,
        "executed": sorted(re.findall(r"\[reproduce\] executed (\w+) in ", text)),
        "mystnb_executed": len(re.findall(r": Executed notebook in ", text)),
        "sphinx_env": env.group(1) if env else None,
    }


#: CPU seconds (user + system, the command and every process it waited for, kernels included)
#: and the 1-minute load average before the start, of the last :func:`timed` command.
_LAST_USAGE: dict[str, float] = {}


def timed(args: list[str], root: Path, env: dict[str, str], log: Path) -> tuple[float, int, str]:
    """Run ``args`` in ``root``; return wall seconds, exit status and output (also saved to ``log``)."""
    import resource

    def children_cpu() -> float:
        usage = resource.getrusage(resource.RUSAGE_CHILDREN)
        return usage.ru_utime + usage.ru_stime

    load, cpu = os.getloadavg()[0], children_cpu()
    start = time.perf_counter()
    proc = subprocess.run(args, cwd=root, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          text=True, timeout=1800)
    seconds = time.perf_counter() - start
    _LAST_USAGE.update(cpu_s=children_cpu() - cpu, loadavg_1min_before=load)
    log.parent.mkdir(parents=True, exist_ok=True)
    log.write_text(proc.stdout, encoding="utf-8")
    return seconds, proc.returncode, proc.stdout


# ----------------------------------------------------------------------------- book benchmarks
def _runs_reading(root: Path, file: str) -> list[str]:
    import yaml

    plan = yaml.safe_load((root / "book" / "runplan.yml").read_text(encoding="utf-8"))
    return sorted(r["id"] for r in plan["runs"] if file in (r.get("inputs") or []))


def _edit_first_row(root: Path, file: str, column: str, change) -> str:
    """Replace ``column``'s cell in the first data row of ``data/synthetic/<file>`` by
    ``change(cell)``; return ``file``."""
    path = root / "data" / "synthetic" / file
    lines = path.read_text(encoding="utf-8").split("\n")
    col = lines[0].split(",").index(column)
    cells = lines[1].split(",")
    cells[col] = change(cells[col])
    lines[1] = ",".join(cells)
    path.write_text("\n".join(lines), encoding="utf-8")
    return file


def _tag(text: str, i: int) -> str:
    return f"{text.split(' (bench')[0]} (bench {i})"


def _edit_medications(root: Path, i: int) -> str:
    """Move one medication's start date (CMSTDT of the first row) a day later: a value Table 4
    reads, so every run reading medications.csv is stale."""
    def next_day(date: str) -> str:
        year, month, day = date.split("-")
        return f"{year}-{month}-{int(day) % 28 + 1:02d}"

    return _edit_first_row(root, "medications.csv", "CMSTDT", next_day)


def _edit_medication_name(root: Path, i: int) -> str:
    """Change one drug name (CMDECOD): the contract checks it, no result reads it, and runs do not
    see it (analysis.schema.UNANALYSED_COLUMNS), so no run is stale."""
    return _edit_first_row(root, "medications.csv", "CMDECOD", lambda name: _tag(name, i))


def _edit_adverse_events(root: Path, i: int) -> str:
    """Change one verbatim AE term (AETERM; the analysis uses AEDECOD): no run is stale."""
    return _edit_first_row(root, "adverse_events.csv", "AETERM", lambda term: _tag(term, i))


def _force_config(root: Path) -> Path:
    """A copy of ``_config.yml`` with Jupyter Book's own execution forced (timeout 10 min)."""
    text = (root / "_config.yml").read_text(encoding="utf-8")
    forced, n = re.subn(r'execute_notebooks:\s*"?off"?', "execute_notebooks: force\n  timeout: 600", text)
    if n != 1:
        raise RuntimeError("_config.yml: no `execute_notebooks: off` line to override")
    path = root / "_bench_force_config.yml"
    path.write_text(forced, encoding="utf-8")
    return path


def bench_book(workdir: Path, repeat: int = 3, log=print) -> list[dict]:
    """Run the book benchmarks in a copy of the repository under ``workdir``; return one row per step."""
    root = copy_worktree(workdir / "repo")
    logs = OUT / "logs"
    rows: list[dict] = []

    def make_book(step: str, **env_extra: str) -> tuple[float, dict, int]:
        seconds, rc, output = timed(["make", "book", "DATA_DIR=data/synthetic"], root,
                                    clean_env(root, **env_extra), logs / f"{step}.log")
        info = parse_build_log(output) | _LAST_USAGE
        if rc != 0:
            raise RuntimeError(f"bench step {step}: make book failed (exit {rc}); see {logs / (step + '.log')}")
        return seconds, info, rc

    def record(step: str, what: str, times: list[float], info: dict, expect: str, ok: bool) -> None:
        row = {"group": "book", "step": step, "what": what, "seconds": round(statistics.median(times), 2),
               "seconds_min": round(min(times), 2), "repeats": len(times),
               "cpu_s_last": round(info.get("cpu_s", float("nan")), 2),
               "loadavg_1min_before_last": round(info.get("loadavg_1min_before", float("nan")), 2),
               "target_seconds": BOOK_TARGETS.get(step), "runs": info.get("runs"),
               "cached": info.get("cached"), "to_execute": info.get("to_execute"),
               "executed": " ".join(info.get("executed") or []) or "-",
               "mystnb_executed": info.get("mystnb_executed"), "sphinx_env": info.get("sphinx_env"),
               "expectation": expect, "expectation_met": ok}
        target = row["target_seconds"]
        row["within_target"] = None if target is None else row["seconds"] < target
        rows.append(row)
        log(f"[bench] {step}: {row['seconds']:.1f} s (runner: {info.get('cached')} cached, "
            f"{info.get('to_execute')} to execute; sphinx: {info.get('sphinx_env')}); expectation met: {ok}")

    # 1. clean build
    for p in ("_build", "book/generated"):
        shutil.rmtree(root / p, ignore_errors=True)
    seconds, info, _ = make_book("clean")
    n_runs = info["runs"]
    record("clean", "clean build: rm -rf _build book/generated; make book", [seconds], info,
           "every run executed", info["cached"] == 0 and len(info["executed"]) == n_runs)
    clean_seconds = seconds

    # 2. nothing changed
    times, infos = [], []
    for i in range(repeat):
        s, inf, _ = make_book(f"nothing_changed_{i}")
        times.append(s)
        infos.append(inf)
    record("nothing_changed", "rebuild, nothing changed", times, infos[-1],
           f"{n_runs} cached, 0 to execute; Sphinx re-reads nothing",
           all(i["to_execute"] == 0 and i["executed"] == [] and (i["sphinx_env"] or "").startswith("0 added, 0 changed")
               for i in infos))

    # 3. prose edit
    times, infos = [], []
    for i in range(repeat):
        with open(root / "book" / "methods.md", "a", encoding="utf-8") as handle:
            handle.write(f"\n\nBenchmark edit {i}.\n")
        s, inf, _ = make_book(f"prose_edit_{i}")
        times.append(s)
        infos.append(inf)
    record("prose_edit", "rebuild after appending a line to book/methods.md", times, infos[-1],
           "0 to execute (no notebook runs)", all(i["to_execute"] == 0 and i["executed"] == [] for i in infos))

    # 4. one data file changed: a value runs read, then cells no result reads (not in runs' view)
    for step, edit, column, analysed in (("data_medications", _edit_medications, "CMSTDT", True),
                                         ("data_medication_name", _edit_medication_name, "CMDECOD", False),
                                         ("data_adverse_events", _edit_adverse_events, "AETERM", False)):
        times, infos = [], []
        file = None
        for i in range(repeat):
            file = edit(root, i)
            s, inf, _ = make_book(f"{step}_{i}")
            times.append(s)
            infos.append(inf)
        readers = _runs_reading(root, file) if analysed else []
        record(step, f"rebuild after editing one {column} cell of data/synthetic/{file}"
                     f"{'' if analysed else ' (no result reads it)'}", times, infos[-1],
               f"only the runs reading {file} execute: {', '.join(readers)}" if analysed else "no run executes",
               all(i["executed"] == readers for i in infos))

    # 5. comparison with Jupyter Book's own execution
    def drop_sphinx_outputs() -> None:
        for p in ("_build/html", "_build/.doctrees", "_build/jupyter_execute", "_build/.jupyter_cache"):
            shutil.rmtree(root / p, ignore_errors=True)

    drop_sphinx_outputs()
    seconds, info, _ = make_book("sphinx_only")
    record("sphinx_only", "full Sphinx build, run cache warm (rm -rf _build/html _build/.doctrees; make book)",
           [seconds], info, "0 to execute; every page read", info["to_execute"] == 0)
    sphinx_seconds = seconds

    drop_sphinx_outputs()
    config = _force_config(root)
    seconds, rc, output = timed(
        [str(root / ".venv" / "bin" / "jupyter-book"), "build", "book/", "-W", "--config", config.name],
        root, clean_env(root, ANALYSIS_DATA_DIR="data/synthetic"), logs / "jupyter_book_force.log")
    if rc != 0:
        raise RuntimeError(f"Jupyter Book forced build failed (exit {rc}); see {logs / 'jupyter_book_force.log'}")
    info = parse_build_log(output) | _LAST_USAGE
    record("jupyter_book_force",
           "Jupyter Book forced execution of the same executed notebooks (execute_notebooks: force, "
           "--config override), full Sphinx build, our runner cached",
           [seconds], info, f"myst-nb executes all {n_runs} notebooks, our runner none",
           info["mystnb_executed"] == n_runs and info["to_execute"] == 0)
    force_seconds = seconds
    config.unlink()

    for p in ("_build", "book/generated"):
        shutil.rmtree(root / p, ignore_errors=True)
    seconds, info, _ = make_book("clean_one_kernel", BOOK_WORKERS="1")
    record("clean_one_kernel", "clean build with one kernel at a time (BOOK_WORKERS=1)", [seconds], info,
           "every run executed", info["cached"] == 0 and len(info["executed"]) == n_runs)
    one_kernel_seconds = seconds

    for p in ("_build", "book/generated"):
        shutil.rmtree(root / p, ignore_errors=True)
    seconds, info, _ = make_book("clean_new_kernels", BOOK_KERNELS="new")
    record("clean_new_kernels", "clean build, a new kernel for every run (BOOK_KERNELS=new; the default reuses "
           "each worker's kernel)", [seconds], info,
           "every run executed", info["cached"] == 0 and len(info["executed"]) == n_runs)
    new_kernels_seconds = seconds

    nothing = next(r for r in rows if r["step"] == "nothing_changed")["seconds"]
    rows.append({"group": "book", "step": "ratios", "what": "ratios",
                 "force_over_clean": round(force_seconds / clean_seconds, 2),
                 "force_over_clean_one_kernel": round(force_seconds / one_kernel_seconds, 2),
                 "force_over_nothing_changed": round(force_seconds / nothing, 1),
                 "execution_force_s": round(force_seconds - sphinx_seconds, 2),
                 "execution_ours_clean_s": round(clean_seconds - sphinx_seconds, 2),
                 "execution_ours_one_kernel_s": round(one_kernel_seconds - sphinx_seconds, 2),
                 "new_kernels_over_clean": round(new_kernels_seconds / clean_seconds, 2),
                 "workers": os.environ.get("BOOK_WORKERS") or min(os.cpu_count() or 1, 4)})
    return rows


# ----------------------------------------------------------------------------- scale
def resample_cohort(source: Path, n_patients: int, out: Path, seed: int = 0) -> Path:
    """Write a cohort of ``n_patients`` drawn with replacement from the patients of ``source``.

    Each drawn patient keeps all their rows of the four files (in file order), dates
    included, under a new ``USUBJID`` (``BS-000001``, ...). Cells are copied as text, so the
    result meets the data contract whenever ``source`` does.

    Examples
    --------
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     out = resample_cohort(paths.TEST_DATASET, 20, Path(tmp) / "c", seed=1)
    ...     s = pd.read_csv(out / "subjects.csv", dtype=str)
    >>> len(s), s["USUBJID"].is_unique, s["USUBJID"].iloc[0]
    (20, True, 'BS-01')
    """
    rng = np.random.default_rng(seed)
    tables = {f: pd.read_csv(Path(source) / f, dtype=str, keep_default_na=False) for f in CONTRACT_FILES}
    ids = tables["subjects.csv"]["USUBJID"].to_numpy()
    pick = rng.integers(0, len(ids), size=n_patients)
    width = len(str(n_patients))
    new_ids = np.char.add("BS-", np.char.zfill(np.arange(1, n_patients + 1).astype(str), width))
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    for file, frame in tables.items():
        codes = pd.Categorical(frame["USUBJID"], categories=ids).codes
        order = np.argsort(codes, kind="stable")
        counts = np.bincount(codes[codes >= 0], minlength=len(ids))
        starts = np.concatenate(([0], np.cumsum(counts)[:-1]))
        n_rows, first = counts[pick], starts[pick]
        offsets = np.cumsum(n_rows) - n_rows
        within = np.arange(n_rows.sum()) - np.repeat(offsets, n_rows)
        rows = order[np.repeat(first, n_rows) + within]
        copy = frame.iloc[rows].copy()
        copy["USUBJID"] = np.repeat(new_ids, n_rows)
        copy.to_csv(out / file, index=False, lineterminator="\n")
    (out / "README.md").write_text(f"# Synthetic benchmark cohort\n\nSynthetic: {n_patients} patients resampled "
                                   f"with replacement (seed {seed}) from {source}.\n", encoding="utf-8")
    return out


def _scale_worker(directory: Path, profile: Path | None) -> dict:
    """Time one dataset in this process (called in a fresh subprocess by :func:`bench_scale`)."""
    import resource

    t0 = time.perf_counter()
    # Imported here, not at module level, because their import time is one of the measurements.
    from analysis.contract import load_dataset
    from analysis.published import load_published
    from analysis.results import write_results
    from analysis.tables import compute_results
    from analysis.verify import build_reproduction

    def cpu() -> float:
        usage = resource.getrusage(resource.RUSAGE_SELF)
        return usage.ru_utime + usage.ru_stime

    t1, c1 = time.perf_counter(), cpu()
    dataset = load_dataset(directory)
    t2, c2 = time.perf_counter(), cpu()
    if profile is not None:
        import cProfile

        profiler = cProfile.Profile()
        results = profiler.runcall(compute_results, dataset)
        profiler.dump_stats(profile)
    else:
        results = compute_results(dataset)
    t3, c3 = time.perf_counter(), cpu()
    reproduction = build_reproduction(load_published(), results)
    with tempfile.TemporaryDirectory() as tmp:
        write_results(results, Path(tmp) / "results.csv")
        reproduction.to_csv(Path(tmp) / "reproduction.csv", index=False)
    t4, c4 = time.perf_counter(), cpu()
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # Linux: KiB
    return {"patients": len(dataset.subjects), "visits": len(dataset.visits),
            "adverse_events": len(dataset.adverse_events), "medications": len(dataset.medications),
            "import_s": t1 - t0, "load_s": t2 - t1, "compute_s": t3 - t2, "compare_s": t4 - t3,
            "analysis_s": t4 - t1, "cpu_load_s": c2 - c1, "cpu_compute_s": c3 - c2, "cpu_analysis_s": c4 - c1,
            "peak_rss_bytes": peak, "results": len(results),
            "profiled": profile is not None}


def loglog_slope(sizes, seconds) -> float:
    """Slope of the least-squares line of ``log(seconds)`` on ``log(sizes)``: 1 is linear.

    Examples
    --------
    >>> round(loglog_slope([1e3, 1e4, 1e5], [0.5, 5.0, 50.0]), 3)
    1.0
    >>> round(loglog_slope([1e3, 1e4, 1e5], [1, 100, 10000]), 3)
    2.0
    """
    return float(np.polyfit(np.log(np.asarray(sizes, float)), np.log(np.asarray(seconds, float)), 1)[0])


def _profile_components(stats_file: Path) -> dict[str, float]:
    """Cumulative seconds of each ``registry_*`` function (and of the statsmodels MixedLM fit)."""
    import pstats

    stats = pstats.Stats(str(stats_file))
    out = {}
    for (file, _line, name), (_cc, _nc, _tt, ct, _callers) in stats.stats.items():
        module = Path(file).stem
        if name.startswith("registry_") and "analysis" in Path(file).parts:
            out[f"{module}.{name}"] = max(out.get(f"{module}.{name}", 0.0), ct)
        elif name == "fit" and file.endswith("mixed_linear_model.py"):
            out["statsmodels MixedLM.fit"] = max(out.get("statsmodels MixedLM.fit", 0.0), ct)
    return out


def bench_scale(workdir: Path, sizes=DEFAULT_SIZES, source: Path = paths.SYNTHETIC, seed: int = 20250617,
                profile: bool = False, repeat: int = 1, log=print) -> tuple[list[dict], dict]:
    """Resample ``source`` to each size, time the analysis in a fresh process (``repeat`` times,
    the fastest kept: other load on the machine only ever adds time); return rows and a summary."""
    rows, components = [], {}
    OUT.mkdir(parents=True, exist_ok=True)
    n_source = len(pd.read_csv(source / "subjects.csv", dtype=str))
    for n in [n_source, *sizes]:
        directory = source if n == n_source else workdir / f"cohort_{n}"
        gen_s = 0.0
        if n != n_source:
            start = time.perf_counter()
            resample_cohort(source, n, directory, seed=seed)
            gen_s = time.perf_counter() - start
        row = min((_run_worker(directory, None) for _ in range(max(1, repeat))), key=lambda r: r["analysis_s"])
        row.update(group="scale", size=n, resampled=n != n_source, generate_s=round(gen_s, 2), repeats=max(1, repeat))
        rows.append(row)
        log(f"[bench] scale {n:>7} patients: analysis {row['analysis_s']:.1f} s, CPU {row['cpu_analysis_s']:.1f} s "
            f"(load {row['load_s']:.1f}, compute {row['compute_s']:.1f}, compare {row['compare_s']:.2f}); "
            f"process {row['process_s']:.1f} s; peak RSS {row['peak_rss_bytes'] / 2**20:.0f} MiB")
        if profile and n != n_source:
            stats_file = OUT / f"profile_{n}.pstats"
            _run_worker(directory, stats_file)
            components[n] = _profile_components(stats_file)
            _write_profile_text(stats_file, OUT / f"profile_{n}.txt")
        if n != n_source:
            shutil.rmtree(directory, ignore_errors=True)
    scaled = [r for r in rows if r["resampled"]]
    summary = {"sizes": [r["size"] for r in scaled]}
    if len(scaled) >= 2:
        for stage in ("analysis_s", "load_s", "compute_s", "compare_s", "cpu_analysis_s"):
            summary[f"slope_{stage}"] = round(loglog_slope([r["size"] for r in scaled], [r[stage] for r in scaled]), 3)
        biggest = max(scaled, key=lambda r: r["size"])
        summary.update(largest=biggest["size"], largest_analysis_s=round(biggest["analysis_s"], 2),
                       largest_cpu_analysis_s=round(biggest["cpu_analysis_s"], 2),
                       largest_peak_rss_bytes=biggest["peak_rss_bytes"],
                       within_time_target=biggest["analysis_s"] < SCALE_TARGET_SECONDS,
                       within_memory_target=biggest["peak_rss_bytes"] < SCALE_TARGET_BYTES)
    if components:
        names = sorted({k for c in components.values() for k in c})
        sizes_p = sorted(components)
        summary["components"] = {
            name: {"seconds": {str(n): round(components[n].get(name, float("nan")), 3) for n in sizes_p},
                   "slope": (round(loglog_slope(sizes_p, [components[n][name] for n in sizes_p]), 3)
                             if len(sizes_p) >= 2 and all(components[n].get(name, 0) > 0 for n in sizes_p) else None)}
            for name in names}
    return rows, summary


def _run_worker(directory: Path, profile: Path | None) -> dict:
    args = [sys.executable, "-m", "analysis.bench", "_worker", str(directory)]
    if profile is not None:
        args.append(str(profile))
    load_before = os.getloadavg()[0]
    start = time.perf_counter()
    proc = subprocess.run(args, cwd=paths.ROOT, capture_output=True, text=True, timeout=3600,
                          env={**os.environ, "PYTHONHASHSEED": "0"})
    elapsed = time.perf_counter() - start
    if proc.returncode != 0:
        raise RuntimeError(f"scale worker failed on {directory}:\n{proc.stderr[-4000:]}")
    row = json.loads(proc.stdout.strip().splitlines()[-1])
    row["process_s"] = elapsed
    row["loadavg_1min_before"] = round(load_before, 2)
    for key in ("import_s", "load_s", "compute_s", "compare_s", "analysis_s", "process_s", "cpu_load_s",
                "cpu_compute_s", "cpu_analysis_s"):
        row[key] = round(row[key], 3)
    return row


def _write_profile_text(stats_file: Path, out: Path, top: int = 40) -> None:
    import io
    import pstats

    buffer = io.StringIO()
    pstats.Stats(str(stats_file), stream=buffer).sort_stats("cumulative").print_stats(top)
    out.write_text(buffer.getvalue(), encoding="utf-8")


# ----------------------------------------------------------------------------- report
def render_markdown(book_rows: list[dict], scale_rows: list[dict], scale_summary: dict, meta: dict) -> str:
    """The tables of ``bench.md`` (also pasted into the README's *Benchmarks* section)."""
    lines = [f"Measured {meta['date']} on {meta['machine']} ({meta['cpus']} CPUs), Python {meta['python']}. "
             "*CPU s*: user + system time of the command and every process it waited for (kernels included); "
             "*load*: the machine's 1-minute load average when the command started (other work on a shared "
             "machine lengthens wall times, not CPU times).", ""]
    steps = [r for r in book_rows if r["step"] != "ratios"]
    if steps:
        lines += ["| book build (`make book`, temp copy) | seconds | target | CPU s | load | notebooks executed | as expected |",
                  "| --- | ---: | ---: | ---: | ---: | --- | --- |"]
        for r in steps:
            target = f"< {r['target_seconds']:.0f} s" if r["target_seconds"] else ""
            executed = (f"{r['mystnb_executed']} by Jupyter Book" if r["step"] == "jupyter_book_force"
                        else f"{r['to_execute']} of {r['runs']}" + (f" ({r['executed']})" if 0 < (r['to_execute'] or 0) < r['runs'] else ""))
            n = f" (median of {r['repeats']})" if r["repeats"] > 1 else ""
            lines.append(f"| {r['what']}{n} | {r['seconds']:.1f} | {target} | {r['cpu_s_last']:.1f} | "
                         f"{r['loadavg_1min_before_last']:.1f} | {executed} | {'yes' if r['expectation_met'] else 'NO'} |")
        ratios = next((r for r in book_rows if r["step"] == "ratios"), None)
        if ratios:
            lines += ["", f"Jupyter Book's forced execution takes {ratios['force_over_clean']}x our clean build "
                      f"({ratios['workers']} parallel kernels), {ratios['force_over_clean_one_kernel']}x our clean build "
                      f"with one kernel, and {ratios['force_over_nothing_changed']}x our rebuild with nothing changed. "
                      f"Notebook execution alone (build minus the full Sphinx build with a warm cache): "
                      f"{ratios['execution_force_s']} s forced, {ratios['execution_ours_clean_s']} s ours, "
                      f"{ratios['execution_ours_one_kernel_s']} s ours with one kernel. A new kernel for every "
                      f"run (BOOK_KERNELS=new) makes our clean build {ratios['new_kernels_over_clean']}x as long."]
    if scale_rows:
        lines += ["", "| patients | visits | load + validate (s) | compute_results (s) | compare (s) | analysis (s) | "
                  "analysis CPU (s) | process incl. imports (s) | peak RSS (MiB) | load |",
                  "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]
        for r in scale_rows:
            label = f"{r['size']:,}" + ("" if r["resampled"] else " (shipped)")
            lines.append(f"| {label} | {r['visits']:,} | {r['load_s']:.2f} | {r['compute_s']:.2f} | {r['compare_s']:.2f} | "
                         f"{r['analysis_s']:.2f} | {r['cpu_analysis_s']:.2f} | {r['process_s']:.1f} | "
                         f"{r['peak_rss_bytes'] / 2**20:,.0f} | {r['loadavg_1min_before']:.1f} |")
        if "slope_analysis_s" in scale_summary:
            lines += ["", f"Log-log slope of time against patients ({', '.join(f'{s:,}' for s in scale_summary['sizes'])}): "
                      f"analysis {scale_summary['slope_analysis_s']}, load {scale_summary['slope_load_s']}, "
                      f"compute_results {scale_summary['slope_compute_s']}, compare {scale_summary['slope_compare_s']}, "
                      f"analysis CPU time {scale_summary['slope_cpu_analysis_s']} "
                      f"(1 = linear). Largest: {scale_summary['largest_analysis_s']} s wall, "
                      f"{scale_summary['largest_cpu_analysis_s']} s CPU "
                      f"(target < {SCALE_TARGET_SECONDS:.0f} s: {'met' if scale_summary['within_time_target'] else 'NOT met'}), "
                      f"{scale_summary['largest_peak_rss_bytes'] / 2**30:.2f} GiB "
                      f"(target < 4 GiB: {'met' if scale_summary['within_memory_target'] else 'NOT met'})."]
        if scale_summary.get("components"):
            comps = scale_summary["components"]
            sizes = sorted({int(s) for c in comps.values() for s in c["seconds"]})
            lines += ["", "| component (cProfile, cumulative) | " + " | ".join(f"{s:,} (s)" for s in sizes) + " | slope |",
                      "| --- | " + " | ".join("---:" for _ in sizes) + " | ---: |"]
            for name, c in sorted(comps.items(), key=lambda kv: -max(kv[1]["seconds"].values())):
                lines.append(f"| `{name}` | " + " | ".join(f"{c['seconds'].get(str(s), float('nan')):.2f}" for s in sizes)
                             + f" | {c['slope'] if c['slope'] is not None else ''} |")
    return "\n".join(lines) + "\n"


def write_report(book_rows, scale_rows, scale_summary, out: Path = OUT) -> Path:
    """Write ``bench.json``, ``book.csv``, ``scale.csv`` and ``bench.md`` to ``out``; return ``bench.md``."""
    out.mkdir(parents=True, exist_ok=True)
    (out / ".gitignore").write_text("*\n", encoding="utf-8")
    meta = {"date": datetime.now(timezone.utc).strftime("%Y-%m-%d"), "machine": f"{platform.system()} {platform.machine()}",
            "cpus": os.cpu_count(), "python": platform.python_version()}
    previous = json.loads((out / "bench.json").read_text()) if (out / "bench.json").is_file() else {}
    # A partial run (--only) keeps the other group's last results.
    book_rows = book_rows or previous.get("book", [])
    scale_rows = scale_rows or previous.get("scale", [])
    scale_summary = scale_summary or previous.get("scale_summary", {})
    (out / "bench.json").write_text(json.dumps({"meta": meta, "book": book_rows, "scale": scale_rows,
                                                "scale_summary": scale_summary}, indent=1, default=str),
                                    encoding="utf-8")
    if book_rows:
        pd.DataFrame([r for r in book_rows if r["step"] != "ratios"]).to_csv(out / "book.csv", index=False)
    if scale_rows:
        pd.DataFrame(scale_rows).to_csv(out / "scale.csv", index=False)
    md = out / "bench.md"
    md.write_text(render_markdown(book_rows, scale_rows, scale_summary, meta), encoding="utf-8")
    return md


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m analysis.bench", description=__doc__.split("\n")[0])
    parser.add_argument("--only", choices=("book", "scale"), help="run one group only")
    parser.add_argument("--sizes", type=lambda s: tuple(int(x) for x in s.split(",")), default=DEFAULT_SIZES,
                        help="cohort sizes of the scale benchmark, comma-separated (default 1000,10000,100000)")
    parser.add_argument("--repeat", type=int, default=3, help="repeats of each incremental rebuild (median reported)")
    parser.add_argument("--scale-repeat", type=int, default=1,
                        help="runs of each scale size (the fastest is kept; default 1)")
    parser.add_argument("--profile", action="store_true", help="also profile compute_results at each size")
    parser.add_argument("--keep", action="store_true", help="keep the temporary copy (its path is printed)")
    # Internal: `python -m analysis.bench _worker DIR [PROFILE]`, one scale measurement in a fresh process.
    parser.add_argument("command", nargs="?", default="run", help=argparse.SUPPRESS)
    parser.add_argument("directory", nargs="?", help=argparse.SUPPRESS)
    parser.add_argument("profile_out", nargs="?", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.command == "_worker":
        profile = Path(args.profile_out) if args.profile_out else None
        print(json.dumps(_scale_worker(Path(args.directory), profile)))
        return 0
    workdir = Path(tempfile.mkdtemp(prefix="bench-"))
    print(f"[bench] working in {workdir}")
    book_rows, scale_rows, summary = [], [], {}
    try:
        if args.only in (None, "book"):
            book_rows = bench_book(workdir, repeat=args.repeat)
        if args.only in (None, "scale"):
            scale_rows, summary = bench_scale(workdir, sizes=args.sizes, profile=args.profile,
                                              repeat=args.scale_repeat)
    finally:
        if not args.keep:
            shutil.rmtree(workdir, ignore_errors=True)
    md = write_report(book_rows, scale_rows, summary)
    print(md.read_text(encoding="utf-8"))
    print(f"[bench] written to {OUT}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
