"""Walking distances: a toy network checked by hand, and the Southampton Open Roads sample."""

from __future__ import annotations

import time
import zipfile
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from shapely.geometry import LineString, Point

from analysis.network import (
    ALL_VENUES,
    build_walk_network,
    network_distances_m,
    node_distances_m,
    reach_shares,
    snap_points,
    split_link,
    venue_catchments,
    walk_catchment,
    walk_cover,
)
from geo.errors import InputError

SHARED = Path(__file__).resolve().parents[2] / ".." / "shared" / "data"
FIXTURE = SHARED / "streets" / "os_open_roads_sample_southampton.geojson"
HAMPSHIRE = SHARED / "police_uk" / "hampshire" / "hampshire-street-2021-03-to-2022-05.zip"


def toy_streets(extra: list | None = None) -> gpd.GeoDataFrame:
    """A(0,0)-B(300,0) 300 m; B-C(300,400) 400 m; B-D(400,0) 100 m."""
    rows = [
        ("High Street", "a_road", "A", "B", LineString([(0, 0), (300, 0)])),
        ("Mill Lane", "local", "B", "C", LineString([(300, 0), (300, 400)])),
        ("Short Way", "local", "B", "D", LineString([(300, 0), (400, 0)])),
        *(extra or []),
    ]
    frame = gpd.GeoDataFrame(
        rows, columns=["name", "road_class", "start_node", "end_node", "geometry"], crs=27700
    )
    frame["length_m"] = frame.length
    return frame


@pytest.fixture
def toy():
    return build_walk_network(toy_streets())


def test_the_toy_graph_has_four_nodes_and_three_weighted_links(toy):
    assert sorted(toy.graph.nodes) == ["A", "B", "C", "D"]
    assert sorted(w for *_, w in toy.graph.edges(data="weight")) == [100, 300, 400]


def test_a_point_is_snapped_to_its_projection_mid_link(toy):
    snapped = snap_points(toy, np.array([[150.0, 10.0], [310.0, 200.0], [5_000.0, 0.0]]))
    assert snapped["link"].tolist() == [0, 1, -1]
    assert snapped["offset_m"].iloc[:2].tolist() == pytest.approx([150, 200])
    assert snapped["snap_distance_m"].iloc[:2].tolist() == pytest.approx([10, 10])
    assert snapped[["x", "y"]].iloc[0].tolist() == pytest.approx([150, 0])
    assert np.isnan(snapped["offset_m"].iloc[2])


def test_split_link_cuts_at_the_distance():
    head, tail = split_link(LineString([(0, 0), (300, 0), (300, 400)]), 450)
    assert head.length == pytest.approx(450) and tail.length == pytest.approx(250)
    assert head.coords[-1] == pytest.approx((300, 150))


def test_node_distances_start_at_the_true_point(toy):
    # Venue 10 m off High Street, 150 m from A: 10 m to the street, then along it.
    dist = node_distances_m(toy, Point(150, 10))
    assert dist == pytest.approx({"A": 160, "B": 160, "C": 560, "D": 260})
    assert node_distances_m(toy, Point(150, 10), include_access=False)["C"] == pytest.approx(550)
    assert set(node_distances_m(toy, Point(150, 10), max_distance_m=200)) == {"A", "B"}


def test_network_distances_to_points_exact(toy):
    venue = np.array([[150.0, 10.0]])
    targets = np.array([[300.0, 200.0], [50.0, -5.0], [390.0, 3.0], [9_000.0, 0.0]])
    dist = network_distances_m(toy, venue, targets)
    # 10 + 150 + 200; on the venue's own link: 10 + 100 + 5; 10 + 150 + 90 + 3; off the network.
    assert dist.tolist() == pytest.approx([360, 115, 253, np.inf])
    assert network_distances_m(toy, venue, targets, max_distance_m=300).tolist() == pytest.approx(
        [np.inf, 115, 253, np.inf]
    )
    # The nearest of two venues counts.
    two = np.array([[150.0, 10.0], [300.0, 390.0]])
    assert network_distances_m(toy, two, targets[:1])[0] == pytest.approx(190)


def test_walking_is_never_shorter_than_the_straight_line(toy):
    rng = np.random.default_rng(7)
    targets = rng.uniform([-50, -50], [450, 450], size=(200, 2))
    venue = np.array([[120.0, 30.0]])
    walk = network_distances_m(toy, venue, targets)
    line = np.hypot(*(targets - venue[0]).T)
    assert (walk >= line - 1e-6).all()


def test_motorways_are_not_walked_and_other_components_are_unreached():
    extra = [
        ("M27", "motorway", "C", "E", LineString([(300, 400), (300, 900)])),
        ("Island Road", "local", "X", "Y", LineString([(1_000, 0), (1_200, 0)])),
    ]
    net = build_walk_network(toy_streets(extra))
    assert "E" not in net.graph
    dist = network_distances_m(net, np.array([[0.0, 0.0]]), np.array([[300, 500], [1_100, 0]]))
    assert dist[0] == pytest.approx(700 + 100)  # to C, then 100 m off the street beside the M27
    assert dist[1] == np.inf


def test_the_catchment_follows_the_reachable_street_parts(toy):
    # From (150, 0) with 400 m: all of High Street and Short Way, 250 m up Mill Lane.
    area = walk_catchment(toy, Point(150, 0), 400, width_m=1)
    assert area.contains(Point(300, 248)) and not area.contains(Point(300, 252))
    assert area.contains(Point(0.5, 0)) and area.contains(Point(399.5, 0))
    assert area.area == pytest.approx(2 * (300 + 100 + 250) + np.pi, rel=0.02)
    # A short walk stays on the venue's own link: 100 m both ways.
    short = walk_catchment(toy, Point(150, 0), 100, width_m=1)
    assert short.bounds == pytest.approx((49, -1, 251, 1), abs=0.01)
    assert walk_catchment(toy, Point(5_000, 0), 400).is_empty


def test_reach_shares_say_which_is_which(toy):
    venues = gpd.GeoDataFrame({"name": ["Rec"]}, geometry=[Point(150, 0)], crs=27700)
    incidents = gpd.GeoDataFrame(
        geometry=[Point(300, 200), Point(100, 0), Point(380, 0), Point(150, 290)], crs=27700
    )
    shares = reach_shares(toy, venues, incidents, distance_m=300)
    row = shares.set_index("venue").loc["Rec"]
    # Walking: 350, 50, 230, (290 m off the street: not on the network) -> 2 of 4.
    # Straight line: 250, 50, 230, 290 -> 4 of 4.
    assert row["walking_count"] == 2 and row["walking_share"] == 0.5
    assert row["straight_line_count"] == 4 and row["straight_line_share"] == 1.0
    assert shares["venue"].tolist() == ["Rec", ALL_VENUES]
    assert "walking" in shares.attrs["note"] and "straight line" in shares.attrs["note"]


def test_bad_arguments_are_input_errors(toy):
    with pytest.raises(InputError, match="British National Grid"):
        build_walk_network(toy_streets().to_crs(4326))
    with pytest.raises(InputError, match="distance_m must be a positive"):
        reach_shares(toy, np.array([[0.0, 0.0]]), np.array([[1.0, 1.0]]), distance_m=-5)
    with pytest.raises(InputError, match="width_m"):
        walk_catchment(toy, Point(0, 0), 400, width_m=0)


# ------------------------------------------------------------------ the real sample


def _southampton_incidents(hull: shapely.Geometry) -> gpd.GeoDataFrame:
    with zipfile.ZipFile(HAMPSHIRE) as z:
        frames = [
            pd.read_csv(z.open(n), usecols=["Longitude", "Latitude", "LSOA name"])
            for n in z.namelist()
            if n.endswith("-street.csv")
        ]
    df = pd.concat(frames).dropna(subset=["Longitude", "Latitude"])
    df = df[df["LSOA name"].fillna("").str.startswith("Southampton")]
    pts = gpd.GeoDataFrame(
        geometry=gpd.points_from_xy(df["Longitude"], df["Latitude"]), crs=4326
    ).to_crs(27700)
    return pts[pts.within(hull)].reset_index(drop=True)


@pytest.mark.slow
@pytest.mark.skipif(
    not (FIXTURE.exists() and HAMPSHIRE.exists()), reason="shared street or police.uk data absent"
)
def test_walking_reach_is_smaller_than_the_circle_on_real_streets():
    from geo.streets import read_streets

    streets = read_streets(FIXTURE)
    t0 = time.perf_counter()
    net = build_walk_network(streets)
    build_s = time.perf_counter() - t0
    hull = shapely.convex_hull(shapely.multipoints(shapely.get_coordinates(streets.geometry)))
    incidents = _southampton_incidents(hull.buffer(-200))
    venue = streets.geometry.union_all().centroid
    t0 = time.perf_counter()
    shares = reach_shares(net, np.array([[venue.x, venue.y]]), incidents, distance_m=800)
    reach_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    area = walk_catchment(net, venue, 800, width_m=35)
    catch_s = time.perf_counter() - t0
    row = shares.iloc[0]
    print(
        f"\nSouthampton sample: {len(streets):,} links, {len(incidents):,} police.uk points; "
        f"build {build_s * 1000:.0f} ms, reach {reach_s * 1000:.0f} ms, catchment "
        f"{catch_s * 1000:.0f} ms; within 800 m walking {row.walking_count:,} "
        f"({row.walking_share:.1%}), straight line {row.straight_line_count:,} "
        f"({row.straight_line_share:.1%}); catchment {area.area / 1e6:.2f} km2 vs circle "
        f"{np.pi * 0.64:.2f} km2"
    )
    assert len(incidents) > 5_000
    assert 0 < row.walking_count < row.straight_line_count
    assert area.area < np.pi * 800**2
    # Every incident within walking reach is inside the circle too.
    walk = network_distances_m(net, np.array([[venue.x, venue.y]]), incidents, max_distance_m=800)
    line = incidents.distance(venue).to_numpy()
    assert (line[np.isfinite(walk)] <= 800 + 1e-6).all()
    assert build_s < 5 and reach_s < 10


def test_reach_shares_count_repeated_points_and_weights(toy):
    venue = np.array([[150.0, 0.0]])
    # Three incidents on one map point 50 m away, one on a point 350 m away on foot.
    pts = np.array([[100.0, 0.0], [100.0, 0.0], [100.0, 0.0], [300.0, 200.0]])
    row = reach_shares(toy, venue, pts, distance_m=300).iloc[0]
    assert row["incidents"] == 4 and row["walking_count"] == 3 and row["straight_line_count"] == 4
    assert row["walking_share"] == 0.75
    weighted = gpd.GeoDataFrame(
        {"weight": [3, 1]}, geometry=[Point(100, 0), Point(300, 200)], crs=27700
    )
    assert reach_shares(toy, venue, weighted, distance_m=300).iloc[0].to_dict() == row.to_dict()
    bad = weighted.assign(weight=[-1, 1])
    with pytest.raises(InputError, match="weight"):
        reach_shares(toy, venue, bad)


def test_walk_cover_is_the_walking_matrix_of_demand_by_site(toy):
    sites = np.array([[150.0, 0.0], [300.0, 390.0], [5_000.0, 0.0]])
    demand = np.array([[100.0, 0.0], [300.0, 200.0], [390.0, 0.0], [300.0, 300.0]])
    cover = walk_cover(toy, sites, demand, 300)
    # Site 1 (150, 0): 50, 350, 240, 450 m. Site 2 (300, 390): 590, 190, 480, 90 m.
    # Site 3 is off the network.
    assert cover.tolist() == [
        [True, False, False],
        [False, True, False],
        [True, False, False],
        [False, True, False],
    ]
    assert walk_cover(toy, sites[:0], demand, 300).shape == (4, 0)


def test_venue_catchments_one_row_per_venue(toy):
    venues = gpd.GeoDataFrame(
        {"name": ["Rec", "Far"]}, geometry=[Point(150, 0), Point(5_000, 0)], crs=27700
    )
    frame = venue_catchments(toy, venues, 400, width_m=1)
    assert frame["name"].tolist() == ["Rec", "Far"]
    assert frame.crs.to_epsg() == 27700
    assert frame["area_km2"].iloc[0] == pytest.approx(
        walk_catchment(toy, Point(150, 0), 400, width_m=1).area / 1e6
    )
    assert frame["area_km2"].iloc[1] == 0 and frame.geometry.iloc[1].is_empty
    assert frame["circle_area_km2"].iloc[0] == pytest.approx(np.pi * 0.16)


# ------------------------------------------------------------------ properties


@st.composite
def random_network(draw):
    """Up to 12 nodes on a 1 km square joined by up to 20 straight links."""
    n = draw(st.integers(2, 12))
    xy = draw(
        st.lists(
            st.tuples(st.integers(0, 1_000), st.integers(0, 1_000)),
            min_size=n,
            max_size=n,
            unique=True,
        )
    )
    pairs = draw(
        st.lists(
            st.tuples(st.integers(0, n - 1), st.integers(0, n - 1)).filter(lambda p: p[0] != p[1]),
            min_size=1,
            max_size=20,
        )
    )
    rows = [("", "local", f"N{a}", f"N{b}", LineString([xy[a], xy[b]])) for a, b in pairs]
    frame = gpd.GeoDataFrame(
        rows, columns=["name", "road_class", "start_node", "end_node", "geometry"], crs=27700
    )
    frame["length_m"] = frame.length
    points = draw(
        st.lists(st.tuples(st.floats(0, 1_000), st.floats(0, 1_000)), min_size=2, max_size=8)
    )
    return frame, np.array(points)


@settings(
    max_examples=60,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
@given(random_network(), st.floats(50, 1_500))
def test_walking_properties_on_random_networks(case, distance_m):
    frame, pts = case
    net = build_walk_network(frame)
    venue, targets = pts[:1], pts[1:]
    walk = network_distances_m(net, venue, targets, max_snap_m=2_000)
    line = np.hypot(*(targets - venue[0]).T)
    # Walking is never shorter than the straight line.
    assert (walk >= line - 1e-6).all()
    # A cap changes nothing below it.
    capped = network_distances_m(net, venue, targets, max_distance_m=distance_m, max_snap_m=2_000)
    within = walk <= distance_m
    assert np.allclose(capped[within], walk[within])
    assert np.isinf(capped[~within]).all()
    # Every target reached without its own access leg lies on the catchment's streets.
    along = network_distances_m(net, venue, targets, max_snap_m=2_000, include_access=True)
    snapped = snap_points(net, targets, max_snap_m=2_000)
    access = snapped["snap_distance_m"].to_numpy()
    area = walk_catchment(net, venue, distance_m, width_m=0.5, max_snap_m=2_000)
    for i in np.flatnonzero(along - access <= distance_m - 0.01):
        on_street = Point(snapped.at[i, "x"], snapped.at[i, "y"])
        assert area.buffer(0.01).contains(on_street), (i, along[i], access[i])
