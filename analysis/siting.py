"""Youth-venue siting: how much ASB lies within reach of the diversion venues.

Planners ask two questions (``DOMAIN.md``, "Planners site youth venues"): how much of
the youth-related ASB lies within reach of the existing Friday Night Football venues,
and where a new venue (Hedge End is planned) would reach most of what is left.

*Demand* is a set of weighted points: the ASB incidents with a location, optionally
only those inside hotspot polygons ("hotspot ASB"), aggregated to the distinct
police.uk map points they were snapped to (:func:`hotspot_demand`). police.uk does not
say who was involved, so all ASB stands in for youth-related ASB.

*Within reach* means a straight-line (Euclidean) distance in British National Grid
metres of at most ``radius_m``. No street or footpath network ships with the service
(``SOURCES.md``: "no walking network is available offline"), so walking distances are
longer than these: a ring of 800 m straight line is roughly 1 km on foot.

Functions:

- :func:`reach_table` - demand within reach of each venue and of all of them together;
- :func:`hotspot_demand` - the demand points;
- :func:`candidate_sites` - schools, stations, named places, a clicked point, planned venues;
- :func:`rank_candidates` - each candidate's further share beyond the existing venues;
- :func:`maximal_covering` - the best ``p_new`` sites together (Maximal Covering
  Location Problem, ``spopt.locate.MCLP`` solved by CBC), existing venues forced open;
- :func:`venue_change_effect` - share before and after adding, moving or removing venues.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import pulp
import shapely
from scipy.spatial import cKDTree

from geo.crs import BNG, GB_BOUNDS_LONLAT, require_bng, to_bng
from geo.errors import InputError
from geo.schema import ASB

__all__ = [
    "ALL_VENUES",
    "RUNNING_VENUES",
    "SitingResult",
    "candidate_sites",
    "hotspot_demand",
    "maximal_covering",
    "rank_candidates",
    "reach_table",
    "venue_change_effect",
]

ALL_VENUES = "all venues together"
"""Label of the union row of :func:`reach_table`."""

RUNNING_VENUES = "running venues together"
"""Label of the union row over running venues, when planned venues are also given."""

_PLANNED = "planned"


# --------------------------------------------------------------------------- helpers


def _check_new_sites(n: int, names: list[str], label: str) -> int:
    """How many new sites to choose, as an int between 0 and the number of candidates."""
    if not 0 <= int(n) <= len(names):
        msg = f"{label} must be between 0 and the number of candidates ({len(names)}), got {n}."
        raise InputError(msg)
    return int(n)


def _check_radius(radius_m: float) -> float:
    r = float(radius_m)
    if not np.isfinite(r) or r <= 0:
        msg = f"radius_m must be a positive number of metres, got {radius_m!r}."
        raise InputError(msg)
    return r


def _xy(gdf: gpd.GeoDataFrame, what: str) -> np.ndarray:
    """Coordinates (n, 2) of each row: the point itself, or a polygon's centroid."""
    require_bng(gdf, what)
    geoms = gdf.geometry.to_numpy()
    bad = shapely.is_missing(geoms) | shapely.is_empty(geoms)
    if bad.any():
        rows = [str(i) for i in gdf.index[bad][:5]]
        msg = (
            f"{what}: {int(bad.sum())} row(s) have no geometry (index {', '.join(rows)}); "
            "pass only rows with a location (e.g. incidents[incidents.has_location])."
        )
        raise InputError(msg)
    if len(geoms) == 0:
        return np.empty((0, 2))
    return shapely.get_coordinates(shapely.centroid(geoms))


def _names(gdf: gpd.GeoDataFrame, what: str) -> list[str]:
    if "name" not in gdf.columns:
        msg = f"{what}: column 'name' missing; found {list(gdf.columns)}. Add a 'name' column."
        raise InputError(msg)
    return [str(n) for n in gdf["name"]]


def _weights(demand: gpd.GeoDataFrame) -> np.ndarray:
    """Demand weight of each row: ``weight``; else hotspot ``count``; else 1."""
    if "weight" in demand.columns:
        col = "weight"
    elif "count" in demand.columns and len(demand) and not demand.geom_type.eq("Point").all():
        col = "count"  # hotspot polygons from describe_hotspots
    else:
        return np.ones(len(demand), dtype=np.int64)
    w = pd.to_numeric(demand[col], errors="coerce").to_numpy()
    bad = ~np.isfinite(w.astype(float)) | (w < 0)
    if bad.any():
        rows = [str(i) for i in demand.index[bad][:5]]
        msg = (
            f"demand: column {col!r} must hold numbers >= 0; bad at index {', '.join(rows)}. "
            "Fix or drop those rows."
        )
        raise InputError(msg)
    return w


@dataclass(frozen=True)
class _Demand:
    xy: np.ndarray
    w: np.ndarray

    @property
    def total(self) -> float:
        return float(self.w.sum())

    def share(self, amount: float) -> float:
        return amount / self.total if self.total > 0 else float("nan")


def _demand(demand: gpd.GeoDataFrame) -> _Demand:
    return _Demand(_xy(demand, "demand"), _weights(demand))


def _cover(fac_xy: np.ndarray, dem: _Demand, radius_m: float) -> np.ndarray:
    """Boolean (n_demand, n_facilities): demand point within ``radius_m`` (inclusive)."""
    out = np.zeros((len(dem.xy), len(fac_xy)), dtype=bool)
    if len(dem.xy) == 0 or len(fac_xy) == 0:
        return out
    hits = cKDTree(dem.xy).query_ball_point(fac_xy, r=radius_m)
    for j, idx in enumerate(hits):
        out[idx, j] = True
    return out


def _amount(w: np.ndarray, mask: np.ndarray) -> float | int:
    s = w[mask].sum()
    return int(s) if np.issubdtype(w.dtype, np.integer) else float(s)


def _as_frame(gdf: gpd.GeoDataFrame | None, what: str) -> gpd.GeoDataFrame:
    if gdf is None:
        return gpd.GeoDataFrame({"name": []}, geometry=gpd.GeoSeries([], crs=BNG), crs=BNG)
    require_bng(gdf, what)
    return gdf


def _is_planned(venues: gpd.GeoDataFrame) -> np.ndarray:
    if "status" not in venues.columns:
        return np.zeros(len(venues), dtype=bool)
    return venues["status"].astype(str).str.strip().str.lower().eq(_PLANNED).to_numpy()


# --------------------------------------------------------------------------- demand


def hotspot_demand(
    incidents: gpd.GeoDataFrame,
    hotspots: gpd.GeoDataFrame | None = None,
    *,
    crime_types: Sequence[str] | None = (ASB,),
) -> gpd.GeoDataFrame:
    """The demand points: located ASB incidents, optionally inside hotspots, by map point.

    police.uk snaps every report to one of a fixed set of anonymised map points, so
    many incidents share a point; they are aggregated to one row per distinct point
    with ``weight`` = the number of incidents there (never deduplicated). Rows
    without a location cannot be placed and are left out, so shares computed from
    this demand are shares of the located incidents.

    Parameters
    ----------
    incidents
        Incident frame (EPSG:27700) with ``crime_type``, ``has_location``, ``geometry``.
    hotspots
        Hotspot polygons (e.g. from :func:`analysis.describe.describe_hotspots`). When
        given, only incidents inside (or on the edge of) at least one polygon count
        ("hotspot ASB"); an incident inside two overlapping polygons counts once.
    crime_types
        Types kept; anti-social behaviour by default (police.uk does not record who
        was involved, so all ASB stands in for youth-related ASB). ``None`` keeps all.

    Returns
    -------
    geopandas.GeoDataFrame
        Columns ``x``, ``y`` (metres), ``weight`` (incidents at the point) and point
        ``geometry`` in EPSG:27700, sorted by ``x`` then ``y``.

    Raises
    ------
    InputError
        If a frame is not in EPSG:27700 or a needed column is missing.
    """
    require_bng(incidents, "incidents")
    need = {"has_location"} | ({"crime_type"} if crime_types is not None else set())
    missing = sorted(need - set(incidents.columns))
    if missing:
        msg = (
            f"incidents: column(s) {missing} missing; load incidents with "
            "geo.io.load_incidents() so they follow the incident frame contract."
        )
        raise InputError(msg)
    keep = incidents["has_location"].to_numpy(bool).copy()
    if crime_types is not None:
        keep &= incidents["crime_type"].isin(list(crime_types)).to_numpy()
    geoms = incidents.geometry.to_numpy()[keep]
    ok = ~(shapely.is_missing(geoms) | shapely.is_empty(geoms))
    geoms = geoms[ok]
    if hotspots is not None:
        require_bng(hotspots, "hotspot polygons")
        polys = hotspots.geometry.to_numpy()
        polys = polys[~(shapely.is_missing(polys) | shapely.is_empty(polys))]
        if len(geoms) and len(polys):
            hit = shapely.STRtree(geoms).query(polys, predicate="intersects")[1]
            geoms = geoms[np.unique(hit)]
        else:
            geoms = geoms[:0]
    xy = shapely.get_coordinates(geoms) if len(geoms) else np.empty((0, 2))
    pts = pd.DataFrame({"x": xy[:, 0], "y": xy[:, 1]})
    agg = pts.groupby(["x", "y"], sort=True).size().rename("weight").reset_index()
    agg["weight"] = agg["weight"].astype(np.int64)
    return gpd.GeoDataFrame(agg, geometry=gpd.points_from_xy(agg["x"], agg["y"]), crs=BNG)


# --------------------------------------------------------------------------- reach


def reach_table(
    venues: gpd.GeoDataFrame,
    demand: gpd.GeoDataFrame,
    *,
    radius_m: float,
) -> pd.DataFrame:
    """Demand within ``radius_m`` straight-line metres of each venue, and of all together.

    Distances are straight lines in British National Grid metres (a demand point
    exactly ``radius_m`` away is within reach). No street network ships with the
    service, so these are not walking distances, which are longer.

    Parameters
    ----------
    venues
        Venues in EPSG:27700 with ``name`` (and optionally ``status``,
        ``running``/``planned``); points, or polygons measured from their centroid.
    demand
        Demand points in EPSG:27700 (e.g. :func:`hotspot_demand`), with an optional
        ``weight`` column (default 1 a row). Hotspot polygons are also accepted:
        each counts its ``count`` (or ``weight``) at its centroid.
    radius_m
        Reach in metres.

    Returns
    -------
    pandas.DataFrame
        One row a venue, then (when ``status`` marks some venues planned and others
        not) a row :data:`RUNNING_VENUES` for the union of the venues not planned, and
        a final row :data:`ALL_VENUES` for the union of all venues given (a demand
        point near two venues counts once). Columns ``venue``, ``status``,
        ``radius_m``, ``points`` (distinct demand points reached), ``count``
        (demand reached, weighted) and ``share`` (of all demand; NaN when there is
        no demand). ``attrs["total"]`` holds the total demand.

    Raises
    ------
    InputError
        For a frame not in EPSG:27700, a venue frame without ``name``, a row without
        geometry, a negative weight or a radius that is not a positive number.
    """
    r = _check_radius(radius_m)
    names = _names(venues, "venues")
    fac_xy = _xy(venues, "venues")
    dem = _demand(demand)
    cov = _cover(fac_xy, dem, r)
    status = (
        venues["status"].astype(str).tolist() if "status" in venues.columns else [""] * len(names)
    )
    rows = [
        {"venue": n, "status": s, "mask": cov[:, j]}
        for j, (n, s) in enumerate(zip(names, status, strict=True))
    ]
    planned = _is_planned(venues)
    if planned.any() and (~planned).any():
        rows.append({"venue": RUNNING_VENUES, "status": "", "mask": cov[:, ~planned].any(axis=1)})
    rows.append({"venue": ALL_VENUES, "status": "", "mask": cov.any(axis=1)})
    out = pd.DataFrame(
        [
            {
                "venue": row["venue"],
                "status": row["status"],
                "radius_m": r,
                "points": int(row["mask"].sum()),
                "count": _amount(dem.w, row["mask"]),
                "share": dem.share(float(dem.w[row["mask"]].sum())),
            }
            for row in rows
        ]
    )
    out.attrs["total"] = dem.total
    return out


# --------------------------------------------------------------------------- candidates


def _clicked_frame(clicked: object) -> gpd.GeoDataFrame:
    if isinstance(clicked, gpd.GeoDataFrame | gpd.GeoSeries):
        pts = to_bng(gpd.GeoDataFrame(geometry=gpd.GeoSeries(clicked.geometry)), name="clicked")
        geoms = list(pts.geometry)
    else:
        try:
            lon, lat = (float(v) for v in clicked)  # type: ignore[union-attr]
        except (TypeError, ValueError) as err:
            msg = (
                f"clicked: expected (longitude, latitude) in degrees or a GeoSeries, "
                f"got {clicked!r}."
            )
            raise InputError(msg) from err
        lon_min, lat_min, lon_max, lat_max = GB_BOUNDS_LONLAT
        if not (lon_min <= lon <= lon_max and lat_min <= lat <= lat_max):
            msg = (
                f"clicked: ({lon}, {lat}) is not a (longitude, latitude) in Great Britain; "
                "pass the longitude first (latitude and longitude may be swapped)."
            )
            raise InputError(msg)
        geoms = list(gpd.GeoSeries(gpd.points_from_xy([lon], [lat]), crs=4326).to_crs(BNG))
    names = [f"Clicked point ({g.x:,.0f} E, {g.y:,.0f} N)" for g in geoms]
    return gpd.GeoDataFrame({"name": names, "kind": "clicked"}, geometry=geoms, crs=BNG)


def candidate_sites(
    *,
    schools: gpd.GeoDataFrame | None = None,
    stations: gpd.GeoDataFrame | None = None,
    gazetteer: gpd.GeoDataFrame | None = None,
    clicked: tuple[float, float] | gpd.GeoSeries | gpd.GeoDataFrame | None = None,
    venues: gpd.GeoDataFrame | None = None,
) -> gpd.GeoDataFrame:
    """Candidate sites for a new venue, from every source given.

    Parameters
    ----------
    schools, stations, gazetteer
        Points with a ``name`` column, in any CRS (projected to EPSG:27700); kinds
        ``school``, ``station`` and ``place``. Polygons are placed at their centroid.
    clicked
        A point the user clicked on the map: ``(longitude, latitude)`` in degrees
        (what a web map reports), or a GeoSeries/GeoDataFrame with its CRS. Kind
        ``clicked``.
    venues
        The venue file; its ``planned`` venues become candidates of kind
        ``planned venue`` (running venues are existing, not candidates).

    Returns
    -------
    geopandas.GeoDataFrame
        Columns ``name``, ``kind``, ``geometry`` (points, EPSG:27700), in the order
        planned venues, clicked, places, stations, schools; index 0..n-1.

    Raises
    ------
    InputError
        For a source without ``name`` or a CRS, or a clicked point outside Great
        Britain (latitude and longitude swapped, for instance).
    """
    parts: list[gpd.GeoDataFrame] = []
    if venues is not None and len(venues):
        v = to_bng(venues, name="venues")
        _names(v, "venues")
        v = v[_is_planned(v)]
        parts.append(_kind_frame(v, "planned venue"))
    if clicked is not None:
        parts.append(_clicked_frame(clicked))
    for frame, kind in ((gazetteer, "place"), (stations, "station"), (schools, "school")):
        if frame is not None and len(frame):
            f = to_bng(frame, name=f"{kind}s")
            _names(f, f"{kind}s")
            parts.append(_kind_frame(f, kind))
    if not parts:
        return gpd.GeoDataFrame(
            {"name": pd.Series([], dtype=str), "kind": pd.Series([], dtype=str)},
            geometry=gpd.GeoSeries([], crs=BNG),
            crs=BNG,
        )
    return gpd.GeoDataFrame(pd.concat(parts, ignore_index=True), geometry="geometry", crs=BNG)


def _kind_frame(gdf: gpd.GeoDataFrame, kind: str) -> gpd.GeoDataFrame:
    geoms = gdf.geometry.to_numpy()
    ok = ~(shapely.is_missing(geoms) | shapely.is_empty(geoms))
    pts = shapely.centroid(geoms[ok])
    names = [str(n) for n in gdf["name"].to_numpy()[ok]]
    return gpd.GeoDataFrame({"name": names, "kind": kind}, geometry=list(pts), crs=BNG)


# --------------------------------------------------------------------------- ranking


def _existing_cover(existing: gpd.GeoDataFrame | None, dem: _Demand, r: float) -> np.ndarray:
    ex = _as_frame(existing, "existing venues")
    if len(ex) == 0:
        return np.zeros(len(dem.xy), dtype=bool)
    return _cover(_xy(ex, "existing venues"), dem, r).any(axis=1)


def _kinds(candidates: gpd.GeoDataFrame) -> list[str]:
    if "kind" in candidates.columns:
        return candidates["kind"].astype(str).tolist()
    return [""] * len(candidates)


def rank_candidates(
    existing: gpd.GeoDataFrame | None,
    candidates: gpd.GeoDataFrame,
    demand: gpd.GeoDataFrame,
    *,
    radius_m: float,
    n_new: int = 1,
) -> gpd.GeoDataFrame:
    """Rank candidate sites by the further share of demand each would reach.

    A candidate's gain is the demand within ``radius_m`` (straight line) of it that
    no existing venue already reaches: a candidate that only reaches demand already
    in reach gains 0. Independently, a greedy pass picks ``n_new`` sites one at a
    time, each time the one with the largest further gain given the sites already
    picked (a quick approximation of :func:`maximal_covering`).

    Parameters
    ----------
    existing
        Venues taken as open (usually the running venues), EPSG:27700; ``None`` or
        empty for none.
    candidates
        Candidate sites (:func:`candidate_sites`): ``name``, optional ``kind``.
    demand
        Demand points (:func:`hotspot_demand`), optional ``weight``.
    radius_m
        Reach in metres, straight line.
    n_new
        How many sites the greedy pass picks.

    Returns
    -------
    geopandas.GeoDataFrame
        One row a candidate, best first: ``rank``, ``name``, ``kind``,
        ``reach_count``/``reach_share`` (demand the site reaches on its own),
        ``gain_count``/``gain_share`` (further demand beyond the existing venues),
        ``share_before``, ``share_after`` (with the existing venues plus this site),
        ``greedy_order`` (1..n_new for the greedy picks, else missing),
        ``greedy_gain_share`` (its further share when picked) and ``geometry``.
        Ties are broken by reach, then name.

    Raises
    ------
    InputError
        As :func:`reach_table`, or if ``n_new`` is negative or exceeds the candidates.
    """
    r = _check_radius(radius_m)
    names = _names(candidates, "candidates")
    n_new = _check_new_sites(n_new, names, "n_new")
    dem = _demand(demand)
    base = _existing_cover(existing, dem, r)
    cov = _cover(_xy(candidates, "candidates"), dem, r)
    w = dem.w.astype(float)
    reach = w @ cov
    gain = w @ (cov & ~base[:, None])
    before = float(w[base].sum())
    out = gpd.GeoDataFrame(
        {
            "name": names,
            "kind": _kinds(candidates),
            "reach_count": reach,
            "reach_share": [dem.share(v) for v in reach],
            "gain_count": gain,
            "gain_share": [dem.share(v) for v in gain],
            "share_before": dem.share(before),
            "share_after": [dem.share(before + v) for v in gain],
            "greedy_order": pd.array([pd.NA] * len(names), dtype="Int64"),
            "greedy_gain_share": np.nan,
        },
        geometry=list(candidates.geometry.to_numpy()),
        crs=BNG,
    )
    covered = base.copy()
    for k in range(int(n_new)):
        g = w @ (cov & ~covered[:, None])
        g[out["greedy_order"].notna().to_numpy()] = -1.0
        j = _best(g, reach, names)
        out.loc[j, "greedy_order"] = k + 1
        out.loc[j, "greedy_gain_share"] = dem.share(float(g[j]))
        covered |= cov[:, j]
    order = sorted(range(len(names)), key=lambda j: (-gain[j], -reach[j], names[j], j))
    out = out.iloc[order].reset_index(drop=True)
    out.insert(0, "rank", np.arange(1, len(out) + 1))
    return out


def _best(gain: np.ndarray, reach: np.ndarray, names: list[str]) -> int:
    return min(range(len(names)), key=lambda j: (-gain[j], -reach[j], names[j], j))


# --------------------------------------------------------------------------- MCLP


@dataclass
class SitingResult:
    """The best sites to add, from :func:`maximal_covering`.

    Attributes
    ----------
    chosen
        The chosen new sites: ``name``, ``kind``, ``reach_count`` (demand each
        reaches on its own), ``geometry`` (EPSG:27700).
    share_before, share_after
        Share of all demand within reach of the existing venues, and of the existing
        venues plus the chosen sites.
    count_before, count_after
        The same as weighted demand.
    total
        Total demand.
    status
        The solver's status (``"Optimal"`` when solved; see ``pulp.LpStatus``).
    solution_status
        Status of the solution found (``"Optimal Solution Found"``, or
        ``"Solution Found"`` when a time limit stopped the solver early).
    radius_m
        Reach in metres, straight line.
    p_new
        Number of new sites asked for.
    """

    chosen: gpd.GeoDataFrame
    share_before: float
    share_after: float
    count_before: float
    count_after: float
    total: float
    status: str
    solution_status: str
    radius_m: float
    p_new: int

    @property
    def difference(self) -> float:
        """Further share reached by the chosen sites."""
        return self.share_after - self.share_before


def maximal_covering(
    existing: gpd.GeoDataFrame | None,
    candidates: gpd.GeoDataFrame,
    demand: gpd.GeoDataFrame,
    *,
    radius_m: float,
    p_new: int,
    time_limit_s: float = 60.0,
) -> SitingResult:
    """Choose ``p_new`` candidate sites that together reach most demand (MCLP).

    Solves the Maximal Covering Location Problem (Church and ReVelle 1974) with
    ``spopt.locate.MCLP`` and PuLP's bundled CBC solver. The facilities are the
    existing venues followed by the candidates; the existing venues are forced open
    with spopt's predefined-facility constraint, and ``len(existing) + p_new``
    facilities are opened in all, so the solver chooses exactly ``p_new`` new sites.
    Reach is straight-line distance in metres (no street network is shipped).

    Parameters
    ----------
    existing
        Venues taken as open (usually the running venues); ``None`` or empty for none.
    candidates
        Candidate sites (:func:`candidate_sites`): ``name``, optional ``kind``.
    demand
        Demand points (:func:`hotspot_demand`), optional ``weight``.
    radius_m
        Reach in metres, straight line.
    p_new
        How many new sites to choose.
    time_limit_s
        Time limit for CBC in seconds; if reached, ``solution_status`` says so.

    Returns
    -------
    SitingResult

    Raises
    ------
    InputError
        As :func:`reach_table`, or if ``p_new`` is negative or exceeds the candidates.
    """
    # Kept here: importing spopt.locate takes about 1 s (measured with -X importtime, on top
    # of numpy, scipy, geopandas and scikit-learn), and only this function needs it.
    from spopt.locate import MCLP  # noqa: PLC0415

    r = _check_radius(radius_m)
    names = _names(candidates, "candidates")
    p_new = _check_new_sites(p_new, names, "p_new")
    dem = _demand(demand)
    ex = _as_frame(existing, "existing venues")
    ex_xy = _xy(ex, "existing venues") if len(ex) else np.empty((0, 2))
    cand_xy = _xy(candidates, "candidates")
    cov = _cover(np.vstack([ex_xy, cand_xy]), dem, r)
    n_ex = len(ex_xy)
    w = dem.w.astype(float)
    before_mask = cov[:, :n_ex].any(axis=1)
    count_before = float(w[before_mask].sum())

    chosen_idx: list[int] = []
    status, sol_status = "Optimal", "Optimal Solution Found"
    patterns, pattern_w = _collapse(cov, w)
    if p_new > 0 and len(patterns):
        # The same reach test as everywhere else here (inclusive, metres): a cost of 0
        # where in reach and infinity where not, so spopt's ``cost <= radius`` agrees.
        cost = np.where(patterns, 0.0, np.inf)
        fixed = np.zeros(cov.shape[1], dtype=int)
        fixed[:n_ex] = 1
        with warnings.catch_warnings():
            # PuLP 3.3 warns that spopt's direct LpVariable construction and
            # PULP_CBC_CMD (its bundled CBC) change in PuLP 4.0; both work in 3.x.
            warnings.filterwarnings("ignore", category=DeprecationWarning, module=r"pulp\.")
            model = MCLP.from_cost_matrix(
                cost,
                pattern_w,
                service_radius=r,
                p_facilities=n_ex + p_new,
                predefined_facilities_arr=fixed if n_ex else None,
                name="venue_siting",
            )
            model.problem.solve(pulp.PULP_CBC_CMD(msg=False, timeLimit=time_limit_s))
        status = pulp.LpStatus[model.problem.status]
        sol_status = pulp.LpSolution[model.problem.sol_status]
        if model.problem.status == pulp.LpStatusOptimal:
            opened = [j for j, v in enumerate(model.fac_vars) if (v.value() or 0) > 0.5]
            chosen_idx = [j - n_ex for j in opened if j >= n_ex]
    elif p_new > 0:
        chosen_idx = list(range(p_new))  # no demand any site can reach: any sites do

    after_mask = before_mask | cov[:, [n_ex + j for j in chosen_idx]].any(axis=1)
    count_after = float(w[after_mask].sum())
    reach = w @ cov[:, n_ex:]
    chosen = gpd.GeoDataFrame(
        {
            "name": [names[j] for j in chosen_idx],
            "kind": [_kinds(candidates)[j] for j in chosen_idx],
            "reach_count": [float(reach[j]) for j in chosen_idx],
        },
        geometry=[candidates.geometry.iloc[j] for j in chosen_idx],
        crs=BNG,
    )
    return SitingResult(
        chosen=chosen,
        share_before=dem.share(count_before),
        share_after=dem.share(count_after),
        count_before=count_before,
        count_after=count_after,
        total=dem.total,
        status=status,
        solution_status=sol_status,
        radius_m=r,
        p_new=p_new,
    )


# --------------------------------------------------------------------------- change


def _collapse(cov: np.ndarray, w: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Merge demand points reached by exactly the same facilities, summing weights.

    The MCLP objective depends on a demand point only through the set of facilities
    that reach it, so this is exact; points no facility reaches are dropped. It turns
    10^5 points into a few thousand patterns, and spopt builds one constraint a row.
    """
    keep = cov.any(axis=1)
    cov, w = cov[keep], w[keep]
    if len(cov) == 0:
        return cov, w
    packed = np.ascontiguousarray(np.packbits(cov, axis=1))
    keys = packed.view(np.dtype((np.void, packed.shape[1]))).ravel()
    _, first, inverse = np.unique(keys, return_index=True, return_inverse=True)
    return cov[first], np.bincount(inverse.ravel(), weights=w, minlength=len(first))


def venue_change_effect(
    venues: gpd.GeoDataFrame,
    demand: gpd.GeoDataFrame,
    *,
    radius_m: float,
    add: gpd.GeoDataFrame | Iterable[str] | None = None,
    remove: Iterable[str] | None = None,
) -> dict[str, object]:
    """Share of demand within reach before and after adding or removing venues.

    "Before" is the venues in place: every row of ``venues`` except those whose
    ``status`` is ``planned``. "After" is those, minus ``remove``, plus ``add``.
    A venue moved is one removed and one added. Reach is straight-line metres.

    Parameters
    ----------
    venues
        The venue file (EPSG:27700): ``name``, optional ``status``.
    demand
        Demand points (:func:`hotspot_demand`), optional ``weight``.
    radius_m
        Reach in metres, straight line.
    add
        New venues: a frame with ``name`` and geometry, or names of venues in
        ``venues`` (e.g. the planned Hedge End venue).
    remove
        Names of venues in place to take away.

    Returns
    -------
    dict
        ``share_before``, ``share_after``, ``difference`` (after - before),
        ``count_before``, ``count_after``, ``total``, ``radius_m``,
        ``venues_before`` and ``venues_after`` (lists of names).

    Raises
    ------
    InputError
        If a name in ``add`` or ``remove`` is not a venue (the message lists the
        venues), or as :func:`reach_table`.
    """
    r = _check_radius(radius_m)
    require_bng(venues, "venues")
    all_names = _names(venues, "venues")
    in_place = venues[~_is_planned(venues)]
    after = in_place
    if remove is not None:
        gone = [str(n) for n in remove]
        _check_known(gone, list(in_place["name"].astype(str)), "remove")
        after = after[~after["name"].astype(str).isin(gone)]
    if add is not None:
        if isinstance(add, gpd.GeoDataFrame):
            extra = to_bng(add, name="add")
            _names(extra, "add")
        else:
            wanted = [str(n) for n in add]
            _check_known(wanted, all_names, "add")
            extra = venues[venues["name"].astype(str).isin(wanted)]
        after = gpd.GeoDataFrame(
            pd.concat([_name_points(after), _name_points(extra)], ignore_index=True),
            geometry="geometry",
            crs=BNG,
        )
    dem = _demand(demand)
    w = dem.w.astype(float)

    def _count(frame: gpd.GeoDataFrame) -> float:
        if len(frame) == 0:
            return 0.0
        return float(w[_cover(_xy(frame, "venues"), dem, r).any(axis=1)].sum())

    c0, c1 = _count(in_place), _count(after)
    s0, s1 = dem.share(c0), dem.share(c1)
    return {
        "share_before": s0,
        "share_after": s1,
        "difference": s1 - s0,
        "count_before": c0,
        "count_after": c1,
        "total": dem.total,
        "radius_m": r,
        "venues_before": [str(n) for n in in_place["name"]],
        "venues_after": [str(n) for n in after["name"]],
    }


def _name_points(frame: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {"name": frame["name"].astype(str).to_numpy()},
        geometry=list(frame.geometry.to_numpy()),
        crs=BNG,
    )


def _check_known(names: list[str], known: list[str], what: str) -> None:
    unknown = [n for n in names if n not in known]
    if unknown:
        msg = f"{what}: no venue named {unknown}; the venues are {known}. Check the spelling."
        raise InputError(msg)
