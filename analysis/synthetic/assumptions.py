"""Structural assumptions of the generator: what the published numbers leave open.

The published aggregates fix counts, means and SDs at the anchor years; they do not say how a
patient's response at year 1 relates to the same patient's response at years 3 and 5, how the
visits between the anchor years move, or when in follow-up the adverse events fall. The
generator has to choose. :class:`Assumptions` names those choices, so that the reconstruction
ensemble (:mod:`analysis.ensemble`) can vary them across a documented range; every
reconstruction still has to reproduce every published value.

The defaults are the values the shipped cohort was generated with (``make data``), so the
shipped cohort is unchanged, bit for bit.

Held fixed (not varied by the ensemble): the visit schedule and its jitter, the calendar of
COVID-19 waves and the main wave's attack share (drawn by the generator inside
``design.MAIN_WAVE_ATTACK``), the case narratives of the serious events, the dropouts'
response profiles, the onset ramp of improvement over months 1, 3 and 6, the baseline
distributions and the judgement calls listed in ``analysis/synthetic/design.py``.
"""
from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Assumptions:
    """The generator's structural choices (defaults: the shipped cohort's).

    Attributes
    ----------
    year_noise
        SD of the year-specific noise added to each completer's latent responsiveness (whose SD
        is 1). Small: a responder at year 1 stays a responder at years 3 and 5 (response
        persists); large: responder sets are reshuffled between years.
    measure_discordance
        Multiplier of the per-patient offsets that make HAQ-DI, DAS28 and ACR rank patients
        differently (1: the shipped cohort's SDs 0.5, 0.25, 0.25).
    interim_variability
        Multiplier of the visit-to-visit noise of the visits between anchor years (months 1, 3,
        6, 18, 24, 30, ...). It decides how often a response is lost at a visit the tables do not
        use, which Kaplan-Meier durability counts.
    late_lymphopenia_share
        Share of the lymphocyte-count decreases that happen later in follow-up rather than in
        the first four weeks after transplantation.
    metabolic_onset_skew
        Exponent applied to the position of a metabolic adverse event (hyperglycaemia,
        hyperlipidaemia) within follow-up: 1 places it uniformly, above 1 early, below 1 late.
        It moves exposure to first event and so exposure-adjusted incidence.

    Examples
    --------
    >>> Assumptions().year_noise
    0.15
    >>> a = Assumptions.draw(np.random.default_rng(1))
    >>> RANGES["year_noise"][0] <= a.year_noise <= RANGES["year_noise"][1]
    True
    """

    year_noise: float = 0.15
    measure_discordance: float = 1.0
    interim_variability: float = 1.0
    late_lymphopenia_share: float = 0.1
    metabolic_onset_skew: float = 1.0

    @classmethod
    def draw(cls, rng: np.random.Generator) -> "Assumptions":
        """One draw from :data:`RANGES` (uniform; log-uniform for the skew exponent).

        Values are rounded to 4 decimals so that the stored value reproduces the cohort exactly.
        """
        values = {}
        for name, (low, high) in RANGES.items():
            if name in LOG_SCALE:
                value = math.exp(rng.uniform(math.log(low), math.log(high)))
            else:
                value = rng.uniform(low, high)
            values[name] = round(float(value), 4)
        return cls(**values)

    def as_dict(self) -> dict[str, float]:
        return dataclasses.asdict(self)


#: Range the ensemble draws each assumption from: (low, high). Our judgement of what is
#: clinically plausible and still lets the generator reproduce every published value.
RANGES: dict[str, tuple[float, float]] = {
    "year_noise": (0.05, 0.6),
    "measure_discordance": (0.5, 1.5),
    "interim_variability": (0.5, 2.0),
    "late_lymphopenia_share": (0.0, 0.2),
    "metabolic_onset_skew": (0.5, 2.0),
}
#: Assumptions drawn on a log scale (multiplicative ranges).
LOG_SCALE = frozenset({"metabolic_onset_skew"})
#: One line per assumption for pages and READMEs.
DESCRIPTIONS: dict[str, str] = {
    "year_noise": "how strongly a patient's response persists from year 1 to years 3 and 5 "
                  "(SD of the year-specific noise on the latent responsiveness)",
    "measure_discordance": "how differently HAQ-DI, DAS28 and ACR rank the same patients "
                           "(multiplier of the per-measure offsets)",
    "interim_variability": "how much the visits between the anchor years move "
                           "(multiplier of the visit-to-visit noise)",
    "late_lymphopenia_share": "share of lymphocyte-count decreases later in follow-up "
                              "rather than in the first four weeks",
    "metabolic_onset_skew": "when metabolic adverse events fall within follow-up "
                            "(exponent on their position: 1 uniform, > 1 early, < 1 late)",
}
