"""Join incidents to LSOAs, wards (both sets) and local areas.

The LSOA code in a police.uk row is the authority for area counts (the point is
moved to an anonymised map point that may sit in the neighbouring LSOA). Wards are
found through 2011 output areas, exactly as populations are apportioned
(``scripts/build_populations.py``): a row whose point lies in an output area of its
own LSOA takes that output area's ward; any other row takes the ward holding most of
its LSOA's residents. Numerators and denominators therefore cover the same ground.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo.crs import require_bng
from geo.study_area import StudyArea

__all__ = ["join_areas", "lsoa_at"]


def lsoa_at(x: np.ndarray, y: np.ndarray, lsoas: gpd.GeoDataFrame) -> np.ndarray:
    """LSOA 2011 code holding each point (``""`` outside every LSOA).

    Parameters
    ----------
    x, y
        British National Grid metres (NaN allowed).
    lsoas
        Polygons with a ``code`` column (a study area's :attr:`StudyArea.lsoas`).

    Returns
    -------
    numpy.ndarray of str
    """
    return _polygon_at(x, y, lsoas, "code")


def _polygon_at(
    x: np.ndarray,
    y: np.ndarray,
    polys: gpd.GeoDataFrame,
    col: str,
    points: np.ndarray | None = None,
) -> np.ndarray:
    """``col`` of the polygon each point lies in ("" for none).

    ``points`` (the same points as shapely geometries, when the caller has them) saves
    making them again.
    """
    out = np.full(len(x), "", dtype=object)
    ok = np.isfinite(x) & np.isfinite(y)
    if not ok.any():
        return out
    pts = shapely.points(x[ok], y[ok]) if points is None else np.asarray(points)[ok]
    tree = shapely.STRtree(polys.geometry.to_numpy())
    pi, gi = tree.query(pts, predicate="within")
    hit = np.full(ok.sum(), "", dtype=object)
    # First polygon wins where generalised polygons overlap slightly.
    first = np.unique(pi, return_index=True)[1]
    hit[pi[first]] = polys[col].to_numpy()[gi[first]]
    out[ok] = hit
    return out


def join_areas(incidents: gpd.GeoDataFrame, area: StudyArea) -> gpd.GeoDataFrame:
    """Add ward (2018 and 2002) and local-area columns to an incident frame.

    Parameters
    ----------
    incidents
        Incident frame in EPSG:27700 with ``lsoa_code``, ``x`` and ``y``; every
        ``lsoa_code`` must be one of the area's LSOAs.
    area
        The study area: its output areas, LSOA-to-ward lookup and ward levels.

    Returns
    -------
    geopandas.GeoDataFrame
        The same rows with ``ward_code``, ``ward_name``, ``ward2002_code``,
        ``ward2002_name`` and ``local_area``.
    """
    require_bng(incidents, "incidents")
    if area.output_areas is None:
        return _join_by_polygons(incidents, area)
    out = incidents.copy()
    oas = area.output_areas
    lookup = area.lsoa_wards
    w18 = area.levels["ward"].areas.set_index("code")
    w02 = area.levels["ward2002"].areas.set_index("code")
    oa_code = _polygon_at(
        out["x"].to_numpy(float),
        out["y"].to_numpy(float),
        oas,
        "code",
        points=incidents.geometry.to_numpy(),
    )
    oa = oas.set_index("code")
    oa_lsoa = pd.Series(oa_code).map(oa["lsoa_code"]).to_numpy()
    own = (oa_code != "") & (oa_lsoa == out["lsoa_code"].to_numpy())
    no_lsoa = out["lsoa_code"].fillna("").to_numpy(dtype=object) == ""
    for col in ("ward_code", "ward2002_code"):
        by_oa = pd.Series(oa_code).map(oa[col]).to_numpy()
        by_lsoa = out["lsoa_code"].map(lookup[col]).to_numpy()
        joined = np.where(own, by_oa, by_lsoa)
        if col in incidents.columns:
            # Rows placed only by a ward named in the source (CSP logs) keep it.
            given = incidents[col].fillna("").to_numpy(dtype=object)
            joined = np.where(no_lsoa & (given != ""), given, joined)
        out[col] = pd.Series(joined, index=out.index).replace("", None)
    out["ward_name"] = out["ward_code"].map(w18["name"])
    out["ward2002_name"] = out["ward2002_code"].map(w02["name"])
    out["local_area"] = (
        out["ward_code"].map(w18["local_area"]).fillna(out["ward2002_code"].map(w02["local_area"]))
    )
    return out


def _join_by_polygons(incidents: gpd.GeoDataFrame, area: StudyArea) -> gpd.GeoDataFrame:
    """Wards (where the area has them), LSOA 2021 and districts, without output areas.

    A located row takes the ward (and LSOA 2021) its point lies in; a row without a
    point, or whose point lies outside the area's wards, takes the ward holding most of
    its LSOA 2011's area. An LSOA 2011 code that is also an LSOA 2021 code is kept as is.
    The district comes from the LSOA 2011 code.
    """
    out = incidents.copy()
    x, y = out["x"].to_numpy(float), out["y"].to_numpy(float)
    points = incidents.geometry.to_numpy()
    lsoa = out["lsoa_code"].fillna("").to_numpy(dtype=object)
    lookup = area.lsoa_wards
    if "ward" in area.levels:
        wards = area.levels["ward"].areas
        ward = _polygon_at(x, y, wards, "code", points=points)
        fallback = pd.Series(lsoa).map(lookup["ward_code"]).fillna("").to_numpy(dtype=object)
        out["ward_code"] = pd.Series(np.where(ward != "", ward, fallback), index=out.index).replace(
            "", None
        )
        out["ward_name"] = out["ward_code"].map(wards.set_index("code")["name"])
    if area.lsoas_2021 is not None:
        same = pd.Series(lsoa).isin(set(area.lsoas_2021["code"])).to_numpy()
        # Only rows whose LSOA changed code in 2021 are looked up by their point.
        by_point = np.full(len(out), "", dtype=object)
        if (~same).any():
            by_point[~same] = _polygon_at(
                x[~same], y[~same], area.lsoas_2021, "code", points=points[~same]
            )
        out["lsoa21_code"] = pd.Series(np.where(same, lsoa, by_point), index=out.index).replace(
            "", None
        )
    if "district_code" in lookup.columns:
        out["district_code"] = pd.Series(lsoa, index=out.index).map(lookup["district_code"])
    return out
