"""Sphinx extension of the book: parse ``{eval-rst}`` blocks without padding them with blank lines.

The tables that notebooks display (paper layouts, status tables) are Markdown outputs holding an
``{eval-rst}`` fence. MyST gives the reStructuredText parser the fence's content preceded by one
blank line per line of the page above it, so that the line numbers of what it reports are those
of the page (``myst_parser``, ``DocutilsRenderer.render_restructuredtext``). A notebook has no
lines: myst-nb numbers the outputs of cell *i* from ``(i + 1) * 10000``, so a table in cell 20 is
parsed after 210,000 blank lines, one state-machine step each. For the book's 37 such tables that
was 4.6 million steps, about 40 s of a 60 s Sphinx build (cProfile, every notebook run cached).

docutils has the means to start numbering at an offset instead (``input_offset``, with the
offset in the source lines' items, as it does for the content of a directive), which gives the
same nodes with the same line numbers; :class:`OffsetRSTParser` parses that way and
:func:`render_restructuredtext` is MyST's method with it in place of the padding.
"""
from __future__ import annotations

import docutils.statemachine
from docutils.parsers.rst import roles, states
from myst_parser.mdit_to_docutils.base import DocutilsRenderer, make_document, token_line
from myst_parser.mocking import MockRSTParser
from sphinx.application import Sphinx


class OffsetRSTParser(MockRSTParser):
    """MyST's reStructuredText parser, numbering the input's lines from ``line_offset + 1``.

    The body of :meth:`docutils.parsers.rst.Parser.parse` (docutils 0.21) with the input lines
    given as a :class:`~docutils.statemachine.StringList` whose items carry the offset, and the
    same offset passed as ``input_offset``: every ``source, line`` that the state machine
    computes is then what it computes for the input padded with ``line_offset`` blank lines.

    Examples
    --------
    >>> from docutils.frontend import get_default_settings
    >>> from docutils.utils import new_document
    >>> doc = new_document("page.ipynb", get_default_settings(OffsetRSTParser))
    >>> OffsetRSTParser(line_offset=70000).parse("Some *text*.\\n\\n.. note:: A note.", doc)
    >>> [(node.tagname, node.line) for node in doc.children]
    [('paragraph', 70001), ('note', 70003)]
    """

    def __init__(self, line_offset: int = 0, **kwargs):
        super().__init__(**kwargs)
        self.line_offset = line_offset

    def parse(self, inputstring: str, document) -> None:
        blank_role = roles._roles.get("")  # MockRSTParser's reason to exist: keep the default role
        self.setup_parse(inputstring, document)
        document.settings.setdefault("tab_width", 8)
        document.settings.setdefault("syntax_highlight", "long")
        self.statemachine = states.RSTStateMachine(state_classes=self.state_classes,
                                                   initial_state=self.initial_state,
                                                   debug=document.reporter.debug_flag)
        lines = docutils.statemachine.string2lines(inputstring, tab_width=document.settings.tab_width,
                                                   convert_whitespace=True)
        too_long = next((i for i, line in enumerate(lines) if len(line) > document.settings.line_length_limit), None)
        if too_long is not None:
            document.append(document.reporter.error(
                f"Line {self.line_offset + too_long + 1} exceeds the line-length-limit."))
        else:
            numbered = docutils.statemachine.StringList(
                lines, items=[(document["source"], self.line_offset + i) for i in range(len(lines))])
            self.statemachine.run(numbered, document, input_offset=self.line_offset, inliner=self.inliner)
        roles._roles.pop("", None)
        if blank_role is not None:
            roles._roles[""] = blank_role
        self.finish_parse()


def render_restructuredtext(self: DocutilsRenderer, token) -> None:
    """``DocutilsRenderer.render_restructuredtext`` (myst-parser 3.0) with the fence's line
    offset given to :class:`OffsetRSTParser` instead of prepended as blank lines."""
    newdoc = make_document()
    newdoc["source"] = self.document["source"]
    newdoc.settings = self.document.settings
    newdoc.reporter = self.reporter
    OffsetRSTParser(line_offset=token_line(token)).parse(token.content, newdoc)
    for node in newdoc:
        if node["names"]:
            self.document.note_explicit_target(node, node)
    self.current_node.extend(newdoc.children)


def setup(app: Sphinx) -> dict:
    # MyST's renderers (Markdown pages and myst-nb's notebook renderer) all inherit this method.
    DocutilsRenderer.render_restructuredtext = render_restructuredtext
    return {"version": "1", "parallel_read_safe": True, "parallel_write_safe": True}
