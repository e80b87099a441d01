"""The report's static map: hotspots drawn as inline SVG in British National Grid, for print.

:func:`static_map_svg` draws the pack's :class:`packs.BaseMap` (area outlines, the
outline of the study area, place names) with the table's layers (venues and their reach,
the review's named hotspots, emerging hot spot bins in
:data:`render.colours.EMERGING_COLOURS`, hotspot change in
:data:`render.colours.CHANGE_COLOURS`, ranked hotspots), a legend, a scale bar and a north arrow. It reads no file. Every
string from data is escaped here with :func:`render.html.esc`, so the SVG is returned as
:class:`markupsafe.Markup`.
"""

from __future__ import annotations

from collections.abc import Callable

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from markupsafe import Markup

from packs import BaseMap
from render.colours import CHANGE_COLOURS, EMERGING_COLOURS
from render.html import esc

__all__ = ["static_map_svg"]


def _path(geom: shapely.Geometry, tx: Callable[[np.ndarray], np.ndarray]) -> str:
    """SVG path data of a geometry's polygons (other parts are skipped)."""
    parts = []
    polys = getattr(geom, "geoms", [geom])
    for poly in polys:
        if poly.is_empty or poly.geom_type != "Polygon":
            continue
        for ring in [poly.exterior, *poly.interiors]:
            xy = np.asarray(ring.coords)
            px = tx(xy)
            parts.append("M" + "L".join(f"{a:.1f},{b:.1f}" for a, b in px) + "Z")
    return "".join(parts)


def _line_path(geom: shapely.Geometry, tx) -> str:
    """SVG path data of a line or multi-line (no closing)."""
    parts = []
    for line in getattr(geom, "geoms", [geom]):
        if line.is_empty or line.geom_type != "LineString":
            continue
        px = tx(np.asarray(line.coords)[:, :2])
        parts.append("M" + "L".join(f"{a:.1f},{b:.1f}" for a, b in px))
    return "".join(parts)


def static_map_svg(
    layers: dict[str, gpd.GeoDataFrame],
    *,
    basemap: BaseMap,
    width: int = 700,
    label_top: int = 10,
    title: str = "",
) -> Markup:
    """Draw a hotspot map as inline SVG, for print.

    Parameters
    ----------
    layers
        ``hotspots`` (ranked polygons), ``change`` (polygons with ``status``),
        ``emerging`` (bins with ``class``, one of
        :data:`analysis.emerging.EMERGING_CLASSES`; "no pattern detected" and unknown
        classes are not drawn), ``reference`` (the review's named places: reach circles with ``review_name``),
        ``venues`` (points with ``name``, ``status``); all in EPSG:27700.
    basemap
        What the map is drawn on: the outline (its extent sets the view), the areas
        (thin lines) and the place labels, all in EPSG:27700.
    width
        Width in SVG units (it scales to the page).
    label_top
        Hotspots labelled with their rank (the highest ranks).
    title
        Accessible title (escaped).

    Returns
    -------
    markupsafe.Markup
        An ``<svg>`` element (every string from data escaped) drawn in British National Grid, north up, with a legend
        and a scale bar.
    """
    minx, miny, maxx, maxy = basemap.outline.total_bounds
    pad = 400.0
    minx, miny, maxx, maxy = minx - pad, miny - pad, maxx + pad, maxy + pad
    s = width / (maxx - minx)
    height = (maxy - miny) * s

    def tx(xy: np.ndarray) -> np.ndarray:
        return np.column_stack([(xy[:, 0] - minx) * s, (maxy - xy[:, 1]) * s])

    out = [f'<rect width="{width}" height="{height:.0f}" fill="#f6f5f1"/>']
    wards = basemap.areas.copy()
    wards["geometry"] = wards.geometry.simplify(15)
    for g in wards.geometry:
        out.append(f'<path d="{_path(g, tx)}" fill="#ffffff" stroke="#b8bcc2" stroke-width="0.8"/>')
    streets = getattr(basemap, "streets", None)
    if streets is not None and len(streets):
        major = streets["road_class"].isin(["motorway", "a_road", "b_road"]).to_numpy()
        for g, big in zip(streets.geometry.simplify(5), major, strict=True):
            d = _line_path(g, tx)
            if d:
                out.append(
                    f'<path d="{d}" fill="none" stroke="{"#8a6d3b" if big else "#c9c2b3"}" '
                    f'stroke-width="{0.9 if big else 0.45}"/>'
                )
    for g in basemap.outline.geometry.simplify(15):
        out.append(f'<path d="{_path(g, tx)}" fill="none" stroke="#30363d" stroke-width="1.8"/>')
    for _, p in basemap.labels.iterrows():
        x, y = tx(np.array([[p.geometry.x, p.geometry.y]]))[0]
        out.append(
            f'<text x="{x:.1f}" y="{y:.1f}" font-size="11" font-style="italic" '
            f'fill="#6e7781" text-anchor="middle" paint-order="stroke" stroke="#ffffff" '
            f'stroke-width="3">{esc(p["name"])}</text>'
        )
    legend: list[tuple[str, str, str]] = []
    venues = layers.get("venues")
    if venues is not None and len(venues):
        for _, v in venues.iterrows():
            x, y = tx(np.array([[v.geometry.x, v.geometry.y]]))[0]
            planned = str(v.get("status", "")).lower() == "planned"
            colour = "#e08214" if planned else "#1b7837"
            out.append(
                f'<circle cx="{x:.1f}" cy="{y:.1f}" r="{800 * s:.1f}" fill="{colour}" '
                f'fill-opacity="0.08" stroke="{colour}" stroke-width="1" '
                'stroke-dasharray="4 3"/>'
            )
            out.append(
                f'<path d="M{x:.1f},{y - 7:.1f}L{x + 6:.1f},{y + 5:.1f}L{x - 6:.1f},'
                f'{y + 5:.1f}Z" fill="{colour}" stroke="#ffffff" stroke-width="1"/>'
            )
        legend.append(("tri", "#1b7837", "Diversion venue (ring: 800 m)"))
        if (venues.get("status", pd.Series(dtype=str)).astype(str).str.lower() == "planned").any():
            legend.append(("tri", "#e08214", "Planned venue"))
    ref = layers.get("reference")
    if ref is not None and len(ref):
        for _, r in ref.iterrows():
            out.append(
                f'<path d="{_path(r.geometry, tx)}" fill="none" stroke="#0969da" '
                'stroke-width="1.6" stroke-dasharray="5 3"/>'
            )
        legend.append(("ring", "#0969da", "The review's named hotspots"))
    emerging = layers.get("emerging")
    if emerging is not None and len(emerging):
        classes = emerging["class"].astype(str).str.strip().str.lower()
        for klass, colour in EMERGING_COLOURS.items():
            sub = emerging[(classes == klass).to_numpy()]
            if not len(sub):
                continue
            # One path per class: bins that share an edge are filled once, with no seam.
            d = "".join(_path(g, tx) for g in sub.geometry)
            out.append(f'<path d="{d}" fill="{colour}" fill-opacity="0.6" stroke="none"/>')
            n = len(sub)
            legend.append(("box", colour, f"{klass} ({n} bin{'s' * (n != 1)})"))
    change = layers.get("change")
    if change is not None and len(change):
        for status, colour in CHANGE_COLOURS.items():
            sub = change[change["status"] == status]
            for g in sub.geometry:
                out.append(
                    f'<path d="{_path(g, tx)}" fill="{colour}" fill-opacity="0.55" '
                    f'stroke="{colour}" stroke-width="1.4"/>'
                )
            if len(sub):
                legend.append(("box", colour, f"{status} ({len(sub)})"))
    hot = layers.get("hotspots")
    marks = []
    if hot is not None and len(hot):
        for g in hot.geometry:
            out.append(
                f'<path d="{_path(g, tx)}" fill="#d7301f" fill-opacity="0.6" '
                'stroke="#a50f15" stroke-width="1"/>'
            )
        legend.append(("box", "#d7301f", f"Hotspot ({len(hot)})"))
        ranked = hot.sort_values("rank").head(label_top) if "rank" in hot.columns else hot.head(0)
        for _, h in ranked.iterrows():
            pt = h.geometry.representative_point()
            x, y = tx(np.array([[pt.x, pt.y]]))[0]
            marks.append(
                f'<circle cx="{x:.1f}" cy="{y:.1f}" r="8.5" fill="#ffffff" '
                'stroke="#a50f15" stroke-width="1.5"/>'
                f'<text x="{x:.1f}" y="{y + 3.8:.1f}" font-size="10.5" font-weight="700" '
                f'text-anchor="middle" fill="#a50f15">{int(h["rank"])}</text>'
            )
        if marks:
            legend.append(("num", "#a50f15", "Rank (as in the table)"))
    out += marks
    # scale bar and north arrow
    bar_m = 2000.0
    bx, by = 16.0, height - 18
    out.append(
        f'<rect x="{bx}" y="{by - 5}" width="{bar_m * s:.1f}" height="5" fill="#30363d"/>'
        f'<rect x="{bx + bar_m * s / 2:.1f}" y="{by - 5}" width="{bar_m * s / 2:.1f}" '
        'height="5" fill="#ffffff" stroke="#30363d" stroke-width="0.8"/>'
        f'<text x="{bx}" y="{by + 10}" font-size="10.5">0</text>'
        f'<text x="{bx + bar_m * s:.1f}" y="{by + 10}" font-size="10.5" '
        'text-anchor="middle">2 km</text>'
    )
    nx, ny = width - 24.0, 40.0
    out.append(
        f'<path d="M{nx},{ny - 24}L{nx + 7},{ny - 4}L{nx},{ny - 9}L{nx - 7},{ny - 4}Z" '
        f'fill="#30363d"/><text x="{nx}" y="{ny + 9}" font-size="12" font-weight="700" '
        'text-anchor="middle">N</text>'
    )
    if legend:
        lh = 18
        lw = 16 + max(7.0 * len(t) for _, _, t in legend) + 24
        lx, ly = 10.0, 10.0
        out.append(
            f'<rect x="{lx}" y="{ly}" width="{lw:.0f}" height="{lh * len(legend) + 10}" '
            'fill="#ffffff" fill-opacity="0.92" stroke="#d0d7de"/>'
        )
        for i, (kind, colour, text) in enumerate(legend):
            yy = ly + 8 + i * lh
            if kind == "box":
                sym = (
                    f'<rect x="{lx + 8}" y="{yy + 1}" width="14" height="11" fill="{colour}" '
                    f'fill-opacity="0.6" stroke="{colour}"/>'
                )
            elif kind == "ring":
                sym = (
                    f'<circle cx="{lx + 15}" cy="{yy + 6.5}" r="6" fill="none" '
                    f'stroke="{colour}" stroke-width="1.6" stroke-dasharray="3 2"/>'
                )
            elif kind == "tri":
                sym = (
                    f'<path d="M{lx + 15},{yy}L{lx + 21},{yy + 12}L{lx + 9},{yy + 12}Z" '
                    f'fill="{colour}"/>'
                )
            else:
                sym = (
                    f'<circle cx="{lx + 15}" cy="{yy + 6.5}" r="6.5" fill="#ffffff" '
                    f'stroke="{colour}" stroke-width="1.5"/><text x="{lx + 15}" y="{yy + 10}" '
                    f'font-size="9" font-weight="700" text-anchor="middle" fill="{colour}">1'
                    "</text>"
                )
            out.append(
                sym + f'<text x="{lx + 28}" y="{yy + 10.5}" font-size="11.5">{esc(text)}</text>'
            )
    return Markup(  # noqa: S704 - every string from data was escaped above
        f'<svg viewBox="0 0 {width} {height:.0f}" role="img" '
        f'font-family="DejaVu Sans, Arial, sans-serif"><title>{esc(title)}</title>'
        f"{''.join(out)}</svg>"
    )
