"""Figure and table files for a journal submission, written by the same call that writes the book's.

A run of the run plan (``book/runplan.yml``) names each artefact by one file, the one the book
shows: ``fig1_patient_flow.png`` or ``table1.csv``. Beside it the run writes the files a journal
asks for, named by :func:`companion_files` from that one name, so the run plan stays the only list
of what a run writes:

* a figure (``<stem>.png`` in the run plan), drawn once at its printed size, is saved as
  ``<stem>.png`` (the book's image, :data:`SCREEN_DPI`), ``<stem>.pdf`` (vector, TrueType fonts
  embedded: ``pdf.fonttype 42``), ``<stem>-600dpi.png`` and ``<stem>.tiff`` (RGB, LZW,
  :data:`PRINT_DPI`);
* a table (``<stem>.csv``) is saved as ``<stem>.csv`` and ``<stem>.xlsx``.

Every file is byte-reproducible: no timestamp in the PNG, PDF or TIFF, and the XLSX (a zip
archive) has fixed core properties and fixed member dates (:data:`FIXED_DATE`), so the same
results give the same bytes on any day.
"""
from __future__ import annotations

import io
import zipfile
from datetime import datetime
from pathlib import Path

import pandas as pd

#: Widths of a printed figure (mm): one journal column or the full text width.
COLUMN_WIDTH_MM = 85.0
PAGE_WIDTH_MM = 170.0
#: Resolution of the book's PNG (HTML and the book's PDF) and of the print files.
SCREEN_DPI = 200
PRINT_DPI = 600
#: File kinds written beside an artefact's file, by the suffix of that file.
COMPANIONS: dict[str, tuple[str, ...]] = {".png": (".pdf", "-600dpi.png", ".tiff"), ".csv": (".xlsx",)}
#: Date stored in the XLSX files (core properties and zip members): fixed, so that the bytes do not
#: depend on the day of the build; 1980-01-01 is the earliest date a zip member can carry.
FIXED_DATE = datetime(1980, 1, 1)


def companion_files(name: str) -> list[str]:
    """The files written for the artefact file ``name`` of the run plan, ``name`` first.

    Examples
    --------
    >>> companion_files("fig1_patient_flow.png")
    ['fig1_patient_flow.png', 'fig1_patient_flow.pdf', 'fig1_patient_flow-600dpi.png', 'fig1_patient_flow.tiff']
    >>> companion_files("table1.csv")
    ['table1.csv', 'table1.xlsx']
    """
    path = Path(name)
    if path.suffix not in COMPANIONS:
        raise ValueError(f"artefact file {name!r}: expected a .png figure or a .csv table")
    return [name, *(path.stem + suffix for suffix in COMPANIONS[path.suffix])]


def figure_size(width_mm: float, height_mm: float) -> tuple[float, float]:
    """``figsize`` (inches) of a figure printed ``width_mm`` x ``height_mm``.

    Examples
    --------
    >>> figure_size(PAGE_WIDTH_MM, 100)
    (6.692913385826772, 3.937007874015748)
    """
    return width_mm / 25.4, height_mm / 25.4


# ----------------------------------------------------------------------------- figures
def save_figure_files(fig, png_path: str | Path) -> list[Path]:
    """Save ``fig`` in every format of :func:`companion_files` next to ``png_path`` and return
    the paths, the book's PNG first.

    The figure is saved at its own size (no ``bbox_inches="tight"``, which would change the
    width): a figure drawn at :data:`PAGE_WIDTH_MM` is that wide in every file. The raster
    files are rendered once per resolution by matplotlib's Agg and written by Pillow as RGB on
    white (journals reject an alpha channel) with the resolution recorded in the file.
    """
    import matplotlib as mpl
    from PIL import Image

    png_path = Path(png_path)
    png_path.parent.mkdir(parents=True, exist_ok=True)
    names = companion_files(png_path.name)
    paths = [png_path.parent / name for name in names]
    book_png, pdf, print_png, tiff = paths
    with mpl.rc_context({"pdf.fonttype": 42}):
        fig.savefig(pdf, format="pdf", facecolor="white",
                    metadata={"Creator": None, "Producer": None, "CreationDate": None})
    for dpi, targets in ((SCREEN_DPI, [(book_png, "PNG", {})]),
                         (PRINT_DPI, [(print_png, "PNG", {}), (tiff, "TIFF", {"compression": "tiff_lzw"})])):
        # Agg's raw RGBA buffer, not a PNG matplotlib would encode and Pillow decode again: the
        # same pixels, a second less per 600 dpi figure.
        fig.savefig(buffer := io.BytesIO(), format="rgba", dpi=dpi, facecolor="white")
        width, height = (int(size) for size in fig.bbox.size * dpi / fig.dpi)  # as Agg sizes its canvas
        if width * height * 4 != buffer.getbuffer().nbytes:
            raise RuntimeError(f"{png_path}: Agg wrote {buffer.getbuffer().nbytes} bytes for {width}x{height} RGBA")
        rgba = Image.frombuffer("RGBA", (width, height), buffer.getbuffer(), "raw", "RGBA", 0, 1)
        rgb = Image.new("RGB", rgba.size, "white")
        rgb.paste(rgba, mask=rgba.getchannel("A"))
        for target, kind, options in targets:
            rgb.save(target, format=kind, dpi=(dpi, dpi), **options)
    return paths


# ----------------------------------------------------------------------------- tables
def write_table_files(frame: pd.DataFrame, csv_path: str | Path) -> list[Path]:
    """Write ``frame`` as ``csv_path`` and as the XLSX beside it; return both paths.

    The XLSX holds the CSV's cells as text, exactly as printed (``"50.7 (50.0)"``, ``"0.10"``,
    ``"<0.001"``): a number cell would lose a trailing zero or a ``<``. The header row is bold
    and frozen; column widths follow the longest cell.
    """
    from openpyxl import Workbook
    from openpyxl.styles import Font
    from openpyxl.xml.functions import tostring

    csv_path = Path(csv_path)
    csv_path.parent.mkdir(parents=True, exist_ok=True)
    frame.to_csv(csv_path, index=False, lineterminator="\n")
    # Read back, so that the XLSX cells are the CSV's text whatever the frame's dtypes were.
    cells = pd.read_csv(csv_path, dtype=str, keep_default_na=False)
    book = Workbook()
    sheet = book.active
    sheet.title = "Table"
    sheet.append(list(cells.columns))
    for record in cells.itertuples(index=False):
        sheet.append(list(record))
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    sheet.freeze_panes = "A2"
    for index, column in enumerate(cells.columns, start=1):
        width = max([len(str(column)), *(len(v) for v in cells[column])])
        sheet.column_dimensions[sheet.cell(1, index).column_letter].width = min(60, width + 2)
    buffer = io.BytesIO()
    book.save(buffer)
    # openpyxl stamps the save time into the core properties: write them again, fixed.
    book.properties.creator = "analysis.export"
    book.properties.created = book.properties.modified = FIXED_DATE
    core = tostring(book.properties.to_tree())
    xlsx_path = csv_path.with_suffix(".xlsx")
    xlsx_path.write_bytes(normalise_zip(buffer.getvalue(), replace={"docProps/core.xml": core}))
    return [csv_path, xlsx_path]


def normalise_zip(data: bytes, date: datetime = FIXED_DATE, replace: dict[str, bytes] | None = None) -> bytes:
    """The zip archive ``data`` with every member dated ``date`` and stored with fixed
    permissions, members in their original order, the members named in ``replace`` given
    new content: the same content gives the same bytes.

    Examples
    --------
    >>> buffer = io.BytesIO()
    >>> with zipfile.ZipFile(buffer, "w") as archive:
    ...     archive.writestr("a.txt", "x")
    >>> zipfile.ZipFile(io.BytesIO(normalise_zip(buffer.getvalue()))).getinfo("a.txt").date_time
    (1980, 1, 1, 0, 0, 0)
    """
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as source, zipfile.ZipFile(out, "w") as target:
        for info in source.infolist():
            member = zipfile.ZipInfo(info.filename, date_time=date.timetuple()[:6])
            member.compress_type = zipfile.ZIP_DEFLATED
            member.external_attr = 0o644 << 16
            target.writestr(member, (replace or {}).get(info.filename) or source.read(info.filename))
    return out.getvalue()
