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

from geo.crs import require_bng

__all__ = ["DESCRIBE_COLUMNS", "GENERIC_LOCATIONS", "describe_hotspots", "top_values"]

DESCRIBE_COLUMNS = [
    "rank", "name", "method", "count", "share", "area_m2", "density_per_km2",
    "top_streets", "top_types", "wards", "peak_months", "peak_days", "peak_hours",
]

_DAYS = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]


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
    v = values[values.astype(str) != ""].astype(str).str.removeprefix(strip)
    if v.empty:
        return ""
    counts = v.value_counts()
    counts = counts.sort_index().sort_values(ascending=False, kind="stable")
    return ", ".join(f"{name} ({n})" for name, n in counts.head(k).items())


def describe_hotspots(
    polygons: gpd.GeoDataFrame,
    incidents: gpd.GeoDataFrame,
    *,
    method: str,
    gazetteer: gpd.GeoDataFrame | None = None,
    wards: gpd.GeoDataFrame | None = None,
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
        Named places (:func:`analysis.places.load_gazetteer`); the shipped one by default.
    wards
        Ward polygons with ``name``; the shipped 2018 wards by default.
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
    if gazetteer is None:
        from analysis.places import load_gazetteer  # noqa: PLC0415

        gazetteer = load_gazetteer()
    if wards is None:
        from geo.boundaries import load_layer  # noqa: PLC0415

        wards = load_layer("wards_2018")
    total = len(incidents)
    geoms = polygons.geometry.to_numpy()
    located = incidents[incidents["has_location"].to_numpy(bool)]
    pts = located.geometry.to_numpy()
    tree = shapely.STRtree(pts)
    hits = tree.query(geoms, predicate="intersects") if len(pts) and len(geoms) else (
        np.empty((2, 0), dtype=int))
    rows = []
    has_time = "datetime" in incidents.columns and incidents["datetime"].notna().any()
    ward_tree = shapely.STRtree(wards.geometry.to_numpy())
    wi, wj = ward_tree.query(geoms, predicate="intersects") if len(geoms) else ([], [])
    ward_names = wards["name"].to_numpy()
    order = np.argsort(hits[0], kind="stable")
    starts = np.searchsorted(hits[0][order], np.arange(len(geoms) + 1))
    for i, geom in enumerate(geoms):
        inside = located.iloc[hits[1][order[starts[i]:starts[i + 1]]]]
        touching = {"name": ward_names[np.asarray(wj)[np.asarray(wi) == i]]}
        months = inside["month"].value_counts()
        row = {
            "count": len(inside),
            "share": len(inside) / total if total else 0.0,
            "area_m2": float(geom.area),
            "top_streets": top_values(inside["location"], k),
            "top_types": top_values(inside["crime_type"], k, strip=""),
            "wards": ", ".join(sorted(touching["name"])),
            "peak_months": ", ".join(
                f"{m} ({n})" for m, n in months.sort_index().sort_values(
                    ascending=False, kind="stable").head(k).items()),
            "peak_days": "",
            "peak_hours": "",
        }
        if has_time:
            dt = pd.to_datetime(inside["datetime"]).dropna()
            if len(dt):
                days = dt.dt.day_of_week.map(dict(enumerate(_DAYS)))
                row["peak_days"] = top_values(days, k, strip="")
                hours = dt.dt.hour.map(lambda h: f"{h:02d}:00-{(h + 1) % 24:02d}:00")
                row["peak_hours"] = top_values(hours, k, strip="")
        rows.append(row)
    info = pd.DataFrame(rows, index=polygons.index, columns=[
        "count", "share", "area_m2", "top_streets", "top_types", "wards", "peak_months",
        "peak_days", "peak_hours"])
    out = gpd.GeoDataFrame(info, geometry=polygons.geometry, crs=polygons.crs)
    out["density_per_km2"] = out["count"] / (out["area_m2"] / 1e6).where(out["area_m2"] > 0)
    out["method"] = method
    out = out.sort_values(["count", "area_m2"], ascending=[False, True]).reset_index(drop=True)
    out["rank"] = np.arange(1, len(out) + 1)
    out["name"] = _names(out, gazetteer)
    return out[[*DESCRIBE_COLUMNS, "geometry"]]


GENERIC_LOCATIONS = frozenset({
    "Supermarket", "Parking Area", "Sports/Recreation Area", "Petrol Station",
    "Bus/Coach Station", "Pedestrian Subway", "Further/Higher Educational Building",
    "Police Station", "Airport/Airfield", "Shopping Area", "Nightclub", "Hospital",
    "Conference/Exhibition Centre", "Theatre/Concert Hall", "Train Station",
    "Hotel/Motel", "Park/Open Space", "Church", "Prison",
})
"""police.uk map-point labels that name a kind of place, not a street."""


def _names(described: gpd.GeoDataFrame, gazetteer: gpd.GeoDataFrame) -> list[str]:
    """Gazetteer names; where no named place reaches a hotspot, its main street and ward."""
    from analysis.places import name_for  # noqa: PLC0415

    names = []
    for geom, streets, wards in zip(described.geometry, described["top_streets"],
                                    described["wards"], strict=True):
        name = name_for(geom, gazetteer)
        if name.startswith("near "):
            street = next((s.rsplit(" (", 1)[0] for s in streets.split(", ")
                           if s and s.rsplit(" (", 1)[0] not in GENERIC_LOCATIONS), "")
            ward = wards.split(", ")[0] if wards else ""
            if street:
                name = f"{street}, {ward}" if ward else street
        names.append(name)
    return names
