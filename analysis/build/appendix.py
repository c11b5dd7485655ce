"""The reproducibility appendix: the page that records how this build was made."""
from __future__ import annotations

import re
import subprocess
import sys
from importlib.metadata import PackageNotFoundError, version

from analysis import paths
from analysis.build.dataset import DatasetInfo
from analysis.build.hashing import hash_file, hash_tree
from analysis.build.runner import RunRecord
from analysis.crosswalk import chosen_sources
from analysis.dataset_io import locate_sources


def _git(*args: str) -> str:
    try:
        return subprocess.run(["git", *args], cwd=paths.ROOT, capture_output=True, text=True, timeout=20,
                              check=True).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return ""


def _package_versions() -> list[tuple[str, str]]:
    names = []
    for line in (paths.ROOT / "requirements.in").read_text(encoding="utf-8").splitlines():
        name = re.split(r"[<>=!~\[; ]", line.split("#", 1)[0].strip(), maxsplit=1)[0]
        if name:
            names.append(name)
    out = []
    for name in names:
        try:
            out.append((name, version(name)))
        except PackageNotFoundError:
            out.append((name, "not installed"))
    return out


def _md_cell(text: str) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def render_reproducibility_page(records: list[RunRecord], dataset: DatasetInfo) -> str:
    """The generated appendix: dataset hashes, code version, packages, the run plan with
    each run's parameters, and where every table and figure comes from.
    Deterministic for unchanged inputs (no build timestamp, no run time: these stay in the run
    cache's ``meta.json``), so an unchanged build does not re-read it and two clean builds of one
    commit print the same page (the PDF, Word and JATS outputs are compared byte for byte)."""
    commit = _git("rev-parse", "HEAD") or "unknown (not a git checkout)"
    dirty = _git("status", "--porcelain", "--untracked-files=no")
    # contract table -> the file (and sheet) holding it: a table of an SPSS file or a workbook
    # is not a CSV of that name
    sources, _ = locate_sources(dataset.directory, chosen_sources(dataset.directory))
    held_in = {table: source.label for table, source in sources.items()}
    lines = [
        "# Reproducibility",
        "",
        "This page is written by the build (`analysis.build.render_reproducibility_page`); it records "
        "what the numbers of this book were computed from.",
        "",
        "## Dataset",
        "",
        f"Folder `{dataset.public_label}`, version {dataset.fingerprint}; "
        f"{'synthetic' if dataset.synthetic else 'not declared synthetic'}, because {dataset.reason}.",
        "",
        "Each contract table is listed under its contract name with the file (and sheet) that holds it; "
        "for a table read through `mapping.yml` or from a workbook, its SHA-256 covers that file, the "
        "sheet and the mapping.",
        "",
        "| table or file | held in | bytes | SHA-256 |",
        "| --- | --- | ---: | --- |",
        *[f"| `{name}` | `{held_in.get(name, name)}` | {dataset.sizes[name]} | `{digest}` |"
          for name, digest in sorted(dataset.files.items())],
        "",
        "## Code and environment",
        "",
        f"- Git commit: `{commit}`" + (" with uncommitted changes to tracked files" if dirty else ""),
        f"- Python {sys.version.split()[0]}; `requirements.lock` SHA-256 `{hash_file(paths.ROOT / 'requirements.lock')}`",
        f"- `analysis` package SHA-256 `{hash_tree(paths.ROOT / 'analysis')}`",
        "",
        "| package (requirements.in) | installed version |",
        "| --- | --- |",
        *[f"| {name} | {ver} |" for name, ver in _package_versions()],
        "",
        "## Run plan",
        "",
        "Every page under *Results* is a notebook executed by papermill with these parameters "
        "(`book/runplan.yml`). A run is repeated only when its cache key changes; its run time and "
        "start are recorded in `_build/book-runs/<run>/<cache key>/meta.json`.",
        "",
        "| run | notebook | parameters | inputs and sources | cache key |",
        "| --- | --- | --- | --- | --- |",
    ]
    for record in records:
        params = {k: (dataset.public_label if k == "data_dir" else v)
                  for k, v in record.meta.get("parameters", {}).items() if k not in ("output_dir", "dataset_files")}
        params_text = ", ".join(f"`{k}={v!r}`" for k, v in sorted(params.items()))
        lines.append(f"| {{doc}}`{record.run.id} <{record.run.page.removeprefix('generated/')}>` | "
                     f"`{record.run.notebook.relative_to(paths.ROOT).as_posix()}` | {_md_cell(params_text)} | "
                     f"{', '.join((*record.run.inputs, *record.run.sources)) or 'none'} | `{record.key}` |")
    lines += ["", "## Where each table and figure comes from", "",
              "| artefact | run | notebook | output file |", "| --- | --- | --- | --- |"]
    for record in records:
        for label, name in record.run.artefacts.items():
            lines.append(f"| {{numref}}`{label}` | {record.run.id} | "
                         f"`{record.run.notebook.relative_to(paths.ROOT).as_posix()}` | "
                         f"`book/generated/{record.run.id}/{name}` |")
    lines += ["", "The merged results registry is `_build/results/results.csv`; each run's own rows are "
              "`book/generated/<run>/registry.csv`.", ""]
    return "\n".join(lines)
