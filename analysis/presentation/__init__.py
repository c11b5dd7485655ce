"""Numbers as the reader sees them: the paper's table layouts, their rendering in the book and
the status tables of the report pages.

* :mod:`analysis.printing` (outside this package, so that what depends on the printing rule does
  not depend on the layouts): how one registry value prints;
* :mod:`analysis.presentation.layouts`: the paper's tables laid out from registry rows;
* :mod:`analysis.presentation.rendering`: a laid-out table as the book shows it (grid table, CSV
  and XLSX download, synthetic-data label);
* :mod:`analysis.presentation.status`: the reproduction report's and the audit's status tables.

The notebooks call ``presentation.<name>``; every public name of the modules above is here.
"""
from __future__ import annotations

from analysis.presentation.layouts import (  # noqa: F401
    ARM_COLUMN_LABELS,
    POPULATION_LABELS,
    TABLE1_ROWS,
    TABLE2_LEVELS,
    TABLE3_ROWS,
    TABLE4_ROWS,
    TIMEPOINT_LABELS,
    PaperTable,
    Row,
    caption_efficacy,
    layout_cluster_tests,
    layout_dropouts,
    layout_durability,
    layout_incidence,
    layout_longitudinal,
    layout_nri_comparison,
    layout_sae_without_covid,
    layout_safety_rates,
    layout_table1,
    layout_table2,
    layout_table3,
    layout_table4,
    undetermined_note,
    visit_display,
)
from analysis.presentation.rendering import (  # noqa: F401
    show_download,
    show_published_table,
    show_table,
    to_grid_table,
)
from analysis.presentation.status import (  # noqa: F401
    ARTEFACT_LABELS,
    AUDIT_FAMILY_LABELS,
    STATUS_TABLE_WIDTHS,
    STATUSES,
    format_status,
    layout_audit_family,
    layout_audit_findings,
    layout_audit_summary,
    layout_reproduction_section,
    layout_reproduction_summary,
    show_audit_family,
    show_reproduction_section,
    show_status_table,
    to_status_list_table,
)
from analysis.printing import (  # noqa: F401
    MISSING,
    STAT_FORMATS,
    UNDETERMINED_MARK,
    MarkedRegistry,
    format_number,
    format_p,
    format_value,
    stat_of,
    take_marked,
)
