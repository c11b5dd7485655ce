"""Reused Jupyter kernels: each worker of the runner keeps one kernel for its runs.

A new kernel costs about 3 s of CPU before a notebook's first cell does any work: the
interpreter, ipykernel, then pandas, SciPy, pandera and matplotlib imported by the notebook.
With 14 runs on two workers that was most of a clean build's notebook phase. Here each worker
thread starts one kernel and executes its runs in it one after another; between two runs the
kernel is put back to the state it had before its first run (:func:`analysis.kernelstate.restore`:
namespace, execution counter, figures and ``rcParams``, warning filters, random states,
environment, and the module state of ``analysis``), so a run's outputs do not depend on which
runs came before it in the same kernel (``tests/build/test_warm_kernels.py``).

A kernel whose run failed is shut down, never reused. ``BOOK_KERNELS=new`` gives every run a
new kernel, as papermill does by default (to rule the reuse out when hunting a problem).

A kernel can be *warmed* before its first run (:meth:`WorkerKernel.warm`): started, made to
import what the notebooks import, and only then snapshotted. The book build does this from its
first moment, while it imports the analysis and validates the dataset (:class:`Workers`,
started by :mod:`analysis.build.early`), so that a run's first cell does not wait for the
imports. A warmed kernel is in the state a reused kernel is in before its second run: what the
tests above show to make no difference to any output.

The kernels are driven through papermill's own engine: :func:`papermill.execute_notebook`
passes ``km`` down to nbclient, which then uses that kernel and leaves it running.
"""
from __future__ import annotations

import ast
import functools
import os
import queue
import signal
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING

import nbformat
from jupyter_core.utils import run_sync

if TYPE_CHECKING:
    from jupyter_client.manager import AsyncKernelManager

from analysis import paths
from analysis.build.errors import NotebookRunError

#: Environment variable: ``new`` starts a new kernel for every run.
KERNELS_ENV = "BOOK_KERNELS"
#: Kernel-side calls (silent: no execution count, nothing in the user namespace).
SNAPSHOT = '__import__("analysis.kernelstate", fromlist=["_"]).snapshot()'
RESTORE = '__import__("analysis.kernelstate", fromlist=["_"]).restore()'
STARTUP_TIMEOUT = 120


@functools.cache
def kernel_manager_class() -> type[AsyncKernelManager]:
    """The kernel manager of a worker: jupyter_client's, remembering the clients nbclient opens
    on it, so that their channels (sockets and a heartbeat thread each) can be closed after
    every run (``close_clients``). Made on first use: a build whose runs are all cached, and
    ``make verify``, need not import jupyter_client (0.1 s)."""
    from jupyter_client.manager import AsyncKernelManager  # noqa: PLC0415 - on first use (see above)

    class ReusedKernelManager(AsyncKernelManager):
        def client(self, **kwargs):
            kc = super().client(**kwargs)
            self.__dict__.setdefault("_clients", []).append(kc)
            return kc

        def close_clients(self) -> None:
            for kc in self.__dict__.pop("_clients", []):
                kc.stop_channels()

    return ReusedKernelManager


async def _ready_client(km: AsyncKernelManager):
    kc = km.client()
    await kc.wait_for_ready(timeout=STARTUP_TIMEOUT)
    return kc


async def _execute_silently(km: AsyncKernelManager, code: str) -> None:
    kc = await _ready_client(km)
    reply = await kc.execute_interactive(code, silent=True, store_history=False, timeout=STARTUP_TIMEOUT,
                                         output_hook=lambda msg: None)
    content = reply["content"]
    if content["status"] != "ok":
        raise NotebookRunError(f"the book's kernel could not run {code!r}: "
                               f"{content.get('ename')}: {content.get('evalue')}")


async def _start(km: AsyncKernelManager) -> None:
    # As nbclient starts its kernels: history in memory, so parallel kernels share no file.
    await km.start_kernel(cwd=str(paths.ROOT), extra_arguments=["--HistoryManager.hist_file=:memory:"])


def reuse_enabled() -> bool:
    """Whether runs share their worker's kernel (``$BOOK_KERNELS`` is not ``new``)."""
    value = os.environ.get(KERNELS_ENV, "reuse")
    if value not in ("reuse", "new"):
        raise ValueError(f"{KERNELS_ENV}={value!r}: expected 'reuse' (the default) or 'new'")
    return value == "reuse"


class WorkerKernel:
    """The kernel of one worker of the runner: started by its first run, reset before each
    later one, shut down after a failed run and by :meth:`shutdown`. With ``reuse=False``
    every run gets a new kernel. Used by one thread only (its kernel's sockets belong to that
    thread's event loop)."""

    def __init__(self, reuse: bool = True):
        self.reuse = reuse
        self.km: AsyncKernelManager | None = None
        self.used = False  # whether a run has used the kernel since its snapshot
        self.ready = False  # whether the kernel has answered (and so handles SIGINT)

    def _launch(self, preload: str = "", cancelled=lambda: False) -> None:
        self.ready = False
        self.km = kernel_manager_class()(kernel_name="python3")
        run_sync(_start)(self.km)
        run_sync(_ready_client)(self.km)
        self.ready = True  # ipykernel now handles SIGINT (interrupt)
        if preload and not cancelled():
            run_sync(_execute_silently)(self.km, preload)
        run_sync(_execute_silently)(self.km, SNAPSHOT)
        self.km.close_clients()
        self.used = False

    def warm(self, preload: str, cancelled=lambda: False) -> bool:
        """Start the kernel now and run ``preload`` in it (silently: import statements, see
        :func:`preload_code`) before its snapshot, unless ``cancelled()`` says by then that no
        run will come. Returns False, with no kernel left, if that fails: the first run then
        starts a new kernel and reports the problem from its cell."""
        try:
            self._launch(preload, cancelled)
        except Exception:  # noqa: BLE001 - the run that needs the import reports it with its cell
            self.shutdown()
            return False
        return True

    def interrupt(self) -> None:
        """Interrupt what the kernel executes (SIGINT, as Jupyter's interrupt button): called from
        another thread to cut a warm-up short; the owning thread sees the cell fail and shuts the
        kernel down. An idle kernel ignores it. A kernel that has not answered yet is left alone
        (it would print the interrupted import); its warm-up skips the imports instead."""
        process = getattr(getattr(self.km, "provisioner", None), "process", None)
        if self.ready and process is not None and process.poll() is None:
            process.send_signal(signal.SIGINT)

    def acquire(self) -> AsyncKernelManager:
        """The kernel for the next run, in the state of a new kernel."""
        if self.km is not None and run_sync(self.km.is_alive)():
            if self.used:
                run_sync(_execute_silently)(self.km, RESTORE)
        else:
            self._launch()
        self.km.close_clients()
        self.used = True
        return self.km

    def release(self, ok: bool) -> None:
        """After a run: keep the kernel for the next one, unless the run failed or kernels
        are not reused."""
        if not (ok and self.reuse):
            self.shutdown()
        elif self.km is not None:
            self.km.close_clients()

    def shutdown(self) -> None:
        if self.km is None:
            return
        km, self.km = self.km, None
        km.close_clients()
        if run_sync(km.is_alive)():
            run_sync(km.shutdown_kernel)(now=True)


def preload_code(notebooks) -> str:
    """Code that imports, inside a function (so that no name is left in the kernel), every
    module the ``notebooks`` import in their code cells: what :meth:`WorkerKernel.warm` runs.

    Examples
    --------
    >>> print(preload_code([paths.ROOT / "book" / "notebooks" / "medications.ipynb"]))
    def __book_preload():
        from analysis import notebook, presentation, tables
        from analysis.ensemble.marks import marked_registry
    __book_preload()
    del __book_preload
    """
    statements = set()
    for notebook in notebooks:
        for cell in nbformat.read(notebook, as_version=4).cells:
            if cell.cell_type != "code":
                continue
            try:
                tree = ast.parse(cell.source)
            except SyntaxError:
                continue  # the run reports it
            statements |= {ast.unparse(node) for node in tree.body if isinstance(node, (ast.Import, ast.ImportFrom))}
    if not statements:
        return ""
    return "def __book_preload():\n" + "".join(f"    {line}\n" for line in sorted(statements)) + \
        "__book_preload()\ndel __book_preload"


def default_workers() -> int:
    """Kernels run in parallel: ``$BOOK_WORKERS``, else the CPU count (at most 4)."""
    return int(os.environ.get("BOOK_WORKERS") or min(os.cpu_count() or 1, 4))


class Workers:
    """The runner's workers: ``count`` threads, each with one kernel it reuses for its jobs
    (:class:`WorkerKernel`; ``reuse=None`` follows ``$BOOK_KERNELS``).

    The threads start at once; with ``preload`` (:func:`preload_code`) each warms its kernel
    while the jobs are not yet known (the book build starts them before it has even loaded the
    analysis: :mod:`analysis.build.early`). :meth:`run` executes jobs (callables taking the
    worker's kernel; the runner's are notebook runs) in the order given, the first failure
    stopping the workers from starting more; :meth:`close` ends the workers without a job (no
    run was stale after all, or the build stopped). Each kernel is used by its own thread only.
    """

    def __init__(self, count: int, reuse: bool | None = None, preload: str = ""):
        self.reuse = reuse_enabled() if reuse is None else reuse
        self._jobs: queue.SimpleQueue = queue.SimpleQueue()
        self._failures: list[Exception] = []  # the first stops every worker
        self._closed = False
        self._given = False  # whether run() has given the workers jobs
        self._kernels: list[WorkerKernel] = []
        self._threads = [threading.Thread(target=self._work, args=(preload,), name=f"book-worker-{i}", daemon=True)
                         for i in range(max(1, count))]
        for thread in self._threads:
            thread.start()

    def _work(self, preload: str) -> None:
        kernel = WorkerKernel(self.reuse)
        self._kernels.append(kernel)
        try:
            if preload and self.reuse:
                kernel.warm(preload, cancelled=lambda: self._closed and not self._given)
            while (job := self._jobs.get()) is not None:
                if self._failures:
                    continue
                try:
                    job(kernel)
                except Exception as err:  # noqa: BLE001 - raised by run(), once the other workers stop
                    self._failures.append(err)
        finally:
            kernel.shutdown()

    def run(self, jobs: list[Callable[[WorkerKernel], object]]) -> None:
        """Execute ``jobs``, then end the workers; raise the first failure."""
        if self._closed:
            raise RuntimeError("these workers have ended; start new ones")
        self._given = bool(jobs)
        for job in jobs:
            self._jobs.put(job)
        self.close()
        if self._failures:
            raise self._failures[0]

    def close(self, wait: bool = True) -> None:
        """End the workers (after the jobs already given) and shut their kernels down; with
        ``wait=False`` return at once. Without jobs, warm-ups are interrupted (a kernel still
        starting skips its imports); :meth:`join` waits until every kernel is shut down."""
        if not self._closed:
            self._closed = True
            for _thread in self._threads:
                self._jobs.put(None)
            if not self._given:  # no job comes: cut the warm-ups short
                for kernel in list(self._kernels):
                    kernel.interrupt()
        if wait:
            self.join()

    def join(self) -> None:
        """Wait until every worker has ended and shut its kernel down."""
        for thread in self._threads:
            thread.join()
