"""Kernel maths shared by every density estimate: kernels, points, exact sums.

The lowest of the density modules (``analysis.kde_direct`` and ``analysis.kde`` build
on it; nothing here imports them):

* the kernels (:func:`kernel_values`, :func:`kernel_radius_m`), each integrating to 1
  over the plane; see :mod:`analysis.kde` for their formulas;
* :func:`points_xy`, the located points and weights of an incident frame or array;
* :func:`evaluation_for`, whether a surface is read at cell centres or as cell means;
* :func:`kde_exact`, the density summed point by point at given locations (the
  reference the fast surfaces are checked against);
* :func:`check_kernel` and :func:`check_positive_m`, the argument checks they share.
"""

from __future__ import annotations

import math
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from scipy.spatial import cKDTree

from geo.crs import require_bng
from geo.errors import InputError

__all__ = [
    "GAUSSIAN_TRUNCATE_SD",
    "KERNELS",
    "check_kernel",
    "check_positive_m",
    "evaluation_for",
    "kde_exact",
    "kernel_radius_m",
    "kernel_values",
    "points_xy",
]

KERNELS = ("quartic", "gaussian")
"""Kernels understood by :func:`analysis.kde.kde_surface` and :func:`kde_exact`."""

GAUSSIAN_TRUNCATE_SD = 4.0
"""The Gaussian kernel is cut at this many standard deviations (and rescaled)."""

_GAUSS_NORM = 1.0 / (1.0 - math.exp(-0.5 * GAUSSIAN_TRUNCATE_SD**2))
_CENTRE_MIN_RATIO = {"quartic": 3.0, "gaussian": 1.0}


def check_kernel(kernel: str) -> str:
    """The kernel's name, if it is one of :data:`KERNELS`.

    Parameters
    ----------
    kernel
        Kernel name to check.

    Returns
    -------
    str
        ``kernel`` unchanged.

    Raises
    ------
    InputError
        If ``kernel`` is not ``"quartic"`` or ``"gaussian"``.

    Examples
    --------
    >>> check_kernel("gaussian")
    'gaussian'
    """
    if kernel not in KERNELS:
        msg = f"kernel must be one of {KERNELS}, got {kernel!r}."
        raise InputError(msg)
    return kernel


def check_positive_m(value: Any, name: str) -> float:
    """A positive, finite number of metres as a float.

    Parameters
    ----------
    value
        The value given (a number, or anything ``float`` accepts).
    name
        Argument name for the error message.

    Returns
    -------
    float
        ``float(value)``.

    Raises
    ------
    InputError
        If ``value`` is not a number, or not finite and > 0.

    Examples
    --------
    >>> check_positive_m("250", "bandwidth_m")
    250.0
    """
    try:
        out = float(value)
    except (TypeError, ValueError) as exc:
        msg = f"{name} must be a positive number of metres, got {value!r}."
        raise InputError(msg) from exc
    if not (math.isfinite(out) and out > 0):
        msg = f"{name} must be a positive number of metres, got {value!r}."
        raise InputError(msg)
    return out


def kernel_radius_m(bandwidth_m: float, kernel: str = "quartic") -> float:
    """Distance beyond which the kernel is zero.

    Parameters
    ----------
    bandwidth_m
        Quartic radius, or Gaussian standard deviation, metres.
    kernel
        ``"quartic"`` or ``"gaussian"``.

    Returns
    -------
    float
        ``bandwidth_m`` for the quartic, ``4 * bandwidth_m`` for the Gaussian.

    Examples
    --------
    >>> kernel_radius_m(100.0), kernel_radius_m(100.0, "gaussian")
    (100.0, 400.0)
    """
    check_kernel(kernel)
    return bandwidth_m if kernel == "quartic" else GAUSSIAN_TRUNCATE_SD * bandwidth_m


def kernel_values(d2_m2: np.ndarray, bandwidth_m: float, kernel: str = "quartic") -> np.ndarray:
    """Kernel density at squared distances, per square metre.

    Parameters
    ----------
    d2_m2
        Squared distances from the point, square metres.
    bandwidth_m
        Quartic radius, or Gaussian standard deviation, metres.
    kernel
        ``"quartic"`` or ``"gaussian"``.

    Returns
    -------
    numpy.ndarray
        ``K(d)`` per m²; the kernel integrates to 1 over the plane.
    """
    check_kernel(kernel)
    d2 = np.asarray(d2_m2, dtype=float)
    h2 = float(bandwidth_m) ** 2
    if kernel == "quartic":
        u = d2 / h2
        return np.where(u < 1.0, 3.0 / (math.pi * h2) * (1.0 - u) ** 2, 0.0)
    inside = d2 < (GAUSSIAN_TRUNCATE_SD**2) * h2
    return np.where(inside, np.exp(-0.5 * d2 / h2) * (_GAUSS_NORM / (2.0 * math.pi * h2)), 0.0)


def points_xy(
    points: Any, weights: Any = None, what: str = "points"
) -> tuple[np.ndarray, np.ndarray | None, int]:
    """Coordinates (and weights) of the located points.

    Parameters
    ----------
    points
        GeoDataFrame/GeoSeries of points in EPSG:27700 (rows without geometry are
        skipped), or an ``(n, 2)`` array of BNG metres (rows with NaN are skipped).
    weights
        None, a column name of ``points``, or one number per row of ``points``.
    what
        Name used in error messages.

    Returns
    -------
    xy : numpy.ndarray
        ``(m, 2)`` float array of the located points.
    w : numpy.ndarray or None
        Their weights (None when no weights were given).
    n_dropped : int
        Rows skipped for having no location.

    Raises
    ------
    InputError
        On a CRS other than BNG, non-point geometries, a wrong array shape, or
        negative, missing or non-numeric weights.
    """
    if isinstance(points, gpd.GeoDataFrame | gpd.GeoSeries):
        require_bng(points, what)
        geoms = np.asarray(points.geometry.values)
        missing = shapely.is_missing(geoms) | shapely.is_empty(geoms)
        types = shapely.get_type_id(geoms)
        bad = ~missing & (types != 0)
        if bad.any():
            row = points.index[np.argmax(bad)]
            kind = shapely.get_type_id(geoms[np.argmax(bad)])
            msg = (
                f"{what}: row {row!r} has a non-point geometry (type id {kind}); kernel density "
                "needs one point per incident. Use the incidents' points, or their centroids."
            )
            raise InputError(msg)
        keep = ~missing
        xy = np.column_stack([shapely.get_x(geoms[keep]), shapely.get_y(geoms[keep])])
        n_rows = len(points)
        if isinstance(weights, str):
            if not isinstance(points, gpd.GeoDataFrame) or weights not in points.columns:
                msg = f"{what}: weights column {weights!r} not found."
                raise InputError(msg)
            weights = pd.to_numeric(points[weights], errors="coerce").to_numpy(dtype=float)
    else:
        if isinstance(weights, str):
            msg = f"{what}: weights given as a column name ({weights!r}) need a GeoDataFrame."
            raise InputError(msg)
        try:
            arr = np.asarray(points, dtype=float)
        except (TypeError, ValueError) as exc:
            msg = f"{what} must be a GeoDataFrame in EPSG:27700 or an (n, 2) array of metres."
            raise InputError(msg) from exc
        if arr.ndim != 2 or arr.shape[1] != 2:
            msg = f"{what} must be an (n, 2) array of BNG metres, got shape {arr.shape}."
            raise InputError(msg)
        keep = np.isfinite(arr).all(axis=1)
        xy = arr[keep]
        n_rows = len(arr)
    w = None
    if weights is not None:
        w_all = np.asarray(weights, dtype=float).reshape(-1)
        if len(w_all) != n_rows:
            msg = f"{what}: {len(w_all)} weights for {n_rows} rows; give one weight per row."
            raise InputError(msg)
        w = w_all[keep]
        bad_w = ~np.isfinite(w) | (w < 0)
        if bad_w.any():
            msg = (
                f"{what}: weight {w[np.argmax(bad_w)]!r} at located row "
                f"{int(np.argmax(bad_w))} is missing or negative; weights must be numbers >= 0."
            )
            raise InputError(msg)
    return np.ascontiguousarray(xy, dtype=float), w, int(n_rows - keep.sum())


def kde_exact(
    points: Any,
    eval_xy: Any,
    bandwidth_m: float,
    kernel: str = "quartic",
    *,
    weights: Any = None,
) -> np.ndarray:
    """Kernel density evaluated directly at given locations (reference, not for maps).

    Sums the kernel of every point within the kernel's radius of each location,
    in chunks of locations sized to keep memory bounded. Cost grows with
    locations x neighbours, so use it for checks and error measurement.

    Parameters
    ----------
    points
        As for :func:`analysis.kde.kde_surface`.
    eval_xy
        ``(m, 2)`` array of locations, BNG metres.
    bandwidth_m
        Quartic radius, or Gaussian standard deviation, metres.
    kernel
        ``"quartic"`` or ``"gaussian"``.
    weights
        As for :func:`analysis.kde.kde_surface`.

    Returns
    -------
    numpy.ndarray
        Density at each location, incidents per km².
    """
    check_kernel(kernel)
    h = check_positive_m(bandwidth_m, "bandwidth_m")
    xy, w, _ = points_xy(points, weights)
    ev = np.asarray(eval_xy, dtype=float)
    if ev.ndim != 2 or ev.shape[1] != 2:
        msg = f"eval_xy must be an (m, 2) array of BNG metres, got shape {ev.shape}."
        raise InputError(msg)
    out = np.zeros(len(ev))
    if len(xy) == 0 or len(ev) == 0:
        return out
    radius = kernel_radius_m(h, kernel)
    tree = cKDTree(xy)
    # Size chunks from the neighbour count of a sample of locations (<= ~4e6 pairs a chunk).
    sample = ev[:: max(1, len(ev) // 64)]
    mean_nb = float(np.mean(tree.query_ball_point(sample, radius, return_length=True))) + 1.0
    chunk = int(np.clip(4e6 / mean_nb, 16, 8192))
    for start in range(0, len(ev), chunk):
        sub = ev[start : start + chunk]
        pairs = cKDTree(sub).sparse_distance_matrix(tree, radius, output_type="ndarray")
        k = kernel_values(pairs["v"] ** 2, h, kernel)
        if w is not None:
            k = k * w[pairs["j"]]
        out[start : start + len(sub)] = np.bincount(pairs["i"], weights=k, minlength=len(sub))
    return out * 1e6


def evaluation_for(bandwidth_m: float, cell_m: float, kernel: str = "quartic") -> str:
    """The evaluation :func:`analysis.kde.kde_surface` uses by default.

    See the notes of :mod:`analysis.kde` for why.

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

    Examples
    --------
    >>> evaluation_for(150.0, 50.0), evaluation_for(100.0, 50.0)
    ('centre', 'cell_mean')
    """
    return "centre" if bandwidth_m >= _CENTRE_MIN_RATIO[kernel] * cell_m else "cell_mean"
