"""Patient disposition (the paper's Fig. 1 and the first Results paragraph) and follow-up.

Percentages are of all randomised patients, as the paper reports them. Follow-up of a
completer runs from transplantation to the last safety assessment, in 365.25-day years.
"""
from __future__ import annotations

import pandas as pd

from analysis.derived import derive_visit_endpoints
from analysis.populations import ARMS, compute_duration_years, filter_population
from analysis.safety import TABLE2_ROWS

#: ``DCSREAS`` value -> the reason's id in result keys.
DISCONTINUATION_REASONS: dict[str, str] = {"LACK OF EFFICACY": "lack_of_efficacy",
                                           "ADVERSE EVENT": "adverse_event"}
#: Preferred terms of new-onset autoimmune disease (Table 2's "Autoimmune disorders").
AUTOIMMUNE_TERMS: tuple[str, ...] = next(t for r, _l, _b, t in TABLE2_ROWS if r == "sae_autoimmune")


def summarise_disposition(subjects: pd.DataFrame) -> pd.DataFrame:
    """Counts and percentages (of the randomised total) of each disposition stage.

    Columns: ``stage``, ``arm`` (``msc``, ``msc_ifng``, ``total``), ``n``, ``pct``.

    Examples
    --------
    >>> s = pd.DataFrame({"ARM": ["MSC", "MSC", "MSC+IFNG", "MSC+IFNG"], "LTEFL": ["Y"] * 4,
    ...                   "EOSSTT": ["COMPLETED", "DISCONTINUED", "COMPLETED", "COMPLETED"],
    ...                   "DCSREAS": ["", "LACK OF EFFICACY", "", ""]})
    >>> summarise_disposition(s).query("arm == 'total'").set_index("stage").n.to_dict()
    {'randomised': 4, 'entered_lte': 4, 'completed': 3, 'discontinued': 1, 'discontinued_lack_of_efficacy': 1, 'discontinued_adverse_event': 0}
    """
    stages = {
        "randomised": pd.Series(True, index=subjects.index),
        "entered_lte": subjects["LTEFL"] == "Y",
        "completed": subjects["EOSSTT"] == "COMPLETED",
        "discontinued": subjects["EOSSTT"] == "DISCONTINUED",
    }
    for reason, rid in DISCONTINUATION_REASONS.items():
        stages[f"discontinued_{rid}"] = stages["discontinued"] & (subjects["DCSREAS"] == reason)
    total = len(subjects)
    records = []
    for stage, mask in stages.items():
        for arm, code in [*ARMS.items(), (None, "total")]:
            in_arm = mask if arm is None else mask & (subjects["ARM"] == arm)
            n = int(in_arm.sum())
            records.append({"stage": stage, "arm": code, "n": n, "pct": 100.0 * n / total if total else float("nan")})
    return pd.DataFrame(records)


def count_discontinued_autoimmune_nonresponders(dataset) -> dict[str, int]:
    """Per arm code: discontinued patients with a new autoimmune disease (a serious event in
    :data:`AUTOIMMUNE_TERMS`) who never reached an ACR20 response at any post-baseline visit."""
    subjects = dataset.subjects
    ae = dataset.adverse_events
    # Distinct ids only: a set built from every visit row costs seconds on a large cohort.
    autoimmune = ae.loc[(ae["AESER"] == "Y") & ae["AEDECOD"].isin(AUTOIMMUNE_TERMS), "USUBJID"].unique()
    derived = derive_visit_endpoints(dataset)
    ever_acr20 = derived.loc[derived["ACR20"].fillna(False).astype(bool), "USUBJID"].unique()
    chosen = subjects[(subjects["EOSSTT"] == "DISCONTINUED") & subjects["USUBJID"].isin(autoimmune)
                      & ~subjects["USUBJID"].isin(ever_acr20)]
    return {code: int((chosen["ARM"] == arm).sum()) for arm, code in ARMS.items()}


def summarise_followup(subjects: pd.DataFrame, population: str = "completers") -> dict[str, float]:
    """Mean, minimum and maximum follow-up in years of a population.

    Examples
    --------
    >>> s = pd.DataFrame({"EOSSTT": ["COMPLETED", "COMPLETED"],
    ...                   "TRTSDT": pd.to_datetime(["2016-01-01", "2017-01-01"]),
    ...                   "EOSDT": pd.to_datetime(["2021-01-01", "2024-01-01"])})
    >>> {k: round(v, 2) for k, v in summarise_followup(s).items()}
    {'mean': 6.0, 'min': 5.0, 'max': 7.0}
    """
    chosen = filter_population(subjects, population)
    years = compute_duration_years(chosen["TRTSDT"], chosen["EOSDT"])
    return {"mean": float(years.mean()), "min": float(years.min()), "max": float(years.max())}
