"""Sphinx extension of the book: what an incremental build can skip.

Measured on a rebuild with nothing changed (``make book`` twice; 4.4 s before), and after a
dataset edit, these costs did not depend on what had changed:

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
* **figure numbers after a dataset edit**: a dataset edit re-reads a few pages (the title page
  prints the dataset's version) whose numbered figures and tables are the same as before; the
  renumbering then unpickled the other 19 doctrees (0.6-0.9 s profiled) to find the numbers it
  had already. Each page read records what the numbering reads of it
  (:func:`numbering_signature`); when every page read has the signature it had, no page was
  added or removed and no section number changed, the numbers are kept (those of the pages
  read are restored, as Sphinx drops a page's numbers when it reads the page again).
* **interpreter exit**: the garbage collector's final passes over the objects Sphinx and the
  analysis leave behind took 0.8 s after the build had finished. :func:`on_build_finished`
  freezes the collector (:func:`gc.freeze`) at exit instead, once every output is written;
  memory is still released object by object, and exit handlers still run.
"""
from __future__ import annotations

import atexit
import gc

from docutils import nodes
from sphinx import addnodes
from sphinx.application import Sphinx
from sphinx.environment import BuildEnvironment
from sphinx.environment.collectors.toctree import TocTreeCollector
from sphinx.errors import ExtensionError


def get_updated_docs(collector: TocTreeCollector, app: Sphinx, env: BuildEnvironment) -> list[str]:
    """The toctree collector's ``env-get-updated`` handler, except that figure and table
    numbers are kept as pickled when this build read and removed no page (:func:`note_read`,
    :func:`note_purged`), or read only pages whose numbered nodes did not change
    (:func:`numbering_kept`): section numbers, which need no doctree, are assigned again."""
    sections = collector.assign_section_numbers(env)
    touched = getattr(app, "incremental_pages_touched", True)
    # numbering_kept restores the numbers of the pages read, so it is asked only when it decides
    app.incremental_renumbered = touched and (bool(sections) or not numbering_kept(app, env))
    if app.incremental_renumbered:
        return sections + renumber_keeping_doctrees(collector, app, env)
    return sections


def enumerable_type(env: BuildEnvironment, node: nodes.Element) -> str | None:
    """The kind of number (``figure``, ``table``, ``code-block`` ...) Sphinx gives ``node``, or
    None: the rule of the ``get_figtype`` of Sphinx 7.4's ``assign_figure_numbers`` (the standard
    domain numbers only captioned nodes)."""
    for domain in env.domains.values():
        figtype = domain.get_enumerable_node_type(node)
        if domain.name == "std" and not domain.get_numfig_title(node):
            continue
        if figtype:
            return figtype
    return None


def numbering_signature(env: BuildEnvironment, doctree: nodes.Element) -> tuple:
    """What Sphinx's figure numbering reads of one page, in its order: each section's first id
    (where section numbers attach), each toctree's entries (the pages numbered next) and each
    numbered node's kind and first id (the walk of ``assign_figure_numbers``, this page only)."""
    items = []

    def walk(node: nodes.Element) -> None:
        for sub in node.children:
            if isinstance(sub, nodes.section):
                items.append(("section", sub["ids"][0] if sub["ids"] else None))
                walk(sub)
            elif isinstance(sub, addnodes.toctree):
                items.append(("toctree", tuple(name for _title, name in sub["entries"])))
            elif isinstance(sub, nodes.Element):
                figtype = enumerable_type(env, sub)
                if figtype and sub["ids"]:
                    items.append(("number", figtype, sub["ids"][0]))
                walk(sub)

    walk(doctree)
    return tuple(items)


def numbering_kept(app: Sphinx, env: BuildEnvironment) -> bool:
    """True when the figure numbers of the previous build are still right: no page was removed
    or added, and every page read has the numbering signature it had before. Restores the
    numbers of the pages read, which Sphinx dropped when it purged them."""
    previous = getattr(app, "incremental_previous", {})
    read = getattr(app, "incremental_read", set())
    signatures = getattr(env, "incremental_numbering", {})
    if set(previous) != read or any(previous[doc][0] is None or previous[doc][0] != signatures.get(doc)
                                    for doc in read):
        return False
    for doc in read:
        if previous[doc][1] is not None:
            env.toc_fignumbers[doc] = previous[doc][1]
    return True


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
    app.incremental_read = getattr(app, "incremental_read", set()) | set(docnames)


def note_purged(app: Sphinx, env: BuildEnvironment, docname: str) -> None:
    """``env-purge-doc`` (before the toctree collector drops the page's numbers): a page removed
    or about to be read again; its numbering signature and figure numbers are kept aside."""
    app.incremental_pages_touched = True
    signature = getattr(env, "incremental_numbering", {}).pop(docname, None)
    app.__dict__.setdefault("incremental_previous", {})[docname] = (signature, env.toc_fignumbers.get(docname))


def note_signature(app: Sphinx, doctree: nodes.document) -> None:
    """``doctree-read`` (after the other handlers): the numbering signature of the page read."""
    env = app.env
    env.__dict__.setdefault("incremental_numbering", {})[env.docname] = numbering_signature(env, doctree)


def merge_signatures(app: Sphinx, env: BuildEnvironment, docnames: set[str], other: BuildEnvironment) -> None:
    """``env-merge-info``: the signatures of pages read by a parallel reader."""
    env.__dict__.setdefault("incremental_numbering", {}).update(
        {doc: signature for doc, signature in getattr(other, "incremental_numbering", {}).items() if doc in docnames})


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
    app.connect("env-purge-doc", note_purged, priority=100)
    app.connect("doctree-read", note_signature, priority=950)
    app.connect("env-merge-info", merge_signatures)
    app.connect("build-finished", on_build_finished)
    return {"version": "1", "parallel_read_safe": True, "parallel_write_safe": True}
