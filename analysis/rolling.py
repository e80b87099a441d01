"""Rolling-origin evaluation of every hotspot method: hit rate, PAI, PEI and RRI per split.

:func:`rolling_splits` cuts the loaded months into splits: each trains on every
month up to an origin ``t`` and tests on the ``test_months`` after it; the origins are
the last ``n_splits`` that leave a full test period. A method is only ever given the
rows of its split's training months (the frame is cut before it is called), so it
cannot see the months it is scored on.

:func:`rolling_evaluation` scores each method on each split at each coverage:

- hit rate: share of the test incidents inside the method's cells;
- PAI = hit rate / area share (Chainey, Tompson & Uhlig 2008);
- PEI = hit rate / the best possible hit rate at the same area share (Hunt 2016:
  the oracle's hit rate with as many cells, taken from the test period itself);
- RRI = (test / training count inside) / (test / training count overall) (Levine).

Surface methods (risk surface, KDE, grid counts, prospective hotspotting, oracle) fill
exactly the coverage asked (``round(c * cells)`` cells, ties to the lower cell index);
area methods (patrol areas, DBSCAN, Gi*) are scored where they claim a hotspot, so
their area share may fall short and is reported.
"""

from __future__ import annotations

from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
from scipy import signal

from analysis.evaluate import cell_counts, evaluate_methods, score_hit_rates
from analysis.grid import Grid, area_geometry
from analysis.patrol import patrol_cells
from analysis.risk import best_hit_rate, fit_risk, month_cubes
from geo.crs import require_bng
from geo.errors import InputError

__all__ = [
    "ROLLING_METHODS",
    "RollingResult",
    "Split",
    "best_hit_rate",
    "prospective_surface",
    "rolling_evaluation",
    "rolling_splits",
]

ROLLING_METHODS = (
    "risk surface",
    "patrol areas",
    "kde auto",
    "kde 50 m",
    "kde 200 m",
    "grid counts",
    "prospective",
    "dbscan",
    "gistar",
    "oracle (test)",
)
"""Methods :func:`rolling_evaluation` knows; ``kde N m`` for any fixed bandwidth."""

_EVALUATE = {"kde auto", "grid counts", "dbscan", "gistar", "oracle (test)"}
_AREA_METHODS = {"patrol areas", "dbscan", "gistar"}


@dataclass(frozen=True)
class Split:
    """One rolling-origin split: the months learnt from and the months scored."""

    train_months: tuple[str, ...]
    test_months: tuple[str, ...]

    @property
    def origin(self) -> str:
        """The last training month."""
        return self.train_months[-1]


def rolling_splits(
    months: list[str] | tuple[str, ...],
    *,
    n_splits: int = 4,
    test_months: int = 3,
    min_train_months: int = 6,
) -> list[Split]:
    """Expanding-window splits over consecutive months.

    Parameters
    ----------
    months
        The loaded months, ``YYYY-MM``, consecutive.
    n_splits
        Most splits; the origins are the last ones that leave ``test_months`` after them.
    test_months
        Months scored after each origin.
    min_train_months
        Fewest months a split trains on.

    Returns
    -------
    list of Split
        Oldest origin first; every test month is later than every training month.

    Raises
    ------
    InputError
        If the months cannot give one split.
    """
    months = tuple(sorted(str(m) for m in months))
    n = len(months)
    last_origin = n - 1 - test_months
    first_origin = max(min_train_months - 1, last_origin - n_splits + 1)
    if last_origin < first_origin or last_origin < 0:
        msg = (
            f"{n} months cannot give a split of at least {min_train_months} training "
            f"and {test_months} test months."
        )
        raise InputError(msg)
    return [
        Split(months[: t + 1], months[t + 1 : t + 1 + test_months])
        for t in range(first_origin, last_origin + 1)
    ]


def prospective_surface(
    incidents: gpd.GeoDataFrame,
    grid: Grid,
    mask: np.ndarray,
    months: list[str] | tuple[str, ...],
    *,
    bandwidth_m: float = 400.0,
    window_months: int = 3,
) -> np.ndarray:
    """Prospective hotspotting (Bowers, Johnson & Pease 2004) on monthly data.

    Each incident of the last ``window_months`` months adds ``1 / (1 + d / cell_m)``
    ``* 1 / (1 + age)`` to every cell within ``bandwidth_m`` of it, where ``d`` is the
    distance in metres between cell centres and ``age`` is months before the last
    (0 for the last month): near-repeat risk decays with distance and time.

    Parameters
    ----------
    incidents
        Incidents of the chosen types (EPSG:27700).
    grid, mask
        The grid and the area's cells.
    months
        The training months, in order.
    bandwidth_m
        Reach of an incident, metres (400 m in the original).
    window_months
        How many recent months count.

    Returns
    -------
    numpy.ndarray
        ``[ny, nx]`` scores (0 outside ``mask``).
    """
    months = tuple(months)
    recent = months[-int(window_months) :]
    own, _ = month_cubes(incidents, tuple(set(incidents["crime_type"])), grid, mask, recent)
    r = int(bandwidth_m // grid.cell_m)
    oy, ox = np.mgrid[-r : r + 1, -r : r + 1]
    d = np.hypot(oy, ox) * grid.cell_m
    kern = np.where(d <= bandwidth_m, 1.0 / (1.0 + d / grid.cell_m), 0.0)
    weights = 1.0 / (1.0 + np.arange(len(recent))[::-1])
    counts = np.tensordot(weights, own, axes=1)
    out = signal.fftconvolve(counts, kern, mode="same")
    out[~mask] = 0.0
    return np.clip(out, 0.0, None)


@dataclass(frozen=True, eq=False)
class RollingResult:
    """Per-split and summary figures of a rolling-origin evaluation.

    Attributes
    ----------
    per_split
        One row per split, method and coverage: ``origin``, ``test_months``,
        ``method``, ``detail``, ``coverage``, ``area_share``, ``hit_rate``, ``pai``,
        ``pei``, ``rri``, ``train_n``, ``test_n``.
    summary
        One row per method and coverage: the mean of each measure over the splits,
        and ``hit_min``/``hit_max``/``hit_sd`` its spread.
    splits
        The splits.
    """

    per_split: pd.DataFrame
    summary: pd.DataFrame
    splits: list[Split]


def rolling_evaluation(
    incidents: gpd.GeoDataFrame,
    *,
    types: list[str] | tuple[str, ...],
    study_area: object,
    months: list[str] | tuple[str, ...] | None = None,
    coverages: list[float] | tuple[float, ...] = (0.01, 0.05, 0.10),
    methods: list[str] | tuple[str, ...] = ROLLING_METHODS,
    n_splits: int = 4,
    test_months: int = 3,
    min_train_months: int = 6,
    cell_m: float = 50.0,
    n_areas: int = 10,
    max_across_m: float = 400.0,
    risk_options: dict | None = None,
    random_state: int = 0,
) -> RollingResult:
    """Score every method on rolling-origin splits of the loaded months.

    Parameters
    ----------
    incidents
        Incident frame of every crime type (EPSG:27700); the risk surface uses the
        other types, the other methods only ``types``.
    types
        The chosen crime types.
    study_area
        The area's outline (shapely geometry in BNG metres or a frame in EPSG:27700).
    months
        Months to use (consecutive); every month in the frame by default.
    coverages
        Shares of the area, e.g. ``(0.01, 0.05, 0.10)``.
    methods
        Any of :data:`ROLLING_METHODS`.
    n_splits, test_months, min_train_months
        See :func:`rolling_splits`.
    cell_m
        Grid cell, metres.
    n_areas, max_across_m
        Patrol areas' number and size (:func:`analysis.patrol.patrol_cells`).
    risk_options
        Extra keyword arguments for :func:`analysis.risk.fit_risk`.
    random_state
        Seed for Gi* and the tree model.

    Returns
    -------
    RollingResult

    Raises
    ------
    InputError
        For an unknown method, or too few months.
    """
    require_bng(incidents, "incidents")
    for m in methods:
        if m not in ROLLING_METHODS and not (m.startswith("kde ") and m.endswith(" m")):
            msg = f"unknown method {m!r}; choose from {list(ROLLING_METHODS)}."
            raise InputError(msg)
    if months is None:
        months = sorted(set(incidents["month"].astype(str)))
    splits = rolling_splits(
        months, n_splits=n_splits, test_months=test_months, min_train_months=min_train_months
    )
    geom = area_geometry(study_area)
    grid = Grid.covering(geom.bounds, cell_m)
    mask = grid.mask_from(geom)
    n_area = int(mask.sum())
    typed = incidents[incidents["crime_type"].isin(list(types))]
    frames = []
    for split in splits:
        train_all = incidents[incidents["month"].isin(split.train_months)]
        train = typed[typed["month"].isin(split.train_months)]
        test = typed[typed["month"].isin(split.test_months)]
        tr = cell_counts(_xy(train), grid, mask)
        te = cell_counts(_xy(test), grid, mask)
        rows = []
        surface = None
        if "risk surface" in methods or "patrol areas" in methods:
            surface = fit_risk(
                train_all,
                types=types,
                study_area=geom,
                cell_m=cell_m,
                months=split.train_months,
                random_state=random_state,
                **(risk_options or {}),
            )
        for m in methods:
            if m == "risk surface":
                t = score_hit_rates(surface.expected, mask, tr, te, list(coverages))
                detail = (
                    f"{surface.model}, bandwidth {surface.bandwidth_m:.0f} m, "
                    f"half-life {surface.half_life_months:g} months"
                )
            elif m == "patrol areas":
                cells = patrol_cells(
                    surface, n_areas=n_areas, max_across_m=max_across_m, cell_counts=tr, min_count=5
                )
                score = np.full(grid.nx * grid.ny, -np.inf)
                for c in cells:
                    score[c] = surface.expected.ravel()[c]
                t = score_hit_rates(
                    score.reshape(grid.shape), mask, tr, te, list(coverages), only_positive=True
                )
                detail = f"{len(cells)} areas at most {max_across_m:.0f} m across"
            elif m == "prospective":
                score = prospective_surface(train, grid, mask, split.train_months)
                t = score_hit_rates(score, mask, tr, te, list(coverages))
                detail = "400 m, last 3 months, 1/(1+d/cell) x 1/(1+age)"
            else:
                t = evaluate_methods(
                    train,
                    test,
                    coverages=list(coverages),
                    methods=[m],
                    study_area=geom,
                    cell_m=cell_m,
                    random_state=random_state,
                )
                detail = t["detail"].iloc[0]
                t = t[["coverage", "area_share", "hit_rate", "pai", "rri"]]
            t = t.copy()
            t.insert(0, "detail", detail)
            t.insert(0, "method", m)
            rows.append(t)
        block = pd.concat(rows, ignore_index=True)
        best = [best_hit_rate(te, mask, round(s * n_area)) for s in block["area_share"]]
        block["pei"] = [
            h / b if b > 0 else np.nan for h, b in zip(block["hit_rate"], best, strict=True)
        ]
        block.insert(0, "test_months", f"{split.test_months[0]}..{split.test_months[-1]}")
        block.insert(0, "origin", split.origin)
        block["train_n"] = int(tr.sum())
        block["test_n"] = int(te.sum())
        frames.append(block)
    per_split = pd.concat(frames, ignore_index=True)
    per_split = per_split[
        [
            "origin",
            "test_months",
            "method",
            "detail",
            "coverage",
            "area_share",
            "hit_rate",
            "pai",
            "pei",
            "rri",
            "train_n",
            "test_n",
        ]
    ]
    g = per_split.groupby(["method", "coverage"], sort=False)
    summary = g[["area_share", "hit_rate", "pai", "pei", "rri"]].mean()
    summary["hit_min"] = g["hit_rate"].min()
    summary["hit_max"] = g["hit_rate"].max()
    summary["hit_sd"] = g["hit_rate"].std(ddof=0)
    summary["splits"] = g.size()
    return RollingResult(per_split=per_split, summary=summary.reset_index(), splits=splits)


def _xy(gdf: gpd.GeoDataFrame) -> np.ndarray:
    located = gdf[gdf["has_location"].to_numpy(bool)]
    return np.column_stack([located["x"].to_numpy(float), located["y"].to_numpy(float)])
