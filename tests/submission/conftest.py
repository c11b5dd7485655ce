"""Session fixture of the submission tests: the Word, JATS and bundle outputs of a dataset,
written the way `make docx`, `make jats` and `make submission` write them
(``python -m analysis.submission docx|jats|bundle``) in the session's PDF build of that dataset
(``pdf_built``, tests/conftest.py), so that they come from the very HTML and PDFs the other
suites test."""
from __future__ import annotations

import pytest
from submission_support import Submission, write_outputs

_OUTPUTS: dict[str, Submission] = {}


@pytest.fixture(scope="session")
def submission_built(pdf_built):
    """``submission_built(data_dir)`` -> the session's submission outputs on that dataset."""

    def get(data_dir: str) -> Submission:
        if data_dir not in _OUTPUTS:
            pdf = pdf_built(data_dir)
            _OUTPUTS[data_dir] = Submission(pdf.root, pdf, write_outputs(pdf.root))
        return _OUTPUTS[data_dir]

    return get
