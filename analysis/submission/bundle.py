"""``make submission``: one zip with everything a journal receives, and a manifest.

Layout (after MECA, the Manuscript Exchange Common Approach, as far as it applies: one zip with
a ``manifest.xml`` that lists every item with its type and media type; the JATS XML is the
article's metadata and text):

* ``manifest.xml``: the MECA manifest (:data:`MECA_NAMESPACE`);
* ``MANIFEST.csv``: every file with its SHA-256, size and what produced it;
* ``paper.pdf``, ``paper.docx``, ``paper.xml`` (JATS): the manuscript;
* ``supplement.pdf``, ``supplement.docx``: the supplement;
* ``figures/``: each figure of the article as vector PDF, 600 dpi PNG and TIFF;
* ``tables/``: each table of the article as CSV and XLSX; ``supplementary/`` the same for the
  supplement's tables;
* ``README-reproducibility.md``: the README's section *For reproducibility checkers*;
  ``supplementary/data-contract.md``: the data contract (``data/README.md``).

The files are the build's, byte for byte; the run plan says which figure and table files
exist (:func:`analysis.export.companion_files`). The zip is byte-reproducible: members in a
fixed order, dated ``SOURCE_DATE_EPOCH`` (the commit's date; the zip format cannot store a date
before 1980), fixed permissions.
"""
from __future__ import annotations

import csv
import hashlib
import io
import re
import zipfile
from dataclasses import dataclass
from pathlib import Path

from analysis import paths
from analysis.build import load_run_plan
from analysis.export import companion_files
from analysis.submission.manuscript import SubmissionError, document_pages, source_date

MECA_NAMESPACE = "https://manuscriptexchange.org/schema/manifest"
BUNDLE = "submission.zip"
#: Suffix -> media type.
MEDIA_TYPES = {".pdf": "application/pdf", ".xml": "application/xml", ".png": "image/png", ".tiff": "image/tiff",
               ".csv": "text/csv", ".md": "text/markdown",
               ".docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
               ".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}
PDF_MAKER = "make pdf: Sphinx LaTeX builder (book/_ext/submission.py), xelatex"
DOCX_MAKER = "make docx: pandoc (pypandoc-binary) from the built HTML (analysis.submission.manuscript)"
JATS_MAKER = "make jats: pandoc (pypandoc-binary) from the built HTML, JATS Archiving 1.3 (analysis.submission.manuscript)"
README_SECTION = "For reproducibility checkers"


@dataclass(frozen=True)
class Item:
    """One file of the bundle: its path in the zip, its source, its MECA item type, its maker."""

    name: str
    source: Path
    kind: str
    made_by: str


def readme_section(readme: Path, heading: str = README_SECTION) -> str:
    """The ``## heading`` section of ``readme``, up to the next ``## `` heading.

    Examples
    --------
    >>> import tempfile
    >>> path = Path(tempfile.mkdtemp()) / "README.md"
    >>> _ = path.write_text("# T\\n## A\\na\\n## For reproducibility checkers\\nrun it\\n## B\\nb\\n")
    >>> readme_section(path)
    '## For reproducibility checkers\\nrun it\\n'
    """
    text = readme.read_text(encoding="utf-8")
    match = re.search(rf"^## {re.escape(heading)}\n.*?(?=^## |\Z)", text, flags=re.MULTILINE | re.DOTALL)
    if match is None:
        raise SubmissionError(f"{readme} has no section '## {heading}'")
    return match.group(0)


def bundle_items(root: Path = paths.ROOT) -> list[Item]:
    """Every file of the bundle, in the order the zip stores them."""
    build = root / "_build"
    items = [Item("paper.pdf", build / "latex" / "paper.pdf", "manuscript", PDF_MAKER),
             Item("paper.docx", build / "docx" / "paper.docx", "manuscript", DOCX_MAKER),
             Item("paper.xml", build / "jats" / "paper.xml", "article-metadata", JATS_MAKER),
             Item("supplement.pdf", build / "latex" / "supplement.pdf", "supplementary-material", PDF_MAKER),
             Item("supplement.docx", build / "docx" / "supplement.docx", "supplementary-material", DOCX_MAKER)]
    article = set(document_pages("paper", root))
    for run in load_run_plan(root / "book" / "runplan.yml"):
        notebook = run.notebook.relative_to(root).as_posix()
        for label, name in run.artefacts.items():
            figure = label.startswith("fig-")
            in_article = run.page in article
            folder = ("figures" if figure else "tables") if in_article else "supplementary"
            kind = ("figure" if figure else "table") if in_article else "supplementary-material"
            files = companion_files(name)[1:] if figure else companion_files(name)  # not the book's screen PNG
            for file in files:
                items.append(Item(f"{folder}/{file}", root / "book" / "generated" / run.id / file, kind,
                                  f"make book: run {run.id} of {notebook} ({label}, book/runplan.yml)"))
    return items


def manifest_rows(items: list[Item], contents: dict[str, bytes]) -> list[dict[str, str]]:
    """``MANIFEST.csv``: file, SHA-256, bytes, MECA item type and what produced it."""
    return [{"file": item.name, "sha256": hashlib.sha256(contents[item.name]).hexdigest(),
             "bytes": str(len(contents[item.name])), "type": item.kind, "produced_by": item.made_by}
            for item in items]


def meca_manifest(items: list[Item]) -> bytes:
    """The MECA ``manifest.xml`` listing ``items`` (and ``MANIFEST.csv``)."""
    from xml.sax.saxutils import quoteattr

    lines = ['<?xml version="1.0" encoding="UTF-8"?>',
             f'<manifest xmlns="{MECA_NAMESPACE}" version="1.0">']
    for item in items:
        media = MEDIA_TYPES[Path(item.name).suffix]
        lines += [f'  <item type={quoteattr(item.kind)}>',
                  f'    <instance media-type={quoteattr(media)} href={quoteattr(item.name)}/>', "  </item>"]
    lines += ["</manifest>", ""]
    return "\n".join(lines).encode("utf-8")


def write_bundle(root: Path = paths.ROOT, out_dir: Path | None = None) -> Path:
    """Write ``_build/submission/submission.zip``; stop, naming the file and the command that
    makes it, when an output is missing (nothing half-bundled)."""
    items = bundle_items(root)
    readme = readme_section(root / "README.md").encode("utf-8")
    items.append(Item("README-reproducibility.md", root / "README.md", "supplementary-material",
                      f"README.md, section '{README_SECTION}'"))
    items.append(Item("supplementary/data-contract.md", root / "data" / "README.md", "supplementary-material",
                      "data/README.md: the data contract (checked against analysis/contract.py by tests/contract)"))
    missing = [item.source for item in items if not item.source.is_file()]
    if missing:
        raise SubmissionError("cannot bundle, missing: " + ", ".join(str(p) for p in missing)
                              + " (make book, make pdf, make docx and make jats write them)")
    contents = {item.name: (readme if item.name == "README-reproducibility.md" else item.source.read_bytes())
                for item in items}
    table = io.StringIO()
    writer = csv.DictWriter(table, ["file", "sha256", "bytes", "type", "produced_by"], lineterminator="\n")
    writer.writeheader()
    writer.writerows(manifest_rows(items, contents))
    members = [("manifest.xml", meca_manifest(items)), ("MANIFEST.csv", table.getvalue().encode("utf-8")),
               *((item.name, contents[item.name]) for item in items)]
    date = max(source_date().timetuple()[:6], (1980, 1, 1, 0, 0, 0))
    out = (out_dir or root / "_build" / "submission") / BUNDLE
    out.parent.mkdir(parents=True, exist_ok=True)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in members:
            member = zipfile.ZipInfo(name, date_time=date)
            member.compress_type = zipfile.ZIP_DEFLATED
            member.external_attr = 0o644 << 16
            archive.writestr(member, data)
    out.write_bytes(buffer.getvalue())
    return out
