"""The reconstructions of an ensemble: index, child seed and assumptions.

Reconstruction *i* of root seed *r* is ``SeedSequence(r).spawn(N)[i]``, which does not depend on
``N`` (its spawn key is ``(i,)``), so a larger ensemble extends a smaller one. That child spawns
two streams: the first gives the generator's integer seed, the second draws the assumptions.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from analysis.synthetic.assumptions import Assumptions


@dataclass(frozen=True)
class ReconstructionSpec:
    """What a worker needs to rebuild reconstruction ``index``, and nothing else."""

    index: int
    seed: int
    assumptions: Assumptions


def plan_reconstructions(n: int, root_seed: int) -> list[ReconstructionSpec]:
    """The first ``n`` reconstructions of ``root_seed``.

    Examples
    --------
    >>> a, b = plan_reconstructions(3, 7), plan_reconstructions(5, 7)
    >>> a == b[:3]
    True
    >>> len({s.seed for s in b})
    5
    """
    if n < 0:
        raise ValueError(f"the number of reconstructions must be >= 0, got {n}")
    specs = []
    for index, child in enumerate(np.random.SeedSequence(root_seed).spawn(n)):
        seed_stream, assumption_stream = child.spawn(2)
        seed = int(seed_stream.generate_state(1, dtype=np.uint64)[0])
        specs.append(ReconstructionSpec(index, seed, Assumptions.draw(np.random.default_rng(assumption_stream))))
    return specs
