"""Kernel density at a few chosen cells, summed directly over the points in reach.

:func:`analysis.kde.kde_surface` convolves a whole grid by FFT: the right tool for a
map. Cross-validating the bandwidth needs only the values at the cells where next
month's incidents fall (a few hundred on the borough's 69,000), for eight
bandwidths and three months; on police.uk's snapped points the earlier months hold
only a few hundred distinct locations. Summing the kernel over the distinct points
within reach of each wanted cell is then exact, and cheaper than the oversampled
FFT lattices the small bandwidths need: cross-validating the shipped months' ASB
takes about 0.05 s this way against about 1.8 s on FFT surfaces.

The values are those :func:`~analysis.kde.kde_surface` approximates, per km²:

* ``evaluation="centre"``: the density at the cell's centre;
* ``evaluation="cell_mean"``: the density averaged over the cell. The cell is split
  into ``q x q`` squares of side ``g = min(cell_m / 8, bandwidth_m / 5)`` (so at least
  five across the kernel's bandwidth), and each point's kernel is normalised to
  integrate to exactly 1 over that lattice (as the FFT path normalises its kernel),
  so every point adds exactly its weight to the cells it reaches.

:func:`direct_cost` counts the work (kernel evaluations) first, so that callers can
fall back to the FFT surface when the points are many and spread out.
"""

from __future__ import annotations

import math

import numpy as np
from scipy.spatial import cKDTree

from analysis.grid import Grid
from analysis.kde import kde_exact, kernel_radius_m, kernel_values

__all__ = ["density_at_cells", "direct_cost", "evaluation_for"]

_CENTRE_MIN_RATIO = {"quartic": 3.0, "gaussian": 1.0}
_CHUNK_EVALUATIONS = 4_000_000


def evaluation_for(bandwidth_m: float, cell_m: float, kernel: str) -> str:
    """The evaluation :func:`analysis.kde.kde_surface` uses by default.

    Parameters
    ----------
    bandwidth_m
        Quartic radius or Gaussian standard deviation, metres.
    cell_m
        Cell side, metres.
    kernel
        ``"quartic"`` or ``"gaussian"``.

    Returns
    -------
    str
        ``"centre"`` when the bandwidth spans several cells, else ``"cell_mean"``.
    """
    return "centre" if bandwidth_m >= _CENTRE_MIN_RATIO[kernel] * cell_m else "cell_mean"


def _sub_step_m(bandwidth_m: float, cell_m: float) -> tuple[int, float]:
    q = max(8, math.ceil(cell_m / (bandwidth_m / 5.0) - 1e-9))
    return q, cell_m / q


def direct_cost(
    xy: np.ndarray, grid: Grid, ix: np.ndarray, iy: np.ndarray, bandwidth_m: float,
    kernel: str = "quartic",
) -> int:
    """Kernel evaluations :func:`density_at_cells` would make for these arguments.

    Parameters
    ----------
    xy, grid, ix, iy, bandwidth_m, kernel
        As for :func:`density_at_cells`.

    Returns
    -------
    int
        Pairs of point and cell within reach, times the sub-squares of a cell, plus
        the evaluations that normalise each point's kernel.
    """
    d = grid.cell_m
    r = kernel_radius_m(bandwidth_m, kernel)
    centres = np.column_stack([grid.x0 + (np.asarray(ix) + 0.5) * d,
                               grid.y0 + (np.asarray(iy) + 0.5) * d])
    if len(xy) == 0 or len(centres) == 0:
        return 0
    tree = cKDTree(xy)
    if evaluation_for(bandwidth_m, d, kernel) == "centre":
        return int(tree.query_ball_point(centres, r, return_length=True).sum())
    q, g = _sub_step_m(bandwidth_m, d)
    pairs = int(tree.query_ball_point(centres, r + d / math.sqrt(2.0), return_length=True).sum())
    return pairs * q * q + len(xy) * (2 * math.ceil(r / g) + 3) ** 2


def density_at_cells(
    xy: np.ndarray,
    w: np.ndarray,
    grid: Grid,
    ix: np.ndarray,
    iy: np.ndarray,
    bandwidth_m: float,
    kernel: str = "quartic",
    evaluation: str | None = None,
) -> np.ndarray:
    """Kernel density of weighted points at the given cells, per km².

    Parameters
    ----------
    xy
        ``(n, 2)`` BNG metres (distinct points are best; repeats are allowed).
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
    evaluation
        ``"centre"`` or ``"cell_mean"``; default as :func:`analysis.kde.kde_surface`.

    Returns
    -------
    numpy.ndarray
        Density per km² at each wanted cell.
    """
    d = grid.cell_m
    evaluation = evaluation or evaluation_for(bandwidth_m, d, kernel)
    ix = np.asarray(ix, dtype=np.int64)
    iy = np.asarray(iy, dtype=np.int64)
    out = np.zeros(len(ix))
    if len(xy) == 0 or len(ix) == 0:
        return out
    cx = grid.x0 + (ix + 0.5) * d
    cy = grid.y0 + (iy + 0.5) * d
    if evaluation == "centre":
        return kde_exact(xy, np.column_stack([cx, cy]), bandwidth_m, kernel, weights=w)
    r = kernel_radius_m(bandwidth_m, kernel)
    tree = cKDTree(xy)
    q, g = _sub_step_m(bandwidth_m, d)
    reach = r + d / math.sqrt(2.0)
    offs = (np.arange(q) + 0.5) * g - d / 2.0
    # Each point's kernel summed over the global lattice of sub-squares it reaches.
    k = math.ceil(r / g) + 1
    lat = np.arange(-k, k + 1, dtype=float)
    z = np.empty(len(xy))
    chunk = max(1, _CHUNK_EVALUATIONS // len(lat) ** 2)
    for a in range(0, len(xy), chunk):
        p = xy[a : a + chunk]
        # Node centres nearest each point: the lattice is aligned with the cell edges.
        nx0 = np.floor((p[:, 0] - grid.x0) / g) * g + grid.x0 + g / 2.0
        ny0 = np.floor((p[:, 1] - grid.y0) / g) * g + grid.y0 + g / 2.0
        dx = nx0[:, None] + lat[None, :] * g - p[:, [0]]
        dy = ny0[:, None] + lat[None, :] * g - p[:, [1]]
        d2 = dx[:, None, :] ** 2 + dy[:, :, None] ** 2
        z[a : a + len(p)] = kernel_values(d2, bandwidth_m, kernel).sum(axis=(1, 2)) * g * g
    scale = np.divide(w, z, out=np.zeros(len(xy)), where=z > 0)
    hits = tree.query_ball_point(np.column_stack([cx, cy]), reach)
    lens = np.fromiter((len(h) for h in hits), dtype=np.int64, count=len(hits))
    if lens.sum() == 0:
        return out
    cell_of = np.repeat(np.arange(len(ix)), lens)
    pt = np.concatenate([np.asarray(h, dtype=np.int64) for h in hits if h])
    step = max(1, _CHUNK_EVALUATIONS // (q * q))
    for a in range(0, len(pt), step):
        c, p = cell_of[a : a + step], pt[a : a + step]
        dx = (cx[c] - xy[p, 0])[:, None] + offs[None, :]
        dy = (cy[c] - xy[p, 1])[:, None] + offs[None, :]
        d2 = dx[:, None, :] ** 2 + dy[:, :, None] ** 2
        mean = kernel_values(d2, bandwidth_m, kernel).mean(axis=(1, 2))
        np.add.at(out, c, mean * scale[p])
    return out * 1e6
