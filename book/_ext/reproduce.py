r"""Sphinx extension of the book: run the notebooks, then print registry values in prose.

Registered in ``_config.yml`` (``sphinx.local_extensions``). The work is done by
:mod:`analysis.build`; this file only connects it to Sphinx:

* ``config-inited``: validate and describe the dataset (an invalid dataset stops the build
  here, before any notebook runs). The notebook kernels are already warming by then if a run
  may be stale: the first extension, ``earlystart``, started them (:mod:`analysis.build.early`).
* the dataset notice, in the theme's announcement banner of every page: given to each page
  Sphinx writes (``html-page-context``) and, once the build has succeeded, replaced in the
  pages it did not write again (:func:`update_notices`). It is not a theme option, whose change
  would make Sphinx write every page after any dataset edit.
* ``builder-inited``: execute the stale runs of ``book/runplan.yml`` and publish the
  executed notebooks and the merged results registry (:func:`analysis.build.prepare_book`).
* roles, resolved while the pages are read:

  - ``{reg}`key``` or ``{reg}`key:.1f```: a value of the results registry, formatted by
    :func:`analysis.printing.format_value`; an unknown key is an error and fails the
    build;
  - ``{build}`fact```: a fact about this build (``dataset``, ``dataset_version``,
    ``dataset_kind``, ``dataset_reason``, ``data_note``);
  - ``{run}`parameter```: a parameter of the run whose executed notebook is this page;
  - ``{repofile}`path```: a download link to a file of the repository.
* after a ``{reg}`` value that the reconstruction ensemble classes *not determined* (synthetic
  datasets only), the mark ``‡`` with the value's 2.5-97.5 % range, linked to the ensemble page;
* incremental builds: the ``{reg}`` and ``{build}`` roles record, per page, the values they
  printed; ``env-get-outdated`` re-reads a page whose source did not change only when one of
  them changed (:func:`changed_pages`), instead of every page whenever the registry file does.
  Every page is read again when the code that renders pages changes: the digest of these
  extensions and of the ``analysis`` modules they reach (:func:`analysis.build.extension_closure`)
  is the configuration value ``reproduce_code_digest``.
* numbered references: ``{numref}`` is resolved from the labelled nodes kept when the target
  page was read (:class:`StandardDomainNumberingFromTargets`), not from its whole doctree.
* one build per checkout at a time: the build lock (:func:`analysis.build.acquire_build_lock`)
  is held from ``builder-inited`` to ``build-finished``.
* the PDF (LaTeX builder): the dataset notice as the LaTeX macro ``\datasetnotice`` for the
  title page, and :class:`LongTablesInLatex` for the tables a page cannot hold.
"""
from __future__ import annotations

import html
import os
import re
import sys
from pathlib import Path

from docutils import nodes
from sphinx import addnodes
from sphinx.application import Sphinx
from sphinx.domains.std import StandardDomain
from sphinx.errors import SphinxError
from sphinx.transforms.post_transforms import SphinxPostTransform
from sphinx.util import logging, texescape
from sphinx.util.docutils import SphinxRole

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:  # the repository's `analysis` package, whatever the working directory
    sys.path.insert(0, str(ROOT))

from analysis import build  # noqa: E402
from analysis.codegraph import digest_files, load_import_memo  # noqa: E402
from analysis.ensemble import marks as ensemble_marks  # noqa: E402

logger = logging.getLogger(__name__)


class ReproduceError(SphinxError):
    """Stops the build with the message of :class:`analysis.build.BuildError`."""

    category = "Reproduction error"


class registry_value(nodes.inline):
    """A number printed from the results registry (HTML: ``<span class="reg" data-key=...>``)."""


def visit_registry_value_html(self, node):
    self.body.append(self.starttag(node, "span", "", CLASS="reg", **{"data-key": node["key"]}))


def depart_registry_value_html(self, node):
    self.body.append("</span>")


def _value_text(value) -> str | None:
    """How a used value is remembered: exact text of a number (``repr``), or the text itself;
    None for a key that did not exist."""
    if value is None:
        return None
    return repr(float(value)) if isinstance(value, (int, float)) else str(value)


def _record_use(env, kind: str, name: str, values: dict) -> None:
    """Remember that the page being read printed ``values[name]`` (``kind`` ``reg`` for the
    registry, ``build`` for a build fact), so that it is re-read only when that value changes
    (:func:`on_env_get_outdated`), not whenever the registry file does."""
    uses = getattr(env, "reproduce_uses", None)
    if uses is None:
        uses = env.reproduce_uses = {}
    uses.setdefault(env.docname, {})[(kind, name)] = _value_text(values.get(name))


def _state(env):
    state = getattr(env.app, "reproduce_state", None)
    if state is None:
        raise ReproduceError("the notebooks have not been run (builder-inited did not complete)")
    return state


class _FailingRole(SphinxRole):
    def fail(self, message: str, missing_key: str | None = None):
        """Report an error at the role; a missing key is also recorded for the final check."""
        if missing_key is not None:
            store = getattr(self.env, "reproduce_missing", {})
            store.setdefault(self.env.docname, []).append((self.lineno, missing_key))
            self.env.reproduce_missing = store
        msg = self.inliner.reporter.error(message, line=self.lineno)
        return [self.inliner.problematic(self.rawtext, self.rawtext, msg)], [msg]


class RegistryRole(_FailingRole):
    """``{reg}`key[:spec]```: a registry value. On the page of an executed notebook the key
    may name the run's parameters in braces (``{reg}`{prefix}.acr20.msc.year1.pct```), so one
    notebook's prose serves all its runs."""

    def run(self):
        state = _state(self.env)
        reference = self.text
        if "{" in reference:
            run = {r.page: r for r in state.runs}.get(self.env.docname)
            if run is None:
                return self.fail(f"{{reg}}: {reference!r} names run parameters, but this page is not a run's page")
            self.env.note_dependency(str(build.RUNPLAN))
            try:
                reference = reference.format(**run.parameters)
            except (KeyError, IndexError, ValueError) as err:
                return self.fail(f"{{reg}}: cannot fill {reference!r} from the run's parameters ({err})", reference)
        key = reference.partition(":")[0].strip()
        _record_use(self.env, "reg", key, state.registry)
        try:
            text = build.render_registry_value(state.registry, reference)
        except KeyError as err:
            return self.fail(f"{{reg}}: {err.args[0]}", reference)
        except ValueError as err:
            return self.fail(f"{{reg}}: {err}")
        key, _, spec = reference.partition(":")
        value = [registry_value(text, text, key=key)]
        marks = getattr(self.env.app, "reproduce_undetermined", {})
        # the mark is printed too: a page is re-read when a key's interval appears, moves or goes
        _record_use(self.env, "mark", key, marks)
        if key in marks:
            value.append(undetermined_mark(self.env, key, marks[key], spec or None))
        return value, []


def undetermined_mark(env, key: str, interval: tuple[float, float], spec: str | None) -> nodes.Node:
    """``‡ low–high`` in superscript after a value the published numbers do not determine,
    linked to the ensemble page (a cross-reference, so it resolves in HTML and in the PDF)."""
    text = ensemble_marks.format_mark(key, interval, spec)
    ref = addnodes.pending_xref("", refdomain="std", reftype="doc", reftarget="/" + ensemble_marks.MARK_PAGE,
                                refexplicit=True, refdoc=env.docname, refwarn=True, reproduce_mark=True)
    ref += nodes.inline(text, text, classes=["undetermined"])
    return nodes.superscript("", "", ref, classes=["undetermined-mark"])


class BuildFactRole(_FailingRole):
    """``{build}`fact```: a fact about the dataset of this build."""

    def run(self):
        facts = build.build_facts(_state(self.env).dataset)
        _record_use(self.env, "build", self.text, facts)
        if self.text not in facts:
            return self.fail(f"{{build}}: unknown fact {self.text!r}; known: {', '.join(facts)}", self.text)
        return [nodes.Text(facts[self.text])], []


class RunParameterRole(_FailingRole):
    """``{run}`parameter```: a parameter of the run that produced this page."""

    def run(self):
        runs = {run.page: run for run in _state(self.env).runs}
        run = runs.get(self.env.docname)
        if run is None:
            return self.fail(f"{{run}}: page {self.env.docname!r} is not an executed notebook of the run plan")
        self.env.note_dependency(str(build.RUNPLAN))
        try:
            return [nodes.Text(build.describe_parameter(run, self.text))], []
        except KeyError as err:
            return self.fail(f"{{run}}: {err.args[0]}", self.text)


class RepoFileRole(SphinxRole):
    """``{repofile}`path```: a download link to a file of the repository (path from the
    repository root); a file missing from this checkout is named without a link."""

    def run(self):
        rel = self.text.strip()
        path = ROOT / rel
        if not path.is_file():
            return [nodes.literal(rel, rel), nodes.Text(" (not present in this checkout)")], []
        here = Path(self.env.srcdir) / Path(self.env.docname).parent
        target = os.path.relpath(path, here)
        node = addnodes.download_reference(self.rawtext, "", nodes.literal(rel, rel), reftarget=target,
                                           refdoc=self.env.docname, refdomain="", reftype="download",
                                           refexplicit=True)
        return [node], []


class LongTablesInLatex(SphinxPostTransform):
    """LaTeX only (the HTML is not affected): tables that would not fit the page.

    * A table with given column widths (rows of text, such as the report's status tables) is
      set as a ``longtable``, which breaks across pages; as a ``tabular`` it would run off the
      bottom of the page.
    * A table of more than 30 rows, which Sphinx always sets as a ``longtable``, keeps its
      column widths (from its colspecs) so that its cells wrap; without them Sphinx gives the
      ``longtable`` unbreakable ``l`` columns, which run off the right edge of the page.
    """

    default_priority = 200
    formats = ("latex",)

    def run(self, **kwargs) -> None:
        for table in self.document.findall(nodes.table):
            classes = table["classes"]
            if "colwidths-given" in classes and "longtable" not in classes:
                classes.append("longtable")
            elif len(list(table.findall(nodes.row))) > 30 and "colwidths-given" not in classes:
                classes.append("colwidths-given")


def on_config_inited(app: Sphinx, config) -> None:
    """Validate the dataset and set the dataset notice shown on every page. The runner's
    workers warm their kernels meanwhile if a run may be stale: started by the first extension,
    ``earlystart``, for the default run plan, else now (:func:`build.start_workers_early`)."""
    runplan = Path(app.srcdir) / config.reproduce_runplan
    early = getattr(app, "reproduce_early", None)
    if early is None or early.runplan != runplan.resolve():
        if early is not None and early.workers is not None:
            early.workers.close(wait=False)  # warmed for another run plan
        app.reproduce_early = build.start_workers_early(runplan)
    try:
        dataset = build.inspect_dataset()
    except build.BuildError as err:
        # Kernels warming meanwhile are shut down at exit (start_workers_early registers it).
        raise ReproduceError(str(err)) from None
    app.reproduce_dataset = dataset
    # Not a theme option: a changed option makes Sphinx write every page again (the notice is
    # given to each page it writes, and replaced in the others once the build succeeds).
    app.reproduce_notice = build.announcement_html(dataset)
    # The PDF has no banner: the same words, as LaTeX, become the macro \datasetnotice, which
    # its title page prints (the LaTeX preamble in _config.yml).
    texescape.init()
    words = html.unescape(re.sub(r"<[^>]+>", "", app.reproduce_notice))
    notice = texescape.escape(words, config.latex_engine)
    latex = dict(config.latex_elements or {})
    latex["preamble"] = latex.get("preamble", "") + "\n\\newcommand{\\datasetnotice}{" + notice + "}\n"
    config.latex_elements = latex
    # The code that renders the pages (these extensions and the analysis modules they reach):
    # a change reads every page again (the value rebuilds the environment), which Sphinx's
    # incremental build would not do for a change of extension code. The imports of unchanged
    # sources are those earlier builds found (saved by prepare_book, these included): not parsed.
    load_import_memo(build.IMPORT_MEMO)
    config.reproduce_code_digest = digest_files(build.extension_closure(Path(__file__).parent))
    logger.info(f"[reproduce] dataset valid: {dataset.label}")


def on_builder_inited(app: Sphinx) -> None:
    """Take the checkout's build lock, run the stale notebooks and publish pages and registry
    (all or nothing). The lock is held until the build finishes: a second build of the same
    checkout would otherwise share the run cache's staging folders, and could republish
    ``book/generated`` while this one reads it."""
    runplan = Path(app.srcdir) / app.config.reproduce_runplan
    try:
        app.reproduce_lock = build.acquire_build_lock(log=logger.info)
        app.reproduce_state = build.prepare_book(app.reproduce_dataset, runplan, log=logger.info,
                                                 early=app.reproduce_early)
    except build.BuildError as err:
        raise ReproduceError(str(err)) from None
    # Values the published numbers do not determine are marked on synthetic builds only.
    app.reproduce_undetermined = ensemble_marks.marks_for_dataset(app.reproduce_dataset.synthetic)


def on_html_page_context(app: Sphinx, pagename, templatename, context, doctree) -> None:
    """The dataset notice of a page Sphinx writes: the theme's announcement banner."""
    context["theme_announcement"] = app.reproduce_notice


#: Where the theme prints the announcement (pydata-sphinx-theme, sections/announcement.html).
NOTICE_OPENING = '<div class="bd-header-announcement__content">'


def replace_notice(page: str, notice: str) -> str:
    """``page`` (the HTML of a written page) with ``notice`` as its announcement banner's content.

    Raises ValueError unless the page holds exactly one banner; ``notice`` must hold no
    ``<div``, as the banner's content ends at the first ``</div>``.

    Examples
    --------
    >>> old = '<body><div class="bd-header-announcement__content">Built from <code>a</code>.</div><p>x</p>'
    >>> replace_notice(old, "Built from <code>b</code>.")
    '<body><div class="bd-header-announcement__content">Built from <code>b</code>.</div><p>x</p>'
    >>> replace_notice("<body><p>x</p>", "Built from <code>b</code>.")
    Traceback (most recent call last):
    ValueError: 0 announcement banners in the page instead of one
    """
    if "<div" in notice:
        raise ValueError("a dataset notice holding a <div> cannot be replaced in place")
    banners = list(re.finditer(re.escape(NOTICE_OPENING) + r"(.*?)</div>", page, re.S))
    if len(banners) != 1:
        raise ValueError(f"{len(banners)} announcement banners in the page instead of one")
    start, end = banners[0].span(1)
    return page[:start] + notice + page[end:]


def update_notices(app: Sphinx) -> list[str]:
    """Give every page of the HTML output this build's dataset notice; return the pages changed.

    A dataset edit changes the notice (its version) but usually not the content of most pages.
    Sphinx writes the pages whose content changed (:func:`on_html_page_context` gives them the
    notice); in the others only the banner's content differs from what Sphinx would write, and
    it is replaced here, once every page is written. A page the notice cannot be placed in
    stops the build with its path."""
    changed = []
    for docname in sorted(app.env.found_docs):
        path = Path(app.builder.get_outfilename(docname))
        if not path.is_file():
            continue
        page = path.read_text(encoding="utf-8")
        try:
            updated = replace_notice(page, app.reproduce_notice)
        except ValueError as err:
            raise ReproduceError(f"{path}: {err}; remove {app.outdir} and build again") from None
        if updated != page:
            partial = path.with_name(path.name + ".partial")
            partial.write_text(updated, encoding="utf-8")
            os.replace(partial, path)
            changed.append(docname)
    return changed


def on_build_finished(app: Sphinx, exception) -> None:
    try:
        if exception is None and app.builder.name in ("html", "dirhtml"):
            changed = update_notices(app)
            if changed:
                logger.info(f"[reproduce] dataset notice updated in {len(changed)} page(s) not written again")
    finally:
        lock = getattr(app, "reproduce_lock", None)
        if lock is not None:
            lock.release()


def on_env_purge_doc(app, env, docname) -> None:
    getattr(env, "reproduce_missing", {}).pop(docname, None)
    getattr(env, "reproduce_uses", {}).pop(docname, None)
    getattr(env, "reproduce_numref_targets", {}).pop(docname, None)


def on_env_merge_info(app, env, docnames, other) -> None:
    for name in ("reproduce_missing", "reproduce_uses", "reproduce_numref_targets"):
        store = getattr(env, name, None) or {}
        store.update({doc: value for doc, value in (getattr(other, name, None) or {}).items() if doc in docnames})
        setattr(env, name, store)


def changed_pages(uses: dict[str, dict], current: dict[str, dict]) -> dict[str, list[str]]:
    """Pages (docname -> the names whose value changed) that printed a registry value or
    build fact (``uses``, as recorded by :func:`_record_use`) that differs from ``current``
    (``{"reg": registry, "build": facts}``); a key that appeared or vanished counts as changed.

    Examples
    --------
    >>> uses = {"intro": {("reg", "table2.n.msc"): "80.0"}, "study": {("reg", "table4.x"): "1.0"}}
    >>> changed_pages(uses, {"reg": {"table2.n.msc": 80.0, "table4.x": 2.0}, "build": {}})
    {'study': ['table4.x']}
    """
    stale = {}
    for doc, used in sorted(uses.items()):
        changed = [name for (kind, name), value in sorted(used.items())
                   if _value_text(current[kind].get(name)) != value]
        if changed:
            stale[doc] = changed
    return stale


def on_env_get_outdated(app, env, added, changed, removed) -> list[str]:
    """Re-read a page whose sources did not change only when a registry value or build fact it
    prints changed (a notebook page whose notebook re-ran has a changed source already)."""
    state = getattr(app, "reproduce_state", None)
    if state is None:
        return []
    current = {"reg": state.registry, "build": build.build_facts(state.dataset),
               "mark": getattr(app, "reproduce_undetermined", {})}
    uses = {doc: used for doc, used in (getattr(env, "reproduce_uses", None) or {}).items()
            if doc not in added | changed | removed}
    stale = changed_pages(uses, current)
    if stale:
        logger.info("[reproduce] re-reading %d page(s) whose printed values changed: %s", len(stale),
                    "; ".join(f"{doc} ({', '.join(names[:3])}{', ...' if len(names) > 3 else ''})"
                              for doc, names in stale.items()))
    return list(stale)


def on_env_check_consistency(app, env) -> None:
    """Fail the build (even without -W) when a page refers to a registry key that does not exist."""
    missing = [f"{env.doc2path(doc, False)}:{line}: {key!r}"
               for doc, items in sorted(getattr(env, "reproduce_missing", {}).items()) for line, key in items]
    if missing:
        raise ReproduceError("references to missing registry keys or build facts:\n" + "\n".join(missing))


class _Targets:
    """What :meth:`StandardDomainNumberingFromTargets._resolve_numref_xref` needs of a page's
    doctree: its labelled nodes by id (``doctree.ids``)."""

    def __init__(self, ids: dict):
        self.ids = ids


def numref_target(node: nodes.Element) -> nodes.Element:
    """The part of a labelled node that resolving a ``{numref}`` to it reads: its class (the
    kind of number) and attributes (``ids``, the key of the number), without its content."""
    return node.copy()


def on_doctree_read(app: Sphinx, doctree) -> None:
    """Keep, per page, the labelled nodes a ``{numref}`` can point at (:func:`numref_target`)."""
    env = app.env
    std = env.get_domain("std")
    ids = {labelid for docname, labelid, *_ in (*std.labels.values(), *std.anonlabels.values())
           if docname == env.docname}
    store = getattr(env, "reproduce_numref_targets", None)
    if store is None:
        store = env.reproduce_numref_targets = {}
    store[env.docname] = {labelid: numref_target(doctree.ids[labelid]) for labelid in sorted(ids)
                          if labelid in doctree.ids}


class StandardDomainNumberingFromTargets(StandardDomain):
    """The standard domain, with one change: resolving a ``{numref}`` reads the labelled nodes
    the book's extension kept when the target page was read (:func:`on_doctree_read`) instead of
    the target page's doctree. Sphinx 7.4 unpickles the whole target page for every numbered
    reference to it (0.1-0.2 s for a page with large tables) only to learn the target node's
    type and id; a target that was not kept (an environment of an older build, a label added
    after the page was read) is found in its page's doctree, read once per build."""

    def _resolve_numref_xref(self, env, fromdocname, builder, typ, target, node, contnode):
        label = self.labels.get(target) or self.anonlabels.get(target) or ("", "")
        kept = getattr(env, "reproduce_numref_targets", {}).get(label[0], {})
        cache = builder.__dict__.setdefault("reproduce_target_doctrees", {})
        read = env.get_doctree

        def get_doctree(docname):
            if docname == label[0] and label[1] in kept:
                return _Targets(kept)
            if docname not in cache:
                cache[docname] = read(docname)
            return cache[docname]

        env.get_doctree = get_doctree
        try:
            return super()._resolve_numref_xref(env, fromdocname, builder, typ, target, node, contnode)
        finally:
            del env.get_doctree


def setup(app: Sphinx) -> dict:
    app.add_config_value("reproduce_runplan", "runplan.yml", "env")
    app.add_config_value("reproduce_code_digest", "", "env")  # set when the configuration is read
    # How the dataset notice reaches the pages (update_notices): a new value writes every page.
    app.add_config_value("reproduce_notice_format", "1", "html")
    app.add_domain(StandardDomainNumberingFromTargets, override=True)
    app.connect("doctree-read", on_doctree_read, priority=900)
    app.connect("config-inited", on_config_inited)
    app.connect("builder-inited", on_builder_inited)
    app.connect("build-finished", on_build_finished)
    app.connect("html-page-context", on_html_page_context)
    app.connect("env-purge-doc", on_env_purge_doc)
    app.connect("env-merge-info", on_env_merge_info)
    app.connect("env-get-outdated", on_env_get_outdated)
    app.connect("env-check-consistency", on_env_check_consistency)
    app.add_node(registry_value, html=(visit_registry_value_html, depart_registry_value_html))
    app.add_role("reg", RegistryRole())
    app.add_role("build", BuildFactRole())
    app.add_role("run", RunParameterRole())
    app.add_role("repofile", RepoFileRole())
    app.add_post_transform(LongTablesInLatex)
    return {"version": "1", "parallel_read_safe": True, "parallel_write_safe": True, "env_version": 3}
