"""The build's dataset: where it is, whether it is synthetic, what identifies its content."""
from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from analysis import paths
from analysis.build.errors import BuildError
from analysis.build.hashing import hash_file
from analysis.contract import FILES, DataContractError, load_dataset
from analysis.crosswalk import describe_dataset_files
from analysis.notebook import run_view


@dataclass(frozen=True)
class DatasetInfo:
    """The dataset a build uses: where it is, whether it is synthetic, what its files hold."""

    directory: Path
    label: str
    synthetic: bool
    reason: str
    files: dict[str, str]
    sizes: dict[str, int]
    #: Contract file -> digest of its table as a notebook run sees it (:func:`digest_run_views`);
    #: set by :func:`inspect_dataset`, empty for an unvalidated :func:`describe_dataset`.
    run_views: dict[str, str] = field(default_factory=dict)

    def input_digest(self, file: str) -> str:
        """What a run's cache key holds for contract table ``file``: the digest of the run's
        view of it when the dataset was validated, else the file's hash.

        Examples
        --------
        >>> info = DatasetInfo(Path("d"), "d", False, "", {"visits.csv": "f"}, {})
        >>> info.input_digest("visits.csv"), dataclasses.replace(info, run_views={"visits.csv": "v"}).input_digest("visits.csv")
        ('f', 'v')
        """
        return self.run_views[file] if self.run_views else self.files.get(file, "")

    @property
    def public_label(self) -> str:
        """How published pages name the dataset: :attr:`label` for a folder of the repository;
        for a folder outside it, only the folder's name (an absolute path can name a person, a
        hospital or a server, and says nothing about the data).

        Examples
        --------
        >>> DatasetInfo(Path("/home/jdoe/ward7/ra"), "/home/jdoe/ward7/ra", False, "", {}, {}).public_label
        'ra (a folder outside the repository)'
        >>> DatasetInfo(paths.SYNTHETIC, "data/synthetic", True, "", {}, {}).public_label
        'data/synthetic'
        """
        if not Path(self.label).is_absolute():
            return self.label
        return f"{Path(self.label).name} (a folder outside the repository)"

    @property
    def fingerprint(self) -> str:
        """First 12 hex digits of a hash over every file hash: names this dataset version."""
        text = "\n".join(f"{name} {digest}" for name, digest in sorted(self.files.items()))
        return hashlib.sha256(text.encode()).hexdigest()[:12]


def dataset_label(directory: Path) -> str:
    """How the book names a dataset folder: relative to the repository when inside it.

    Examples
    --------
    >>> dataset_label(paths.ROOT / "tests" / "data" / "minimal")
    'tests/data/minimal'
    """
    try:
        return Path(directory).resolve().relative_to(paths.ROOT.resolve()).as_posix()
    except ValueError:
        return str(Path(directory).resolve())


def classify_dataset(directory: Path) -> tuple[bool, str]:
    """Is the dataset synthetic? Returns ``(synthetic, reason)``.

    The rule (documented in the book's *Study and data* page): a dataset is **synthetic**
    when (1) it is the repository's cohort ``data/synthetic``, or (2) its folder holds a
    file named ``SYNTHETIC`` (any content), or (3) the opening of its ``README.md`` -- the
    first line and the first paragraph after it -- contains the word "synthetic". Anything
    else is presented as a real dataset. The rule errs towards the label: a README that
    opens with "not synthetic" is labelled synthetic, never the other way round.

    Examples
    --------
    >>> classify_dataset(paths.TEST_DATASET)
    (True, 'the opening of its README.md declares it synthetic')
    """
    directory = Path(directory)
    if directory.resolve() == paths.SYNTHETIC.resolve():
        return True, "it is the repository's synthetic cohort (data/synthetic)"
    if (directory / "SYNTHETIC").is_file():
        return True, "its folder holds a SYNTHETIC marker file"
    readme = directory / "README.md"
    if readme.is_file():
        blocks = [b.strip() for b in re.split(r"\n\s*\n", readme.read_text(encoding="utf-8", errors="replace").strip())]
        opening = " ".join(blocks[:2])
        if re.search(r"\bsynthetic\b", opening, flags=re.IGNORECASE):
            return True, "the opening of its README.md declares it synthetic"
    return False, "it declares itself neither by a SYNTHETIC file nor in its README.md"


def describe_dataset(directory: Path) -> DatasetInfo:
    """Locate, classify and hash a dataset folder (top-level files; no validation). Each
    contract table is hashed under its logical name (``visits.csv``) whatever file holds
    it (:func:`analysis.crosswalk.describe_dataset_files`)."""
    directory = Path(directory)
    files, sizes = describe_dataset_files(directory, hash_file)
    synthetic, reason = classify_dataset(directory)
    return DatasetInfo(directory=directory, label=dataset_label(directory), synthetic=synthetic, reason=reason,
                       files=files, sizes=sizes)


def digest_run_views(dataset) -> dict[str, str]:
    """SHA-256 (hex) of each contract table of a validated dataset as a notebook run sees it
    (:func:`analysis.notebook.run_view`: without the columns no result reads): column names,
    dtypes, row count, and per column the missing-value mask and pandas' 64-bit hash of every
    value in row order. Editing an unanalysed cell (a verbatim adverse-event term) leaves it
    unchanged; editing any value a run can read changes it.

    Examples
    --------
    >>> import dataclasses
    >>> ds = load_dataset(paths.TEST_DATASET)
    >>> meds = ds.medications.assign(CMDECOD="renamed")
    >>> digest_run_views(dataclasses.replace(ds, medications=meds)) == digest_run_views(ds)
    True
    >>> later = ds.medications.assign(CMSTDT=ds.medications["CMSTDT"] + pd.Timedelta(days=1))
    >>> digest_run_views(dataclasses.replace(ds, medications=later)) == digest_run_views(ds)
    False
    """
    digests = {}
    for file in FILES:
        frame = run_view(getattr(dataset, file.removesuffix(".csv")), file)
        digest = hashlib.sha256(json.dumps([list(map(str, frame.columns)), list(map(str, frame.dtypes)),
                                            len(frame)]).encode())
        for column in frame.columns:
            values = frame[column]
            digest.update(values.isna().to_numpy().tobytes())
            digest.update(pd.util.hash_pandas_object(values, index=False).to_numpy().tobytes())
        digests[file] = digest.hexdigest()
    return digests


def inspect_dataset(data_dir: str | os.PathLike | None = None) -> DatasetInfo:
    """Validate the build's dataset against the data contract and describe it, with the
    digest of each table as runs see it (:func:`digest_run_views`).

    Raises :class:`BuildError` with the contract's report (file, column, line, rule) when
    the dataset is invalid.
    """
    directory = paths.dataset_dir(data_dir)
    try:
        dataset = load_dataset(directory)
    except DataContractError as err:
        raise BuildError(f"invalid dataset {directory}:\n{err}") from None
    return dataclasses.replace(describe_dataset(directory), run_views=digest_run_views(dataset))
