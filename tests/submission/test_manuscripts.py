"""The Word, JATS and bundle outputs (`make docx`, `make jats`, `make submission`), read back.

* Word (python-docx): every table of the run plan whose page is in the document is a real Word
  table whose body cells equal the table's CSV, in order; every figure is embedded with its
  number and caption; every paragraph of the HTML that prints registry values is in the Word
  text with those values.
* JATS (lxml): well-formed, JATS Archiving 1.3, every table of the article as a ``<table-wrap>``
  with its label, every figure as a ``<fig>`` whose ``<graphic>`` is a figure file of the
  bundle, the bibliography as ``<ref>`` elements, and every ``<xref>`` pointing at an element.
* The bundle: every file listed in ``MANIFEST.csv`` with its SHA-256 and maker, and in the
  MECA ``manifest.xml``, nothing unlisted; the files are the build's.
"""
from __future__ import annotations

import csv
import hashlib
import io
import re
import zipfile
from functools import cache
from pathlib import Path

import docx
import pytest
from book_build_support import DATASETS
from bs4 import BeautifulSoup
from docutils.nodes import make_id
from lxml import etree
from pdf_build_support import normalise

from analysis import build as runner
from analysis.submission import bundle, manuscript

pytestmark = pytest.mark.slow
XLINK = "{http://www.w3.org/1999/xlink}"


@pytest.fixture(scope="module", params=DATASETS)
def outputs(request, submission_built):
    return submission_built(request.param)


@cache
def merged(root: Path, stem: str) -> BeautifulSoup:
    return BeautifulSoup(manuscript.merge_html(stem, "docx", root), "html.parser")


def run_tables(root: Path, stem: str) -> list[tuple[str, Path]]:
    """(label, CSV) of every table of the run plan on a page of ``stem``, in reading order."""
    pages = manuscript.document_pages(stem, root)
    runs = {run.page: run for run in runner.load_run_plan(root / "book" / "runplan.yml")}
    return [(label, root / "book" / "generated" / runs[page].id / name)
            for page in pages if page in runs for label, name in runs[page].artefacts.items()
            if label.startswith("tbl-")]


def cell_text(text: str) -> str:
    """A cell's words: the indentation of a row label (spaces in the CSV, a zero-width joiner
    and no-break spaces in the book's table) and the typographic quotes of the book (Sphinx's
    smart quotes) are typography, not content.

    Examples
    --------
    >>> cell_text("\u200d\u00a0\u00a0Welch\u2019s"), cell_text("  Welch's")
    ("Welch's", "Welch's")
    """
    text = text.translate(str.maketrans({"\u200d": " ", "\u2019": "'", "\u2018": "'", "\u201c": '"', "\u201d": '"'}))
    return " ".join(text.split())


def docx_text(document) -> str:
    return "\n".join(p.text for p in document.paragraphs)


# ----------------------------------------------------------------------------- Word
@pytest.mark.parametrize("stem", manuscript.DOCUMENTS)
def test_docx_tables_are_the_csv_tables(outputs, stem):
    """Test 1: each table of the run plan in the document is a Word table (the HTML's tables in
    order, so the n-th Word table is the n-th HTML table) whose body rows, cell by cell, are the
    rows of the table's CSV (row labels without their indentation)."""
    document = docx.Document(outputs.build / "docx" / f"{stem}.docx")
    html_ids = [table.get("id", "") for table in merged(outputs.root, stem).find_all("table")]
    assert len(document.tables) == len(html_ids)
    checked = 0
    for label, csv_path in run_tables(outputs.root, stem):
        position = next(i for i, table_id in enumerate(html_ids) if table_id.endswith(f"--{make_id(label)}"))
        rows = [[cell_text(cell.text) for cell in row.cells] for row in document.tables[position].rows]
        with open(csv_path, encoding="utf-8", newline="") as handle:
            expected = [[cell_text(cell) for cell in row] for row in csv.reader(handle)][1:]
        body = rows[len(rows) - len(expected):]
        assert body == expected, (stem, label)
        checked += 1
    assert checked == len(run_tables(outputs.root, stem)) > 0


def test_docx_figures_are_embedded_with_their_captions(outputs):
    """Test 2: the article's Word file embeds one picture per figure of the run plan, and each
    figure's number and caption (the HTML's) is a paragraph of it."""
    document = docx.Document(outputs.build / "docx" / "paper.docx")
    text = normalise(docx_text(document))
    figures = merged(outputs.root, "paper").find_all("figure")
    assert len(figures) == 4
    assert len(document.inline_shapes) == len(figures)
    for figure in figures:
        caption = figure.find("figcaption").get_text(" ", strip=True)
        assert normalise(caption) in text, caption[:80]


@pytest.mark.parametrize("stem", manuscript.DOCUMENTS)
def test_docx_prose_prints_every_registry_value(outputs, stem):
    """Test 3: every paragraph or list item of the document's HTML that prints a registry value
    (``span.reg``) is in the Word text, values included, word for word."""
    document = docx.Document(outputs.build / "docx" / f"{stem}.docx")
    text = normalise(docx_text(document) + "\n".join(
        cell.text for table in document.tables for row in table.rows for cell in row.cells))
    checked, missing = 0, []
    for span in merged(outputs.root, stem).find_all("span", class_="reg"):
        block = span.find_parent(["p", "li", "td", "th"])
        if block is None or block.find_parent(["table", "figure"]) is not None and block.name == "p":
            continue
        checked += 1
        if normalise(block.get_text(" ")) not in text:
            missing.append(block.get_text(" ", strip=True)[:120])
    assert checked > 10
    assert missing == []


def test_supplement_docx_holds_the_data_contract_tables(outputs):
    """Test 3b: the supplement's Word file holds the data contract's column tables as Word
    tables, one per file of the schema, their rows the schema's columns with type, cell and
    allowed values (``analysis.submission.contract_page.describe_column``)."""
    from analysis.schema import COLUMNS, FILES
    from analysis.submission.contract_page import describe_column

    document = docx.Document(outputs.build / "docx" / "supplement.docx")
    contract = [[[" ".join(cell.text.split()) for cell in row.cells][:4] for row in table.rows[1:]]
                for table in document.tables
                if [cell.text.strip() for cell in table.rows[0].cells][:3] == ["column", "type", "cell"]]
    expected = [[[value.replace("`", "") for value in describe_column(spec).values()] for spec in COLUMNS[file]]
                for file in FILES]
    assert contract == expected


# ----------------------------------------------------------------------------- JATS
@pytest.fixture
def jats(outputs):
    path = outputs.build / "jats" / "paper.xml"
    return etree.parse(str(path), etree.XMLParser(resolve_entities=False, no_network=True))


def test_jats_is_archiving_1_3(jats):
    """Test 4: the JATS file is well-formed XML with the JATS Archiving 1.3 DOCTYPE, an
    ``<article dtd-version="1.3">`` with front matter (title, contributor, date) and a body."""
    assert "Journal Archiving and Interchange DTD v1.3" in jats.docinfo.doctype
    article = jats.getroot()
    assert article.tag == "article" and article.get("dtd-version") == "1.3"
    assert article.findtext("front/article-meta/title-group/article-title").startswith("MSCs")
    assert article.find("front/article-meta/contrib-group/contrib") is not None
    assert article.find("front/article-meta/pub-date") is not None
    assert len(article.findall("body/sec")) >= 10


def test_jats_has_every_table_and_figure(outputs, jats):
    """Test 5: every table of the run plan in the article is a ``<table-wrap>`` with its label
    and caption; every figure a ``<fig>`` whose ``<graphic>`` is the figure's TIFF in the
    bundle (``figures/``, relative to the JATS file at the zip's top level)."""
    wraps = {wrap.get("id", "") for wrap in jats.iter("table-wrap")}
    for label, _csv in run_tables(outputs.root, "paper"):
        assert any(w.endswith(f"--{make_id(label)}") for w in wraps), label
    names = set(zipfile.ZipFile(outputs.build / "submission" / bundle.BUNDLE).namelist())
    figs = list(jats.iter("fig"))
    assert len(figs) == 4
    for fig in figs:
        assert fig.find("caption") is not None
        href = fig.find(".//graphic").get(f"{XLINK}href")
        assert href in names and href.startswith("figures/"), href


def test_jats_references_are_refs_and_cross_references_resolve(jats, outputs):
    """Test 6: the bibliography is a ``<ref-list>`` of one ``<ref>`` per entry of the book's
    references page, each cited by at least one ``<xref ref-type="bibr">``, and every
    ``<xref>`` points at an element of the article."""
    entries = BeautifulSoup((outputs.build / "html" / "references.html").read_text(encoding="utf-8"),
                            "html.parser").select("div.citation")
    refs = jats.findall("back/ref-list/ref")
    assert len(refs) == len(entries) > 5
    ids = {element.get("id") for element in jats.iter() if element.get("id")}
    xrefs = list(jats.iter("xref"))
    assert xrefs and all(x.get("rid") in ids for x in xrefs)
    cited = {x.get("rid") for x in xrefs if x.get("ref-type") == "bibr"}
    assert {ref.get("id") for ref in refs} == cited
    assert all(ref.findtext("mixed-citation").strip() for ref in refs)


# ----------------------------------------------------------------------------- bundle
def test_bundle_manifest_lists_every_file_with_its_checksum(outputs):
    """Test 7: the zip holds the manuscript (PDF, DOCX, JATS), the supplement, the README's
    reproducibility section, every figure (PDF, 600 dpi PNG, TIFF) and table (CSV, XLSX) file of
    the run plan; ``MANIFEST.csv`` lists every file but itself and ``manifest.xml`` with its
    SHA-256, size and maker, and the MECA ``manifest.xml`` lists the same files."""
    archive = zipfile.ZipFile(outputs.build / "submission" / bundle.BUNDLE)
    names = archive.namelist()
    rows = list(csv.DictReader(io.StringIO(archive.read("MANIFEST.csv").decode("utf-8"))))
    assert sorted(r["file"] for r in rows) == sorted(set(names) - {"MANIFEST.csv", "manifest.xml"})
    for row in rows:
        data = archive.read(row["file"])
        assert hashlib.sha256(data).hexdigest() == row["sha256"] and int(row["bytes"]) == len(data), row["file"]
        assert row["produced_by"], row["file"]
    assert {"paper.pdf", "paper.docx", "paper.xml", "supplement.pdf", "supplement.docx",
            "README-reproducibility.md", "supplementary/data-contract.md"} <= set(names)
    assert archive.read("paper.pdf") == (outputs.build / "latex" / "paper.pdf").read_bytes()
    for run in runner.load_run_plan(outputs.root / "book" / "runplan.yml"):
        for name in run.artefacts.values():
            stem = Path(name).stem
            wanted = ([f"{stem}.pdf", f"{stem}-600dpi.png", f"{stem}.tiff"] if name.endswith(".png")
                      else [f"{stem}.csv", f"{stem}.xlsx"])
            for file in wanted:
                assert any(n.endswith("/" + file) for n in names), file
    meca = etree.fromstring(archive.read("manifest.xml"))
    hrefs = [i.get("href") for i in meca.iter(f"{{{bundle.MECA_NAMESPACE}}}instance")]
    assert sorted(hrefs) == sorted(r["file"] for r in rows)
    assert re.search("For reproducibility checkers", archive.read("README-reproducibility.md").decode())
