"""Hotspot polygons at a coverage, and hit rate / PAI, on hand-made surfaces."""

from __future__ import annotations

import numpy as np
import pytest
import shapely

from analysis.coverage import coverage_mask, hit_rate_at_coverage, hotspot_areas
from analysis.grid import Grid
from analysis.kde import kde_surface
from geo.errors import InputError


def _smooth_surface(area, cell_m=50.0, seed=0, n=400):
    rng = np.random.default_rng(seed)
    x0, y0, x1, y1 = area.bounds
    pts = np.c_[rng.uniform(x0, x1, n), rng.uniform(y0, y1, n)]
    return kde_surface(pts, bandwidth_m=300.0, cell_m=cell_m, study_area=area)


def test_one_percent_of_a_10_km2_square_is_a_tenth_of_a_km2():
    square = shapely.box(0.0, 0.0, 2000.0, 5000.0)  # 10 km², on cell edges
    surf = _smooth_surface(square)
    chosen, info = coverage_mask(surf, 0.01)
    assert info["study_area_m2"] == pytest.approx(10e6)
    assert info["covered_m2"] == pytest.approx(0.1e6, rel=0.1)  # 40 cells of 2,500 m²
    assert chosen.sum() == 40
    # the chosen cells are the 40 densest of the square
    vals = np.nan_to_num(surf.values, nan=-1.0)
    assert vals[chosen].min() >= vals[~chosen & surf.mask].max()


def test_coverage_of_an_unaligned_square_and_of_too_coarse_cells():
    square = shapely.box(13.0, 7.0, 2013.0, 5007.0)  # 10 km², off the cell edges
    surf = _smooth_surface(square)
    _, info = coverage_mask(surf, 0.01)
    assert abs(info["covered_m2"] - 0.1e6) <= 0.01e6
    coarse = _smooth_surface(square, cell_m=500.0)  # one cell is 0.25 km² > 0.1 km²
    with pytest.raises(InputError, match="within 10 %"):
        coverage_mask(coarse, 0.01)
    with pytest.raises(InputError, match="coverage"):
        coverage_mask(surf, 1.5)


def _counts_surface():
    """Cells of 100 m; incidents only inside cells, so values are counts per cell."""
    grid = Grid(0.0, 0.0, 100.0, 10, 10)
    area = shapely.box(0.0, 0.0, 1000.0, 1000.0)
    pts = np.array(
        [[150.0, 150.0]] * 4  # cell (1, 1): 4 incidents
        + [[250.0, 150.0]] * 2  # cell (2, 1), beside it: 2
        + [[750.0, 750.0]] * 3  # cell (7, 7): 3
        + [[850.0, 850.0]] * 1  # cell (8, 8), touching (7, 7) only at a corner: 1
    )
    return kde_surface(pts, bandwidth_m=5.0, grid=grid, study_area=area)


def test_hit_rate_and_pai_by_hand():
    surf = _counts_surface()
    # top 2 % of 1 km² = 2 cells: (1, 1) with 4 and (7, 7) with 3
    test = np.array(
        [[120.0, 130.0]] * 5  # in (1, 1): hits
        + [[760.0, 720.0]]  # in (7, 7): hit
        + [[550.0, 550.0]] * 2  # elsewhere in the area: misses
        + [[1500.0, 500.0], [-20.0, 40.0]]  # outside the study area: excluded
    )
    score = hit_rate_at_coverage(surf, test, 0.02)
    assert (score.n_hits, score.n_test, score.n_excluded, score.n_cells) == (6, 8, 2, 2)
    assert score.hit_rate == pytest.approx(6 / 8)
    assert score.area_share == pytest.approx(0.02)
    assert score.pai == pytest.approx(0.75 / 0.02)  # 37.5
    hit, share, pai = score  # unpacks as a triple
    assert (hit, share, pai) == (score.hit_rate, score.area_share, score.pai)


def test_hotspot_polygons_are_connected_cells_ranked_by_mass():
    surf = _counts_surface()
    polys = hotspot_areas(surf, coverage=0.04)  # 4 cells: every cell with incidents
    assert len(polys) == 3  # (1,1)+(2,1) join by an edge; (7,7) and (8,8) only touch corners
    assert polys["rank"].tolist() == [1, 2, 3]
    assert polys["mass"].tolist() == pytest.approx([6.0, 3.0, 1.0])
    assert polys["n_cells"].tolist() == [2, 1, 1]
    assert polys["area_m2"].tolist() == [20_000.0, 10_000.0, 10_000.0]
    assert polys.geometry.iloc[0].equals(shapely.box(100.0, 100.0, 300.0, 200.0))
    assert polys["peak_density"].iloc[0] == pytest.approx(400.0)  # 4 incidents / 0.01 km²
    assert polys["mean_density"].iloc[0] == pytest.approx(300.0)
    assert polys.attrs["covered_m2"] == 40_000.0


def test_a_ring_of_cells_dissolves_to_a_square_with_a_hole_and_no_spare_vertices():
    # A 3 x 3 block of cells with incidents round its edge and none in the middle: the
    # eight cells join by their edges into one polygon, a square with a one-cell hole,
    # equal to the union of its cells, with only the corners as vertices.
    grid = Grid(0.0, 0.0, 100.0, 10, 10)
    ring = [(x, y) for x in (1, 2, 3) for y in (4, 5, 6) if (x, y) != (2, 5)]
    pts = np.array([[100.0 * x + 50.0, 100.0 * y + 50.0] for x, y in ring] + [[950.0, 50.0]])
    surf = kde_surface(pts, bandwidth_m=5.0, grid=grid, study_area=shapely.box(0, 0, 1000, 1000))
    polys = hotspot_areas(surf, coverage=0.09)  # the 9 cells with incidents
    (geom,) = polys.geometry[polys["n_cells"] == 8]
    want = shapely.box(100.0, 400.0, 400.0, 700.0).difference(shapely.box(200, 500, 300, 600))
    assert geom.equals(want) and geom.is_valid
    assert geom.area == 80_000.0 and len(geom.interiors) == 1
    assert shapely.get_num_coordinates(geom) == 10  # 4 corners + closing, twice


def test_fewer_cells_with_density_than_the_coverage_wants():
    surf = _counts_surface()
    polys = hotspot_areas(surf, coverage=0.10)  # 10 cells wanted, 4 have any density
    # The coverage asked is honoured: the 6 cells nearest to the 4 fill the rest.
    assert polys["n_cells"].sum() == 10
    assert "Only 4 cells" in polys.attrs["note"] and "the 6 cells nearest" in polys.attrs["note"]
    score = hit_rate_at_coverage(surf, np.array([[150.0, 150.0]]), 0.10)
    assert score.area_share == pytest.approx(0.10)
    chosen, info = coverage_mask(surf, 0.10)
    assert chosen.sum() == 10 and info["n_cells"] == 10


def test_ties_are_broken_south_west_first():
    grid = Grid(0.0, 0.0, 100.0, 10, 10)
    pts = np.array([[750.0, 750.0], [150.0, 850.0], [850.0, 150.0]])  # one each, equal
    surf = kde_surface(pts, bandwidth_m=5.0, grid=grid)
    chosen, _ = coverage_mask(surf, 0.01)  # one cell of the 100
    assert np.argwhere(chosen).tolist() == [[1, 8]]  # southernmost row first: (ix 8, iy 1)


def test_percentile_selection():
    surf = _counts_surface()
    # values: 96 zeros, then 100, 200, 300, 400 per km². numpy's 96th percentile lies
    # between the 96th and 97th sorted values (0 and 100): 4.0, so all 4 cells; the
    # 97th lies between 100 and 200 (103), so 3 cells.
    assert hotspot_areas(surf, percentile=96.0)["n_cells"].sum() == 4
    polys = hotspot_areas(surf, percentile=97.0)
    assert polys["n_cells"].sum() == 3
    assert polys.attrs["threshold_density"] == pytest.approx(103.0)
    with pytest.raises(InputError, match="exactly one"):
        hotspot_areas(surf, coverage=0.01, percentile=99.0)
