"""Reading boundary layers, populations and a user's boundary file.

Every function is given the file it reads (the shipped paths are in :mod:`geo.paths`);
:func:`geo.study_area.load_study_area` puts the shipped ones together.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import fiona
import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import shapely
from pyproj.exceptions import CRSError, ProjError
from shapely.geometry import shape

from geo.crs import BNG, GB_BOUNDS_BNG, to_bng
from geo.errors import DataValidationError, InputError

__all__ = [
    "LEVEL_LAYERS",
    "BoundaryFile",
    "level_areas",
    "list_layers",
    "load_layer",
    "load_populations",
    "lsoa_ward_lookup",
    "outline_of_tiles",
    "read_boundary_file",
]

LEVEL_LAYERS = {
    "lsoa": "lsoa_2011",
    "ward": "wards_2018",
    "ward2002": "wards_2002",
    "local_area": "local_areas",
    "borough": "borough",
}
"""Which GeoPackage layer holds each area level."""


def outline_of_tiles(polygons: np.ndarray) -> shapely.Geometry:
    """The outline of polygons that tile an area (LSOAs of a district): their union.

    Areas like LSOAs share their edges exactly, so GEOS's coverage union joins them
    without the overlay a general union runs (Cornwall's 336 LSOAs: 9 ms against 0.17 s,
    the same outline). Whether they do tile is checked: when the coverage union fails
    (edges that do not share their vertices), is invalid, or its area falls short of
    the polygons' summed area (they overlap), the general union is returned instead.

    Parameters
    ----------
    polygons
        Array of shapely polygons or multipolygons.

    Returns
    -------
    shapely.Geometry

    Examples
    --------
    >>> tiles = np.array([shapely.box(0, 0, 1, 1), shapely.box(1, 0, 2, 1)])
    >>> outline_of_tiles(tiles).equals(shapely.box(0, 0, 2, 1))
    True
    >>> overlapping = np.array([shapely.box(0, 0, 2, 1), shapely.box(1, 0, 3, 1)])
    >>> outline_of_tiles(overlapping).equals(shapely.box(0, 0, 3, 1))
    True
    >>> extra_vertex = shapely.Polygon([(1, 0), (2, 0), (2, 1), (1, 1), (1, 0.5)])
    >>> outline_of_tiles(np.array([shapely.box(0, 0, 1, 1), extra_vertex])).equals(
    ...     shapely.box(0, 0, 2, 1)
    ... )
    True
    """
    polygons = np.asarray(polygons, dtype=object)
    try:
        joined = shapely.coverage_union_all(polygons)
    except shapely.errors.GEOSException:  # edges not shared vertex for vertex
        return shapely.union_all(polygons)
    summed = float(shapely.area(polygons).sum())
    if joined.is_valid and abs(joined.area - summed) <= 1e-9 * max(summed, 1.0):
        return joined
    return shapely.union_all(polygons)


def _shipped(path: Path) -> Path:
    if not path.exists():
        msg = (
            f"{path}: shipped file is missing. Restore it from the repository "
            "(git checkout -- <file>) or rebuild it with scripts/build_boundaries.py."
        )
        raise InputError(msg)
    return path


@lru_cache(maxsize=16)
def _load_layer_cached(name: str, path: str) -> gpd.GeoDataFrame:
    try:
        gdf = gpd.read_file(path, layer=name)
    except Exception as exc:
        msg = f"{path}: cannot read layer {name!r} ({exc}). Rebuild it with scripts/build_boundaries.py."
        raise InputError(msg) from exc
    # A GeoPackage with a few damaged bytes may still open: a damaged geometry then reads
    # as coordinates far outside Britain (or none, or an invalid shape). Refuse it.
    geoms = gdf.geometry
    lo_x, lo_y, hi_x, hi_y = GB_BOUNDS_BNG
    b = geoms.bounds
    inside = b["minx"].ge(lo_x) & b["miny"].ge(lo_y) & b["maxx"].le(hi_x) & b["maxy"].le(hi_y)
    bad = geoms.isna() | geoms.is_empty | ~inside | ~geoms.is_valid
    if gdf.crs is None or not gdf.crs.equals(BNG) or bad.any():
        what = (
            f"{int(bad.sum())} damaged geometr{'y' if bad.sum() == 1 else 'ies'}"
            if bad.any()
            else f"CRS {gdf.crs} instead of EPSG:27700"
        )
        msg = f"{path}: layer {name!r} has {what}. Rebuild it with scripts/build_boundaries.py."
        raise InputError(msg)
    return gdf


def load_layer(name: str, path: Path) -> gpd.GeoDataFrame:
    """Read one layer of a boundaries GeoPackage built by ``scripts/build_boundaries.py``.

    Parameters
    ----------
    name
        ``wards_2018``, ``wards_2002``, ``lsoa_2011``, ``lsoa_2021_new``,
        ``msoa_2011``, ``oa_2011``, ``local_areas`` or ``borough``.
    path
        The GeoPackage (the shipped one is :data:`geo.paths.GPKG`).

    Returns
    -------
    geopandas.GeoDataFrame
        A copy with columns ``code``, ``name`` (and others), in EPSG:27700.
    """
    gpkg = _shipped(Path(path))
    return _load_layer_cached(name, str(gpkg)).copy()


_POPULATION_FIX = "Restore it (git checkout) or rebuild it with scripts/build_populations.py."


@lru_cache(maxsize=4)
def _populations(path: str) -> pd.DataFrame:
    try:
        df = pd.read_csv(path, dtype={"code": str, "name": str, "level": str}, encoding="utf-8")
    except (UnicodeDecodeError, pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        msg = f"{path}: not a readable CSV ({first}). {_POPULATION_FIX}"
        raise InputError(msg) from exc
    missing = [c for c in ("level", "code", "population", "population_2011") if c not in df]
    if missing:
        msg = f"{path}: column(s) {missing} missing. {_POPULATION_FIX}"
        raise InputError(msg)
    for col in ("population", "population_2011"):
        values = pd.to_numeric(df[col], errors="coerce")
        if values.isna().any() or (values < 0).any():
            line = int((values.isna() | (values < 0)).to_numpy().argmax()) + 2
            msg = f"{path}: line {line}, column {col!r} is not a count of residents. {_POPULATION_FIX}"
            raise InputError(msg)
        df[col] = values
    return df


def load_populations(path: Path) -> pd.DataFrame:
    """Census 2021 residents by area level (see ``data/population/README.md``).

    Parameters
    ----------
    path
        The population CSV (the shipped one is :data:`geo.paths.POPULATION_PATH`).

    Returns
    -------
    pandas.DataFrame
        Columns ``level``, ``code``, ``name``, ``population`` (2021),
        ``population_2011``; every level sums to the borough's 136,435.
    """
    p = _shipped(Path(path))
    df = _populations(str(p)).copy()
    df.attrs["path"] = str(p)
    return df


def lsoa_ward_lookup(path: Path, lsoa_codes: set[str]) -> pd.DataFrame:
    """The ward (both sets) holding most of each LSOA 2011's residents.

    Parameters
    ----------
    path
        The lookup CSV (the shipped one is :data:`geo.paths.LSOA_WARDS_PATH`).
    lsoa_codes
        The LSOA 2011 codes it must cover.

    Returns
    -------
    pandas.DataFrame
        Indexed by ``lsoa_code``, with ``ward_code`` and ``ward2002_code``.

    Raises
    ------
    InputError
        If the file is unreadable or does not cover every LSOA.
    """
    p = _shipped(Path(path))
    fix = "Restore it (git checkout) or rebuild it with scripts/build_populations.py."
    try:
        df = pd.read_csv(p, dtype=str, encoding="utf-8")
    except (UnicodeDecodeError, pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        msg = f"{p}: not a readable CSV ({type(exc).__name__}). {fix}"
        raise InputError(msg) from exc
    need = ["lsoa_code", "ward_code", "ward2002_code"]
    lsoas = set(lsoa_codes)
    if (
        any(c not in df for c in need)
        or df[need].isna().any().any()
        or lsoas - set(df["lsoa_code"])
    ):
        msg = f"{p}: columns {need} do not cover the borough's {len(lsoas)} LSOAs. {fix}"
        raise InputError(msg)
    return df.set_index("lsoa_code")


def level_areas(level: str, gpkg: Path, populations: pd.DataFrame) -> gpd.GeoDataFrame:
    """Polygons of one area level with their population.

    Parameters
    ----------
    level
        One of ``lsoa``, ``ward`` (2018), ``ward2002``, ``local_area``, ``borough``.
    gpkg
        The boundaries GeoPackage.
    populations
        Residents by level (:func:`load_populations`).

    Returns
    -------
    geopandas.GeoDataFrame
        Columns ``code``, ``name``, ``population``, ``population_2011``, ``geometry``.
    """
    if level not in LEVEL_LAYERS:
        msg = f"unknown level {level!r}; choose one of {', '.join(LEVEL_LAYERS)}."
        raise InputError(msg)
    gdf = load_layer(LEVEL_LAYERS[level], gpkg)
    pops = populations[populations["level"] == level].drop_duplicates("code").set_index("code")
    gdf["population"] = gdf["code"].map(pops["population"]).astype("Int64")
    gdf["population_2011"] = gdf["code"].map(pops["population_2011"]).astype("Int64")
    lost = gdf.loc[gdf["population"].isna(), "code"].tolist()
    if lost:
        msg = (
            f"{populations.attrs.get('path', 'the population file')}: no population for "
            f"{len(lost)} of the {len(gdf)} areas of level "
            f"{level!r} ({', '.join(lost[:3])}{', ...' if len(lost) > 3 else ''}): the file "
            f"is damaged or cut short. {_POPULATION_FIX}"
        )
        raise InputError(msg)
    return gdf


def list_layers(path: str | Path) -> list[str]:
    """List the layers of a vector file (GeoPackage, Shapefile, GeoJSON...).

    Raises
    ------
    InputError
        If GDAL cannot open the file.
    """
    try:
        # pyogrio opens it first: fiona 1.10 crashes the process (segmentation fault) on
        # some damaged GeoPackages, whose GDAL error message is not UTF-8.
        pyogrio.list_layers(str(path))
        return list(fiona.listlayers(str(path)))
    except Exception as exc:
        msg = f"{path}: not a boundary file GDAL can read ({exc}). Use GeoPackage, GeoJSON or Shapefile."
        raise InputError(msg) from exc


def _bad_crs(path: Path, exc: Exception) -> InputError:
    return InputError(
        f"{path.name}: its coordinate reference system cannot be used ({exc}). The .prj file "
        "(or the layer's CRS) is damaged: export the file again, preferably as GeoPackage."
    )


@dataclass
class BoundaryFile:
    """A boundary file read feature by feature.

    Attributes
    ----------
    areas
        The usable features, repaired and in EPSG:27700.
    problems
        One message per feature that was skipped or repaired, naming the file and the
        feature (its number, and its code and name when those columns were given).
    """

    areas: gpd.GeoDataFrame
    problems: list[str] = field(default_factory=list)


def read_boundary_file(
    path: str | Path,
    *,
    layer: str | None = None,
    code_col: str | None = None,
    name_col: str | None = None,
) -> BoundaryFile:
    """Read a user's boundary file, naming every broken feature.

    Features are read one at a time with fiona so that a few broken features do not
    lose the rest: features with no geometry or a geometry that cannot be parsed are
    skipped and named; invalid polygons are repaired with ``make_valid`` and named.

    Parameters
    ----------
    path
        Any vector file GDAL reads.
    layer
        Layer name for multi-layer files (GeoPackage); defaults to the only layer.
    code_col, name_col
        Attribute columns to expose as ``code`` and ``name``.

    Returns
    -------
    BoundaryFile

    Raises
    ------
    InputError
        If the file cannot be opened, has several layers and none was chosen, has no
        CRS, or has no usable feature.
    """
    path = Path(path)
    layers = list_layers(path)
    if layer is None:
        if len(layers) > 1:
            msg = f"{path.name}: has {len(layers)} layers {layers}; choose one with layer=."
            raise InputError(msg)
        layer = layers[0]
    elif layer not in layers:
        msg = f"{path.name}: no layer {layer!r}; the layers are {layers}."
        raise InputError(msg)
    try:
        pyogrio.read_info(str(path), layer=layer)  # as in list_layers: before fiona opens it
    except Exception as exc:
        msg = f"{path.name}: layer {layer!r} cannot be read ({exc}). The file is damaged; export it again."
        raise InputError(msg) from exc
    problems: list[str] = []
    records, geoms = [], []
    try:
        with fiona.open(path, layer=layer) as src:
            if not src.crs:
                msg = (
                    f"{path.name}: no coordinate reference system, so it cannot be placed on the "
                    "map. Add the .prj file beside the Shapefile, or re-export it as GeoPackage."
                )
                raise InputError(msg)
            crs = src.crs.to_wkt() if hasattr(src.crs, "to_wkt") else src.crs
            for i, feat in enumerate(src):
                props = dict(feat["properties"] or {})
                ident = [str(props.get(c)) for c in (code_col, name_col) if c and props.get(c)]
                label = f"{path.name}: feature {i + 1}" + (f" ({' '.join(ident)})" if ident else "")
                if feat.geometry is None:
                    problems.append(f"{label}: no geometry, skipped")
                    continue
                try:
                    geom = shape(feat.geometry)
                except Exception as exc:  # noqa: BLE001 - name the feature, keep the rest
                    problems.append(f"{label}: unreadable geometry ({exc}), skipped")
                    continue
                if geom.is_empty:
                    problems.append(f"{label}: empty geometry, skipped")
                    continue
                if not geom.is_valid:
                    why = shapely.is_valid_reason(geom)
                    geom = shapely.make_valid(geom, method="structure", keep_collapsed=False)
                    if geom.is_empty:
                        problems.append(
                            f"{label}: invalid geometry ({why}) with no area left "
                            "once repaired, skipped"
                        )
                        continue
                    problems.append(f"{label}: invalid geometry ({why}), repaired")
                records.append(props)
                geoms.append(geom)
    except InputError:
        raise
    except Exception as exc:  # noqa: BLE001 - fiona/GDAL raise many kinds on a damaged file
        done = len(records) + len(problems)
        msg = (
            f"{path.name}: damaged after {done} feature(s) ({type(exc).__name__}: {exc}); "
            "export it again."
        )
        raise InputError(msg) from exc
    if not geoms:
        raise DataValidationError(str(path.name), problems or ["no features"])
    try:
        gdf = gpd.GeoDataFrame(records, geometry=geoms, crs=crs)
    except CRSError as exc:
        raise _bad_crs(path, exc) from exc
    for want, col in (("code", code_col), ("name", name_col)):
        if col is not None:
            if col not in gdf.columns:
                msg = f"{path.name}: no column {col!r}; found {list(gdf.columns.drop('geometry'))}."
                raise InputError(msg)
            gdf[want] = gdf[col].astype(str)
    try:
        gdf = to_bng(gdf, name=path.name)
    except (CRSError, ProjError) as exc:
        raise _bad_crs(path, exc) from exc
    assert gdf.crs.equals(BNG)
    return BoundaryFile(areas=gdf, problems=problems)
