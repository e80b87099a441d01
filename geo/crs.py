"""Coordinate reference systems: everything analytical runs in British National Grid."""

from __future__ import annotations

from functools import cache

import geopandas as gpd
from pyproj import Transformer

from geo.errors import InputError

__all__ = [
    "BNG",
    "GB_BOUNDS_BNG",
    "GB_BOUNDS_LONLAT",
    "WEB_MERCATOR",
    "WGS84",
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
    return gdf.to_crs(BNG)


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
    return Transformer.from_crs(source, target, always_xy=True)
