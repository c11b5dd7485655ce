"""The derived analysis dataset, built once per dataset and shared by every table.

An ADaM-style pipeline derives its analysis datasets once (per-visit endpoints, per-patient
exposure and populations) and every table reads them. Here the statistics modules ask for a
derivation with the dataset they were given; :func:`derive_once_per_dataset` makes the first
request compute it and every later request with the same dataset object (and the same
arguments) reuse it, so :func:`analysis.tables.compute_results` derives the endpoints of the
visits once instead of once per table.

The shared result is a :class:`pandas.DataFrame` that callers must treat as read-only (select,
merge or copy it; never assign into it). A test compares every registry value computed with
and without reuse (``tests/unit/test_derive_once.py``), which catches a caller that writes
into a shared frame.

Reuse is keyed on the dataset *object* (a validated :class:`analysis.contract.Dataset` is
immutable), held through a weak reference: a dataset that is no longer used frees its
derivations. Objects that cannot be weakly referenced (a ``SimpleNamespace`` built in a test)
are derived every time.
"""
from __future__ import annotations

import functools
import weakref
from contextlib import contextmanager

import numpy as np
import pandas as pd

from analysis.endpoints import derive_efficacy_endpoints

#: dataset -> {(function, arguments): result}
_CACHE: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
_ENABLED = [True]


def derive_once_per_dataset(function):
    """Decorator: ``function(dataset, *args)`` is computed once per dataset object and
    arguments, then reused (see the module notes).

    Examples
    --------
    >>> calls = []
    >>> @derive_once_per_dataset
    ... def derive_double(dataset, factor=2):
    ...     calls.append(factor)
    ...     return dataset.value * factor
    >>> class Data:
    ...     value = 21
    >>> data = Data()
    >>> derive_double(data), derive_double(data), derive_double(data, 3), calls
    (42, 42, 63, [2, 3])
    """
    @functools.wraps(function)
    def wrapper(dataset, *args, **kwargs):
        if not _ENABLED[0]:
            return function(dataset, *args, **kwargs)
        try:
            store = _CACHE.setdefault(dataset, {})
        except TypeError:  # not weakly referenceable: nothing to key the reuse on
            return function(dataset, *args, **kwargs)
        key = (function.__module__, function.__qualname__, args, tuple(sorted(kwargs.items())))
        if key not in store:
            store[key] = function(dataset, *args, **kwargs)
        return store[key]

    return wrapper


def clear_cache() -> None:
    """Forget every derivation and switch reuse back on: a notebook kernel that executes
    another run calls this (:func:`analysis.kernelstate.restore`), so nothing of the previous
    run's datasets survives, even one a lingering reference keeps alive.

    Examples
    --------
    >>> clear_cache()
    >>> len(_CACHE), _ENABLED[0]
    (0, True)
    """
    _CACHE.clear()
    _ENABLED[0] = True


@contextmanager
def derivations_not_reused():
    """Within this block every derivation is recomputed at each request (the behaviour
    before reuse), to check that reuse changes no result."""
    _ENABLED[0] = False
    try:
        yield
    finally:
        _ENABLED[0] = True


@derive_once_per_dataset
def derive_visit_endpoints(dataset) -> pd.DataFrame:
    """Every efficacy endpoint of every visit (:func:`analysis.endpoints.derive_efficacy_endpoints`
    of ``dataset.visits``), derived once per dataset; read-only."""
    return derive_efficacy_endpoints(dataset.visits)


@derive_once_per_dataset
def derive_visit_subject_rows(dataset) -> np.ndarray | None:
    """For each row of ``dataset.visits`` (the rows of :func:`derive_visit_endpoints` too), the
    row of its patient in ``dataset.subjects`` (-1: none), derived once per dataset: the
    integer patient number that :func:`analysis.populations.merge_subject_arm` looks up
    instead of hashing the text ids of every visit again for each table. ``None`` when
    ``dataset.subjects`` is not numbered 0, 1, ... or lists a patient twice (then the ids are
    matched as text). Read-only.

    Examples
    --------
    >>> from types import SimpleNamespace
    >>> ds = SimpleNamespace(subjects=pd.DataFrame({"USUBJID": ["a", "b"]}),
    ...                      visits=pd.DataFrame({"USUBJID": ["b", "a", "c", "b"]}))
    >>> derive_visit_subject_rows(ds).tolist()
    [1, 0, -1, 1]
    """
    patients = pd.Index(dataset.subjects["USUBJID"])
    if not patients.is_unique or not dataset.subjects.index.equals(pd.RangeIndex(len(patients))):
        return None
    return patients.get_indexer(dataset.visits["USUBJID"])
