"""The data contract as a page of the book: its tables written from :mod:`analysis.schema`.

The supplement carries the data contract (``book/contract.md``, Appendix part of ``_toc.yml``).
What the code enforces is written from the code, at build time: the files, their columns in
order, each column's type, whether a cell may be empty, its allowed values or range (the rule
texts of the column's checks, as a report prints them), and the refused identifier columns.
The words the code does not hold (a column's unit and meaning) come from the column tables of
``data/README.md``, which ``tests/contract/test_docs.py`` keeps in step with the schema; the
rest of the page is that file's prose, included. The examples of that prose are chosen so that
the book's privacy scan cannot mistake them for a patient's identifier or date (an identifier
outside the cohort's numbering, dates after the article's data cut-off).
"""
from __future__ import annotations

import re
from pathlib import Path

from analysis import paths
from analysis.schema import COLUMNS, DIRECT_IDENTIFIERS, FILES, NEED_ROWS, ColumnSpec

#: How the contract names a column's type (``data/README.md``): what ``load_dataset`` returns.
KIND_WORDS = {"string": "text", "integer": "integer", "float": "number", "date": "date"}
#: One row of a column table of ``data/README.md``: name, type, allowed, unit, meaning.
_DICTIONARY_ROW = re.compile(r"^\| `([A-Z0-9]+)` \|(.*?)\|(.*?)\|(.*?)\|(.*?)\|\s*$", flags=re.M)


def describe_column(spec: ColumnSpec) -> dict[str, str]:
    """The contract's description of one column, from its specification.

    The allowed values are the column's rule texts without their leading "must be" (a list of
    terms as "one of" the terms in backquotes), joined by "; " (``unique`` first when the
    column must be unique); a column without a rule gets an empty string.

    Examples
    --------
    >>> esr = next(spec for spec in COLUMNS["visits.csv"] if spec.name == "ESR")
    >>> describe_column(esr)
    {'column': 'ESR', 'type': 'number', 'cell': 'optional', 'allowed': '> 0; <= 200'}
    >>> describe_column(COLUMNS["subjects.csv"][0])
    {'column': 'USUBJID', 'type': 'text', 'cell': 'required', 'allowed': 'unique'}
    >>> describe_column(COLUMNS["subjects.csv"][2])["allowed"]
    'one of `MSC`, `MSC+IFNG`'
    """
    rules = ["unique"] if spec.unique else []
    for check in spec.checks:
        allowed = (check.statistics or {}).get("allowed_values")
        # a list of terms is written with its terms in backquotes (a term may hold a comma)
        rules.append("one of " + ", ".join(f"`{term}`" for term in allowed) if allowed is not None
                     else re.sub(r"^must be ", "", check.error))
    return {"column": spec.name, "type": KIND_WORDS[spec.kind], "cell": "required" if spec.required else "optional",
            "allowed": "; ".join(rules)}


def read_dictionary_words(readme: Path = paths.DATA / "README.md") -> dict[tuple[str, str], tuple[str, str]]:
    """(file, column) -> (unit, meaning), as the column tables of ``data/README.md`` word them.

    Each table follows the heading that names its file in backquotes.

    Examples
    --------
    >>> words = read_dictionary_words()
    >>> words[("visits.csv", "ESR")]
    ('mm/h', 'erythrocyte sedimentation rate')
    """
    text = readme.read_text(encoding="utf-8")
    words = {}
    for file in FILES:
        heading = re.search(rf"^#+ `{re.escape(file)}`.*$", text, flags=re.M)
        if heading is None:
            raise ValueError(f"{readme}: no heading names `{file}` (rule: one column table per file)")
        section = re.split(r"^#+ ", text[heading.end():], flags=re.M)[0]
        for name, _type, _allowed, unit, meaning in _DICTIONARY_ROW.findall(section):
            words[(file, name)] = (unit.strip(), meaning.strip())
    return words


def _cell(text: str) -> str:
    """A Markdown table cell: ``|`` escaped, kept on one line."""
    return " ".join(text.replace("|", r"\|").split())


def render_contract_tables(readme: Path = paths.DATA / "README.md") -> str:
    """The contract's column tables as MyST Markdown: per file, a heading, whether it needs a
    data row, and one row per column (name, type, empty cell allowed, allowed values or range,
    unit, meaning); then the refused identifier column names.

    A column of the schema that ``data/README.md`` does not describe is an error (the words
    would be missing from the page), naming the file and the column.

    Examples
    --------
    >>> text = render_contract_tables()
    >>> print(text.splitlines()[0])
    ### `subjects.csv`
    >>> "| `ESR` | number | optional | > 0; <= 200 | mm/h | erythrocyte sedimentation rate |" in text
    True
    """
    words = read_dictionary_words(readme)
    lines = []
    for file in FILES:
        rows = "at least one data row" if file in NEED_ROWS else "may have no data rows (header only)"
        lines += [f"### `{file}`", "", f"{len(COLUMNS[file])} columns; {rows}.", "",
                  "| column | type | cell | allowed values / range | unit | meaning |",
                  "| --- | --- | --- | --- | --- | --- |"]
        for spec in COLUMNS[file]:
            if (file, spec.name) not in words:
                raise ValueError(f"{readme}: {file}, column {spec.name}: not in the file's column table "
                                 "(rule: every contract column is described)")
            unit, meaning = words[(file, spec.name)]
            row = describe_column(spec)
            cells = [f"`{row['column']}`", row["type"], row["cell"], _cell(row["allowed"]), _cell(unit),
                     _cell(meaning)]
            lines.append("| " + " | ".join(cells) + " |")
        lines.append("")
    lines += ["### Refused identifier columns", "",
              "A column named like one of these, in any case, is refused in every file: "
              + ", ".join(f"`{name}`" for name in sorted(DIRECT_IDENTIFIERS)) + ".", ""]
    return "\n".join(lines)
