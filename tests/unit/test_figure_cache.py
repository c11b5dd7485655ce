"""Unit tests of the figure cache (analysis.figures.export_plot): a drawing with the same key is
copied, byte for byte what drawing it again writes, without calling the plotting function; any
change the key covers draws again; what cannot be keyed is drawn every time and never stored."""
from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402

from analysis import figures  # noqa: E402
from analysis.export import companion_files  # noqa: E402

CALLS: list[tuple] = []


def plot_counted(registry: dict, synthetic: bool = False):
    """The flow diagram, counting its calls (a module-level function, so that it pickles by name)."""
    CALLS.append((len(registry), synthetic))
    return figures.plot_patient_flow(registry, synthetic)


def flow_registry(randomised: int = 60) -> dict[str, float]:
    """disposition.<stage>.<arm>.n for total, msc and msc_ifng (hand-made, consistent counts)."""
    counts = {"randomised": (randomised, 40, randomised - 40), "entered_lte": (55, 36, 19), "discontinued": (12, 9, 3),
              "discontinued_lack_of_efficacy": (5, 4, 1), "discontinued_adverse_event": (3, 2, 1),
              "completed": (43, 27, 16)}
    return {f"disposition.{stage}.{code}.n": float(n) for stage, values in counts.items()
            for code, n in zip(("total", "msc", "msc_ifng"), values)}


def files(folder, name="flow.png") -> dict[str, bytes]:
    return {file: (folder / file).read_bytes() for file in companion_files(name)}


@pytest.fixture(autouse=True)
def reset():
    """No calls counted, and every test in one matplotlib state: the plotting functions change
    ``rcParams``, which the key covers (a book run starts from a kernel's restored state)."""
    CALLS.clear()
    with matplotlib.rc_context():
        yield
    plt.close("all")


def export_plot(*args, **kwargs):
    """:func:`figures.export_plot` from the test's starting ``rcParams``, as each run starts."""
    with matplotlib.rc_context():
        return figures.export_plot(*args, **kwargs)


def test_stored_drawing_is_copied_without_drawing(tmp_path):
    """Test 1: the second export of the same drawing calls no plotting function and writes the
    four files byte-identical to a drawing made without any cache."""
    cache = tmp_path / "cache"
    export_plot(plot_counted, flow_registry(), True, path=tmp_path / "a" / "flow.png", cache_dir=cache)
    export_plot(plot_counted, flow_registry(), True, path=tmp_path / "b" / "flow.png", cache_dir=cache)
    assert len(CALLS) == 1
    with matplotlib.rc_context():
        figures.export(figures.plot_patient_flow(flow_registry(), True), tmp_path / "fresh" / "flow.png")
    assert files(tmp_path / "b") == files(tmp_path / "fresh") == files(tmp_path / "a")
    assert len([p for p in cache.iterdir() if not p.name.startswith(".")]) == 1


def test_changed_argument_rcparams_or_code_draws_again(tmp_path, monkeypatch):
    """Test 2: a different argument value, a different rcParams setting and a different code digest
    each miss the stored drawing."""
    cache = tmp_path / "cache"

    def export(folder, **kwargs):
        registry = kwargs.pop("registry", flow_registry())
        export_plot(plot_counted, registry, True, path=tmp_path / folder / "flow.png", cache_dir=cache)

    export("first")
    export("other_value", registry=flow_registry(randomised=61))
    assert len(CALLS) == 2
    assert files(tmp_path / "other_value") != files(tmp_path / "first")
    with matplotlib.rc_context({"lines.linewidth": 3.0}):
        export("other_style")
    export("first_again")  # the first drawing's key again: copied
    assert len(CALLS) == 3
    monkeypatch.setitem(figures._CODE_DIGESTS, __name__, "0" * 64)
    export("other_code")
    assert len(CALLS) == 4
    export("other_code_again")
    assert len(CALLS) == 4


def test_unpicklable_argument_is_drawn_every_time_and_not_stored(tmp_path):
    """Test 3: an argument that does not pickle gives no key: drawn at each call, nothing stored."""
    class Local(dict):  # a class defined in a function does not pickle
        pass

    cache = tmp_path / "cache"
    for folder in ("a", "b"):
        export_plot(plot_counted, Local(flow_registry()), True, path=tmp_path / folder / "flow.png", cache_dir=cache)
    assert len(CALLS) == 2
    assert not cache.exists() or not any(cache.iterdir())
    assert figures.drawing_key(plot_counted, Local()) is None


def test_damaged_entry_is_drawn_and_replaced(tmp_path):
    """Test 4: an entry missing one of its files is not used; the drawing replaces it."""
    cache = tmp_path / "cache"
    export_plot(plot_counted, flow_registry(), True, path=tmp_path / "a" / "flow.png", cache_dir=cache)
    (entry,) = cache.iterdir()
    (entry / "figure.tiff").unlink()
    export_plot(plot_counted, flow_registry(), True, path=tmp_path / "b" / "flow.png", cache_dir=cache)
    assert len(CALLS) == 2
    assert sorted(p.name for p in entry.iterdir()) == ["figure-600dpi.png", "figure.pdf", "figure.png", "figure.tiff"]
    assert files(tmp_path / "b") == files(tmp_path / "a")


def test_pruning_keeps_the_most_recently_used(tmp_path, monkeypatch):
    """Test 5: with room for 2 drawings, storing a third removes the least recently used one."""
    monkeypatch.setattr(figures, "FIGURE_CACHE_KEEP", 2)
    cache = tmp_path / "cache"
    keys = []
    for n in (60, 61, 62):
        registry = flow_registry(randomised=n)
        keys.append(figures.drawing_key(plot_counted, registry, True))
        export_plot(plot_counted, registry, True, path=tmp_path / str(n) / "flow.png", cache_dir=cache)
    assert sorted(p.name for p in cache.iterdir()) == sorted(keys[1:])
