"""Sphinx extension of the book: the PDFs a journal receives, the article and its supplement.

Sphinx writes one LaTeX file per entry of ``latex_documents``. Jupyter Book 1.0.4 builds the
article's entry from ``_config.yml`` (``latex: latex_documents:``) but fails on a list of two
entries, so the supplement's entry (``start``, ``title``, ``toctree_only`` in
``submission_documents``) is added by :class:`SubmissionLaTeXBuilder` when it starts. Both
start at the book's root page; which pages each one holds is chosen from the parts of ``_toc.yml`` by the configuration value
``submission_documents`` (target file -> ``parts``: part captions, ``pages``: single pages of
other parts, ``prefix``: put before its table and figure numbers, ``contents``: print a table of
contents), so a page added to a part
lands in its PDF without a list to update here.

The LaTeX builder is replaced by :class:`SubmissionLaTeXBuilder`, the same builder with
``assemble_doctree`` changed in two ways:

* the root page's toctrees are cut down to the document's parts and pages before Sphinx
  inlines them;
* a reference to a table, figure, section or page that is in the *other* document cannot be a
  hyperlink (LaTeX would print ``??``): it becomes text that names it as that document numbers
  it, e.g. "Table S3 of the supplement" (tables and figures) or "*Methods* in the article"
  (pages and sections). The numbers are those LaTeX gives: the order of the item among the document's
  tables (or figures), with the document's prefix (the supplement sets ``\\thetable`` to
  ``S\\arabic{table}``).

After the references are resolved, a document whose entry sets ``floats: true`` (the article)
has its numbered tables set as LaTeX floats near their first mention (:func:`float_tables`).

The HTML builder is not touched: the HTML book keeps every page. In the PDFs only, the
extension also lets long code words break (:class:`BreakLongLiterals`), widens table columns
narrower than their longest word (:class:`WidenNarrowColumns`), leaves out notebook outputs
that only have a plain-text rendering (:class:`DropPlainTextOutputs`); it provides the MyST substitution
``{{ trial_registrations }}`` (:func:`on_config_inited`) and the directive ``{contract-tables}``
of the data contract's page (:class:`ContractTables`).
"""
from __future__ import annotations

import os
import re
import sys
from pathlib import Path

from docutils import nodes
from docutils.statemachine import StringList
from sphinx import addnodes
from sphinx.application import Sphinx
from sphinx.builders.latex import LaTeXBuilder
from sphinx.transforms.post_transforms import SphinxPostTransform
from sphinx.util import docname_join, logging
from sphinx.util.console import darkgreen
from sphinx.util.docutils import SphinxDirective
from sphinx.util.nodes import inline_all_toctrees

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:  # the repository's `analysis` package, whatever the working directory
    sys.path.insert(0, str(ROOT))

from analysis.contract import STUDYIDS  # noqa: E402 (after the sys.path insert above)
from analysis.submission import contract_page  # noqa: E402

logger = logging.getLogger(__name__)

#: Names of the documents in the text of a reference to the other one.
DOCUMENT_NAMES = {"paper.tex": "article", "supplement.tex": "supplement"}
#: Figure types numbered by LaTeX, with their LaTeX counter.
COUNTERS = {"table": "table", "figure": "figure"}


def select_toctrees(tree: nodes.Node, parts: list[str], pages: list[str]) -> None:
    """Keep, of the toctrees of ``tree``, the parts captioned ``parts`` whole and, of the other
    parts, only the entries ``pages``; drop toctrees left empty (in place)."""
    for toctree in list(tree.findall(addnodes.toctree)):
        if toctree.get("caption") in parts:
            continue
        toctree["entries"] = [(title, ref) for title, ref in toctree["entries"] if ref in pages]
        toctree["includefiles"] = [ref for ref in toctree["includefiles"] if ref in pages]
        if not toctree["includefiles"]:
            parent = toctree.parent
            toctree.parent.remove(toctree)
            if isinstance(parent, nodes.compound) and not parent.children:  # MyST wraps toctrees
                parent.parent.remove(parent)


def document_pages(env, root: str, parts: list[str], pages: list[str], toctree_only: bool) -> list[str]:
    """The pages of a document in reading order: the root (unless ``toctree_only``), then the
    pages its selected toctrees include, depth first."""
    tree = env.get_doctree(root)
    select_toctrees(tree, parts, pages)
    order = [] if toctree_only else [root]

    def walk(docname: str) -> None:
        for child in env.toctree_includes.get(docname, []) if docname != root else included:
            if child not in order:
                order.append(child)
                walk(child)

    included = [ref for toctree in tree.findall(addnodes.toctree) for ref in toctree["includefiles"]]
    walk(root)
    return order


def number_items(env, pages: list[str], prefix: str) -> dict[tuple[str, str], str]:
    """(figure type, label id) -> the number LaTeX prints for it in a document of ``pages``:
    its rank among the document's items of that type (the HTML numbers them through the whole
    book, in reading order), with ``prefix``."""
    numbers = {}
    for figtype in COUNTERS:
        items = sorted((number, docname, label) for docname in pages
                       for label, number in env.toc_fignumbers.get(docname, {}).get(figtype, {}).items())
        for rank, (_number, _docname, label) in enumerate(items, start=1):
            numbers[(figtype, label)] = f"{prefix}{rank}"
    return numbers


class SubmissionLaTeXBuilder(LaTeXBuilder):
    """Sphinx's LaTeX builder, writing each ``latex_documents`` entry from its own parts of the
    table of contents (see the module's docstring)."""

    def init_document_data(self) -> None:
        super().init_document_data()
        config = self.config.submission_documents
        # Documents of `submission_documents` with a start page of their own are added here
        # (Jupyter Book 1.0.4 cannot pass a `latex_documents` list of two entries to Sphinx).
        known = {entry[1] for entry in self.document_data}
        author = self.document_data[0][3] if self.document_data else ""
        for target, spec in config.items():
            if target not in known and "start" in spec:
                self.document_data.append((spec["start"], target, spec.get("title", ""), author, "howto",
                                           bool(spec.get("toctree_only", False))))
                self.titles.append((spec["start"], spec.get("title", "")))
        self._next_document = 0
        self._documents = {}
        for entry in self.document_data:
            target = entry[1]
            spec = config.get(target, {})
            toctree_only = bool(entry[5]) if len(entry) > 5 else False
            pages = document_pages(self.env, entry[0], spec.get("parts", []), spec.get("pages", []), toctree_only)
            self._documents[target] = {"spec": spec, "pages": pages,
                                       "numbers": number_items(self.env, pages, spec.get("prefix", ""))}

    def get_contentsname(self, indexfile: str) -> str:
        # Sphinx names the table of contents after the start page's first toctree caption (a
        # part of the article); the supplement's lists its own sections.
        return "Contents"

    def _locate(self, target: str, docname: str) -> str | None:
        """The other document that holds ``docname`` (its target file), if any."""
        return next((other for other, doc in self._documents.items() if other != target and docname in doc["pages"]),
                    None)

    def _distant_text(self, target: str, node: addnodes.pending_xref) -> nodes.Node | None:
        """Text for a reference to an item of another document, or ``None`` (not distant)."""
        std = self.env.get_domain("std")
        kind, reference = node.get("reftype"), node.get("reftarget", "")
        if kind == "doc" and node.get("reproduce_mark"):
            # a ‡ mark whose page is in the other document: its range as plain text (the article
            # explains the mark where it first uses it), without "in the supplement" after each one
            docname = docname_join(node["refdoc"], reference)
            distant = self._locate(target, docname) is not None and docname not in self.docnames
            return nodes.Text(node.astext()) if distant else None
        if kind == "doc":
            docname = docname_join(node["refdoc"], reference)
            other = self._locate(target, docname)
            if other is None or docname in self.docnames:
                return None
            title = node.astext() if node.get("refexplicit") else self.env.titles[docname].astext()
            return nodes.inline("", "", nodes.emphasis(title, title),
                                nodes.Text(f" in the {DOCUMENT_NAMES.get(other, other)}"))
        if kind not in ("numref", "ref"):
            return None
        docname, labelid = std.anonlabels.get(reference, (None, None))
        if docname is None or docname in self.docnames:
            return None
        other = self._locate(target, docname)
        if other is None:
            return None
        where = f" of the {DOCUMENT_NAMES.get(other, other)}"
        if kind == "ref":
            title = std.labels[reference][2] if reference in std.labels else reference
            return nodes.inline("", "", nodes.emphasis(title, title), nodes.Text(where))
        figtype = std.get_enumerable_node_type(self.env.get_doctree(docname).ids[labelid])
        number = self._documents[other]["numbers"].get((figtype, labelid))
        if number is None:
            return None
        template = node.astext() if node.get("refexplicit") else self.config.numfig_format[figtype]
        text = template.replace("{number}", number) if "{number}" in template else template % number
        return nodes.inline("", text + where)

    def assemble_doctree(self, indexfile: str, toctree_only: bool, appendices: list[str]) -> nodes.document:
        # LaTeXBuilder.write assembles the documents in the order of document_data.
        entry = self.document_data[self._next_document]
        self._next_document += 1
        target = entry[1]
        document = self._documents[target]
        spec = document["spec"]
        self.docnames = {indexfile, *appendices}
        logger.info(darkgreen(indexfile) + " ", nonl=True)
        tree = self.env.get_doctree(indexfile)
        tree["docname"] = indexfile
        select_toctrees(tree, spec.get("parts", []), spec.get("pages", []))
        if toctree_only:  # as Sphinx does: the toctrees alone, in a fresh document
            from sphinx.util.docutils import new_document

            new_tree = new_document("<latex output>")
            section = nodes.section()
            section += nodes.title(entry[2], entry[2])
            new_tree += section
            for toctree in tree.findall(addnodes.toctree):
                section += toctree
            tree = new_tree
        largetree = inline_all_toctrees(self, self.docnames, indexfile, tree, darkgreen, [indexfile])
        largetree["docname"] = indexfile
        prefix = spec.get("prefix", "")
        commands = "".join(rf"\renewcommand{{\the{counter}}}{{{prefix}\arabic{{{counter}}}}}"
                           for counter in COUNTERS.values()) if prefix else ""
        if spec.get("contents"):  # a table of contents after the title (the class has none by default)
            commands += r"\sphinxtableofcontents"
        if commands:
            largetree.insert(0, nodes.raw("", commands, format="latex"))
        for pending in list(largetree.findall(addnodes.pending_xref)):
            replacement = self._distant_text(target, pending)
            if replacement is not None:
                pending.replace_self(replacement)
        logger.info("")
        logger.info("resolving references...")
        self.env.resolve_references(largetree, indexfile, self)
        for pending in list(largetree.findall(addnodes.pending_xref)):  # as Sphinx does
            title = pending["refsectname"]
            pending.replace_self(nodes.emphasis(title, title))
        if spec.get("floats"):  # after the post-transforms, which decide which tables are long
            float_tables(largetree)
        return largetree


#: Where a LaTeX float cannot go: inside a box (it would be lost) or inside another float.
BOXES = (nodes.Admonition, nodes.sidebar, nodes.topic, nodes.table, nodes.footnote, nodes.figure)
#: Sphinx sets a table of more rows than this as a ``longtable`` (which breaks across pages
#: and cannot float); one less, to stay on the safe side of how it counts header rows.
LONGEST_FLOAT = 29


def _is_long(table: nodes.table) -> bool:
    return "longtable" in table["classes"] or len(list(table.findall(nodes.row))) > LONGEST_FLOAT


def float_tables(tree: nodes.Node) -> int:
    r"""Set each table of ``tree`` that fits on a page as a LaTeX ``table`` float (``[htbp]``:
    where it is, if it fits, else at the top of a following page), so that it sits near its
    first mention without leaving a half-empty page; return how many were floated.

    Only a numbered table (one with a caption) floats: an uncaptioned table is part of its
    paragraph (the summary's "By arm ...:" table). A table in a notebook's output floats with
    what follows it in that output (its notes and download line); a long table (a
    ``longtable``, which breaks across pages), a table in a box and a table whose output holds
    another table stay in the text.

    Examples
    --------
    >>> from docutils import nodes
    >>> output = nodes.container(classes=["cell_output"])
    >>> output += [nodes.table("", nodes.title(text="Caption")), nodes.paragraph(text="Note.")]
    >>> float_tables(output)
    1
    >>> print(*[child.astext() if isinstance(child, nodes.raw) else child.tagname for child in output])
    \begin{table}[htbp] table paragraph \end{table}
    """
    floated = 0
    for table in list(tree.findall(nodes.table)):
        if (_is_long(table) or not any(isinstance(child, nodes.title) for child in table.children)
                or any(isinstance(parent, BOXES) for parent in _ancestors(table))):
            continue
        parent = table.parent
        siblings = parent.children[parent.index(table) + 1:] if "cell_output" in parent.get("classes", []) else []
        if any(next(sibling.findall(nodes.table), None) is not None for sibling in siblings):
            siblings = []  # two tables in one output: each alone
        last = siblings[-1] if siblings else table
        parent.insert(parent.index(table), nodes.raw("", "\\begin{table}[htbp]", format="latex"))
        parent.insert(parent.index(last) + 1, nodes.raw("", "\\end{table}", format="latex"))
        floated += 1
    return floated


class DropPlainTextOutputs(SphinxPostTransform):
    """LaTeX only: leave out a notebook output that only has a plain-text rendering (the
    ``repr`` of a data frame or of an object, such as a model-fit summary), which a PDF would
    print as a raw dump in a monospaced block. The book's tables reach the PDF as tables (the
    paper-layout Markdown), its figures as images; the HTML keeps the plain-text outputs."""

    default_priority = 205
    formats = ("latex",)

    def run(self, **kwargs) -> None:
        for block in list(self.document.findall(nodes.literal_block)):
            if "text_plain" in block["classes"] and "output" in block["classes"]:
                block.parent.remove(block)


def widen_narrow_columns(table: nodes.table, line: int = 100, word: int = 10) -> bool:
    """Give each column of a table of given widths at least the width of its longest word
    (at most ``word`` characters: LaTeX hyphenates longer ones), out of ``line`` characters
    to a line, taking the room from the columns wider than they need; return whether a width
    changed.

    A column narrower than a word it holds runs past its right edge, and in the last column
    past the page's margin (the reproduction report's "In the synthetic cohort" column was
    given 1/21 of the line). Words in code (registry keys) are left out: they break after
    ``.`` and ``_`` already.

    Examples
    --------
    >>> from docutils import nodes
    >>> def cell(text):
    ...     return nodes.entry("", nodes.paragraph(text=text))
    >>> table = nodes.table("", nodes.tgroup("", nodes.colspec(colwidth=20), nodes.colspec(colwidth=1),
    ...                     nodes.tbody("", nodes.row("", cell("a long description"), cell("derived: synthetic")))))
    >>> widen_narrow_columns(table), [spec["colwidth"] for spec in table.findall(nodes.colspec)]
    (True, [900, 100])
    """
    changed = False
    for group in table.findall(nodes.tgroup):
        specs = list(group.findall(nodes.colspec))
        total = sum(spec["colwidth"] for spec in specs)
        need = [0] * len(specs)
        for row in group.findall(nodes.row):
            for index, entry in enumerate(row.findall(nodes.entry)):
                if index >= len(specs):
                    break
                words = [w for text in entry.findall(nodes.Text)
                         if not isinstance(text.parent, (nodes.literal, nodes.raw)) for w in str(text).split()]
                need[index] = max([need[index], *(min(len(w), word) + 1 for w in words)])
        # widths in characters of a line, then each raised to its need; the others give way
        widths = [spec["colwidth"] * line / total for spec in specs]
        short = sum(max(0, n - w) for n, w in zip(need, widths, strict=True))
        if short <= 0:
            continue
        spare = sum(max(0, w - n) for n, w in zip(need, widths, strict=True))
        if spare <= short:
            continue  # no layout of this line holds every word: leave it as given
        for spec, n, w in zip(specs, need, widths, strict=True):
            new = n if w < n else w - (w - n) * short / spare
            spec["colwidth"] = round(new * 10)
        changed = True
    return changed


class WidenNarrowColumns(SphinxPostTransform):
    """LaTeX only: :func:`widen_narrow_columns` for every table of given column widths (the
    ones Sphinx sets with those widths); the HTML sizes its columns itself."""

    default_priority = 206  # after LongTablesInLatex (200) has given the long tables their widths
    formats = ("latex",)

    def run(self, **kwargs) -> None:
        for table in self.document.findall(nodes.table):
            if "colwidths-given" in table["classes"]:
                widen_narrow_columns(table)


def _ancestors(node: nodes.Node):
    while node.parent is not None:
        node = node.parent
        yield node


class BreakLongLiterals(SphinxPostTransform):
    """LaTeX only: let a run of code characters with no break point (a SHA-256, a cache key)
    that is longer than :attr:`longest` characters break every :attr:`every` characters (in a
    table cell, where columns can be narrow: :attr:`longest_in_table`, :attr:`every_in_table`),
    so it wraps instead of running past the margin (the HTML wraps it by CSS). Sphinx already
    breaks code after ``. , ; / _`` (the last by the book's preamble), so a registry key keeps
    its segments whole; a name with underscores in a table cell (a run id) may break after one.
    """

    default_priority = 210
    formats = ("latex",)
    longest, every = 24, 8
    longest_in_table, every_in_table = 8, 4
    #: Characters after which LaTeX may already break a code word.
    BREAKS = re.compile(r"([.,;/_ ])")

    def _split(self, text: str, longest: int, every: int) -> list[nodes.Node] | None:
        """``text`` as Text nodes with ``\\allowbreak`` between the chunks of its long runs, or
        ``None`` when no run is too long."""
        runs = self.BREAKS.split(text)
        if all(len(run) <= longest for run in runs):
            return None
        pieces: list[nodes.Node] = []
        for run in runs:
            chunks = [run[i:i + every] for i in range(0, len(run), every)] if len(run) > longest else [run]
            for number, chunk in enumerate(chunks):
                if number:
                    pieces.append(nodes.raw("", r"\allowbreak{}", format="latex"))
                pieces.append(nodes.Text(chunk))
        return pieces

    def run(self, **kwargs) -> None:
        for literal in list(self.document.findall(nodes.literal)):
            in_table = any(isinstance(parent, nodes.entry) for parent in _ancestors(literal))
            limits = (self.longest_in_table, self.every_in_table) if in_table else (self.longest, self.every)
            for text in list(literal.findall(nodes.Text)):
                pieces = self._split(str(text), *limits)
                if pieces:
                    text.parent.replace(text, pieces)
        for entry in list(self.document.findall(nodes.entry)):
            for text in list(entry.findall(nodes.Text)):
                if isinstance(text.parent, (nodes.literal, nodes.raw)) or "_" not in str(text):
                    continue
                if all(len(word) <= self.longest_in_table for word in str(text).split()):
                    continue
                parts = str(text).split("_")
                pieces = [nodes.Text(parts[0])]
                for part in parts[1:]:
                    pieces += [nodes.Text("_"), nodes.raw("", r"\allowbreak{}", format="latex"), nodes.Text(part)]
                text.parent.replace(text, pieces)


class ContractTables(SphinxDirective):
    """``{contract-tables}``: the data contract's files and columns, written from the schema
    (:func:`analysis.submission.contract_page.render_contract_tables`) and parsed as the page's
    Markdown, so their headings are sections of the page (the supplement's contents list them).
    The page is re-read when the schema or ``data/README.md`` changes."""

    has_content = False

    def run(self) -> list[nodes.Node]:
        for source in (ROOT / "analysis" / "schema.py", ROOT / "data" / "README.md"):
            # relative to the source folder, so a copied checkout does not depend on the original's files
            self.env.note_dependency(os.path.relpath(source, self.env.srcdir))
        try:
            text = contract_page.render_contract_tables()
        except ValueError as err:
            raise self.error(str(err)) from None
        holder = nodes.section()
        self.state.nested_parse(StringList(text.splitlines(), source=self.get_source_info()[0]), self.content_offset,
                                holder, match_titles=True)
        return holder.children


def on_config_inited(app: Sphinx, config) -> None:
    """The trial registrations, as the data contract lists them (``analysis.contract.STUDYIDS``),
    become the MyST substitution ``{{ trial_registrations }}`` of the summary and the study page."""
    substitutions = dict(config.myst_substitutions or {})
    substitutions.setdefault("trial_registrations", " and ".join(STUDYIDS))
    config.myst_substitutions = substitutions


def setup(app: Sphinx) -> dict:
    app.add_config_value("submission_documents", {}, "env", [dict])
    app.connect("config-inited", on_config_inited)
    app.add_post_transform(BreakLongLiterals)
    app.add_post_transform(DropPlainTextOutputs)
    app.add_post_transform(WidenNarrowColumns)
    app.add_directive("contract-tables", ContractTables)
    app.add_builder(SubmissionLaTeXBuilder, override=True)
    return {"version": "1", "parallel_read_safe": True, "parallel_write_safe": True}
