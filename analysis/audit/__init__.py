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

Families, each computed by its own ``audit_*`` function, which takes the published registry
rows (``key``, ``number``, ``comparison``, ``decimals``: :func:`analysis.published.load_published`
or :func:`tabulate_printed_values`) and returns audit rows (:data:`AUDIT_COLUMNS`) of its family:

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

Modules: ``primitives`` (statuses, constants, the arithmetic of printed numbers, shared by
every family), one module per family (``grim_percent``, ``sd_of_percent``, ``event_rates``,
``fisher_table4``, ``table3_markers``, ``grim_mean``, ``cross_artefact``, ``nesting``) and
``assembly`` (:func:`audit_published`). Every public name is importable from ``analysis.audit``.
"""
from __future__ import annotations

from analysis.audit.assembly import (  # noqa: F401
    audit_published,
    summarise_audit,
)
from analysis.audit.cross_artefact import (  # noqa: F401
    audit_cross_artefact,
)
from analysis.audit.event_rates import (  # noqa: F401
    audit_event_rates,
)
from analysis.audit.fisher_table4 import (  # noqa: F401
    audit_fisher_table4,
)
from analysis.audit.grim_mean import (  # noqa: F401
    audit_grim_means,
)
from analysis.audit.grim_percent import (  # noqa: F401
    audit_grim_percentages,
)
from analysis.audit.nesting import (  # noqa: F401
    audit_response_nesting,
)
from analysis.audit.primitives import (  # noqa: F401
    ARMS,
    AUDIT_COLUMNS,
    CHANGE_ENDPOINTS,
    CONSISTENT,
    FAMILIES,
    GRIM_ITEMS,
    INCONSISTENT,
    MARKER_ALPHA,
    MEAN_TESTS,
    MEDICATION_PAIRS,
    PROPORTION_TESTS,
    RESPONSE_ENDPOINTS,
    RESTATED_ELSEWHERE,
    SECONDARY_ALPHA,
    SHORT_NAMES,
    STATUSES,
    TABLE2_SUBROWS,
    TEST_NAMES,
    UNDECIDABLE,
    ComparisonResult,
    compare_means_from_stats,
    compare_proportions,
    compute_grim_sums,
    compute_grimmer_sums_of_squares,
    compute_matching_counts,
    compute_percentage_sd,
    compute_tolerance,
    meets_printed_p,
    tabulate_printed_values,
)
from analysis.audit.sd_of_percent import (  # noqa: F401
    audit_percentage_sds,
    identify_percentage_sd_formula,
)
from analysis.audit.table3_markers import (  # noqa: F401
    audit_table3_markers,
    identify_marker_tests,
    tabulate_marker_tests,
)
