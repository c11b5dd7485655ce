"""What a failed build raises, and the log callback the build steps take."""
from __future__ import annotations

from typing import Callable

Log = Callable[[str], None]


class BuildError(RuntimeError):
    """The book cannot be built; the message says why (and is shown as is)."""


class NotebookRunError(BuildError):
    """A notebook of the run plan failed: names the run, the notebook, the cell and the error."""
