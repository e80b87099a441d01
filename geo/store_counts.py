"""A store's count table: accepted rows counted by partition, LSOA code and crime type.

National questions (:func:`geo.store_query.national_counts`) and the search for the
partitions that hold an area's rows (:func:`geo.store_query.store_incidents`) read this
table instead of every row of every partition: about a third of the rows (police.uk
repeats an LSOA and type many times in a month) and six columns instead of eighteen.

The table is derived data, kept in ``<store>/cache/counts/``, one file per month sorted by
LSOA code. Each of its rows names the partition file it was counted from with that
file's size and modification time; :func:`refresh_counts` counts a month again when one
of its partitions is new, replaced or gone (an ingest that added or replaced some), and
replaces that month's file atomically. A store whose folder cannot be written to keeps
its table in the system's temporary folder instead.

Rows without an LSOA code keep their point (``lon``, ``lat``), so they can be placed by
it; coded rows have none (the code places them).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import tempfile
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa

from geo.store import (
    DATA_DIR,
    PART_FILE,
    StoreError,
    connect,
    open_store,
    partition_entries,
    partitions,
)

__all__ = ["COUNTS_DIR", "damaged_partition_error", "refresh_counts", "run_query"]

COUNTS_DIR = "cache/counts"
"""Where a store keeps its count table, one file per month (relative to the store)."""


def damaged_partition_error(store: Path) -> StoreError | None:
    """The one-line error naming a damaged partition of ``store``, if it has one.

    Called when a query over the store fails, to tell a damaged partition from other
    causes.

    Parameters
    ----------
    store
        The store folder.

    Returns
    -------
    StoreError or None
        None when every partition can be read (the query failed for another reason).
    """
    bad = partitions(store)
    bad = bad[bad["damaged"] != ""]
    if not len(bad):
        return None
    row = bad.iloc[0]
    return StoreError(
        f"{row['path']}: damaged partition ({row['damaged']}); delete the folder "
        f"{Path(row['path']).parent} and ingest {row['month']} of that force again "
        f"(the rest of the store is intact; {len(bad)} damaged in all)."
    )


def _text_dtype(t: pa.DataType) -> pd.StringDtype | None:
    return pd.StringDtype(na_value=np.nan) if pa.types.is_string(t) else None


def run_query(
    con: duckdb.DuckDBPyConnection,
    store: Path,
    sql: str,
    params: list | dict,
    *,
    arrow: bool = False,
) -> pd.DataFrame:
    """Run a query over a store's partitions, naming a damaged partition if one stops it.

    Parameters
    ----------
    con
        A connection from :func:`geo.store.connect`.
    store
        The store folder.
    sql, params
        The query and its parameters.
    arrow
        Fetch through Arrow (text as pandas' ``str``): several times faster for many
        text rows; for results whose columns have no missing integers or booleans.

    Returns
    -------
    pandas.DataFrame

    Raises
    ------
    StoreError
        If a partition cannot be read: the message names it and the fix.
    """
    try:
        if arrow:
            return con.execute(sql, params).to_arrow_table().to_pandas(types_mapper=_text_dtype)
        return con.execute(sql, params).fetchdf()
    except duckdb.Error as exc:
        err = damaged_partition_error(store)
        if err is not None:
            raise err from exc
        raise


def _partition_files(root: Path, month_from: str | None, month_to: str | None) -> pd.DataFrame:
    rows = [
        (
            e.path,
            f"{DATA_DIR}/month={e.month}/force_key={e.force_key}/{PART_FILE}",
            e.stat.st_size,
            e.stat.st_mtime_ns,
            e.month,
            e.force_key,
        )
        for e in partition_entries(root, month_from, month_to)
    ]
    return pd.DataFrame(
        rows, columns=["path", "part", "part_size", "part_mtime", "month", "force_key"]
    )


def _fallback_dir(root: Path) -> Path:
    """Where the table of a store that cannot be written to is kept."""
    key = hashlib.sha256(str(root.resolve()).encode()).hexdigest()[:24]
    return Path(tempfile.gettempdir()) / f"hotspots-counts-{os.getuid()}-{key}"


def _sql_path(path: Path) -> str:
    return str(path).replace("'", "''")


def refresh_counts(
    store: str | Path, month_from: str | None = None, month_to: str | None = None
) -> str | None:
    """Bring a store's count table up to date with its partitions of some months.

    The table is one Parquet file per month (``<store>/cache/counts/YYYY-MM.parquet``),
    so a month is counted again only when one of its partitions is new, replaced or
    gone. Months outside the bounds are left as they are (a question about them
    refreshes them), so a damaged partition stops only the questions that need it.

    Parameters
    ----------
    store
        The store folder.
    month_from, month_to
        Inclusive ``YYYY-MM`` bounds (all months by default).

    Returns
    -------
    str or None
        A glob of the table's files for ``read_parquet`` (columns ``part``,
        ``part_size``, ``part_mtime``, ``month``, ``force_key``, ``lsoa_code``,
        ``crime_type``, ``lon``, ``lat``, ``n``; one extra row per partition with no
        code, no type and ``n`` 0), or None when the store holds no partition of the
        months.

    Raises
    ------
    StoreError
        If a partition to be counted cannot be read (the message names it).
    """
    root = open_store(store)
    files = _partition_files(root, month_from, month_to)
    lo, hi = month_from or "0000-00", month_to or "9999-99"
    if not len(files):
        return None
    folder = root / COUNTS_DIR
    try:
        folder.mkdir(parents=True, exist_ok=True)
        probe = folder / f".probe-{os.getpid()}"
        probe.touch()
        probe.unlink()
    except OSError:
        folder = _fallback_dir(root)
        folder.mkdir(parents=True, exist_ok=True)
    wanted = _signatures(files)
    have = _cached_signatures(folder, set(wanted))
    todo = [m for m in wanted if have.get(m) != wanted[m]]
    if todo:
        con = connect()
        try:
            for month, mine in files[files["month"].isin(todo)].groupby("month"):
                _count_month(con, root, folder, str(month), mine)
        finally:
            con.close()
    for stale in folder.glob("*.parquet"):
        if lo <= stale.stem <= hi and stale.stem not in wanted:
            stale.unlink(missing_ok=True)  # every partition of the month is gone
    return str(folder / "*.parquet")


_SEEN: dict[tuple[str, int, int, int], frozenset[tuple[str, int, int]]] = {}
"""Partitions named by a month file's footer, by the file's path, inode, size and
modification time: a file is replaced (a new inode), never changed in place, so a
footer read once need not be read again by this process."""


def _cached_signatures(folder: Path, months: set[str]) -> dict[str, frozenset]:
    """Month -> the partitions its file of the table was counted from (its footer).

    Each month's file names its partitions in its Parquet key-value metadata (written
    with it, so the two cannot disagree); a file that cannot be read is dropped, to be
    counted again. Footers already read by this process are not read again.
    """
    out: dict[str, frozenset] = {}
    unread: dict[Path, tuple[str, int, int, int]] = {}
    for month in months:
        f = folder / f"{month}.parquet"
        try:
            st = f.stat()
        except OSError:
            continue
        key = (str(f), st.st_ino, st.st_size, st.st_mtime_ns)
        if key in _SEEN:
            out[month] = _SEEN[key]
        else:
            unread[f] = key
    if not unread:
        return out
    con = connect()
    try:
        try:  # every footer in one read
            metas = con.execute(
                "SELECT file_name, value FROM parquet_kv_metadata(?) WHERE key = ?",
                [[str(f) for f in unread], _META_KEY],
            ).fetchall()
        except duckdb.Error:  # one file is damaged: find it
            metas = []
            for f in unread:
                with contextlib.suppress(duckdb.Error):
                    metas += con.execute(
                        "SELECT file_name, value FROM parquet_kv_metadata(?) WHERE key = ?",
                        [str(f), _META_KEY],
                    ).fetchall()
    finally:
        con.close()
    found = {Path(name): value for name, value in metas}
    for f, key in unread.items():
        try:
            parts = frozenset((str(p), int(n), int(t)) for p, n, t in json.loads(found[f]))
        except (KeyError, ValueError, TypeError):
            f.unlink(missing_ok=True)  # derived data: counted again
            continue
        _SEEN[key] = out[f.stem] = parts
    return out


_META_KEY = "hotspots_partitions"
"""Key of a month file's footer entry listing its partitions (JSON ``[part, size, mtime]``)."""


_KEYS = ["part", "part_size", "part_mtime"]


def _signatures(df: pd.DataFrame) -> dict[str, frozenset[tuple[str, int, int]]]:
    """Month -> the set of its partitions' ``(part, size, mtime)``."""
    out: dict[str, set[tuple[str, int, int]]] = {}
    for month, part, size, mtime in zip(
        df["month"], df["part"], df["part_size"], df["part_mtime"], strict=True
    ):
        out.setdefault(str(month), set()).add((str(part), int(size), int(mtime)))
    return {m: frozenset(v) for m, v in out.items()}


def _count_month(
    con: duckdb.DuckDBPyConnection, root: Path, folder: Path, month: str, files: pd.DataFrame
) -> None:
    """Count one month's partitions and replace its file atomically."""
    con.register("todo_df", files[[*_KEYS, "path", "month", "force_key"]])
    meta = json.dumps(files[_KEYS].values.tolist()).replace("'", "''")
    out = folder / f"{month}.parquet"
    tmp = folder / f".{month}.{os.getpid()}.tmp"
    try:
        con.execute(
            f"""COPY (
                 SELECT t.part, t.part_size, t.part_mtime, t.month, t.force_key, r.lsoa_code,
                   r.crime_type, r.lon, r.lat, r.n
                 FROM (SELECT filename, lsoa_code, crime_type,
                         CASE WHEN lsoa_code = '' THEN lon END AS lon,
                         CASE WHEN lsoa_code = '' THEN lat END AS lat, count(*) AS n
                       FROM read_parquet($todo, filename=true, hive_partitioning=false)
                       WHERE reason = '' GROUP BY ALL) r
                 JOIN todo_df t ON t.path = r.filename
                 UNION ALL
                 -- One row per partition, so a partition without accepted rows is known
                 -- to be counted.
                 SELECT part, part_size, part_mtime, month, force_key, NULL, NULL, NULL,
                   NULL, 0 FROM todo_df
                 ORDER BY lsoa_code, part)
               TO '{_sql_path(tmp)}' (FORMAT parquet, COMPRESSION zstd, ROW_GROUP_SIZE 16384,
                 KV_METADATA {{{_META_KEY}: '{meta}'}})""",
            {"todo": files["path"].tolist()},
        )
        os.replace(tmp, out)
    except duckdb.Error as exc:
        tmp.unlink(missing_ok=True)
        err = damaged_partition_error(root)
        if err is not None:
            raise err from exc
        raise
    finally:
        con.unregister("todo_df")
