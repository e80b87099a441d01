"""Ingest police.uk street files into a Parquet store (:mod:`geo.store`).

``ingest(paths, store)`` reads police.uk files, folders and archives into ``store``:

* **Validation.** The rules and reasons of the row-by-row reader
  (:func:`geo.police_uk.parse_police_uk` and the "No location" rule of
  :func:`geo.io.finish_incidents`), evaluated in SQL on all-VARCHAR columns; the rare
  values the SQL does not decide (numbers not written as plain decimals, points near the
  edges of Great Britain) are checked by :func:`geo.validate.check_coordinates` itself.
  Records are split by pyarrow (:func:`geo.sources.plain_records`, as the reader's own
  fast path); a file it cannot split one record a line (a short or long record, a blank
  line, a quoted line break) is split by :func:`geo.sources.read_records` instead, so
  line numbers and field counts are those of the reader. DuckDB computes only what
  validation adds or changes (coordinates, reasons, fields stripped of blanks); fields it
  leaves as read go from the Arrow records to the Parquet partitions untouched. The
  check that a point lies within 1 km of the LSOA its row names needs the LSOA polygons,
  so it is made when an area is taken out (:func:`geo.store_query.store_incidents` with
  a study area).
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
import re
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

from geo.crs import GB_BOUNDS_LONLAT
from geo.errors import InputError
from geo.police_uk import COLUMN_NAMES, header_problem
from geo.sources import (
    MAX_ARCHIVE_BYTES,
    MAX_FILE_BYTES,
    NOT_STREET_SUFFIXES,
    SourceText,
    check_bytes,
    count_lines,
    csv_lines,
    decode,
    expand_paths,
    plain_records,
    read_header,
    read_limited,
    read_records,
)
from geo.store import (
    TMP_DIR,
    UNPLACED,
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
from geo.validate import check_coordinates, check_field_count

__all__ = ["BATCH_BYTES", "PAUSE_ENV", "ROW_GROUP_ROWS", "IngestResult", "ingest"]

BATCH_BYTES = 16 * 1024 * 1024
"""CSVs (plain or in an archive) are read in batches of about this many bytes: the next
batch is unzipped and split in a worker thread while DuckDB validates this one, so small
batches start the work sooner and keep both cores busy."""

_WHITESPACE = "".join(c for c in map(chr, range(0x110000)) if c.isspace())
"""Every character ``str.strip`` removes: SQL ``trim`` is given the same set."""

_INNER_BOX = (-6.5, 50.1, 1.78, 60.86)
"""A box whose every point projects onto the National Grid (the reader's own box):
points in Great Britain outside it are checked by :func:`check_coordinates`."""

_PLAIN_NUMBER = r"^[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)$"

_CANON = {
    column: {"force": "falls_within", "lon_raw": "lon_s", "lat_raw": "lat_s"}.get(name, name)
    for column, name in COLUMN_NAMES.items()
}
"""The police.uk columns validation reads, by their name in the SQL (the reader's names,
"Falls within" and the coordinates' text named apart from the values made of them)."""


# --------------------------------------------------------------------------- sources


@dataclass
class _File:
    """One CSV made ready for DuckDB: its records as an Arrow table, or its text to split."""

    fid: int
    name: str
    mtime: float
    header: list[str]
    encoding: str
    needs_strip: bool = True
    table: pa.Table | None = None
    data: bytes | None = None

    def text(self) -> SourceText:
        """The file as the reader decodes it (from its UTF-8 bytes)."""
        return SourceText(self.name, (self.data or b"").decode("utf-8"), self.encoding)


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


def _prepare(fid: int, name: str, mtime: float, read: Callable[[], bytes]) -> _File:
    """Check one CSV as the reader does and split its records (run in a worker thread).

    A plain file (every record one line of the header's width, as police.uk's are) is
    split by pyarrow into an Arrow table now; any other keeps its UTF-8 text, to be split
    by the reader's own record splitter (:func:`_stage_slow`). An ASCII file (police.uk's
    own) is not decoded in Python; any other is decoded as the reader decodes it.
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
        return _File(fid, name, mtime, header, encoding, data=data)
    n = table.num_rows
    read_cols = [k for k, h in enumerate(header) if h in _CANON]
    needs_strip = not all(_edges_printable(table[f"c{k}"]) for k in read_cols)
    if needs_strip:
        # Fields as str.strip leaves them (t<k> beside c<k>, kept as read for the record
        # as text), for the columns validation reads.
        for k in read_cols:
            table = table.append_column(
                f"t{k}", pc.utf8_trim(table[f"c{k}"], characters=_WHITESPACE)
            )
    table = table.append_column("fid", pa.array(np.full(n, fid, dtype=np.int32)))
    table = table.append_column("row", pa.array(np.arange(2, n + 2, dtype=np.int64)))
    return _File(fid, name, mtime, header, encoding, needs_strip, table=table)


# --------------------------------------------------------------------------- SQL


def _serialise(cols: list[str]) -> str:
    """SQL for the record as the csv module writes it (the reader's ``raw``)."""
    parts = [
        f"CASE WHEN regexp_matches(coalesce({c}, ''), '[,\"\\r\\n]') "
        f"THEN '\"' || replace({c}, '\"', '\"\"') || '\"' ELSE coalesce({c}, '') END"
        for c in cols
    ]
    return " || ',' || ".join(parts)


def _strip(expr: str) -> str:
    """SQL for ``expr.strip()``.

    The full trim runs only where an end character sorts before ``!`` or from U+0085 on:
    every whitespace character does, and UTF-8 keeps code point order, so the byte-wise
    comparison is exact.
    """
    return (
        f"CASE WHEN {expr}[1] < '!' OR {expr}[-1] < '!' OR {expr}[1] >= '\u0085' "
        f"OR {expr}[-1] >= '\u0085' THEN trim({expr}, $ws) ELSE {expr} END"
    )


_MONTH_RE = "[0-9]{4}-(0[1-9]|1[0-2])"

_REASON = f"""CASE WHEN width_reason <> '' THEN width_reason
  ELSE coalesce(nullif(concat_ws('; ', nullif(month_reason, ''), nullif(coord_reason, ''),
                                 nullif(type_reason, '')), ''),
       CASE WHEN lsoa_code = '' AND no_location THEN '{UNPLACED.replace("'", "''")}' END, '')
  END"""
"""A row's reason, combined as the reader does (field count alone, else every other
reason joined by "; "; then the "No location" rule of geo.io.finish_incidents)."""

_VALIDATED = """
WITH s AS (
  SELECT *, {width_reason} AS width_reason, {crime_id} AS crime_id, {month} AS month,
    {falls_within} AS f0, {reported_by} AS reported_by, {lsoa_code} AS lsoa_code,
    {crime_type} AS crime_type, {location} AS location, {lsoa_name} AS lsoa_name,
    {outcome} AS outcome, {context} AS context, {lon_s} AS lo, {lat_s} AS la
  FROM {source}
), p AS (
  SELECT *,
    lo = '' AS lo_e, la = '' AS la_e,
    regexp_matches(lo, $plain) AS lo_p, regexp_matches(la, $plain) AS la_p
  FROM s
), n AS (
  SELECT *,
    TRY_CAST(CASE WHEN lo_p THEN lo END AS DOUBLE) AS lon0,
    TRY_CAST(CASE WHEN la_p THEN la END AS DOUBLE) AS lat0
  FROM p
), c AS (
  SELECT *,
    (NOT lo_e AND NOT lo_p) OR (NOT la_e AND NOT la_p)
      OR (lo_p AND la_p AND (
           (lon0 BETWEEN $x0 AND $x1 AND lat0 BETWEEN $y0 AND $y1
            AND NOT (lon0 BETWEEN $a0 AND $a1 AND lat0 BETWEEN $b0 AND $b1))
           OR least(abs(lon0 - $x0), abs(lon0 - $x1), abs(lon0 - $y0), abs(lon0 - $y1),
                    abs(lat0 - $x0), abs(lat0 - $x1), abs(lat0 - $y0), abs(lat0 - $y1)) < 1e-6
      )) AS py_check
  FROM n
), cf AS (
  {fixed}
), r AS (
  SELECT *,
    CASE WHEN f0 = '' THEN reported_by ELSE f0 END AS force,
    {no_location} AS no_location,
    {lon_out} AS lon,
    {lat_out} AS lat,
    CASE WHEN regexp_full_match(month, '{month_re}') THEN ''
         ELSE 'Month: ''' || substring(month, 1, 20) || ''' is not a month in YYYY-MM form '
              || '(e.g. 2017-02); fix the value or drop the row' END AS month_reason,
    CASE
      WHEN py_check THEN {py_reason}
      WHEN lo_e AND NOT la_e THEN 'Longitude: missing while Latitude is present; give both or neither'
      WHEN la_e AND NOT lo_e THEN 'Latitude: missing while Longitude is present; give both or neither'
      WHEN lo_e AND la_e THEN ''
      WHEN lon0 BETWEEN $x0 AND $x1 AND lat0 BETWEEN $y0 AND $y1 THEN ''
      WHEN lat0 BETWEEN $x0 AND $x1 AND lon0 BETWEEN $y0 AND $y1 THEN
        'Longitude/Latitude: latitude and longitude look swapped (longitude is in the latitude '
        || 'range and vice versa); swap the two columns in the file'
      ELSE 'Longitude/Latitude: point lies outside Great Britain; check the coordinates are '
        || 'longitude/latitude in degrees (WGS84)'
    END AS coord_reason,
    CASE WHEN crime_type = '' THEN 'Crime type: empty; every row needs a type' ELSE '' END
      AS type_reason
  FROM cf
), q AS (
  SELECT *, {reason} AS reason FROM r
)
SELECT {select}
"""
"""One group of files validated: every record with its reason, as the reader decides it.

The last CTE, ``q``, holds every column; the caller's ``{select}`` picks those it needs
(DuckDB then reads and computes only what they use)."""

_FIX_JOIN = (
    "SELECT c.*, fx.lon_f, fx.lat_f, fx.nl, fx.cr FROM c "
    'LEFT JOIN pyfix fx ON c.fid = fx.fid AND c."row" = fx.rw'
)
"""Rows whose coordinates the SQL does not decide take the reader's own verdict."""


@dataclass
class _Group:
    """Files of one batch read alike: one header, one way of splitting, one strip rule.

    ``source`` names the Arrow table (``table``) registered with DuckDB; ``slow`` files
    were split by the reader's own splitter and are stripped in SQL (``strip``);
    ``trimmed`` plain files carry their fields stripped in ``t<k>`` beside ``c<k>``.
    """

    header: tuple[str, ...]
    source: str
    strip: bool
    slow: bool
    table: pa.Table
    trimmed: bool = False


_CANON_OUT = tuple(
    "force" if name == "falls_within" else name
    for name in _CANON.values()
    if name not in ("lon_s", "lat_s")
)
"""Text columns of a validated row (``force`` is "Falls within", else "Reported by")."""


def _validated_sql(group: _Group, fixed: bool, select: str) -> str:
    """SQL validating one group's records (see :data:`_VALIDATED`), selecting ``select``.

    ``select`` is the query's tail after ``SELECT`` (columns, ``FROM q`` and any
    clause); ``RAW_TEXT`` in it stands for the record as the csv module writes it.
    ``fixed`` joins the verdicts of :func:`geo.validate.check_coordinates` (table
    ``pyfix``) for the rows the SQL does not decide.
    """
    header = list(group.header)
    cols = {}
    for old, new in _CANON.items():
        if old not in header:
            cols[new] = "''"
            continue
        expr = f"{'t' if group.trimmed else 'c'}{header.index(old)}"
        if group.slow:
            expr = f"coalesce({expr}, '')"
        cols[new] = _strip(expr) if group.strip else expr
    raw = _serialise([f"c{k}" for k in range(len(header))])
    if group.slow:
        raw = f"coalesce(orig_raw, {raw})"
    sql = _VALIDATED.format(
        source=group.source,
        width_reason="width_reason_in" if group.slow else "''",
        **cols,
        fixed=_FIX_JOIN if fixed else "SELECT * FROM c",
        no_location="CASE WHEN py_check THEN nl ELSE lo_e AND la_e END"
        if fixed
        else "lo_e AND la_e",
        lon_out="CASE WHEN py_check THEN lon_f WHEN lo_e AND la_e THEN NULL ELSE lon0 END"
        if fixed
        else "CASE WHEN lo_e AND la_e OR py_check THEN NULL ELSE lon0 END",
        lat_out="CASE WHEN py_check THEN lat_f WHEN lo_e AND la_e THEN NULL ELSE lat0 END"
        if fixed
        else "CASE WHEN lo_e AND la_e OR py_check THEN NULL ELSE lat0 END",
        py_reason="cr" if fixed else "''",
        month_re=_MONTH_RE,
        reason=_REASON,
        select=select.replace("RAW_TEXT", raw),
    )
    constants = _constants()
    return _CONSTANT.sub(lambda m: constants[m.group(1)], sql)


def _constants() -> dict[str, str]:
    """The SQL literals of the validation's named constants (``$plain``, ``$x0``, ...)."""
    x0, y0, x1, y1 = GB_BOUNDS_LONLAT
    a0, b0, a1, b1 = _INNER_BOX
    numbers = {"x0": x0, "x1": x1, "y0": y0, "y1": y1, "a0": a0, "a1": a1, "b0": b0, "b1": b1}
    out = {k: repr(float(v)) for k, v in numbers.items()}
    out["plain"] = f"'{_sql_text(_PLAIN_NUMBER)}'"
    out["ws"] = f"'{_sql_text(_WHITESPACE)}'"
    return out


_CONSTANT = re.compile(r"\$([a-z][a-z0-9]*)")


def _sql_text(text: str) -> str:
    """``text`` for a single-quoted SQL literal."""
    return text.replace("'", "''")


# --------------------------------------------------------------------------- ingest


def _stage(
    con: duckdb.DuckDBPyConnection, files: list[_File], result: IngestResult
) -> list[_Group]:
    """Give DuckDB every record of a batch, in groups of files read alike.

    Plain files (split by pyarrow in :func:`_prepare`) of one header and one strip rule
    are one Arrow table; every other file is split by the reader's own
    :func:`geo.sources.read_records` into a table of its own.
    """
    fast: dict[tuple[tuple[str, ...], bool], list[pa.Table]] = {}
    groups: list[_Group] = []
    for f in files:
        if f.table is not None:
            fast.setdefault((tuple(f.header), f.needs_strip), []).append(f.table)
    for g, ((header, strip), tables) in enumerate(fast.items()):
        table = pa.concat_tables(tables)
        con.register(f"fast{g}", table)
        groups.append(_Group(header, f"fast{g}", False, slow=False, table=table, trimmed=strip))
    for i, f in enumerate(x for x in files if x.table is None):
        got = _stage_slow(f, result)
        if got is not None:
            header, table = got
            con.register(f"slow{i}", table)
            groups.append(_Group(tuple(header), f"slow{i}", strip=True, slow=True, table=table))
    return groups


def _stage_slow(f: _File, result: IngestResult) -> tuple[list[str], pa.Table] | None:
    """Split a file with the reader's own record splitter: its header and records.

    None when it holds no record (or cannot be split: the problem is reported).
    """
    try:
        recs = read_records(f.text(), engine="csv")
    except InputError as exc:
        result.problems.append(str(exc))
        return None
    n = len(recs.frame)
    if not n:
        return None
    header = recs.header
    width_reason = check_field_count(recs.widths, header, index=recs.frame.index)
    table = {
        f"c{k}": pa.array(recs.frame[k].astype(object).tolist(), pa.string())
        for k in range(len(header))
    }
    table["fid"] = pa.array(np.full(n, f.fid, dtype=np.int32))
    table["row"] = pa.array(recs.lines.astype(np.int64))
    table["width_reason_in"] = pa.array(width_reason.tolist(), pa.string())
    origin = np.full(n, None, dtype=object)
    if recs.originals:
        idx = np.array(sorted(recs.originals), dtype=np.int64)
        origin[idx] = recs.raw(idx)
    table["orig_raw"] = pa.array(origin.tolist(), pa.string())
    return header, pa.table(table)


def _check_group(con: duckdb.DuckDBPyConnection, group: _Group) -> pa.Table:
    """Every record of one group validated, in the group's order, as an Arrow table.

    Columns ``fid``, ``row``, the text columns of :data:`_CANON_OUT`, ``lon``, ``lat``,
    ``no_location``, ``reason``, ``raw`` (the record as text, for rejected rows only)
    and ``keyed`` (the row's month is valid and its force not empty). DuckDB computes
    what validation changes; a column it leaves as read (a file needing no strip) is
    taken from the records as they are. The rare coordinates the SQL does not decide
    are checked by :func:`geo.validate.check_coordinates` first.
    """
    select = (
        "fid, \"row\", lon, lat, no_location, reason, month_reason = '' AND force <> '' AS keyed"
    )
    if group.strip:
        select += ", CASE WHEN reason <> '' THEN RAW_TEXT END AS raw, " + ", ".join(_CANON_OUT)
    else:
        # The record as text is made below, for the rejected rows only: naming every field
        # here would make DuckDB convert every field of every row from Arrow.
        select += ", CASE WHEN f0 = '' THEN reported_by END AS force"
    sql = _validated_sql(
        group,
        False,
        select + ", py_check, CASE WHEN py_check THEN lo END AS lo_odd, "
        "CASE WHEN py_check THEN la END AS la_odd FROM q",
    )
    out = con.execute(sql).to_arrow_table()
    src = group.table
    if not (
        out["fid"].equals(src["fid"].cast(out["fid"].type))
        and out["row"].equals(src["row"].cast(out["row"].type))
    ):  # pragma: no cover - DuckDB keeps the order of a scan without joins
        out = out.take(pc.sort_indices(out, [("fid", "ascending"), ("row", "ascending")]))
    if pc.any(out["py_check"]).as_py():
        out = _check_odd(con, group, out, select)
    cols = {"fid": src["fid"], "row": src["row"]}
    if group.strip:
        for c in _CANON_OUT:
            cols[c] = out[c]
    else:
        header = list(group.header)
        n = src.num_rows
        blank = pa.array([""], pa.string())
        for old, new in _CANON.items():
            if new in ("lon_s", "lat_s"):
                continue
            name = "force" if new == "falls_within" else new
            if old in header:
                cols[name] = src[f"{'t' if group.trimmed else 'c'}{header.index(old)}"]
            else:
                cols[name] = blank.take(pa.array(np.zeros(n, dtype=np.int32)))
        cols["force"] = pc.coalesce(out["force"], cols["force"])
        cols["raw"] = _records_text(src, out["reason"], len(header))
    for c in ("lon", "lat", "no_location", "reason", "keyed"):
        cols[c] = out[c]
    if group.strip:
        cols["raw"] = out["raw"]
    order = ["fid", "row", *_CANON_OUT, "lon", "lat", "no_location", "reason", "raw", "keyed"]
    return pa.table({c: cols[c] for c in order})


def _check_odd(
    con: duckdb.DuckDBPyConnection, group: _Group, out: pa.Table, select: str
) -> pa.Table:
    """``out`` with the rows the SQL does not decide (``py_check``) decided by the reader.

    Their coordinates are checked by :func:`geo.validate.check_coordinates` and their
    columns made again with its verdicts (in the group's order, as ``out``'s rows are).
    """
    # Only the odd rows are validated again, from a table of their own.
    mask = out["py_check"].combine_chunks()
    records = group.table.filter(mask)
    con.register("odd_records", records)
    small = _Group(
        group.header, "odd_records", group.strip, group.slow, records, trimmed=group.trimmed
    )
    odd = out.filter(mask).select(["fid", "row", "lo_odd", "la_odd"]).to_pydict()
    lon, lat, no_loc, reason = check_coordinates(
        pd.Series(odd["lo_odd"], dtype=object), pd.Series(odd["la_odd"], dtype=object)
    )
    fix = pd.DataFrame(
        {
            "fid": np.asarray(odd["fid"], dtype=np.int32),
            "rw": np.asarray(odd["row"], dtype=np.int64),
            "lon_f": lon,
            "lat_f": lat,
            "nl": no_loc,
            "cr": reason.to_numpy(dtype=object).astype(str),
        }
    )
    con.register("pyfix_df", fix)
    con.execute("CREATE OR REPLACE TEMP TABLE pyfix AS SELECT * FROM pyfix_df")
    con.unregister("pyfix_df")
    try:
        sql = _validated_sql(small, True, select + ' FROM q ORDER BY fid, "row"')
        fixed = con.execute(sql).to_arrow_table()
    finally:
        con.execute("DROP TABLE IF EXISTS pyfix")
        con.unregister("odd_records")
    cols = {}
    for name in out.column_names:
        col = out[name]
        if name in ("lon", "lat", "no_location", "reason", "raw"):
            col = pc.replace_with_mask(col.combine_chunks(), mask, fixed[name].combine_chunks())
        cols[name] = col
    return pa.table(cols)


def _records_text(table: pa.Table, reasons: pa.ChunkedArray, width: int) -> pa.Array:
    """Each rejected record as the csv module writes it (the reader's ``raw``), else null.

    ``table`` holds the records' fields as ``c0`` ... ``c{width-1}``; a record is rejected
    where its reason is not empty.
    """
    keep = pc.not_equal(reasons, "")
    bad = np.flatnonzero(keep.to_numpy(zero_copy_only=False))
    out = np.full(table.num_rows, None, dtype=object)
    if len(bad):
        fields = table.select([f"c{k}" for k in range(width)]).filter(keep)
        out[bad] = csv_lines(zip(*(col.to_pylist() for col in fields.columns), strict=True))
    return pa.array(out, pa.string())


def _reason_kind(reasons: pd.Series) -> pd.Series:
    first = reasons.astype(str).str.split("; ").str[0]
    return first.str.replace(r"'[^']*'", "'...'", regex=True).str.replace(
        r"\d+ fields", "N fields", regex=True
    )


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
            files: dict[int, _File] = {}
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
) -> _File | InputError:
    try:
        return _prepare(fid, name, mtime, read)
    except InputError as exc:
        return exc


def _prepare_batch(
    batch: list[tuple[str, float, Callable[[], bytes]]],
    work_root: Path,
    fids: Iterator[int],
    stored: dict,
) -> tuple[Path, list[tuple[str, float, Callable[[], bytes], _File | InputError | None]]]:
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
    files: dict[int, _File],
    have: dict,
    result: IngestResult,
    reasons: dict,
    state: dict,
) -> int:
    groups = _stage(con, list(files.values()), result)
    try:
        checked = [_check_group(con, g) for g in groups]
    finally:
        for g in groups:
            con.unregister(g.source)
    rows = pa.concat_tables(checked) if checked else None
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
    kinds = _reason_kind(pd.Series(list(rejected), dtype=object))
    for k, n in zip(kinds, rejected.values(), strict=True):
        reasons[k] = reasons.get(k, 0) + n
    return n_rows


def _choose(
    parts: list[Part], files: dict[int, _File], have: dict, result: IngestResult
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
    w: Part, acc: int, source_parts: int, files: dict[int, _File], have: dict, result: IngestResult
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
