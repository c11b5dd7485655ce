"""Synthetic cohort generator: raw patient-level data whose aggregates print as published.

The trial's patient-level data are not public; this subpackage invents a cohort in the data
contract (``data/README.md``) such that :func:`analysis.tables.compute_results` run on it
reproduces the published registry (``data/published``). It writes raw measurements only;
every endpoint is left to the analysis package.

Modules, in the order they run:

``targets``    the published registry as typed targets (counts, mean/SD windows);
``design``     structural facts the paper states and our judgement calls;
``schedule``   patients, roles, transplantation dates, visit dates, end of study;
``baseline``   Table 1 characteristics and baseline measurements;
``visits``     follow-up measurements (Table 3 responses and change scores);
``regimens``   medication intervals (Table 1 history, Table 4 use);
``events``     adverse events (Table 2 and the safety narratives);
``moments``    the integer-step search that brings means and SDs inside printed windows;
``generate``   orchestration, CSV formatting and the check against the registry;
``readme``     the README written next to the data.

Command line: ``python -m analysis.synthetic --seed 20250617 --out data/synthetic``.
"""
from analysis.synthetic.generate import DEFAULT_SEED, Cohort, check_cohort, generate_cohort, write_tables

__all__ = ["DEFAULT_SEED", "Cohort", "check_cohort", "generate_cohort", "write_tables"]
