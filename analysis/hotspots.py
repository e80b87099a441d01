"""One entry point for finding hotspots by any method.

:func:`detect_hotspots` runs kernel density (KDE), DBSCAN or Getis-Ord Gi* on an
incident frame and returns described, named, ranked hotspot polygons with everything
needed to show and explain them (the bandwidth chosen and why, the density surface,
the Gi* cells, and what the data shows at the review's named hotspots).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from sklearn.exceptions import ConvergenceWarning

from analysis import clusters
from analysis.bandwidth import choose_bandwidth
from analysis.coverage import hotspot_areas
from analysis.describe import describe_hotspots, top_values
from analysis.gistar import DEFAULT_PERMUTATIONS, gistar_grid, gistar_hotspots
from analysis.kde import cell_for_bandwidth_m, kde_surface
from analysis.patrol import patrol_areas
from analysis.reference import reference_hotspots
from analysis.risk import RiskSurface, fit_risk
from geo.crs import require_bng
from geo.errors import InputError
from geo.study_area import StudyArea

__all__ = ["METHODS", "MIN_PATROL_MONTHS", "HotspotResult", "detect_hotspots", "merge_nearby"]

METHODS = ("patrol", "kde", "dbscan", "hdbscan", "gistar")

MIN_PATROL_MONTHS = 6
"""Fewest consecutive months the risk surface is fitted on: it chooses its settings by
rolling origin (fit on the earlier months, score the later ones), which needs history."""


@dataclass
class HotspotResult:
    """Hotspots found by one method, with what explains them.

    Attributes
    ----------
    hotspots
        Described polygons (:func:`analysis.describe.describe_hotspots`), rank 1 first.
    method
        ``kde``, ``dbscan`` or ``gistar``.
    params
        The parameters used, including any chosen automatically (``bandwidth_m`` and
        ``bandwidth_rule`` for KDE).
    surface
        The KDE density surface (KDE only).
    cells
        The Gi* grid cells with their z-scores and classes (Gi* only).
    reference
        The review's named hotspots and what the data shows there.
    notes
        Plain-language notes for the user (e.g. how the bandwidth was chosen).
    risk
        The fitted risk surface (patrol areas only): its settings, weights and the
        accuracy measured by rolling origin on the loaded months.
    """

    hotspots: gpd.GeoDataFrame
    method: str
    params: dict[str, Any]
    surface: Any = None
    cells: gpd.GeoDataFrame | None = None
    reference: gpd.GeoDataFrame | None = None
    notes: list[str] = field(default_factory=list)
    risk: RiskSurface | None = None


def detect_hotspots(
    incidents: gpd.GeoDataFrame,
    area: StudyArea,
    *,
    method: str = "kde",
    coverage: float = 0.01,
    bandwidth_m: float | str = "auto",
    cell_m: float = 50.0,
    kernel: str = "quartic",
    merge_m: float = 100.0,
    eps_m: float | None = None,
    min_samples: int | None = None,
    gistar_cell_m: float = 200.0,
    permutations: int | None = None,
    random_state: int = 0,
    history: gpd.GeoDataFrame | None = None,
    n_areas: int = 10,
    max_across_m: float = 400.0,
) -> HotspotResult:
    """Find, describe and name hotspots.

    Parameters
    ----------
    incidents
        Incident frame in EPSG:27700 (already filtered to the types and months wanted).
    area
        The study area: the analysis is confined to its outline, hotspots are named
        after its gazetteer (or their streets) and wards, and checked against the
        review's named hotspots where it has them.
    method
        ``patrol`` (up to ``n_areas`` compact areas of at most ``max_across_m`` from the
        predictive risk surface: where next month, :mod:`analysis.risk`),
        ``kde`` (highest-density cells covering ``coverage`` of the study area),
        ``dbscan`` (clusters of at least ``min_samples`` incidents within ``eps_m``),
        ``hdbscan`` (clusters of at least ``min_samples`` incidents at any density) or
        ``gistar`` (cells significantly hot at 95% after FDR correction).
    coverage
        KDE: share of the study area the hotspots cover (0.01 = 1%).
    bandwidth_m
        KDE bandwidth in metres, or a rule: ``auto`` (likelihood cross-validation
        across months when there are two or more, else the spatial Silverman rule),
        ``scott``, ``silverman``, ``spatial_silverman``.
    cell_m
        KDE grid cell, metres: the finest. Where the bandwidth spans more than 40 such
        cells (a rule of thumb's county-wide bandwidth) the surface uses a whole multiple
        of it (:func:`analysis.kde.cell_for_bandwidth_m`), said in the notes.
    kernel
        ``quartic`` or ``gaussian``.
    merge_m
        KDE: high-density patches closer than this (metres) form one hotspot, so a
        town centre whose incidents sit at several map points is one named place,
        not a scatter of single cells. 0 keeps every patch separate.
    eps_m, min_samples
        DBSCAN parameters; the module defaults when None.
    gistar_cell_m, permutations, random_state
        Gi* grid cell (metres), permutations (the module default when None: with
        false-discovery-rate correction, fewer than about 10,000 permutations cannot
        reach significance on a borough grid) and seed.
    history
        Patrol: the incidents of every type in the same months (the other types are
        inputs of the risk surface); ``incidents`` when None.
    n_areas, max_across_m
        Patrol: most areas (3 to 30) and the largest extent of one, metres.

    Returns
    -------
    HotspotResult

    Raises
    ------
    InputError
        For an unknown method or no located incidents.
    """
    require_bng(incidents, "incidents")
    if method not in METHODS:
        msg = f"unknown method {method!r}; choose one of {', '.join(METHODS)}."
        raise InputError(msg)
    study_area = area.geometry
    located = incidents[incidents["has_location"].to_numpy(bool)]
    if located.empty:
        msg = "no incidents with a location to map for these filters; widen the types or months."
        raise InputError(msg)
    notes: list[str] = []
    surface = cells = None
    if method == "patrol":
        return _patrol(
            incidents,
            area,
            history if history is not None else incidents,
            n_areas=n_areas,
            max_across_m=max_across_m,
        )
    if method == "kde":
        choice = choose_bandwidth(
            located, rule=bandwidth_m, cell_m=cell_m, kernel=kernel, study_area=study_area
        )
        surface_cell_m = cell_for_bandwidth_m(choice.bandwidth_m, cell_m)
        surface = kde_surface(
            located,
            bandwidth_m=choice.bandwidth_m,
            cell_m=surface_cell_m,
            kernel=kernel,
            study_area=study_area,
        )
        polys = merge_nearby(
            hotspot_areas(surface, coverage=coverage, study_area=study_area), merge_m
        )
        params = {
            "coverage": coverage,
            "bandwidth_m": choice.bandwidth_m,
            "bandwidth_rule": choice.rule,
            "cell_m": surface_cell_m,
            "kernel": kernel,
            "merge_m": merge_m,
        }
        how = {
            "cv": ", chosen by likelihood cross-validation across months (fit on the "
            "earlier months, score the next)",
            "fixed": ", as set",
        }
        notes.append(
            f"KDE bandwidth {choice.bandwidth_m:.4g} m"
            f"{how.get(choice.rule, f', chosen by the {choice.rule} rule')}."
        )
        if surface_cell_m != cell_m:
            notes.append(
                f"Density on {surface_cell_m:.0f} m cells: the {choice.bandwidth_m:.4g} m "
                f"bandwidth leaves no detail finer than that to map."
            )
        params["bandwidth_detail"] = getattr(choice, "detail", "")
    elif method == "dbscan":
        eps = clusters.DEFAULT_EPS_M if eps_m is None else eps_m
        ms = clusters.DEFAULT_MIN_SAMPLES if min_samples is None else min_samples
        polys = clusters.dbscan_hotspots(located, eps_m=eps, min_samples=ms)
        params = {"eps_m": eps, "min_samples": ms}
        notes.append(
            f"DBSCAN: clusters of at least {ms} incidents with neighbours within {eps:.0f} m."
        )
    elif method == "hdbscan":
        ms = clusters.DEFAULT_MIN_SAMPLES if min_samples is None else min_samples
        labels = clusters.hdbscan_labels(located, min_cluster_size=ms)
        polys = clusters.cluster_outlines(located, labels)
        params = {"min_cluster_size": ms}
        notes.append(
            f"HDBSCAN: clusters of at least {ms} incidents, at whatever density they hold."
        )
    else:
        permutations = DEFAULT_PERMUTATIONS if permutations is None else permutations
        cells = gistar_grid(
            located,
            cell_m=gistar_cell_m,
            study_area=study_area,
            permutations=permutations,
            random_state=random_state,
        )
        polys = gistar_hotspots(cells)
        params = {
            "cell_m": gistar_cell_m,
            "permutations": permutations,
            "random_state": random_state,
        }
        notes.append(
            f"Getis-Ord Gi* on {gistar_cell_m:.0f} m cells, {permutations} permutations, "
            "false-discovery-rate corrected; hotspots are contiguous cells hot at 95%+."
        )
    polys = gpd.GeoDataFrame(geometry=polys.geometry.to_numpy(), crs=polys.crs)
    described = describe_hotspots(
        polys, incidents, method=method, gazetteer=area.gazetteer, wards=area.local_names
    )
    reference = reference_hotspots(
        incidents, described, gazetteer=area.gazetteer, review_hotspots=area.review_hotspots
    )
    return HotspotResult(
        hotspots=described,
        method=method,
        params=params,
        surface=surface,
        cells=cells,
        reference=reference,
        notes=notes,
    )


def _patrol(
    incidents: gpd.GeoDataFrame,
    area: StudyArea,
    history: gpd.GeoDataFrame,
    *,
    n_areas: int,
    max_across_m: float,
) -> HotspotResult:
    months = sorted(m for m in incidents["month"].unique() if m)
    span = pd.period_range(months[0], months[-1], freq="M") if months else []
    if len(span) < MIN_PATROL_MONTHS or len(span) != len(months):
        msg = (
            f"patrol areas need at least {MIN_PATROL_MONTHS} consecutive months of data "
            f"(the risk surface checks itself on the later ones); these filters give "
            f"{len(months)}. Choose more months, or KDE, DBSCAN or Gi*."
        )
        raise InputError(msg)
    types = tuple(sorted(set(incidents["crime_type"])))
    with warnings.catch_warnings():
        # A candidate that does not converge scores badly and is not chosen.
        warnings.simplefilter("ignore", ConvergenceWarning)
        surface = fit_risk(history, types=types, study_area=area.geometry, months=tuple(months))
    found = patrol_areas(
        surface,
        incidents,
        n_areas=n_areas,
        max_across_m=max_across_m,
        wards=area.local_names,
        gazetteer=area.gazetteer,
    )
    located = incidents[incidents["has_location"].to_numpy(bool)]
    inside = gpd.sjoin(
        located[["crime_type", "geometry"]], found[["rank", "geometry"]], predicate="within"
    )
    kinds = inside.groupby("rank")["crime_type"].agg(top_values)
    found["top_types"] = found["rank"].map(kinds).fillna("")
    found["density_per_km2"] = found["count"] / (found["area_m2"] / 1e6)
    found["method"] = "patrol"
    params = {
        "n_areas": n_areas,
        "max_across_m": max_across_m,
        "model": surface.model,
        "bandwidth_m": surface.bandwidth_m,
        "half_life_months": surface.half_life_months,
    }
    reference = reference_hotspots(
        incidents, found, gazetteer=area.gazetteer, review_hotspots=area.review_hotspots
    )
    return HotspotResult(
        hotspots=found,
        method="patrol",
        params=params,
        reference=reference,
        notes=[surface.description],
        risk=surface,
    )


def merge_nearby(polygons: gpd.GeoDataFrame, merge_m: float) -> gpd.GeoDataFrame:
    """Group polygons closer than ``merge_m`` metres into one (multi)polygon each.

    Parameters
    ----------
    polygons
        Polygons in EPSG:27700.
    merge_m
        Gap, in metres, below which two polygons belong to one group (0: no merging).

    Returns
    -------
    geopandas.GeoDataFrame
        One row per group; the geometry is the union of the group's polygons (the
        gaps between them are not added, so areas stay those of the cells chosen).

    Examples
    --------
    >>> from shapely.geometry import box
    >>> g = gpd.GeoDataFrame(geometry=[box(0, 0, 10, 10), box(50, 0, 60, 10),
    ...                                box(500, 0, 510, 10)], crs="EPSG:27700")
    >>> len(merge_nearby(g, 100)), len(merge_nearby(g, 20))
    (2, 3)
    """
    if merge_m <= 0 or len(polygons) < 2:
        return polygons
    geoms = polygons.geometry.to_numpy()
    blobs = shapely.get_parts(shapely.union_all(shapely.buffer(geoms, merge_m / 2)))
    tree = shapely.STRtree(blobs)
    pi, bi = tree.query(shapely.point_on_surface(geoms), predicate="within")
    group = np.full(len(geoms), -1)
    group[pi] = bi
    group[group < 0] = np.arange((group < 0).sum()) + len(blobs)
    merged = [shapely.union_all(geoms[group == g]) for g in np.unique(group)]
    return gpd.GeoDataFrame(geometry=merged, crs=polygons.crs)
