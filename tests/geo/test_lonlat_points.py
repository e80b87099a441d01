"""Projecting many points in parallel gives what one piece gives."""

from __future__ import annotations

import numpy as np
import shapely

from geo.io import lonlat_points, project_lonlat


def test_pieces_in_parallel_equal_one_piece() -> None:
    rng = np.random.default_rng(7)
    n = 120_001  # over the 50,000 rows below which one piece is used
    lon = rng.uniform(-1.45, -1.25, n)
    lat = rng.uniform(50.90, 51.00, n)
    lon[::1000] = np.nan  # rows without a location
    lat[::1000] = np.nan
    x, y, geom = lonlat_points(lon, lat, threads=2)
    x1, y1, geom1 = lonlat_points(lon, lat, threads=1)
    px, py = project_lonlat(lon, lat)
    np.testing.assert_array_equal(x, px)
    np.testing.assert_array_equal(y, py)
    np.testing.assert_array_equal(x1, px)
    missing = np.isnan(px)
    assert missing.sum() == 121
    assert all(g is None for g in geom[missing]) and all(g is None for g in geom1[missing])
    assert shapely.equals(geom[~missing], geom1[~missing]).all()
    # The points are where the coordinates say (Eastleigh: about 445,000 E, 115,000 N).
    assert np.array_equal(shapely.get_x(geom[~missing]), px[~missing])
    assert np.nanmin(px) > 430_000 and np.nanmax(px) < 460_000


def test_rows_on_few_points_equal_each_row_projected() -> None:
    # police.uk snaps rows to anonymised points: 60,000 rows on 500 points, some rows
    # without a location, are projected once per point and give what each row gives.
    rng = np.random.default_rng(8)
    points = rng.uniform([-1.45, 50.90], [-1.25, 51.00], size=(500, 2))
    rows = points[rng.integers(0, 500, 60_000)]
    lon, lat = rows[:, 0].copy(), rows[:, 1].copy()
    lon[:7] = np.nan
    lat[:7] = np.nan
    x, y, geom = lonlat_points(lon, lat)
    px, py = project_lonlat(lon, lat)
    np.testing.assert_array_equal(x, px)
    np.testing.assert_array_equal(y, py)
    assert all(g is None for g in geom[:7])
    assert np.array_equal(shapely.get_x(geom[7:]), px[7:])
    assert np.array_equal(shapely.get_y(geom[7:]), py[7:])
    # Rows on one point share its geometry, which cannot change (shapely 2 is immutable).
    same = np.flatnonzero((lon == lon[7]) & (lat == lat[7]))
    assert len(same) > 1 and len({id(g) for g in geom[same]}) == 1
