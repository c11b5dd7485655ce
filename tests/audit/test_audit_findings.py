"""The audit's findings on the shipped published registry (analysis.audit).

Every finding of the consistency audit is written here as data, so that a change in the
registry or in a check that alters a finding fails a test: the exact sets of inconsistent and
undecidable checks, the per-family counts, the SD formula of Table 3, the test that reproduces
the Table 3 markers, the Table 4 Fisher p-values, and the keys that no check reads.
"""
from __future__ import annotations

import pandas as pd
import pytest

from analysis.audit import (
    AUDIT_COLUMNS,
    FAMILIES,
    STATUSES,
    audit_published,
    identify_marker_tests,
    identify_percentage_sd_formula,
    summarise_audit,
    tabulate_marker_tests,
)
from analysis.published import load_published


@pytest.fixture(scope="module")
def registry() -> pd.DataFrame:
    return load_published()


@pytest.fixture(scope="module")
def audit(registry) -> pd.DataFrame:
    return audit_published(registry)


@pytest.fixture(scope="module")
def by_id(audit) -> pd.DataFrame:
    return audit.set_index("check_id")


@pytest.fixture(scope="module")
def marker_tests(registry) -> pd.DataFrame:
    return tabulate_marker_tests(registry)


def ids(audit: pd.DataFrame, status: str, family: str | None = None) -> set[str]:
    rows = audit[audit["status"] == status]
    if family is not None:
        rows = rows[rows["family"] == family]
    return set(rows["check_id"])


# ----------------------------------------------------------------------------- shape


def test_audit_frame_is_well_formed(audit, registry):
    assert list(audit.columns) == list(AUDIT_COLUMNS)
    assert audit["check_id"].is_unique
    assert set(audit["status"]) <= set(STATUSES)
    assert list(dict.fromkeys(audit["family"])) == list(FAMILIES)
    assert (audit["evidence"].str.len() > 10).all()
    keys = {k for ks in audit["keys"] for k in ks.split(";")}
    assert keys <= set(registry["key"])


def test_counts_per_family_and_status(audit):
    counts = audit.groupby(["family", "status"]).size().to_dict()
    assert counts == {
        ("grim_percent", "consistent"): 101,
        ("sd_of_percent", "consistent"): 31,
        ("event_rates", "consistent"): 66,
        ("event_rates", "inconsistent"): 2,
        ("fisher_table4", "consistent"): 16,
        ("table3_markers", "consistent"): 28,
        ("table3_markers", "undecidable"): 1,
        ("grim_mean", "consistent"): 1,
        ("grim_mean", "inconsistent"): 1,
        ("grim_mean", "undecidable"): 19,
        ("cross_artefact", "consistent"): 80,
        ("cross_artefact", "undecidable"): 1,
        ("nesting", "consistent"): 12,
    }


def test_exact_set_of_inconsistent_checks(audit):
    assert ids(audit, "inconsistent") == {
        # Table 2: the SAE row exceeds the categories printed under it (11 vs 9, 4 vs 2)
        "subtotal.table2.sae.msc",
        "subtotal.table2.sae.msc_ifng",
        # Table 1: ESR 46.59 is no mean of 28 whole-mm/h values (it is one of 27)
        "grim_mean.table1.esr.msc_ifng",
    }


def test_exact_set_of_undecidable_checks(audit):
    grim_not_testable = {
        f"grim_mean.table1.{item}.{arm}" for item in ("age", "ra_duration", "das28_esr", "haq_di", "crp")
        for arm in ("msc", "msc_ifng")
    } | {f"grim_mean.table3.delta_haq_di.{arm}.{t}" for arm in ("msc", "msc_ifng") for t in ("year1", "year3", "year5")}
    grimmer_not_testable = {"grimmer.table1.age.msc.sd", "grimmer.table1.age.msc_ifng.sd", "grimmer.table1.esr.msc.sd"}
    assert ids(audit, "undecidable") == grim_not_testable | grimmer_not_testable | {
        "marker_test.table3.change.mann_whitney",
        "unverifiable.discussion.completers_vs_dropouts_baseline.total.p",
    }


def test_keys_that_no_check_reads(audit, registry):
    """Only SDs of continuous (or, for ESR in the combination arm, GRIM-failed) Table 1 items
    are left unaudited: no check exists for them without patient data."""
    read = {k for ks in audit["keys"] for k in ks.split(";")}
    assert set(registry["key"]) - read == {
        "table1.crp.msc.sd", "table1.crp.msc_ifng.sd", "table1.das28_esr.msc.sd", "table1.das28_esr.msc_ifng.sd",
        "table1.esr.msc_ifng.sd", "table1.haq_di.msc.sd", "table1.haq_di.msc_ifng.sd",
        "table1.ra_duration.msc.sd", "table1.ra_duration.msc_ifng.sd",
    }


def test_audit_reads_only_the_printed_values(registry, audit):
    """The audit depends on the registry alone, and only on its printed-value columns."""
    minimal = registry[["key", "value", "number", "comparison", "decimals"]].copy()
    pd.testing.assert_frame_equal(audit_published(minimal), audit)


# ----------------------------------------------------------------------------- family 1


def test_every_percentage_is_checked_and_consistent(audit, registry):
    pct_keys = set(registry.loc[registry["key"].str.endswith(".pct"), "key"])
    grim = audit[audit["family"] == "grim_percent"]
    assert set(grim["check_id"]) == {f"grim.{k}" for k in pct_keys}
    assert (grim["status"] == "consistent").all()


@pytest.mark.parametrize("check_id, evidence", [
    ("grim.table1.female.msc.pct", "59/69 = 85.507% prints as 85.5"),
    ("grim.text.sae.total.pct", "8/110 = 7.273% prints as 7.3"),
    ("grim.disposition.discontinued_adverse_event.total.pct", "6/110 = 5.455% prints as 5.5"),
    ("grim.table3.das28_remission.msc_ifng.year5.pct", "k = 7 of 28 gives 25.000%, printed 25.0"),
    ("grim.table1.rf_positive.msc.pct", "k = 66 of 69 gives 95.652%, printed 95.7"),
    ("grim.table4.tsdmard.msc_ifng.year3.pct", "1/28 = 3.57% prints as 4"),
])
def test_percentage_evidence(by_id, check_id, evidence):
    assert by_id.loc[check_id, "evidence"] == evidence


# ----------------------------------------------------------------------------- family 2


def test_sd_formula_is_population(registry, by_id):
    assert identify_percentage_sd_formula(registry) == ["population"]
    summary = by_id.loc["sd_formula.table3.summary"]
    assert summary["status"] == "consistent"
    assert summary["evidence"] == ("population SD 100*sqrt(p(1-p)) reproduces 30 of 30 cells; "
                                   "sample SD (n-1 denominator) reproduces 2 of 30")


def test_sample_sd_fits_only_two_cells(audit):
    cells = audit[(audit["family"] == "sd_of_percent") & audit["evidence"].str.contains("both print")]
    assert set(cells["check_id"]) == {
        "sd_formula.table3.das28_remission.msc.year3.sd",  # 1/69: 11.95 and 12.04 both print 12.0
        "sd_formula.table3.acr20.msc_ifng.year1.sd",  # 28/28: both 0
    }


# ----------------------------------------------------------------------------- family 3


def test_table2_sae_total_exceeds_its_categories(by_id):
    assert by_id.loc["subtotal.table2.sae.msc", "evidence"].startswith(
        "11 events printed, but the rows under it add up to 9")
    assert by_id.loc["subtotal.table2.sae.msc_ifng", "evidence"].startswith(
        "4 events printed, but the rows under it add up to 2")


def test_at_least_one_ae_row_counts_events(by_id):
    msc = by_id.loc["subtotal.table2.any_ae.msc"]
    assert msc["status"] == "consistent"
    assert msc["evidence"].startswith("161 events = 71 + 6 + 78 + 3 + 2 + 1 ")
    assert "exceeds the 80 patients of the arm, so the row counts events" in msc["evidence"]
    ifng = by_id.loc["subtotal.table2.any_ae.msc_ifng"]
    assert ifng["evidence"].startswith("62 events = 27 + 5 + 29 + 1 + 0 + 0 ")
    assert "exceeds the 30 patients" in ifng["evidence"]


def test_sub_rows_and_text_total(by_id):
    for check_id in ("subtotal.table2.sae_autoimmune.msc", "subtotal.table2.sae_autoimmune.msc_ifng",
                     "subtotal.table2.sae_infections.msc", "subtotal.table2.sae_infections.msc_ifng",
                     "total.text.any_ae.total.events", "total.discussion.sae_pneumonia.total.events"):
        assert by_id.loc[check_id, "status"] == "consistent", check_id
    assert by_id.loc["total.text.any_ae.total.events", "evidence"].startswith("223 = 161 + 62")


def test_every_rate_is_recomputed(audit, registry):
    rate_keys = registry.loc[registry["key"].str.endswith(".rate"), "key"]
    table2 = {k for k in rate_keys if k.startswith("table2.")}
    text = {k for k in rate_keys if not k.startswith("table2.") and "noncovid" not in k}
    rates = audit[audit["check_id"].str.startswith("rate.")]
    expected = {"rate." + k.removesuffix(".rate") for k in table2} | {f"rate.{k}" for k in text}
    assert set(rates["check_id"]) == expected
    assert len(table2) == 40 and len(text) == 18
    assert (rates["status"] == "consistent").all()


# ----------------------------------------------------------------------------- family 4


def test_table4_fisher_p_values_all_reproduced(audit):
    fisher = audit[audit["family"] == "fisher_table4"].set_index("check_id")
    assert len(fisher) == 16 and (fisher["status"] == "consistent").all()
    computed = {i: e.split("Fisher exact p = ")[1].split(",")[0] for i, e in fisher["evidence"].items()}
    assert computed == {
        "fisher.table4.csdmard.baseline": "1.0000", "fisher.table4.csdmard.year1": "0.0812",
        "fisher.table4.csdmard.year3": "0.0812", "fisher.table4.csdmard.year5": "0.0812",
        "fisher.table4.tsdmard.baseline": "1.0000", "fisher.table4.tsdmard.year1": "1.0000",
        "fisher.table4.tsdmard.year3": "1.0000", "fisher.table4.tsdmard.year5": "0.0608",
        "fisher.table4.bdmard.baseline": "0.8204", "fisher.table4.bdmard.year1": "0.0608",
        "fisher.table4.bdmard.year3": "0.1703", "fisher.table4.bdmard.year5": "0.3382",
        "fisher.table4.prednisone.baseline": "1.0000", "fisher.table4.prednisone.year1": "2.2e-05",
        "fisher.table4.prednisone.year3": "5.8e-05", "fisher.table4.prednisone.year5": "0.0093",
    }


# ----------------------------------------------------------------------------- family 5


def test_only_uncorrected_chi_square_reproduces_all_markers_at_footnote_threshold(marker_tests, by_id):
    assert identify_marker_tests(marker_tests, "response", 0.001) == ["chi2"]
    row = by_id.loc["marker_test.table3.response.p001"]
    assert row["status"] == "consistent"
    assert row["evidence"].startswith("only Pearson chi-square without continuity correction reproduces all 15")


def test_marker_disagreements_at_footnote_threshold(marker_tests):
    at = marker_tests[(marker_tests["alpha"] == 0.001) & ~marker_tests["agrees"]]
    assert set(zip(at["test"], at["endpoint"], at["timepoint"])) == {
        ("fisher", "das28_remission", "year5"),
        ("chi2_yates", "das28_remission", "year5"),
    }


def test_markers_at_secondary_threshold(marker_tests, by_id):
    """At 0.05 Fisher and Yates reproduce every marker; uncorrected chi-square over-marks the
    three cells with p = 0.035 (2/69 vs 4/28 occurs three times: remission year 1, ACR70 years
    3 and 5)."""
    assert identify_marker_tests(marker_tests, "response", 0.05) == ["fisher", "chi2_yates"]
    at = marker_tests[(marker_tests["alpha"] == 0.05) & ~marker_tests["agrees"]]
    assert set(zip(at["test"], at["endpoint"], at["timepoint"])) == {
        ("chi2", "das28_remission", "year1"), ("chi2", "acr70", "year3"), ("chi2", "acr70", "year5"),
    }
    assert at["predicted"].all()
    assert by_id.loc["marker_test.table3.response.p05", "evidence"].endswith(
        "over-marks das28_remission.year1, acr70.year3, acr70.year5")


def test_change_score_markers(marker_tests, by_id):
    assert identify_marker_tests(marker_tests, "change", 0.001) == ["student_t", "welch_t"]
    change = marker_tests[marker_tests["scale"] == "change"]
    assert change.groupby(["endpoint", "timepoint"]).ngroups == 6
    assert change["p_value"].max() < 1e-8
    assert by_id.loc["marker_test.table3.change.mann_whitney", "status"] == "undecidable"


def test_every_marker_cell_is_reproduced_by_some_test(audit):
    cells = audit[audit["check_id"].str.startswith("marker.table3.")]
    assert len(cells) == 21 and (cells["status"] == "consistent").all()
    disagreeing = cells[~cells["evidence"].str.contains("all agree")]
    assert list(disagreeing["check_id"]) == ["marker.table3.das28_remission.year5"]


def test_abstract_p_values_hold_under_every_test(audit):
    rows = audit[audit["check_id"].str.startswith("pvalue.abstract.")]
    assert set(rows["check_id"]) == {f"pvalue.abstract.{e}.{t}" for e in ("acr20", "das28_lda")
                                     for t in ("year1", "year5")}
    assert (rows["status"] == "consistent").all()
    assert rows["evidence"].str.endswith("all tests agree").all()


# ----------------------------------------------------------------------------- family 6


def test_esr_grim(by_id):
    assert by_id.loc["grim_mean.table1.esr.msc", "evidence"] == (
        "values in whole mm/h: 3165/69 = 45.8696 prints as 45.87")
    assert by_id.loc["grim_mean.table1.esr.msc_ifng", "evidence"] == (
        "values in whole mm/h: no total over 28 prints as 46.59 (1304/28 = 46.5714, 1305/28 = 46.6071); "
        "reachable with N = 27 (1258/27 = 46.5926)")


# ----------------------------------------------------------------------------- family 7


def test_medication_history_vs_baseline(audit):
    rows = audit[audit["check_id"].str.startswith("medication.")].set_index("check_id")
    assert (rows["status"] == "consistent").all()
    differ = set(rows.index[rows["evidence"].str.contains("ever-use")])
    assert differ == {"medication.bdmard.msc_ifng", "medication.prednisone.msc", "medication.prednisone.msc_ifng"}
    assert rows.loc["medication.bdmard.msc_ifng", "evidence"].startswith("history 13 > baseline use 10")
    assert rows.loc["medication.prednisone.msc", "evidence"].startswith("history 59 > baseline use 57")
    assert rows.loc["medication.prednisone.msc_ifng", "evidence"].startswith("history 25 > baseline use 24")


def test_every_restatement_agrees(audit, registry):
    restated = audit[audit["check_id"].str.startswith("restated.")]
    assert len(restated) == 53
    assert (restated["status"] == "consistent").all()
    text_keys = set(registry.loc[registry["artefact"].isin(["abstract", "text", "discussion"]), "key"])
    assert {c.removeprefix("restated.") for c in restated["check_id"]} <= text_keys


@pytest.mark.parametrize("check_id, evidence", [
    ("noncovid.discussion.sae_noncovid.msc.rate",
     "100 x (11 SAEs - 1 COVID-19 pneumonia)/445.15 PY = 2.2464 prints as 2.25"),
    ("noncovid.discussion.sae_noncovid.msc_ifng.rate",
     "100 x (4 SAEs - 0 COVID-19 pneumonia)/172.89 PY = 2.3136 prints as 2.31"),
    ("pooled.discussion.sae_autoimmune.sjogren_plus_sle", "3 Sjögren + 1 SLE = 4 new autoimmune diagnoses"),
    ("pooled.discussion.sae_sjogren.total.patients", "3 patients = 2 + 1 Table 2 events (one event per patient)"),
    ("pooled.discussion.sae_sle.total.patients", "1 patient = 0 + 1 Table 2 events (one event per patient)"),
    ("sae_patients.total",
     "4 patients with a new autoimmune disease <= 8 patients with an SAE <= 11 + 4 = 15 SAE events"),
    ("disposition.completed_plus_discontinued", "97 + 13 = 110 (completers + discontinued = randomised)"),
    ("disposition.discontinued_reasons", "7 + 6 = 13 (lack of efficacy + adverse events = discontinued)"),
    ("disposition.completers_by_arm", "69 + 28 = 97 (arms = completers)"),
])
def test_cross_artefact_evidence(by_id, check_id, evidence):
    assert by_id.loc[check_id, "status"] == "consistent"
    assert by_id.loc[check_id, "evidence"] == evidence


# ----------------------------------------------------------------------------- family 8 + summary


def test_response_hierarchies_hold(audit):
    nesting = audit[audit["family"] == "nesting"]
    assert len(nesting) == 12 and (nesting["status"] == "consistent").all()


def test_summary_lists_each_inconsistent_check(audit):
    text = summarise_audit(audit)
    lines = text.splitlines()
    assert lines[0] == "grim_percent: 101 consistent, 0 inconsistent, 0 undecidable"
    assert "total: 335 consistent, 3 inconsistent, 21 undecidable (359 checks)" in lines
    flagged = [line.split()[1] for line in lines if line.startswith("inconsistent: ")]
    assert sorted(flagged) == sorted(ids(audit, "inconsistent"))
