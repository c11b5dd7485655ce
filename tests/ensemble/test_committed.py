"""The committed ensemble (data/ensemble): not stale, internally consistent, regenerable.

Test 1 fails when the generator, the analysis code in the ensemble's import closure or the
published registry changed after the ensemble was generated: run `make ensemble`.
Test 4 regenerates reconstruction 0 in this process and compares it with the committed rows, so
a change that the digests miss (a dependency, the environment) is caught too.
"""
from __future__ import annotations

import hashlib
import math

import numpy as np
import pandas as pd
import pytest
from ensemble_support import differing_values_message, run_cli

from analysis import paths
from analysis.ensemble.digest import compute_digests, stale_reasons
from analysis.ensemble.plan import plan_reconstructions
from analysis.ensemble.report import load_ensemble, tabulate_classes
from analysis.ensemble.store import OUTPUT_FILES, read_manifest, read_values
from analysis.ensemble.summary import summarise_ensemble
from analysis.ensemble.task import run_reconstruction
from analysis.published import load_published

MANIFEST = read_manifest(paths.ENSEMBLE)


def test_1_committed_ensemble_matches_the_code_and_the_published_registry():
    assert stale_reasons(MANIFEST, compute_digests()) == []
    result = run_cli("--check")
    assert result.returncode == 0, result.stderr
    assert "matches the code and the published registry" in result.stdout


def test_2_files_are_those_the_manifest_hashes():
    for name, digest in MANIFEST["files"].items():
        assert hashlib.sha256((paths.ENSEMBLE / name).read_bytes()).hexdigest() == digest, name
    assert set(MANIFEST["files"]) | {"manifest.json"} == set(OUTPUT_FILES)


def test_3_default_ensemble_size_seed_and_counts():
    assert MANIFEST["n"] >= 200 and MANIFEST["root_seed"] == 20250617
    index = pd.read_csv(paths.ENSEMBLE / "index.csv", dtype={"seed": str}, keep_default_na=False)
    assert list(index["reconstruction"]) == list(range(MANIFEST["n"]))
    assert list(index["seed"]) == [str(s.seed) for s in plan_reconstructions(MANIFEST["n"], MANIFEST["root_seed"])]
    assert (index["status"] == "ok").sum() == MANIFEST["succeeded"]
    assert MANIFEST["succeeded"] + MANIFEST["failed"] == MANIFEST["n"]
    # a failure is recorded with its reason, never dropped silently
    assert (index.loc[index["status"] != "ok", "reason"] != "").all()


def test_4_reconstruction_0_regenerated_here_equals_the_committed_rows():
    spec = plan_reconstructions(1, MANIFEST["root_seed"])[0]
    record = run_reconstruction(spec)
    committed = read_values(paths.ENSEMBLE)
    committed = committed[committed["reconstruction"] == 0].set_index("key")["value"]
    assert record["status"] == "ok" and set(record["values"]) == set(committed.index)
    differing = [key for key, value in record["values"].items()
                 if not ((math.isnan(value) and math.isnan(committed[key])) or value == committed[key])]
    assert differing == [], differing_values_message(differing, "reconstruction 0")


def test_5_summary_is_recomputed_from_the_stored_values():
    ensemble = load_ensemble()
    values = read_values(paths.ENSEMBLE)
    again = summarise_ensemble(values[["reconstruction", "key", "value"]])
    stored = ensemble.summary
    assert list(again["key"]) == list(stored["key"]) and list(again["class"]) == list(stored["class"])
    np.testing.assert_allclose(again["median"].to_numpy(float), stored["median"].to_numpy(float), rtol=1e-11)


def test_6_every_published_key_is_classed_published_and_reproduced_in_every_reconstruction():
    published = set(load_published()["key"])
    summary = load_ensemble(check_stale=False).summary
    assert set(summary.loc[summary["class"] == "published", "key"]) == published & set(summary["key"])
    classes = tabulate_classes(summary)
    assert classes["total"].sum() == len(summary) == MANIFEST["keys"]


@pytest.mark.parametrize("name", ["generator", "analysis", "published"])
def test_7_a_changed_input_makes_the_ensemble_stale(name):
    changed = {**MANIFEST["digests"], name: "0" * 64}
    assert len(stale_reasons(MANIFEST, changed)) == 1
