"""The report and sensitivity pages of a built book show what the analysis computes.

* the reproduction report lists every published key with its status written out, and its
  counts are the registry's and those ``make verify`` prints;
* the consistency audit lists every check, every inconsistent one among the findings;
* the sensitivity tables are on their pages and equal the layouts of the merged registry;
* the merged registry is :func:`analysis.tables.compute_results` plus the report rows;
* every output file of ``codecheck.yml``'s manifest that the book writes exists.

The books are the session's clean builds (``built`` in ``conftest.py``), shared with
``test_book_build.py``.
"""
from __future__ import annotations

import html
import math
import re
from functools import lru_cache

import pandas as pd
import pytest
from book_build_support import DATASETS
from docutils.nodes import make_id

from analysis import build as runner
from analysis import codecheck, presentation, reports
from analysis.audit import audit_published, summarise_audit
from analysis.contract import load_dataset
from analysis.ensemble.marks import marked_registry
from analysis.pipeline import compute_book_results, run_verify
from analysis.published import load_published
from analysis.tables import compute_results
from analysis.verify import STATUSES, build_reproduction

pytestmark = pytest.mark.slow
REPORT_PAGES = {"Reproduction and audit": ["generated/reproduction", "generated/ensemble", "generated/audit"],
                "Sensitivity analysis": ["generated/efficacy_nri", "generated/dropouts",
                                         "generated/safety_sensitivity"]}
#: Manifest files that `make verify` writes and the book does not.
VERIFY_ONLY = {"_build/results/reproduction.csv"}


def registry_of(result) -> dict[str, float]:
    return runner.load_registry(result.root / "_build" / "results" / "results.csv")


@lru_cache(maxsize=None)
def _reproduction(root, data_dir) -> pd.DataFrame:
    published = load_published(root / "data" / "published")
    return build_reproduction(published, compute_results(load_dataset(root / data_dir)))


def reproduction_of(result) -> pd.DataFrame:
    """The comparison of published and reproduced values for the build's dataset, computed
    here without the notebooks."""
    return _reproduction(result.root, result.data_dir)


def main_text(page: str) -> str:
    """The page's main content without tags, unescaped, whitespace collapsed, Sphinx's
    typographic quotes back to straight ones."""
    body = re.search(r"<main.*?</main>", page, re.S)
    text = html.unescape(re.sub(r"<[^>]+>", " ", body.group(0) if body else page))
    text = text.translate(str.maketrans({"’": "'", "‘": "'", "“": '"', "”": '"'}))
    return " ".join(text.split())


def table_rows(page: str, label: str) -> list[str]:
    """The body rows (HTML) of the table with id ``label``."""
    table = re.search(rf'<table[^>]*id="{make_id(label)}".*?</table>', page, re.S)
    assert table, label
    body = re.search(r"<tbody>(.*?)</tbody>", table.group(0), re.S)
    return re.findall(r"<tr[^>]*>(.*?)</tr>", body.group(1), re.S)


def status_rows(page: str) -> dict[str, tuple[str, str, list[str], str]]:
    """Rows of the status tables: first literal of the row -> (status class, status text,
    cell texts, row text)."""
    rows = {}
    for tr in re.findall(r"<tr[^>]*>(.*?)</tr>", page, re.S):
        key = re.search(r'<code class="docutils literal notranslate"><span class="pre">([^<]+)</span></code>', tr)
        badge = re.search(r'<span class="status status-([a-z]+)">([^<]*)</span>', tr)
        if key and badge:
            assert key.group(1) not in rows, f"{key.group(1)} in two rows"
            cells = [main_text(td) for td in re.findall(r"<td>(.*?)</td>", tr, re.S)]
            rows[key.group(1)] = (badge.group(1), badge.group(2), cells, main_text(tr))
    return rows


def shown_registry_values(page: str) -> dict[str, str]:
    return {k: html.unescape(v) for k, v in re.findall(r'<span class="reg" data-key="([^"]+)">([^<]*)</span>', page)}


# ----------------------------------------------------------------------------- pages
@pytest.mark.parametrize("data_dir", DATASETS)
def test_report_and_sensitivity_pages_are_built_in_their_parts(built, data_dir):
    """Test 1: the table of contents has the part "Reproduction and audit" and the sensitivity
    pages, and each of these pages was built."""
    import yaml

    result = built(data_dir)
    toc = yaml.safe_load((result.root / "_toc.yml").read_text())
    parts = {part["caption"]: [c["file"] for c in part["chapters"]] for part in toc["parts"]}
    for caption, pages in REPORT_PAGES.items():
        assert parts[caption] == pages, caption
        for page in pages:
            assert (result.html / f"{page}.html").is_file(), page


# ----------------------------------------------------------------------------- reproduction
@pytest.mark.parametrize("data_dir", DATASETS)
def test_reproduction_page_lists_every_published_key_with_its_status(built, data_dir):
    """Test 2: one row per published key, with the status of the comparison written in its
    badge, the published value as printed, the reproduced value as it would be printed and,
    for a documented value, its reason."""
    result = built(data_dir)
    expected = reproduction_of(result)
    rows = status_rows(result.page("generated/reproduction"))
    assert sorted(rows) == sorted(expected["key"])
    for r in expected.itertuples(index=False):
        css, label, cells, text = rows[r.key]
        assert css == label == r.status, r.key
        assert cells[2] == r.published, r.key
        assert cells[3] == (r.reproduced or presentation.MISSING), r.key
        if r.status == "documented":
            assert " ".join(r.reason.split()) in text, r.key


@pytest.mark.parametrize("data_dir", DATASETS)
def test_reproduction_counts_equal_the_registry_and_make_verify(built, data_dir, tmp_path, capsys):
    """Test 3: the registry's counts are those of `make verify` (run_verify on the build's
    dataset): per artefact and status, in total, and the N of M of its last line; the page
    prints them."""
    result = built(data_dir)
    assert run_verify(result.root / data_dir, results_dir=tmp_path) in (0, 1)
    printed = capsys.readouterr().out.splitlines()
    registry = registry_of(result)
    table = {line.split()[0]: [int(x) for x in line.split()[1:]] for line in printed
             if re.fullmatch(r"\S+(\s+\d+){%d}" % len(STATUSES), line)}
    assert table, printed
    for artefact, counts in table.items():
        group = "summary" if artefact == "all" else artefact
        assert [registry[f"reproduction.{group}.{s}.n"] for s in STATUSES] == counts, artefact
    verdict = re.fullmatch(r"verify: (\d+) of (\d+) published values reproduced.*", printed[-1])
    assert verdict, printed[-1]
    assert registry["reproduction.summary.match.n"] == int(verdict.group(1))
    assert registry["reproduction.summary.checked.n"] == int(verdict.group(2))
    shown = shown_registry_values(result.page("generated/reproduction"))
    for stat in (*STATUSES, "published", "checked"):
        key = f"reproduction.summary.{stat}.n"
        assert shown[key] == runner.render_registry_value(registry, key), key
    summary = pd.read_csv(result.root / "book" / "generated" / "reproduction" / "reproduction_summary.csv", dtype=str)
    assert summary.iloc[-1, 1:].astype(int).tolist() == [*table["all"], sum(table["all"])]


@pytest.mark.parametrize("data_dir", DATASETS)
def test_reproduction_page_names_the_published_registry_it_compared_with(built, data_dir):
    """Test 4: the page states the version of data/published it used, and it is the current
    one (a page left from an older published registry would show another version)."""
    result = built(data_dir)
    version = reports.published_version(result.root / "data" / "published")
    assert f"data/published, version {version}." in main_text(result.page("generated/reproduction"))


@pytest.mark.parametrize("data_dir", DATASETS)
def test_status_badges_carry_their_word_and_their_style(built, data_dir):
    """Test 5: on both report pages every badge says its status in words, and the page loads the
    book's status stylesheet, which styles every status it uses in the light and the dark theme."""
    result = built(data_dir)
    stylesheet = (result.html / "_static" / "status.css").read_text(encoding="utf-8")
    for docname in ("generated/reproduction", "generated/audit"):
        page = result.page(docname)
        assert re.search(r'<link rel="stylesheet" type="text/css" href="(\.\./)*_static/status\.css', page), docname
        badges = re.findall(r'<span class="status status-([a-z]+)">([^<]*)</span>', page)
        assert badges and all(css == word for css, word in badges), docname
        for status in {css for css, _ in badges}:
            assert f"span.status-{status} {{ color:" in stylesheet, (docname, status)
            assert f'html[data-theme="dark"] span.status-{status} {{' in stylesheet, (docname, status)


# ----------------------------------------------------------------------------- audit
@pytest.mark.parametrize("data_dir", DATASETS)
def test_audit_page_lists_every_check_and_every_inconsistent_one_among_the_findings(built, data_dir):
    """Test 6: every check of audit_published is a row with its status; the findings table
    holds exactly the inconsistent checks; the summary counts are summarise_audit's."""
    result = built(data_dir)
    audit = audit_published(load_published(result.root / "data" / "published"))
    page = result.page("generated/audit")
    findings = [re.search(r'<span class="pre">([^<]+)</span>', tr).group(1)
                for tr in table_rows(page, "tbl-audit-findings")]
    inconsistent = audit.loc[audit["status"] == "inconsistent", "check_id"].tolist()
    assert inconsistent and findings == inconsistent
    family_rows = {}
    for family in audit["family"].unique():
        for tr in table_rows(page, f"tbl-audit-{family}"):
            check = re.search(r'<span class="pre">([^<]+)</span>', tr).group(1)
            family_rows[check] = re.search(r'<span class="status status-([a-z]+)">', tr).group(1)
    assert family_rows == dict(zip(audit["check_id"], audit["status"]))
    total = next(line for line in summarise_audit(audit).splitlines() if line.startswith("total: "))
    registry = registry_of(result)
    shown = shown_registry_values(page)
    for status in ("consistent", "inconsistent", "undecidable"):
        count = int(re.search(rf"(\d+) {status}", total).group(1))
        assert registry[f"audit.summary.{status}.n"] == count, status
        assert shown[f"audit.summary.{status}.n"] == str(count), status
    assert registry["audit.summary.checks.n"] == len(audit)
    # The audit reads no patient data, so its tables carry no synthetic-data label.
    assert "Synthetic data, not the trial" not in main_text(page)


# ----------------------------------------------------------------------------- sensitivity
SENSITIVITY_TABLES = [
    ("safety_sensitivity", "tbl-safety-rates", "safety_rates.csv", presentation.layout_safety_rates),
    ("safety_sensitivity", "tbl-safety-incidence", "safety_incidence.csv", presentation.layout_incidence),
    ("safety_sensitivity", "tbl-safety-noncovid", "safety_noncovid.csv", presentation.layout_sae_without_covid),
    ("dropouts", "tbl-dropouts", "dropouts.csv", presentation.layout_dropouts),
    ("dropouts", "tbl-nri-comparison", "nri_comparison.csv", presentation.layout_nri_comparison),
]


@pytest.mark.parametrize("data_dir", DATASETS)
@pytest.mark.parametrize("run, label, filename, layout", SENSITIVITY_TABLES, ids=[t[1] for t in SENSITIVITY_TABLES])
def test_sensitivity_tables_are_on_their_pages_with_the_registry_values(built, data_dir, run, label, filename, layout):
    """Test 7: each sensitivity table is a numbered table on its page, and its CSV is the
    layout of the merged registry (the page lays out rows it recomputes; they must be the
    registry's)."""
    result = built(data_dir)
    rows = table_rows(result.page(f"generated/{run}"), label)
    written = pd.read_csv(result.root / "book" / "generated" / run / filename, dtype=str, keep_default_na=False)
    # a synthetic build marks (‡) the values the published numbers do not determine
    synthetic = runner.describe_dataset(result.root / data_dir).synthetic
    expected = layout(marked_registry(registry_of(result), synthetic, result.root / "data" / "ensemble")).to_frame()
    assert list(written.columns) == list(expected.columns)
    assert written.values.tolist() == expected.values.tolist()
    assert len(rows) == len(expected)


@pytest.mark.parametrize("data_dir", DATASETS)
def test_dropout_page_states_which_tests_it_used(built, data_dir):
    """Test 8: the completers-versus-dropouts table names a test on every row: Welch's t-test
    for continuous, Fisher's exact test for binary characteristics."""
    from analysis.baseline import BINARY_ITEMS, CONTINUOUS_ITEMS

    result = built(data_dir)
    rows = [main_text(tr) for tr in table_rows(result.page("generated/dropouts"), "tbl-dropouts")]
    assert len(rows) == len(CONTINUOUS_ITEMS) + len(BINARY_ITEMS)
    assert sum("Welch's t-test" in r for r in rows) == len(CONTINUOUS_ITEMS)
    assert sum("Fisher's exact test" in r for r in rows) == len(BINARY_ITEMS)


# ----------------------------------------------------------------------------- registry and manifest
@pytest.mark.parametrize("data_dir", DATASETS)
def test_merged_registry_is_compute_results_plus_the_report_rows(built, data_dir):
    """Test 9: the notebooks' merged registry holds exactly compute_results (what `make
    verify` computes) and the rows of the report runs (analysis.reports), same values and
    methods."""
    result = built(data_dir)
    merged = runner.read_registry(result.root / "_build" / "results" / "results.csv").set_index("key")
    dataset = load_dataset(result.root / data_dir)
    published = load_published(result.root / "data" / "published")
    expected = compute_book_results(dataset, published).set_index("key")
    assert sorted(merged.index) == sorted(expected.index)
    for key in expected.index:
        a, b = merged.at[key, "value"], expected.at[key, "value"]
        assert (math.isnan(a) and math.isnan(b)) or a == b, key
        assert merged.at[key, "method"] == expected.at[key, "method"], key


@pytest.mark.parametrize("data_dir", DATASETS)
def test_every_book_output_of_the_codecheck_manifest_exists(built, data_dir):
    """Test 10: each file of the codecheck manifest that the book writes exists after a clean
    build (the others are written by `make verify`)."""
    result = built(data_dir)
    manifest = codecheck.build_manifest(runner.load_run_plan(result.root / "book" / "runplan.yml"), result.root)
    files = [entry["file"] for entry in manifest if entry["file"] not in VERIFY_ONLY]
    assert len(files) == len(manifest) - len(VERIFY_ONLY)
    missing = [f for f in files if not (result.root / f).is_file()]
    assert missing == []
