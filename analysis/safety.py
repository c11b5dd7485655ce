"""Safety: exposure, adverse events by Table 2 row, event rates per 100 patient-years.

Conventions (the paper's Methods define the rate; the rest are ours, stated here):

* **Exposure** of a patient = time from transplantation (``TRTSDT``) to the last safety
  assessment (``EOSDT``), in years of 365.25 days; an arm's patient-years (PY) are the sum over
  its safety population.
* **Event rate** (ER) = 100 x events / PY ("per 100 patient-years"); every event counts, so a
  patient may contribute several.
* **Table 2 rows** group MedDRA preferred terms (``AEDECOD``) through :data:`TABLE2_ROWS`; the
  grouping is analysis logic, not a data column. The upper block counts non-serious events
  (``AESER == "N"``) and the block under "SAE" counts serious events (``AESER == "Y"``).
  The paper's first row is labelled "At least one AE", but its numbers equal the sum of the
  non-serious rows below it (MSC: 71+6+78+3+2+1 = 161 events; 161/445.15 PY = 36.17), so it is
  computed as *all non-serious events*, not as a count of patients.
* A serious event whose term maps to no listed sub-row still counts in the SAE total: the
  paper's SAE totals (11 and 4) exceed the sum of its listed sub-rows (9 and 2).
* **Deaths** are counted from ``subjects.DCSREAS == "DEATH"``.
* **Exact Poisson (Garwood) 95% CI** for a rate: statsmodels'
  ``ConfidenceInterval`` of ``test_poisson``'s exact method; see :func:`compute_rate_ci`.
"""
from __future__ import annotations

from typing import NamedTuple

import numpy as np
import pandas as pd
from scipy import stats

from analysis.derived import derive_once_per_dataset
from analysis.populations import ARMS, compute_duration_years, filter_population


class RateComparison(NamedTuple):
    """Result of :func:`compare_event_rates`: the rate ratio, its p-value and CI."""

    statistic: float
    p_value: float
    ci: tuple[float, float]

#: Table 2 rows in printed order: (row id, label, seriousness block, MedDRA preferred terms).
#: Parent rows (``sae``, ``sae_autoimmune``, ``sae_infections``) list the union of their children.
TABLE2_ROWS: list[tuple[str, str, str, tuple[str, ...]]] = [
    ("any_ae", "At least one AE (all non-serious events)", "N", ()),
    ("lymphocyte_count_decreased", "Lymphocyte count decreased", "N",
     ("Lymphocyte count decreased", "Lymphopenia")),
    ("fever_chills", "Fever and chills", "N", ("Pyrexia", "Chills")),
    ("covid19", "COVID-19", "N", ("COVID-19", "SARS-CoV-2 test positive")),
    ("hyperglycemia", "Hyperglycemia", "N", ("Hyperglycaemia", "Blood glucose increased")),
    ("hyperlipidemia", "Hyperlipidemia", "N",
     ("Hyperlipidaemia", "Dyslipidaemia", "Blood cholesterol increased", "Blood triglycerides increased")),
    ("gastrointestinal_disorders", "Gastrointestinal disorders", "N",
     ("Nausea", "Vomiting", "Diarrhoea", "Abdominal pain", "Abdominal discomfort", "Dyspepsia", "Constipation")),
    ("sae", "SAE (all serious events)", "Y", ()),
    ("sae_autoimmune", "Autoimmune disorders", "Y", ("Systemic lupus erythematosus", "Sjogren's syndrome")),
    ("sae_sle", "SLE", "Y", ("Systemic lupus erythematosus",)),
    ("sae_sjogren", "Sjögren's syndrome", "Y", ("Sjogren's syndrome",)),
    ("sae_infections", "Infections", "Y",
     ("Pneumonia", "COVID-19 pneumonia", "Pulmonary tuberculosis", "Tuberculosis")),
    ("sae_pneumonia", "Pneumonia", "Y", ("Pneumonia", "COVID-19 pneumonia")),
    ("sae_tuberculosis", "Tuberculosis", "Y", ("Pulmonary tuberculosis", "Tuberculosis")),
    ("sae_hypertension", "Hypertension", "Y", ("Hypertension",)),
    ("sae_diabetes_t2", "Diabetes mellitus type 2", "Y", ("Type 2 diabetes mellitus",)),
    ("sae_malignancy", "Malignancies", "Y",
     ("Rectal cancer", "Rectal adenocarcinoma", "Colorectal cancer", "Lung neoplasm malignant",
      "Breast cancer", "Thyroid cancer", "Gastric cancer")),
    ("sae_cerebral_infarction", "Cerebral infarction", "Y", ("Cerebral infarction",)),
    ("sae_gvhd", "Graft-versus-host disease", "Y", ("Graft versus host disease",)),
    ("death", "Death", "subjects", ()),
]
#: Preferred terms of events caused by SARS-CoV-2, excluded in the "non-COVID" SAE rate.
COVID_TERMS = frozenset({"COVID-19", "COVID-19 pneumonia", "SARS-CoV-2 test positive"})


def derive_exposure(subjects: pd.DataFrame) -> pd.DataFrame:
    """Add ``EXPOSYR``: years from ``TRTSDT`` to ``EOSDT`` (365.25-day years).

    Examples
    --------
    >>> s = pd.DataFrame({"TRTSDT": pd.to_datetime(["2017-01-01"]), "EOSDT": pd.to_datetime(["2018-01-01"])})
    >>> derive_exposure(s).EXPOSYR.round(4).tolist()
    [0.9993]
    """
    out = subjects.copy()
    out["EXPOSYR"] = compute_duration_years(out["TRTSDT"], out["EOSDT"])
    return out


def derive_table2_row(adverse_events: pd.DataFrame) -> pd.DataFrame:
    """Add ``T2ROW``: the most specific Table 2 row of each event (``None`` if unlisted).

    Serious and non-serious events are mapped within their own block, so a non-serious
    "Pneumonia" is not put under the SAE infections.

    Examples
    --------
    >>> ae = pd.DataFrame({"AEDECOD": ["Pyrexia", "Sjogren's syndrome", "Pyrexia", "Headache"],
    ...                    "AESER": ["N", "Y", "Y", "N"]})
    >>> derive_table2_row(ae).T2ROW.tolist()
    ['fever_chills', 'sae_sjogren', None, None]
    """
    leaf = {}
    parents = {"any_ae", "sae", "sae_autoimmune", "sae_infections", "death"}
    for row, _label, block, terms in TABLE2_ROWS:
        if row in parents:
            continue
        for term in terms:
            leaf[(block, term)] = row
    out = adverse_events.copy()
    keys = list(zip(out["AESER"], out["AEDECOD"]))
    out["T2ROW"] = pd.Series([leaf.get(k) for k in keys], index=out.index, dtype=object)
    return out


def _row_masks(events: pd.DataFrame) -> dict[str, pd.Series]:
    """Table 2 row -> mask of ``events`` counted in it (rows of the subjects block excluded).

    Each block's test (``AESER``) is computed once and shared by the rows of the block: on a
    large table the string comparisons, repeated per row, cost more than the counting.
    """
    blocks: dict[str, pd.Series] = {}
    masks = {}
    for row, _label, block, terms in TABLE2_ROWS:
        if block == "subjects":
            continue
        if block not in blocks:
            blocks[block] = events["AESER"] == block
        # No terms: the block total.
        masks[row] = blocks[block] & events["AEDECOD"].isin(terms) if terms else blocks[block]
    return masks


def compute_event_rate(events: float | np.ndarray, patient_years: float | np.ndarray) -> np.ndarray:
    """Events per 100 patient-years: ``100 * events / PY``.

    Examples
    --------
    >>> round(float(compute_event_rate(161, 445.15)), 2)
    36.17
    """
    return 100.0 * np.asarray(events, dtype=float) / np.asarray(patient_years, dtype=float)


def compute_rate_ci(events: int, patient_years: float, alpha: float = 0.05) -> tuple[float, float]:
    """Exact Poisson (Garwood 1936) confidence interval of a rate per 100 patient-years.

    Limits are ``chi2.ppf(alpha/2, 2k)/2`` and ``chi2.ppf(1-alpha/2, 2k+2)/2`` events, divided
    by exposure; computed by statsmodels' ``test_poisson`` confidence interval with
    ``method="exact-c"`` (the central, Garwood interval), not by hand.

    Examples
    --------
    >>> [round(x, 2) for x in compute_rate_ci(11, 445.15)]
    [1.23, 4.42]
    >>> [round(x, 2) for x in compute_rate_ci(0, 172.89)]
    [0.0, 2.13]
    """
    from statsmodels.stats.rates import confint_poisson

    low, high = confint_poisson(int(events), float(patient_years), method="exact-c", alpha=alpha)
    return float(100.0 * low), float(100.0 * high)


@derive_once_per_dataset
def summarise_adverse_events(dataset) -> pd.DataFrame:
    """Table 2 as a tidy frame: one row per (Table 2 row, arm).

    Columns: ``row``, ``label``, ``arm`` (code), ``events``, ``patients`` (with >= 1 such event),
    ``py`` (arm patient-years), ``n`` (arm safety population), ``rate`` (per 100 PY),
    ``rate_low``/``rate_high`` (Garwood 95% CI).
    """
    safety = derive_exposure(filter_population(dataset.subjects, "safety"))
    # Only the columns used: extra columns the contract allows (e.g. ARM) must not collide.
    events = dataset.adverse_events[["USUBJID", "AEDECOD", "AESER"]].merge(
        safety[["USUBJID", "ARM"]], on="USUBJID", how="inner")
    records = []
    for arm, code in ARMS.items():
        arm_subjects = safety[safety["ARM"] == arm]
        arm_events = events[events["ARM"] == arm]
        n, py = len(arm_subjects), float(arm_subjects["EXPOSYR"].sum())
        masks = _row_masks(arm_events)
        for row, label, block, _terms in TABLE2_ROWS:
            if block == "subjects":
                hit = arm_subjects[arm_subjects["DCSREAS"] == "DEATH"]
                count, patients = len(hit), len(hit)
            else:
                hit = arm_events[masks[row]]
                count, patients = len(hit), hit["USUBJID"].nunique()
            low, high = compute_rate_ci(count, py) if py > 0 else (np.nan, np.nan)
            records.append({"row": row, "label": label, "arm": code, "events": count, "patients": patients,
                            "py": py, "n": n, "rate": float(compute_event_rate(count, py)) if py > 0 else np.nan,
                            "rate_low": low, "rate_high": high})
    return pd.DataFrame(records)


def summarise_serious_events(dataset) -> dict[str, float]:
    """Counts the text reports about serious events, over both arms and per arm.

    Returns a flat dict: ``patients`` with >= 1 SAE, their percentage of the safety
    population, and per arm code the non-COVID SAE events and rate (SAEs whose preferred
    term is not in :data:`COVID_TERMS`).
    """
    safety = derive_exposure(filter_population(dataset.subjects, "safety"))
    ae = dataset.adverse_events[["USUBJID", "AEDECOD", "AESER"]]
    sae = ae[ae["AESER"] == "Y"].merge(safety[["USUBJID", "ARM"]], on="USUBJID")
    out = {"patients": sae["USUBJID"].nunique(), "n": len(safety)}
    out["pct"] = 100.0 * out["patients"] / out["n"]
    for arm, code in ARMS.items():
        py = float(safety.loc[safety["ARM"] == arm, "EXPOSYR"].sum())
        non_covid = sae[(sae["ARM"] == arm) & ~sae["AEDECOD"].isin(COVID_TERMS)]
        out[f"{code}.noncovid_events"] = len(non_covid)
        out[f"{code}.noncovid_rate"] = float(compute_event_rate(len(non_covid), py)) if py > 0 else np.nan
    return out


def compare_event_rates(events_a: int, py_a: float, events_b: int, py_b: float,
                        alpha: float = 0.05) -> RateComparison:
    """Exact conditional comparison of two Poisson rates, arm ``a`` against arm ``b``.

    Conditional on the total ``k = k_a + k_b``, ``k_a`` is binomial with
    ``p = py_a / (py_a + py_b)`` when the rates are equal. The two-sided p-value is scipy's exact
    ``binomtest``; the rate-ratio CI maps the Clopper-Pearson interval ``(pl, pu)`` of the
    binomial proportion through ``RR = p/(1-p) * py_b/py_a`` (exact conditional interval).

    Examples
    --------
    >>> r = compare_event_rates(11, 445.15, 4, 172.89)
    >>> round(r.statistic, 3), round(r.p_value, 3), [round(x, 2) for x in r.ci]
    (1.068, 1.0, [0.32, 4.6])
    """
    total = events_a + events_b
    if total == 0:
        return RateComparison(float("nan"), 1.0, (0.0, float("inf")))
    test = stats.binomtest(events_a, total, py_a / (py_a + py_b))
    low, high = test.proportion_ci(confidence_level=1 - alpha, method="exact")
    to_ratio = lambda p: (p / (1 - p)) * (py_b / py_a) if p < 1 else float("inf")  # noqa: E731
    ratio = (events_a / py_a) / (events_b / py_b) if events_b > 0 else float("inf")
    return RateComparison(float(ratio), float(test.pvalue), (float(to_ratio(low)), float(to_ratio(high))))


def summarise_incidence(dataset) -> pd.DataFrame:
    """Exposure-adjusted incidence per Table 2 row and arm (a sensitivity view of Table 2).

    Where Table 2 counts every event, this counts *patients*: EAIR = 100 x patients with >= 1
    event / patient-years at risk, where a patient is at risk from transplantation to their first
    such event (if any), else to ``EOSDT``. Exact Poisson (Garwood) 95% CI as in
    :func:`compute_rate_ci`. Columns: ``row``, ``arm``, ``patients``, ``py_at_risk``, ``eair``,
    ``eair_low``, ``eair_high``.
    """
    safety = derive_exposure(filter_population(dataset.subjects, "safety"))
    events = dataset.adverse_events[["USUBJID", "AEDECOD", "AESER", "AESTDT"]].merge(
        safety[["USUBJID", "ARM", "TRTSDT"]], on="USUBJID", how="inner")
    records = []
    masks = _row_masks(events)
    at_risk = safety.set_index("USUBJID")
    in_arms = {arm: at_risk["ARM"] == arm for arm in ARMS}
    # Each event's patient as a position in ``at_risk``, looked up once for every row: the
    # rows then group and align by integers instead of hashing the ids again per row.
    patient = at_risk.index.get_indexer(events["USUBJID"])
    positions = np.arange(len(at_risk))
    for row, _label, block, _terms in TABLE2_ROWS:
        if block == "subjects":
            continue
        hit = masks[row].to_numpy()
        first = events.loc[hit, "AESTDT"].groupby(patient[hit]).min()
        with_event = np.zeros(len(at_risk), dtype=bool)
        with_event[first.index] = True
        # Years to the first event for patients with one, full exposure for the others.
        first_date = pd.Series(first.reindex(positions).to_numpy(), index=at_risk.index)
        years = compute_duration_years(at_risk["TRTSDT"], first_date).fillna(at_risk["EXPOSYR"])
        for arm, code in ARMS.items():
            in_arm = in_arms[arm]
            patients = int((with_event & in_arm.to_numpy()).sum())
            py = float(years[in_arm].sum())
            low, high = compute_rate_ci(patients, py) if py > 0 else (np.nan, np.nan)
            records.append({"row": row, "arm": code, "patients": patients, "py_at_risk": py,
                            "eair": float(compute_event_rate(patients, py)) if py > 0 else np.nan,
                            "eair_low": low, "eair_high": high})
    return pd.DataFrame(records)


def compare_arms_by_row(adverse_events_table: pd.DataFrame) -> pd.DataFrame:
    """Rate ratio (MSC vs MSC+IFN-γ) of each Table 2 row with its exact conditional 95% CI and
    p-value (:func:`compare_event_rates`), from the tidy frame of
    :func:`summarise_adverse_events`."""
    records = []
    for row, group in adverse_events_table.groupby("row", sort=False):
        by_arm = group.set_index("arm")
        a, b = by_arm.loc["msc"], by_arm.loc["msc_ifng"]
        result = compare_event_rates(int(a.events), float(a.py), int(b.events), float(b.py))
        records.append({"row": row, "rate_ratio": result.statistic, "ci_low": result.ci[0],
                        "ci_high": result.ci[1], "p_value": result.p_value})
    return pd.DataFrame(records)
