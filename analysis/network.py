"""Walking distances along streets: the graph, snapped points, catchments and reach.

Pure computation on a street frame from :func:`geo.streets.read_streets` (EPSG:27700,
columns ``start_node``, ``end_node``, ``length_m``, ``road_class``, ``geometry``).

* :func:`build_walk_network` - a ``networkx`` graph whose nodes are the links' node ids
  and whose edges weigh the link's length in metres (motorways are left out: nobody
  walks them);
* :func:`snap_points` - each point's nearest link, the offset along it of the point's
  projection and the straight access leg from the point to the link. A walk starts at
  the true point: it goes to its projection and then along the link, which is so split
  in two at the projection;
* :func:`node_distances_m` and :func:`network_distances_m` - the walking distance from
  the nearest of some sources (venues) to each node, or to each of some points;
* :func:`walk_catchment` - the area within a walking distance: the reachable parts of
  the links, buffered by ``width_m`` and merged;
* :func:`reach_shares` - the share of incidents within a distance on foot and within the
  same distance in a straight line, side by side, so a figure can say which is which;
* :func:`walk_cover` - the walking cover matrix (demand x sites), shaped like the
  straight-line one of :mod:`analysis.siting`; :func:`venue_catchments` - a frame of
  catchments, one per venue.

Walking distances count the access legs at both ends (source point to its link, link
to the target point) unless ``include_access=False``.
"""

from __future__ import annotations

import heapq
from dataclasses import dataclass

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd
import shapely
from shapely.ops import substring

from geo.crs import require_bng
from geo.errors import InputError

__all__ = [
    "ALL_VENUES",
    "DEFAULT_MAX_SNAP_M",
    "NOT_WALKED",
    "WalkNetwork",
    "build_walk_network",
    "network_distances_m",
    "node_distances_m",
    "reach_shares",
    "snap_points",
    "split_link",
    "venue_catchments",
    "walk_catchment",
    "walk_cover",
]

ALL_VENUES = "all venues together"
"""Label of the union row of :func:`reach_shares` (as in :mod:`analysis.siting`)."""

DEFAULT_MAX_SNAP_M = 250.0
"""A point farther than this from every walkable link is not on the network."""

NOT_WALKED = ("motorway",)
"""Road classes left out of the walking graph."""


@dataclass(frozen=True)
class WalkNetwork:
    """A walking graph and the links it was built from.

    Attributes
    ----------
    graph
        ``networkx.MultiGraph``: nodes are node ids; each edge has ``key`` the link's row
        number in ``links``, ``weight`` its length in metres.
    links
        The walkable links (EPSG:27700), numbered ``0..n-1``.
    tree
        A spatial index of ``links.geometry`` for snapping.
    """

    graph: nx.MultiGraph
    links: gpd.GeoDataFrame
    tree: shapely.STRtree

    @property
    def length_m(self) -> np.ndarray:
        """Length in metres of each link."""
        return self.links["length_m"].to_numpy(float)


def build_walk_network(
    streets: gpd.GeoDataFrame, *, exclude_classes: tuple[str, ...] = NOT_WALKED
) -> WalkNetwork:
    """Build the walking graph of a street frame.

    Parameters
    ----------
    streets
        Frame from :func:`geo.streets.read_streets` (EPSG:27700).
    exclude_classes
        Road classes nobody walks (by default motorways).

    Returns
    -------
    WalkNetwork

    Raises
    ------
    InputError
        If the frame is not in EPSG:27700, lacks a column, or has no walkable link.
    """
    require_bng(streets, "streets")
    need = ["start_node", "end_node", "length_m"]
    missing = [c for c in need if c not in streets.columns]
    if missing:
        msg = f"streets: column(s) {missing} missing; read the file with geo.streets.read_streets."
        raise InputError(msg)
    keep = ~streets["road_class"].isin(exclude_classes) if "road_class" in streets else True
    links = streets[keep & streets.geometry.notna()].reset_index(drop=True)
    if links.empty:
        msg = "streets: no walkable link (every link is a motorway or has no geometry)."
        raise InputError(msg)
    graph = nx.MultiGraph()
    starts, ends = links["start_node"].to_numpy(), links["end_node"].to_numpy()
    lengths = links["length_m"].to_numpy(float)
    graph.add_edges_from(
        (str(a), str(b), i, {"weight": float(w)})
        for i, (a, b, w) in enumerate(zip(starts, ends, lengths, strict=True))
    )
    return WalkNetwork(graph=graph, links=links, tree=shapely.STRtree(links.geometry.to_numpy()))


def _points_xy(points: object, what: str) -> np.ndarray:
    """(n, 2) coordinates of points given as a frame, geometries or an array."""
    if isinstance(points, gpd.GeoDataFrame | gpd.GeoSeries):
        require_bng(points, what)
        geoms = np.asarray(points.geometry if isinstance(points, gpd.GeoDataFrame) else points)
    elif isinstance(points, shapely.Geometry):
        geoms = np.array([points])
    else:
        arr = np.asarray(points, dtype=float)
        if arr.shape == (2,):  # one (x, y)
            arr = arr[None, :]
        if arr.ndim != 2 or arr.shape[1] != 2 or not np.isfinite(arr).all():
            msg = (
                f"{what}: give points as a GeoDataFrame in EPSG:27700 or an (n, 2) array of metres."
            )
            raise InputError(msg)
        return arr
    bad = shapely.is_missing(geoms) | shapely.is_empty(geoms)
    if bad.any():
        msg = f"{what}: {int(bad.sum())} point(s) have no location; pass only located points."
        raise InputError(msg)
    if len(geoms) == 0:
        return np.empty((0, 2))
    return shapely.get_coordinates(shapely.centroid(geoms))


def snap_points(
    network: WalkNetwork, points: object, *, max_snap_m: float = DEFAULT_MAX_SNAP_M
) -> pd.DataFrame:
    """Snap points to their nearest walkable link.

    Parameters
    ----------
    network
        From :func:`build_walk_network`.
    points
        A GeoDataFrame/GeoSeries in EPSG:27700, a point, or an ``(n, 2)`` array of metres.
    max_snap_m
        Points farther than this from every link are left unsnapped (``link`` is -1).

    Returns
    -------
    pandas.DataFrame
        One row per point: ``link`` (row in ``network.links``, -1 if none),
        ``offset_m`` (distance along the link from its start node to the projection),
        ``snap_distance_m`` (the access leg), ``x``, ``y`` (the projection).
    """
    xy = _points_xy(points, "points")
    n = len(xy)
    out = pd.DataFrame(
        {
            "link": np.full(n, -1, dtype=np.int64),
            "offset_m": np.full(n, np.nan),
            "snap_distance_m": np.full(n, np.nan),
            "x": np.full(n, np.nan),
            "y": np.full(n, np.nan),
        }
    )
    if n == 0:
        return out
    pts = shapely.points(xy)
    idx, dist = network.tree.query_nearest(
        pts, max_distance=max_snap_m, return_distance=True, all_matches=False
    )
    p_i, l_i = idx
    lines = network.links.geometry.to_numpy()[l_i]
    offset = shapely.line_locate_point(lines, pts[p_i])
    proj = shapely.get_coordinates(shapely.line_interpolate_point(lines, offset))
    # Offsets along the drawn line, rescaled to the link's length (they differ only if a
    # file's lengths were not measured on its geometry).
    drawn = shapely.length(lines)
    scale = np.divide(network.length_m[l_i], drawn, out=np.ones_like(drawn), where=drawn > 0)
    out.loc[p_i, "link"] = l_i
    out.loc[p_i, "offset_m"] = offset * scale
    out.loc[p_i, "snap_distance_m"] = dist
    out.loc[p_i, "x"] = proj[:, 0]
    out.loc[p_i, "y"] = proj[:, 1]
    return out


def split_link(
    line: shapely.LineString, offset_m: float
) -> tuple[shapely.LineString, shapely.LineString]:
    """Split a link at a distance along it.

    Parameters
    ----------
    line
        The link.
    offset_m
        Distance along it from its start (clipped to the line).

    Returns
    -------
    tuple of LineString
        The part from the start to the split point and the part from there to the end
        (either may have zero length).
    """
    length = line.length
    t = min(max(float(offset_m), 0.0), length)
    return substring(line, 0.0, t), substring(line, t, length)


def _starts(network: WalkNetwork, snapped: pd.DataFrame, include_access: bool) -> dict[str, float]:
    """Initial distance at each end node of the sources' links."""
    lengths = network.length_m
    links = network.links
    init: dict[str, float] = {}
    for link, t, a in snapped[["link", "offset_m", "snap_distance_m"]].itertuples(index=False):
        if link < 0:
            continue
        access = float(a) if include_access else 0.0
        u, v = str(links.at[link, "start_node"]), str(links.at[link, "end_node"])
        for node, d in ((u, access + t), (v, access + lengths[link] - t)):
            if d < init.get(node, np.inf):
                init[node] = float(d)
    return init


def _dijkstra(graph: nx.MultiGraph, init: dict[str, float], cutoff_m: float) -> dict[str, float]:
    """Shortest distances from several nodes, each with a starting distance, up to a cutoff."""
    dist: dict[str, float] = {}
    heap = [(d, node) for node, d in init.items() if d <= cutoff_m]
    heapq.heapify(heap)
    adj = graph.adj
    while heap:
        d, node = heapq.heappop(heap)
        if node in dist:
            continue
        dist[node] = d
        for nbr, edges in adj[node].items():
            if nbr in dist:
                continue
            w = min(e["weight"] for e in edges.values())
            nd = d + w
            if nd <= cutoff_m:
                heapq.heappush(heap, (nd, nbr))
    return dist


def node_distances_m(
    network: WalkNetwork,
    sources: object,
    *,
    max_distance_m: float = np.inf,
    max_snap_m: float = DEFAULT_MAX_SNAP_M,
    include_access: bool = True,
) -> dict[str, float]:
    """Walking distance from the nearest source to each node reached.

    Parameters
    ----------
    network
        From :func:`build_walk_network`.
    sources
        Venue points (EPSG:27700 frame, point or ``(n, 2)`` array).
    max_distance_m
        Nodes farther than this are left out.
    max_snap_m
        Sources farther than this from every link are ignored.
    include_access
        Count the leg from each source to its link.

    Returns
    -------
    dict
        Node id to metres, for the nodes within ``max_distance_m``.
    """
    snapped = snap_points(network, sources, max_snap_m=max_snap_m)
    return _dijkstra(
        network.graph, _starts(network, snapped, include_access), float(max_distance_m)
    )


def network_distances_m(
    network: WalkNetwork,
    sources: object,
    targets: object,
    *,
    max_distance_m: float = np.inf,
    max_snap_m: float = DEFAULT_MAX_SNAP_M,
    include_access: bool = True,
) -> np.ndarray:
    """Walking distance from the nearest source to each target point.

    A target is reached from either end of its link, or along the link itself when a
    source is on the same link.

    Parameters
    ----------
    network
        From :func:`build_walk_network`.
    sources, targets
        Points (EPSG:27700 frames, points or ``(n, 2)`` arrays).
    max_distance_m
        Distances beyond this are ``inf`` (faster: the search stops there).
    max_snap_m
        Points farther than this from every link are not on the network (``inf``).
    include_access
        Count the legs between the points and their links.

    Returns
    -------
    numpy.ndarray
        One distance in metres per target; ``inf`` where none within ``max_distance_m``.
    """
    src = snap_points(network, sources, max_snap_m=max_snap_m)
    tgt = snap_points(network, targets, max_snap_m=max_snap_m)
    return _to_targets(network, src, tgt, float(max_distance_m), include_access)


def _to_targets(
    network: WalkNetwork,
    src: pd.DataFrame,
    tgt: pd.DataFrame,
    max_distance_m: float,
    include_access: bool,
) -> np.ndarray:
    """Walking distance from the nearest snapped source to each snapped target."""
    out = np.full(len(tgt), np.inf)
    ok = tgt["link"].to_numpy() >= 0
    if not ok.any():
        return out
    dist = _dijkstra(network.graph, _starts(network, src, include_access), max_distance_m)
    lengths = network.length_m
    link = tgt["link"].to_numpy()[ok]
    t = tgt["offset_m"].to_numpy()[ok]
    access = tgt["snap_distance_m"].to_numpy()[ok] if include_access else np.zeros(int(ok.sum()))
    # Node distances by link end, looked up once per distinct link.
    links, inverse = np.unique(link, return_inverse=True)
    starts = network.links["start_node"].to_numpy()[links]
    ends = network.links["end_node"].to_numpy()[links]
    du = np.array([dist.get(str(n), np.inf) for n in starts])[inverse]
    dv = np.array([dist.get(str(n), np.inf) for n in ends])[inverse]
    best = np.minimum(du + t, dv + lengths[link] - t)
    # A source on the same link walks straight along it.
    for s_link, s_t, s_a in src[["link", "offset_m", "snap_distance_m"]].itertuples(index=False):
        if s_link < 0:
            continue
        same = link == s_link
        if same.any():
            along = np.abs(t[same] - s_t) + (float(s_a) if include_access else 0.0)
            best[same] = np.minimum(best[same], along)
    best = best + access
    best[best > max_distance_m] = np.inf
    out[ok] = best
    return out


def walk_catchment(
    network: WalkNetwork,
    sources: object,
    distance_m: float = 800.0,
    *,
    width_m: float = 35.0,
    max_snap_m: float = DEFAULT_MAX_SNAP_M,
    include_access: bool = True,
) -> shapely.Geometry:
    """The area within a walking distance of the sources.

    Every link part reachable within ``distance_m`` (from either end, or from a source
    on the link) is kept, and the parts are buffered by ``width_m`` and merged.

    Parameters
    ----------
    network
        From :func:`build_walk_network`.
    sources
        Venue points (EPSG:27700 frame, point or ``(n, 2)`` array).
    distance_m
        The walking distance, metres (800 m is about ten minutes).
    width_m
        Half-width of the band drawn around each reachable street part.
    max_snap_m, include_access
        As for :func:`node_distances_m`.

    Returns
    -------
    shapely.Geometry
        A (Multi)Polygon in EPSG:27700 metres; empty if no source is on the network.
    """
    limit = float(distance_m)
    if not np.isfinite(limit) or limit <= 0 or not np.isfinite(width_m) or width_m <= 0:
        msg = f"distance_m and width_m must be positive metres, got {distance_m!r} and {width_m!r}."
        raise InputError(msg)
    src = snap_points(network, sources, max_snap_m=max_snap_m)
    dist = _dijkstra(network.graph, _starts(network, src, include_access), limit)
    lines = network.links.geometry.to_numpy()
    lengths = network.length_m
    starts = network.links["start_node"].astype(str).to_numpy()
    ends = network.links["end_node"].astype(str).to_numpy()
    parts: list[shapely.Geometry] = []
    for i in np.flatnonzero(np.isin(starts, list(dist)) | np.isin(ends, list(dist))):
        line, length = lines[i], lengths[i]
        scale = line.length / length if length > 0 else 1.0
        from_u = limit - dist.get(starts[i], np.inf)
        from_v = limit - dist.get(ends[i], np.inf)
        if max(from_u, 0) + max(from_v, 0) >= length:
            parts.append(line)
            continue
        if from_u > 0:
            parts.append(substring(line, 0.0, from_u * scale))
        if from_v > 0:
            parts.append(substring(line, (length - from_v) * scale, line.length))
    for s_link, s_t, s_a in src[["link", "offset_m", "snap_distance_m"]].itertuples(index=False):
        if s_link < 0:
            continue
        left = limit - (float(s_a) if include_access else 0.0)
        if left <= 0:
            continue
        line, length = lines[s_link], lengths[s_link]
        scale = line.length / length if length > 0 else 1.0
        lo, hi = max(s_t - left, 0.0), min(s_t + left, length)
        parts.append(substring(line, lo * scale, hi * scale))
    if not parts:
        return shapely.Polygon()
    return shapely.union_all(shapely.buffer(np.array(parts, dtype=object), width_m))


def walk_cover(
    network: WalkNetwork,
    sites: object,
    demand: object,
    distance_m: float,
    *,
    max_snap_m: float = DEFAULT_MAX_SNAP_M,
) -> np.ndarray:
    """Which demand points each site reaches on foot: the walking cover matrix.

    The same shape and meaning as the straight-line cover of :mod:`analysis.siting`
    (a point exactly ``distance_m`` away is within reach), so a walking reach table or
    a walking MCLP can use it in place of the circle.

    Parameters
    ----------
    network
        From :func:`build_walk_network`.
    sites
        Venue or candidate points (EPSG:27700 frame, point or ``(n, 2)`` array).
    demand
        Demand points (EPSG:27700 frame or ``(n, 2)`` array).
    distance_m
        Walking distance, metres.
    max_snap_m
        Points farther than this from every link are reached by no site.

    Returns
    -------
    numpy.ndarray
        Boolean ``(n_demand, n_sites)``.
    """
    d = float(distance_m)
    if not np.isfinite(d) or d <= 0:
        msg = f"distance_m must be a positive number of metres, got {distance_m!r}."
        raise InputError(msg)
    s_xy = _points_xy(sites, "sites")
    d_xy = _points_xy(demand, "demand")
    out = np.zeros((len(d_xy), len(s_xy)), dtype=bool)
    if len(d_xy) == 0 or len(s_xy) == 0:
        return out
    # Walking is never shorter than the straight line (the access legs are counted), so
    # only points inside each site's circle need a walking distance. Points snap once.
    snapped = snap_points(network, d_xy, max_snap_m=max_snap_m)
    src_all = snap_points(network, s_xy, max_snap_m=max_snap_m)
    for j, xy in enumerate(s_xy):
        inside = np.flatnonzero(np.hypot(*(d_xy - xy).T) <= d)
        if len(inside) == 0 or src_all.at[j, "link"] < 0:
            continue
        src = src_all.iloc[[j]].reset_index(drop=True)
        tgt = snapped.iloc[inside].reset_index(drop=True)
        out[inside, j] = _to_targets(network, src, tgt, d, True) <= d
    return out


def venue_catchments(
    network: WalkNetwork,
    venues: gpd.GeoDataFrame,
    distance_m: float = 800.0,
    *,
    width_m: float = 35.0,
    max_snap_m: float = DEFAULT_MAX_SNAP_M,
) -> gpd.GeoDataFrame:
    """The walking catchment of each venue, as a frame to draw or join.

    Parameters
    ----------
    network
        From :func:`build_walk_network`.
    venues
        Venues in EPSG:27700 with ``name``.
    distance_m, width_m, max_snap_m
        As for :func:`walk_catchment`.

    Returns
    -------
    geopandas.GeoDataFrame
        One row per venue: ``name``, ``distance_m``, ``area_km2`` (0 when the venue is
        farther than ``max_snap_m`` from every street), ``circle_area_km2`` (the
        straight-line circle's) and the catchment ``geometry`` (EPSG:27700).
    """
    xy = _points_xy(venues, "venues")
    shapes = [
        walk_catchment(network, p, distance_m, width_m=width_m, max_snap_m=max_snap_m) for p in xy
    ]
    frame = gpd.GeoDataFrame(
        {
            "name": _names(venues),
            "distance_m": float(distance_m),
            "area_km2": [g.area / 1e6 for g in shapes],
            "circle_area_km2": np.pi * float(distance_m) ** 2 / 1e6,
        },
        geometry=shapes,
        crs=network.links.crs,
    )
    return frame


def _names(venues: object) -> list[str]:
    if isinstance(venues, gpd.GeoDataFrame) and "name" in venues.columns:
        return [str(v) for v in venues["name"]]
    n = len(_points_xy(venues, "venues"))
    return [f"venue {i + 1}" for i in range(n)]


def _incident_weights(incidents: object, n: int) -> np.ndarray:
    """Each incident's weight: its ``weight`` column, else 1."""
    if isinstance(incidents, gpd.GeoDataFrame) and "weight" in incidents.columns:
        w = pd.to_numeric(incidents["weight"], errors="coerce").to_numpy(float)
        if not np.isfinite(w).all() or (w < 0).any():
            msg = "incidents: column 'weight' must hold non-negative numbers."
            raise InputError(msg)
        return w
    return np.ones(n)


def reach_shares(
    network: WalkNetwork,
    venues: object,
    incidents: object,
    *,
    distance_m: float = 800.0,
    max_snap_m: float = DEFAULT_MAX_SNAP_M,
) -> pd.DataFrame:
    """Incidents within a distance of each venue: on foot, and in a straight line.

    Parameters
    ----------
    network
        From :func:`build_walk_network`.
    venues
        Venue points (a frame with ``name`` in EPSG:27700, or an ``(n, 2)`` array).
    incidents
        Incident points (EPSG:27700 frame or ``(n, 2)`` array); each counts once, or
        its ``weight`` (for points already aggregated, as from
        :func:`analysis.siting.hotspot_demand`).
    distance_m
        The reach, metres, used for both measures.
    max_snap_m
        Incidents or venues farther than this from every link are never within walking
        reach (they still count in the straight-line share).

    Returns
    -------
    pandas.DataFrame
        One row per venue and a last row :data:`ALL_VENUES`; columns ``venue``,
        ``incidents`` (all of them), ``walking_count``, ``walking_share``,
        ``straight_line_count``, ``straight_line_share`` (shares 0-1).
        ``attrs["distance_m"]`` holds the distance and ``attrs["note"]`` says which
        measure is which.
    """
    d = float(distance_m)
    if not np.isfinite(d) or d <= 0:
        msg = f"distance_m must be a positive number of metres, got {distance_m!r}."
        raise InputError(msg)
    v_xy = _points_xy(venues, "venues")
    names = _names(venues)
    # police.uk puts incidents on a few thousand map points: work on the distinct points,
    # each weighing its incidents (or the sum of a ``weight`` column).
    all_xy = _points_xy(incidents, "incidents")
    weights = _incident_weights(incidents, len(all_xy))
    if len(all_xy):
        i_xy, inverse = np.unique(all_xy, axis=0, return_inverse=True)
        w = np.bincount(inverse.ravel(), weights=weights, minlength=len(i_xy))
    else:
        i_xy, w = all_xy, np.zeros(0)
    total = float(w.sum())
    whole = bool(np.all(np.mod(weights, 1) == 0))
    walks = walk_cover(network, v_xy, i_xy, d, max_snap_m=max_snap_m)
    rows = []
    walk_any = np.zeros(len(i_xy), dtype=bool)
    line_any = np.zeros(len(i_xy), dtype=bool)
    for j, (name, xy) in enumerate(zip(names, v_xy, strict=True)):
        line = np.hypot(*(i_xy - xy).T) <= d if len(i_xy) else np.zeros(0, dtype=bool)
        walk = walks[:, j]
        walk_any |= walk
        line_any |= line
        rows.append((name, walk, line))
    rows.append((ALL_VENUES, walk_any, line_any))

    def amount(mask: np.ndarray) -> float | int:
        value = float(w[mask].sum())
        return int(round(value)) if whole else value

    frame = pd.DataFrame(
        [
            {
                "venue": name,
                "incidents": amount(np.ones(len(w), dtype=bool)),
                "walking_count": amount(walk),
                "walking_share": float(w[walk].sum() / total) if total else 0.0,
                "straight_line_count": amount(line),
                "straight_line_share": float(w[line].sum() / total) if total else 0.0,
            }
            for name, walk, line in rows
        ]
    )
    frame.attrs["distance_m"] = d
    frame.attrs["note"] = (
        f"walking: within {d:,.0f} m along streets (from the venue to its street, along "
        f"streets, to the incident); straight line: within a {d:,.0f} m circle."
    )
    return frame
