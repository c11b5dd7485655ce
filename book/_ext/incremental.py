"""Sphinx extension of the book: what a build that reads no page can skip.

Measured on a rebuild with nothing changed (``make book`` twice; 4.4 s before), two costs
did not depend on anything having changed:

* **figure numbers**: Sphinx's toctree collector renumbers the figures and tables of the whole
  book after every read phase (``env-get-updated``), which unpickles the doctree of every page
  (0.6 s). The numbers depend only on those doctrees, the toctrees and the configuration; when
  no page was read or removed, none of them changed, and the numbers the environment was
  pickled with are still right (a changed configuration makes Sphinx read every page).
  :func:`get_updated_docs` skips the renumbering in that case only.
* **doctrees unpickled twice**: when pages were read, the renumbering unpickles every page's
  doctree, and writing the pages unpickled each again (0.7 s profiled for the book's 21 pages).
  The renumbering only reads them, so :func:`get_updated_docs` hands the doctrees it loaded to
  the write phase (Sphinx's own cache of doctrees to write, ``_write_doc_doctree_cache``, which
  already holds the pages read in this build).
* **interpreter exit**: the garbage collector's final passes over the objects Sphinx and the
  analysis leave behind took 0.8 s after the build had finished. :func:`on_build_finished`
  freezes the collector (:func:`gc.freeze`) at exit instead, once every output is written;
  memory is still released object by object, and exit handlers still run.
"""
from __future__ import annotations

import atexit
import gc

from sphinx.application import Sphinx
from sphinx.environment import BuildEnvironment
from sphinx.environment.collectors.toctree import TocTreeCollector
from sphinx.errors import ExtensionError


def get_updated_docs(collector: TocTreeCollector, app: Sphinx, env: BuildEnvironment) -> list[str]:
    """The toctree collector's ``env-get-updated`` handler, except that figure and table
    numbers are kept as pickled when this build read and removed no page (:func:`note_read`,
    :func:`note_purged`): only section numbers, which need no doctree, are assigned again."""
    if getattr(app, "incremental_pages_touched", True):
        return renumber_keeping_doctrees(collector, app, env)
    return collector.assign_section_numbers(env)


def renumber_keeping_doctrees(collector: TocTreeCollector, app: Sphinx, env: BuildEnvironment) -> list[str]:
    """The collector's renumbering, with each doctree it unpickles kept for the write phase
    (which pops it from ``env._write_doc_doctree_cache`` instead of unpickling it again). A page
    read in this build is already there, as Sphinx wrote it; the renumbering reads that one."""
    kept = env._write_doc_doctree_cache
    unpickle = env.get_doctree

    def get_doctree(docname: str):
        if docname not in kept:
            kept[docname] = unpickle(docname)
        return kept[docname]

    env.get_doctree = get_doctree
    try:
        return collector.get_updated_docs(app, env)
    finally:
        del env.get_doctree  # the method again


def note_read(app: Sphinx, env: BuildEnvironment, docnames: list[str]) -> None:
    """``env-before-read-docs`` (run after every other handler): the pages this build reads."""
    app.incremental_pages_touched = getattr(app, "incremental_pages_touched", False) or bool(docnames)


def note_purged(app: Sphinx, env: BuildEnvironment, docname: str) -> None:
    """``env-purge-doc``: a page removed (or about to be re-read)."""
    app.incremental_pages_touched = True


def on_build_finished(app: Sphinx, exception) -> None:
    atexit.unregister(gc.freeze)  # once, however many builds this process runs
    atexit.register(gc.freeze)


def number_only_what_changed(app: Sphinx) -> None:
    """Route the ``env-get-updated`` event of the enabled toctree collector (Sphinx's, or the
    subclass sphinx-external-toc enables in its place) through :func:`get_updated_docs`."""
    found = [listener for listener in app.events.listeners.get("env-get-updated", [])
             if isinstance(getattr(listener.handler, "__self__", None), TocTreeCollector)]
    if len(found) != 1:
        raise ExtensionError(f"incremental: expected one enabled toctree collector, found {len(found)}")
    collector, priority = found[0].handler.__self__, found[0].priority
    app.disconnect(collector.listener_ids["env-get-updated"])
    collector.listener_ids["env-get-updated"] = app.connect(
        "env-get-updated", lambda app, env: get_updated_docs(collector, app, env), priority=priority)


def setup(app: Sphinx) -> dict:
    number_only_what_changed(app)
    app.connect("env-before-read-docs", note_read, priority=900)
    app.connect("env-purge-doc", note_purged)
    app.connect("build-finished", on_build_finished)
    return {"version": "1", "parallel_read_safe": True, "parallel_write_safe": True}
