"""The shipped cohort is exactly what ``make data`` regenerates (bit for bit)."""
from __future__ import annotations

import io

import pytest

from analysis.paths import SYNTHETIC
from analysis.synthetic.__main__ import run
from analysis.synthetic.generate import DEFAULT_SEED

SHIPPED = ("subjects.csv", "visits.csv", "adverse_events.csv", "medications.csv", "README.md")


@pytest.fixture(scope="module")
def regenerated(tmp_path_factory):
    out = tmp_path_factory.mktemp("synthetic")
    assert run(DEFAULT_SEED, out, check=True, stream=io.StringIO()) == 0
    return out


def test_same_files(regenerated):
    assert sorted(p.name for p in regenerated.iterdir()) == sorted(SHIPPED)
    assert {p.name for p in SYNTHETIC.iterdir()} >= set(SHIPPED)


@pytest.mark.parametrize("name", SHIPPED)
def test_byte_identical(regenerated, name):
    assert (regenerated / name).read_bytes() == (SYNTHETIC / name).read_bytes(), (
        f"data/synthetic/{name} differs from a fresh `make data`; regenerate it")


def test_readme_hashes_match_files():
    from analysis.synthetic.readme import sha256
    text = (SYNTHETIC / "README.md").read_text(encoding="utf-8")
    for name in SHIPPED[:-1]:
        assert sha256(SYNTHETIC / name) in text, f"README does not carry the SHA-256 of {name}"
    head = "\n".join(text.splitlines()[:5])
    assert "NOT the trial's data" in head and "**SYNTHETIC DATA.**" in head
