"""Where an ensemble's results live: resumable parts, then the assembled, committed outputs.

While it runs, each finished reconstruction is written at once as one JSON part file
(``<work>/r000012.json``, written to a temporary name and renamed), so an interrupted run
(Ctrl-C, a killed worker or client) resumes with only the missing reconstructions. The work
folder is named after the run's fingerprint (root seed and digests), so parts of other code
are never reused.

Assembled outputs (``data/ensemble/`` for the default ensemble), byte-identical for the same
N, root seed, code and published registry, whatever the number of workers or the order in
which reconstructions finished:

``reconstructions.parquet``  tidy values: reconstruction, seed, key, value (failed ones have none);
``curves.parquet``           Kaplan-Meier grid: reconstruction, endpoint, arm, month, percent;
``index.csv``                one row per reconstruction: seed, status, reason, assumptions;
``summary.csv``              one row per key (:mod:`analysis.ensemble.summary`);
``targets.csv``              the published keys the generator reads and aims at (the others hold
                             because the analysis derives them from these);
``manifest.json``            N, root seed, counts, assumption ranges, digests;
``README.md``                what the folder holds (written from the manifest).
"""
from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from analysis.ensemble.summary import summarise_ensemble
from analysis.synthetic.assumptions import DESCRIPTIONS, LOG_SCALE, RANGES, Assumptions

OUTPUT_FILES = ("README.md", "reconstructions.parquet", "curves.parquet", "index.csv", "summary.csv", "targets.csv",
                "manifest.json")
#: Bump when the layout of the outputs changes.
FORMAT_VERSION = 1


def run_fingerprint(root_seed: int, digests: dict[str, str]) -> str:
    """First 16 hex digits of a hash of what makes parts reusable."""
    text = json.dumps({"root_seed": root_seed, "digests": digests, "format": FORMAT_VERSION}, sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def part_path(work: Path, index: int) -> Path:
    return work / f"r{index:06d}.json"


def write_part(work: Path, record: dict) -> Path:
    """Write one reconstruction's record atomically (timings included, for benchmarks)."""
    work.mkdir(parents=True, exist_ok=True)
    path = part_path(work, record["index"])
    tmp = path.with_suffix(f".tmp-{os.getpid()}")
    tmp.write_text(json.dumps(record, sort_keys=True, allow_nan=True), encoding="utf-8")
    os.replace(tmp, path)
    return path


def read_part(work: Path, index: int) -> dict | None:
    path = part_path(work, index)
    if not path.is_file():
        return None
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError:  # a part cut short by a crash is recomputed
        return None


def _write_parquet(table: pa.Table, path: Path) -> None:
    # No pandas metadata, fixed compression and row groups: the bytes depend on the data only.
    pq.write_table(table, path, compression="zstd", compression_level=9, use_dictionary=True,
                   row_group_size=1 << 20, write_statistics=True, store_schema=False)


def _write_text(path: Path, text: str) -> None:
    tmp = path.with_suffix(path.suffix + f".tmp-{os.getpid()}")
    tmp.write_text(text, encoding="utf-8", newline="\n")
    os.replace(tmp, path)


def assemble(records: list[dict], out: Path, root_seed: int, digests: dict[str, str]) -> dict:
    """Write the outputs of ``records`` (every index 0..N-1 once) to ``out``; returns the manifest."""
    records = sorted(records, key=lambda r: r["index"])
    if [r["index"] for r in records] != list(range(len(records))):
        raise ValueError("an ensemble needs every reconstruction 0..N-1 exactly once")
    out.mkdir(parents=True, exist_ok=True)
    ok = [r for r in records if r["status"] == "ok"]
    keys = sorted({k for r in ok for k in r["values"]})
    recon, seeds, key_col, values = [], [], [], []
    for r in ok:
        for k in keys:
            recon.append(r["index"])
            seeds.append(r["seed"])
            key_col.append(k)
            values.append(float(r["values"].get(k, float("nan"))))
    table = pa.table({"reconstruction": pa.array(recon, pa.int32()), "seed": pa.array(seeds, pa.uint64()),
                      "key": pa.array(key_col, pa.string()).dictionary_encode(),
                      "value": pa.array(values, pa.float64())})
    _write_parquet(table, out / "reconstructions.parquet")
    curves = sorted(([r["index"], *row] for r in ok for row in r["curves"]), key=lambda x: tuple(x[:4]))
    columns = list(zip(*curves)) if curves else [[], [], [], [], []]
    _write_parquet(pa.table({"reconstruction": pa.array(columns[0], pa.int32()),
                             "endpoint": pa.array(columns[1], pa.string()).dictionary_encode(),
                             "arm": pa.array(columns[2], pa.string()).dictionary_encode(),
                             "month": pa.array(columns[3], pa.int16()),
                             "percent": pa.array(columns[4], pa.float64())}), out / "curves.parquet")
    # assumption columns in the dataclass's order, whether a record is fresh or read back from a part
    names = list(Assumptions().as_dict())
    index = pd.DataFrame([{"reconstruction": r["index"], "seed": str(r["seed"]), "status": r["status"],
                           "reason": r["reason"], **{n: r["assumptions"][n] for n in names}} for r in records])
    _write_text(out / "index.csv", index.to_csv(index=False, lineterminator="\n"))
    long = pd.DataFrame({"reconstruction": recon, "key": key_col, "value": values})
    summary = summarise_ensemble(long)
    _write_text(out / "summary.csv", summary.to_csv(index=False, lineterminator="\n", float_format="%.12g"))
    targeted = sorted({k for r in ok for k in r.get("targeted", [])})
    _write_text(out / "targets.csv", pd.DataFrame({"key": targeted}).to_csv(index=False, lineterminator="\n"))
    manifest = {
        "format": FORMAT_VERSION,
        "n": len(records), "root_seed": root_seed,
        "succeeded": len(ok), "failed": len(records) - len(ok),
        "keys": len(keys),
        "classes": {c: int(n) for c, n in summary["class"].value_counts().sort_index().items()},
        "assumptions": {name: {"low": RANGES[name][0], "high": RANGES[name][1],
                               "scale": "log-uniform" if name in LOG_SCALE else "uniform",
                               "shipped": getattr(Assumptions(), name), "meaning": DESCRIPTIONS[name]}
                        for name in RANGES},
        "digests": digests,
        "files": {},
    }
    _write_text(out / "README.md", render_readme(manifest))
    manifest["files"] = {name: hashlib.sha256((out / name).read_bytes()).hexdigest()
                         for name in OUTPUT_FILES if name != "manifest.json"}
    _write_text(out / "manifest.json", json.dumps(manifest, indent=2, sort_keys=True) + "\n")
    return manifest


def render_readme(manifest: dict) -> str:
    """The README of an ensemble folder, from its manifest (no timestamp: regenerable)."""
    assumptions = "\n".join(f"- `{name}`: {a['meaning']}; drawn {a['scale']} from {a['low']:g} to {a['high']:g} "
                             f"(shipped cohort: {a['shipped']:g})." for name, a in sorted(manifest["assumptions"].items()))
    classes = ", ".join(f"{n} {c}" for c, n in manifest["classes"].items())
    return f"""# Reconstruction ensemble (SYNTHETIC)

**Every reconstruction here is synthetic.** None is the trial's data; each is a cohort invented so
that the analysis reproduces every number the article prints. Together they show which of the
book's other results the published numbers pin down and which they leave open.

Written by `python -m analysis.ensemble --n {manifest['n']} --seed {manifest['root_seed']}` (`make ensemble`);
regenerated byte for byte by the same command with the same code and published registry. A test
(`tests/ensemble/test_committed.py`) fails when the digests below no longer match.

- Reconstructions: {manifest['n']} (child seeds `numpy.random.SeedSequence({manifest['root_seed']}).spawn(N)`);
  {manifest['succeeded']} reproduce every published value, {manifest['failed']} could not be completed
  (their reasons are in `index.csv`).
- Keys of the results registry per class: {classes}.

Assumptions drawn afresh for every reconstruction:

{assumptions}

Files: `reconstructions.parquet` (reconstruction, seed, key, value), `curves.parquet`
(Kaplan-Meier percentage still responding per endpoint, arm and month), `index.csv` (seed, status,
reason, assumptions), `summary.csv` (per key: class, n, median, 2.5 and 97.5 percentiles, min,
max, shares of p-values below 0.05 and 0.001), `targets.csv` (published keys the generator aims
at), `manifest.json` (all of the above in numbers, with SHA-256 digests of the generator, the
analysis code and the published registry, and of each file).
"""


def read_manifest(out: Path) -> dict:
    return json.loads((out / "manifest.json").read_text(encoding="utf-8"))


def read_values(out: Path) -> pd.DataFrame:
    """The tidy values table (reconstruction, seed, key, value) as pandas."""
    frame = pq.read_table(out / "reconstructions.parquet").to_pandas()
    frame["key"] = frame["key"].astype(str)
    return frame


def read_curves(out: Path) -> pd.DataFrame:
    frame = pq.read_table(out / "curves.parquet").to_pandas()
    for column in ("endpoint", "arm"):
        frame[column] = frame[column].astype(str)
    return frame
