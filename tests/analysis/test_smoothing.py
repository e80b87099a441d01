"""Smoothed running sums: both ways of computing them equal scipy's Gaussian filter."""

import numpy as np
import pytest
from scipy import ndimage

from analysis.smoothing import TRUNCATE, gaussian_kernel, smoothed_running_sums


def reference(cube: np.ndarray, sigma: float, cells: np.ndarray, first: int) -> np.ndarray:
    """The definition: filter each month's running sum, read the cells."""
    running = np.cumsum(cube, axis=0)[first:]
    s = ndimage.gaussian_filter(
        running, sigma=(0, sigma, sigma), mode="constant", truncate=TRUNCATE
    )
    return s.reshape(len(s), -1)[:, cells]


@pytest.mark.parametrize("share", [0.0001, 0.3])  # few cells with counts, then many
@pytest.mark.parametrize("sigma", [1.5, 6.0])
def test_both_ways_equal_the_filter_at_the_area_cells(share, sigma):
    rng = np.random.default_rng(7)
    cubes = [
        rng.poisson(2.0, (6, 120, 150)) * (rng.random((6, 120, 150)) < share) for _ in range(2)
    ]
    # Counts on the grid's edge too: the kernel is cut there, not wrapped.
    cubes[0][1, 0, 0] = 3
    cubes[1][2, -1, 5] = 1
    mask = np.zeros((120, 150), bool)
    mask[5:, :140] = True
    cells = np.flatnonzero(mask.ravel())
    sources = np.flatnonzero(np.any([c.any(axis=0) for c in cubes], axis=0).ravel())
    values = [c.reshape(6, -1)[:, sources] for c in cubes]
    got = smoothed_running_sums(values, sources, (120, 150), sigma, cells, first=2)
    for cube, out in zip(cubes, got, strict=True):
        assert out.shape == (4, len(cells))
        np.testing.assert_allclose(out, reference(cube.astype(float), sigma, cells, 2), atol=1e-12)


def test_the_kernel_is_scipys_and_a_single_count_spreads_as_its_outer_product():
    k = gaussian_kernel(2.0)
    assert len(k) == 2 * 6 + 1 and k.sum() == pytest.approx(1.0)
    cells = np.arange(21 * 21)
    (s,) = smoothed_running_sums([np.ones((1, 1))], np.array([10 * 21 + 10]), (21, 21), 2.0, cells)
    want = np.zeros((21, 21))
    want[4:17, 4:17] = np.outer(k, k)
    np.testing.assert_allclose(s[0].reshape(21, 21), want, atol=1e-15)
