"""Baseline characteristics of completers (Table 1).

Conventions: means with sample SD (ddof = 1); percentages of the arm's completers; the
baseline of a measurement is the patient's ``AVISITN == 0`` visit (the last assessment before
transplantation, as the paper defines baseline). The medication-history rows come from the
``HX*`` flags of ``subjects`` (ever used before the study), which is why they may exceed the
use *at* baseline in Table 4.
"""
from __future__ import annotations

import pandas as pd

from analysis.derived import derive_visit_endpoints
from analysis.populations import ARMS, filter_population

#: Table 1 continuous rows: item id -> (column, label, unit).
CONTINUOUS_ITEMS: dict[str, tuple[str, str, str]] = {
    "age": ("AGE", "Mean age", "years"),
    "ra_duration": ("RADURY", "Mean duration of RA", "years"),
    "das28_esr": ("DAS28ESR", "DAS28-ESR", ""),
    "haq_di": ("HAQDI", "HAQ-DI", ""),
    "esr": ("ESR", "Erythrocyte sedimentation rate", "mm/h"),
    "crp": ("CRP", "C-reactive protein", "mg/L"),
}
#: Table 1 binary rows: item id -> (column, positive value, label, stats printed).
BINARY_ITEMS: dict[str, tuple[str, str, str, tuple[str, ...]]] = {
    "female": ("SEX", "F", "Female", ("n", "pct")),
    "rf_positive": ("RFFL", "Y", "Positive for rheumatoid factor", ("pct",)),
    "acpa_positive": ("ACPAFL", "Y", "Positive for anti-CCP antibodies", ("pct",)),
    "hx_csdmard": ("HXCSDMRD", "Y", "Medication history: DMARDs", ("n", "pct")),
    "hx_bdmard": ("HXBDMRD", "Y", "Medication history: bDMARDs", ("n", "pct")),
    "hx_nsaid": ("HXNSAID", "Y", "Medication history: NSAIDs", ("n", "pct")),
    "hx_prednisone": ("HXPRED", "Y", "Medication history: Prednisone", ("n", "pct")),
}


def derive_baseline_characteristics(dataset, population: str = "completers") -> pd.DataFrame:
    """One row per patient of ``population``: subject columns plus baseline DAS28-ESR, HAQ-DI,
    ESR and CRP (from the ``AVISITN == 0`` visit)."""
    subjects = filter_population(dataset.subjects, population)
    # Extra subject columns named like a baseline measurement must not collide in the merge.
    subjects = subjects.drop(columns=["DAS28ESR", "HAQDI", "ESR", "CRP"], errors="ignore")
    derived = derive_visit_endpoints(dataset)
    baseline = derived.loc[derived["AVISITN"] == 0, ["USUBJID", "DAS28ESR", "HAQDI", "ESR", "CRP"]]
    return subjects.merge(baseline, on="USUBJID", how="left")


def tabulate_baseline(characteristics: pd.DataFrame) -> pd.DataFrame:
    """Table 1 as a tidy frame: ``item``, ``arm``, ``stat`` (n, pct, mean, sd), ``value``.

    Examples
    --------
    >>> c = pd.DataFrame({"ARM": ["MSC", "MSC", "MSC+IFNG"], "SEX": ["F", "M", "F"], "AGE": [40, 50, 60],
    ...                   "RADURY": [1.0, 2.0, 3.0], "DAS28ESR": [5.0, 6.0, 5.5], "HAQDI": [1.5, 1.75, 1.625],
    ...                   "ESR": [40.0, 50.0, 45.0], "CRP": [20.0, 30.0, 25.0], "RFFL": ["Y", "Y", "N"],
    ...                   "ACPAFL": ["Y", "N", "Y"], "HXCSDMRD": ["Y"] * 3, "HXBDMRD": ["N", "Y", "N"],
    ...                   "HXNSAID": ["Y"] * 3, "HXPRED": ["Y", "N", "Y"]})
    >>> t = tabulate_baseline(c).set_index(["item", "arm", "stat"]).value
    >>> float(t["age", "msc", "mean"]), round(float(t["age", "msc", "sd"]), 3), float(t["female", "msc", "pct"])
    (45.0, 7.071, 50.0)
    """
    records = []
    for arm, code in ARMS.items():
        group = characteristics[characteristics["ARM"] == arm]
        n = len(group)
        records.append({"item": "n", "arm": code, "stat": "n", "value": float(n)})
        for item, (column, positive, _label, printed) in BINARY_ITEMS.items():
            count = int((group[column] == positive).sum())
            values = {"n": float(count), "pct": 100.0 * count / n if n else float("nan")}
            records += [{"item": item, "arm": code, "stat": s, "value": values[s]} for s in printed]
        for item, (column, _label, _unit) in CONTINUOUS_ITEMS.items():
            values = group[column].astype(float).dropna()
            records.append({"item": item, "arm": code, "stat": "mean", "value": values.mean()})
            records.append({"item": item, "arm": code, "stat": "sd", "value": values.std(ddof=1)})
    return pd.DataFrame(records)
