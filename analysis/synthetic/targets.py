"""Targets of the synthetic cohort, read from the published registry at generation time.

Every number the generator aims at comes from ``data/published`` through
:func:`analysis.published.load_published`; none is typed here. A printed percentage is turned
back into the whole number of patients it stands for (``k / N`` printed at the registry's
precision), and a printed mean or SD into a window ``value ± half a unit of the last digit``,
the tolerance :mod:`analysis.verify` applies.

The structural facts the paper states in words (which events belong to which patient, the
visit schedule, calendar windows) live in :mod:`analysis.synthetic.design`, not here.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np
import pandas as pd

from analysis.populations import ARMS as ARM_CODES  # arm value in the data -> arm code in registry keys
from analysis.published import load_published

#: Table 3 / Table 4 time point -> nominal visit month (AVISITN).
YEARS: dict[str, int] = {"year1": 12, "year3": 36, "year5": 60}
#: Table 3 binary endpoints, in the registry's item names.
RESPONSES = ("das28_remission", "das28_lda", "acr20", "acr50", "acr70")
#: Table 4 drug rows -> CMCLASS of the data contract.
TABLE4_CLASSES: dict[str, str] = {"csdmard": "csDMARD", "tsdmard": "tsDMARD",
                                  "bdmard": "bDMARD", "prednisone": "PREDNISONE"}


@dataclass(frozen=True)
class Window:
    """A printed statistic as the interval of values that print the same.

    Examples
    --------
    >>> w = Window(45.87, 2)
    >>> round(w.low, 3), round(w.high, 3), w.contains(45.8696), w.contains(45.8751)
    (45.865, 45.875, True, False)
    """

    value: float
    decimals: int

    @property
    def tol(self) -> float:
        return 0.5 * 10.0 ** -self.decimals

    @property
    def low(self) -> float:
        return self.value - self.tol

    @property
    def high(self) -> float:
        return self.value + self.tol

    def contains(self, x: float, margin: float = 0.0) -> bool:
        """True when ``x`` prints as the value (``margin`` shrinks the window by that share)."""
        return abs(x - self.value) <= self.tol * (1.0 - margin)


def count_from_percent(pct: float, decimals: int, n: int) -> int:
    """The unique whole number ``k`` such that ``100 k / n`` prints as ``pct``.

    Raises ValueError when no ``k``, or more than one, prints that way.

    Examples
    --------
    >>> count_from_percent(50.7, 1, 69), count_from_percent(7, 0, 28), count_from_percent(100, 0, 28)
    (35, 2, 28)
    """
    tol = 0.5 * 10.0 ** -decimals + 1e-9
    hits = [k for k in range(n + 1) if abs(100.0 * k / n - pct) <= tol]
    if len(hits) != 1:
        raise ValueError(f"{pct} % of {n} matches counts {hits}; expected exactly one")
    return hits[0]


class Targets:
    """Typed access to the published registry (the generator's only source of targets).

    Parameters
    ----------
    registry : DataFrame, optional
        The frame :func:`analysis.published.load_published` returns (read when omitted).
    """

    def __init__(self, registry: pd.DataFrame | None = None):
        self.registry = load_published() if registry is None else registry
        self._rows = self.registry.set_index("key")
        #: Every published key the generator has read: the values it targets directly. The
        #: other published values hold because the analysis derives them from these.
        self.consulted: set[str] = set()

    # -- raw access -------------------------------------------------------------------
    def number(self, key: str) -> float:
        self.consulted.add(key)
        return float(self._rows.loc[key, "number"])

    def integer(self, key: str) -> int:
        value = self.number(key)
        if value != int(value):
            raise ValueError(f"{key}: expected a whole number, got {value}")
        return int(value)

    def window(self, key: str) -> Window:
        return Window(self.number(key), int(self._rows.loc[key, "decimals"]))

    # -- populations and disposition ----------------------------------------------------
    def n_safety(self, arm: str) -> int:
        return self.integer(f"table2.n.{ARM_CODES[arm]}")

    def n_completers(self, arm: str) -> int:
        return self.integer(f"table1.n.{ARM_CODES[arm]}")

    def patient_years(self, arm: str) -> Window:
        return self.window(f"table2.py.{ARM_CODES[arm]}")

    @cached_property
    def n_discontinued(self) -> dict[str, int]:
        """Discontinuations by DCSREAS value (both arms)."""
        return {"LACK OF EFFICACY": self.integer("disposition.discontinued_lack_of_efficacy.total.n"),
                "ADVERSE EVENT": self.integer("disposition.discontinued_adverse_event.total.n")}

    def followup(self, stat: str) -> Window:
        return self.window(f"disposition.followup_years.total.{stat}")

    # -- Table 1 -------------------------------------------------------------------------
    def baseline_count(self, item: str, arm: str) -> int:
        """Completers with a Table 1 binary characteristic (from ``n`` or from ``pct``)."""
        code = ARM_CODES[arm]
        if f"table1.{item}.{code}.n" in self._rows.index:
            return self.integer(f"table1.{item}.{code}.n")
        w = self.window(f"table1.{item}.{code}.pct")
        return count_from_percent(w.value, w.decimals, self.n_completers(arm))

    def baseline_moments(self, item: str, arm: str) -> tuple[Window, Window]:
        code = ARM_CODES[arm]
        return self.window(f"table1.{item}.{code}.mean"), self.window(f"table1.{item}.{code}.sd")

    def pooled_moments(self, item: str) -> tuple[float, float]:
        """Mean and SD of a Table 1 item over both arms' completers (pooled from the printed
        arm means and SDs); the generator's natural distribution for patients it does not
        match to Table 1 (the dropouts).

        Examples
        --------
        >>> m, s = Targets().pooled_moments("age")
        >>> round(m, 2), round(s, 2)
        (46.9, 10.33)
        """
        arms = ("MSC", "MSC+IFNG")
        n = np.array([self.n_completers(a) for a in arms], dtype=float)
        means = np.array([self.baseline_moments(item, a)[0].value for a in arms])
        sds = np.array([self.baseline_moments(item, a)[1].value for a in arms])
        mean = float((n * means).sum() / n.sum())
        ss = ((n - 1) * sds**2).sum() + (n * (means - mean) ** 2).sum()
        return mean, float(np.sqrt(ss / (n.sum() - 1)))

    def pooled_share(self, item: str) -> float:
        """Share of completers (both arms) with a Table 1 binary characteristic.

        Examples
        --------
        >>> round(Targets().pooled_share("female"), 3)
        0.856
        """
        arms = ("MSC", "MSC+IFNG")
        return sum(self.baseline_count(item, a) for a in arms) / sum(self.n_completers(a) for a in arms)

    # -- Table 2 and safety text ------------------------------------------------------------
    def events(self, row: str, arm: str) -> int:
        return self.integer(f"table2.{row}.{ARM_CODES[arm]}.events")

    @property
    def sae_patients(self) -> int:
        return self.integer("text.sae.total.patients")

    def autoimmune_patients(self, disease: str) -> int:
        """Patients with a new autoimmune disease (``sjogren`` or ``sle``), both arms."""
        return self.integer(f"discussion.sae_{disease}.total.patients")

    @property
    def cerebral_infarction_patients(self) -> int:
        return self.integer("text.sae_cerebral_infarction.msc.patients")

    @property
    def autoimmune_no_acr20_dropouts(self) -> int:
        return self.integer("disposition.discontinued_new_autoimmune_no_acr20.msc_ifng.n")

    # -- Table 3 -------------------------------------------------------------------------
    def responders(self, endpoint: str, arm: str, year: str) -> int:
        w = self.window(f"table3.{endpoint}.{ARM_CODES[arm]}.{year}.pct")
        return count_from_percent(w.value, w.decimals, self.n_completers(arm))

    def change_moments(self, endpoint: str, arm: str, year: str) -> tuple[Window, Window]:
        code = ARM_CODES[arm]
        return (self.window(f"table3.{endpoint}.{code}.{year}.mean"),
                self.window(f"table3.{endpoint}.{code}.{year}.sd"))

    # -- Table 4 and medication text ---------------------------------------------------------
    def users(self, drug: str, arm: str, timepoint: str) -> int:
        return self.integer(f"table4.{drug}.{ARM_CODES[arm]}.{timepoint}.n")

    def drug_free_remission(self, arm: str) -> int:
        """Patients in sustained drug-free remission (only the combination arm is reported;
        the paper's sentence implies none in the monotherapy arm)."""
        key = f"text.drug_free_remission.{ARM_CODES[arm]}.year5.patients"
        return self.integer(key) if key in self._rows.index else 0
