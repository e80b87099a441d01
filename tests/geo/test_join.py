"""Point-in-polygon on hand-made squares, and joining incidents to wards and local areas."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from shapely.geometry import box

from geo.boundaries import load_layer
from geo.crs import BNG
from geo.errors import InputError
from geo.join import join_areas, lsoa_at
from geo.paths import GPKG
from tests.areas import EASTLEIGH


@pytest.fixture
def squares() -> gpd.GeoDataFrame:
    # A = [0,1000]x[0,1000], B = [1000,2000]x[0,1000]; C overlaps B's right half.
    return gpd.GeoDataFrame(
        {"code": ["A", "B", "C"]},
        geometry=[box(0, 0, 1000, 1000), box(1000, 0, 2000, 1000), box(1500, 0, 2500, 1000)],
        crs=BNG,
    )


def test_points_in_hand_made_squares(squares):
    x = np.array([500.0, 1200.0, 1800.0, 2200.0, 3000.0, np.nan])
    y = np.array([500.0, 500.0, 500.0, 500.0, 500.0, 500.0])
    # 1800 lies in both B and C: the first polygon wins; 3000 is in none; NaN is no point.
    assert lsoa_at(x, y, squares).tolist() == ["A", "B", "B", "C", "", ""]


def test_no_points(squares):
    assert lsoa_at(np.array([]), np.array([]), squares).tolist() == []
    assert lsoa_at(np.array([np.nan]), np.array([np.nan]), squares).tolist() == [""]


def test_shipped_lsoa_at_representative_points():
    lsoas = load_layer("lsoa_2011", GPKG)
    pts = lsoas.geometry.representative_point()
    assert (
        lsoa_at(pts.x.to_numpy(), pts.y.to_numpy(), EASTLEIGH.lsoas).tolist()
        == lsoas["code"].tolist()
    )


def _incidents(rows: list[tuple[str, float, float]]) -> gpd.GeoDataFrame:
    lsoa, x, y = zip(*rows, strict=True)
    x, y = np.array(x, float), np.array(y, float)
    geom = shapely.points(x, y)
    geom[~np.isfinite(x)] = None
    return gpd.GeoDataFrame({"lsoa_code": lsoa, "x": x, "y": y}, geometry=geom, crs=BNG)


def _oa_point(code: str) -> tuple[float, float]:
    oa = load_layer("oa_2011", GPKG).set_index("code")
    p = oa.loc[code].geometry.representative_point()
    return p.x, p.y


def test_ward_follows_the_output_area_of_the_rows_own_lsoa():
    # LSOA E01022646 straddles two 2018 wards: most residents in Fair Oak & Horton Heath
    # (E05011194), but its output area E00115112 lies in Bishopstoke (E05011187).
    x, y = _oa_point("E00115112")
    other_x, other_y = _oa_point(
        load_layer("oa_2011", GPKG).query("lsoa_code == 'E01022643'")["code"].iloc[0]
    )
    joined = join_areas(
        _incidents(
            [
                ("E01022646", x, y),  # point in an OA of its own LSOA: that OA's ward
                ("E01022646", np.nan, np.nan),  # no point: the LSOA's best-fit ward
                ("E01022646", other_x, other_y),  # point snapped into another LSOA: best-fit ward
            ]
        ),
        EASTLEIGH,
    )
    assert joined["ward_code"].tolist() == ["E05011187", "E05011194", "E05011194"]
    assert joined["ward_name"].tolist() == [
        "Bishopstoke",
        "Fair Oak & Horton Heath",
        "Fair Oak & Horton Heath",
    ]
    assert set(joined["local_area"]) == {"Bishopstoke, Fair Oak and Horton Heath"}
    assert joined["ward2002_code"].notna().all()


def test_join_keeps_rows_and_order():
    lsoas = load_layer("lsoa_2011", GPKG)
    pts = lsoas.geometry.representative_point()
    inc = _incidents(list(zip(lsoas["code"], pts.x, pts.y, strict=True)))
    joined = join_areas(inc, EASTLEIGH)
    assert len(joined) == 77
    assert joined["lsoa_code"].tolist() == lsoas["code"].tolist()
    assert joined["ward_code"].notna().all() and joined["local_area"].notna().all()
    # Every ward of each set is reached by some LSOA.
    assert joined["ward_code"].nunique() == 14
    assert joined["ward2002_code"].nunique() == 19


def test_join_refuses_lon_lat():
    inc = _incidents([("E01022646", -1.3, 50.9)]).set_crs(4326, allow_override=True)
    with pytest.raises(
        InputError, match=r"incidents must be in British National Grid \(EPSG:27700\).*to_bng"
    ):
        join_areas(inc, EASTLEIGH)


def test_join_does_not_change_its_input():
    inc = _incidents([("E01022646", np.nan, np.nan)])
    before = inc.copy()
    join_areas(inc, EASTLEIGH)
    pd.testing.assert_frame_equal(inc, before)
