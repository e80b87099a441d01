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
