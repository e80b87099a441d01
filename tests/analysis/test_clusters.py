"""DBSCAN on distinct weighted points, HDBSCAN and cluster outlines.

Hand-made points sit in Eastleigh's part of the National Grid (x ~ 445 km, y ~ 119 km)
so the coordinates have the magnitude of real data.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pytest
import shapely
from sklearn.cluster import DBSCAN

from analysis.clusters import (
    NO_LOCATION,
    NOISE,
    cluster_outlines,
    dbscan_hotspots,
    dbscan_labels,
    distinct_points,
    hdbscan_labels,
    relabel_by_size,
)
from geo.boundaries import load_layer
from geo.crs import BNG
from geo.errors import InputError
from geo.io import load_incidents
from geo.paths import GPKG, shipped_incident_paths
from tests.areas import EASTLEIGH

X0, Y0 = 445_000.0, 119_000.0


def rows_dbscan(xy: np.ndarray, eps_m: float, min_samples: int) -> np.ndarray:
    """scikit-learn's DBSCAN on every row, labels renumbered the same way as ours."""
    return relabel_by_size(DBSCAN(eps=eps_m, min_samples=min_samples).fit_predict(xy))


def xy_of(gdf: gpd.GeoDataFrame) -> np.ndarray:
    return np.column_stack([gdf.geometry.x, gdf.geometry.y])


@pytest.fixture(scope="module")
def incidents_2017() -> gpd.GeoDataFrame:
    paths = [p for p in shipped_incident_paths() if p.name.startswith("2017-")]
    return load_incidents(paths, EASTLEIGH).incidents


@pytest.fixture(scope="module")
def asb_2017(incidents_2017: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    asb = incidents_2017[incidents_2017["crime_type"] == "Anti-social behaviour"]
    assert set(asb["month"]) == {"2017-02", "2017-03", "2017-04", "2017-05"}
    return asb


# --- hand-made points ---------------------------------------------------------------


def two_groups(gap_m: float) -> np.ndarray:
    """Two lines of five points 1 m apart, the nearest points of the groups gap_m apart."""
    a = [(X0 + i, Y0) for i in range(5)]
    b = [(X0 + 4 + gap_m + i, Y0) for i in range(5)]
    return np.array(a + b, dtype=float)


def test_two_groups_50m_apart_are_one_cluster_at_100m_and_two_at_25m():
    xy = two_groups(50.0)
    one = dbscan_labels(xy, eps_m=100, min_samples=3)
    two = dbscan_labels(xy, eps_m=25, min_samples=3)
    assert one.tolist() == [0] * 10
    assert sorted(set(two.tolist())) == [0, 1]
    assert len(set(two[:5])) == 1 and len(set(two[5:])) == 1 and two[0] != two[5]


def test_one_point_carrying_min_samples_rows_is_a_core_point_by_itself():
    here = [(X0, Y0)]
    far = [(X0 + 5_000, Y0)]
    five = np.array(here * 5 + far, dtype=float)
    four = np.array(here * 4 + far, dtype=float)
    assert dbscan_labels(five, eps_m=50, min_samples=5).tolist() == [0] * 5 + [NOISE]
    assert dbscan_labels(four, eps_m=50, min_samples=5).tolist() == [NOISE] * 5
    # scikit-learn on the rows agrees: the weight of a point is the number of its rows.
    assert rows_dbscan(five, 50, 5).tolist() == [0] * 5 + [NOISE]


def test_rows_without_location_get_minus_two_and_do_not_count():
    pts = [shapely.Point(X0, Y0)] * 3 + [None, shapely.Point(), shapely.Point(X0 + 1, Y0)]
    gdf = gpd.GeoDataFrame({"n": range(6)}, geometry=pts, crs=BNG)
    labels = dbscan_labels(gdf, eps_m=10, min_samples=4)
    assert labels.tolist() == [0, 0, 0, NO_LOCATION, NO_LOCATION, 0]
    # Two missing rows would have made min_samples=6 reachable if they were counted.
    assert set(dbscan_labels(gdf, eps_m=10, min_samples=5).tolist()) == {NOISE, NO_LOCATION}
    xy = np.array([[X0, Y0], [np.nan, np.nan], [X0, Y0]])
    assert dbscan_labels(xy, eps_m=10, min_samples=2).tolist() == [0, NO_LOCATION, 0]
    assert hdbscan_labels(gdf, min_cluster_size=2)[3:5].tolist() == [NO_LOCATION] * 2


def test_all_rows_without_location():
    gdf = gpd.GeoDataFrame(geometry=[None, None], crs=BNG)
    assert dbscan_labels(gdf, eps_m=10, min_samples=1).tolist() == [NO_LOCATION] * 2


def snapped_rows(seed: int, n_points: int, n_rows: int, extent_m: float) -> np.ndarray:
    """Rows drawn from a fixed set of snap points with skewed multiplicities."""
    rng = np.random.default_rng(seed)
    snaps = rng.uniform(0, extent_m, size=(n_points, 2)) + (X0, Y0)
    popularity = rng.pareto(1.2, n_points) + 0.05
    pick = rng.choice(n_points, size=n_rows, p=popularity / popularity.sum())
    return snaps[pick]


@pytest.mark.parametrize("seed", range(6))
def test_weighted_distinct_points_equal_sklearn_on_rows_for_random_snapped_points(seed):
    xy = snapped_rows(seed, n_points=300, n_rows=3_000, extent_m=2_000)
    rng = np.random.default_rng(100 + seed)
    for _ in range(4):
        eps_m = float(rng.uniform(20, 250))
        min_samples = int(rng.integers(2, 40))
        ours = dbscan_labels(xy, eps_m=eps_m, min_samples=min_samples)
        assert np.array_equal(ours, rows_dbscan(xy, eps_m, min_samples)), (eps_m, min_samples)


@pytest.mark.parametrize(
    ("eps_m", "min_samples"), [(50, 3), (100, 5), (150, 10), (200, 8), (300, 30)]
)
def test_equal_to_sklearn_on_real_eastleigh_asb_and_all_crime(
    asb_2017, incidents_2017, eps_m, min_samples
):
    for frame in (asb_2017, incidents_2017):
        ours = dbscan_labels(frame, eps_m=eps_m, min_samples=min_samples)
        ref = rows_dbscan(xy_of(frame), eps_m, min_samples)
        assert np.array_equal(ours, ref)
        assert (ours >= 0).any()  # the comparison is not between two all-noise results


def test_real_points_are_collapsed_many_rows_per_point(asb_2017):
    points, inverse, weight = distinct_points(xy_of(asb_2017))
    assert len(asb_2017) == 1008
    assert len(points) < 0.6 * len(asb_2017)  # 505 distinct points
    assert weight.sum() == len(asb_2017)
    assert np.array_equal(points[inverse], xy_of(asb_2017))


def test_distinct_points_are_numbered_by_first_appearance():
    xy = np.array([[3.0, 3.0], [1.0, 1.0], [3.0, 3.0], [2.0, 2.0], [1.0, 1.0]])
    points, inverse, weight = distinct_points(xy)
    assert points.tolist() == [[3, 3], [1, 1], [2, 2]]
    assert inverse.tolist() == [0, 1, 0, 2, 1]
    assert weight.tolist() == [2, 2, 1]
    snapped, _, w = distinct_points(
        xy + [[0.0004, 0], [0, 0], [0, 0], [0, 0], [0, 0.0003]], snap_m=0.001
    )
    assert len(snapped) == 3 and w.tolist() == [2, 2, 1]


def border_case() -> tuple[np.ndarray, int]:
    """Two clusters (west, east) and one border point B within eps of a core of each.

    eps 110 m, min_samples 4. West: a (-100, 0) has a, B, two rows at a2 (-200, 0)
    and a3 (-150, 60) within 110 m, so it is core; B at (0, 0) has only B, a and c
    (3 < 4) within 110 m, so it is a border point of both clusters. East: c (100, 0)
    has c, B, c2 (200, 0), c3 (150, 60): core.
    """
    west = [(-100, 0), (-200, 0), (-150, 60), (-200, 0)]
    east = [(100, 0), (200, 0), (150, 60)]
    border = [(0, 0)]
    xy = np.array(west + border + east, dtype=float) + (X0, Y0)
    return xy, len(west)


def test_ambiguous_border_point_goes_where_sklearn_puts_it_in_either_row_order():
    xy, b = border_case()
    for order in (np.arange(len(xy)), np.arange(len(xy))[::-1]):
        rows = xy[order]
        ours = dbscan_labels(rows, eps_m=110, min_samples=4)
        assert np.array_equal(ours, rows_dbscan(rows, 110, 4))
    # DBSCAN gives B to the cluster it expands first, the one whose first core row
    # comes first: west in the original order, east in the reversed one. Not a fluke of
    # our method: scikit-learn on the rows does the same, and so do we.
    forward = dbscan_labels(xy, eps_m=110, min_samples=4)
    backward = dbscan_labels(xy[::-1], eps_m=110, min_samples=4)[::-1]
    assert forward[b] == forward[0] and forward[b] != forward[-1]
    assert backward[b] == backward[-1] and backward[b] != backward[0]


def test_relabel_by_size_ignores_cluster_numbering():
    a = np.array([5, 5, 9, -1, 9, 9, -2, 7])
    b = np.array([0, 0, 3, -1, 3, 3, -2, 1])
    assert relabel_by_size(a).tolist() == [1, 1, 0, -1, 0, 0, -2, 2]
    assert np.array_equal(relabel_by_size(a), relabel_by_size(b))


def test_bad_input_is_refused_with_a_fix():
    wgs = gpd.GeoDataFrame(geometry=[shapely.Point(-1.35, 50.97)], crs="EPSG:4326")
    with pytest.raises(InputError, match="to_bng"):
        dbscan_labels(wgs, eps_m=100, min_samples=2)
    with pytest.raises(InputError, match="eps_m"):
        dbscan_labels(two_groups(50), eps_m=0, min_samples=2)
    with pytest.raises(InputError, match="min_samples"):
        dbscan_labels(two_groups(50), eps_m=10, min_samples=2.5)
    lines = gpd.GeoDataFrame(geometry=[shapely.LineString([(X0, Y0), (X0 + 1, Y0)])], crs=BNG)
    with pytest.raises(InputError, match="Point"):
        dbscan_labels(lines, eps_m=10, min_samples=1)
    with pytest.raises(InputError, match="shape"):
        dbscan_labels(np.zeros((3, 3)), eps_m=10, min_samples=1)


# --- HDBSCAN -------------------------------------------------------------------------


def test_hdbscan_finds_two_dense_groups_among_sparse_noise():
    rng = np.random.default_rng(3)
    dense_a = rng.normal((X0, Y0), 10, size=(40, 2))
    dense_b = rng.normal((X0 + 1_000, Y0), 10, size=(30, 2))
    sparse = rng.uniform((X0 - 2_000, Y0 - 2_000), (X0 + 3_000, Y0 + 2_000), size=(15, 2))
    xy = np.vstack([dense_a, dense_b, sparse])
    labels = hdbscan_labels(xy, min_cluster_size=10)
    assert (labels[:40] == 0).all()  # largest first
    assert (labels[40:70] == 1).all()
    assert labels.max() == 1 and (labels[70:] == NOISE).any()


def test_hdbscan_on_real_asb_keeps_repeated_rows_together(asb_2017):
    labels = hdbscan_labels(asb_2017, min_cluster_size=15, min_samples=10)
    points, inverse, _ = distinct_points(xy_of(asb_2017))
    # rows on the same map point always share a label
    for j in range(len(points)):
        assert len(set(labels[inverse == j].tolist())) == 1
    assert labels.max() >= 3 and (labels == NOISE).any()


# --- outlines ------------------------------------------------------------------------


def test_outline_of_a_square_of_points_contains_all_of_them():
    g = np.arange(0, 100, 20.0)
    xy = np.array([(X0 + x, Y0 + y) for x in g for y in g] + [(X0 + 50, Y0 + 50)] * 3)
    labels = dbscan_labels(xy, eps_m=30, min_samples=3)
    assert (labels == 0).all()
    out = cluster_outlines(xy, labels)
    assert out.crs == BNG and list(out.columns) == [
        "cluster",
        "count",
        "n_points",
        "area_m2",
        "geometry",
    ]
    row = out.iloc[0]
    assert (row["cluster"], row["count"], row["n_points"]) == (0, 28, 26)
    assert shapely.contains_xy(row.geometry, xy[:, 0], xy[:, 1]).all()
    # the 80 m square of points, grown by 25 m (corners rounded): between 80^2 and 130^2
    assert 80 * 80 < row["area_m2"] < 130 * 130
    assert row["area_m2"] == pytest.approx(row.geometry.area)


def test_one_point_and_collinear_clusters_still_have_an_area():
    one = np.array([(X0, Y0)] * 3)
    line = np.array([(X0 + 1_000 + 10 * i, Y0) for i in range(6)])
    xy = np.vstack([one, line])
    labels = dbscan_labels(xy, eps_m=15, min_samples=3)
    out = cluster_outlines(xy, labels, min_buffer_m=25).set_index("cluster")
    assert out.loc[labels[0], "n_points"] == 1
    # a 25 m circle as shapely draws it (64-gon): just under pi * 25^2 = 1963.5 m2
    assert 1_950 < out.loc[labels[0], "area_m2"] < np.pi * 25**2
    # 50 m line grown by 25 m: 50 x 50 rectangle plus a 25 m disc
    assert out.loc[labels[-1], "area_m2"] == pytest.approx(50 * 50 + np.pi * 25**2, rel=0.01)
    assert out.geometry.is_valid.all()


def test_outlines_skip_noise_and_check_lengths():
    xy = two_groups(500)
    labels = dbscan_labels(xy, eps_m=10, min_samples=3)
    labels[0] = NOISE
    assert len(cluster_outlines(xy, labels)) == 2
    with pytest.raises(InputError, match="one label per row"):
        cluster_outlines(xy, labels[:-1])


# --- the default hotspots on the real data ------------------------------------------


def test_default_hotspots_put_both_town_centres_in_the_top_five(asb_2017):
    """The review's hotspots (Eastleigh and Hedge End town centres) in Feb-May 2017 ASB."""
    hot = dbscan_hotspots(asb_2017)
    assert hot["rank"].tolist() == list(range(1, len(hot) + 1))
    assert hot["count"].is_monotonic_decreasing
    assert hot["count"].sum() == (dbscan_labels(asb_2017, eps_m=150, min_samples=10) >= 0).sum()
    wards = load_layer("wards_2002", GPKG)
    top = hot.head(5).copy()
    top["geometry"] = top.geometry.representative_point()
    top = top.sjoin(wards[["name", "geometry"]], how="left", predicate="within")
    assert "Eastleigh Central" in set(top["name"])
    assert "Hedge End St John's" in set(top["name"])
    # Eastleigh town centre (the Swan Centre and Leigh Road car parks) is the largest
    first = top.iloc[0]
    assert first["name"] == "Eastleigh Central"
    assert "Parking Area" in first["top_locations"]
    assert hot.crs == BNG


def test_hotspots_without_location_column_or_points():
    hot = dbscan_hotspots(two_groups(500), eps_m=10, min_samples=3)
    assert hot["top_locations"].tolist() == ["", ""]
    assert hot["share"].tolist() == [0.5, 0.5]
    none = dbscan_hotspots(two_groups(500), eps_m=10, min_samples=30)
    assert len(none) == 0 and "geometry" in none.columns
