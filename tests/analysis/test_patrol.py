"""Patrol areas: compact, ranked, uniquely named, with intervals; and on Eastleigh."""

from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from analysis.grid import Grid
from analysis.patrol import (
    PATROL_COLUMNS,
    expected_interval,
    patrol_areas,
    patrol_cells,
    unique_names,
)
from analysis.risk import RiskSurface, fit_risk
from geo.crs import BNG
from geo.errors import InputError
from tests.analysis.risk_data import AREA, ASB, town


def _surface(expected: np.ndarray) -> RiskSurface:
    ny, nx = expected.shape
    grid = Grid(0.0, 0.0, 50.0, nx, ny)
    return RiskSurface(
        grid=grid,
        mask=np.ones((ny, nx), bool),
        expected=expected,
        points=gpd.GeoDataFrame(geometry=[], crs=BNG),
        types=(ASB,),
        months=("2021-01",),
        model="glm",
        bandwidth_m=75.0,
        half_life_months=3.0,
        weights={},
        validation=pd.DataFrame(),
        dispersion=1.0,
        description="",
    )


def test_areas_hold_the_peaks_and_stay_within_the_size_limit():
    e = np.zeros((40, 40))
    e[5:8, 5:8] = 2.0  # a 150 m blob
    e[30, 30] = 5.0  # a single very hot cell
    e[20:40, 0] = 0.5  # a long line of warm cells, 1 km
    areas = patrol_cells(_surface(e), n_areas=5, max_across_m=400.0, grow_coverage=0.05)
    flat = [set(a.tolist()) for a in areas]
    assert {5 * 40 + 5, 7 * 40 + 7} <= flat[0]  # the blob (18 in total) comes first
    assert 30 * 40 + 30 in flat[1]  # 5 beats the best 330 m of the line (7 x 0.5)
    assert all(np.isin(list(flat[2]), np.arange(20, 40) * 40).tolist())
    for cells in areas:
        iy, ix = np.divmod(cells, 40)
        across = 50 * np.hypot(np.ptp(ix) + 1, np.ptp(iy) + 1)
        assert across <= 400.0 + 1e-9
    # Areas never share a cell.
    assert sum(len(a) for a in flat) == len(set().union(*flat))


def test_the_number_of_areas_is_bounded_and_checked():
    e = np.arange(1600, dtype=float).reshape(40, 40)
    assert len(patrol_cells(_surface(e), n_areas=3, grow_coverage=0.5)) == 3
    with pytest.raises(InputError, match="between 3 and 30"):
        patrol_cells(_surface(e), n_areas=31)
    with pytest.raises(InputError, match="diagonal"):
        patrol_cells(_surface(e), max_across_m=60.0)


def test_ties_are_broken_the_same_way_every_time():
    e = np.ones((30, 30))
    a = patrol_cells(_surface(e), n_areas=4, grow_coverage=1.0)
    b = patrol_cells(_surface(e), n_areas=4, grow_coverage=1.0)
    assert [x.tolist() for x in a] == [x.tolist() for x in b]


def test_interval_is_poisson_by_hand_and_wider_when_overdispersed():
    assert expected_interval(0.0) == (0, 0)
    assert expected_interval(4.0, 1.0, 0.9) == (1, 8)  # Poisson(4): 5% and 95% points
    lo, hi = expected_interval(4.0, 3.0, 0.9)
    assert lo <= 1 and hi > 8


def test_names_are_unique_with_the_street_added_to_a_repeated_place():
    areas = gpd.GeoDataFrame(
        {
            "top_streets": [
                "Market Street (5)",
                "High Street (4), Market Street (1)",
                "Supermarket (3)",
                "High Street (2)",
            ],
            "wards": ["Central", "Central", "South", "Central"],
        },
        geometry=[shapely.box(440000, 110000, 440050, 110050)] * 4,
        crs=BNG,
    )
    names = unique_names(areas, None)
    assert names == [
        "Market Street, Central",
        "High Street, Central",
        "Supermarket, South",
        "High Street, Central (High Street)",
    ]
    assert len(set(names)) == len(names)
    gaz = gpd.GeoDataFrame(
        {"name": ["Town centre"], "kind": ["town centre"], "radius_m": [500.0]},
        geometry=[shapely.Point(440025, 110025)],
        crs=BNG,
    )
    named = unique_names(areas, gaz)
    assert named[0] == "Town centre"
    assert named[1] == "Town centre (High Street)"
    assert len(set(named)) == 4


def test_patrol_areas_on_a_small_town():
    inc = town()
    surface = fit_risk(inc, types=[ASB], study_area=AREA)
    out = patrol_areas(surface, inc, n_areas=3, min_count=5)
    assert list(out.columns) == [*PATROL_COLUMNS, "geometry"]
    assert out.crs.equals(BNG)
    assert out["rank"].tolist() == list(range(1, len(out) + 1))
    assert out["expected"].is_monotonic_decreasing
    assert (out["count"] >= 5).all()
    assert (out["expected_low"] <= out["expected"]).all()
    assert (out["expected"] <= out["expected_high"]).all()
    assert out["top_streets"].str.contains("Parking Area").any()
    assert out["share"].sum() <= 1.0


HAMPSHIRE_ZIP = (
    Path(__file__).resolve().parents[3]
    / "shared"
    / "data"
    / "police_uk"
    / "hampshire"
    / "hampshire-street-2021-03-to-2022-05.zip"
)


@pytest.mark.skipif(not HAMPSHIRE_ZIP.exists(), reason="the Hampshire months are not here")
def test_eastleigh_asb_patrol_plan_for_june_2022():
    from geo.io import load_incidents
    from geo.study_area import load_study_area

    area = load_study_area()
    inc = load_incidents(HAMPSHIRE_ZIP, area).incidents
    months = [m for m in sorted(set(inc["month"])) if "2021-06" <= m <= "2022-05"]
    assert len(months) == 12
    inc = inc[inc["month"].isin(months)]
    surface = fit_risk(inc, types=[ASB], study_area=area.geometry, months=months)
    asb = inc[inc["crime_type"] == ASB]
    out = patrol_areas(surface, asb, wards=area.areas("ward"), gazetteer=area.gazetteer)
    assert 1 <= len(out) <= 10
    assert (out["count"] >= 5).all()
    assert out["name"].is_unique
    names = set(out["name"])
    assert "Eastleigh town centre" in names
    assert "Hedge End town centre" in names
    assert (out["across_m"] <= 400.0).all()
