"""Analysis populations and the arm/time-point vocabulary shared by every table.

Populations (paper, Methods, Statistical analysis):

* **safety**: every randomised patient who received the transplant (``TRTSDT`` present);
* **completers**: patients who completed the five-year extension (``EOSSTT == "COMPLETED"``);
  the paper's efficacy tables (Tables 1, 3, 4) use this population;
* **randomised** with non-responder imputation (NRI): every randomised patient, a patient
  without an observed response at a time point (discontinued, or visit missing) counts as a
  non-responder. The paper describes this rule but shows only the completer analysis.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from analysis.contract import ARMS as ARM_VALUES

#: Data value of ``ARM`` (the contract's values, :data:`analysis.contract.ARMS`) -> the arm code
#: used in result keys, in table column order. The one definition of the arm codes.
ARMS: dict[str, str] = dict(zip(ARM_VALUES, ("msc", "msc_ifng"), strict=True))
#: Readable arm labels for tables and figures.
ARM_LABELS: dict[str, str] = {"MSC": "MSCs", "MSC+IFNG": "MSCs + IFN-γ"}
#: Efficacy time points of Tables 3 and 4 -> nominal visit month (AVISITN).
TIMEPOINTS: dict[str, int] = {"year1": 12, "year3": 36, "year5": 60}
#: Mean length of a year in days (Julian year), used for every duration in years.
DAYS_PER_YEAR = 365.25

POPULATIONS = ("safety", "completers", "randomised")
#: Analysis population -> how the book names it.
POPULATION_LABELS: dict[str, str] = {
    "completers": "the patients who completed the five-year follow-up",
    "randomised": "all randomised patients",
    "safety": "all treated patients",
}


def filter_population(subjects: pd.DataFrame, population: str) -> pd.DataFrame:
    """Return the rows of ``subjects`` in an analysis population.

    Parameters
    ----------
    subjects : DataFrame
        The contract's ``subjects`` table (needs ``TRTSDT`` and ``EOSSTT``).
    population : {"safety", "completers", "randomised"}

    Examples
    --------
    >>> s = pd.DataFrame({"USUBJID": ["a", "b", "c"], "EOSSTT": ["COMPLETED", "DISCONTINUED", "COMPLETED"],
    ...                   "TRTSDT": pd.to_datetime(["2017-01-01", "2017-02-01", None])})
    >>> filter_population(s, "completers").USUBJID.tolist()
    ['a']
    >>> filter_population(s, "safety").USUBJID.tolist()
    ['a', 'b']
    """
    if population == "safety":
        return subjects[subjects["TRTSDT"].notna()]
    if population == "completers":
        return subjects[(subjects["EOSSTT"] == "COMPLETED") & subjects["TRTSDT"].notna()]
    if population == "randomised":
        return subjects
    raise ValueError(f"unknown population {population!r}; expected one of {POPULATIONS}")


def compute_duration_years(start: pd.Series, end: pd.Series) -> pd.Series:
    """Duration in years between two date columns: ``(end - start) in days / 365.25``.

    The Julian year (365.25 days) is the convention for patient-years; the paper does not
    state its own. Same-day start and end give 0.

    Examples
    --------
    >>> compute_duration_years(pd.Series(pd.to_datetime(["2016-01-01"])),
    ...                        pd.Series(pd.to_datetime(["2021-01-01"]))).round(4).tolist()
    [5.0021]
    """
    return (end - start).dt.days / DAYS_PER_YEAR


def arm_sizes(subjects: pd.DataFrame) -> dict[str, int]:
    """Number of patients per arm code (``msc``, ``msc_ifng``), zero for an empty arm.

    Examples
    --------
    >>> arm_sizes(pd.DataFrame({"ARM": ["MSC", "MSC", "MSC+IFNG"]}))
    {'msc': 2, 'msc_ifng': 1}
    """
    counts = subjects["ARM"].value_counts()
    return {code: int(counts.get(arm, 0)) for arm, code in ARMS.items()}


def merge_subject_arm(frame: pd.DataFrame, subjects: pd.DataFrame, subject_rows: np.ndarray | None = None) -> pd.DataFrame:
    """``frame``'s rows of the patients in ``subjects``, with their ``ARM`` appended: the result
    of ``frame.merge(subjects[["USUBJID", "ARM"]], on="USUBJID", how="inner")``.

    When ``subjects`` lists each patient once (as the contract requires), each row's patient is
    looked up once in an index of ``subjects`` instead of hash-joining the two id columns: the
    same rows in the same order, and the same columns, at a fraction of the cost on a long
    visits table. Otherwise the merge itself runs.

    ``subject_rows`` (optional) gives, for each row of ``frame``, the index label of its
    patient's row in the subjects table that ``subjects`` was selected from (-1: none), e.g.
    :func:`analysis.derived.derive_visit_subject_rows` for rows of the visits: the patients are
    then found by those integers, without comparing the text ids.

    Examples
    --------
    >>> visits = pd.DataFrame({"USUBJID": ["b", "a", "c", "b"], "AVISITN": [0, 0, 0, 12]})
    >>> subjects = pd.DataFrame({"USUBJID": ["a", "b"], "ARM": ["MSC", "MSC+IFNG"]})
    >>> merge_subject_arm(visits, subjects)
      USUBJID  AVISITN       ARM
    0       b        0  MSC+IFNG
    1       a        0       MSC
    2       b       12  MSC+IFNG
    >>> merge_subject_arm(visits, subjects.iloc[[1]], subject_rows=np.array([1, 0, -1, 1]))
      USUBJID  AVISITN       ARM
    0       b        0  MSC+IFNG
    1       b       12  MSC+IFNG
    """
    if "ARM" in frame.columns:
        return frame.merge(subjects[["USUBJID", "ARM"]], on="USUBJID", how="inner")
    if subject_rows is not None and pd.api.types.is_integer_dtype(subjects.index.dtype) and subjects.index.is_unique:
        labels = subjects.index.to_numpy()
        lookup = np.full(max(int(labels.max(initial=-1)), int(subject_rows.max(initial=-1))) + 1, -1, dtype=np.intp)
        lookup[labels] = np.arange(len(labels))
        position = np.where(subject_rows >= 0, lookup[subject_rows], -1)
    else:
        patients = pd.Index(subjects["USUBJID"])
        if not patients.is_unique:
            return frame.merge(subjects[["USUBJID", "ARM"]], on="USUBJID", how="inner")
        position = patients.get_indexer(frame["USUBJID"])
    found = position >= 0
    out = select_rows(frame, found)
    out["ARM"] = subjects["ARM"].array.take(position[found])
    return out


def select_rows(frame: pd.DataFrame, mask) -> pd.DataFrame:
    """``frame[mask].reset_index(drop=True)`` with one copy of the rows instead of two: the
    rows are taken once and numbered 0, 1, ... (``reset_index`` would copy them again).

    Examples
    --------
    >>> f = pd.DataFrame({"USUBJID": ["a", "b", "c"]}, index=[5, 6, 7])
    >>> select_rows(f, [True, False, True])
      USUBJID
    0       a
    1       c
    """
    out = frame.take(np.flatnonzero(np.asarray(mask, dtype=bool)))
    out.index = pd.RangeIndex(len(out))
    return out


def sort_by_patient(frame: pd.DataFrame, column: str) -> pd.DataFrame:
    """``frame.sort_values(["USUBJID", column], kind="stable")``, without the sort when the
    rows are in that order already (visits are stored by patient and visit): a stable sort of
    rows already in order leaves them as they are, and one pass of comparisons costs far less
    than sorting a long table on its text ids. The result may be ``frame`` itself.

    Examples
    --------
    >>> f = pd.DataFrame({"USUBJID": ["a", "a", "b"], "AVISITN": [1, 2, 1]})
    >>> sort_by_patient(f, "AVISITN") is f
    True
    >>> sort_by_patient(f.iloc[::-1], "AVISITN").index.tolist()
    [0, 1, 2]
    """
    return frame if in_patient_order(frame, column) else frame.sort_values(["USUBJID", column], kind="stable")


def in_patient_order(frame: pd.DataFrame, column: str, strict: bool = False) -> bool:
    """Whether ``frame``'s rows are sorted by ``USUBJID`` then ``column`` (``strict``: with no
    two rows of the same patient and value). Missing values never count as in order.

    Examples
    --------
    >>> f = pd.DataFrame({"USUBJID": ["a", "a", "b"], "AVISITN": [1, 1, 1]})
    >>> in_patient_order(f, "AVISITN"), in_patient_order(f, "AVISITN", strict=True)
    (True, False)
    """
    ids, values = frame["USUBJID"].to_numpy(), frame[column].to_numpy()
    try:
        later = values[1:] > values[:-1] if strict else values[1:] >= values[:-1]
        return bool(((ids[1:] > ids[:-1]) | ((ids[1:] == ids[:-1]) & later)).all())
    except TypeError:  # ids that do not compare (e.g. missing)
        return False

