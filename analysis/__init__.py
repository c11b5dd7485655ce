"""Reproduction of Yang, He et al. (2025), doi:10.1186/s13287-025-04772-x, as code.

The package turns a patient-level dataset that meets the data contract
(``data/README.md``) into every number the paper publishes about the study.

Pipeline: :mod:`analysis.contract` (load and validate raw data) ->
:mod:`analysis.endpoints` (DAS28, HAQ-DI, ACR responses) ->
:mod:`analysis.populations`, :mod:`analysis.safety`, :mod:`analysis.medications` ->
:mod:`analysis.tables` (each published artefact) -> :mod:`analysis.results`
(results registry) -> :mod:`analysis.verify` (published vs reproduced).
"""
