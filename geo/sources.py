"""Find and open the files a user gives: CSVs, folders and police.uk archives.

Every file is read as bytes and decoded here, so the readers see text and a name.
Nothing is ever extracted to disk: archive members are read in memory, so a member
name cannot write outside the working folder, and an archive whose contents would
expand beyond :data:`MAX_ARCHIVE_BYTES` is refused.
"""

from __future__ import annotations

import csv
import io
import lzma
import re
import stat
import zipfile
import zlib
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

import numpy as np
import pandas as pd

from geo.errors import InputError

try:  # pyarrow comes with streamlit (and pandas' string dtype); without it, csv reads all
    import pyarrow as pa
    import pyarrow.csv as pacsv
except ImportError:  # pragma: no cover
    pa = pacsv = None

__all__ = [
    "MAX_ARCHIVE_BYTES",
    "MAX_FILE_BYTES",
    "MAX_FILE_LINES",
    "NOT_STREET_SUFFIXES",
    "CsvRecords",
    "SourceText",
    "check_bytes",
    "count_lines",
    "csv_lines",
    "decode",
    "expand_paths",
    "iter_sources",
    "plain_records",
    "read_header",
    "read_limited",
    "read_records",
]

MAX_FILE_BYTES = 512 * 1024 * 1024
"""Largest single CSV read (512 MiB). police.uk rows average about 215 bytes, so for them
:data:`MAX_FILE_LINES` binds first, at about 210 MB."""

MAX_FILE_LINES = 1_000_000
"""Most lines a single CSV may have. Memory grows with rows more than bytes (measured peak
RSS growth: 1.6 GB for 979,081 real police.uk rows in 205 MiB; 1.2 GB for a million
12-byte rows), so a file of short lines within :data:`MAX_FILE_BYTES` could otherwise need
tens of GB. police.uk files are one force's month, far below this."""

MAX_ARCHIVE_BYTES = 2 * 1024 * 1024 * 1024
"""Largest total uncompressed size of the CSVs read from one archive (2 GiB)."""

NOT_STREET_SUFFIXES = ("-outcomes.csv", "-stop-and-search.csv")
"""police.uk's other products, found beside the street files in a download: skipped."""

_MAGIC = {
    b"PK\x03\x04": "a zip archive or an Excel workbook (.xlsx)",
    b"\x1f\x8b": "a gzip file",
    b"%PDF": "a PDF document",
    b"\xd0\xcf\x11\xe0": "an old Excel workbook (.xls)",
    b"\x89PNG": "a PNG image",
    b"SQLite format 3": "a SQLite database or GeoPackage",
}


@dataclass(frozen=True)
class SourceText:
    """One decoded text file.

    Attributes
    ----------
    name
        Display name: the path, or ``archive.zip!2017-02/2017-02-hampshire-street.csv``.
    text
        Decoded content without a byte-order mark.
    encoding
        ``utf-8``, ``utf-8-sig`` or ``cp1252``.
    """

    name: str
    text: str
    encoding: str


_HEAD = 65536
"""Bytes looked at to tell a binary file: readers check them before reading the rest."""


def _refuse_binary(head: bytes, name: str) -> None:
    """Raise if a file's first bytes show a known binary format or NUL bytes."""
    for magic, what in _MAGIC.items():
        if head.startswith(magic):
            msg = f"{name}: this is {what}, not a CSV file. Save or export it as CSV (comma separated) and try again."
            raise InputError(msg)
    if b"\x00" in head[:_HEAD]:
        msg = (
            f"{name}: binary file (it contains NUL bytes), not a CSV text file. "
            "If it is a UTF-16 export, save it as CSV UTF-8 instead."
        )
        raise InputError(msg)


def _size(n: int) -> str:
    """Bytes for people: ``512 MiB``, ``2 GiB``, ``4 KiB``."""
    for unit, scale in (("GiB", 2**30), ("MiB", 2**20), ("KiB", 2**10)):
        if n >= scale:
            return f"{n / scale:.3g} {unit}"
    return f"{n} bytes"


def _too_many_lines(name: object, lines: int) -> InputError:
    return InputError(
        f"{name}: {lines:,} lines is more than the {MAX_FILE_LINES:,} a single file may have. "
        "Split it by month (police.uk files are one month each)."
    )


def _read_capped(fh: BinaryIO, name: str) -> bytes:
    """Read a file in 1 MiB chunks, refusing it as soon as it breaks a limit.

    A binary file is refused after its first 64 KiB; a file is refused once it passes
    :data:`MAX_FILE_LINES` lines or :data:`MAX_FILE_BYTES`, so a highly compressible
    archive member (a zip bomb) is never inflated beyond the limits.
    """
    head = fh.read(_HEAD)
    _refuse_binary(head, name)
    chunks, size = [head], len(head)
    lines = max(head.count(b"\n"), head.count(b"\r"))
    while chunk := fh.read(2**20):
        chunks.append(chunk)
        size += len(chunk)
        lines += max(chunk.count(b"\n"), chunk.count(b"\r"))
        if lines > MAX_FILE_LINES:
            raise _too_many_lines(name, lines)
        if size > MAX_FILE_BYTES:
            raise _too_large(name, size)
    return b"".join(chunks)


_NOT_SPACE = re.compile(rb"[^ \t\n\r\x0b\x0c]")


def check_bytes(data: bytes, name: str) -> tuple[int, int]:
    """Refuse an empty or binary file, or one with too many lines, before decoding it.

    Parameters
    ----------
    data
        The file's bytes.
    name
        Its name, for messages.

    Returns
    -------
    tuple of int
        The numbers of line feeds and of carriage returns in ``data``.

    Raises
    ------
    InputError
        If the file is empty (or only blanks), binary, or has more than
        :data:`MAX_FILE_LINES` lines.
    """
    if not _NOT_SPACE.search(data, 3 if data.startswith(b"\xef\xbb\xbf") else 0):
        msg = f"{name}: the file is empty. Download the month again or pick another file."
        raise InputError(msg)
    _refuse_binary(data[:_HEAD], name)
    lf, cr = data.count(b"\n"), data.count(b"\r")
    if max(lf, cr) > MAX_FILE_LINES:
        raise _too_many_lines(name, max(lf, cr))
    return lf, cr


def decode(data: bytes, name: str) -> SourceText:
    """Decode a CSV's bytes, refusing empty and binary files.

    UTF-8 with or without a byte-order mark is tried first, then Windows-1252 (what
    Excel on Windows writes).

    Parameters
    ----------
    data
        The file's bytes.
    name
        Its name, for messages.

    Returns
    -------
    SourceText

    Raises
    ------
    InputError
        If the file is empty, binary, or has more than :data:`MAX_FILE_LINES` lines.
    """
    check_bytes(data, name)
    if data.startswith(b"\xef\xbb\xbf"):
        try:
            return SourceText(name, data[3:].decode("utf-8"), "utf-8-sig")
        except UnicodeDecodeError:
            pass
    try:
        return SourceText(name, data.decode("utf-8"), "utf-8")
    except UnicodeDecodeError:
        # cp1252 leaves five bytes undefined; map them as latin-1 would rather than fail.
        text = data.decode("cp1252", errors="replace")
        return SourceText(name, text, "cp1252")


@dataclass
class CsvRecords:
    """The records of a CSV text, each padded or cut to the header's width.

    Attributes
    ----------
    header
        Column names, stripped.
    frame
        One row per non-blank record and one column per header position (labelled
        ``0 .. len(header) - 1``, so repeated names cannot clash), all text.
    lines
        Line number where each record starts (the header is line 1).
    widths
        How many fields each record had as read.
    originals
        The record as read, for the records whose width differed from the header's.
    """

    header: list[str]
    frame: pd.DataFrame
    lines: np.ndarray
    widths: np.ndarray
    originals: dict[int, list[str]] = field(default_factory=dict)

    def column(self, name: str) -> pd.Series:
        """The first column called ``name``.

        Parameters
        ----------
        name
            A header name.

        Returns
        -------
        pandas.Series
        """
        return self.frame[self.header.index(name)]

    def raw(self, indices: np.ndarray | list[int]) -> list[str]:
        """The records at ``indices`` as CSV lines, as they were read.

        Parameters
        ----------
        indices
            Positions in :attr:`frame`.

        Returns
        -------
        list of str
        """
        indices = np.asarray(indices, dtype=np.int64)
        values = self.frame.iloc[indices].to_numpy(dtype=object).tolist()
        return csv_lines(
            self.originals.get(i, rec) for i, rec in zip(indices.tolist(), values, strict=True)
        )


def csv_lines(records: Iterable[Sequence[str]]) -> list[str]:
    r"""Each record as one CSV line, as the csv module writes it, without its line end.

    Parameters
    ----------
    records
        Records, each a sequence of fields.

    Returns
    -------
    list of str

    Examples
    --------
    >>> csv_lines([["a", "b, c"], ["x\ny", "d"]])
    ['a,"b, c"', '"x\ny",d']
    """
    buf = io.StringIO()
    # The csv module quotes a value holding a line break only if the break's characters
    # are in the line terminator: write "\r\n" (not "") and cut it off.
    writer = csv.writer(buf, lineterminator="\r\n")
    out = []
    for rec in records:
        buf.seek(0)
        buf.truncate()
        writer.writerow(rec)
        out.append(buf.getvalue()[:-2])
    return out


def count_lines(data: bytes, lf: int, cr: int) -> int:
    r"""Lines in ``data`` given its numbers of line feeds and carriage returns.

    A line ends at ``\n``, ``\r`` or ``\r\n``; a last line without an end counts.

    Parameters
    ----------
    data
        The file's bytes.
    lf, cr
        ``data.count(b"\n")`` and ``data.count(b"\r")`` (already counted by the caller).

    Returns
    -------
    int

    Examples
    --------
    >>> count_lines(b"a\r\nb\rc", 1, 2)
    3
    """
    breaks = lf + cr - (data.count(b"\r\n") if lf and cr else 0)
    return breaks + (0 if data.endswith((b"\n", b"\r")) else 1)


def plain_records(data: bytes, width: int, lines: int | None = None) -> pa.Table | None:
    """The records after a one-line header as an all-string Arrow table, if the file is plain.

    Only a file where every record is one line of exactly ``width`` fields (no blank
    line, no quoted line break) is read here (by pyarrow, in parallel); for anything
    else the answer is None and the file must be split by the ``csv`` module
    (:func:`read_records` with ``engine="csv"``), which keeps line numbers and reports
    each odd record. Record ``i`` of the table is line ``i + 2`` of the file.

    Parameters
    ----------
    data
        The file as UTF-8 bytes, without a byte-order mark, header line first.
    width
        Fields in the header.
    lines
        Lines in ``data`` if already counted (as :func:`read_records` counts them).

    Returns
    -------
    pyarrow.Table or None
        Columns ``c0`` ... ``c{width-1}``, every value a string (empty, never null).
    """
    if pacsv is None or width < 2:
        # pyarrow keeps a line of spaces as a one-field record; the csv path drops it.
        return None
    names = [f"c{i}" for i in range(width)]
    try:
        table = pacsv.read_csv(
            pa.py_buffer(data),
            read_options=pacsv.ReadOptions(column_names=names, skip_rows=1),
            # Blank lines are dropped here, so they make the row count short of the line
            # count and send the file to the csv module, which numbers lines exactly.
            parse_options=pacsv.ParseOptions(newlines_in_values=False, ignore_empty_lines=True),
            convert_options=pacsv.ConvertOptions(
                column_types=dict.fromkeys(names, pa.string()),
                strings_can_be_null=False,
                quoted_strings_can_be_null=False,
            ),
        )
    except (pa.ArrowException, ValueError):
        return None
    if lines is None:
        lines = count_lines(data, data.count(b"\n"), data.count(b"\r"))
    if table.num_rows + 1 != lines:
        return None
    return table


def _read_fast(text: str, width: int) -> pd.DataFrame | None:
    """Parse the records after a one-line header with pyarrow, or None to take the slow path.

    See :func:`plain_records`.
    """
    table = plain_records(text.encode("utf-8"), width)
    if table is None:
        return None
    frame = table.to_pandas()
    frame.columns = range(width)
    return frame


def read_header(reader: Iterator[list[str]], name: str) -> list[str]:
    """The first record of a ``csv.reader``, its names stripped of blanks.

    Parameters
    ----------
    reader
        A ``csv.reader`` at the start of a file (left after the header).
    name
        The file's name, for messages.

    Returns
    -------
    list of str

    Raises
    ------
    InputError
        If there is no header line, or the csv module cannot split it (the message names
        the line).
    """
    try:
        return [h.strip() for h in next(reader)]
    except StopIteration as exc:
        msg = f"{name}: cannot read a header line. Is it a CSV file?"
        raise InputError(msg) from exc
    except csv.Error as exc:
        line = getattr(reader, "line_num", "?")
        msg = f"{name}: line {line}: {exc}. The file is damaged; save or download it again."
        raise InputError(msg) from exc


def read_records(src: SourceText, *, engine: str = "auto") -> CsvRecords:
    """Split a decoded CSV into its header and records, keeping line numbers.

    Blank lines are dropped. Records with too few fields are padded with ``""`` and
    records with too many are cut, so every row has the header's width; ``widths``
    keeps what was read so the caller can reject them with a reason.

    Parameters
    ----------
    src
        The decoded file.
    engine
        ``auto``: pyarrow for a plain file (every record one line of the header's
        width), else the ``csv`` module; ``csv``: always the ``csv`` module. Both give
        the same records.

    Returns
    -------
    CsvRecords

    Raises
    ------
    InputError
        If the text is not CSV the ``csv`` module can split (the message names the line).
    """
    reader = csv.reader(io.StringIO(src.text, newline=""))
    header = read_header(reader, src.name)
    width = len(header)
    if engine == "auto" and pacsv is not None and reader.line_num == 1:
        frame = _read_fast(src.text, width)
        if frame is not None:
            n = len(frame)
            return CsvRecords(
                header,
                frame,
                np.arange(2, n + 2, dtype=np.int64),
                np.full(n, width, dtype=np.int64),
            )
    try:
        body = list(reader)
    except csv.Error as exc:
        msg = f"{src.name}: line {reader.line_num}: {exc}. The file is damaged; save or download it again."
        raise InputError(msg) from exc
    if reader.line_num == len(body) + 1:
        # Every record took exactly one line: no per-record bookkeeping.
        lines = np.arange(2, len(body) + 2, dtype=np.int64)
    else:
        # Some quoted value spans lines: read again, noting where each record starts.
        again = csv.reader(io.StringIO(src.text, newline=""))
        next(again)
        starts, body = [], []
        last = again.line_num
        for rec in again:
            starts.append(last + 1)
            body.append(rec)
            last = again.line_num
        lines = np.asarray(starts, dtype=np.int64)
    widths = np.fromiter(map(len, body), dtype=np.int64, count=len(body))
    blank = widths == 0
    for i in np.flatnonzero(widths == 1):
        blank[i] = not body[i][0].strip()
    if blank.any():
        body = [rec for rec, b in zip(body, blank, strict=True) if not b]
        lines, widths = lines[~blank], widths[~blank]
    originals: dict[int, list[str]] = {}
    for i in np.flatnonzero(widths != width):
        rec = body[i]
        originals[int(i)] = rec
        body[i] = (rec + [""] * width)[:width]
    frame = pd.DataFrame(body, columns=range(width), dtype=object)
    return CsvRecords(header, frame, lines, widths, originals)


def _too_large(name: object, size: int) -> InputError:
    return InputError(
        f"{name}: {_size(size)} is larger than the {_size(MAX_FILE_BYTES)} limit for a single "
        "file. Split it by month (police.uk files are one month each)."
    )


def _is_regular(path: Path) -> bool:
    try:
        return stat.S_ISREG(path.stat().st_mode)
    except OSError:
        return False


def read_limited(path: str | Path) -> bytes:
    """Read a file's bytes, refusing anything but a regular file of at most :data:`MAX_FILE_BYTES`.

    At most ``MAX_FILE_BYTES + 1`` bytes are ever read, so a device (``/dev/zero``), a
    pipe or a file that grows while it is read cannot exhaust memory.

    Parameters
    ----------
    path
        The file.

    Returns
    -------
    bytes

    Raises
    ------
    InputError
        If the path is missing, unreadable, not a regular file, or over the limit (the
        message states the limit).
    """
    path = Path(path)
    try:
        info = path.stat()
        if not stat.S_ISREG(info.st_mode):
            what = "a folder" if stat.S_ISDIR(info.st_mode) else "a device, pipe or socket"
            msg = f"{path}: this is {what}, not a file. Give the CSV file itself."
            raise InputError(msg)
        if info.st_size > MAX_FILE_BYTES:
            raise _too_large(path, info.st_size)
        with path.open("rb") as fh:
            data = _read_capped(fh, str(path))
    except OSError as exc:
        msg = f"{path}: cannot be read ({exc.strerror or exc}). Check the path and that you may read it."
        raise InputError(msg) from exc
    if len(data) > MAX_FILE_BYTES:
        raise _too_large(path, len(data))
    return data


# What zipfile raises on a damaged, encrypted or oddly compressed archive or member.
_MEMBER_ERRORS = (
    zipfile.BadZipFile,
    zlib.error,
    lzma.LZMAError,
    EOFError,
    OSError,
    RuntimeError,
    NotImplementedError,
    ValueError,
)


def _iter_archive(path: Path) -> Iterator[SourceText | tuple[str, str]]:
    try:
        zf = zipfile.ZipFile(path)
    except _MEMBER_ERRORS as exc:
        msg = f"{path}: not a readable zip archive ({exc}). Download it again."
        raise InputError(msg) from exc
    with zf:
        members = [i for i in zf.infolist() if not i.is_dir()]
        is_street = [i.filename.lower().endswith("-street.csv") for i in members]
        total = sum(i.file_size for i, street in zip(members, is_street, strict=True) if street)
        if total > MAX_ARCHIVE_BYTES:
            msg = (
                f"{path}: its street files would expand to {_size(total)}, more than the "
                f"{_size(MAX_ARCHIVE_BYTES)} limit for an archive. Download fewer months at a time."
            )
            raise InputError(msg)
        for info, street in zip(members, is_street, strict=True):
            if not street:
                yield (f"{path.name}!{info.filename}", "not a police.uk street file (skipped)")
                continue
            name = f"{path.name}!{info.filename}"
            if info.file_size > MAX_FILE_BYTES:
                raise _too_large(name, info.file_size)
            try:
                with zf.open(info) as fh:
                    data = _read_capped(fh, name)
            except InputError:
                raise
            except _MEMBER_ERRORS as exc:
                msg = (
                    f"{path.name}!{info.filename}: cannot be read from the archive ({exc}); it is "
                    "damaged, encrypted or compressed in a way zip readers do not share. "
                    "Download the archive again."
                )
                raise InputError(msg) from exc
            if len(data) > info.file_size or len(data) > MAX_FILE_BYTES:
                msg = f"{path.name}!{info.filename}: expands beyond its declared size; the archive is damaged or hostile."
                raise InputError(msg)
            yield decode(data, f"{path.name}!{info.filename}")


def expand_paths(paths: list[str | Path]) -> Iterator[Path | tuple[str, str]]:
    """The files the paths name: each folder replaced by the files it holds.

    Folders are searched (recursively) for ``*.csv`` and ``*.zip``; police.uk's outcomes
    and stop-and-search files (an unpacked download holds them beside the street files)
    are yielded as ``(name, reason)``. Other paths are yielded as given, whether or not
    they exist (:func:`iter_sources` names a missing one).

    Parameters
    ----------
    paths
        Files, folders or archives (a single path is taken as a list of one).

    Yields
    ------
    pathlib.Path or tuple of (str, str)

    Raises
    ------
    InputError
        If a folder holds no ``.csv`` or ``.zip`` file.
    """
    if isinstance(paths, str | Path):
        paths = [paths]
    for raw in paths:
        path = Path(raw)
        if not path.is_dir():
            yield path
            continue
        found = sorted(p for p in path.rglob("*") if p.suffix.lower() in (".csv", ".zip"))
        if not found:
            msg = f"{path}: the folder holds no .csv or .zip files."
            raise InputError(msg)
        for p in found:
            if p.name.lower().endswith(NOT_STREET_SUFFIXES):
                yield (str(p), "not a police.uk street file (skipped)")
            else:
                yield p


def iter_sources(paths: list[str | Path]) -> Iterator[SourceText | tuple[str, str]]:
    """Yield every CSV the paths name, decoded.

    Folders are expanded by :func:`expand_paths`; archives yield their
    ``*-street.csv`` members. Anything skipped is yielded as ``(name, reason)`` so the
    caller can report it.

    Parameters
    ----------
    paths
        Files, folders or archives (a single path is taken as a list of one).

    Yields
    ------
    SourceText or tuple of (str, str)

    Raises
    ------
    InputError
        If a path does not exist or a file is unusable (at the first such file).
    """
    for item in expand_paths(paths):
        if isinstance(item, tuple):
            yield item
        elif not item.exists():
            msg = f"{item}: no such file or folder. Check the path."
            raise InputError(msg)
        elif item.suffix.lower() == ".zip" and _is_regular(item) and zipfile.is_zipfile(item):
            # Regular files only: is_zipfile reads a device such as /dev/zero forever.
            yield from _iter_archive(item)
        else:
            yield decode(read_limited(item), str(item))
