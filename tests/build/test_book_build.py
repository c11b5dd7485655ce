"""The book builds from a clean copy with warnings as errors, on every dataset of the session,
and its pages hold every table, figure and registry number; the cache reruns only what an
input change requires; an invalid dataset, a failing notebook or a missing registry key stop
the build with a message that names the problem.
"""
from __future__ import annotations

import html
import math
import os
import re
import shutil
import subprocess
import time

import nbformat
import pytest
import yaml
from book_build_support import DATASETS, JUPYTER_BOOK, copy_built, copy_repository, run_build
from docutils.nodes import make_id

from analysis import build as runner
from analysis.contract import load_dataset
from analysis.pipeline import compute_book_results
from analysis.published import load_published

pytestmark = pytest.mark.slow
MINIMAL = "tests/data/minimal"


def toc_docnames(root) -> list[str]:
    toc = yaml.safe_load((root / "_toc.yml").read_text())
    names = [toc["root"]]
    for part in toc["parts"]:
        names += [chapter["file"] for chapter in part["chapters"]]
    return names


def plan(root) -> list[runner.Run]:
    return runner.load_run_plan(root / "book" / "runplan.yml")


def registry_of(result) -> dict[str, float]:
    return runner.load_registry(result.root / "_build" / "results" / "results.csv")


# ----------------------------------------------------------------------------- content
@pytest.mark.parametrize("data_dir", DATASETS)
def test_clean_build_succeeds_with_warnings_as_errors(built, data_dir):
    """Test 1: `jupyter-book build book/ -W` from a copy without outputs exits 0, every run executed."""
    result = built(data_dir)
    assert "build succeeded" in result.output
    assert result.executed() == sorted(r.id for r in plan(result.root))
    print(f"clean build on {data_dir}: {result.seconds:.1f} s")


@pytest.mark.parametrize("data_dir", DATASETS)
def test_every_chapter_page_exists(built, data_dir):
    """Test 2: one HTML page per entry of the table of contents."""
    result = built(data_dir)
    missing = [d for d in toc_docnames(result.root) if not (result.html / f"{d}.html").is_file()]
    assert missing == []


@pytest.mark.parametrize("data_dir", DATASETS)
def test_every_table_and_figure_is_on_its_page_with_its_file(built, data_dir):
    """Test 3: each artefact of the run plan is a numbered table (with a working CSV link) or a
    figure with alt text and caption, on its run's page; the file the run wrote exists."""
    result = built(data_dir)
    for run in plan(result.root):
        page = result.page(run.page)
        for label, filename in run.artefacts.items():
            assert (result.root / "book" / "generated" / run.id / filename).is_file(), (run.id, filename)
            if label.startswith("tbl-"):
                table = re.search(rf'<table[^>]*id="{make_id(label)}".*?</table>', page, re.S)
                assert table, (run.id, label)
                assert re.search(r'<span class="caption-number">Table \d+ </span>', table.group(0))
                assert table.group(0).count("<tr") >= 3
                link = re.search(rf'href="(\.\./_downloads/[0-9a-f]+/{re.escape(filename)})"', page)
                assert link and (result.html / "generated" / link.group(1)).resolve().is_file(), (run.id, filename)
            else:
                figure = re.search(rf'<figure[^>]*id="{make_id(label)}".*?</figure>', page, re.S)
                assert figure, (run.id, label)
                assert re.search(r'<img alt="[^"]{40,}" src="[^"]+\.png"', figure.group(0))
                assert re.search(r'<span class="caption-number">Figure \d+ </span>', figure.group(0))


@pytest.mark.parametrize("data_dir", DATASETS)
def test_no_unresolved_reference_or_registry_key_remains(built, data_dir):
    """Test 4: no docutils error node, no raw role text, no unresolved cross-reference."""
    result = built(data_dir)
    for path in result.html.rglob("*.html"):
        if path.name in ("genindex.html", "search.html"):
            continue
        text = path.read_text(encoding="utf-8")
        body = re.search(r"<main.*?</main>", text, re.S)
        body = re.sub(r"<code.*?</code>|<pre.*?</pre>", "", body.group(0) if body else text, flags=re.S)
        for bad in ('class="problematic"', "system-message", "{reg}", "{numref}", "{build}", "{run}",
                    "{glue", "{download}", "{doc}"):
            assert bad not in body, (path.name, bad)
        assert not re.search(r'<span class="reg" data-key="[^"]*">\s*</span>', body), path.name


@pytest.mark.parametrize("data_dir", DATASETS)
def test_title_page_numbers_equal_the_registry(built, data_dir):
    """Test 5: every registry number of the title page prints the registry's value, and the
    summary covers patients, patient-years, SAE rates, ACR20 and LDA at years 1 and 5 by arm."""
    result = built(data_dir)
    registry = registry_of(result)
    shown = re.findall(r'<span class="reg" data-key="([^"]+)">([^<]*)</span>', result.page("intro"))
    assert shown
    keys = {k for k, _ in shown}
    for arm in ("msc", "msc_ifng"):
        for year in ("year1", "year5"):
            assert {f"table3.acr20.{arm}.{year}.pct", f"table3.das28_lda.{arm}.{year}.pct"} <= keys
        assert {f"table2.n.{arm}", f"table2.py.{arm}", f"table2.sae.{arm}.rate"} <= keys
    # the page source is what says which format a reference asks for
    source = (result.root / "book" / "intro.md").read_text()
    references = dict((ref.partition(":")[0], ref) for ref in re.findall(r"\{reg\}`([^`]+)`", source))
    for key, text in shown:
        assert html.unescape(text) == runner.render_registry_value(registry, references[key]), key


@pytest.mark.parametrize("data_dir", DATASETS)
def test_merged_registry_equals_the_results_computed_without_notebooks(built, data_dir):
    """Test 6: the notebooks' merged fragments hold exactly the values of compute_results, of
    the report pages' rows and of the ensemble page's rows (what `make verify` writes) for the
    same dataset."""
    result = built(data_dir)
    merged = runner.read_registry(result.root / "_build" / "results" / "results.csv").set_index("key")
    dataset = load_dataset(result.root / data_dir)
    expected = compute_book_results(dataset, load_published(result.root / "data" / "published")).set_index("key")
    assert sorted(merged.index) == sorted(expected.index)
    for key in expected.index:
        a, b = merged.at[key, "value"], expected.at[key, "value"]
        assert (math.isnan(a) and math.isnan(b)) or a == b, key
        assert merged.at[key, "method"] == expected.at[key, "method"], key


@pytest.mark.parametrize("data_dir", DATASETS)
def test_every_page_names_the_dataset(built, data_dir):
    """Test 7: the announcement banner of every page names the dataset and, for a synthetic one,
    says so; every figure caption of a synthetic build ends with the synthetic-data label."""
    result = built(data_dir)
    info = runner.describe_dataset(result.root / data_dir)
    for docname in toc_docnames(result.root):
        banner = re.search(r'bd-header-announcement__content">(.*?)</div>', result.page(docname), re.S)
        assert banner and f"<code>{data_dir}</code> (version {info.fingerprint})" in banner.group(1), docname
        assert ("synthetic data" in banner.group(1)) == info.synthetic, docname
    if info.synthetic:
        for run in plan(result.root):
            for caption in re.findall(r"<figcaption>(.*?)</figcaption>", result.page(run.page), re.S):
                assert "Synthetic data, not the trial’s." in caption, run.id


# ----------------------------------------------------------------------------- cache
def test_rebuild_with_nothing_changed_runs_no_notebook(built):
    """Test 8: a second build executes nothing and re-reads no page."""
    first = built(MINIMAL)
    again = run_build(first.root, MINIMAL)
    assert again.returncode == 0, again.output[-3000:]
    assert again.executed() == []
    assert f"{len(plan(first.root))} cached, 0 to execute" in again.output
    assert re.search(r"updating environment: .*0 added, 0 changed, 0 removed", again.output)
    print(f"rebuild with nothing changed: {again.seconds:.1f} s")


def test_touching_a_dataset_file_without_changing_it_runs_nothing(built):
    """Test 9: the cache is keyed on content, not on modification times."""
    first = built(MINIMAL)
    os.utime(first.root / MINIMAL / "visits.csv")
    again = run_build(first.root, MINIMAL)
    assert again.returncode == 0 and again.executed() == []


def test_changing_one_dataset_file_reruns_only_the_runs_that_read_it(built, tmp_path):
    """Test 10: editing a value of medications.csv that runs read (a start date) reruns the runs
    that read the file, the medication page, the reproduction report and the ensemble page (which
    read every table); the other pages stay. Editing a drug name, which the contract checks but
    no result reads (CMDECOD, not in any run's view of the table), then reruns no run."""
    root = copy_built(built(MINIMAL), tmp_path / "repo")
    meds = root / MINIMAL / "medications.csv"
    meds.write_text(meds.read_text().replace("RA-001,csDMARD,Methotrexate,2012-04-01,",
                                             "RA-001,csDMARD,Methotrexate,2012-04-02,", 1))
    readers = sorted(r.id for r in plan(root) if "medications.csv" in r.inputs)
    result = run_build(root, MINIMAL)
    assert result.returncode == 0, result.output[-3000:]
    assert result.executed() == readers == ["ensemble", "medications", "reproduction"]
    meds.write_text(meds.read_text().replace("Methotrexate", "Methotrexate sodium", 1))
    renamed = run_build(root, MINIMAL)
    assert renamed.returncode == 0, renamed.output[-3000:]
    assert renamed.executed() == [] and "0 to execute" in renamed.output


def settled_copy(built, target):
    """A copy of the built minimal book, built once more in place: Sphinx discards an environment
    whose source folder moved, so only the copy's second build shows what an edit re-reads."""
    root = copy_built(built(MINIMAL), target)
    again = run_build(root, MINIMAL)
    assert again.returncode == 0 and again.executed() == [], again.output[-3000:]
    return root


def reported_pages(output: str, step: str) -> list[str]:
    """Docnames of Sphinx's progress lines for ``step`` (``reading sources... [ 50%] intro``)."""
    return sorted(set(re.findall(re.escape(step) + r"\.\.\. \[\s*\d+%\] (\S+)", re.sub(r"\x1b\[[0-9;]*m", "", output))))


def reread_pages(output: str) -> list[str]:
    """Docnames Sphinx reports reading (``reading sources... [ 50%] generated/medications``)."""
    return reported_pages(output, "reading sources")


def test_a_dataset_edit_rereads_only_the_pages_whose_numbers_change(built, tmp_path):
    """Test 10b: one cell of medications.csv changes two registry values (bDMARD use of the MSC
    arm at year 3, which no page prints outside the runs that compute it) and the dataset's
    version. Three runs execute again (the ensemble page reads every table), but Sphinx re-reads
    only the two whose notebook came out different (the ensemble page's did not), the
    reproducibility appendix (its cache keys) and the title page, which prints the dataset
    version; not every page that prints a registry value."""
    root = settled_copy(built, tmp_path / "repo")
    before = runner.load_registry(root / "_build" / "results" / "results.csv")
    meds = root / MINIMAL / "medications.csv"
    meds.write_text(meds.read_text().replace("RA-004,bDMARD,Tocilizumab,2016-02-01,2019-09-30",
                                             "RA-004,bDMARD,Tocilizumab,2016-02-01,2021-09-30", 1))
    result = run_build(root, MINIMAL)
    assert result.returncode == 0, result.output[-3000:]
    after = registry_of(result)
    changed = sorted(k for k in after if not (after[k] == before.get(k) or (math.isnan(after[k]) and math.isnan(before[k]))))
    assert [k for k in changed if not k.startswith("reproduction.")] == ["table4.bdmard.msc.year3.n",
                                                                         "table4.bdmard.msc.year3.pct"]
    assert result.executed() == ["ensemble", "medications", "reproduction"]
    assert reread_pages(result.output) == ["generated/medications", "generated/reproducibility",
                                           "generated/reproduction", "intro"]
    assert "[reproduce] re-reading 1 page(s) whose printed values changed: intro (dataset_version)" in result.output


def test_a_dataset_edit_writes_only_changed_pages_and_equals_a_fresh_build(built, tmp_path):
    """Test 10d: a drug name edited (a new dataset version, no run executes): Sphinx writes only
    the pages re-read (the title page prints the version; the appendix its cache keys); in every
    other page the banner alone is brought up to date, so every page names the new version, and
    each page is byte for byte what a build with no HTML and no environment writes."""
    root = settled_copy(built, tmp_path / "repo")
    meds = root / MINIMAL / "medications.csv"
    meds.write_text(meds.read_text().replace("Methotrexate", "Methotrexate sodium", 1))
    result = run_build(root, MINIMAL)
    assert result.returncode == 0 and result.executed() == [], result.output[-3000:]
    docnames = toc_docnames(root)
    assert reported_pages(result.output, "writing output") == ["generated/reproducibility", "intro"]
    assert f"dataset notice updated in {len(docnames) - 2} page(s) not written again" in result.output
    version = runner.inspect_dataset(root / MINIMAL).fingerprint
    for docname in docnames:
        assert f"(version {version})" in result.page(docname), docname
    fresh = copy_built(result, tmp_path / "fresh")
    shutil.rmtree(fresh / "_build" / "html")
    shutil.rmtree(fresh / "_build" / ".doctrees")
    again = run_build(fresh, MINIMAL)
    assert again.returncode == 0 and again.executed() == [], again.output[-3000:]
    # A page written when myst-nb's stylesheet is already in _static links it with Sphinx's
    # checksum (?v=...); a first build writes the pages before the file: the one difference.
    unversioned = re.compile(r'(_static/mystnb\.[0-9a-f]+\.css)\?v=[0-9a-f]+"')
    for docname in docnames:
        assert unversioned.sub(r'\1"', result.page(docname)) == unversioned.sub(r'\1"', again.page(docname)), docname


def test_a_changed_value_rereads_the_pages_that_print_it(built, tmp_path):
    """Test 10c: marking one adverse event serious changes Table 2's numbers; the title page,
    whose source did not change, is re-read because it prints them; the study page, which prints
    build facts that did not change, is not."""
    root = settled_copy(built, tmp_path / "repo")
    events = root / MINIMAL / "adverse_events.csv"
    events.write_text(events.read_text().replace("RA-001,2,raised blood lipids,Hyperlipidaemia,N,",
                                                 "RA-001,2,raised blood lipids,Hyperlipidaemia,Y,", 1))
    result = run_build(root, MINIMAL)
    assert result.returncode == 0, result.output[-3000:]
    assert result.executed() == ["ensemble", "patient_flow", "reproduction", "safety", "safety_sensitivity"]
    # The flow figure and the ensemble page were executed again but came out the same: not re-read.
    assert reread_pages(result.output) == ["generated/reproducibility", "generated/reproduction", "generated/safety",
                                           "generated/safety_sensitivity", "intro"]
    assert re.search(r"whose printed values changed: intro \(dataset_version, table2\.", result.output)


def test_changing_a_notebook_reruns_only_its_runs(built, tmp_path):
    """Test 11: editing the efficacy notebook reruns its two runs (completers and NRI) only."""
    root = copy_built(built(MINIMAL), tmp_path / "repo")
    path = root / "book" / "notebooks" / "efficacy.ipynb"
    nb = nbformat.read(path, as_version=4)
    nb.cells[0].source += "\n\n(Edited.)"
    nbformat.write(nb, path)
    result = run_build(root, MINIMAL)
    assert result.returncode == 0, result.output[-3000:]
    assert result.executed() == ["efficacy_completers", "efficacy_nri"]


def test_changing_the_published_registry_reruns_the_report_pages(built, tmp_path):
    """Test 11b: the reproduction report, the audit and the ensemble page (its staleness check)
    read data/published, so a change there reruns them, and only them (the runs that declare
    `sources: [data/published]`)."""
    root = copy_built(built(MINIMAL), tmp_path / "repo")
    table2 = root / "data" / "published" / "table2.csv"
    table2.write_text(table2.read_text().replace("Table 2, SAE row", "Table 2, SAE row (edited)", 1))
    result = run_build(root, MINIMAL)
    assert result.returncode == 0, result.output[-3000:]
    assert result.executed() == ["audit", "ensemble", "reproduction"]


def test_editing_tooling_no_notebook_imports_reruns_nothing(built, tmp_path):
    """Test 11c: a run's key covers the analysis modules its notebook can import, so editing the
    benchmarks or the ensemble's Dask engine re-executes no notebook (the synthetic generator
    reaches the ensemble page only: tests/unit/test_run_keys.py), and Sphinx reads again only the
    reproducibility appendix."""
    root = settled_copy(built, tmp_path / "repo")
    for module in ("analysis/bench.py", "analysis/ensemble/engine.py"):
        with open(root / module, "a") as handle:
            handle.write("\n# edited\n")
    result = run_build(root, MINIMAL)
    assert result.returncode == 0, result.output[-3000:]
    assert result.executed() == []
    assert f"{len(plan(root))} cached, 0 to execute" in result.output
    # only the appendix, which prints the SHA-256 of the whole analysis folder
    assert reread_pages(result.output) == ["generated/reproducibility"]


def test_editing_the_code_that_renders_pages_rereads_every_page(built, tmp_path):
    """Test 11d: Sphinx does not know the book extension's code; a change to it (here a comment
    in book/_ext/reproduce.py) reads every page again, through the configuration value
    reproduce_code_digest, and executes no notebook."""
    root = settled_copy(built, tmp_path / "repo")
    with open(root / "book" / "_ext" / "reproduce.py", "a") as handle:
        handle.write("\n# edited\n")
    result = run_build(root, MINIMAL)
    assert result.returncode == 0, result.output[-3000:]
    assert result.executed() == []
    every_page = sorted(p.relative_to(root / "_build" / ".doctrees").with_suffix("").as_posix()
                        for p in (root / "_build" / ".doctrees").rglob("*.doctree"))
    assert reread_pages(result.output) == every_page
    assert "config changed ('reproduce_code_digest')" in result.output


def test_two_builds_at_once_wait_for_each_other(built, tmp_path):
    """Test 11d: two real `jupyter-book build` processes in one checkout (an editor's auto-rebuild
    during `make test`): while the first holds the build lock, a second one with BOOK_LOCK=fail
    stops at once naming it, and a second one that waits (the default) says whom it waits for,
    then succeeds with every run cached; the first is undisturbed."""
    root = copy_built(built(MINIMAL), tmp_path / "repo")
    path = root / "book" / "notebooks" / "efficacy.ipynb"  # the first build re-executes two runs
    nb = nbformat.read(path, as_version=4)
    nb.cells[0].source += "\n\n(Edited.)"
    nbformat.write(nb, path)
    env = {**os.environ, "ANALYSIS_DATA_DIR": MINIMAL, "MPLBACKEND": "Agg", "PYTHONHASHSEED": "0"}
    command = [str(JUPYTER_BOOK), "build", "book/", "-W"]
    first = subprocess.Popen(command, cwd=root, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    lock = root / "_build" / "book.lock"
    deadline = time.monotonic() + 300
    while f'"pid": {first.pid},' not in (lock.read_text() if lock.is_file() else ""):
        assert first.poll() is None and time.monotonic() < deadline, "the first build never took the lock"
        time.sleep(0.2)
    failing = subprocess.run(command, cwd=root, env={**env, "BOOK_LOCK": "fail"}, capture_output=True, text=True,
                             timeout=300)
    waiting = subprocess.Popen(command, cwd=root, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    first_output, _ = first.communicate(timeout=900)
    waiting_output, _ = waiting.communicate(timeout=900)
    assert failing.returncode != 0
    assert f"another build of this checkout is running: build pid {first.pid} started" in failing.stdout + failing.stderr
    assert first.returncode == 0, first_output[-3000:]
    assert "[reproduce] executed efficacy_completers" in first_output
    assert waiting.returncode == 0, waiting_output[-3000:]
    assert f"[reproduce] waiting for build pid {first.pid} started" in waiting_output
    assert f"{len(plan(root))} cached, 0 to execute" in waiting_output
    assert "finished without writing" not in first_output + waiting_output


# ----------------------------------------------------------------------------- failures
def test_invalid_dataset_fails_before_any_notebook_runs(tmp_path):
    """Test 12: a contract violation stops the build with the contract's message, exit != 0,
    and no notebook is executed (no run is even planned)."""
    root = copy_repository(tmp_path / "repo")
    bad = root / "bad"
    shutil.copytree(root / MINIMAL, bad)
    subjects = bad / "subjects.csv"
    subjects.write_text(subjects.read_text().replace(",MSC,F,45,", ",MSC+IFN,F,45,", 1))
    result = run_build(root, "bad")
    assert result.returncode != 0
    assert "invalid dataset" in result.output
    assert "subjects.csv: column ARM, line 2: must be one of MSC, MSC+IFNG (got 'MSC+IFN')" in result.output
    assert "to execute" not in result.output and result.executed() == []
    assert not (root / "_build" / "book-runs").exists()


def test_failing_notebook_stops_the_build_and_names_the_cell(built, tmp_path):
    """Test 13: a run whose notebook raises stops the build with the run, the notebook, the cell
    number, its source and the error; the published pages and registry are left as they were."""
    root = copy_built(built(MINIMAL), tmp_path / "repo")
    nb = nbformat.v4.new_notebook()
    params = nbformat.v4.new_code_cell('data_dir = ""\ndataset_files = []\nsynthetic = True\noutput_dir = ""')
    params.metadata["tags"] = ["parameters"]
    nb.cells = [nbformat.v4.new_markdown_cell("# Failing"), params,
                nbformat.v4.new_code_cell("value = 1"), nbformat.v4.new_code_cell("value / 0")]
    nbformat.write(nb, root / "book" / "notebooks" / "failing.ipynb")
    with open(root / "book" / "runplan.yml", "a") as handle:
        handle.write("\n  - id: failing\n    notebook: notebooks/failing.ipynb\n    inputs: [subjects.csv]\n")
    registry = root / "_build" / "results" / "results.csv"
    before = {p: p.stat().st_mtime_ns for p in [registry, *(root / "book" / "generated").rglob("*")] if p.is_file()}
    result = run_build(root, MINIMAL)
    assert result.returncode != 0
    assert "notebook run 'failing' failed in cell 4 of book/notebooks/failing.ipynb" in result.output
    assert "| value / 0" in result.output and "ZeroDivisionError: division by zero" in result.output
    assert not (root / "book" / "generated" / "failing.ipynb").exists()
    assert {p: p.stat().st_mtime_ns for p in before} == before


def test_reference_to_a_missing_registry_key_fails_the_build(built, tmp_path):
    """Test 14: even without -W, a {reg} key that is not in the registry fails the build and is named."""
    root = copy_built(built(MINIMAL), tmp_path / "repo")
    with open(root / "book" / "study.md", "a") as handle:
        handle.write("\nA number that does not exist: {reg}`table9.nothing.msc.pct`.\n")
    result = run_build(root, MINIMAL, warnings_as_errors=False)
    assert result.returncode != 0
    assert "no key 'table9.nothing.msc.pct' in the results registry" in result.output
    assert "study.md" in result.output
