"""Session fixture of the submission tests: the Word, JATS and bundle outputs of a dataset,
written the way `make docx`, `make jats` and `make submission` write them
(``python -m analysis.submission docx|jats|bundle``) in the session's PDF build of that dataset
(``pdf_built``, tests/conftest.py), so that they come from the very HTML and PDFs the other
suites test."""
from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
from book_build_support import commit_epoch

_OUTPUTS: dict[str, Submission] = {}


@dataclass
class Submission:
    """The outputs of one build: its root, the PDF build, the command outputs."""

    root: Path
    pdf: object
    output: str

    @property
    def build(self) -> Path:
        return self.root / "_build"


def write_outputs(root: Path) -> str:
    """Run ``python -m analysis.submission docx``, ``jats`` and ``bundle`` in ``root`` (as the
    Makefile does, with the commit's date); return their output, failing on an error."""
    env = {**os.environ, "SOURCE_DATE_EPOCH": commit_epoch(), "PYTHONHASHSEED": "0"}
    out = []
    for what in ("docx", "jats", "bundle"):
        proc = subprocess.run([sys.executable, "-m", "analysis.submission", what], cwd=root, env=env,
                              capture_output=True, text=True, timeout=600, check=False)
        assert proc.returncode == 0, proc.stdout + proc.stderr
        out.append(proc.stdout)
    return "".join(out)


@pytest.fixture(scope="session")
def submission_built(pdf_built):
    """``submission_built(data_dir)`` -> the session's submission outputs on that dataset."""

    def get(data_dir: str) -> Submission:
        if data_dir not in _OUTPUTS:
            pdf = pdf_built(data_dir)
            _OUTPUTS[data_dir] = Submission(pdf.root, pdf, write_outputs(pdf.root))
        return _OUTPUTS[data_dir]

    return get
