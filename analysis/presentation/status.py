"""Status tables of the reproduction report and the consistency audit.

A status is always printed as a word (its label); the colour of its badge only repeats the
word, so the tables read the same in print, in a screen reader and for colour-blind readers.
"""
from __future__ import annotations

import math
import re
from pathlib import Path

import pandas as pd

from analysis.audit import STATUSES as AUDIT_STATUSES
from analysis.export import write_table_files
from analysis.presentation.layouts import PaperTable, Row, _keys_with
from analysis.presentation.rendering import _md_escape, _rst_escape
from analysis.printing import MISSING, format_number
from analysis.results import registry_values
from analysis.verify import STATUSES as REPRODUCTION_STATUSES

#: Every status a badge can show. Their colours, light and dark theme, are in
#: ``book/_static/status.css`` (loaded on every page by the book's extension).
STATUSES: tuple[str, ...] = tuple(dict.fromkeys((*REPRODUCTION_STATUSES, *AUDIT_STATUSES)))
#: Published artefact (first key segment) -> how the reproduction report names it.
ARTEFACT_LABELS: dict[str, str] = {
    "disposition": "Patient disposition (Results text and Fig. 1)",
    "table1": "Table 1, baseline characteristics",
    "table2": "Table 2, adverse events",
    "table3": "Table 3, efficacy",
    "table4": "Table 4, medication",
    "abstract": "Abstract",
    "text": "Results text",
    "discussion": "Discussion",
}
#: Audit family (:data:`analysis.audit.FAMILIES`) -> how the audit page names it.
AUDIT_FAMILY_LABELS: dict[str, str] = {
    "grim_percent": "Percentages against counts (GRIM)",
    "sd_of_percent": "Standard deviations of percentages",
    "event_rates": "Event rates, sub-rows and totals",
    "fisher_table4": "Table 4 p-values (Fisher's exact test)",
    "table3_markers": "Table 3 significance markers",
    "grim_mean": "Means against sample sizes (GRIM, GRIMMER)",
    "cross_artefact": "Agreement between tables, text and patient flow",
    "nesting": "Nested response criteria",
}


def format_status(status: str) -> str:
    """reStructuredText of a status badge: the status word in the role ``status-<status>``
    that :func:`to_status_list_table` defines (HTML ``<span class="status status-<status>">``).

    Examples
    --------
    >>> format_status("mismatch")
    ':status-mismatch:`mismatch`'
    """
    if status not in STATUSES:
        raise ValueError(f"unknown status {status!r}; known: {', '.join(STATUSES)}")
    return f":status-{status}:`{status}`"


def _rst_cell(text: str) -> str:
    """A list-table cell's text, escaped, and protected from being read as a list marker.

    Examples
    --------
    >>> _rst_cell("1. first"), _rst_cell("- x"), _rst_cell("a_b")
    ('\\\\ 1. first', '\\\\ - x', 'a\\\\_b')
    """

    text = _rst_escape(" ".join(str(text).split()))
    if re.match(r"^(\d+|[A-Za-z#]|[ivxlcdm]+)[.)]\s|^\(\w+\)\s|^[-+•]\s", text):
        text = "\\ " + text
    return text


#: Relative width of a status-table column, by column name (1 for any other column).
STATUS_TABLE_WIDTHS: dict[str, int] = {"Key": 5, "Check": 5, "Where printed": 6, "Evidence": 10, "Reason": 6,
                                       "Family": 3, "Published": 3, "Reproduced": 3, "Status": 3}


def to_status_list_table(table: pd.DataFrame, caption: str, label: str, status_column: str = "status",
                         literal_columns: tuple[str, ...] = ()) -> str:
    """``table`` as a numbered reStructuredText list table whose ``status_column`` cells are
    badges (:func:`format_status`); the columns' names are the header row, cells in
    ``literal_columns`` print as code. The roles of the badges are defined first; column
    widths follow :data:`STATUS_TABLE_WIDTHS`.

    Examples
    --------
    >>> t = pd.DataFrame({"Key": ["t.a"], "Status": ["match"]})
    >>> print(to_status_list_table(t, "Cap", "tbl-x", "Status", ("Key",)))  # doctest: +ELLIPSIS
    .. role:: status-match
       :class: status status-match
    <BLANKLINE>
    .. list-table:: Cap
       :name: tbl-x
       :header-rows: 1
       :class: status-table
       :widths: 5 3
       :width: 100%
    <BLANKLINE>
       * - Key
         - Status
       * - ``t.a``
         - :status-match:`match`
    """
    statuses = list(dict.fromkeys(table[status_column]))
    lines = []
    for status in statuses:
        lines += [f".. role:: status-{status}", f"   :class: status status-{status}", ""]
    widths = " ".join(str(STATUS_TABLE_WIDTHS.get(c, 1)) for c in table.columns)
    lines += [f".. list-table:: {_rst_escape(caption)}", f"   :name: {label}", "   :header-rows: 1",
              "   :class: status-table", f"   :widths: {widths}", "   :width: 100%", ""]
    header = [_rst_cell(c) for c in table.columns]
    lines += ["   * - " + header[0], *("     - " + h for h in header[1:])]
    for record in table.itertuples(index=False):
        cells = []
        for column, value in zip(table.columns, record):
            text = "" if value is None or (isinstance(value, float) and math.isnan(value)) else str(value)
            if column == status_column:
                cells.append(format_status(text))
            elif column in literal_columns and text:
                cells.append(f"``{text}``")
            else:
                cells.append(_rst_cell(text))
        lines += [("   * - " + cells[0]).rstrip(), *(("     - " + c).rstrip() for c in cells[1:])]
    return "\n".join(lines)


def show_status_table(table: pd.DataFrame, csv_path: Path, caption: str, label: str, status_column: str = "status",
                      literal_columns: tuple[str, ...] = (), footnotes: tuple[str, ...] = (), data_note: bool = True):
    """Write ``table`` as CSV (and XLSX) and return the Markdown the notebook displays: the numbered
    list table
    (:func:`to_status_list_table`), footnotes, the CSV link and, unless ``data_note`` is
    false (a table of the published numbers alone), the synthetic-data label, as
    :func:`show_table` does for the paper's tables."""
    from IPython.display import Markdown

    csv_path = Path(csv_path)
    write_table_files(table, csv_path)  # the CSV and its XLSX (analysis.export)
    rst = to_status_list_table(table, caption, label, status_column, literal_columns)
    notes = "\n\n".join(_md_escape(note) for note in footnotes)
    text = (f"```{{eval-rst}}\n{rst}\n```\n\n{notes}\n\n"
            f"{{download}}`Download this table as CSV <{csv_path.parent.name}/{csv_path.name}>`"
            + (" {build}`data_note`" if data_note else "") + "\n")
    return Markdown(text)


def layout_reproduction_section(reproduction: pd.DataFrame, artefact: str) -> pd.DataFrame:
    """The rows of one published artefact in the comparison of
    :func:`analysis.verify.build_reproduction`, as the report prints them: key, where the value
    is printed, the value as printed, the reproduced value as it would be printed, the status
    and, when the artefact has a documented discrepancy, a column with its reason.

    Examples
    --------
    >>> rep = pd.DataFrame({"key": ["t.a", "u.b"], "artefact": ["t", "u"], "source": ["T, row a", "U"],
    ...     "published": ["2.47", "1"], "reproduced": ["2.47", ""], "status": ["match", "missing"],
    ...     "reason": ["", ""]})
    >>> layout_reproduction_section(rep, "u")
       Key Where printed Published Reproduced   Status
    0  u.b             U         1          –  missing
    """
    rows = reproduction[reproduction["artefact"] == artefact]
    if rows.empty:
        raise ValueError(f"no published value of artefact {artefact!r} in the comparison")
    table = pd.DataFrame({"Key": rows["key"], "Where printed": rows["source"], "Published": rows["published"],
                          "Reproduced": [r if r != "" else MISSING for r in rows["reproduced"]],
                          "Status": rows["status"]}).reset_index(drop=True)
    if (rows["status"] == "documented").any():
        table["Reason"] = list(rows["reason"])
    if "construction" in rows:  # synthetic datasets: targeted by the generator, or derived by the analysis
        table["In the synthetic cohort"] = list(rows["construction"])
    return table


def layout_audit_family(audit: pd.DataFrame, family: str) -> pd.DataFrame:
    """The checks of one audit family (:func:`analysis.audit.audit_published`): check id,
    status, evidence; inconsistent checks first, then undecidable, then consistent (each in
    the audit's order).

    Examples
    --------
    >>> audit = pd.DataFrame({"check_id": ["a.1", "a.2"], "family": ["f", "f"], "keys": ["k", "k"],
    ...     "status": ["consistent", "inconsistent"], "evidence": ["ok", "11 vs 9"]})
    >>> layout_audit_family(audit, "f")
         Check        Status Evidence
    0      a.2  inconsistent  11 vs 9
    1      a.1    consistent       ok
    """
    order = {"inconsistent": 0, "undecidable": 1, "consistent": 2}
    rows = audit[audit["family"] == family]
    if rows.empty:
        raise ValueError(f"no check of family {family!r} in the audit")
    rows = rows.assign(_order=rows["status"].map(order)).sort_values("_order", kind="stable")
    return pd.DataFrame({"Check": rows["check_id"], "Status": rows["status"],
                         "Evidence": rows["evidence"]}).reset_index(drop=True)


def _status_count_table(v: dict, prefix: str, groups: list[str], labels: dict[str, str], statuses: tuple[str, ...],
                        total: str, stub: str, all_label: str) -> PaperTable:
    columns = [*statuses, total]
    rows = [Row(labels.get(g, g), [format_number(v[f"{prefix}.{g}.{s}.n"], 0) for s in columns]) for g in groups]
    rows.append(Row(all_label, [format_number(v[f"{prefix}.summary.{s}.n"], 0) for s in columns]))
    return PaperTable(stub, [("", [c.capitalize() for c in columns])], rows)


def layout_reproduction_summary(registry: pd.DataFrame | dict, published_version: str | None = None) -> PaperTable:
    """Counts of published values per artefact and status (``reproduction.*`` keys of
    :func:`analysis.reports.registry_reproduction`): the table ``make verify`` prints. With
    ``published_version`` (:func:`analysis.reports.published_version`), a footnote names the
    version of the published registry compared with."""
    v = registry_values(registry)
    groups = [k.split(".")[1] for k in _keys_with(v, r"reproduction\.[a-z0-9_]+\.published\.n")
              if k != "reproduction.summary.published.n"]
    table = _status_count_table(v, "reproduction", groups, ARTEFACT_LABELS, REPRODUCTION_STATUSES, "published",
                                "Published artefact", "All published values")
    table.footnotes = ["match: the reproduced value prints as the published one; mismatch: it does not; "
                       "missing: nothing was computed under the key; documented: no match, for a reason "
                       "recorded with the published value."]
    if published_version:
        table.footnotes.append(f"Published values: data/published, version {published_version}.")
    return table


def layout_audit_summary(registry: pd.DataFrame | dict) -> PaperTable:
    """Consistency checks per family and status (``audit.*`` keys of
    :func:`analysis.reports.registry_audit`)."""
    v = registry_values(registry)
    groups = [k.split(".")[1] for k in _keys_with(v, r"audit\.[a-z0-9_]+\.checks\.n") if k != "audit.summary.checks.n"]
    table = _status_count_table(v, "audit", groups, AUDIT_FAMILY_LABELS, AUDIT_STATUSES, "checks",
                                "Family of checks", "All checks")
    table.footnotes = ["consistent: the printed numbers agree; inconsistent: they cannot all be right as "
                       "printed; undecidable: the printed precision cannot settle the question."]
    return table


def layout_audit_findings(audit: pd.DataFrame, status: str = "inconsistent") -> pd.DataFrame:
    """Every check of the audit with ``status``, across families: check id, family, status,
    evidence (the audit's order).

    Examples
    --------
    >>> audit = pd.DataFrame({"check_id": ["a.1", "b.1"], "family": ["grim_percent", "event_rates"],
    ...     "keys": ["k", "k"], "status": ["consistent", "inconsistent"], "evidence": ["ok", "11 vs 9"]})
    >>> layout_audit_findings(audit)
      Check                            Family        Status Evidence
    0   b.1  Event rates, sub-rows and totals  inconsistent  11 vs 9
    """
    rows = audit[audit["status"] == status]
    return pd.DataFrame({"Check": rows["check_id"], "Family": [AUDIT_FAMILY_LABELS.get(f, f) for f in rows["family"]],
                         "Status": rows["status"], "Evidence": rows["evidence"]}).reset_index(drop=True)


def show_reproduction_section(reproduction: pd.DataFrame, artefact: str, output_dir: Path):
    """The table of one published artefact on the reproduction page
    (:func:`layout_reproduction_section`), labelled ``tbl-reproduction-<artefact>`` and
    downloadable as ``reproduction_<artefact>.csv`` (the run plan names both)."""
    return show_status_table(layout_reproduction_section(reproduction, artefact),
                             Path(output_dir) / f"reproduction_{artefact}.csv",
                             caption=f"{ARTEFACT_LABELS.get(artefact, artefact)}: published and reproduced values",
                             label=f"tbl-reproduction-{artefact}", status_column="Status", literal_columns=("Key",),
                             footnotes=("Published: the value as the article prints it. Reproduced: the value "
                                        "computed from this build's dataset, written with the same number of "
                                        "decimals (a p-value beyond the printed bound as that bound).",))


def show_audit_family(audit: pd.DataFrame, family: str, output_dir: Path):
    """The table of one family of consistency checks (:func:`layout_audit_family`),
    labelled ``tbl-audit-<family>`` and downloadable as ``audit_<family>.csv``."""
    return show_status_table(layout_audit_family(audit, family), Path(output_dir) / f"audit_{family}.csv",
                             caption=f"Consistency checks: {AUDIT_FAMILY_LABELS.get(family, family)}",
                             label=f"tbl-audit-{family}", status_column="Status", literal_columns=("Check",),
                             data_note=False)
