"""Emerging hot spots: a space-time cube, Gi* in every month, and a Mann-Kendall trend.

Follows ArcGIS Pro's *Emerging Hot Spot Analysis* ("How Emerging Hot Spot Analysis
works", Space Time Pattern Mining toolbox):

1. **Cube.** Incidents are counted in square bins of ``bin_m`` metres (the study
   area's bins) for each month: a cube of locations x time steps.
2. **Gi* per bin.** Each bin of each month gets the Getis-Ord Gi* z-score over
   its space-time neighbourhood: the bins whose centres lie within
   ``neighbourhood_m`` (itself included) in the same month and in the
   ``neighbourhood_steps`` previous months (ArcGIS's *Neighborhood Time Step*: 1
   includes the month before), with binary weights; the mean and standard deviation
   are those of every bin of the cube, as in ArcGIS's space-time hot spot analysis.
   p-values are two-sided normal; a bin is a significant hot (cold) spot when its
   z is positive (negative) and it survives the False Discovery Rate correction
   (Benjamini-Hochberg, per time step) at ``alpha`` (0.10: ArcGIS's 90% confidence).
3. **Trend.** A Mann-Kendall test on each location's series of Gi* z-scores (the
   "intensity of clustering"), with the tie correction and continuity correction;
   significant at ``trend_alpha``. The trend of the counts themselves is reported too.
4. **Classes** (ArcGIS's definitions; "hot" = significant hot spot bin, n = months):

   - *New*: hot in the final month and never hot before.
   - *Consecutive*: a single uninterrupted run of at least two hot months ending in
     the final month, never hot before that run, and hot in less than 90% of months.
   - *Intensifying*: hot in at least 90% of months, including the final one, and the
     trend of the z-scores is significantly upward.
   - *Persistent*: hot in at least 90% of months, including the final one, with no
     significant trend. (ArcGIS does not require the final month; a location hot in
     90% but not in the final month is *historical* here, so the classes do not
     overlap.)
   - *Diminishing*: hot in at least 90% of months, including the final one, and the
     trend is significantly downward.
   - *Sporadic*: hot in the final month, hot in less than 90% of months, on and off
     (neither new nor consecutive), and never a significant cold spot.
   - *Oscillating*: hot in the final month, hot in less than 90% of months, and a
     significant cold spot in some earlier month.
   - *Historical*: not hot in the final month, but hot in at least 90% of months.
   - The cold equivalents swap hot and cold (and the trend's sign).
   - *No pattern detected*: none of the above. Locations with no incident in any
     month are not classed (as ArcGIS leaves out locations without data).
"""

from __future__ import annotations

from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
from scipy import ndimage, stats

from analysis.grid import Grid, area_geometry
from geo.crs import require_bng
from geo.errors import InputError

__all__ = [
    "EMERGING_CLASSES",
    "EmergingResult",
    "classify_series",
    "emerging_hotspots",
    "gistar_cube",
    "mann_kendall",
]

_PATTERNS = (
    "new",
    "consecutive",
    "intensifying",
    "persistent",
    "diminishing",
    "sporadic",
    "oscillating",
    "historical",
)
EMERGING_CLASSES = (
    *[f"{p} hot spot" for p in _PATTERNS],
    *[f"{p} cold spot" for p in _PATTERNS],
    "no pattern detected",
)
"""The 17 classes, hot first."""


def mann_kendall(series: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Mann-Kendall trend test of each row of ``series``, vectorised.

    Parameters
    ----------
    series
        ``[n_locations, n_steps]`` values in time order.

    Returns
    -------
    s, z, p : numpy.ndarray
        Kendall's S, its z-score (variance corrected for ties, continuity-corrected:
        ``(S - 1) / sd`` for S > 0, ``(S + 1) / sd`` for S < 0, 0 for S = 0) and the
        two-sided p-value. A constant series has z = 0 and p = 1.
    """
    x = np.asarray(series, dtype=float)
    if x.ndim == 1:
        x = x[None, :]
    n = x.shape[1]
    i, j = np.triu_indices(n, k=1)
    s = np.sign(x[:, j] - x[:, i]).sum(axis=1)
    var = np.full(len(x), n * (n - 1) * (2 * n + 5), dtype=float)
    xs = np.sort(x, axis=1)
    # Tie groups: run lengths of equal sorted values in each row.
    for row in range(len(x)):
        _, t = np.unique(xs[row], return_counts=True)
        t = t[t > 1]
        if len(t):
            var[row] -= (t * (t - 1) * (2 * t + 5)).sum()
    var /= 18.0
    sd = np.sqrt(np.maximum(var, 0.0))
    z = np.where(s > 0, s - 1, np.where(s < 0, s + 1, 0.0))
    z = np.divide(z, sd, out=np.zeros_like(z, dtype=float), where=sd > 0)
    p = 2 * stats.norm.sf(np.abs(z))
    return s, z, p


def _fdr(p: np.ndarray, alpha: float) -> np.ndarray:
    """Benjamini-Hochberg: which of ``p`` are significant at false discovery rate alpha."""
    p = np.asarray(p, float)
    m = len(p)
    if m == 0:
        return np.zeros(0, bool)
    order = np.argsort(p, kind="stable")
    ranked = p[order]
    below = ranked <= alpha * np.arange(1, m + 1) / m
    out = np.zeros(m, bool)
    if below.any():
        k = np.flatnonzero(below).max()
        out[order[: k + 1]] = True
    return out


def gistar_cube(
    cube: np.ndarray,
    mask: np.ndarray,
    *,
    neighbourhood_cells: float,
    neighbourhood_steps: int = 1,
) -> np.ndarray:
    """Gi* z-score of every bin of a space-time cube (binary space-time weights).

    Parameters
    ----------
    cube
        ``[n_steps, ny, nx]`` counts.
    mask
        ``[ny, nx]`` bins of the study area (the only bins counted).
    neighbourhood_cells
        Spatial neighbourhood radius in bins (centre to centre, itself included).
    neighbourhood_steps
        How many previous time steps are neighbours too.

    Returns
    -------
    numpy.ndarray
        ``[n_steps, ny, nx]`` z-scores (NaN outside ``mask``).
    """
    cube = np.asarray(cube, float)
    mask = np.asarray(mask, bool)
    x = np.where(mask[None], cube, 0.0)
    n = mask.sum() * cube.shape[0]
    xbar = x.sum() / n
    s = np.sqrt(max((x**2).sum() / n - xbar**2, 0.0))
    r = int(np.floor(neighbourhood_cells))
    oy, ox = np.mgrid[-r : r + 1, -r : r + 1]
    disc = (oy**2 + ox**2 <= neighbourhood_cells**2 + 1e-9).astype(float)
    lag = int(neighbourhood_steps)
    kern = np.zeros((2 * lag + 1, *disc.shape))
    kern[lag:] = disc  # convolve flips: these are the current and ``lag`` previous steps
    m3 = np.broadcast_to(mask[None], x.shape).astype(float)
    sum_wx = ndimage.convolve(x, kern, mode="constant")
    sum_w = ndimage.convolve(m3, kern, mode="constant")
    num = sum_wx - xbar * sum_w
    den = s * np.sqrt(np.maximum(n * sum_w - sum_w**2, 0.0) / (n - 1))
    z = np.divide(num, den, out=np.zeros_like(num), where=den > 0)
    z[:, ~mask] = np.nan
    return z


def classify_series(
    hot: np.ndarray,
    cold: np.ndarray,
    trend_z: np.ndarray,
    trend_p: np.ndarray,
    trend_alpha: float = 0.05,
) -> np.ndarray:
    """ArcGIS's emerging hot spot class of each location (the rules above).

    Parameters
    ----------
    hot, cold
        ``[n_locations, n_steps]`` bool: significant hot / cold spot in each step.
    trend_z, trend_p
        Mann-Kendall z and p of each location's Gi* z-scores.
    trend_alpha
        Significance of the trend.

    Returns
    -------
    numpy.ndarray of str
        One of :data:`EMERGING_CLASSES` per location.
    """
    hot = np.asarray(hot, bool)
    cold = np.asarray(cold, bool)
    out = np.full(len(hot), "no pattern detected", dtype=object)
    up = (np.asarray(trend_p) < trend_alpha) & (np.asarray(trend_z) > 0)
    down = (np.asarray(trend_p) < trend_alpha) & (np.asarray(trend_z) < 0)
    hot_classes = _classes(hot, cold, up, down)
    cold_classes = _classes(cold, hot, down, up)
    for i in range(len(hot)):
        if hot_classes[i]:
            out[i] = f"{hot_classes[i]} hot spot"
        elif cold_classes[i]:
            out[i] = f"{cold_classes[i]} cold spot"
    return out


def _classes(
    sig: np.ndarray, opposite: np.ndarray, rising: np.ndarray, falling: np.ndarray
) -> list[str]:
    """Patterns of one kind (hot, or cold with the roles swapped), "" for none."""
    n = sig.shape[1]
    out = []
    for i in range(len(sig)):
        s = sig[i]
        share = s.sum() / n
        final = bool(s[-1])
        before = s[:-1]
        if final and not before.any():
            out.append("new")
            continue
        if final:
            # Length of the final uninterrupted run.
            run = n if s.all() else n - 1 - int(np.flatnonzero(~s).max())
            if share >= 0.9:
                out.append(
                    "intensifying" if rising[i] else "diminishing" if falling[i] else "persistent"
                )
            elif run >= 2 and not s[: n - run].any():
                out.append("consecutive")
            elif opposite[i, :-1].any():
                out.append("oscillating")
            else:
                out.append("sporadic")
            continue
        out.append("historical" if share >= 0.9 else "")
    return out


@dataclass(frozen=True, eq=False)
class EmergingResult:
    """An emerging hot spot analysis.

    Attributes
    ----------
    cells
        One row per bin with any incident (EPSG:27700): ``ix``, ``iy``, ``class``,
        ``trend_z``, ``trend_p`` (of the Gi* z-scores), ``count_trend_z``,
        ``count_trend_p`` (of the counts), ``hot_months``, ``cold_months``,
        ``final_z``, ``count``, ``geometry``.
    summary
        One row per class present: ``class``, ``bins``, ``incidents``, ``share``.
    months
        The time steps.
    z
        ``[n_months, ny, nx]`` Gi* z-scores.
    grid, mask
        The bins.
    description
        Plain-language account of the settings.
    """

    cells: gpd.GeoDataFrame
    summary: pd.DataFrame
    months: tuple[str, ...]
    z: np.ndarray
    grid: Grid
    mask: np.ndarray
    description: str


def emerging_hotspots(
    incidents: gpd.GeoDataFrame,
    *,
    study_area: object,
    months: list[str] | tuple[str, ...] | None = None,
    bin_m: float = 200.0,
    neighbourhood_m: float = 400.0,
    neighbourhood_steps: int = 1,
    alpha: float = 0.10,
    trend_alpha: float = 0.05,
) -> EmergingResult:
    """Emerging hot spot analysis of monthly incidents (ArcGIS Pro's rules).

    Parameters
    ----------
    incidents
        Incidents of the chosen types (EPSG:27700).
    study_area
        The area's outline (shapely geometry in BNG metres or a frame in EPSG:27700).
    months
        The time steps, consecutive ``YYYY-MM``; every month in the frame by default.
    bin_m
        Side of a bin, metres.
    neighbourhood_m
        Spatial neighbourhood distance (bin centre to centre), metres.
    neighbourhood_steps
        Previous months in the neighbourhood (ArcGIS's Neighborhood Time Step).
    alpha
        False discovery rate of the Gi* hot and cold spots (0.10: 90% confidence).
    trend_alpha
        Significance of the Mann-Kendall trend.

    Returns
    -------
    EmergingResult

    Raises
    ------
    InputError
        With fewer than three months, or a frame not in EPSG:27700.
    """
    require_bng(incidents, "incidents")
    if months is None:
        months = sorted(set(incidents["month"].astype(str)))
    months = tuple(months)
    if len(months) < 3:
        msg = f"emerging hot spots need at least three months, got {len(months)}."
        raise InputError(msg)
    geom = area_geometry(study_area)
    grid = Grid.covering(geom.bounds, bin_m)
    mask = grid.mask_from(geom)
    located = incidents[incidents["has_location"].to_numpy(bool)]
    mi = located["month"].map({m: i for i, m in enumerate(months)}).to_numpy(float)
    ix, iy, inside = grid.cell_index_in(
        located["x"].to_numpy(float), located["y"].to_numpy(float), mask
    )
    keep = inside & np.isfinite(mi)
    cube = np.zeros((len(months), grid.ny, grid.nx))
    np.add.at(cube, (mi[keep].astype(int), iy[keep], ix[keep]), 1)
    z = gistar_cube(
        cube,
        mask,
        neighbourhood_cells=neighbourhood_m / bin_m,
        neighbourhood_steps=neighbourhood_steps,
    )
    cells = np.flatnonzero(mask.ravel())
    zc = z.reshape(len(months), -1)[:, cells].T  # [n_cells, n_months]
    p = 2 * stats.norm.sf(np.abs(zc))
    sig = np.zeros_like(zc, dtype=bool)
    for t in range(len(months)):
        sig[:, t] = _fdr(p[:, t], alpha)
    hot = sig & (zc > 0)
    cold = sig & (zc < 0)
    counts = cube.reshape(len(months), -1)[:, cells].T
    data = counts.sum(axis=1) > 0
    _, tz, tp = mann_kendall(zc[data])
    _, cz, cp = mann_kendall(counts[data])
    classes = classify_series(hot[data], cold[data], tz, tp, trend_alpha)
    sel = cells[data]
    cy, cx = np.divmod(sel, grid.nx)
    out = gpd.GeoDataFrame(
        {
            "ix": cx,
            "iy": cy,
            "class": classes,
            "trend_z": tz,
            "trend_p": tp,
            "count_trend_z": cz,
            "count_trend_p": cp,
            "hot_months": hot[data].sum(axis=1),
            "cold_months": cold[data].sum(axis=1),
            "final_z": zc[data, -1],
            "count": counts[data].sum(axis=1).astype(int),
        },
        geometry=grid.cell_boxes(cx, cy),
        crs=grid.crs,
    )
    total = max(int(out["count"].sum()), 1)
    summary = (
        out.groupby("class")
        .agg(bins=("count", "size"), incidents=("count", "sum"))
        .reindex([c for c in EMERGING_CLASSES if c in set(classes)])
        .reset_index()
    )
    summary["share"] = summary["incidents"] / total
    desc = (
        f"Emerging hot spots over {months[0]}..{months[-1]} ({len(months)} months): "
        f"{bin_m:.0f} m bins; Gi* over bins within {neighbourhood_m:.0f} m, this month "
        f"and {neighbourhood_steps} before; hot or cold at {1 - alpha:.0%} confidence "
        f"after FDR; Mann-Kendall trend of the Gi* z-scores at "
        f"{1 - trend_alpha:.0%}; classes as ArcGIS Pro's Emerging Hot Spot Analysis."
    )
    return EmergingResult(
        cells=out, summary=summary, months=months, z=z, grid=grid, mask=mask, description=desc
    )
