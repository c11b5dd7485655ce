"""Registry values and build facts as the book's prose prints them (the Sphinx extension's side)."""
from __future__ import annotations

import html
from pathlib import Path

from analysis.build.dataset import DatasetInfo
from analysis.build.publishing import REGISTRY_FILE, read_registry
from analysis.printing import format_value


def load_registry(path: Path = REGISTRY_FILE) -> dict[str, float]:
    """Registry ``key -> value`` as written by the build."""
    frame = read_registry(path)
    return dict(zip(frame["key"], frame["value"]))


def render_registry_value(registry: dict[str, float], reference: str) -> str:
    """Text of a ``{reg}`` reference: ``key`` or ``key:spec`` (spec as in
    :func:`analysis.printing.format_value`). Raises ``KeyError`` for an unknown key.

    Examples
    --------
    >>> render_registry_value({"table2.sae.msc.rate": 2.4711}, "table2.sae.msc.rate")
    '2.47'
    >>> render_registry_value({"table2.sae.msc.rate": 2.4711}, "table2.sae.msc.rate:.1f")
    '2.5'
    >>> render_registry_value({}, "table9.x.msc.pct")
    Traceback (most recent call last):
    ...
    KeyError: "no key 'table9.x.msc.pct' in the results registry"
    """
    key, _, spec = reference.strip().partition(":")
    if key not in registry:
        raise KeyError(f"no key {key!r} in the results registry")
    return format_value(key, registry[key], spec or None)



def announcement_html(dataset: DatasetInfo) -> str:
    """The banner every page shows: which dataset the book was built from."""
    where = f"<code>{html.escape(dataset.public_label)}</code> (version {dataset.fingerprint})"
    if dataset.synthetic:
        return (f"⚠ Built from <strong>synthetic data</strong>: {where}. These are not the trial's "
                f"patients; no number here is a result of the study.")
    return f"Built from the dataset {where}."


def build_facts(dataset: DatasetInfo) -> dict[str, str]:
    """Values of the ``{build}`` role."""
    return {
        "dataset": dataset.public_label,
        "dataset_version": dataset.fingerprint,
        "dataset_kind": "synthetic" if dataset.synthetic else "declared real",
        "dataset_reason": dataset.reason,
        "data_note": "Synthetic data, not the trial's." if dataset.synthetic else "",
    }
