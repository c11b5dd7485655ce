"""Integer steps that bring a sample's mean and SD inside printed windows.

A published "mean ± SD" fixes two numbers to the printed precision. Raw measurements live on
lattices (whole mm/h of ESR, 1/8 steps of HAQ-DI, whole mm of a VAS), so the generator first
draws natural values, then moves single values one lattice step at a time (or two values in
opposite directions, which keeps the mean and changes the spread) until both statistics print
as published. Each move must be *allowed* by the caller (ranges, categories that must not
change, responses that must not flip), so the search never trades a published count for a
published mean.

The search is greedy on the normalised distance to the window centres, with random allowed
moves when it stalls; it stops inside a safety margin of each window and raises
:class:`MomentsNotReached` when it cannot get there.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Protocol

import numpy as np

from analysis.synthetic.targets import Window

#: Share of each printed half-unit kept as a safety margin (floating-point sums differ
#: between numpy and pandas in the last bits).
MARGIN = 0.1


class MomentsNotReached(RuntimeError):
    """The moves could not bring the mean and SD inside their windows."""


class Moves(Protocol):
    """What :func:`tune_moments` needs from the caller."""

    def candidates(self) -> tuple[np.ndarray, np.ndarray]:
        """``(delta, ok)``: arrays of shape (m, n) with the change in value of element ``j``
        under move type ``t`` and whether that move is allowed."""

    def apply(self, move_type: int, element: int) -> None:
        """Carry out move ``move_type`` on ``element``."""

    def values(self) -> np.ndarray:
        """Current values, shape (n,)."""


@dataclass
class LatticeMoves:
    """Moves of one integer knob per element: ``value = f(knob)``, knob ± 1 within bounds.

    Parameters
    ----------
    knobs : int array (n,)
        Current knob positions (modified in place by :meth:`apply`).
    value_of : callable
        ``value_of(knobs) -> values``, elementwise (element ``j`` depends on ``knobs[j]`` only).
    low, high : int arrays (n,)
        Bounds of each knob.
    allowed : callable, optional
        ``allowed(new_knobs) -> bool array``: whether each element may take the value of
        ``new_knobs`` (elementwise); default: always.

    Examples
    --------
    >>> m = LatticeMoves(np.array([40, 50, 60]), lambda k: k.astype(float),
    ...                  np.array([0, 0, 0]), np.array([100, 100, 100]))
    >>> delta, ok = m.candidates()
    >>> delta.tolist(), ok.all()
    ([[1.0, 1.0, 1.0], [-1.0, -1.0, -1.0]], np.True_)
    """

    knobs: np.ndarray
    value_of: Callable[[np.ndarray], np.ndarray]
    low: np.ndarray
    high: np.ndarray
    allowed: Callable[[np.ndarray], np.ndarray] | None = None

    def values(self) -> np.ndarray:
        return np.asarray(self.value_of(self.knobs), dtype=float)

    def candidates(self) -> tuple[np.ndarray, np.ndarray]:
        now = self.values()
        deltas, oks = [], []
        for step in (1, -1):
            moved = self.knobs + step
            inside = (moved >= self.low) & (moved <= self.high)
            moved = np.where(inside, moved, self.knobs)
            new = np.asarray(self.value_of(moved), dtype=float)
            ok = inside.copy()
            if self.allowed is not None:
                ok &= np.asarray(self.allowed(moved), dtype=bool)
            deltas.append(new - now)
            oks.append(ok)
        return np.vstack(deltas), np.vstack(oks)

    def apply(self, move_type: int, element: int) -> None:
        self.knobs[element] += 1 if move_type == 0 else -1


class CombinedMoves:
    """Several :class:`Moves` over the same elements, offered together (e.g. PTGA and ESR)."""

    def __init__(self, *parts: Moves, values: Callable[[], np.ndarray]):
        self.parts = parts
        self._values = values
        self._types: list[tuple[int, int]] = []

    def values(self) -> np.ndarray:
        return self._values()

    def candidates(self) -> tuple[np.ndarray, np.ndarray]:
        deltas, oks, self._types = [], [], []
        for p, part in enumerate(self.parts):
            d, ok = part.candidates()
            deltas.append(d)
            oks.append(ok)
            self._types += [(p, t) for t in range(d.shape[0])]
        return np.vstack(deltas), np.vstack(oks)

    def apply(self, move_type: int, element: int) -> None:
        part, inner = self._types[move_type]
        self.parts[part].apply(inner, element)


def _moments(values: np.ndarray) -> tuple[float, float]:
    return float(np.mean(values)), float(np.std(values, ddof=1))


def inside(values: np.ndarray, mean: Window, sd: Window, margin: float = MARGIN) -> bool:
    """Whether the sample's mean and SD (ddof = 1) print as ``mean`` and ``sd``.

    Examples
    --------
    >>> inside(np.array([1.0, 2.0, 3.0]), Window(2.0, 2), Window(1.0, 2))
    True
    """
    m, s = _moments(values)
    return mean.contains(m, margin) and sd.contains(s, margin)


def tune_moments(moves: Moves, mean: Window, sd: Window, rng: np.random.Generator,
                 max_iter: int = 4000, label: str = "sample") -> int:
    """Move values until their mean and SD (ddof = 1) print as ``mean`` and ``sd``.

    Parameters
    ----------
    moves : Moves
        The allowed moves (see :class:`LatticeMoves`).
    mean, sd : Window
        Printed targets.
    rng : numpy Generator
        Source of the random moves used to leave a stall.
    max_iter : int
        Moves before giving up.
    label : str
        Named in the error message.

    Returns
    -------
    int
        Number of moves made.

    Raises
    ------
    MomentsNotReached

    Examples
    --------
    Whole numbers with mean 52.13 and SD 8.42 (two decimals):

    >>> rng = np.random.default_rng(1)
    >>> knobs = np.round(rng.normal(52, 8, 69)).astype(int)
    >>> moves = LatticeMoves(knobs, lambda k: k.astype(float), np.full(69, 20), np.full(69, 90))
    >>> _ = tune_moments(moves, Window(52.13, 2), Window(8.42, 2), rng)
    >>> round(float(knobs.mean()), 2), round(float(knobs.std(ddof=1)), 2)
    (52.13, 8.42)
    """
    tm, ts = mean.tol * (1 - MARGIN), sd.tol * (1 - MARGIN)
    stalls = 0
    for it in range(max_iter):
        v = moves.values()
        n = len(v)
        m, s = _moments(v)
        if abs(m - mean.value) <= tm and abs(s - sd.value) <= ts:
            return it
        current = ((m - mean.value) / tm) ** 2 + ((s - sd.value) / ts) ** 2
        delta, ok = moves.candidates()
        total, squares = v.sum(), np.dot(v, v)

        def objective(dsum, dsq):
            new_mean = (total + dsum) / n
            var = (squares + dsq - n * new_mean**2) / (n - 1)
            new_sd = np.sqrt(np.maximum(var, 0.0))
            return ((new_mean - mean.value) / tm) ** 2 + ((new_sd - sd.value) / ts) ** 2

        dsq = 2 * v[None, :] * delta + delta**2
        single = np.where(ok, objective(delta, dsq), np.inf)
        # pairs of single moves on two different elements
        flat_d, flat_q, flat_ok = delta.ravel(), dsq.ravel(), ok.ravel()
        elem = np.tile(np.arange(n), delta.shape[0])
        usable = np.flatnonzero(flat_ok)
        best_pair, best_pair_obj = None, np.inf
        if len(usable) > 1:
            d, q, e = flat_d[usable], flat_q[usable], elem[usable]
            obj = objective(d[:, None] + d[None, :], q[:, None] + q[None, :])
            obj[e[:, None] == e[None, :]] = np.inf
            k = int(np.argmin(obj))
            a, b = divmod(k, len(usable))
            best_pair, best_pair_obj = (usable[a], usable[b]), obj[a, b]
        k = int(np.argmin(single))
        best_single_obj = single.flat[k]
        if min(best_single_obj, best_pair_obj) < current - 1e-12:
            stalls = 0
            if best_single_obj <= best_pair_obj:
                t, j = divmod(k, n)
                moves.apply(t, j)
            else:
                for flat in best_pair:
                    t, j = divmod(int(flat), n)
                    moves.apply(t, j)
            continue
        stalls += 1
        if stalls > 50 or len(usable) == 0:
            break
        for flat in rng.choice(usable, size=min(3, len(usable)), replace=False):
            t, j = divmod(int(flat), n)
            moves.apply(t, j)
    m, s = _moments(moves.values())
    raise MomentsNotReached(
        f"{label}: mean {m:.4f} (target {mean.value}) and SD {s:.4f} (target {sd.value}) "
        f"not reached in {max_iter} moves")


def nearest_lattice_mean(mean: Window, n: int, step: float) -> tuple[Window, bool]:
    """The printed mean if ``n`` values on a lattice of ``step`` can have it, else the nearest
    mean they can have (as a window of the same precision) and False.

    Examples
    --------
    >>> nearest_lattice_mean(Window(50.13, 2), 69, 1.0)
    (Window(value=50.13, decimals=2), True)
    >>> w, ok = nearest_lattice_mean(Window(10.02, 2), 28, 1.0)
    >>> round(w.value, 4), ok
    (10.0357, False)
    """
    low, high = np.ceil(mean.low * n / step - 1e-9), np.floor(mean.high * n / step + 1e-9)
    if low <= high:
        return mean, True
    candidates = [np.floor(mean.value * n / step), np.ceil(mean.value * n / step)]
    best = min(candidates, key=lambda s: abs(s * step / n - mean.value))
    return Window(float(best * step / n), 6), False
