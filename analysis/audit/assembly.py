"""Every family of checks run on the published registry, and its summary."""
from __future__ import annotations

import pandas as pd

from analysis.audit.cross_artefact import audit_cross_artefact
from analysis.audit.event_rates import audit_event_rates
from analysis.audit.fisher_table4 import audit_fisher_table4
from analysis.audit.grim_mean import audit_grim_means
from analysis.audit.grim_percent import audit_grim_percentages
from analysis.audit.nesting import audit_response_nesting
from analysis.audit.primitives import FAMILIES, INCONSISTENT, STATUSES
from analysis.audit.sd_of_percent import audit_percentage_sds
from analysis.audit.table3_markers import audit_table3_markers

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
