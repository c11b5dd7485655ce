"""Helpers of the ensemble tests: run the command line, compare outputs."""
from __future__ import annotations

import os
import platform
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd

from analysis import paths
from analysis.ensemble.store import OUTPUT_FILES, read_values


def run_cli(*args: str, timeout: float = 600, env=None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "analysis.ensemble", "--no-progress", *args], cwd=paths.ROOT,
                          capture_output=True, text=True, timeout=timeout, env=env)


def output_bytes(out: Path) -> dict[str, bytes]:
    return {name: (out / name).read_bytes() for name in OUTPUT_FILES}


def assert_rows_equal_committed(out: Path, committed: Path = paths.ENSEMBLE) -> int:
    """The values of every reconstruction in ``out`` equal the committed rows of the same index."""
    mine = read_values(out)
    theirs = read_values(committed)
    theirs = theirs[theirs["reconstruction"].isin(mine["reconstruction"].unique())]
    key = ["reconstruction", "key"]
    mine, theirs = mine.sort_values(key).reset_index(drop=True), theirs.sort_values(key).reset_index(drop=True)
    pd.testing.assert_frame_equal(mine, theirs, check_exact=True)
    mine_index = pd.read_csv(out / "index.csv", dtype=str)
    theirs_index = pd.read_csv(committed / "index.csv", dtype=str).iloc[: len(mine_index)]
    pd.testing.assert_frame_equal(mine_index, theirs_index)
    assert np.array_equal(mine["value"].isna(), theirs["value"].isna())
    return len(mine)


def differing_values_message(keys: list[str], what: str) -> str:
    """Why ``keys`` of ``what`` may differ from the committed ensemble when the digests match.

    The mixed-model (longitudinal) values depend on the OpenBLAS kernel the CPU gets: seen
    here, committed values from one machine and values computed on an AMD EPYC with
    ``OPENBLAS_CORETYPE=Haswell`` differed by up to 6.5e-5 (relative), longitudinal keys only.
    """
    artefacts = sorted({key.split(".")[0] for key in keys})
    cpuinfo = Path("/proc/cpuinfo")
    models = [line.split(":", 1)[1].strip() for line in (cpuinfo.read_text().splitlines() if cpuinfo.exists() else [])
              if line.startswith("model name")]
    cpu = models[0] if models else platform.processor()
    return (f"{len(keys)} value(s) of {what} differ from the committed ensemble, in {', '.join(artefacts)} "
            f"(first: {', '.join(keys[:3])}). If no code changed and only longitudinal (mixed-model) values "
            f"differ, this machine's BLAS kernel is not the one that generated the ensemble (here: {cpu}, "
            f"OPENBLAS_CORETYPE={os.environ.get('OPENBLAS_CORETYPE', 'unset')}): run `make ensemble` on it.")
