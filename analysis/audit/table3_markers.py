"""Family 5: Table 3 significance markers against the tests the printed counts allow."""
from __future__ import annotations

import pandas as pd

from analysis.audit.primitives import (
    ARMS,
    CHANGE_ENDPOINTS,
    MARKER_ALPHA,
    MEAN_TESTS,
    PROPORTION_TESTS,
    RESPONSE_ENDPOINTS,
    SECONDARY_ALPHA,
    SHORT_NAMES,
    TEST_NAMES,
    UNDECIDABLE,
    _frame,
    _p,
    _Printed,
    _reconstruct_count,
    _row,
    _status,
    compare_means_from_stats,
    compare_proportions,
    meets_printed_p,
)


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
    >>> from analysis.audit.primitives import tabulate_printed_values
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

    Examples
    --------
    >>> from analysis.audit.primitives import tabulate_printed_values
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
