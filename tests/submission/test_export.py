"""Figure and table files for a journal (:mod:`analysis.export`): sizes, resolution, colour mode,
embedded fonts, cells, and the same bytes on every save."""
from __future__ import annotations

import hashlib
import re

import matplotlib
import pandas as pd
import pytest
from openpyxl import load_workbook
from PIL import Image

from analysis import export

matplotlib.use("Agg")
import matplotlib.pyplot as plt


def _digest(paths) -> list[str]:
    return [hashlib.sha256(p.read_bytes()).hexdigest() for p in paths]


@pytest.fixture
def figure():
    fig, ax = plt.subplots(figsize=export.figure_size(export.PAGE_WIDTH_MM, 60))
    ax.plot([0, 1, 2], [1, 0, 2], label="MSCs + IFN-γ")
    ax.set_title("Test figure")
    ax.legend()
    yield fig
    plt.close(fig)


def test_companion_names_follow_the_run_plan_name():
    """Test 1: the run plan's file comes first; other suffixes are refused."""
    assert export.companion_files("fig2f_clusters.png") == [
        "fig2f_clusters.png", "fig2f_clusters.pdf", "fig2f_clusters-600dpi.png", "fig2f_clusters.tiff"]
    assert export.companion_files("audit_summary.csv") == ["audit_summary.csv", "audit_summary.xlsx"]
    with pytest.raises(ValueError, match="expected a .png figure or a .csv table"):
        export.companion_files("fig.svg")


def test_figure_files_have_the_printed_width_resolution_and_rgb(figure, tmp_path):
    """Test 2: every raster file is RGB, 170 mm wide at its recorded resolution (600 dpi for
    the print files), and the PDF page is 170 mm wide."""
    book, pdf, png600, tiff = export.save_figure_files(figure, tmp_path / "fig.png")
    for path, dpi in ((book, export.SCREEN_DPI), (png600, export.PRINT_DPI), (tiff, export.PRINT_DPI)):
        with Image.open(path) as image:
            assert image.mode == "RGB", path.name
            assert round(image.info["dpi"][0]) == dpi, path.name
            assert abs(image.size[0] / dpi * 25.4 - export.PAGE_WIDTH_MM) < 0.3, (path.name, image.size)
    width_pt = float(re.search(rb"/MediaBox \[\s*0 0 ([\d.]+)", pdf.read_bytes()).group(1))
    assert abs(width_pt / 72 * 25.4 - export.PAGE_WIDTH_MM) < 0.1


def test_figure_pdf_embeds_truetype_fonts(figure, tmp_path):
    """Test 3: the PDF embeds its fonts as TrueType (``pdf.fonttype 42``: /FontFile2), not as
    Type 3 glyph procedures, so the text stays text and prints in the font drawn."""
    pdf = export.save_figure_files(figure, tmp_path / "fig.png")[1].read_bytes()
    assert b"/FontFile2" in pdf
    assert b"/Subtype /Type3" not in pdf


def test_figure_files_are_byte_reproducible(figure, tmp_path):
    """Test 4: saving the same figure twice gives the same bytes in every format."""
    first = _digest(export.save_figure_files(figure, tmp_path / "a" / "fig.png"))
    second = _digest(export.save_figure_files(figure, tmp_path / "b" / "fig.png"))
    assert first == second


def test_xlsx_cells_are_the_csv_text(tmp_path):
    """Test 5: the XLSX holds the CSV's cells as printed (trailing zeros, ``<`` and empty cells
    kept), header row first."""
    frame = pd.DataFrame({"Item": ["Age (years)", "  female", "p"], "MSCs": ["50.7 (10.0)", "60 (87.0)", "<0.001"],
                          "Note": ["", "x", "0.10"]})
    csv, xlsx = export.write_table_files(frame, tmp_path / "t.csv")
    cells = [["" if v is None else v for v in row] for row in load_workbook(xlsx).active.values]
    expected = pd.read_csv(csv, dtype=str, keep_default_na=False)
    assert cells == [list(expected.columns), *expected.values.tolist()]
    assert cells[3][1] == "<0.001" and cells[3][2] == "0.10"


def test_xlsx_is_byte_reproducible(tmp_path):
    """Test 6: two saves of one table more than a second apart (openpyxl stamps the save time,
    to the second) give the same XLSX bytes, dated 1980-01-01."""
    import time
    import zipfile

    frame = pd.DataFrame({"a": ["1"], "b": ["2"]})
    first = export.write_table_files(frame, tmp_path / "a" / "t.csv")[1]
    time.sleep(1.1)
    second = export.write_table_files(frame, tmp_path / "b" / "t.csv")[1]
    assert first.read_bytes() == second.read_bytes()
    core = zipfile.ZipFile(second).read("docProps/core.xml").decode()
    assert core.count("1980-01-01T00:00:00Z") == 2
