"""Kernel density surfaces on a grid, by binning and FFT convolution.

The surface of ``n`` incidents is ``f(x) = sum_i w_i K_h(x - p_i)`` in incidents
per km², where ``K_h`` integrates to 1:

* quartic (Silverman 1986, eq. 4.5; ArcGIS's kernel):
  ``K(d) = 3 / (pi h^2) * (1 - d^2/h^2)^2`` for ``d < h``, else 0 (``h`` is the radius);
* gaussian: ``K(d) = exp(-d^2 / (2 h^2)) / (2 pi h^2)`` with ``h`` the standard
  deviation, truncated at ``4 h`` and rescaled by ``1 / (1 - e^-8)`` so it still
  integrates to 1.

How the surface is computed (cost grows with points + cells, not their product):

1. Points are spread onto a lattice of nodes ``cell_m / s`` apart (``s`` is the
   oversampling factor, below) by **quadratic (3-point Lagrange) binning**: each
   point gives weights ``t(t-1)/2, 1-t^2, t(t+1)/2`` to the three nearest nodes
   along each axis (``t`` = offset from the nearest node in node spacings). These
   weights reproduce a point's mass, centre and spread exactly, so the only error
   is the kernel's third-order variation between nodes. Simple binning (each
   point to its nearest node, one ``np.bincount``) widens every kernel by
   ``node^2/12`` per axis and moves each point by up to half a node; linear
   binning widens it by ``t(1-t) node^2``; neither error is removed by
   normalising. Measured with a Gaussian of sd 200 m on 50 m cells without
   oversampling, as the largest error over 2,000 cell centres in % of the peak
   (``benchmarks/bench_kde.py --binning``): on 2,000 snapped police.uk points
   simple 3.1 %, linear 0.41 %, quadratic 0.049 %; on 10^5 points jittered around
   them simple 0.26 %, linear 0.45 %, quadratic 0.005 %. Quadratic binning costs 9
   scatter-adds a point instead of 1 or 4, about 0.05 s per 10^6 points.
2. The kernel is sampled on the same lattice and normalised so that its samples
   sum to 1 (times the node area): binned mass is preserved exactly.
3. The binned lattice is convolved with the kernel by FFT (``scipy.fft``). The
   lattice extends one kernel radius beyond the output grid on every side, and
   only the part of the circular convolution that no wrapped term can reach is
   kept, so nothing wraps and points just off the grid still contribute.

What a value means (``evaluation``):

* ``"centre"``: the density at the cell centre, as :func:`kde_exact` computes it.
  Used when the kernel is wide enough for centre values to carry each point's
  mass (quartic ``h >= 3 * cell_m``, Gaussian ``h >= cell_m``: the mass a point
  leaves on the cell centres is then within 0.5 % of 1 wherever the point lies).
* ``"cell_mean"``: the mean density over the cell (expected incidents in the cell
  divided by its area). Used for smaller bandwidths, where centre values are
  meaningless: a 50 m quartic kernel on a 50 m grid would miss every point lying
  between cell centres, and a point at a centre would put all its mass in one
  cell. Cell means keep every point's mass, and as ``h`` shrinks they tend to the
  count of incidents in each cell divided by its area. On snapped police.uk
  points that limit is what predicts next month's incidents best (see
  :mod:`analysis.bandwidth`).

The oversampling factor ``s`` is the smallest integer putting at least 20 nodes
per quartic radius or 6 per Gaussian standard deviation, capped at 8 and at
2^23 lattice nodes (``DensitySurface.note`` says when the node cap lowered it).
With it, centre values agree with :func:`kde_exact` to better than 0.1 % of the
peak (tests and benchmark). Where a lone point's kernel ends, quadratic binning
can leave values a little below zero; they are set to 0, as are values below the
FFT's round-off. Cell means use linear binning on the lattice (weights >= 0, so
mass is kept exactly; nearest-node binning when the kernel spans under two
nodes) and average the ``s x s`` lattice values inside each cell. Against cell
means computed from exact values on a 24 x 24 sub-grid, their largest error was
0.2 % of the peak for a 100 m quartic, 0.7 % at 50 m, 1.1 % at 25 m and 4 % at
12.5 m on 50 m cells (the ranking of cells is what they are for).

Cell means with few points skip the lattice: when the points (merged where they
coincide) times the sub-squares of a kernel's footprint come to at most
:data:`analysis.kde_direct.DIRECT_MAX_EVALUATIONS`, each point's kernel is summed
straight into the cells it reaches (:func:`analysis.kde_direct.cell_means`), exact
to within 0.5 % of the peak and mass-preserving. On the shipped months' 539
distinct ASB locations a 6.25 m surface takes 0.008 s this way against 0.1 s by FFT.

Cells outside the study area are NaN. Points outside the study area are used
(their kernels reach into it); the share of the total mass that falls outside
the study area, or off the grid, is reported as ``DensitySurface.mass_outside``.

The kernels, the points' coordinates and the exact reference :func:`kde_exact` live in
:mod:`analysis.kernels` (their names are re-exported here). :func:`kde_surface` takes a
bandwidth in metres: a rule name (``"auto"``, ``"scott"``, ...) is resolved by the caller
with :func:`analysis.bandwidth.choose_bandwidth`, which builds on this module.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import geopandas as gpd
import numpy as np
import scipy.fft

from analysis import kde_direct
from analysis.grid import Grid, area_geometry
from analysis.kernels import (
    GAUSSIAN_TRUNCATE_SD,
    KERNELS,
    check_kernel,
    check_positive_m,
    evaluation_for,
    kde_exact,
    kernel_radius_m,
    kernel_values,
    points_xy,
)
from geo.crs import BNG
from geo.errors import InputError

# The kernel names are re-exported: they were defined here before analysis.kernels.
__all__ = [
    "GAUSSIAN_TRUNCATE_SD",
    "KERNELS",
    "CELLS_PER_BANDWIDTH",
    "DensitySurface",
    "cell_for_bandwidth_m",
    "evaluation_for",
    "kde_exact",
    "kde_surface",
    "kernel_radius_m",
    "kernel_values",
    "points_xy",
]

CELLS_PER_BANDWIDTH = 40
"""A hotspot map's cells need be no finer than this fraction of the bandwidth: the
surface has no detail narrower than its kernel. Measured on the store's March 2022 ASB
(``hotspot_areas`` at 1 % coverage against 50 m cells, as intersection over union):
Cornwall with its 6,135 m spatial Silverman bandwidth 0.947 on 150 m cells (a 40th)
and 0.898 on 300 m (a 20th), in 0.055 s and 0.022 s against 0.47 s."""

_NODES_PER_BANDWIDTH = {"quartic": 20.0, "gaussian": 6.0}
_MAX_OVERSAMPLE = 8
_MAX_LATTICE_NODES = 2**23


def cell_for_bandwidth_m(bandwidth_m: float, cell_m: float) -> float:
    """The grid cell for a surface of this bandwidth.

    ``cell_m``, or a whole multiple of it where the bandwidth spans more than
    :data:`CELLS_PER_BANDWIDTH` cells.

    A county-wide bandwidth (a 6 km spatial Silverman radius over Cornwall) on 50 m
    cells is 4.75 million cells whose detail the kernel has already smoothed away;
    cells a 40th of the bandwidth draw the same hotspots in a tenth of the time. A
    whole multiple keeps the cells on the same lattice as ``cell_m``'s.

    Parameters
    ----------
    bandwidth_m
        Kernel bandwidth, metres.
    cell_m
        The finest cell wanted, metres.

    Returns
    -------
    float
        The cell, metres: ``cell_m * max(1, floor(bandwidth_m / (CELLS_PER_BANDWIDTH *
        cell_m)))``.

    Raises
    ------
    InputError
        If either is not a positive number of metres.

    Examples
    --------
    >>> cell_for_bandwidth_m(6134.5, 50.0)
    150.0
    >>> cell_for_bandwidth_m(150.0, 50.0)
    50.0
    """
    bandwidth_m = check_positive_m(bandwidth_m, "bandwidth_m")
    cell_m = check_positive_m(cell_m, "cell_m")
    return cell_m * max(1, math.floor(bandwidth_m / (CELLS_PER_BANDWIDTH * cell_m)))


@dataclass(frozen=True, eq=False)
class DensitySurface:
    """A kernel density surface on a grid.

    Attributes
    ----------
    values : numpy.ndarray
        ``[ny, nx]`` density in incidents per km² (row 0 south); NaN outside the
        study area.
    grid : Grid
        The grid of ``values``.
    bandwidth_m : float
        Quartic radius, or Gaussian standard deviation, metres.
    kernel : str
        ``"quartic"`` or ``"gaussian"``.
    n_points : int
        Located points used.
    crs : str
        Always EPSG:27700.
    total_weight : float
        Sum of the points' weights (``n_points`` without weights).
    evaluation : str
        ``"centre"`` (density at cell centres) or ``"cell_mean"`` (mean density
        over each cell), see the module notes.
    oversample : int
        Lattice nodes per cell side used for the convolution; 0 when the kernels were
        summed into the cells directly (:mod:`analysis.kde_direct`).
    mask : numpy.ndarray or None
        ``[ny, nx]`` cells inside the study area (centre inside), None without one.
    study_area_m2 : float or None
        Area of the study-area polygon, m².
    mass_outside : float
        Incidents' worth of density falling outside the study area or off the grid.
    n_outside : int
        Points lying in cells outside the study area or off the grid.
    n_dropped : int
        Input rows skipped for having no location.
    bandwidth_choice : object or None
        The :class:`analysis.bandwidth.BandwidthChoice` when the bandwidth came from a rule.
    note : str
        Anything the user should know about how this surface was computed.
    """

    values: np.ndarray
    grid: Grid
    bandwidth_m: float
    kernel: str
    n_points: int
    crs: str = BNG
    total_weight: float = 0.0
    evaluation: str = "centre"
    oversample: int = 1
    mask: np.ndarray | None = None
    study_area_m2: float | None = None
    mass_outside: float = 0.0
    n_outside: int = 0
    n_dropped: int = 0
    bandwidth_choice: Any = None
    note: str = ""

    @property
    def cell_km2(self) -> float:
        """Area of one cell, km²."""
        return self.grid.cell_km2

    @property
    def peak(self) -> float:
        """Highest density on the study area, per km² (0 for an empty surface)."""
        if not np.isfinite(self.values).any():
            return 0.0
        return float(np.nanmax(self.values))

    @property
    def mass(self) -> float:
        """Incidents' worth of density on the study-area cells."""
        return float(np.nansum(self.values) * self.cell_km2)

    @property
    def area_mask(self) -> np.ndarray:
        """Cells of the study area (all cells when there is no study area)."""
        if self.mask is None:
            return np.ones(self.grid.shape, dtype=bool)
        return self.mask

    def ranked_cells(self) -> np.ndarray:
        """Flat indices (``iy * nx + ix``) of cells with density > 0, highest first.

        Returns
        -------
        numpy.ndarray of int
            Ties (values equal to 9 significant digits of the peak) are broken by
            row then column, south-west first, so the order is deterministic.
        """
        flat = self.values.ravel()
        ok = np.isfinite(flat) & (flat > 0)
        idx = np.flatnonzero(ok)
        if len(idx) == 0:
            return idx
        key = np.round(flat[idx] / self.peak, 9)
        return idx[np.lexsort((idx, -key))]

    def top_mask(self, n_cells: int) -> np.ndarray:
        """Bool ``[ny, nx]`` of the ``n_cells`` highest cells (fewer if fewer are > 0).

        Parameters
        ----------
        n_cells
            How many cells to mark.

        Returns
        -------
        numpy.ndarray of bool
        """
        out = np.zeros(self.grid.nx * self.grid.ny, dtype=bool)
        out[self.ranked_cells()[: max(0, int(n_cells))]] = True
        return out.reshape(self.grid.shape)

    def top_cells(self, share: float) -> gpd.GeoDataFrame:
        """The highest cells making up ``share`` of the study area's cells.

        Parameters
        ----------
        share
            Fraction of the study-area cells, e.g. ``0.01`` for the top 1 %.

        Returns
        -------
        geopandas.GeoDataFrame
            Columns ``rank`` (1 = highest), ``ix``, ``iy``, ``density`` (per km²),
            ``expected`` (incidents: density x cell area), ``geometry``. Cells with
            zero density are never included.
        """
        if not (0 < share <= 1):
            msg = f"share must be a fraction in (0, 1], got {share!r}."
            raise InputError(msg)
        n = max(1, round(share * int(self.area_mask.sum())))
        order = self.ranked_cells()[:n]
        iy, ix = np.divmod(order, self.grid.nx)
        dens = self.values.ravel()[order]
        return gpd.GeoDataFrame(
            {
                "rank": np.arange(1, len(order) + 1),
                "ix": ix,
                "iy": iy,
                "density": dens,
                "expected": dens * self.cell_km2,
            },
            geometry=self.grid.cell_boxes(ix, iy),
            crs=self.crs,
        )

    def to_geodataframe(self, *, include_zero: bool = False) -> gpd.GeoDataFrame:
        """Cells of the study area as polygons with their density.

        Parameters
        ----------
        include_zero
            Also return cells whose density is 0.

        Returns
        -------
        geopandas.GeoDataFrame
            Columns ``ix``, ``iy``, ``density`` (per km²), ``expected`` (incidents),
            ``geometry``; ordered south to north, west to east.
        """
        keep = np.isfinite(self.values)
        if not include_zero:
            keep &= self.values > 0
        gdf = self.grid.cell_polygons(keep)
        dens = self.values[keep]
        gdf.insert(2, "density", dens)
        gdf.insert(3, "expected", dens * self.cell_km2)
        return gdf


def _resolve_bandwidth(bandwidth_m: Any) -> tuple[float, Any]:
    """Metres from a number or a BandwidthChoice (recorded); a rule name is refused."""
    if isinstance(bandwidth_m, str):
        msg = (
            f"bandwidth_m must be a positive number of metres, got {bandwidth_m!r}; to use a "
            "rule, choose the bandwidth with analysis.bandwidth.choose_bandwidth and pass "
            "the choice (or its bandwidth_m)."
        )
        raise InputError(msg)
    if hasattr(bandwidth_m, "bandwidth_m") and hasattr(bandwidth_m, "rule"):
        return check_positive_m(bandwidth_m.bandwidth_m, "bandwidth_m"), bandwidth_m
    return check_positive_m(bandwidth_m, "bandwidth_m"), None


def _oversample(
    h: float, kernel: str, cell_m: float, n_cells: int, evaluation: str
) -> tuple[int, str]:
    want = max(1, math.ceil(_NODES_PER_BANDWIDTH[kernel] * cell_m / h - 1e-9))
    cap = min(want, _MAX_OVERSAMPLE)
    s = cap
    while s > 1 and n_cells * s * s > _MAX_LATTICE_NODES:
        s -= 1
    note = ""
    if s < cap or (evaluation == "centre" and s < want):
        note = (
            f"Lattice oversampling {s} (wanted {want}) to bound memory and time; values are "
            "less precise than usual (see analysis.kde)."
        )
    return s, note


def _bin_linear(
    fx: np.ndarray, fy: np.ndarray, w: np.ndarray, shape: tuple[int, int]
) -> np.ndarray:
    """Linear (cloud-in-cell) binning: non-negative weights to the 4 surrounding nodes."""
    ny, nx = shape
    ix = np.floor(fx)
    iy = np.floor(fy)
    tx = fx - ix
    ty = fy - iy
    base = iy.astype(np.int64) * nx + ix.astype(np.int64)
    # One count over the four corners: each pass over a large lattice costs more than
    # the points (Cornwall: 4.75 million nodes, 6,000 points).
    nodes = np.concatenate([base, base + 1, base + nx, base + nx + 1])
    shares = np.concatenate(
        [(1.0 - tx) * (1.0 - ty) * w, tx * (1.0 - ty) * w, (1.0 - tx) * ty * w, tx * ty * w]
    )
    return np.bincount(nodes, shares, minlength=nx * ny).reshape(shape)


def _bin_quadratic(
    fx: np.ndarray, fy: np.ndarray, w: np.ndarray, shape: tuple[int, int]
) -> np.ndarray:
    """3-point Lagrange binning of points at fractional node coordinates (fx, fy)."""
    ny, nx = shape
    ix = np.rint(fx)
    iy = np.rint(fy)
    tx = fx - ix
    ty = fy - iy
    wx = (0.5 * tx * (tx - 1.0), 1.0 - tx * tx, 0.5 * tx * (tx + 1.0))
    wy = (0.5 * ty * (ty - 1.0) * w, (1.0 - ty * ty) * w, 0.5 * ty * (ty + 1.0) * w)
    base = iy.astype(np.int64) * nx + ix.astype(np.int64)
    nodes = np.concatenate([base + ((b - 1) * nx + (a - 1)) for b in range(3) for a in range(3)])
    shares = np.concatenate([wx[a] * wy[b] for b in range(3) for a in range(3)])
    return np.bincount(nodes, shares, minlength=nx * ny).reshape(shape)


def _fft_valid(binned: np.ndarray, kern: np.ndarray) -> np.ndarray:
    """Linear convolution of ``binned`` with ``kern``, only where no wrapped term reaches."""
    ky, kx = kern.shape
    shape = tuple(scipy.fft.next_fast_len(n, real=True) for n in binned.shape)
    fb = scipy.fft.rfft2(binned, s=shape, workers=-1)
    fk = scipy.fft.rfft2(kern, s=shape, workers=-1)
    full = scipy.fft.irfft2(fb * fk, s=shape, workers=-1)
    # Circular convolution of length N >= binned: entries k >= K-1 receive no wrapped term.
    return full[ky - 1 : binned.shape[0], kx - 1 : binned.shape[1]]


def _surface_per_m2(
    xy: np.ndarray,
    w: np.ndarray,
    grid: Grid,
    h: float,
    kernel: str,
    evaluation: str,
    s: int,
) -> tuple[np.ndarray, float]:
    """Density per m² at cell centres or cell means; also the round-off scale."""
    d = grid.cell_m
    f = d / s
    r_nodes = math.ceil(kernel_radius_m(h, kernel) / f - 1e-9)
    m = r_nodes + 1  # lattice margin: kernel radius + one node for the binning stencil
    if evaluation == "centre":
        out_nx, out_ny = (grid.nx - 1) * s + 1, (grid.ny - 1) * s + 1
        lx0, ly0 = grid.x0 + d / 2 - m * f, grid.y0 + d / 2 - m * f
    else:
        out_nx, out_ny = grid.nx * s, grid.ny * s
        lx0, ly0 = grid.x0 + f / 2 - m * f, grid.y0 + f / 2 - m * f
    shape = (out_ny + 2 * m, out_nx + 2 * m)
    fx = (xy[:, 0] - lx0) / f
    fy = (xy[:, 1] - ly0) / f
    # Keep points whose 3x3 stencil lies on the lattice; others are beyond the kernel's reach.
    ok = (fx >= 0.5) & (fx < shape[1] - 1.5) & (fy >= 0.5) & (fy < shape[0] - 1.5)
    fx, fy, wk = fx[ok], fy[ok], w[ok]
    o = np.arange(-m, m + 1) * f
    kern = kernel_values(o[None, :] ** 2 + o[:, None] ** 2, h, kernel)
    kern /= kern.sum() * f * f
    if evaluation == "centre":
        binned = _bin_quadratic(fx, fy, wk, shape)
    elif h / f >= 2.0:
        binned = _bin_linear(fx, fy, wk, shape)
    else:  # kernel narrower than two nodes: nearest node (exact sub-cell counts)
        flat = np.rint(fy).astype(np.int64) * shape[1] + np.rint(fx).astype(np.int64)
        binned = np.bincount(flat, wk, minlength=shape[0] * shape[1]).reshape(shape)
    conv = _fft_valid(binned, kern)
    roundoff = 64 * np.finfo(float).eps * float(np.abs(binned).sum()) * float(kern.max())
    if evaluation == "centre":
        vals = conv[::s, ::s]
    else:
        vals = conv.reshape(grid.ny, s, grid.nx, s).mean(axis=(1, 3))
    return vals, roundoff


def _direct_points(
    xy: np.ndarray, w: np.ndarray, h: float, cell_m: float, kernel: str
) -> tuple[np.ndarray, np.ndarray] | None:
    """Points (merged where they coincide) and weights, if summing kernels directly is cheaper."""
    # Read the limit from the module at each call (tests lower it to force the FFT).
    limit = kde_direct.DIRECT_MAX_EVALUATIONS
    cost = kde_direct.direct_cost
    if cost(len(xy), h, cell_m, kernel) <= limit:
        return xy, w
    if cost(1, h, cell_m, kernel) * 1000 > limit or len(xy) > 500_000:
        return None
    pts, inverse = np.unique(xy, axis=0, return_inverse=True)
    if cost(len(pts), h, cell_m, kernel) > limit:
        return None
    return pts, np.bincount(inverse.ravel(), weights=w, minlength=len(pts))


def kde_surface(
    points: Any,
    *,
    bandwidth_m: Any,
    cell_m: float = 50.0,
    kernel: str = "quartic",
    weights: Any = None,
    study_area: Any = None,
    grid: Grid | None = None,
    evaluation: str = "auto",
) -> DensitySurface:
    """Kernel density surface of points on a grid, in incidents per km².

    Parameters
    ----------
    points
        Incident frame (GeoDataFrame in EPSG:27700; rows without geometry are
        skipped and counted), or an ``(n, 2)`` array of BNG metres.
    bandwidth_m
        Quartic radius or Gaussian standard deviation in metres, or a
        :class:`analysis.bandwidth.BandwidthChoice` (its metres are used and the
        choice is recorded in ``bandwidth_choice``). A rule name (``"auto"``,
        ``"scott"``, ...) is refused: choose the bandwidth first with
        :func:`analysis.bandwidth.choose_bandwidth`.
    cell_m
        Cell side, metres (ignored when ``grid`` is given).
    kernel
        ``"quartic"`` (default, as ArcGIS) or ``"gaussian"``.
    weights
        None, a column name, or one non-negative number per row; a weight of 2
        counts a point twice.
    study_area
        Polygon (shapely, BNG) or GeoDataFrame in EPSG:27700. Cells whose centre is
        outside are NaN; without ``grid`` the grid covers its bounds.
    grid
        Grid to compute on. Default: covering the study area, or else the points
        plus one kernel radius.
    evaluation
        ``"auto"`` (default), ``"centre"`` or ``"cell_mean"``; see the module notes.

    Returns
    -------
    DensitySurface

    Raises
    ------
    InputError
        On bad points, weights, bandwidth, kernel or cell size, or when there are no
        points and neither ``grid`` nor ``study_area`` says where the surface is.
    """
    check_kernel(kernel)
    if grid is not None:
        if not isinstance(grid, Grid):
            msg = f"grid must be an analysis.grid.Grid, got {type(grid).__name__}."
            raise InputError(msg)
        cell_m = grid.cell_m
    cell_m = check_positive_m(cell_m, "cell_m")
    xy, w, n_dropped = points_xy(points, weights)
    h, choice = _resolve_bandwidth(bandwidth_m)
    if w is None:
        w = np.ones(len(xy))
    area_geom = area_geometry(study_area) if study_area is not None else None
    if grid is None:
        if area_geom is not None:
            grid = Grid.covering(area_geom, cell_m)
        elif len(xy):
            lo, hi = xy.min(axis=0), xy.max(axis=0)
            grid = Grid.covering((lo[0], lo[1], hi[0], hi[1]), cell_m, kernel_radius_m(h, kernel))
        else:
            msg = (
                "No points with a location, and no grid or study_area to place an empty surface on."
            )
            raise InputError(msg)
    if evaluation == "auto":
        evaluation = evaluation_for(h, cell_m, kernel)
    elif evaluation not in ("centre", "cell_mean"):
        msg = f"evaluation must be 'auto', 'centre' or 'cell_mean', got {evaluation!r}."
        raise InputError(msg)
    direct = (
        _direct_points(xy, w, h, cell_m, kernel) if evaluation == "cell_mean" and len(xy) else None
    )
    s, note = (0, "") if direct else _oversample(h, kernel, cell_m, grid.nx * grid.ny, evaluation)
    if evaluation == "cell_mean" and kernel_radius_m(h, kernel) <= cell_m:
        small = (
            f"Bandwidth {h:g} m is within one {cell_m:g} m cell: values are mean densities "
            "over each cell, close to the count of incidents in the cell divided by its area."
        )
        note = f"{note} {small}".strip()
    if direct:  # few (distinct) points: each kernel summed into its cells, exactly
        values = kde_direct.cell_means(*direct, grid, h, kernel)
    elif len(xy):
        vals, roundoff = _surface_per_m2(xy, w, grid, h, kernel, evaluation, s)
        values = vals * 1e6
        values[values <= roundoff * 1e6] = 0.0
    else:
        values = np.zeros(grid.shape)
    mask = grid.mask_from(area_geom) if area_geom is not None else None
    if mask is not None:
        values[~mask] = np.nan
    total = float(w.sum())
    inside_mass = float(np.nansum(values) * grid.cell_km2)
    _, _, in_area = grid.cell_index_in(xy[:, 0], xy[:, 1], mask)
    return DensitySurface(
        values=values,
        grid=grid,
        bandwidth_m=h,
        kernel=kernel,
        n_points=len(xy),
        crs=grid.crs,
        total_weight=total,
        evaluation=evaluation,
        oversample=s,
        mask=mask,
        study_area_m2=float(area_geom.area) if area_geom is not None else None,
        mass_outside=max(0.0, total - inside_mass),
        n_outside=int((~in_area).sum()),
        n_dropped=n_dropped,
        bandwidth_choice=choice,
        note=note,
    )
