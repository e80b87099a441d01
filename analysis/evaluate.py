"""How far a hotspot map can be trusted next month: hit rate, PAI and RRI.

Every method is reduced to a score per cell of one common grid over the study area;
the highest-scoring cells covering a share ``c`` of the study area are its hotspots
at coverage ``c``. On the following period's incidents:

- hit rate = share of the test incidents inside those cells;
- PAI (Predictive Accuracy Index, Chainey, Tompson & Uhlig 2008) = hit rate / area share;
- RRI (Recapture Rate Index, Levine) = (test count in cells / training count in cells)
  / (all test incidents / all training incidents): above 1, the hotspots recaptured
  more than their share of the next period.

Methods whose hotspots do not fill the coverage (DBSCAN clusters, Gi* hot cells) are
scored only where they claim a hotspot, so their achieved area share may be below the
target; the table reports the share actually covered.
"""

from __future__ import annotations

from collections.abc import Callable

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from analysis.bandwidth import choose_bandwidth
from analysis.clusters import DEFAULT_EPS_M, DEFAULT_MIN_SAMPLES, dbscan_hotspots
from analysis.gistar import gistar_grid
from analysis.grid import Grid
from analysis.kde import kde_surface
from geo.crs import require_bng

__all__ = ["DEFAULT_METHODS", "cell_counts", "evaluate_methods", "score_hit_rates"]

DEFAULT_METHODS = (
    "kde auto",
    "kde 50 m",
    "kde 200 m",
    "grid counts",
    "dbscan",
    "gistar",
    "oracle (test)",
)


def cell_counts(xy: np.ndarray, grid, mask: np.ndarray) -> np.ndarray:
    """Incidents per grid cell (cells outside ``mask`` and points off the grid dropped).

    Parameters
    ----------
    xy
        ``(n, 2)`` BNG metres.
    grid
        :class:`analysis.grid.Grid`.
    mask
        ``[ny, nx]`` bool, the study area's cells.

    Returns
    -------
    numpy.ndarray
        ``[ny, nx]`` counts.
    """
    out = np.zeros((grid.ny, grid.nx))
    if len(xy) == 0:
        return out
    ix, iy, inside = grid.cell_index(xy[:, 0], xy[:, 1])
    np.add.at(out, (iy[inside], ix[inside]), 1)
    out[~mask] = 0
    return out


def score_hit_rates(
    score: np.ndarray,
    mask: np.ndarray,
    train: np.ndarray,
    test: np.ndarray,
    coverages: list[float],
    *,
    only_positive: bool = False,
) -> pd.DataFrame:
    """Hit rate, PAI and RRI of the top cells of ``score`` at each coverage.

    Parameters
    ----------
    score
        ``[ny, nx]`` score (higher = more at risk).
    mask
        ``[ny, nx]`` study-area cells.
    train, test
        ``[ny, nx]`` incident counts of the two periods.
    coverages
        Shares of the study area, e.g. ``[0.01, 0.05]``.
    only_positive
        Only cells with a positive score may be chosen.

    Returns
    -------
    pandas.DataFrame
        ``coverage``, ``area_share``, ``hit_rate``, ``pai``, ``rri``.
    """
    s = np.where(mask, score, -np.inf).ravel()
    order = np.lexsort((np.arange(s.size), -s))  # stable: ties go to the lower index
    n_area = int(mask.sum())
    tr, te = train.ravel(), test.ravel()
    rows = []
    for c in coverages:
        n = round(c * n_area)
        chosen = order[:n]
        chosen = chosen[np.isfinite(s[chosen])]
        if only_positive:
            chosen = chosen[s[chosen] > 0]
        hit = te[chosen].sum() / te.sum() if te.sum() else np.nan
        share = len(chosen) / n_area
        tr_in = tr[chosen].sum()
        rri = (
            (te[chosen].sum() / tr_in) / (te.sum() / tr.sum())
            if tr_in and tr.sum() and te.sum()
            else np.nan
        )
        rows.append(
            {
                "coverage": c,
                "area_share": share,
                "hit_rate": hit,
                "pai": hit / share if share else np.nan,
                "rri": rri,
            }
        )
    return pd.DataFrame(rows)


def _xy(gdf: gpd.GeoDataFrame) -> np.ndarray:
    located = gdf[gdf["has_location"].to_numpy(bool)]
    return np.column_stack([located.geometry.x.to_numpy(), located.geometry.y.to_numpy()])


def evaluate_methods(
    train: gpd.GeoDataFrame,
    test: gpd.GeoDataFrame,
    *,
    coverages: list[float] | tuple[float, ...] = (0.01, 0.05, 0.10),
    methods: list[str] | tuple[str, ...] = DEFAULT_METHODS,
    study_area: shapely.Geometry,
    cell_m: float = 50.0,
    random_state: int = 0,
) -> pd.DataFrame:
    """Prospective evaluation: fit on ``train``, score on the following ``test``.

    Parameters
    ----------
    train, test
        Incident frames of two periods (EPSG:27700), already filtered by type.
    coverages
        Shares of the study area to evaluate.
    methods
        Any of :data:`DEFAULT_METHODS`; ``kde N m`` for a fixed bandwidth of N metres.
    study_area
        The study area's outline (EPSG:27700).
    cell_m
        Grid cell of the evaluation, metres.
    random_state
        Seed for Gi* permutations.

    Returns
    -------
    pandas.DataFrame
        ``method``, ``detail`` (e.g. the bandwidth chosen), ``coverage``,
        ``area_share``, ``hit_rate``, ``pai``, ``rri``, ``train_n``, ``test_n``.
    """
    require_bng(train, "training incidents")
    require_bng(test, "test incidents")
    grid = Grid.covering(study_area.bounds, cell_m)
    mask = grid.mask_from(study_area)
    tr_xy, te_xy = _xy(train), _xy(test)
    tr_counts = cell_counts(tr_xy, grid, mask)
    te_counts = cell_counts(te_xy, grid, mask)
    scorers = _scorers(train, grid, mask, study_area, cell_m, random_state, te_counts)
    frames = []
    for m in methods:
        if m not in scorers and not m.startswith("kde "):
            msg = f"unknown method {m!r}; choose from {list(DEFAULT_METHODS)}"
            raise ValueError(msg)
        fn = scorers.get(m) or _fixed_kde(train, grid, study_area, m)
        score, detail, only_positive = fn()
        t = score_hit_rates(
            score, mask, tr_counts, te_counts, list(coverages), only_positive=only_positive
        )
        t.insert(0, "detail", detail)
        t.insert(0, "method", m)
        frames.append(t)
    out = pd.concat(frames, ignore_index=True)
    out["train_n"] = int(tr_counts.sum())
    out["test_n"] = int(te_counts.sum())
    return out


def _fixed_kde(train, grid, study_area, label: str) -> Callable:
    bw = float(label.split()[1])

    def run():
        located = train[train["has_location"].to_numpy(bool)]
        surf = kde_surface(
            located, bandwidth_m=bw, cell_m=grid.cell_m, grid=grid, study_area=study_area
        )
        return np.nan_to_num(surf.values), f"quartic, bandwidth {bw:.0f} m", False

    return run


def _scorers(train, grid, mask, study_area, cell_m, random_state, te_counts) -> dict:
    located = train[train["has_location"].to_numpy(bool)]

    def kde_auto():
        choice = choose_bandwidth(located, rule="auto", cell_m=cell_m, study_area=study_area)
        surf = kde_surface(
            located, bandwidth_m=choice.bandwidth_m, cell_m=cell_m, grid=grid, study_area=study_area
        )
        return (
            np.nan_to_num(surf.values),
            f"quartic, bandwidth {choice.bandwidth_m:.0f} m ({choice.rule})",
            False,
        )

    def grid_counts():
        return cell_counts(_xy(located), grid, mask), f"counts per {cell_m:.0f} m cell", False

    def dbscan():
        polys = dbscan_hotspots(located)
        xs, ys = grid.centres()
        score = np.zeros((grid.ny, grid.nx))
        density = polys["count"] / polys.geometry.area
        for geom, d in zip(polys.geometry, density, strict=True):
            inside = shapely.contains_xy(geom, xs, ys)
            score = np.where(inside & (d > score), d, score)
        return score, f"eps {DEFAULT_EPS_M:.0f} m, min_samples {DEFAULT_MIN_SAMPLES}", True

    def gistar():
        cells = gistar_grid(located, cell_m=200, study_area=study_area, random_state=random_state)
        xs, ys = grid.centres()
        pts = shapely.points(xs.ravel(), ys.ravel())
        tree = shapely.STRtree(cells.geometry.to_numpy())
        pi, ci = tree.query(pts, predicate="within")
        z = np.full(xs.size, -np.inf)
        z[pi] = cells["z"].to_numpy()[ci]
        hot = cells["class"].str.startswith("hot").to_numpy()
        z[pi[~hot[ci]]] = -np.inf
        return z.reshape(xs.shape), "200 m cells, hot at 90%+ after FDR, ranked by z", True

    def oracle():
        return te_counts, "the test period's own counts (upper bound)", True

    return {
        "kde auto": kde_auto,
        "grid counts": grid_counts,
        "dbscan": dbscan,
        "gistar": gistar,
        "oracle (test)": oracle,
    }
