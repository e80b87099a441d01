"""Partitions of a store written by an ingest (:mod:`geo.store_ingest`).

A batch's validated rows get a partition each (:func:`partition_keys`: their own
force-month, else their file's commonest), are taken in the store's columns, sorted by
partition and LSOA code (:func:`taken_rows`), written to a work folder
(:func:`write_partitions`) and moved into the store one partition at a time, flushed to
disk first (:func:`place_partition`), so a killed ingest leaves each partition as it was
or complete.
"""

from __future__ import annotations

import os
import re
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import NamedTuple

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from geo.store import DATA_DIR, PART_FILE, STORE_COLUMNS, force_key, fsync_dir

__all__ = [
    "PAUSE_ENV",
    "ROW_GROUP_ROWS",
    "Part",
    "partition_keys",
    "place_partition",
    "taken_rows",
    "write_partitions",
]

PAUSE_ENV = "HOTSPOTS_STORE_PAUSE"
"""Test hook: ``N:SECONDS`` makes ingest sleep before moving its N-th partition into
place (after writing ``tmp/paused``), so a test can kill it mid-partition."""


def _pause(n: int) -> None:
    """The test hook of :data:`PAUSE_ENV`."""
    spec = os.environ.get(PAUSE_ENV, "")
    if not spec:
        return
    at, _, secs = spec.partition(":")
    if int(at) == n:
        marker = os.environ.get(PAUSE_ENV + "_MARKER")
        if marker:
            Path(marker).write_text(str(os.getpid()), encoding="utf-8")
        time.sleep(float(secs or 3600))


ROW_GROUP_ROWS = 4096
"""Rows per Parquet row group: a partition's rows are sorted by LSOA code, so the row
groups' statistics let a query for a few LSOAs skip the rest of a force's month.
Partitions are compressed with Snappy: 1.7 times zstd's size, but one district's 60
months (210 partitions) are read in 0.36 s against 0.55 s."""


class Part(NamedTuple):
    """The rows one file gives one partition."""

    pmonth: str
    pkey: str
    fid: int
    force: str
    rows: int


def partition_keys(
    rows: pa.Table, names: dict[int, str]
) -> tuple[list[Part], dict[int, tuple[str, str]], dict[str, str]]:
    """Give every row a partition: its own valid force-month, else its file's commonest.

    Parameters
    ----------
    rows
        The batch's validated rows (``fid``, ``month``, ``force``, ``keyed``: whether
        the row's own month and force are valid).
    names
        The batch's file names by ``fid``.

    Returns
    -------
    parts
        The rows each file gives each partition, by file, month and key.
    fallback
        By ``fid``, the month and force of a file's rows with no valid month or force:
        its commonest valid force-month (``unknown`` and the file's name when it has
        none).
    keys
        Every force name met and its partition key.
    """
    counted = (
        rows.select(["fid", "month", "force", "keyed"])
        .group_by(["fid", "month", "force", "keyed"], use_threads=False)
        .aggregate([([], "count_all")])
        .to_pylist()
    )
    best: dict[int, tuple[int, str, str]] = {}
    for r in counted:
        if r["keyed"]:
            # The commonest force-month of the file; on a tie, the first by month, force.
            rank = (-r["count_all"], r["month"], r["force"])
            if r["fid"] not in best or rank < best[r["fid"]]:
                best[r["fid"]] = rank
    fallback = {
        k: (best[k][1], best[k][2])
        if k in best
        else ("unknown", "file " + re.split(r"[/!\\]", names[k])[-1])
        for k in names
    }
    keys: dict[str, str] = {}
    sums: dict[tuple[int, str, str], list] = {}
    for r in counted:
        month, force = (r["month"], r["force"]) if r["keyed"] else fallback[r["fid"]]
        key = keys.setdefault(force, force_key(force))
        entry = sums.setdefault((r["fid"], month, key), [force, 0])
        entry[1] += r["count_all"]
    parts = [Part(m, k, fid, f, n) for (fid, m, k), (f, n) in sorted(sums.items())]
    return parts, fallback, keys


def _by_fid(fids: pa.ChunkedArray, values: dict[int, object], typ: pa.DataType) -> pa.Array:
    """``values[fid]`` for every row (``fids``), as an Arrow array of type ``typ``."""
    order = sorted(values)
    pos = pc.index_in(fids, value_set=pa.array(order, pa.int32()))
    return pc.take(pa.array([values[k] for k in order], typ), pos)


def taken_rows(
    rows: pa.Table,
    file_names: dict[int, str],
    file_mtimes: dict[int, float],
    fallback: dict[int, tuple[str, str]],
    keys: dict[str, str],
    winners: list[Part],
    parts: dict[int, int],
) -> tuple[pa.Table, dict[tuple[str, str], np.ndarray]]:
    """The batch's rows in the store's columns, and the rows of each partition taken.

    A partition's rows are given in the order they are written: by LSOA code.

    Parameters
    ----------
    rows
        The batch's validated rows.
    file_names, file_mtimes
        Each file's name and modification time, by ``fid``.
    fallback, keys
        From :func:`partition_keys`.
    winners
        The partitions taken (one copy of each force-month).
    parts
        How many partitions each file gives, by ``fid``.

    Returns
    -------
    table
        Every row of the batch in :data:`geo.store.STORE_COLUMNS`.
    rows
        ``(month, key)`` -> the positions in ``table`` of that partition's rows, in
        the order they are written.
    """
    fids = rows["fid"]
    keyed = rows["keyed"]
    months = {k: m for k, (m, _) in fallback.items()}
    forces = {k: f for k, (_, f) in fallback.items()}
    pmonth = pc.if_else(keyed, rows["month"], _by_fid(fids, months, pa.string()))
    pforce = pc.if_else(keyed, rows["force"], _by_fid(fids, forces, pa.string()))
    names = list(keys)
    pkey = pc.take(
        pa.array([keys[f] for f in names], pa.string()),
        pc.index_in(pforce, value_set=pa.array(names, pa.string())),
    )
    pk = pc.binary_join_element_wise(pmonth, pkey, "\n")
    wk = [f"{w.pmonth}\n{w.pkey}" for w in winners]
    # A row is taken when its partition is taken from its own file.
    part = pc.index_in(pk, value_set=pa.array(wk, pa.string()))
    taker = pc.take(pa.array([w.fid for w in winners], pa.int32()), part)
    take = pc.fill_null(pc.equal(taker, fids.cast(pa.int32())), False)
    idx = np.flatnonzero(take.to_numpy(zero_copy_only=False))
    part_of = pc.fill_null(part, -1).to_numpy(zero_copy_only=False).astype(np.int64)
    # Sorted by partition, then LSOA code: integer keys (the codes' ranks) sort fast.
    codes = rows["lsoa_code"].combine_chunks().dictionary_encode()
    rank = np.empty(len(codes.dictionary), dtype=np.int64)
    rank[pc.sort_indices(codes.dictionary).to_numpy()] = np.arange(len(rank))
    key = part_of[idx] << 32
    key |= rank[codes.indices.to_numpy(zero_copy_only=False)[idx]]
    order = idx[np.argsort(key, kind="stable")]
    columns = {
        "source_file": _by_fid(fids, file_names, pa.string()),
        "source_mtime": _by_fid(fids, file_mtimes, pa.float64()),
        "source_parts": _by_fid(fids, parts, pa.int32()),
    }
    table = pa.table({c: columns[c] if c in columns else rows[c] for c in STORE_COLUMNS})
    sizes = np.bincount(part_of[order], minlength=len(wk))
    out = {}
    start = 0
    for w, size in zip(winners, sizes.tolist(), strict=True):
        if size:
            out[(w.pmonth, w.pkey)] = order[start : start + size]
        start += size
    return table, out


def write_partitions(
    work: Path, table: pa.Table, rows: dict[tuple[str, str], np.ndarray]
) -> tuple[Path, dict[tuple[str, str], int], dict[str, int]]:
    """Write each partition to ``work/out/pmonth=../pkey=../part.parquet``, two at a time.

    Parameters
    ----------
    work
        The ingest's work folder.
    table, rows
        From :func:`taken_rows`: the batch's rows, and each partition's positions in
        ``table`` in order.

    Returns
    -------
    out
        The folder written.
    accepted
        Each partition's accepted rows.
    rejected
        The rejected rows by reason.
    """
    out = work / "out"

    def write(item: tuple[tuple[str, str], np.ndarray]) -> tuple[int, pa.StructArray]:
        (month, key), idx = item
        # A partition's rows lie in its file's range: take from that slice (few chunks).
        lo = int(idx.min())
        part = table.slice(lo, int(idx.max()) - lo + 1).take(pa.array(idx - lo))
        folder = out / f"pmonth={month}" / f"pkey={key}"
        folder.mkdir(parents=True, exist_ok=True)
        pq.write_table(
            part, folder / PART_FILE, row_group_size=ROW_GROUP_ROWS, compression="snappy"
        )
        ok = pc.equal(part["reason"], "")
        return int(pc.sum(ok).as_py() or 0), pc.value_counts(part["reason"].filter(pc.invert(ok)))

    with ThreadPoolExecutor(max_workers=2) as pool:
        done = list(pool.map(write, rows.items()))
    accepted = {}
    rejected: dict[str, int] = {}
    for key, (acc, counts) in zip(rows, done, strict=True):
        accepted[key] = acc
        for v, n in zip(
            counts.field("values").to_pylist(), counts.field("counts").to_pylist(), strict=True
        ):
            rejected[v] = rejected.get(v, 0) + int(n)
    return out, accepted, rejected


def place_partition(store: Path, out: Path, month: str, key: str, n: int) -> None:
    """Move one written partition into the store atomically (fsync, then os.replace).

    Parameters
    ----------
    store
        The store folder.
    out
        The folder :func:`write_partitions` wrote.
    month, key
        The partition.
    n
        Its number in this ingest (the test hook :data:`PAUSE_ENV` pauses before one).
    """
    tmp = out / f"pmonth={month}" / f"pkey={key}" / PART_FILE
    with open(tmp, "rb+") as fh:
        os.fsync(fh.fileno())
    target_dir = store / DATA_DIR / f"month={month}" / f"force_key={key}"
    new_dirs = [p for p in (target_dir.parent, target_dir) if not p.exists()]
    target_dir.mkdir(parents=True, exist_ok=True)
    for d in new_dirs:
        fsync_dir(d.parent)
    _pause(n)
    os.replace(tmp, target_dir / PART_FILE)
    fsync_dir(target_dir)
