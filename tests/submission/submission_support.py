"""Helpers of the submission tests: write the Word, JATS and bundle outputs in a built tree."""
from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from book_build_support import commit_epoch


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
