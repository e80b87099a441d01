"""Patrol areas: a few compact places, each walkable, that hold most of next month's risk.

:func:`patrol_areas` cuts a :class:`analysis.risk.RiskSurface` into up to ``n_areas``
areas an officer can walk, greedily:

1. centre the next area on the cell whose disc of radius ``(max_across_m - cell
   diagonal) / 2`` holds the most expected count among free high-risk cells (the top
   ``grow_coverage`` of the area's cells; ties go to the lower cell index);
2. take those high-risk cells and every free cell lying wholly inside their convex
   hull: the area is compact and at most ``max_across_m`` across (the largest
   distance between two corners of its cells);
3. keep the area if it holds at least ``min_count`` training incidents, and go on
   until ``n_areas`` are kept or no high-risk cell is left.

Each area carries its expected incidents next month with an interval (negative
binomial with the surface's validated dispersion; Poisson when that is 1), its share
of the area's expected total, its training count, streets, wards, peak months (days
and hours where the data has times) and one unique name.
"""

from __future__ import annotations

import math

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from scipy import ndimage, stats

from analysis.describe import GENERIC_LOCATIONS, top_values
from analysis.naming import names_for
from analysis.risk import RiskSurface, top_cells
from geo.crs import require_bng
from geo.errors import InputError

__all__ = ["PATROL_COLUMNS", "expected_interval", "patrol_areas", "patrol_cells", "unique_names"]

PATROL_COLUMNS = [
    "rank",
    "name",
    "count",
    "expected",
    "expected_low",
    "expected_high",
    "share",
    "top_streets",
    "peak_months",
    "peak_days",
    "peak_hours",
    "wards",
    "area_m2",
    "across_m",
    "n_cells",
]

_DAYS = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]


def expected_interval(
    expected: float, dispersion: float = 1.0, level: float = 0.9
) -> tuple[int, int]:
    """Central prediction interval of next month's count.

    Parameters
    ----------
    expected
        Expected count.
    dispersion
        Variance / mean (1 = Poisson; above 1 a negative binomial of that variance).
    level
        Coverage of the interval, e.g. 0.9.

    Returns
    -------
    (low, high) : tuple of int
    """
    if expected <= 0:
        return 0, 0
    lo_q, hi_q = (1 - level) / 2, 1 - (1 - level) / 2
    if dispersion <= 1.0 + 1e-9:
        dist = stats.poisson(expected)
    else:
        dist = stats.nbinom(expected / (dispersion - 1.0), 1.0 / dispersion)
    return int(dist.ppf(lo_q)), int(dist.ppf(hi_q))


def _across(iy: np.ndarray, ix: np.ndarray, cell_m: float) -> float:
    """Largest corner-to-corner distance of a set of cells, metres."""
    dy = np.abs(iy[:, None] - iy[None, :]) + 1
    dx = np.abs(ix[:, None] - ix[None, :]) + 1
    return float(cell_m * np.sqrt((dx**2 + dy**2).max()))


def _refocus(
    focal: np.ndarray, live: np.ndarray, disc: np.ndarray, taken: np.ndarray, nx: int
) -> None:
    """Update ``focal`` (the disc sums of ``live``) after ``taken`` cells left ``live``.

    Only sums within the disc's radius of a taken cell change: they are summed again
    from ``live`` around them, as the whole-grid sum would (same values, same ties).
    """
    r = disc.shape[0] // 2
    ny, nx_ = live.shape
    ty, tx = np.divmod(taken, nx)
    a0, a1 = max(int(ty.min()) - r, 0), min(int(ty.max()) + r + 1, ny)
    b0, b1 = max(int(tx.min()) - r, 0), min(int(tx.max()) + r + 1, nx_)
    c0, c1 = max(a0 - r, 0), min(a1 + r, ny)
    d0, d1 = max(b0 - r, 0), min(b1 + r, nx_)
    part = ndimage.convolve(live[c0:c1, d0:d1], disc, mode="constant")
    focal[a0:a1, b0:b1] = part[a0 - c0 : a1 - c0, b0 - d0 : b1 - d0]


def patrol_cells(
    surface: RiskSurface,
    *,
    n_areas: int = 10,
    max_across_m: float = 400.0,
    grow_coverage: float = 0.02,
    cell_counts: np.ndarray | None = None,
    min_count: int = 0,
) -> list[np.ndarray]:
    """The cells of each patrol area, best first.

    Greedy: the centre of the next area is the cell whose disc of radius
    ``(max_across_m - cell diagonal) / 2`` holds the most expected count in cells not
    yet taken and among the top ``grow_coverage`` of the area (ties: the lower cell
    index); the area is those cells and every free cell lying wholly inside their
    convex hull, so it is compact and at most ``max_across_m`` across.

    Parameters
    ----------
    surface
        A fitted risk surface.
    n_areas
        Most areas to return, 3 to 30.
    max_across_m
        Largest extent of an area, metres (corner to corner of its cells).
    grow_coverage
        Only the top ``grow_coverage`` of the area's cells (by expected count) choose
        where areas go.
    cell_counts
        ``[ny, nx]`` training counts; with ``min_count``, areas holding fewer are
        dropped (their cells stay taken) and the search goes on.
    min_count
        Fewest training incidents an area must hold.

    Returns
    -------
    list of numpy.ndarray
        Flat cell indices of each area, in the order found.

    Raises
    ------
    InputError
        If ``n_areas`` is outside 3-30 or ``max_across_m`` is below one cell's diagonal.
    """
    if not 3 <= int(n_areas) <= 30:
        msg = f"n_areas must be between 3 and 30, got {n_areas!r}."
        raise InputError(msg)
    grid = surface.grid
    diag = grid.cell_m * math.sqrt(2)
    if not max_across_m >= diag:
        msg = (
            f"max_across_m must be at least one cell's diagonal ({diag:.0f} m), "
            f"got {max_across_m!r}."
        )
        raise InputError(msg)
    radius_m = (max_across_m - diag) / 2
    r = int(math.floor(radius_m / grid.cell_m))
    oy, ox = np.mgrid[-r : r + 1, -r : r + 1]
    disc = ((oy**2 + ox**2) * grid.cell_m**2 <= radius_m**2 + 1e-9).astype(float)
    e = np.where(surface.mask, surface.expected, 0.0)
    hot = np.zeros(e.size, dtype=bool)
    hot[top_cells(surface.expected, surface.mask, grow_coverage)] = True
    hot = hot.reshape(e.shape) & (e > 0)
    free = surface.mask.copy()
    counts = None if cell_counts is None else np.asarray(cell_counts, float).ravel()
    xs, ys = grid.centres()
    areas: list[np.ndarray] = []
    live = np.where(hot & free, e, 0.0)
    focal = ndimage.convolve(live, disc, mode="constant")
    while len(areas) < n_areas:
        if not live.any():
            break
        centre = int(np.argmax(focal))  # the first of the largest: ties to the lower index
        cy, cx = divmod(centre, grid.nx)
        near = (ys - ys[cy, cx]) ** 2 + (xs - xs[cy, cx]) ** 2 <= radius_m**2 + 1e-9
        core = np.flatnonzero((near & hot & free).ravel())
        ky, kx = np.divmod(core, grid.nx)
        hull = shapely.union_all(grid.cell_boxes(kx, ky)).convex_hull
        cand = np.flatnonzero((near & free).ravel())
        cyy, cxx = np.divmod(cand, grid.nx)
        inside = shapely.covered_by(grid.cell_boxes(cxx, cyy), hull)
        cells = np.union1d(core, cand[inside])
        free.ravel()[cells] = False
        live.ravel()[cells] = 0.0
        _refocus(focal, live, disc, cells, grid.nx)
        if counts is not None and counts[cells].sum() < min_count:
            continue
        areas.append(cells)
    return areas


def patrol_areas(
    surface: RiskSurface,
    incidents: gpd.GeoDataFrame,
    *,
    n_areas: int = 10,
    max_across_m: float = 400.0,
    min_count: int = 5,
    grow_coverage: float = 0.02,
    wards: gpd.GeoDataFrame | None = None,
    gazetteer: gpd.GeoDataFrame | None = None,
    level: float = 0.9,
    k: int = 3,
) -> gpd.GeoDataFrame:
    """Up to ``n_areas`` compact patrol areas from a risk surface, described and named.

    Parameters
    ----------
    surface
        A fitted risk surface (:func:`analysis.risk.fit_risk`).
    incidents
        The training incidents of the chosen types (EPSG:27700): counts, streets and
        peak months come from them.
    n_areas
        Most areas, 3 to 30 (default 10).
    max_across_m
        Largest extent of an area, metres (default 400).
    min_count
        Fewest training incidents an area must hold (default 5).
    grow_coverage
        Share of the area's cells (the highest-risk) that areas are built from.
    wards
        Ward polygons with ``name`` (EPSG:27700), or None.
    gazetteer
        Named places (:func:`geo.places.load_gazetteer`), or None: areas are then
        named after their commonest street and ward.
    level
        Coverage of the expected-count interval.
    k
        How many streets and months to list.

    Returns
    -------
    geopandas.GeoDataFrame
        EPSG:27700, one row per area ranked by expected count (rank 1 = most), with
        :data:`PATROL_COLUMNS` and ``geometry``. ``count`` is the training incidents
        inside; ``expected`` is next month's, with ``expected_low``/``expected_high``
        its interval; ``share`` is its share of the area's expected total.

    Raises
    ------
    InputError
        If ``incidents`` is not in EPSG:27700 or ``n_areas``/``max_across_m`` are invalid.
    """
    require_bng(incidents, "incidents")
    grid = surface.grid
    located = incidents[incidents["has_location"].to_numpy(bool)]
    located = located[located["crime_type"].isin(list(surface.types))]
    ix, iy, inside = grid.cell_index_in(
        located["x"].to_numpy(float), located["y"].to_numpy(float), surface.mask
    )
    cell_of = np.where(inside, iy * grid.nx + ix, -1)
    counts = np.bincount(cell_of[inside], minlength=grid.nx * grid.ny).astype(float)
    areas = patrol_cells(
        surface,
        n_areas=n_areas,
        max_across_m=max_across_m,
        grow_coverage=grow_coverage,
        cell_counts=counts,
        min_count=min_count,
    )
    e = surface.expected.ravel()
    total = surface.expected_total
    has_time = "datetime" in located.columns and located["datetime"].notna().any()
    rows, geoms = [], []
    for cells in areas:
        sel = np.isin(cell_of, cells)
        sub = located[sel]
        exp = float(e[cells].sum())
        lo, hi = expected_interval(exp, surface.dispersion, level)
        cy, cx = np.divmod(cells, grid.nx)
        geom = shapely.union_all(grid.cell_boxes(cx, cy))
        days = hours = ""
        if has_time:
            dt = pd.to_datetime(sub["datetime"]).dropna()
            days = top_values(pd.Series(np.array(_DAYS)[dt.dt.day_of_week]), k)
            hours = top_values(dt.dt.strftime("%H:00"), k)
        rows.append(
            {
                "count": int(sel.sum()),
                "expected": exp,
                "expected_low": lo,
                "expected_high": hi,
                "share": exp / total if total > 0 else 0.0,
                "top_streets": top_values(sub["location"], k),
                "peak_months": top_values(sub["month"], k),
                "peak_days": days,
                "peak_hours": hours,
                "area_m2": float(geom.area),
                "across_m": _across(cy, cx, grid.cell_m),
                "n_cells": len(cells),
            }
        )
        geoms.append(geom)
    out = gpd.GeoDataFrame(
        pd.DataFrame(
            rows, columns=[c for c in PATROL_COLUMNS if c not in ("rank", "name", "wards")]
        ),
        geometry=geoms,
        crs=grid.crs,
    )
    out = out.sort_values("expected", ascending=False, kind="stable").reset_index(drop=True)
    out["rank"] = np.arange(1, len(out) + 1)
    out["wards"] = _wards(out, wards)
    out["name"] = unique_names(out, gazetteer)
    return out[[*PATROL_COLUMNS, "geometry"]]


def _wards(areas: gpd.GeoDataFrame, wards: gpd.GeoDataFrame | None) -> list[str]:
    if wards is None or wards.empty or areas.empty:
        return [""] * len(areas)
    tree = shapely.STRtree(wards.geometry.to_numpy())
    ai, wi = tree.query(areas.geometry.to_numpy(), predicate="intersects")
    names = wards["name"].astype(str).to_numpy()
    # Largest overlap first.
    inter = shapely.area(
        shapely.intersection(areas.geometry.to_numpy()[ai], wards.geometry.to_numpy()[wi])
    )
    out = []
    for i in range(len(areas)):
        j = np.flatnonzero(ai == i)
        j = j[np.lexsort((names[wi[j]], -inter[j]))]
        out.append(", ".join(dict.fromkeys(names[wi[j]])))
    return out


def _streets(top_streets: str) -> list[str]:
    """Real street names of a ``top_streets`` text, most common first."""
    names = [s.rsplit(" (", 1)[0] for s in top_streets.split(", ") if s]
    return [s for s in names if s not in GENERIC_LOCATIONS]


def unique_names(areas: gpd.GeoDataFrame, gazetteer: gpd.GeoDataFrame | None) -> list[str]:
    """One distinct name per area, in rank order.

    The gazetteer's name (:func:`analysis.naming.names_for`) where a place reaches the
    area, else the commonest real street and the main ward ("Above Bar Street,
    Bargate"). When a name is already taken by a higher-ranked area, the area's
    commonest street not yet used is added ("Eastleigh town centre (Market Street)"),
    and failing that a number.

    Parameters
    ----------
    areas
        Ranked areas with ``top_streets``, ``wards`` and ``geometry`` (EPSG:27700).
    gazetteer
        Named places, or None.

    Returns
    -------
    list of str
    """
    if areas.empty:
        return []
    if gazetteer is None or gazetteer.empty:
        base = ["near"] * len(areas)
    else:
        base = list(names_for(areas.geometry, gazetteer))
    names: list[str] = []
    for name, top, wards in zip(base, areas["top_streets"], areas["wards"], strict=True):
        streets = _streets(top)
        ward = wards.split(", ")[0] if wards else ""
        if name.startswith("near"):
            labels = [t.rsplit(" (", 1)[0] for t in top.split(", ") if t]
            street = streets[0] if streets else (labels[0] if labels else "")
            name = ", ".join(p for p in (street, ward) if p) or "Unnamed area"
        if name in names:
            extra = next((s for s in streets if f"{name} ({s})" not in names), None)
            if extra is not None:
                name = f"{name} ({extra})"
        i = 2
        stem = name
        while name in names:
            name = f"{stem} ({i})"
            i += 1
        names.append(name)
    return names
