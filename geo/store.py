"""A Parquet store of police.uk street rows for any forces and months, read through DuckDB.

* **Layout.** ``<store>/data/month=YYYY-MM/force_key=<force key>/part.parquet``: one file per
  force-month (the force key is the "Falls within" name in lower case with every run of
  other characters turned into ``-``, e.g. ``hampshire-constabulary``). Each file holds
  every row of that force-month as read, accepted rows with ``reason == ""`` and rejected
  rows with their reason, file, line and the line as read (``raw``), sorted by LSOA code
  in row groups of :data:`geo.store_ingest.ROW_GROUP_ROWS` rows (so a query for a few
  LSOAs reads few of them); its columns ``source_file``, ``source_mtime`` and
  ``source_parts`` name the file it came from. ``<store>/STORE_FORMAT.json`` holds the
  format version; ``<store>/ingest.lock`` is locked while an ingest runs; ``<store>/tmp/``
  holds work files; ``<store>/cache/`` holds derived tables (:mod:`geo.store_counts`).
* **Writing.** :func:`geo.store_ingest.ingest` reads police.uk files, folders and archives
  into a store; this module holds what every reader and writer of a store shares: its
  layout, format check, lock, partition listing and DuckDB connection.
"""

from __future__ import annotations

import datetime as dt
import fcntl
import io
import json
import os
import re
import stat
import uuid
from pathlib import Path
from typing import NamedTuple

import duckdb
import numpy as np
import pandas as pd

from geo.errors import InputError

__all__ = [
    "DATA_DIR",
    "DUCKDB_MEMORY_LIMIT",
    "LOCK_FILE",
    "PART_FILE",
    "STORE_COLUMNS",
    "STORE_FORMAT",
    "TMP_DIR",
    "UNPLACED",
    "StoreError",
    "StoreLock",
    "connect",
    "data_glob",
    "force_key",
    "fsync_dir",
    "open_store",
    "PartitionEntry",
    "partition_entries",
    "partitions",
    "spatial_extension_path",
]

STORE_FORMAT = 1
"""Version of the store layout this code writes and reads."""

FORMAT_FILE = "STORE_FORMAT.json"
LOCK_FILE = "ingest.lock"
DATA_DIR = "data"
TMP_DIR = "tmp"
PART_FILE = "part.parquet"

DUCKDB_MEMORY_LIMIT = "1GB"
"""DuckDB's memory limit for store work (it spills to ``<store>/tmp`` beyond it)."""

STORE_COLUMNS = (
    "source_file",
    "row",
    "crime_id",
    "force",
    "reported_by",
    "lon",
    "lat",
    "no_location",
    "location",
    "lsoa_code",
    "lsoa_name",
    "crime_type",
    "outcome",
    "context",
    "reason",
    "raw",
    "source_mtime",
    "source_parts",
)
"""Columns of a partition file (``month`` and ``force_key`` come from its path)."""

UNPLACED = (
    "Longitude/Latitude/LSOA code: all empty, so the row cannot be placed in any area "
    "(police.uk 'No location' row)"
)


class StoreError(InputError):
    """A store that cannot be used as it is; the message names it and the fix."""


def spatial_extension_path() -> Path:
    """The DuckDB spatial extension shipped in the ``duckdb-extension-spatial`` wheel.

    Returns
    -------
    pathlib.Path

    Raises
    ------
    StoreError
        If the wheel is not installed.
    """
    import importlib.util  # noqa: PLC0415

    spec = importlib.util.find_spec("duckdb_extension_spatial")
    if spec is None or not spec.submodule_search_locations:
        msg = (
            "the DuckDB spatial extension is not installed; install the "
            f"duckdb-extension-spatial=={duckdb.__version__} wheel."
        )
        raise StoreError(msg)
    base = Path(next(iter(spec.submodule_search_locations)))
    path = base / "extensions" / f"v{duckdb.__version__}" / "spatial.duckdb_extension"
    if not path.exists():
        found = sorted(base.rglob("spatial.duckdb_extension"))
        if not found:
            msg = f"{base}: holds no spatial.duckdb_extension; reinstall duckdb-extension-spatial."
            raise StoreError(msg)
        path = found[0]
    return path


def connect(
    *, spatial: bool = False, threads: int | None = None, temp_dir: Path | None = None
) -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB connection set up for store work.

    Parameters
    ----------
    spatial
        Load the spatial extension from the installed wheel (never from the network).
    threads
        Worker threads (DuckDB's default: one per core).
    temp_dir
        Where DuckDB may spill.

    Returns
    -------
    duckdb.DuckDBPyConnection
    """
    con = duckdb.connect(
        config={"autoinstall_known_extensions": False, "autoload_known_extensions": False}
    )
    con.execute(f"SET memory_limit='{DUCKDB_MEMORY_LIMIT}'")
    con.execute("SET preserve_insertion_order=true")
    con.execute("SET enable_progress_bar=false")
    if threads:
        con.execute(f"SET threads={int(threads)}")
    if temp_dir is not None:
        con.execute("SET temp_directory=?", [str(temp_dir)])
    if spatial:
        path = str(spatial_extension_path()).replace("'", "''")
        con.execute(f"LOAD '{path}'")
    return con


def force_key(force: str) -> str:
    """The partition key of a force name: lower case, other characters runs as ``-``.

    Parameters
    ----------
    force
        "Falls within" value, e.g. ``Hampshire Constabulary``.

    Returns
    -------
    str
        e.g. ``hampshire-constabulary`` (``unknown`` for a name with no letter or digit).

    Examples
    --------
    >>> force_key("Avon and Somerset Constabulary")
    'avon-and-somerset-constabulary'
    """
    key = re.sub(r"[^a-z0-9]+", "-", force.lower()).strip("-")
    return key or "unknown"


def data_glob(store: str | Path) -> str:
    """The glob of every partition file of a store (for ``read_parquet``)."""
    return str(Path(store) / DATA_DIR / "month=*" / "force_key=*" / PART_FILE)


class PartitionEntry(NamedTuple):
    """One partition file as found on disk (see :func:`partition_entries`)."""

    path: str
    month: str
    force_key: str
    stat: os.stat_result


def partition_entries(
    store: str | Path, month_from: str | None = None, month_to: str | None = None
) -> list[PartitionEntry]:
    """Every partition file of a store (of some months), each stat'ed once.

    The files :func:`data_glob` matches, sorted by path; folders of months outside the
    bounds are not looked into. Plain strings, no ``Path`` objects: listing the 2,400
    partitions of 60 national months takes 0.02 s.

    Parameters
    ----------
    store
        The store folder.
    month_from, month_to
        Inclusive ``YYYY-MM`` bounds (all months by default).

    Returns
    -------
    list of PartitionEntry
        ``path`` (``<store>/data/month=M/force_key=K/part.parquet``), ``month`` (M),
        ``force_key`` (K) and ``stat``.
    """
    data = os.path.join(str(store), DATA_DIR)
    if not os.path.isdir(data):
        return []
    lo, hi = month_from or "0000-00", month_to or "9999-99"
    found = []
    for month in os.scandir(data):
        m = month.name.removeprefix("month=")
        if m == month.name or not lo <= m <= hi or not month.is_dir():
            continue
        for key in os.scandir(month.path):
            k = key.name.removeprefix("force_key=")
            if k == key.name:
                continue
            part = os.path.join(key.path, PART_FILE)
            try:
                st = os.stat(part)
            except OSError:
                continue
            if stat.S_ISREG(st.st_mode):
                found.append(PartitionEntry(part, m, k, st))
    return sorted(found, key=lambda e: e.path)


# --------------------------------------------------------------------------- store files


def open_store(store: str | Path, *, create: bool = False) -> Path:
    """Check a store's format version (creating the store if asked).

    Parameters
    ----------
    store
        The store folder.
    create
        Create an empty store when the folder is missing or empty.

    Returns
    -------
    pathlib.Path

    Raises
    ------
    StoreError
        If the folder is not a store, or was written by a newer version.
    """
    path = Path(store)
    vfile = path / FORMAT_FILE
    if not vfile.exists():
        if path.exists() and not path.is_dir():
            msg = f"{path}: is a file, not a store folder; give a folder for --store."
            raise StoreError(msg)
        if path.exists() and any(path.iterdir()):
            msg = (
                f"{path}: not a hotspots store (it has no {FORMAT_FILE}) and is not empty; "
                "give an empty or new folder for --store."
            )
            raise StoreError(msg)
        if not create:
            msg = f"{path}: no store here; run 'hotspots ingest FILES --store {path}' first."
            raise StoreError(msg)
        path.mkdir(parents=True, exist_ok=True)
        _atomic_bytes(
            vfile,
            json.dumps(
                {"format": STORE_FORMAT, "layout": "data/month=YYYY-MM/force_key=KEY/part.parquet"}
            ).encode(),
        )
        return path
    try:
        version = int(json.loads(vfile.read_text(encoding="utf-8"))["format"])
    except (ValueError, KeyError, TypeError, OSError) as exc:
        msg = (
            f"{vfile}: unreadable store format file ({exc}); restore it as "
            f'{{"format": {STORE_FORMAT}}} if this store was written by this version.'
        )
        raise StoreError(msg) from exc
    if version > STORE_FORMAT:
        msg = (
            f"{path}: written by a newer version of hotspots (store format {version}; this "
            f"version reads format {STORE_FORMAT}); upgrade hotspots, or ingest into "
            "another --store folder."
        )
        raise StoreError(msg)
    return path


def fsync_dir(path: Path) -> None:
    """Flush a folder's entries to disk, so a file moved or made in it survives a crash.

    Parameters
    ----------
    path
        The folder.
    """
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _atomic_bytes(path: Path, data: bytes) -> None:
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex}.tmp")
    with open(tmp, "wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)
    fsync_dir(path.parent)


class StoreLock:
    """An exclusive lock on a store for one ingest.

    It is an ``fcntl.flock`` lock, freed when the process ends however it ends, so a
    killed ingest leaves no stale lock.

    Parameters
    ----------
    store
        The store folder.

    Raises
    ------
    StoreError
        On entering, if another process holds the lock.
    """

    def __init__(self, store: Path) -> None:
        self.path = Path(store) / LOCK_FILE
        self._fh: io.TextIOWrapper | None = None

    def __enter__(self) -> StoreLock:
        fh = open(self.path, "a+", encoding="utf-8")  # noqa: SIM115 - held until __exit__
        try:
            fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            fh.seek(0)
            holder = fh.read().strip() or "another process"
            fh.close()
            msg = (
                f"{self.path.parent}: another ingest is writing to this store ({holder}); "
                "wait for it to finish, then run this one again."
            )
            raise StoreError(msg) from exc
        fh.seek(0)
        fh.truncate()
        fh.write(f"pid {os.getpid()} since {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M:%S} UTC")
        fh.flush()
        self._fh = fh
        return self

    def __exit__(self, *exc: object) -> None:
        if self._fh is not None:
            self._fh.seek(0)
            self._fh.truncate()
            fcntl.flock(self._fh.fileno(), fcntl.LOCK_UN)
            self._fh.close()
            self._fh = None


def partitions(store: str | Path) -> pd.DataFrame:
    """The partitions of a store, and any that cannot be read.

    Parameters
    ----------
    store
        The store folder.

    Returns
    -------
    pandas.DataFrame
        One row per partition: ``month``, ``force_key``, ``force``, ``source_file``,
        ``source_mtime`` (seconds since 1970, UTC), ``source_parts`` (how many partitions
        its source file made), ``rows``, ``accepted``, ``rejected``,
        ``path``, ``damaged`` (why the file cannot be read, else ``""``).
    """
    cols = [
        "month",
        "force_key",
        "force",
        "source_file",
        "source_mtime",
        "source_parts",
        "rows",
        "accepted",
        "rejected",
        "path",
        "damaged",
    ]
    files = [e.path for e in partition_entries(store)]
    if not files:
        return pd.DataFrame(columns=cols)
    con = connect()
    damaged: dict[str, str] = {}
    try:
        try:
            df = _partition_rows(con, files)
        except duckdb.Error:
            good = []
            for f in files:
                try:
                    _partition_rows(con, [f])
                    good.append(f)
                except duckdb.Error as exc:
                    damaged[f] = str(exc).splitlines()[0][:300]
            df = _partition_rows(con, good) if good else pd.DataFrame(columns=cols)
    finally:
        con.close()
    df["damaged"] = ""
    bad = pd.DataFrame(
        [
            {
                "month": Path(f).parent.parent.name.removeprefix("month="),
                "force_key": Path(f).parent.name.removeprefix("force_key="),
                "force": "",
                "source_file": "",
                "source_mtime": np.nan,
                "source_parts": 0,
                "rows": 0,
                "accepted": 0,
                "rejected": 0,
                "path": f,
                "damaged": why,
            }
            for f, why in damaged.items()
        ],
        columns=cols,
    )
    out = pd.concat([df[cols], bad], ignore_index=True) if len(bad) else df[cols]
    return out.sort_values(["month", "force_key"], ignore_index=True)


def _partition_rows(con: duckdb.DuckDBPyConnection, files: list[str]) -> pd.DataFrame:
    return con.execute(
        """SELECT month, force_key, min("force") AS "force", min(source_file) AS source_file,
             max(source_mtime) AS source_mtime, max(source_parts) AS source_parts,
             count(*) AS "rows",
             count(*) FILTER (WHERE reason = '') AS accepted,
             count(*) FILTER (WHERE reason <> '') AS rejected, filename AS path
           FROM read_parquet(?, hive_partitioning=true, filename=true,
                             hive_types={'month': VARCHAR, 'force_key': VARCHAR})
           GROUP BY ALL""",
        [files],
    ).fetchdf()
