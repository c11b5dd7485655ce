"""The built HTML, opened page by page in headless Chromium (see conftest.py): no page logs an
error, every image loads, every table of the run plan is shown with its header, every page
shows the dataset notice at its top, and every link into the book leads to a file and anchor
that exist. The results pages are saved as screenshots in ``_build/screenshots/``.

What the browser reports but the book cannot fix is recorded below with its reason; the tests
check that nothing else is reported and that each record is still true.
"""
from __future__ import annotations

import csv
import re
from dataclasses import replace
from functools import cache
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest
import yaml
from bs4 import BeautifulSoup
from docutils.nodes import make_id

from analysis import build as runner

pytestmark = pytest.mark.slow

#: Errors the pages log that come from the Jupyter Book stack, not from this book: message -> reason.
KNOWN_ERRORS: dict[str, str] = {}
#: Requests that leave the book (answered with an empty body: the test machine is offline): URL -> reason.
KNOWN_EXTERNAL = {
    "https://cdn.jsdelivr.net/npm/mathjax@3/es5/tex-mml-chtml.js":
        "MathJax 3, which Jupyter Book loads from a CDN on the pages that hold math.",
}


def plan(root: Path) -> list[runner.Run]:
    return runner.load_run_plan(root / "book" / "runplan.yml")


def toc_pages(root: Path) -> list[str]:
    toc = yaml.safe_load((root / "_toc.yml").read_text())
    docnames = [toc["root"]] + [chapter["file"] for part in toc["parts"] for chapter in part["chapters"]]
    return [f"{docname}.html" for docname in docnames]


@cache
def anchors_of(path: Path) -> frozenset[str]:
    """Ids and names of the elements of a built page (the targets of ``page.html#anchor``)."""
    soup = BeautifulSoup(path.read_text(encoding="utf-8"), "html.parser")
    return frozenset([el["id"] for el in soup.find_all(id=True)] + [el["name"] for el in soup.find_all(attrs={"name": True})])


def known(message: str) -> bool:
    return any(pattern in message for pattern in KNOWN_ERRORS)


def test_every_page_of_the_book_was_opened(visits, html_build):
    """Test 1: every page of the table of contents is among the pages opened, and the start page
    (index.html) leads to the first page."""
    assert set(toc_pages(html_build.root)) <= set(visits)
    assert visits["index.html"].report["final_path"] == toc_pages(html_build.root)[0]


def test_no_page_logs_an_error_or_fails_a_request(visits):
    """Test 2: no console error, no uncaught exception and no failed request on any page, except
    the recorded errors of the Jupyter Book stack (:data:`KNOWN_ERRORS`)."""
    problems = {path: [m for m in v.console_errors + v.page_errors if not known(m)] + v.failed_requests
                for path, v in visits.items()}
    assert {path: found for path, found in problems.items() if found} == {}


def test_no_page_requests_anything_outside_the_book_but_the_recorded_resources(visits):
    """Test 4: the pages load only the book's own files, plus :data:`KNOWN_EXTERNAL`."""
    outside = {url for v in visits.values() for url in v.external_requests}
    assert outside <= set(KNOWN_EXTERNAL)


def test_every_image_is_loaded(visits, html_build):
    """Test 5: every image of every page has loaded (``naturalWidth > 0``) and has alt text; each
    figure of the run plan shows its image on its page."""
    for path, v in visits.items():
        for image in v.report["images"]:
            assert image["complete"] and image["naturalWidth"] > 0, (path, image["src"])
            assert image["alt"].strip(), (path, image["src"])
    for run in plan(html_build.root):
        page = BeautifulSoup(html_build.page(run.page), "html.parser")
        for label in (k for k in run.artefacts if k.startswith("fig-")):
            src = page.find("figure", id=make_id(label)).find("img")["src"]
            shown = [i for i in visits[f"{run.page}.html"].report["images"] if i["src"] == src]
            assert shown and shown[0]["naturalWidth"] > 0, (run.id, label)


def test_every_table_is_shown_with_its_header(visits, html_build):
    """Test 6: each table of the run plan is visible on its page with its numbered caption, a
    visible header that holds every column label of the table's CSV file, and body rows; every
    other table of the book's pages has a header too."""
    for run in plan(html_build.root):
        tables = {t["id"]: t for t in visits[f"{run.page}.html"].report["tables"]}
        for label, filename in run.artefacts.items():
            if not label.startswith("tbl-"):
                continue
            table = tables.get(make_id(label))
            assert table and table["visible"] and table["headerVisible"], (run.id, label)
            assert re.match(r"Table \d+ \S", table["caption"]), (run.id, label, table["caption"])
            assert table["bodyRows"] >= 1, (run.id, label)
            with open(html_build.root / "book" / "generated" / run.id / filename, newline="", encoding="utf-8") as f:
                columns = next(csv.reader(f))
            labels = {part.strip() for column in columns for part in column.split(" | ") if part.strip()}
            header = table["header"]
            assert {text for text in labels if " ".join(text.split()) not in header} == set(), (run.id, label)
    for path in toc_pages(html_build.root):
        for table in visits[path].report["tables"]:
            assert table["header"] and table["headerVisible"], (path, table["id"] or table["caption"])


def test_every_page_shows_the_dataset_notice_at_its_top(visits, html_build):
    """Test 7: every page shows, visible at the top of the first screen, the banner that names
    the dataset and its version and says when it is synthetic."""
    dataset = replace(runner.describe_dataset(html_build.root / html_build.data_dir), label=html_build.data_dir)
    notice = " ".join(re.sub(r"<[^>]+>", "", runner.announcement_html(dataset)).split())
    for path, v in visits.items():
        shown = v.report["notice"]
        assert shown and shown["visible"] and 0 <= shown["top"] < 100, path
        assert shown["text"] == notice, (path, shown["text"])
    assert ("synthetic data" in notice) == dataset.synthetic


def test_every_link_into_the_book_resolves(visits, html_build, site):
    """Test 8: every link of every page to a file of the book leads to a file that exists and,
    when it names an anchor of a page, to an element with that id on that page."""
    broken = []
    for path, v in visits.items():
        here = v.report["final_path"]
        for href in v.report["links"]:
            if not href.startswith(site):
                continue  # outside the book (not reachable from the test machine)
            parts = urlsplit(href)
            target = unquote(parts.path).lstrip("/") or "index.html"
            if target.endswith("/"):
                target += "index.html"
            file = html_build.html / target
            if not file.is_file():
                broken.append(f"{path}: {href} (no file {target})")
            elif parts.fragment and target.endswith(".html"):
                anchors = set(v.report["ids"]) if target == here else anchors_of(file)
                if unquote(parts.fragment) not in anchors:
                    broken.append(f"{path}: {href} (no anchor #{parts.fragment} in {target})")
    assert broken == []


def test_a_screenshot_of_every_results_page_is_saved(visits, html_build):
    """Test 9: each results page has its full-page screenshot in _build/screenshots/."""
    for run in plan(html_build.root):
        shot = visits[f"{run.page}.html"].screenshot
        assert shot is not None and shot.is_file(), run.id
        with open(shot, "rb") as f:
            assert f.read(8) == b"\x89PNG\r\n\x1a\n", shot
        assert shot.stat().st_size > 10_000, shot


def test_no_page_violates_wcag_2_a_or_aa(visits):
    """Test: axe-core, with the WCAG 2.0/2.1/2.2 level A and AA rules, finds no violation on any
    page of the book (among them: colour contrast of every text, the dataset banner's code
    included; ARIA roles of the bibliography; image alternatives; table headers)."""
    found = {path: visit.accessibility for path, visit in visits.items() if visit.accessibility}
    assert found == {}
