"""Tables as the book shows them: reStructuredText grid tables with captions and labels, their
CSV and XLSX downloads, and the synthetic-data label.
"""
from __future__ import annotations

from pathlib import Path

from analysis.export import write_table_files
from analysis.presentation.layouts import PaperTable, undetermined_note


def _rst_escape(text: str) -> str:
    """Escape the characters reStructuredText would read as markup.

    Examples
    --------
    >>> _rst_escape("25.0 (43.3)*"), _rst_escape("a_b|c")
    ('25.0 (43.3)\\\\*', 'a\\\\_b\\\\|c')
    """
    for char in ("\\", "*", "`", "|", "_"):
        text = text.replace(char, "\\" + char)
    return text


#: Indentation inside a grid-table cell: a zero-width joiner keeps docutils from reading
#: the following no-break spaces as a block-quote indent.
_INDENT = "\u200d" + "\u00a0" * 3


def to_grid_table(table: PaperTable) -> str:
    """The table as a reStructuredText grid table (column groups become column spans).

    Examples
    --------
    >>> from analysis.presentation.layouts import Row
    >>> t = PaperTable("Item", [("Year 1", ["A", "B"])], [Row("x", ["1", "2"])])
    >>> print(to_grid_table(t))
    +------+--------+
    | Item | Year 1 |
    |      +---+----+
    |      | A | B  |
    +======+===+====+
    | x    | 1 | 2  |
    +------+---+----+
    """
    columns = [col for _title, cols in table.groups for col in cols]
    ncol = 1 + len(columns)
    two_rows = any(title for title, _cols in table.groups)
    # header segments of the first row: (text, first column, last column, spans both rows)
    segments = [(table.stub, 0, 0, True)]
    col = 1
    for title, cols in table.groups:
        if title:
            segments.append((title, col, col + len(cols) - 1, False))
        else:
            segments += [(c, col + i, col + i, True) for i, c in enumerate(cols)]
        col += len(cols)
    spans_both = [False] * ncol
    for _text, first, last, both in segments:
        for i in range(first, last + 1):
            spans_both[i] = both
    body = [[(_INDENT * r.level) + r.label, *(r.cells or [""] * len(columns))] for r in table.rows]
    body = [[_rst_escape(cell) for cell in row] for row in body]
    second = ["" if spans_both[i] else _rst_escape(c) for i, c in enumerate(["", *columns])]
    segments = [(_rst_escape(text), first, last, both) for text, first, last, both in segments]
    widths = [max([len(row[i]) for row in body] + [len(second[i]), 1]) for i in range(ncol)]
    for text, first, last, _both in segments:
        have = sum(widths[first:last + 1]) + 3 * (last - first)
        if len(text) > have:
            widths[last] += len(text) - have

    def span(first: int, last: int) -> int:
        return sum(widths[first:last + 1]) + 3 * (last - first)

    def border(char: str, cuts: list[tuple[int, int]]) -> str:
        return "+" + "+".join(char * (span(a, b) + 2) for a, b in cuts) + "+"

    def line(cells: list[tuple[str, int, int]]) -> str:
        return "|" + "|".join(f" {text.ljust(span(a, b))} " for text, a, b in cells) + "|"

    each = [(i, i) for i in range(ncol)]
    if two_rows:
        lines = [border("-", [(a, b) for _t, a, b, _s in segments]),
                 line([(t, a, b) for t, a, b, _s in segments])]
        middle = "|" if spans_both[0] else "+"
        for i in range(ncol):
            middle += (" " if spans_both[i] else "-") * (widths[i] + 2)
            right_open = i + 1 < ncol and spans_both[i] and spans_both[i + 1]
            middle += "|" if right_open or (i + 1 == ncol and spans_both[i]) else "+"
        lines += [middle, line([(second[i], i, i) for i in range(ncol)])]
    else:
        lines = [border("-", each), line([(_rst_escape(c), i, i) for i, c in enumerate([table.stub, *columns])])]
    lines.append(border("=", each))
    for row in body:
        lines += [line([(cell, i, i) for i, cell in enumerate(row)]), border("-", each)]
    return "\n".join(lines)


def show_table(table: PaperTable, csv_path: Path, caption: str, label: str):
    """Write ``table`` as CSV (and XLSX) to ``csv_path`` and return the Markdown the notebook displays:
    a numbered, captioned table (MyST ``eval-rst`` grid table, name ``label``), its
    footnotes, a download link to the CSV and, when the book's dataset is synthetic, the
    synthetic-data label (the ``{build}`data_note``` role of the book's extension).

    The link is relative to the executed notebook, which the runner (:mod:`analysis.build`)
    places next to the folder the CSV is written to; so the link is
    ``<folder name>/<file name>``.
    """
    from IPython.display import Markdown

    csv_path = Path(csv_path)
    write_table_files(table.to_frame(), csv_path)  # the CSV and its XLSX (analysis.export)
    grid = "\n".join("   " + ln for ln in to_grid_table(table).splitlines())
    link = f"{csv_path.parent.name}/{csv_path.name}"
    marked = undetermined_note(table)
    notes = "\n\n".join(_md_escape(note) for note in table.footnotes)
    if marked:  # linked to the ensemble page, which explains the classification
        notes += f"\n\n{_md_escape(marked)} ({{doc}}`What the published numbers determine </generated/ensemble>`)"
    # {build}`data_note` is the book's synthetic-data label (empty for a real dataset).
    text = (f"```{{eval-rst}}\n.. table:: {_rst_escape(caption)}\n   :name: {label}\n"
            f"   :class: paper-table\n\n{grid}\n```\n\n{notes}\n\n"
            f"{{download}}`Download this table as CSV <{link}>` {{build}}`data_note`\n")
    return Markdown(text)


def _md_escape(text: str) -> str:
    """Escape the characters Markdown would read as emphasis at the start of a note.

    Examples
    --------
    >>> _md_escape("* p < 0.001")
    '\\\\* p < 0.001'
    """
    return text.replace("\\", "\\\\").replace("*", "\\*").replace("_", "\\_")


def show_download(path: Path, text: str):
    """A download link to a file a run wrote into its output folder (relative to the executed
    notebook, as in :func:`show_table`)."""
    from IPython.display import Markdown

    path = Path(path)
    return Markdown(f"{{download}}`{text} <{path.parent.name}/{path.name}>`")


def show_published_table(table: PaperTable, csv_path: Path, caption: str, label: str):
    """:func:`show_table` for a table computed from the published numbers alone (the
    consistency audit): the same output without the synthetic-data label, since no number of
    the table comes from the build's dataset."""
    from IPython.display import Markdown

    text, note = show_table(table, csv_path, caption, label).data, " {build}`data_note`"
    if note not in text:
        raise RuntimeError("show_table no longer prints the data-note role; update show_published_table")
    return Markdown(text.replace(note, ""))
