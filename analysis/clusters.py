"""Density clusters of incidents: DBSCAN on distinct snap points, HDBSCAN, outlines.

police.uk moves every report to the nearest of a fixed set of anonymised map points,
so a few hundred distinct points carry thousands of rows. :func:`dbscan_labels`
clusters the distinct points once, weighting each by how many rows sit on it
(``sample_weight``), and copies each point's label back to its rows. The labels are
exactly those of :class:`sklearn.cluster.DBSCAN` run on every row (see the function's
notes for why this includes border points), at a fraction of the time and memory:
scikit-learn materialises every row's neighbourhood, which for a million rows on a
few thousand points is billions of indices.

Label conventions used throughout this module:

* ``0, 1, 2, ...`` clusters, numbered by size: 0 holds the most rows (ties go to the
  cluster whose first row comes first);
* ``-1`` noise (DBSCAN/HDBSCAN found no cluster for the row);
* ``-2`` no location: the row has no geometry (police.uk "No location" rows, or an
  empty point) or non-finite coordinates, so it was not clustered at all.

Distances are British National Grid metres (``eps_m``, ``min_buffer_m``).
"""

from __future__ import annotations

from collections.abc import Sequence

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from sklearn.cluster import DBSCAN, HDBSCAN

from geo.crs import BNG, require_bng
from geo.errors import InputError

__all__ = [
    "DEFAULT_EPS_M",
    "DEFAULT_MIN_SAMPLES",
    "NO_LOCATION",
    "NOISE",
    "cluster_outlines",
    "dbscan_hotspots",
    "dbscan_labels",
    "distinct_points",
    "hdbscan_labels",
    "relabel_by_size",
]

NOISE = -1
"""Label of a row that belongs to no cluster."""

NO_LOCATION = -2
"""Label of a row without a usable location (no geometry or non-finite x/y)."""

DEFAULT_EPS_M = 150.0
"""Default DBSCAN radius for :func:`dbscan_hotspots`, metres.

Chosen on Eastleigh ASB, February-May 2017 (1,008 rows on 505 distinct points): with
``min_samples=10`` it gives 19 clusters holding 34% of the rows, Eastleigh town centre
(Leigh Road / Swan Centre car parks, Mitchell Road) ranked first and Hedge End town
centre (St John's ward, supermarket and car park) third. 100 m splits the town centre
into several small clusters and loses Hedge End from the top five; 200 m with
``min_samples`` 5 merges most of Eastleigh into one cluster of 260 rows.
"""

DEFAULT_MIN_SAMPLES = 10
"""Default DBSCAN ``min_samples`` for :func:`dbscan_hotspots`: rows within ``eps_m``.

Ten reports in 150 m over four months is about one every fortnight. It scales with
the length of the period: for one month use about a quarter of it.
"""


def _xy_of(points: gpd.GeoDataFrame | gpd.GeoSeries | np.ndarray, what: str) -> np.ndarray:
    """Return an ``(n, 2)`` float array of BNG coordinates, NaN where there is no location."""
    if isinstance(points, gpd.GeoDataFrame | gpd.GeoSeries):
        require_bng(points, what)
        geoms = points.geometry.values if isinstance(points, gpd.GeoDataFrame) else points.values
        missing = shapely.is_missing(geoms) | shapely.is_empty(geoms)
        kinds = shapely.get_type_id(geoms[~missing])
        if np.any(kinds != 0):
            bad = np.flatnonzero(~missing)[kinds != 0][:5].tolist()
            msg = (
                f"{what}: clustering needs Point geometries, found other types at rows "
                f"(position) {bad}. Use the incidents' points, or take .centroid first."
            )
            raise InputError(msg)
        xy = np.full((len(geoms), 2), np.nan)
        xy[~missing, 0] = shapely.get_x(geoms[~missing])
        xy[~missing, 1] = shapely.get_y(geoms[~missing])
        return xy
    arr = np.asarray(points, dtype=float)
    if arr.ndim != 2 or arr.shape[1] != 2:
        msg = (
            f"{what}: expected a GeoDataFrame of points in EPSG:27700 or an (n, 2) array "
            f"of BNG x, y metres; got an array of shape {arr.shape}."
        )
        raise InputError(msg)
    return arr


def distinct_points(
    xy: np.ndarray, *, snap_m: float | None = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Collapse located rows to their distinct coordinates, in order of first appearance.

    Parameters
    ----------
    xy
        ``(n, 2)`` array of finite BNG coordinates (metres).
    snap_m
        None (default) merges only rows whose coordinates are exactly equal. A positive
        value first rounds coordinates to multiples of ``snap_m`` metres (e.g. 0.001 for
        coordinates that went through text and picked up float noise), so rows closer
        than that are merged and the rounded coordinates are returned.

    Returns
    -------
    points : numpy.ndarray
        ``(k, 2)`` distinct coordinates; point ``j`` is the ``j``-th to appear in ``xy``.
    inverse : numpy.ndarray
        ``(n,)`` index into ``points`` for every row.
    weight : numpy.ndarray
        ``(k,)`` number of rows on each distinct point.
    """
    xy = np.asarray(xy, dtype=float)
    if snap_m is not None:
        if not snap_m > 0:
            msg = f"snap_m must be a positive number of metres or None, got {snap_m!r}."
            raise InputError(msg)
        xy = np.round(xy / snap_m) * snap_m
    # A complex number hashes both coordinates exactly; factorize numbers the distinct
    # values in order of first appearance, which dbscan_labels relies on.
    inverse, uniques = pd.factorize(xy[:, 0] + 1j * xy[:, 1])
    points = np.column_stack([uniques.real, uniques.imag])
    weight = np.bincount(inverse, minlength=len(points))
    return points, inverse.astype(np.intp), weight


def relabel_by_size(labels: np.ndarray) -> np.ndarray:
    """Renumber cluster labels by size, largest first.

    Parameters
    ----------
    labels
        Integer labels per row; negative values (noise, no location) are kept as they are.

    Returns
    -------
    numpy.ndarray
        Labels where 0 is the cluster with the most rows, 1 the next, and so on; ties go
        to the cluster whose first row comes first. Two labellings that differ only by a
        permutation of cluster numbers give the same result.
    """
    labels = np.asarray(labels)
    out = labels.astype(np.intp, copy=True)
    clustered = labels >= 0
    if not clustered.any():
        return out
    ids, first, counts = np.unique(labels[clustered], return_index=True, return_counts=True)
    order = np.lexsort((first, -counts))  # by size descending, then first appearance
    new_id = np.empty(len(ids), dtype=np.intp)
    new_id[order] = np.arange(len(ids))
    out[clustered] = new_id[np.searchsorted(ids, labels[clustered])]
    return out


def _check_positive(value: float, name: str) -> None:
    if not (np.isfinite(value) and value > 0):
        msg = f"{name} must be a positive number, got {value!r}."
        raise InputError(msg)


def dbscan_labels(
    points: gpd.GeoDataFrame | gpd.GeoSeries | np.ndarray,
    *,
    eps_m: float,
    min_samples: int,
    snap_m: float | None = None,
) -> np.ndarray:
    """DBSCAN cluster label of every row, computed on distinct points.

    Parameters
    ----------
    points
        Incident points: a GeoDataFrame (or GeoSeries) in EPSG:27700, one row per
        incident, or an ``(n, 2)`` array of BNG x, y metres.
    eps_m
        Neighbourhood radius in metres (a row's neighbours lie within ``eps_m``,
        inclusive).
    min_samples
        Rows (including the row itself) within ``eps_m`` that make a row a core point.
        A single map point carrying ``min_samples`` reports is a core point by itself.
    snap_m
        Passed to :func:`distinct_points`. None (default) merges exactly equal
        coordinates only and gives exactly scikit-learn's row-wise labels.

    Returns
    -------
    numpy.ndarray
        One integer per row: clusters ``0, 1, ...`` numbered by size (0 is the largest,
        see :func:`relabel_by_size`), ``-1`` noise, ``-2`` no location (missing or empty
        geometry, NaN coordinates); rows labelled -2 are left out of the clustering.

    Raises
    ------
    InputError
        If the frame is not in BNG, holds non-point geometries, or the parameters are
        not positive.

    Notes
    -----
    The rows are collapsed to their ``k`` distinct coordinates, numbered in order of
    first appearance; :class:`sklearn.cluster.DBSCAN` runs on those with
    ``sample_weight`` = rows per point, and each row takes its point's label. This is
    the same clustering as DBSCAN on the rows, not an approximation:

    * all rows on one point have the same neighbourhood, and the weighted count of the
      point's neighbourhood is the row count of theirs, so core status agrees;
    * core points within ``eps_m`` of each other are joined either way;
    * a border point within ``eps_m`` of core points of two clusters is ambiguous in
      DBSCAN: scikit-learn gives it to the cluster it expands first, i.e. the cluster
      whose earliest core row comes first in the input. Because distinct points are
      numbered by first appearance, the distinct run expands clusters in the same order
      and makes the same choice. (Both therefore depend on row order; sorting the rows
      differently can move such a border point in either method, identically.)

    The only possible difference is a pair of points at a distance within
    floating-point rounding of ``eps_m`` exactly, where the two runs' KD-trees could
    round differently. scikit-learn's row-wise run holds every neighbourhood in memory
    (about 9 GB and 49 s for a million police.uk rows); this one holds the distinct
    points' neighbourhoods only.
    """
    _check_positive(eps_m, "eps_m")
    if int(min_samples) != min_samples or min_samples < 1:
        msg = f"min_samples must be a whole number of rows >= 1, got {min_samples!r}."
        raise InputError(msg)
    xy = _xy_of(points, "points")
    located = np.isfinite(xy).all(axis=1)
    labels = np.full(len(xy), NO_LOCATION, dtype=np.intp)
    if not located.any():
        return labels
    uniq, inverse, weight = distinct_points(xy[located], snap_m=snap_m)
    model = DBSCAN(eps=float(eps_m), min_samples=int(min_samples), algorithm="kd_tree")
    point_labels = model.fit(uniq, sample_weight=weight).labels_
    labels[located] = point_labels[inverse]
    return relabel_by_size(labels)


def hdbscan_labels(
    points: gpd.GeoDataFrame | gpd.GeoSeries | np.ndarray,
    *,
    min_cluster_size: int,
    min_samples: int | None = None,
) -> np.ndarray:
    """HDBSCAN cluster label of every row.

    Parameters
    ----------
    points
        Incident points: a GeoDataFrame (or GeoSeries) in EPSG:27700 or an ``(n, 2)``
        array of BNG metres.
    min_cluster_size
        Smallest number of rows that counts as a cluster.
    min_samples
        Rows in a neighbourhood for a core point; None uses ``min_cluster_size``
        (scikit-learn's default).

    Returns
    -------
    numpy.ndarray
        One integer per row, same conventions as :func:`dbscan_labels`: clusters
        ``0, 1, ...`` by size, ``-1`` noise, ``-2`` no location.

    Raises
    ------
    InputError
        If the frame is not in BNG or the parameters are not whole numbers >= 2.

    Notes
    -----
    :class:`sklearn.cluster.HDBSCAN` has no ``sample_weight`` (its ``fit`` takes only
    ``X``), and weighting would change the density estimate anyway, so this runs on
    every located row: rows sharing a map point enter as repeats of that point, which
    is the same as the distinct points with repeats. Memory and time grow with the
    number of rows (fine for a borough over a year, tens of thousands of rows).

    HDBSCAN on rows can split identical rows: ties in the minimum spanning tree let
    some rows of a map point leave a cluster as noise (or join a neighbouring
    cluster) while the others stay. On Eastleigh ASB, February-May 2017, one to three
    of the 505 points were split this way depending on the parameters, two of them
    between two clusters. Rows on one point are indistinguishable, so each point takes
    the label most of its rows received (ties: a cluster before noise, then the
    lower-numbered cluster), and all its rows carry it.
    """
    for value, name in ((min_cluster_size, "min_cluster_size"), (min_samples, "min_samples")):
        if value is not None and (int(value) != value or value < 2):
            msg = f"{name} must be a whole number >= 2, got {value!r}."
            raise InputError(msg)
    xy = _xy_of(points, "points")
    located = np.isfinite(xy).all(axis=1)
    labels = np.full(len(xy), NO_LOCATION, dtype=np.intp)
    n = int(located.sum())
    if n == 0:
        return labels
    if n < min_cluster_size:
        labels[located] = NOISE
        return labels
    model = HDBSCAN(
        min_cluster_size=int(min_cluster_size),
        min_samples=None if min_samples is None else int(min_samples),
        copy=True,
    )
    row_labels = model.fit(xy[located]).labels_
    # Identical rows can come out with different labels (see notes): give every row
    # of a map point the label most of that point's rows received.
    _, inverse, _ = distinct_points(xy[located])
    keys, counts = np.unique(np.column_stack([inverse, row_labels]), axis=0, return_counts=True)
    # per point: most rows first, then a cluster before noise, then the lower label
    order = np.lexsort((keys[:, 1], keys[:, 1] < 0, -counts, keys[:, 0]))
    keys = keys[order]
    first = np.r_[True, keys[1:, 0] != keys[:-1, 0]]
    point_label = np.empty(int(inverse.max()) + 1, dtype=np.intp)
    point_label[keys[first, 0]] = keys[first, 1]
    labels[located] = point_label[inverse]
    return relabel_by_size(labels)


def cluster_outlines(
    points: gpd.GeoDataFrame | gpd.GeoSeries | np.ndarray,
    labels: np.ndarray | Sequence[int],
    *,
    ratio: float = 0.3,
    min_buffer_m: float = 25.0,
) -> gpd.GeoDataFrame:
    """One polygon per cluster, hugging its distinct points.

    Parameters
    ----------
    points
        The points that were clustered (GeoDataFrame in EPSG:27700 or ``(n, 2)`` array).
    labels
        One label per row of ``points`` (from :func:`dbscan_labels` or
        :func:`hdbscan_labels`); negative labels are left out.
    ratio
        :func:`shapely.concave_hull` ratio, 0 to 1: 1 gives the convex hull, smaller
        values follow the points more closely (0.3 keeps L-shaped clusters along two
        streets from swallowing the block between them, without cutting thin slivers).
    min_buffer_m
        Every hull is buffered by this many metres, so a cluster on one map point, two
        points or a straight line of points still has an area, and the outline contains
        every point with a margin (police.uk points stand for the nearby addresses).

    Returns
    -------
    geopandas.GeoDataFrame
        In EPSG:27700, one row per cluster in order of cluster number, with columns
        ``cluster``, ``count`` (rows), ``n_points`` (distinct map points), ``area_m2``
        and ``geometry`` (Polygon).

    Raises
    ------
    InputError
        If ``labels`` does not have one entry per row, or the parameters are out of range.
    """
    if not 0.0 <= ratio <= 1.0:
        msg = f"ratio must be between 0 and 1 (shapely.concave_hull), got {ratio!r}."
        raise InputError(msg)
    _check_positive(min_buffer_m, "min_buffer_m")
    xy = _xy_of(points, "points")
    labels = np.asarray(labels)
    if labels.shape != (len(xy),):
        msg = f"labels has shape {labels.shape}; it needs one label per row ({len(xy)} rows)."
        raise InputError(msg)
    rows = []
    for cluster in np.unique(labels[labels >= 0]):
        member = (labels == cluster) & np.isfinite(xy).all(axis=1)
        uniq, _, _ = distinct_points(xy[member])
        hull = shapely.concave_hull(shapely.multipoints(uniq), ratio=ratio)
        outline = shapely.buffer(hull, min_buffer_m)
        rows.append(
            {
                "cluster": int(cluster),
                "count": int(member.sum()),
                "n_points": len(uniq),
                "area_m2": float(outline.area),
                "geometry": outline,
            }
        )
    columns = ["cluster", "count", "n_points", "area_m2", "geometry"]
    frame = pd.DataFrame(rows, columns=columns)
    return gpd.GeoDataFrame(frame, geometry="geometry", crs=BNG)


def _top_locations(names: pd.Series, top: int) -> str:
    """Return the ``top`` most frequent location names with counts, e.g. ``Leigh Road (10)``."""
    names = names.astype("string").str.replace(r"^On or near\s+", "", regex=True)
    counts = names[names.str.len() > 0].value_counts(sort=True)
    return "; ".join(f"{name} ({n})" for name, n in counts.head(top).items())


def dbscan_hotspots(
    points: gpd.GeoDataFrame | gpd.GeoSeries | np.ndarray,
    *,
    eps_m: float = DEFAULT_EPS_M,
    min_samples: int = DEFAULT_MIN_SAMPLES,
    ratio: float = 0.3,
    min_buffer_m: float = 25.0,
    location_col: str = "location",
    top_locations: int = 3,
) -> gpd.GeoDataFrame:
    """DBSCAN hotspots ranked by the number of incidents they hold.

    Parameters
    ----------
    points
        Incident frame in EPSG:27700 (or ``(n, 2)`` array of BNG metres).
    eps_m, min_samples
        DBSCAN parameters (see :func:`dbscan_labels`). The defaults (150 m, 10 rows)
        suit four months of borough-wide police.uk ASB; see :data:`DEFAULT_EPS_M`.
    ratio, min_buffer_m
        Outline parameters (see :func:`cluster_outlines`).
    location_col
        Column with street names (police.uk "Location", e.g. "On or near Market
        Street"); used for ``top_locations`` when the frame has it.
    top_locations
        How many street names to list per hotspot.

    Returns
    -------
    geopandas.GeoDataFrame
        In EPSG:27700, one row per cluster, sorted by ``count`` descending, with columns
        ``rank`` (1 = most incidents), ``cluster``, ``count``, ``share`` (of located
        rows), ``n_points``, ``area_m2``, ``top_locations`` (e.g. "Leigh Road (10);
        Mitchell Road (12)", "On or near" dropped; empty without ``location_col``) and
        ``geometry``.
    """
    labels = dbscan_labels(points, eps_m=eps_m, min_samples=min_samples)
    outlines = cluster_outlines(points, labels, ratio=ratio, min_buffer_m=min_buffer_m)
    n_located = int((labels != NO_LOCATION).sum())
    outlines = outlines.sort_values(["count", "cluster"], ascending=[False, True])
    outlines = outlines.reset_index(drop=True)
    outlines.insert(0, "rank", np.arange(1, len(outlines) + 1))
    outlines.insert(3, "share", outlines["count"] / n_located if n_located else np.nan)
    if isinstance(points, gpd.GeoDataFrame) and location_col in points.columns:
        names = points[location_col].reset_index(drop=True)
        tops = [_top_locations(names[labels == c], top_locations) for c in outlines["cluster"]]
    else:
        tops = [""] * len(outlines)
    outlines.insert(6, "top_locations", pd.Series(tops, dtype=object))
    return outlines
