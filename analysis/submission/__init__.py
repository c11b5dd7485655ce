"""What a journal receives: the Word and JATS manuscripts and the submission bundle.

The book's HTML is the one rendering of the sources that already holds every number, table,
figure, caption and reference resolved; the Word (DOCX) and JATS XML manuscripts are converted
from it by pandoc (the ``pypandoc-binary`` package pins pandoc itself), so nothing is typed twice
and nothing is edited after the build:

* :mod:`analysis.submission.manuscript`: the pages of the article (or of the supplement), as
  ``_config.yml`` (``submission_documents``) and ``_toc.yml`` choose them, merged into one
  clean HTML document, then ``paper.docx``/``supplement.docx`` and ``paper.xml`` (JATS
  Archiving 1.3);
* :mod:`analysis.submission.bundle`: the zip of everything (``make submission``), with its
  manifest.

Command line: ``python -m analysis.submission docx|jats|bundle`` (the Makefile's ``make docx``,
``make jats``, ``make submission``), after ``make book`` and, for the bundle, ``make pdf``.
"""
