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

__all__ = ["reference_hotspots"]


def reference_hotspots(
    incidents: gpd.GeoDataFrame,
    detected: gpd.GeoDataFrame,
    *,
    gazetteer: gpd.GeoDataFrame | None,
    review_hotspots: dict[str, str],
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
        Named places (EPSG:27700); None where the area has none (nothing to check).
    review_hotspots
        The review's wording of each named hotspot mapped to the gazetteer place it
        refers to (a study area's :attr:`geo.study_area.StudyArea.review_hotspots`).
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
    rows = []
    places = gazetteer.set_index("name") if gazetteer is not None else None
    total = max(len(incidents), 1)
    for review_name, place in review_hotspots.items():
        if places is None or place not in places.index:
            continue
        pt = places.geometry[place]
        r = float(radius_m if radius_m is not None else places["radius_m"][place])
        reach = pt.buffer(r)
        n = count_inside(reach, incidents)
        top = detected[detected["rank"] <= top_n] if len(detected) else detected
        over = top[top.intersects(reach)] if len(top) else top
        listed = (
            ", ".join(f"#{int(k.rank)} {k.name}" for k in over.itertuples()) if len(over) else ""
        )
        agrees = len(over) > 0
        if agrees:
            verdict = (
                f"the data agrees: {n} incidents within {r:.0f} m; detected hotspot(s) {listed}"
            )
        else:
            verdict = (
                f"the data does not show a hotspot here: {n} incidents within {r:.0f} m "
                f"and none of the top {top_n} detected hotspots overlaps"
            )
        rows.append(
            {
                "review_name": review_name,
                "place": place,
                "radius_m": r,
                "incidents_within": n,
                "share": n / total,
                "overlapping": listed,
                "agrees": agrees,
                "verdict": verdict,
                "geometry": reach,
            }
        )
    columns = [
        "review_name",
        "place",
        "radius_m",
        "incidents_within",
        "share",
        "overlapping",
        "agrees",
        "verdict",
        "geometry",
    ]
    return gpd.GeoDataFrame(
        pd.DataFrame(rows, columns=columns), geometry="geometry", crs=incidents.crs
    )
