"""Per-key summary of an ensemble and the classification of every key.

For each key of the results registry, over the reconstructions that reproduced every
published value: ``n`` (values that are numbers), ``n_missing`` (NaN: not computable in that
reconstruction), ``median``, ``p2_5`` and ``p97_5`` (percentiles, linear interpolation),
``min``, ``max``; for p-values (stat ``p``) the share of reconstructions below 0.05 and below
0.001 (Table 3's marker threshold); ``printed``: the value as the book prints it when every
reconstruction prints the same, else empty.

Classification rule (documented on the book's page *What the published numbers determine*):

``published``             the article prints the key: every reconstruction reproduces it by
                          construction (the generator checks it);
``determined``            every reconstruction prints the same text at the precision the book
                          prints the key (:func:`analysis.printing.format_value`), missing
                          values included;
``conclusion determined`` a p-value whose printed values differ but which falls on the same
                          side of 0.05 in every reconstruction (and is computable in all);
``not determined``        anything else.

The intervals are over *these* reconstructions (one generator, its assumption ranges), never
over all datasets consistent with the paper.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from analysis.printing import format_value, stat_of
from analysis.published import load_published

CLASSES = ("published", "determined", "conclusion determined", "not determined")
#: The decision the book and the article draw from a p-value.
ALPHA = 0.05
#: Table 3's significance-marker threshold (its footnote: p < 0.001).
MARKER_ALPHA = 0.001
SUMMARY_COLUMNS = ["key", "artefact", "class", "n", "n_missing", "median", "p2_5", "p97_5", "min", "max",
                   "share_p_below_0_05", "share_p_below_0_001", "printed"]


def classify_key(key: str, values: np.ndarray, published: bool, printed: set[str] | None = None) -> str:
    """Class of one key from its values over the reconstructions (see the module notes);
    ``printed``, the values' printed texts, when the caller has them already.

    Examples
    --------
    >>> classify_key("x.a.msc.pct", np.array([10.01, 10.04]), False)
    'determined'
    >>> classify_key("x.a.p", np.array([0.01, 0.03]), False)
    'conclusion determined'
    >>> classify_key("x.a.p", np.array([0.01, 0.07]), False)
    'not determined'
    >>> classify_key("x.a.p", np.array([0.01, np.nan]), False)
    'not determined'
    """
    if published:
        return "published"
    printed = {format_value(key, float(v)) for v in values} if printed is None else printed
    if len(printed) <= 1:
        return "determined"
    if stat_of(key) == "p" and not np.isnan(values).any():
        below = values < ALPHA
        if below.all() or not below.any():
            return "conclusion determined"
    return "not determined"


def summarise_ensemble(values: pd.DataFrame, published_keys: set[str] | None = None) -> pd.DataFrame:
    """One row per key of the tidy ``values`` (columns ``reconstruction``, ``key``, ``value``).

    Examples
    --------
    >>> v = pd.DataFrame({"reconstruction": [0, 1, 0, 1], "key": ["a.x.p", "a.x.p", "a.y.n", "a.y.n"],
    ...                   "value": [0.2, 0.01, 3.0, 3.0]})
    >>> s = summarise_ensemble(v, published_keys=set())
    >>> s[["key", "class", "n", "median", "share_p_below_0_05", "printed"]].to_dict("records")[0]
    {'key': 'a.x.p', 'class': 'not determined', 'n': 2, 'median': 0.105, 'share_p_below_0_05': 0.5, 'printed': ''}
    >>> s.loc[1, "printed"]
    '3'
    """
    if published_keys is None:
        published_keys = set(load_published()["key"])
    records = []
    for key, group in values.groupby("key", sort=True):
        v = group["value"].to_numpy(dtype=float)
        finite = v[~np.isnan(v)]
        printed = {format_value(key, float(x)) for x in v}
        cls = classify_key(key, v, key in published_keys, printed)
        is_p = stat_of(key) == "p"
        record = {"key": key, "artefact": key.split(".", 1)[0], "class": cls, "n": int(finite.size),
                  "n_missing": int(v.size - finite.size),
                  "share_p_below_0_05": float(np.mean(finite < ALPHA)) if is_p and finite.size else np.nan,
                  "share_p_below_0_001": float(np.mean(finite < MARKER_ALPHA)) if is_p and finite.size else np.nan,
                  "printed": printed.pop() if len(printed) == 1 else ""}
        if finite.size:
            # an infinite bound (a rate ratio with no events in one arm) cannot be interpolated
            method = "linear" if np.isfinite(finite).all() else "nearest"
            low, mid, high = np.percentile(finite, [2.5, 50, 97.5], method=method)
            record.update(median=float(mid), p2_5=float(low), p97_5=float(high), min=float(finite.min()),
                          max=float(finite.max()))
        records.append(record)
    return pd.DataFrame(records, columns=SUMMARY_COLUMNS)


def read_summary(path) -> pd.DataFrame:
    """``summary.csv`` as written by :func:`analysis.ensemble.store.assemble`."""
    return pd.read_csv(path, keep_default_na=False, na_values=[""],
                       dtype={"key": str, "artefact": str, "class": str, "printed": str}).fillna({"printed": ""})
