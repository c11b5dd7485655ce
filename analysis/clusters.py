"""Disease-activity clusters over time (the paper's Fig. 2F) and their trend tests.

At each report visit (baseline, months 1, 3 and 6, then yearly; :func:`is_report_visit`) a
patient's DAS28-ESR falls in one of four ordered activity categories
(:data:`analysis.endpoints.DAS28_CATEGORIES`: remission < 2.6 <= low <= 3.2 < moderate
<= 5.1 < high, on the score rounded to 2 decimals). The figure stacks the percentage of
patients in each category, per arm and visit, over the patients with a DAS28-ESR at that
visit.

Tests. The paper names a "trend chi-square test" for the clusters and marks three kinds of
contrast (vs the other arm at the same visit; vs the arm's own baseline). With ordered
categories, the test that targets a *shift* along the order is the **linear-by-linear
association test** (Mantel 1963; Agresti, *Categorical Data Analysis*, 2002, sec. 3.4.6):
``M^2 = (N - 1) r^2`` with ``r`` the Pearson correlation of the row and column scores,
referred to chi-square on 1 df. It is what SPSS, the paper's software, prints as
"Linear-by-Linear Association", and for a 2 x k table it is the Cochran-Armitage trend
test in its conditional form. Scores are equally spaced: 0 (remission) to 3 (high) for the
category, 0/1 for the two groups. It is computed by statsmodels'
``Table(counts, shift_zeros=False).test_ordinal_association()`` (whose z-score squared is
``M^2``); ``shift_zeros=False`` keeps statsmodels from adding 0.5 to empty cells.

* **Between arms**, at each visit: MSC+IFNG vs MSC (the paper's "*").
* **Against baseline**, within each arm: the visit vs the arm's baseline (the paper's "#"
  and "&"). The two visits share patients, so this treats paired data as independent, as
  the paper's test does; it is reported for comparability, not as the best paired test.

Conventions: a test on a table with an empty group gives NaN (nothing to compare); a table
whose patients all fall in one category gives p = 1 (no variation, as in
:func:`analysis.efficacy.compare_response_rates`).
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from analysis import efficacy
from analysis.derived import derive_visit_endpoints, derive_visit_subject_rows
from analysis.endpoints import DAS28_CATEGORIES
from analysis.populations import ARMS, filter_population, merge_subject_arm
from analysis.results import make_result


def visit_label(avisitn: int) -> str:
    """Time-point segment of a result key for a nominal visit month.

    Examples
    --------
    >>> [visit_label(m) for m in (0, 3, 12, 36, 42)]
    ['baseline', 'month3', 'year1', 'year3', 'month42']
    """
    avisitn = int(avisitn)
    if avisitn == 0:
        return "baseline"
    return f"year{avisitn // 12}" if avisitn % 12 == 0 else f"month{avisitn}"


def is_report_visit(avisitn: int) -> bool:
    """The visits the clusters are reported at: baseline, the visits of the first year
    (months 1, 3, 6 of the core trials) and then the yearly visits; visits in between (e.g.
    month 18) are left out so that each bar stands for a comparable time point.

    Examples
    --------
    >>> [m for m in (0, 1, 3, 6, 12, 18, 24, 30, 60, 66, 72) if is_report_visit(m)]
    [0, 1, 3, 6, 12, 24, 60, 72]
    """
    return int(avisitn) < 12 or int(avisitn) % 12 == 0


def derive_activity_visits(dataset, population: str = "completers") -> pd.DataFrame:
    """Report visits (:func:`is_report_visit`) of ``population`` with a DAS28-ESR category:
    ``USUBJID``, ``ARM``, ``AVISITN`` (int), ``DAS28CAT`` (ordered categorical)."""
    subjects = filter_population(dataset.subjects, population)[["USUBJID", "ARM"]]
    derived = derive_visit_endpoints(dataset)
    # Rows without a category are dropped before the arm is looked up, not after.
    rated = derived["DAS28CAT"].notna().to_numpy()
    rows = derive_visit_subject_rows(dataset)
    out = merge_subject_arm(derived.loc[rated, ["USUBJID", "AVISITN", "DAS28CAT"]], subjects,
                            None if rows is None else rows[rated])
    out["AVISITN"] = out["AVISITN"].astype(int)
    # Decided once per distinct visit, not once per row.
    report = [visit for visit in out["AVISITN"].unique() if is_report_visit(visit)]
    out = out[out["AVISITN"].isin(report)]
    return out[["USUBJID", "ARM", "AVISITN", "DAS28CAT"]].reset_index(drop=True)


def summarise_activity_clusters(activity: pd.DataFrame) -> pd.DataFrame:
    """Patients per arm x visit x category and their percentage of the arm's patients
    assessed at that visit.

    Columns: ``arm`` (code), ``AVISITN``, ``category``, ``n``, ``total``, ``pct``; every
    category appears (n = 0 included), visits in increasing order.

    Examples
    --------
    >>> a = pd.DataFrame({"ARM": ["MSC"] * 4, "AVISITN": [0, 0, 12, 12],
    ...                   "DAS28CAT": pd.Categorical(["high", "high", "low", "high"],
    ...                                              categories=["remission", "low", "moderate", "high"])})
    >>> summarise_activity_clusters(a).query("AVISITN == 12")[["category", "n", "pct"]]
        category  n   pct
    4  remission  0   0.0
    5        low  1  50.0
    6   moderate  0   0.0
    7       high  1  50.0
    """
    records = []
    arms = activity["ARM"].to_numpy()
    for arm, code in ARMS.items():
        in_arm = activity.loc[arms == arm, ["AVISITN", "DAS28CAT"]]
        # Rows counted per visit and category in one pass (a category's number is its position
        # in DAS28_CATEGORIES; 0 is any other value, which counts in the visit's total only),
        # instead of one selection and one count per visit.
        visit_number, visits = pd.factorize(in_arm["AVISITN"], sort=True)
        category_number = pd.Categorical(in_arm["DAS28CAT"].astype(str), categories=list(DAS28_CATEGORIES)).codes + 1
        width = len(DAS28_CATEGORIES) + 1
        counts = np.bincount(visit_number * width + category_number,
                             minlength=len(visits) * width).reshape(len(visits), width)
        for visit, per_category in zip(visits, counts):
            total = int(per_category.sum())
            for number, category in enumerate(DAS28_CATEGORIES, start=1):
                n = int(per_category[number])
                records.append({"arm": code, "AVISITN": int(visit), "category": category, "n": n,
                                "total": total, "pct": 100.0 * n / total})
    return pd.DataFrame(records, columns=["arm", "AVISITN", "category", "n", "total", "pct"])


def compare_activity(counts_a, counts_b) -> efficacy.ComparisonResult:
    """Linear-by-linear association test of two groups' counts over the ordered categories.

    Parameters
    ----------
    counts_a, counts_b : sequence of int
        Patients per category, lowest activity first.

    Returns
    -------
    ComparisonResult
        ``statistic`` = M^2 = (N - 1) r^2 (chi-square, 1 df) and its two-sided ``p_value``.

    Examples
    --------
    Reference check by hand: scores 0/1 (rows) and 0-3 (columns), N = 39, r = -0.3805, so
    M^2 = 38 x 0.1448 = 5.502 and p = P(chi-square_1 > 5.502) = 0.019:

    >>> r = compare_activity([2, 5, 10, 3], [6, 8, 4, 1])
    >>> round(r.statistic, 3), round(r.p_value, 4)
    (5.502, 0.019)
    >>> compare_activity([0, 0, 3, 0], [0, 0, 5, 0]).p_value, compare_activity([1, 2, 0, 0], [0, 0, 0, 0]).p_value
    (1.0, nan)
    """
    from statsmodels.stats.contingency_tables import Table

    table = np.array([list(counts_a), list(counts_b)], dtype=float)
    test = "linear-by-linear association"
    if (table.sum(axis=1) == 0).any():
        return efficacy.ComparisonResult(float("nan"), float("nan"), test)
    if (table.sum(axis=0) > 0).sum() < 2:
        return efficacy.ComparisonResult(0.0, 1.0, test)
    result = Table(table, shift_zeros=False).test_ordinal_association()
    return efficacy.ComparisonResult(float(result.zscore) ** 2, float(result.pvalue), test)


def tabulate_activity_tests(clusters: pd.DataFrame) -> pd.DataFrame:
    """Every trend test of the figure: between arms at each visit, and each post-baseline
    visit against the arm's baseline.

    Columns: ``comparison`` (``between_arms`` or ``vs_baseline``), ``arm`` (code, empty for
    between arms), ``AVISITN``, ``statistic``, ``p_value``.
    """
    def counts(code: str, visit: int) -> list[int]:
        cell = clusters[(clusters["arm"] == code) & (clusters["AVISITN"] == visit)]
        return [int(cell.loc[cell["category"] == c, "n"].sum()) for c in DAS28_CATEGORIES]

    records = []
    for visit in sorted(clusters["AVISITN"].unique()):
        r = compare_activity(counts("msc", visit), counts("msc_ifng", visit))
        records.append({"comparison": "between_arms", "arm": "", "AVISITN": int(visit),
                        "statistic": r.statistic, "p_value": r.p_value})
        if visit == 0:
            continue
        for code in ARMS.values():
            if not ((clusters["arm"] == code) & (clusters["AVISITN"] == visit)).any():
                continue
            r = compare_activity(counts(code, 0), counts(code, visit))
            records.append({"comparison": "vs_baseline", "arm": code, "AVISITN": int(visit),
                            "statistic": r.statistic, "p_value": r.p_value})
    return pd.DataFrame(records, columns=["comparison", "arm", "AVISITN", "statistic", "p_value"])


def registry_clusters(dataset, population: str = "completers") -> list[dict]:
    """Registry rows of the disease-activity clusters (artefact ``clusters``)."""
    clusters = summarise_activity_clusters(derive_activity_visits(dataset, population))
    rows = []
    for r in clusters.itertuples(index=False):
        base = f"clusters.{r.category}.{r.arm}.{visit_label(r.AVISITN)}"
        rows += [make_result(f"{base}.n", r.n, f"patients in the category ({population})"),
                 make_result(f"{base}.pct", r.pct, "100 * n / patients with a DAS28-ESR at the visit")]
    for r in tabulate_activity_tests(clusters).itertuples(index=False):
        visit = visit_label(r.AVISITN)
        key = (f"clusters.activity.{visit}.p" if r.comparison == "between_arms"
               else f"clusters.activity_vs_baseline.{r.arm}.{visit}.p")
        rows.append(make_result(key, r.p_value, "linear-by-linear association (trend chi-square), two-sided"))
    return rows
