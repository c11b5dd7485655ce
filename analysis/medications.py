"""Medication use at a time point, from exposure intervals (Table 4).

A patient *uses* a drug class at date ``d`` when one of their intervals of that class covers
it: ``CMSTDT <= d`` and (``CMENDT`` empty, i.e. ongoing, or ``CMENDT >= d``). The date of a time
point is the transplantation date for baseline and the date of the nominal visit
(``AVISITN == 12k``) for year *k*; when that visit is missing, the nominal date
``TRTSDT + round(365.25 k)`` days. Between-arm differences use Fisher's exact test (two-sided,
scipy), as the paper states.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

from analysis.derived import derive_once_per_dataset
from analysis.populations import ARMS, DAYS_PER_YEAR, TIMEPOINTS, filter_population

#: Table 4 rows: row id -> ``CMCLASS``.
TABLE4_DRUGS: dict[str, str] = {"csdmard": "csDMARD", "tsdmard": "tsDMARD", "bdmard": "bDMARD",
                                "prednisone": "PREDNISONE"}
#: Every drug class of the data contract -> ``CMCLASS`` (Table 4's rows plus NSAIDs).
DRUG_CLASSES: dict[str, str] = {**TABLE4_DRUGS, "nsaid": "NSAID"}
#: Table 4 time points -> nominal month (0 = the transplantation date).
TABLE4_TIMEPOINTS: dict[str, int] = {"baseline": 0, **TIMEPOINTS}


def derive_assessment_dates(dataset, population: str = "completers") -> pd.DataFrame:
    """One row per patient x Table 4 time point with the date ``ADT`` at which use is read."""
    subjects = filter_population(dataset.subjects, population)[["USUBJID", "ARM", "TRTSDT"]]
    grid = subjects.merge(pd.DataFrame({"TIMEPOINT": list(TABLE4_TIMEPOINTS),
                                        "AVISITN": list(TABLE4_TIMEPOINTS.values())}), how="cross")
    grid["AVISITN"] = grid["AVISITN"].astype("Int64")
    visits = dataset.visits[["USUBJID", "AVISITN", "ADT"]]
    # Only the visits of the time points can match: the merge then hashes a fraction of the rows.
    visits = visits[visits["AVISITN"].isin(list(TABLE4_TIMEPOINTS.values()))]
    grid = grid.merge(visits, on=["USUBJID", "AVISITN"], how="left")
    nominal = grid["TRTSDT"] + pd.to_timedelta(np.round(grid["AVISITN"].astype(float) / 12 * DAYS_PER_YEAR), unit="D")
    grid["ADT"] = grid["ADT"].where(grid["AVISITN"] > 0, grid["TRTSDT"]).fillna(nominal)
    return grid.drop(columns="TRTSDT")


@derive_once_per_dataset
def derive_medication_use(dataset, population: str = "completers") -> pd.DataFrame:
    """Add one boolean column per drug class (``USE_<drug>``, :data:`DRUG_CLASSES`) to the
    assessment-date grid.

    Examples
    --------
    >>> from types import SimpleNamespace
    >>> d = pd.to_datetime
    >>> ds = SimpleNamespace(
    ...     subjects=pd.DataFrame({"USUBJID": ["a"], "ARM": ["MSC"], "TRTSDT": d(["2017-01-10"]),
    ...                            "EOSSTT": ["COMPLETED"]}),
    ...     visits=pd.DataFrame({"USUBJID": ["a"], "AVISITN": pd.array([12], dtype="Int64"),
    ...                          "ADT": d(["2018-01-12"])}),
    ...     medications=pd.DataFrame({"USUBJID": ["a"], "CMCLASS": ["PREDNISONE"],
    ...                               "CMSTDT": d(["2015-05-01"]), "CMENDT": d(["2017-06-30"])}))
    >>> derive_medication_use(ds).set_index("TIMEPOINT").USE_prednisone[["baseline", "year1"]].tolist()
    [True, False]
    """
    grid = derive_assessment_dates(dataset, population)
    meds = dataset.medications[["USUBJID", "CMCLASS", "CMSTDT", "CMENDT"]]
    # Each grid row (one per patient and time point: patients and their visits are unique in a
    # validated dataset) against each interval of that patient, carrying the row's position so
    # that use is marked on the row itself, without matching (USUBJID, TIMEPOINT) keys again.
    pairs = grid[["USUBJID", "ADT"]].assign(_ROW=np.arange(len(grid))).merge(meds, on="USUBJID", how="inner")
    covered = (pairs["CMSTDT"] <= pairs["ADT"]) & (pairs["CMENDT"].isna() | (pairs["CMENDT"] >= pairs["ADT"]))
    rows = pairs.loc[covered, "_ROW"].to_numpy()
    # The class of each covering interval as a number (one pass over the text, not one per class).
    classes = pd.Categorical(pairs.loc[covered, "CMCLASS"], categories=list(DRUG_CLASSES.values())).codes
    for number, drug in enumerate(DRUG_CLASSES):
        used = np.zeros(len(grid), dtype=bool)
        used[rows[classes == number]] = True
        grid[f"USE_{drug}"] = used
    return grid


def compare_use(users_a: int, n_a: int, users_b: int, n_b: int) -> float:
    """Two-sided Fisher exact p-value of a 2x2 table of users/non-users by arm.

    Examples
    --------
    >>> round(compare_use(69, 69, 26, 28), 3), round(compare_use(0, 69, 0, 28), 3)
    (0.081, 1.0)
    """
    table = [[users_a, n_a - users_a], [users_b, n_b - users_b]]
    return float(stats.fisher_exact(table, alternative="two-sided").pvalue)


def tabulate_medication_use(use: pd.DataFrame) -> pd.DataFrame:
    """Table 4 as a tidy frame: ``drug``, ``timepoint``, ``arm``, ``n`` (arm size), ``users``,
    ``pct``, and the Fisher ``p_value`` of that drug and time point on both arm rows."""
    # The rows of each time point and arm are found once for all drugs: comparing the text
    # columns of the grid is most of this table's cost on a large cohort.
    at = {timepoint: use["TIMEPOINT"] == timepoint for timepoint in TABLE4_TIMEPOINTS}
    in_arm = {arm: use["ARM"] == arm for arm in ARMS}
    at_arm = {(timepoint, arm): at[timepoint] & in_arm[arm] for timepoint in TABLE4_TIMEPOINTS for arm in ARMS}
    records = []
    for drug in TABLE4_DRUGS:
        for timepoint in TABLE4_TIMEPOINTS:
            counts = {}
            for arm, code in ARMS.items():
                flags = use.loc[at_arm[timepoint, arm], f"USE_{drug}"]
                counts[code] = (int(flags.sum()), len(flags))
            p = compare_use(*counts["msc"], *counts["msc_ifng"])
            for code, (users, n) in counts.items():
                records.append({"drug": drug, "timepoint": timepoint, "arm": code, "n": n, "users": users,
                                "pct": 100.0 * users / n if n else np.nan, "p_value": p})
    return pd.DataFrame(records)
