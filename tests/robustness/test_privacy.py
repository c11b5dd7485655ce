"""A book built on real data publishes no patient-level information.

The session's build (``built_copy``) is made from the synthetic cohort's tables placed outside
the repository with no synthetic declaration, so the book treats them as a hospital's real
dataset. Everything a reader can open or download is scanned: every text file of
``_build/html`` (pages, search index, the sources of the executed notebooks, downloadable
CSVs) and the executed notebooks with their outputs (``book/generated``). None may contain

* a ``USUBJID`` of the dataset;
* a patient's date (``TRTSDT``, ``EOSDT``, ``ADT``, ``AESTDT``, ``AEENDT``, ``CMSTDT``,
  ``CMENDT``), as ISO text or as another common rendering (``05/07/2016``, ``5 Jul 2016``...).
  The build's own timestamps (the *executed at* column of the reproducibility appendix) are
  not patient dates: the exact values recorded in the run cache are removed before the scan;
* a row-level listing: no HTML table has as many rows as the dataset has patients.

Files that are verbatim copies of repository files (``data/README.md`` and
``data/synthetic/README.md`` offered as downloads, page sources) are the same for every dataset,
so they cannot carry it, and are left out: the data contract's examples (``RA-999``,
``01/03/2031``: outside the cohort's numbering and after the data cut-off) and the synthetic
generator's documented calendar windows could match patients of a dataset by coincidence.

Datasets that carry direct identifiers are refused by the contract before anything is built
(cases ``identifier_*`` of ``test_malformed_datasets.py``).
"""
from __future__ import annotations

import html
import json
import re

import pandas as pd
import pytest
from robustness_support import date_renderings, find_occurrences, published_text_files, repository_copies

pytestmark = pytest.mark.slow
DATE_COLUMNS = {"subjects.csv": ("TRTSDT", "EOSDT"), "visits.csv": ("ADT",),
                "adverse_events.csv": ("AESTDT", "AEENDT"), "medications.csv": ("CMSTDT", "CMENDT")}


def patient_dates(data_dir) -> dict[str, str]:
    """Every rendering of every patient date of the dataset -> ``file column``."""
    out = {}
    for file, columns in DATE_COLUMNS.items():
        frame = pd.read_csv(data_dir / file, dtype=str, keep_default_na=False)
        for column in columns:
            for iso in sorted(set(frame[column]) - {""}):
                for text in date_renderings(iso):
                    out.setdefault(text, f"{file} {column} {iso}")
    return out


def scanned_files(root):
    """What the book publishes, minus verbatim copies of repository files."""
    files = published_text_files(root)
    copies = set(repository_copies(root, files))
    return [p for p in files if p not in copies]


def build_timestamps(root) -> set[str]:
    """The runner's ``executed_at`` values (shown in the reproducibility appendix)."""
    return {json.loads(p.read_text())["executed_at"] for p in (root / "_build" / "book-runs").glob("*/*/meta.json")}


def test_the_book_presents_the_dataset_as_real(built_copy):
    """Test 1: the scan below is of the real-data presentation, not of the synthetic one."""
    page = (built_copy.root / "_build" / "html" / "intro.html").read_text(encoding="utf-8")
    assert "Built from the dataset" in page and "synthetic data</strong>" not in page


def test_scan_covers_the_pages_the_notebooks_and_the_downloads(built_copy):
    """Test 2: the scan reads every page, every executed notebook and every downloadable table."""
    files = [p.relative_to(built_copy.root).as_posix() for p in published_text_files(built_copy.root)]
    assert any(f.startswith("_build/html/generated/") and f.endswith(".html") for f in files)
    assert any(f.startswith("_build/html/_sources/generated/") and f.endswith(".ipynb") for f in files)
    assert any(f.startswith("_build/html/_downloads/") and f.endswith(".csv") for f in files)
    assert any(f.startswith("book/generated/") and f.endswith(".ipynb") for f in files)
    assert "_build/html/searchindex.js" in files
    # Only downloads and page sources may be skipped as copies of repository files, never a
    # generated page, notebook or table.
    skipped = [p.relative_to(built_copy.root).as_posix()
               for p in repository_copies(built_copy.root, published_text_files(built_copy.root))]
    assert skipped and all(s.startswith(("_build/html/_downloads/", "_build/html/_sources/")) for s in skipped)
    assert not any("generated" in s for s in skipped)


def test_no_published_file_contains_a_usubjid(built_copy):
    """Test 3: no USUBJID of the dataset anywhere in what the book publishes."""
    ids = pd.read_csv(built_copy.data_dir / "subjects.csv", dtype=str)["USUBJID"]
    needles = {u: "USUBJID" for u in ids}
    assert find_occurrences(scanned_files(built_copy.root), needles, built_copy.root) == []


def test_no_published_file_contains_a_patient_date(built_copy):
    """Test 4: no patient date, in any common rendering, except the build's own timestamps."""
    allowed = build_timestamps(built_copy.root)
    assert allowed, "no run cache timestamps found; the allowance would be empty"
    found = find_occurrences(scanned_files(built_copy.root), patient_dates(built_copy.data_dir),
                             built_copy.root, allowed=allowed)
    assert found == []


#: First cell of a row of a table of published values (reproduction report, consistency audit):
#: a registry or audit key such as ``table3.n.msc``.
REGISTRY_KEY = re.compile(r"^[a-z0-9_]+(\.[a-z0-9_\-]+)+$")


def html_tables(html_dir):
    """``(page, body rows, first cells)`` of every table of every page."""
    for page in sorted(html_dir.rglob("*.html")):
        for table in re.findall(r"<table.*?</table>", page.read_text(encoding="utf-8"), flags=re.S):
            rows = re.findall(r"<tr.*?</tr>", table.split("<tbody", 1)[-1], flags=re.S)
            firsts = [html.unescape(re.sub(r"<[^>]+>", "", (re.findall(r"<t[dh].*?</t[dh]>", r, flags=re.S) or [""])[0])).strip()
                      for r in rows]
            yield page, rows, firsts


def test_no_table_lists_patients_row_by_row(built_copy):
    """Test 5: every HTML table is an aggregate: fewer body rows than the dataset has patients.
    Tables of published values, whose rows are registry keys (their length is set by
    data/published, not by the dataset), are exempt. A shorter listing of some patients is
    caught by tests 3 and 4 when it shows an identifier or a date."""
    n_patients = len(pd.read_csv(built_copy.data_dir / "subjects.csv", dtype=str))
    html_dir = built_copy.root / "_build" / "html"
    longest, n_tables = {}, 0
    for page, rows, firsts in html_tables(html_dir):
        n_tables += 1
        if rows and all(REGISTRY_KEY.match(f) for f in firsts):
            continue
        name = page.relative_to(html_dir).as_posix()
        longest[name] = max(longest.get(name, 0), len(rows))
    assert n_tables >= 10 and longest
    assert {p: n for p, n in longest.items() if n >= n_patients} == {}
    print(f"longest table of patient data: {max(longest.values())} rows ({n_patients} patients)")


def test_the_scan_finds_what_it_looks_for(built_copy, tmp_path):
    """Test 6: the scan is not blind: it reports a USUBJID, an ISO date, a date followed by a
    time and a day/month/year date; it does not report a USUBJID inside a longer code, nor a
    build timestamp."""
    ids = pd.read_csv(built_copy.data_dir / "subjects.csv", dtype=str)["USUBJID"].tolist()
    dates = patient_dates(built_copy.data_dir)
    iso = [d for d in dates if re.fullmatch(r"\d{4}-\d{2}-\d{2}", d)][:4]
    y, m, d = iso[2].split("-")
    page = tmp_path / "leak.html"
    page.write_text(f"<td>{ids[0]}</td><td>{iso[0]}</td><td>{iso[1]}T00:00:00</td><td>{d}/{m}/{y}</td>"
                    f"<td>{ids[1]}7</td><td>{iso[3]}T10:11:12</td>", encoding="utf-8")
    needles = {**dates, **{u: "USUBJID" for u in ids}}
    found = find_occurrences([page], needles, tmp_path, allowed={f"{iso[3]}T10:11:12"})
    reported = {f.split(": ", 1)[1].split(" (", 1)[0] for f in found}
    assert reported == {repr(ids[0]), repr(iso[0]), repr(iso[1]), repr(f"{d}/{m}/{y}")}


def test_no_published_file_contains_the_path_of_the_dataset(built_copy):
    """Test 7: the machine's path to the dataset is not published."""
    path = str(built_copy.data_dir)
    leaking = [p.relative_to(built_copy.root).as_posix() for p in scanned_files(built_copy.root)
               if path in p.read_text(encoding="utf-8", errors="replace")]
    assert leaking == []
