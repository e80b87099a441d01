"""The store's count table follows its partitions: new, replaced and damaged ones."""

from __future__ import annotations

import os
from pathlib import Path

import duckdb
import pytest

from geo.schema import POLICE_UK_COLUMNS
from geo.store import StoreError, partition_entries
from geo.store_counts import COUNTS_DIR, refresh_counts
from geo.store_ingest import ingest
from geo.store_query import store_incidents

HEADER = ",".join(POLICE_UK_COLUMNS)
CODED = (
    ",{m},Hampshire Constabulary,Hampshire Constabulary,-1.372801,50.988212,On or near "
    "Petrol Station,E01022705,Eastleigh 001A,{t},,"
)
UNCODED = ",{m},Hampshire Constabulary,Hampshire Constabulary,-1.37,50.98,On or near X,,,{t},,"
BAD = ",{m},Hampshire Constabulary,Hampshire Constabulary,-1.37,50.98,On or near X,,,,,"


def police_csv(path: Path, month: str, rows: list[str], mtime: float | None = None) -> Path:
    body = [r.format(m=month, t="Anti-social behaviour") for r in rows]
    path.write_text(HEADER + "\r\n" + "\r\n".join(body) + "\r\n")
    if mtime is not None:
        os.utime(path, (mtime, mtime))
    return path


def table(glob: str) -> list[tuple]:
    return duckdb.sql(
        f"""SELECT month, coalesce(lsoa_code, 'marker'), lon IS NOT NULL, sum(n)
            FROM read_parquet('{glob}') GROUP BY ALL ORDER BY ALL"""
    ).fetchall()


def test_counts_follow_partitions(tmp_path: Path) -> None:
    store = tmp_path / "s"
    a = police_csv(tmp_path / "a.csv", "2021-01", [CODED] * 3 + [UNCODED] * 2, 1_600_000_000)
    b = police_csv(tmp_path / "b.csv", "2021-02", [CODED, BAD], 1_600_000_000)
    ingest([a, b], store)
    path = refresh_counts(store)
    assert path == str(store / COUNTS_DIR / "*.parquet")
    # Accepted rows only (the row without a type is rejected), uncoded rows keep their
    # point, and one marker row of n 0 per partition.
    assert table(path) == [
        ("2021-01", "", True, 2),
        ("2021-01", "E01022705", False, 3),
        ("2021-01", "marker", False, 0),
        ("2021-02", "E01022705", False, 1),
        ("2021-02", "marker", False, 0),
    ]
    # Up to date: not written again.
    jan, feb = store / COUNTS_DIR / "2021-01.parquet", store / COUNTS_DIR / "2021-02.parquet"
    stamps = jan.stat().st_mtime_ns, feb.stat().st_mtime_ns
    assert refresh_counts(store) == path
    assert (jan.stat().st_mtime_ns, feb.stat().st_mtime_ns) == stamps
    # A newer download of February replaces its partition; only February is counted again.
    b2 = police_csv(tmp_path / "b2.csv", "2021-02", [CODED] * 4, 1_700_000_000)
    ingest([b2], store)
    assert table(refresh_counts(store))[3:] == [
        ("2021-02", "E01022705", False, 4),
        ("2021-02", "marker", False, 0),
    ]
    assert jan.stat().st_mtime_ns == stamps[0] and feb.stat().st_mtime_ns != stamps[1]
    assert len(store_incidents(store, ["E01022705"], "2021-02", "2021-02")) == 4


def test_damaged_partition_stops_only_its_months(tmp_path: Path) -> None:
    store = tmp_path / "s"
    ingest(
        [
            police_csv(tmp_path / "a.csv", "2021-01", [CODED] * 3),
            police_csv(tmp_path / "b.csv", "2021-02", [CODED] * 2),
        ],
        store,
    )
    for f in (store / COUNTS_DIR).glob("*.parquet"):
        f.unlink()
    part = next((store / "data" / "month=2021-02").rglob("part.parquet"))
    part.write_bytes(b"PAR1 not really parquet")
    assert table(refresh_counts(store, "2021-01", "2021-01")) == [
        ("2021-01", "E01022705", False, 3),
        ("2021-01", "marker", False, 0),
    ]
    with pytest.raises(StoreError, match=r"damaged partition .*ingest 2021-02 of that force"):
        refresh_counts(store)


def test_damaged_table_is_rebuilt(tmp_path: Path) -> None:
    store = tmp_path / "s"
    ingest([police_csv(tmp_path / "a.csv", "2021-01", [CODED] * 3)], store)
    refresh_counts(store)
    (store / COUNTS_DIR / "2021-01.parquet").write_bytes(b"not parquet")
    assert table(refresh_counts(store)) == [
        ("2021-01", "E01022705", False, 3),
        ("2021-01", "marker", False, 0),
    ]


def test_partition_entries_list_only_the_months_asked(tmp_path: Path) -> None:
    store = tmp_path / "s"
    ingest(
        [
            police_csv(tmp_path / "a.csv", "2021-01", [CODED]),
            police_csv(tmp_path / "b.csv", "2021-02", [CODED]),
            police_csv(tmp_path / "c.csv", "2021-03", [CODED]),
        ],
        store,
    )
    every = partition_entries(store)
    assert [(e.month, e.force_key) for e in every] == [
        (m, "hampshire-constabulary") for m in ("2021-01", "2021-02", "2021-03")
    ]
    assert all(Path(e.path).stat().st_size == e.stat.st_size for e in every)
    assert [e.month for e in partition_entries(store, "2021-02", "2021-02")] == ["2021-02"]
    assert [e.month for e in partition_entries(store, "2021-02")] == ["2021-02", "2021-03"]
    assert partition_entries(tmp_path / "nothing-here") == []


def test_rows_without_a_code_come_out_of_their_own_partitions(tmp_path: Path) -> None:
    """Uncoded rows are placed by their point even in a partition with no coded row."""
    import geopandas as gpd  # noqa: PLC0415
    import shapely  # noqa: PLC0415

    from tests.areas import EASTLEIGH  # noqa: PLC0415

    store = tmp_path / "s"
    ingest(
        [
            police_csv(tmp_path / "a.csv", "2021-01", [UNCODED] * 2),
            police_csv(tmp_path / "b.csv", "2021-02", [CODED]),
        ],
        store,
    )
    # By hand: the LSOA of Eastleigh whose polygon holds (-1.37, 50.98).
    point = gpd.GeoSeries([shapely.Point(-1.37, 50.98)], crs=4326).to_crs(EASTLEIGH.lsoas.crs)
    holder = EASTLEIGH.lsoas.loc[EASTLEIGH.lsoas.contains(point.iloc[0]), "code"].tolist()
    assert len(holder) == 1
    got = store_incidents(store, EASTLEIGH.lsoa_codes, lsoas=EASTLEIGH.lsoas)
    assert got[["month", "lsoa_code"]].values.tolist() == [
        ["2021-01", holder[0]],
        ["2021-01", holder[0]],
        ["2021-02", "E01022705"],
    ]
    # Without the area's polygons only the coded row is the area's.
    assert store_incidents(store, EASTLEIGH.lsoa_codes)["month"].tolist() == ["2021-02"]
