"""Find and open the files a user gives: CSVs, folders and police.uk archives.

Every file is read as bytes and decoded here, so the readers see text and a name.
Nothing is ever extracted to disk: archive members are read in memory, so a member
name cannot write outside the working folder, and an archive whose contents would
expand beyond :data:`MAX_ARCHIVE_BYTES` is refused.
"""

from __future__ import annotations

import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from geo.errors import InputError

__all__ = [
    "MAX_ARCHIVE_BYTES",
    "MAX_FILE_BYTES",
    "SourceText",
    "decode",
    "iter_sources",
]

MAX_FILE_BYTES = 512 * 1024 * 1024
"""Largest single CSV read (512 MiB, about 2.5 million police.uk rows)."""

MAX_ARCHIVE_BYTES = 2 * 1024 * 1024 * 1024
"""Largest total uncompressed size of the CSVs read from one archive (2 GiB)."""

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
        If the file is empty or binary.
    """
    if not data.strip():
        msg = f"{name}: the file is empty. Download the month again or pick another file."
        raise InputError(msg)
    for magic, what in _MAGIC.items():
        if data.startswith(magic):
            msg = f"{name}: this is {what}, not a CSV file. Save or export it as CSV (comma separated) and try again."
            raise InputError(msg)
    if b"\x00" in data[:65536]:
        msg = (
            f"{name}: binary file (it contains NUL bytes), not a CSV text file. "
            "If it is a UTF-16 export, save it as CSV UTF-8 instead."
        )
        raise InputError(msg)
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


def _read_limited(path: Path) -> bytes:
    size = path.stat().st_size
    if size > MAX_FILE_BYTES:
        msg = (
            f"{path}: {size / 2**20:.0f} MiB is larger than the {MAX_FILE_BYTES // 2**20} MiB "
            "a single file may be. Split it by month (police.uk files are one month each)."
        )
        raise InputError(msg)
    return path.read_bytes()


def _iter_archive(path: Path) -> Iterator[SourceText | tuple[str, str]]:
    try:
        zf = zipfile.ZipFile(path)
    except zipfile.BadZipFile as exc:
        msg = f"{path}: not a readable zip archive ({exc}). Download it again."
        raise InputError(msg) from exc
    with zf:
        members = [i for i in zf.infolist() if not i.is_dir()]
        street = [i for i in members if i.filename.lower().endswith("-street.csv")]
        total = sum(i.file_size for i in street)
        if total > MAX_ARCHIVE_BYTES:
            msg = (
                f"{path}: its street files would expand to {total / 2**30:.1f} GiB, more than the "
                f"{MAX_ARCHIVE_BYTES // 2**30} GiB limit. Download fewer months at a time."
            )
            raise InputError(msg)
        for info in members:
            if info not in street:
                yield (f"{path.name}!{info.filename}", "not a police.uk street file (skipped)")
                continue
            if info.file_size > MAX_FILE_BYTES:
                msg = f"{path.name}!{info.filename}: {info.file_size / 2**20:.0f} MiB member is over the per-file limit."
                raise InputError(msg)
            with zf.open(info) as fh:
                data = fh.read(MAX_FILE_BYTES + 1)
            if len(data) > info.file_size or len(data) > MAX_FILE_BYTES:
                msg = f"{path.name}!{info.filename}: expands beyond its declared size; the archive is damaged or hostile."
                raise InputError(msg)
            yield decode(data, f"{path.name}!{info.filename}")


def iter_sources(paths: list[str | Path]) -> Iterator[SourceText | tuple[str, str]]:
    """Yield every CSV the paths name, decoded.

    Folders are searched (recursively) for ``*.csv`` and ``*.zip``; archives yield
    their ``*-street.csv`` members. Anything skipped is yielded as ``(name, reason)``
    so the caller can report it.

    Parameters
    ----------
    paths
        Files, folders or archives.

    Yields
    ------
    SourceText or tuple of (str, str)

    Raises
    ------
    InputError
        If a path does not exist or a file is unusable.
    """
    for raw in paths:
        path = Path(raw)
        if not path.exists():
            msg = f"{path}: no such file or folder. Check the path."
            raise InputError(msg)
        if path.is_dir():
            found = sorted(p for p in path.rglob("*") if p.suffix.lower() in (".csv", ".zip"))
            if not found:
                msg = f"{path}: the folder holds no .csv or .zip files."
                raise InputError(msg)
            yield from iter_sources(found)
        elif zipfile.is_zipfile(path) and path.suffix.lower() == ".zip":
            yield from _iter_archive(path)
        else:
            yield decode(_read_limited(path), str(path))
