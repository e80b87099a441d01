"""Gaussian smoothing of monthly counts on a grid, read at an area's cells.

The risk surface's neighbour features are running sums of monthly counts smoothed by a
Gaussian. :func:`smoothed_running_sums` computes them either by filtering the whole
grid (:func:`scipy.ndimage.gaussian_filter`, the usual way) or, where the counts sit
on few cells, by adding up one kernel per cell with a count (a sparse matrix of kernel
weights from those cells to the area's cells). Both use the same sampled, truncated
kernel and give the same values up to rounding; the cheaper is chosen from the sizes.

police.uk snaps every report to one of a few map points, so a large rural district has
counts on a small share of its cells: Winchester's 264,000 cells of 50 m had reports on
1,458 in a year, and the sparse sum took 0.03-0.11 s where filtering the grid took
0.2-0.4 s for each bandwidth.
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage, sparse

__all__ = ["gaussian_kernel", "smoothed_running_sums"]

TRUNCATE = 3.0
"""The kernel is cut at this many standard deviations."""

_SPARSE_SHARE = 0.04
"""The sparse sum is chosen when (cells with a count) x (kernel width) is under this
share of (slices x grid cells). Measured here on Winchester's two cubes: about 56 ns
per kernel weight (cells with a count x width squared) for the sparse sum, about 2.5 ns
per grid cell, slice and kernel tap for the filter: 2.5 / 56 is about 0.04."""


def gaussian_kernel(sigma_cells: float) -> np.ndarray:
    """The 1-D kernel :func:`scipy.ndimage.gaussian_filter1d` applies at ``sigma_cells``.

    Parameters
    ----------
    sigma_cells
        Standard deviation in cells.

    Returns
    -------
    numpy.ndarray
        ``2 r + 1`` weights summing to 1, ``r = int(TRUNCATE * sigma_cells + 0.5)``.

    Examples
    --------
    >>> k = gaussian_kernel(1.0)
    >>> len(k), round(float(k.sum()), 12), bool(k[3] == k.max())
    (7, 1.0, True)
    """
    r = int(TRUNCATE * float(sigma_cells) + 0.5)
    impulse = np.zeros(2 * r + 1)
    impulse[r] = 1.0
    return ndimage.gaussian_filter1d(impulse, sigma_cells, mode="constant", truncate=TRUNCATE)


def _by_filter(values, sources, shape, sigma_cells, cells, first):
    out = []
    for v in values:
        running = np.cumsum(v, axis=0)[first:]
        grid = np.zeros((len(running), shape[0] * shape[1]))
        grid[:, sources] = running
        s = ndimage.gaussian_filter(
            grid.reshape(len(running), *shape),
            sigma=(0, sigma_cells, sigma_cells),
            mode="constant",
            truncate=TRUNCATE,
        )
        out.append(s.reshape(len(s), -1)[:, cells])
    return out


def _by_kernels(values, sources, shape, sigma_cells, cells, first):
    ny, nx = shape
    k = gaussian_kernel(sigma_cells)
    r = len(k) // 2
    d = np.arange(-r, r + 1)
    sy, sx = np.divmod(sources, nx)
    ty = sy[:, None, None] + d[None, :, None]
    tx = sx[:, None, None] + d[None, None, :]
    inside = (ty >= 0) & (ty < ny) & (tx >= 0) & (tx < nx)
    position = np.full(ny * nx, -1, dtype=np.int64)
    position[cells] = np.arange(len(cells))
    target = position[np.where(inside, ty * nx + tx, 0)]
    keep = inside & (target >= 0)
    # One column per source, its kernel's cells in the area: built column by column
    # (no sort, no duplicate to merge).
    weights = sparse.csc_matrix(
        (
            np.broadcast_to((k[:, None] * k[None, :])[None], keep.shape)[keep],
            target[keep],
            np.concatenate([[0], np.cumsum(keep.reshape(len(sources), -1).sum(axis=1))]),
        ),
        shape=(len(cells), len(sources)),
    )
    out = []
    for v in values:
        running = np.cumsum(v, axis=0)[first:]
        out.append(np.asarray((weights @ running.T).T))
    return out


def smoothed_running_sums(
    values: tuple[np.ndarray, ...] | list[np.ndarray],
    sources: np.ndarray,
    shape: tuple[int, int],
    sigma_cells: float,
    cells: np.ndarray,
    first: int = 0,
) -> list[np.ndarray]:
    """Running sums over months of counts on a grid, smoothed by a Gaussian, at ``cells``.

    The counts are given at their cells only: ``values[c][m, j]`` is month ``m``'s
    count at flat grid index ``sources[j]`` (zero at every other cell). ``out[c][t -
    first]`` is the sum of months ``0..t`` filtered as ``scipy.ndimage.gaussian_filter(
    ..., sigma=sigma_cells, mode="constant", truncate=TRUNCATE)`` would filter it, read
    at the flat grid indices ``cells``.

    Parameters
    ----------
    values
        ``[n_months, len(sources)]`` counts, one array per series.
    sources
        Flat grid indices (``iy * nx + ix``) of the cells with counts.
    shape
        ``(ny, nx)`` of the grid.
    sigma_cells
        Standard deviation of the Gaussian, in cells.
    cells
        Flat grid indices to read, in order.
    first
        First month whose running sum is wanted.

    Returns
    -------
    list of numpy.ndarray
        One ``[n_months - first, len(cells)]`` array per series.

    Examples
    --------
    >>> counts = np.array([[1.0], [1.0]])  # one cell, months 0 and 1
    >>> (s,) = smoothed_running_sums([counts], np.array([12]), (5, 5), 1.0, np.array([12, 13]))
    >>> bool(s[1, 0] == 2 * s[0, 0]), bool(s[0, 0] > s[0, 1] > 0)
    (True, True)
    """
    values = [np.asarray(v, dtype=float) for v in values]
    sources = np.asarray(sources, dtype=np.int64)
    cells = np.asarray(cells, dtype=np.int64)
    ny, nx = shape
    n_slices = max(len(values[0]) - first, 1)
    width = 2 * int(TRUNCATE * float(sigma_cells) + 0.5) + 1
    if len(sources) * width < _SPARSE_SHARE * n_slices * ny * nx:
        return _by_kernels(values, sources, (ny, nx), sigma_cells, cells, first)
    return _by_filter(values, sources, (ny, nx), sigma_cells, cells, first)
