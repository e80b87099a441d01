"""Getis-Ord Gi* hot and cold spots on a square grid or on areas, with FDR control.

The statistic is :class:`esda.G_Local` with ``star=True`` on binary weights (the
focal cell or area counts with weight 1, as in Getis & Ord 1995 and ArcGIS's Hot Spot
Analysis). Significance comes from esda's conditional permutations, but the pseudo
p-value is computed here from the simulated values (``G_Local.rGs``) and not taken
from ``G_Local.p_sim``, for two reasons:

* esda's default ("directed") p-value counts simulated values ``>=`` the observed one
  and then folds to the smaller tail, so a tie counts as *less* extreme on the lower
  side. Incident grids are mostly zeros: a cell whose whole neighbourhood is empty has
  every simulated value tied with its observed 0 and esda reports p = 1/(P+1), i.e.
  "cold 99%" for empty countryside. Counting ties on both sides gives p = 1.
* it is one-sided in whichever direction the data point, so its 0.05 is a two-sided
  0.10. Confidence levels here are two-sided, as for |z| > 1.645 / 1.960 / 2.576.

So, with ``P`` permutations and ``sim`` the simulated Gi* of a cell::

    p_high = (#(sim >= G) + 1) / (P + 1)      # ties count against significance
    p_low  = (#(sim <= G) + 1) / (P + 1)
    p_sim  = min(1, 2 * min(p_high, p_low))   # two-sided pseudo p-value
    direction = hot if p_high < p_low, cold if p_low < p_high

With ``P`` permutations the smallest possible ``p_sim`` is ``2 / (P + 1)`` (0.002 for 999),
which limits what FDR control can find over thousands of cells (see :func:`classify`);
hence the default of 9,999 (:data:`DEFAULT_PERMUTATIONS`).
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence

import esda
import geopandas as gpd
import libpysal
import numpy as np
import pandas as pd
import scipy.sparse
import shapely
from scipy.sparse.csgraph import connected_components

from analysis.grid import Grid, area_geometry
from geo.crs import BNG, require_bng
from geo.errors import InputError

__all__ = [
    "DEFAULT_PERMUTATIONS",
    "MAX_SIMULATED",
    "NOT_SIGNIFICANT",
    "class_names",
    "classify",
    "gistar_areas",
    "gistar_grid",
    "gistar_hotspots",
    "grid_weights",
    "square_cells",
]

NOT_SIGNIFICANT = "not significant"

_DEFAULT_ALPHAS = (0.10, 0.05, 0.01)

DEFAULT_PERMUTATIONS = 9999
"""Default number of conditional permutations.

With 999 the smallest two-sided pseudo p-value is 0.002, and on Eastleigh ASB
(February-May 2017, 2,194 cells of 200 m) FDR control then leaves no significant
cell at any level; with 9,999 it finds 22 cells (12 at 95%, 10 at 90%) in 1.4 s.
"""

MAX_SIMULATED = 100_000_000
"""Largest ``units * permutations`` kept in memory (8 bytes each, 800 MB)."""


def _confidence(alpha: float) -> str:
    """Return ``"99%"`` for alpha 0.01, ``"99.9%"`` for 0.001."""
    return f"{100 * (1 - alpha):.10g}%"


def _check_alphas(alpha_levels: Sequence[float]) -> list[float]:
    alphas = sorted({float(a) for a in alpha_levels}, reverse=True)
    if not alphas or any(not 0 < a < 1 for a in alphas):
        msg = f"alpha_levels must be significance levels between 0 and 1, got {alpha_levels!r}."
        raise InputError(msg)
    return alphas


def class_names(alpha_levels: Sequence[float] = _DEFAULT_ALPHAS) -> list[str]:
    """Class names from coldest to hottest.

    Parameters
    ----------
    alpha_levels
        Significance levels, e.g. ``(0.10, 0.05, 0.01)``.

    Returns
    -------
    list of str
        e.g. ``["cold 99%", "cold 95%", "cold 90%", "not significant", "hot 90%",
        "hot 95%", "hot 99%"]``, the ordered categories of the ``class`` column.
    """
    alphas = _check_alphas(alpha_levels)  # loosest first
    hot = [f"hot {_confidence(a)}" for a in alphas]
    cold = [f"cold {_confidence(a)}" for a in reversed(alphas)]
    return [*cold, NOT_SIGNIFICANT, *hot]


def classify(
    p: np.ndarray,
    hot: np.ndarray,
    *,
    alpha_levels: Sequence[float] = _DEFAULT_ALPHAS,
    fdr: bool = True,
) -> pd.Categorical:
    """Hot/cold classes at several confidence levels, optionally FDR-controlled.

    Parameters
    ----------
    p
        Two-sided p-value of every unit (cell or area).
    hot
        True where the unit is high (hot), False where low (cold).
    alpha_levels
        Significance levels; 0.10, 0.05, 0.01 give the 90%, 95% and 99% classes.
    fdr
        Control the false discovery rate (Benjamini-Hochberg) across all units.

    Returns
    -------
    pandas.Categorical
        Ordered categories from :func:`class_names`; each unit gets the highest
        confidence level at which it is significant.

    Notes
    -----
    Without FDR a unit is significant at level ``alpha`` when ``p <= alpha``. With FDR,
    each level is corrected separately over *all* units tested (every cell in the study
    area, hot and cold together): ``cut = esda.fdr(p, alpha)`` (the Benjamini-Hochberg
    threshold ``k * alpha / m`` for the largest ``k`` with ``p_(k) < k * alpha / m``), and
    a unit is significant at ``alpha`` when ``p < cut``. The corrected sets are nested
    (a unit significant at 99% is significant at 95%), so the class is the strictest
    level passed. Permutation p-values cannot go below ``2 / (P + 1)``: with ``m``
    units, a level ``alpha`` is reachable under FDR only if about
    ``m * 2 / ((P + 1) * alpha)`` units reach that floor (with 999 permutations and
    2,000 cells, 400 cells for 99%), so use 9,999 permutations for a 99% class.
    """
    p = np.asarray(p, dtype=float)
    hot = np.asarray(hot, dtype=bool)
    alphas = _check_alphas(alpha_levels)  # loosest first; stricter levels overwrite
    out = np.full(len(p), NOT_SIGNIFICANT, dtype=object)
    if len(p):
        for alpha in alphas:
            sig = p < esda.fdr(p, alpha) if fdr else p <= alpha
            out[sig & hot] = f"hot {_confidence(alpha)}"
            out[sig & ~hot] = f"cold {_confidence(alpha)}"
    return pd.Categorical(out, categories=class_names(alpha_levels), ordered=True)


def _gistar(
    y: np.ndarray,
    w: libpysal.weights.W,
    *,
    permutations: int,
    random_state: int | None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Gi* z-scores, two-sided tie-aware pseudo p-values and hot flags."""
    if int(permutations) != permutations or permutations < 99:
        msg = f"permutations must be a whole number >= 99, got {permutations!r}."
        raise InputError(msg)
    if len(y) * permutations > MAX_SIMULATED:
        msg = (
            f"{len(y):,} units x {permutations:,} permutations would hold "
            f"{len(y) * permutations * 8 / 1e9:.1f} GB of simulated values; use larger cells "
            "or fewer permutations."
        )
        raise InputError(msg)
    with warnings.catch_warnings(), np.errstate(divide="ignore", invalid="ignore"):
        # esda warns that its default alternative will change; we do not use its p_sim.
        # Its z_sim divides by zero where every simulation ties; we do not use z_sim.
        warnings.filterwarnings("ignore", message="The alternative hypothesis")
        g = esda.G_Local(
            y,
            w,
            transform="B",
            permutations=int(permutations),
            star=True,
            keep_simulations=True,
            n_jobs=1,
            seed=random_state,
        )
    sim = np.asarray(g.rGs)  # (n, P)
    obs = np.asarray(g.Gs)[:, None]
    tol = 1e-12 * np.maximum(np.abs(obs), np.finfo(float).tiny)
    p_high = ((sim >= obs - tol).sum(axis=1) + 1) / (permutations + 1)
    p_low = ((sim <= obs + tol).sum(axis=1) + 1) / (permutations + 1)
    p = np.minimum(1.0, 2 * np.minimum(p_high, p_low))
    return np.asarray(g.Zs, dtype=float), p, p_high < p_low


def square_cells(study_area: object, *, cell_m: float) -> gpd.GeoDataFrame:
    """Square cells of side ``cell_m`` covering a study area.

    Parameters
    ----------
    study_area
        Polygon (shapely, BNG metres) or GeoDataFrame/GeoSeries in EPSG:27700, see
        :func:`analysis.grid.area_geometry`.
    cell_m
        Side of a cell in metres.

    Returns
    -------
    geopandas.GeoDataFrame
        In EPSG:27700, columns ``cell`` (0..n-1), ``ix`` (column, 0 = west), ``iy``
        (row, 0 = south) and ``geometry``: every cell of
        ``analysis.grid.Grid.covering(area, cell_m)`` that shares some area with the
        study area (cells meeting it only along an edge or at a corner are left out).
        Cell edges lie on multiples of ``cell_m`` in National Grid metres, so these
        cells line up with every other grid of the same size. The :class:`Grid` is
        in ``attrs["grid"]``.

    Raises
    ------
    InputError
        If ``cell_m`` is not positive, the area has no polygon, or the grid would hold
        more than five million cells.
    """
    area = area_geometry(study_area)
    grid = Grid.covering(area, cell_m)
    if grid.nx * grid.ny > 5_000_000:
        msg = (
            f"cell_m={cell_m} gives {grid.nx * grid.ny:,} cells over the study area; "
            "use a larger cell."
        )
        raise InputError(msg)
    every = grid.cell_polygons()
    boxes = every.geometry.to_numpy()
    shapely.prepare(area)
    keep = shapely.intersects(area, boxes) & ~shapely.touches(area, boxes)
    mask = np.zeros(grid.shape, dtype=bool)
    mask[every["iy"].to_numpy()[keep], every["ix"].to_numpy()[keep]] = True
    cells = grid.cell_polygons(mask)
    cells.insert(0, "cell", np.arange(len(cells)))
    cells.attrs["grid"] = grid
    return cells


def _point_xy(points: gpd.GeoDataFrame | gpd.GeoSeries | np.ndarray) -> np.ndarray:
    if isinstance(points, gpd.GeoDataFrame | gpd.GeoSeries):
        require_bng(points, "points")
        geoms = points.geometry.values if isinstance(points, gpd.GeoDataFrame) else points.values
        ok = ~(shapely.is_missing(geoms) | shapely.is_empty(geoms))
        return np.column_stack([shapely.get_x(geoms[ok]), shapely.get_y(geoms[ok])])
    xy = np.asarray(points, dtype=float)
    if xy.ndim != 2 or xy.shape[1] != 2:
        msg = (
            f"points must be a GeoDataFrame in EPSG:27700 or an (n, 2) array; got shape {xy.shape}."
        )
        raise InputError(msg)
    return xy[np.isfinite(xy).all(axis=1)]


def grid_weights(cells: gpd.GeoDataFrame, weights: str, distance_m: float) -> libpysal.weights.W:
    """Spatial weights between square cells, as :func:`gistar_grid` uses them.

    Parameters
    ----------
    cells
        Cells with ``ix`` and ``iy`` columns (as from :func:`square_cells`), in
        EPSG:27700.
    weights
        ``"queen"``: the up to 8 cells around a cell (by ``ix``, ``iy``); anything
        else: cells whose centres lie within ``distance_m``.
    distance_m
        Distance band in metres (used unless ``weights`` is ``"queen"``).

    Returns
    -------
    libpysal.weights.W
        Binary weights, one observation per row of ``cells`` in their order; the
        cell itself is not its own neighbour (Gi* adds it).
    """
    if weights == "queen":
        lookup = {(r, c): i for i, (r, c) in enumerate(zip(cells["iy"], cells["ix"], strict=True))}
        neighbours: dict[int, list[int]] = {}
        for (r, c), i in lookup.items():
            near = (lookup.get((r + dr, c + dc)) for dr in (-1, 0, 1) for dc in (-1, 0, 1))
            neighbours[i] = [j for j in near if j is not None and j != i]
        return libpysal.weights.W(neighbours, silence_warnings=True)
    centres = shapely.get_coordinates(cells.geometry.centroid.values)
    return libpysal.weights.DistanceBand(
        centres, threshold=distance_m, binary=True, silence_warnings=True
    )


def gistar_grid(
    points: gpd.GeoDataFrame | gpd.GeoSeries | np.ndarray,
    *,
    cell_m: float = 200.0,
    study_area: object,
    permutations: int = DEFAULT_PERMUTATIONS,
    alpha_levels: Sequence[float] = _DEFAULT_ALPHAS,
    fdr: bool = True,
    random_state: int | None = 0,
    weights: str = "queen",
    distance_m: float | None = None,
) -> gpd.GeoDataFrame:
    """Gi* hot and cold spots of incident counts on square cells.

    Parameters
    ----------
    points
        Incidents in EPSG:27700 (rows without a location are skipped) or an ``(n, 2)``
        array of BNG metres.
    cell_m
        Side of a cell, metres.
    study_area
        Borough polygon (``geo.boundaries.study_area()``) or a GeoDataFrame in BNG.
        Only points inside it are counted, and only cells that intersect it are tested.
    permutations
        Conditional permutations for the pseudo p-values (at least 99; default 9,999,
        see :data:`DEFAULT_PERMUTATIONS`). ``cells * permutations`` simulated values
        are held in memory, at most :data:`MAX_SIMULATED`.
    alpha_levels
        Significance levels of the classes (0.10, 0.05, 0.01 -> 90%, 95%, 99%).
    fdr
        Control the false discovery rate over all cells at each level (see
        :func:`classify`).
    random_state
        Seed of the permutations.
    weights
        ``"queen"``: the 8 cells around a cell; ``"distance"``: cells whose centres lie
        within ``distance_m``. The cell itself always counts (Gi*).
    distance_m
        Distance band for ``weights="distance"``; None means ``2 * cell_m``.

    Returns
    -------
    geopandas.GeoDataFrame
        In EPSG:27700, one row per cell: ``cell``, ``ix``, ``iy`` (see
        :func:`square_cells`), ``count``
        (incidents in the cell and the study area), ``z`` (esda's Gi* z-score),
        ``p_sim`` (two-sided pseudo p-value, see the module notes), ``class``
        (ordered categorical, :func:`class_names`) and ``geometry``.

    Raises
    ------
    InputError
        For a frame not in BNG, no incidents inside the study area, or bad parameters.

    Notes
    -----
    A point on a cell edge counts in the cell to its east/north. Cells on the edge
    of the study area are whole squares, but only the incidents inside the study area
    are counted in them, so a cell half in Southampton is not filled by Southampton.
    """
    if weights not in ("queen", "distance"):
        msg = f"weights must be 'queen' or 'distance', got {weights!r}."
        raise InputError(msg)
    if distance_m is None:
        distance_m = 2.0 * cell_m
    if not (np.isfinite(distance_m) and distance_m > 0):
        msg = f"distance_m must be a positive number of metres, got {distance_m!r}."
        raise InputError(msg)
    cells = square_cells(study_area, cell_m=cell_m)
    grid: Grid = cells.attrs["grid"]
    area = area_geometry(study_area)
    xy = _point_xy(points)
    shapely.prepare(area)
    inside = shapely.contains_xy(area, xy[:, 0], xy[:, 1]) if len(xy) else np.zeros(0, bool)
    ix, iy, on_grid = grid.cell_index(xy[inside, 0], xy[inside, 1])
    lookup = np.full(grid.shape, -1, dtype=np.intp)
    lookup[cells["iy"].to_numpy(), cells["ix"].to_numpy()] = cells["cell"].to_numpy()
    which = lookup[iy[on_grid], ix[on_grid]]
    # A point inside the area lies in a cell that shares area with it, so which >= 0.
    which = which[which >= 0]
    counts = np.bincount(which, minlength=len(cells))
    if counts.sum() == 0:
        msg = (
            "gistar_grid: no incidents fall inside the study area, so there is nothing to "
            "test. Check the points are in EPSG:27700 and the study area is the right one."
        )
        raise InputError(msg)
    w = grid_weights(cells, weights, float(distance_m))
    z, p, hot = _gistar(
        counts.astype(float), w, permutations=permutations, random_state=random_state
    )
    cells.insert(3, "count", counts)
    cells.attrs["grid"] = grid
    cells.insert(4, "z", z)
    cells.insert(5, "p_sim", p)
    cells.insert(6, "class", classify(p, hot, alpha_levels=alpha_levels, fdr=fdr))
    return cells


def _aligned(values: object, areas: gpd.GeoDataFrame, on: str | None, what: str) -> np.ndarray:
    """Return ``values`` as a float array in the order of ``areas``' rows."""
    if isinstance(values, str):
        if values not in areas.columns:
            msg = f"{what}: column {values!r} not in the areas frame (columns: {list(areas.columns)})."
            raise InputError(msg)
        return pd.to_numeric(areas[values], errors="coerce").to_numpy(float)
    if isinstance(values, pd.Series):
        keys = areas[on] if on is not None else areas.index
        unknown = values.index.difference(pd.Index(keys))
        if len(unknown):
            msg = (
                f"{what}: {len(unknown)} key(s) not among the areas' {on or 'index'}: "
                f"{list(unknown[:5])}. Keep only the study area's areas before testing."
            )
            raise InputError(msg)
        return values.reindex(pd.Index(keys)).fillna(0).to_numpy(float)
    arr = np.asarray(values, dtype=float)
    if arr.shape != (len(areas),):
        msg = f"{what}: expected one value per area ({len(areas)}), got shape {arr.shape}."
        raise InputError(msg)
    return arr


def gistar_areas(
    areas_gdf: gpd.GeoDataFrame,
    counts: pd.Series | np.ndarray | str,
    *,
    population: pd.Series | np.ndarray | str | None = None,
    per: float = 1000.0,
    on: str | None = "code",
    permutations: int = DEFAULT_PERMUTATIONS,
    alpha_levels: Sequence[float] = _DEFAULT_ALPHAS,
    fdr: bool = True,
    random_state: int | None = 0,
    contiguity_tolerance_m: float = 1.0,
) -> gpd.GeoDataFrame:
    """Gi* hot and cold spots on areas (e.g. LSOAs) with queen contiguity.

    Parameters
    ----------
    areas_gdf
        Area polygons in EPSG:27700 (e.g. ``geo.boundaries.load_layer("lsoa_2011")``).
    counts
        Incidents per area: a Series indexed by the ``on`` column's values (codes
        missing from it count 0), an array in row order, or a column name.
    population
        Residents per area, same forms. When given, Gi* runs on the rate
        ``count / population * per``; otherwise on the count.
    per
        Rate base (per 1,000 residents).
    on
        Column of ``areas_gdf`` that a Series is keyed by; None for the frame's index.
    permutations, alpha_levels, fdr, random_state
        As for :func:`gistar_grid`.
    contiguity_tolerance_m
        Areas are neighbours when they touch or overlap after growing each by this many
        metres (see notes).

    Returns
    -------
    geopandas.GeoDataFrame
        ``areas_gdf`` with ``count``, ``population`` and ``rate`` (when a population is
        given), ``z``, ``p_sim``, ``class`` and ``n_neighbours`` added.

    Raises
    ------
    InputError
        If the frame is not in BNG, values do not align, a population is not positive,
        or every value is zero.

    Notes
    -----
    Queen contiguity (sharing at least one point) assumes the polygons share vertices
    exactly. The generalised ONS boundary files do not: each polygon is simplified on
    its own, so neighbours overlap or leave slivers, and libpysal's ``Queen`` finds all
    77 Eastleigh LSOAs to be islands. Neighbours are therefore found with
    :meth:`libpysal.graph.Graph.build_fuzzy_contiguity` (intersection after a
    ``contiguity_tolerance_m`` buffer), which on the Eastleigh LSOAs gives 5.2
    neighbours on average and no islands, as queen contiguity on exact boundaries would.
    """
    require_bng(areas_gdf, "areas_gdf")
    if on is not None and on not in areas_gdf.columns:
        on = None
    count = _aligned(counts, areas_gdf, on, "counts")
    out = areas_gdf.copy()
    out["count"] = count.astype(np.int64) if np.array_equal(count, np.round(count)) else count
    if population is not None:
        pop = _aligned(population, areas_gdf, on, "population")
        bad = ~(np.isfinite(pop) & (pop > 0))
        if bad.any():
            names = areas_gdf.iloc[np.flatnonzero(bad)[:5]]
            label = names[on].tolist() if on is not None else names.index.tolist()
            msg = f"population: areas {label} have no positive population; rates need one."
            raise InputError(msg)
        out["population"] = pop
        out["rate"] = count / pop * per
        y = out["rate"].to_numpy(float)
    else:
        y = count
    if not np.isfinite(y).all() or y.sum() <= 0 or (y < 0).any():
        msg = "gistar_areas: counts must be non-negative numbers with at least one above zero."
        raise InputError(msg)
    graph = libpysal.graph.Graph.build_fuzzy_contiguity(
        areas_gdf.geometry.reset_index(drop=True), buffer=contiguity_tolerance_m
    )
    w = graph.to_W()
    z, p, hot = _gistar(y, w, permutations=permutations, random_state=random_state)
    out["z"] = z
    out["p_sim"] = p
    out["class"] = classify(p, hot, alpha_levels=alpha_levels, fdr=fdr)
    out["n_neighbours"] = np.asarray([w.cardinalities[i] for i in w.id_order], dtype=int)
    return out


def gistar_hotspots(
    cells: gpd.GeoDataFrame,
    *,
    classes: Sequence[str] = ("hot 99%", "hot 95%"),
) -> gpd.GeoDataFrame:
    """Dissolve touching hot cells into hotspot polygons ranked by incidents.

    Parameters
    ----------
    cells
        Output of :func:`gistar_grid` (or :func:`gistar_areas`): needs ``count``,
        ``class`` and ``geometry`` in EPSG:27700.
    classes
        Which classes make a hotspot; by default hot at 95% or more.

    Returns
    -------
    geopandas.GeoDataFrame
        In EPSG:27700, one row per group of touching hot cells (sharing an edge or a
        corner, like queen weights), sorted by ``count`` descending: ``rank``
        (1 = most incidents), ``count``, ``n_cells``, ``area_m2``, ``class`` (the
        strongest class among its cells), ``geometry`` (the union of its cells; a
        MultiPolygon when cells meet only at a corner).

    Raises
    ------
    InputError
        If ``cells`` lacks the columns or is not in BNG.
    """
    require_bng(cells, "cells")
    missing = [c for c in ("count", "class") if c not in cells.columns]
    if missing:
        msg = f"cells: missing column(s) {missing}; pass the output of gistar_grid or gistar_areas."
        raise InputError(msg)
    columns = ["rank", "count", "n_cells", "area_m2", "class", "geometry"]
    hot = cells[cells["class"].astype(str).isin(list(classes))].reset_index(drop=True)
    if hot.empty:
        return gpd.GeoDataFrame(pd.DataFrame(columns=columns), geometry="geometry", crs=BNG)
    left, right = hot.sindex.query(hot.geometry, predicate="intersects")
    adjacency = scipy.sparse.coo_matrix(
        (np.ones(len(left)), (left, right)), shape=(len(hot), len(hot))
    )
    _, component = connected_components(adjacency, directed=False)
    order = (
        {name: i for i, name in enumerate(cells["class"].cat.categories)}
        if isinstance(cells["class"].dtype, pd.CategoricalDtype)
        else {name: i for i, name in enumerate(reversed(list(classes)))}
    )
    rows = []
    for k in np.unique(component):
        part = hot[component == k]
        strongest = max(part["class"].astype(str), key=lambda name: order.get(name, -1))
        geom = shapely.union_all(part.geometry.values)
        rows.append(
            {
                "count": int(part["count"].sum()),
                "n_cells": len(part),
                "area_m2": float(geom.area),
                "class": strongest,
                "geometry": geom,
                "_first": int(part.index.min()),
            }
        )
    frame = pd.DataFrame(rows).sort_values(["count", "_first"], ascending=[False, True])
    frame = frame.drop(columns="_first").reset_index(drop=True)
    frame.insert(0, "rank", np.arange(1, len(frame) + 1))
    return gpd.GeoDataFrame(frame[columns], geometry="geometry", crs=BNG)
