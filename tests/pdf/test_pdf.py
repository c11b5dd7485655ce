"""The book builds as two PDFs (`make pdf`), the article (``paper.pdf``: summary, study and
methods, results, discussion, references) and its supplement (``supplement.pdf``: the
sensitivity analyses, the reproduction report, the audit, the appendix), both in article layout,
that together hold what the HTML of the same build holds: the dataset notice on the first page
of each, every table of the run plan typeset as a table with the HTML's numbers in the HTML's
order (numbered as its PDF numbers it: Table 1... in the article, Table S1... in the
supplement), every figure with the HTML's image and caption, and every registry number of the
prose in its sentence.

The PDF is read with poppler's ``pdftotext``. ``-raw`` keeps the order in which LaTeX typeset
the text, so a table reads row by row and cell by cell, as the HTML table does; the running
head and foot are taken out, so a sentence that crosses a page break still reads as one.
Text is compared after :func:`normalise`, which keeps letters, digits and ``. < > %`` only:
line breaks, hyphenation, quotes and dashes differ between the two outputs, words do not.
"""
from __future__ import annotations

import copy
import re
import subprocess
from dataclasses import replace
from datetime import UTC
from functools import cache
from pathlib import Path

import nbformat
import pandas as pd
import pytest
import yaml
from book_build_support import DATASETS
from bs4 import BeautifulSoup
from docutils.nodes import make_id
from pdf_build_support import normalise
from PIL import Image

from analysis import build as runner
from analysis.ensemble.marks import format_mark, marks_for_dataset

pytestmark = pytest.mark.slow

#: A number as printed in a table or in prose: ``12``, ``-0.42``, ``<0.001``, ``>0.999``.
NUMBER = re.compile(r"[<>]?-?\d+(?:\.\d+)?")
#: A MyST role (not inside a code span) or inline math: what the PDF prints for it is not the
#: source text.
TOKEN = re.compile(r"(?<!`)\{(?P<role>[\w:-]+)\}`(?P<target>[^`]*)`|\$[^$\n]+\$")
MARKDOWN_LINK = re.compile(r"\[([^\]]*)\]\([^)]*\)")
#: The running foot of a page: its number (arabic or roman) before or after a chapter or section.
FOOT = re.compile(r"(\d+|[ivxlc]+)( .*)?|.* (\d+|[ivxlc]+)")


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


def tables_and_figures(pdf_build, stem: str) -> dict[str, str]:
    """Label id -> the number its PDF prints for it ("3", "S2"): the HTML's tables (figures) of
    the document's pages in reading order, counted from 1, with the document's prefix."""
    config = yaml.safe_load((pdf_build.root / "_config.yml").read_text(encoding="utf-8"))
    prefix = config["sphinx"]["config"]["submission_documents"][f"{stem}.tex"].get("prefix", "")
    numbers, counts = {}, {"Table": 0, "Figure": 0}
    for docname in pdf_build.pages_of[stem]:
        page = soup(pdf_build.html.html / f"{docname}.html")
        for number in page.find_all(class_="caption-number"):
            kind = number.get_text().split()[0]
            element = number.find_parent(["table", "figure"])
            counts[kind] += 1
            numbers[element["id"]] = f"{prefix}{counts[kind]}"
    return numbers


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


def caption_of(element, pdf_build=None, run=None) -> tuple[str, str]:
    """(``Table 3``, caption text) of an HTML table or figure; with ``pdf_build`` and ``run``, the
    number is the one the run's PDF prints (``Table S3`` in the supplement)."""
    number = " ".join(element.find(class_="caption-number").get_text().split())  # "Table\xa03 "
    if pdf_build is not None:
        stem = pdf_build.document_of(run.page).stem
        number = f"{number.split()[0]} {tables_and_figures(pdf_build, stem)[element['id']]}"
    return number, element.find(class_="caption-text").get_text(" ", strip=True)


def body_text(document) -> str:
    """``pdftotext -raw`` of every page of a PDF without its running foot (the page number,
    typeset last; the article layout has no running head), so a sentence that crosses a page
    break reads as one."""
    pages = []
    for page in document.raw_text.split("\f"):
        lines = [line for line in page.splitlines() if line.strip()]
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
def test_pdfs_build_with_warnings_as_errors(pdf):
    """Test 1: `jupyter-book build book/ --builder pdflatex -W` on a built copy exits 0, runs no
    notebook again and writes the article, at most 25 pages, and the supplement."""
    assert "build succeeded" in pdf.build.output
    assert pdf.build.executed() == []
    paper, supplement = pdf.documents["paper"], pdf.documents["supplement"]
    assert 5 < paper.pages <= 25
    assert supplement.pages > len(pdf.pages_of["supplement"])
    print(f"PDFs of {pdf.html.data_dir}: article {paper.pages} pages, supplement {supplement.pages} pages, "
          f"built in {pdf.build.seconds:.1f} s")


def test_pdfs_are_articles_not_manuals(pdf):
    """Test 2: both PDFs use Sphinx's ``howto`` class (sections, no chapters, no cover page): the
    first page holds the title and the text starts on it."""
    for document in pdf.documents.values():
        assert re.search(r"\\documentclass\[[^\]]*\]\{sphinxhowto\}", document.tex), document.stem
        assert r"\chapter{" not in document.tex, document.stem
        assert len(normalise(document.text("-f", "1", "-l", "1"))) > 600, document.stem


def test_each_pdf_holds_the_pages_of_its_parts(pdf):
    """Test 3: the article holds the pages of the parts its configuration names (and the
    references), the supplement every page of the sensitivity, reproduction, audit and appendix
    parts, chosen from _toc.yml (so a page added to a part lands in its PDF); between them they
    hold every page of the book, and only the references page is in both."""
    root = toc_docnames(pdf.root)[0]
    for stem, document in pdf.documents.items():
        sections = [normalise(re.sub(r"\\[a-zA-Z]+(\{\})?", "", title))
                    for title in re.findall(r"\\section\{(.*?)\}\s*\\label", document.tex)]
        for docname in pdf.pages_of[stem]:
            if docname == root:
                continue  # the root page's title is the document's title
            title = normalise(soup(pdf.html.html / f"{docname}.html").find("h1").get_text(" ", strip=True))
            assert title in sections, (stem, docname, title, sections)
    both = set(pdf.pages_of["paper"]) & set(pdf.pages_of["supplement"])
    assert both == {"references"}
    assert set(pdf.pages_of["paper"]) | set(pdf.pages_of["supplement"]) == set(toc_docnames(pdf.root))
    assert {"generated/reproduction", "generated/audit", "generated/reproducibility"} <= set(pdf.pages_of["supplement"])


def test_no_reference_is_left_unresolved(pdf):
    """Test 4: LaTeX resolved every cross-reference in both PDFs (it prints ``??`` for one it
    could not); a reference to the other PDF names it ("Table S1 of the supplement")."""
    for document in pdf.documents.values():
        assert "??" not in document.text(), document.stem
        assert not re.search(r"LaTeX Warning: (Hyper reference|Reference|Citation) .* undefined", document.log)
    assert "of the supplement" in pdf.documents["paper"].text()
    assert "of the article" in pdf.documents["supplement"].text()


def test_first_pages_carry_the_dataset_notice(pdf):
    """Test 5: the first page of each PDF says which dataset the book was built from, with its
    version, and, for a synthetic dataset, that it is synthetic: the words of the HTML banner."""
    # named as the build names it: by its path in the (copied) repository
    dataset = replace(runner.describe_dataset(pdf.root / pdf.html.data_dir), label=pdf.html.data_dir)
    notice = re.sub(r"<[^>]+>", "", runner.announcement_html(dataset))
    for document in pdf.documents.values():
        first_page = document.text("-f", "1", "-l", "1")
        assert normalise(notice) in normalise(first_page), document.stem
        assert f"{dataset.label} (version {dataset.fingerprint})" in " ".join(first_page.split())
        assert ("synthetic data" in first_page) == dataset.synthetic


def test_date_printed_is_the_commit_date(pdf):
    """Test 6a: the title block prints the date of the last commit (``SOURCE_DATE_EPOCH``, as
    the Makefile sets it), not the day of the build, so two builds of one commit agree; the
    PDF's own creation date is that date too."""
    from datetime import datetime

    from book_build_support import commit_epoch

    epoch = commit_epoch()
    assert epoch, "the tests run in a git checkout"
    date = datetime.fromtimestamp(int(epoch), tz=UTC)
    for document in pdf.documents.values():
        assert date.strftime("%b %d, %Y") in document.text("-f", "1", "-l", "1"), document.stem
        info = subprocess.run(["pdfinfo", "-isodates", str(document.pdf)], check=True, capture_output=True,
                              text=True).stdout
        assert date.strftime("%Y-%m-%dT%H:%M:%S") in info, (document.stem, info)


def test_article_cites_the_original_and_has_a_structured_summary(pdf):
    """Test 6: the article's first page names the reproduction team and cites the original
    article; its summary has the parts of a structured abstract, with the trial registrations
    of the data contract, and a Discussion section precedes the references."""
    from analysis.contract import STUDYIDS

    paper = pdf.documents["paper"]
    first = " ".join(paper.text("-f", "1", "-l", "2").split())
    assert "Reproduction team" in first and "Yang" in first and "reproduction team, not of the article" in first
    text = " ".join(paper.text().split())
    for part in ("Background.", "Methods.", "Results.", "Reproduction and audit.", "Conclusions.",
                 "Trial registration."):
        assert part in text, part
    assert all(study in text for study in STUDYIDS)
    assert text.index("Discussion") < text.rindex("References")


# ----------------------------------------------------------------------------- tables
def test_every_table_is_typeset_as_a_table(pdf):
    """Test 7: each table of the run plan is a LaTeX table (its label inside a tabular
    environment) in the PDF that holds its page, not a picture of one."""
    for run in plan(pdf.root):
        tex = pdf.document_of(run.page).tex
        for label in (k for k in run.artefacts if k.startswith("tbl-")):
            first, last, kind = tex_environment(tex, f"{run.page}:{make_id(label)}",
                                                ("tabulary", "tabular", "longtable", "tabularx"))
            assert last - first > 3, (run.id, label, kind)


def test_every_table_has_the_html_caption_number_and_numbers(pdf):
    """Test 8: each table of the run plan has the HTML's caption, its PDF's number (the article
    numbers from Table 1, the supplement from Table S1) and its cells hold the numbers of the
    HTML table in the same order (row by row, cell by cell)."""
    texts = {stem: body_text(document) for stem, document in pdf.documents.items()}
    for run in plan(pdf.root):
        text = texts[pdf.document_of(run.page).stem]
        for label in (k for k in run.artefacts if k.startswith("tbl-")):
            table = html_artefact(pdf, run, label)
            number, caption = caption_of(table, pdf, run)
            caption_line = re.compile(rf"(?:^|[\n\f]){re.escape(number)}: ").search(text)  # \f: a new page
            assert caption_line, (run.id, label, number)
            start = caption_line.start()
            assert normalise(caption) in normalise(text[start:start + 3 * len(caption) + 200]), (run.id, label)
            following = re.compile(r"[\n\f](Table|Figure) S?\d+: ").search(text, start + 1)
            # a line may break after the minus of an exponent ("6.4e-" / "07"): join it again
            region = re.sub(r"(\de-)\s+(\d)", r"\1\2", text[start:following.start() if following else len(text)])
            cells = copy.copy(table)
            cells.find(class_="caption-number").decompose()  # the HTML's number, checked above
            expected = numbers(cells.get_text(" "))
            missing = first_missing(expected, numbers(region))
            assert missing is None, (f"{run.id} {label}: number {missing} of the HTML table "
                                     f"({expected[missing]!r}, after {expected[max(0, missing - 5):missing]}) "
                                     f"is not in the PDF table")


def test_no_table_is_cut_at_the_margin(pdf):
    """Test 9: no table of either PDF is wider than the text (LaTeX reports an overfull
    alignment), and no cell holding a number overflows its column (it would run into the next
    column or off the page): wide tables wrap or break."""
    checked = 0
    for run in plan(pdf.root):
        document = pdf.document_of(run.page)
        overflows = re.findall(r"Overfull \\hbox \(([\d.]+)pt too wide\) in (paragraph|alignment) at lines "
                               r"(\d+)--(\d+)\n(.*)", document.log)
        for label in (k for k in run.artefacts if k.startswith("tbl-")):
            first, last, _kind = tex_environment(document.tex, f"{run.page}:{make_id(label)}",
                                                 ("tabulary", "tabular", "longtable", "tabularx"))
            checked += 1
            for width, where, a, b, content in overflows:
                if int(a) <= last and int(b) >= first:
                    assert where == "paragraph", f"{run.id} {label}: the table is {width} pt wider than the text"
                    printed = re.sub(r"\\\S+", "", content)  # without the font names (\TU/FreeSerif(0)/m/n/9)
                    assert not re.search(r"\d", printed), f"{run.id} {label}: {printed.strip()!r} is {width} pt too wide"
    assert checked


# ----------------------------------------------------------------------------- figures
def test_every_figure_is_the_html_image_with_the_html_caption(pdf):
    """Test 10: each figure of the run plan includes the very image file of the HTML figure,
    its PDF holds that image at full resolution, and the caption is the HTML's; a figure of the
    article keeps the HTML's number, one of the supplement (the ensemble page's) is numbered S1...
    there."""
    figures = 0
    for run in plan(pdf.root):
        document = pdf.document_of(run.page)
        text = normalise(body_text(document))
        listed = subprocess.run(["pdfimages", "-list", str(document.pdf)], check=True, capture_output=True,
                                text=True).stdout.splitlines()[2:]
        sizes = {(int(f[3]), int(f[4])) for f in (line.split() for line in listed) if f[2] == "image"}
        for label in (k for k in run.artefacts if k.startswith("fig-")):
            figure = html_artefact(pdf, run, label)
            image = Path(figure.find("img")["src"]).name
            first, last, _kind = tex_environment(document.tex, f"{run.page}:{make_id(label)}", ("figure",))
            body = "\n".join(document.tex.splitlines()[first - 1:last])
            included = re.search(r"\\sphinxincludegraphics(?:\[[^\]]*\])?\{\{([^}]+)\}(\.\w+)\}", body)
            assert included and included.group(1) + included.group(2) == image, (run.id, label)
            with Image.open(pdf.latex_dir / image) as png:
                assert png.size in sizes, (run.id, label, png.size, sizes)
            number, caption = caption_of(figure, pdf, run)
            if document.stem == "paper":
                assert number == caption_of(figure)[0], (run.id, label)
            else:
                assert number.startswith("Figure S"), (run.id, label, number)
            assert normalise(f"{number}: {caption}") in text, (run.id, label)
            figures += 1
    assert figures


# ----------------------------------------------------------------------------- prose
def sentence_pattern(line: str, registry: dict[str, float], parameters: dict,
                     marks: dict | None = None) -> re.Pattern | None:
    """A pattern of the normalised PDF text for one source line that prints registry values:
    the line's words with each ``{reg}`` replaced by the value as the book prints it (followed by
    its ‡ mark and range when ``marks``, the not-determined intervals, has the key) and any
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
            key, _, spec = reference.partition(":")
            if marks and key in marks:
                parts.append(re.escape(normalise(format_mark(key, marks[key], spec or None))))
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
    """Test 11: every line of the book's Markdown that prints registry values (``{reg}``) is in
    the PDF that holds its page, with those values, formatted as the book prints them
    (:func:`analysis.build.render_registry_value`): the summary table of the first chapter
    (patients, patient-years, SAE rates, ACR20 and LDA by arm) and every results page."""
    registry = runner.load_registry(pdf.root / "_build" / "results" / "results.csv")
    texts = {stem: normalise(body_text(document)) for stem, document in pdf.documents.items()}
    synthetic = runner.describe_dataset(pdf.root / pdf.html.data_dir).synthetic
    marks = marks_for_dataset(synthetic, pdf.root / "data" / "ensemble")
    checked, failures = 0, []
    for docname, source, parameters in markdown_sources(pdf.root):
        text = texts[pdf.document_of(docname).stem]
        fences: list[str] = []  # open fences, innermost last: "code" or "directive"
        for line in source.splitlines():
            fence = re.match(r"\s*(`{3,}|~{3,})(.*)", line)
            if fence:
                if fences and not fence.group(2).strip():
                    fences.pop()
                else:
                    fences.append("directive" if fence.group(2).startswith("{") else "code")
                continue
            pattern = None if "code" in fences else sentence_pattern(line, registry, parameters, marks)
            if pattern is None:
                continue
            checked += 1
            if not pattern.search(text):
                failures.append(f"{docname}: {line.strip()}")
    print(f"{checked} lines with registry values checked in the PDF of {pdf.html.data_dir}")
    assert checked >= 10
    assert failures == []


def test_key_registry_numbers_of_the_summary_are_in_the_pdf(pdf):
    """Test 12: the headline numbers, by arm, each printed next to its row label in the article's
    summary table: patients, SAE rate and ACR20 at year 1 (a guard on Test 8's parser)."""
    registry = runner.load_registry(pdf.root / "_build" / "results" / "results.csv")
    text = normalise(body_text(pdf.documents["paper"]))
    for label, stem in [("Patients treated", "table2.n.{}"),
                        ("Serious adverse events per 100 patient-years", "table2.sae.{}.rate"),
                        ("ACR20 response at year 1 (%)", "table3.acr20.{}.year1.pct")]:
        values = [runner.render_registry_value(registry, stem.format(arm)) for arm in ("msc", "msc_ifng")]
        assert normalise(label + "".join(values)) in text, (label, values)


# ----------------------------------------------------------------------------- the journal's layout
def section_start(pages: list[str], title: str) -> int:
    """Index of the page where the numbered section ``title`` starts ("5 Baseline
    characteristics"; a long title may wrap onto the next line)."""
    wanted = normalise(title)
    for index, page in enumerate(pages):
        lines = page.splitlines()
        for number, line in enumerate(lines):
            heading = re.fullmatch(r"\d+ (.+)", line.strip())
            if heading and normalise(heading.group(1) + " ".join(lines[number + 1:number + 2])).startswith(wanted):
                return index
    raise AssertionError(f"no section {title!r} in the PDF")


def test_article_tables_float_near_their_first_mention(pdf):
    """Test 13: each table of the article that fits a page is a numbered LaTeX float (``table``
    environment, ``[htbp]``) with its notes, and its caption is at most two pages after the page
    where its section first mentions it (the next page, or the one after when a figure of the
    same section, placed first, fills the page between: Table 5 after Figure 2)."""
    paper = pdf.documents["paper"]
    pages = body_text(paper).split("\f")
    numbers = tables_and_figures(pdf, "paper")
    checked = 0
    for run in plan(pdf.root):
        if run.page not in pdf.pages_of["paper"]:
            continue
        title = soup(pdf.html.html / f"{run.page}.html").find("h1").get_text(" ", strip=True).rstrip("#")
        start = section_start(pages, title)
        for label in (k for k in run.artefacts if k.startswith("tbl-")):
            name = f"{run.page}:{make_id(label)}"
            first, _last, kind = tex_environment(paper.tex, name, ("tabulary", "tabular", "longtable"))
            if kind == "longtable":
                continue  # a long table breaks across pages; it cannot float
            anchor = paper.tex.index(r"\label{\detokenize{" + name + "}}")
            opened = paper.tex.rfind(r"\begin{table}[htbp]", 0, anchor)
            assert opened != -1 and r"\end{table}" not in paper.tex[opened:anchor], (run.id, label)
            number = numbers[make_id(label)]
            mention = next(i for i in range(start, len(pages))
                           if re.search(rf"Table {number}(?![\d:])", pages[i]))
            caption = next(i for i, page in enumerate(pages) if re.search(rf"(?:^|\n)Table {number}: ", page))
            assert 0 <= caption - mention <= 2, (run.id, label, f"mentioned on page {mention + 1}",
                                                 f"caption on page {caption + 1}")
            checked += 1
    assert checked >= 4


def test_article_has_one_references_heading(pdf):
    """Test 14: the references page's title is the bibliography's only heading (LaTeX's
    ``thebibliography`` adds none of its own)."""
    headings = re.findall(r"^(?:\d+ )?References$", pdf.documents["paper"].text(), flags=re.M)
    assert len(headings) == 1, headings


def test_no_output_is_printed_as_raw_text(pdf):
    """Test 15: no notebook output reaches either PDF as a plain-text dump (a data frame's
    repr, such as the mixed model's fit summary, or ``<IPython.core.display.Markdown
    object>``): outputs are tables, figures and text."""
    raw = re.compile(r"\\begin\{sphinxuseclass\}\{cell_output\}\s*\\begin\{sphinxVerbatim\}")
    for document in pdf.documents.values():
        assert not raw.search(document.tex), document.stem
    assert "converged" not in pdf.documents["paper"].text()


def test_no_text_runs_past_the_right_margin(pdf):
    """Test 16: no word of either PDF ends right of the text block (the right edge of the
    article's justified lines, measured with ``pdftotext -bbox``), and LaTeX reports no line
    more than 10 pt too wide (a narrow table column used to push its words past the margin)."""
    words = {stem: [(page, float(x1), word) for page, chunk in enumerate(document.text("-bbox").split("<page ")[1:], 1)
                    for x1, word in re.findall(r'<word xMin="[\d.]+" yMin="[\d.]+" xMax="([\d.]+)" yMax="[\d.]+">(.*?)</word>',
                                               chunk)]
             for stem, document in pdf.documents.items()}
    edges = {}
    for _page, x1, _word in words["paper"]:
        edges[round(x1)] = edges.get(round(x1), 0) + 1
    right = max(edges, key=edges.get)  # the edge most lines end at: justified text
    for stem, found in words.items():
        beyond = [(page, word, x1) for page, x1, word in found if x1 > right + 2]
        assert beyond == [], (stem, f"text block ends at {right} pt", beyond[:10])
        wide = [float(w) for w in re.findall(r"Overfull \\hbox \(([\d.]+)pt too wide\)", pdf.documents[stem].log)]
        assert all(w <= 10 for w in wide), (stem, sorted(wide)[-5:])


def test_supplement_holds_the_data_contract_from_the_schema(pdf):
    """Test 17: the data contract is a page of the supplement (and of the HTML book) whose
    column tables are the schema's: every file and, in order, every column with its type,
    whether a cell may be empty and its allowed values, as ``analysis.schema`` defines them;
    its examples match no identifier or date of the build's dataset."""
    from analysis.schema import COLUMNS, FILES
    from analysis.submission.contract_page import describe_column

    assert "contract" in pdf.pages_of["supplement"]
    page = soup(pdf.html.html / "contract.html")
    by_file = {}
    for file in FILES:
        heading = page.find(lambda tag, file=file: tag.name in ("h2", "h3") and tag.get_text(strip=True).startswith(file))
        assert heading is not None, file
        table = heading.find_next("table")
        by_file[file] = [[" ".join(cell.get_text().split()) for cell in row.find_all("td")][:4]
                         for row in table.find("tbody").find_all("tr")]
        expected = [[value.replace("`", "") for value in describe_column(spec).values()] for spec in COLUMNS[file]]
        assert by_file[file] == expected, file
    text = normalise(body_text(pdf.documents["supplement"]))
    for file in FILES:
        assert normalise(file) in text
        for spec in COLUMNS[file]:
            row = describe_column(spec)
            assert normalise(" ".join([row["column"], row["type"], row["cell"]])) in text, (file, spec.name)
    # the page prints no patient's identifier or date (ISO, day/month/year, month/day/year)
    data_dir = pdf.root / pdf.html.data_dir
    subjects = pd.read_csv(data_dir / "subjects.csv", dtype=str)
    needles = set(subjects["USUBJID"])
    for file, columns in {"subjects.csv": ("TRTSDT", "EOSDT"), "visits.csv": ("ADT",)}.items():
        frame = pd.read_csv(data_dir / file, dtype=str, keep_default_na=False)
        for iso in {value for column in columns for value in frame[column] if value}:
            year, month, day = iso.split("-")
            needles |= {iso, f"{day}/{month}/{year}", f"{month}/{day}/{year}"}
    words = set(re.findall(r"[\w\-/]+", page.get_text(" ")))
    assert words & needles == set()
