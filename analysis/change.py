"""How hotspots changed between two periods, for the monthly Tasking review.

Hotspots found in the earlier and the later period are matched by overlap. Every
later hotspot is *new* (it overlaps no earlier one) or, comparing the incidents inside
the matched area in the two periods with the exact conditional Poisson test,
*intensifying*, *diminishing* or *persistent* (no change beyond noise). Earlier
hotspots that overlap no later one are *gone*.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from scipy import stats

from geo.crs import require_bng

__all__ = ["STATUSES", "classify_change", "count_inside"]

STATUSES = ("new", "intensifying", "persistent", "diminishing", "gone")


def count_inside(geom: shapely.Geometry, incidents: gpd.GeoDataFrame) -> int:
    """Incidents with a location inside (or on the edge of) ``geom``."""
    located = incidents[incidents["has_location"].to_numpy(bool)]
    if located.empty:
        return 0
    return int(shapely.intersects(geom, located.geometry.to_numpy()).sum())


def classify_change(
    before: gpd.GeoDataFrame,
    after: gpd.GeoDataFrame,
    incidents_before: gpd.GeoDataFrame,
    incidents_after: gpd.GeoDataFrame,
    *,
    months_before: int,
    months_after: int,
    alpha: float = 0.05,
    top_n: int | None = 20,
) -> gpd.GeoDataFrame:
    """Class each hotspot as new, intensifying, persistent, diminishing or gone.

    Parameters
    ----------
    before, after
        Hotspot polygons of the two periods (EPSG:27700), with ``name`` if described.
    incidents_before, incidents_after
        The incidents of each period.
    months_before, months_after
        Period lengths, so that unequal periods are compared fairly.
    alpha
        Significance level of the change test.
    top_n
        Compare only the ``top_n`` highest-ranked hotspots of each period (by their
        ``rank`` column, when present): the hotspots a Tasking meeting works from.
        A long tail of one- and two-incident patches would otherwise turn over every
        month by chance and swamp the classes. None compares every hotspot.

    Returns
    -------
    geopandas.GeoDataFrame
        One row per later hotspot plus one per gone earlier hotspot: ``status``,
        ``name``, ``count_before``, ``count_after`` (both counted over the later hotspot
        together with the earlier ones it overlaps), ``change_pct``, ``p_value`` and
        the polygon (the later one; the earlier one for *gone*).
    """
    for frame, what in (
        (before, "earlier hotspots"),
        (after, "later hotspots"),
        (incidents_before, "earlier incidents"),
        (incidents_after, "later incidents"),
    ):
        require_bng(frame, what)
    if top_n is not None:
        before = before[before["rank"] <= top_n] if "rank" in before.columns else before
        after = after[after["rank"] <= top_n] if "rank" in after.columns else after
    p_after = months_after / (months_before + months_after)
    b_geoms = before.geometry.to_numpy()
    tree = shapely.STRtree(b_geoms)
    matched_before: set[int] = set()
    rows = []
    for i, geom in enumerate(after.geometry.to_numpy()):
        overlaps = tree.query(geom, predicate="intersects")
        n_after = count_inside(geom, incidents_after)
        area = geom
        if len(overlaps):
            matched_before.update(int(j) for j in overlaps)
            area = shapely.union_all([geom, *b_geoms[overlaps]])
        n_before = count_inside(area, incidents_before)
        n_after_area = count_inside(area, incidents_after)
        p = _pvalue(n_before, n_after_area, p_after)
        if not len(overlaps):
            status = "new"
        elif p < alpha:
            status = (
                "intensifying"
                if n_after_area / p_after > n_before / (1 - p_after)
                else ("diminishing")
            )
        else:
            status = "persistent"
        # Both counts cover the same ground (this hotspot and the earlier ones it
        # overlaps), so the change compares like with like.
        rows.append(
            {
                "status": status,
                "name": _name(after, i),
                "count_before": n_before,
                "count_after": n_after_area if len(overlaps) else n_after,
                "p_value": p,
                "geometry": geom,
            }
        )
    for j, geom in enumerate(b_geoms):
        if j in matched_before:
            continue
        n_before = count_inside(geom, incidents_before)
        n_after = count_inside(geom, incidents_after)
        rows.append(
            {
                "status": "gone",
                "name": _name(before, j),
                "count_before": n_before,
                "count_after": n_after,
                "p_value": _pvalue(n_before, n_after, p_after),
                "geometry": geom,
            }
        )
    out = gpd.GeoDataFrame(rows, geometry="geometry", crs=after.crs if len(after) else before.crs)
    if out.empty:
        return gpd.GeoDataFrame(
            columns=[
                "status",
                "name",
                "count_before",
                "count_after",
                "change_pct",
                "p_value",
                "geometry",
            ],
            geometry="geometry",
            crs=before.crs,
        )
    rate_before = out["count_before"] / months_before
    rate_after = out["count_after"] / months_after
    out["change_pct"] = np.where(
        rate_before > 0, (rate_after - rate_before) / rate_before * 100, np.nan
    )
    order = {s: k for k, s in enumerate(STATUSES)}
    out["_o"] = out["status"].map(order)
    out = out.sort_values(["_o", "count_after"], ascending=[True, False]).drop(columns="_o")
    return out[
        ["status", "name", "count_before", "count_after", "change_pct", "p_value", "geometry"]
    ].reset_index(drop=True)


def _pvalue(n_before: int, n_after: int, p_after: float) -> float:
    n = n_before + n_after
    return float(stats.binomtest(n_after, n, p_after).pvalue) if n else 1.0


def _name(frame: pd.DataFrame, i: int) -> str:
    return str(frame["name"].iloc[i]) if "name" in frame.columns else ""
