"""Writing tables that leave the service: CSV safe for spreadsheets.

A text cell starting with ``=``, ``+``, ``-``, ``@`` (or a tab or carriage return)
is read by spreadsheet programs as a formula. Such cells are prefixed with a single
quote so they stay text; numbers (including negative numbers) are left alone.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import TextIO

import pandas as pd

from geo.errors import InputError

__all__ = ["LINE_END", "atomic_write", "csv_bytes", "guard_formulas", "safe_csv"]

_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")

LINE_END = "\r\n"
"""Line end of every CSV written. The csv module quotes a value holding a line break only
if the break's characters are in the line end: with ``"\n"`` alone, a value such as
``"x\r=HYPERLINK(...)"`` was written unquoted, and a spreadsheet read the carriage return
as a new row starting with a formula."""


def guard_formulas(df: pd.DataFrame) -> pd.DataFrame:
    """Return a copy whose text cells cannot run as spreadsheet formulas.

    Parameters
    ----------
    df
        Any table.

    Returns
    -------
    pandas.DataFrame
        Text cells beginning with a formula trigger are prefixed with ``'``; so are column
        names (a table pivoted by ward or street takes its header from the data).
    """
    out = df.copy()
    # By position: a name shared by two columns would give a frame, not a column.
    for i in range(out.shape[1]):
        s = out.iloc[:, i]
        if s.dtype == object or pd.api.types.is_string_dtype(s):
            text = s.astype(object)
            risky = text.map(lambda v: isinstance(v, str) and v.startswith(_TRIGGERS))
            if risky.any():
                text = text.where(~risky, "'" + text[risky].astype(str))
                out.isetitem(i, text)
    if not isinstance(out.columns, pd.MultiIndex):
        out.columns = [
            f"'{c}" if isinstance(c, str) and c.startswith(_TRIGGERS) else c for c in out.columns
        ]
    return out


def csv_bytes(df: pd.DataFrame) -> bytes:
    """The table as UTF-8 CSV bytes for a download, guarded against formula injection.

    Parameters
    ----------
    df
        The table.

    Returns
    -------
    bytes
        Text cells (and column names) that would start a formula are prefixed with
        ``'``; lines end in :data:`LINE_END`, so every value holding a line break is
        quoted.
    """
    return guard_formulas(df).to_csv(index=False, lineterminator=LINE_END).encode("utf-8")


def safe_csv(df: pd.DataFrame, path: Path) -> Path:
    """Write ``df`` as UTF-8 CSV, guarded against formula injection, atomically.

    Parameters
    ----------
    df
        The table.
    path
        Destination; written through a temporary file in the same folder and
        renamed, so a crash never leaves half a file.

    Returns
    -------
    pathlib.Path
        The path written.

    Raises
    ------
    InputError
        If the file cannot be written (the message names the destination, not the
        temporary file).
    """
    return atomic_write(
        path, lambda fh: guard_formulas(df).to_csv(fh, index=False, lineterminator=LINE_END)
    )


def atomic_write(path: Path, write: Callable[[TextIO], object]) -> Path:
    """Write a UTF-8 text file so that a crash part-way never leaves half a file.

    ``write`` fills a temporary file in the same folder, which is flushed, fsync'd
    and renamed over ``path`` with :func:`os.replace`; the folder is then fsync'd so
    the rename itself survives a power cut (where the platform allows).

    Parameters
    ----------
    path
        Destination.
    write
        Called with the open text file (newline translation off).

    Returns
    -------
    pathlib.Path
        The path written.

    Raises
    ------
    InputError
        If the folder or file cannot be written (the message names the destination,
        not the temporary file). Any other error from ``write`` propagates after the
        temporary file is removed; the old file is untouched.
    """
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    except OSError as exc:
        msg = (
            f"{path}: cannot write here ({exc.strerror or exc}). Choose a folder you can write to."
        )
        raise InputError(msg) from exc
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as fh:
            write(fh)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except OSError as exc:
        Path(tmp).unlink(missing_ok=True)
        msg = f"{path}: cannot write ({exc.strerror or exc}). Choose another file name or folder."
        raise InputError(msg) from exc
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    _fsync_dir(path.parent)
    return path


def _fsync_dir(folder: Path) -> None:
    """Make a rename durable (best effort; not every platform can open a folder)."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
