"""The shared coordinate transformers: the same coordinates as geopandas, in any thread."""

from __future__ import annotations

import threading

import geopandas as gpd
import numpy as np
import pytest

from geo.crs import BNG, WGS84, reproject, to_bng, transformer
from geo.errors import InputError
from geo.paths import NATIONAL_DIR

LAD = NATIONAL_DIR / "boundaries" / "england_wales" / "lad_ew.parquet"


def _coords(frame: gpd.GeoDataFrame | gpd.GeoSeries) -> np.ndarray:
    return frame.get_coordinates().to_numpy()


def test_district_outlines_of_england_and_wales_both_ways_as_geopandas_gives():
    if not LAD.exists():
        pytest.skip("the national files live beside the repository (../shared/data)")
    lads = gpd.read_parquet(LAD)  # every district of England and Wales, from Cornwall to Kent
    bng = to_bng(lads, name=LAD.name)
    assert (_coords(bng) == _coords(lads.to_crs(BNG))).all()
    back = reproject(bng, WGS84)
    assert back.crs.equals(WGS84) and list(back.columns) == list(bng.columns)
    assert (_coords(back) == _coords(bng.to_crs(WGS84))).all()


def test_a_new_thread_projects_as_the_first_did():
    # The app runs each rerun in a new thread; each gets the same operation.
    lon, lat = np.array([-5.05, -1.3591, 1.29]), np.array([50.26, 50.9697, 52.63])
    want = transformer(WGS84, BNG).transform(lon, lat)
    got = []
    worker = threading.Thread(
        target=lambda: got.append(transformer(WGS84, BNG).transform(lon, lat))
    )
    worker.start()
    worker.join()
    assert np.array_equal(got[0], want)
    # Winchester's Guildhall by hand from the OS grid reference SU 484 293 (to 100 m).
    x, y = transformer(WGS84, BNG).transform(-1.3109, 51.0609)
    assert abs(x - 448_400) < 150 and abs(y - 129_300) < 150


def test_a_frame_without_a_crs_is_refused():
    with pytest.raises(InputError, match="no coordinate reference system"):
        reproject(gpd.GeoSeries.from_xy([0.0], [0.0]), WGS84)
