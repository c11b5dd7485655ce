"""Every published artefact as a tidy table and as results-registry rows.

:func:`compute_results` is the single entry point that ``make verify``, the notebooks and the
tests share: dataset in, registry frame out, keys as in ``data/published/README.md``.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

from analysis import baseline, clusters, disposition, durability, efficacy, longitudinal, medications, safety
from analysis.derived import derive_visit_endpoints
from analysis.narrative import registry_narrative
from analysis.populations import ARMS, TIMEPOINTS, arm_sizes, filter_population
from analysis.results import make_result, results_frame


def registry_disposition(dataset) -> list[dict]:
    """Disposition counts/percentages, completers' follow-up, the discontinued patients with a
    new autoimmune disease and no ACR20 response."""
    rows = []
    for r in disposition.summarise_disposition(dataset.subjects).itertuples(index=False):
        rows.append(make_result(f"disposition.{r.stage}.{r.arm}.n", r.n, f"patients: {r.stage}"))
        rows.append(make_result(f"disposition.{r.stage}.{r.arm}.pct", r.pct,
                                f"100 * {r.stage} / randomised (all arms)"))
    for stat, value in disposition.summarise_followup(dataset.subjects).items():
        rows.append(make_result(f"disposition.followup_years.total.{stat}", value,
                                f"{stat} of (EOSDT - TRTSDT)/365.25 over completers"))
    for code, n in disposition.count_discontinued_autoimmune_nonresponders(dataset).items():
        rows.append(make_result(f"disposition.discontinued_new_autoimmune_no_acr20.{code}.n", n,
                                "discontinued, serious autoimmune AE, never ACR20"))
    return rows


def registry_table1(dataset) -> list[dict]:
    """Table 1 (completers' baseline characteristics)."""
    table = baseline.tabulate_baseline(baseline.derive_baseline_characteristics(dataset))
    rows = []
    for r in table.itertuples(index=False):
        key = f"table1.n.{r.arm}" if r.item == "n" else f"table1.{r.item}.{r.arm}.{r.stat}"
        rows.append(make_result(key, r.value, f"Table 1 {r.item} {r.stat} (completers)"))
    return rows


def registry_table2(dataset) -> list[dict]:
    """Table 2 (events and rates per 100 PY), plus per-row patient counts, both-arm totals and
    exact Poisson CIs, which the paper does not print."""
    table = safety.summarise_adverse_events(dataset)
    rows = []
    for arm, group in table.groupby("arm", sort=False):
        rows.append(make_result(f"table2.n.{arm}", group["n"].iloc[0], "safety population"))
        rows.append(make_result(f"table2.py.{arm}", group["py"].iloc[0], "sum of (EOSDT - TRTSDT)/365.25"))
    total_py = float(table.groupby("arm")["py"].first().sum())
    rows.append(make_result("table2.n.total", table.groupby("arm")["n"].first().sum(), "safety population"))
    rows.append(make_result("table2.py.total", total_py, "sum of (EOSDT - TRTSDT)/365.25"))
    for r in table.itertuples(index=False):
        prefix = f"table2.{r.row}.{r.arm}"
        rows += [make_result(f"{prefix}.events", r.events, "events"),
                 make_result(f"{prefix}.rate", r.rate, "100 * events / PY"),
                 make_result(f"{prefix}.patients", r.patients, "patients with >= 1 event"),
                 make_result(f"{prefix}.rate_low", r.rate_low, "Garwood exact 95% CI, lower"),
                 make_result(f"{prefix}.rate_high", r.rate_high, "Garwood exact 95% CI, upper")]
    totals = table.groupby("row", sort=False)[["events"]].sum()
    patients = _patients_per_row_total(dataset)
    for row, r in totals.iterrows():
        rows += [make_result(f"table2.{row}.total.events", r.events, "events, both arms"),
                 make_result(f"table2.{row}.total.rate", 100 * r.events / total_py, "100 * events / PY, both arms"),
                 make_result(f"table2.{row}.total.patients", patients[row], "patients with >= 1 event, both arms")]
    return rows


def _patients_per_row_total(dataset) -> dict[str, int]:
    table = safety.summarise_adverse_events(dataset)
    # A patient is in one arm only, so per-arm patient counts add up.
    return table.groupby("row", sort=False)["patients"].sum().to_dict()


def registry_safety_text(dataset) -> list[dict]:
    """Serious-event numbers the text reports beyond Table 2."""
    summary = safety.summarise_serious_events(dataset)
    rows = [make_result("safety.sae.total.patients", summary["patients"], "patients with >= 1 serious AE"),
            make_result("safety.sae.total.pct", summary["pct"], "100 * patients with SAE / safety population")]
    for code in ARMS.values():
        rows.append(make_result(f"safety.sae_noncovid.{code}.events", summary[f"{code}.noncovid_events"],
                                "serious AEs whose term is not COVID-related"))
        rows.append(make_result(f"safety.sae_noncovid.{code}.rate", summary[f"{code}.noncovid_rate"],
                                "100 * non-COVID serious AEs / PY"))
    return rows


def registry_safety_sensitivity(dataset) -> list[dict]:
    """Exposure-adjusted incidence (patients, exposure to first event) and between-arm rate
    ratios for every Table 2 row: sensitivity views the paper does not show."""
    rows = []
    for r in safety.summarise_incidence(dataset).itertuples(index=False):
        base = f"safety_sensitivity.{r.row}.{r.arm}"
        rows += [make_result(f"{base}.patients", r.patients, "patients with >= 1 event"),
                 make_result(f"{base}.py_at_risk", r.py_at_risk, "years to first event or EOSDT"),
                 make_result(f"{base}.eair", r.eair, "100 * patients / PY at risk"),
                 make_result(f"{base}.eair_low", r.eair_low, "Garwood exact 95% CI, lower"),
                 make_result(f"{base}.eair_high", r.eair_high, "Garwood exact 95% CI, upper")]
    for r in safety.compare_arms_by_row(safety.summarise_adverse_events(dataset)).itertuples(index=False):
        base = f"safety_sensitivity.{r.row}"
        rows += [make_result(f"{base}.rate_ratio", r.rate_ratio, "event rate MSC / MSC+IFN-γ"),
                 make_result(f"{base}.rate_ratio_low", r.ci_low, "exact conditional 95% CI, lower"),
                 make_result(f"{base}.rate_ratio_high", r.ci_high, "exact conditional 95% CI, upper"),
                 make_result(f"{base}.p", r.p_value, "exact conditional (binomial) test")]
    return rows


def registry_table3(dataset, population: str = "completers", prefix: str = "table3") -> list[dict]:
    """Table 3 (efficacy at years 1, 3, 5) for ``population``; with ``randomised`` this is the
    non-responder-imputation sensitivity analysis (use another ``prefix``)."""
    eff = efficacy.derive_efficacy_timepoints(dataset, population)
    table = efficacy.tabulate_efficacy(eff)
    rows = []
    sizes = arm_sizes(filter_population(dataset.subjects, population))
    rows += [make_result(f"{prefix}.n.{code}", n, f"patients ({population})") for code, n in sizes.items()]
    for r in table.itertuples(index=False):
        stat = "pct" if r.endpoint in efficacy.RESPONSE_ENDPOINTS else "mean"
        base = f"{prefix}.{r.endpoint}.{r.arm}.{r.timepoint}"
        rows += [make_result(f"{base}.{stat}", r.value, f"{stat} ({population})"),
                 make_result(f"{base}.sd", r.sd, "100*sqrt(p(1-p))" if stat == "pct" else "sample SD"),
                 make_result(f"{base}.n_evaluable", r.n, "patients with the endpoint")]
    tests = table.drop_duplicates(["endpoint", "timepoint"])
    for r in tests.itertuples(index=False):
        rows.append(make_result(f"{prefix}.{r.endpoint}.{r.timepoint}.p", r.p_value, r.test))
        rows.append(make_result(f"{prefix}.{r.endpoint}.{r.timepoint}.marker", r.marker,
                                f"1 if {r.test} p < {efficacy.MARKER_ALPHA}"))
    return rows


def registry_table4(dataset) -> list[dict]:
    """Table 4 (drug use at baseline and years 1, 3, 5; Fisher exact p)."""
    table = medications.tabulate_medication_use(medications.derive_medication_use(dataset))
    rows = []
    for code, n in arm_sizes(filter_population(dataset.subjects, "completers")).items():
        rows.append(make_result(f"table4.n.{code}", n, "completers"))
    for r in table.itertuples(index=False):
        rows.append(make_result(f"table4.{r.drug}.{r.arm}.{r.timepoint}.n", r.users, "users at the time point"))
        rows.append(make_result(f"table4.{r.drug}.{r.arm}.{r.timepoint}.pct", r.pct, "100 * users / completers"))
    for r in table.drop_duplicates(["drug", "timepoint"]).itertuples(index=False):
        rows.append(make_result(f"table4.{r.drug}.{r.timepoint}.p", r.p_value, "Fisher exact, two-sided"))
    return rows


def count_drug_free_remission(dataset) -> dict[str, int]:
    """Per arm code: completers in DAS28-ESR remission at every visit from month 12 to month 60
    who use no drug class of the contract at years 1, 3 and 5 (sustained drug-free remission)."""
    eff = efficacy.derive_efficacy_timepoints(dataset, "completers")
    derived = derive_visit_endpoints(dataset)
    window = derived.loc[(derived["AVISITN"] >= 12) & (derived["AVISITN"] <= 60), ["USUBJID", "REMISSION"]]
    # A visit without a remission assessment breaks "remission at every visit" (NA -> False).
    sustained = window["REMISSION"].fillna(False).astype(bool).groupby(window["USUBJID"]).all()
    use = medications.derive_medication_use(dataset)
    use = use[use["TIMEPOINT"].isin(list(TIMEPOINTS))]
    any_drug = use[[f"USE_{d}" for d in medications.DRUG_CLASSES]].any(axis=1).groupby(use["USUBJID"]).any()
    chosen = set(sustained[sustained].index) - set(any_drug[any_drug].index)
    arms = eff.drop_duplicates("USUBJID").set_index("USUBJID")["ARM"]
    counts = arms[arms.index.isin(chosen)].value_counts()
    return {code: int(counts.get(arm, 0)) for arm, code in ARMS.items()}


def registry_efficacy_text(dataset) -> list[dict]:
    """Efficacy numbers the text reports beyond Table 3."""
    return [make_result(f"efficacy.drug_free_remission.{code}.year5.patients", n,
                        "completers in remission at every visit months 12-60 using no drug")
            for code, n in count_drug_free_remission(dataset).items()]


def compare_completers_dropouts(dataset) -> pd.DataFrame:
    """Baseline characteristics of completers versus discontinued patients (the paper's Table S2,
    not available): Welch t-test for continuous, Fisher exact for binary characteristics."""
    chars = baseline.derive_baseline_characteristics(dataset, "randomised")
    completed = chars["EOSSTT"] == "COMPLETED"
    records = []
    for item, (column, _label, _unit) in baseline.CONTINUOUS_ITEMS.items():
        a, b = chars.loc[completed, column].astype(float).dropna(), chars.loc[~completed, column].astype(float).dropna()
        p = float(stats.ttest_ind(a, b, equal_var=False).pvalue) if len(a) > 1 and len(b) > 1 else np.nan
        records.append({"item": item, "completers": a.mean(), "dropouts": b.mean(), "p_value": p, "test": "Welch t"})
    for item, (column, positive, _label, _printed) in baseline.BINARY_ITEMS.items():
        a, b = (chars.loc[completed, column] == positive), (chars.loc[~completed, column] == positive)
        p = float(stats.fisher_exact([[a.sum(), (~a).sum()], [b.sum(), (~b).sum()]]).pvalue)
        records.append({"item": item, "completers": 100 * a.mean(), "dropouts": 100 * b.mean() if len(b) else np.nan,
                        "p_value": p, "test": "Fisher exact"})
    return pd.DataFrame(records)


def registry_dropout_comparison(dataset) -> list[dict]:
    """Smallest p-value of the completers-versus-dropouts baseline comparison."""
    table = compare_completers_dropouts(dataset)
    return [make_result("baseline_dropouts.min_p.total.p", table["p_value"].min(),
                        "min p over baseline characteristics, completers vs discontinued")]


def compute_results(dataset) -> pd.DataFrame:
    """Every number the analysis computes for the paper, as a results-registry frame."""
    rows = (registry_disposition(dataset) + registry_table1(dataset) + registry_table2(dataset)
            + registry_safety_text(dataset) + registry_table3(dataset) + registry_table4(dataset)
            + registry_efficacy_text(dataset) + registry_dropout_comparison(dataset)
            + registry_safety_sensitivity(dataset))
    rows += registry_table3(dataset, "randomised", prefix="sensitivity_nri")
    rows += (durability.registry_durability(dataset) + clusters.registry_clusters(dataset)
             + longitudinal.registry_longitudinal(dataset))
    computed = {r["key"]: r["value"] for r in rows}
    rows += registry_narrative(computed)
    return results_frame(rows)
