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

from analysis.audit import STATUSES as AUDIT_STATUSES
from analysis.baseline import BINARY_ITEMS, CONTINUOUS_ITEMS
from analysis.durability import DURABILITY_ENDPOINTS, ENDPOINT_LABELS
from analysis.export import write_table_files
from analysis.longitudinal import OUTCOMES
from analysis.populations import ARM_LABELS, ARMS, TIMEPOINTS
from analysis.safety import TABLE2_ROWS
from analysis.verify import STATUSES as REPRODUCTION_STATUSES

#: Printed for a missing value.
MISSING = "–"
#: Printed after a table value that the reconstruction ensemble classes *not determined*.
UNDETERMINED_MARK = "‡"
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
class MarkedRegistry(dict):
    """A registry (key -> value) that marks, in the tables laid out from it, the values the
    published numbers do not determine.

    ``marks`` maps such keys to their 2.5-97.5 % interval over the reconstruction ensemble
    (:func:`analysis.ensemble.report.marks_for_dataset`). A layout reads a value and formats
    it at once (``format_number(v[key], 1)``); the read records the key, and the formatter
    that follows appends :data:`UNDETERMINED_MARK` when the key is marked. The :class:`Row`
    built next collects the marked keys, and :func:`show_table` lists their intervals under
    the table.

    Examples
    --------
    >>> v = MarkedRegistry({"a.x.msc.pct": 40.0, "a.y.msc.pct": 10.0}, {"a.x.msc.pct": (30.0, 55.0)})
    >>> row = Row("x", [format_number(v["a.x.msc.pct"], 1), format_number(v["a.y.msc.pct"], 1)])
    >>> row.cells, row.marked
    (['40.0‡', '10.0'], [('a.x.msc.pct', (30.0, 55.0))])
    """

    def __init__(self, values: dict, marks: dict[str, tuple[float, float]]):
        super().__init__(values)
        self.marks = marks

    def __getitem__(self, key):
        value = super().__getitem__(key)
        _PENDING[0] = (self, key) if key in self.marks else None
        return value


#: The marked key read last and not yet formatted (layouts run in one thread, read-then-format).
_PENDING: list = [None]
#: Marked keys formatted since the last Row was built.
_FORMATTED: list = []


def _mark(text: str) -> str:
    pending, _PENDING[0] = _PENDING[0], None
    if pending is None or text == MISSING:
        return text
    registry, key = pending
    _FORMATTED.append((key, registry.marks[key]))
    return text + UNDETERMINED_MARK


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
    return _mark(text[1:] if text.startswith("-") and float(text) == 0 else text)


def format_p(p: float) -> str:
    """A p-value as the paper prints it.

    Examples
    --------
    >>> format_p(0.00067), format_p(0.0614), format_p(1.0), format_p(float("nan"))
    ('<0.001', '0.061', '>0.999', '–')
    """
    if p is None or math.isnan(p):
        return _mark(MISSING)
    if p < 0.001:
        return _mark("<0.001")
    if p > 0.999:
        return _mark(">0.999")
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
    #: (key, interval) of each value of the row marked not determined (see MarkedRegistry).
    marked: list = field(default_factory=list)

    def __post_init__(self):
        if _FORMATTED:
            self.marked = self.marked + _FORMATTED[:]
            _FORMATTED.clear()


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
    # a MarkedRegistry is returned as it is, so that its reads are recorded
    return registry if isinstance(registry, dict) else dict(zip(registry["key"], registry["value"]))


def undetermined_note(table: PaperTable) -> str:
    """The footnote listing the marked values of ``table`` with their intervals ('' if none).

    Examples
    --------
    >>> t = PaperTable("x", [("", ["a"])], [Row("Row one", ["1‡"], marked=[("t.a.msc.pct", (0.5, 2.25))])])
    >>> undetermined_note(t)
    '‡ Not determined by the published numbers; range over the reconstruction ensemble (2.5-97.5 %): Row one, t.a.msc.pct 0.5 to 2.3.'
    """
    items = [f"{row.label}, {key} {format_value(key, low)} to {format_value(key, high)}"
             for row in table.rows for key, (low, high) in row.marked]
    if not items:
        return ""
    return (f"{UNDETERMINED_MARK} Not determined by the published numbers; range over the reconstruction ensemble "
            f"(2.5-97.5 %): " + "; ".join(items) + ".")


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


# ----------------------------------------------------------------------------- report pages
# The reproduction report, the consistency audit and the sensitivity pages. A status is
# always printed as a word (its label); the colour of its badge only repeats the word, so the
# tables read the same in print, in a screen reader and for colour-blind readers.

#: Status -> (text colour, background) in the light and in the dark theme. Every pair has a
#: contrast ratio of at least 7:1 (WCAG 2 level AAA for text; see :func:`contrast_ratio`).
STATUS_COLOURS: dict[str, tuple[str, str, str, str]] = {
    "match": ("#0d5524", "#e3f4e8", "#c9f0d4", "#143d22"),
    "consistent": ("#0d5524", "#e3f4e8", "#c9f0d4", "#143d22"),
    "mismatch": ("#8f1d14", "#fde4e2", "#ffd4cf", "#4a1510"),
    "inconsistent": ("#8f1d14", "#fde4e2", "#ffd4cf", "#4a1510"),
    "missing": ("#664d03", "#fff3cd", "#ffe8a3", "#3d3000"),
    "undecidable": ("#3b4450", "#eceff3", "#dde3ea", "#2b3138"),
    "documented": ("#1a3d7c", "#e4ecfa", "#d3e1fb", "#17284a"),
}
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


def contrast_ratio(foreground: str, background: str) -> float:
    """WCAG 2 contrast ratio of two ``#rrggbb`` colours, from 1 (none) to 21 (black on white).

    Relative luminance ``L = 0.2126 R + 0.7152 G + 0.0722 B`` of the linearised sRGB channels;
    ratio ``(L1 + 0.05) / (L2 + 0.05)`` with ``L1`` the lighter colour (WCAG 2.1, definitions
    of *relative luminance* and *contrast ratio*).

    Examples
    --------
    >>> round(contrast_ratio("#000000", "#ffffff"), 1)
    21.0
    >>> min(round(contrast_ratio(fg, bg), 1) for colours in STATUS_COLOURS.values()
    ...     for fg, bg in (colours[:2], colours[2:])) >= 7
    True
    """
    def luminance(colour: str) -> float:
        channels = [int(colour.lstrip("#")[i:i + 2], 16) / 255 for i in (0, 2, 4)]
        linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
        return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]

    light, dark = sorted((luminance(foreground), luminance(background)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


def status_stylesheet() -> str:
    """CSS of the status badges (``span.status.status-<status>``) and of the status tables,
    for the light and the dark theme of the book.

    Examples
    --------
    >>> "span.status-mismatch { color: #8f1d14; background-color: #fde4e2; }" in status_stylesheet()
    True
    """
    rules = ["span.status { display: inline-block; padding: 0 0.4em; border: 1px solid currentColor; "
             "border-radius: 0.3em; font-weight: 600; white-space: nowrap; }",
             "table.status-table td, table.status-table th { padding: 0.2rem 0.45rem; font-size: 0.85em; "
             "vertical-align: top; }",
             "table.status-table { table-layout: fixed; }",
             "table.status-table code, table.status-table code span.pre { white-space: normal; "
             "overflow-wrap: anywhere; }"]
    for status, (fg, bg, dark_fg, dark_bg) in STATUS_COLOURS.items():
        rules.append(f"span.status-{status} {{ color: {fg}; background-color: {bg}; }}")
        rules.append(f'html[data-theme="dark"] span.status-{status} {{ color: {dark_fg}; background-color: {dark_bg}; }}')
    return "\n".join(rules)


def format_status(status: str) -> str:
    """reStructuredText of a status badge: the status word in the role ``status-<status>``
    that :func:`to_status_list_table` defines (HTML ``<span class="status status-<status>">``).

    Examples
    --------
    >>> format_status("mismatch")
    ':status-mismatch:`mismatch`'
    """
    if status not in STATUS_COLOURS:
        raise ValueError(f"unknown status {status!r}; known: {', '.join(STATUS_COLOURS)}")
    return f":status-{status}:`{status}`"


def _rst_cell(text: str) -> str:
    """A list-table cell's text, escaped, and protected from being read as a list marker.

    Examples
    --------
    >>> _rst_cell("1. first"), _rst_cell("- x"), _rst_cell("a_b")
    ('\\\\ 1. first', '\\\\ - x', 'a\\\\_b')
    """
    import re

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
    """Write ``table`` as CSV (and XLSX) and return the Markdown the notebook displays: the badge
    stylesheet (:func:`status_stylesheet`, HTML only), the numbered list table
    (:func:`to_status_list_table`), footnotes, the CSV link and, unless ``data_note`` is
    false (a table of the published numbers alone), the synthetic-data label, as
    :func:`show_table` does for the paper's tables."""
    from IPython.display import Markdown

    csv_path = Path(csv_path)
    write_table_files(table, csv_path)  # the CSV and its XLSX (analysis.export)
    style = "\n".join("      " + line for line in status_stylesheet().splitlines())
    rst = to_status_list_table(table, caption, label, status_column, literal_columns)
    notes = "\n\n".join(_md_escape(note) for note in footnotes)
    text = (f"```{{eval-rst}}\n.. raw:: html\n\n   <style>\n{style}\n   </style>\n\n{rst}\n```\n\n{notes}\n\n"
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
    v = _as_dict(registry)
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
    v = _as_dict(registry)
    groups = [k.split(".")[1] for k in _keys_with(v, r"audit\.[a-z0-9_]+\.checks\.n") if k != "audit.summary.checks.n"]
    table = _status_count_table(v, "audit", groups, AUDIT_FAMILY_LABELS, AUDIT_STATUSES, "checks",
                                "Family of checks", "All checks")
    table.footnotes = ["consistent: the printed numbers agree; inconsistent: they cannot all be right as "
                       "printed; undecidable: the printed precision cannot settle the question."]
    return table


def _estimate_ci(v: dict, base: str, stat: str, low: str, high: str, decimals: int = 2) -> str:
    return (f"{format_number(v[f'{base}.{stat}'], decimals)} ({format_number(v[f'{base}.{low}'], decimals)} to "
            f"{format_number(v[f'{base}.{high}'], decimals)})")


def layout_safety_rates(registry: pd.DataFrame | dict) -> PaperTable:
    """Table 2's event rates with exact (Garwood) 95% CIs, and the rate ratio MSC vs
    MSC+IFN-γ with its exact conditional 95% CI and p-value, row by row (``table2.*`` and
    ``safety_sensitivity.*`` keys)."""
    v = _as_dict(registry)
    groups = [(f"{ARM_COLUMN_LABELS[code]} (PY = {format_number(v[f'table2.py.{code}'], 2)})",
               ["Events", "ER per 100 PY (95% CI)"]) for code in ARMS.values()]
    groups.append(("MSCs vs MSCs + IFN-γ", ["Rate ratio (95% CI)", "p"]))
    rows = []
    for row, label, _block, _terms in TABLE2_ROWS:
        cells = []
        for code in ARMS.values():
            base = f"table2.{row}.{code}"
            cells += [format_number(v[f"{base}.events"], 0), _estimate_ci(v, base, "rate", "rate_low", "rate_high")]
        base = f"safety_sensitivity.{row}"
        cells += [_estimate_ci(v, base, "rate_ratio", "rate_ratio_low", "rate_ratio_high"), format_p(v[f"{base}.p"])]
        rows.append(Row(label, cells, level=TABLE2_LEVELS.get(row, 0)))
    notes = ["ER, events per 100 patient-years (PY), every event counted; 95% CI, exact Poisson (Garwood) "
             "interval. Rate ratio: ER with MSCs alone divided by ER with MSCs + IFN-γ; its 95% CI and "
             "two-sided p are exact, conditional on the total number of events (binomial). – where no "
             "event occurred in the comparison arm; ∞ where the interval is unbounded."]
    return PaperTable("Adverse event", groups, rows, notes)


def layout_incidence(registry: pd.DataFrame | dict) -> PaperTable:
    """Exposure-adjusted incidence per Table 2 row and arm: patients with the event, patient-
    years at risk (to the first event) and incidence per 100 PY with its exact 95% CI
    (``safety_sensitivity.<row>.<arm>.*`` keys; deaths have no row)."""
    v = _as_dict(registry)
    groups = [(f"{ARM_COLUMN_LABELS[code]} (N = {format_number(v[f'table2.n.{code}'], 0)})",
               ["Patients", "PY at risk", "Incidence per 100 PY (95% CI)"]) for code in ARMS.values()]
    rows = []
    for row, label, block, _terms in TABLE2_ROWS:
        if block == "subjects":
            continue
        cells = []
        for code in ARMS.values():
            base = f"safety_sensitivity.{row}.{code}"
            cells += [format_number(v[f"{base}.patients"], 0), format_number(v[f"{base}.py_at_risk"], 2),
                      _estimate_ci(v, base, "eair", "eair_low", "eair_high")]
        rows.append(Row(label, cells, level=TABLE2_LEVELS.get(row, 0)))
    notes = ["Patients with at least one such event; a patient is at risk from the transplantation to the "
             "first such event, or to the last safety assessment without one. Incidence: 100 × patients / "
             "PY at risk, exact Poisson (Garwood) 95% CI."]
    return PaperTable("Adverse event", groups, rows, notes)


def layout_sae_without_covid(registry: pd.DataFrame | dict) -> PaperTable:
    """Serious adverse events with and without those caused by SARS-CoV-2: events and rate per
    100 PY by arm (``table2.sae.*`` and ``safety.sae_noncovid.*`` keys)."""
    v = _as_dict(registry)
    groups = [(ARM_COLUMN_LABELS[code], ["Events", "ER per 100 PY"]) for code in ARMS.values()]
    rows = []
    for label, prefix in (("All serious adverse events", "table2.sae"),
                          ("Serious adverse events other than COVID-19", "safety.sae_noncovid")):
        cells = []
        for code in ARMS.values():
            cells += [format_number(v[f"{prefix}.{code}.events"], 0), format_number(v[f"{prefix}.{code}.rate"], 2)]
        rows.append(Row(label, cells))
    notes = ["COVID-19 events: the preferred terms of analysis.safety.COVID_TERMS; the patient-years are "
             "those of Table 2."]
    return PaperTable("Events", groups, rows, notes)


def layout_dropouts(registry: pd.DataFrame | dict) -> PaperTable:
    """Baseline characteristics of the completers and of the patients who discontinued, with
    the test of each (``baseline_dropouts.*`` keys of
    :func:`analysis.reports.registry_dropout_table`); decimals as in Table 1."""
    v = _as_dict(registry)
    decimals = {item: dec[0] for item, _label, kind, dec in TABLE1_ROWS if kind == "mean_sd"}
    rows = []
    for item, (_column, label, unit) in CONTINUOUS_ITEMS.items():
        base = f"baseline_dropouts.{item}"
        text = label.removeprefix("Mean ") + (f" ({unit})" if unit else "") + ", mean"
        rows.append(Row(text[0].upper() + text[1:], [
            format_number(v[f"{base}.completers.mean"], decimals.get(item, 2)),
            format_number(v[f"{base}.discontinued.mean"], decimals.get(item, 2)),
            "Welch's t-test", format_p(v[f"{base}.total.p"])]))
    for item, (_column, _positive, label, _printed) in BINARY_ITEMS.items():
        base = f"baseline_dropouts.{item}"
        rows.append(Row(f"{label}, %", [format_number(v[f"{base}.completers.pct"], 1),
                                        format_number(v[f"{base}.discontinued.pct"], 1),
                                        "Fisher's exact test", format_p(v[f"{base}.total.p"])]))
    notes = ["All randomised patients, both arms pooled. Two-sided p-values, not corrected for the number "
             "of comparisons; – where a group has no patient with the value."]
    return PaperTable("Baseline characteristic", [("", ["Completers", "Discontinued", "Test", "p"])], rows, notes)


def layout_nri_comparison(registry: pd.DataFrame | dict, prefix: str = "sensitivity_nri") -> PaperTable:
    """Response rates of the completers (``table3.*``, the paper's analysis) beside those of all
    randomised patients with non-responder imputation (keys under ``prefix``), by arm and year,
    with the between-arm p-value of each analysis."""
    v = _as_dict(registry)
    groups = [(ARM_COLUMN_LABELS[code], [f"Completers (N = {format_number(v[f'table3.n.{code}'], 0)})",
                                         f"NRI (N = {format_number(v[f'{prefix}.n.{code}'], 0)})"])
              for code in ARMS.values()]
    groups.append(("Between arms, p", ["Completers", "NRI"]))
    rows = []
    for endpoint, label in TABLE3_ROWS.items():
        if endpoint.startswith("delta_"):
            continue
        rows.append(Row(label.split(",")[0] + ", % of patients", [], group=True))
        for tp in TIMEPOINTS:
            cells = []
            for code in ARMS.values():
                cells += [format_number(v[f"table3.{endpoint}.{code}.{tp}.pct"], 1),
                          format_number(v[f"{prefix}.{endpoint}.{code}.{tp}.pct"], 1)]
            cells += [format_p(v[f"table3.{endpoint}.{tp}.p"]), format_p(v[f"{prefix}.{endpoint}.{tp}.p"])]
            rows.append(Row(TIMEPOINT_LABELS[tp], cells, level=1))
    notes = ["Completers: percentage of the completers assessed at the visit. NRI: percentage of all "
             "randomised patients of the arm, counting a patient without an observed response as a "
             "non-responder. p: Pearson's χ² test without continuity correction."]
    return PaperTable("Response and year", groups, rows, notes)


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
