"""What every hotspot carries, whatever method found it.

:func:`describe_hotspots` takes hotspot polygons and the incidents they were found
from and adds: rank, incidents inside, share of all, area, density, top streets
(police.uk "Location"), top types, the wards it touches, its peak months (and days
and hours when the data has times) and a name from the gazetteer, so that two methods
agreeing on a place show the same name.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from analysis.naming import names_for
from geo.crs import require_bng

__all__ = ["DESCRIBE_COLUMNS", "GENERIC_LOCATIONS", "describe_hotspots", "top_values"]

DESCRIBE_COLUMNS = [
    "rank",
    "name",
    "method",
    "count",
    "share",
    "area_m2",
    "density_per_km2",
    "top_streets",
    "top_types",
    "wards",
    "peak_months",
    "peak_days",
    "peak_hours",
]

_DAYS = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]
_HOURS = [f"{h:02d}:00-{(h + 1) % 24:02d}:00" for h in range(24)]


def top_values(values: pd.Series, k: int = 3, *, strip: str = "On or near ") -> str:
    """The ``k`` most common values as ``"A (12), B (7)"``; ties broken alphabetically.

    Parameters
    ----------
    values
        Strings (empty strings are ignored).
    k
        How many.
    strip
        Prefix removed from each value (police.uk's "On or near ").

    Returns
    -------
    str
    """
    v = values.astype(str)
    return _top(v[v != ""].str.removeprefix(strip).to_numpy(dtype=object), k)


def _labels(values: pd.Series, strip: str = "") -> np.ndarray:
    """Values as an array of str ("" for missing), ``strip`` removed from the front."""
    v = values.astype(object).where(values.notna(), "").astype(str)
    return v.str.removeprefix(strip).to_numpy(dtype=object) if strip else v.to_numpy(dtype=object)


def _top(values: np.ndarray, k: int) -> str:
    """As :func:`top_values` on an array already stripped: most common first, ties by name."""
    values = values[values != ""]
    if len(values) == 0:
        return ""
    names, counts = np.unique(values.astype(str), return_counts=True)
    best = np.argsort(-counts, kind="stable")[:k]
    return ", ".join(f"{names[j]} ({counts[j]})" for j in best)


def describe_hotspots(
    polygons: gpd.GeoDataFrame,
    incidents: gpd.GeoDataFrame,
    *,
    method: str,
    gazetteer: gpd.GeoDataFrame | None,
    wards: gpd.GeoDataFrame,
    k: int = 3,
) -> gpd.GeoDataFrame:
    """Describe hotspot polygons by the incidents inside them.

    Parameters
    ----------
    polygons
        Hotspot polygons in EPSG:27700 (one row per hotspot).
    incidents
        The incident frame they were found from (rows without a location are not
        inside any hotspot but count in the total for ``share``).
    method
        Label, e.g. ``"kde"``, ``"dbscan"``, ``"gistar"``.
    gazetteer
        Named places (:func:`geo.places.load_gazetteer`); None where the area has
        none: each hotspot is then named after its commonest street and its ward.
    wards
        Ward polygons with ``name`` (EPSG:27700).
    k
        How many streets, types and months to list.

    Returns
    -------
    geopandas.GeoDataFrame
        The polygons, ranked by incidents inside (rank 1 = most), with
        :data:`DESCRIBE_COLUMNS` and ``geometry``.
    """
    require_bng(polygons, "hotspot polygons")
    require_bng(incidents, "incidents")
    total = len(incidents)
    geoms = polygons.geometry.to_numpy()
    located = incidents[incidents["has_location"].to_numpy(bool)]
    pts = located.geometry.to_numpy()
    tree = shapely.STRtree(pts)
    hits = (
        tree.query(geoms, predicate="intersects")
        if len(pts) and len(geoms)
        else (np.empty((2, 0), dtype=int))
    )
    rows = []
    has_time = "datetime" in incidents.columns and incidents["datetime"].notna().any()
    ward_tree = shapely.STRtree(wards.geometry.to_numpy())
    wi, wj = ward_tree.query(geoms, predicate="intersects") if len(geoms) else ([], [])
    ward_names = wards["name"].to_numpy()
    order = np.argsort(hits[0], kind="stable")
    starts = np.searchsorted(hits[0][order], np.arange(len(geoms) + 1))
    # Columns as plain string arrays once; each hotspot then counts its slice (numpy, no pandas).
    streets = _labels(located["location"], strip="On or near ")
    types = _labels(located["crime_type"])
    months = _labels(located["month"])
    days = hours = None
    if has_time:
        dt = pd.to_datetime(located["datetime"])
        # Index 7 / 24 is the label of a row without a time: "" (not counted).
        day = dt.dt.day_of_week.fillna(7).astype(int).to_numpy()
        hour = dt.dt.hour.fillna(24).astype(int).to_numpy()
        days = np.array([*_DAYS, ""], dtype=object)[day]
        hours = np.array([*_HOURS, ""], dtype=object)[hour]
    for i, geom in enumerate(geoms):
        inside = hits[1][order[starts[i] : starts[i + 1]]]
        row = {
            "count": len(inside),
            "share": len(inside) / total if total else 0.0,
            "area_m2": float(geom.area),
            "top_streets": _top(streets[inside], k),
            "top_types": _top(types[inside], k),
            "wards": ", ".join(sorted(ward_names[np.asarray(wj)[np.asarray(wi) == i]])),
            "peak_months": _top(months[inside], k),
            "peak_days": _top(days[inside], k) if days is not None else "",
            "peak_hours": _top(hours[inside], k) if hours is not None else "",
        }
        rows.append(row)
    info = pd.DataFrame(
        rows,
        index=polygons.index,
        columns=[
            "count",
            "share",
            "area_m2",
            "top_streets",
            "top_types",
            "wards",
            "peak_months",
            "peak_days",
            "peak_hours",
        ],
    )
    out = gpd.GeoDataFrame(info, geometry=polygons.geometry, crs=polygons.crs)
    out["density_per_km2"] = out["count"] / (out["area_m2"] / 1e6).where(out["area_m2"] > 0)
    out["method"] = method
    out = out.sort_values(["count", "area_m2"], ascending=[False, True]).reset_index(drop=True)
    out["rank"] = np.arange(1, len(out) + 1)
    out["name"] = _names(out, gazetteer)
    return out[[*DESCRIBE_COLUMNS, "geometry"]]


GENERIC_LOCATIONS = frozenset(
    {
        "Supermarket",
        "Parking Area",
        "Sports/Recreation Area",
        "Petrol Station",
        "Bus/Coach Station",
        "Pedestrian Subway",
        "Further/Higher Educational Building",
        "Police Station",
        "Airport/Airfield",
        "Shopping Area",
        "Nightclub",
        "Hospital",
        "Conference/Exhibition Centre",
        "Theatre/Concert Hall",
        "Train Station",
        "Hotel/Motel",
        "Park/Open Space",
        "Church",
        "Prison",
    }
)
"""police.uk map-point labels that name a kind of place, not a street."""


def _names(described: gpd.GeoDataFrame, gazetteer: gpd.GeoDataFrame | None) -> list[str]:
    """Gazetteer names; where no named place reaches a hotspot, its main street and ward."""
    if gazetteer is None or gazetteer.empty:
        near = ["near the area"] * len(described)
    else:
        near = names_for(described.geometry, gazetteer)
    names = []
    for name, streets, wards in zip(
        near, described["top_streets"], described["wards"], strict=True
    ):
        if name.startswith("near "):
            street = next(
                (
                    s.rsplit(" (", 1)[0]
                    for s in streets.split(", ")
                    if s and s.rsplit(" (", 1)[0] not in GENERIC_LOCATIONS
                ),
                "",
            )
            ward = wards.split(", ")[0] if wards else ""
            if street:
                name = f"{street}, {ward}" if ward else street
            elif gazetteer is None or gazetteer.empty:
                # No street of its own (every point a place type): the place type and ward.
                kind = next((s.rsplit(" (", 1)[0] for s in streets.split(", ") if s), "")
                name = ", ".join(p for p in (kind, ward) if p) or "an unnamed place"
        names.append(name)
    return names
