"""Sphinx extension of the book, loaded first: start the notebook kernels if a run may be stale.

Listed first in ``_config.yml`` (``sphinx.config.extensions``), so that its ``setup`` runs before
the other extensions, and the analysis they import, are loaded: the kernels' imports then use
the core the build's own process leaves idle meanwhile (:mod:`analysis.build.early`). It reads no
configuration value (none is known yet): the run plan is ``book/runplan.yml`` beside the pages,
and the dataset folder follows ``$ANALYSIS_DATA_DIR`` as the build does. ``reproduce`` hands the
workers to the runner (or ends them, when no run is stale).
"""
from __future__ import annotations

import sys
from pathlib import Path

from sphinx.application import Sphinx

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:  # the repository's `analysis` package, whatever the working directory
    sys.path.insert(0, str(ROOT))

from analysis.build import early  # noqa: E402

#: The run plan, as ``reproduce_runplan``'s default (a build that sets another starts its
#: kernels when ``reproduce`` reads the configuration instead).
RUNPLAN = "runplan.yml"


def setup(app: Sphinx) -> dict:
    app.reproduce_early = early.start_workers_early(Path(app.srcdir) / RUNPLAN)
    return {"version": "1", "parallel_read_safe": True, "parallel_write_safe": True}
