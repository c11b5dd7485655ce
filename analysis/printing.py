"""How a registry value prints: the one printing rule of the book.

:func:`format_value` chooses the format of a value from its key's last segment (its *stat*,
:func:`stat_of`) through :data:`STAT_FORMATS`; the book's ``{reg}`` role, every table and the
reconstruction ensemble's classification (a value is *determined* when it prints the same in
every reconstruction) use it, so a number prints the same way everywhere.

Conventions: rounding is half away from zero on the decimal value (:func:`format_number`); a
missing value (NaN) prints as an en dash; p-values print with 3 decimals, as ``<0.001`` below
0.001 and ``>0.999`` above 0.999, as in the paper; the Table 3 marker ``*`` flags p < 0.001.

This module imports nothing else of :mod:`analysis`, so what depends on the printing rule (the
ensemble's digest) does not depend on the table layouts.
"""
from __future__ import annotations

import math
from decimal import ROUND_HALF_UP, Decimal

#: Printed for a missing value.
MISSING = "–"
#: Printed after a table value that the reconstruction ensemble classes *not determined*.
UNDETERMINED_MARK = "‡"
#: Stat (last key segment) -> format: decimals (int) or a named rule.
STAT_FORMATS: dict[str, int | str] = {
    "n": 0, "events": 0, "patients": 0, "n_evaluable": 0, "responders": 0, "losses": 0,
    "n_patients": 0, "n_obs": 0, "converged": 0,
    "pct": 1, "mean": 2, "sd": 2, "diff": 2, "ci_low": 2, "ci_high": 2, "se": 3,
    "rate": 2, "rate_low": 2, "rate_high": 2, "py": 2, "py_at_risk": 2, "eair": 2, "eair_low": 2, "eair_high": 2,
    "rate_ratio": 2, "rate_ratio_low": 2, "rate_ratio_high": 2,
    "min": 1, "max": 1, "median_months": 1, "median_reached": 0,
    "p": "p", "marker": "marker", "statistic": 2, "var_patient": 3, "var_residual": 3,
}

class MarkedRegistry(dict):
    """A registry (key -> value) that marks, in the tables laid out from it, the values the
    published numbers do not determine.

    ``marks`` maps such keys to their 2.5-97.5 % interval over the reconstruction ensemble
    (:func:`analysis.ensemble.report.marks_for_dataset`). A layout reads a value and formats
    it at once (``format_number(v[key], 1)``); the read records the key, and the formatter
    that follows appends :data:`UNDETERMINED_MARK` when the key is marked. The :class:`Row`
    built next collects the marked keys, and :func:`show_table` lists their intervals under
    the table.

    Examples
    --------
    >>> v = MarkedRegistry({"a.x.msc.pct": 40.0, "a.y.msc.pct": 10.0}, {"a.x.msc.pct": (30.0, 55.0)})
    >>> format_number(v["a.x.msc.pct"], 1), format_number(v["a.y.msc.pct"], 1), take_marked()
    ('40.0‡', '10.0', [('a.x.msc.pct', (30.0, 55.0))])
    """

    def __init__(self, values: dict, marks: dict[str, tuple[float, float]]):
        super().__init__(values)
        self.marks = marks

    def __getitem__(self, key):
        value = super().__getitem__(key)
        _PENDING[0] = (self, key) if key in self.marks else None
        return value


#: The marked key read last and not yet formatted (layouts run in one thread, read-then-format).
_PENDING: list = [None]
#: Marked keys formatted since the last Row was built.
_FORMATTED: list = []



def take_marked() -> list:
    """The (key, interval) pairs of the marked values formatted since the last call, and forget
    them: a table row built right after its cells were formatted collects its marks this way.

    Examples
    --------
    >>> v = MarkedRegistry({"a.x.msc.pct": 40.0}, {"a.x.msc.pct": (30.0, 55.0)})
    >>> format_number(v["a.x.msc.pct"], 1), take_marked(), take_marked()
    ('40.0‡', [('a.x.msc.pct', (30.0, 55.0))], [])
    """
    taken = _FORMATTED[:]
    _FORMATTED.clear()
    return taken


def _mark(text: str) -> str:
    pending, _PENDING[0] = _PENDING[0], None
    if pending is None or text == MISSING:
        return text
    registry, key = pending
    _FORMATTED.append((key, registry.marks[key]))
    return text + UNDETERMINED_MARK


def format_number(value: float, decimals: int) -> str:
    """``value`` rounded half away from zero to ``decimals``; NaN as :data:`MISSING`.

    Python's ``round`` rounds half to even on the binary value; printed tables round half
    away from zero, so 0.125 prints as 0.13 at 2 decimals. ``-0.0`` prints as ``0.00``.

    Examples
    --------
    >>> format_number(2.4651, 2), format_number(0.125, 2), format_number(80.0, 0)
    ('2.47', '0.13', '80')
    >>> format_number(float("nan"), 1), format_number(-0.001, 2)
    ('–', '0.00')
    """
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return MISSING
    if math.isinf(value):
        return "∞" if value > 0 else "-∞"
    quantum = Decimal(1).scaleb(-decimals)
    text = str(Decimal(repr(float(value))).quantize(quantum, rounding=ROUND_HALF_UP))
    return _mark(text[1:] if text.startswith("-") and float(text) == 0 else text)


def format_p(p: float) -> str:
    """A p-value as the paper prints it.

    Examples
    --------
    >>> format_p(0.00067), format_p(0.0614), format_p(1.0), format_p(float("nan"))
    ('<0.001', '0.061', '>0.999', '–')
    """
    if p is None or math.isnan(p):
        return _mark(MISSING)
    if p < 0.001:
        return _mark("<0.001")
    if p > 0.999:
        return _mark(">0.999")
    return format_number(p, 3)


def stat_of(key: str) -> str:
    """The statistic a registry key holds: its last segment, except for the group-size
    headers ``<artefact>.n.<arm>`` and ``<artefact>.py.<arm>``.

    Examples
    --------
    >>> stat_of("table3.acr20.msc.year1.pct"), stat_of("table2.n.msc"), stat_of("table2.py.total")
    ('pct', 'n', 'py')
    """
    parts = key.split(".")
    if len(parts) == 3 and parts[1] in ("n", "py"):
        return parts[1]
    return parts[-1]


def format_value(key: str, value: float, spec: str | None = None) -> str:
    """Printed text of a registry value.

    ``spec`` is a Python format spec (``".1f"``, ``".0f"``) or one of the named rules
    ``p`` (``<0.001``, ``0.061``), ``pexpr`` (``p < 0.001``, ``p = 0.061``: for running text)
    and ``marker`` (``*`` or nothing); without it the key's stat (last segment) selects the format
    from :data:`STAT_FORMATS` (2 decimals for an unknown stat).

    Examples
    --------
    >>> format_value("table2.sae.msc.rate", 2.4710), format_value("table2.n.total", 110.0)
    ('2.47', '110')
    >>> format_value("table3.acr20.year1.p", 0.0001), format_value("table3.acr20.year1.marker", 1.0)
    ('<0.001', '*')
    >>> format_value("disposition.followup_years.total.mean", 6.04, ".0f")
    '6'
    >>> format_value("table3.acr20.year1.p", 0.0001, "pexpr"), format_value("table4.bdmard.year1.p", 0.0614, "pexpr")
    ('p < 0.001', 'p = 0.061')
    >>> format_value("durability.acr20.followup.p", float("nan"), "pexpr")
    'p not computable'
    """
    rule: int | str = STAT_FORMATS.get(stat_of(key), 2)
    if spec:
        if spec in ("p", "pexpr", "marker"):
            rule = spec
        elif spec.startswith(".") and spec.endswith("f") and spec[1:-1].isdigit():
            rule = int(spec[1:-1])
        else:
            raise ValueError(f"unknown number format {spec!r} for {key!r}; use .Nf, p, pexpr or marker")
    if rule == "p":
        return format_p(value)
    if rule == "pexpr":
        if value is None or math.isnan(value):
            return "p not computable"
        text = format_p(value)
        return "p " + (text.replace("<", "< ").replace(">", "> ") if text[0] in "<>" else "= " + text)
    if rule == "marker":
        return "*" if value == 1 else ""
    return format_number(value, int(rule))
