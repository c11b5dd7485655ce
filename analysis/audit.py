"""Consistency audit of the published numbers, computed from the published registry alone.

Every number that Yang, He et al. (2025) print about their patients is in the registry
(``data/published``, read by :func:`analysis.published.load_published`). This module checks
that these numbers agree with one another: a percentage against its count and denominator, a
rate against its events and patient-years, a table's sub-rows against its totals, a p-value
against the counts it was computed from, a text value against its table. No dataset is
needed, so the audit says what an honest dataset can and cannot reproduce.

:func:`audit_published` returns one row per check, with columns

``check_id``
    stable identifier, ``<check>.<registry key or cell>`` (e.g. ``grim.table1.female.msc.pct``);
``family``
    one of :data:`FAMILIES`;
``keys``
    the registry keys the check reads, ``;``-joined;
``status``
    ``consistent``, ``inconsistent`` or ``undecidable`` (the printed numbers cannot settle
    the question, e.g. a GRIM test whose granularity is finer than the printing step);
``evidence``
    one sentence with the numbers.

Families, each computed by its own ``audit_*`` function:

``grim_percent``
    :func:`audit_grim_percentages` -- percentages against counts and denominators.
``sd_of_percent``
    :func:`audit_percentage_sds` -- which SD formula reproduces Table 3's "SD" of a percentage.
``event_rates``
    :func:`audit_event_rates` -- Table 2 rates, sub-rows and totals; text rates and totals.
``fisher_table4``
    :func:`audit_fisher_table4` -- Table 4 p-values against a two-sided Fisher exact test.
``table3_markers``
    :func:`audit_table3_markers` -- which test reproduces Table 3's significance markers.
``grim_mean``
    :func:`audit_grim_means` -- means of integer or discretised data against N (GRIM,
    GRIMMER).
``cross_artefact``
    :func:`audit_cross_artefact` -- Table 1 vs Table 4, text vs tables, patient flow.
``nesting``
    :func:`audit_response_nesting` -- nested response criteria within Table 3 (ACR70 <= ACR50
    <= ACR20, remission <= low disease activity).

Rounding convention: a computed value ``x`` "prints as" a printed value ``v`` with ``d``
decimals when ``|x - v| <= 0.5 * 10**-d`` (plus 1e-9 of float slack), i.e. either rounding
direction of an exact tie is accepted. A printed bound (``<0.001``, ``>0.999``) is met when the
computed value is strictly beyond it.

References: Brown & Heathers (2017), *Soc Psychol Personal Sci* 8:363 (GRIM); Anaya (2016),
*PeerJ Preprints* 4:e2400v1 (GRIMMER).
"""
from __future__ import annotations

import math
import re
from typing import NamedTuple

import pandas as pd
from scipy import stats

from analysis.populations import ARMS as ARM_CODES
from analysis.published import parse_printed_value
from analysis.verify import FLOAT_SLACK, prints_as, tolerance

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


# ----------------------------------------------------------------------------- primitives


def compute_tolerance(decimals: int) -> float:
    """Largest rounding error of a value printed with ``decimals`` digits, plus float slack:
    the bound of :func:`analysis.verify.prints_as`, the rule ``make verify`` applies.

    Examples
    --------
    >>> compute_tolerance(1)
    0.050000001
    """
    return tolerance(decimals) + FLOAT_SLACK


def meets_printed_p(p_value: float, number: float, comparison: str, decimals: int) -> bool:
    """Whether a computed p-value agrees with a printed one (``=``, ``<`` bound or ``>`` bound).

    Examples
    --------
    >>> meets_printed_p(0.0806, 0.081, "=", 3), meets_printed_p(1.0, 0.999, ">", 3)
    (True, True)
    >>> meets_printed_p(0.0021, 0.001, "<", 3)
    False
    """
    if comparison == "<":
        return p_value < number
    if comparison == ">":
        return p_value > number
    return prints_as(p_value, number, decimals)


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


# ----------------------------------------------------------------------------- helpers


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


def _reconstruct_count(printed: _Printed, pct_key: str, n: int) -> list[int]:
    return compute_matching_counts(printed[pct_key], printed.decimals[pct_key], n)


# ----------------------------------------------------------------------------- family 1


def _percent_denominator(printed: _Printed, key: str) -> str | None:
    parts = key.split(".")
    if len(parts) < 4:
        return None
    artefact, arm = parts[0], parts[2]
    if artefact in ("table1", "table3", "table4") and arm in ARMS:
        return f"{artefact}.n.{arm}"
    if artefact in ("abstract", "text", "discussion") and arm in ARMS:
        if "table3." + key.split(".", 1)[1] in printed:
            return f"table3.n.{arm}"
    if arm == "total" and "disposition.randomised.total.n" in printed:
        return "disposition.randomised.total.n"
    return None


def audit_grim_percentages(published: pd.DataFrame) -> pd.DataFrame:
    """GRIM for percentages: every printed percentage against its count and denominator.

    For each registry key ending in ``.pct``:

    * the denominator is the arm's N of the same table (``table1.n.<arm>``,
      ``table3.n.<arm>``, ``table4.n.<arm>``); for a percentage restated in the abstract,
      Results or Discussion, the N of the table it restates (Table 3); for a pooled
      (``total``) percentage, the 110 randomised patients (``disposition.randomised.total.n``);
    * the count is the sibling key with stat ``n`` or ``patients``. With a count, the check
      is ``100 * count / N`` prints as the percentage; without one (Table 1 RF/ACPA, Table 3),
      it is that some whole count ``k`` of ``N`` does (:func:`compute_matching_counts`).

    A percentage with no resolvable denominator is ``undecidable``.

    Parameters
    ----------
    published : pandas.DataFrame
        Registry rows with ``key``, ``number``, ``comparison`` and ``decimals``
        (:func:`analysis.published.load_published`, or :func:`tabulate_printed_values`).

    Returns
    -------
    pandas.DataFrame
        Audit rows (:data:`AUDIT_COLUMNS`), family ``grim_percent``, check id
        ``grim.<percentage key>``.

    Examples
    --------
    >>> reg = tabulate_printed_values({"table1.n.msc": "69", "table1.female.msc.n": "59",
    ...     "table1.female.msc.pct": "85.5", "table1.rf_positive.msc.pct": "95.8"})
    >>> for r in audit_grim_percentages(reg).itertuples():
    ...     print(r.check_id, r.status, "|", r.evidence)
    grim.table1.female.msc.pct consistent | 59/69 = 85.507% prints as 85.5
    grim.table1.rf_positive.msc.pct inconsistent | no whole count of 69 gives 95.8 (66/69 = 95.652%, 67/69 = 97.101%)
    """
    printed = _Printed(published)
    rows = []
    for key in printed.keys:
        if not key.endswith(".pct"):
            continue
        pct, d = printed[key], printed.decimals[key]
        check_id = f"grim.{key}"
        denominator = _percent_denominator(printed, key)
        if denominator is None or denominator not in printed:
            rows.append(_row(check_id, "grim_percent", [key], UNDECIDABLE,
                             f"no denominator printed for {printed.value[key]}%"))
            continue
        n = printed.count(denominator)
        count_key = next((key[:-len("pct")] + s for s in ("n", "patients")
                          if key[:-len("pct")] + s in printed), None)
        if count_key is not None:
            k = printed.count(count_key)
            ok = prints_as(100 * k / n, pct, d)
            rows.append(_row(check_id, "grim_percent", [key, count_key, denominator], _status(ok),
                             f"{k}/{n} = {_fmt(100 * k / n, d + 2)}% "
                             f"{'prints' if ok else 'does not print'} as {printed.value[key]}"))
            continue
        ks = compute_matching_counts(pct, d, n)
        if len(ks) == 1:
            evidence = f"k = {ks[0]} of {n} gives {_fmt(100 * ks[0] / n, d + 2)}%, printed {printed.value[key]}"
        elif ks:
            evidence = f"k in {ks} of {n} all print as {printed.value[key]}"
        else:
            lo = math.floor(pct * n / 100)
            near = ", ".join(f"{k}/{n} = {_fmt(100 * k / n, d + 2)}%" for k in (lo, lo + 1) if 0 <= k <= n)
            evidence = f"no whole count of {n} gives {printed.value[key]} ({near})"
        rows.append(_row(check_id, "grim_percent", [key, denominator], _status(bool(ks)), evidence))
    return _frame(rows)


# ----------------------------------------------------------------------------- family 2


def audit_percentage_sds(published: pd.DataFrame) -> pd.DataFrame:
    """Which formula reproduces the "SD" printed beside each Table 3 percentage.

    The count ``k`` of each cell is reconstructed from the percentage and the arm's N
    (:func:`compute_matching_counts`; a cell whose count is not unique is ``undecidable``).
    Two candidates are compared at the printed precision (:func:`compute_percentage_sd`):

    * population SD of the 0/1 response, ``100 sqrt(p (1 - p))`` (denominator ``n``);
    * sample SD, ``100 sqrt(p (1 - p) n / (n - 1))`` (denominator ``n - 1``).

    A cell is ``consistent`` when at least one formula reproduces it. One summary row,
    ``sd_formula.table3.summary``, names the formula(s) that reproduce every cell; it is
    ``inconsistent`` when no single formula does.

    Parameters
    ----------
    published : pandas.DataFrame
        Registry rows with ``key``, ``number``, ``comparison`` and ``decimals``.

    Returns
    -------
    pandas.DataFrame
        Audit rows, family ``sd_of_percent``, check ids ``sd_formula.<sd key>`` and the
        summary.

    Examples
    --------
    >>> reg = tabulate_printed_values({"table3.n.msc": "69", "table3.acr70.msc.year3.pct": "2.9",
    ...                                "table3.acr70.msc.year3.sd": "16.8"})
    >>> for r in audit_percentage_sds(reg).itertuples():
    ...     print(r.check_id, r.status, "|", r.evidence)
    sd_formula.table3.acr70.msc.year3.sd consistent | k = 2 of 69: population SD 16.78 prints as 16.8; sample SD 16.90 does not
    sd_formula.table3.summary consistent | population SD 100*sqrt(p(1-p)) reproduces 1 of 1 cells; sample SD (n-1 denominator) reproduces 0 of 1
    """
    printed = _Printed(published)
    rows = []
    matches = {"population": 0, "sample": 0}
    cells = []
    for m in printed.matching(r"table3\.(?P<item>[a-z0-9_]+)\.(?P<arm>msc|msc_ifng)\.(?P<t>year\d)\.sd"):
        key = m.group(0)
        pct_key = key[:-len("sd")] + "pct"
        n_key = f"table3.n.{m['arm']}"
        if not printed.has(pct_key, n_key):
            continue
        n = printed.count(n_key)
        ks = _reconstruct_count(printed, pct_key, n)
        keys = [key, pct_key, n_key]
        check_id = f"sd_formula.{key}"
        if len(ks) != 1:
            rows.append(_row(check_id, "sd_of_percent", keys, UNDECIDABLE,
                             f"the percentage {printed.value[pct_key]} does not fix one count of {n} ({ks})"))
            continue
        k, sd, d = ks[0], printed[key], printed.decimals[key]
        cells.append(key)
        found = {}
        for name, ddof in (("population", 0), ("sample", 1)):
            value = compute_percentage_sd(k, n, ddof)
            found[name] = (value, prints_as(value, sd, d))
            matches[name] += found[name][1]
        pop, samp = found["population"], found["sample"]
        evidence = (f"k = {k} of {n}: population SD {_fmt(pop[0], d + 1)} "
                    f"{'prints' if pop[1] else 'does not print'} as {printed.value[key]}; "
                    f"sample SD {_fmt(samp[0], d + 1)} {'also does' if samp[1] else 'does not'}")
        if pop[1] and samp[1]:
            evidence = (f"k = {k} of {n}: population SD {_fmt(pop[0], d + 1)} and sample SD "
                        f"{_fmt(samp[0], d + 1)} both print as {printed.value[key]}")
        elif samp[1]:
            evidence = (f"k = {k} of {n}: sample SD {_fmt(samp[0], d + 1)} prints as "
                        f"{printed.value[key]}; population SD {_fmt(pop[0], d + 1)} does not")
        rows.append(_row(check_id, "sd_of_percent", keys, _status(pop[1] or samp[1]), evidence))
    if cells:
        total = len(cells)
        all_fit = [name for name, hits in matches.items() if hits == total]
        evidence = (f"population SD 100*sqrt(p(1-p)) reproduces {matches['population']} of {total} cells; "
                    f"sample SD (n-1 denominator) reproduces {matches['sample']} of {total}")
        rows.append(_row("sd_formula.table3.summary", "sd_of_percent", cells,
                         _status(bool(all_fit)), evidence))
    return _frame(rows)


def identify_percentage_sd_formula(published: pd.DataFrame) -> list[str]:
    """Names of the SD formulas (``population``, ``sample``) that reproduce every Table 3
    percentage SD at its printed precision.

    Examples
    --------
    >>> from analysis.published import load_published
    >>> identify_percentage_sd_formula(load_published())
    ['population']
    """
    printed = _Printed(published)
    fits = {"population": True, "sample": True}
    for m in printed.matching(r"table3\.[a-z0-9_]+\.(?P<arm>msc|msc_ifng)\.year\d\.sd"):
        key = m.group(0)
        pct_key = key[:-len("sd")] + "pct"
        if pct_key not in printed:
            continue
        n = printed.count(f"table3.n.{m['arm']}")
        ks = _reconstruct_count(printed, pct_key, n)
        if len(ks) != 1:
            return []
        for name, ddof in (("population", 0), ("sample", 1)):
            fits[name] &= prints_as(compute_percentage_sd(ks[0], n, ddof), printed[key], printed.decimals[key])
    return [name for name, ok in fits.items() if ok]


# ----------------------------------------------------------------------------- family 3


def audit_event_rates(published: pd.DataFrame) -> pd.DataFrame:
    """Event rates against events and patient-years; Table 2 sub-rows against their totals.

    Checks (rate = ``100 * events / PY``, at the printed precision):

    ``rate.table2.<row>.<arm>``
        every Table 2 rate against the row's events and the arm's PY;
    ``rate.<text key>``
        every abstract/Results/Discussion rate of one arm against the Table 2 events and PY of
        the row it restates, at the text's own precision;
    ``subtotal.table2.<parent>.<arm>``
        the parent row's events against the sum of the rows printed under it
        (:data:`TABLE2_SUBROWS`). For "at least one AE" the evidence also says whether the
        number can be a patient count (it cannot when it exceeds the arm's N);
    ``total.<text key>``
        a pooled event count in the text against the sum of the arms' Table 2 events.

    Parameters
    ----------
    published : pandas.DataFrame
        Registry rows with ``key``, ``number``, ``comparison`` and ``decimals``.

    Returns
    -------
    pandas.DataFrame
        Audit rows, family ``event_rates``.

    Examples
    --------
    >>> reg = tabulate_printed_values({"table2.py.msc": "445.15", "table2.sae.msc.events": "11",
    ...     "table2.sae.msc.rate": "2.47", "table2.sae_autoimmune.msc.events": "2",
    ...     "table2.sae_sle.msc.events": "0", "table2.sae_sjogren.msc.events": "2"})
    >>> for r in audit_event_rates(reg).itertuples():
    ...     print(r.check_id, r.status, "|", r.evidence)
    rate.table2.sae.msc consistent | 100 x 11/445.15 PY = 2.4711 prints as 2.47
    subtotal.table2.sae_autoimmune.msc consistent | 2 events = 0 + 2 (sae_sle + sae_sjogren)
    """
    printed = _Printed(published)
    rows = []
    for m in printed.matching(r"table2\.(?P<item>[a-z0-9_]+)\.(?P<arm>msc|msc_ifng)\.rate"):
        key, item, arm = m.group(0), m["item"], m["arm"]
        events_key, py_key = f"table2.{item}.{arm}.events", f"table2.py.{arm}"
        if not printed.has(events_key, py_key):
            continue
        rows.append(_rate_row(printed, f"rate.table2.{item}.{arm}", key, events_key, py_key))
    for m in printed.matching(r"(?:abstract|text|discussion)\.(?P<item>[a-z0-9_]+)\.(?P<arm>msc|msc_ifng)\.rate"):
        key, item, arm = m.group(0), m["item"], m["arm"]
        events_key, py_key = f"table2.{item}.{arm}.events", f"table2.py.{arm}"
        if printed.has(events_key, py_key):
            rows.append(_rate_row(printed, f"rate.{key}", key, events_key, py_key))
    for parent, children in TABLE2_SUBROWS.items():
        for arm in ARMS:
            parent_key = f"table2.{parent}.{arm}.events"
            child_keys = [f"table2.{c}.{arm}.events" for c in children]
            if not printed.has(parent_key, *child_keys):
                continue
            total = printed.count(parent_key)
            parts = [printed.count(k) for k in child_keys]
            ok = total == sum(parts)
            terms = " + ".join(str(p) for p in parts)
            if ok:
                evidence = f"{total} events = {terms} ({' + '.join(children)})"
            else:
                evidence = (f"{total} events printed, but the rows under it add up to {sum(parts)} "
                            f"({terms}): {total - sum(parts)} event(s) not shown in any category")
            n_key = f"table2.n.{arm}"
            if parent == "any_ae" and n_key in printed:
                n = printed.count(n_key)
                if total > n:
                    evidence += (f"; {total} exceeds the {n} patients of the arm, so the row counts "
                                 f"events (excluding SAEs) although its label reads as a patient count")
            rows.append(_row(f"subtotal.table2.{parent}.{arm}", "event_rates",
                             [parent_key, *child_keys], _status(ok), evidence))
    for m in printed.matching(r"(?:abstract|text|discussion)\.(?P<item>[a-z0-9_]+)\.total\.events"):
        key, item = m.group(0), m["item"]
        arm_keys = [f"table2.{item}.{arm}.events" for arm in ARMS]
        if not printed.has(*arm_keys):
            continue
        parts = [printed.count(k) for k in arm_keys]
        ok = printed.count(key) == sum(parts)
        rows.append(_row(f"total.{key}", "event_rates", [key, *arm_keys], _status(ok),
                         f"{printed.value[key]} {'=' if ok else '!='} {parts[0]} + {parts[1]} "
                         f"(Table 2, {item}, both arms)"))
    return _frame(rows)


def _rate_row(printed: _Printed, check_id: str, key: str, events_key: str, py_key: str) -> dict:
    events, py = printed[events_key], printed[py_key]
    rate, d = 100 * events / py, printed.decimals[key]
    ok = prints_as(rate, printed[key], d)
    return _row(check_id, "event_rates", [key, events_key, py_key], _status(ok),
                f"100 x {printed.count(events_key)}/{printed.value[py_key]} PY = {_fmt(rate, max(d, 2) + 2)} "
                f"{'prints' if ok else 'does not print'} as {printed.value[key]}")


# ----------------------------------------------------------------------------- family 4


def audit_fisher_table4(published: pd.DataFrame) -> pd.DataFrame:
    """Table 4 p-values recomputed by a two-sided Fisher exact test from the printed counts.

    For each ``table4.<drug>.<timepoint>.p``: the 2x2 table is (users, non-users) x arm, with
    the users ``table4.<drug>.<arm>.<timepoint>.n`` and the arm sizes ``table4.n.<arm>``
    (:func:`compare_proportions`, ``fisher``). Compared with :func:`meets_printed_p`: equal at
    the printed precision, or beyond a printed bound.

    Parameters
    ----------
    published : pandas.DataFrame
        Registry rows with ``key``, ``number``, ``comparison`` and ``decimals``.

    Returns
    -------
    pandas.DataFrame
        Audit rows, family ``fisher_table4``, check id ``fisher.table4.<drug>.<timepoint>``.

    Examples
    --------
    >>> reg = tabulate_printed_values({"table4.n.msc": "69", "table4.n.msc_ifng": "28",
    ...     "table4.bdmard.msc.year5.n": "12", "table4.bdmard.msc_ifng.year5.n": "2",
    ...     "table4.bdmard.year5.p": "0.338"})
    >>> for r in audit_fisher_table4(reg).itertuples():
    ...     print(r.check_id, r.status, "|", r.evidence)
    fisher.table4.bdmard.year5 consistent | 12/69 vs 2/28: Fisher exact p = 0.3382, printed 0.338
    """
    printed = _Printed(published)
    rows = []
    for m in printed.matching(r"table4\.(?P<drug>[a-z0-9_]+)\.(?P<t>baseline|year\d)\.p"):
        key, drug, t = m.group(0), m["drug"], m["t"]
        count_keys = [f"table4.{drug}.{arm}.{t}.n" for arm in ARMS]
        n_keys = [f"table4.n.{arm}" for arm in ARMS]
        if not printed.has(*count_keys, *n_keys):
            continue
        (a, b), (na, nb) = [printed.count(k) for k in count_keys], [printed.count(k) for k in n_keys]
        p = compare_proportions(a, na, b, nb, "fisher").p_value
        ok = meets_printed_p(p, printed[key], printed.comparison[key], printed.decimals[key])
        rows.append(_row(f"fisher.{key[:-2]}", "fisher_table4", [key, *count_keys, *n_keys], _status(ok),
                         f"{a}/{na} vs {b}/{nb}: Fisher exact p = {_p4(p)}, printed {printed.value[key]}"
                         + ("" if ok else " (does not match)")))
    return _frame(rows)


# ----------------------------------------------------------------------------- family 5


def tabulate_marker_tests(published: pd.DataFrame,
                          alphas: tuple[float, ...] = (MARKER_ALPHA, SECONDARY_ALPHA)) -> pd.DataFrame:
    """Every Table 3 marker recomputed under every candidate test and threshold.

    Response rates: the counts are reconstructed from each percentage and N
    (:func:`compute_matching_counts`; cells without a unique count are left out) and compared
    by :data:`PROPORTION_TESTS`. Change scores: compared from mean, SD and N by
    :data:`MEAN_TESTS`. A marker is predicted when ``p < alpha``.

    Parameters
    ----------
    published : pandas.DataFrame
        Registry rows with ``key``, ``number``, ``comparison`` and ``decimals``.
    alphas : tuple of float
        Thresholds to read the markers at.

    Returns
    -------
    pandas.DataFrame
        One row per endpoint x time point x test x alpha: ``endpoint``, ``timepoint``,
        ``scale`` (``response``/``change``), ``test``, ``alpha``, ``statistic``, ``p_value``,
        ``printed`` (bool), ``predicted`` (bool), ``agrees`` (bool), ``detail`` (the inputs,
        e.g. ``2/69 vs 7/28``), ``keys``.

    Examples
    --------
    >>> reg = tabulate_printed_values({"table3.n.msc": "69", "table3.n.msc_ifng": "28",
    ...     "table3.das28_remission.msc.year5.pct": "2.9",
    ...     "table3.das28_remission.msc_ifng.year5.pct": "25.0",
    ...     "table3.das28_remission.year5.marker": "*"})
    >>> tab = tabulate_marker_tests(reg, alphas=(0.001,))
    >>> tab[["test", "p_value", "agrees"]].round(5)
             test  p_value  agrees
    0        chi2  0.00067    True
    1      fisher  0.00210   False
    2  chi2_yates  0.00258   False
    """
    printed = _Printed(published)
    records = []
    for m in printed.matching(r"table3\.(?P<item>[a-z0-9_]+)\.(?P<t>year\d)\.marker"):
        key, item, t = m.group(0), m["item"], m["t"]
        n_keys = [f"table3.n.{arm}" for arm in ARMS]
        if not printed.has(*n_keys):
            continue
        ns = [printed.count(k) for k in n_keys]
        if item in RESPONSE_ENDPOINTS:
            pct_keys = [f"table3.{item}.{arm}.{t}.pct" for arm in ARMS]
            if not printed.has(*pct_keys):
                continue
            counts = [_reconstruct_count(printed, k, n) for k, n in zip(pct_keys, ns)]
            if any(len(c) != 1 for c in counts):
                continue
            (a, b) = (counts[0][0], counts[1][0])
            results = [compare_proportions(a, ns[0], b, ns[1], test) for test in PROPORTION_TESTS]
            scale, detail, keys = "response", f"{a}/{ns[0]} vs {b}/{ns[1]}", [key, *pct_keys, *n_keys]
        elif item in CHANGE_ENDPOINTS:
            stat_keys = [f"table3.{item}.{arm}.{t}.{s}" for arm in ARMS for s in ("mean", "sd")]
            if not printed.has(*stat_keys):
                continue
            ma, sa, mb, sb = (printed[k] for k in stat_keys)
            results = [compare_means_from_stats(ma, sa, ns[0], mb, sb, ns[1], test) for test in MEAN_TESTS]
            scale = "change"
            detail = (f"{printed.value[stat_keys[0]]} ({printed.value[stat_keys[1]]}), n={ns[0]} vs "
                      f"{printed.value[stat_keys[2]]} ({printed.value[stat_keys[3]]}), n={ns[1]}")
            keys = [key, *stat_keys, *n_keys]
        else:
            continue
        marked = printed[key] == 1
        for result in results:
            for alpha in alphas:
                predicted = result.p_value < alpha
                records.append({"endpoint": item, "timepoint": t, "scale": scale, "test": result.test,
                                "alpha": alpha, "statistic": result.statistic, "p_value": result.p_value,
                                "printed": marked, "predicted": predicted, "agrees": predicted == marked,
                                "detail": detail, "keys": ";".join(keys)})
    columns = ["endpoint", "timepoint", "scale", "test", "alpha", "statistic", "p_value", "printed",
               "predicted", "agrees", "detail", "keys"]
    return pd.DataFrame(records, columns=columns)


def identify_marker_tests(marker_tests: pd.DataFrame, scale: str, alpha: float) -> list[str]:
    """Candidate tests that reproduce every marker of ``scale`` at ``alpha``.

    Parameters
    ----------
    marker_tests : pandas.DataFrame
        :func:`tabulate_marker_tests` output.
    scale : str
        ``response`` or ``change``.
    alpha : float
        Threshold, one of the ``alphas`` tabulated.

    Examples
    --------
    >>> from analysis.published import load_published
    >>> tab = tabulate_marker_tests(load_published())
    >>> identify_marker_tests(tab, "response", 0.001), identify_marker_tests(tab, "response", 0.05)
    (['chi2'], ['fisher', 'chi2_yates'])
    """
    sub = marker_tests[(marker_tests["scale"] == scale) & (marker_tests["alpha"] == alpha)]
    order = PROPORTION_TESTS if scale == "response" else MEAN_TESTS
    ok = sub.groupby("test")["agrees"].all()
    return [t for t in order if t in ok.index and bool(ok[t])]


def _cell_label(endpoint: str, timepoint: str) -> str:
    return f"{endpoint}.{timepoint}"


def _describe_marker_tests(sub: pd.DataFrame, scale: str, alpha: float, reproduce: list[str]) -> str:
    """One sentence: the tests that reproduce every marker of ``sub`` (one scale, one alpha),
    then, for each other test, the cells it leaves unmarked ("misses") or marks in excess."""
    n_cells = sub.groupby(["endpoint", "timepoint"]).ngroups
    full = [TEST_NAMES[t] for t in reproduce]
    if not full:
        names = "no candidate test"
    elif len(full) == 1:
        names = full[0]
    else:
        names = ", ".join(full[:-1]) + " and " + full[-1]
    failures = []
    for test in (PROPORTION_TESTS if scale == "response" else MEAN_TESTS):
        if test in reproduce:
            continue
        bad = sub[(sub["test"] == test) & ~sub["agrees"]]
        under = [_cell_label(r.endpoint, r.timepoint) for r in bad.itertuples() if not r.predicted]
        over = [_cell_label(r.endpoint, r.timepoint) for r in bad.itertuples() if r.predicted]
        parts = ([f"misses {', '.join(under)}"] if under else []) + ([f"over-marks {', '.join(over)}"] if over else [])
        failures.append(f"{TEST_NAMES[test]} {' and '.join(parts)}")
    what = "response-rate" if scale == "response" else "change-score"
    verb = "reproduces" if len(full) <= 1 else "reproduce"
    only = "only " if len(full) == 1 and failures else ""
    if alpha == MARKER_ALPHA:
        sentence = f"{only}{names} {verb} all {n_cells} {what} markers at p<{alpha:g}"
    else:
        sentence = f"at p<{alpha:g} {only}{names} {verb} all {n_cells} {what} markers"
    return "; ".join([sentence, *failures])


def audit_table3_markers(published: pd.DataFrame) -> pd.DataFrame:
    """Which test reproduces Table 3's significance markers (footnote: P < 0.001).

    From :func:`tabulate_marker_tests`:

    ``marker.table3.<endpoint>.<timepoint>``
        per cell: ``consistent`` when at least one candidate test (chi-square without or with
        Yates correction or Fisher exact for response rates; Student or Welch t-test for
        change scores) reproduces the printed marker at the footnote's threshold, else
        ``inconsistent``; the evidence gives every test's p-value and which disagree;
    ``marker_test.table3.response.p001`` / ``...change.p001``
        the test(s) reproducing every marker at 0.001, and the cells each other test misses;
    ``marker_test.table3.response.p05``
        the same at the Methods' 0.05 level (a secondary reading, in case the footnote's
        threshold were a misprint);
    ``marker_test.table3.change.mann_whitney``
        ``undecidable``: a Mann-Whitney test needs the patient-level values;
    ``pvalue.abstract.<endpoint>.<timepoint>``
        each p-value printed in the abstract against the candidate tests on the Table 3
        counts.

    Parameters
    ----------
    published : pandas.DataFrame
        Registry rows with ``key``, ``number``, ``comparison`` and ``decimals``.

    Returns
    -------
    pandas.DataFrame
        Audit rows, family ``table3_markers``.

    Examples
    --------
    >>> reg = tabulate_printed_values({"table3.n.msc": "69", "table3.n.msc_ifng": "28",
    ...     "table3.acr70.msc.year3.pct": "2.9", "table3.acr70.msc_ifng.year3.pct": "14.3",
    ...     "table3.acr70.year3.marker": "none"})
    >>> for r in audit_table3_markers(reg).itertuples():
    ...     print(r.check_id, r.status, "|", r.evidence)
    marker.table3.acr70.year3 consistent | 2/69 vs 4/28, printed without marker: chi-square p=0.035,
        Fisher p=0.056, Yates chi-square p=0.1; all agree at p<0.001
    marker_test.table3.response.p001 consistent | Pearson chi-square without continuity correction,
        two-sided Fisher exact and chi-square with Yates correction reproduce all 1 response-rate
        markers at p<0.001
    marker_test.table3.response.p05 consistent | at p<0.05 two-sided Fisher exact and chi-square
        with Yates correction reproduce all 1 response-rate markers; Pearson chi-square without
        continuity correction over-marks acr70.year3
    """
    printed = _Printed(published)
    tab = tabulate_marker_tests(published)
    rows = []
    primary = tab[tab["alpha"] == MARKER_ALPHA]
    for (endpoint, t), cell in primary.groupby(["endpoint", "timepoint"], sort=False):
        ps = ", ".join(f"{SHORT_NAMES[r.test]} p={_p(r.p_value)}" for r in cell.itertuples())
        disagree = [SHORT_NAMES[test] for test in cell.loc[~cell["agrees"], "test"]]
        verdict = ("all agree" if not disagree else
                   f"{' and '.join(disagree)} disagree{'s' if len(disagree) == 1 else ''}")
        mark = "printed with marker" if cell["printed"].iloc[0] else "printed without marker"
        rows.append(_row(f"marker.table3.{endpoint}.{t}", "table3_markers", cell["keys"].iloc[0].split(";"),
                         _status(bool(cell["agrees"].any())),
                         f"{cell['detail'].iloc[0]}, {mark}: {ps}; {verdict} at p<{MARKER_ALPHA:g}"))
    for scale, alpha, suffix in (("response", MARKER_ALPHA, "p001"), ("response", SECONDARY_ALPHA, "p05"),
                                 ("change", MARKER_ALPHA, "p001")):
        sub = tab[(tab["scale"] == scale) & (tab["alpha"] == alpha)]
        if sub.empty:
            continue
        reproduce = identify_marker_tests(tab, scale, alpha)
        keys = sorted({k for ks in sub["keys"] for k in ks.split(";") if k.endswith(".marker")})
        rows.append(_row(f"marker_test.table3.{scale}.{suffix}", "table3_markers", keys,
                         _status(bool(reproduce)), _describe_marker_tests(sub, scale, alpha, reproduce)))
    change_markers = [m.group(0) for m in printed.matching(r"table3\.(?:" + "|".join(CHANGE_ENDPOINTS) + r")\.year\d\.marker")]
    if change_markers:
        rows.append(_row("marker_test.table3.change.mann_whitney", "table3_markers", change_markers, UNDECIDABLE,
                         "a Mann-Whitney U test (named in the Methods for non-parametric data) needs the "
                         "patient-level change scores; means and SDs cannot reproduce it"))
    for m in printed.matching(r"abstract\.(?P<item>[a-z0-9_]+)\.(?P<t>year\d)\.p"):
        key, item, t = m.group(0), m["item"], m["t"]
        cell = primary[(primary["endpoint"] == item) & (primary["timepoint"] == t)]
        if cell.empty:
            continue
        agree = [SHORT_NAMES[r.test] for r in cell.itertuples()
                 if meets_printed_p(r.p_value, printed[key], printed.comparison[key], printed.decimals[key])]
        ps = ", ".join(f"{SHORT_NAMES[r.test]} p={_p(r.p_value)}" for r in cell.itertuples())
        verdict = "all tests agree" if len(agree) == len(cell) else f"agreeing: {', '.join(agree) or 'none'}"
        rows.append(_row(f"pvalue.{key[:-2]}", "table3_markers", [key, *cell["keys"].iloc[0].split(";")[1:]],
                         _status(bool(agree)), f"{cell['detail'].iloc[0]}, printed {printed.value[key]}: {ps}; {verdict}"))
    return _frame(rows)


# ----------------------------------------------------------------------------- family 6


def audit_grim_means(published: pd.DataFrame) -> pd.DataFrame:
    """GRIM (and GRIMMER where it applies) for means of integer or discretised values.

    For each item of :data:`GRIM_ITEMS` and arm, with N the arm's N of the same table: is
    there a whole ``m`` with ``m * step / N`` printing as the mean
    (:func:`compute_grim_sums`)? ``undecidable`` when the granularity ``step / N`` is no
    larger than the printing step (every mean is then reachable). The verdict rests on the
    item's granularity (e.g. ESR read in whole mm/h), which the evidence states; an
    ``inconsistent`` mean is reported with the nearest smaller N (down to N - 3) that would
    reach it, since one missing value would explain it.

    For integer data (step 1) the SD is checked GRIMMER-style
    (:func:`compute_grimmer_sums_of_squares`, check id ``grimmer.<sd key>``) over every total
    the mean allows; ``undecidable`` when, for every such total, at least two whole sums of
    squares of the right parity fit the printed SD (the check cannot fail).

    Parameters
    ----------
    published : pandas.DataFrame
        Registry rows with ``key``, ``number``, ``comparison`` and ``decimals``.

    Returns
    -------
    pandas.DataFrame
        Audit rows, family ``grim_mean``, check ids ``grim_mean.<artefact>.<item>.<arm>[.<t>]``
        and ``grimmer.<sd key>``.

    Examples
    --------
    >>> reg = tabulate_printed_values({"table1.n.msc": "69", "table1.n.msc_ifng": "28",
    ...     "table1.esr.msc.mean": "45.87", "table1.esr.msc_ifng.mean": "46.59"})
    >>> for r in audit_grim_means(reg).itertuples():
    ...     print(r.check_id, r.status, "|", r.evidence)
    grim_mean.table1.esr.msc consistent | values in whole mm/h: 3165/69 = 45.8696 prints as 45.87
    grim_mean.table1.esr.msc_ifng inconsistent | values in whole mm/h: no total over 28 prints as 46.59 (1304/28 = 46.5714, 1305/28 = 46.6071); reachable with N = 27 (1258/27 = 46.5926)
    """
    printed = _Printed(published)
    rows = []
    for (artefact, item), (step, unit) in GRIM_ITEMS.items():
        total_decimals = 0 if step == 1 else 3
        pattern = rf"{artefact}\.{item}\.(?P<arm>msc|msc_ifng)(?:\.(?P<t>year\d))?\.mean"
        for m in printed.matching(pattern):
            key, arm, t = m.group(0), m["arm"], m["t"]
            n_key = f"{artefact}.n.{arm}"
            if n_key not in printed:
                continue
            n, mean, d = printed.count(n_key), printed[key], printed.decimals[key]
            check_id = f"grim_mean.{artefact}.{item}.{arm}" + (f".{t}" if t else "")
            if step is None:
                rows.append(_row(check_id, "grim_mean", [key, n_key], UNDECIDABLE,
                                 f"values are {unit}: no granularity to test the mean {printed.value[key]} against"))
                continue
            sums = compute_grim_sums(mean, d, n, step)
            if sums is None:
                rows.append(_row(check_id, "grim_mean", [key, n_key], UNDECIDABLE,
                                 f"values in {unit}: granularity {_fmt_step(step)}/{n} = {step / n:.4f} is no larger "
                                 f"than the printing step {10.0 ** -d:g}, so every mean is reachable"))
                half = compute_tolerance(d)
                candidates = list(range(math.ceil((mean - half) * n / step), math.floor((mean + half) * n / step) + 1))
            elif sums:
                s = sums[0]
                rows.append(_row(check_id, "grim_mean", [key, n_key], CONSISTENT,
                                 f"values in {unit}: {_fmt(s * step, total_decimals)}/{n} = "
                                 f"{_fmt(s * step / n, d + 2)} prints as {printed.value[key]}"))
                candidates = sums
            else:
                lo = math.floor(mean * n / step)
                near = ", ".join(f"{_fmt(k * step, total_decimals)}/{n} = {_fmt(k * step / n, d + 2)}"
                                 for k in (lo, lo + 1))
                evidence = f"values in {unit}: no total over {n} prints as {printed.value[key]} ({near})"
                for smaller in range(n - 1, max(n - 4, 0), -1):
                    fits = compute_grim_sums(mean, d, smaller, step)
                    if fits:
                        evidence += (f"; reachable with N = {smaller} ({_fmt(fits[0] * step, total_decimals)}/"
                                     f"{smaller} = {_fmt(fits[0] * step / smaller, d + 2)})")
                        break
                rows.append(_row(check_id, "grim_mean", [key, n_key], INCONSISTENT, evidence))
                candidates = []
            sd_key = key[:-len("mean")] + "sd"
            if step == 1 and candidates and sd_key in printed:
                rows.append(_grimmer_row(printed, sd_key, key, n_key, candidates, n))
    return _frame(rows)


def _grimmer_row(printed: _Printed, sd_key: str, mean_key: str, n_key: str, sums: list[int], n: int) -> dict:
    """GRIMMER row. The whole sums of squares fitting a printed SD lie in an interval of width
    ``(n - 1) * 4 * sd * h`` (``h`` the rounding half-unit); from width 2 it always holds a
    whole number of either parity, and the check cannot fail."""
    sd, d = printed[sd_key], printed.decimals[sd_key]
    width = (n - 1) * 4 * sd * (0.5 * 10.0 ** -d)
    feasible = sum(len(compute_grimmer_sums_of_squares(s, n, sd, d)) for s in sums)
    check_id = f"grimmer.{sd_key}"
    keys = [sd_key, mean_key, n_key]
    if width >= 2:
        return _row(check_id, "grim_mean", keys, UNDECIDABLE,
                    f"SD {printed.value[sd_key]} over {n}: the sums of squares that fit span {width:.1f} "
                    f"(>= 2), so whole values of either parity always fit and GRIMMER cannot fail")
    totals = ", ".join(map(str, sums))
    if feasible == 0:
        return _row(check_id, "grim_mean", keys, INCONSISTENT,
                    f"no whole sum of squares of the right parity gives SD {printed.value[sd_key]} "
                    f"with total(s) {totals} over {n}")
    return _row(check_id, "grim_mean", keys, CONSISTENT,
                f"SD {printed.value[sd_key]} over {n} is reached by {_plural(feasible, 'whole sum')} "
                f"of squares with total(s) {totals}")


# ----------------------------------------------------------------------------- family 7


def audit_cross_artefact(published: pd.DataFrame) -> pd.DataFrame:
    """Values that two artefacts both print, or that one artefact derives from another.

    Checks:

    ``medication.<drug>.<arm>``
        Table 1 medication history against Table 4 use at baseline (:data:`MEDICATION_PAIRS`):
        history >= current use is required. Equal counts are ``consistent``; a history count
        above the baseline count is ``consistent`` only under the reading "ever used"
        (Table 1, labelled as history) vs "in use at baseline" (Table 4), which the evidence
        says; a history count below current use is ``inconsistent``.
    ``restated.<key>``
        each abstract/Results/Discussion value with a table or patient-flow counterpart (same
        key after the artefact prefix, or :data:`RESTATED_ELSEWHERE`): equal at the coarser
        printed precision. Abstract p-values are compared with the Table 3 marker (the marker
        means p < 0.001).
    ``disposition.*``
        the patient flow adds up (completers + discontinued = randomised, the two reasons =
        discontinued, arms = completers, safety population = randomised, group sizes of
        Tables 1, 3, 4 = completers per arm, the combination arm's dropouts, follow-up range,
        mean follow-up against total patient-years).
    ``sae_patients.total``
        patients with an SAE lie between the distinct patients with a new autoimmune disease
        and the number of SAE events.
    ``noncovid.<key>``
        the Discussion's non-COVID SAE rates: SAE events minus the arm's pneumonia SAE (the
        COVID-19 pneumonia), per 100 PY.
    ``pooled.<key>``
        pooled patient/event counts of the Discussion against the sum over arms of the Table 2
        events (one event per patient for new diagnoses), and new autoimmune diagnoses =
        Sjögren + SLE.
    ``patients_vs_events.<key>``
        patients the text counts for an SAE category of one arm <= that row's Table 2 events.
    ``drug_free.<key>``
        patients in drug-free remission at year 5 <= patients in remission at year 5.
    ``unverifiable.<key>``
        a pooled p-value of the text comparing groups that no registered table prints
        (completers vs dropouts): ``undecidable``.

    Parameters
    ----------
    published : pandas.DataFrame
        Registry rows with ``key``, ``number``, ``comparison`` and ``decimals``.

    Returns
    -------
    pandas.DataFrame
        Audit rows, family ``cross_artefact``.

    Examples
    --------
    >>> reg = tabulate_printed_values({"table1.hx_bdmard.msc_ifng.n": "13",
    ...     "table4.bdmard.msc_ifng.baseline.n": "10", "table3.acr20.msc.year5.pct": "44.9",
    ...     "discussion.acr20.msc.year5.pct": "45"})
    >>> for r in audit_cross_artefact(reg).itertuples():
    ...     print(r.check_id, r.status, "|", r.evidence)
    medication.bdmard.msc_ifng consistent | history 13 > baseline use 10: consistent only if Table 1 counts ever-use and Table 4 use at baseline
    restated.discussion.acr20.msc.year5.pct consistent | 45 vs table3.acr20.msc.year5.pct = 44.9: agree at 0 decimals
    """
    printed = _Printed(published)
    fam = "cross_artefact"
    rows = []
    for hx, drug in MEDICATION_PAIRS.items():
        for arm in ARMS:
            hx_key, now_key = f"table1.{hx}.{arm}.n", f"table4.{drug}.{arm}.baseline.n"
            if not printed.has(hx_key, now_key):
                continue
            before, now = printed.count(hx_key), printed.count(now_key)
            if before == now:
                status, evidence = CONSISTENT, f"history {before} = baseline use {now}"
            elif before > now:
                status = CONSISTENT
                evidence = (f"history {before} > baseline use {now}: consistent only if Table 1 counts "
                            f"ever-use and Table 4 use at baseline")
            else:
                status, evidence = INCONSISTENT, f"history {before} < baseline use {now}: more current than past users"
            rows.append(_row(f"medication.{drug}.{arm}", fam, [hx_key, now_key], status, evidence))
    for key in printed.keys:
        artefact, tail = key.split(".", 1)
        if artefact not in ("abstract", "text", "discussion"):
            continue
        twins = [f"{table}.{tail}" for table in ("table1", "table2", "table3", "table4", "disposition")]
        twin = RESTATED_ELSEWHERE.get(key) or next((t for t in twins if t in printed), None)
        if twin is not None:
            d = min(printed.decimals[key], printed.decimals[twin])
            same_bound = printed.comparison[key] == printed.comparison[twin]
            ok = same_bound and prints_as(printed[twin], printed[key], d)
            rows.append(_row(f"restated.{key}", fam, [key, twin], _status(ok),
                             f"{printed.value[key]} vs {twin} = {printed.value[twin]}: "
                             f"{'agree' if ok else 'differ'} at {_plural(d, 'decimal')}"))
        elif re.fullmatch(r"abstract\.[a-z0-9_]+\.year\d\.p", key):
            marker = f"table3.{tail[:-2]}.marker"
            if marker in printed:
                significant = (printed[key] <= MARKER_ALPHA if printed.comparison[key] == "<"
                               else printed.comparison[key] == "=" and printed[key] < MARKER_ALPHA)
                ok = significant == (printed[marker] == 1)
                rows.append(_row(f"restated.{key}", fam, [key, marker], _status(ok),
                                 f"abstract p {printed.value[key]} vs Table 3 marker "
                                 f"{printed.value[marker]} (P<{MARKER_ALPHA:g}): {'agree' if ok else 'differ'}"))
    for m in printed.matching(r"(?:abstract|text|discussion)\.(?P<item>[a-z0-9_]+)\.total\.p"):
        rows.append(_row(f"unverifiable.{m.group(0)}", fam, [m.group(0)], UNDECIDABLE,
                         f"p {printed.value[m.group(0)]} compares groups whose values are not printed in the "
                         f"registered tables (a supplementary table), so nothing here can check it"))
    rows += _disposition_rows(printed)
    rows += _safety_text_rows(printed)
    return _frame(rows)


def _disposition_rows(printed: _Printed) -> list[dict]:
    fam, rows = "cross_artefact", []
    d = "disposition."

    def sum_check(check_id, total_key, part_keys, label):
        if not printed.has(total_key, *part_keys):
            return
        parts = [printed.count(k) for k in part_keys]
        ok = printed.count(total_key) == sum(parts)
        rows.append(_row(check_id, fam, [total_key, *part_keys], _status(ok),
                         f"{' + '.join(map(str, parts))} {'=' if ok else '!='} {printed.count(total_key)} ({label})"))

    sum_check("disposition.completed_plus_discontinued", d + "randomised.total.n",
              [d + "completed.total.n", d + "discontinued.total.n"], "completers + discontinued = randomised")
    sum_check("disposition.discontinued_reasons", d + "discontinued.total.n",
              [d + "discontinued_lack_of_efficacy.total.n", d + "discontinued_adverse_event.total.n"],
              "lack of efficacy + adverse events = discontinued")
    sum_check("disposition.completers_by_arm", d + "completed.total.n",
              [d + "completed.msc.n", d + "completed.msc_ifng.n"], "arms = completers")
    sum_check("disposition.completed_restated", d + "completed.total.n", [d + "completed_restated.total.n"],
              "completer count printed twice")
    sum_check("disposition.safety_population", d + "randomised.total.n", ["table2.n.msc", "table2.n.msc_ifng"],
              "Table 2 arms = randomised")
    for arm in ARMS:
        keys = [f"{t}.n.{arm}" for t in ("table1", "table3", "table4")]
        comp = f"{d}completed.{arm}.n"
        if printed.has(comp, *keys):
            values = [printed.count(k) for k in keys]
            ok = all(v == printed.count(comp) for v in values)
            rows.append(_row(f"disposition.group_size.{arm}", fam, [comp, *keys], _status(ok),
                             f"Tables 1, 3, 4 N = {values}, completers = {printed.count(comp)}"))
    drop_keys = ["table2.n.msc", "table2.n.msc_ifng", d + "completed.msc.n", d + "completed.msc_ifng.n",
                 d + "discontinued.total.n"]
    if printed.has(*drop_keys):
        n1, n2, c1, c2, disc = (printed.count(k) for k in drop_keys)
        ok = (n1 - c1) + (n2 - c2) == disc and n1 >= c1 and n2 >= c2
        rows.append(_row("disposition.dropouts_by_arm", fam, drop_keys, _status(ok),
                         f"dropouts {n1} - {c1} = {n1 - c1} (MSC) + {n2} - {c2} = {n2 - c2} (MSC+IFNG) "
                         f"{'=' if ok else '!='} {disc} discontinued"))
    ifng_keys = ["table2.n.msc_ifng", d + "completed.msc_ifng.n", d + "discontinued_new_autoimmune_no_acr20.msc_ifng.n"]
    if printed.has(*ifng_keys):
        n2, c2, special = (printed.count(k) for k in ifng_keys)
        ok = special <= n2 - c2
        rows.append(_row("disposition.ifng_dropouts", fam, ifng_keys, _status(ok),
                         f"{special} combination-arm dropouts with a new autoimmune disease and no ACR20 "
                         f"{'<=' if ok else '>'} {n2} - {c2} = {n2 - c2} combination-arm dropouts"
                         + (" (so they are all of them)" if ok and special == n2 - c2 else "")))
    fu = [d + "followup_years.total." + s for s in ("min", "mean", "max", "range_max")]
    if printed.has(*fu):
        lo, mean, hi, hi2 = (printed[k] for k in fu)
        ok = lo <= mean <= hi and hi == hi2
        rows.append(_row("disposition.followup_range", fam, fu, _status(ok),
                         f"min {lo:g} <= mean {mean:g} <= max {hi:g}; maximum {hi:g} and range end {hi2:g} "
                         f"{'agree' if hi == hi2 else 'differ'}"))
    py_keys = ["table2.py.msc", "table2.py.msc_ifng", d + "randomised.total.n", d + "followup_years.total.mean",
               d + "completed.total.n", d + "followup_years.total.min", d + "followup_years.total.max"]
    if printed.has(*py_keys):
        py1, py2 = printed[py_keys[0]], printed[py_keys[1]]
        n, mean, comp, lo, hi = (printed[k] for k in py_keys[2:])
        py = py1 + py2
        per_patient = py / n
        ok = prints_as(per_patient, mean, printed.decimals[py_keys[3]]) and comp * lo <= py <= n * hi
        rows.append(_row("disposition.followup_vs_py", fam, py_keys, _status(ok),
                         f"{py1:.2f} + {py2:.2f} = {py:.2f} PY over {n:g} patients = {per_patient:.2f} years "
                         f"{'prints' if prints_as(per_patient, mean, 0) else 'does not print'} as {mean:g}; "
                         f"{comp:g} completers x {lo:g} years = {comp * lo:g} <= {py:.2f} <= {n:g} x {hi:g} = {n * hi:g}"))
    return rows


def _safety_text_rows(printed: _Printed) -> list[dict]:
    fam, rows = "cross_artefact", []
    sae_keys = ["text.sae.total.patients", "table2.sae.msc.events", "table2.sae.msc_ifng.events",
                "discussion.sae_autoimmune.total.patients"]
    if printed.has(*sae_keys):
        patients, e1, e2, auto = (printed.count(k) for k in sae_keys)
        ok = auto <= patients <= e1 + e2
        rows.append(_row("sae_patients.total", fam, sae_keys, _status(ok),
                         f"{auto} patients with a new autoimmune disease <= {patients} patients with an SAE "
                         f"<= {e1} + {e2} = {e1 + e2} SAE events"))
    for arm in ARMS:
        key = f"discussion.sae_noncovid.{arm}.rate"
        parts = [f"table2.sae.{arm}.events", f"table2.sae_pneumonia.{arm}.events", f"table2.py.{arm}"]
        if not printed.has(key, *parts):
            continue
        sae, pneu = printed.count(parts[0]), printed.count(parts[1])
        rate, d = 100 * (sae - pneu) / printed[parts[2]], printed.decimals[key]
        ok = prints_as(rate, printed[key], d)
        rows.append(_row(f"noncovid.{key}", fam, [key, *parts], _status(ok),
                         f"100 x ({sae} SAEs - {pneu} COVID-19 pneumonia)/{printed.value[parts[2]]} PY = "
                         f"{_fmt(rate, d + 2)} {'prints' if ok else 'does not print'} as {printed.value[key]}"))
    for m in printed.matching(r"(?:text|discussion)\.(?P<item>sae_[a-z0-9_]+)\.(?P<arm>msc|msc_ifng)\.patients"):
        key, events_key = m.group(0), f"table2.{m['item']}.{m['arm']}.events"
        if events_key not in printed:
            continue
        patients, events = printed.count(key), printed.count(events_key)
        ok = (events == 0) == (patients == 0) and patients <= events
        rows.append(_row(f"patients_vs_events.{key}", fam, [key, events_key], _status(ok),
                         f"{_plural(patients, 'patient')} {'<=' if ok else 'vs'} {_plural(events, 'event')} in Table 2"
                         + (" (repeat episodes)" if ok and patients < events else "")))
    # pooled event counts are checked in audit_event_rates (``total.<key>``)
    for m in printed.matching(r"discussion\.(?P<item>sae_[a-z0-9_]+)\.total\.patients"):
        key, item = m.group(0), m["item"]
        arm_keys = [f"table2.{item}.{arm}.events" for arm in ARMS]
        if not printed.has(*arm_keys):
            continue
        parts = [printed.count(k) for k in arm_keys]
        ok = printed.count(key) == sum(parts)
        rows.append(_row(f"pooled.{key}", fam, [key, *arm_keys], _status(ok),
                         f"{_plural(printed.count(key), 'patient')} {'=' if ok else '!='} {parts[0]} + {parts[1]} "
                         f"Table 2 events (one event per patient)"))
    auto = ["discussion.sae_autoimmune.total.patients", "discussion.sae_sjogren.total.patients",
            "discussion.sae_sle.total.patients"]
    if printed.has(*auto):
        total, sjogren, sle = (printed.count(k) for k in auto)
        ok = total == sjogren + sle
        rows.append(_row("pooled.discussion.sae_autoimmune.sjogren_plus_sle", fam, auto, _status(ok),
                         f"{sjogren} Sjögren + {sle} SLE {'=' if ok else '!='} {total} new autoimmune diagnoses"))
    dfr = ["text.drug_free_remission.msc_ifng.year5.patients", "table3.das28_remission.msc_ifng.year5.pct",
           "table3.n.msc_ifng"]
    if printed.has(*dfr):
        n = printed.count(dfr[2])
        ks = _reconstruct_count(printed, dfr[1], n)
        patients = printed.count(dfr[0])
        ok = len(ks) == 1 and patients <= ks[0]
        rows.append(_row(f"drug_free.{dfr[0]}", fam, dfr, _status(ok),
                         f"{_plural(patients, 'patient')} in drug-free remission "
                         f"{'<=' if ok else 'exceeds'} {ks[0] if len(ks) == 1 else ks} of {n} in remission at year 5"))
    return rows


# ----------------------------------------------------------------------------- family 8


def audit_response_nesting(published: pd.DataFrame) -> pd.DataFrame:
    """Nested response criteria within Table 3: a stricter response cannot be more frequent.

    Per arm and time point, with the counts reconstructed from the percentages: ACR70 <=
    ACR50 <= ACR20 (``nesting.table3.acr.<arm>.<timepoint>``) and DAS28 remission (< 2.6) <=
    low disease activity (<= 3.2) (``nesting.table3.das28.<arm>.<timepoint>``).

    Parameters
    ----------
    published : pandas.DataFrame
        Registry rows with ``key``, ``number``, ``comparison`` and ``decimals``.

    Returns
    -------
    pandas.DataFrame
        Audit rows, family ``nesting``.

    Examples
    --------
    >>> reg = tabulate_printed_values({"table3.n.msc": "69",
    ...     "table3.das28_remission.msc.year1.pct": "2.9", "table3.das28_lda.msc.year1.pct": "1.4"})
    >>> for r in audit_response_nesting(reg).itertuples():
    ...     print(r.check_id, r.status, "|", r.evidence)
    nesting.table3.das28.msc.year1 inconsistent | das28_remission 2 > das28_lda 1 of 69
    """
    printed = _Printed(published)
    rows = []
    chains = {"acr": ("acr70", "acr50", "acr20"), "das28": ("das28_remission", "das28_lda")}
    for name, chain in chains.items():
        for arm in ARMS:
            for t in ("year1", "year3", "year5"):
                keys = [f"table3.{e}.{arm}.{t}.pct" for e in chain]
                n_key = f"table3.n.{arm}"
                if not printed.has(n_key, *keys):
                    continue
                n = printed.count(n_key)
                counts = [_reconstruct_count(printed, k, n) for k in keys]
                if any(len(c) != 1 for c in counts):
                    rows.append(_row(f"nesting.table3.{name}.{arm}.{t}", "nesting", [*keys, n_key], UNDECIDABLE,
                                     "a percentage does not fix one count"))
                    continue
                ks = [c[0] for c in counts]
                ok = all(a <= b for a, b in zip(ks, ks[1:]))
                evidence = (" <= ".join(f"{e} {k}" for e, k in zip(chain, ks)) if ok else
                            "; ".join(f"{e1} {k1} > {e2} {k2}" for e1, k1, e2, k2 in
                                      zip(chain, ks, chain[1:], ks[1:]) if k1 > k2))
                rows.append(_row(f"nesting.table3.{name}.{arm}.{t}", "nesting", [*keys, n_key], _status(ok),
                                 f"{evidence} of {n}"))
    return _frame(rows)


# ----------------------------------------------------------------------------- assembly


_FAMILY_FUNCTIONS = {
    "grim_percent": audit_grim_percentages,
    "sd_of_percent": audit_percentage_sds,
    "event_rates": audit_event_rates,
    "fisher_table4": audit_fisher_table4,
    "table3_markers": audit_table3_markers,
    "grim_mean": audit_grim_means,
    "cross_artefact": audit_cross_artefact,
    "nesting": audit_response_nesting,
}


def audit_published(published: pd.DataFrame) -> pd.DataFrame:
    """Run every family of consistency checks on the published registry.

    Parameters
    ----------
    published : pandas.DataFrame
        The registry (:func:`analysis.published.load_published`); only ``key``, ``value``,
        ``number``, ``comparison`` and ``decimals`` are read.

    Returns
    -------
    pandas.DataFrame
        One row per check with the columns of :data:`AUDIT_COLUMNS`, families in the order
        of :data:`FAMILIES`.

    Raises
    ------
    ValueError
        If two checks share a ``check_id`` or a check names a key absent from the registry.

    Examples
    --------
    >>> from analysis.published import load_published
    >>> audit = audit_published(load_published())
    >>> sorted(audit.loc[audit["status"] == "inconsistent", "check_id"])
    ['grim_mean.table1.esr.msc_ifng', 'subtotal.table2.sae.msc', 'subtotal.table2.sae.msc_ifng']
    """
    audit = pd.concat([_FAMILY_FUNCTIONS[f](published) for f in FAMILIES], ignore_index=True)
    duplicated = audit.loc[audit["check_id"].duplicated(), "check_id"].tolist()
    if duplicated:
        raise ValueError(f"audit: duplicate check_id {duplicated}")
    known = set(published["key"])
    unknown = sorted({k for ks in audit["keys"] for k in ks.split(";")} - known)
    if unknown:
        raise ValueError(f"audit: checks name keys absent from the registry: {unknown}")
    return audit


def summarise_audit(audit: pd.DataFrame) -> str:
    """A plain-text summary: counts per family and status, then each inconsistent check.

    Examples
    --------
    >>> audit = pd.DataFrame([
    ...     {"check_id": "a.1", "family": "grim_percent", "keys": "k", "status": "consistent", "evidence": "ok"},
    ...     {"check_id": "b.1", "family": "event_rates", "keys": "k", "status": "inconsistent", "evidence": "11 vs 9"}])
    >>> print(summarise_audit(audit))
    grim_percent: 1 consistent, 0 inconsistent, 0 undecidable
    event_rates: 0 consistent, 1 inconsistent, 0 undecidable
    total: 1 consistent, 1 inconsistent, 0 undecidable (2 checks)
    inconsistent: b.1 (event_rates): 11 vs 9
    """
    lines = []
    order = [f for f in FAMILIES if f in set(audit["family"])] + sorted(set(audit["family"]) - set(FAMILIES))
    for family in order:
        counts = audit.loc[audit["family"] == family, "status"].value_counts()
        lines.append(f"{family}: " + ", ".join(f"{int(counts.get(s, 0))} {s}" for s in STATUSES))
    counts = audit["status"].value_counts()
    lines.append("total: " + ", ".join(f"{int(counts.get(s, 0))} {s}" for s in STATUSES) + f" ({len(audit)} checks)")
    for row in audit[audit["status"] == INCONSISTENT].itertuples():
        lines.append(f"inconsistent: {row.check_id} ({row.family}): {row.evidence}")
    return "\n".join(lines)
