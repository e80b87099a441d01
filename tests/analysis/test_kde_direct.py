"""Kernel density at chosen cells, summed directly; checked by hand and against the FFT surface."""

from __future__ import annotations

import math

import geopandas as gpd
import numpy as np
import pytest
import shapely

import analysis.bandwidth as bandwidth
import analysis.kde_direct as kde_direct
from analysis.grid import Grid
from analysis.kde import kde_surface, kernel_values
from analysis.kde_direct import cell_means, density_at_cells, direct_cost

BNG = "EPSG:27700"
GRID = Grid(x0=0.0, y0=0.0, cell_m=50.0, nx=6, ny=4)


def test_a_small_kernel_puts_all_its_mass_in_its_own_cell():
    # One incident in the middle of cell (1, 1); a 6.25 m quartic stays inside the cell,
    # so the cell's mean density is 1 incident per 0.0025 km² = 400 per km².
    v = density_at_cells(
        np.array([[75.0, 75.0]]),
        np.array([1.0]),
        GRID,
        np.array([1, 0, 2]),
        np.array([1, 1, 1]),
        6.25,
    )
    assert v == pytest.approx([400.0, 0.0, 0.0])


def test_a_point_on_a_cell_edge_is_split_evenly_and_weights_scale():
    # On the edge between cells (1, 1) and (2, 1): half the kernel in each; weight 3.
    v = density_at_cells(
        np.array([[100.0, 75.0]]), np.array([3.0]), GRID, np.array([1, 2]), np.array([1, 1]), 6.25
    )
    assert v == pytest.approx([600.0, 600.0])


def test_centre_evaluation_is_the_quartic_formula():
    # 200 m quartic at the centre of cell (0, 0), point 100 m east of it:
    # 3 / (pi h^2) * (1 - (100/200)^2)^2 per m^2.
    v = density_at_cells(
        np.array([[125.0, 25.0]]), np.array([1.0]), GRID, np.array([0]), np.array([0]), 200.0
    )
    assert v[0] == pytest.approx(3.0 / (math.pi * 200.0**2) * 0.75**2 * 1e6)


@pytest.mark.parametrize("kernel", ["quartic", "gaussian"])
@pytest.mark.parametrize("h", [25.0, 60.0, 120.0, 400.0])
def test_agrees_with_the_fft_surface(kernel, h, monkeypatch):
    monkeypatch.setattr(kde_direct, "DIRECT_MAX_EVALUATIONS", -1)  # the surface by FFT
    rng = np.random.default_rng(7)
    centres = rng.uniform(500.0, 2500.0, (6, 2))
    xy = np.concatenate([c + rng.normal(0.0, 120.0, (200, 2)) for c in centres])
    # and some points just off the grid's west edge, whose kernels reach into it
    xy = np.concatenate(
        [xy, np.column_stack([rng.uniform(-20.0, 0.0, 30), rng.uniform(0.0, 3000.0, 30)])]
    )
    w = rng.uniform(0.5, 2.0, len(xy))
    grid = Grid.covering(shapely.box(0.0, 0.0, 3000.0, 3000.0), 50.0)
    surf = kde_surface(xy, bandwidth_m=h, grid=grid, kernel=kernel, weights=w)
    assert surf.oversample > 0
    ix, iy, on = grid.cell_index(xy[:, 0], xy[:, 1])
    ix, iy = ix[on], iy[on]
    v = density_at_cells(xy, w, grid, ix, iy, h, kernel)
    ref = surf.values[iy, ix]
    assert np.abs(v - ref).max() < 0.01 * ref.max()


def test_cost_counts_pairs_in_reach_or_footprints():
    # Centre values: a 200 m quartic at the centre of cell (0, 0) reaches the near point only.
    xy = np.array([[25.0, 25.0], [25.0, 500.0]])
    assert direct_cost(2, 200.0, 50.0, "quartic", np.array([[25.0, 25.0]]), xy) == 1
    # Cell means: 6.25 m on 50 m cells uses 1.25 m sub-squares; a footprint of
    # ceil(6.25 / 1.25) + 1 = 6 either side is 13 x 13 evaluations a point.
    assert direct_cost(3, 6.25, 50.0) == 3 * 13 * 13


def test_cell_means_match_a_fine_numerical_integral():
    # 12.5 m quartic, three points in and across cells; reference: the exact kernel
    # averaged over a 500 x 500 sub-grid of each cell (0.1 m spacing).
    xy = np.array([[60.0, 30.0], [99.0, 70.0], [140.0, 120.0]])
    got = cell_means(xy, np.ones(3), GRID, 12.5)
    sub = (np.arange(500) + 0.5) * 0.1
    ref = np.zeros(GRID.shape)
    for iy in range(GRID.ny):
        for ix in range(GRID.nx):
            gx, gy = np.meshgrid(ix * 50.0 + sub, iy * 50.0 + sub)
            d2 = (gx[..., None] - xy[:, 0]) ** 2 + (gy[..., None] - xy[:, 1]) ** 2
            ref[iy, ix] = kernel_values(d2, 12.5).sum(axis=-1).mean() * 1e6
    assert np.abs(got - ref).max() < 0.005 * ref.max()
    assert got.sum() * GRID.cell_km2 == pytest.approx(3.0)  # every point's mass, exactly


def test_the_surface_sums_kernels_directly_when_that_is_cheaper():
    xy = np.array([[60.0, 30.0], [99.0, 70.0]])
    surf = kde_surface(xy, bandwidth_m=12.5, grid=GRID)
    assert surf.oversample == 0 and surf.evaluation == "cell_mean"
    assert surf.values == pytest.approx(cell_means(xy, np.ones(2), GRID, 12.5))


def test_cv_scores_the_same_directly_and_on_fft_surfaces(monkeypatch):
    rng = np.random.default_rng(3)
    sites = rng.uniform(200.0, 2800.0, (60, 2)).round(-1)  # snapped, like police.uk
    months = [f"2020-{m:02d}" for m in range(1, 5)]
    xy = np.concatenate([sites[rng.integers(0, 60, 150)] for _ in months])
    frame = gpd.GeoDataFrame(
        {"month": np.repeat(months, 150)}, geometry=gpd.points_from_xy(xy[:, 0], xy[:, 1]), crs=BNG
    )
    area = shapely.box(0.0, 0.0, 3000.0, 3000.0)
    direct = bandwidth.cv_bandwidth_m(frame, study_area=area)
    monkeypatch.setattr(kde_direct, "DIRECT_MAX_EVALUATIONS", -1)  # every fold on FFT surfaces
    fft = bandwidth.cv_bandwidth_m(frame, study_area=area)
    assert direct.bandwidth_m == fft.bandwidth_m
    a = direct.summary.set_index("bandwidth_m")["score"]
    b = fft.summary.set_index("bandwidth_m")["score"]
    # Scores agree where the FFT lattice resolves the kernel (it bins to sub-cell nodes).
    assert np.abs(a - b).loc[50.0:].max() < 0.02
