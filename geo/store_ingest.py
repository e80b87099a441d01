"""Ingest police.uk street files into a Parquet store (:mod:`geo.store`).

``ingest(paths, store)`` reads police.uk files, folders and archives into ``store``:

* **Validation.** The rules and reasons of the row-by-row reader, evaluated in DuckDB
  SQL (:mod:`geo.store_validate`). Records are split by pyarrow
  (:func:`geo.sources.plain_records`, as the reader's own fast path) as the files are
  read; a file it cannot split one record a line is kept as text and split by the
  reader's own splitter in validation, so line numbers and field counts are those of
  the reader. Fields validation leaves as read go from the Arrow records to the Parquet
  partitions untouched.
* **Duplicates.** A force-month is kept once. The copy kept is the *newer download*:
  the one whose CSV has the later modification time (an archive member's own timestamp,
  or a plain file's modification time). On a tie the copy already in the store, else
  the one given first, is kept. Every force-month not taken is reported.
* **Atomic partitions.** A partition is written to ``tmp/``, flushed to disk (``fsync``)
  and moved into place with ``os.replace``: an ingest killed part-way leaves every
  partition either as it was or complete, and running it again finishes the job.

The account: ``rows_read`` (every data row of every file read) ``= rows_in +
duplicate_rows``, and ``rows_in = accepted + rejected``; ``added`` counts the accepted
rows of force-months new to the store.
"""

from __future__ import annotations

import collections
import csv
import datetime as dt
import errno
import io
import itertools
import shutil
import sys
import time
import uuid
import zipfile
import zlib
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from geo.errors import InputError
from geo.police_uk import header_problem
from geo.sources import (
    MAX_ARCHIVE_BYTES,
    MAX_FILE_BYTES,
    NOT_STREET_SUFFIXES,
    check_bytes,
    count_lines,
    decode,
    expand_paths,
    plain_records,
    read_header,
    read_limited,
)
from geo.store import (
    TMP_DIR,
    StoreError,
    StoreLock,
    connect,
    open_store,
    partitions,
)
from geo.store_partitions import (
    PAUSE_ENV,
    ROW_GROUP_ROWS,
    Part,
    partition_keys,
    place_partition,
    taken_rows,
    write_partitions,
)
from geo.store_validate import READ_COLUMNS, WHITESPACE, SourceFile, validated_rows
from geo.validate import reason_kind

__all__ = ["BATCH_BYTES", "PAUSE_ENV", "ROW_GROUP_ROWS", "IngestResult", "ingest"]

BATCH_BYTES = 16 * 1024 * 1024
"""CSVs (plain or in an archive) are read in batches of about this many bytes: the next
batch is unzipped and split in a worker thread while DuckDB validates this one, so small
batches start the work sooner and keep both cores busy."""

# --------------------------------------------------------------------------- sources


@dataclass
class IngestResult:
    """The account of one ingest.

    Attributes
    ----------
    store
        The store folder.
    rows_read
        Data rows of every file read.
    rows_in
        Rows of the force-months taken (``rows_read`` less ``duplicate_rows``):
        ``accepted + rejected``.
    accepted, rejected
        Rows taken that passed every check, and those rejected (kept in the store with
        their reason, file and line).
    added
        Accepted rows of force-months new to the store.
    duplicate_force_months
        One dict per force-month copy not taken: ``month``, ``force``, ``source_file``,
        ``rows``, ``kept_from`` and ``why``.
    partitions_written, replaced
        Partitions written; those that replaced an older download (``month``,
        ``force``, ``old_source``, ``old_rows``, ``new_source``, ``new_rows``).
    skipped
        ``(name, reason)`` of archive members and files that are not street files.
    problems
        One line per unusable file (named, with the fix); the other files are ingested.
    reject_reasons
        Rejected rows by kind of reason.
    seconds
        Wall time.
    """

    store: str
    rows_read: int = 0
    rows_in: int = 0
    accepted: int = 0
    rejected: int = 0
    added: int = 0
    duplicate_force_months: list[dict] = field(default_factory=list)
    partitions_written: int = 0
    replaced: list[dict] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    reject_reasons: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0

    @property
    def duplicate_rows(self) -> int:
        """Rows of the force-months not taken."""
        return int(sum(d["rows"] for d in self.duplicate_force_months))

    def reconciles(self) -> bool:
        """Whether ``rows_in == accepted + rejected`` and ``rows_read == rows_in + duplicate_rows``."""
        return (
            self.rows_in == self.accepted + self.rejected
            and self.rows_read == self.rows_in + self.duplicate_rows
        )

    def summary(self) -> dict:
        """The account as a JSON-ready dict."""
        return {
            "store": self.store,
            "rows_read": self.rows_read,
            "rows_in": self.rows_in,
            "accepted": self.accepted,
            "rejected": self.rejected,
            "added": self.added,
            "duplicate_force_months": self.duplicate_force_months,
            "duplicate_rows": self.duplicate_rows,
            "partitions_written": self.partitions_written,
            "replaced": self.replaced,
            "skipped": [{"name": n, "reason": r} for n, r in self.skipped],
            "problems": self.problems,
            "reject_reasons": self.reject_reasons,
            "reconciles": self.reconciles(),
            "seconds": round(self.seconds, 2),
            "rows_per_second": round(self.rows_read / self.seconds) if self.seconds else None,
        }


def _zip_time(info: zipfile.ZipInfo) -> float:
    try:
        return dt.datetime(*info.date_time, tzinfo=dt.UTC).timestamp()
    except ValueError:
        return 0.0


def _read_member(zf: zipfile.ZipFile, info: zipfile.ZipInfo, name: str) -> bytes:
    if info.file_size > MAX_FILE_BYTES:
        msg = (
            f"{name}: {info.file_size:,} bytes is more than the {MAX_FILE_BYTES:,}-byte limit "
            "for one file; split it by month."
        )
        raise InputError(msg)
    try:
        with zf.open(info) as fh:
            data = fh.read(info.file_size + 1)
    except (
        zipfile.BadZipFile,
        zlib.error,
        EOFError,
        OSError,
        RuntimeError,
        NotImplementedError,
        ValueError,
    ) as exc:
        msg = (
            f"{name}: cannot be read from the archive ({exc}); it is damaged, encrypted or "
            "compressed in a way zip readers do not share. Download the archive again."
        )
        raise InputError(msg) from exc
    if len(data) > info.file_size:
        msg = f"{name}: expands beyond its declared size; the archive is damaged or hostile."
        raise InputError(msg)
    return data


_Source = tuple[str, float, Callable[[], bytes]]
"""A CSV to read: its name, modification time and a function that reads its bytes."""


class _Batches:
    """Sources gathered into batches of about :data:`BATCH_BYTES`."""

    def __init__(self) -> None:
        self.batch: list[_Source] = []
        self.size = 0

    def add(self, source: _Source, nbytes: int) -> list[_Source] | None:
        """Add a source; return the batch once it is full."""
        self.batch.append(source)
        self.size += nbytes
        if self.size <= BATCH_BYTES:
            return None
        full, self.batch, self.size = self.batch, [], 0
        return full

    def rest(self) -> list[_Source] | None:
        """The last batch, if any source is left."""
        return self.batch or None


def _sources(paths: list[str | Path], out: IngestResult) -> Iterator[list[_Source]]:
    """Batches of ``(name, mtime, read)``: an archive's street files, and plain CSVs."""
    plain = _Batches()
    for raw in paths:
        try:
            items = list(expand_paths([raw]))
        except InputError as exc:
            out.problems.append(str(exc))
            continue
        for item in items:
            if isinstance(item, tuple):
                out.skipped.append(item)
                continue
            if not item.exists():
                out.problems.append(f"{item}: no such file or folder. Check the path.")
                continue
            if item.suffix.lower() == ".zip" and item.is_file() and zipfile.is_zipfile(item):
                yield from _archive_batches(item, out)
                continue
            try:
                st = item.stat()
            except OSError as exc:
                out.problems.append(f"{item}: cannot be read ({exc.strerror}). Check the path.")
                continue
            full = plain.add((str(item), st.st_mtime, lambda p=item: read_limited(p)), st.st_size)
            if full:
                yield full
    rest = plain.rest()
    if rest:
        yield rest


def _archive_batches(path: Path, out: IngestResult) -> Iterator[list[_Source]]:
    """An archive's street files in batches of about :data:`BATCH_BYTES`.

    Its other files are reported as skipped.
    """
    batches = _Batches()
    for name, mtime, read, nbytes in _archive_members(path, out):
        full = batches.add((name, mtime, read), nbytes)
        if full:
            yield full
    rest = batches.rest()
    if rest:
        yield rest


def _archive_members(
    path: Path, out: IngestResult
) -> list[tuple[str, float, Callable[[], bytes], int]]:
    """An archive's street files as ``(name, mtime, read, size)``."""
    try:
        zf = zipfile.ZipFile(path)
        members = [i for i in zf.infolist() if not i.is_dir()]
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        out.problems.append(f"{path}: not a readable zip archive ({exc}). Download it again.")
        return []
    street = [i for i in members if i.filename.lower().endswith("-street.csv")]
    total = sum(i.file_size for i in street)
    if total > MAX_ARCHIVE_BYTES:
        out.problems.append(
            f"{path}: its street files would expand to {total:,} bytes, more than the "
            f"{MAX_ARCHIVE_BYTES:,}-byte limit for an archive. Download fewer months at a time."
        )
        return []
    batch = []
    for info in members:
        name = f"{path.name}!{info.filename}"
        if info not in street:
            why = (
                "police.uk outcomes or stop-and-search file (skipped)"
                if info.filename.lower().endswith(NOT_STREET_SUFFIXES)
                else "not a police.uk street file (skipped)"
            )
            out.skipped.append((name, why))
            continue
        batch.append(
            (
                name,
                _zip_time(info),
                lambda zf=zf, i=info, n=name: _read_member(zf, i, n),
                info.file_size,
            )
        )
    return batch


_PRINTABLE = np.zeros(256, dtype=bool)
_PRINTABLE[0x21:0x7F] = True
"""Bytes that are a whole character str.strip keeps: printable ASCII other than space."""


def _edges_printable(column: pa.ChunkedArray) -> bool:
    """Whether every non-empty value of a string column starts and ends in printable ASCII.

    Then ``str.strip`` leaves every value as it is (any character it removes is a space,
    an ASCII control character or outside ASCII). Read from the Arrow buffers: one byte
    at each end of each value, not the whole text.
    """
    for chunk in column.chunks:
        n = len(chunk)
        if not n:
            continue
        _, offsets, data = chunk.buffers()
        off = np.frombuffer(offsets, dtype=np.int32)[chunk.offset : chunk.offset + n + 1]
        text = np.frombuffer(data, dtype=np.uint8) if data is not None else np.empty(0, np.uint8)
        full = off[1:] > off[:-1]
        if not full.any():
            continue
        first = text[off[:-1][full]]
        last = text[off[1:][full] - 1]
        if not (_PRINTABLE[first].all() and _PRINTABLE[last].all()):
            return False
    return True


def _prepare(fid: int, name: str, mtime: float, read: Callable[[], bytes]) -> SourceFile:
    """Check one CSV as the reader does and split its records (run in a worker thread).

    A plain file (every record one line of the header's width, as police.uk's are) is
    split by pyarrow into an Arrow table now; any other keeps its UTF-8 text, to be split
    by the reader's own record splitter in validation
    (:func:`geo.store_validate.validated_rows`). An ASCII file (police.uk's own) is not
    decoded in Python; any other is decoded as the reader decodes it.
    """
    data = read()
    if data.isascii():
        lf, cr = check_bytes(data, name)
        encoding = "utf-8"
        end = data.find(b"\n") + 1 or len(data)
        first = data[:end]
        # A header with an open quote runs past its line: read the whole text.
        head = (data if first.count(b'"') % 2 else first).decode("ascii")
    else:
        src = decode(data, name)
        encoding, head = src.encoding, src.text
        if encoding == "utf-8-sig":
            data = data[3:]
        elif encoding != "utf-8":
            data = head.encode("utf-8")
        lf, cr = data.count(b"\n"), data.count(b"\r")
    reader = csv.reader(io.StringIO(head, newline=""))
    header = read_header(reader, name)
    problem = header_problem(name, header)
    if problem:
        raise InputError(problem)
    table = None
    if reader.line_num == 1:
        table = plain_records(data, len(header), count_lines(data, lf, cr))
    if table is None:
        return SourceFile(fid, name, mtime, header, encoding, data=data)
    n = table.num_rows
    read_cols = [k for k, h in enumerate(header) if h in READ_COLUMNS]
    needs_strip = not all(_edges_printable(table[f"c{k}"]) for k in read_cols)
    if needs_strip:
        # Fields as str.strip leaves them (t<k> beside c<k>, kept as read for the record
        # as text), for the columns validation reads.
        for k in read_cols:
            table = table.append_column(
                f"t{k}", pc.utf8_trim(table[f"c{k}"], characters=WHITESPACE)
            )
    table = table.append_column("fid", pa.array(np.full(n, fid, dtype=np.int32)))
    table = table.append_column("row", pa.array(np.arange(2, n + 2, dtype=np.int64)))
    return SourceFile(fid, name, mtime, header, encoding, needs_strip, table=table)


# --------------------------------------------------------------------------- ingest


def ingest(
    paths: list[str | Path] | str | Path,
    store: str | Path,
    *,
    progress: bool | None = None,
) -> IngestResult:
    """Read police.uk files, folders and archives into a Parquet store.

    Parameters
    ----------
    paths
        Files, folders or archives, of any forces and months.
    store
        The store folder (created when missing or empty).
    progress
        Show a progress bar with rows per second on standard error; by default only
        when standard error is a terminal.

    Returns
    -------
    IngestResult
        The account (see the module docstring). Files that cannot be used are listed in
        :attr:`IngestResult.problems`; every other file is ingested. The store's count
        table is not brought up to date here: the first question does it, or
        :func:`geo.store_counts.refresh_counts` (``hotspots ingest`` calls it).

    Raises
    ------
    StoreError
        If the store is not a store, was written by a newer version, another ingest
        holds its lock, or a partition cannot be written (the disk is full): the
        message names the store and the fix; partitions already written are kept.
    """
    if isinstance(paths, str | Path):
        paths = [paths]
    t0 = time.perf_counter()
    root = open_store(store, create=True)
    result = IngestResult(store=str(root))
    with StoreLock(root):
        work_root = root / TMP_DIR
        if work_root.exists():
            shutil.rmtree(work_root, ignore_errors=True)  # left by a killed ingest
        work_root.mkdir()
        try:
            _ingest_locked(list(paths), root, work_root, result, progress)
        finally:
            shutil.rmtree(work_root, ignore_errors=True)
    result.seconds = time.perf_counter() - t0
    return result


def _progress_bar(progress: bool | None):  # noqa: ANN202 - tqdm or None
    show = sys.stderr.isatty() if progress is None else progress
    if not show:
        return None
    try:
        from tqdm import tqdm  # noqa: PLC0415
    except ImportError:  # pragma: no cover
        return None
    return tqdm(unit=" rows", unit_scale=True, desc="ingest", file=sys.stderr, leave=True)


def _ingest_locked(
    paths: list[str | Path],
    root: Path,
    work_root: Path,
    result: IngestResult,
    progress: bool | None,
) -> None:
    have: dict[tuple[str, str], dict] = {}
    for rec in partitions(root).to_dict(orient="records"):
        if not rec["damaged"]:
            have[(rec["month"], rec["force_key"])] = rec
    con = connect(temp_dir=work_root / "spill")
    bar = _progress_bar(progress)
    reasons: dict[str, int] = {}
    state = {"written": 0}
    fids = itertools.count(1)
    stored = dict(have)  # the store as it was: files in it are not read again
    batches = _sources(paths, result)
    # One thread unzips and checks the next batch while DuckDB works on this one.
    pool = ThreadPoolExecutor(max_workers=1)
    try:
        batch = next(batches, None)
        job = pool.submit(_prepare_batch, batch, work_root, fids, stored) if batch else None
        while job is not None:
            work, prepared = job.result()
            batch = next(batches, None)
            job = pool.submit(_prepare_batch, batch, work_root, fids, stored) if batch else None
            files: dict[int, SourceFile] = {}
            for name, mtime, read, got in prepared:
                if _already_stored(name, mtime, have, result):
                    continue
                if got is None:  # in the store when the ingest began, replaced since
                    got = _try_prepare(next(fids), name, mtime, read)
                if isinstance(got, InputError):
                    result.problems.append(str(got))
                else:
                    files[got.fid] = got
            if files:
                n_rows = _ingest_batch(con, root, work, files, have, result, reasons, state)
                if bar is not None:
                    bar.update(n_rows)
            shutil.rmtree(work, ignore_errors=True)
    except duckdb.IOException as exc:
        raise _disk_error(root, exc) from exc
    except OSError as exc:
        if exc.errno in (errno.ENOSPC, errno.EFBIG, errno.EDQUOT):
            raise _disk_error(root, exc) from exc
        raise
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
        if bar is not None:
            bar.close()
        con.close()
    result.reject_reasons = dict(sorted(reasons.items(), key=lambda kv: -kv[1]))


def _try_prepare(
    fid: int, name: str, mtime: float, read: Callable[[], bytes]
) -> SourceFile | InputError:
    try:
        return _prepare(fid, name, mtime, read)
    except InputError as exc:
        return exc


def _prepare_batch(
    batch: list[tuple[str, float, Callable[[], bytes]]],
    work_root: Path,
    fids: Iterator[int],
    stored: dict,
) -> tuple[Path, list[tuple[str, float, Callable[[], bytes], SourceFile | InputError | None]]]:
    """Unzip and check a batch's files into a new work folder (run in a worker thread).

    A file already in ``stored`` is not read (``None``); a file that cannot be used
    carries its error. Nothing here touches the account: the caller decides.
    """
    work = work_root / uuid.uuid4().hex
    work.mkdir()
    out = []
    for name, mtime, read in batch:
        if _stored_parts(name, mtime, stored):
            out.append((name, mtime, read, None))
        else:
            out.append((name, mtime, read, _try_prepare(next(fids), name, mtime, read)))
    return work, out


def _stored_parts(name: str, mtime: float, have: dict) -> list[dict]:
    """The partitions ``have`` holds from this very file, if it holds them all.

    The same name and modification time; an empty list when any is missing.
    """
    mine = [
        r for r in have.values() if r["source_file"] == name and float(r["source_mtime"]) == mtime
    ]
    if not mine or len(mine) != int(mine[0].get("source_parts") or 0):
        return []
    return mine


def _already_stored(name: str, mtime: float, have: dict, result: IngestResult) -> bool:
    """Whether every partition a file made is in the store from this very file.

    Then it is not read again, and its force-months are reported as duplicates from the
    store's record.
    """
    mine = _stored_parts(name, mtime, have)
    for r in mine:
        result.rows_read += int(r["rows"])
        result.duplicate_force_months.append(
            {
                "month": r["month"],
                "force": r["force"],
                "source_file": name,
                "rows": int(r["rows"]),
                "kept_from": name,
                "why": "this file is already in the store",
            }
        )
    return bool(mine)


def _ingest_batch(
    con: duckdb.DuckDBPyConnection,
    root: Path,
    work: Path,
    files: dict[int, SourceFile],
    have: dict,
    result: IngestResult,
    reasons: dict,
    state: dict,
) -> int:
    rows = validated_rows(con, list(files.values()), result.problems)
    seen = set(pc.unique(rows["fid"]).to_pylist()) if rows is not None else set()
    for k in sorted(set(files) - seen):
        name = files[k].name
        if not any(p.startswith(f"{name}:") for p in result.problems):
            result.problems.append(
                f"{name}: has a header but no data rows. Download the month again."
            )
    n_rows = rows.num_rows if rows is not None else 0
    result.rows_read += n_rows
    if not n_rows:
        return 0
    parts, fallback, keys = partition_keys(rows, {k: f.name for k, f in files.items()})
    winners = _choose(parts, files, have, result)
    if not winners:
        return n_rows
    per_file = collections.Counter(p.fid for p in parts)
    table, taken = taken_rows(
        rows,
        {k: f.name for k, f in files.items()},
        {k: f.mtime for k, f in files.items()},
        fallback,
        keys,
        winners,
        dict(per_file),
    )
    out, accepted, rejected = write_partitions(work, table, taken)
    for w in winners:
        state["written"] += 1
        place_partition(root, out, w.pmonth, w.pkey, state["written"])
        _account(w, accepted[(w.pmonth, w.pkey)], per_file[w.fid], files, have, result)
    kinds = reason_kind(pd.Series(list(rejected), dtype=object))
    for k, n in zip(kinds, rejected.values(), strict=True):
        reasons[k] = reasons.get(k, 0) + n
    return n_rows


def _choose(
    parts: list[Part], files: dict[int, SourceFile], have: dict, result: IngestResult
) -> list[Part]:
    """One copy of each force-month, the copies not taken reported.

    The copy taken is the newer download; on a tie, the one in the store, else the one
    given first.
    """
    by_key: dict[tuple[str, str], list[Part]] = {}
    for p in parts:
        by_key.setdefault((p.pmonth, p.pkey), []).append(p)
    taken = []
    for (month, key), cands in by_key.items():
        best = max(cands, key=lambda c: (files[c.fid].mtime, -c.fid))
        old = have.get((month, key))
        take = old is None or files[best.fid].mtime > float(old["source_mtime"])
        kept = files[best.fid].name if take else old["source_file"]
        for c in cands:
            if take and c is best:
                continue
            if c is best:
                why = (
                    "same modification time as the copy in the store, which is kept"
                    if files[c.fid].mtime == float(old["source_mtime"])
                    else "older than the copy in the store"
                )
            else:
                why = (
                    "same modification time; the copy given first is kept"
                    if files[c.fid].mtime == files[best.fid].mtime
                    else "an older download"
                )
            result.duplicate_force_months.append(
                {
                    "month": month,
                    "force": c.force,
                    "source_file": files[c.fid].name,
                    "rows": int(c.rows),
                    "kept_from": kept,
                    "why": why,
                }
            )
        if take:
            taken.append(best)
    return taken


def _account(
    w: Part,
    acc: int,
    source_parts: int,
    files: dict[int, SourceFile],
    have: dict,
    result: IngestResult,
) -> None:
    """Take a partition written (``acc`` of its rows accepted) into the account."""
    f = files[w.fid]
    rows = int(w.rows)
    month, key = w.pmonth, w.pkey
    old = have.get((month, key))
    result.partitions_written += 1
    result.rows_in += rows
    result.accepted += acc
    result.rejected += rows - acc
    if old is None:
        result.added += acc
    else:
        result.replaced.append(
            {
                "month": month,
                "force": w.force,
                "old_source": old["source_file"],
                "old_rows": int(old["rows"]),
                "new_source": f.name,
                "new_rows": rows,
            }
        )
    have[(month, key)] = {
        "month": month,
        "force_key": key,
        "force": w.force,
        "source_file": f.name,
        "source_mtime": f.mtime,
        "source_parts": int(source_parts),
        "rows": rows,
        "accepted": acc,
        "rejected": rows - acc,
    }


def _disk_error(root: Path, exc: Exception) -> StoreError:
    first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    return StoreError(
        f"{root}: a partition could not be written ({first}); the disk is full or a file-size "
        "limit was reached. Free space and run the same ingest again: the partitions already "
        "written are kept and the rest are added."
    )
