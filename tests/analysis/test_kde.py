"""Kernel density surfaces and their grid, with answers checkable by hand."""

from __future__ import annotations

import math

import geopandas as gpd
import numpy as np
import pytest
import shapely

from analysis.grid import Grid, area_geometry
from analysis.kde import (
    DensitySurface,
    cell_for_bandwidth_m,
    kde_exact,
    kde_surface,
    kernel_values,
)
from geo.errors import InputError

BNG = "EPSG:27700"


def quartic_peak_per_km2(h: float) -> float:
    return 3.0 / (math.pi * h * h) * 1e6


# --- Grid --------------------------------------------------------------------


def test_grid_covering_snaps_to_cell_multiples_and_row_zero_is_south():
    g = Grid.covering((1010.0, 2020.0, 1390.0, 2180.0), 100.0)
    assert (g.x0, g.y0, g.nx, g.ny) == (1000.0, 2000.0, 4, 2)
    xs, ys = g.centres()
    assert xs.shape == ys.shape == (2, 4)
    assert ys[0, 0] == 2050.0 and ys[1, 0] == 2150.0  # row 0 is the southern row
    assert xs[0, 0] == 1050.0 and xs[0, 3] == 1350.0
    assert g.bounds == (1000.0, 2000.0, 1400.0, 2200.0)
    # the north-up image transform starts at the top-left corner
    assert g.transform == (100.0, 0.0, 1000.0, 0.0, -100.0, 2200.0)


def test_grid_covering_with_padding_and_max_on_an_edge():
    g = Grid.covering((0.0, 0.0, 1000.0, 500.0), 50.0, pad_m=100.0)
    assert (g.x0, g.y0) == (-100.0, -100.0)
    # 1100 lies on an edge, and cells are [a, b): one more cell is needed to hold it
    assert g.nx == 25 and g.ny == 15


def test_cell_index_inside_and_outside():
    g = Grid(0.0, 0.0, 50.0, 4, 3)
    ix, iy, inside = g.cell_index(
        np.array([0.0, 49.9, 50.0, 199.9, 200.0, -0.1, np.nan]),
        np.array([0.0, 149.9, 75.0, 0.0, 0.0, 10.0, 10.0]),
    )
    assert ix[:5].tolist() == [0, 0, 1, 3, 4]
    assert iy[:5].tolist() == [0, 2, 1, 0, 0]
    assert inside.tolist() == [True, True, True, True, False, False, False]


def test_mask_from_square_counts_centres_inside():
    g = Grid(0.0, 0.0, 100.0, 10, 10)
    square = shapely.box(200.0, 300.0, 600.0, 500.0)  # 4 x 2 cells exactly
    mask = g.mask_from(square)
    assert mask.shape == (10, 10)
    assert mask.sum() == 8
    assert mask[3:5, 2:6].all()
    # a GeoDataFrame in BNG works too; in lon/lat it is refused
    assert g.mask_from(gpd.GeoDataFrame(geometry=[square], crs=BNG)).sum() == 8
    with pytest.raises(InputError, match="27700"):
        g.mask_from(gpd.GeoDataFrame(geometry=[square], crs=4326))


def test_mask_from_equals_a_test_of_every_centre_on_a_ragged_outline_with_holes():
    # Blocks of 16 x 16 cells wholly inside or outside are settled at once: the mask
    # must equal testing each centre, on an outline that crosses many blocks, has a
    # hole, a separate island, and edges running exactly through cell centres.
    g = Grid(0.0, 0.0, 50.0, 150, 120)
    rng = np.random.default_rng(5)
    angles = np.sort(rng.uniform(0, 2 * np.pi, 60))
    radii = rng.uniform(1500, 2600, 60)
    coast = shapely.Polygon(
        np.column_stack([3700 + radii * np.cos(angles), 3000 + radii * np.sin(angles)])
    )
    hole = shapely.box(3425.0, 2725.0, 3925.0, 3175.0)  # edges on centre lines
    island = shapely.box(6825.0, 125.0, 7275.0, 875.0)
    area = shapely.MultiPolygon([coast.difference(hole), island])
    xs, ys = g.centres()
    want = shapely.contains_xy(area, xs, ys)
    assert 0 < want.sum() < want.size
    assert (g.mask_from(area) == want).all()


def test_a_mask_asked_for_again_is_the_same_and_a_changed_copy_does_not_leak():
    # One view asks for the same outline's mask three times; the second answer is kept
    # from the first, and each caller gets its own copy to change.
    g = Grid(0.0, 0.0, 100.0, 10, 10)
    square = shapely.box(200.0, 300.0, 600.0, 500.0)
    first = g.mask_from(square)
    first[:] = True
    again = g.mask_from(square)
    assert again.sum() == 8 and again[3:5, 2:6].all()
    # Another outline on the same grid, and the same outline on another grid, are new.
    assert g.mask_from(shapely.box(0.0, 0.0, 200.0, 100.0)).sum() == 2
    # Shifted half a cell east: centres x = 300, 400, 500 (200 and 600 on the edge).
    assert Grid(50.0, 0.0, 100.0, 10, 10).mask_from(square).sum() == 6


def test_cell_polygons_match_cells():
    g = Grid(1000.0, 2000.0, 50.0, 3, 2)
    mask = np.array([[True, False, False], [False, False, True]])
    cells = g.cell_polygons(mask)
    assert cells.crs == BNG
    assert cells[["ix", "iy"]].to_numpy().tolist() == [[0, 0], [2, 1]]
    assert cells.geometry.iloc[1].bounds == (1100.0, 2050.0, 1150.0, 2100.0)
    assert len(g.cell_polygons()) == 6


def test_area_geometry_drops_line_slivers():
    poly = shapely.box(0, 0, 10, 10)
    line = shapely.LineString([(20, 20), (30, 30)])
    geom = area_geometry(gpd.GeoDataFrame(geometry=[poly, line], crs=BNG))
    assert geom.area == 100.0 and geom.geom_type == "Polygon"
    with pytest.raises(InputError, match="no polygon"):
        area_geometry(line)


# --- kernels and exact evaluation ----------------------------------------------


def test_kernel_values_by_hand():
    h = 100.0
    # quartic at d = 50: 3/(pi h^2) (1 - 1/4)^2
    assert kernel_values(np.array([2500.0]), h, "quartic")[0] == pytest.approx(
        3 / (math.pi * 1e4) * 0.5625
    )
    assert kernel_values(np.array([h * h]), h, "quartic")[0] == 0.0
    # gaussian at the centre, rescaled for the cut at 4 sd; zero beyond 4 sd
    g0 = kernel_values(np.array([0.0]), h, "gaussian")[0]
    assert g0 == pytest.approx(1 / (2 * math.pi * 1e4) / (1 - math.exp(-8)))
    assert kernel_values(np.array([(4.01 * h) ** 2]), h, "gaussian")[0] == 0.0


def test_kde_exact_one_point_by_hand():
    pts = np.array([[0.0, 0.0]])
    got = kde_exact(pts, np.array([[30.0, 40.0], [0.0, 0.0], [0.0, 101.0]]), 100.0, "quartic")
    assert got[0] == pytest.approx(3 / (math.pi * 1e4) * 0.75**2 * 1e6)  # d = 50
    assert got[1] == pytest.approx(quartic_peak_per_km2(100.0))
    assert got[2] == 0.0


# --- surfaces -------------------------------------------------------------------


def test_one_point_quartic_integrates_to_one_and_peaks_at_the_kernel_height():
    grid = Grid(0.0, 0.0, 50.0, 40, 40)
    h = 200.0
    s = kde_surface(np.array([[1025.0, 975.0]]), bandwidth_m=h, grid=grid)  # a cell centre
    assert isinstance(s, DensitySurface)
    assert s.evaluation == "centre"
    assert np.nansum(s.values) * grid.cell_km2 == pytest.approx(1.0, abs=0.005)
    assert s.peak == pytest.approx(quartic_peak_per_km2(h), rel=1e-3)
    iy, ix = np.unravel_index(np.nanargmax(s.values), s.values.shape)
    assert (ix, iy) == (20, 19)
    # nothing beyond the kernel's radius
    xs, ys = grid.centres()
    far = np.hypot(xs - 1025.0, ys - 975.0) >= h
    assert np.all(s.values[far] == 0.0)


@pytest.mark.parametrize(
    ("kernel", "h"),
    [("quartic", 200.0), ("quartic", 150.0), ("gaussian", 200.0), ("gaussian", 60.0)],
)
def test_fft_surface_matches_exact_evaluation_within_a_thousandth_of_the_peak(kernel, h):
    rng = np.random.default_rng(7)
    grid = Grid(0.0, 0.0, 50.0, 60, 50)
    pts = np.r_[rng.uniform(300.0, 2700.0, (400, 2)), rng.normal(1500.0, 120.0, (200, 2))]
    s = kde_surface(pts, bandwidth_m=h, kernel=kernel, grid=grid)
    xs, ys = grid.centres()
    exact = kde_exact(pts, np.c_[xs.ravel(), ys.ravel()], h, kernel).reshape(grid.shape)
    assert s.evaluation == "centre"
    assert np.abs(s.values - exact).max() < 1e-3 * exact.max()


def test_two_far_apart_points_give_two_equal_peaks():
    grid = Grid(0.0, 0.0, 50.0, 80, 20)
    pts = np.array([[525.0, 525.0], [3475.0, 525.0]])
    s = kde_surface(pts, bandwidth_m=250.0, grid=grid)
    v = s.values
    assert v[10, 10] == pytest.approx(v[10, 69], rel=1e-9)
    assert v[10, 10] == pytest.approx(s.peak, rel=1e-12)
    assert v[10, 40] == 0.0  # half way between them, beyond both radii
    assert s.mass == pytest.approx(2.0, abs=0.01)


def test_weights_double_a_points_mass():
    grid = Grid(0.0, 0.0, 50.0, 40, 40)
    pts = np.array([[600.0, 600.0], [1400.0, 1400.0]])
    weighted = kde_surface(pts, bandwidth_m=200.0, grid=grid, weights=[2.0, 1.0])
    repeated = kde_surface(np.r_[pts[:1], pts], bandwidth_m=200.0, grid=grid)
    np.testing.assert_allclose(weighted.values, repeated.values, atol=1e-9 * repeated.peak)
    assert weighted.total_weight == 3.0
    xs, ys = grid.centres()
    near_first = np.hypot(xs - 600.0, ys - 600.0) < 200.0
    near_second = np.hypot(xs - 1400.0, ys - 1400.0) < 200.0
    mass1 = weighted.values[near_first].sum() * grid.cell_km2
    mass2 = weighted.values[near_second].sum() * grid.cell_km2
    assert mass1 == pytest.approx(2 * mass2, rel=0.01)
    with pytest.raises(InputError, match="negative"):
        kde_surface(pts, bandwidth_m=200.0, grid=grid, weights=[1.0, -1.0])


def test_points_outside_the_study_area_contribute_and_their_masked_mass_is_reported():
    area = shapely.box(0.0, 0.0, 2000.0, 2000.0)
    h = 200.0
    # one point inside, well away from the edge; one 100 m outside the east edge
    pts = np.array([[1000.0, 1000.0], [2100.0, 1000.0]])
    s = kde_surface(pts, bandwidth_m=h, study_area=area, cell_m=50.0)
    assert s.grid.bounds[2] == pytest.approx(2050.0)  # covers the area (max on an edge)
    assert np.isnan(s.values[~s.mask]).all()
    assert s.n_outside == 1
    # the outside point's kernel reaches in: the cell centre at (1975, 1025) is 125 m away
    iy, ix = 20, 39
    assert s.values[iy, ix] == pytest.approx(
        kde_exact(pts, np.array([[1975.0, 1025.0]]), h, "quartic")[0], rel=1e-3
    )
    # about half of the outside kernel (the part east of x = 2000) is masked
    assert 0.75 < s.mass_outside < 0.95
    assert s.mass + s.mass_outside == pytest.approx(2.0, abs=0.01)


def test_bandwidth_within_a_cell_gives_counts_per_cell():
    grid = Grid(0.0, 0.0, 50.0, 10, 10)
    # three incidents in cell (ix=2, iy=3), one in cell (ix=7, iy=5), none near an edge
    pts = np.array([[120.0, 170.0], [125.0, 175.0], [130.0, 172.0], [370.0, 280.0]])
    s = kde_surface(pts, bandwidth_m=10.0, grid=grid)
    assert s.evaluation == "cell_mean"
    per_cell = 1.0 / grid.cell_km2  # one incident in a 50 m cell = 400 per km²
    assert s.values[3, 2] == pytest.approx(3 * per_cell, rel=1e-9)
    assert s.values[5, 7] == pytest.approx(per_cell, rel=1e-9)
    assert np.count_nonzero(s.values) == 2
    assert s.mass == pytest.approx(4.0, rel=1e-12)
    assert "within one 50 m cell" in s.note


def test_cell_means_keep_every_points_mass_for_small_bandwidths():
    rng = np.random.default_rng(11)
    grid = Grid(0.0, 0.0, 50.0, 40, 40)
    pts = rng.uniform(200.0, 1800.0, (300, 2))
    for h in (12.5, 25.0, 50.0, 100.0):
        s = kde_surface(pts, bandwidth_m=h, grid=grid)
        assert s.evaluation == "cell_mean"
        assert s.mass == pytest.approx(300.0, rel=1e-9)
        assert np.nanmin(s.values) >= 0.0


def test_geodataframe_input_skips_rows_without_location_and_checks_crs():
    pts = gpd.GeoDataFrame(
        {"w": [1.0, 5.0, 1.0]},
        geometry=[shapely.Point(500.0, 500.0), None, shapely.Point(900.0, 500.0)],
        crs=BNG,
    )
    s = kde_surface(pts, bandwidth_m=150.0, cell_m=50.0, weights="w")
    assert s.n_points == 2 and s.n_dropped == 1 and s.total_weight == 2.0
    with pytest.raises(InputError, match="British National Grid"):
        kde_surface(pts.set_crs(4326, allow_override=True), bandwidth_m=150.0)
    lines = gpd.GeoDataFrame(geometry=[shapely.LineString([(0, 0), (1, 1)])], crs=BNG)
    with pytest.raises(InputError, match="non-point"):
        kde_surface(lines, bandwidth_m=150.0)
    with pytest.raises(InputError, match="bandwidth_m"):
        kde_surface(pts, bandwidth_m=0.0)
    with pytest.raises(InputError, match="kernel"):
        kde_surface(pts, bandwidth_m=100.0, kernel="epanechnikov")
    with pytest.raises(InputError, match="choose_bandwidth"):  # rules are resolved by callers
        kde_surface(pts, bandwidth_m="auto")


def test_top_cells_and_geodataframe():
    grid = Grid(0.0, 0.0, 50.0, 10, 10)
    pts = np.array([[120.0, 170.0], [125.0, 175.0], [370.0, 280.0], [30.0, 30.0]])
    s = kde_surface(pts, bandwidth_m=5.0, grid=grid)
    top = s.top_cells(0.02)  # 2 of 100 cells
    assert top["rank"].tolist() == [1, 2]
    assert top[["ix", "iy"]].to_numpy().tolist()[0] == [2, 3]
    # the two single-incident cells tie: the southern one (iy=0) wins the tie
    assert top[["ix", "iy"]].to_numpy().tolist()[1] == [0, 0]
    assert top["expected"].tolist() == pytest.approx([2.0, 1.0])
    cells = s.to_geodataframe()
    assert len(cells) == 3 and cells["expected"].sum() == pytest.approx(4.0)


@pytest.mark.parametrize(
    ("bandwidth_m", "cell_m", "expected"),
    [
        (6134.5, 50.0, 150.0),
        (1999.0, 50.0, 50.0),
        (2000.0, 50.0, 50.0),
        (4000.0, 50.0, 100.0),
        (6.25, 50.0, 50.0),
        (24000.0, 200.0, 600.0),
    ],
)
def test_cell_for_bandwidth_is_a_whole_multiple_a_fortieth_of_the_bandwidth_at_most(
    bandwidth_m, cell_m, expected
):
    assert cell_for_bandwidth_m(bandwidth_m, cell_m) == expected


def test_cell_for_bandwidth_rejects_a_bandwidth_that_is_not_metres():
    with pytest.raises(InputError, match="bandwidth_m"):
        cell_for_bandwidth_m(-1.0, 50.0)
