"""Unit tests of the audit's checks (analysis.audit) on small hand-built registries.

Each check function gets at least one input where the printed numbers agree and one where
they do not; the expected verdicts and numbers are worked out by hand in the comments (or,
for the statistical tests, compared with scipy called directly).
"""
from __future__ import annotations

import math

import pandas as pd
import pytest
from scipy import stats

from analysis.audit import assembly as audit_assembly
from analysis.audit import (
    audit_cross_artefact,
    audit_event_rates,
    audit_fisher_table4,
    audit_grim_means,
    audit_grim_percentages,
    audit_percentage_sds,
    audit_published,
    audit_response_nesting,
    audit_table3_markers,
    compare_means_from_stats,
    compare_proportions,
    compute_grim_sums,
    compute_grimmer_sums_of_squares,
    compute_matching_counts,
    compute_percentage_sd,
    identify_percentage_sd_formula,
    meets_printed_p,
    summarise_audit,
    tabulate_printed_values,
)
from analysis.verify import prints_as

reg = tabulate_printed_values


def status(frame: pd.DataFrame) -> dict[str, str]:
    return dict(zip(frame["check_id"], frame["status"]))


def evidence(frame: pd.DataFrame, check_id: str) -> str:
    return frame.set_index("check_id").loc[check_id, "evidence"]


# ----------------------------------------------------------------------------- primitives


def test_prints_as_accepts_half_unit_either_way():
    assert prints_as(2.25, 2.2, 1) and prints_as(2.25, 2.3, 1)  # exact tie: both directions
    assert not prints_as(2.2501, 2.2, 1)
    assert prints_as(0.0, 0.0, 2)


def test_meets_printed_p_bounds_and_equality():
    assert meets_printed_p(0.0004, 0.001, "<", 3)
    assert not meets_printed_p(0.001, 0.001, "<", 3)  # a bound is strict
    assert meets_printed_p(1.0, 0.999, ">", 3) and not meets_printed_p(0.9, 0.999, ">", 3)
    assert meets_printed_p(0.0815, 0.081, "=", 3) and not meets_printed_p(0.0816, 0.081, "=", 3)


def test_compute_matching_counts():
    assert compute_matching_counts(85.5, 1, 69) == [59]  # 59/69 = 85.507
    assert compute_matching_counts(85.6, 1, 69) == []  # 59/69 = 85.51, 60/69 = 86.96
    assert compute_matching_counts(33, 0, 300) == [98, 99, 100]  # 32.67, 33.00, 33.33


def test_compute_percentage_sd_population_and_sample():
    # p = 1/4: sqrt(3/16) = 0.4330; sample: sqrt(3/16 * 4/3) = 0.5
    assert compute_percentage_sd(1, 4) == pytest.approx(43.30127)
    assert compute_percentage_sd(1, 4, ddof=1) == pytest.approx(50.0)
    assert compute_percentage_sd(4, 4) == 0.0


@pytest.mark.parametrize("test, correction", [("chi2", False), ("chi2_yates", True)])
def test_compare_proportions_chi_square_matches_scipy(test, correction):
    table = [[6, 63], [11, 17]]
    expected = stats.chi2_contingency(table, correction=correction)
    result = compare_proportions(6, 69, 11, 28, test)
    assert result.statistic == pytest.approx(expected[0]) and result.p_value == pytest.approx(expected[1])


def test_compare_proportions_fisher_matches_scipy_and_degenerate_is_one():
    assert compare_proportions(13, 69, 1, 28, "fisher").p_value == pytest.approx(
        stats.fisher_exact([[13, 56], [1, 27]])[1])
    assert compare_proportions(0, 69, 0, 28, "chi2").p_value == 1.0  # no responder at all
    assert compare_proportions(69, 69, 28, 28, "fisher").p_value == 1.0
    with pytest.raises(ValueError, match="unknown test 'z'"):
        compare_proportions(1, 2, 1, 2, "z")


def test_compare_means_from_stats_matches_scipy():
    student = compare_means_from_stats(1.0, 1.0, 10, 2.0, 2.0, 12, "student_t")
    welch = compare_means_from_stats(1.0, 1.0, 10, 2.0, 2.0, 12, "welch_t")
    assert student.p_value == pytest.approx(stats.ttest_ind_from_stats(1, 1, 10, 2, 2, 12, equal_var=True)[1])
    assert welch.p_value == pytest.approx(stats.ttest_ind_from_stats(1, 1, 10, 2, 2, 12, equal_var=False)[1])
    assert student.p_value != welch.p_value
    with pytest.raises(ValueError):
        compare_means_from_stats(1, 1, 2, 1, 1, 2, "mann_whitney")


def test_compute_grim_sums():
    assert compute_grim_sums(2.5, 1, 4) == [10]  # 10/4
    assert compute_grim_sums(2.6, 1, 4) == []  # 10/4 = 2.5, 11/4 = 2.75
    assert compute_grim_sums(2.6, 1, 10) is None  # granularity 0.1 = printing step
    assert compute_grim_sums(-0.32, 2, 8, step=0.125) == []  # -0.3125 and -0.3281 miss -0.32
    assert compute_grim_sums(-0.31, 2, 8, step=0.125) == [-20]  # -20 * 0.125 / 8 = -0.3125


def test_compute_grimmer_sums_of_squares():
    # 1, 2, 3, 4: total 10, sum of squares 30, sample SD sqrt((30 - 25) / 3) = 1.291
    assert compute_grimmer_sums_of_squares(10, 4, 1.29, 2) == [30]
    # SD 1.15 would need Q = 25 + 3 * 1.3225 = 28.97: 29 has the wrong parity for total 10
    assert compute_grimmer_sums_of_squares(10, 4, 1.15, 2) == []


# ----------------------------------------------------------------------------- family 1


def test_grim_percentages_with_count():
    frame = audit_grim_percentages(reg({
        "table1.n.msc": "69", "table1.female.msc.n": "59", "table1.female.msc.pct": "85.5",
        "table1.n.msc_ifng": "28", "table1.female.msc_ifng.n": "24", "table1.female.msc_ifng.pct": "85.8",
    }))
    assert status(frame) == {"grim.table1.female.msc.pct": "consistent",
                             "grim.table1.female.msc_ifng.pct": "inconsistent"}
    assert evidence(frame, "grim.table1.female.msc_ifng.pct") == "24/28 = 85.714% does not print as 85.8"


def test_grim_percentages_without_count_and_pooled():
    frame = audit_grim_percentages(reg({
        "table3.n.msc": "69", "table3.acr50.msc.year1.pct": "21.7", "table3.acr70.msc.year1.pct": "4.2",
        "disposition.randomised.total.n": "110", "text.sae.total.patients": "8", "text.sae.total.pct": "7.3",
        "discussion.retention.total.pct": "88.2", "text.other.total.pct": "12.5",
    }))
    assert status(frame) == {
        "grim.table3.acr50.msc.year1.pct": "consistent",  # 15/69 = 21.739
        "grim.table3.acr70.msc.year1.pct": "inconsistent",  # 2/69 = 2.90, 3/69 = 4.35
        "grim.text.sae.total.pct": "consistent",  # 8/110 = 7.27
        "grim.discussion.retention.total.pct": "consistent",  # k = 97 of 110
        "grim.text.other.total.pct": "inconsistent",  # 13/110 = 11.82, 14/110 = 12.73
    }
    assert evidence(frame, "grim.table3.acr70.msc.year1.pct") == (
        "no whole count of 69 gives 4.2 (2/69 = 2.899%, 3/69 = 4.348%)")


def test_grim_percentages_without_denominator_is_undecidable():
    frame = audit_grim_percentages(reg({"table1.female.msc.pct": "85.5"}))  # no table1.n.msc
    assert status(frame) == {"grim.table1.female.msc.pct": "undecidable"}


def test_grim_percentages_restated_in_text_use_table3_n():
    frame = audit_grim_percentages(reg({
        "table3.n.msc_ifng": "28", "table3.acr20.msc_ifng.year5.pct": "89.3",
        "discussion.acr20.msc_ifng.year5.pct": "89", "discussion.acr20.msc_ifng.year3.pct": "88",
    }))
    # year3 has no Table 3 twin in this frame, so no denominator
    assert status(frame) == {"grim.table3.acr20.msc_ifng.year5.pct": "consistent",
                             "grim.discussion.acr20.msc_ifng.year5.pct": "consistent",
                             "grim.discussion.acr20.msc_ifng.year3.pct": "undecidable"}


# ----------------------------------------------------------------------------- family 2


def test_percentage_sds_population_formula():
    values = {"table3.n.msc": "69", "table3.acr70.msc.year3.pct": "2.9", "table3.acr70.msc.year3.sd": "16.8"}
    frame = audit_percentage_sds(reg(values))
    assert status(frame) == {"sd_formula.table3.acr70.msc.year3.sd": "consistent",
                             "sd_formula.table3.summary": "consistent"}
    assert identify_percentage_sd_formula(reg(values)) == ["population"]


def test_percentage_sds_sample_formula_is_recognised():
    values = {"table3.n.msc": "69", "table3.acr70.msc.year3.pct": "2.9", "table3.acr70.msc.year3.sd": "16.9"}
    frame = audit_percentage_sds(reg(values))
    assert evidence(frame, "sd_formula.table3.acr70.msc.year3.sd") == (
        "k = 2 of 69: sample SD 16.90 prints as 16.9; population SD 16.78 does not")
    assert identify_percentage_sd_formula(reg(values)) == ["sample"]


def test_percentage_sds_no_formula_and_mixed_formulas():
    frame = audit_percentage_sds(reg({
        "table3.n.msc": "69",
        "table3.acr70.msc.year3.pct": "2.9", "table3.acr70.msc.year3.sd": "17.5",  # neither
    }))
    assert status(frame) == {"sd_formula.table3.acr70.msc.year3.sd": "inconsistent",
                             "sd_formula.table3.summary": "inconsistent"}
    mixed = {"table3.n.msc": "69",
             "table3.acr70.msc.year3.pct": "2.9", "table3.acr70.msc.year3.sd": "16.8",  # population
             "table3.acr70.msc.year5.pct": "2.9", "table3.acr70.msc.year5.sd": "16.9"}  # sample
    frame = audit_percentage_sds(reg(mixed))
    assert status(frame)["sd_formula.table3.summary"] == "inconsistent"  # no one formula fits all
    assert identify_percentage_sd_formula(reg(mixed)) == []


# ----------------------------------------------------------------------------- family 3


def test_event_rates_and_subtotals():
    frame = audit_event_rates(reg({
        "table2.n.msc": "80", "table2.py.msc": "445.15",
        "table2.covid19.msc.events": "78", "table2.covid19.msc.rate": "17.52",  # 17.522
        "table2.fever_chills.msc.events": "6", "table2.fever_chills.msc.rate": "1.36",  # 1.348
        "table2.sae_infections.msc.events": "3", "table2.sae_pneumonia.msc.events": "1",
        "table2.sae_tuberculosis.msc.events": "1",
        "text.covid19.msc.rate": "17.5", "discussion.fever_chills.msc.rate": "1.4",
    }))
    assert status(frame) == {
        "rate.table2.covid19.msc": "consistent",
        "rate.table2.fever_chills.msc": "inconsistent",
        "rate.text.covid19.msc.rate": "consistent",  # 17.522 at the text's one decimal
        "rate.discussion.fever_chills.msc.rate": "inconsistent",  # 1.348 does not print as 1.4
        "subtotal.table2.sae_infections.msc": "inconsistent",
    }
    assert evidence(frame, "subtotal.table2.sae_infections.msc") == (
        "3 events printed, but the rows under it add up to 2 (1 + 1): 1 event(s) not shown in any category")


def test_any_ae_row_label_note_only_when_it_exceeds_n():
    rows = {"lymphocyte_count_decreased": "5", "fever_chills": "1", "covid19": "3", "hyperglycemia": "0",
            "hyperlipidemia": "0", "gastrointestinal_disorders": "1"}
    values = {f"table2.{r}.msc.events": v for r, v in rows.items()}
    big = audit_event_rates(reg({"table2.n.msc": "8", "table2.any_ae.msc.events": "10", **values}))
    small = audit_event_rates(reg({"table2.n.msc": "80", "table2.any_ae.msc.events": "10", **values}))
    assert status(big) == status(small) == {"subtotal.table2.any_ae.msc": "consistent"}
    assert "exceeds the 8 patients" in evidence(big, "subtotal.table2.any_ae.msc")
    assert "exceeds" not in evidence(small, "subtotal.table2.any_ae.msc")
    wrong = audit_event_rates(reg({"table2.any_ae.msc.events": "11", **values}))
    assert status(wrong) == {"subtotal.table2.any_ae.msc": "inconsistent"}


def test_text_total_events():
    good = audit_event_rates(reg({"text.any_ae.total.events": "223", "table2.any_ae.msc.events": "161",
                                  "table2.any_ae.msc_ifng.events": "62"}))
    bad = audit_event_rates(reg({"text.any_ae.total.events": "238", "table2.any_ae.msc.events": "161",
                                 "table2.any_ae.msc_ifng.events": "62"}))
    assert status(good) == {"total.text.any_ae.total.events": "consistent"}
    assert status(bad) == {"total.text.any_ae.total.events": "inconsistent"}


# ----------------------------------------------------------------------------- family 4


@pytest.mark.parametrize("printed, expected", [
    ("0.338", "consistent"), ("0.339", "inconsistent"), (">0.05", "consistent"), ("<0.05", "inconsistent"),
])
def test_fisher_table4(printed, expected):
    # 12/69 vs 2/28: two-sided Fisher p = 0.3382
    frame = audit_fisher_table4(reg({
        "table4.n.msc": "69", "table4.n.msc_ifng": "28", "table4.bdmard.msc.year5.n": "12",
        "table4.bdmard.msc_ifng.year5.n": "2", "table4.bdmard.year5.p": printed}))
    assert status(frame) == {"fisher.table4.bdmard.year5": expected}


# ----------------------------------------------------------------------------- family 5

MARKER_BASE = {"table3.n.msc": "69", "table3.n.msc_ifng": "28"}


def test_marker_no_test_reproduces_is_inconsistent():
    # 2/69 vs 4/28: chi-square p = 0.035, Fisher 0.056, Yates 0.10 -- none < 0.001, yet starred
    frame = audit_table3_markers(reg({**MARKER_BASE, "table3.acr70.msc.year3.pct": "2.9",
                                      "table3.acr70.msc_ifng.year3.pct": "14.3", "table3.acr70.year3.marker": "*"}))
    assert status(frame) == {"marker.table3.acr70.year3": "inconsistent",
                             "marker_test.table3.response.p001": "inconsistent",
                             "marker_test.table3.response.p05": "consistent"}
    assert evidence(frame, "marker_test.table3.response.p001").startswith("no candidate test reproduces")


def test_marker_only_chi_square():
    frame = audit_table3_markers(reg({**MARKER_BASE, "table3.das28_remission.msc.year5.pct": "2.9",
                                      "table3.das28_remission.msc_ifng.year5.pct": "25.0",
                                      "table3.das28_remission.year5.marker": "*"}))
    assert status(frame)["marker.table3.das28_remission.year5"] == "consistent"
    assert evidence(frame, "marker_test.table3.response.p001") == (
        "only Pearson chi-square without continuity correction reproduces all 1 response-rate markers at "
        "p<0.001; two-sided Fisher exact misses das28_remission.year5; chi-square with Yates correction "
        "misses das28_remission.year5")


def test_marker_change_scores_and_mann_whitney():
    values = {**MARKER_BASE, "table3.delta_haq_di.msc.year1.mean": "-0.39", "table3.delta_haq_di.msc.year1.sd": "0.28",
              "table3.delta_haq_di.msc_ifng.year1.mean": "-0.89", "table3.delta_haq_di.msc_ifng.year1.sd": "0.26"}
    starred = audit_table3_markers(reg({**values, "table3.delta_haq_di.year1.marker": "*"}))
    assert status(starred) == {"marker.table3.delta_haq_di.year1": "consistent",
                               "marker_test.table3.change.p001": "consistent",
                               "marker_test.table3.change.mann_whitney": "undecidable"}
    unstarred = audit_table3_markers(reg({**values, "table3.delta_haq_di.year1.marker": "none"}))
    assert status(unstarred)["marker.table3.delta_haq_di.year1"] == "inconsistent"


def test_abstract_p_value_against_tests():
    values = {**MARKER_BASE, "table3.das28_lda.msc.year1.pct": "8.7", "table3.das28_lda.msc_ifng.year1.pct": "39.3",
              "table3.das28_lda.year1.marker": "*"}
    good = audit_table3_markers(reg({**values, "abstract.das28_lda.year1.p": "<0.001"}))
    bad = audit_table3_markers(reg({**values, "abstract.das28_lda.year1.p": "<0.0001"}))
    assert status(good)["pvalue.abstract.das28_lda.year1"] == "consistent"
    assert status(bad)["pvalue.abstract.das28_lda.year1"] == "inconsistent"  # p = 0.00033 at best


# ----------------------------------------------------------------------------- family 6


def test_grim_means_three_outcomes():
    frame = audit_grim_means(reg({
        "table1.n.msc": "9", "table1.n.msc_ifng": "28",
        "table1.esr.msc.mean": "45.11",  # 406/9 = 45.111
        "table1.esr.msc_ifng.mean": "46.59",  # not k/28
        "table1.age.msc.mean": "46.7", "table1.age.msc.sd": "10.2",  # 420/9 = 46.67 -> 46.7
        "table1.haq_di.msc_ifng.mean": "1.60",  # 0.125/28 < 0.01
        "table1.das28_esr.msc.mean": "5.72",
    }))
    assert status(frame) == {
        "grim_mean.table1.age.msc": "consistent",
        "grimmer.table1.age.msc.sd": "undecidable",  # 8 x 4 x 10.2 x 0.05 = 16.3 >= 2
        "grim_mean.table1.haq_di.msc_ifng": "undecidable",
        "grim_mean.table1.esr.msc": "consistent",
        "grim_mean.table1.esr.msc_ifng": "inconsistent",
        "grim_mean.table1.das28_esr.msc": "undecidable",
    }


def test_grimmer_with_small_n():
    # 1, 2, 3, 4 years: mean 2.50, SD 1.29 (total 10, Q = 30); SD 1.15 is unreachable
    base = {"table1.n.msc": "4", "table1.age.msc.mean": "2.50"}
    good = audit_grim_means(reg({**base, "table1.age.msc.sd": "1.29"}))
    bad = audit_grim_means(reg({**base, "table1.age.msc.sd": "1.15"}))
    assert status(good)["grimmer.table1.age.msc.sd"] == "consistent"
    assert status(bad)["grimmer.table1.age.msc.sd"] == "inconsistent"


# ----------------------------------------------------------------------------- family 7


def test_medication_history_vs_baseline_use():
    frame = audit_cross_artefact(reg({
        "table1.hx_csdmard.msc.n": "69", "table4.csdmard.msc.baseline.n": "69",
        "table1.hx_bdmard.msc.n": "13", "table4.bdmard.msc.baseline.n": "10",
        "table1.hx_prednisone.msc.n": "24", "table4.prednisone.msc.baseline.n": "25",
    }))
    assert status(frame) == {"medication.csdmard.msc": "consistent", "medication.bdmard.msc": "consistent",
                             "medication.prednisone.msc": "inconsistent"}
    assert "ever-use" in evidence(frame, "medication.bdmard.msc")


def test_restatements_at_the_coarser_precision():
    frame = audit_cross_artefact(reg({
        "table2.sae.msc.rate": "2.47", "discussion.sae.msc.rate": "2.5", "text.sae.msc.rate": "2.48",
        "disposition.completed.total.pct": "88.2", "discussion.retention.total.pct": "88.3",
        "table3.acr20.year1.marker": "*", "abstract.acr20.year1.p": "<0.001",
        "table3.acr50.year1.marker": "none", "abstract.acr50.year1.p": "<0.001",
    }))
    assert status(frame) == {
        "restated.discussion.sae.msc.rate": "consistent",
        "restated.text.sae.msc.rate": "inconsistent",
        "restated.discussion.retention.total.pct": "inconsistent",
        "restated.abstract.acr20.year1.p": "consistent",
        "restated.abstract.acr50.year1.p": "inconsistent",
    }


def test_disposition_flow():
    good = {"disposition.randomised.total.n": "110", "disposition.completed.total.n": "97",
            "disposition.discontinued.total.n": "13", "disposition.discontinued_lack_of_efficacy.total.n": "7",
            "disposition.discontinued_adverse_event.total.n": "6"}
    assert set(status(audit_cross_artefact(reg(good))).values()) == {"consistent"}
    bad = audit_cross_artefact(reg({**good, "disposition.discontinued_adverse_event.total.n": "5"}))
    assert status(bad) == {"disposition.completed_plus_discontinued": "consistent",
                           "disposition.discontinued_reasons": "inconsistent"}


def test_noncovid_rates_and_autoimmune_patients():
    values = {"table2.py.msc": "445.15", "table2.sae.msc.events": "11", "table2.sae_pneumonia.msc.events": "1",
              "discussion.sae_sjogren.total.patients": "3", "discussion.sae_sle.total.patients": "1"}
    good = audit_cross_artefact(reg({**values, "discussion.sae_noncovid.msc.rate": "2.25",
                                     "discussion.sae_autoimmune.total.patients": "4"}))
    bad = audit_cross_artefact(reg({**values, "discussion.sae_noncovid.msc.rate": "2.47",
                                    "discussion.sae_autoimmune.total.patients": "5"}))
    assert status(good) == {"noncovid.discussion.sae_noncovid.msc.rate": "consistent",
                            "pooled.discussion.sae_autoimmune.sjogren_plus_sle": "consistent"}
    assert status(bad) == {"noncovid.discussion.sae_noncovid.msc.rate": "inconsistent",
                           "pooled.discussion.sae_autoimmune.sjogren_plus_sle": "inconsistent"}


def test_sae_patients_between_bounds():
    values = {"table2.sae.msc.events": "11", "table2.sae.msc_ifng.events": "4",
              "discussion.sae_autoimmune.total.patients": "4"}
    assert status(audit_cross_artefact(reg({**values, "text.sae.total.patients": "8"}))) == {
        "sae_patients.total": "consistent"}
    assert status(audit_cross_artefact(reg({**values, "text.sae.total.patients": "3"}))) == {
        "sae_patients.total": "inconsistent"}


# ----------------------------------------------------------------------------- family 8


def test_response_nesting():
    values = {"table3.n.msc": "69", "table3.acr20.msc.year1.pct": "50.7", "table3.acr50.msc.year1.pct": "21.7"}
    good = audit_response_nesting(reg({**values, "table3.acr70.msc.year1.pct": "4.3"}))
    bad = audit_response_nesting(reg({**values, "table3.acr70.msc.year1.pct": "23.2"}))  # 16 > 15
    assert status(good) == {"nesting.table3.acr.msc.year1": "consistent"}
    assert status(bad) == {"nesting.table3.acr.msc.year1": "inconsistent"}
    assert evidence(bad, "nesting.table3.acr.msc.year1") == "acr70 16 > acr50 15 of 69"


# ----------------------------------------------------------------------------- assembly


def test_audit_published_rejects_duplicate_check_ids(monkeypatch):
    duplicate = lambda published: pd.DataFrame(  # noqa: E731
        [{"check_id": "x", "family": "nesting", "keys": "table3.n.msc", "status": "consistent", "evidence": "e"}] * 2)
    monkeypatch.setitem(audit_assembly._FAMILY_FUNCTIONS, "nesting", duplicate)
    with pytest.raises(ValueError, match=r"duplicate check_id \['x'\]"):
        audit_published(reg({"table3.n.msc": "69"}))


def test_audit_published_rejects_unknown_keys(monkeypatch):
    unknown = lambda published: pd.DataFrame(  # noqa: E731
        [{"check_id": "x", "family": "nesting", "keys": "table9.n.msc", "status": "consistent", "evidence": "e"}])
    monkeypatch.setitem(audit_assembly._FAMILY_FUNCTIONS, "nesting", unknown)
    with pytest.raises(ValueError, match=r"absent from the registry: \['table9\.n\.msc'\]"):
        audit_published(reg({"table3.n.msc": "69"}))


def test_summarise_audit_counts_and_lists_inconsistent():
    frame = pd.DataFrame([
        {"check_id": "a", "family": "nesting", "keys": "k", "status": "consistent", "evidence": "fine"},
        {"check_id": "b", "family": "nesting", "keys": "k", "status": "inconsistent", "evidence": "3 > 2"},
        {"check_id": "c", "family": "grim_mean", "keys": "k", "status": "undecidable", "evidence": "coarse"},
    ])
    assert summarise_audit(frame).splitlines() == [
        "grim_mean: 0 consistent, 0 inconsistent, 1 undecidable",
        "nesting: 1 consistent, 1 inconsistent, 0 undecidable",
        "total: 1 consistent, 1 inconsistent, 1 undecidable (3 checks)",
        "inconsistent: b (nesting): 3 > 2",
    ]


def test_tabulate_printed_values_parses_like_the_registry():
    frame = reg({"table2.sae.msc.rate": "2.47", "table3.acr20.year1.marker": "*"})
    assert frame.to_dict("records") == [
        {"key": "table2.sae.msc.rate", "value": "2.47", "number": 2.47, "comparison": "=", "decimals": 2},
        {"key": "table3.acr20.year1.marker", "value": "*", "number": 1.0, "comparison": "=", "decimals": 0},
    ]
    assert math.isclose(frame["number"].sum(), 3.47)
