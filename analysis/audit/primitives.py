"""Shared primitives of the consistency audit: statuses, constants, the arithmetic of printed
numbers (GRIM, GRIMMER, SDs of percentages, tests from printed counts) and the check-row helpers."""
from __future__ import annotations

import math
import re
from typing import NamedTuple

import pandas as pd
from scipy import stats

from analysis.populations import ARMS as ARM_CODES
from analysis.published import parse_printed_value
from analysis.verify import FLOAT_SLACK, is_reproduced, prints_as, tolerance

CONSISTENT = "consistent"
INCONSISTENT = "inconsistent"
UNDECIDABLE = "undecidable"
#: The three statuses of a check.
STATUSES = (CONSISTENT, INCONSISTENT, UNDECIDABLE)

#: Columns of :func:`audit_published`'s result.
AUDIT_COLUMNS = ("check_id", "family", "keys", "status", "evidence")

#: Families of checks, in the order :func:`audit_published` runs them.
FAMILIES = (
    "grim_percent",
    "sd_of_percent",
    "event_rates",
    "fisher_table4",
    "table3_markers",
    "grim_mean",
    "cross_artefact",
    "nesting",
)

#: Arm segments of registry keys, the codes of :data:`analysis.populations.ARMS` (``total`` is
#: pooled and handled separately).
ARMS = tuple(ARM_CODES.values())

#: Threshold of the Table 3 footnote (the asterisk means P < 0.001 versus MSC monotherapy).
#: Kept here rather than imported from :mod:`analysis.efficacy` so the audit does not depend
#: on the dataset-side code.
MARKER_ALPHA = 0.001
#: The Methods' overall significance level, used as a secondary reading of the markers.
SECONDARY_ALPHA = 0.05

#: Binary (response-rate) endpoints of Table 3.
RESPONSE_ENDPOINTS = ("das28_remission", "das28_lda", "acr20", "acr50", "acr70")
#: Change-score endpoints of Table 3.
CHANGE_ENDPOINTS = ("delta_das28_esr", "delta_haq_di")
#: Candidate tests for a 2x2 table of responders, in the order they are reported.
PROPORTION_TESTS = ("chi2", "fisher", "chi2_yates")
#: Candidate tests for two means given as mean, SD and N.
MEAN_TESTS = ("student_t", "welch_t")
#: Human-readable names of the candidate tests.
TEST_NAMES = {
    "chi2": "Pearson chi-square without continuity correction",
    "fisher": "two-sided Fisher exact",
    "chi2_yates": "chi-square with Yates correction",
    "student_t": "Student t-test",
    "welch_t": "Welch t-test",
}

#: Short names of the candidate tests, used in the evidence sentences.
SHORT_NAMES = {
    "chi2": "chi-square",
    "fisher": "Fisher",
    "chi2_yates": "Yates chi-square",
    "student_t": "Student t",
    "welch_t": "Welch t",
}

#: Table 2 rows printed under a parent row. The SAE list is every category printed under the
#: SAE row at the top level (autoimmune disorders and infections carry their own sub-rows);
#: the "at least one AE" list is every non-serious row printed above the SAE row.
TABLE2_SUBROWS = {
    "sae_autoimmune": ("sae_sle", "sae_sjogren"),
    "sae_infections": ("sae_pneumonia", "sae_tuberculosis"),
    "sae": (
        "sae_autoimmune", "sae_infections", "sae_hypertension", "sae_diabetes_t2",
        "sae_malignancy", "sae_cerebral_infarction", "sae_gvhd", "death",
    ),
    "any_ae": (
        "lymphocyte_count_decreased", "fever_chills", "covid19", "hyperglycemia",
        "hyperlipidemia", "gastrointestinal_disorders",
    ),
}

#: Means checked by GRIM: (artefact, item) -> (granularity of one patient's value, how the
#: evidence names it). Age in whole years; ESR in whole mm/h (a Westergren reading is a whole
#: number of millimetres); HAQ-DI is the mean of 8 category scores 0-3, so a multiple of 1/8,
#: and so is a change in HAQ-DI; CRP as laboratories usually report it, in tenths of mg/L;
#: disease duration at best in whole months. DAS28-ESR has no grid (it has logarithm and
#: square-root terms): ``None``, always undecidable.
GRIM_ITEMS = {
    ("table1", "age"): (1.0, "whole years"),
    ("table1", "ra_duration"): (1 / 12, "whole months"),
    ("table1", "das28_esr"): (None, "a continuous score"),
    ("table1", "haq_di"): (0.125, "multiples of 0.125"),
    ("table1", "esr"): (1.0, "whole mm/h"),
    ("table1", "crp"): (0.1, "tenths of mg/L"),
    ("table3", "delta_haq_di"): (0.125, "multiples of 0.125"),
}

#: Table 1 medication-history rows and the Table 4 drug class they correspond to (the Table 1
#: row labelled "DMARDs" is compared with Table 4's csDMARDs; NSAIDs have no Table 4 row).
MEDICATION_PAIRS = {"hx_csdmard": "csdmard", "hx_bdmard": "bdmard", "hx_prednisone": "prednisone"}

#: Restatements whose key differs from the table key they restate.
RESTATED_ELSEWHERE = {
    "abstract.treated.total.n": "disposition.randomised.total.n",
    "discussion.retention.total.pct": "disposition.completed.total.pct",
}


class ComparisonResult(NamedTuple):
    """A statistical test's result, named as scipy and lifelines name theirs."""

    statistic: float
    p_value: float
    test: str

    __test__ = False  # a result, not a pytest test class (silences the collection warning)




def compute_tolerance(decimals: int) -> float:
    """Largest rounding error of a value printed with ``decimals`` digits, plus float slack:
    the bound of :func:`analysis.verify.prints_as`, the rule ``make verify`` applies.

    Examples
    --------
    >>> compute_tolerance(1)
    0.050000001
    """
    return tolerance(decimals) + FLOAT_SLACK


#: Whether a computed p-value agrees with a printed one (``=``, ``<`` bound or ``>`` bound): the
#: comparison ``make verify`` makes, under the audit's name.
meets_printed_p = is_reproduced


def compute_matching_counts(pct: float, decimals: int, n: int) -> list[int]:
    """Whole counts ``k`` (0 <= k <= n) whose percentage ``100 k / n`` prints as ``pct``.

    The GRIM test for a percentage (Brown & Heathers 2017): an empty list means no count of
    ``n`` patients gives the printed percentage.

    Examples
    --------
    >>> compute_matching_counts(2.9, 1, 69)
    [2]
    >>> compute_matching_counts(50.0, 1, 7)
    []
    """
    return [k for k in range(int(n) + 1) if prints_as(100 * k / n, pct, decimals)]


def compute_percentage_sd(k: int, n: int, ddof: int = 0) -> float:
    """SD, in percentage points, of a 0/1 variable with ``k`` ones among ``n``.

    ``ddof=0`` gives the population SD ``100 sqrt(p (1 - p))``; ``ddof=1`` the sample SD
    ``100 sqrt(p (1 - p) n / (n - 1))``.

    Examples
    --------
    >>> round(compute_percentage_sd(2, 69), 2), round(compute_percentage_sd(2, 69, ddof=1), 2)
    (16.78, 16.9)
    """
    p = k / n
    return 100 * math.sqrt(p * (1 - p) * n / (n - ddof))


def compare_proportions(a: int, n_a: int, b: int, n_b: int, test: str) -> ComparisonResult:
    """Two-sided test of ``a/n_a`` against ``b/n_b`` by one of :data:`PROPORTION_TESTS`.

    ``chi2`` is Pearson's chi-square without continuity correction, ``chi2_yates`` with
    Yates' correction (both ``scipy.stats.chi2_contingency``), ``fisher`` is
    ``scipy.stats.fisher_exact`` (two-sided). A table with an empty margin has nothing to test
    and gets ``p = 1``.

    Examples
    --------
    >>> r = compare_proportions(2, 69, 7, 28, "chi2")
    >>> round(r.statistic, 2), round(r.p_value, 5)
    (11.56, 0.00067)
    >>> round(compare_proportions(2, 69, 7, 28, "fisher").p_value, 4)
    0.0021
    """
    table = [[a, n_a - a], [b, n_b - b]]
    if test not in PROPORTION_TESTS:
        raise ValueError(f"unknown test {test!r}; expected one of {PROPORTION_TESTS}")
    if min(a + b, n_a + n_b - a - b, n_a, n_b) == 0:
        return ComparisonResult(0.0, 1.0, test)
    if test == "fisher":
        statistic, p = stats.fisher_exact(table, alternative="two-sided")
    else:
        statistic, p, _dof, _expected = stats.chi2_contingency(table, correction=test == "chi2_yates")
    return ComparisonResult(float(statistic), float(p), test)


def compare_means_from_stats(mean_a: float, sd_a: float, n_a: int, mean_b: float, sd_b: float,
                             n_b: int, test: str) -> ComparisonResult:
    """Two-sample t-test from summary statistics (``scipy.stats.ttest_ind_from_stats``).

    ``test`` is ``student_t`` (pooled variance) or ``welch_t`` (unequal variances). The SDs
    are taken as sample SDs.

    Examples
    --------
    >>> r = compare_means_from_stats(-1.34, 0.93, 69, -2.64, 0.48, 28, "student_t")
    >>> round(r.statistic, 2), r.p_value < 1e-9
    (7.01, True)
    """
    if test not in MEAN_TESTS:
        raise ValueError(f"unknown test {test!r}; expected one of {MEAN_TESTS}")
    statistic, p = stats.ttest_ind_from_stats(mean_a, sd_a, n_a, mean_b, sd_b, n_b,
                                              equal_var=test == "student_t")
    return ComparisonResult(float(statistic), float(p), test)


def compute_grim_sums(mean: float, decimals: int, n: int, step: float = 1.0) -> list[int] | None:
    """Whole multiples ``m`` of ``step`` whose mean ``m * step / n`` prints as ``mean``.

    GRIM for means (Brown & Heathers 2017): if every patient's value is a multiple of
    ``step``, the total is ``m * step`` for a whole ``m``. Returns ``None`` when the test
    cannot fail: the granularity ``step / n`` is no larger than the printing step
    ``10**-decimals``, so every printed mean is reachable.

    Examples
    --------
    >>> compute_grim_sums(45.87, 2, 69)
    [3165]
    >>> compute_grim_sums(46.59, 2, 28)
    []
    >>> compute_grim_sums(46.7, 1, 69) is None
    True
    """
    if step / n <= 10.0 ** -decimals + 1e-12:
        return None
    centre = round(mean * n / step)
    return [m for m in range(centre - 2, centre + 3) if prints_as(m * step / n, mean, decimals)]


def compute_grimmer_sums_of_squares(total: int, n: int, sd: float, sd_decimals: int) -> list[int]:
    """Whole sums of squares compatible with integer data of sum ``total`` and printed ``sd``.

    GRIMMER (Anaya 2016): for integer values the sum of squares ``Q`` is a whole number with
    the parity of ``total`` (``x**2`` and ``x`` have the same parity), and the sample SD is
    ``sqrt((Q - total**2 / n) / (n - 1))``. Returns every such ``Q`` whose SD prints as
    ``sd``.

    Examples
    --------
    >>> compute_grimmer_sums_of_squares(10, 4, 1.29, 2)   # 1, 2, 3, 4: Q = 30, SD 1.291
    [30]
    >>> compute_grimmer_sums_of_squares(10, 4, 1.20, 2)
    []
    """
    half = compute_tolerance(sd_decimals)
    low = (n - 1) * max(sd - half, 0.0) ** 2 + total**2 / n
    high = (n - 1) * (sd + half) ** 2 + total**2 / n
    candidates = range(math.ceil(low - 1e-9), math.floor(high + 1e-9) + 1)
    return [q for q in candidates if (q - total) % 2 == 0 and q * n >= total**2
            and prints_as(math.sqrt((q - total**2 / n) / (n - 1)), sd, sd_decimals)]


def tabulate_printed_values(values: dict[str, str]) -> pd.DataFrame:
    """A minimal registry frame (``key``, ``value``, ``number``, ``comparison``, ``decimals``)
    from printed values, for trying the audit on hand-built inputs.

    Examples
    --------
    >>> tabulate_printed_values({"table4.prednisone.year1.p": "<0.001"})
                             key   value  number comparison  decimals
    0  table4.prednisone.year1.p  <0.001   0.001          <         3
    """
    rows = []
    for key, value in values.items():
        comparison, number, decimals = parse_printed_value(value)
        rows.append({"key": key, "value": value, "number": number, "comparison": comparison,
                     "decimals": decimals})
    return pd.DataFrame(rows, columns=["key", "value", "number", "comparison", "decimals"])




class _Printed:
    """Printed values of a registry frame by key (needs key, value, number, comparison,
    decimals)."""

    def __init__(self, published: pd.DataFrame) -> None:
        self.keys = list(published["key"])
        self.number = dict(zip(published["key"], published["number"].astype(float)))
        self.decimals = dict(zip(published["key"], published["decimals"].astype(int)))
        self.comparison = dict(zip(published["key"], published["comparison"]))
        self.value = dict(zip(published["key"], published["value"]))

    def __contains__(self, key: str) -> bool:
        return key in self.number

    def __getitem__(self, key: str) -> float:
        return self.number[key]

    def has(self, *keys: str) -> bool:
        return all(k in self.number for k in keys)

    def count(self, key: str) -> int:
        return int(round(self.number[key]))

    def matching(self, pattern: str) -> list[re.Match]:
        regex = re.compile(pattern)
        return [m for m in (regex.fullmatch(k) for k in self.keys) if m]


def _row(check_id: str, family: str, keys, status: str, evidence: str) -> dict:
    assert status in STATUSES, status
    return {"check_id": check_id, "family": family, "keys": ";".join(keys), "status": status,
            "evidence": evidence}


def _frame(rows: list[dict]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=list(AUDIT_COLUMNS))


def _fmt(x: float, decimals: int) -> str:
    return f"{x:.{max(int(decimals), 0)}f}"


def _fmt_step(step: float) -> str:
    return "(1/12)" if abs(step - 1 / 12) < 1e-12 else f"{step:g}"


def _p(p: float) -> str:
    """A p-value with two significant digits."""
    return f"{p:.2g}"


def _p4(p: float) -> str:
    """A p-value with four decimals, or two significant digits below 0.0001."""
    return f"{p:.4f}" if p >= 1e-4 else _p(p)


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def _status(ok: bool) -> str:
    return CONSISTENT if ok else INCONSISTENT


def _arm_sum_rows(printed: _Printed, pattern: str, check_prefix: str, family: str, describe) -> list[dict]:
    """One check per printed pooled count matching ``pattern`` (group ``item``): it must equal
    the sum over the arms of Table 2's ``<item>`` events. ``describe(key, item, ok, parts)``
    writes the evidence."""
    rows = []
    for m in printed.matching(pattern):
        key, item = m.group(0), m["item"]
        arm_keys = [f"table2.{item}.{arm}.events" for arm in ARMS]
        if not printed.has(*arm_keys):
            continue
        parts = [printed.count(k) for k in arm_keys]
        ok = printed.count(key) == sum(parts)
        rows.append(_row(f"{check_prefix}.{key}", family, [key, *arm_keys], _status(ok), describe(key, item, ok, parts)))
    return rows


def _reconstruct_count(printed: _Printed, pct_key: str, n: int) -> list[int]:
    return compute_matching_counts(printed[pct_key], printed.decimals[pct_key], n)
