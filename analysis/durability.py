"""Durability of response: Kaplan-Meier analysis of how long a response lasts (Fig. 2A-E).

The paper assessed "the duration" of DAS28 remission, DAS28 low disease activity and
ACR20/50/70 responses with Kaplan-Meier analysis without defining it. The definition used
here:

* **Responders**: patients of the population with the response at one post-baseline visit
  at least (``AVISITN > 0``). Patients who never respond have no duration and are not in
  the analysis (each arm's curve starts at its number of responders).
* **Time origin**: the date (``ADT``) of the first visit with the response.
* **Event (loss of response)**: the first later visit at which the response is assessed
  and *not* met. One non-responding visit is enough; a later regain does not undo it.
* **Censoring**: a responder who never loses the response is censored at the date of the
  last visit at which the response could be assessed (so a patient who responds only at
  the last assessment contributes a duration of 0, censored).
* Visits where the response is not evaluable (a missing component) are skipped: they
  neither continue nor end a response.
* **Time scale**: months of 365.25/12 days from the first response.

The result is an ADTTE-like table (CDISC time-to-event names: ``PARAMCD``, ``STARTDT``,
``ADT``, ``AVAL``, ``CNSR`` with 1 = censored, 0 = event). Curves are lifelines'
``KaplanMeierFitter`` (product-limit estimator, Kaplan & Meier 1958); its median is the
smallest time at which the survival function is <= 0.5 (``inf`` when the curve never gets
there, printed "not reached"). Arms are compared with lifelines' two-sided log-rank test.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from analysis import efficacy
from analysis.derived import derive_visit_endpoints, derive_visit_subject_rows
from analysis.populations import ARM_LABELS, ARMS, DAYS_PER_YEAR, filter_population, merge_subject_arm, sort_by_patient
from analysis.results import make_result

#: Responses of Fig. 2A-E in panel order: endpoint id -> column of the derived visits table.
DURABILITY_ENDPOINTS: dict[str, str] = {
    "das28_remission": "REMISSION",
    "das28_lda": "LDA",
    "acr70": "ACR70",
    "acr50": "ACR50",
    "acr20": "ACR20",
}
#: Readable names of the responses, for figures and tables.
ENDPOINT_LABELS: dict[str, str] = {
    "das28_remission": "DAS28 remission (DAS28-ESR < 2.6)",
    "das28_lda": "DAS28 low disease activity (DAS28-ESR ≤ 3.2)",
    "acr70": "ACR70",
    "acr50": "ACR50",
    "acr20": "ACR20",
}
#: Days per month of the time scale.
DAYS_PER_MONTH = DAYS_PER_YEAR / 12
#: Months after the first response at which the share still responding is reported.
HORIZONS_MONTHS: tuple[int, ...] = (12, 24, 48)


def derive_response_durations(visits: pd.DataFrame, subjects: pd.DataFrame, endpoint: str) -> pd.DataFrame:
    """One row per responder: the time from first response to loss of response, or to censoring.

    Parameters
    ----------
    visits : DataFrame
        Derived visits (:func:`analysis.endpoints.derive_efficacy_endpoints`): ``USUBJID``,
        ``AVISITN``, ``ADT`` and the response column of ``endpoint``.
    subjects : DataFrame
        Patients of the analysis population (``USUBJID``, ``ARM``); other visits are ignored.
    endpoint : str
        A key of :data:`DURABILITY_ENDPOINTS`.

    Returns
    -------
    DataFrame
        ``USUBJID``, ``ARM``, ``PARAMCD`` (the endpoint id), ``STARTDT`` (first response),
        ``ADT`` (loss of response, or last evaluable visit), ``AVAL`` (months),
        ``CNSR`` (1 censored, 0 loss of response); sorted by ``USUBJID``.

    Examples
    --------
    Patient a responds at months 3 and 6 and loses the response at 12 (275 days later:
    275 / 30.4375 = 9.03 months); b responds at 12 and is censored at 36 (month 24 is not
    evaluable); c never responds:

    >>> d = pd.to_datetime
    >>> v = pd.DataFrame({"USUBJID": ["a"] * 4 + ["b"] * 4 + ["c"] * 2,
    ...                   "AVISITN": [0, 3, 6, 12, 0, 12, 24, 36, 0, 12],
    ...                   "ADT": d(["2017-01-01", "2017-04-01", "2017-07-01", "2018-01-01",
    ...                             "2017-01-01", "2018-01-01", "2019-01-01", "2020-01-01",
    ...                             "2017-01-01", "2018-01-01"]),
    ...                   "ACR20": pd.array([None, True, True, False, None, True, None, True,
    ...                                      None, False], dtype="boolean")})
    >>> s = pd.DataFrame({"USUBJID": ["a", "b", "c"], "ARM": ["MSC", "MSC+IFNG", "MSC"]})
    >>> derive_response_durations(v, s, "acr20")[["USUBJID", "AVAL", "CNSR"]].round(2)
      USUBJID   AVAL  CNSR
    0       a   9.03     0
    1       b  23.98     1
    """
    column = DURABILITY_ENDPOINTS[endpoint]
    return _durations_from_visits(_post_baseline_visits(visits, subjects, [column]), endpoint)


def _post_baseline_visits(visits: pd.DataFrame, subjects: pd.DataFrame, columns: list[str],
                          subject_rows: np.ndarray | None = None) -> pd.DataFrame:
    """Post-baseline visits of the patients of ``subjects`` (with their ``ARM``), sorted by
    patient and date (stable): what every endpoint's durations start from. ``subject_rows``:
    each visit's patient row, as :func:`analysis.populations.merge_subject_arm` takes it."""
    later = (visits["AVISITN"] > 0).to_numpy(dtype=bool, na_value=False)
    post = visits.loc[later, ["USUBJID", "AVISITN", "ADT", *columns]]
    post = merge_subject_arm(post, subjects, None if subject_rows is None else subject_rows[later])
    post = sort_by_patient(post, "ADT")
    # Patients numbered in that order (a new number where USUBJID changes): grouping by the
    # number gives USUBJID's groups in the same order without hashing the ids again for every
    # endpoint and every grouping.
    ids = post["USUBJID"].to_numpy()
    new_patient = np.ones(len(ids), dtype=bool)
    new_patient[1:] = ids[1:] != ids[:-1]
    post["PATIENT"] = np.cumsum(new_patient)
    return post


def _dates_per_patient(patient: np.ndarray, dates: np.ndarray, rows: np.ndarray, n_patients: int,
                       last: bool = False) -> np.ndarray:
    """Per patient number (0 .. ``n_patients`` - 1), the first (``last``: the last) date that is
    not NaT among ``rows`` (a mask), else NaT: ``groupby(patient).first()`` (``.last()``) of
    those rows, for ``patient`` numbers in non-decreasing order (rows of a patient together).

    Examples
    --------
    >>> d = np.array(["2020-01-01", "NaT", "2020-03-01", "2020-04-01"], dtype="datetime64[ns]")
    >>> p, rows = np.array([0, 0, 0, 2]), np.array([False, True, True, True])
    >>> _dates_per_patient(p, d, rows, 3).astype("datetime64[D]").tolist()
    [datetime.date(2020, 3, 1), None, datetime.date(2020, 4, 1)]
    """
    out = np.full(n_patients, np.datetime64("NaT"), dtype=dates.dtype)
    kept = np.flatnonzero(rows & ~np.isnat(dates))
    owner = patient[kept]
    edge = np.ones(len(kept), dtype=bool)  # a patient's first kept row (last: its last)
    if last:
        edge[:-1] = owner[1:] != owner[:-1]
    else:
        edge[1:] = owner[1:] != owner[:-1]
    out[owner[edge]] = dates[kept[edge]]
    return out


def _durations_from_visits(post: pd.DataFrame, endpoint: str) -> pd.DataFrame:
    """:func:`derive_response_durations` from :func:`_post_baseline_visits`' table. Dropping
    the visits where the response is not evaluable keeps the sorted order (the sort is stable),
    so one sorted table serves every endpoint.

    The rows of a patient are together and ``PATIENT`` numbers them in order, so the per-patient
    steps are array operations on those runs (the same values as grouping by ``PATIENT``):
    "responded so far" is a running maximum of the last responding row, compared with the
    patient's first row; start, loss and last date are the first or last date of each run."""
    column = DURABILITY_ENDPOINTS[endpoint]
    evaluable = post[column].notna().to_numpy()
    patient = post["PATIENT"].to_numpy()[evaluable] - 1  # 0, 1, ...
    adt = post["ADT"].to_numpy()[evaluable]
    flag = post[column].to_numpy(dtype=bool, na_value=False)[evaluable]
    new_patient = np.ones(len(patient), dtype=bool)
    new_patient[1:] = patient[1:] != patient[:-1]
    first_of_run = np.flatnonzero(new_patient)[np.cumsum(new_patient) - 1]
    last_response = np.maximum.accumulate(np.where(flag, np.arange(len(flag)), -1))
    responded = last_response >= first_of_run  # a response at or before this visit
    n_patients = int(post["PATIENT"].max()) if len(post) else 0
    responders = np.unique(patient[flag])
    out = pd.DataFrame({
        "STARTDT": _dates_per_patient(patient, adt, flag, n_patients)[responders],
        "LOSSDT": _dates_per_patient(patient, adt, responded & ~flag, n_patients)[responders],
        "LASTDT": _dates_per_patient(patient, adt, responded, n_patients, last=True)[responders]})
    # Patient k's id and arm from its first row in ``post``.
    first_row = np.flatnonzero(np.diff(post["PATIENT"].to_numpy(), prepend=0))[responders]
    out["ARM"] = post["ARM"].array.take(first_row)
    out.index = post["USUBJID"].to_numpy()[first_row]
    out["CNSR"] = out["LOSSDT"].isna().astype(int)
    out["ADT"] = out["LOSSDT"].fillna(out["LASTDT"])
    out["AVAL"] = (out["ADT"] - out["STARTDT"]).dt.days / DAYS_PER_MONTH
    out["PARAMCD"] = endpoint
    out = out.reset_index(names="USUBJID")
    return out[["USUBJID", "ARM", "PARAMCD", "STARTDT", "ADT", "AVAL", "CNSR"]].sort_values(
        "USUBJID", kind="stable").reset_index(drop=True)


def derive_durability(dataset, population: str = "completers") -> pd.DataFrame:
    """Response durations of every endpoint of :data:`DURABILITY_ENDPOINTS`, stacked
    (one row per responder and endpoint), for the patients of ``population``."""
    subjects = filter_population(dataset.subjects, population)
    derived = derive_visit_endpoints(dataset)
    post = _post_baseline_visits(derived, subjects, list(DURABILITY_ENDPOINTS.values()),
                                 derive_visit_subject_rows(dataset))
    frames = [_durations_from_visits(post, endpoint) for endpoint in DURABILITY_ENDPOINTS]
    return pd.concat(frames, ignore_index=True)


def fit_durability(durations: pd.DataFrame) -> dict[str, "object"]:
    """Kaplan-Meier fit per arm of one endpoint's durations.

    Returns a dict ``ARM`` value -> fitted lifelines ``KaplanMeierFitter`` (label: the arm's
    readable name); an arm without responders has no entry.

    Examples
    --------
    >>> t = pd.DataFrame({"ARM": ["MSC"] * 3, "AVAL": [2.0, 4.0, 6.0], "CNSR": [0, 1, 0]})
    >>> km = fit_durability(t)["MSC"]
    >>> km.survival_function_.iloc[:, 0].round(3).tolist()
    [1.0, 0.667, 0.667, 0.0]
    >>> float(km.median_survival_time_)
    6.0
    """
    from lifelines import KaplanMeierFitter  # slow to import; only the fits need it

    fits = {}
    for arm in ARMS:
        group = durations[durations["ARM"] == arm]
        if len(group):
            fits[arm] = KaplanMeierFitter(label=ARM_LABELS[arm]).fit(
                group["AVAL"].astype(float), event_observed=1 - group["CNSR"].astype(int))
    return fits


def compare_durability(durations: pd.DataFrame) -> efficacy.ComparisonResult:
    """Two-sided log-rank test of MSC+IFNG against MSC for one endpoint's durations.

    NaN when an arm has no responders or no arm has an event (nothing to compare).

    Examples
    --------
    >>> t = pd.DataFrame({"ARM": ["MSC"] * 4 + ["MSC+IFNG"] * 4,
    ...                   "AVAL": [1.0, 2, 3, 4, 10, 20, 30, 40], "CNSR": [0] * 8})
    >>> r = compare_durability(t)
    >>> round(r.statistic, 3), round(r.p_value, 4)
    (7.344, 0.0067)

    By hand: the four MSC losses happen with 8, 7, 6, 5 patients at risk (4, 3, 2, 1 of them
    MSC), so E = 4/8 + 3/7 + 2/6 + 1/5 = 1.462 and V = 0.25 + 0.245 + 0.222 + 0.16 = 0.877;
    chi-square = (4 - 1.462)^2 / 0.877 = 7.344 on 1 df.
    """
    from lifelines.statistics import logrank_test

    a, b = (durations[durations["ARM"] == arm] for arm in ARMS)
    if a.empty or b.empty or (durations["CNSR"] == 0).sum() == 0:
        return efficacy.ComparisonResult(float("nan"), float("nan"), "log-rank")
    result = logrank_test(a["AVAL"], b["AVAL"], event_observed_A=1 - a["CNSR"], event_observed_B=1 - b["CNSR"])
    return efficacy.ComparisonResult(float(result.test_statistic), float(result.p_value), "log-rank")


def summarise_durability(durations: pd.DataFrame) -> pd.DataFrame:
    """Per endpoint x arm: responders, losses, KM median (months) and the KM percentage
    still responding at :data:`HORIZONS_MONTHS`, with the log-rank p on both arm rows.

    Columns: ``endpoint``, ``arm`` (code), ``responders``, ``losses``, ``median_months``,
    ``month12``, ``month24``, ``month48`` (percentages; NaN past the last observed time or
    without responders), ``p_value``. ``median_months`` is ``inf`` when the curve never falls
    to 0.5; the registry stores that as ``median_reached = 0`` and a missing median, because
    the registry file holds finite numbers or empty cells only.
    """
    records = []
    for endpoint in DURABILITY_ENDPOINTS:
        data = durations[durations["PARAMCD"] == endpoint]
        fits = fit_durability(data)
        p = compare_durability(data).p_value
        for arm, code in ARMS.items():
            group = data[data["ARM"] == arm]
            record = {"endpoint": endpoint, "arm": code, "responders": len(group),
                      "losses": int((group["CNSR"] == 0).sum()), "median_months": np.nan, "p_value": p}
            km = fits.get(arm)
            for h in HORIZONS_MONTHS:
                inside = km is not None and h <= float(group["AVAL"].max())
                record[f"month{h}"] = 100 * float(km.predict(h)) if inside else np.nan
            if km is not None:
                record["median_months"] = float(km.median_survival_time_)
            records.append(record)
    return pd.DataFrame(records)


def registry_durability(dataset, population: str = "completers") -> list[dict]:
    """Registry rows of the durability analysis (artefact ``durability``)."""
    table = summarise_durability(derive_durability(dataset, population))
    rows = []
    for r in table.itertuples(index=False):
        base = f"durability.{r.endpoint}.{r.arm}"
        rows += [make_result(f"{base}.responders", r.responders, f"patients with >= 1 response ({population})"),
                 make_result(f"{base}.losses", r.losses, "responders who lost the response"),
                 make_result(f"{base}.median_reached", np.nan if r.responders == 0 else float(np.isfinite(r.median_months)),
                             "1 if the Kaplan-Meier curve reaches 0.5 (a median exists), 0 if not"),
                 make_result(f"{base}.median_months", r.median_months if np.isfinite(r.median_months) else np.nan,
                             "Kaplan-Meier median duration of response, months (NaN: not reached or no responders)")]
        rows += [make_result(f"{base}.month{h}.pct", getattr(r, f"month{h}"),
                             f"Kaplan-Meier % still responding {h} months after the first response")
                 for h in HORIZONS_MONTHS]
    for r in table.drop_duplicates("endpoint").itertuples(index=False):
        rows.append(make_result(f"durability.{r.endpoint}.followup.p", r.p_value, "log-rank, two-sided"))
    return rows
