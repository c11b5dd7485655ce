"""The book's build: run plan, notebook execution with papermill, cache, registry to prose.

``jupyter-book build book/`` loads the local Sphinx extension ``book/_ext/reproduce.py``,
which calls this module in two steps:

1. **when the configuration is read** (:func:`inspect_dataset`): the dataset is located
   (``$ANALYSIS_DATA_DIR``, else ``data/synthetic``), validated with
   :func:`analysis.contract.load_dataset` and classified as synthetic or not
   (:func:`classify_dataset`). An invalid dataset stops the build here, with the
   contract's report, before any notebook runs.
2. **when the builder starts** (:func:`prepare_book`): every run of the run plan
   (``book/runplan.yml``: notebook x parameters -> executed page) gets a cache key
   (:func:`compute_run_key`); runs whose key has no complete cache entry are executed by
   papermill, in parallel, each into its own cache entry under ``_build/book-runs/``. Each
   worker reuses one kernel for its runs, reset to a new kernel's state between them
   (:mod:`analysis.build.kernels`; ``BOOK_KERNELS=new`` starts one per run). When a run may
   be stale, the workers start and warm their kernels before step 1 already, as the build's
   first extension loads (:mod:`analysis.build.early`), while the build imports the analysis
   and validates the dataset.
   Only when **every** run has succeeded are the executed notebooks and their outputs
   copied into ``book/generated/`` (the pages Sphinx reads) and the registry fragments
   merged into ``_build/results/results.csv``. A failing notebook stops the build with the
   run, the cell and the error; the pages and the registry keep their previous, complete
   state, and Sphinx never starts reading.

Cache key
---------
A run's key is the SHA-256 of exactly what the run can reach: the notebook file, the run's
parameters (including the dataset directory and its synthetic flag), the content of every
dataset table the run declares as an input (``inputs`` in the run plan; ``[]`` for none) as
the run sees it (:func:`digest_run_views`: the validated table without the contract columns
no result reads, :data:`analysis.schema.UNANALYSED_COLUMNS`, which runs do not get) and
of every non-table file of the dataset folder (README, marker), the source of the
``analysis`` modules in the notebook's static import closure (:func:`analysis_closure`:
the modules its code cells import, then theirs, transitively, module- and function-level),
``requirements.lock``, the repository paths the run declares as ``sources`` (files or
folders, e.g. ``data/published`` for the runs that compare with the published registry) and
:data:`RUNNER_VERSION`. Tooling no notebook imports (``analysis.bench``,
``analysis.codecheck``, ``analysis.synthetic``) is in no key. Nothing changed: no notebook
runs. One input changed: only the runs whose key covers it.

Declarations are enforced: a notebook gets the dataset through
:func:`analysis.notebook.load_run_dataset`, where every undeclared table raises on first
use, and the runner records the run's ``sources`` beside its output folder, after which
code that reads a repository source (:func:`analysis.paths.check_source`) raises for an
undeclared one. A wrong declaration fails loudly instead of leaving a stale cache entry.

Files are copied into ``book/generated/`` only when their bytes differ, so Sphinx's
incremental build re-reads exactly the pages whose notebook re-ran. A page that prints
registry values or build facts is re-read when one of the values it printed changed (the
book's extension records them per page), not whenever the registry does.

Registry to prose
-----------------
Notebooks write their registry rows (the ``registry_*`` functions of
:mod:`analysis.tables` and of the durability, clusters and longitudinal modules) with
:func:`analysis.notebook.write_fragment`. The merged registry plus the restatements of
:data:`analysis.narrative.NARRATIVE_KEYS` equals :func:`analysis.tables.compute_results` for the same
dataset (tested). Prose and captions print a value with the ``{reg}`` role
(``{reg}`table2.sae.msc.rate```), formatted by :func:`analysis.printing.format_value`;
a key that is not in the registry fails the build.

Modules
-------
``errors`` (what a failed build raises), ``hashing`` (content hashes, the code a notebook
reaches), ``dataset`` (the build's dataset and its identity), ``runplan`` (the run plan),
``runner`` (papermill execution), ``kernels`` (the workers and their reused kernels),
``early`` (starting them before the analysis is imported), ``cache`` (run keys and cache
entries), ``publishing`` (pages and the merged registry), ``prose`` (registry
values and build facts for the Sphinx extension), ``appendix`` (the reproducibility page),
``lock`` (one build at a time) and ``book`` (the two steps above). Every public name is
importable from ``analysis.build``.
"""
from __future__ import annotations

import ast
import importlib
from pathlib import Path
from typing import TYPE_CHECKING

# The public names are loaded on first use (PEP 562), so that importing one light submodule
# (``analysis.build.verifycache`` for ``make verify`` served from its store, the lock) does not
# import pandas and the statistics through the others. The block below is the list of public
# names: read here to find each name's submodule, and by the static import graph
# (:mod:`analysis.codegraph`), for which ``from analysis.build import x`` reaches them all.
if TYPE_CHECKING:
    from analysis.build.appendix import (  # noqa: F401
        render_reproducibility_page,
    )
    from analysis.build.book import (  # noqa: F401
        IMPORT_MEMO,
        BookState,
        prepare_book,
    )
    from analysis.build.cache import (  # noqa: F401
        RUNNER_VERSION,
        RUNS,
        compute_run_key,
        last_seconds,
        longest_first,
        prune_cache,
        run_code_hashes,
        run_inputs,
        run_keys,
    )
    from analysis.build.dataset import (  # noqa: F401
        DatasetInfo,
        classify_dataset,
        dataset_label,
        describe_dataset,
        digest_run_views,
        inspect_dataset,
    )
    from analysis.build.early import (  # noqa: F401
        EarlyStart,
        Input,
        record_inputs,
        stale_runs,
        start_workers_early,
    )
    from analysis.build.errors import (  # noqa: F401
        BuildError,
        Log,
        NotebookRunError,
    )
    from analysis.build.hashing import (  # noqa: F401
        analysis_closure,
        extension_closure,
        hash_file,
        hash_sources,
        hash_tree,
        notebook_source_tree,
    )
    from analysis.build.kernels import (  # noqa: F401
        KERNELS_ENV,
        WorkerKernel,
        Workers,
        default_workers,
        reuse_enabled,
    )
    from analysis.build.lock import (  # noqa: F401
        LOCK_FILE,
        BuildLock,
        acquire_build_lock,
    )
    from analysis.build.prose import (  # noqa: F401
        announcement_html,
        build_facts,
        load_registry,
        render_registry_value,
    )
    from analysis.build.publishing import (  # noqa: F401
        GENERATED,
        REGISTRY_FILE,
        merge_registry,
        publish,
        read_registry,
    )
    from analysis.build.runner import (  # noqa: F401
        RunRecord,
        execute_run,
        execute_runs,
        make_publishable,
    )
    from analysis.build.runplan import (  # noqa: F401
        CONTRACT_FILES,
        INJECTED,
        RUNPLAN,
        Run,
        check_source_path,
        describe_parameter,
        load_run_plan,
        notebook_parameter_names,
        run_parameters,
    )

_EXPORTS: dict[str, str] = {}


def _public_names() -> dict[str, str]:
    """Public name -> its submodule, from the ``if TYPE_CHECKING:`` block of this file."""
    if not _EXPORTS:
        tree = ast.parse(Path(__file__).read_text(encoding="utf-8"))
        block = next(node for node in tree.body if isinstance(node, ast.If)
                     and isinstance(node.test, ast.Name) and node.test.id == "TYPE_CHECKING")
        _EXPORTS.update({alias.name: node.module for node in block.body
                         if isinstance(node, ast.ImportFrom) for alias in node.names})
    return _EXPORTS


def __getattr__(name: str):
    module = _public_names().get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value  # later uses do not come here
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_public_names()})
