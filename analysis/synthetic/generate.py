"""Build the synthetic cohort in memory, write it in the data contract, check it.

:func:`generate_cohort` runs the steps in a fixed order on one ``numpy`` generator seeded
with ``seed`` (so a seed gives the same files, bit for bit); :func:`write_cohort` writes the
four CSV files and the README; :func:`check_cohort` loads the files through the data contract
and compares every computed value with the published registry.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from analysis.contract import load_dataset
from analysis.published import load_published
from analysis.synthetic.assumptions import Assumptions
from analysis.synthetic.baseline import BaselineTable, build_baseline
from analysis.synthetic.events import build_adverse_events
from analysis.synthetic.regimens import build_medications
from analysis.synthetic.schedule import Patient, build_patients
from analysis.synthetic.targets import Targets
from analysis.synthetic.visits import COMPONENTS, acr_inputs, acr_level, build_visits, category, das28, haq_items
from analysis.tables import compute_results
from analysis.verify import build_reproduction

#: Seed of the shipped cohort (``make data``).
DEFAULT_SEED = 20250617

SUBJECT_COLUMNS = ["USUBJID", "STUDYID", "ARM", "SEX", "AGE", "RADURY", "RFFL", "ACPAFL", "HXCSDMRD",
                   "HXBDMRD", "HXNSAID", "HXPRED", "TRTSDT", "LTEFL", "EOSDT", "EOSSTT", "DCSREAS"]
HAQ_COLUMNS = ["HAQDRESS", "HAQARISE", "HAQEAT", "HAQWALK", "HAQHYGN", "HAQREACH", "HAQGRIP", "HAQACTIV"]
VISIT_COLUMNS = ["USUBJID", "AVISITN", "ADT", "TJC28", "SJC28", "TJC68", "SJC66", "ESR", "CRP", "PTGA",
                 "PHGA", "PAIN", *HAQ_COLUMNS]
AE_COLUMNS = ["USUBJID", "AESEQ", "AETERM", "AEDECOD", "AESER", "AESTDT", "AEENDT"]
CM_COLUMNS = ["USUBJID", "CMCLASS", "CMDECOD", "CMSTDT", "CMENDT"]
CM_ORDER = {"csDMARD": 0, "bDMARD": 1, "tsDMARD": 2, "PREDNISONE": 3, "NSAID": 4}


@dataclass
class Cohort:
    """The four tables as text frames (cells already formatted) plus generation notes."""

    seed: int
    assumptions: Assumptions
    subjects: pd.DataFrame
    visits: pd.DataFrame
    adverse_events: pd.DataFrame
    medications: pd.DataFrame
    #: Published keys that no dataset on the generator's lattices can print (with the reason).
    unreachable: dict[str, str] = field(default_factory=dict)

    def frames(self) -> dict[str, pd.DataFrame]:
        return {"subjects.csv": self.subjects, "visits.csv": self.visits,
                "adverse_events.csv": self.adverse_events, "medications.csv": self.medications}


def _tenths(x: int) -> str:
    """Whole tenths as a one-decimal number (exact, no float rounding)."""
    return f"{x // 10}.{x % 10}"


def _date(d: dt.date | None) -> str:
    return "" if d is None else d.isoformat()


def _subjects_frame(patients: list[Patient], bl: BaselineTable) -> pd.DataFrame:
    rows = []
    for p in patients:
        i = p.index
        rows.append([p.usubjid, p.trial, p.arm, str(bl.sex[i]), str(int(bl.age[i])), _tenths(int(bl.radury[i])),
                     "Y" if bl.rf[i] else "N", "Y" if bl.acpa[i] else "N", "Y",
                     "Y" if bl.hx_bdmard[i] else "N", "Y", "Y" if bl.hx_pred[i] else "N",
                     _date(p.trtsdt), "Y", _date(p.eosdt), "COMPLETED" if p.completer else "DISCONTINUED",
                     p.dcsreas])
    return pd.DataFrame(rows, columns=SUBJECT_COLUMNS)


def _visits_frame(patients, bl, visits) -> pd.DataFrame:
    rows = []
    for p in patients:
        for m, day in zip(p.months, p.dates):
            v = visits[p.index][m]
            items = haq_items(bl, p.index, v["haq"])
            rows.append([p.usubjid, str(m), _date(day), str(v["tjc28"]), str(v["sjc28"]),
                         str(v["tjc28"] + v["xtjc"]), str(v["sjc28"] + v["xsjc"]), str(v["esr"]),
                         _tenths(v["crp"]), str(v["ptga"]), str(v["phga"]), str(v["pain"]),
                         *(str(int(x)) for x in items)])
    return pd.DataFrame(rows, columns=VISIT_COLUMNS)


def _events_frame(patients, events: list[dict]) -> pd.DataFrame:
    order = {p.usubjid: p.index for p in patients}
    events = sorted(events, key=lambda e: (order[e["USUBJID"]], e["AESTDT"], e["AESER"], e["AEDECOD"]))
    rows, seq = [], {}
    for e in events:
        seq[e["USUBJID"]] = seq.get(e["USUBJID"], 0) + 1
        rows.append([e["USUBJID"], str(seq[e["USUBJID"]]), e["AETERM"], e["AEDECOD"], e["AESER"],
                     _date(e["AESTDT"]), _date(e["AEENDT"])])
    return pd.DataFrame(rows, columns=AE_COLUMNS)


def _medications_frame(patients, intervals: list[dict]) -> pd.DataFrame:
    order = {p.usubjid: p.index for p in patients}
    intervals = sorted(intervals, key=lambda r: (order[r["USUBJID"]], CM_ORDER[r["CMCLASS"]], r["CMSTDT"],
                                                 r["CMDECOD"]))
    rows = [[r["USUBJID"], r["CMCLASS"], r["CMDECOD"], _date(r["CMSTDT"]), _date(r["CMENDT"])] for r in intervals]
    return pd.DataFrame(rows, columns=CM_COLUMNS)


def _responses(patients, bl, visits) -> dict[int, dict[int, dict]]:
    """ACR level and DAS28 category of every post-baseline visit (analysis definitions)."""
    keys = [(p.index, m) for p in patients for m in p.months[1:]]
    rows = np.array([i for i, _m in keys])
    comps = {k: np.array([visits[i][m][k] for i, m in keys]) for k in COMPONENTS}
    base, cur = acr_inputs(bl, rows, comps)
    levels = acr_level(base, cur)
    cats = category(das28(comps["tjc28"], comps["sjc28"], comps["esr"], comps["ptga"]))
    out: dict[int, dict[int, dict]] = {p.index: {} for p in patients}
    for (i, m), level, cat in zip(keys, levels, cats):
        out[i][m] = {"acr": int(level), "cat": int(cat)}
    return out


def generate_cohort(seed: int = DEFAULT_SEED, targets: Targets | None = None,
                    assumptions: Assumptions | None = None) -> Cohort:
    """Generate the whole cohort for ``seed`` and ``assumptions`` (deterministic).

    ``assumptions`` defaults to :class:`~analysis.synthetic.assumptions.Assumptions`'s defaults,
    those of the shipped cohort."""
    targets = Targets() if targets is None else targets
    assumptions = Assumptions() if assumptions is None else assumptions
    rng = np.random.default_rng(seed)
    patients = build_patients(rng, targets)
    bl, unreachable = build_baseline(rng, patients, targets)
    visits = build_visits(rng, patients, bl, targets, assumptions)
    meds = build_medications(rng, patients, bl, _responses(patients, bl, visits), targets)
    events = build_adverse_events(rng, patients, targets, assumptions)
    return Cohort(seed=seed, assumptions=assumptions, subjects=_subjects_frame(patients, bl), visits=_visits_frame(patients, bl, visits),
                  adverse_events=_events_frame(patients, events),
                  medications=_medications_frame(patients, meds),
                  unreachable=dict(sorted(unreachable.items())))


def write_tables(cohort: Cohort, directory: Path) -> dict[str, Path]:
    """Write the four CSV files (UTF-8, ``\\n`` line ends, RFC 4180 quoting)."""
    directory.mkdir(parents=True, exist_ok=True)
    out = {}
    for name, frame in cohort.frames().items():
        path = directory / name
        frame.to_csv(path, index=False, lineterminator="\n", encoding="utf-8")
        out[name] = path
    return out


@dataclass
class CheckResult:
    """Outcome of :func:`check_cohort`."""

    matched: int
    total: int
    #: documented published values (the registry says why no dataset can print them)
    documented: int
    #: key -> (published, reproduced) for every value that is a mismatch or missing.
    failures: dict[str, tuple[str, str]]

    @property
    def ok(self) -> bool:
        return not self.failures


def check_results(results: pd.DataFrame, published: pd.DataFrame | None = None) -> CheckResult:
    """Compare a results registry (:func:`analysis.tables.compute_results`) with the published one.

    A value the generator cannot print (``Cohort.unreachable``) passes only when the
    published registry documents it, so such a finding cannot slip through unrecorded.
    """
    reproduction = build_reproduction(load_published() if published is None else published, results)
    bad = reproduction[reproduction["status"].isin(["mismatch", "missing"])]
    failures = {r.key: (r.published, r.reproduced) for r in bad.itertuples()}
    return CheckResult(matched=int((reproduction["status"] == "match").sum()), total=len(reproduction),
                       documented=int((reproduction["status"] == "documented").sum()), failures=failures)


def check_cohort(directory: Path) -> CheckResult:
    """Load ``directory`` through the data contract and compare every published value."""
    return check_results(compute_results(load_dataset(directory)))
