"""Read a street network from a file the user has, into one normalised frame.

Three sources are read:

* **OS Open Roads** road links (GeoPackage layer ``road_link`` or the GeoJSON
  ``RoadLink`` export): fields ``function``/``road_function``, ``class``/
  ``road_classification``, ``name1``/``name_1``, ``startNode``/``start_node``,
  ``endNode``/``end_node``.
* **OS OpenMap Local** roads (layer ``Road`` or ``roads``): fields ``DISTNAME`` and
  ``CLASSIFICATION`` (``CLASSIFICA`` in a Shapefile); no node ids, so nodes are found
  by snapping the links' shared ends.
* **OpenStreetMap** extracts (``.osm`` XML or ``.osm.pbf``), read with ``osmium``:
  every ``highway=*`` way that can be walked or driven, split at the nodes it shares
  with other ways, its ``name`` kept.

Whatever the source, :func:`read_streets` returns a frame in EPSG:27700 with the
columns of :data:`STREET_COLUMNS`: ``name``, ``road_class`` (one of
:data:`ROAD_CLASSES`), ``length_m``, ``start_node``, ``end_node``, ``geometry``
(a 2-D ``LineString``). A file the service cannot use ends in one
:class:`~geo.errors.InputError` naming the file and the fix: no lines, no CRS,
coordinates off Great Britain, too large (:data:`MAX_STREETS_BYTES`,
:data:`MAX_STREET_LINKS`), damaged, or outside the study area
(:func:`check_streets_cover`).
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import geopandas as gpd
import numpy as np
import osmium
import pandas as pd
import pyogrio
import shapely
from pyproj import Transformer
from pyproj.exceptions import CRSError, ProjError
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components
from scipy.spatial import cKDTree

from geo.crs import BNG, GB_BOUNDS_BNG, WGS84
from geo.errors import InputError

__all__ = [
    "MAX_STREETS_BYTES",
    "MAX_STREET_LINKS",
    "COVER_REACH_M",
    "MIN_AREA_COVER_SHARE",
    "NODE_SNAP_M",
    "ROAD_CLASSES",
    "STREET_COLUMNS",
    "check_streets_cover",
    "read_streets",
    "road_class",
]

MAX_STREETS_BYTES = 1024 * 1024 * 1024
"""Largest street file read (1 GiB). A county's OpenStreetMap ``.osm.pbf`` is well under
100 MiB and a county's OS Open Roads GeoPackage a few hundred MiB; the whole of Great
Britain (about 1.6 GiB) is refused: clip it to the area first."""

MAX_STREET_LINKS = 400_000
"""Most road links one file may hold: a county (Hampshire has about 150,000 OS Open Roads
links). Memory and the map grow with links, so a national file is refused."""

MIN_AREA_COVER_SHARE = 0.5
"""Least share of the study area that must lie inside the streets' outline
(:func:`check_streets_cover`) for the file to be used."""

COVER_REACH_M = 250.0
"""Ground this far beyond the streets' outline counts as covered (:func:`check_streets_cover`)."""

NODE_SNAP_M = 0.5
"""Link ends closer than this (metres) are one node when a file has no node ids."""

ROAD_CLASSES = ("motorway", "a_road", "b_road", "minor", "local", "pedestrian", "other")
"""The road classes of the normalised frame, from the largest roads to the smallest."""

STREET_COLUMNS = ("name", "road_class", "length_m", "start_node", "end_node", "geometry")
"""Columns of the frame :func:`read_streets` returns, in order."""

_OSM_SUFFIXES = (".osm", ".pbf", ".osm.pbf", ".osm.xml")

# OS Open Roads ``function`` (road_function), OS ``class`` (road_classification),
# OpenMap Local ``CLASSIFICATION`` and OSM ``highway`` values, lower case.
_CLASS_OF = {
    # OS Open Roads function
    "motorway": "motorway",
    "a road": "a_road",
    "b road": "b_road",
    "minor road": "minor",
    "local road": "local",
    "local access road": "local",
    "restricted local access road": "local",
    "secondary access road": "local",
    # OS Open Roads class
    "classified unnumbered": "minor",
    "not classified": "local",
    "unclassified": "local",
    # OS OpenMap Local classification
    "primary road": "a_road",
    "a road, collapsed dual carriageway": "a_road",
    "b road, collapsed dual carriageway": "b_road",
    "primary road, collapsed dual carriageway": "a_road",
    "motorway, collapsed dual carriageway": "motorway",
    "local street": "local",
    "private road publicly accessible": "local",
    "private road restricted access": "local",
    "pedestrianised street": "pedestrian",
    # OpenStreetMap highway
    "motorway_link": "motorway",
    "trunk": "a_road",
    "trunk_link": "a_road",
    "primary": "a_road",
    "primary_link": "a_road",
    "secondary": "b_road",
    "secondary_link": "b_road",
    "tertiary": "minor",
    "tertiary_link": "minor",
    "residential": "local",
    "living_street": "local",
    "service": "local",
    "road": "local",
    "pedestrian": "pedestrian",
    "footway": "pedestrian",
    "path": "pedestrian",
    "steps": "pedestrian",
    "cycleway": "pedestrian",
    "bridleway": "pedestrian",
    "track": "other",
    "busway": "other",
}

_OSM_SKIP = {
    "proposed",
    "construction",
    "abandoned",
    "disused",
    "razed",
    "platform",
    "raceway",
    "bus_stop",
    "elevator",
    "rest_area",
    "services",
    "emergency_access_point",
    "street_lamp",
    "turning_circle",
    "turning_loop",
    "crossing",
    "traffic_signals",
    "give_way",
    "stop",
    "mini_roundabout",
    "motorway_junction",
    "no",
}
"""``highway`` values that are not a way to walk or drive along."""

# Field names, lower case, in the order they are tried.
_NAME_FIELDS = (
    "name1",
    "name_1",
    "distname",
    "distinctive_name",
    "name",
    "roadname",
    "road_name",
    "street_name",
)
_NUMBER_FIELDS = ("roadnumber", "road_classification_number", "road_number", "ref")
_FUNCTION_FIELDS = ("function", "road_function")
_CLASS_FIELDS = ("class", "road_classification", "classification", "classifica")
_FEATCODE_FIELDS = ("featcode", "feature_code")
_FEATCODE_CLASS = {
    25710: "motorway",
    25719: "a_road",  # primary road
    25723: "a_road",
    25729: "b_road",
    25743: "minor",
    25750: "local",
    25760: "local",  # private road, publicly accessible
    25780: "pedestrian",
}
"""OS OpenMap Local road feature codes, used when a file has no classification."""
_START_FIELDS = ("startnode", "start_node")
_END_FIELDS = ("endnode", "end_node")
_LAYER_NAMES = ("road_link", "roadlink", "road", "roads", "road_line", "roadline", "lines")


def road_class(function: object = None, os_class: object = None, highway: object = None) -> str:
    """Map an OS ``function``/``class`` or an OSM ``highway`` value to a road class.

    Parameters
    ----------
    function
        OS Open Roads ``function`` (``"A Road"``, ``"Local Access Road"``...) or OS
        OpenMap Local ``CLASSIFICATION``; tried first.
    os_class
        OS Open Roads ``class`` (``"Not Classified"``...), used when ``function`` is
        missing or unknown.
    highway
        An OpenStreetMap ``highway`` value (``"residential"``, ``"footway"``...).

    Returns
    -------
    str
        One of :data:`ROAD_CLASSES`; ``"other"`` when nothing is known.

    Examples
    --------
    >>> road_class("Local Access Road"), road_class(None, "B Road"), road_class(highway="steps")
    ('local', 'b_road', 'pedestrian')
    """
    for value in (function, os_class, highway):
        if isinstance(value, str) and value.strip():
            found = _CLASS_OF.get(value.strip().lower())
            if found:
                return found
    return "other"


# ------------------------------------------------------------------------------ helpers


def _size_text(n: int) -> str:
    for unit, scale in (("GiB", 2**30), ("MiB", 2**20), ("KiB", 2**10)):
        if n >= scale:
            return f"{n / scale:.3g} {unit}"
    return f"{n} bytes"


def _too_many(name: str, n: int, limit: int) -> InputError:
    return InputError(
        f"{name}: {n:,} road links is more than the {limit:,} one street file may hold "
        "(about a county). Clip it to the study area in your GIS, or download a smaller "
        "extract, and load it again."
    )


def _first_line(exc: BaseException, limit: int = 120) -> str:
    """The first line of an error's text, cut to ``limit`` characters."""
    text = str(exc).strip()
    first = text.splitlines()[0].strip() if text else type(exc).__name__
    return first if len(first) <= limit else first[: limit - 3].rstrip() + "..."


def _is_osm(path: Path, head: bytes) -> bool:
    name = path.name.lower()
    if name.endswith(_OSM_SUFFIXES):
        return True
    return b"OSMHeader" in head[:32] or (b"<osm" in head[:512] and b"<?xml" in head[:64])


def _field(columns: Iterable[str], candidates: tuple[str, ...]) -> str | None:
    lower = {c.lower(): c for c in columns}
    for cand in candidates:
        if cand in lower:
            return lower[cand]
    return None


def _text(values: pd.Series) -> pd.Series:
    """Strings with missing values as ``""``."""
    out = values.astype(object).where(values.notna(), "")
    return out.map(lambda v: str(v).strip())


def _snap_nodes(ends: np.ndarray, tol_m: float) -> np.ndarray:
    """One node id per point: points within ``tol_m`` of each other share one."""
    n = len(ends)
    if n == 0:
        return np.empty(0, dtype=object)
    pairs = cKDTree(ends).query_pairs(tol_m, output_type="ndarray")
    graph = coo_matrix((np.ones(len(pairs)), (pairs[:, 0], pairs[:, 1])), shape=(n, n))
    _, label = connected_components(graph, directed=False)
    return np.array([f"n{v}" for v in label], dtype=object)


def _choose_layer(path: Path, layer: str | None) -> str:
    try:
        layers = pyogrio.list_layers(str(path))
    except Exception as exc:  # noqa: BLE001 - GDAL raises several kinds on garbage
        msg = (
            f"{path.name}: cannot be read: it is damaged or not a street file "
            f"({_first_line(exc)}). Export it again, or use OS Open Roads or OS OpenMap "
            "Local (GeoPackage, GeoJSON or Shapefile) or an OpenStreetMap .osm / .osm.pbf "
            "extract."
        )
        raise InputError(msg) from exc
    names = [str(row[0]) for row in layers]
    geoms = {str(row[0]): str(row[1] or "") for row in layers}
    if not names:
        msg = f"{path.name}: holds no layer at all. Export the road links again."
        raise InputError(msg)
    if layer is not None:
        if layer not in names:
            msg = f"{path.name}: no layer {layer!r}; its layers are {names}."
            raise InputError(msg)
        return layer
    if len(names) == 1:
        return names[0]
    lower = {n.lower(): n for n in names}
    for want in _LAYER_NAMES:
        if want in lower:
            return lower[want]
    lines = [n for n in names if "line" in geoms[n].lower()]
    if len(lines) == 1:
        return lines[0]
    msg = f"{path.name}: has {len(names)} layers {names}; choose the road links with layer=."
    raise InputError(msg)


def _read_gdal(
    path: Path, layer: str | None, max_links: int, bbox_bng: tuple | None = None
) -> tuple[gpd.GeoDataFrame, bool]:
    """Read the features (those meeting ``bbox_bng``) and say whether they carry node ids."""
    layer = _choose_layer(path, layer)
    try:
        info = pyogrio.read_info(str(path), layer=layer, force_feature_count=True)
    except Exception as exc:  # noqa: BLE001
        msg = f"{path.name}: layer {layer!r} cannot be read ({_first_line(exc)}). The file is damaged; export it again."
        raise InputError(msg) from exc
    count = int(info.get("features") or 0)
    if count > max_links and bbox_bng is None:
        raise _too_many(path.name, count, max_links)
    if not info.get("crs"):
        msg = (
            f"{path.name}: no coordinate reference system, so its streets cannot be placed "
            "on the map. Add the .prj file beside the Shapefile, or re-export it as "
            "GeoPackage (OS files are in British National Grid, EPSG:27700)."
        )
        raise InputError(msg)
    bbox = None
    if bbox_bng is not None:
        try:  # the study area's box in the file's CRS: only links near it are read
            to_file = Transformer.from_crs(BNG, info["crs"], always_xy=True)
            bbox = tuple(to_file.transform_bounds(*bbox_bng))
            bbox = bbox if np.isfinite(bbox).all() else None
        except (CRSError, ProjError, ValueError, TypeError):
            bbox = None
        if bbox is None and count > max_links:
            raise _too_many(path.name, count, max_links)
    try:
        raw = pyogrio.read_dataframe(str(path), layer=layer, on_invalid="ignore", bbox=bbox)
    except Exception as exc:  # noqa: BLE001
        msg = f"{path.name}: layer {layer!r} is damaged and cannot be read ({_first_line(exc)}); export it again."
        raise InputError(msg) from exc
    if not isinstance(raw, gpd.GeoDataFrame) or raw.geometry.name not in raw:
        msg = f"{path.name}: layer {layer!r} has no geometry: choose the road links layer."
        raise InputError(msg)
    if len(raw) > max_links:
        raise _too_many(path.name, len(raw), max_links)
    cols = [c for c in raw.columns if c != raw.geometry.name]
    name_col = _field(cols, _NAME_FIELDS)
    number_col = _field(cols, _NUMBER_FIELDS)
    func_col = _field(cols, _FUNCTION_FIELDS)
    class_col = _field(cols, _CLASS_FIELDS)
    start_col, end_col = _field(cols, _START_FIELDS), _field(cols, _END_FIELDS)
    n = len(raw)
    empty = pd.Series([""] * n, index=raw.index, dtype=object)
    names = _text(raw[name_col]) if name_col else empty
    if number_col:
        number = _text(raw[number_col])
        names = names.where(names != "", number)
    function = _text(raw[func_col]) if func_col else empty
    os_class = _text(raw[class_col]) if class_col else empty
    classes = [road_class(f, c) for f, c in zip(function, os_class, strict=True)]
    code_col = _field(cols, _FEATCODE_FIELDS)
    if code_col and not (func_col or class_col):
        codes = pd.to_numeric(raw[code_col], errors="coerce").to_numpy()
        classes = [
            _FEATCODE_CLASS.get(int(c), "other") if np.isfinite(c) else "other" for c in codes
        ]
    own_col = _field(cols, ("road_class",))
    if own_col:  # a file this service wrote (or in its schema): its classes stand
        own = _text(raw[own_col]).str.lower().to_numpy(object)
        classes = [o if o in ROAD_CLASSES else c for o, c in zip(own, classes, strict=True)]
    frame = gpd.GeoDataFrame(
        {
            "name": names.to_numpy(object),
            "road_class": classes,
            "start_node": (_text(raw[start_col]) if start_col else empty).to_numpy(object),
            "end_node": (_text(raw[end_col]) if end_col else empty).to_numpy(object),
        },
        geometry=raw.geometry.to_numpy(),
        crs=raw.crs,
    )
    has_nodes = bool(start_col and end_col) and bool(
        (frame["start_node"] != "").all() and (frame["end_node"] != "").all()
    )
    return frame, has_nodes


def _read_osm(path: Path, max_links: int, bbox_bng: tuple | None = None) -> gpd.GeoDataFrame:
    """Read ``highway=*`` ways (with a node in ``bbox_bng``), split at shared nodes."""
    ways: list[tuple[str, str, list[int], list[tuple[float, float]]]] = []
    lo_lon = lo_lat = -np.inf
    hi_lon = hi_lat = np.inf
    if bbox_bng is not None:
        to_lonlat = Transformer.from_crs(BNG, WGS84, always_xy=True)
        lo_lon, lo_lat, hi_lon, hi_lat = to_lonlat.transform_bounds(*bbox_bng)
    try:
        fp = (
            osmium.FileProcessor(str(path), osmium.osm.NODE | osmium.osm.WAY)
            .with_locations()
            .with_filter(osmium.filter.EntityFilter(osmium.osm.WAY))
            .with_filter(osmium.filter.KeyFilter("highway"))
        )
        for way in fp:
            highway = str(way.tags.get("highway", "")).strip().lower()
            if highway in _OSM_SKIP or str(way.tags.get("area", "")) == "yes":
                continue
            refs, coords = [], []
            for nd in way.nodes:
                if not nd.location.valid():
                    continue
                refs.append(int(nd.ref))
                coords.append((float(nd.lon), float(nd.lat)))
            if len(refs) < 2:
                continue
            if bbox_bng is not None and not any(
                lo_lon <= x <= hi_lon and lo_lat <= y <= hi_lat for x, y in coords
            ):
                continue
            name = str(way.tags.get("name", "") or way.tags.get("ref", "")).strip()
            ways.append((name, road_class(highway=highway), refs, coords))
            if len(ways) > max_links:
                raise _too_many(path.name, len(ways), max_links)
    except InputError:
        raise
    except Exception as exc:  # noqa: BLE001 - osmium raises RuntimeError and others
        msg = (
            f"{path.name}: damaged or not an OpenStreetMap file ({_first_line(exc)}). Download the "
            ".osm.pbf extract again (or export .osm XML) and load it again."
        )
        raise InputError(msg) from exc
    # A node used by two ways, or twice by one, is a junction: links end there.
    used: dict[int, int] = {}
    for _, _, refs, _ in ways:
        for i, ref in enumerate(refs):
            weight = 2 if i in (0, len(refs) - 1) else 1
            used[ref] = used.get(ref, 0) + weight
    rows: list[tuple[str, str, str, str]] = []
    geoms: list[shapely.LineString] = []
    for name, cls, refs, coords in ways:
        start = 0
        for i in range(1, len(refs)):
            if i == len(refs) - 1 or used[refs[i]] > 1:
                part = coords[start : i + 1]
                if len(set(part)) >= 2:
                    rows.append((name, cls, f"osm{refs[start]}", f"osm{refs[i]}"))
                    geoms.append(shapely.LineString(part))
                start = i
        if len(rows) > max_links:
            raise _too_many(path.name, len(rows), max_links)
    frame = pd.DataFrame(rows, columns=["name", "road_class", "start_node", "end_node"])
    return gpd.GeoDataFrame(frame, geometry=geoms, crs=WGS84)


def _only_lines(frame: gpd.GeoDataFrame, name: str) -> tuple[gpd.GeoDataFrame, int]:
    """The line features, MultiLineStrings split into parts; and how many were skipped."""
    geoms = frame.geometry.to_numpy()
    missing = shapely.is_missing(geoms) | shapely.is_empty(geoms)
    types = np.array([g.geom_type if g is not None else "" for g in geoms], dtype=object)
    is_line = np.isin(types, ["LineString", "MultiLineString", "LinearRing"]) & ~missing
    if not is_line.any():
        present = pd.Series(types[~missing]).value_counts()
        held = (
            ", ".join(f"{v:,} {k}" for k, v in present.items()) if len(present) else "no geometry"
        )
        msg = (
            f"{name}: holds no lines ({held}). Load the road links (OS Open Roads "
            "'road_link', OS OpenMap Local 'Road') or an OpenStreetMap extract."
        )
        raise InputError(msg)
    lines = frame[is_line].copy()
    lines = lines.set_geometry(shapely.force_2d(lines.geometry.to_numpy()))
    parts = lines.explode(index_parts=True)
    # A multi-part link keeps its file's node ids only at its outer ends.
    level0 = parts.index.get_level_values(0)
    count = pd.Series(level0).map(pd.Series(level0).value_counts()).to_numpy()
    part_no = parts.index.get_level_values(1).to_numpy()
    parts = parts.reset_index(drop=True)
    multi = count > 1
    if multi.any():
        parts.loc[multi & (part_no > 0), "start_node"] = ""
        parts.loc[multi & (part_no < count - 1), "end_node"] = ""
    geo = parts.geometry.to_numpy()
    ok = ~shapely.is_empty(geo) & (shapely.get_num_coordinates(geo) >= 2)
    parts = parts[ok].reset_index(drop=True)
    parts = parts.set_geometry(
        [shapely.LineString(g.coords) if g.geom_type == "LinearRing" else g for g in parts.geometry]
    )
    return parts, int((~is_line).sum() + (~ok).sum())


def _to_bng(frame: gpd.GeoDataFrame, name: str) -> gpd.GeoDataFrame:
    if frame.crs is None:
        msg = (
            f"{name}: no coordinate reference system, so its streets cannot be placed on "
            "the map. Re-export it with its CRS (OS files are EPSG:27700)."
        )
        raise InputError(msg)
    if frame.crs.is_geographic:
        b = frame.total_bounds
        if not (-180 <= b[0] <= b[2] <= 180 and -90 <= b[1] <= b[3] <= 90):
            msg = (
                f"{name}: its coordinates ({b[0]:.0f}, {b[1]:.0f}) are not longitude and "
                "latitude, though the file says they are: it is probably in British "
                "National Grid metres. Save it with its CRS set to EPSG:27700."
            )
            raise InputError(msg)
    try:
        out = frame if frame.crs.equals(BNG) else frame.to_crs(BNG)
    except (CRSError, ProjError, ValueError) as exc:
        msg = f"{name}: its coordinate reference system cannot be used ({_first_line(exc)}). Export it again, preferably as GeoPackage."
        raise InputError(msg) from exc
    b = out.geometry.bounds
    x0, y0, x1, y1 = GB_BOUNDS_BNG
    inside = (
        np.isfinite(b.to_numpy()).all(axis=1)
        & b["minx"].ge(x0)
        & b["miny"].ge(y0)
        & b["maxx"].le(x1)
        & b["maxy"].le(y1)
    )
    if not inside.all():
        msg = (
            f"{name}: {int((~inside).sum()):,} of its {len(out):,} road links lie off Great "
            "Britain: the file's CRS is wrong or the file is damaged. Export it again with "
            "its CRS."
        )
        raise InputError(msg)
    return out


def check_streets_cover(
    streets: gpd.GeoDataFrame,
    area_geometry: shapely.Geometry,
    *,
    name: str = "street file",
    min_share: float = MIN_AREA_COVER_SHARE,
) -> float:
    """Check that streets cover the study area, and say how much of it they cover.

    The cover is the share of the area inside the convex hull of the street links grown
    by :data:`COVER_REACH_M` (so a single street still covers the ground beside it).

    Parameters
    ----------
    streets
        Frame from :func:`read_streets` (EPSG:27700).
    area_geometry
        The study area's outline in EPSG:27700 metres.
    name
        The file's name, for the message.
    min_share
        Least share (0-1) of the area that must be covered.

    Returns
    -------
    float
        The share of the area covered, from 0 to 1.

    Raises
    ------
    InputError
        If no link meets the area, or the links cover less than ``min_share`` of it.
    """
    if area_geometry is None or shapely.is_empty(area_geometry) or area_geometry.area <= 0:
        msg = f"{name}: the study area has no outline to check the streets against."
        raise InputError(msg)
    geoms = streets.geometry.to_numpy()
    if len(geoms) == 0 or not shapely.intersects(geoms, area_geometry).any():
        msg = (
            f"{name}: none of its {len(geoms):,} road links lies in the study area. Load "
            "the streets of the study area (check the file is for the right district)."
        )
        raise InputError(msg)
    hull = shapely.convex_hull(shapely.multipoints(shapely.get_coordinates(geoms)))
    hull = hull.buffer(COVER_REACH_M)
    share = float(shapely.intersection(hull, area_geometry).area / area_geometry.area)
    if share < min_share:
        msg = (
            f"{name}: its road links cover only {share:.0%} of the study area (at least "
            f"{min_share:.0%} is needed). Load streets for the whole study area."
        )
        raise InputError(msg)
    return share


def read_streets(
    path: str | Path,
    *,
    layer: str | None = None,
    area_geometry: shapely.Geometry | None = None,
    margin_m: float = 2_000.0,
    max_bytes: int = MAX_STREETS_BYTES,
    max_links: int = MAX_STREET_LINKS,
    min_cover: float = MIN_AREA_COVER_SHARE,
) -> gpd.GeoDataFrame:
    """Read road links from OS Open Roads, OS OpenMap Local or an OpenStreetMap extract.

    Parameters
    ----------
    path
        A GeoPackage, GeoJSON or Shapefile of road lines, or an ``.osm`` / ``.osm.pbf``.
    layer
        The layer of a multi-layer file; by default the only layer, else one named like
        road links (``road_link``, ``Road``...).
    area_geometry
        The study area's outline (EPSG:27700). When given, the file must cover it
        (:func:`check_streets_cover`) and only links within ``margin_m`` of it are kept;
        links away from its box are not even read, so a county's file (within
        :data:`MAX_STREET_LINKS` once cut to the box) serves a district.
    margin_m
        Links this far beyond the study area are kept, so walks may cross its edge.
    max_bytes, max_links
        Size limits (:data:`MAX_STREETS_BYTES`, :data:`MAX_STREET_LINKS`).
    min_cover
        Least share (0-1) of the study area the links must cover (0 accepts a file for
        part of the area, as long as one link lies in it).

    Returns
    -------
    geopandas.GeoDataFrame
        Columns :data:`STREET_COLUMNS` in EPSG:27700, one row per link (a 2-D
        ``LineString``). ``attrs["source"]`` is the file name, ``attrs["skipped"]`` the
        number of features that were not lines (or were empty), and
        ``attrs["nodes_from_file"]`` whether node ids came from the file (else they
        were found by snapping link ends within :data:`NODE_SNAP_M`), and
        ``attrs["cover_share"]`` the share of the study area covered (when given).

    Raises
    ------
    InputError
        Naming the file and the fix, if it is missing, too large, damaged, holds no
        lines, has no CRS, lies off Great Britain or outside the study area.
    """
    path = Path(path)
    name = path.name
    try:
        size = path.stat().st_size
        with path.open("rb") as fh:
            head = fh.read(1024)
    except OSError as exc:
        msg = f"{name}: cannot be opened ({exc.strerror or exc}). Check the path and try again."
        raise InputError(msg) from exc
    if path.suffix.lower() == ".shp":
        for part in (".dbf", ".shx"):
            if path.with_suffix(part).exists():
                size += path.with_suffix(part).stat().st_size
    if size > max_bytes:
        msg = (
            f"{name}: {_size_text(size)} is more than the {_size_text(max_bytes)} a street file "
            "may be. Clip it to the study area in your GIS, or download a smaller extract."
        )
        raise InputError(msg)
    if size == 0:
        msg = f"{name}: the file is empty. Export the road links again."
        raise InputError(msg)
    box = None if area_geometry is None else area_geometry.buffer(margin_m).bounds
    if _is_osm(path, head):
        frame, from_file = _read_osm(path, max_links, box), True
    else:
        frame, from_file = _read_gdal(path, layer, max_links, box)
    if box is not None and frame.empty:
        msg = (
            f"{name}: none of its road links lies in the study area. Load the streets of "
            "the study area (check the file is for the right district)."
        )
        raise InputError(msg)
    frame, skipped = _only_lines(frame, name)
    frame = _to_bng(frame, name)
    if area_geometry is not None:
        cover = check_streets_cover(frame, area_geometry, name=name, min_share=min_cover)
        near = shapely.intersects(frame.geometry.to_numpy(), area_geometry.buffer(margin_m))
        frame = frame[near].reset_index(drop=True)
    geoms = frame.geometry.to_numpy()
    if not from_file or (frame["start_node"] == "").any() or (frame["end_node"] == "").any():
        coords_start = shapely.get_coordinates(shapely.get_point(geoms, 0))
        coords_end = shapely.get_coordinates(shapely.get_point(geoms, -1))
        ids = _snap_nodes(np.vstack([coords_start, coords_end]), NODE_SNAP_M)
        n = len(frame)
        frame["start_node"], frame["end_node"] = ids[:n], ids[n:]
        from_file = False
    frame["length_m"] = shapely.length(geoms)
    frame["name"] = frame["name"].astype(object)
    out = gpd.GeoDataFrame(frame[list(STREET_COLUMNS)], geometry="geometry", crs=BNG)
    out.attrs.update(source=name, skipped=skipped, nodes_from_file=from_file)
    if area_geometry is not None:
        out.attrs["cover_share"] = cover
    return out
