"""data/README.md documents the formats and the crosswalk as the code implements them.

The worked example is run: the SPSS export it describes is written from the synthetic cohort,
its ``mapping.yml`` is the YAML block of the page, and ``validate`` and ``import`` must print
what the page shows. The tables of formats, units and date origins list what the code accepts.
"""
from __future__ import annotations

import re
import subprocess
import sys

import pytest
from formats_support import FLAG_LABELS, LABELS, cohort, crp_in_mg_dl

from analysis import paths
from analysis.crosswalk import ORIGINS, UNITS
from analysis.dataset_io import SUFFIXES


@pytest.fixture(scope="module")
def page() -> str:
    return (paths.DATA / "README.md").read_text(encoding="utf-8")


def section(page: str, heading: str) -> str:
    start = page.index(heading)
    return page[start:page.index("\n#", start + len(heading))]


def blocks(text: str, language: str) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", text, flags=re.DOTALL)


def write_worked_example(directory, mapping_text: str) -> None:
    """The SPSS export the worked example describes, from the synthetic cohort."""
    import datetime as dt

    import pyreadstat

    directory.mkdir()
    tables = cohort()
    subjects = tables["subjects.csv"].copy()
    subjects["patid"] = subjects.pop("USUBJID")
    subjects["group"] = subjects.pop("ARM").map({"MSC": 1.0, "MSC+IFNG": 2.0})
    subjects["sex"] = subjects.pop("SEX").map({"M": 1.0, "F": 2.0})
    subjects["rf"] = subjects.pop("RFFL").map({"N": 0.0, "Y": 1.0})
    subjects["acpa"] = subjects.pop("ACPAFL").map({"N": 0.0, "Y": 1.0})
    lte = subjects.pop("LTEFL") == "Y"
    subjects["lte_consent"] = (subjects["TRTSDT"] + dt.timedelta(days=365)).where(lte)
    visits = tables["visits.csv"].drop(columns=["TJC68", "SJC66"])
    visits["visdat"] = visits.pop("ADT")
    visits["crp"] = crp_in_mg_dl(visits.pop("CRP"))
    labels = {"group": LABELS["ARM"], "sex": LABELS["SEX"], "rf": FLAG_LABELS, "acpa": FLAG_LABELS}
    for name, frame in (("subjects", subjects), ("visits", visits), ("adverse_events", tables["adverse_events.csv"]),
                        ("medications", tables["medications.csv"])):
        frame = frame.copy()
        for column in frame.columns:
            if str(frame[column].dtype) == "Int64":
                frame[column] = frame[column].astype("float64")
            elif frame[column].dtype == object:
                frame[column] = frame[column].fillna("")
        pyreadstat.write_sav(frame, directory / f"{name}.sav",
                             variable_value_labels={k: v for k, v in labels.items() if k in frame.columns})
    (directory / "mapping.yml").write_text(mapping_text, encoding="utf-8")


def test_worked_example_runs_as_shown(page, tmp_path):
    example = section(page, "### Worked example")
    (mapping,) = blocks(example, "yaml")
    (session,) = blocks(example, "text")
    data = tmp_path / "export"
    write_worked_example(data, mapping)
    printed = []
    for command in re.findall(r"^\$ python -m analysis (.*)$", session, flags=re.MULTILINE):
        args = [str(tmp_path / a.rstrip("/")) if a.startswith("export") else a for a in command.split()]
        result = subprocess.run([sys.executable, "-m", "analysis", *args], capture_output=True, text=True,
                                cwd=paths.ROOT, check=False)
        assert result.returncode == 0, result.stderr
        printed += [f"$ python -m analysis {command}"] + result.stdout.replace(str(tmp_path) + "/", "").splitlines()
    shown = [line for line in session.rstrip("\n").splitlines() if line.strip() != "..."]
    position = 0
    for line in shown:  # every line the page shows, in order ("..." stands for lines left out)
        assert line in printed[position:], f"{line!r} not printed (after line {position}):\n" + "\n".join(printed)
        position = printed.index(line, position) + 1


def test_formats_table_lists_every_suffix(page):
    table = section(page, "## Other formats")
    listed = re.findall(r"^\| `(\.[a-z0-9]+)` \|", table, flags=re.MULTILINE)
    assert listed == list(SUFFIXES)
    for suffix, row_label in SUFFIXES.items():
        row = next(line for line in table.splitlines() if line.startswith(f"| `{suffix}` |"))
        assert f"`{row_label} N`" in row, row


def test_units_and_origins_are_documented(page):
    keys = section(page, "### Keys")
    for column, units in UNITS.items():
        row = next(line for line in keys.splitlines() if line.startswith("| `") and f"`{column}`" in line)
        assert re.findall(r"`([a-zA-Z/]+)`", row.split("|")[2]) == list(units), row
    for origin in ORIGINS:
        assert f"`{origin}`" in keys, origin
