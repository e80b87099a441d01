"""Kernel density without FFT: each point's kernel summed straight into the cells.

:func:`analysis.kde.kde_surface` convolves a whole oversampled lattice by FFT, whose
cost does not depend on how many points there are. With small bandwidths (the ones
cross-validation picks on police.uk's snapped points) and a few thousand distinct
points, it is cheaper, and exact, to spread each point's kernel over the cells it
reaches directly:

* **cell means** (:func:`cell_means`): each point's kernel is evaluated at the
  centres of a lattice of sub-squares of side ``g = min(cell_m / 8, bandwidth_m / 5)``
  aligned with the cells (so at least five across the bandwidth, and the kernel's
  offset from the point is exact, not binned), normalised so its samples sum to 1
  (every point adds exactly its weight), and added to the cell holding each
  sub-square. A cell's value is its expected incidents divided by its area.
* **centre values**: :func:`analysis.kernels.kde_exact` at the cell centres.

:func:`density_at_cells` gives either at chosen cells: cross-validating the
bandwidth needs only the cells where next month's incidents fall, for eight
bandwidths and three months. :func:`direct_cost` counts the kernel evaluations
first, so that callers fall back to the FFT when the points are many.
"""

from __future__ import annotations

import math

import numpy as np
from scipy.spatial import cKDTree

from analysis.grid import Grid
from analysis.kernels import evaluation_for, kde_exact, kernel_radius_m, kernel_values

__all__ = ["DIRECT_MAX_EVALUATIONS", "cell_means", "density_at_cells", "direct_cost"]

DIRECT_MAX_EVALUATIONS = 20_000_000
"""Above this many kernel evaluations the FFT is cheaper (about 0.2 s either way)."""

_CHUNK_EVALUATIONS = 2_000_000


def _footprint(bandwidth_m: float, cell_m: float, kernel: str) -> tuple[int, float, int]:
    """Sub-squares per cell side, their side in metres, and the footprint's half-width."""
    q = max(8, math.ceil(cell_m / (bandwidth_m / 5.0) - 1e-9))
    g = cell_m / q
    return q, g, math.ceil(kernel_radius_m(bandwidth_m, kernel) / g) + 1


def direct_cost(
    n_points: int,
    bandwidth_m: float,
    cell_m: float,
    kernel: str = "quartic",
    centres: np.ndarray | None = None,
    xy: np.ndarray | None = None,
) -> int:
    """Kernel evaluations the direct route takes.

    Parameters
    ----------
    n_points
        Points (distinct ones, if they will be merged first).
    bandwidth_m, cell_m, kernel
        As for :func:`density_at_cells`.
    centres, xy
        For centre values only: the cell centres wanted and the points, to count
        the pairs within the kernel's radius.

    Returns
    -------
    int
        For cell means, ``n_points`` times the sub-squares of a kernel's footprint;
        for centre values, the pairs of point and centre within reach.
    """
    if evaluation_for(bandwidth_m, cell_m, kernel) == "centre":
        if centres is None or xy is None or len(xy) == 0:
            return 0
        r = kernel_radius_m(bandwidth_m, kernel)
        return int(cKDTree(xy).query_ball_point(centres, r, return_length=True).sum())
    _, _, k = _footprint(bandwidth_m, cell_m, kernel)
    return n_points * (2 * k + 1) ** 2


def cell_means(
    xy: np.ndarray, w: np.ndarray, grid: Grid, bandwidth_m: float, kernel: str = "quartic"
) -> np.ndarray:
    """Mean kernel density over every cell of the grid, per km².

    Parameters
    ----------
    xy
        ``(n, 2)`` BNG metres.
    w
        One non-negative weight per point.
    grid
        The cells.
    bandwidth_m
        Quartic radius or Gaussian standard deviation, metres.
    kernel
        ``"quartic"`` or ``"gaussian"``.

    Returns
    -------
    numpy.ndarray
        ``[ny, nx]`` density per km² (expected incidents in the cell over its area);
        the mass of kernels reaching beyond the grid is not on it.
    """
    q, g, k = _footprint(bandwidth_m, grid.cell_m, kernel)
    lat = np.arange(-k, k + 1)
    out = np.zeros(grid.nx * grid.ny)
    chunk = max(1, _CHUNK_EVALUATIONS // len(lat) ** 2)
    for a in range(0, len(xy), chunk):
        p, wp = xy[a : a + chunk], w[a : a + chunk]
        # Sub-square holding each point, then the footprint around it (global indices).
        jx = np.floor((p[:, 0] - grid.x0) / g).astype(np.int64)[:, None] + lat[None, :]
        jy = np.floor((p[:, 1] - grid.y0) / g).astype(np.int64)[:, None] + lat[None, :]
        dx = grid.x0 + (jx + 0.5) * g - p[:, [0]]
        dy = grid.y0 + (jy + 0.5) * g - p[:, [1]]
        kv = kernel_values(dx[:, None, :] ** 2 + dy[:, :, None] ** 2, bandwidth_m, kernel)
        z = kv.sum(axis=(1, 2))
        kv *= np.divide(wp, z, out=np.zeros(len(p)), where=z > 0)[:, None, None]
        cx = np.broadcast_to((jx // q)[:, None, :], kv.shape)
        cy = np.broadcast_to((jy // q)[:, :, None], kv.shape)
        on = (cx >= 0) & (cx < grid.nx) & (cy >= 0) & (cy < grid.ny) & (kv > 0)
        out += np.bincount(cy[on] * grid.nx + cx[on], kv[on], minlength=len(out))
    return out.reshape(grid.ny, grid.nx) / grid.cell_km2


def density_at_cells(
    xy: np.ndarray,
    w: np.ndarray,
    grid: Grid,
    ix: np.ndarray,
    iy: np.ndarray,
    bandwidth_m: float,
    kernel: str = "quartic",
) -> np.ndarray:
    """Kernel density of weighted points at the given cells, per km².

    Cell means or centre values, as :func:`analysis.kde.kde_surface` chooses by default.

    Parameters
    ----------
    xy
        ``(n, 2)`` BNG metres (distinct points are cheapest; repeats are allowed).
    w
        One non-negative weight per point.
    grid
        The grid the cells belong to.
    ix, iy
        Column and row of each wanted cell.
    bandwidth_m
        Quartic radius or Gaussian standard deviation, metres.
    kernel
        ``"quartic"`` or ``"gaussian"``.

    Returns
    -------
    numpy.ndarray
        Density per km² at each wanted cell.
    """
    ix = np.asarray(ix, dtype=np.int64)
    iy = np.asarray(iy, dtype=np.int64)
    if len(xy) == 0 or len(ix) == 0:
        return np.zeros(len(ix))
    if evaluation_for(bandwidth_m, grid.cell_m, kernel) == "centre":
        centres = np.column_stack(
            [grid.x0 + (ix + 0.5) * grid.cell_m, grid.y0 + (iy + 0.5) * grid.cell_m]
        )
        return kde_exact(xy, centres, bandwidth_m, kernel, weights=w)
    return cell_means(xy, w, grid, bandwidth_m, kernel)[iy, ix]
