"""Tests of venue siting on a hand-drawn grid, and on the shipped real ASB.

The grid (metres from an origin in British National Grid), reach 500 m straight line:

    venues:      A (0, 0) running, B (800, 0) running, C "Hedge End" (0, 3000) planned
    demand:      1 (300, 400)   500 m from A (exactly on the ring: in), 640 m from B
                 2 (400, 0)     400 m from A and from B: counted once in the union
                 3 (-100, 0)    A
                 4 (800, 300)   B (300 m)
                 5 (1200, 0)    B (400 m)
                 6 (0, 2800)    C (200 m)
                 7 (300, 3000)  C (300 m)
                 8 (0, 3600)    600 m from C: out
                 9 (3000, 3000), 10 (3000, 3100): far from every venue
    candidates:  Between (350, 100)  reaches 1, 2, 3, 4 (304, 112, 461, 492 m): all
                                     already reached by A or B, so its gain is 0
                 North (0, 3200)     reaches 6, 7, 8 (400, 361, 400 m): gain 3
                 Hedge End (0, 3000) reaches 6, 7: gain 2
                 Far east (3000, 3050) reaches 9, 10 (50 m each): gain 2
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from shapely.geometry import Point, box

from analysis.siting import (
    ALL_VENUES,
    RUNNING_VENUES,
    candidate_sites,
    hotspot_demand,
    maximal_covering,
    rank_candidates,
    reach_table,
    venue_change_effect,
)
from geo.crs import BNG
from geo.errors import InputError
from geo.schema import ASB

X0, Y0 = 440_000.0, 110_000.0
R = 500.0


def _pts(coords, **cols) -> gpd.GeoDataFrame:
    geoms = [Point(X0 + x, Y0 + y) for x, y in coords]
    return gpd.GeoDataFrame(cols, geometry=geoms, crs=BNG)


@pytest.fixture
def venues() -> gpd.GeoDataFrame:
    return _pts(
        [(0, 0), (800, 0), (0, 3000)],
        name=["A", "B", "Hedge End"],
        status=["running", "running", "planned"],
    )


@pytest.fixture
def running(venues) -> gpd.GeoDataFrame:
    return venues[venues.status == "running"]


DEMAND_XY = [
    (300, 400), (400, 0), (-100, 0), (800, 300), (1200, 0),
    (0, 2800), (300, 3000), (0, 3600), (3000, 3000), (3000, 3100),
]  # fmt: skip


@pytest.fixture
def demand() -> gpd.GeoDataFrame:
    return _pts(DEMAND_XY)


@pytest.fixture
def candidates() -> gpd.GeoDataFrame:
    return _pts(
        [(350, 100), (0, 3200), (0, 3000), (3000, 3050)],
        name=["Between", "North", "Hedge End", "Far east"],
        kind=["place", "place", "planned venue", "clicked"],
    )


# ------------------------------------------------------------------ reach_table


def test_reach_table_by_hand(venues, demand):
    t = reach_table(venues, demand, radius_m=R).set_index("venue")
    assert list(t.index) == ["A", "B", "Hedge End", RUNNING_VENUES, ALL_VENUES]
    assert t.loc["A", "count"] == 3  # points 1 (on the ring), 2, 3
    assert t.loc["B", "count"] == 3  # points 2, 4, 5
    assert t.loc["Hedge End", "count"] == 2  # points 6, 7
    # Point 2 is near A and B: the union counts it once (5, not 6).
    assert t.loc[RUNNING_VENUES, "count"] == 5
    assert t.loc[ALL_VENUES, "count"] == 7
    assert t.loc[ALL_VENUES, "share"] == pytest.approx(0.7)
    assert t.loc["A", "share"] == pytest.approx(0.3)
    assert t.attrs["total"] == 10
    assert (t["radius_m"] == R).all()


def test_reach_table_radius_is_metres_and_inclusive(venues, demand):
    t = reach_table(venues, demand, radius_m=499.0).set_index("venue")
    assert t.loc["A", "count"] == 2  # point 1 at exactly 500 m drops out
    t = reach_table(venues, demand, radius_m=0.5).set_index("venue")  # km by mistake
    assert t.loc[ALL_VENUES, "count"] == 0
    t = reach_table(venues, demand, radius_m=3500.0).set_index("venue")
    assert t.loc[ALL_VENUES, "count"] == 10


def test_reach_table_weights(venues, demand):
    weighted = demand.assign(weight=[1, 4, 1, 1, 1, 1, 1, 1, 10, 1])
    t = reach_table(venues, weighted, radius_m=R).set_index("venue")
    assert t.loc["A", "count"] == 6  # 1 + 4 + 1
    assert t.loc[RUNNING_VENUES, "count"] == 8  # 1 + 4 + 1 + 1 + 1: point 2 once
    assert t.attrs["total"] == 22
    assert t.loc[RUNNING_VENUES, "share"] == pytest.approx(8 / 22)


def test_reach_table_accepts_hotspot_polygons(venues):
    # describe_hotspots-like polygons: each counts its `count` at its centroid.
    hotspots = gpd.GeoDataFrame(
        {"rank": [1, 2], "name": ["near A", "far"], "count": [7, 3]},
        geometry=[
            box(X0 - 100, Y0 - 100, X0 + 100, Y0 + 300),
            box(X0 + 5000, Y0, X0 + 5100, Y0 + 100),
        ],
        crs=BNG,
    )
    t = reach_table(venues, hotspots, radius_m=R).set_index("venue")
    assert t.loc["A", "count"] == 7
    assert t.loc[ALL_VENUES, "share"] == pytest.approx(0.7)


def test_reach_table_no_demand_gives_nan_share(venues, demand):
    t = reach_table(venues, demand.iloc[:0], radius_m=R)
    assert (t["count"] == 0).all()
    assert t["share"].isna().all()


@pytest.mark.parametrize("radius", [0, -5, float("nan")])
def test_bad_radius(venues, demand, radius):
    with pytest.raises(InputError, match="radius_m"):
        reach_table(venues, demand, radius_m=radius)


def test_wrong_crs_and_missing_name(venues, demand):
    with pytest.raises(InputError, match="27700"):
        reach_table(venues, demand.to_crs(4326), radius_m=R)
    with pytest.raises(InputError, match="'name'"):
        reach_table(venues.drop(columns="name"), demand, radius_m=R)


def test_null_geometry_and_negative_weight(venues, demand):
    bad = demand.copy()
    bad.loc[3, "geometry"] = None
    with pytest.raises(InputError, match="no geometry.*has_location"):
        reach_table(venues, bad, radius_m=R)
    with pytest.raises(InputError, match="weight"):
        reach_table(venues, demand.assign(weight=[1] * 9 + [-1]), radius_m=R)


# ------------------------------------------------------------------ hotspot_demand


def _incidents() -> gpd.GeoDataFrame:
    rows = [
        (ASB, True, (0, 0)),
        (ASB, True, (0, 0)),  # identical rows are real incidents
        (ASB, True, (0, 0)),
        (ASB, True, (1000, 0)),
        ("Burglary", True, (0, 0)),
        (ASB, False, None),
        (ASB, True, (50, 0)),  # on the edge of the hotspot box
    ]
    geoms = [Point(X0 + p[0], Y0 + p[1]) if p else None for _, _, p in rows]
    return gpd.GeoDataFrame(
        {"crime_type": [r[0] for r in rows], "has_location": [r[1] for r in rows]},
        geometry=geoms,
        crs=BNG,
    )


def test_hotspot_demand_aggregates_points():
    d = hotspot_demand(_incidents())
    assert list(zip(d["x"] - X0, d["y"] - Y0, d["weight"], strict=True)) == [
        (0, 0, 3), (50, 0, 1), (1000, 0, 1),
    ]  # fmt: skip
    assert d.crs == BNG
    every = hotspot_demand(_incidents(), crime_types=None)
    assert every["weight"].sum() == 6  # the burglary too; never the row without a location


def test_hotspot_demand_inside_hotspots_counts_once():
    spot = box(X0 - 50, Y0 - 50, X0 + 50, Y0 + 50)
    # Two overlapping polygons over the same points: each incident still counts once.
    hotspots = gpd.GeoDataFrame(geometry=[spot, spot.buffer(10)], crs=BNG)
    d = hotspot_demand(_incidents(), hotspots)
    assert list(zip(d["x"] - X0, d["weight"], strict=True)) == [(0, 3), (50, 1)]
    none = hotspot_demand(_incidents(), hotspots.iloc[:0])
    assert len(none) == 0


def test_hotspot_demand_needs_columns():
    with pytest.raises(InputError, match="load_incidents"):
        hotspot_demand(_incidents().drop(columns="has_location"))


# ------------------------------------------------------------------ candidate_sites


def test_candidate_sites_sources(venues):
    schools = gpd.GeoDataFrame(
        {"name": ["School"]}, geometry=gpd.points_from_xy([-1.30], [50.91]), crs=4326
    )
    places = _pts([(10, 10)], name=["Place"])
    c = candidate_sites(
        schools=schools, gazetteer=places, clicked=(-1.3040, 50.9130), venues=venues
    )
    assert list(c["kind"]) == ["planned venue", "clicked", "place", "school"]
    assert c["name"].iloc[0] == "Hedge End"  # running venues are not candidates
    assert c.crs == BNG
    # -1.304, 50.913 is Hedge End town centre, about (449027, 112841) in BNG.
    clicked = c.geometry.iloc[1]
    assert abs(clicked.x - 449_027) < 50
    assert abs(clicked.y - 112_841) < 50
    assert c["name"].iloc[1].startswith("Clicked point")


def test_candidate_sites_rejects_swapped_click():
    with pytest.raises(InputError, match="swapped"):
        candidate_sites(clicked=(50.913, -1.304))


def test_candidate_sites_empty():
    c = candidate_sites()
    assert len(c) == 0
    assert list(c.columns) == ["name", "kind", "geometry"]


# ------------------------------------------------------------------ rank_candidates


def test_rank_candidates_by_hand(running, candidates, demand):
    t = rank_candidates(running, candidates, demand, radius_m=R).set_index("name")
    assert t.loc["Between", "reach_count"] == 4
    assert t.loc["Between", "gain_count"] == 0  # reaches only what A and B reach
    assert t.loc["North", "gain_count"] == 3
    assert t.loc["Hedge End", "gain_count"] == 2
    assert t.loc["Far east", "gain_count"] == 2
    assert t.loc["North", "rank"] == 1
    assert t.loc["Between", "rank"] == 4
    assert t.loc["North", "share_before"] == pytest.approx(0.5)
    assert t.loc["North", "share_after"] == pytest.approx(0.8)
    assert t.loc["North", "greedy_order"] == 1
    assert pd.isna(t.loc["Far east", "greedy_order"])


def test_rank_candidates_weights_change_the_order(running, candidates, demand):
    weighted = demand.assign(weight=[1, 1, 1, 1, 1, 1, 1, 1, 5, 1])
    t = rank_candidates(running, candidates, weighted, radius_m=R)
    assert t["name"].iloc[0] == "Far east"  # 5 + 1 = 6 beats North's 3
    assert t["gain_count"].iloc[0] == 6
    assert t["gain_share"].iloc[0] == pytest.approx(6 / 14)


def test_rank_candidates_greedy_two(running, candidates, demand):
    t = rank_candidates(running, candidates, demand, radius_m=R, n_new=2).set_index("name")
    assert t.loc["North", "greedy_order"] == 1
    # After North, Hedge End adds nothing (its 6, 7 are North's); Far east adds 2.
    assert t.loc["Far east", "greedy_order"] == 2
    assert t.loc["Far east", "greedy_gain_share"] == pytest.approx(0.2)
    with pytest.raises(InputError, match="n_new"):
        rank_candidates(running, candidates, demand, radius_m=R, n_new=5)


# ------------------------------------------------------------------ maximal_covering


def test_mclp_forces_existing_open(running, candidates, demand):
    res = maximal_covering(running, candidates, demand, radius_m=R, p_new=1)
    assert res.status == "Optimal"
    assert list(res.chosen["name"]) == ["North"]
    assert res.share_before == pytest.approx(0.5)
    assert res.share_after == pytest.approx(0.8)
    assert res.difference == pytest.approx(0.3)
    # Without the existing venues, the best single site is Between (reaches 4 > 3):
    # so forcing A and B open is what makes North the answer.
    alone = maximal_covering(None, candidates, demand, radius_m=R, p_new=1)
    assert list(alone.chosen["name"]) == ["Between"]
    assert alone.share_after == pytest.approx(0.4)


def test_mclp_two_sites(running, candidates, demand):
    res = maximal_covering(running, candidates, demand, radius_m=R, p_new=2)
    assert sorted(res.chosen["name"]) == ["Far east", "North"]
    assert res.share_after == pytest.approx(1.0)
    assert res.count_after == 10


def test_mclp_repeated_rows_equal_weights(running, candidates, demand):
    # Far east's two points as 4 + 4 repeated rows weigh 8 > North's 3; the solver
    # merges points reached by the same sites, which must not change the answer.
    far = _pts([(3000, 3000)] * 4 + [(3000, 3100)] * 4)
    rows = pd.concat([demand.iloc[:8], far], ignore_index=True)
    weighted = demand.assign(weight=[1] * 8 + [4, 4])
    a = maximal_covering(running, candidates, rows, radius_m=R, p_new=1)
    b = maximal_covering(running, candidates, weighted, radius_m=R, p_new=1)
    assert list(a.chosen["name"]) == list(b.chosen["name"]) == ["Far east"]
    assert a.share_after == pytest.approx(b.share_after) == pytest.approx(13 / 16)


def test_mclp_agrees_with_greedy_for_one_site(running, candidates, demand):
    for weights in ([1] * 10, [1, 1, 1, 1, 1, 1, 1, 1, 5, 1], [9, 1, 1, 1, 1, 1, 1, 1, 1, 1]):
        d = demand.assign(weight=weights)
        ranked = rank_candidates(running, candidates, d, radius_m=R)
        res = maximal_covering(running, candidates, d, radius_m=R, p_new=1)
        assert res.chosen["name"].iloc[0] == ranked["name"].iloc[0]
        assert res.share_after == pytest.approx(ranked["share_after"].iloc[0])


def test_mclp_bad_p(running, candidates, demand):
    with pytest.raises(InputError, match="p_new"):
        maximal_covering(running, candidates, demand, radius_m=R, p_new=9)


# ------------------------------------------------------------------ venue_change_effect


def test_venue_change_effect_add_planned(venues, demand):
    e = venue_change_effect(venues, demand, radius_m=R, add=["Hedge End"])
    assert e["share_before"] == pytest.approx(0.5)
    assert e["share_after"] == pytest.approx(0.7)
    assert e["difference"] == pytest.approx(0.2)
    assert e["venues_before"] == ["A", "B"]
    assert e["venues_after"] == ["A", "B", "Hedge End"]


def test_venue_change_effect_remove_and_move(venues, demand):
    e = venue_change_effect(venues, demand, radius_m=R, remove=["B"])
    assert e["share_after"] == pytest.approx(0.3)
    assert e["difference"] == pytest.approx(-0.2)
    # Move A to (350, 100): B plus the moved A reach 1..5, as before.
    moved = _pts([(350, 100)], name=["A moved"])
    e = venue_change_effect(venues, demand, radius_m=R, remove=["A"], add=moved)
    assert e["share_after"] == pytest.approx(0.5)
    assert e["venues_after"] == ["B", "A moved"]
    with pytest.raises(InputError, match="no venue named"):
        venue_change_effect(venues, demand, radius_m=R, add=["Hedgend"])


# ------------------------------------------------------------------ real data


@pytest.fixture(scope="module")
def real():
    from geo.io import load_incidents
    from geo.places import load_gazetteer, load_schools, load_stations, load_venues

    inc = load_incidents().incidents
    inc = inc[inc["month"].between("2017-02", "2017-05")]
    return {
        "incidents": inc,
        "venues": load_venues(),
        "schools": load_schools(),
        "stations": load_stations(),
        "gazetteer": load_gazetteer(),
    }


@pytest.mark.parametrize("radius_m", [800.0, 1500.0])
def test_real_reach_and_hedge_end(real, radius_m):
    demand = hotspot_demand(real["incidents"])
    asb = real["incidents"]
    n_asb = int(((asb.crime_type == ASB) & asb.has_location).sum())
    assert demand["weight"].sum() == n_asb
    venues = real["venues"]
    t = reach_table(venues, demand, radius_m=radius_m).set_index("venue")
    singles = t.loc[venues["name"], "count"]
    assert singles.max() <= t.loc[ALL_VENUES, "count"] <= singles.sum()
    assert 0 < t.loc[RUNNING_VENUES, "share"] < t.loc[ALL_VENUES, "share"] < 1
    hedge = venues.loc[venues.status == "planned", "name"].tolist()
    assert len(hedge) == 1
    assert "Hedge End" in hedge[0]
    e = venue_change_effect(venues, demand, radius_m=radius_m, add=hedge)
    assert e["share_before"] == pytest.approx(t.loc[RUNNING_VENUES, "share"])
    assert e["share_after"] == pytest.approx(t.loc[ALL_VENUES, "share"])
    assert e["difference"] > 0


def test_real_mclp_agrees_with_greedy(real):
    demand = hotspot_demand(real["incidents"])
    venues = real["venues"]
    running = venues[venues.status == "running"]
    cands = candidate_sites(
        schools=real["schools"],
        stations=real["stations"],
        gazetteer=real["gazetteer"],
        venues=venues,
    )
    assert (cands["kind"] == "planned venue").sum() == 1
    ranked = rank_candidates(running, cands, demand, radius_m=800.0)
    res = maximal_covering(running, cands, demand, radius_m=800.0, p_new=1)
    assert res.status == "Optimal"
    # Same best gain; the same site unless two candidates tie on gain.
    assert res.share_after == pytest.approx(ranked["share_after"].iloc[0])
    best = ranked[np.isclose(ranked["gain_count"], ranked["gain_count"].iloc[0])]
    assert res.chosen["name"].iloc[0] in set(best["name"])
    assert res.share_before == pytest.approx(ranked["share_before"].iloc[0])
