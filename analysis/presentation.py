"""Numbers as the reader sees them: formatting and the paper's table layouts.

Every table of the book is laid out from **results-registry rows** (``key``/``value``,
:mod:`analysis.results`), never from intermediate frames, so a number printed in a table is
by construction the number the registry holds and the tests read.

Two layers:

* ``format_*`` map one value to its printed text. :func:`format_value` chooses the format
  from the key's last segment (its *stat*) through :data:`STAT_FORMATS`; the book's
  ``{reg}`` role and the tables use it, so a percentage is printed the same way everywhere.
* ``layout_table*`` build a :class:`PaperTable` with the rows, column groups and time points
  of the paper's Tables 1-4; :func:`to_grid_table` turns it into a reStructuredText grid
  table (column spans survive, and Sphinx numbers it and gives it a caption), and
  :func:`show_table` writes the CSV next to it and returns what the notebook displays.

Conventions: a missing value (NaN) prints as an en dash; percentages keep one decimal
(``100.0``); p-values print with 3 decimals, as ``<0.001`` below 0.001 and ``>0.999``
above 0.999, as in the paper; the Table 3 marker ``*`` flags p < 0.001 (the footnote's
threshold, see :mod:`analysis.efficacy`).
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from analysis.populations import ARM_LABELS, ARMS, TIMEPOINTS

#: Printed for a missing value.
MISSING = "–"
#: Stat (last key segment) -> format: decimals (int) or a named rule.
STAT_FORMATS: dict[str, int | str] = {
    "n": 0, "events": 0, "patients": 0, "n_evaluable": 0, "responders": 0, "losses": 0,
    "n_patients": 0, "n_obs": 0, "converged": 0,
    "pct": 1, "mean": 2, "sd": 2, "diff": 2, "ci_low": 2, "ci_high": 2, "se": 3,
    "rate": 2, "rate_low": 2, "rate_high": 2, "py": 2, "py_at_risk": 2, "eair": 2, "eair_low": 2, "eair_high": 2,
    "rate_ratio": 2, "rate_ratio_low": 2, "rate_ratio_high": 2,
    "min": 1, "max": 1, "median_months": 1, "median_reached": 0,
    "p": "p", "marker": "marker", "statistic": 2, "var_patient": 3, "var_residual": 3,
}
#: Arm code -> column label of the paper's tables.
ARM_COLUMN_LABELS: dict[str, str] = {code: ARM_LABELS[arm] for arm, code in ARMS.items()}
#: Time point -> column-group label.
TIMEPOINT_LABELS: dict[str, str] = {"baseline": "Baseline", "year1": "Year 1", "year3": "Year 3",
                                    "year5": "Year 5"}
#: Analysis population -> how the book names it.
POPULATION_LABELS: dict[str, str] = {
    "completers": "the patients who completed the five-year follow-up",
    "randomised": "all randomised patients",
    "safety": "all treated patients",
}


# ----------------------------------------------------------------------------- numbers
def format_number(value: float, decimals: int) -> str:
    """``value`` rounded half away from zero to ``decimals``; NaN as :data:`MISSING`.

    Python's ``round`` rounds half to even on the binary value; printed tables round half
    away from zero, so 0.125 prints as 0.13 at 2 decimals. ``-0.0`` prints as ``0.00``.

    Examples
    --------
    >>> format_number(2.4651, 2), format_number(0.125, 2), format_number(80.0, 0)
    ('2.47', '0.13', '80')
    >>> format_number(float("nan"), 1), format_number(-0.001, 2)
    ('–', '0.00')
    """
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return MISSING
    if math.isinf(value):
        return "∞" if value > 0 else "-∞"
    from decimal import ROUND_HALF_UP, Decimal

    quantum = Decimal(1).scaleb(-decimals)
    text = str(Decimal(repr(float(value))).quantize(quantum, rounding=ROUND_HALF_UP))
    return text[1:] if text.startswith("-") and float(text) == 0 else text


def format_p(p: float) -> str:
    """A p-value as the paper prints it.

    Examples
    --------
    >>> format_p(0.00067), format_p(0.0614), format_p(1.0), format_p(float("nan"))
    ('<0.001', '0.061', '>0.999', '–')
    """
    if p is None or math.isnan(p):
        return MISSING
    if p < 0.001:
        return "<0.001"
    if p > 0.999:
        return ">0.999"
    return format_number(p, 3)


def stat_of(key: str) -> str:
    """The statistic a registry key holds: its last segment, except for the group-size
    headers ``<artefact>.n.<arm>`` and ``<artefact>.py.<arm>``.

    Examples
    --------
    >>> stat_of("table3.acr20.msc.year1.pct"), stat_of("table2.n.msc"), stat_of("table2.py.total")
    ('pct', 'n', 'py')
    """
    parts = key.split(".")
    if len(parts) == 3 and parts[1] in ("n", "py"):
        return parts[1]
    return parts[-1]


def format_value(key: str, value: float, spec: str | None = None) -> str:
    """Printed text of a registry value.

    ``spec`` is a Python format spec (``".1f"``, ``".0f"``) or one of the named rules
    ``p`` (``<0.001``, ``0.061``), ``pexpr`` (``p < 0.001``, ``p = 0.061``: for running text)
    and ``marker`` (``*`` or nothing); without it the key's stat (last segment) selects the format
    from :data:`STAT_FORMATS` (2 decimals for an unknown stat).

    Examples
    --------
    >>> format_value("table2.sae.msc.rate", 2.4710), format_value("table2.n.total", 110.0)
    ('2.47', '110')
    >>> format_value("table3.acr20.year1.p", 0.0001), format_value("table3.acr20.year1.marker", 1.0)
    ('<0.001', '*')
    >>> format_value("disposition.followup_years.total.mean", 6.04, ".0f")
    '6'
    >>> format_value("table3.acr20.year1.p", 0.0001, "pexpr"), format_value("table4.bdmard.year1.p", 0.0614, "pexpr")
    ('p < 0.001', 'p = 0.061')
    >>> format_value("durability.acr20.followup.p", float("nan"), "pexpr")
    'p not computable'
    """
    rule: int | str = STAT_FORMATS.get(stat_of(key), 2)
    if spec:
        if spec in ("p", "pexpr", "marker"):
            rule = spec
        elif spec.startswith(".") and spec.endswith("f") and spec[1:-1].isdigit():
            rule = int(spec[1:-1])
        else:
            raise ValueError(f"unknown number format {spec!r} for {key!r}; use .Nf, p, pexpr or marker")
    if rule == "p":
        return format_p(value)
    if rule == "pexpr":
        if value is None or math.isnan(value):
            return "p not computable"
        text = format_p(value)
        return "p " + (text.replace("<", "< ").replace(">", "> ") if text[0] in "<>" else "= " + text)
    if rule == "marker":
        return "*" if value == 1 else ""
    return format_number(value, int(rule))


# ----------------------------------------------------------------------------- layouts
@dataclass
class Row:
    """One body row: its label, its cells, its indentation level; a ``group`` row is a
    heading inside the table (no cells)."""

    label: str
    cells: list[str]
    level: int = 0
    group: bool = False


@dataclass
class PaperTable:
    """A table laid out as printed: a stub column, column groups, body rows, footnotes.

    ``groups`` is a list of ``(group title, [column labels])``; an empty title means the
    columns have no spanning header.
    """

    stub: str
    groups: list[tuple[str, list[str]]]
    rows: list[Row]
    footnotes: list[str] = field(default_factory=list)

    @property
    def columns(self) -> list[str]:
        """Flat column labels, ``"group | column"`` under a group title."""
        return [f"{title} | {col}" if title else col for title, cols in self.groups for col in cols]

    def to_frame(self) -> pd.DataFrame:
        """The table as a flat frame (the CSV download): one row per body row, the label
        indented by two spaces per level.

        Examples
        --------
        >>> t = PaperTable("Item", [("Year 1", ["A", "B"])], [Row("x", ["1", "2"]), Row("y", ["3", "4"], 1)])
        >>> t.to_frame()
           Item Year 1 | A Year 1 | B
        0     x          1          2
        1     y          3          4
        """
        records = [[("  " * r.level) + r.label, *(r.cells or [""] * len(self.columns))] for r in self.rows]
        return pd.DataFrame(records, columns=[self.stub, *self.columns])


def _get(registry: pd.DataFrame | dict, key: str) -> float:
    values = registry if isinstance(registry, dict) else dict(zip(registry["key"], registry["value"]))
    if key not in values:
        raise KeyError(f"results registry has no key {key!r}")
    return float(values[key])


def _as_dict(registry: pd.DataFrame | dict) -> dict[str, float]:
    return registry if isinstance(registry, dict) else dict(zip(registry["key"], registry["value"]))


def _n_pct(values: dict, base: str, pct_decimals: int) -> str:
    n, pct = values[f"{base}.n"], values[f"{base}.pct"]
    return f"{format_number(n, 0)} ({format_number(pct, pct_decimals)})"


def _mean_sd(values: dict, base: str, mean_dec: int, sd_dec: int) -> str:
    return f"{format_number(values[f'{base}.mean'], mean_dec)} ± {format_number(values[f'{base}.sd'], sd_dec)}"


def _arm_header(values: dict, prefix: str, code: str) -> str:
    return f"{ARM_COLUMN_LABELS[code]} (N = {format_number(values[f'{prefix}.n.{code}'], 0)})"


#: Table 1 rows: (item, label, kind, decimals). Kinds: n_pct, mean_sd, pct; decimals as printed.
TABLE1_ROWS: list[tuple[str, str, str, tuple[int, ...]]] = [
    ("female", "Female, no. (%)", "n_pct", (1,)),
    ("age", "Mean age (years)", "mean_sd", (1, 1)),
    ("ra_duration", "Mean duration of RA (years)", "mean_sd", (2, 1)),
    ("das28_esr", "DAS28-ESR", "mean_sd", (2, 2)),
    ("haq_di", "HAQ-DI", "mean_sd", (2, 2)),
    ("esr", "Erythrocyte sedimentation rate (mm/h)", "mean_sd", (2, 2)),
    ("crp", "C-reactive protein (mg/L)", "mean_sd", (2, 2)),
    ("rf_positive", "Positive for rheumatoid factor (%)", "pct", (1,)),
    ("acpa_positive", "Positive for anti-CCP antibodies (%)", "pct", (1,)),
    ("", "Medication history, no. (%)", "group", ()),
    ("hx_csdmard", "DMARDs", "n_pct", (0,)),
    ("hx_bdmard", "bDMARDs", "n_pct", (0,)),
    ("hx_nsaid", "NSAIDs", "n_pct", (0,)),
    ("hx_prednisone", "Prednisone", "n_pct", (0,)),
]


def layout_table1(registry: pd.DataFrame | dict) -> PaperTable:
    """Table 1 (baseline characteristics of the completers) from ``table1.*`` keys.

    Continuous rows print mean ± SD, binary rows no. (%) or %, with the paper's decimals.
    """
    v = _as_dict(registry)
    rows = []
    for item, label, kind, dec in TABLE1_ROWS:
        if kind == "group":
            rows.append(Row(label, [], group=True))
            continue
        cells = []
        for code in ARMS.values():
            base = f"table1.{item}.{code}"
            if kind == "n_pct":
                cells.append(_n_pct(v, base, dec[0]))
            elif kind == "mean_sd":
                cells.append(_mean_sd(v, base, *dec))
            else:
                cells.append(format_number(v[f"{base}.pct"], dec[0]))
        rows.append(Row(label, cells, level=1 if item.startswith("hx_") else 0))
    groups = [("", [_arm_header(v, "table1", code) for code in ARMS.values()])]
    notes = ["Values are mean ± SD unless stated otherwise; percentages are of the arm's completers.",
             "Only patients who completed five years of follow-up are included."]
    return PaperTable("Characteristic", groups, rows, notes)


#: Table 2 row id -> indentation level (the hierarchy the paper's layout implies).
TABLE2_LEVELS: dict[str, int] = {
    "any_ae": 0, "lymphocyte_count_decreased": 1, "fever_chills": 1, "covid19": 1,
    "hyperglycemia": 1, "hyperlipidemia": 1, "gastrointestinal_disorders": 1,
    "sae": 0, "sae_autoimmune": 1, "sae_sle": 2, "sae_sjogren": 2, "sae_infections": 1,
    "sae_pneumonia": 2, "sae_tuberculosis": 2, "sae_hypertension": 1, "sae_diabetes_t2": 1,
    "sae_malignancy": 1, "sae_cerebral_infarction": 1, "sae_gvhd": 1, "death": 1,
}


def layout_table2(registry: pd.DataFrame | dict) -> PaperTable:
    """Table 2 (events and event rates per 100 patient-years, safety population)."""
    from analysis.safety import TABLE2_ROWS

    v = _as_dict(registry)
    groups = []
    for code in ARMS.values():
        title = (f"{ARM_COLUMN_LABELS[code]} (N = {format_number(v[f'table2.n.{code}'], 0)}, "
                 f"PY = {format_number(v[f'table2.py.{code}'], 2)})")
        groups.append((title, ["Events", "ER per 100 PY"]))
    rows = []
    for row, label, _block, _terms in TABLE2_ROWS:
        cells = []
        for code in ARMS.values():
            cells += [format_number(v[f"table2.{row}.{code}.events"], 0),
                      format_number(v[f"table2.{row}.{code}.rate"], 2)]
        rows.append(Row(label, cells, level=TABLE2_LEVELS.get(row, 0)))
    notes = ["ER, event rate (events per 100 patient-years); PY, patient-years from transplantation "
             "to the last safety assessment; SAE, serious adverse event."]
    return PaperTable("Adverse event", groups, rows, notes)


#: Table 3 rows: endpoint id -> label.
TABLE3_ROWS: dict[str, str] = {
    "das28_remission": "DAS28-ESR < 2.6, % of patients (SD)",
    "das28_lda": "DAS28-ESR ≤ 3.2, % of patients (SD)",
    "acr20": "ACR20 response, % of patients (SD)",
    "acr50": "ACR50 response, % of patients (SD)",
    "acr70": "ACR70 response, % of patients (SD)",
    "delta_das28_esr": "Δ DAS28-ESR, mean (SD)",
    "delta_haq_di": "Δ HAQ-DI, mean (SD)",
}


def layout_table3(registry: pd.DataFrame | dict, prefix: str = "table3") -> PaperTable:
    """Table 3 (efficacy at years 1, 3 and 5) from the keys under ``prefix``.

    ``prefix`` is ``table3`` for the completers (the paper's table) or the prefix of a
    sensitivity analysis (``sensitivity_nri``). The combination-arm cell carries ``*`` when
    the between-arm test has p < 0.001 (the registry's ``marker``).
    """
    v = _as_dict(registry)
    groups = [(TIMEPOINT_LABELS[tp], [_arm_header(v, prefix, code) for code in ARMS.values()])
              for tp in TIMEPOINTS]
    rows = []
    for endpoint, label in TABLE3_ROWS.items():
        stat, dec = ("mean", 2) if endpoint.startswith("delta_") else ("pct", 1)
        cells = []
        for tp in TIMEPOINTS:
            marker = v[f"{prefix}.{endpoint}.{tp}.marker"] == 1
            for code in ARMS.values():
                base = f"{prefix}.{endpoint}.{code}.{tp}"
                text = f"{format_number(v[f'{base}.{stat}'], dec)} ({format_number(v[f'{base}.sd'], dec)})"
                cells.append(text + ("*" if marker and code == "msc_ifng" else ""))
        rows.append(Row(label, cells))
    notes = ["* p < 0.001 for the comparison with MSCs alone (response rates: Pearson's χ² test "
             "without continuity correction; changes: Student's t-test).",
             "SD of a percentage: 100·√(p(1 − p)); Δ, change from baseline."]
    return PaperTable("Variable", groups, rows, notes)


#: Table 4 rows: drug id -> label.
TABLE4_ROWS: dict[str, str] = {"csdmard": "csDMARDs", "tsdmard": "tsDMARDs", "bdmard": "bDMARDs",
                               "prednisone": "Prednisone"}


def layout_table4(registry: pd.DataFrame | dict) -> PaperTable:
    """Table 4 (patients using each drug class at baseline and years 1, 3, 5; Fisher p)."""
    v = _as_dict(registry)
    headers = [_arm_header(v, "table4", code) for code in ARMS.values()]
    groups = [(TIMEPOINT_LABELS[tp], [*headers, "p"]) for tp in ("baseline", *TIMEPOINTS)]
    rows = []
    for drug, label in TABLE4_ROWS.items():
        cells = []
        for tp in ("baseline", *TIMEPOINTS):
            for code in ARMS.values():
                base = f"table4.{drug}.{code}.{tp}"
                n = v[f"{base}.n"]
                cells.append("0" if n == 0 else _n_pct(v, base, 0))
            cells.append(format_p(v[f"table4.{drug}.{tp}.p"]))
        rows.append(Row(label, cells))
    notes = ["no. (%) of completers using the drug class; p, two-sided Fisher exact test."]
    return PaperTable("Drug class, no. (%)", groups, rows, notes)


def caption_efficacy(population: str) -> str:
    """Caption of the efficacy table of a population.

    Examples
    --------
    >>> print(caption_efficacy("completers"))
    Efficacy at years 1, 3 and 5 in the patients who completed the five-year follow-up (the layout of the paper's Table 3)
    >>> print(caption_efficacy("randomised"))
    Efficacy at years 1, 3 and 5 in all randomised patients, with non-responder imputation (the layout of the paper's Table 3)
    """
    imputation = ", with non-responder imputation" if population == "randomised" else ""
    return (f"Efficacy at years 1, 3 and 5 in {POPULATION_LABELS[population]}{imputation} "
            f"(the layout of the paper's Table 3)")


def _keys_with(registry: dict, pattern: str) -> list[str]:
    import re

    return [k for k in registry if re.fullmatch(pattern, k)]


def _visit_order(label: str) -> int:
    """Months of a visit segment (``baseline``, ``monthN``, ``yearN``) for sorting."""
    if label == "baseline":
        return 0
    return int(label[5:]) if label.startswith("month") else 12 * int(label[4:])


def visit_display(label: str) -> str:
    """Readable visit of a key segment.

    Examples
    --------
    >>> visit_display("baseline"), visit_display("month3"), visit_display("year5")
    ('Baseline', 'Month 3', 'Month 60 (year 5)')
    """
    if label == "baseline":
        return "Baseline"
    months = _visit_order(label)
    return f"Month {months}" + (f" (year {months // 12})" if label.startswith("year") else "")


def layout_durability(registry: pd.DataFrame | dict) -> PaperTable:
    """Summary of the Kaplan-Meier durability analysis: per response and arm, responders,
    losses of response, median duration and the share still responding at 24 months; the
    log-rank p per response."""
    from analysis.durability import DURABILITY_ENDPOINTS, ENDPOINT_LABELS

    v = _as_dict(registry)
    groups = [(ARM_COLUMN_LABELS[code], ["Responders", "Lost", "Median (months)", "Still responding at 24 months (%)"])
              for code in ARMS.values()] + [("", ["Log-rank p"])]
    rows = []
    for endpoint in DURABILITY_ENDPOINTS:
        cells = []
        for code in ARMS.values():
            base = f"durability.{endpoint}.{code}"
            median = ("not reached" if v[f"{base}.median_reached"] == 0
                      else format_value(f"{base}.median_months", v[f"{base}.median_months"]))
            cells += [format_value(f"{base}.responders", v[f"{base}.responders"]),
                      format_value(f"{base}.losses", v[f"{base}.losses"]), median,
                      format_value(f"{base}.month24.pct", v[f"{base}.month24.pct"])]
        cells.append(format_p(v[f"durability.{endpoint}.followup.p"]))
        rows.append(Row(ENDPOINT_LABELS[endpoint], cells))
    notes = ["Responders: patients with the response at one post-baseline visit at least. Median and "
             "percentage are Kaplan-Meier estimates of the time from the first response to its first loss; "
             "– where the curve does not reach that time."]
    return PaperTable("Response", groups, rows, notes)


def layout_cluster_tests(registry: pd.DataFrame | dict) -> PaperTable:
    """p-values of the linear-by-linear trend tests of the activity clusters, per visit:
    between the arms, and each arm against its own baseline."""
    v = _as_dict(registry)
    visits = sorted({k.split(".")[2] for k in _keys_with(v, r"clusters\.activity\.[a-z0-9]+\.p")}, key=_visit_order)
    columns = ["MSCs + IFN-γ vs MSCs"] + [f"{ARM_COLUMN_LABELS[c]} vs own baseline" for c in ARMS.values()]
    rows = []
    for visit in visits:
        cells = [format_p(v[f"clusters.activity.{visit}.p"])]
        for code in ARMS.values():
            key = f"clusters.activity_vs_baseline.{code}.{visit}.p"
            cells.append(format_p(v[key]) if key in v else MISSING)
        rows.append(Row(visit_display(visit), cells))
    notes = ["Two-sided p-values of the linear-by-linear association (trend χ²) test on the four ordered "
             "DAS28-ESR categories; – where there is nothing to compare."]
    return PaperTable("Visit", [("", columns)], rows, notes)


def layout_longitudinal(registry: pd.DataFrame | dict) -> PaperTable:
    """Mixed-model estimates of the mean change from baseline per arm and visit (95% CI),
    the between-arm difference and its p-value, one block of rows per outcome."""
    from analysis.longitudinal import OUTCOMES

    v = _as_dict(registry)
    columns = [*(ARM_COLUMN_LABELS[c] for c in ARMS.values()), "Difference (95% CI)", "p"]

    def ci(base: str, stat: str = "mean") -> str:
        return (f"{format_number(v[f'{base}.{stat}'], 2)} ({format_number(v[f'{base}.ci_low'], 2)} to "
                f"{format_number(v[f'{base}.ci_high'], 2)})")

    rows = []
    for outcome, (_column, label) in OUTCOMES.items():
        rows.append(Row(label, [], group=True))
        visits = sorted({k.split(".")[2] for k in _keys_with(v, rf"longitudinal\.{outcome}\.[a-z0-9]+\.diff")},
                        key=_visit_order)
        visits = [visit for visit in visits if _visit_order(visit) < 12 or visit.startswith("year")]
        for visit in visits:
            cells = [ci(f"longitudinal.{outcome}.{code}.{visit}") for code in ARMS.values()]
            cells += [ci(f"longitudinal.{outcome}.{visit}", "diff"), format_p(v[f"longitudinal.{outcome}.{visit}.p"])]
            rows.append(Row(visit_display(visit), cells, level=1))
    notes = ["Estimates of a linear mixed model of the change from baseline with arm, visit and their "
             "interaction as fixed effects and a random intercept per patient (REML); Wald 95% CIs and z-tests. "
             "Difference: MSCs + IFN-γ minus MSCs. Rows: the visits of the first year and the yearly visits; "
             "the model uses every visit (all are in the figure and in the results registry)."]
    return PaperTable("Outcome and visit", [("", columns)], rows, notes)


# ----------------------------------------------------------------------------- rendering
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
    """Write ``table`` as CSV to ``csv_path`` and return the Markdown the notebook displays:
    a numbered, captioned table (MyST ``eval-rst`` grid table, name ``label``), its
    footnotes, a download link to the CSV and, when the book's dataset is synthetic, the
    synthetic-data label (the ``{build}`data_note``` role of the book's extension).

    The link is relative to the executed notebook, which the runner (:mod:`analysis.build`)
    places next to the folder the CSV is written to; so the link is
    ``<folder name>/<file name>``.
    """
    from IPython.display import Markdown

    csv_path = Path(csv_path)
    csv_path.parent.mkdir(parents=True, exist_ok=True)
    table.to_frame().to_csv(csv_path, index=False, lineterminator="\n")
    grid = "\n".join("   " + ln for ln in to_grid_table(table).splitlines())
    link = f"{csv_path.parent.name}/{csv_path.name}"
    notes = "\n\n".join(_md_escape(note) for note in table.footnotes)
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
