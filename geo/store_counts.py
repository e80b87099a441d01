"""A store's count table: accepted rows counted by partition, LSOA code and crime type.

National questions (:func:`geo.store_query.national_counts`) and the search for the
partitions that hold an area's rows (:func:`geo.store_query.store_incidents`) read this
table instead of every row of every partition: about a third of the rows (police.uk
repeats an LSOA and type many times in a month) and six columns instead of eighteen.

The table is derived data, kept in ``<store>/cache/counts.parquet`` and sorted by LSOA
code. Each of its rows names the partition file it was counted from with that file's
size and modification time; :func:`refresh_counts` recounts the partitions that are new
or changed since (an ingest that added or replaced some), drops those that are gone, and
replaces the file atomically. A store whose folder cannot be written to keeps its table
in the system's temporary folder instead.

Rows without an LSOA code keep their point (``lon``, ``lat``), so they can be placed by
it; coded rows have none (the code places them).
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import duckdb
import pandas as pd

from geo.store import DATA_DIR, PART_FILE, StoreError, connect, open_store, partitions

__all__ = ["COUNTS_FILE", "damaged_partition_error", "refresh_counts", "run_query"]

COUNTS_FILE = "cache/counts.parquet"
"""Where a store keeps its count table (relative to the store folder)."""


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
        None when every partition can be read (``exc`` had another cause).
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


def run_query(
    con: duckdb.DuckDBPyConnection, store: Path, sql: str, params: list | dict
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

    Returns
    -------
    pandas.DataFrame

    Raises
    ------
    StoreError
        If a partition cannot be read: the message names it and the fix.
    """
    try:
        return con.execute(sql, params).fetchdf()
    except duckdb.Error as exc:
        err = damaged_partition_error(store)
        if err is not None:
            raise err from exc
        raise


def _partition_files(root: Path) -> pd.DataFrame:
    rows = []
    for p in sorted((root / DATA_DIR).glob(f"month=*/force_key=*/{PART_FILE}")):
        st = p.stat()
        rows.append(
            {
                "path": str(p),
                "part": p.relative_to(root).as_posix(),
                "part_size": st.st_size,
                "part_mtime": st.st_mtime_ns,
                "month": p.parent.parent.name.removeprefix("month="),
                "force_key": p.parent.name.removeprefix("force_key="),
            }
        )
    return pd.DataFrame(
        rows, columns=["path", "part", "part_size", "part_mtime", "month", "force_key"]
    )


def _fallback_path(root: Path) -> Path:
    """Where the table of a read-only store is kept: one file per store folder."""
    key = str(root.resolve()).encode().hex()[-48:]
    return Path(tempfile.gettempdir()) / f"hotspots-counts-{os.getuid()}-{key}.parquet"


def _sql_path(path: Path) -> str:
    return str(path).replace("'", "''")


def refresh_counts(
    store: str | Path, month_from: str | None = None, month_to: str | None = None
) -> Path | None:
    """Bring a store's count table up to date with its partitions of some months.

    Partitions outside the months keep whatever the table holds of them (a query of
    those months refreshes them), so a damaged partition stops only the questions that
    need it.

    Parameters
    ----------
    store
        The store folder.
    month_from, month_to
        Inclusive ``YYYY-MM`` bounds (all months by default).

    Returns
    -------
    pathlib.Path or None
        The table's file (columns ``part``, ``part_size``, ``part_mtime``, ``month``,
        ``force_key``, ``lsoa_code``, ``crime_type``, ``lon``, ``lat``, ``n``; one extra
        row per partition with no code, no type and ``n`` 0), or None when the store
        holds no partition.

    Raises
    ------
    StoreError
        If a partition to be counted cannot be read (the message names it).
    """
    root = open_store(store)
    files = _partition_files(root)
    if not len(files):
        return None
    lo, hi = month_from or "0000-00", month_to or "9999-99"
    files = files[(files["month"] >= lo) & (files["month"] <= hi)]
    target, fallback = root / COUNTS_FILE, _fallback_path(root)
    con = connect()
    try:
        for path in (target, fallback):
            have = _cached_parts(con, path)
            if have is not None:
                have = have[(have["month"] >= lo) & (have["month"] <= hi)]
                if _same(have, files):
                    return path
        source = target if _cached_parts(con, target) is not None else fallback
        have = _cached_parts(con, source)
        return _rewrite(con, root, files, have, source, (lo, hi))
    finally:
        con.close()


def _cached_parts(con: duckdb.DuckDBPyConnection, path: Path) -> pd.DataFrame | None:
    """The partitions a table file was counted from, or None if it is missing or damaged."""
    if not path.exists():
        return None
    try:
        return con.execute(
            "SELECT DISTINCT part, part_size, part_mtime, month "
            f"FROM read_parquet('{_sql_path(path)}')"
        ).fetchdf()
    except duckdb.Error:
        return None


_KEYS = ["part", "part_size", "part_mtime"]


def _same(have: pd.DataFrame, files: pd.DataFrame) -> bool:
    a = set(have[_KEYS].itertuples(index=False, name=None))
    return a == set(files[_KEYS].itertuples(index=False, name=None))


def _rewrite(
    con: duckdb.DuckDBPyConnection,
    root: Path,
    files: pd.DataFrame,
    have: pd.DataFrame | None,
    source: Path,
    months: tuple[str, str],
) -> Path:
    """Write the table again: rows of unchanged partitions kept, the rest counted again."""
    lo, hi = months
    if have is None:
        keep = pd.DataFrame(columns=_KEYS)
        todo = files
    else:
        outside = have[(have["month"] < lo) | (have["month"] > hi)]
        same = have.merge(files[_KEYS], on=_KEYS)
        keep = pd.concat([outside[_KEYS], same[_KEYS]], ignore_index=True)
        todo = files.merge(same[_KEYS], on=_KEYS, how="left", indicator=True)
        todo = todo[todo["_merge"] == "left_only"]
    con.register("keep_df", keep.astype({"part_size": "int64", "part_mtime": "int64"}))
    con.register("todo_df", todo[[*_KEYS, "path", "month", "force_key"]])
    selects = []
    if len(keep):
        selects.append(
            f"SELECT c.* FROM read_parquet('{_sql_path(source)}') c "
            "SEMI JOIN keep_df USING (part, part_size, part_mtime)"
        )
    # One row per partition, so a partition without accepted rows is known counted.
    selects.append(
        """SELECT part, part_size, part_mtime, month, force_key, NULL::VARCHAR AS lsoa_code,
             NULL::VARCHAR AS crime_type, NULL::DOUBLE AS lon, NULL::DOUBLE AS lat,
             0::BIGINT AS n FROM todo_df"""
    )
    if len(todo):
        selects.append(
            """SELECT t.part, t.part_size, t.part_mtime, t.month, t.force_key, r.lsoa_code,
                 r.crime_type, r.lon, r.lat, count(*) AS n
               FROM (SELECT filename, lsoa_code, crime_type,
                       CASE WHEN lsoa_code = '' THEN lon END AS lon,
                       CASE WHEN lsoa_code = '' THEN lat END AS lat
                     FROM read_parquet($todo, filename=true, hive_partitioning=false)
                     WHERE reason = '') r
               JOIN todo_df t ON t.path = r.filename
               GROUP BY ALL"""
        )
    query = " UNION ALL ".join(selects)
    params = {"todo": todo["path"].tolist()} if len(todo) else {}
    target = root / COUNTS_FILE
    for out in (target, _fallback_path(root)):
        tmp = out.with_name(f".{out.name}.{os.getpid()}.tmp")
        try:
            out.parent.mkdir(parents=True, exist_ok=True)
            con.execute(
                f"""COPY (SELECT * FROM ({query}) ORDER BY lsoa_code, part)
                    TO '{_sql_path(tmp)}'
                    (FORMAT parquet, COMPRESSION zstd, ROW_GROUP_SIZE 65536)""",
                params,
            )
            os.replace(tmp, out)
            return out
        except duckdb.Error as exc:
            tmp.unlink(missing_ok=True)
            err = damaged_partition_error(root)
            if err is not None:
                raise err from exc
            if not isinstance(exc, duckdb.IOException):
                raise
        except OSError:
            tmp.unlink(missing_ok=True)
    msg = f"{root}: the count table cannot be written in the store or the temporary folder."
    raise StoreError(msg)
