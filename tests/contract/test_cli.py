"""``python -m analysis validate``: exit 0 and a summary on a valid dataset, exit 2 and the
report on stderr otherwise."""
from __future__ import annotations

import os
import subprocess
import sys

from analysis.paths import DATA_DIR_ENV, ROOT, TEST_DATASET


def _run(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    environment = {k: v for k, v in os.environ.items() if k != DATA_DIR_ENV}
    environment.update(env or {})
    return subprocess.run([sys.executable, "-m", "analysis", *args], cwd=ROOT, env=environment,
                          capture_output=True, text=True, timeout=120)


def test_validate_minimal_exits_0():
    result = _run("validate", "tests/data/minimal")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == (
        f"valid: {TEST_DATASET} (8 subjects, 42 visits, 19 adverse events, "
        "22 medication intervals)")


def test_validate_uses_the_environment_variable():
    result = _run("validate", env={DATA_DIR_ENV: "tests/data/minimal"})
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith(f"valid: {TEST_DATASET} ")


def test_validate_invalid_exits_2_with_report(dataset):
    line = dataset.line_of("visits.csv", USUBJID="RA-001", AVISITN="3")
    dataset.set("visits.csv", line, "ESR", "0")
    result = _run("validate", str(dataset.directory))
    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr.splitlines() == [
        f"invalid dataset {dataset.directory}:",
        f"visits.csv: column ESR, line {line}: must be > 0 (got 0)",
    ]


def test_validate_missing_directory_exits_2(tmp_path):
    result = _run("validate", str(tmp_path / "nowhere"))
    assert result.returncode == 2
    assert "dataset directory does not exist" in result.stderr
    assert str(tmp_path / "nowhere") in result.stderr


def test_no_command_is_a_usage_error():
    result = _run()
    assert result.returncode == 2
    assert "validate" in result.stderr or "COMMAND" in result.stderr
