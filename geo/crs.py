"""Coordinate reference systems: everything analytical runs in British National Grid."""

from __future__ import annotations

import warnings
from functools import cache

import geopandas as gpd
import numpy as np
import shapely
from pyproj import Transformer
from pyproj.transformer import TransformerGroup

from geo.errors import InputError

__all__ = [
    "BNG",
    "GB_BOUNDS_BNG",
    "GB_BOUNDS_LONLAT",
    "WEB_MERCATOR",
    "WGS84",
    "reproject",
    "require_bng",
    "to_bng",
    "transformer",
]

BNG = "EPSG:27700"
"""British National Grid, metres. All analysis runs in this CRS."""

WGS84 = "EPSG:4326"
"""Longitude/latitude, used by police.uk files and by web maps."""

WEB_MERCATOR = "EPSG:3857"
"""Web Mercator, the projection of web map tiles (and of Leaflet's image overlays)."""

GB_BOUNDS_LONLAT = (-8.65, 49.85, 1.78, 60.86)
"""(min lon, min lat, max lon, max lat) of Great Britain and its islands."""

GB_BOUNDS_BNG = (0.0, 0.0, 700_000.0, 1_300_000.0)
"""(min x, min y, max x, max y) of the National Grid's extent, metres."""


def to_bng(gdf: gpd.GeoDataFrame, *, name: str = "data") -> gpd.GeoDataFrame:
    """Project a frame to British National Grid.

    Parameters
    ----------
    gdf
        Frame with a CRS set.
    name
        What to call the frame in an error message (usually its file name).

    Returns
    -------
    geopandas.GeoDataFrame
        The frame in EPSG:27700 (the same object if it already was).

    Raises
    ------
    InputError
        If the frame has no CRS: the CRS is never guessed.
    """
    if gdf.crs is None:
        msg = (
            f"{name}: no coordinate reference system is set, so its coordinates cannot be "
            "placed on the map. Save it with its CRS (a .prj beside a Shapefile, or re-export "
            "as GeoPackage) or set it in your GIS before loading."
        )
        raise InputError(msg)
    if gdf.crs.equals(BNG):
        return gdf
    return reproject(gdf, BNG)


def require_bng(gdf: gpd.GeoDataFrame, what: str = "input") -> None:
    """Raise unless ``gdf`` is in British National Grid.

    Parameters
    ----------
    gdf
        Frame to check.
    what
        Name used in the error message.

    Raises
    ------
    InputError
        If the CRS is missing or not EPSG:27700.
    """
    if gdf.crs is None or not gdf.crs.equals(BNG):
        msg = f"{what} must be in British National Grid (EPSG:27700), got {gdf.crs}; call geo.crs.to_bng() first."
        raise InputError(msg)


@cache
def transformer(source: str, target: str) -> Transformer:
    """The one coordinate transformer from ``source`` to ``target`` (x, y order; cached).

    It runs the operation PROJ ranks best of those it can use here (for WGS84 and
    British National Grid the seven-parameter Helmert "OSGB36 to WGS 84 (6)", about 2
    m, as ``Transformer.from_crs`` gives over Great Britain: the OSTN15 grid is not
    installed, and nothing is downloaded). It is built from that operation's PROJ
    pipeline rather than from the two CRSs because pyproj makes a transformer again in
    each thread that uses it, and the app runs every rerun in a new thread: from the
    two CRSs that costs 40-50 ms per pair and thread (PROJ searches its database for the
    operation), from the pipeline under 1 ms.

    Parameters
    ----------
    source, target
        CRS names, e.g. :data:`WGS84` and :data:`BNG`.

    Returns
    -------
    pyproj.Transformer
        Built once per pair and shared by every module.

    Examples
    --------
    >>> x, y = transformer(WGS84, BNG).transform(-1.3591, 50.9697)
    >>> round(x), round(y)
    (445099, 119116)
    >>> transformer(WGS84, BNG) is transformer(WGS84, BNG)
    True
    """
    with warnings.catch_warnings():
        # "Best transformation is not available due to missing Grid": the grid-based
        # operation is listed as unavailable, and the best available one is used.
        warnings.simplefilter("ignore", UserWarning)
        group = TransformerGroup(source, target, always_xy=True)
    if not group.transformers:
        return Transformer.from_crs(source, target, always_xy=True)
    return Transformer.from_pipeline(group.transformers[0].definition)


def reproject(
    frame: gpd.GeoDataFrame | gpd.GeoSeries, crs: str
) -> gpd.GeoDataFrame | gpd.GeoSeries:
    """A frame's geometries in ``crs``, through the shared :func:`transformer`.

    As ``frame.to_crs(crs)`` (the same coordinates), without making a transformer in
    each thread of the app. Coordinates are taken in two dimensions.

    Parameters
    ----------
    frame
        GeoDataFrame or GeoSeries with a CRS.
    crs
        Target CRS name, e.g. :data:`WGS84`.

    Returns
    -------
    geopandas.GeoDataFrame or geopandas.GeoSeries
        A copy in ``crs``.

    Raises
    ------
    InputError
        If the frame has no CRS.

    Examples
    --------
    >>> s = gpd.GeoSeries.from_xy([445099.0], [119116.0], crs=BNG)
    >>> p = reproject(s, WGS84).iloc[0]
    >>> round(p.x, 4), round(p.y, 4), reproject(s, WGS84).crs.to_epsg()
    (-1.3591, 50.9697, 4326)
    """
    if frame.crs is None:
        msg = "The frame has no coordinate reference system, so it cannot be reprojected."
        raise InputError(msg)
    source = frame.crs.to_string()
    if frame.crs.equals(crs):
        return frame.copy()
    run = transformer(source, crs).transform

    def move(xy: np.ndarray) -> np.ndarray:
        return np.column_stack(run(xy[:, 0], xy[:, 1]))

    geoms = shapely.transform(np.asarray(frame.geometry.values), move)
    if isinstance(frame, gpd.GeoSeries):
        return gpd.GeoSeries(geoms, index=frame.index, crs=crs, name=frame.name)
    out = frame.copy()
    return out.set_geometry(gpd.GeoSeries(geoms, index=frame.index, crs=crs), crs=crs)
