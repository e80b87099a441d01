"""Incident points clustered in Python, one British National Grid cell grid per zoom.

:func:`add_points` aggregates the incidents on square cells about ``cluster_px`` screen
pixels wide at each zoom (:func:`cluster_cell_sizes`) and draws numbered bubbles; from
``detail_zoom`` on it draws the distinct map points, up to ``max_points``, and aggregates
the rest.

``leaflet.markercluster`` is available offline: the PyPI package
``xstatic-leaflet-markercluster`` (1.4.1.1) ships its script and style sheets
(``leaflet.markercluster.js``, 33.7 kB; ``MarkerCluster.css`` and
``MarkerCluster.Default.css``), which could be inlined as ``data:`` URIs for folium's
``FastMarkerCluster``. It was measured against this module on the shipped data (4,370
incidents at 1,124 distinct points, borough and ward outlines; median of 3):

==================================  ============  ==========  ===============
map page                            build (s)     page (kB)   browser load (ms)
==================================  ============  ==========  ===============
this module (grid bubbles)          2.04          920         455
FastMarkerCluster, one per incident 0.12          701         329
==================================  ============  ==========  ===============

(The page without points is 285 kB.) With the shipped incidents repeated ten times and
jittered by 60 m (43,700 incidents at as many points) this module took 48.7 s and wrote
1.93 MB (``max_points`` bounds it); FastMarkerCluster took 1.3 s and wrote 4.0 MB (one
marker per incident, growing with the data). ``leaflet.markercluster`` is faster to
build, but it is kept out for what it would change: it clusters by screen distance in
the browser, so the bubbles, their positions and counts differ from this module's fixed
British National Grid cells; its bubbles carry only a count (no popup with the main
crime types and cell size); the point popups grouped by distinct map point, the count
tiers and the page-size bound of ``max_points`` would go; and the map would need one
more inlined script. This module's build time is spent in per-cell pandas ``apply``
calls and could be cut without changing what it draws.
"""

from __future__ import annotations

import math

import folium
import geopandas as gpd
import numpy as np
import pandas as pd

from geo.crs import BNG, require_bng
from geo.errors import InputError
from render.elements import Bubbles, ZoomLevels, geojson_features, layer_group, to_latlon
from render.html import esc, fmt_number, popup_table

__all__ = ["add_points", "cluster_cell_sizes", "point_xy"]


def point_xy(points: pd.DataFrame, what: str) -> pd.DataFrame:
    """Return the points as a frame with float columns ``x``, ``y`` (metres).

    Parameters
    ----------
    points
        A GeoDataFrame of points in EPSG:27700, or a DataFrame with ``x``, ``y``.
    what
        Its name in error messages.

    Returns
    -------
    pandas.DataFrame
        ``x``, ``y`` and the other columns; rows without a position are dropped.

    Raises
    ------
    InputError
        If the frame has neither point geometry nor ``x`` and ``y``, or is not in
        EPSG:27700.
    """
    if isinstance(points, gpd.GeoDataFrame) and points.geometry.name in points.columns:
        require_bng(points, what)
        geom = points.geometry
        has = geom.notna() & ~geom.is_empty
        xs = np.full(len(points), np.nan)
        ys = np.full(len(points), np.nan)
        xs[has.to_numpy()] = geom[has].x.to_numpy()
        ys[has.to_numpy()] = geom[has].y.to_numpy()
        frame = pd.DataFrame(points.drop(columns=points.geometry.name))
        frame["x"], frame["y"] = xs, ys
    elif {"x", "y"} <= set(points.columns):
        frame = pd.DataFrame(points).copy()
        frame["x"] = pd.to_numeric(frame["x"], errors="coerce")
        frame["y"] = pd.to_numeric(frame["y"], errors="coerce")
    else:
        msg = (
            f"{what}: needs point geometry (EPSG:27700) or columns 'x', 'y' in metres; "
            f"found {list(points.columns)}."
        )
        raise InputError(msg)
    return frame[np.isfinite(frame["x"]) & np.isfinite(frame["y"])].reset_index(drop=True)


def _top_values(series: pd.Series, n: int = 3) -> str:
    counts = series.dropna().astype(str).value_counts()
    counts = counts[counts.index != ""]
    return "; ".join(f"{name} {int(c)}" for name, c in counts.head(n).items())


def _month_span(series: pd.Series) -> str:
    months = sorted({str(v) for v in series.dropna() if str(v)})
    if not months:
        return ""
    return months[0] if len(months) == 1 else f"{months[0]} to {months[-1]}"


def _bubble_size(count: int) -> int:
    return int(min(24 + 10 * math.log10(max(count, 1)), 46))


def _bubble_tier(count: int, *, muted: bool) -> str:
    if muted:
        return "m"
    return "s" if count < 10 else "l" if count >= 100 else "n"


def _add_cells(
    parent: folium.FeatureGroup, frame: pd.DataFrame, cell_m: float, *, muted: bool, what: str
) -> None:
    """Aggregate points into square cells and draw one numbered bubble per cell."""
    if frame.empty:
        return
    cells = frame.assign(
        ix=np.floor(frame["x"] / cell_m).astype(int), iy=np.floor(frame["y"] / cell_m).astype(int)
    )
    agg = cells.groupby(["ix", "iy"], sort=True).agg(
        n=("x", "size"), x=("x", "mean"), y=("y", "mean")
    )
    types = (
        cells.groupby(["ix", "iy"])["crime_type"].apply(_top_values)
        if "crime_type" in cells.columns
        else None
    )
    pts = gpd.GeoSeries(gpd.points_from_xy(agg["x"], agg["y"]), crs=BNG)
    rows_out = []
    for (key, row), (lat, lon) in zip(agg.iterrows(), to_latlon(pts), strict=True):
        count = int(row["n"])
        rows: list[tuple[str, object]] = [
            ("Incidents", f"{count:,}"),
            ("Cell", f"{fmt_number(cell_m)} m square"),
        ]
        if types is not None:
            rows.append(("Main types", types.get(key, "")))
        text = f"{count / 1000:.1f}k" if count >= 10_000 else f"{count:,}"
        rows_out.append(
            [
                lat,
                lon,
                _bubble_size(count),
                _bubble_tier(count, muted=muted),
                text,
                popup_table(rows, title=what),
            ]
        )
    Bubbles(rows_out).add_to(parent)


def _metres_per_pixel(zoom: int, lat: float) -> float:
    """Ground metres per screen pixel of Web Mercator tiles at ``zoom`` and ``lat``."""
    return 2 * math.pi * 6_378_137.0 * math.cos(math.radians(lat)) / (256 * 2**zoom)


def cluster_cell_sizes(
    lat: float, *, cluster_px: int = 60, min_zoom: int = 10, detail_zoom: int = 15
) -> dict[int, float]:
    """Cell size (metres) of the point grid used at each zoom below ``detail_zoom``.

    A cell spans about ``cluster_px`` screen pixels at its zoom (as
    ``leaflet.markercluster``'s radius does), rounded to 10 m.

    Parameters
    ----------
    lat
        Latitude of the map's centre, degrees.
    cluster_px
        Width of a cell on screen, pixels.
    min_zoom
        Coarsest zoom with its own grid (zooms below use the same one).
    detail_zoom
        First zoom at which points are drawn one by one.

    Returns
    -------
    dict
        ``{zoom: cell_m}`` for ``min_zoom <= zoom < detail_zoom``, plus ``detail_zoom``
        itself (the grid for points beyond ``max_points``).

    Examples
    --------
    >>> cluster_cell_sizes(51.0, detail_zoom=15)
    {10: 5770.0, 11: 2890.0, 12: 1440.0, 13: 720.0, 14: 360.0, 15: 180.0}
    """
    return {
        z: float(max(10.0, round(cluster_px * _metres_per_pixel(z, lat) / 10.0) * 10.0))
        for z in range(min_zoom, detail_zoom + 1)
    }


def _mode(series: pd.Series) -> str:
    counts = series.dropna().astype(str).value_counts()
    counts = counts[counts.index != ""]
    return str(counts.index[0]) if len(counts) else ""


def add_points(
    m: folium.Map,
    points: pd.DataFrame,
    *,
    max_points: int,
    cluster_px: int,
    detail_zoom: int,
    lat: float,
) -> None:
    """Draw incident points: grid bubbles per zoom band, distinct points from ``detail_zoom``.

    Parameters
    ----------
    m
        The map.
    points
        Incident points (see :func:`point_xy`); optional ``crime_type``, ``month``,
        ``location`` fill the popups.
    max_points
        Most distinct points drawn one by one; the rest are aggregated into bubbles.
    cluster_px
        Screen width of a grid cell at its zoom (:func:`cluster_cell_sizes`).
    detail_zoom
        First zoom at which points are drawn one by one.
    lat
        Latitude of the map's centre (sets the cell sizes).

    Raises
    ------
    InputError
        If ``points`` has no positions (see :func:`point_xy`).
    """
    frame = point_xy(points, "layers.points")
    group = layer_group(m, "points")
    sizes = cluster_cell_sizes(lat, cluster_px=cluster_px, detail_zoom=detail_zoom)
    levels: list[tuple[int, folium.FeatureGroup]] = []
    for zoom, cell_m in sizes.items():
        if zoom == detail_zoom:
            continue
        layer = folium.FeatureGroup(name=f"Incidents z{zoom}", control=False).add_to(group)
        _add_cells(layer, frame, cell_m, muted=False, what="Incidents in this area")
        levels.append((zoom, layer))
    fine = folium.FeatureGroup(name="Incidents (points)", control=False).add_to(group)
    levels.append((detail_zoom, fine))
    ZoomLevels(group, levels).add_to(m)
    if frame.empty:
        return

    key = frame.assign(kx=frame["x"].round(1), ky=frame["y"].round(1))
    grouped = key.groupby(["kx", "ky"], sort=True)
    distinct = grouped.size().rename("n").reset_index()
    distinct = distinct.sort_values(
        ["n", "kx", "ky"], ascending=[False, True, True], kind="mergesort"
    )
    shown = distinct.head(max_points)
    rest_keys = distinct.iloc[max_points:]
    details: dict[str, pd.Series] = {}
    for col, fn in (("location", _mode), ("crime_type", _top_values), ("month", _month_span)):
        if col in key.columns:
            details[col] = grouped[col].apply(fn)
    props = []
    for _, row in shown.iterrows():
        k = (row["kx"], row["ky"])
        n = int(row["n"])
        prop: dict[str, object] = {"count": f"{n:,}"}
        for col, out in (("location", "location"), ("crime_type", "types"), ("month", "months")):
            prop[out] = (esc(details[col].get(k, "")) if col in details else "") or "\u2013"
        prop["radius"] = round(min(3.0 + 2.0 * math.sqrt(n), 14.0), 1)
        props.append(prop)
    pts = gpd.GeoDataFrame(geometry=gpd.points_from_xy(shown["kx"], shown["ky"]), crs=BNG)
    folium.GeoJson(
        geojson_features(pts, props),
        marker=folium.CircleMarker(
            radius=4, color="#7a0177", weight=1, fill=True, fill_color="#c51b8a", fill_opacity=0.75
        ),
        style_function=lambda f: {"radius": f["properties"]["radius"]},
        tooltip=folium.GeoJsonTooltip(
            fields=["location", "count"], aliases=["", "Incidents"], labels=False
        ),
        popup=folium.GeoJsonPopup(
            fields=["location", "count", "types", "months"],
            aliases=["Location", "Incidents", "Types", "Months"],
        ),
    ).add_to(fine)
    if not rest_keys.empty:
        rest = key.merge(rest_keys[["kx", "ky"]], on=["kx", "ky"], how="inner")
        _add_cells(
            fine,
            rest,
            sizes[detail_zoom],
            muted=True,
            what=f"Incidents at points beyond the first {max_points:,}",
        )
