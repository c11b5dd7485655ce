"""The LaTeX layout rules of the book's extension (book/_ext/submission.py) and the data
contract page's generator (analysis/submission/contract_page.py), on hand-built inputs; the
PDF tests (tests/pdf/test_pdf.py, tests 13-17) check the same rules on the built PDFs."""
from __future__ import annotations

import doctest

import pytest
from docutils import nodes

from analysis import paths
from analysis.submission import contract_page


@pytest.fixture(scope="module")
def extension(book_extension):
    return book_extension("submission")


def output_of(*children: nodes.Node) -> nodes.container:
    output = nodes.container(classes=["cell_output"])
    output += list(children)
    return output


def layout(container: nodes.Element) -> list[str]:
    return [child.astext() if isinstance(child, nodes.raw) else child.tagname for child in container]


def table(rows: int = 2, classes=(), widths=(1, 1), cells=("a", "b"), caption: str | None = "Caption") -> nodes.table:
    group = nodes.tgroup("", *(nodes.colspec(colwidth=w) for w in widths))
    group += nodes.tbody("", *(nodes.row("", *(nodes.entry("", nodes.paragraph(text=c)) for c in cells))
                              for _ in range(rows)))
    title = [nodes.title(text=caption)] if caption else []
    return nodes.table("", *title, group, classes=list(classes))


def test_extension_doctests_pass(extension):
    """Test 1: the examples of the extension's docstrings hold."""
    result = doctest.testmod(extension, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.attempted >= 4 and result.failed == 0


def test_a_table_floats_with_the_notes_of_its_output(extension):
    """Test 2: a table and the paragraphs after it in its output are one float."""
    output = output_of(nodes.paragraph(text="Before."), table(), nodes.paragraph(text="Note."))
    assert extension.float_tables(output) == 1
    assert layout(output) == ["paragraph", r"\begin{table}[htbp]", "table", "paragraph", r"\end{table}"]


def test_two_tables_of_one_output_float_alone(extension):
    """Test 3: floats never nest: two tables of one output are floated one by one."""
    output = output_of(table(), nodes.paragraph(text="Note."), table())
    assert extension.float_tables(output) == 2
    assert layout(output) == [r"\begin{table}[htbp]", "table", r"\end{table}", "paragraph",
                              r"\begin{table}[htbp]", "table", r"\end{table}"]


def test_long_boxed_and_uncaptioned_tables_stay_in_the_text(extension):
    """Test 4: a long table (more rows than LaTeX's float can hold, or classed longtable), a
    table inside an admonition (a box, where a float is lost) and a table without a caption
    (part of its paragraph, as the summary's) are not floated."""
    long_rows = output_of(table(rows=extension.LONGEST_FLOAT + 1))
    classed = output_of(table(classes=["longtable"]))
    boxed = nodes.note("", table())
    inline = nodes.section("", nodes.paragraph(text="By arm:"), table(caption=None))
    assert [extension.float_tables(tree) for tree in (long_rows, classed, boxed, inline)] == [0, 0, 0, 0]
    assert layout(long_rows) == ["table"]


def test_columns_wide_enough_are_left_as_given(extension):
    """Test 5: widths are only changed where a word does not fit its column."""
    given = table(widths=(3, 2), cells=("short", "words"))
    assert extension.widen_narrow_columns(given) is False
    assert [spec["colwidth"] for spec in given.findall(nodes.colspec)] == [3, 2]


def test_contract_page_names_an_undescribed_column(tmp_path):
    """Test 6: a contract column that data/README.md does not describe stops the page, naming
    the file, the column and the rule."""
    readme = (paths.DATA / "README.md").read_text(encoding="utf-8")
    broken = tmp_path / "README.md"
    broken.write_text("\n".join(line for line in readme.splitlines() if not line.startswith("| `ESR` |")),
                      encoding="utf-8")
    with pytest.raises(ValueError, match=r"visits\.csv, column ESR: not in the file's column table"):
        contract_page.render_contract_tables(broken)


def test_contract_tables_are_the_schema(tmp_path):
    """Test 7: one table per file of the schema, one row per column in the schema's order."""
    from analysis.schema import COLUMNS, FILES

    text = contract_page.render_contract_tables()
    for file in FILES:
        section = text.split(f"### `{file}`", 1)[1].split("###", 1)[0]
        names = [line.split("`")[1] for line in section.splitlines() if line.startswith("| `")]
        assert names == [spec.name for spec in COLUMNS[file]], file
