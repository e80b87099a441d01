"""Naming hotspots and places after a gazetteer of the names people use.

:func:`name_for` names one area or point; :func:`names_for` every geometry of a frame,
vectorised over the places.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo.crs import require_bng
from geo.errors import InputError
from geo.places import KIND_PRIORITY

__all__ = ["name_for", "names_for"]


def name_for(geometry: shapely.Geometry, gazetteer: gpd.GeoDataFrame) -> str:
    """Name an area or a point after the gazetteer.

    Rules, in order:

    1. If the geometry (an area or line) contains or touches gazetteer points, the
       most specific kind wins (:data:`geo.places.KIND_PRIORITY`: a town centre beats a station
       a few hundred metres away), then the nearest to the geometry's
       representative point.
    2. Otherwise the nearest place whose ``radius_m`` reaches the representative point.
    3. Otherwise ``"near <nearest place>"``.

    Parameters
    ----------
    geometry
        A shapely geometry in British National Grid metres.
    gazetteer
        As returned by :func:`geo.places.load_gazetteer` (EPSG:27700).

    Returns
    -------
    str
        The place name, or ``"near <name>"`` when no place reaches the geometry.

    Raises
    ------
    InputError
        If the gazetteer is empty or not in British National Grid, or the geometry
        is missing or empty.
    """
    if geometry is None or geometry.is_empty:
        msg = "name_for: the geometry is missing or empty; nothing to name."
        raise InputError(msg)
    return _names(np.array([geometry], dtype=object), gazetteer)[0]


def _names(geoms: np.ndarray, gazetteer: gpd.GeoDataFrame) -> list[str]:
    """The rules of :func:`name_for` for an array of geometries, vectorised over places."""
    require_bng(gazetteer, "gazetteer")
    if gazetteer.empty:
        msg = "gazetteer: no places; load data/places/gazetteer.csv with load_gazetteer()."
        raise InputError(msg)
    if len(geoms) == 0:
        return []
    if any(g is None or g.is_empty for g in geoms):
        msg = "name_for: a geometry is missing or empty; nothing to name."
        raise InputError(msg)
    reps = shapely.point_on_surface(geoms)
    rx, ry = shapely.get_x(reps), shapely.get_y(reps)
    lonlat = (np.abs(rx) <= 180) & (np.abs(ry) <= 90)
    if lonlat.any():
        at = int(np.argmax(lonlat))
        msg = (
            f"name_for: the geometry's point ({rx[at]:.5f}, {ry[at]:.5f}) looks like lon/lat; "
            "project it to British National Grid first (geo.crs.to_bng)."
        )
        raise InputError(msg)
    places = gazetteer.geometry.to_numpy()
    names = gazetteer["name"].astype(str).to_numpy()
    name_rank = np.argsort(np.argsort(names, kind="stable"), kind="stable")
    kind_rank = gazetteer["kind"].map({k: i for i, k in enumerate(KIND_PRIORITY)}).to_numpy()
    dist = shapely.distance(reps[:, None], places[None, :])
    areal = ~np.isin(shapely.get_type_id(geoms), (0, 4))  # not Point / MultiPoint
    touched = shapely.intersects(geoms[:, None], places[None, :]) & areal[:, None]
    reach = dist <= gazetteer["radius_m"].to_numpy(float)[None, :]
    out = []
    for i in range(len(geoms)):
        if touched[i].any():
            cand = np.flatnonzero(touched[i])
            best = cand[np.lexsort((name_rank[cand], dist[i, cand], kind_rank[cand]))[0]]
            out.append(str(names[best]))
            continue
        cand = np.flatnonzero(reach[i]) if reach[i].any() else np.arange(len(names))
        best = cand[np.lexsort((name_rank[cand], dist[i, cand]))[0]]
        out.append(str(names[best]) if reach[i].any() else "near " + str(names[best]))
    return out


def names_for(
    geometries: gpd.GeoSeries | gpd.GeoDataFrame, gazetteer: gpd.GeoDataFrame
) -> pd.Series:
    """Name every geometry of a frame with :func:`name_for`.

    Parameters
    ----------
    geometries
        Areas or points in EPSG:27700.
    gazetteer
        As returned by :func:`geo.places.load_gazetteer`.

    Returns
    -------
    pandas.Series
        One name per geometry, on the input's index.

    Raises
    ------
    InputError
        If either input is not in British National Grid.
    """
    require_bng(geometries, "geometries")
    geoms = geometries.geometry if isinstance(geometries, gpd.GeoDataFrame) else geometries
    names = _names(np.asarray(geoms.to_numpy(), dtype=object), gazetteer)
    return pd.Series(names, index=geoms.index, dtype=object)
