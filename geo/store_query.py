"""Questions asked of a store (:mod:`geo.store`): national counts, and one area out.

* :func:`national_counts` counts the accepted rows of every district, CSP or police force
  area of England and Wales in one query. A row belongs to an area by its LSOA 2011 code
  (LSOA 2011 -> Dec 2019 district by the ONS best-fit lookup -> current district, CSP and
  police force area); only rows without a code are placed by their point, inside the LSOA
  2011 polygons (DuckDB spatial, ``ST_Contains`` in EPSG:4326).
* :func:`area_populations` gives Census 2021 residents (and land area) per area: a
  district sums the LSOA 2021 areas it holds; a CSP or force area sums the LSOA 2021 areas
  of its LSOA 2011 (the same code, else the LSOA 2011 holding the LSOA 2021's
  representative point).
* :func:`store_incidents` takes the rows of a set of LSOA 2011 codes out of the store as
  the incident frame :func:`geo.io.load_incidents` gives (no ward columns), and
  :func:`load_from_store` runs them through :func:`geo.io.finish_incidents` for a study
  area, so the result is the :class:`geo.io.LoadResult` the reader would give.
"""

from __future__ import annotations

import functools
import os
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

import duckdb
import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo import paths
from geo.boundaries import outline_of_tiles
from geo.crs import BNG, WGS84, reproject, to_bng
from geo.io import LoadResult, finish_incidents, lonlat_points
from geo.schema import INCIDENT_COLUMNS
from geo.store import (
    StoreError,
    connect,
    data_glob,
    force_key,
    open_store,
    partition_entries,
    spatial_extension_path,
)
from geo.store_counts import refresh_counts, run_query
from geo.study_area import AreaLevel, StudyArea

__all__ = [
    "LEVELS",
    "NationalFiles",
    "area_lookup",
    "area_populations",
    "covered_months",
    "HomeForceMonths",
    "home_force_months",
    "home_forces",
    "load_from_store",
    "national_counts",
    "national_study_area",
    "store_incidents",
    "store_rejects",
    "warm_national",
]

LEVELS = ("district", "csp", "force")
"""Area levels of the national questions: current district, CSP (Dec 2019), police force
area (Dec 2019)."""

BTP_KEY = "british-transport-police"
"""Force key of British Transport Police: its rows fall inside every district, so a month
an area has only BTP rows for is a month its own force's file is missing."""


def _shared_data() -> Path:
    return paths.NATIONAL_DIR


@dataclass(frozen=True)
class NationalFiles:
    """The national boundary, lookup and population files (see the data notes).

    Attributes
    ----------
    lsoa11, lsoa21, lad
        GeoParquet files (EPSG:4326).
    lsoa11_lad19
        Best-fit LSOA 2011 -> ward -> district (Dec 2019) lookup.
    lad_active
        Every district code since 2011 -> the current code covering it.
    lad_csp_pfa
        District (Dec 2019) -> CSP -> police force area.
    population
        Census 2021 usual residents by LSOA 2021.
    """

    lsoa11: Path
    lsoa21: Path
    lad: Path
    lsoa11_lad19: Path
    lad_active: Path
    lad_csp_pfa: Path
    population: Path

    @classmethod
    def default(cls, base: str | Path | None = None) -> NationalFiles:
        """The files under ``base`` (:data:`geo.paths.NATIONAL_DIR` by default)."""
        b = Path(base) if base else _shared_data()
        ew = b / "boundaries" / "england_wales"
        return cls(
            lsoa11=ew / "lsoa11_ew.parquet",
            lsoa21=ew / "lsoa21_ew.parquet",
            lad=ew / "lad_ew.parquet",
            lsoa11_lad19=ew / "lookups" / "lsoa11_ward_lad_2019.csv",
            lad_active=ew / "lookups" / "lad_all_codes_to_active.csv",
            lad_csp_pfa=ew / "lookups" / "lad_csp_pfa_2019.csv",
            population=b / "population" / "england_wales" / "census2021_lsoa21_population.csv",
        )

    def check(self) -> None:
        """Raise naming the first missing file.

        Raises
        ------
        StoreError
        """
        for name, path in vars(self).items():
            if not Path(path).exists():
                msg = (
                    f"{path}: missing ({name}); the national questions need the England and "
                    "Wales boundary, lookup and population files; set HOTSPOTS_NATIONAL_DATA "
                    "to the folder holding boundaries/ and population/."
                )
                raise StoreError(msg)


def _files(files: NationalFiles | None) -> NationalFiles:
    f = files or NationalFiles.default()
    f.check()
    return f


@functools.lru_cache(maxsize=4)
def _lookup_all(files: NationalFiles) -> pd.DataFrame:
    """One row per LSOA 2011: its current district, CSP and force area, with names."""
    lk = pd.read_csv(files.lsoa11_lad19, dtype=str, usecols=["LSOA11CD", "LSOA11NM", "LAD19CD"])
    active = pd.read_csv(
        files.lad_active, dtype=str, usecols=["LADCD", "LADCD_ACTIVE", "LADNM_ACTIVE"]
    )
    csp = pd.read_csv(files.lad_csp_pfa, dtype=str)
    lk = lk.merge(active.rename(columns={"LADCD": "LAD19CD"}), on="LAD19CD", how="left")
    lk["district"] = lk["LADCD_ACTIVE"].fillna(lk["LAD19CD"])
    lk["district_name"] = lk["LADNM_ACTIVE"].fillna("")
    # Most districts have one CSP; East Suffolk and Bournemouth, Christchurch and Poole
    # have several: an LSOA takes the CSP its (2011) name starts with, else the CSP no
    # LSOA name of the district starts with (Christchurch -> Dorset).
    one = csp.groupby("LAD19CD").filter(lambda g: len(g) == 1)
    lk = lk.merge(
        one[["LAD19CD", "CSP19CD", "CSP19NM", "PFA19CD", "PFA19NM"]], on="LAD19CD", how="left"
    )
    multi = csp.groupby("LAD19CD").filter(lambda g: len(g) > 1)
    cols = ["CSP19CD", "CSP19NM", "PFA19CD", "PFA19NM"]
    for lad, g in multi.groupby("LAD19CD"):
        rows = lk.index[lk["LAD19CD"] == lad]
        names = lk.loc[rows, "LSOA11NM"].astype(str)
        taken = {c: names.str.startswith(c + " ").to_numpy() for c in g["CSP19NM"]}
        rest = [c for c, m in taken.items() if not m.any()]
        pick = np.full(len(rows), rest[0] if rest else g["CSP19NM"].iloc[0], dtype=object)
        for c in reversed(list(g["CSP19NM"])):  # the first CSP a name starts with wins
            pick[taken[c]] = c
        by_name = g.drop_duplicates("CSP19NM").set_index("CSP19NM")
        lk.loc[rows, cols] = (
            by_name.loc[pick, ["CSP19CD", "PFA19CD", "PFA19NM"]]
            .assign(CSP19NM=pick)[cols]
            .to_numpy()
        )
    return lk.rename(
        columns={
            "LSOA11CD": "lsoa_code",
            "CSP19CD": "csp",
            "CSP19NM": "csp_name",
            "PFA19CD": "force",
            "PFA19NM": "force_name",
        }
    )[["lsoa_code", "district", "district_name", "csp", "csp_name", "force", "force_name"]]


def area_lookup(level: str, files: NationalFiles | None = None) -> pd.DataFrame:
    """LSOA 2011 code -> area code and name at ``level``.

    Parameters
    ----------
    level
        ``district``, ``csp`` or ``force``.
    files
        The national files (the shared ones by default).

    Returns
    -------
    pandas.DataFrame
        ``lsoa_code``, ``code``, ``name``: one row per LSOA 2011 of England and Wales.

    Raises
    ------
    StoreError
        For an unknown level or a missing file.
    """
    if level not in LEVELS:
        msg = f"unknown level {level!r}; choose one of {', '.join(LEVELS)}."
        raise StoreError(msg)
    lk = _lookup_all(_files(files))
    return lk[["lsoa_code", level, f"{level}_name"]].set_axis(["lsoa_code", "code", "name"], axis=1)


@functools.lru_cache(maxsize=4)
def _lsoa21_table(files: NationalFiles) -> pd.DataFrame:
    """LSOA 2021 residents, land area, district and the LSOA 2011 it is carried to.

    Land area is in km² of the made-valid polygon in EPSG:27700; the LSOA 2011 is the same
    code, else the one holding the LSOA 2021's representative point.
    """
    g = _lsoa_polygons(files.lsoa21, "LSOA21CD", "LSOA21NM")
    district = pd.read_parquet(files.lsoa21, columns=["LADCD_ACTIVE"])["LADCD_ACTIVE"]
    geom = shapely.make_valid(g.geometry.to_numpy())
    pop = pd.read_csv(files.population, usecols=["lsoa21_code", "total_usual_residents"])
    t = pd.DataFrame(
        {
            "lsoa21": g["code"].to_numpy(),
            "district": district.to_numpy(),
            "area_km2": shapely.area(geom) / 1e6,
        }
    )
    t = t.merge(
        pop.rename(columns={"lsoa21_code": "lsoa21", "total_usual_residents": "population"}),
        on="lsoa21",
        how="left",
    )
    l11 = _lsoa_polygons(files.lsoa11, "LSOA11CD", "LSOA11NM")
    same = t["lsoa21"].isin(set(l11["code"]))
    t["lsoa_code"] = np.where(same, t["lsoa21"], "")
    if (~same).any():
        pts = shapely.point_on_surface(geom[~same.to_numpy()])
        tree = shapely.STRtree(l11.geometry.to_numpy())
        pi, gi = tree.query(pts, predicate="within")
        first = np.unique(pi, return_index=True)[1]
        hit = np.full(len(pts), "", dtype=object)
        hit[pi[first]] = l11["code"].to_numpy()[gi[first]]
        t.loc[~same, "lsoa_code"] = hit
    return t


def home_forces(level: str, files: NationalFiles | None = None) -> pd.DataFrame:
    """The police force area each area lies in (Dec 2019 lookup).

    Parameters
    ----------
    level
        ``district``, ``csp`` or ``force``.
    files
        The national files.

    Returns
    -------
    pandas.DataFrame
        ``code``, ``force`` (PFA code), ``force_name`` and ``force_key``: the store's
        partition key its police.uk force would have (the PFA name as a key, ``London,
        City of`` read as ``City of London``), matched to a stored force key by prefix.
    """
    return _home_forces(level, _files(files)).copy()


@functools.lru_cache(maxsize=8)
def _home_forces(level: str, files: NationalFiles) -> pd.DataFrame:
    lk = _lookup_all(files)
    if level == "force":
        t = lk[["force", "force_name"]].drop_duplicates("force").assign(code=lambda d: d["force"])
    else:
        # The force holding most of the area's LSOAs (a district lies in one force).
        n = lk.groupby([level, "force", "force_name"], sort=True).size().reset_index(name="n")
        t = n.sort_values("n", ascending=False, kind="stable").drop_duplicates(level)
        t = t.sort_values(level).rename(columns={level: "code"}).reset_index(drop=True)

    def key(name: str) -> str:
        if ", " in name:
            head, _, tail = name.partition(", ")
            name = f"{tail} {head}"
        return force_key(name)

    t["force_key"] = t["force_name"].map(key)
    return t[["code", "force", "force_name", "force_key"]]


def covered_months(store: str | Path, level: str, files: NationalFiles | None = None) -> dict:
    """The months each area's own police force has a file for in the store.

    An area's month counts only when its force's file for the month was ingested: a
    missing force-month would otherwise read as a month without crime (the area would
    still hold British Transport Police rows and rows of neighbouring forces).

    Parameters
    ----------
    store
        The store folder.
    level
        ``district``, ``csp`` or ``force``.
    files
        The national files.

    Returns
    -------
    dict
        Area code -> set of ``YYYY-MM``.
    """
    root = open_store(store)
    present: dict[str, set[str]] = {}
    for e in partition_entries(root):
        present.setdefault(e.force_key, set()).add(e.month)
    out = {}
    for code, fkey in home_forces(level, files)[["code", "force_key"]].itertuples(index=False):
        months: set[str] = set()
        for k, m in present.items():
            if k == fkey or k.startswith(fkey + "-"):
                months |= m
        out[code] = months
    return out


class HomeForceMonths(NamedTuple):
    """What a store holds of an area's own police force (:func:`home_force_months`)."""

    force: str
    """The police force area's name (empty when the code is not an area of England and
    Wales)."""
    held: list[str]
    """The months asked about that the force has a file for, or all of them when it has
    none: the period rates are annualised over (:func:`analysis.rates.area_rates`)."""
    missing: list[str]
    """The months asked about that the force has no file for."""
    caveat: str
    """A warning for the user naming the missing months and the fix (empty when none)."""


def home_force_months(
    store: str | Path, code: str, months: list[str], files: NationalFiles | None = None
) -> HomeForceMonths:
    """Which of ``months`` the store holds a file of the area's own police force for.

    In a month the area's own force's file was not ingested, the area's rows are only
    British Transport Police rows and neighbouring forces' rows near its edge: counts
    that look like a quiet month, not a missing one. Such months are named (``caveat``)
    and left out of the period rates are annualised over (``held``); when the force has
    no file for any of them, ``held`` is every month (the caveat says why counts are low).

    Parameters
    ----------
    store
        The store folder.
    code
        A current district or CSP code (Dec 2019 CSPs).
    months
        ``YYYY-MM`` months the user is shown.
    files
        The national files.

    Returns
    -------
    HomeForceMonths
    """
    force, have = "", set(months)  # not an area of England and Wales: nothing to say
    for level in ("district", "csp"):
        forces = home_forces(level, files)
        row = forces[forces["code"] == code]
        if len(row):
            force = str(row["force_name"].iloc[0])
            have = covered_months(store, level, files).get(code, set())
            break
    missing = [m for m in months if m not in have]
    held = [m for m in months if m in have] or list(months)
    caveat = ""
    if missing:
        every = " (every month shown)" if len(missing) == len(months) > 1 else ""
        caveat = (
            f"The store holds no {force} police file for {', '.join(missing)}{every}: the "
            "counts of those months are only British Transport Police rows and neighbouring "
            "forces' rows near the edge, not the area's own crime. Ingest the force's street "
            "files for them (hotspots ingest FILES --store DIR)."
        )
    return HomeForceMonths(force, held, missing, caveat)


@functools.lru_cache(maxsize=4)
def _lsoa_polygons(path: Path, code: str, name: str) -> gpd.GeoDataFrame:
    """Every LSOA of one national file as read: ``code``, ``name``, geometry in BNG.

    Read and reprojected once per process: the LSOA 2021 table needs all of them, and
    each study area picks its own (the files have one row group, so reading one area's
    rows cost nearly as much as reading them all, 0.3-0.5 s a file).
    """
    gdf = to_bng(gpd.read_parquet(path, columns=[code, name, "geometry"]), name=path.name)
    return gdf.rename(columns={code: "code", name: "name"}).reset_index(drop=True)


def _lsoas_of(path: Path, code: str, name: str, codes: set[str]) -> gpd.GeoDataFrame:
    """The LSOAs of ``codes`` from one national file, in file order, made valid (a new frame)."""
    whole = _lsoa_polygons(path, code, name)
    out = whole[whole["code"].isin(codes)].reset_index(drop=True)
    out["geometry"] = shapely.make_valid(out.geometry.to_numpy())
    return out


def warm_national(files: NationalFiles | None = None) -> None:
    """Read the national files and derive their tables now, once per process.

    The area lookup, the LSOA 2021 table (residents, land area, the LSOA 2011 each is
    carried to) and the LSOA polygons of both vintages in BNG it is built from take a few
    seconds to build from the national files and are kept for the process; an app on a
    store builds them in the background at start, so that the first area a user picks
    does not wait for them (:func:`national_study_area` picks its LSOAs from those
    polygons).

    Parameters
    ----------
    files
        The national files (the shared ones by default).
    """
    f = _files(files)
    _lookup_all(f)
    _lsoa21_table(f)


def area_populations(level: str, files: NationalFiles | None = None) -> pd.DataFrame:
    """Census 2021 residents and land area of every area at ``level``.

    Parameters
    ----------
    level
        ``district``, ``csp`` or ``force``.
    files
        The national files.

    Returns
    -------
    pandas.DataFrame
        ``code``, ``name``, ``population``, ``area_km2``.
    """
    f = _files(files)
    lk = area_lookup(level, f)
    t = _lsoa21_table(f)
    if level == "district":
        names = lk.drop_duplicates("code").set_index("code")["name"]
        out = t.groupby("district", as_index=False).agg(
            population=("population", "sum"), area_km2=("area_km2", "sum")
        )
        out = out.rename(columns={"district": "code"})
        lad = pd.read_parquet(f.lad, columns=["LADCD", "LADNM"])
        out["name"] = (
            out["code"]
            .map(lad.set_index("LADCD")["LADNM"])
            .fillna(out["code"].map(names))
            .fillna("")
        )
    else:
        m = t.merge(lk, on="lsoa_code", how="left")
        out = m.groupby(["code", "name"], as_index=False).agg(
            population=("population", "sum"), area_km2=("area_km2", "sum")
        )
    out["population"] = out["population"].astype("int64")
    return out[["code", "name", "population", "area_km2"]].sort_values("code", ignore_index=True)


def _months_sql(
    month_from: str | None, month_to: str | None, types: list[str] | None = None
) -> tuple[str, list]:
    """SQL (and parameters) keeping some months, and some crime types when given."""
    where, params = ["true"], []
    if month_from:
        where.append("month >= ?")
        params.append(month_from)
    if month_to:
        where.append("month <= ?")
        params.append(month_to)
    if types:
        where.append(f"crime_type IN ({', '.join('?' * len(types))})")
        params += list(types)
    return " AND ".join(where), params


def _scan() -> str:
    return (
        "read_parquet(?, hive_partitioning=true, "
        "hive_types={'month': VARCHAR, 'force_key': VARCHAR})"
    )


def _has_data(store: Path) -> bool:
    return bool(partition_entries(store))


def national_counts(
    store: str | Path,
    level: str,
    month_from: str | None = None,
    month_to: str | None = None,
    *,
    types: list[str] | None = None,
    by: tuple[str, ...] = (),
    files: NationalFiles | None = None,
) -> pd.DataFrame:
    """Counts of accepted rows by area (and by month and/or type) in one query.

    Parameters
    ----------
    store
        The store folder.
    level
        ``district``, ``csp`` or ``force``.
    month_from, month_to
        Inclusive ``YYYY-MM`` bounds.
    types
        Crime types to count (all by default).
    by
        Extra keys among ``month``, ``crime_type`` and ``own_force`` (True for rows not
        from British Transport Police).
    files
        The national files.

    Returns
    -------
    pandas.DataFrame
        ``code`` (``""`` for rows in no area of England and Wales, e.g. PSNI), the ``by``
        columns and ``count``; only combinations with rows.
    """
    root = open_store(store)
    lk = area_lookup(level, files)
    counts = refresh_counts(root, month_from, month_to)
    if counts is None:
        return pd.DataFrame(columns=["code", *by, "count"])
    # The count table holds accepted rows only.
    where, params = _months_sql(month_from, month_to, types)
    keys = {
        "month": "month",
        "crime_type": "crime_type",
        "own_force": f"force_key <> '{BTP_KEY}' AS own_force",
    }
    extra = [keys[b] for b in by]
    names = list(by)
    sel = ", ".join(["lsoa_code", *extra])
    outer = "".join(", a." + n for n in names)
    con = connect()
    try:
        con.register("lk_df", lk[["lsoa_code", "code"]])
        con.execute("CREATE TEMP TABLE lk AS SELECT * FROM lk_df")
        con.unregister("lk_df")
        coded = run_query(
            con,
            root,
            f"""SELECT coalesce(lk.code, '') AS code{outer}, sum(n) AS n
                FROM (SELECT {sel}, n FROM read_parquet(?)
                      WHERE {where} AND lsoa_code <> '') a
                LEFT JOIN lk USING (lsoa_code) GROUP BY ALL""",
            [str(counts), *params],
        )
        placed = _place_uncoded(con, root, counts, where, params, names, extra, files)
    finally:
        con.close()
    agg = pd.concat([coded, placed], ignore_index=True) if len(placed) else coded
    out = agg.groupby(["code", *names], as_index=False, sort=True)["n"].sum()
    return out.rename(columns={"n": "count"}).astype({"count": "int64"})


def _place_uncoded(
    con: duckdb.DuckDBPyConnection,
    root: Path,
    counts: str,
    where: str,
    params: list,
    names: list[str],
    extra: list[str],
    files: NationalFiles | None,
) -> pd.DataFrame:
    """Rows without an LSOA code, placed in the LSOA 2011 polygon holding their point.

    police.uk points are snapped to map points, so each distinct point is placed once
    (DuckDB spatial join, ``ST_Contains`` in EPSG:4326, cached in the store as
    :data:`POINT_CACHE`); rows with neither a code nor a point count for no area
    (``code`` ``""``).
    """
    sel = ", ".join(["lon", "lat", *extra])
    outer = "".join(", a." + n for n in names)
    con.execute(
        f"""CREATE OR REPLACE TEMP TABLE uncoded AS SELECT {sel}, sum(n) AS n
            FROM read_parquet(?) WHERE {where} AND lsoa_code = '' GROUP BY ALL""",
        [str(counts), *params],
    )
    if not con.execute("SELECT count(*) FROM uncoded WHERE lon IS NOT NULL").fetchone()[0]:
        return con.execute(
            f"SELECT '' AS code{outer}, sum(n) AS n FROM uncoded a GROUP BY ALL"
        ).fetchdf()
    f = _files(files)
    _placed_points(con, root, f)
    return con.execute(
        f"""SELECT coalesce(lk.code, '') AS code{outer}, sum(a.n) AS n
            FROM uncoded a LEFT JOIN hits h ON a.lon = h.lon AND a.lat = h.lat
            LEFT JOIN lk ON lk.lsoa_code = h.lsoa_code GROUP BY ALL"""
    ).fetchdf()


POINT_CACHE = "cache/placed_points.parquet"
"""Where a store keeps the LSOA 2011 found for each distinct uncoded point (derived data:
rebuilt when missing, damaged or made with other polygons)."""


def _placed_points(con: duckdb.DuckDBPyConnection, root: Path, f: NationalFiles) -> None:
    """Table ``hits`` (lon, lat, lsoa_code): the LSOA of every distinct uncoded point.

    Points placed before are read from :data:`POINT_CACHE`; only new points are placed
    (spatial join), and the cache is rewritten atomically with them.
    """
    st = Path(f.lsoa11).stat()
    polygons = f"{Path(f.lsoa11).resolve()}:{st.st_size}:{st.st_mtime_ns}"
    con.execute(
        "CREATE OR REPLACE TEMP TABLE pts AS SELECT DISTINCT lon, lat FROM uncoded "
        "WHERE lon IS NOT NULL"
    )
    cache = root / POINT_CACHE
    con.execute("CREATE OR REPLACE TEMP TABLE hits (lon DOUBLE, lat DOUBLE, lsoa_code VARCHAR)")
    if cache.exists():
        try:
            con.execute(
                "INSERT INTO hits SELECT lon, lat, lsoa_code FROM read_parquet(?) "
                "WHERE polygons = ?",
                [str(cache), polygons],
            )
        except duckdb.Error:
            con.execute("DELETE FROM hits")  # a damaged cache is rebuilt
    con.execute("""CREATE OR REPLACE TEMP TABLE newpts AS SELECT lon, lat FROM pts
                   ANTI JOIN hits USING (lon, lat)""")
    if not con.execute("SELECT count(*) FROM newpts").fetchone()[0]:
        return
    path = str(spatial_extension_path()).replace("'", "''")
    con.execute(f"LOAD '{path}'")
    con.execute(
        f"""CREATE OR REPLACE TEMP TABLE lsoa11 AS SELECT LSOA11CD AS lsoa_code, geometry AS geom
            FROM read_parquet('{str(f.lsoa11).replace("'", "''")}')"""
    )
    con.execute(
        """INSERT INTO hits
           WITH j AS (SELECT p.lon, p.lat, min(l.lsoa_code) AS lsoa_code
                      FROM (SELECT lon, lat, ST_Point(lon, lat) AS pt FROM newpts) p
                      JOIN lsoa11 l ON ST_Contains(l.geom, p.pt) GROUP BY ALL)
           SELECT n.lon, n.lat, coalesce(j.lsoa_code, '') FROM newpts n
           LEFT JOIN j USING (lon, lat)"""
    )
    try:
        cache.parent.mkdir(exist_ok=True)
        tmp = cache.with_name(f".{cache.name}.{os.getpid()}.tmp")
        con.execute(
            f"""COPY (SELECT lon, lat, lsoa_code, ? AS polygons FROM hits)
                TO '{str(tmp).replace("'", "''")}' (FORMAT parquet)""",
            [polygons],
        )
        os.replace(tmp, cache)
    except (OSError, duckdb.Error):
        pass  # a store that cannot be written to is still read; the cache is optional


_FRAME_TYPES = {
    "source_file": "str",
    "crime_id": "str",
    "month": "str",
    "force": "str",
    "location": "str",
    "lsoa_code": "str",
    "lsoa_name": "str",
    "crime_type": "str",
    "outcome": "str",
    "context": "str",
}


def _in_list(column: str, values: list[str]) -> str:
    """SQL ``column IN ('a', 'b', ...)`` with the values quoted (``false`` for none)."""
    vals = sorted({str(v) for v in values})
    if not vals:
        return "false"
    return f"{column} IN (" + ", ".join("'" + v.replace("'", "''") + "'" for v in vals) + ")"


def _select_rows(
    store: str | Path,
    codes: list[str] | None,
    month_from: str | None,
    month_to: str | None,
    types: list[str] | None,
    bbox: tuple[float, float, float, float] | None,
) -> pd.DataFrame:
    """Accepted rows of some LSOA codes (and uncoded rows with a point in ``bbox``)."""
    root = open_store(store)
    cols = (
        'source_file, "row", crime_id, month, "force", location, lsoa_code, lsoa_name, '
        "crime_type, outcome, context, lon, lat, no_location"
    )
    empty = pd.DataFrame(columns=[c.strip().strip('"') for c in cols.split(",")])
    counts = refresh_counts(root, month_from, month_to)
    if counts is None:
        return empty
    # The count table holds accepted rows only; the partitions hold rejected rows too.
    count_where, params = _months_sql(month_from, month_to, types)
    where = f"reason = '' AND {count_where}"
    con = connect()
    try:
        # Where the wanted rows are, as conditions that are never combined with OR
        # (an OR stops DuckDB from using a condition to skip row groups: 1.15 s against
        # 0.06 s for Newcastle's parts): one query each, their results put together.
        # The codes are a literal list, which DuckDB checks against each row group's
        # statistics (on the count table 0.05 s against 0.21 s as a join, for
        # Newcastle's 175 codes over 60 months; on its 210 partitions 0.36 s against
        # 0.46 s).
        places = ["true"] if codes is None else [_in_list("lsoa_code", codes)]
        if bbox is not None and codes is not None:
            x0, y0, x1, y1 = (float(v) for v in bbox)
            near = (
                f"lsoa_code = '' AND lon BETWEEN {x0!r} AND {x1!r} "
                f"AND lat BETWEEN {y0!r} AND {y1!r}"
            )
            places.append(near)
        # The partitions holding each place's rows, from the count table; then the rows
        # of those partitions only, each place over its own partitions (rows without a
        # code near the area are in few partitions or none: scanning the area's
        # partitions a second time for them cost Newcastle's 60 months 0.1-0.2 s).
        hits = run_query(
            con,
            root,
            " UNION ALL ".join(
                f"SELECT DISTINCT {i} AS place, part FROM read_parquet(?) "
                f"WHERE {count_where} AND {p}"
                for i, p in enumerate(places)
            ),
            [v for _ in places for v in (str(counts), *params)],
        )
        scans = []
        for i, p in enumerate(places):
            parts = hits.loc[hits["place"] == i, "part"]
            if len(parts):
                scans.append((p, sorted(str(root / part) for part in parts)))
        if not scans:
            return empty
        return run_query(
            con,
            root,
            " UNION ALL ".join(
                f"SELECT {cols} FROM {_scan()} WHERE {where} AND {p}" for p, _ in scans
            )
            + ' ORDER BY month, source_file, "row"',
            [v for _, files in scans for v in (files, *params)],
            arrow=True,
        )
    finally:
        con.close()


def store_incidents(
    store: str | Path,
    lsoa_codes: set[str] | frozenset[str] | list[str],
    month_from: str | None = None,
    month_to: str | None = None,
    *,
    types: list[str] | None = None,
    lsoas: gpd.GeoDataFrame | None = None,
) -> gpd.GeoDataFrame:
    """The accepted rows of some LSOA 2011 codes, as an incident frame.

    Parameters
    ----------
    store
        The store folder.
    lsoa_codes
        LSOA 2011 codes (e.g. ``StudyArea.lsoa_codes``).
    month_from, month_to
        Inclusive ``YYYY-MM`` bounds.
    types
        Crime types (all by default).
    lsoas
        LSOA polygons (``code``, geometry, any CRS) to place rows without a code by their
        point, as the reader does; without them such rows are left out.

    Returns
    -------
    geopandas.GeoDataFrame
        The columns of :data:`geo.schema.INCIDENT_COLUMNS` plus ``context`` and geometry
        (EPSG:27700), with the dtypes :func:`geo.io.load_incidents` gives; no ward columns.
        Rows are in month, file and line order.
    """
    bbox = None
    if lsoas is not None and len(lsoas):
        bbox = tuple(reproject(lsoas, WGS84).total_bounds)
    df = _select_rows(store, list(lsoa_codes), month_from, month_to, types, bbox)
    x, y, geom = lonlat_points(df["lon"].to_numpy(float), df["lat"].to_numpy(float))
    keep = np.ones(len(df), dtype=bool)
    if bbox is not None:
        from geo.join import lsoa_at  # noqa: PLC0415

        need = (df["lsoa_code"] == "").to_numpy()
        if need.any():
            polys = to_bng(lsoas, name="lsoas")
            found = lsoa_at(x[need], y[need], polys)
            codes = df["lsoa_code"].to_numpy(dtype=object).copy()
            codes[need] = found
            df["lsoa_code"] = codes
            names = polys.set_index("code")["name"] if "name" in polys else pd.Series(dtype=str)
            df.loc[need, "lsoa_name"] = pd.Series(found).map(names).fillna("").to_numpy()
            keep = df["lsoa_code"].isin(set(lsoa_codes)).to_numpy()
    df = df[keep].reset_index(drop=True)
    x, y, geom = x[keep], y[keep], geom[keep]
    has = np.isfinite(x) & np.isfinite(y)
    out = pd.DataFrame(
        {
            "source_file": df["source_file"],
            "row": df["row"].astype("int64"),
            "crime_id": df["crime_id"],
            "month": df["month"],
            "datetime": pd.NaT,
            "force": df["force"],
            "location": df["location"],
            "lsoa_code": df["lsoa_code"],
            "lsoa_name": df["lsoa_name"],
            "crime_type": df["crime_type"],
            "outcome": df["outcome"],
            "context": df["context"],
            "has_location": has,
            "x": x,
            "y": y,
        }
    )
    out["datetime"] = out["datetime"].astype("datetime64[ns]")
    out = out.astype(_FRAME_TYPES)
    cols = [*INCIDENT_COLUMNS[:11], "context", *INCIDENT_COLUMNS[11:]]
    return gpd.GeoDataFrame(out[cols], geometry=geom, crs=BNG)


def load_from_store(
    store: str | Path,
    area: StudyArea,
    month_from: str | None = None,
    month_to: str | None = None,
    *,
    types: list[str] | None = None,
) -> LoadResult:
    """A study area's rows from the store, finished as :func:`geo.io.load_incidents` does.

    The rows of the area's LSOA codes (and rows without a code whose point lies near the
    area) go through :func:`geo.io.finish_incidents`: placed by point where the code is
    missing, checked against their LSOA's polygon (1 km), joined to wards and local areas.

    Parameters
    ----------
    store
        The store folder.
    area
        The study area.
    month_from, month_to
        Inclusive ``YYYY-MM`` bounds.
    types
        Crime types (all by default).

    Returns
    -------
    geo.io.LoadResult
        ``rows_in`` counts the store rows taken for the area; ``outside_area`` those
        without a code whose point fell outside it.
    """
    bbox = tuple(reproject(area.lsoas, WGS84).total_bounds)
    df = _select_rows(store, list(area.lsoa_codes), month_from, month_to, types, bbox)
    frame = pd.DataFrame(
        {
            "source_file": df["source_file"].astype(object),
            "row": df["row"].astype("int64"),
            "crime_id": df["crime_id"],
            "month": df["month"],
            "force": df["force"],
            "location": df["location"],
            "lsoa_code": df["lsoa_code"].astype(object),
            "lsoa_name": df["lsoa_name"],
            "crime_type": df["crime_type"],
            "outcome": df["outcome"],
            "context": df["context"],
            "lon": df["lon"].astype(float),
            "lat": df["lat"].astype(float),
            "no_location": df["no_location"].astype(bool),
            "reason": "",
            "raw": "",
        }
    )
    return finish_incidents([frame], area, encodings={}, duplicate_files=[], skipped=[])


def store_rejects(
    store: str | Path, month_from: str | None = None, month_to: str | None = None
) -> pd.DataFrame:
    """The rejected rows kept in a store.

    Parameters
    ----------
    store
        The store folder.
    month_from, month_to
        Inclusive bounds on the partition month.

    Returns
    -------
    pandas.DataFrame
        ``month``, ``force_key``, ``source_file``, ``row``, ``reason``, ``raw``.
    """
    root = open_store(store)
    cols = ["month", "force_key", "source_file", "row", "reason", "raw"]
    if not _has_data(root):
        return pd.DataFrame(columns=cols)
    where, params = _months_sql(month_from, month_to)
    where = f"reason <> '' AND {where}"
    con = connect()
    try:
        return run_query(
            con,
            root,
            f"""SELECT {", ".join(f'"{c}"' for c in cols)} FROM {_scan()}
                                  WHERE {where} ORDER BY month, force_key, source_file, "row" """,
            [data_glob(root), *params],
        )
    finally:
        con.close()


def _loose(text: str) -> str:
    t = str(text).lower().replace("&", " and ").replace("'", "").replace("\u2019", "")
    return " ".join("".join(c if c.isalnum() else " " for c in t).split())


def _districts_of(
    l11: gpd.GeoDataFrame, by_lsoa: pd.Series, rows: pd.DataFrame
) -> gpd.GeoDataFrame:
    """The districts of a partnership from its LSOAs 2011: code, name, population, outline."""
    names = rows.drop_duplicates("district").set_index("district")["district_name"]
    district = l11["code"].map(by_lsoa)
    records = []
    for code, part in l11.groupby(district, sort=True):
        records.append(
            {
                "code": code,
                "name": names[code],
                "population": int(part["population"].sum()),
                "geometry": outline_of_tiles(part.geometry.to_numpy()),
            }
        )
    return gpd.GeoDataFrame(records, geometry="geometry", crs=BNG)


def national_study_area(code_or_name: str, files: NationalFiles | None = None) -> StudyArea:
    """A study area for any district or CSP of England and Wales, from the national files.

    The LSOA 2011 polygons of the area (the codes police.uk uses), the LSOA 2021 polygons
    with their Census 2021 residents, and the whole area. No ward file covers England and
    Wales here, so the levels are LSOAs and the whole area only (said in each level's
    notes); there is no gazetteer, so hotspots are named after their streets.

    Parameters
    ----------
    code_or_name
        A district's current or former ONS code, a CSP's code, or either's name
        (matched loosely).
    files
        The national files (:data:`geo.paths.NATIONAL_DIR` by default).

    Returns
    -------
    geo.study_area.StudyArea

    Raises
    ------
    StoreError
        When nothing matches, or a file is missing.
    """
    f = _files(files)
    lk = _lookup_all(f)
    want = _loose(code_or_name)
    active = pd.read_csv(f.lad_active, dtype=str, usecols=["LADCD", "LADCD_ACTIVE"])
    old_to_new = dict(zip(active["LADCD"].str.lower(), active["LADCD_ACTIVE"], strict=True))
    district = old_to_new.get(want)
    rows = pd.DataFrame()
    for level, key in (("district", district), ("district", None), ("csp", None)):
        # Names compared once each (a few hundred), not once per LSOA row.
        named = {n for n in lk[f"{level}_name"].unique() if _loose(n) == want}
        codes = lk[level].str.lower()
        hit = (codes == (key.lower() if key else want)) | lk[f"{level}_name"].isin(named)
        if hit.any():
            rows = lk[hit]
            code = rows[level].iloc[0]
            name = rows[f"{level}_name"].iloc[0]
            break
    if rows.empty:
        msg = (
            f"area {code_or_name!r}: no district or CSP of England and Wales has that code "
            "or name (current and former district codes, CSP codes and names are known)."
        )
        raise StoreError(msg)
    lsoa_codes = set(rows["lsoa_code"])
    l11 = _lsoas_of(f.lsoa11, "LSOA11CD", "LSOA11NM", lsoa_codes)
    t = _lsoa21_table(f)
    t = t[t["lsoa_code"].isin(lsoa_codes)]
    l11["population"] = l11["code"].map(t.groupby("lsoa_code")["population"].sum()).fillna(0)
    l11["population"] = l11["population"].astype(int)
    l21 = _lsoas_of(f.lsoa21, "LSOA21CD", "LSOA21NM", set(t["lsoa21"]))
    l21["population"] = l21["code"].map(t.set_index("lsoa21")["population"]).fillna(0)
    l21["population"] = l21["population"].astype(int)
    total = int(l11["population"].sum())
    outline = gpd.GeoDataFrame(
        {"code": [code], "name": [name]},
        geometry=[outline_of_tiles(l21.geometry.to_numpy())],
        crs=BNG,
    )
    note = (
        "Census 2021 on LSOA 2021, carried onto LSOA 2011 (identical codes; other LSOAs "
        "by the LSOA 2011 holding the LSOA 2021's representative point)"
    )
    levels = {
        "lsoa": AreaLevel(
            "lsoa",
            "LSOAs (2011)",
            l11[["code", "name", "population", "geometry"]],
            "lsoa_code",
            "ONS LSOA December 2011 (the codes police.uk uses); no "
            "ward file covers this area, so LSOAs are the smallest areas",
            note,
        ),
        "lsoa21": AreaLevel(
            "lsoa21",
            "LSOAs (2021)",
            l21[["code", "name", "population", "geometry"]],
            "lsoa21_code",
            "ONS LSOA December 2021",
            "Census 2021",
        ),
        "borough": AreaLevel(
            "borough",
            "Whole area",
            outline.assign(population=total),
            None,
            "LSOA 2021 dissolved",
            "Census 2021",
        ),
    }
    lookup = pd.DataFrame(index=pd.Index(sorted(lsoa_codes), name="lsoa_code"))
    if level == "csp" and rows["district"].nunique() > 1:
        # A partnership of several districts: its districts are a level (packs count
        # within them), each the union of its LSOAs 2011.
        by_lsoa = rows.drop_duplicates("lsoa_code").set_index("lsoa_code")["district"]
        levels = {
            **{k: v for k, v in levels.items() if k != "borough"},
            "district": AreaLevel(
                "district",
                "Districts",
                _districts_of(l11, by_lsoa, rows),
                "district_code",
                "ONS LSOA December 2011 joined by their current district",
                note,
            ),
            "borough": levels["borough"],
        }
        lookup["district_code"] = lookup.index.map(by_lsoa)
    return StudyArea(
        code=code,
        name=name,
        outline=outline,
        levels=levels,
        lsoas=l11[["code", "name", "geometry"]],
        lsoa_wards=lookup,
        lsoas_2021=l21[["code", "name", "geometry"]],
    )
