"""The book's figures, in one house style.

House style: seaborn's ``ticks`` theme, one font size scale, and the Okabe-Ito palette
(Okabe & Ito 2008, *Color Universal Design*), which stays distinguishable under the
common colour-vision deficiencies. Arms always have the same colour; the four DAS28
activity categories use four further Okabe-Ito colours ordered from green (remission) to
vermillion (high activity). When the dataset is synthetic every figure carries a watermark
and a footer saying so (:func:`mark_synthetic`), so a figure copied out of the book keeps
its label.

Each ``plot_*`` function takes computed results (never raw data) and returns a matplotlib
``Figure`` drawn at its printed size, the full text width of a journal page
(:data:`analysis.export.PAGE_WIDTH_MM`), with fonts of 6 to 9 pt; :func:`export` saves it once in
every format of :func:`analysis.export.companion_files` (the book's PNG, vector PDF, 600 dpi PNG
and TIFF) and returns the image the notebook glues into the page. No file carries a timestamp,
so the same inputs give the same bytes. :func:`export_plot` draws and saves only when no identical
drawing is stored (the figure cache, ``_build/figure-cache/``): a notebook that runs again because
another of its results changed does not draw its figures again.
"""
from __future__ import annotations

import hashlib
import pickle
import shutil
import sys
import textwrap
from pathlib import Path

import matplotlib
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib import font_manager

from analysis import codegraph, paths
from analysis.durability import DURABILITY_ENDPOINTS, ENDPOINT_LABELS, fit_durability
from analysis.export import PAGE_WIDTH_MM, companion_files, figure_size, save_figure_files
from analysis.filestore import find_entry, store_entry
from analysis.longitudinal import OUTCOMES, summarise_change_model
from analysis.populations import ARM_LABELS, ARMS
from analysis.results import registry_values

#: The Okabe-Ito palette.
OKABE_ITO: dict[str, str] = {
    "black": "#000000", "orange": "#E69F00", "sky_blue": "#56B4E9", "bluish_green": "#009E73",
    "yellow": "#F0E442", "blue": "#0072B2", "vermillion": "#D55E00", "reddish_purple": "#CC79A7",
}
#: Arm (data value) -> colour.
ARM_COLORS: dict[str, str] = {"MSC": OKABE_ITO["orange"], "MSC+IFNG": OKABE_ITO["blue"]}
#: DAS28 activity category -> colour, lowest activity first.
CATEGORY_COLORS: dict[str, str] = {"remission": OKABE_ITO["bluish_green"], "low": OKABE_ITO["sky_blue"],
                                   "moderate": OKABE_ITO["yellow"], "high": OKABE_ITO["vermillion"]}
#: Readable category names.
CATEGORY_LABELS: dict[str, str] = {"remission": "Remission (< 2.6)", "low": "Low (2.6-3.2)",
                                   "moderate": "Moderate (> 3.2-5.1)", "high": "High (> 5.1)"}
#: Significance level of the markers drawn on figures.
FIGURE_ALPHA = 0.05
SYNTHETIC_NOTE = "Synthetic data: not the trial's data"


def set_house_style() -> None:
    """Apply the house style to matplotlib (idempotent)."""
    import seaborn as sns

    # font_scale 0.85 of seaborn's "paper" context: 8 pt labels, 7.5 pt ticks at the printed size.
    sns.set_theme(context="paper", style="ticks", font_scale=0.85,
                  rc={"axes.spines.top": False, "axes.spines.right": False, "figure.dpi": 100,
                      "savefig.dpi": 200, "svg.hashsalt": "msc-ra", "pdf.fonttype": 42, "axes.titleweight": "bold",
                      "axes.titlelocation": "left", "legend.frameon": False})


def mark_synthetic(fig, synthetic: bool) -> None:
    """Watermark ``fig`` and add a footer when the data are synthetic; do nothing otherwise."""
    if not synthetic:
        return
    # The watermark spans about half the figure's width, whatever its size.
    fig.text(0.5, 0.5, "SYNTHETIC DATA", fontsize=5.2 * fig.get_figwidth(), color="0.5", alpha=0.13, rotation=28,
             ha="center", va="center", fontweight="bold", zorder=100)
    fig.text(0.995, 0.005, SYNTHETIC_NOTE, fontsize=6, color="0.35", ha="right", va="bottom", style="italic")


def export(fig, path: str | Path):
    """Save ``fig`` in every format (:func:`analysis.export.save_figure_files`; ``path`` is the
    book's PNG, the file the run plan names), close it, return the PNG as an IPython ``Image``
    for ``glue``."""
    from IPython.display import Image

    path = Path(path)
    save_figure_files(fig, path)
    plt.close(fig)
    return Image(filename=str(path))


#: Where :func:`export_plot` keeps drawings, and how many (the most recently used; each is one
#: figure's four files, a few MB).
FIGURE_CACHE = paths.BUILD / "figure-cache"
FIGURE_CACHE_KEEP = 24
#: Bump to invalidate every stored drawing.
FIGURE_CACHE_VERSION = "1"
_CODE_DIGESTS: dict[str, str] = {}


def drawing_key(plot, *args, **kwargs) -> str | None:
    """The figure cache's key of the drawing ``plot(*args, **kwargs)`` (SHA-256, hex), or
    ``None`` when an argument cannot be pickled (such a drawing is not cached).

    The key covers everything the files depend on: the plotting function (module and name) and
    the source of every ``analysis`` module its module reaches (:func:`analysis.codegraph.import_closure`,
    read once per process, so the key describes the code this process runs); the arguments as
    pickled (equal pickles are equal values; equal values that pickle differently only miss);
    matplotlib's whole ``rcParams`` and backend at the call; the fonts matplotlib can use; the
    versions of Python, matplotlib, Pillow, fontTools, NumPy and pandas.

    Examples
    --------
    >>> key = drawing_key(plot_patient_flow, {"disposition.randomised.total.n": 1}, synthetic=True)
    >>> len(key), key == drawing_key(plot_patient_flow, {"disposition.randomised.total.n": 1}, synthetic=False)
    (64, False)
    >>> drawing_key(plot_patient_flow, lambda: None) is None  # a lambda does not pickle
    True
    """
    import fontTools
    import PIL

    try:
        arguments = pickle.dumps((args, sorted(kwargs.items())), protocol=5)
    except (pickle.PicklingError, TypeError, AttributeError, NotImplementedError):
        return None  # e.g. patsy's design objects, which refuse to be pickled
    module = plot.__module__
    if module not in _CODE_DIGESTS:
        _CODE_DIGESTS[module] = codegraph.digest_files(codegraph.import_closure([module]).values())
    fonts = sorted(f"{font.fname}|{font.name}|{font.style}|{font.weight}" for font in font_manager.fontManager.ttflist)
    parts = [FIGURE_CACHE_VERSION, f"{module}.{plot.__qualname__}", _CODE_DIGESTS[module],
             hashlib.sha256(arguments).hexdigest(), repr(sorted(matplotlib.rcParams.items())),
             matplotlib.get_backend(), "\n".join(fonts), sys.version, matplotlib.__version__, PIL.__version__,
             fontTools.version, np.__version__, pd.__version__]
    return hashlib.sha256("\0".join(parts).encode()).hexdigest()


def export_plot(plot, *args, path: str | Path, cache_dir: Path | None = None, **kwargs):
    """``export(plot(*args, **kwargs), path)``, unless the figure cache holds the same drawing.

    The cache (``cache_dir``, default :data:`FIGURE_CACHE`) stores each drawing's files under
    :func:`drawing_key`; a stored drawing is copied to ``path`` and its companions, byte for byte
    the files a new drawing would write (the export has no timestamp), and ``plot`` is not
    called. A drawing is stored complete or not at all (:func:`analysis.filestore.store_entry`);
    the :data:`FIGURE_CACHE_KEEP` most recently used are kept. Returns the PNG as an IPython
    ``Image``, as :func:`export` does.
    """
    from IPython.display import Image

    path = Path(path)
    cache_dir = FIGURE_CACHE if cache_dir is None else Path(cache_dir)
    key = drawing_key(plot, *args, **kwargs)
    names = companion_files(path.name)
    stored = [f"figure{name[len(path.stem):]}" for name in names]  # figure.png, figure.pdf, ...
    entry = None if key is None else find_entry(cache_dir, key, stored)
    if entry is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            for name, target in zip(stored, names):
                shutil.copyfile(entry / name, path.parent / target)
            return Image(filename=str(path))
        except FileNotFoundError:  # pruned meanwhile by another build: draw it
            pass
    image = export(plot(*args, **kwargs), path)
    if key is not None:
        store_entry(cache_dir, key, {name: path.parent / source for name, source in zip(stored, names)},
                    keep=FIGURE_CACHE_KEEP)
    return image


# ----------------------------------------------------------------------------- Fig. 1
def plot_patient_flow(registry: pd.DataFrame | dict, synthetic: bool = False):
    """CONSORT-style flow of patients through the study, drawn from ``disposition.*``
    registry values: randomised, allocated per arm, discontinued (with reasons and the
    number who never entered the extension), completed and analysed for efficacy."""
    set_house_style()
    v = registry_values(registry)

    def n(stage: str, code: str) -> int:
        return int(v[f"disposition.{stage}.{code}.n"])

    fig, ax = plt.subplots(figsize=figure_size(PAGE_WIDTH_MM, 105))
    fig.subplots_adjust(left=0.01, right=0.99, bottom=0.02, top=0.98)
    ax.set_xlim(0, 1)
    ax.set_ylim(0.0, 1.0)
    ax.axis("off")
    box = dict(boxstyle="round,pad=0.5", fc="white", ec="0.25", lw=0.8)
    side = dict(boxstyle="round,pad=0.4", fc="0.96", ec="0.5", lw=0.6)
    arrow = dict(arrowstyle="-|>", color="0.3", lw=0.8, shrinkA=0, shrinkB=0, mutation_scale=9)

    def connect(parent, child, start=(0.5, 0.0), end=(0.5, 1.0)):
        """Arrow from a point of ``parent``'s box to a point of ``child``'s (box fractions)."""
        ax.annotate("", xy=end, xycoords=child.get_bbox_patch(), xytext=start,
                    textcoords=parent.get_bbox_patch(), arrowprops=arrow)

    top = ax.text(0.5, 0.93, f"Randomised in the two core trials\nn = {n('randomised', 'total')}",
                  ha="center", va="center", bbox=box, fontsize=8)
    for x, (arm, code) in zip((0.22, 0.72), ARMS.items()):
        allocated = ax.text(x, 0.72, f"{ARM_LABELS[arm]}\nallocated n = {n('randomised', code)}", ha="center",
                            va="center", fontsize=8, bbox=dict(box, ec=ARM_COLORS[arm], lw=1.6))
        connect(top, allocated)
        discontinued = n("discontinued", code)
        efficacy, adverse = n("discontinued_lack_of_efficacy", code), n("discontinued_adverse_event", code)
        not_entered = n("randomised", code) - n("entered_lte", code)
        completed = ax.text(x, 0.27, f"Completed five years\nn = {n('completed', code)}", ha="center",
                            va="center", fontsize=8, bbox=box)
        connect(allocated, completed)
        left = ax.text(x + 0.05, 0.495,
                       f"Discontinued n = {discontinued}\n  lack of efficacy: {efficacy}\n"
                       f"  adverse event: {adverse}\n  other reasons: {discontinued - efficacy - adverse}\n"
                       f"Did not enter the extension: {not_entered}",
                       ha="left", va="center", fontsize=7, bbox=side)
        ax.annotate("", xy=(0.0, 0.5), xycoords=left.get_bbox_patch(), xytext=(x, 0.495), textcoords="data",
                    arrowprops=arrow)
        analysed = ax.text(x, 0.07, f"Efficacy analysis (completers)\nn = {n('completed', code)}",
                           ha="center", va="center", fontsize=7.5, bbox=dict(box, fc="0.93"))
        connect(completed, analysed)
    mark_synthetic(fig, synthetic)
    return fig


# ----------------------------------------------------------------------------- Fig. 2A-E
def plot_durability(durations: pd.DataFrame, synthetic: bool = False):
    """Kaplan-Meier curves of the duration of each response (one panel per endpoint of
    :data:`analysis.durability.DURABILITY_ENDPOINTS`, lettered A-E) by arm, with 95%
    confidence bands, censoring ticks and the numbers at risk under each panel."""
    from lifelines.plotting import add_at_risk_counts  # lifelines is slow to import; only this figure needs it

    set_house_style()
    fig, axes = plt.subplots(3, 2, figsize=figure_size(PAGE_WIDTH_MM, 190))
    horizon = max(12.0, float(np.ceil(durations["AVAL"].max() / 12) * 12)) if len(durations) else 60.0
    for letter, endpoint, ax in zip("ABCDE", DURABILITY_ENDPOINTS, axes.flat):
        data = durations[durations["PARAMCD"] == endpoint]
        fits = fit_durability(data)
        for arm, km in fits.items():
            km.plot_survival_function(ax=ax, ci_show=True, ci_alpha=0.12, show_censors=True,
                                      censor_styles={"ms": 4, "marker": "|"}, color=ARM_COLORS[arm], lw=1.3)
        ax.set_title(textwrap.fill(f"{letter}  {ENDPOINT_LABELS[endpoint]}", 36), fontsize=8.5)
        ax.set_xlim(0, horizon)
        ax.set_ylim(0, 1.05)
        ax.set_xticks(np.arange(0, horizon + 1, 12))
        ax.set_xlabel("Months since first response")
        ax.set_ylabel("Still responding")
        if ax.get_legend():
            ax.get_legend().remove()
        if fits:
            add_at_risk_counts(*fits.values(), ax=ax, rows_to_show=["At risk"], xticks=list(np.arange(0, horizon + 1, 12)))
        else:
            ax.text(0.5, 0.5, "no responders", transform=ax.transAxes, ha="center", va="center", color="0.4")
    legend_ax = axes.flat[5]
    legend_ax.axis("off")
    handles = [plt.Line2D([], [], color=ARM_COLORS[arm], lw=1.8, label=ARM_LABELS[arm]) for arm in ARMS]
    handles.append(plt.Line2D([], [], color="0.3", marker="|", ls="", ms=6, label="Censored (response not lost)"))
    legend_ax.legend(handles=handles, loc="center", fontsize=8)
    fig.subplots_adjust(hspace=1.0, wspace=0.6, left=0.17, right=0.97, bottom=0.14, top=0.95)
    mark_synthetic(fig, synthetic)
    return fig


# ----------------------------------------------------------------------------- Fig. 2F
def plot_activity_clusters(clusters: pd.DataFrame, tests: pd.DataFrame, synthetic: bool = False):
    """Stacked percentages of patients per DAS28-ESR activity category at each visit, one
    panel per arm. Markers (p < :data:`FIGURE_ALPHA`, linear-by-linear test): ``*`` above a
    combination-arm bar, different from MSC at that visit; ``#`` (MSC) and ``&``
    (MSC+IFNG), different from the arm's own baseline."""
    set_house_style()
    visits = sorted(clusters["AVISITN"].unique())
    fig, axes = plt.subplots(2, 1, figsize=figure_size(PAGE_WIDTH_MM, 125))
    significant = tests[tests["p_value"] < FIGURE_ALPHA]
    for ax, (arm, code) in zip(axes, ARMS.items()):
        cells = clusters[clusters["arm"] == code]
        bottom = np.zeros(len(visits))
        for category, color in CATEGORY_COLORS.items():
            pct = np.array([cells.loc[(cells["AVISITN"] == v) & (cells["category"] == category), "pct"].sum()
                            for v in visits])
            ax.bar(range(len(visits)), pct, bottom=bottom, color=color, edgecolor="white", lw=0.6,
                   label=CATEGORY_LABELS[category], width=0.75)
            bottom += pct
        totals = [int(cells.loc[cells["AVISITN"] == v, "total"].max()) if (cells["AVISITN"] == v).any() else 0
                  for v in visits]
        for i, (visit, total) in enumerate(zip(visits, totals)):
            marks = ""
            if code == "msc_ifng" and ((significant["comparison"] == "between_arms")
                                       & (significant["AVISITN"] == visit)).any():
                marks += "*"
            if ((significant["comparison"] == "vs_baseline") & (significant["arm"] == code)
                    & (significant["AVISITN"] == visit)).any():
                marks += "#" if code == "msc" else "&"
            ax.text(i, 101.5, marks, ha="center", va="bottom", fontsize=9, fontweight="bold")
            ax.annotate(f"n={total}", xy=(i, 0), xycoords=("data", "axes fraction"), xytext=(0, -17),
                        textcoords="offset points", ha="center", va="top", fontsize=6, color="0.35")
        ax.set_xticks(range(len(visits)))
        ax.set_xticklabels(["BL" if v == 0 else f"M{v}" for v in visits])
        ax.set_ylim(0, 110)
        ax.set_xlabel("Visit (months since transplantation)", labelpad=16)
        ax.set_title(ARM_LABELS[arm], color=ARM_COLORS[arm])
        ax.set_ylabel("Patients (%)")
    handles, labels = axes[0].get_legend_handles_labels()
    fig.legend(handles[::-1], labels[::-1], loc="center right", title="DAS28-ESR activity", fontsize=7, title_fontsize=7.5)
    fig.subplots_adjust(left=0.08, right=0.76, bottom=0.1, top=0.93, hspace=0.75)
    mark_synthetic(fig, synthetic)
    return fig


# ----------------------------------------------------------------------------- longitudinal
def plot_longitudinal(models: dict, synthetic: bool = False):
    """Model-based mean change from baseline (95% CI) per arm over the visits, one panel
    per outcome (``models``: outcome id -> fitted :class:`analysis.longitudinal.ChangeModel`)."""
    set_house_style()
    summaries = {outcome: summarise_change_model(model) for outcome, model in models.items()}
    fig, axes = plt.subplots(1, len(summaries), figsize=figure_size(PAGE_WIDTH_MM, 68))
    axes = np.atleast_1d(axes)
    for ax, (outcome, summary) in zip(axes, summaries.items()):
        visits = sorted(summary["AVISITN"].unique())
        dodge = max(visits) / 120  # keep the two arms' intervals apart
        for k, (arm, code) in enumerate(ARMS.items()):
            cell = summary[summary["arm"] == code].set_index("AVISITN").reindex(visits)
            x = np.array(visits, dtype=float) + (k - 0.5) * dodge
            ax.errorbar(x, cell["estimate"], yerr=[cell["estimate"] - cell["ci_low"], cell["ci_high"] - cell["estimate"]],
                        color=ARM_COLORS[arm], marker="os"[k], ms=3.5, lw=1.2, capsize=2, label=ARM_LABELS[arm])
        ax.axhline(0, color="0.6", lw=0.8, ls="--")
        ax.set_xlim(0, max(visits) + 2)
        ax.set_xticks(np.arange(0, max(visits) + 1, 12))
        ax.set_xlabel("Months since transplantation")
        ax.set_title(OUTCOMES[outcome][1], fontsize=8.5)
        ax.set_ylabel("Mean change (95% CI)")
    handles, labels = axes[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="lower center", ncol=len(labels))
    fig.tight_layout(rect=(0, 0.07, 1, 1))
    mark_synthetic(fig, synthetic)
    return fig


# ----------------------------------------------------------------------------- ensemble
def plot_durability_ensemble(bands: pd.DataFrame, durations: pd.DataFrame, n_reconstructions: int,
                             dataset_label: str = "this build's dataset"):
    """Fig. 2A-E as an ensemble: per response and arm, the median Kaplan-Meier curve over the
    reconstructions and its 2.5-97.5 % band (``bands``, from
    :func:`analysis.ensemble.report.summarise_curve_bands`), with the curve of this build's
    dataset (``durations``) drawn on top as a step line. Always labelled synthetic: every
    curve of the band is a reconstruction."""
    set_house_style()
    fig, axes = plt.subplots(3, 2, figsize=figure_size(PAGE_WIDTH_MM, 180))
    codes = {code: arm for arm, code in ARMS.items()}
    for letter, endpoint, ax in zip("ABCDE", DURABILITY_ENDPOINTS, axes.flat):
        for code, arm in codes.items():
            band = bands[(bands["endpoint"] == endpoint) & (bands["arm"] == code)
                         & (bands["n"] >= 0.5 * n_reconstructions)]
            if len(band):
                ax.fill_between(band["month"], band["low"] / 100, band["high"] / 100, step="post",
                                color=ARM_COLORS[arm], alpha=0.18, lw=0)
                ax.step(band["month"], band["median"] / 100, where="post", color=ARM_COLORS[arm], lw=1.0, ls="--")
        fits = fit_durability(durations[durations["PARAMCD"] == endpoint])
        for arm, km in fits.items():
            sf = km.survival_function_.iloc[:, 0]
            ax.step(sf.index, sf.values, where="post", color=ARM_COLORS[arm], lw=1.6)
        ax.set_title(textwrap.fill(f"{letter}  {ENDPOINT_LABELS[endpoint]}", 36), fontsize=8.5)
        ax.set_xlim(0, 72)
        ax.set_ylim(0, 1.05)
        ax.set_xticks(np.arange(0, 73, 12))
        ax.set_xlabel("Months since first response")
        ax.set_ylabel("Still responding")
    legend_ax = axes.flat[5]
    legend_ax.axis("off")
    handles = []
    for arm in ARMS:
        handles += [plt.Line2D([], [], color=ARM_COLORS[arm], lw=2.2, label=f"{ARM_LABELS[arm]}: {dataset_label}"),
                    plt.Line2D([], [], color=ARM_COLORS[arm], lw=1.5, ls="--",
                               label=f"{ARM_LABELS[arm]}: median of {n_reconstructions} reconstructions"),
                    plt.Rectangle((0, 0), 1, 1, color=ARM_COLORS[arm], alpha=0.18, label="2.5-97.5 % band")]
    legend_ax.legend(handles=handles, loc="center", fontsize=7)
    fig.subplots_adjust(hspace=0.6, wspace=0.45, left=0.1, right=0.97, bottom=0.07, top=0.95)
    mark_synthetic(fig, True)
    return fig
