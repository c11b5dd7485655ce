"""codecheck.yml: generated from the run plan, complete, well formed and up to date.

Like environment.yml against the lock (tests/test_environment.py), the committed file must be
exactly what ``python -m analysis.codecheck`` writes, so it can never drift from the run plan.
"""
from __future__ import annotations

import dataclasses

import pytest
import yaml

from analysis import build, codecheck, notebook
from analysis.paths import ROOT


@pytest.fixture(scope="module")
def runs():
    return build.load_run_plan()


@pytest.fixture(scope="module")
def manifest(runs):
    return codecheck.build_manifest(runs)


def test_committed_codecheck_yml_is_what_the_generator_writes(runs):
    """Test 1: the committed file equals the rendering of the current run plan (run
    `python -m analysis.codecheck` after changing book/runplan.yml or a page title)."""
    assert (ROOT / "codecheck.yml").read_text(encoding="utf-8") == codecheck.render_codecheck(runs)


def test_manifest_lists_every_artefact_of_the_run_plan(runs, manifest):
    """Test 2: each artefact of each run is a manifest file under book/generated/<run>/, and
    its comment names its label and its run."""
    entries = {entry["file"]: entry["comment"] for entry in manifest}
    for run in runs:
        for label, filename in run.artefacts.items():
            path = f"book/generated/{run.id}/{filename}"
            assert path in entries, path
            assert label in entries[path] and f"run {run.id} " in entries[path], entries[path]


def test_manifest_lists_exactly_the_outputs_and_registry_files(runs, manifest):
    """Test 3: nothing else and nothing twice: artefacts, one registry fragment per run, the
    merged registry and the reproduction comparison."""
    expected = [f"book/generated/{run.id}/{name}" for run in runs
                for name in [*run.artefacts.values(), notebook.FRAGMENT]]
    expected += ["_build/results/results.csv", "_build/results/reproduction.csv"]
    files = [entry["file"] for entry in manifest]
    assert sorted(files) == sorted(expected)
    assert len(files) == len(set(files))


def test_manifest_follows_a_change_of_the_run_plan(runs):
    """Test 4: a new artefact in the plan appears in the manifest (the manifest is derived)."""
    first = runs[0]
    changed = dataclasses.replace(first, artefacts={**first.artefacts, "tbl-extra": "extra.csv"})
    files = [entry["file"] for entry in codecheck.build_manifest([changed, *runs[1:]])]
    assert f"book/generated/{first.id}/extra.csv" in files
    assert codecheck.render_codecheck([changed, *runs[1:]]) != codecheck.render_codecheck(runs)


def test_file_follows_the_codecheck_1_0_layout():
    """Test 5: an explicit YAML document with the specification's version URL, the paper's
    title, authors and DOI, a manifest of {file, comment} items with paths relative to the
    file, and the codechecker's fields present as nulls (no certificate is claimed)."""
    text = (ROOT / "codecheck.yml").read_text(encoding="utf-8")
    assert text.startswith("%YAML 1.1\n---\n")
    config = yaml.safe_load(text)
    assert config["version"] == "https://codecheck.org.uk/spec/config/1.0/"
    assert config["paper"]["reference"] == "https://doi.org/10.1186/s13287-025-04772-x"
    assert config["paper"]["title"].startswith("Mesenchymal stem cells combined with IFN-γ")
    assert [a["name"] for a in config["paper"]["authors"]][:2] == ["Yi Yang", "Xiao He"]
    assert config["manifest"] and all(set(item) == {"file", "comment"} for item in config["manifest"])
    assert all(not item["file"].startswith("/") and ".." not in item["file"] for item in config["manifest"])
    for field in ("codechecker", "report", "summary", "repository", "check_time", "certificate"):
        assert field in config and config[field] is None, field


def test_paper_counterparts_name_artefacts_of_the_plan(runs):
    """Test 6: every label mapped to the article's tables and figures is an artefact of the
    plan (no stale entry), and Tables 1-4 and Figs. 1-2 are all mapped."""
    labels = {label for run in runs for label in run.artefacts}
    assert set(codecheck.PAPER_COUNTERPARTS) <= labels
    counterparts = " ".join(codecheck.PAPER_COUNTERPARTS.values())
    for name in ("Table 1", "Table 2", "Table 3", "Table 4", "Fig. 1", "Fig. 2A-E", "Fig. 2F"):
        assert name in counterparts, name


def test_check_mode_fails_on_a_stale_file_and_write_mode_fixes_it(tmp_path, monkeypatch, capsys):
    """Test 7: `--check` exits 1 and names the command when the file differs; writing it
    makes `--check` pass; `--stdout` prints without writing."""
    target = tmp_path / "codecheck.yml"
    target.write_text("---\nmanifest: []\n", encoding="utf-8")
    monkeypatch.setattr(codecheck, "CODECHECK_FILE", target)
    assert codecheck.main(["--check"]) == 1
    assert "python -m analysis.codecheck" in capsys.readouterr().err
    assert codecheck.main([]) == 0
    assert codecheck.main(["--check"]) == 0
    assert target.read_text(encoding="utf-8") == codecheck.render_codecheck()
    target.unlink()
    capsys.readouterr()
    assert codecheck.main(["--stdout"]) == 0
    assert not target.exists()
    assert capsys.readouterr().out.startswith("%YAML 1.1\n---\n")
