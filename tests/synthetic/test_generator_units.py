"""Unit tests of the generator's building blocks (hand-built inputs)."""
from __future__ import annotations

import numpy as np
import pytest

from analysis.synthetic.moments import LatticeMoves, MomentsNotReached, tune_moments
from analysis.synthetic.targets import Window, count_from_percent
from analysis.synthetic.visits import acr_level, acr_level_fast


def test_count_from_percent_refuses_ambiguous_or_impossible():
    with pytest.raises(ValueError):
        count_from_percent(50, 0, 200)  # 99, 100 and 101 of 200 all print as 50
    with pytest.raises(ValueError):
        count_from_percent(12.3, 1, 10)  # no k/10 prints as 12.3


def test_tune_moments_respects_forbidden_moves():
    """Test 1: a move the caller forbids is never made, even if it would help."""
    rng = np.random.default_rng(0)
    knobs = np.array([10, 20, 30, 40])
    frozen = np.array([True, False, False, True])
    moves = LatticeMoves(knobs, lambda k: k.astype(float), np.zeros(4, int), np.full(4, 100),
                         allowed=lambda new: ~frozen)
    tune_moments(moves, Window(26.0, 1), Window(13.0, 1), rng)
    assert knobs[0] == 10 and knobs[3] == 40


def test_tune_moments_fails_loudly_when_impossible():
    """Test 2: an SD that bounded values cannot have raises MomentsNotReached."""
    rng = np.random.default_rng(0)
    moves = LatticeMoves(np.array([1, 2, 3]), lambda k: k.astype(float), np.zeros(3, int), np.full(3, 3))
    with pytest.raises(MomentsNotReached):
        tune_moments(moves, Window(2.0, 1), Window(5.0, 1), rng, max_iter=200)


def test_fast_acr_level_agrees_with_the_analysis():
    """The generator's vectorised ACR level equals analysis.endpoints' on random visits."""
    rng = np.random.default_rng(3)
    n = 4000
    base = {"tjc68": rng.integers(1, 30, n), "sjc66": rng.integers(1, 20, n), "ptga": rng.integers(1, 100, n),
            "phga": rng.integers(1, 100, n), "pain": rng.integers(1, 100, n),
            "haqdi": rng.integers(1, 25, n) / 8.0, "esr": rng.integers(5, 90, n)}
    cur = {k: np.maximum(0, np.round(v * rng.uniform(0.0, 1.3, n))) for k, v in base.items()}
    cur["haqdi"] = np.round(cur["haqdi"] * 8) / 8
    # exact thresholds occur: 10 -> 8 is 20 %, 10 -> 5 is 50 %, 10 -> 3 is 70 %
    cur["tjc68"][:50] = np.round(base["tjc68"][:50] * 0.5)
    assert (acr_level_fast(base, cur) == acr_level(base, cur)).all()
