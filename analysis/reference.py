"""The review's named hotspots as a reference layer.

The 2021/22 strategic review names three hotspots by judgement: Hamble including the
foreshore, Eastleigh town centre and Hedge End town centre. For each, this reports
what the loaded data shows there (incidents within reach of the named place) and
whether a detected hotspot overlaps it, so users see where the data agrees with the
review and where it does not. Nothing is invented: a place with few incidents is
reported as such.
"""

from __future__ import annotations

import geopandas as gpd
import pandas as pd

from analysis.change import count_inside
from geo.crs import require_bng

__all__ = ["REVIEW_HOTSPOTS", "reference_hotspots"]

REVIEW_HOTSPOTS = {
    "Hamble including the foreshore": "Hamble foreshore",
    "Eastleigh town centre": "Eastleigh town centre",
    "Hedge End town centre": "Hedge End town centre",
}
"""The review's wording mapped to the gazetteer place it refers to."""


def reference_hotspots(
    incidents: gpd.GeoDataFrame,
    detected: gpd.GeoDataFrame,
    *,
    gazetteer: gpd.GeoDataFrame | None = None,
    radius_m: float | None = None,
    top_n: int = 10,
) -> gpd.GeoDataFrame:
    """What the data shows at each of the review's named hotspots.

    Parameters
    ----------
    incidents
        The incidents analysed (EPSG:27700).
    detected
        Detected hotspot polygons (:func:`analysis.describe.describe_hotspots`).
    gazetteer
        Named places; the shipped one by default.
    radius_m
        Reach around each place; the place's own ``radius_m`` by default.
    top_n
        Only the ``top_n`` highest-ranked hotspots count as agreeing with the review
        (a patrol plan covers the first few; a tail of one- or two-incident patches is
        not a hotspot in the review's sense).

    Returns
    -------
    geopandas.GeoDataFrame
        One row per named hotspot: ``review_name``, ``place``, ``radius_m``,
        ``incidents_within``, ``share``, ``overlapping`` (ranks and names of detected
        hotspots overlapping the reach), ``agrees`` (bool) and ``verdict``; the
        geometry is the reach circle.
    """
    require_bng(incidents, "incidents")
    if gazetteer is None:
        from geo.places import load_gazetteer  # noqa: PLC0415

        gazetteer = load_gazetteer()
    places = gazetteer.set_index("name")
    rows = []
    total = max(len(incidents), 1)
    for review_name, place in REVIEW_HOTSPOTS.items():
        if place not in places.index:
            continue
        pt = places.geometry[place]
        r = float(radius_m if radius_m is not None else places["radius_m"][place])
        reach = pt.buffer(r)
        n = count_inside(reach, incidents)
        top = detected[detected["rank"] <= top_n] if len(detected) else detected
        over = top[top.intersects(reach)] if len(top) else top
        listed = ", ".join(f"#{int(k.rank)} {k.name}" for k in over.itertuples()) if len(over) else ""
        agrees = len(over) > 0
        if agrees:
            verdict = f"the data agrees: {n} incidents within {r:.0f} m; detected hotspot(s) {listed}"
        else:
            verdict = (f"the data does not show a hotspot here: {n} incidents within {r:.0f} m "
                       f"and none of the top {top_n} detected hotspots overlaps")
        rows.append({"review_name": review_name, "place": place, "radius_m": r,
                     "incidents_within": n, "share": n / total, "overlapping": listed,
                     "agrees": agrees, "verdict": verdict, "geometry": reach})
    return gpd.GeoDataFrame(pd.DataFrame(rows), geometry="geometry", crs=incidents.crs)
