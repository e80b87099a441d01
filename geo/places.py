"""Named places, points of interest and the diversion venues, in British National Grid.

Three shipped files, each with a README beside it:

* ``data/places/gazetteer.csv``: the names people use for parts of the borough
  ("Eastleigh town centre", "Hamble foreshore", "Botley"...), each a point with the
  distance it reaches (``radius_m``) and exactly how its coordinates were derived.
  :func:`derive_gazetteer` rebuilds it from the shipped data; :func:`name_for`
  names a hotspot after it.
* ``data/places/schools_eastleigh_area.csv`` and ``rail_stations_eastleigh_area.csv``:
  public lists, read by :func:`load_schools`, :func:`load_stations` and
  :func:`load_points_of_interest`.
* ``data/venues/friday_night_football.csv``: the diversion venues, read and validated
  by :func:`load_venues` and written atomically by :func:`save_venues`.
"""

from __future__ import annotations

import csv
import math
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from shapely.geometry import Point
from shapely.geometry.base import BaseGeometry

from geo.crs import BNG, GB_BOUNDS_BNG, GB_BOUNDS_LONLAT, WGS84, require_bng, transformer
from geo.errors import DataValidationError, InputError
from geo.writers import atomic_write

__all__ = [
    "GAZETTEER_COLUMNS",
    "GAZETTEER_RECIPES",
    "KIND_PRIORITY",
    "VENUE_COLUMNS",
    "VENUE_STATUSES",
    "PlaceRecipe",
    "derive_gazetteer",
    "load_gazetteer",
    "load_points_of_interest",
    "load_schools",
    "load_stations",
    "load_venues",
    "points_near",
    "save_venues",
]


GAZETTEER_COLUMNS = (
    "name",
    "kind",
    "easting",
    "northing",
    "lon",
    "lat",
    "radius_m",
    "source",
    "note",
)
"""Columns of ``gazetteer.csv`` in order (``note``: why these points, and caveats)."""

KIND_PRIORITY = (
    "town_centre",
    "foreshore",
    "district_centre",
    "airport",
    "village",
    "suburb",
    "station",
)
"""Kinds of place, most specific first: when an area contains several gazetteer
points, :func:`name_for` takes the first kind in this order."""

VENUE_COLUMNS = (
    "name",
    "place",
    "status",
    "hours_per_session",
    "average_attendance",
    "easting",
    "northing",
    "lon",
    "lat",
    "location_precision",
    "note",
)
"""Columns of the venue file in order."""

VENUE_STATUSES = ("running", "planned")
"""Allowed values of the venue ``status`` column."""

_LONLAT_TOLERANCE_M = 10.0


# --------------------------------------------------------------------------- gazetteer


@dataclass(frozen=True)
class PlaceRecipe:
    """How one gazetteer entry is derived from the shipped data.

    Attributes
    ----------
    name, kind, radius_m
        The gazetteer row's name, kind (one of :data:`KIND_PRIORITY`) and reach.
    method
        ``"police_points"`` (mean of distinct police.uk map points whose Location
        is one of ``names``, restricted to LSOAs of the 2002 wards ``ward2002`` or to
        the LSOAs named ``lsoa_names``), ``"schools"`` (mean of the named schools),
        ``"station"`` (one row of the rail file) or ``"ward_centroid"`` (centroid of
        the 2018 ward polygon called ``names[0]``).
    names
        Streets (without "On or near "), school names, the station name or the ward.
    ward2002, lsoa_names
        Where police.uk points may lie (``police_points`` only).
    note
        Why these points, and any caveat.
    """

    name: str
    kind: str
    radius_m: int
    method: str
    names: tuple[str, ...]
    ward2002: tuple[str, ...] = ()
    lsoa_names: tuple[str, ...] = ()
    note: str = ""


GAZETTEER_RECIPES: tuple[PlaceRecipe, ...] = (
    PlaceRecipe(
        "Eastleigh town centre",
        "town_centre",
        400,
        "police_points",
        ("Market Street", "High Street", "Wells Place"),
        ward2002=("Eastleigh Central",),
        note=(
            "The town centre's shopping streets as police.uk names them, in the town-centre "
            "ward. The same street names have points about 450 m further south (LSOA "
            "Eastleigh 007E, ward Eastleigh South) among residential streets; those are "
            "left out. The radius reaches the bus station and Leigh Road points."
        ),
    ),
    PlaceRecipe(
        "Hedge End town centre",
        "town_centre",
        400,
        "police_points",
        ("Supermarket", "Parking Area"),
        lsoa_names=("Eastleigh 011B", "Eastleigh 011C", "Eastleigh 012B", "Eastleigh 012C"),
        note=(
            "police.uk labels shops and car parks 'Supermarket'/'Parking Area'. In Hedge End "
            "the tightest group of such points (two of each, all within about 160 m of their "
            "mean) lies where LSOAs 011B, 011C, 012B and 012C meet, between the Upper "
            "Northam Road point (about 360 m west) and the Lower Northam Road point (about "
            "500 m north-east); taken as the town centre. The large 'Supermarket' point by "
            "Charles Watts Way (LSOA 012F, about 950 m north-west) stands apart from that "
            "group (a retail site by a main road) and is left out."
        ),
    ),
    PlaceRecipe(
        "Hamble foreshore",
        "foreshore",
        300,
        "police_points",
        ("The Quay", "Oyster Quay"),
        ward2002=("Hamble-le-Rice and Butlocks Heath",),
        note=(
            "The waterfront points of Hamble village: both 'The Quay' points and 'Oyster "
            "Quay'. Left out: 'The Square' and 'High Street' (village centre, 100-300 m "
            "inland, used for Hamble-le-Rice village), 'Crowsport' and 'Marina Drive' (up to "
            "400 m north), 'Satchell Lane' (900 m north); no Location 'Foreshore' or 'Rope "
            "Walk' occurs in the files."
        ),
    ),
    PlaceRecipe(
        "Hamble-le-Rice village",
        "village",
        800,
        "police_points",
        ("The Square", "High Street"),
        ward2002=("Hamble-le-Rice and Butlocks Heath",),
        note=(
            "The Square and High Street, the village streets beside the quay. The review's "
            "'Hamble' (a venue and a hotspot) is placed here."
        ),
    ),
    PlaceRecipe(
        "Chandler's Ford (Fryern)",
        "district_centre",
        500,
        "police_points",
        ("Fryern Close",),
        ward2002=("Chandler's Ford East",),
        note=(
            "The only police.uk Location carrying the name Fryern (one map point). "
            "Fryern Infant and Junior Schools lie about 300 m south-east of it."
        ),
    ),
    PlaceRecipe(
        "Fair Oak",
        "village",
        800,
        "schools",
        ("Fair Oak Infant School", "Fair Oak Junior School"),
        note=(
            "No police.uk street carries the village name; the two schools named after it "
            "stand in it. A school marks the village, not necessarily its centre."
        ),
    ),
    PlaceRecipe(
        "Bishopstoke",
        "village",
        1000,
        "ward_centroid",
        ("Bishopstoke",),
        note=(
            "The 2018 ward Bishopstoke is the settlement; no school or street carries the "
            "name. Radius 1000 m because the ward is about 1.4 km in equivalent radius."
        ),
    ),
    PlaceRecipe(
        "Botley",
        "village",
        800,
        "police_points",
        ("Winchester Street", "Mill Hill", "Supermarket", "Parking Area"),
        lsoa_names=("Eastleigh 010A", "Eastleigh 011A"),
        note=(
            "The village streets with the shop and car-park points among them. Botley "
            "Church of England Primary School lies about 270 m south-east."
        ),
    ),
    PlaceRecipe(
        "West End",
        "village",
        800,
        "police_points",
        ("High Street",),
        ward2002=("West End North", "West End South"),
        note="West End's High Street (one point on each side of the ward line).",
    ),
    PlaceRecipe(
        "Bursledon",
        "village",
        800,
        "schools",
        ("Bursledon Junior School(CA)", "Bursledon Church of England Infant School"),
        note=(
            "The two schools named after the village. Bursledon station lies about 500 m "
            "east and police.uk's Bursledon 'High Street' about 500 m south-east."
        ),
    ),
    PlaceRecipe(
        "Netley",
        "village",
        800,
        "police_points",
        ("New Road", "Station Road", "Supermarket", "Parking Area"),
        lsoa_names=("Eastleigh 014A",),
        note=(
            "The shop and car-park points of Netley with the two streets beside them, all "
            "in LSOA Eastleigh 014A. Netley station is about 550 m east, Netley Abbey "
            "schools about 600 m north."
        ),
    ),
    PlaceRecipe(
        "Southampton Airport",
        "airport",
        800,
        "police_points",
        ("Airport/Airfield",),
        ward2002=("Eastleigh South",),
        note=(
            "police.uk's 'Airport/Airfield' point in Eastleigh South (the one in Hamble is "
            "the old Hamble airfield). Southampton Airport Parkway station is about 120 m "
            "away. The airfield itself is larger than the radius."
        ),
    ),
    PlaceRecipe(
        "Hiltingbury",
        "suburb",
        1000,
        "ward_centroid",
        ("Hiltingbury",),
        note=(
            "The 2018 ward Hiltingbury is the suburb. Hiltingbury Infant and Junior "
            "Schools lie about 400 m west of the centroid."
        ),
    ),
    PlaceRecipe(
        "Eastleigh station",
        "station",
        250,
        "police_points",
        ("Station Hill",),
        ward2002=("Eastleigh Central",),
        note=(
            "NOT the rail file's point: that row (lat 50.975453, lng -1.3533429984, given "
            "to 6 decimals where most rows have 10) falls about 600 m north among "
            "residential streets (Byron Road, Shakespeare Road), while police.uk's "
            "'Station Hill' and 'Bus/Coach Station' points lie by the town centre. "
            "The station is placed at the Station Hill point; the rail file is kept "
            "unchanged."
        ),
    ),
    PlaceRecipe("Chandlers Ford station", "station", 250, "station", ("Chandlers Ford",)),
    PlaceRecipe("Hedge End station", "station", 250, "station", ("Hedge End",)),
    PlaceRecipe(
        "Botley station",
        "station",
        250,
        "station",
        ("Botley",),
        note="About 350 m outside the borough boundary; kept because it serves Botley.",
    ),
    PlaceRecipe("Hamble station", "station", 250, "station", ("Hamble",)),
    PlaceRecipe("Netley station", "station", 250, "station", ("Netley",)),
    PlaceRecipe("Bursledon station", "station", 250, "station", ("Bursledon",)),
    PlaceRecipe(
        "Southampton Airport Parkway station",
        "station",
        250,
        "station",
        ("Southampton Airport (Parkway)",),
    ),
)
"""Every gazetteer entry and how it is derived (see ``data/places/README.md``).
Horton Heath and Boyatt Wood are not here: no shipped file names a street, school,
ward or LSOA after them, so they could not be placed from data."""


def _to_lonlat(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    lon, lat = transformer(BNG, WGS84).transform(np.asarray(x, float), np.asarray(y, float))
    return np.asarray(lon), np.asarray(lat)


def _police_points(recipe: PlaceRecipe, incidents: pd.DataFrame) -> tuple[float, float, str]:
    """Mean of the distinct police.uk map points a recipe selects."""
    wanted = [f"On or near {n}" for n in recipe.names]
    sel = incidents["location"].isin(wanted) & incidents["has_location"]
    if recipe.ward2002:
        sel &= incidents["ward2002_name"].isin(recipe.ward2002)
        where = "in LSOAs of the 2002 ward(s) " + ", ".join(recipe.ward2002)
    else:
        sel &= incidents["lsoa_name"].isin(recipe.lsoa_names)
        where = "in LSOAs " + ", ".join(recipe.lsoa_names)
    pts = incidents.loc[sel, ["location", "x", "y"]].round({"x": 1, "y": 1}).drop_duplicates()
    if pts.empty:
        msg = (
            f"gazetteer recipe {recipe.name!r}: no police.uk map point with Location in "
            f"{recipe.names} {where}; check the street names against the files."
        )
        raise InputError(msg)
    x, y = float(pts["x"].mean()), float(pts["y"].mean())
    far = float(np.hypot(pts["x"] - x, pts["y"] - y).max())
    counts = pts["location"].str.removeprefix("On or near ").value_counts()
    listed = ", ".join(f"'{n}' x{counts[n]}" for n in recipe.names if n in counts)
    months = sorted(incidents.loc[sel, "month"].unique())
    source = (
        f"police.uk map points (data/police_uk, months {', '.join(months)}): mean of "
        f"{len(pts)} distinct point(s) with Location 'On or near ...' {listed}, {where}; "
        f"farthest point {far:.0f} m from the mean"
    )
    return x, y, source


def _schools_points(recipe: PlaceRecipe, schools: gpd.GeoDataFrame) -> tuple[float, float, str]:
    rows = schools[schools["name"].isin(recipe.names)]
    missing = set(recipe.names) - set(rows["name"])
    if missing:
        msg = (
            f"gazetteer recipe {recipe.name!r}: schools {sorted(missing)} not in the schools file."
        )
        raise InputError(msg)
    x, y = float(rows.geometry.x.mean()), float(rows.geometry.y.mean())
    source = (
        "DfE schools file (data/places/schools_eastleigh_area.csv, Lat/Lng projected to "
        f"EPSG:27700): mean of the points of {', '.join(repr(n) for n in recipe.names)}"
    )
    return x, y, source


def _station_point(recipe: PlaceRecipe, stations: gpd.GeoDataFrame) -> tuple[float, float, str]:
    rows = stations[stations["name"] == recipe.names[0]]
    if len(rows) != 1:
        msg = f"gazetteer recipe {recipe.name!r}: station {recipe.names[0]!r} not in the rail file."
        raise InputError(msg)
    row = rows.iloc[0]
    source = (
        "rail stations file (data/places/rail_stations_eastleigh_area.csv): row "
        f"'{row['name']}' ({row['code']}), lat {row['lat']}, lng {row['lon']} "
        "projected to EPSG:27700"
    )
    return float(row.geometry.x), float(row.geometry.y), source


def _ward_centroid(recipe: PlaceRecipe, wards: gpd.GeoDataFrame) -> tuple[float, float, str]:
    rows = wards[wards["name"] == recipe.names[0]]
    if len(rows) != 1:
        msg = f"gazetteer recipe {recipe.name!r}: no 2018 ward named {recipe.names[0]!r}."
        raise InputError(msg)
    geom = shapely.make_valid(rows.geometry.iloc[0])
    point = geom.centroid
    how = "area centroid (inside the polygon)"
    if not geom.contains(point):
        point = geom.representative_point()
        how = "representative point (the centroid falls outside)"
    source = (
        f"ONS 2018 ward polygon '{recipe.names[0]}' ({rows['code'].iloc[0]}; "
        f"boundaries/eastleigh.gpkg layer wards_2018, generalised 20 m): {how}"
    )
    return point.x, point.y, source


def derive_gazetteer(
    recipes: Iterable[PlaceRecipe] = GAZETTEER_RECIPES,
    *,
    incidents: pd.DataFrame | None = None,
    schools: gpd.GeoDataFrame | None = None,
    stations: gpd.GeoDataFrame | None = None,
    wards: gpd.GeoDataFrame | None = None,
) -> pd.DataFrame:
    """Rebuild the gazetteer from the shipped data.

    Parameters
    ----------
    recipes
        What to derive; :data:`GAZETTEER_RECIPES` by default.
    incidents
        police.uk incidents (EPSG:27700), for the ``police_points`` recipes.
    schools, stations
        Schools and rail stations (:func:`load_schools`, :func:`load_stations`).
    wards
        The 2018 wards (``code``, ``name``), for the ``ward_centroid`` recipes.

    Returns
    -------
    pandas.DataFrame
        Columns :data:`GAZETTEER_COLUMNS`: easting/northing rounded to whole metres,
        lon/lat (WGS84, 6 decimals) projected from those whole metres, and the exact
        derivation in ``source``.

    Raises
    ------
    InputError
        If a recipe selects nothing (a street, school, station or ward is absent).
    """
    recipes = list(recipes)
    needs = {
        "police_points": incidents,
        "schools": schools,
        "station": stations,
        "ward_centroid": wards,
    }
    for recipe in recipes:
        if recipe.method in needs and needs[recipe.method] is None:
            msg = f"gazetteer recipe {recipe.name!r} ({recipe.method}) needs its frame; pass it."
            raise InputError(msg)
    rows = []
    for recipe in recipes:
        if recipe.method == "police_points":
            x, y, source = _police_points(recipe, incidents)
        elif recipe.method == "schools":
            x, y, source = _schools_points(recipe, schools)
        elif recipe.method == "station":
            x, y, source = _station_point(recipe, stations)
        elif recipe.method == "ward_centroid":
            x, y, source = _ward_centroid(recipe, wards)
        else:
            msg = f"gazetteer recipe {recipe.name!r}: unknown method {recipe.method!r}."
            raise InputError(msg)
        rows.append((recipe, x, y, source))
    xs = np.round([r[1] for r in rows]).astype(int)
    ys = np.round([r[2] for r in rows]).astype(int)
    lon, lat = _to_lonlat(xs.astype(float), ys.astype(float))
    return pd.DataFrame(
        {
            "name": [r[0].name for r in rows],
            "kind": [r[0].kind for r in rows],
            "easting": xs,
            "northing": ys,
            "lon": np.round(lon, 6),
            "lat": np.round(lat, 6),
            "radius_m": [r[0].radius_m for r in rows],
            "source": [r[3] for r in rows],
            "note": [r[0].note for r in rows],
        },
        columns=list(GAZETTEER_COLUMNS),
    )


def load_gazetteer(path: Path) -> gpd.GeoDataFrame:
    """Read the gazetteer as points in British National Grid.

    Parameters
    ----------
    path
        A gazetteer CSV with the columns :data:`GAZETTEER_COLUMNS` (``note`` optional);
        the shipped one is :data:`geo.paths.GAZETTEER_PATH`.

    Returns
    -------
    geopandas.GeoDataFrame
        One point per place in EPSG:27700, built from ``easting``/``northing``.

    Raises
    ------
    DataValidationError
        Listing every bad row and column: a missing column, a duplicate or empty
        name, an unknown kind, non-numeric or out-of-Britain coordinates, or a
        radius that is not a positive number of metres.
    """
    path = Path(path)
    df = _read_csv(path)
    required = [c for c in GAZETTEER_COLUMNS if c != "note"]
    _require_columns(df, required, path)
    if "note" not in df.columns:
        df["note"] = ""
    problems: list[str] = []
    for i, name in enumerate(df["name"]):
        if not name.strip():
            problems.append(f"line {i + 2}, column 'name': empty; every place needs a name")
    for name in df.loc[df["name"].duplicated(), "name"]:
        problems.append(f"column 'name': {name!r} appears twice; names must be unique")
    for i, kind in enumerate(df["kind"]):
        if kind not in KIND_PRIORITY:
            problems.append(
                f"line {i + 2} ({df['name'].iloc[i]}), column 'kind': {kind!r} is not one "
                f"of {list(KIND_PRIORITY)}"
            )
    east = _numbers(df, "easting", problems, required=True)
    north = _numbers(df, "northing", problems, required=True)
    radius = _numbers(df, "radius_m", problems, required=True)
    _check_bng(df, east, north, problems)
    for i in np.flatnonzero(radius.notna() & (radius <= 0)):
        problems.append(
            f"line {i + 2} ({df['name'].iloc[i]}), column 'radius_m': must be a positive "
            "number of metres"
        )
    if problems:
        raise DataValidationError(str(path), problems)
    out = df[list(GAZETTEER_COLUMNS)].copy()
    out["easting"] = east.astype(int)
    out["northing"] = north.astype(int)
    out["radius_m"] = radius.astype(float)
    out["lon"] = pd.to_numeric(out["lon"], errors="coerce")
    out["lat"] = pd.to_numeric(out["lat"], errors="coerce")
    return gpd.GeoDataFrame(
        out, geometry=gpd.points_from_xy(out["easting"], out["northing"]), crs=BNG
    )


# --------------------------------------------------------------------- points of interest


def _school_kind(phase: str, group: str) -> str:
    if group == "Universities":
        return "university"
    if group == "Colleges" or phase == "16 plus":
        return "college"
    return {
        "Primary": "primary_school",
        "Secondary": "secondary_school",
        "Nursery": "nursery",
    }.get(phase, "school")


def _points_file(path: Path, cols: dict[str, str]) -> gpd.GeoDataFrame:
    """Read a CSV of named lon/lat points: keep ``cols`` (renamed), check, project to BNG.

    ``cols`` maps the file's columns to ours and must give ``name``, ``lon`` and ``lat``;
    every row's lon/lat must be numbers inside Great Britain (all problems named at once).
    """
    df = _read_csv(path)
    _require_columns(df, list(cols), path)
    df = df[list(cols)].rename(columns=cols)
    problems: list[str] = []
    lon = _numbers(df, "lon", problems, required=True, label_col="name")
    lat = _numbers(df, "lat", problems, required=True, label_col="name")
    lo_x, lo_y, hi_x, hi_y = GB_BOUNDS_LONLAT
    outside = lon.notna() & lat.notna() & ~(lon.between(lo_x, hi_x) & lat.between(lo_y, hi_y))
    for i in np.flatnonzero(outside):
        problems.append(
            f"line {i + 2} ({df['name'].iloc[i]}), columns 'lat'/'lon': "
            f"{lat.iloc[i]}, {lon.iloc[i]} is outside Great Britain (swapped?)"
        )
    if problems:
        raise DataValidationError(str(path), problems)
    df["lon"] = lon.astype(float)
    df["lat"] = lat.astype(float)
    return gpd.GeoDataFrame(df, geometry=gpd.points_from_xy(lon, lat), crs=WGS84).to_crs(BNG)


def load_schools(path: Path) -> gpd.GeoDataFrame:
    """Read the schools file as points in British National Grid.

    Parameters
    ----------
    path
        A DfE "Get Information About Schools" extract with the columns of
        ``data/places/schools_eastleigh_area.csv``; that file by default.

    Returns
    -------
    geopandas.GeoDataFrame
        Columns name, kind (``primary_school``, ``secondary_school``, ``college``,
        ``nursery``, ``university`` or ``school``), phase, type_group, gender,
        capacity (float, NaN when blank), ofsted, lon, lat, geometry (EPSG:27700).

    Raises
    ------
    DataValidationError
        If a column is missing or a row's Lat/Lng is not a number inside Great Britain.
    """
    path = Path(path)
    gdf = _points_file(
        path,
        {
            "EstablishmentName": "name",
            "EstablishmentTypeGroup (name)": "type_group",
            "PhaseOfEducation (name)": "phase",
            "Gender (name)": "gender",
            "SchoolCapacity": "capacity",
            "OfstedRating (name)": "ofsted",
            "Lat": "lat",
            "Lng": "lon",
        },
    )
    gdf["capacity"] = pd.to_numeric(gdf["capacity"], errors="coerce")
    gdf.insert(
        1,
        "kind",
        [_school_kind(p, g) for p, g in zip(gdf["phase"], gdf["type_group"], strict=True)],
    )
    return gdf


def load_stations(path: Path) -> gpd.GeoDataFrame:
    """Read the rail stations file as points in British National Grid.

    The points are the file's own coordinates. One is known to be off: see the
    "Eastleigh station" entry of the gazetteer, which uses a police.uk point instead.

    Parameters
    ----------
    path
        A stations CSV with the columns of ``data/places/rail_stations_eastleigh_area.csv``
        (NLC, Origin TLC, Station Name, Location for map, lat, lng); that file by default.

    Returns
    -------
    geopandas.GeoDataFrame
        Columns name, kind (``station``), code (three-letter code), nlc, postcode,
        lon, lat, geometry (EPSG:27700).

    Raises
    ------
    DataValidationError
        If a column is missing or a row's lat/lng is not a number inside Great Britain.
    """
    path = Path(path)
    gdf = _points_file(
        path,
        {
            "Station Name": "name",
            "Origin TLC": "code",
            "NLC": "nlc",
            "Location for map": "postcode",
            "lat": "lat",
            "lng": "lon",
        },
    )
    gdf.insert(1, "kind", "station")
    return gdf


def load_points_of_interest(schools_path: Path, stations_path: Path) -> gpd.GeoDataFrame:
    """Schools and rail stations together, for maps and labels.

    Parameters
    ----------
    schools_path, stations_path
        As for :func:`load_schools` and :func:`load_stations`.

    Returns
    -------
    geopandas.GeoDataFrame
        Columns name, kind, source (``schools`` or ``rail_stations``), geometry,
        in EPSG:27700; schools first.

    Raises
    ------
    DataValidationError
        If either file is unusable.
    """
    schools = load_schools(schools_path)
    stations = load_stations(stations_path)
    parts = [
        schools[["name", "kind", "geometry"]].assign(source="schools"),
        stations[["name", "kind", "geometry"]].assign(source="rail_stations"),
    ]
    out = pd.concat(parts, ignore_index=True)[["name", "kind", "source", "geometry"]]
    return gpd.GeoDataFrame(out, geometry="geometry", crs=BNG)


def points_near(
    points: gpd.GeoDataFrame, area: BaseGeometry, distance_m: float
) -> gpd.GeoDataFrame:
    """The points inside ``area`` or within ``distance_m`` of it.

    A distance test against the prepared outline, not a buffer of it: buffering a
    district's detailed coastline took 0.9 s (New Forest, 2,831 vertices) where the
    distance test took 5 ms, and the distance is exact where a buffer's arcs are not.

    Parameters
    ----------
    points
        Points in EPSG:27700.
    area
        The outline, in BNG metres.
    distance_m
        How far outside the outline a point may lie, metres.

    Returns
    -------
    geopandas.GeoDataFrame
        The rows kept, in their order, with a fresh index.

    Examples
    --------
    >>> from shapely.geometry import box
    >>> pts = gpd.GeoDataFrame(geometry=gpd.points_from_xy([5, 15, 30], [5, 5, 5]), crs=BNG)
    >>> points_near(pts, box(0, 0, 10, 10), 5.0).geometry.x.tolist()
    [5.0, 15.0]
    """
    shapely.prepare(area)
    return points[points.geometry.dwithin(area, distance_m)].reset_index(drop=True)


# --------------------------------------------------------------------------- venues


def load_venues(path: Path) -> gpd.GeoDataFrame:
    """Read and validate the diversion venue file.

    Parameters
    ----------
    path
        A CSV with the columns :data:`VENUE_COLUMNS` (the shipped one is
        :data:`geo.paths.VENUES_PATH`).
        A venue needs easting/northing (EPSG:27700) or lon/lat (WGS84); when both are
        given they must agree within 10 m.

    Returns
    -------
    geopandas.GeoDataFrame
        One point per venue in EPSG:27700. ``hours_per_session`` and
        ``average_attendance`` are floats (NaN where unknown, e.g. a planned venue);
        easting/northing/lon/lat are filled in from each other where one pair was empty.

    Raises
    ------
    DataValidationError
        Listing every problem by line, venue name and column: missing coordinates,
        an unknown status, a non-numeric or negative number, coordinates outside
        Great Britain, disagreeing easting/northing and lon/lat, an empty name or
        location_precision.
    """
    path = Path(path)
    return _validate_venues(_read_csv(path), str(path))


def _validate_venues(df: pd.DataFrame, source: str) -> gpd.GeoDataFrame:
    _require_columns(df, list(VENUE_COLUMNS), Path(source))
    df = df[list(VENUE_COLUMNS)].copy()
    problems: list[str] = []

    def where(i: int) -> str:
        name = df["name"].iloc[i].strip()
        return f"line {i + 2}" + (f" ({name})" if name else "")

    for i in range(len(df)):
        if not df["name"].iloc[i].strip():
            problems.append(f"{where(i)}, column 'name': empty; give the venue a name")
        status = df["status"].iloc[i].strip()
        if status not in VENUE_STATUSES:
            problems.append(
                f"{where(i)}, column 'status': {status!r} is not one of {list(VENUE_STATUSES)}"
            )
        if not df["location_precision"].iloc[i].strip():
            problems.append(
                f"{where(i)}, column 'location_precision': empty; write "
                "'approximate: placed at <place>' or 'exact: <how it was surveyed>'"
            )
    hours = _numbers(df, "hours_per_session", problems, label_col="name")
    attendance = _numbers(df, "average_attendance", problems, label_col="name")
    for col, values in (("hours_per_session", hours), ("average_attendance", attendance)):
        for i in np.flatnonzero(values.notna() & (values < 0)):
            problems.append(f"{where(i)}, column '{col}': {values.iloc[i]} is negative")
    east = _numbers(df, "easting", problems, label_col="name")
    north = _numbers(df, "northing", problems, label_col="name")
    lon = _numbers(df, "lon", problems, label_col="name")
    lat = _numbers(df, "lat", problems, label_col="name")
    has_en = east.notna() & north.notna()
    has_ll = lon.notna() & lat.notna()
    for i in np.flatnonzero(~has_en & ~has_ll):
        empty = [
            c
            for c, v in (("easting", east), ("northing", north), ("lon", lon), ("lat", lat))
            if pd.isna(v.iloc[i])
        ]
        problems.append(
            f"{where(i)}, column(s) {empty}: missing coordinates; give easting and northing "
            "(EPSG:27700 metres) or lon and lat"
        )
    x, y = east.copy(), north.copy()
    if has_ll.any():
        proj = gpd.GeoSeries(gpd.points_from_xy(lon[has_ll], lat[has_ll]), crs=WGS84).to_crs(BNG)
        px = pd.Series(proj.x.to_numpy(), index=lon[has_ll].index)
        py = pd.Series(proj.y.to_numpy(), index=lon[has_ll].index)
        both = has_en & has_ll
        gap = np.hypot(east[both] - px[both], north[both] - py[both])
        for i in np.flatnonzero(both.to_numpy()):
            idx = df.index[i]
            if gap[idx] > _LONLAT_TOLERANCE_M:
                problems.append(
                    f"{where(i)}, columns 'easting'/'northing' vs 'lon'/'lat': they are "
                    f"{gap[idx]:.0f} m apart; edit both pairs or empty lon/lat"
                )
        only_ll = has_ll & ~has_en
        x[only_ll] = px[only_ll]
        y[only_ll] = py[only_ll]
    _check_bng(df, x, y, problems, label_col="name")
    if problems:
        raise DataValidationError(source, problems)
    lon_out, lat_out = _to_lonlat(x.to_numpy(), y.to_numpy())
    out = df.copy()
    out["status"] = out["status"].str.strip()
    out["hours_per_session"] = hours.astype(float)
    out["average_attendance"] = attendance.astype(float)
    out["easting"] = x.astype(float)
    out["northing"] = y.astype(float)
    out["lon"] = lon.where(has_ll, pd.Series(np.round(lon_out, 6), index=df.index)).astype(float)
    out["lat"] = lat.where(has_ll, pd.Series(np.round(lat_out, 6), index=df.index)).astype(float)
    return gpd.GeoDataFrame(out, geometry=gpd.points_from_xy(x, y), crs=BNG)


def _format(value: object) -> str:
    """Write a cell: empty for missing, whole floats without '.0'."""
    if value is None:
        return ""
    if isinstance(value, float | np.floating):
        if math.isnan(value):
            return ""
        if float(value).is_integer():
            return str(int(value))
        return repr(float(value))
    return str(value)


def save_venues(venues: gpd.GeoDataFrame, path: Path) -> Path:
    """Write the venue file atomically.

    The coordinates written are those of the geometry (easting/northing rounded to
    whole metres, lon/lat to 6 decimals), so a venue moved on the map is saved where
    it was moved to. The rows go to a temporary file in the same folder, which is
    flushed, fsync'd and then renamed over ``path`` with :func:`os.replace`: a crash
    or error part-way leaves the old file as it was, never a half-written one.

    Parameters
    ----------
    venues
        Venues in EPSG:27700 with the columns :data:`VENUE_COLUMNS` and point
        geometries.
    path
        Where to write.

    Returns
    -------
    pathlib.Path
        The path written.

    Raises
    ------
    InputError
        If ``venues`` is not in British National Grid, lacks a column or a geometry,
        or would not load back (the same checks as :func:`load_venues`).
    """
    path = Path(path)
    require_bng(venues, "venues")
    missing = [c for c in VENUE_COLUMNS if c not in venues.columns]
    if missing:
        msg = f"venues: column(s) {missing} missing; a venue frame needs {list(VENUE_COLUMNS)}."
        raise InputError(msg)
    geoms = venues.geometry
    bad = [i for i, g in enumerate(geoms) if g is None or g.is_empty or not isinstance(g, Point)]
    if bad:
        msg = (
            f"venues: row(s) {bad} have no point geometry; place each venue on the map "
            "(or give easting/northing) before saving."
        )
        raise InputError(msg)
    frame = pd.DataFrame(venues.drop(columns=venues.geometry.name))[list(VENUE_COLUMNS)].copy()
    frame["easting"] = np.round(geoms.x.to_numpy())
    frame["northing"] = np.round(geoms.y.to_numpy())
    lon, lat = _to_lonlat(frame["easting"].to_numpy(), frame["northing"].to_numpy())
    frame["lon"] = np.round(lon, 6)
    frame["lat"] = np.round(lat, 6)
    # Validate what will be written with the loader's own checks, without text
    # conversion of free-text columns (those are written as they are).
    check = frame.copy()
    for col in ("status", "name", "location_precision", "hours_per_session", "average_attendance"):
        check[col] = [_format(v) for v in check[col]]
    for col in ("easting", "northing", "lon", "lat"):
        check[col] = [_format(v) for v in check[col]]
    for col in ("place", "note"):
        check[col] = ""
    _validate_venues(check, f"venues to be saved to {path}")

    def write(fh: TextIO) -> None:
        writer = csv.writer(fh, lineterminator="\n")
        writer.writerow(VENUE_COLUMNS)
        for row in frame.itertuples(index=False):
            writer.writerow([_format(v) for v in row])

    return atomic_write(path, write)


# --------------------------------------------------------------------------- helpers


def _read_csv(path: Path) -> pd.DataFrame:
    if not path.is_file():
        msg = f"{path}: file not found; check the path (the shipped copy is under data/)."
        raise InputError(msg)
    try:
        return pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8")
    except (UnicodeDecodeError, pd.errors.ParserError) as exc:
        msg = f"{path}: not a readable UTF-8 CSV ({exc}); re-save it as CSV UTF-8."
        raise InputError(msg) from exc


def _require_columns(df: pd.DataFrame, columns: list[str], path: Path) -> None:
    missing = [c for c in columns if c not in df.columns]
    if missing:
        msg = (
            f"{path}: column(s) {missing} missing; found {list(df.columns)}. "
            f"The header needs {list(columns)}."
        )
        raise DataValidationError(str(path), [msg])


def _numbers(
    df: pd.DataFrame,
    col: str,
    problems: list[str],
    *,
    required: bool = False,
    label_col: str = "name",
) -> pd.Series:
    """Parse a text column as floats, recording every bad or (if required) empty cell."""
    text = df[col].astype(str).str.strip()
    empty = text == ""
    values = pd.to_numeric(text.where(~empty), errors="coerce")
    for i in np.flatnonzero((values.isna() & ~empty).to_numpy()):
        problems.append(
            f"line {i + 2} ({df[label_col].iloc[i]}), column '{col}': "
            f"{text.iloc[i]!r} is not a number"
        )
    if required:
        for i in np.flatnonzero(empty.to_numpy()):
            problems.append(f"line {i + 2} ({df[label_col].iloc[i]}), column '{col}': empty")
    return values.astype(float)


def _check_bng(
    df: pd.DataFrame, x: pd.Series, y: pd.Series, problems: list[str], *, label_col: str = "name"
) -> None:
    lo_x, lo_y, hi_x, hi_y = GB_BOUNDS_BNG
    ok = x.between(lo_x, hi_x) & y.between(lo_y, hi_y)
    for i in np.flatnonzero((x.notna() & y.notna() & ~ok).to_numpy()):
        problems.append(
            f"line {i + 2} ({df[label_col].iloc[i]}), columns 'easting'/'northing': "
            f"{x.iloc[i]:.0f}, {y.iloc[i]:.0f} is outside the National Grid (lon/lat typed "
            "as easting/northing?)"
        )
