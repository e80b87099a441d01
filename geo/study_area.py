"""The study area: one value that holds everything the analysis needs to know of a place.

A :class:`StudyArea` carries the area's code and name, its outline, its area levels
(each a :class:`AreaLevel`: polygons with ``code``, ``name`` and ``population``, the
incident column that places a row in them, and the vintage of the boundaries and of
the population), the LSOA 2011 polygons that decide which police.uk rows belong to it,
how rows are joined to wards, and its named places, schools, stations and venues.

:func:`load_study_area` builds it from the data folder; everything downstream receives
it, or the frames it needs, as arguments. Nothing below the app and the command line
reads a file by default.

Examples
--------
>>> area = load_study_area()
>>> area.name, len(area.areas("ward")), int(area.areas("ward")["population"].sum())
('Eastleigh', 14, 136435)
"""

from __future__ import annotations

import functools
import hashlib
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import pandas as pd
import shapely

from geo import paths
from geo.boundaries import LEVEL_LAYERS, level_areas, load_layer, load_populations, lsoa_ward_lookup
from geo.errors import InputError
from geo.places import load_gazetteer, load_schools, load_stations, load_venues

__all__ = [
    "EASTLEIGH",
    "LEVEL_COLUMNS",
    "AreaLevel",
    "DataFiles",
    "StudyArea",
    "find_area",
    "load_study_area",
    "warm_hampshire",
]

EASTLEIGH = "E07000086"
"""ONS code of Eastleigh borough, the default study area."""

LEVEL_COLUMNS = {
    "lsoa": "lsoa_code",
    "ward": "ward_code",
    "ward2002": "ward2002_code",
    "local_area": "local_area",
    "borough": None,
}
"""The incident column that places a row in each level's areas (None: the whole area)."""

_LEVEL_TEXT = {
    "lsoa": (
        "LSOAs (2011)",
        "ONS LSOA December 2011",
        "Census 2021, LSOA 2021 counts carried onto LSOA 2011 (splits summed)",
    ),
    "ward": (
        "Wards (2018)",
        "ONS wards December 2022 (the 2018 set, in force 2018 onwards)",
        "Census 2021, apportioned by output area",
    ),
    "ward2002": (
        "Wards (2002\u20132018)",
        "ONS wards December 2013 (the 2002 set)",
        "Census 2021, apportioned by output area",
    ),
    "local_area": (
        "Local areas",
        "the council's five local areas (groups of 2018 wards)",
        "Census 2021, apportioned by output area",
    ),
    "borough": ("Borough", "union of the 2018 wards", "Census 2021"),
}


@dataclass(frozen=True, eq=False)
class AreaLevel:
    """One set of areas of the study area, with populations.

    Attributes
    ----------
    key
        ``lsoa``, ``ward``, ``ward2002``, ``local_area`` or ``borough``.
    label
        What a user calls it, e.g. ``"Wards (2018)"``.
    areas
        Polygons in EPSG:27700 with ``code``, ``name``, ``population`` (Census 2021)
        and ``population_2011``.
    column
        The incident column that places a row in these areas (None: the whole area).
    boundaries
        The vintage of the boundaries.
    population
        The source of the population and how it reached these areas.
    """

    key: str
    label: str
    areas: gpd.GeoDataFrame
    column: str | None
    boundaries: str
    population: str


@dataclass(frozen=True)
class DataFiles:
    """The files a study area is built from (the shipped ones by default).

    Attributes
    ----------
    gpkg
        Eastleigh's boundaries GeoPackage (``scripts/build_boundaries.py``).
    hampshire
        The Hampshire force's districts, LSOAs and wards (``scripts/build_hampshire.py``).
    population
        Residents by area level (``scripts/build_populations.py``).
    lsoa_wards
        LSOA 2011 to ward lookup.
    gazetteer, schools, stations, venues
        Named places, schools, rail stations and diversion venues.
    """

    gpkg: Path = paths.GPKG
    hampshire: Path = paths.HAMPSHIRE_GPKG
    population: Path = paths.POPULATION_PATH
    lsoa_wards: Path = paths.LSOA_WARDS_PATH
    gazetteer: Path = paths.GAZETTEER_PATH
    schools: Path = paths.SCHOOLS_PATH
    stations: Path = paths.STATIONS_PATH
    venues: Path = paths.VENUES_PATH

    def stamps(self) -> tuple[tuple[str, float], ...]:
        """``(path, mtime)`` of every file (-1 for a missing one): a cache key."""
        out = []
        for p in (
            self.gpkg,
            self.hampshire,
            self.population,
            self.lsoa_wards,
            self.gazetteer,
            self.schools,
            self.stations,
            self.venues,
        ):
            path = Path(p)
            out.append((str(path), path.stat().st_mtime if path.exists() else -1.0))
        return tuple(out)


@dataclass(frozen=True, eq=False)
class StudyArea:
    """Everything the analysis needs to know of the place it studies.

    Attributes
    ----------
    code
        ONS code of the area (a district, or a CSP).
    name
        Its name.
    outline
        One row (``code``, ``name``, geometry) in EPSG:27700.
    levels
        Area levels by key (:class:`AreaLevel`), in the order users see them.
    lsoas
        LSOA 2011 polygons (``code``, ``name``): a police.uk row belongs to the area
        when its LSOA code is one of these (by the point when the code is missing).
    lsoa_wards
        Indexed by LSOA 2011 code: the ward of each set holding most of its residents
        (``ward_code``, ``ward2002_code``).
    output_areas
        Output areas (``code``, ``lsoa_code``, ``ward_code``, ``ward2002_code``): a row
        whose point lies in an output area of its own LSOA takes that output area's
        ward, exactly as populations are apportioned. None: by LSOA only.
    gazetteer
        Named places (points with ``name``, ``kind``, ``radius_m``); None where the
        area has none.
    schools, stations
        Points of interest; None where the area has none.
    venues
        Diversion venues as shipped; None where the area has none.
    review_hotspots
        The strategic review's named hotspots mapped to gazetteer places.
    lsoas_2021
        LSOA 2021 polygons (``code``, ``name``), where the area has that level.
    files
        The files it was built from.
    """

    code: str
    name: str
    outline: gpd.GeoDataFrame
    levels: dict[str, AreaLevel]
    lsoas: gpd.GeoDataFrame
    lsoa_wards: pd.DataFrame
    output_areas: gpd.GeoDataFrame | None = None
    gazetteer: gpd.GeoDataFrame | None = None
    schools: gpd.GeoDataFrame | None = None
    stations: gpd.GeoDataFrame | None = None
    venues: gpd.GeoDataFrame | None = None
    review_hotspots: dict[str, str] = field(default_factory=dict)
    lsoas_2021: gpd.GeoDataFrame | None = None
    files: DataFiles | None = None

    @functools.cached_property
    def geometry(self) -> shapely.Geometry:
        """The outline as one shapely geometry (EPSG:27700), unioned once."""
        return self.outline.geometry.union_all()

    @property
    def area_m2(self) -> float:
        """The area's extent in square metres."""
        return float(self.geometry.area)

    @property
    def lsoa_codes(self) -> frozenset[str]:
        """LSOA 2011 codes of the area."""
        return frozenset(self.lsoas["code"])

    @property
    def key(self) -> str:
        """A short key that changes when the area or any of its files changes."""
        stamps = self.files.stamps() if self.files else ()
        return hashlib.sha256(repr((self.code, stamps)).encode()).hexdigest()[:16]

    @property
    def local_names(self) -> gpd.GeoDataFrame:
        """The areas that name places in the study area: its wards, else its outline.

        Columns ``code``, ``name`` and geometry (EPSG:27700).
        """
        key = "ward" if "ward" in self.levels else "borough"
        return self.levels[key].areas[["code", "name", "geometry"]]

    def level(self, key: str) -> AreaLevel:
        """The area level ``key``.

        Raises
        ------
        InputError
            Naming the levels this area has.
        """
        if key not in self.levels:
            msg = f"unknown level {key!r}; choose one of {', '.join(self.levels)}."
            raise InputError(msg)
        return self.levels[key]

    def areas(self, key: str) -> gpd.GeoDataFrame:
        """The polygons of level ``key`` (a copy)."""
        return self.level(key).areas.copy()


_GENERIC_LEVELS = {
    "lsoa": (
        "LSOAs (2011)",
        "lsoa_code",
        "ONS LSOA December 2011 (the codes police.uk uses)",
        "Census 2021 on LSOA 2021, carried onto LSOA 2011 (identical codes; other LSOAs "
        "shared by area, see scripts/build_hampshire.py)",
    ),
    "lsoa21": ("LSOAs (2021)", "lsoa21_code", "ONS LSOA December 2021", "Census 2021"),
    "ward": (
        "Wards (2025)",
        "ward_code",
        "ONS wards May 2025: the newest set; wards may have "
        "changed since 2021-22 (say so when comparing with older reports)",
        "Census 2021 on LSOA 2021, shared among wards by area",
    ),
    "district": (
        "Districts",
        "district_code",
        "ONS district outlines (LSOA 2021 dissolved)",
        "Census 2021",
    ),
    "borough": ("Whole area", None, "ONS district outlines (LSOA 2021 dissolved)", "Census 2021"),
}


_WARDS_REDRAWN = {
    "E07000087": "Fareham",
    "E07000088": "Gosport",
    "E07000090": "Havant",
    "E06000046": "Isle of Wight",
    "E07000091": "New Forest",
    "E06000045": "Southampton",
    "E07000084": "Basingstoke and Deane",
}
"""Districts whose wards all have new codes since December 2019 (redrawn): the 2025
wards are not those in force in 2021-22 (Test Valley has one new ward)."""


def _ward_note(codes: tuple[str, ...]) -> str:
    redrawn = [_WARDS_REDRAWN[c] for c in codes if c in _WARDS_REDRAWN]
    if "E07000093" in codes:
        redrawn.append("Test Valley (one ward)")
    if not redrawn:
        return "ONS wards May 2025, the same codes as in December 2019 (in force in 2021-22)"
    return (
        "ONS wards May 2025; redrawn since 2019 in " + ", ".join(redrawn) + ", so these "
        "wards are not those in force in 2021-22: compare older ward figures by LSOA"
    )


def _loose(text: str) -> str:
    """Names matched loosely: case, '&'/'and', apostrophes and punctuation ignored."""
    t = str(text).lower().replace("&", " and ").replace("'", "").replace("\u2019", "")
    return " ".join("".join(c if c.isalnum() else " " for c in t).split())


def find_area(code_or_name: str, districts: pd.DataFrame) -> tuple[str, str, tuple[str, ...]]:
    """The district or CSP a user means: its code, name and district codes.

    Parameters
    ----------
    code_or_name
        An ONS district code (``E06000045``) or CSP code (``E22000374``), or a name
        (``Southampton``, ``North Hampshire``), matched loosely.
    districts
        One row per district with ``code``, ``name``, ``csp_code``, ``csp_name``.

    Returns
    -------
    tuple of (str, str, tuple of str)

    Raises
    ------
    InputError
        Naming the districts and CSPs there are, when nothing matches.
    """
    want = _loose(code_or_name)
    for row in districts.itertuples(index=False):
        if want in (_loose(row.code), _loose(row.name)):
            return row.code, row.name, (row.code,)
    for (code, name), group in districts.groupby(["csp_code", "csp_name"], sort=True):
        if want in (_loose(code), _loose(name)) or want == _loose(f"{name} CSP"):
            return code, f"{name} CSP" if len(group) > 1 else name, tuple(sorted(group["code"]))
    listed = ", ".join(f"{r.name} ({r.code})" for r in districts.itertuples(index=False))
    csps = sorted(
        {
            f"{n} ({c})"
            for c, n, k in zip(
                districts["csp_code"],
                districts["csp_name"],
                districts.groupby("csp_code")["code"].transform("size"),
                strict=True,
            )
            if k > 1
        }
    )
    msg = (
        f"area {code_or_name!r}: not a district or CSP of the Hampshire force. Give one of "
        f"{listed}; or the CSP {', '.join(csps)}."
    )
    raise InputError(msg)


_HAMPSHIRE_LAYERS = ("districts", "lsoa_2011", "lsoa_2021", "wards_2025")
"""The layers of the Hampshire force's GeoPackage a district or CSP is cut from."""


def warm_hampshire(files: DataFiles | None = None) -> None:
    """Read the Hampshire layers areas are cut from, so that the first cut is quick.

    The layers are kept by :func:`geo.boundaries.load_layer` (0.2 s to read; cutting
    an area from them then takes a few tens of milliseconds).

    Parameters
    ----------
    files
        The files (the shipped ones by default).

    Raises
    ------
    InputError
        If the GeoPackage is missing or damaged (named, with its fix).
    """
    f = files or DataFiles()
    for name in _HAMPSHIRE_LAYERS:
        load_layer(name, f.hampshire)


def _hampshire_area(code: str, name: str, codes: tuple[str, ...], f: DataFiles) -> StudyArea:
    def layer(n: str) -> gpd.GeoDataFrame:
        gdf = load_layer(n, f.hampshire)
        return gdf[gdf["district"].isin(codes)].reset_index(drop=True)

    districts = layer("districts")
    lsoa11, lsoa21, wards = layer("lsoa_2011"), layer("lsoa_2021"), layer("wards_2025")
    outline = gpd.GeoDataFrame(
        {"code": [code], "name": [name]},
        geometry=[districts.geometry.union_all()],
        crs=districts.crs,
    )
    whole = outline.assign(population=int(districts["population"].sum()))
    frames = {
        "lsoa": lsoa11,
        "lsoa21": lsoa21,
        "ward": wards,
        "district": districts,
        "borough": whole,
    }
    levels = {}
    for key, (label, column, boundaries, population) in _GENERIC_LEVELS.items():
        if key == "district" and len(codes) == 1:
            continue
        if key == "ward":
            boundaries = _ward_note(codes)
        levels[key] = AreaLevel(
            key=key,
            label=label,
            areas=frames[key][["code", "name", "population", "geometry"]],
            column=column,
            boundaries=boundaries,
            population=population,
        )
    # Rows without a point take the ward holding most of their LSOA's area.
    tree = shapely.STRtree(wards.geometry.to_numpy())
    li, wi = tree.query(lsoa11.geometry.to_numpy(), predicate="intersects")
    share = shapely.area(
        shapely.intersection(lsoa11.geometry.to_numpy()[li], wards.geometry.to_numpy()[wi])
    )
    best = (
        pd.DataFrame({"lsoa": li, "ward": wi, "share": share})
        .sort_values(["lsoa", "share"], ascending=[True, False])
        .drop_duplicates("lsoa")
    )
    lookup = pd.DataFrame(
        {"ward_code": wards["code"].to_numpy()[best["ward"].to_numpy()]},
        index=pd.Index(lsoa11["code"].to_numpy()[best["lsoa"].to_numpy()], name="lsoa_code"),
    )
    lookup["district_code"] = lsoa11.set_index("code")["district"].reindex(lookup.index)
    return StudyArea(
        code=code,
        name=name,
        outline=outline,
        levels=levels,
        lsoas=lsoa11[["code", "name", "geometry"]],
        lsoa_wards=lookup,
        lsoas_2021=lsoa21[["code", "name", "geometry"]],
        files=f,
    )


_NAMES = {"eastleigh": EASTLEIGH, EASTLEIGH.lower(): EASTLEIGH}


def load_study_area(
    code: str = EASTLEIGH, *, files: DataFiles | None = None, with_places: bool = True
) -> StudyArea:
    """Build a study area from the data folder.

    Parameters
    ----------
    code
        ONS code or name of the area: Eastleigh (``E07000086``, the default), any of the
        14 districts of the Hampshire force, or a CSP (the union of its districts).
        Eastleigh keeps what only it has: 2002 wards, local areas, gazetteer, venues.
    files
        The files to build it from; the shipped ones (:mod:`geo.paths`) by default.
    with_places
        Also read the gazetteer, schools, stations and venues (False leaves them None,
        for a caller that loads them one by one and carries on without a broken one).

    Returns
    -------
    StudyArea

    Raises
    ------
    InputError
        For an area the data folder does not hold, or a missing or damaged file (named,
        with its fix).
    """
    f = files or DataFiles()
    if _NAMES.get(str(code).strip().lower()) != EASTLEIGH:
        districts = load_layer("districts", f.hampshire)
        found = find_area(code, districts)
        if found[2] != (EASTLEIGH,):
            return _hampshire_area(*found, f)
    populations = load_populations(f.population)
    levels = {}
    for key in ("lsoa", "ward", "ward2002", "local_area", "borough"):
        label, boundaries, population = _LEVEL_TEXT[key]
        levels[key] = AreaLevel(
            key=key,
            label=label,
            areas=level_areas(key, f.gpkg, populations),
            column=LEVEL_COLUMNS[key],
            boundaries=boundaries,
            population=population,
        )
    lsoas = load_layer(LEVEL_LAYERS["lsoa"], f.gpkg)
    outline = load_layer(LEVEL_LAYERS["borough"], f.gpkg)
    return StudyArea(
        code=EASTLEIGH,
        name="Eastleigh",
        outline=outline,
        levels=levels,
        lsoas=lsoas[["code", "name", "geometry"]],
        lsoa_wards=lsoa_ward_lookup(f.lsoa_wards, set(lsoas["code"])),
        output_areas=load_layer("oa_2011", f.gpkg),
        gazetteer=load_gazetteer(f.gazetteer) if with_places else None,
        schools=load_schools(f.schools) if with_places else None,
        stations=load_stations(f.stations) if with_places else None,
        venues=load_venues(f.venues) if with_places else None,
        review_hotspots={
            "Hamble including the foreshore": "Hamble foreshore",
            "Eastleigh town centre": "Eastleigh town centre",
            "Hedge End town centre": "Hedge End town centre",
        },
        files=f,
    )
