"""The numbers the article's text states again: the abstract, the results text and the
discussion restate table values (and the disposition paragraph restates its own counts). Each
restatement is a registry row of its own, carrying the value of the computed key it restates,
so the reproduction report compares every printed occurrence.

Kept apart from :mod:`analysis.tables` so that the book's merge of the runs' fragments
(:mod:`analysis.build.publishing`) adds the restatements without loading the statistics.
"""
from __future__ import annotations

from analysis.results import make_result

#: Numbers the abstract, the results text and the discussion state (and the disposition
#: paragraph's restatements), each mapped to the computed key that carries the same quantity.
#: Where the text states a rounded or one-arm version of a table value, the comparison with the
#: printed precision does the rest (e.g. "2.3-2.5 per 100 PY" are the two SAE rates at 1 decimal).
NARRATIVE_KEYS: dict[str, str] = {
    "disposition.completed_restated.total.n": "disposition.completed.total.n",
    "disposition.followup_years.total.range_max": "disposition.followup_years.total.max",
    "abstract.treated.total.n": "table2.n.total",
    "abstract.sae.msc.rate": "table2.sae.msc.rate",
    "abstract.sae.msc_ifng.rate": "table2.sae.msc_ifng.rate",
    "abstract.acr20.msc_ifng.year1.pct": "table3.acr20.msc_ifng.year1.pct",
    "abstract.acr20.msc.year1.pct": "table3.acr20.msc.year1.pct",
    "abstract.acr20.year1.p": "table3.acr20.year1.p",
    "abstract.das28_lda.msc_ifng.year1.pct": "table3.das28_lda.msc_ifng.year1.pct",
    "abstract.das28_lda.msc.year1.pct": "table3.das28_lda.msc.year1.pct",
    "abstract.das28_lda.year1.p": "table3.das28_lda.year1.p",
    "abstract.acr20.msc_ifng.year5.pct": "table3.acr20.msc_ifng.year5.pct",
    "abstract.acr20.msc.year5.pct": "table3.acr20.msc.year5.pct",
    "abstract.acr20.year5.p": "table3.acr20.year5.p",
    "abstract.das28_lda.msc_ifng.year5.pct": "table3.das28_lda.msc_ifng.year5.pct",
    "abstract.das28_lda.msc.year5.pct": "table3.das28_lda.msc.year5.pct",
    "abstract.das28_lda.year5.p": "table3.das28_lda.year5.p",
    "text.any_ae.total.events": "table2.any_ae.total.events",
    "text.any_ae.msc.rate": "table2.any_ae.msc.rate",
    "text.any_ae.msc_ifng.rate": "table2.any_ae.msc_ifng.rate",
    "text.lymphocyte_count_decreased.msc.rate": "table2.lymphocyte_count_decreased.msc.rate",
    "text.lymphocyte_count_decreased.msc_ifng.rate": "table2.lymphocyte_count_decreased.msc_ifng.rate",
    "text.covid19.msc.rate": "table2.covid19.msc.rate",
    "text.covid19.msc_ifng.rate": "table2.covid19.msc_ifng.rate",
    "text.sae.total.patients": "safety.sae.total.patients",
    "text.sae.total.pct": "safety.sae.total.pct",
    "text.sae.msc.rate": "table2.sae.msc.rate",
    "text.sae.msc_ifng.rate": "table2.sae.msc_ifng.rate",
    "text.sae_autoimmune.msc.rate": "table2.sae_autoimmune.msc.rate",
    "text.sae_autoimmune.msc_ifng.rate": "table2.sae_autoimmune.msc_ifng.rate",
    "text.sae_infections.msc.rate": "table2.sae_infections.msc.rate",
    "text.sae_infections.msc.events": "table2.sae_infections.msc.events",
    "text.sae_pneumonia.msc.events": "table2.sae_pneumonia.msc.events",
    "text.sae_tuberculosis.msc.events": "table2.sae_tuberculosis.msc.events",
    "text.sae_cerebral_infarction.msc.patients": "table2.sae_cerebral_infarction.msc.patients",
    "text.sae_cerebral_infarction.msc.events": "table2.sae_cerebral_infarction.msc.events",
    "text.acr20.msc_ifng.year1.pct": "table3.acr20.msc_ifng.year1.pct",
    "text.acr20.msc.year1.pct": "table3.acr20.msc.year1.pct",
    "text.das28_lda.msc_ifng.year1.pct": "table3.das28_lda.msc_ifng.year1.pct",
    "text.das28_lda.msc.year1.pct": "table3.das28_lda.msc.year1.pct",
    "text.acr20.msc_ifng.year5.pct": "table3.acr20.msc_ifng.year5.pct",
    "text.acr20.msc.year5.pct": "table3.acr20.msc.year5.pct",
    "text.das28_lda.msc_ifng.year5.pct": "table3.das28_lda.msc_ifng.year5.pct",
    "text.das28_lda.msc.year5.pct": "table3.das28_lda.msc.year5.pct",
    "text.das28_remission.msc_ifng.year3.pct": "table3.das28_remission.msc_ifng.year3.pct",
    "text.das28_remission.msc.year3.pct": "table3.das28_remission.msc.year3.pct",
    "text.das28_remission.msc_ifng.year5.pct": "table3.das28_remission.msc_ifng.year5.pct",
    "text.das28_remission.msc.year5.pct": "table3.das28_remission.msc.year5.pct",
    "text.drug_free_remission.msc_ifng.year5.patients": "efficacy.drug_free_remission.msc_ifng.year5.patients",
    "discussion.randomised.total.n": "disposition.randomised.total.n",
    "discussion.completed.total.pct": "disposition.completed.total.pct",
    "discussion.completed.total.n": "disposition.completed.total.n",
    "discussion.completers_vs_dropouts_baseline.total.p": "baseline_dropouts.min_p.total.p",
    "discussion.sae_infections.msc.rate": "table2.sae_infections.msc.rate",
    "discussion.sae_infections.msc_ifng.rate": "table2.sae_infections.msc_ifng.rate",
    "discussion.sae.msc_ifng.rate": "table2.sae.msc_ifng.rate",
    "discussion.sae.msc.rate": "table2.sae.msc.rate",
    "discussion.acr20.msc.year5.pct": "table3.acr20.msc.year5.pct",
    "discussion.acr20.msc_ifng.year5.pct": "table3.acr20.msc_ifng.year5.pct",
    "discussion.sae_pneumonia.total.patients": "table2.sae_pneumonia.total.patients",
    "discussion.covid19.msc.rate": "table2.covid19.msc.rate",
    "discussion.sae_noncovid.msc.rate": "safety.sae_noncovid.msc.rate",
    "discussion.sae_noncovid.msc_ifng.rate": "safety.sae_noncovid.msc_ifng.rate",
    "discussion.sae_pneumonia.total.events": "table2.sae_pneumonia.total.events",
    "discussion.sae_autoimmune.total.patients": "table2.sae_autoimmune.total.patients",
    "discussion.sae_sjogren.total.patients": "table2.sae_sjogren.total.patients",
    "discussion.sae_sle.total.patients": "table2.sae_sle.total.patients",
    "discussion.retention.total.pct": "disposition.completed.total.pct",
}


def registry_narrative(computed: dict[str, float], only_present: bool = False) -> list[dict]:
    """Registry rows for the numbers stated in the text, restating computed keys.

    A restated key missing from ``computed`` raises ``KeyError``; with ``only_present`` (the
    book's merge of the fragments of a run plan that may not compute every key) it is skipped.

    Examples
    --------
    >>> [r["key"] for r in registry_narrative({"table2.n.total": 110.0}, only_present=True)]
    ['abstract.treated.total.n']
    """
    return [make_result(key, computed[source], f"restates {source}") for key, source in NARRATIVE_KEYS.items()
            if not only_present or source in computed]
