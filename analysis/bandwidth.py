"""Choosing the kernel bandwidth: rules of thumb and cross-validation across months.

Rules of thumb (``xy`` is an ``(n, 2)`` array of BNG metres, ``n`` the number of
points or the sum of their weights):

* :func:`scott_m` -- Scott's normal-reference rule in two dimensions: a Gaussian
  standard deviation ``sigma * n^(-1/6)``, where ``sigma = sqrt((s_x^2 + s_y^2) / 2)``
  is the mean of the two axes' variances (sample variances, ``n - 1``).
* :func:`silverman_m` -- Silverman's normal-reference rule, whose factor
  ``(4 / ((d + 2) n))^(1/(d+4))`` is also ``n^(-1/6)`` when ``d = 2``, with his
  robust spread ``min(sigma, IQR / 1.349)`` (``IQR`` = mean of the axes'
  interquartile ranges): a Gaussian standard deviation.
* :func:`spatial_silverman_m` -- ArcGIS's default search radius for Kernel
  Density (ArcGIS 10.2.1 and later, and ArcGIS Pro):
  ``0.9 * min(SD, sqrt(1 / ln 2) * Dm) * n^(-0.2)``, where ``SD`` is the standard
  distance ``sqrt(sum((x - xbar)^2 + (y - ybar)^2) / n)`` and ``Dm`` the median
  distance to the mean centre (all weighted when there are weights). It is a
  quartic radius.

A rule's bandwidth is converted to the other kernel by matching the kernels'
spread: a quartic of radius ``h`` has a standard deviation of ``h / sqrt(8)`` along
each axis, so quartic radius = ``sqrt(8)`` x Gaussian sd (about 2.83).

Cross-validation across months (:func:`cv_bandwidth_m`): for each month after the
first, fit the surface on the earlier months (``scheme="expanding"``; or on the
previous month only, ``"consecutive"``) and score the next month's incidents by
their mean log density, ``mean log((1 - a) f(x) / n + a / A)``: ``f(x) / n`` is the
fitted surface per incident at the incident's cell, ``A`` the study area in km²,
and ``a`` the share of next month's incidents treated as arriving anywhere in the
study area (a floor, so that cells the surface leaves empty do not give
``-inf``). By default ``a`` is **fitted** for each bandwidth and fold (it
maximises that month's score; one parameter for every bandwidth alike). A small
fixed floor rewards bandwidths wide enough to reach every new location: on the
Eastleigh ASB of February-March 2017 a floor of ``a = 0.01`` picks 400-600 m,
whose top 1 % holds about 10 % of April-May, while about half of each new
month's incidents recur at the snapped police.uk points of earlier months, where
the smallest bandwidths put their mass. The fitted floor measures that directly
(``a`` near 0.5 on that data) and picks the smallest candidate, whose top 1 %
holds 45.5 % of April-May (see the tests). Scores are reported also as the gain
over a uniform map, ``score - log(1 / A)``, in nats per incident.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
from scipy.optimize import minimize_scalar

from analysis import kde_direct
from analysis.coverage import hit_rate_at_coverage
from analysis.grid import Grid, area_geometry
from analysis.kde import DensitySurface, kde_surface
from analysis.kde_direct import density_at_cells, direct_cost
from analysis.kernels import KERNELS, points_xy
from geo.crs import require_bng
from geo.errors import InputError

__all__ = [
    "CANDIDATE_CELL_MULTIPLES",
    "QUARTIC_PER_GAUSSIAN_SD",
    "RULES",
    "BandwidthChoice",
    "bandwidth_sensitivity",
    "choose_bandwidth",
    "cv_bandwidth_m",
    "log_score",
    "scott_m",
    "silverman_m",
    "spatial_silverman_m",
]

RULES = ("auto", "cv", "scott", "silverman", "spatial_silverman")
"""Rule names understood by :func:`choose_bandwidth` (or give a number of metres)."""

QUARTIC_PER_GAUSSIAN_SD = math.sqrt(8.0)
"""Quartic radius with the same per-axis standard deviation as a Gaussian of sd 1."""

CANDIDATE_CELL_MULTIPLES = (0.125, 0.25, 0.5, 1, 2, 4, 8, 16)
"""Default cross-validation candidates, in cells: a doubling ladder, 6.25 m to 800 m for 50 m cells."""


@dataclass(frozen=True)
class BandwidthChoice:
    """A bandwidth and how it was chosen.

    Attributes
    ----------
    bandwidth_m : float
        Quartic radius or Gaussian sd (for ``kernel``), metres.
    rule : str
        ``"cv"``, ``"scott"``, ``"silverman"``, ``"spatial_silverman"`` or ``"fixed"``.
    detail : str
        One or two sentences saying what was chosen and why, for the user.
    kernel : str
        The kernel the bandwidth is for.
    scores : pandas.DataFrame or None
        Cross-validation: one row per candidate and fold.
    summary : pandas.DataFrame or None
        Cross-validation: one row per candidate (pooled over folds), best first.
    """

    bandwidth_m: float
    rule: str
    detail: str
    kernel: str = "quartic"
    scores: pd.DataFrame | None = field(default=None, repr=False)
    summary: pd.DataFrame | None = field(default=None, repr=False)


def _xy_weights(xy: Any, weights: Any) -> tuple[np.ndarray, np.ndarray]:
    pts, w, _ = points_xy(xy, weights)
    if w is None:
        w = np.ones(len(pts))
    if len(pts) < 2 or w.sum() <= 1:
        msg = (
            f"Cannot estimate a bandwidth from {len(pts)} located point(s); "
            "give at least two, or a bandwidth in metres."
        )
        raise InputError(msg)
    return pts, w


def _weighted_var(v: np.ndarray, w: np.ndarray) -> float:
    mean = np.average(v, weights=w)
    return float(np.sum(w * (v - mean) ** 2) / (w.sum() - 1.0))


def _weighted_quantile(v: np.ndarray, w: np.ndarray, q: float, unit: bool) -> float:
    if unit:
        return float(np.quantile(v, q))
    order = np.argsort(v, kind="stable")
    cw = np.cumsum(w[order])
    return float(v[order][np.searchsorted(cw, q * cw[-1])])


def _spread_m(sd: float, what: str) -> float:
    if not (sd > 0 and math.isfinite(sd)):
        msg = f"The points have no spread ({what} = {sd}); give a bandwidth in metres."
        raise InputError(msg)
    return sd


def scott_m(xy: Any, weights: Any = None) -> float:
    """Scott's rule: Gaussian standard deviation ``sigma * n^(-1/6)``, metres.

    Parameters
    ----------
    xy
        ``(n, 2)`` array of BNG metres, or a GeoDataFrame in EPSG:27700.
    weights
        Optional weight per point (counts: ``n`` is their sum).

    Returns
    -------
    float
        The Gaussian sd; multiply by :data:`QUARTIC_PER_GAUSSIAN_SD` for a quartic radius.
    """
    pts, w = _xy_weights(xy, weights)
    sigma = math.sqrt((_weighted_var(pts[:, 0], w) + _weighted_var(pts[:, 1], w)) / 2.0)
    return _spread_m(sigma, "sd") * w.sum() ** (-1.0 / 6.0)


def silverman_m(xy: Any, weights: Any = None) -> float:
    """Silverman's rule: Gaussian sd ``min(sigma, IQR / 1.349) * n^(-1/6)``, metres.

    Parameters
    ----------
    xy
        ``(n, 2)`` array of BNG metres, or a GeoDataFrame in EPSG:27700.
    weights
        Optional weight per point.

    Returns
    -------
    float
        The Gaussian sd (``sigma`` and ``IQR`` as in the module notes).
    """
    pts, w = _xy_weights(xy, weights)
    unit = bool(np.all(w == 1.0))
    sigma = math.sqrt((_weighted_var(pts[:, 0], w) + _weighted_var(pts[:, 1], w)) / 2.0)
    iqr = np.mean(
        [
            _weighted_quantile(pts[:, k], w, 0.75, unit)
            - _weighted_quantile(pts[:, k], w, 0.25, unit)
            for k in (0, 1)
        ]
    )
    spread = min(sigma, iqr / 1.349) if iqr > 0 else sigma
    return _spread_m(spread, "spread") * w.sum() ** (-1.0 / 6.0)


def spatial_silverman_m(xy: Any, weights: Any = None) -> float:
    """ArcGIS's default Kernel Density search radius, metres (a quartic radius).

    ``0.9 * min(SD, sqrt(1 / ln 2) * Dm) * n^(-0.2)`` with ``SD`` the standard
    distance and ``Dm`` the median distance to the mean centre.

    Parameters
    ----------
    xy
        ``(n, 2)`` array of BNG metres, or a GeoDataFrame in EPSG:27700.
    weights
        Optional weight per point (ArcGIS's population field): the mean centre,
        distances, median and ``n`` are then weighted.

    Returns
    -------
    float
        The quartic search radius.
    """
    pts, w = _xy_weights(xy, weights)
    unit = bool(np.all(w == 1.0))
    centre = np.average(pts, axis=0, weights=w)
    dist = np.hypot(pts[:, 0] - centre[0], pts[:, 1] - centre[1])
    sd = math.sqrt(float(np.sum(w * dist**2) / w.sum()))
    dm = _weighted_quantile(dist, w, 0.5, unit)
    spread = min(sd, math.sqrt(1.0 / math.log(2.0)) * dm)
    return 0.9 * _spread_m(spread, "standard distance") * w.sum() ** (-0.2)


def _convert(h: float, from_kernel: str, to_kernel: str) -> float:
    if from_kernel == to_kernel:
        return h
    if from_kernel == "gaussian":
        return h * QUARTIC_PER_GAUSSIAN_SD
    return h / QUARTIC_PER_GAUSSIAN_SD


def _fit_floor(f: np.ndarray, u: float) -> tuple[float, float]:
    """Maximise mean log((1-a) f + a u) over a in [0, 1]; return (score, a)."""
    if len(f) == 0:
        return float("nan"), float("nan")
    if not np.any(f > 0):
        return math.log(u), 1.0

    def neg(a: float) -> float:
        return -float(np.mean(np.log((1.0 - a) * f + a * u)))

    res = minimize_scalar(neg, bounds=(1e-9, 1.0), method="bounded", options={"xatol": 1e-7})
    best_a, best = float(res.x), -float(res.fun)
    if np.all(f > 0):  # a = 0 is allowed when every incident has some density
        at0 = -neg(0.0)
        if at0 >= best:
            best_a, best = 0.0, at0
    return best, best_a


def log_score(
    surface: DensitySurface, test_xy: Any, *, floor: float | str = "fitted"
) -> dict[str, float]:
    """Mean log density of test incidents under a surface, with a floor.

    Parameters
    ----------
    surface
        Surface fitted on the earlier period.
    test_xy
        Incidents of the next period (frame in EPSG:27700 or ``(n, 2)`` metres).
    floor
        ``"fitted"`` (default) or a share ``a`` in (0, 1): see the module notes.

    Returns
    -------
    dict
        ``score`` (mean natural log of density per km² per incident), ``gain``
        (score minus that of a uniform map), ``alpha`` (the floor's share),
        ``n_test`` (incidents scored: those in study-area cells), ``n_excluded``.
    """
    xy, _, _ = points_xy(test_xy, what="test incidents")
    grid, mask = surface.grid, surface.area_mask
    ix, iy, inside = grid.cell_index_in(xy[:, 0], xy[:, 1], mask)
    area_km2 = (
        surface.study_area_m2 / 1e6
        if surface.study_area_m2 is not None
        else mask.sum() * grid.cell_km2
    )
    dens = np.nan_to_num(surface.values[iy[inside], ix[inside]])
    return _score(dens, surface.total_weight, 1.0 / area_km2, floor, len(xy))


def _score(dens: np.ndarray, total: float, u: float, floor: float | str, n_in: int) -> dict:
    """Score test incidents from the density (per km²) at their cells."""
    f = dens / total if total > 0 else np.zeros_like(dens)
    if floor == "fitted":
        score, alpha = _fit_floor(f, u)
    else:
        alpha = float(floor)
        if not (0 < alpha < 1):
            msg = f"floor must be 'fitted' or a share in (0, 1), got {floor!r}."
            raise InputError(msg)
        score = float(np.mean(np.log((1 - alpha) * f + alpha * u))) if len(f) else float("nan")
    return {
        "score": score,
        "gain": score - math.log(u),
        "alpha": alpha,
        "n_test": len(f),
        "n_excluded": int(n_in - len(f)),
    }


def _month_frames(points: Any, months_col: str) -> tuple[np.ndarray, np.ndarray]:
    if not isinstance(points, gpd.GeoDataFrame):
        msg = "Cross-validation across months needs an incident frame (GeoDataFrame) with months."
        raise InputError(msg)
    require_bng(points, "incidents")
    if months_col not in points.columns:
        msg = f"incidents: no {months_col!r} column to cross-validate across months."
        raise InputError(msg)
    geoms = points.geometry
    located = ~(geoms.isna() | geoms.is_empty).to_numpy()
    sub = points[located]
    xy, _, _ = points_xy(sub)
    months = sub[months_col].astype(str).to_numpy()
    return xy, months


def _fold_density(
    train: np.ndarray,
    test: np.ndarray,
    grid: Grid,
    mask: np.ndarray,
    geom: Any,
    kernel: str,
) -> Callable[[float], np.ndarray]:
    """For one fold: bandwidth -> density (per km²) fitted on ``train`` at each test incident.

    Only test incidents in the area's cells are scored. The test cells and the distinct
    training points are found once for the fold; for each bandwidth the kernels are summed
    directly over the distinct points within reach of those cells (exact, and cheap on
    snapped points), or taken from the FFT surface when that would take more than
    :data:`analysis.kde_direct.DIRECT_MAX_EVALUATIONS` kernel evaluations.
    """
    ix, iy, inside = grid.cell_index_in(test[:, 0], test[:, 1], mask)
    cells, per_incident = np.unique(iy[inside] * grid.nx + ix[inside], return_inverse=True)
    cy, cx = np.divmod(cells, grid.nx)
    pts, counts = np.unique(train, axis=0, return_counts=True)
    weights = counts.astype(float)
    centres = np.column_stack(
        [grid.x0 + (cx + 0.5) * grid.cell_m, grid.y0 + (cy + 0.5) * grid.cell_m]
    )

    def at_incidents(h: float) -> np.ndarray:
        cost = direct_cost(len(pts), h, grid.cell_m, kernel, centres, pts)
        if cost <= kde_direct.DIRECT_MAX_EVALUATIONS:
            at_cells = density_at_cells(pts, weights, grid, cx, cy, h, kernel)
        else:
            surf = kde_surface(train, bandwidth_m=h, grid=grid, kernel=kernel, study_area=geom)
            at_cells = np.nan_to_num(surf.values[cy, cx])
        return at_cells[per_incident]

    return at_incidents


def _grid_for(xy: np.ndarray, cell_m: float, study_area: Any) -> tuple[Grid, Any]:
    if study_area is not None:
        geom = area_geometry(study_area)
        return Grid.covering(geom, cell_m), geom
    lo, hi = xy.min(axis=0), xy.max(axis=0)
    return Grid.covering((lo[0], lo[1], hi[0], hi[1]), cell_m), None


def cv_bandwidth_m(
    points: gpd.GeoDataFrame,
    months_col: str = "month",
    candidates_m: Any = None,
    cell_m: float = 50.0,
    kernel: str = "quartic",
    study_area: Any = None,
    *,
    floor: float | str = "fitted",
    scheme: str = "expanding",
    max_folds: int = 3,
) -> BandwidthChoice:
    """Likelihood cross-validation of the bandwidth across months.

    Parameters
    ----------
    points
        Incident frame in EPSG:27700 with a month column (rows without a location
        are skipped). Weights are not used.
    months_col
        Column holding ``YYYY-MM``.
    candidates_m
        Bandwidths to try, metres; default :data:`CANDIDATE_CELL_MULTIPLES` x ``cell_m``.
    cell_m
        Grid cell, metres (the surfaces are scored at the incidents' cells).
    kernel
        ``"quartic"`` or ``"gaussian"``.
    study_area
        Polygon or GeoDataFrame in EPSG:27700; default: the points' bounding box.
    floor
        ``"fitted"`` or a fixed share in (0, 1); see the module notes.
    scheme
        ``"expanding"`` (fit on all earlier months) or ``"consecutive"`` (the
        previous month only).
    max_folds
        Score only the latest ``max_folds`` months (each fitted on the months before
        it), so the cost stays bounded however many months are loaded.

    Returns
    -------
    BandwidthChoice
        ``rule="cv"``; ``scores`` has one row per candidate and fold
        (``bandwidth_m``, ``train_months``, ``test_month``, ``n_train``, ``n_test``,
        ``score``, ``gain``, ``alpha``); ``summary`` one row per candidate
        (``bandwidth_m``, ``score``, ``gain``, ``alpha``, ``n_test``), best first. Ties
        go to the larger bandwidth.

    Raises
    ------
    InputError
        With fewer than two months of located incidents, or bad arguments.
    """
    if kernel not in KERNELS:
        msg = f"kernel must be one of {KERNELS}, got {kernel!r}."
        raise InputError(msg)
    if scheme not in ("expanding", "consecutive"):
        msg = f"scheme must be 'expanding' or 'consecutive', got {scheme!r}."
        raise InputError(msg)
    xy, months = _month_frames(points, months_col)
    uniq = sorted(set(months))
    if len(uniq) < 2:
        msg = (
            f"Cross-validation needs incidents from at least two months; found {len(uniq)} "
            f"({', '.join(uniq) or 'none'}). Load more months or choose a rule of thumb."
        )
        raise InputError(msg)
    if candidates_m is None:
        candidates_m = [m * cell_m for m in CANDIDATE_CELL_MULTIPLES]
    cands = sorted({float(c) for c in candidates_m})
    if not cands or min(cands) <= 0 or not all(math.isfinite(c) for c in cands):
        msg = f"candidates_m must be positive numbers of metres, got {candidates_m!r}."
        raise InputError(msg)
    grid, geom = _grid_for(xy, cell_m, study_area)
    mask = grid.mask_from(geom) if geom is not None else np.ones(grid.shape, dtype=bool)
    u = 1.0 / (geom.area / 1e6 if geom is not None else mask.sum() * grid.cell_km2)
    rows = []
    for t in range(max(1, len(uniq) - max_folds), len(uniq)):
        train_months = uniq[:t] if scheme == "expanding" else uniq[t - 1 : t]
        train = xy[np.isin(months, train_months)]
        test = xy[months == uniq[t]]
        if len(train) == 0 or len(test) == 0:
            continue
        density = _fold_density(train, test, grid, mask, geom, kernel)
        for h in cands:
            sc = _score(density(h), float(len(train)), u, floor, len(test))
            rows.append(
                {
                    "bandwidth_m": h,
                    "train_months": ",".join(train_months),
                    "test_month": uniq[t],
                    "n_train": len(train),
                    **sc,
                }
            )
    scores = pd.DataFrame(rows)
    scores = scores[scores["n_test"] > 0]
    if scores.empty:
        msg = "No month had incidents inside the study area to score; cannot cross-validate."
        raise InputError(msg)
    scores = scores.assign(
        _ll=scores["score"] * scores["n_test"], _lg=scores["gain"] * scores["n_test"]
    )
    g = scores.groupby("bandwidth_m")
    summary = pd.DataFrame(
        {
            "score": g["_ll"].sum() / g["n_test"].sum(),
            "gain": g["_lg"].sum() / g["n_test"].sum(),
            "alpha": g["alpha"].mean(),
            "n_test": g["n_test"].sum(),
        }
    ).reset_index()
    summary = summary.sort_values(["score", "bandwidth_m"], ascending=[False, False])
    summary = summary.reset_index(drop=True)
    scores = scores.drop(columns=["_ll", "_lg"]).reset_index(drop=True)
    best = summary.iloc[0]
    h = float(best["bandwidth_m"])
    n_folds = scores["test_month"].nunique()
    how = "all earlier months" if scheme == "expanding" else "the previous month"
    floor_txt = (
        f"fitted share of new incidents away from earlier ones {best['alpha']:.2f}"
        if floor == "fitted"
        else f"fixed floor share {float(floor):g}"
    )
    detail = (
        f"Likelihood cross-validation over {n_folds} month(s) (fit on {how}, score the next "
        f"month): {h:g} m scored best of {len(cands)} candidates ({cands[0]:g}-{cands[-1]:g} m), "
        f"{best['gain']:.2f} nats per incident better than a uniform map; {floor_txt}."
    )
    if h == cands[0]:
        detail += (
            " It is the smallest candidate: next months' incidents recur at the same points, "
            "so the map is close to the count of incidents per cell."
        )
    elif h == cands[-1]:
        detail += " It is the largest candidate: the incidents show little local clustering."
    return BandwidthChoice(h, "cv", detail, kernel, scores, summary)


def bandwidth_sensitivity(
    train: Any,
    test: Any,
    bandwidths_m: Any = None,
    coverage: float = 0.01,
    *,
    cell_m: float = 50.0,
    kernel: str = "quartic",
    study_area: Any = None,
    floor: float | str = "fitted",
) -> pd.DataFrame:
    """How the hotspots' prediction of the next period changes with the bandwidth.

    Parameters
    ----------
    train, test
        Incidents of the fitting period and of the period after (frames in
        EPSG:27700 or ``(n, 2)`` arrays of metres).
    bandwidths_m
        Bandwidths to try; default :data:`CANDIDATE_CELL_MULTIPLES` x ``cell_m``.
    coverage
        Share of the study area taken as hotspots (0.01 = top 1 %).
    cell_m
        Grid cell, metres.
    kernel
        ``"quartic"`` or ``"gaussian"``.
    study_area
        Polygon or GeoDataFrame in EPSG:27700 (the borough, usually).
    floor
        Floor of the log score, as in :func:`log_score`.

    Returns
    -------
    pandas.DataFrame
        One row per bandwidth: ``bandwidth_m``, ``evaluation``, ``hit_rate``,
        ``area_share``, ``pai``, ``cv_score`` (mean log density of ``test``),
        ``cv_gain`` (over a uniform map), ``alpha``, ``n_test``, ``n_excluded``.
    """
    if bandwidths_m is None:
        bandwidths_m = [m * cell_m for m in CANDIDATE_CELL_MULTIPLES]
    tr_xy, _, _ = points_xy(train, what="training incidents")
    te_xy, _, _ = points_xy(test, what="test incidents")
    if len(tr_xy) == 0:
        msg = "bandwidth_sensitivity: no located training incidents."
        raise InputError(msg)
    grid, geom = _grid_for(tr_xy, cell_m, study_area)
    rows = []
    for h in sorted({float(b) for b in bandwidths_m}):
        surf = kde_surface(tr_xy, bandwidth_m=h, grid=grid, kernel=kernel, study_area=geom)
        hr = hit_rate_at_coverage(surf, te_xy, coverage)
        sc = log_score(surf, te_xy, floor=floor)
        rows.append(
            {
                "bandwidth_m": h,
                "evaluation": surf.evaluation,
                "hit_rate": hr.hit_rate,
                "area_share": hr.area_share,
                "pai": hr.pai,
                "cv_score": sc["score"],
                "cv_gain": sc["gain"],
                "alpha": sc["alpha"],
                "n_test": hr.n_test,
                "n_excluded": hr.n_excluded,
            }
        )
    return pd.DataFrame(rows)


def choose_bandwidth(
    points: Any,
    rule: str | float = "auto",
    *,
    kernel: str = "quartic",
    cell_m: float = 50.0,
    study_area: Any = None,
    months_col: str = "month",
    candidates_m: Any = None,
    weights: Any = None,
) -> BandwidthChoice:
    """Pick a bandwidth by rule, saying what was chosen and why.

    Parameters
    ----------
    points
        Incident frame in EPSG:27700 (with ``months_col`` for cross-validation),
        or an ``(n, 2)`` array of BNG metres.
    rule
        ``"auto"`` (default): cross-validation across months when the located
        incidents span at least two months, else ``"spatial_silverman"``;
        ``"cv"``, ``"scott"``, ``"silverman"``, ``"spatial_silverman"``; or a number
        of metres.
    kernel
        Kernel the bandwidth is for (rules are converted, see the module notes).
    cell_m
        Grid cell, metres (for cross-validation).
    study_area
        Polygon or GeoDataFrame in EPSG:27700 (for cross-validation).
    months_col
        Month column for cross-validation.
    candidates_m
        Cross-validation candidates, metres.
    weights
        Weights for the rules of thumb (not used by cross-validation).

    Returns
    -------
    BandwidthChoice

    Raises
    ------
    InputError
        For an unknown rule, too few points, or cross-validation without months.
    """
    if kernel not in KERNELS:
        msg = f"kernel must be one of {KERNELS}, got {kernel!r}."
        raise InputError(msg)
    if not isinstance(rule, str):
        try:
            h = float(rule)
        except (TypeError, ValueError) as exc:
            msg = f"rule must be one of {RULES} or a number of metres, got {rule!r}."
            raise InputError(msg) from exc
        if not (math.isfinite(h) and h > 0):
            msg = f"A fixed bandwidth must be a positive number of metres, got {rule!r}."
            raise InputError(msg)
        return BandwidthChoice(h, "fixed", f"Fixed bandwidth of {h:g} m, as given.", kernel)
    if rule not in RULES:
        msg = f"rule must be one of {RULES} or a number of metres, got {rule!r}."
        raise InputError(msg)
    if rule == "auto":
        n_months = 0
        if isinstance(points, gpd.GeoDataFrame) and months_col in points.columns:
            geoms = points.geometry
            located = ~(geoms.isna() | geoms.is_empty).to_numpy()
            n_months = points.loc[located, months_col].astype(str).nunique()
        if n_months >= 2:
            choice = cv_bandwidth_m(points, months_col, candidates_m, cell_m, kernel, study_area)
            why = f"auto: the incidents span {n_months} months, so cross-validation. "
            return BandwidthChoice(
                choice.bandwidth_m, "cv", why + choice.detail, kernel, choice.scores, choice.summary
            )
        rule_used = "spatial_silverman"
        why = (
            f"auto: the incidents span {n_months} month(s), too few to cross-validate, so "
            "ArcGIS's spatial Silverman rule. "
        )
    else:
        rule_used, why = rule, ""
    if rule_used == "cv":
        return cv_bandwidth_m(points, months_col, candidates_m, cell_m, kernel, study_area)
    fn = {"scott": scott_m, "silverman": silverman_m, "spatial_silverman": spatial_silverman_m}
    native = "quartic" if rule_used == "spatial_silverman" else "gaussian"
    raw = fn[rule_used](points, weights)
    h = _convert(raw, native, kernel)
    names = {
        "scott": "Scott's rule",
        "silverman": "Silverman's rule",
        "spatial_silverman": "ArcGIS's spatial Silverman rule",
    }
    if native == kernel:
        detail = f"{why}{names[rule_used]}: {h:.0f} m."
    else:
        kind = "Gaussian sd" if native == "gaussian" else "quartic radius"
        detail = (
            f"{why}{names[rule_used]} gives a {kind} of {raw:.0f} m; the {kernel} kernel with "
            f"the same spread has bandwidth {h:.0f} m."
        )
    return BandwidthChoice(h, rule_used, detail, kernel)
