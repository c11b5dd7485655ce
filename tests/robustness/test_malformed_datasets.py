"""Malformed datasets stop ``make verify`` and ``make book`` before any analysis.

Each case copies the minimal test dataset, breaks one thing (in code, here) and states by hand
the report line(s) the contract must print: the file, the column, the CSV line and the rule.
Both commands are run, as a user would, in the repository copy of the session that already
holds a valid build (``built_copy``), and each must

1. exit non-zero, with ``invalid dataset`` and every expected report line in its output;
2. do it before any notebook is planned or run (no runner plan line, no papermill or
   myst-nb execution line);
3. leave the published book as it was: ``_build/html``, ``book/generated``, the registry
   (``_build/results``) and the run cache byte for byte.

``make verify`` and ``make book`` of one case run at the same time (both only read the copy
when the dataset is invalid), which halves the wall time of the suite.
"""
from __future__ import annotations

import shutil
import time
from dataclasses import dataclass
from typing import Callable

import pytest
from robustness_support import EXECUTION_MARKERS, BadDataset, digest_tree, finish_make, published_state, start_make

from analysis.paths import TEST_DATASET

pytestmark = pytest.mark.slow

IDENTIFIER_RULE = ("no direct identifiers: remove this column (names, birth dates, contact details and ID "
                   "numbers must not be in the dataset)")


@dataclass(frozen=True)
class Case:
    """A way to break a dataset: ``breaks`` edits the copy and returns the expected report lines."""

    id: str
    breaks: Callable[[BadDataset], list[str]]


def _missing_file(d):
    d.path("medications.csv").unlink()
    return ["medications.csv: file is missing"]


def _missing_directory(d):
    shutil.rmtree(d.directory)
    return [f"{d.directory}: dataset directory does not exist"]


def _empty_file(d):
    d.path("adverse_events.csv").write_bytes(b"")
    return ["adverse_events.csv, line 1: file is empty: it needs a header row"]


def _no_subject_rows(d):
    d.write_rows("subjects.csv", d.rows("subjects.csv")[:1])
    return ["subjects.csv: must have at least one data row"]


def _missing_column(d):
    d.drop_column("visits.csv", "ESR")
    return ["visits.csv: column ESR, line 1: required column is missing"]


def _misspelt_column(d):
    d.rename_column("subjects.csv", "AGE", "Age")
    return ["subjects.csv: column AGE, line 1: required column is missing (found 'Age'; names are exact)"]


def _duplicate_column(d):
    d.add_column("subjects.csv", "SEX", "F")
    return ["subjects.csv: column SEX, line 1: column names must be unique"]


def _text_in_integer_column(d):
    line = d.line_of("subjects.csv", USUBJID="RA-003")
    d.set("subjects.csv", line, "AGE", "forty")
    return [f"subjects.csv: column AGE, line {line}: must be an integer (got 'forty')"]


def _na_text_in_number_column(d):
    line = d.line_of("visits.csv", USUBJID="RA-002", AVISITN="36")
    d.set("visits.csv", line, "ESR", "NA")
    return [f"visits.csv: column ESR, line {line}: must be a number (got 'NA')"]


def _non_iso_date(d):
    line = d.line_of("subjects.csv", USUBJID="RA-004")
    d.set("subjects.csv", line, "TRTSDT", "21/08/2017")
    return [f"subjects.csv: column TRTSDT, line {line}: must be a date YYYY-MM-DD (got '21/08/2017')"]


def _joint_count_out_of_range(d):
    line = d.line_of("visits.csv", USUBJID="RA-003", AVISITN="6")
    d.set("visits.csv", line, "SJC28", "29")
    return [f"visits.csv: column SJC28, line {line}: must be between 0 and 28 (got 29)"]


def _tjc28_above_tjc68(d):
    line = d.line_of("visits.csv", USUBJID="RA-005", AVISITN="3")
    d.set("visits.csv", line, "TJC28", "9")  # TJC68 is 8
    return [f"visits.csv: column TJC28, line {line}: must be <= TJC68 (got TJC28 9, TJC68 8)"]


def _esr_zero(d):
    line = d.line_of("visits.csv", USUBJID="RA-001", AVISITN="0")
    d.set("visits.csv", line, "ESR", "0")
    return [f"visits.csv: column ESR, line {line}: must be > 0 (got 0)"]


def _haq_score_4(d):
    line = d.line_of("visits.csv", USUBJID="RA-006", AVISITN="0")
    d.set("visits.csv", line, "HAQWALK", "4")
    return [f"visits.csv: column HAQWALK, line {line}: must be between 0 and 3 (got 4)"]


def _age_under_18(d):
    line = d.line_of("subjects.csv", USUBJID="RA-007")
    d.set("subjects.csv", line, "AGE", "17")
    return [f"subjects.csv: column AGE, line {line}: must be between 18 and 100 (got 17)"]


def _flag_not_y_or_n(d):
    line = d.line_of("subjects.csv", USUBJID="RA-002")
    d.set("subjects.csv", line, "RFFL", "yes")
    return [f"subjects.csv: column RFFL, line {line}: must be one of Y, N (got 'yes')"]


def _duplicate_usubjid(d):
    new = d.copy_row("subjects.csv", 2)
    return [f"subjects.csv: column USUBJID, lines 2, {new}: must be unique (got 'RA-001', 'RA-001')"]


def _duplicate_visit(d):
    line = d.line_of("visits.csv", USUBJID="RA-004", AVISITN="12")
    new = d.copy_row("visits.csv", line)
    return [f"visits.csv: column AVISITN, lines {line}, {new}: must be unique per USUBJID "
            f"(got USUBJID RA-004, AVISITN 12; USUBJID RA-004, AVISITN 12)"]


def _unknown_arm(d):
    line = d.line_of("subjects.csv", USUBJID="RA-005")
    d.set("subjects.csv", line, "ARM", "MSC+IFN")
    return [f"subjects.csv: column ARM, line {line}: must be one of MSC, MSC+IFNG (got 'MSC+IFN')"]


def _discontinued_without_reason(d):
    line = d.line_of("subjects.csv", USUBJID="RA-003")
    d.set("subjects.csv", line, "DCSREAS", "")
    return [f"subjects.csv: column DCSREAS, line {line}: must not be empty when EOSSTT is DISCONTINUED"]


def _end_of_study_before_start(d):
    line = d.line_of("subjects.csv", USUBJID="RA-008")
    d.set("subjects.csv", line, "EOSDT", "2017-12-31")  # TRTSDT 2018-01-15
    return [f"subjects.csv: column EOSDT, line {line}: must be on or after TRTSDT"]


def _ae_end_before_start(d):
    line = d.line_of("adverse_events.csv", USUBJID="RA-002", AESEQ="1")
    d.set("adverse_events.csv", line, "AEENDT", "2016-11-01")  # AESTDT 2016-11-10
    return [f"adverse_events.csv: column AEENDT, line {line}: must be on or after AESTDT"]


def _medication_end_before_start(d):
    line = d.line_of("medications.csv", USUBJID="RA-004", CMCLASS="bDMARD")
    d.set("medications.csv", line, "CMENDT", "2015-01-01")  # CMSTDT 2016-02-01
    return [f"medications.csv: column CMENDT, line {line}: must be on or after CMSTDT"]


def _event_after_end_of_study(d):
    line = d.line_of("adverse_events.csv", USUBJID="RA-003", AESEQ="1")
    d.set("adverse_events.csv", line, "AESTDT", "2018-02-01")  # EOSDT 2018-01-08
    d.set("adverse_events.csv", line, "AEENDT", "")
    return [f"adverse_events.csv: column AESTDT, line {line}: must be on or before EOSDT"]


def _event_before_transplantation(d):
    line = d.line_of("adverse_events.csv", USUBJID="RA-005", AESEQ="1")
    d.set("adverse_events.csv", line, "AESTDT", "2017-05-30")  # TRTSDT 2017-06-05
    return [f"adverse_events.csv: column AESTDT, line {line}: must be on or after TRTSDT"]


def _visit_before_transplantation(d):
    line = d.line_of("visits.csv", USUBJID="RA-005", AVISITN="1")
    d.set("visits.csv", line, "ADT", "2017-06-01")  # TRTSDT 2017-06-05
    return [f"visits.csv: column ADT, line {line}: post-baseline visit (AVISITN > 0) must be after TRTSDT "
            f"(got ADT 2017-06-01, TRTSDT 2017-06-05)"]


def _visit_after_end_of_study(d):
    line = d.line_of("visits.csv", USUBJID="RA-001", AVISITN="60")
    d.set("visits.csv", line, "ADT", "2023-04-01")  # EOSDT 2023-03-13
    return [f"visits.csv: column ADT, line {line}: must be on or before EOSDT"]


def _no_baseline_visit(d):
    subject_line = d.line_of("subjects.csv", USUBJID="RA-003")
    d.delete_line("visits.csv", d.line_of("visits.csv", USUBJID="RA-003", AVISITN="0"))
    return [f"subjects.csv: column USUBJID, line {subject_line}: must have a baseline visit"]


def _unknown_usubjid_in_events(d):
    line = d.copy_row("adverse_events.csv", 2, USUBJID="RA-999")
    return [f"adverse_events.csv: column USUBJID, line {line}: must exist in subjects.csv (referential integrity) "
            f"(got 'RA-999')"]


def _unknown_usubjid_in_visits(d):
    line = d.copy_row("visits.csv", 2, USUBJID="RA-998")
    return [f"visits.csv: column USUBJID, line {line}: must exist in subjects.csv (referential integrity) "
            f"(got 'RA-998')"]


def _non_utf8_bytes(d):
    path = d.path("adverse_events.csv")
    raw = path.read_bytes()
    offset = raw.index(b"fever, after infusion") + 1
    path.write_bytes(raw.replace(b"fever, after infusion", "fièvre, after infusion".encode("latin-1")))
    line = raw[:offset].count(b"\n") + 1
    return [f"adverse_events.csv: column AETERM, line {line}: file must be valid UTF-8: byte 0xe8 at byte offset "
            f"{offset + 1} is not (re-save the file as UTF-8)"]


def _ragged_row(d):
    path = d.path("visits.csv")
    lines = path.read_text(encoding="utf-8").split("\n")
    lines[4] += ",99"
    path.write_text("\n".join(lines), encoding="utf-8")
    return ["visits.csv, line 5: every row must have as many fields as the header (20) (got 21 fields)"]


def _unbalanced_quote(d):
    path = d.path("medications.csv")
    lines = path.read_text(encoding="utf-8").split("\n")
    lines[2] = lines[2].replace("Etanercept", '"Etanercept')  # line 3
    path.write_text("\n".join(lines), encoding="utf-8")
    return ['medications.csv, line 3: unbalanced quotes: a quote (") opened here is never closed']


def _identifier_name(d):
    d.add_column("subjects.csv", "NAME", "Jane Doe")
    return [f"subjects.csv: column NAME, line 1: {IDENTIFIER_RULE}"]


def _identifier_birth_date_lower_case(d):
    d.add_column("subjects.csv", "dob", "1970-01-01")
    return [f"subjects.csv: column dob, line 1: {IDENTIFIER_RULE}"]


def _identifier_email_in_events(d):
    d.add_column("adverse_events.csv", "Email", "someone@example.org")
    return [f"adverse_events.csv: column Email, line 1: {IDENTIFIER_RULE}"]


CASES = [Case(fn.__name__.removeprefix("_"), fn) for fn in (
    _missing_file, _missing_directory, _empty_file, _no_subject_rows, _missing_column, _misspelt_column,
    _duplicate_column, _text_in_integer_column, _na_text_in_number_column, _non_iso_date,
    _joint_count_out_of_range, _tjc28_above_tjc68, _esr_zero, _haq_score_4, _age_under_18, _flag_not_y_or_n,
    _duplicate_usubjid, _duplicate_visit, _unknown_arm, _discontinued_without_reason,
    _end_of_study_before_start, _ae_end_before_start, _medication_end_before_start,
    _event_after_end_of_study, _event_before_transplantation, _visit_before_transplantation,
    _visit_after_end_of_study, _no_baseline_visit, _unknown_usubjid_in_events, _unknown_usubjid_in_visits,
    _non_utf8_bytes, _ragged_row, _unbalanced_quote, _identifier_name, _identifier_birth_date_lower_case,
    _identifier_email_in_events,
)]


def test_the_suite_has_at_least_twenty_cases():
    assert len(CASES) >= 20 and len({c.id for c in CASES}) == len(CASES)


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_malformed_dataset_stops_verify_and_book_and_leaves_the_book(case, built_copy, tmp_path):
    bad = tmp_path / "dataset"
    shutil.copytree(TEST_DATASET, bad, ignore=shutil.ignore_patterns("README.md"))
    expected = case.breaks(BadDataset(bad))
    cache_before = digest_tree(built_copy.root / "_build" / "book-runs")

    start = time.perf_counter()
    jobs = {t: start_make(built_copy.root, t, bad) for t in ("verify", "book")}
    results = {t: finish_make(t, job) for t, job in jobs.items()}
    wall = time.perf_counter() - start

    for target, result in results.items():
        context = f"make {target} on {case.id}:\n{result.output[-4000:]}"
        assert result.returncode != 0, context
        assert f"invalid dataset {bad}" in result.output, context
        for line in expected:
            assert line in result.output, f"missing report line {line!r}\n{context}"
        assert not [m for m in EXECUTION_MARKERS if m in result.output], context
    # `make verify` exits 2 for an invalid dataset (1 would mean it computed and compared).
    assert "Error 2" in results["verify"].output
    assert published_state(built_copy.root) == built_copy.state, "a failed build changed the published book"
    assert digest_tree(built_copy.root / "_build" / "book-runs") == cache_before
    print(f"{case.id}: verify {results['verify'].seconds:.1f} s, book {results['book'].seconds:.1f} s, "
          f"both {wall:.1f} s")
