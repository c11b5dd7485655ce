"""The generator converges for several seeds, not only the shipped one."""
from __future__ import annotations

import numpy as np
import pytest

from analysis.synthetic.generate import check_cohort, generate_cohort, write_tables
from analysis.synthetic.targets import Targets

SEEDS = (1, 2, 3, 7, 2024)
#: Published values that no dataset of this form can print: the known discrepancy, documented
#: with its reason in the published registry and in data/synthetic/README.md.
UNREACHABLE = ("table1.esr.msc_ifng.mean",)


@pytest.fixture(scope="module")
def targets():
    return Targets()


@pytest.fixture(scope="module")
def cohorts(targets):
    """Generated cohorts by seed, each generated once for the whole module."""
    cache = {}

    def get(seed):
        if seed not in cache:
            cache[seed] = generate_cohort(seed, targets)
        return cache[seed]

    return get


@pytest.mark.slow
@pytest.mark.parametrize("seed", SEEDS)
def test_seed_reproduces_every_published_value(seed, tmp_path, cohorts):
    cohort = cohorts(seed)
    write_tables(cohort, tmp_path)
    result = check_cohort(tmp_path)  # loads through the data contract
    assert result.ok, f"seed {seed}: not reproduced: {result.failures}"
    # the only values not printed are the ones no dataset of this form can print,
    # and the published registry documents exactly those
    assert set(cohort.unreachable) == set(UNREACHABLE)
    assert result.documented == len(UNREACHABLE)
    assert result.matched == result.total - len(UNREACHABLE)


@pytest.mark.slow
def test_seeds_give_different_cohorts(cohorts):
    a, b = cohorts(SEEDS[0]), cohorts(SEEDS[1])
    assert not a.visits.equals(b.visits)
    assert not a.subjects["TRTSDT"].equals(b.subjects["TRTSDT"])


def test_unreachable_value_is_really_unreachable(targets):
    """The recorded reason holds: no whole-number ESR values of 28 completers print 46.59."""
    [key] = UNREACHABLE
    window = targets.window(key)
    n = targets.n_completers("MSC+IFNG")
    sums = np.arange(int(window.low * n) - 2, int(window.high * n) + 3)
    assert not any(window.contains(s / n) for s in sums)
    # ... while the monotherapy arm's mean is printable, so the rule is not vacuous
    mono = targets.window("table1.esr.msc.mean")
    m = targets.n_completers("MSC")
    assert any(mono.contains(s / m) for s in range(int(mono.low * m) - 2, int(mono.high * m) + 3))
