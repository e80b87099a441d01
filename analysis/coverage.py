"""Hotspots as the highest-density share of the study area, and how well they predict.

A density surface becomes hotspot polygons by taking its highest cells until they
cover a share of the study area (``coverage=0.01`` is the top 1 %), or every
cell above a density percentile, and dissolving touching cells into polygons.

The same cells give the prospective measures of ``DOMAIN.md``: the **hit rate**
(share of the next period's incidents inside them) and the **PAI** (hit rate
divided by the share of the area they cover; Chainey, Tompson & Uhlig 2008).

Rules, so that results are reproducible and comparable:

* Only cells of the study area (centre inside it) with density > 0 can be chosen.
  Cells are ranked by density, ties (equal to 9 significant digits) broken by row
  then column from the south-west, so the same surface always gives the same cells.
* The number of cells for a coverage ``c`` is ``round(c * area / cell area)``,
  where ``area`` is the study-area polygon's area (or its cells' area when only a
  grid mask is known). When that cannot come within 10 % of the target area (cells
  too coarse for the coverage) an :class:`~geo.errors.InputError` says so. When
  fewer cells than that have any density, all of them are taken and the covered
  share, which is then smaller, is what the PAI uses.
* Test incidents are placed in cells; incidents in cells outside the study area
  (or off the grid) are excluded from the hit rate and counted.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from scipy import ndimage

from analysis.grid import area_geometry
from analysis.kde import DensitySurface
from analysis.kernels import points_xy
from geo.errors import InputError

__all__ = ["CoverageScore", "coverage_mask", "hit_rate_at_coverage", "hotspot_areas"]


@dataclass(frozen=True)
class CoverageScore:
    """Hit rate and PAI of the top cells at one coverage.

    Unpacks as ``hit_rate, area_share, pai = hit_rate_at_coverage(...)``; the other
    attributes say what the figures rest on.

    Attributes
    ----------
    hit_rate : float
        Share of the test incidents (inside the study area) that fall in the chosen
        cells; NaN when there are none.
    area_share : float
        Area of the chosen cells divided by the study area.
    pai : float
        ``hit_rate / area_share``.
    n_hits : int
        Test incidents in the chosen cells.
    n_test : int
        Test incidents inside the study area (the hit rate's denominator).
    n_excluded : int
        Located test incidents outside the study area's cells or off the grid.
    n_no_location : int
        Test rows without a location (not counted anywhere else).
    n_cells : int
        Cells chosen.
    covered_m2 : float
        Their area, m².
    """

    hit_rate: float
    area_share: float
    pai: float
    n_hits: int
    n_test: int
    n_excluded: int
    n_no_location: int
    n_cells: int
    covered_m2: float

    def __iter__(self) -> Iterator[float]:
        return iter((self.hit_rate, self.area_share, self.pai))


def _area_of(surface: DensitySurface, study_area: Any) -> tuple[np.ndarray, float]:
    """Study-area cells of the surface's grid and the study area in m²."""
    if study_area is not None:
        geom = area_geometry(study_area)
        mask = surface.grid.mask_from(geom) & np.isfinite(surface.values)
        return mask, float(geom.area)
    mask = surface.area_mask & np.isfinite(surface.values)
    if surface.study_area_m2 is not None:
        return mask, float(surface.study_area_m2)
    return mask, float(mask.sum() * surface.grid.cell_area_m2)


def _ranked_in(surface: DensitySurface, mask: np.ndarray) -> np.ndarray:
    order = surface.ranked_cells()
    return order[mask.ravel()[order]]


def _nearest_fill(
    chosen: np.ndarray, mask: np.ndarray, shape: tuple[int, int], n: int
) -> np.ndarray:
    """The ``n`` cells of ``mask`` not in ``chosen`` nearest to a chosen cell (flat indices)."""
    taken = np.zeros(shape[0] * shape[1], dtype=bool)
    taken[chosen] = True
    if taken.any():
        dist = ndimage.distance_transform_edt(~taken.reshape(shape)).ravel()
    else:
        dist = np.zeros(taken.size)
    free = np.flatnonzero(mask.ravel() & ~taken)
    order = free[np.lexsort((free, dist[free]))]
    return order[:n]


def coverage_mask(
    surface: DensitySurface, coverage: float, study_area: Any = None
) -> tuple[np.ndarray, dict]:
    """The highest cells covering ``coverage`` of the study area.

    Parameters
    ----------
    surface
        A density surface (or any :class:`~analysis.kde.DensitySurface`-shaped score).
    coverage
        Share of the study area, in (0, 1]; ``0.01`` is the top 1 %.
    study_area
        Polygon (shapely, BNG) or GeoDataFrame in EPSG:27700; default: the
        surface's own study area (or its whole grid).

    Returns
    -------
    mask : numpy.ndarray of bool
        ``[ny, nx]``, True for the chosen cells.
    info : dict
        ``target_m2``, ``covered_m2``, ``study_area_m2``, ``n_cells``,
        ``n_cells_wanted``, ``threshold_density`` (lowest chosen density) and
        ``note`` (non-empty when fewer cells than wanted had any density).

    Raises
    ------
    InputError
        If ``coverage`` is not in (0, 1] or the cells are too coarse to come within
        10 % of the target area.
    """
    try:
        c = float(coverage)
    except (TypeError, ValueError) as exc:
        msg = f"coverage must be a share of the study area in (0, 1], got {coverage!r}."
        raise InputError(msg) from exc
    if not (0 < c <= 1):
        msg = (
            f"coverage must be a share of the study area in (0, 1] (0.01 = 1 %), got {coverage!r}."
        )
        raise InputError(msg)
    mask, area_m2 = _area_of(surface, study_area)
    cell_m2 = surface.grid.cell_area_m2
    target = c * area_m2
    n_want = round(target / cell_m2)
    if n_want < 1 or abs(n_want * cell_m2 - target) > 0.1 * target:
        msg = (
            f"coverage {c:g} of {area_m2 / 1e6:.3g} km² is {target:,.0f} m², which "
            f"{surface.grid.cell_m:g} m cells cannot match within 10 %; use smaller cells "
            "(cell_m) or a larger coverage."
        )
        raise InputError(msg)
    order = _ranked_in(surface, mask)[:n_want]
    with_density = len(order)
    note = ""
    if with_density < n_want:
        # Coverage is honoured: the cells nearest to those with density fill the rest
        # (ties by row then column, south-west first), so a narrow kernel still gives
        # hotspots over the share asked for.
        order = np.concatenate(
            [order, _nearest_fill(order, mask, surface.grid.shape, n_want - with_density)]
        )
        note = (
            f"Only {with_density} cells have any density, fewer than the {n_want} wanted for "
            f"coverage {c:g}; the {n_want - with_density} cells nearest to them fill the rest."
        )
    chosen = np.zeros(surface.grid.nx * surface.grid.ny, dtype=bool)
    chosen[order] = True
    info = {
        "target_m2": target,
        "covered_m2": len(order) * cell_m2,
        "study_area_m2": area_m2,
        "n_cells": len(order),
        "n_cells_wanted": n_want,
        "threshold_density": float(surface.values.ravel()[order[-1]]) if len(order) else np.nan,
        "note": note,
    }
    return chosen.reshape(surface.grid.shape), info


def hotspot_areas(
    surface: DensitySurface,
    *,
    coverage: float | None = None,
    percentile: float | None = None,
    study_area: Any = None,
) -> gpd.GeoDataFrame:
    """Hotspot polygons: the densest cells, dissolved into connected areas.

    Give exactly one of ``coverage`` and ``percentile``.

    Parameters
    ----------
    surface
        Density surface from :func:`analysis.kde.kde_surface`.
    coverage
        Share of the study area to cover with the densest cells (0.01 = top 1 %),
        within 10 % of that area.
    percentile
        Alternatively, every study-area cell with density > 0 at or above this
        percentile (0-100) of the densities of all study-area cells (zeros included).
    study_area
        Polygon (shapely, BNG) or GeoDataFrame in EPSG:27700; default: the surface's.

    Returns
    -------
    geopandas.GeoDataFrame
        One row per connected polygon (cells joined by an edge; touching corners do
        not join), ranked by ``mass``: columns ``rank``, ``n_cells``, ``area_m2``,
        ``mass`` (incidents' worth of density inside: density x area),
        ``mean_density`` and ``peak_density`` (incidents per km²), ``geometry``.
        ``attrs`` holds ``target_m2``, ``covered_m2``, ``study_area_m2``,
        ``threshold_density`` and ``note``.

    Raises
    ------
    InputError
        If neither or both of ``coverage`` and ``percentile`` are given, or they are
        out of range.
    """
    if (coverage is None) == (percentile is None):
        msg = "Give exactly one of coverage (share of the area, e.g. 0.01) or percentile (0-100)."
        raise InputError(msg)
    if coverage is not None:
        chosen, info = coverage_mask(surface, coverage, study_area)
    else:
        p = float(percentile)
        if not (0 <= p < 100):
            msg = f"percentile must be in [0, 100), got {percentile!r}."
            raise InputError(msg)
        mask, area_m2 = _area_of(surface, study_area)
        vals = surface.values[mask]
        threshold = float(np.percentile(vals, p)) if len(vals) else np.inf
        chosen = mask & (np.nan_to_num(surface.values) >= threshold) & (surface.values > 0)
        covered = float(chosen.sum() * surface.grid.cell_area_m2)
        info = {
            "target_m2": np.nan,
            "covered_m2": covered,
            "study_area_m2": area_m2,
            "n_cells": int(chosen.sum()),
            "n_cells_wanted": int(chosen.sum()),
            "threshold_density": threshold,
            "note": "",
        }
    out = _dissolve(surface, chosen)
    out.attrs.update(info)
    return out


def _dissolve(surface: DensitySurface, chosen: np.ndarray) -> gpd.GeoDataFrame:
    labels, n = ndimage.label(chosen)  # 4-connectivity: cells sharing an edge
    iy, ix = np.nonzero(chosen)
    lab = labels[iy, ix]
    dens = surface.values[iy, ix]
    boxes = surface.grid.cell_boxes(ix, iy)
    cell_km2 = surface.grid.cell_km2
    frame = pd.DataFrame({"lab": lab, "dens": dens, "first": iy * surface.grid.nx + ix})
    g = frame.groupby("lab")
    stats = pd.DataFrame(
        {
            "n_cells": g.size(),
            "mass": g["dens"].sum() * cell_km2,
            "mean_density": g["dens"].mean(),
            "peak_density": g["dens"].max(),
            "first": g["first"].min(),
        }
    )
    # Cells of a grid share their edges exactly, so each patch is a coverage: its union
    # by coverage union (Cornwall's 14,195 top 1% cells, 0.34 s by the general union,
    # 0.02 s), with the vertices left along straight edges dropped (tolerance 0).
    order = np.argsort(lab, kind="stable")
    cuts = np.flatnonzero(np.diff(lab[order])) + 1
    patches = [shapely.coverage_union_all(part) for part in np.split(boxes[order], cuts)]
    geoms = list(shapely.simplify(np.asarray(patches, dtype=object), 0.0)) if n else []
    out = gpd.GeoDataFrame(stats, geometry=geoms, crs=surface.crs)
    out["area_m2"] = out["n_cells"] * surface.grid.cell_area_m2
    out = out.sort_values(["mass", "first"], ascending=[False, True], kind="stable")
    out = out.reset_index(drop=True)
    out.insert(0, "rank", np.arange(1, len(out) + 1))
    cols = ["rank", "n_cells", "area_m2", "mass", "mean_density", "peak_density", "geometry"]
    return out[cols]


def hit_rate_at_coverage(
    surface: DensitySurface,
    test_xy: Any,
    coverage: float,
    study_area: Any = None,
) -> CoverageScore:
    """Hit rate, area share and PAI of the top ``coverage`` of the surface.

    Parameters
    ----------
    surface
        Density surface fitted on an earlier period.
    test_xy
        The next period's incidents: incident frame in EPSG:27700 (rows without a
        location are counted and skipped) or ``(n, 2)`` array of BNG metres.
    coverage
        Share of the study area, e.g. ``0.01``.
    study_area
        Polygon or GeoDataFrame; default: the surface's own study area.

    Returns
    -------
    CoverageScore
        Unpacks as ``(hit_rate, area_share, pai)``.
    """
    chosen, info = coverage_mask(surface, coverage, study_area)
    mask, _ = _area_of(surface, study_area)
    xy, _, n_missing = points_xy(test_xy, what="test incidents")
    ix, iy, inside = surface.grid.cell_index_in(xy[:, 0], xy[:, 1], mask)
    hits = np.zeros(len(xy), dtype=bool)
    hits[inside] = chosen[iy[inside], ix[inside]]
    n_test = int(inside.sum())
    hit_rate = hits.sum() / n_test if n_test else float("nan")
    share = info["covered_m2"] / info["study_area_m2"]
    return CoverageScore(
        hit_rate=float(hit_rate),
        area_share=float(share),
        pai=float(hit_rate / share) if share > 0 else float("nan"),
        n_hits=int(hits.sum()),
        n_test=n_test,
        n_excluded=int(len(xy) - n_test),
        n_no_location=int(n_missing),
        n_cells=int(info["n_cells"]),
        covered_m2=float(info["covered_m2"]),
    )
