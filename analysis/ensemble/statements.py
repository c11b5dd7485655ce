"""The article's qualitative statements about results it does not print as numbers.

Each statement is written in our own words, with where the article makes it and the rule that
turns it into a yes/no question about one reconstruction's results registry (our
operationalisation: the article does not say how it judged). :func:`evaluate_statements` gives,
for every reconstruction, whether the statement holds; the book reports the share.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from analysis.populations import ARMS

#: Arm codes of the registry keys, in table order (:data:`analysis.populations.ARMS`).
ARM_CODES = tuple(ARMS.values())
YEARLY = ("year1", "year2", "year3", "year4", "year5")


@dataclass(frozen=True)
class Statement:
    """A claim of the article, where it is made, and the rule that checks it."""

    id: str
    claim: str
    where: str
    rule: str
    holds: Callable[[dict], bool]


def _responses_kept(v: dict) -> bool:
    return all(v[f"durability.{e}.{a}.losses"] < 0.5 * v[f"durability.{e}.{a}.responders"]
               for e in ("acr20", "das28_lda") for a in ARM_CODES)


def _low_or_remission(v: dict, arm: str, visit: str) -> float:
    return v[f"clusters.low.{arm}.{visit}.pct"] + v[f"clusters.remission.{arm}.{visit}.pct"]


def _clusters_stable(v: dict) -> bool:
    return all(abs(_low_or_remission(v, a, visit) - _low_or_remission(v, a, "year1")) <= 15
               for a in ARM_CODES for visit in YEARLY[1:])


def _combination_better(v: dict) -> bool:
    visits = ("year1", "year3", "year5")
    better = all(_low_or_remission(v, "msc_ifng", t) > _low_or_remission(v, "msc", t) for t in visits)
    return better and any(v[f"clusters.activity.{t}.p"] < 0.05 for t in visits)


def _improved_from_baseline(v: dict) -> bool:
    return all(v[f"clusters.activity_vs_baseline.{a}.{t}.p"] < 0.05 for a in ARM_CODES for t in ("year1", "year3", "year5"))


STATEMENTS: tuple[Statement, ...] = (
    Statement("responses_kept", "Most responders keep their response over follow-up.",
              "Results (durability, Fig. 2A-E); Discussion",
              "In both arms, fewer than half of the ACR20 responders and fewer than half of the DAS28 "
              "low-disease-activity responders lose the response at a later visit.", _responses_kept),
    Statement("clusters_stable", "The disease-activity clusters stay stable during the extension.",
              "Results (Fig. 2F)",
              "In both arms, the share of patients in low disease activity or remission at years 2 to 5 stays "
              "within 15 percentage points of its year-1 value.", _clusters_stable),
    Statement("combination_better", "Disease activity improves more with MSCs + IFN-γ than with MSCs alone.",
              "Results (Fig. 2F, markers *)",
              "At years 1, 3 and 5 the combination arm has the larger share in low disease activity or remission, "
              "and the between-arm trend test gives p < 0.05 at one of these visits at least.", _combination_better),
    Statement("improved_from_baseline", "Both arms improve on their baseline disease activity.",
              "Results (Fig. 2F, markers # and &)",
              "In each arm, the trend test against the arm's own baseline gives p < 0.05 at years 1, 3 and 5.",
              _improved_from_baseline),
    Statement("dropouts_alike", "Completers and dropouts did not differ at baseline (p > 0.05).",
              "Discussion",
              "The smallest p-value of the baseline comparisons of completers and dropouts is above 0.05.",
              lambda v: v["baseline_dropouts.min_p.total.p"] > 0.05),
    Statement("drug_free_remission", "One patient of the combination arm was in sustained drug-free remission.",
              "Results (medication regimens)",
              "Exactly one combination-arm completer is in DAS28 remission without any DMARD or prednisone "
              "from year 1 to year 5.", lambda v: v["efficacy.drug_free_remission.msc_ifng.year5.patients"] == 1),
)


def evaluate_statements(values: dict) -> dict[str, bool | None]:
    """Whether each statement holds for one results registry (key -> value).

    A statement whose rule compares a value that is not computable (NaN) does not hold; one
    whose keys are absent from the registry (a dataset without that analysis) is ``None``.

    Examples
    --------
    >>> result = evaluate_statements({"baseline_dropouts.min_p.total.p": 0.3})
    >>> result["dropouts_alike"], result["responses_kept"]
    (True, None)
    """
    out: dict[str, bool | None] = {}
    for s in STATEMENTS:
        try:
            out[s.id] = bool(s.holds(values))
        except KeyError:
            out[s.id] = None
    return out
