"""The Word (DOCX) and JATS XML manuscripts, converted by pandoc from the book's built HTML.

Route: the HTML pages of a document (:func:`document_pages`: the article, ``paper``, or the
supplement, ``supplement``, chosen from ``_toc.yml`` as for the PDFs) are cut down to their
article text and merged into one HTML file (:func:`merge_html`), which pandoc converts. The
HTML is the rendering in which every registry value, cross-reference, caption and citation is
already resolved, and pandoc reads HTML tables (with spanning cells), figures with captions,
headings, lists, links and TeX math; the LaTeX that Sphinx writes is full of Sphinx macros that
pandoc would lose. What the merge removes is the reader's apparatus: the folded code cells,
heading anchors, download links, the badge stylesheet, the reader's guide (class
``html-only``). Links to a page of the other document become plain text.

* DOCX (:func:`write_docx`): real Word tables, the figures embedded at their printed width from
  the 600 dpi PNGs, captions, headings, the references; pandoc dates the file from
  ``SOURCE_DATE_EPOCH``, so it is byte-reproducible.
* JATS (:func:`write_jats`): JATS Archiving and Interchange 1.3 (pandoc writes the 1.2 DOCTYPE
  of the same tag set; the DOCTYPE and ``dtd-version`` are set to 1.3, whose elements used here
  are unchanged); tables as ``<table-wrap>``, figures as ``<fig>`` whose ``<graphic>`` names the
  figure's TIFF file in the submission zip (``figures/``), the references as ``<ref>`` elements of a
  ``<ref-list>`` in ``<back>``, cited by ``<xref ref-type="bibr">``.
"""
from __future__ import annotations

import os
import re
import subprocess
from datetime import UTC, datetime
from pathlib import Path

import yaml

from analysis import paths
from analysis.build import load_run_plan

#: The documents, by the stem of their files (as the PDFs: paper.pdf, supplement.pdf).
DOCUMENTS = ("paper", "supplement")
HTML_DIR = paths.BUILD / "html"
DOCX_DIR = paths.BUILD / "docx"
JATS_DIR = paths.BUILD / "jats"
#: DOCTYPE of the JATS output.
JATS_DOCTYPE = ('<!DOCTYPE article PUBLIC "-//NLM//DTD JATS (Z39.96) Journal Archiving and Interchange DTD '
                'v1.3 20210610//EN" "JATS-archivearticle1-3.dtd">')
#: Elements of a page that are the reader's apparatus, not the article.
APPARATUS = ("a.headerlink", "details.above-input", "div.cell_input", "style", "script", "a.download",
             ".html-only", "div.toctree-wrapper", "span.fn-bracket", "div.citation > span.label")


class SubmissionError(RuntimeError):
    """A manuscript cannot be written; the message says what is missing and how to make it."""


def book_config(root: Path = paths.ROOT) -> tuple[dict, dict]:
    """(``_config.yml``, ``_toc.yml``) of the repository at ``root``."""
    config = yaml.safe_load((root / "_config.yml").read_text(encoding="utf-8"))
    toc = yaml.safe_load((root / "_toc.yml").read_text(encoding="utf-8"))
    return config, toc


def document_pages(stem: str, root: Path = paths.ROOT) -> list[str]:
    """The pages of the document ``stem`` in reading order, as its PDF holds them: the root page
    (unless the document is ``toctree_only``), every page of its parts of ``_toc.yml``, and its
    single ``pages`` of other parts (``submission_documents`` in ``_config.yml``).

    Examples
    --------
    >>> pages = document_pages("supplement")
    >>> "generated/audit" in pages and "intro" not in pages
    True
    """
    config, toc = book_config(root)
    spec = config["sphinx"]["config"]["submission_documents"][f"{stem}.tex"]
    pages = [] if spec.get("toctree_only") else [toc["root"]]
    for part in toc["parts"]:
        for chapter in part["chapters"]:
            if part["caption"] in spec.get("parts", []) or chapter["file"] in spec.get("pages", []):
                pages.append(chapter["file"])
    return pages


def document_title(stem: str, root: Path = paths.ROOT) -> str:
    """The title of the document ``stem``: the book's title for the article, the supplement's
    own (``submission_documents``)."""
    config, _toc = book_config(root)
    spec = config["sphinx"]["config"]["submission_documents"][f"{stem}.tex"]
    return spec.get("title") or config["title"]


def source_date(environ=None) -> datetime:
    """The date the outputs print: ``SOURCE_DATE_EPOCH`` of ``environ`` (default: the process's;
    the Makefile sets the last commit's), else now.

    Examples
    --------
    >>> source_date({"SOURCE_DATE_EPOCH": "0"}).isoformat()
    '1970-01-01T00:00:00+00:00'
    """
    epoch = (os.environ if environ is None else environ).get("SOURCE_DATE_EPOCH")
    return datetime.fromtimestamp(int(epoch), tz=UTC) if epoch else datetime.now(UTC)


def figure_files(root: Path = paths.ROOT) -> dict[str, Path]:
    """Figure label -> the book's PNG of it (``book/generated/<run>/<file>``), from the run plan."""
    return {label: root / "book" / "generated" / run.id / name
            for run in load_run_plan(root / "book" / "runplan.yml")
            for label, name in run.artefacts.items() if label.startswith("fig-")}


def merge_html(stem: str, target: str, root: Path = paths.ROOT, html_dir: Path | None = None) -> str:
    """One HTML document of the pages of ``stem``, ready for pandoc (``target``: ``docx`` or
    ``jats``, which decides what the figures point at).

    The root page's title becomes the document's title (pandoc metadata), so its sections move
    up one level, as in the PDF. A link to another page of the same document becomes a link to
    the anchor; to a page of the other document, its text. Figure images point at the 600 dpi
    PNG (DOCX, embedded) or at the TIFF file of the submission zip (JATS: ``figures/<name>.tiff``,
relative to the JATS file at the zip's top level).
    """
    from bs4 import BeautifulSoup

    html_dir = html_dir or root / "_build" / "html"
    pages = document_pages(stem, root)
    _config, toc = book_config(root)
    figures = figure_files(root)
    body = BeautifulSoup("<body></body>", "html.parser")
    articles, aliases = {}, {}
    for docname in pages:
        path = html_dir / f"{docname}.html"
        if not path.is_file():
            raise SubmissionError(f"{path} is missing: build the book first (make book)")
        article = BeautifulSoup(path.read_text(encoding="utf-8"), "html.parser").find("article", class_="bd-article")
        section = article.find("section")
        aliases[(docname, section["id"])] = _page_anchor(docname)  # a page's section is the page
        articles[docname] = article
    for docname, article in articles.items():
        for figure in article.find_all("figure"):
            image = figure.find("img")
            png = figures.get(figure.get("id", ""))
            if image is None or png is None:
                continue
            stem_name = png.stem
            # relative to the repository (pandoc runs there): no machine path in the output
            image["src"] = (png.with_name(f"{stem_name}-600dpi.png").relative_to(root).as_posix() if target == "docx"
                            else f"figures/{stem_name}.tiff")
            image["title"] = image.get("alt", "")  # pandoc's DOCX writer describes a picture by its title
            image.attrs.pop("width", None)
            image.attrs.pop("height", None)
        # pandoc takes a section's id from its heading
        for section in article.find_all("section", id=True):
            heading = section.find(re.compile(r"^h[1-6]$"))
            if heading is not None and not heading.get("id"):
                heading["id"] = section["id"]
        for selector in APPARATUS:
            for element in article.select(selector):
                element.decompose()
        here = Path(docname).parent
        # Sphinx numbers the ids of each page from id1: in one document they take the page's name.
        for element in article.find_all(id=True):
            element["id"] = aliases.get((docname, element["id"])) or _anchor(docname, element["id"])
        for link in article.find_all("a", href=True):
            href = link["href"]
            if re.match(r"^[a-z]+:", href):
                continue  # an external link (doi, https) stays
            target_page, _, anchor = href.partition("#")
            target_doc = os.path.normpath(here / target_page).removesuffix(".html") if target_page else docname
            if target_doc in pages:
                link["href"] = "#" + (aliases.get((target_doc, anchor)) or _anchor(target_doc, anchor) if anchor
                                      else _page_anchor(target_doc))
            else:
                link.unwrap()
        section = article.find("section")
        if docname == toc["root"]:
            article.find("h1").decompose()
            section.unwrap()  # without its heading it would be a box, not a section
            for level in range(2, 7):  # the root page's sections become top-level sections
                for heading in article.find_all(f"h{level}"):
                    heading.name = f"h{level - 1}"
        for child in list(article.children):
            body.body.append(child)
    return str(body)


def _anchor(docname: str, anchor: str) -> str:
    """The id of ``anchor`` of page ``docname`` in a merged document.

    Examples
    --------
    >>> _anchor("generated/baseline", "tbl-table1")
    'generated-baseline--tbl-table1'
    """
    return f"{docname.replace('/', '-')}--{anchor}"


def _page_anchor(docname: str) -> str:
    return _anchor(docname, "page")


def _pandoc(source: str, output: Path, to: str, *options: str, cwd: Path = paths.ROOT) -> None:
    import pypandoc

    output.parent.mkdir(parents=True, exist_ok=True)
    command = [pypandoc.get_pandoc_path(), "--from", "html", "--to", to, "--output", str(output), *options]
    proc = subprocess.run(command, input=source, text=True, capture_output=True, check=False, cwd=cwd)
    if proc.returncode != 0:
        raise SubmissionError(f"pandoc could not write {output}: {proc.stderr.strip()}")


def _metadata(stem: str, root: Path) -> list[str]:
    config, _toc = book_config(root)
    author = config["latex"]["latex_documents"]["author"]
    return ["--metadata", f"title={document_title(stem, root)}", "--metadata", f"author={author}",
            "--metadata", f"date={source_date().date().isoformat()}", "--metadata", "lang=en"]


def write_docx(stem: str, root: Path = paths.ROOT, out_dir: Path | None = None) -> Path:
    """``<stem>.docx`` of the document ``stem`` (``_build/docx/`` by default)."""
    output = (out_dir or root / "_build" / "docx") / f"{stem}.docx"
    _pandoc(merge_html(stem, "docx", root), output, "docx", "--standalone", *_metadata(stem, root), cwd=root)
    return output


def write_jats(stem: str = "paper", root: Path = paths.ROOT, out_dir: Path | None = None) -> Path:
    """``<stem>.xml``, the document as a JATS Archiving 1.3 article (``_build/jats/`` by default),
    with the bibliography as a ``<ref-list>`` of ``<ref>`` elements."""
    from lxml import etree

    output = (out_dir or root / "_build" / "jats") / f"{stem}.xml"
    _pandoc(merge_html(stem, "jats", root), output, "jats_archiving", "--standalone", *_metadata(stem, root), cwd=root)
    text = output.read_text(encoding="utf-8")
    text = re.sub(r"<!DOCTYPE article PUBLIC [^>]*>", JATS_DOCTYPE, text, count=1)
    text = re.sub(r'dtd-version="1\.2"', 'dtd-version="1.3"', text, count=1)
    tree = etree.fromstring(text.encode("utf-8"), etree.XMLParser(resolve_entities=False, no_network=True))
    move_references(tree)
    for wrap in tree.iter("table-wrap"):  # the label of a table names its wrapper, as for a figure
        table = wrap.find("table")
        if table is not None and table.get("id"):
            wrap.set("id", table.attrib.pop("id"))
    doctype = JATS_DOCTYPE
    output.write_bytes(etree.tostring(tree, xml_declaration=True, encoding="utf-8", doctype=doctype, pretty_print=True))
    return output


def move_references(tree) -> int:
    """Turn the bibliography of a pandoc JATS ``tree`` (the entries of the references section,
    which pandoc writes as ``<boxed-text id=...>`` or ``<p>`` with the entry's id) into
    ``<back><ref-list><ref id=...><mixed-citation>...`` and the links to them into
    ``<xref ref-type="bibr">``; return the number of references (in place)."""
    from lxml import etree

    xlink = "{http://www.w3.org/1999/xlink}"
    body = tree.find("body")
    section = next((sec for sec in body.iter("sec") if (sec.findtext("title") or "").strip() == "References"), None)
    if section is None:
        return 0
    candidates = [element for element in section.iter() if element.get("id") and element is not section
                  and element.tag in ("boxed-text", "p", "sec", "list-item")]
    # the entries, not the containers that hold them (the bibliography's own box has an id too)
    entries = [element for element in candidates
               if not any(other is not element and other in element.iter() for other in candidates)]
    back = tree.find("back")
    if back is None:
        back = etree.SubElement(tree, "back")
    ref_list = etree.SubElement(back, "ref-list")
    etree.SubElement(ref_list, "title").text = "References"
    ids = set()
    for entry in entries:
        ref = etree.SubElement(ref_list, "ref", id=entry.get("id"))
        citation = etree.SubElement(ref, "mixed-citation")
        text = " ".join("".join(entry.itertext()).split())
        citation.text = text
        ids.add(entry.get("id"))
    section.getparent().remove(section)
    for xref in tree.iter("xref"):
        if xref.get("rid") in ids:
            xref.set("ref-type", "bibr")
    for link in list(tree.iter("ext-link")):
        if link.get(f"{xlink}href", "").lstrip("#") in ids:
            link.tag = "xref"
            link.set("rid", link.get(f"{xlink}href").lstrip("#"))
            link.set("ref-type", "bibr")
            for name in list(link.attrib):
                if name.startswith(xlink) or name == "ext-link-type":
                    del link.attrib[name]
    return len(ids)
