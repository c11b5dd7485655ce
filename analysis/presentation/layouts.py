"""The paper's tables laid out from results-registry rows: Tables 1-4, the durability, cluster
and longitudinal tables, and the sensitivity pages' tables.

Every table of the book is laid out from **results-registry rows** (``key``/``value``,
:mod:`analysis.results`), never from intermediate frames, so a number printed in a table is by
construction the number the registry holds and the tests read. ``layout_*`` build a
:class:`PaperTable` with the rows, column groups and time points as printed; each cell is
printed by :mod:`analysis.printing`.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

import pandas as pd

from analysis.baseline import BINARY_ITEMS, CONTINUOUS_ITEMS
from analysis.durability import DURABILITY_ENDPOINTS, ENDPOINT_LABELS
from analysis.longitudinal import OUTCOMES
from analysis.populations import ARM_LABELS, ARMS, POPULATION_LABELS, TIMEPOINTS
from analysis.printing import MISSING, UNDETERMINED_MARK, format_number, format_p, format_value, take_marked
from analysis.results import registry_values
from analysis.safety import TABLE2_ROWS

#: Arm code -> column label of the paper's tables.
ARM_COLUMN_LABELS: dict[str, str] = {code: ARM_LABELS[arm] for arm, code in ARMS.items()}
#: Time point -> column-group label.
TIMEPOINT_LABELS: dict[str, str] = {"baseline": "Baseline", "year1": "Year 1", "year3": "Year 3",
                                    "year5": "Year 5"}


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
        marked = take_marked()
        if marked:
            self.marked = self.marked + marked


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
    values = registry_values(registry)
    if key not in values:
        raise KeyError(f"results registry has no key {key!r}")
    return float(values[key])


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
    v = registry_values(registry)
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
    v = registry_values(registry)
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
    v = registry_values(registry)
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
    v = registry_values(registry)
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
    v = registry_values(registry)
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
    v = registry_values(registry)
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
    v = registry_values(registry)
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


def _estimate_ci(v: dict, base: str, stat: str, low: str, high: str, decimals: int = 2) -> str:
    return (f"{format_number(v[f'{base}.{stat}'], decimals)} ({format_number(v[f'{base}.{low}'], decimals)} to "
            f"{format_number(v[f'{base}.{high}'], decimals)})")


def layout_safety_rates(registry: pd.DataFrame | dict) -> PaperTable:
    """Table 2's event rates with exact (Garwood) 95% CIs, and the rate ratio MSC vs
    MSC+IFN-γ with its exact conditional 95% CI and p-value, row by row (``table2.*`` and
    ``safety_sensitivity.*`` keys)."""
    v = registry_values(registry)
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
    v = registry_values(registry)
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
    v = registry_values(registry)
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
    v = registry_values(registry)
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
    v = registry_values(registry)
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
