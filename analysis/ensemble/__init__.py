"""Reconstruction ensemble: many cohorts consistent with the paper, and what they agree on.

The shipped cohort (``data/synthetic``) is one reconstruction. The published aggregates pin
down some of its results and leave others to the generator's seed and structural assumptions
(:mod:`analysis.synthetic.assumptions`). This package generates N reconstructions, each from a
child seed spawned from one root seed and a draw of the assumptions, checks each against the
published registry exactly as ``make data`` does, computes its full results registry, and
summarises, key by key, how much the reconstructions disagree.

Modules, in pipeline order:

``plan``      child seeds (``numpy.random.SeedSequence(root).spawn``) and assumption draws;
``task``      one reconstruction: generate, check, compute (runs on a Dask worker);
``digest``    digests of the generator, the analysis code and the published registry;
``store``     per-reconstruction parts (resumable) and the assembled Parquet/CSV outputs;
``summary``   per-key summary statistics and the classification of every key;
``engine``    Dask distributed: a ``LocalCluster`` by default, or an existing scheduler.

Command line: ``python -m analysis.ensemble --n 200 --seed 20250617`` (``make ensemble``).
"""
