"""The book builds as a PDF (`make pdf`) that holds what the HTML of the same build holds: the
dataset notice on the title page, every table of the run plan typeset as a table with the
HTML's numbers in the HTML's order, every figure with the HTML's image and caption, and every
registry number of the prose in its sentence.

The PDF is read with poppler's ``pdftotext``. ``-raw`` keeps the order in which LaTeX typeset
the text, so a table reads row by row and cell by cell, as the HTML table does; the running
head and foot are taken out, so a sentence that crosses a page break still reads as one.
Text is compared after :func:`normalise`, which keeps letters, digits and ``. < > %`` only:
line breaks, hyphenation, quotes and dashes differ between the two outputs, words do not.
"""
from __future__ import annotations

import re
import subprocess
import unicodedata
from dataclasses import replace
from functools import cache
from pathlib import Path

import nbformat
import pytest
import yaml
from book_build_support import DATASETS
from bs4 import BeautifulSoup
from docutils.nodes import make_id
from PIL import Image

from analysis import build as runner

pytestmark = pytest.mark.slow

#: A number as printed in a table or in prose: ``12``, ``-0.42``, ``<0.001``, ``>0.999``.
NUMBER = re.compile(r"[<>]?-?\d+(?:\.\d+)?")
#: A MyST role (not inside a code span) or inline math: what the PDF prints for it is not the
#: source text.
TOKEN = re.compile(r"(?<!`)\{(?P<role>[\w:-]+)\}`(?P<target>[^`]*)`|\$[^$\n]+\$")
MARKDOWN_LINK = re.compile(r"\[([^\]]*)\]\([^)]*\)")
#: The running foot of a page: its number (arabic or roman) before or after a chapter or section.
FOOT = re.compile(r"(\d+|[ivxlc]+)( .*)?|.* (\d+|[ivxlc]+)")


def normalise(text: str) -> str:
    """Letters, digits and ``. < > %`` of ``text`` (NFKC: ligatures and ``…`` unfolded).

    Examples
    --------
    >>> normalise("per 100 patient-\\nyears: 2.47 (p < 0.001) – “ﬁne”…")
    'per100patientyears2.47p<0.001fine...'
    """
    text = unicodedata.normalize("NFKC", text)
    return "".join(ch for ch in text if ch.isalnum() or ch in ".<>%")


def numbers(text: str) -> list[str]:
    """The printed numbers of ``text``, in order.

    Examples
    --------
    >>> numbers("MSCs (N = 69) 25.0 (43.3)* <0.001 DAS28-ESR -1.34")
    ['69', '25.0', '43.3', '<0.001', '28', '-1.34']
    """
    return NUMBER.findall(text)


def first_missing(needle: list[str], haystack: list[str]) -> int | None:
    """Index of the first item of ``needle`` that does not follow, in order, in ``haystack``
    (``None``: ``needle`` is a subsequence of ``haystack``).

    Examples
    --------
    >>> first_missing(["1", "2.5", "3"], ["9", "1", "4", "2.5", "3"]) is None
    True
    >>> first_missing(["1", "3", "2.5"], ["1", "2.5", "3"])
    2
    """
    position = 0
    for index, item in enumerate(needle):
        try:
            position = haystack.index(item, position) + 1
        except ValueError:
            return index
    return None


def plan(root: Path) -> list[runner.Run]:
    return runner.load_run_plan(root / "book" / "runplan.yml")


def toc_docnames(root: Path) -> list[str]:
    toc = yaml.safe_load((root / "_toc.yml").read_text())
    return [toc["root"]] + [chapter["file"] for part in toc["parts"] for chapter in part["chapters"]]


@cache
def soup(path: Path) -> BeautifulSoup:
    return BeautifulSoup(path.read_text(encoding="utf-8"), "html.parser")


def html_artefact(pdf_build, run: runner.Run, label: str):
    """The HTML element of a table or figure of the run plan, found by its label."""
    page = soup(pdf_build.html.html / f"{run.page}.html")
    element = page.find("table" if label.startswith("tbl-") else "figure", id=make_id(label))
    assert element is not None, (run.page, label)
    return element


def caption_of(element) -> tuple[str, str]:
    """(``Table 3``, caption text) of an HTML table or figure."""
    number = " ".join(element.find(class_="caption-number").get_text().split())  # "Table\xa03 "
    return number, element.find(class_="caption-text").get_text(" ", strip=True)


def body_text(pdf_build) -> str:
    """``pdftotext -raw`` of every page without its running head (the book's title, typeset
    first) and foot (the page number with the chapter or section, typeset last)."""
    title = normalise(yaml.safe_load((pdf_build.root / "_config.yml").read_text(encoding="utf-8"))["title"])
    pages = []
    for page in pdf_build.raw_text.split("\f"):
        lines = [line for line in page.splitlines() if line.strip()]
        if lines and normalise(lines[0]) == title:
            lines = lines[1:]
        if lines and FOOT.fullmatch(lines[-1].strip()):
            lines = lines[:-1]
        pages.append("\n".join(lines))
    return "\f".join(pages)


def tex_environment(tex: str, label_name: str, kinds: tuple[str, ...]) -> tuple[int, int, str]:
    """(first line, last line, kind) of the LaTeX environment of ``kinds`` that holds the
    ``\\label`` of a table or figure (lines numbered from 1, as in LaTeX's log)."""
    anchor = tex.index(r"\label{\detokenize{" + label_name + "}}")
    kind_pattern = "|".join(kinds)
    if "figure" in kinds:
        start = max(m.start() for m in re.finditer(r"\\begin\{figure\}", tex[:anchor]))
    else:  # a table's caption and label sit inside `savenotes`, before or inside its tabular
        start = max(m.start() for m in re.finditer(r"\\begin\{savenotes\}", tex[:anchor]))
    begin = re.compile(rf"\\begin\{{({kind_pattern})\}}").search(tex, start)
    assert begin, label_name
    end = tex.index(rf"\end{{{begin.group(1)}}}", begin.end())
    assert start <= anchor <= end, label_name
    return tex.count("\n", 0, begin.start()) + 1, tex.count("\n", 0, end) + 1, begin.group(1)


@pytest.fixture(scope="module", params=DATASETS)
def pdf(request, pdf_built):
    return pdf_built(request.param)


# ----------------------------------------------------------------------------- the build
def test_pdf_builds_with_warnings_as_errors(pdf):
    """Test 1: `jupyter-book build book/ --builder pdflatex -W` on a built copy exits 0, runs no
    notebook again and writes a PDF of more than one page per chapter."""
    assert "build succeeded" in pdf.build.output
    assert pdf.build.executed() == []
    pages = int(re.search(r"Pages:\s+(\d+)", subprocess.run(["pdfinfo", str(pdf.pdf)], check=True,
                                                             capture_output=True, text=True).stdout).group(1))
    assert pages > len(toc_docnames(pdf.root))
    print(f"PDF of {pdf.html.data_dir}: {pages} pages, built in {pdf.build.seconds:.1f} s")


def test_no_reference_is_left_unresolved(pdf):
    """Test 2: LaTeX resolved every cross-reference (it prints ``??`` for one it could not)."""
    assert "??" not in pdf.text()
    assert not re.search(r"LaTeX Warning: (Hyper reference|Reference|Citation) .* undefined", pdf.log)


def test_title_page_carries_the_dataset_notice(pdf):
    """Test 3: the first page says which dataset the book was built from, with its version,
    and, for a synthetic dataset, that it is synthetic: the words of the HTML banner."""
    # named as the build names it: by its path in the (copied) repository
    dataset = replace(runner.describe_dataset(pdf.root / pdf.html.data_dir), label=pdf.html.data_dir)
    notice = re.sub(r"<[^>]+>", "", runner.announcement_html(dataset))
    first_page = pdf.text("-f", "1", "-l", "1")
    assert normalise(notice) in normalise(first_page)
    assert f"{dataset.label} (version {dataset.fingerprint})" in " ".join(first_page.split())
    assert ("synthetic data" in first_page) == dataset.synthetic


# ----------------------------------------------------------------------------- tables
def test_every_table_is_typeset_as_a_table(pdf):
    """Test 4: each table of the run plan is a LaTeX table (its label inside a tabular
    environment), not a picture of one."""
    for run in plan(pdf.root):
        for label in (k for k in run.artefacts if k.startswith("tbl-")):
            first, last, kind = tex_environment(pdf.tex, f"{run.page}:{make_id(label)}",
                                                ("tabulary", "tabular", "longtable", "tabularx"))
            assert last - first > 3, (run.id, label, kind)


def test_every_table_has_the_html_caption_number_and_numbers(pdf):
    """Test 5: each table of the run plan has the HTML's number and caption, and its cells hold
    the numbers of the HTML table in the same order (row by row, cell by cell)."""
    text = body_text(pdf)
    for run in plan(pdf.root):
        for label in (k for k in run.artefacts if k.startswith("tbl-")):
            table = html_artefact(pdf, run, label)
            number, caption = caption_of(table)
            caption_line = re.compile(rf"(?:^|[\n\f]){re.escape(number)}: ").search(text)  # \f: a new page
            assert caption_line, (run.id, label, number)
            start = caption_line.start()
            assert normalise(caption) in normalise(text[start:start + 3 * len(caption) + 200]), (run.id, label)
            following = re.compile(r"[\n\f](Table|Figure) \d+: ").search(text, start + 1)
            region = text[start:following.start() if following else len(text)]
            expected = numbers(table.get_text(" "))
            missing = first_missing(expected, numbers(region))
            assert missing is None, (f"{run.id} {label}: number {missing} of the HTML table "
                                     f"({expected[missing]!r}, after {expected[max(0, missing - 5):missing]}) "
                                     f"is not in the PDF table")


def test_no_number_of_a_paper_table_overflows_its_column(pdf):
    """Test 6: the tables laid out as the paper's (class ``paper-table``) fit the text width, and
    LaTeX reports no cell wider than its column that holds a number (it would run into the next
    column)."""
    tables = []
    for run in plan(pdf.root):
        for label in (k for k in run.artefacts if k.startswith("tbl-")):
            if "paper-table" in html_artefact(pdf, run, label).get("class", []):
                first, last, _kind = tex_environment(pdf.tex, f"{run.page}:{make_id(label)}",
                                                     ("tabulary", "tabular", "longtable", "tabularx"))
                tables.append((run.id, label, first, last))
    assert tables
    overflows = re.findall(r"Overfull \\hbox \(([\d.]+)pt too wide\) in (paragraph|alignment) at lines "
                           r"(\d+)--(\d+)\n(.*)", pdf.log)
    for width, where, a, b, content in overflows:
        for run_id, label, first, last in tables:
            if int(a) <= last and int(b) >= first:
                assert where == "paragraph", f"{run_id} {label}: the table is {width} pt wider than the text"
                printed = re.sub(r"\\\S+", "", content)  # without the font names (\TU/FreeSerif(0)/m/n/9)
                assert not re.search(r"\d", printed), f"{run_id} {label}: {printed.strip()!r} is {width} pt too wide"


# ----------------------------------------------------------------------------- figures
def test_every_figure_is_the_html_image_with_the_html_caption(pdf):
    """Test 7: each figure of the run plan includes the very image file of the HTML figure, the
    PDF holds that image at full resolution, and the caption and number are the HTML's."""
    text = normalise(body_text(pdf))
    listed = subprocess.run(["pdfimages", "-list", str(pdf.pdf)], check=True, capture_output=True,
                            text=True).stdout.splitlines()[2:]
    sizes = {(int(f[3]), int(f[4])) for f in (line.split() for line in listed) if f[2] == "image"}
    figures = 0
    for run in plan(pdf.root):
        for label in (k for k in run.artefacts if k.startswith("fig-")):
            figure = html_artefact(pdf, run, label)
            image = Path(figure.find("img")["src"]).name
            first, last, _kind = tex_environment(pdf.tex, f"{run.page}:{make_id(label)}", ("figure",))
            body = "\n".join(pdf.tex.splitlines()[first - 1:last])
            included = re.search(r"\\sphinxincludegraphics(?:\[[^\]]*\])?\{\{([^}]+)\}(\.\w+)\}", body)
            assert included and included.group(1) + included.group(2) == image, (run.id, label)
            with Image.open(pdf.latex_dir / image) as png:
                assert png.size in sizes, (run.id, label, png.size, sizes)
            number, caption = caption_of(figure)
            assert normalise(f"{number}: {caption}") in text, (run.id, label)
            figures += 1
    assert figures and len(sizes) >= figures


# ----------------------------------------------------------------------------- prose
def sentence_pattern(line: str, registry: dict[str, float], parameters: dict) -> re.Pattern | None:
    """A pattern of the normalised PDF text for one source line that prints registry values:
    the line's words with each ``{reg}`` replaced by the value as the book prints it and any
    other role or math left open (``None`` for a line without a ``{reg}``)."""
    if line.lstrip().startswith(":") or "{reg}`" not in line:  # directive options are not printed
        return None
    parts, position, values = [], 0, 0
    for token in TOKEN.finditer(line):
        parts.append(re.escape(normalise(MARKDOWN_LINK.sub(r"\1", line[position:token.start()]))))
        if token.group("role") == "reg":
            reference = token.group("target")
            reference = reference.format(**parameters) if "{" in reference else reference
            parts.append(re.escape(normalise(runner.render_registry_value(registry, reference))))
            values += 1
        else:
            parts.append(".{0,300}?")
        position = token.end()
    parts.append(re.escape(normalise(MARKDOWN_LINK.sub(r"\1", line[position:]))))
    return re.compile("".join(parts)) if values else None


def markdown_sources(root: Path) -> list[tuple[str, str, dict]]:
    """(page, Markdown text, run parameters) of every page of the table of contents: the
    Markdown files and the markdown cells of the executed notebooks."""
    runs = {run.page: run for run in plan(root)}
    sources = []
    for docname in toc_docnames(root):
        if (root / "book" / f"{docname}.md").is_file():
            sources.append((docname, (root / "book" / f"{docname}.md").read_text(encoding="utf-8"), {}))
        elif docname in runs:
            notebook = nbformat.read(root / "book" / f"{docname}.ipynb", as_version=4)
            text = "\n".join(cell.source for cell in notebook.cells if cell.cell_type == "markdown")
            sources.append((docname, text, runs[docname].parameters))
    return sources


def test_every_registry_number_of_the_prose_is_in_its_sentence(pdf):
    """Test 8: every line of the book's Markdown that prints registry values (``{reg}``) is in
    the PDF with those values, formatted as the book prints them
    (:func:`analysis.build.render_registry_value`): the summary table of the first chapter
    (patients, patient-years, SAE rates, ACR20 and LDA by arm) and every results page."""
    registry = runner.load_registry(pdf.root / "_build" / "results" / "results.csv")
    text = normalise(body_text(pdf))
    checked, failures = 0, []
    for docname, source, parameters in markdown_sources(pdf.root):
        fences: list[str] = []  # open fences, innermost last: "code" or "directive"
        for line in source.splitlines():
            fence = re.match(r"\s*(`{3,}|~{3,})(.*)", line)
            if fence:
                if fences and not fence.group(2).strip():
                    fences.pop()
                else:
                    fences.append("directive" if fence.group(2).startswith("{") else "code")
                continue
            pattern = None if "code" in fences else sentence_pattern(line, registry, parameters)
            if pattern is None:
                continue
            checked += 1
            if not pattern.search(text):
                failures.append(f"{docname}: {line.strip()}")
    print(f"{checked} lines with registry values checked in the PDF of {pdf.html.data_dir}")
    assert checked >= 10
    assert failures == []


def test_key_registry_numbers_of_the_summary_are_in_the_pdf(pdf):
    """Test 9: the headline numbers, by arm, each printed next to its row label in the first
    chapter's summary table: patients, SAE rate and ACR20 at year 1 (a guard on Test 8's parser)."""
    registry = runner.load_registry(pdf.root / "_build" / "results" / "results.csv")
    text = normalise(body_text(pdf))
    for label, stem in [("Patients treated", "table2.n.{}"),
                        ("Serious adverse events per 100 patient-years", "table2.sae.{}.rate"),
                        ("ACR20 response at year 1 (%)", "table3.acr20.{}.year1.pct")]:
        values = [runner.render_registry_value(registry, stem.format(arm)) for arm in ("msc", "msc_ifng")]
        assert normalise(label + "".join(values)) in text, (label, values)
