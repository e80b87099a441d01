"""Loading the user's own files: police.uk downloads and CSP logs.

Plain functions, callable without a browser: each writes the uploaded bytes to a
temporary folder, reads them with the service's own readers and returns a
:class:`app_views.state.Dataset`, or raises :class:`geo.errors.InputError` with a
one-line message. :func:`replace_dataset` makes a successful load the active dataset
and leaves the active dataset untouched on failure.
"""

from __future__ import annotations

import hashlib
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path

import geopandas as gpd
import pandas as pd

from app_views.state import POLICE_UK_SOURCE, Dataset, core_area, set_dataset
from geo.csp_log import ColumnMapping, read_csp_log, sniff_columns
from geo.errors import InputError
from geo.io import LoadResult, load_incidents

__all__ = [
    "PENDING_CSP",
    "PENDING_POLICE",
    "csp_columns",
    "combine_results",
    "csp_dataset",
    "first_line",
    "police_dataset",
    "replace_dataset",
    "safe_name",
]

PENDING_POLICE = "pending_police_files"
"""Session key: police.uk files uploaded but not loaded yet, ``[(name, bytes), ...]``."""

PENDING_CSP = "pending_csp_file"
"""Session key: the CSP log uploaded but not loaded yet, ``(name, bytes)``."""


def safe_name(name: str, default: str = "upload.csv") -> str:
    """The file name without any folder part (an upload cannot write outside the temp folder).

    Examples
    --------
    >>> safe_name("../../etc/2017-02-hampshire-street.csv")
    '2017-02-hampshire-street.csv'
    """
    base = Path(str(name).replace("\\", "/")).name.strip()
    return base if base not in ("", ".", "..") else default


def first_line(exc: BaseException) -> str:
    """The first line of an error message (what the user sees)."""
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def _digest(parts: Sequence[tuple[str, bytes]]) -> bytes:
    h = hashlib.sha256()
    for name, content in sorted(parts):
        h.update(name.encode())
        h.update(content)
    return h.digest()


def police_dataset(files: Sequence[tuple[str, bytes]], base: Sequence[Path] = ()) -> Dataset:
    """Load uploaded police.uk street CSVs and/or archives, added to ``base``.

    The uploads are read first, so a force-month in both is taken from the upload (the
    newer download) and the base's copy is reported as a duplicate.

    Parameters
    ----------
    files
        ``(file name, content)`` pairs.
    base
        Files the uploads add to (the shipped data); none for the uploads alone.

    Returns
    -------
    Dataset

    Raises
    ------
    InputError
        If nothing was given, or any file is unusable (the message names it).
    """
    if not files:
        msg = "no file uploaded: choose police.uk street CSVs or a police.uk archive (.zip)."
        raise InputError(msg)
    with tempfile.TemporaryDirectory(prefix="hotspots_upload_") as tmp:
        paths = []
        for i, (name, content) in enumerate(files):
            path = Path(tmp) / f"{i:03d}" / safe_name(name)
            path.parent.mkdir()
            path.write_bytes(content)
            paths.append(path)
        result = load_incidents([*paths, *base], core_area())
    if result.accepted == 0:
        msg = (
            f"{', '.join(safe_name(n) for n, _ in files)}: no incident in the borough "
            f"({result.rows_in:,} rows read, {result.rejected:,} rejected, "
            f"{result.outside_area:,} outside the study area)."
        )
        raise InputError(msg)
    names = ", ".join(safe_name(n) for n, _ in files)
    label = f"Shipped data with {names} added" if base else f"Uploaded: {names}"
    code = core_area().code
    return Dataset(
        key=f"upload:{_digest(files).hex()[:16]}:{len(base)}:{code}",
        label=label,
        result=result,
        area=code,
    )


def csp_columns(name: str, content: bytes) -> list[str]:
    """The header of an uploaded CSP log, for the column-mapping form."""
    with tempfile.TemporaryDirectory(prefix="hotspots_upload_") as tmp:
        path = Path(tmp) / safe_name(name)
        path.write_bytes(content)
        return sniff_columns(path)


def csp_dataset(
    name: str, content: bytes, mapping: ColumnMapping, base: Dataset | None = None
) -> Dataset:
    """Load an uploaded CSP log with a column mapping, as a source beside ``base``.

    The log's rows keep their own source (``mapping.source_name``) in the ``source``
    column, so the sidebar can show either source or both; ``base`` (the data in use)
    keeps its rows, labelled ``police.uk`` where they had no source yet.

    Raises
    ------
    InputError
        If the file is unusable, the mapping names a missing column, or no row is usable.
    """
    with tempfile.TemporaryDirectory(prefix="hotspots_upload_") as tmp:
        path = Path(tmp) / safe_name(name)
        path.write_bytes(content)
        result = read_csp_log(path, mapping, core_area())
    result.incidents["source_file"] = safe_name(name)
    if len(result.rejects):
        result.rejects["source_file"] = safe_name(name)
    if result.accepted == 0:
        msg = (
            f"{safe_name(name)}: no usable row in the borough ({result.rows_in:,} rows read, "
            f"{result.rejected:,} rejected, {result.outside_area:,} outside the study area)."
        )
        raise InputError(msg)
    digest = _digest([(name, content), ("mapping", repr(mapping).encode())]).hex()[:16]
    result.incidents["source"] = mapping.source_name
    code = core_area().code
    if base is None:
        return Dataset(
            key=f"upload:{digest}:{code}",
            label=f"CSP log: {safe_name(name)}",
            result=result,
            area=code,
        )
    return Dataset(
        key=f"{base.key}+log:{digest}",
        label=f"{base.label}, with CSP log {safe_name(name)}",
        result=combine_results(base.result, result),
        area=code,
    )


def combine_results(base: LoadResult, added: LoadResult) -> LoadResult:
    """Two loads as one: every row of both, and both accounts added up.

    Rows of ``base`` without a ``source`` are police.uk rows.
    """
    left = base.incidents
    if "source" not in left.columns:
        left = left.assign(source=POLICE_UK_SOURCE)
    incidents = gpd.GeoDataFrame(
        pd.concat([left, added.incidents], ignore_index=True), geometry="geometry", crs=left.crs
    )
    return LoadResult(
        incidents=incidents,
        rejects=pd.concat([base.rejects, added.rejects], ignore_index=True),
        rows_in=base.rows_in + added.rows_in,
        outside_area=base.outside_area + added.outside_area,
        duplicate_files=[*base.duplicate_files, *added.duplicate_files],
        files=pd.concat([base.files, added.files], ignore_index=True),
        skipped=[*base.skipped, *added.skipped],
    )


def replace_dataset(load: Callable[[], Dataset]) -> tuple[Dataset | None, str | None]:
    """Run a loader; on success make its dataset active, on failure change nothing.

    Parameters
    ----------
    load
        A call of :func:`police_dataset` or :func:`csp_dataset`, wrapped in a lambda.

    Returns
    -------
    (Dataset or None, str or None)
        The new dataset, or the one-line error message.
    """
    try:
        ds = load()
    except InputError as exc:
        return None, first_line(exc)
    except (OSError, ValueError) as exc:  # a reader's unexpected failure on odd bytes
        return None, f"the file could not be read ({first_line(exc)})."
    set_dataset(ds)
    return ds, None
