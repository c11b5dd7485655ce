"""The state a reused notebook kernel is put back to between two runs of the book.

The book's runner (:mod:`analysis.build.kernels`) executes several notebooks, one after
another, in one Jupyter kernel per worker, so that each notebook does not pay for a new
interpreter and for importing pandas, SciPy and matplotlib again (about 3 s a run). A run's
outputs must not depend on which runs shared its kernel before it, so the runner calls
:func:`snapshot` once in a new kernel, before its first notebook, and :func:`restore` before
every later one. :func:`restore` puts back what a notebook can change in the process and a
new kernel would not have:

- IPython's user namespace, output history and execution counter (``reset(new_session=True)``:
  the next cell is ``[1]`` again);
- matplotlib: every figure is closed and ``rcParams`` are those of the snapshot (the house
  style of :mod:`analysis.figures` sets them globally);
- the warning filters, and the record of warnings already shown (a warning a notebook
  triggers is shown in each notebook, as in a new kernel);
- the global random states of :mod:`random` and NumPy, the environment, the working
  directory and ``sys.path``;
- the two pieces of module state of ``analysis`` itself: the sources a run declared
  (:func:`analysis.paths.declare_sources`) and the per-dataset derivation cache
  (:mod:`analysis.derived`).

Modules stay imported: that is the saving. What a module caches beyond this list (e.g.
lookup tables of pandas or SciPy) is a function of its arguments and cannot change a result.
``tests/build/test_warm_kernels.py`` executes runs in one reused kernel, in two orders, and
checks that every output equals that of a new kernel per run.

This module imports no other module of ``analysis``: it reaches the two it resets through
``sys.modules``, only when a notebook has loaded them, so that loading it in a kernel changes
nothing a notebook sees.
"""
from __future__ import annotations

import gc
import os
import random
import sys
import warnings

_SAVED: dict = {}


def snapshot() -> None:
    """Record the state of a new kernel (call once, before its first notebook).

    matplotlib and NumPy are imported here, and a figure is created and closed, so that the
    backend is resolved and the recorded ``rcParams`` are those a notebook would start from.
    """
    import matplotlib  # noqa: PLC0415 - imported in the kernel, on demand of the runner
    import matplotlib.pyplot as plt  # noqa: PLC0415
    import numpy as np  # noqa: PLC0415

    plt.close(plt.figure())
    _SAVED.update(
        rc={k: v for k, v in matplotlib.rcParams.copy().items() if k != "backend"},
        filters=list(warnings.filters),
        random=random.getstate(),
        numpy_random=np.random.get_state(),
        environ=dict(os.environ),
        cwd=os.getcwd(),
        path=list(sys.path),
    )


def restore() -> None:
    """Put the kernel back to the state :func:`snapshot` recorded (see the module notes)."""
    import matplotlib  # noqa: PLC0415 - already imported by snapshot()
    import matplotlib.pyplot as plt  # noqa: PLC0415
    import numpy as np  # noqa: PLC0415
    from IPython import get_ipython  # noqa: PLC0415 - only inside a kernel

    if not _SAVED:
        raise RuntimeError("analysis.kernelstate.restore() before snapshot()")
    get_ipython().reset(new_session=True)
    plt.close("all")
    # as matplotlib.rc_context restores them: unvalidated, the backend untouched
    dict.update(matplotlib.rcParams, _SAVED["rc"])
    warnings.resetwarnings()  # also forgets which warnings were already shown (each module's registry)
    warnings.filters.extend(_SAVED["filters"])
    warnings.onceregistry.clear()  # ... and those shown "once" per process
    random.setstate(_SAVED["random"])
    np.random.set_state(_SAVED["numpy_random"])
    os.environ.clear()
    os.environ.update(_SAVED["environ"])
    os.chdir(_SAVED["cwd"])
    sys.path[:] = _SAVED["path"]
    if "analysis.paths" in sys.modules:
        sys.modules["analysis.paths"].declare_sources(None)
    gc.collect()
    if "analysis.derived" in sys.modules:
        sys.modules["analysis.derived"].clear_cache()
