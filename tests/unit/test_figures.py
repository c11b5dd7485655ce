"""Unit tests of analysis.figures, rendered with the Agg backend: the synthetic-data watermark
and footer are on a figure of synthetic data and only then, and the flow diagram prints the
registry's counts."""
from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402

from analysis import figures  # noqa: E402

STAGES = {"randomised": (60, 40, 20), "entered_lte": (55, 36, 19), "discontinued": (12, 9, 3),
          "discontinued_lack_of_efficacy": (5, 4, 1), "discontinued_adverse_event": (3, 2, 1),
          "completed": (43, 27, 16)}


def flow_registry() -> dict[str, float]:
    """disposition.<stage>.<arm>.n for total, msc and msc_ifng (hand-made, consistent counts)."""
    return {f"disposition.{stage}.{code}.n": float(n) for stage, counts in STAGES.items()
            for code, n in zip(("total", "msc", "msc_ifng"), counts)}


def texts(fig) -> list[str]:
    """Every text drawn on the figure or its axes."""
    return [t.get_text() for t in fig.texts] + [t.get_text() for ax in fig.axes for t in ax.texts]


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def test_synthetic_figure_carries_watermark_and_footer():
    """Test 1: synthetic=True draws the watermark and the footer note."""
    fig = figures.plot_patient_flow(flow_registry(), synthetic=True)
    drawn = texts(fig)
    assert "SYNTHETIC DATA" in drawn
    assert figures.SYNTHETIC_NOTE in drawn


def test_real_data_figure_has_no_watermark():
    """Test 2: synthetic=False draws neither."""
    drawn = texts(figures.plot_patient_flow(flow_registry(), synthetic=False))
    assert "SYNTHETIC DATA" not in drawn and figures.SYNTHETIC_NOTE not in drawn


def test_flow_diagram_prints_the_registry_counts():
    """Test 3: boxes show the randomised total, each arm's allocation, completers and the
    discontinued patients with their reasons (other = 9 - 4 - 2 = 3; not entered = 40 - 36 = 4)."""
    drawn = "\n".join(texts(figures.plot_patient_flow(flow_registry())))
    assert "Randomised in the two core trials\nn = 60" in drawn
    assert "MSCs\nallocated n = 40" in drawn and "MSCs + IFN-γ\nallocated n = 20" in drawn
    assert "Completed five years\nn = 27" in drawn
    assert "Discontinued n = 9\n  lack of efficacy: 4\n  adverse event: 2\n  other reasons: 3\n" \
           "Did not enter the extension: 4" in drawn


def test_export_writes_a_png_and_closes_the_figure(tmp_path):
    """Test 4: export saves a PNG (its signature) and closes the figure."""
    fig = figures.plot_patient_flow(flow_registry(), synthetic=True)
    figures.export(fig, tmp_path / "flow.png")
    assert (tmp_path / "flow.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert not plt.fignum_exists(fig.number)
