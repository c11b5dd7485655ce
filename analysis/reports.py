"""The report pages' numbers: reproduction and audit status counts, completers versus dropouts.

The book's *Reproduction and audit* pages and the attrition sensitivity page print numbers
that are not results of the paper's analysis but summaries of a comparison: how many
published values this dataset reproduces (:func:`analysis.verify.build_reproduction`), how
many consistency checks of the published numbers pass (:func:`analysis.audit.audit_published`),
and how the completers' baseline compares with the discontinued patients'
(:func:`analysis.tables.compare_completers_dropouts`). This module turns them into
results-registry rows, so the prose cites them with ``{reg}`` like every other number.

Keys (the registry grammar of ``data/published/README.md``):

* ``reproduction.<artefact>.<status>.n`` and ``reproduction.summary.<status>.n`` for the
  statuses of :data:`analysis.verify.STATUSES`, plus ``published`` (values compared) and,
  for the summary, ``checked`` (published minus documented: the *M* of ``make verify``'s
  last line ``verify: N of M published values reproduced``);
* ``audit.<family>.<status>.n`` and ``audit.summary.<status>.n`` for the statuses of
  :data:`analysis.audit.STATUSES`, plus ``checks``;
* ``baseline_dropouts.<item>.<group>.<stat>`` (group ``completers`` or ``discontinued``;
  stat ``mean`` for continuous items, ``pct`` for binary ones) and
  ``baseline_dropouts.<item>.total.p``.

:func:`compute_report_results` returns every row the report runs of the book write; the
book's merged registry is :func:`analysis.tables.compute_results` plus these rows.
"""
from __future__ import annotations

import hashlib
from pathlib import Path

import pandas as pd

from analysis import paths
from analysis.audit import STATUSES as AUDIT_STATUSES
from analysis.audit import audit_published
from analysis.baseline import CONTINUOUS_ITEMS
from analysis.published import load_published
from analysis.results import make_result, results_frame
from analysis.tables import compare_completers_dropouts, compute_results
from analysis.verify import ALL, build_reproduction, count_statuses
from analysis.verify import STATUSES as REPRODUCTION_STATUSES


def registry_reproduction(reproduction: pd.DataFrame) -> list[dict]:
    """Registry rows of the reproduction report: counts per artefact and status, and totals.

    ``reproduction`` is the frame of :func:`analysis.verify.build_reproduction`. The totals
    are ``reproduction.summary.<status>.n``, ``reproduction.summary.published.n`` and
    ``reproduction.summary.checked.n`` (published values that are not documented), so
    ``make verify``'s last line reads ``verify: <match> of <checked> published values reproduced``.

    Examples
    --------
    >>> rep = pd.DataFrame({"artefact": ["t", "t", "u"], "status": ["match", "documented", "match"]})
    >>> {r["key"]: r["value"] for r in registry_reproduction(rep) if r["key"].startswith("reproduction.summary")}
    {'reproduction.summary.match.n': 2.0, 'reproduction.summary.mismatch.n': 0.0,
     'reproduction.summary.missing.n': 0.0, 'reproduction.summary.documented.n': 1.0,
     'reproduction.summary.published.n': 3.0, 'reproduction.summary.checked.n': 2.0}
    """
    counts = count_statuses(reproduction, REPRODUCTION_STATUSES, "artefact")
    rows = []
    for artefact, row in counts.iterrows():
        group = "summary" if artefact == ALL else artefact
        rows += [make_result(f"reproduction.{group}.{status}.n", row[status],
                             f"published values of {'all artefacts' if artefact == ALL else artefact} "
                             f"with status {status} (analysis.verify)") for status in REPRODUCTION_STATUSES]
        rows.append(make_result(f"reproduction.{group}.published.n", row.sum(), "published values compared"))
    total = counts.loc[ALL]
    rows.append(make_result("reproduction.summary.checked.n", total.sum() - total["documented"],
                            "published values compared, less the documented ones"))
    return rows


def registry_audit(audit: pd.DataFrame) -> list[dict]:
    """Registry rows of the consistency audit: checks per family and status, and totals.

    ``audit`` is the frame of :func:`analysis.audit.audit_published`.

    Examples
    --------
    >>> audit = pd.DataFrame({"family": ["grim_percent", "event_rates"], "status": ["consistent", "inconsistent"]})
    >>> {r["key"]: r["value"] for r in registry_audit(audit) if r["key"].startswith("audit.summary")}
    {'audit.summary.consistent.n': 1.0, 'audit.summary.inconsistent.n': 1.0,
     'audit.summary.undecidable.n': 0.0, 'audit.summary.checks.n': 2.0}
    """
    counts = count_statuses(audit, AUDIT_STATUSES, "family")
    rows = []
    for family, row in counts.iterrows():
        group = "summary" if family == ALL else family
        rows += [make_result(f"audit.{group}.{status}.n", row[status],
                             f"consistency checks of {'all families' if family == ALL else family} "
                             f"with status {status} (analysis.audit)") for status in AUDIT_STATUSES]
        rows.append(make_result(f"audit.{group}.checks.n", row.sum(), "consistency checks"))
    return rows


def registry_dropout_table(dataset) -> list[dict]:
    """Registry rows of the completers-versus-discontinued baseline comparison, item by item
    (:func:`analysis.tables.compare_completers_dropouts`: Welch's t-test for continuous,
    Fisher's exact test for binary characteristics, over all randomised patients)."""
    rows = []
    for r in compare_completers_dropouts(dataset).itertuples(index=False):
        stat = "mean" if r.item in CONTINUOUS_ITEMS else "pct"
        for group, value in (("completers", r.completers), ("discontinued", r.dropouts)):
            rows.append(make_result(f"baseline_dropouts.{r.item}.{group}.{stat}", value,
                                    f"{stat} at baseline, {group} (all randomised patients)"))
        rows.append(make_result(f"baseline_dropouts.{r.item}.total.p", r.p_value,
                                f"{r.test}, completers vs discontinued"))
    return rows


def compute_report_results(dataset, published: pd.DataFrame | None = None,
                           results: pd.DataFrame | None = None) -> pd.DataFrame:
    """Every registry row the report runs of the book add to :func:`analysis.tables.compute_results`.

    ``published`` defaults to :func:`analysis.published.load_published`; ``results``, to
    ``compute_results(dataset)`` (pass it when it is at hand, to save recomputing it).
    """
    published = load_published() if published is None else published
    results = compute_results(dataset) if results is None else results
    reproduction = build_reproduction(published, results)
    return results_frame(registry_reproduction(reproduction) + registry_audit(audit_published(published))
                         + registry_dropout_table(dataset))


def published_version(directory=paths.PUBLISHED) -> str:
    """First 12 hex digits of a SHA-256 over the names and bytes of the published registry's
    ``*.csv`` files: names the version of the published numbers a report page compared with.

    Examples
    --------
    >>> len(published_version()), published_version() == published_version()
    (12, True)
    """
    paths.check_source(directory)
    digest = hashlib.sha256()
    for path in sorted(Path(directory).glob("*.csv")):
        digest.update(path.name.encode() + b"\0" + hashlib.sha256(path.read_bytes()).hexdigest().encode() + b"\n")
    return digest.hexdigest()[:12]
