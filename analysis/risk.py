"""A predictive risk surface: the expected count of the chosen types next month, per cell.

:func:`fit_risk` turns the loaded months of an area into, for every cell of a 50 m grid
over it (and every police.uk map point), the expected number of incidents of the chosen
types in the month after the last loaded one. It learns from the area's own history:

- **own history**: the chosen types' counts in the cell, as a recency-weighted mean
  (half-life ``half_life_months``) and as the plain mean over every loaded month;
- **neighbours**: the same counts smoothed with a Gaussian kernel of ``bandwidth_m``
  (the standard deviation, metres), so a cell next to a busy one is not scored zero;
- **other crime types**: every other type's mean monthly count in the cell and
  nearby (police.uk snaps reports to shared map points, and the chosen types next
  month land where other types were reported: ``../shared/docs/DOMAIN.md``);
- **place type**: police.uk names a kind of place for some map points ("Parking Area",
  "Supermarket", "Shopping Area", ...; :data:`analysis.describe.GENERIC_LOCATIONS`).
  Each kind's mean monthly count of the chosen types per map point, learnt from the
  history, is summed over the map points seen in the cell;
- **map points**: how many distinct map points have had any report in the cell.

These are combined by a Poisson model, ``log E[count next month] = b0 + sum b_k
log(1 + 12 feature_k)`` (:class:`sklearn.linear_model.PoissonRegressor`) or a
Poisson gradient-boosted tree (:class:`sklearn.ensemble.HistGradientBoostingRegressor`
with ``loss="poisson"``), trained on a panel of (origin month, cell) rows: the
features from the months up to each origin and the target the count of the month
after it.

**Rolling origin, never the months it predicts.** The bandwidth and the model are
chosen by rolling-origin validation on the loaded months only: for each of the last
``n_splits`` months ``s`` before the end, the model is trained on panel rows whose
target month is at most ``s`` (so the features and targets it sees stop at ``s``),
scored on the months after ``s`` (hit rate at 1%, 5% and 10% of the area, averaged),
and the candidate with the best mean score wins. The final model is then refitted on
every origin and predicts the month after the last loaded one.

Expected counts are per month. The result (:class:`RiskSurface`) carries the chosen
bandwidth, half-life and weights, the per-split validation scores and a
plain-language description for the map.
"""

from __future__ import annotations

import functools
import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from sklearn.ensemble import HistGradientBoostingRegressor
from sklearn.linear_model import PoissonRegressor
from threadpoolctl import ThreadpoolController

from analysis.describe import GENERIC_LOCATIONS
from analysis.grid import Grid, area_geometry
from analysis.smoothing import smoothed_running_sums
from geo.crs import BNG, require_bng
from geo.errors import InputError

__all__ = [
    "DEFAULT_BANDWIDTHS_M",
    "DEFAULT_COVERAGES",
    "DEFAULT_MODELS",
    "FEATURES",
    "MODELS",
    "RiskSurface",
    "best_hit_rate",
    "fit_risk",
    "hit_rates",
    "month_cubes",
    "risk_cells",
    "source_counts",
    "top_cells",
]

DEFAULT_BANDWIDTHS_M = (75.0, 150.0, 300.0)
"""Candidate Gaussian bandwidths (standard deviation, metres) for the neighbours."""

DEFAULT_COVERAGES = (0.01, 0.05, 0.10)
"""Shares of the area at which candidates are scored."""

MODELS = ("glm", "hgb")
"""Models known: Poisson GLM on log features, Poisson gradient-boosted trees."""

DEFAULT_MODELS = ("glm",)
"""Candidates by default: the trees lost to the GLM on every rolling-origin split
tried and take several times longer, so they are an option, not the default."""

FEATURES = (
    "own_recent",
    "own_mean",
    "own_near",
    "other_mean",
    "other_near",
    "place_prior",
    "map_points",
)
"""Feature names, in the order of the model's weights."""

_FEATURE_TEXT = {
    "own_recent": "the chosen types in the cell, recent months weighted more",
    "own_mean": "the chosen types in the cell, every month alike",
    "own_near": "the chosen types in neighbouring cells",
    "other_mean": "other crime types in the cell",
    "other_near": "other crime types in neighbouring cells",
    "place_prior": "the kind of place police.uk names at the cell's map points",
    "map_points": "the number of map points with any report in the cell",
}


def top_cells(score: np.ndarray, mask: np.ndarray, coverage: float) -> np.ndarray:
    """The highest-scoring cells covering exactly ``coverage`` of the area.

    Parameters
    ----------
    score
        ``[ny, nx]`` scores (higher = more at risk); NaN counts as the lowest.
    mask
        ``[ny, nx]`` bool, the area's cells.
    coverage
        Share of the area's cells to take, in ``[0, 1]``.

    Returns
    -------
    numpy.ndarray
        Flat cell indices (``iy * nx + ix``), exactly ``round(coverage * mask.sum())``
        of them, best first; ties go to the lower cell index.

    Raises
    ------
    InputError
        If ``coverage`` is outside ``[0, 1]`` or the shapes differ.
    """
    flat, order = _ranked(score, mask, (coverage,))
    return flat[order[: int(round(float(coverage) * len(flat)))]]


def _ranked(
    score: np.ndarray, mask: np.ndarray, coverages: tuple[float, ...] | list[float]
) -> tuple[np.ndarray, np.ndarray]:
    """The area's flat cell indices and their order, best first, ties to the lower index.

    Raises :class:`InputError` if a coverage is outside ``[0, 1]`` or the shapes differ.
    """
    for c in coverages:
        if not 0.0 <= float(c) <= 1.0:
            msg = f"coverage must be a share in [0, 1], got {c!r}."
            raise InputError(msg)
    score = np.asarray(score, dtype=float)
    mask = np.asarray(mask, dtype=bool)
    if score.shape != mask.shape:
        msg = f"score has shape {score.shape}, the mask {mask.shape}."
        raise InputError(msg)
    flat = np.flatnonzero(mask.ravel())
    s = np.nan_to_num(score.ravel()[flat], nan=-np.inf)
    # A stable sort of the descending scores keeps tied cells in index order. (A
    # partition for the top cells only was tried: with most of a rural district tied
    # at one low value, numpy's selection took 24-34 ms where this sort takes 7 ms.)
    return flat, np.argsort(-s, kind="stable")


def _hits(
    flat: np.ndarray,
    order: np.ndarray,
    test: np.ndarray,
    coverages: tuple[float, ...] | list[float],
) -> np.ndarray:
    """Hit rates at ``coverages`` of a ranking from :func:`_ranked` (NaN with no test count)."""
    te = np.asarray(test, dtype=float).ravel()
    total = te[flat].sum()
    if total <= 0:
        return np.full(len(coverages), np.nan)
    # One ranking for every coverage: the running total of the test counts, best first.
    running = np.concatenate([[0.0], np.cumsum(te[flat[order]])])
    return np.array([running[int(round(float(c) * len(flat)))] / total for c in coverages])


def hit_rates(
    score: np.ndarray,
    mask: np.ndarray,
    test: np.ndarray,
    coverages: tuple[float, ...] | list[float] = DEFAULT_COVERAGES,
) -> np.ndarray:
    """Share of the ``test`` counts inside the top cells of ``score`` at each coverage.

    Parameters
    ----------
    score, mask, test
        ``[ny, nx]`` arrays: scores, the area's cells, counts of the test period.
    coverages
        Shares of the area.

    Returns
    -------
    numpy.ndarray
        One hit rate per coverage (NaN when the test period has no incident).
    """
    flat, order = _ranked(score, mask, coverages)
    return _hits(flat, order, test, coverages)


def best_hit_rate(test: np.ndarray, mask: np.ndarray, n_cells: int) -> float:
    """The best possible hit rate with ``n_cells`` cells: the test period's own top cells.

    Parameters
    ----------
    test
        ``[ny, nx]`` test counts.
    mask
        ``[ny, nx]`` the area's cells.
    n_cells
        How many cells.

    Returns
    -------
    float
        NaN when the test period is empty.
    """
    t = np.sort(np.asarray(test, float)[np.asarray(mask, bool)])[::-1]
    total = t.sum()
    return float(t[: int(n_cells)].sum() / total) if total > 0 else float("nan")


def month_cubes(
    incidents: gpd.GeoDataFrame,
    types: tuple[str, ...] | list[str],
    grid: Grid,
    mask: np.ndarray,
    months: tuple[str, ...] | list[str],
) -> tuple[np.ndarray, np.ndarray]:
    """Counts per month and cell of the chosen types and of every other type.

    Parameters
    ----------
    incidents
        Incident frame (``month``, ``crime_type``, ``has_location``, ``x``, ``y``).
    types
        The chosen crime types.
    grid, mask
        The grid and the area's cells.
    months
        ``YYYY-MM`` months, in order; rows of other months are ignored.

    Returns
    -------
    own, other : numpy.ndarray
        ``[n_months, ny, nx]`` counts (zero outside ``mask``).
    """
    own = np.zeros((len(months), grid.ny, grid.nx))
    other = np.zeros_like(own)
    mi, ix, iy, is_own = _month_cells(incidents, types, grid, mask, months)
    np.add.at(own, (mi[is_own], iy[is_own], ix[is_own]), 1)
    np.add.at(other, (mi[~is_own], iy[~is_own], ix[~is_own]), 1)
    return own, other


def _month_cells(
    incidents: gpd.GeoDataFrame,
    types: tuple[str, ...] | list[str],
    grid: Grid,
    mask: np.ndarray,
    months: tuple[str, ...] | list[str],
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Month index, cell ``ix``, ``iy`` and own-type flag of the located rows counted.

    Only rows in ``mask`` and in ``months`` are returned.
    """
    located = incidents[incidents["has_location"].to_numpy(bool)]
    m_index = {m: i for i, m in enumerate(months)}
    mi = located["month"].map(m_index).to_numpy(dtype=float)
    ix, iy, inside = grid.cell_index_in(
        located["x"].to_numpy(float), located["y"].to_numpy(float), mask
    )
    keep = inside & np.isfinite(mi)
    is_own = located["crime_type"].isin(list(types)).to_numpy()[keep]
    return mi[keep].astype(np.int64), ix[keep], iy[keep], is_own


def source_counts(
    incidents: gpd.GeoDataFrame,
    types: tuple[str, ...] | list[str],
    grid: Grid,
    mask: np.ndarray,
    months: tuple[str, ...] | list[str],
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """:func:`month_cubes` kept for the cells that have a count, not the whole grid.

    police.uk snaps reports to few map points: 1,458 of Winchester's 264,000 cells of
    50 m had any report in a year, and its two cubes would be 87 MB of zeros.

    Parameters
    ----------
    incidents, types, grid, mask, months
        As for :func:`month_cubes`.

    Returns
    -------
    cells : numpy.ndarray
        Flat grid indices (``iy * nx + ix``) of the cells with a count, ascending.
    own, other : numpy.ndarray
        ``[n_months, len(cells)]`` counts of the chosen types and of every other type.

    Examples
    --------
    >>> import pandas as pd, shapely
    >>> from geo.crs import BNG
    >>> grid = Grid.covering((0.0, 0.0, 200.0, 100.0), 50.0)
    >>> mask = grid.mask_from(shapely.box(0.0, 0.0, 200.0, 100.0))
    >>> df = pd.DataFrame({"month": ["2021-01", "2021-02", "2021-02"],
    ...     "crime_type": ["Anti-social behaviour", "Anti-social behaviour", "Burglary"],
    ...     "x": [25.0, 25.0, 175.0], "y": [25.0, 25.0, 75.0], "has_location": True})
    >>> inc = gpd.GeoDataFrame(df, geometry=gpd.points_from_xy(df.x, df.y), crs=BNG)
    >>> cells, own, other = source_counts(inc, ["Anti-social behaviour"], grid, mask,
    ...     ["2021-01", "2021-02"])
    >>> cells.tolist() == [0 * grid.nx + 0, 1 * grid.nx + 3]  # cells (ix 0, iy 0), (3, 1)
    True
    >>> own.tolist(), other.tolist()  # months down, cells across
    ([[1.0, 0.0], [1.0, 0.0]], [[0.0, 0.0], [0.0, 1.0]])
    """
    mi, ix, iy, is_own = _month_cells(incidents, types, grid, mask, months)
    flat = iy * grid.nx + ix
    cells, inv = np.unique(flat, return_inverse=True)
    own = np.zeros((len(months), len(cells)))
    other = np.zeros_like(own)
    np.add.at(own, (mi[is_own], inv[is_own]), 1)
    np.add.at(other, (mi[~is_own], inv[~is_own]), 1)
    return cells, own, other


@dataclass(frozen=True, eq=False)
class _Points:
    """Distinct map points of the history: cell, kind, first month, own counts by month."""

    x: np.ndarray
    y: np.ndarray
    cell: np.ndarray
    label: np.ndarray
    kind: np.ndarray
    first: np.ndarray
    own: np.ndarray  # [n_points, n_months]


def _map_points(incidents, types, grid, mask, months) -> _Points:
    located = incidents[incidents["has_location"].to_numpy(bool)]
    m_index = {m: i for i, m in enumerate(months)}
    mi = located["month"].map(m_index).to_numpy(dtype=float)
    x = located["x"].to_numpy(float)
    y = located["y"].to_numpy(float)
    ix, iy, inside = grid.cell_index_in(x, y, mask)
    keep = inside & np.isfinite(mi)
    x, y, mi = x[keep], y[keep], mi[keep].astype(np.int64)
    cell = (iy * grid.nx + ix)[keep]
    label = located["location"].astype(str).str.removeprefix("On or near ").to_numpy(object)[keep]
    is_own = located["crime_type"].isin(list(types)).to_numpy()[keep]
    xy = np.round(np.column_stack([x, y]), 1)
    uniq, inv = np.unique(xy, axis=0, return_inverse=True)
    inv = inv.ravel()
    n = len(uniq)
    first = np.full(n, len(months), dtype=np.int64)
    np.minimum.at(first, inv, mi)
    own = np.zeros((n, len(months)))
    np.add.at(own, (inv[is_own], mi[is_own]), 1)
    pcell = np.zeros(n, dtype=np.int64)
    pcell[inv] = cell
    plabel = np.empty(n, dtype=object)
    plabel[inv] = label
    kind = np.where(np.isin(plabel, list(GENERIC_LOCATIONS)), plabel, "street")
    return _Points(uniq[:, 0], uniq[:, 1], pcell, plabel, kind.astype(object), first, own)


def _recency_weights(n: int, half_life_months: float) -> np.ndarray:
    """Weights of months ``0..n-1`` seen from month ``n-1`` (newest weighs 1)."""
    age = np.arange(n)[::-1].astype(float)
    if not np.isfinite(half_life_months):
        return np.ones(n)
    return 0.5 ** (age / half_life_months)


def _running(cube: np.ndarray, decay: float = 1.0) -> np.ndarray:
    """``out[t] = sum over k <= t of decay ** (t - k) * cube[k]`` along the first axis."""
    if decay == 1.0:
        return np.cumsum(cube, axis=0)
    out = np.empty_like(cube)
    out[0] = cube[0]
    for t in range(1, len(cube)):
        np.multiply(out[t - 1], decay, out=out[t])
        out[t] += cube[t]
    return out


@dataclass(frozen=True, eq=False)
class _History:
    """Everything features are built from, computed once per fit.

    Features are read from running sums over the months, so the features at any origin
    cost one pass over the cells whatever the number of months. The unsmoothed sums are
    kept for the source cells only (cells with a count in some month: 1,458 of
    Winchester's 264,000), and spread to the cells asked for.
    """

    grid: Grid
    mask: np.ndarray
    months: tuple[str, ...]
    source_cells: np.ndarray
    own: np.ndarray
    other: np.ndarray
    points: _Points
    cells: np.ndarray
    half_life_months: float
    first_origin: int
    cache: dict = field(default_factory=dict)

    def sources(self) -> tuple[np.ndarray, np.ndarray]:
        """Positions in ``cells`` of the source cells, and each cell's source number or -1."""
        if "sources" not in self.cache:
            src = np.searchsorted(self.cells, self.source_cells)
            number = np.full(len(self.cells), -1, dtype=np.int64)
            number[src] = np.arange(len(src))
            self.cache["sources"] = (src, number)
        return self.cache["sources"]

    def spread(self, row: np.ndarray, sel: np.ndarray | None = None) -> np.ndarray:
        """A row over the source cells as a row over ``sel`` (every cell by default)."""
        src, number = self.sources()
        if sel is None:
            out = np.zeros(len(self.cells))
            out[src] = row
            return out
        j = number[sel]
        has = j >= 0
        out = np.zeros(len(sel))
        out[has] = row[j[has]]
        return out

    def counts(self) -> np.ndarray:
        """``[n_months, n_sources]`` counts of the chosen types at the sources."""
        return self.own

    def sums(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Running sums at the sources: own, recency-weighted own, other (cached)."""
        if "sums" not in self.cache:
            hl = self.half_life_months
            decay = 0.5 ** (1.0 / hl) if np.isfinite(hl) else 1.0
            self.cache["sums"] = (
                _running(self.own),
                _running(self.own, decay),
                _running(self.other),
            )
        return self.cache["sums"]

    def smooth_sums(self, bandwidth_m: float) -> tuple[np.ndarray, np.ndarray]:
        """Running sums at the cells of the cubes smoothed by ``bandwidth_m`` (cached).

        Row ``t - first_origin`` holds origin ``t``: features are asked at no earlier one.
        """
        key = ("smooth", bandwidth_m)
        if key not in self.cache:
            self.cache[key] = tuple(
                smoothed_running_sums(
                    (self.own, self.other),
                    self.source_cells,
                    self.grid.shape,
                    bandwidth_m / self.grid.cell_m,
                    self.cells,
                    self.first_origin,
                )
            )
        return self.cache[key]

    def places(self, origin: int) -> tuple[np.ndarray, np.ndarray]:
        """Place prior and map points seen by ``origin``, at the cells (cached)."""
        key = ("places", origin)
        if key not in self.cache:
            n = origin + 1
            pts = self.points
            seen = pts.first <= origin
            # Each kind's mean own count per map point and month, learnt from the points
            # seen by the origin, summed over the cell's points.
            kinds, kinv = np.unique(pts.kind[seen].astype(str), return_inverse=True)
            own_by_point = pts.own[seen, :n].sum(axis=1)
            per_kind = np.bincount(kinv, weights=own_by_point, minlength=len(kinds))
            n_kind = np.bincount(kinv, minlength=len(kinds))
            rate = per_kind / np.maximum(n_kind, 1) / n
            ncell = self.grid.nx * self.grid.ny
            place = np.bincount(pts.cell[seen], weights=rate[kinv], minlength=ncell)
            mpts = np.bincount(pts.cell[seen], minlength=ncell).astype(float)
            self.cache[key] = (place[self.cells], mpts[self.cells])
        return self.cache[key]


def _features(
    hist: _History, origin: int, bandwidth_m: float, sel: np.ndarray | None = None
) -> np.ndarray:
    """``[n_features, n]`` features at ``origin`` (months ``0..origin`` only).

    ``sel`` picks positions in ``hist.cells`` (all of them by default).
    """
    n = origin + 1
    wsum = _recency_weights(n, hist.half_life_months).sum()
    own, recent, other = hist.sums()
    s_own, s_other = hist.smooth_sums(bandwidth_m)
    place, mpts = hist.places(origin)
    at = slice(None) if sel is None else sel
    out = np.empty((len(FEATURES), len(hist.cells) if sel is None else len(sel)))
    out[0] = hist.spread(recent[origin], sel)
    out[0] /= wsum
    out[1] = hist.spread(own[origin], sel)
    out[3] = hist.spread(other[origin], sel)
    row = origin - hist.first_origin
    out[2] = s_own[row, at]
    out[4] = s_other[row, at]
    out[1:5] /= n
    out[5] = place[at]
    out[6] = mpts[at]
    out[6] /= 12.0  # scaled so that log(1 + 12 x) is log(1 + points)
    return out


def _design(feats: np.ndarray) -> np.ndarray:
    return np.log1p(12.0 * feats).T


@dataclass(frozen=True, eq=False)
class RiskSurface:
    """A fitted risk surface.

    Attributes
    ----------
    grid, mask
        The grid and the area's cells.
    expected
        ``[ny, nx]`` expected count of the chosen types next month (0 outside the area).
    points
        The map points of the history (EPSG:27700): ``x``, ``y``, ``location``,
        ``kind`` (place type or "street"), ``expected`` (the cell's expected count
        shared among its points by their own recent history plus their kind's prior).
    types
        The chosen crime types.
    months
        The loaded months it learnt from; it predicts the month after the last.
    model
        ``"glm"`` or ``"hgb"`` (see :data:`MODELS`).
    bandwidth_m
        Gaussian bandwidth (standard deviation, metres) of the neighbours.
    half_life_months
        Half-life of the recency weighting.
    weights
        Feature name to weight: the GLM's coefficients on ``log(1 + 12 x)``, or the
        trees' permutation-free split-gain importances (shares summing to 1).
    validation
        One row per candidate and split: ``model``, ``bandwidth_m``, ``origin``
        (last month it learnt from), ``test_months``, ``hit_1``, ``hit_5``, ``hit_10``,
        ``pei_1``, ``pei_5``, ``pei_10`` (the hit rate over the best any surface could
        reach with as many cells, Hunt 2016), ``score`` (the hit rates' mean),
        ``chosen``.
    dispersion
        Pearson dispersion (at least 1 = Poisson) of the chosen model's counts in the
        top 5% of cells over the validation splits, used for intervals.
    description
        Plain-language account of the surface, for the map.
    """

    grid: Grid
    mask: np.ndarray
    expected: np.ndarray
    points: gpd.GeoDataFrame
    types: tuple[str, ...]
    months: tuple[str, ...]
    model: str
    bandwidth_m: float
    half_life_months: float
    weights: dict[str, float]
    validation: pd.DataFrame
    dispersion: float
    description: str

    @property
    def expected_total(self) -> float:
        """Expected count over the whole area next month."""
        return float(self.expected[self.mask].sum())

    def top_cells(self, coverage: float) -> np.ndarray:
        """Flat indices of the highest-risk cells covering exactly ``coverage``."""
        return top_cells(self.expected, self.mask, coverage)


@functools.cache
def _threadpools() -> ThreadpoolController:
    # Finding the loaded thread pools reads the process's libraries (about 6 ms): once.
    return ThreadpoolController()


def _one_openmp_thread():
    """A context in which OpenMP pools run one thread (the panels are small)."""
    return _threadpools().limit(limits=1, user_api="openmp")


def _fit_model(kind: str, xm: np.ndarray, y: np.ndarray, w: np.ndarray, random_state: int):
    if kind == "glm":
        model = PoissonRegressor(alpha=1e-4, solver="newton-cholesky", max_iter=100)
    elif kind == "hgb":
        model = HistGradientBoostingRegressor(
            loss="poisson",
            max_iter=80,
            learning_rate=0.1,
            max_leaf_nodes=15,
            min_samples_leaf=40,
            early_stopping=False,
            random_state=random_state,
        )
    else:
        msg = f"unknown model {kind!r}; choose one of {', '.join(MODELS)}."
        raise InputError(msg)
    # One thread: the panels are small, and OpenMP threads only wait on a busy machine.
    with _one_openmp_thread():
        model.fit(xm, y, sample_weight=w)
    return model


_THIN = 8
"""Cells with no map point yet enter the training panel one in ``_THIN`` (at least),
weighted so."""

_EMPTY_ROWS = 8_000
"""At most about this many cells without a map point enter the panel per origin: a large
rural district (Winchester: 264,000 cells of 50 m, 1,500 with any report in a year)
is thinned more than one in ``_THIN``, so its fit costs about what a town's does."""


def _panel_rows(hist: _History, t: int, bandwidth_m: float):
    """Training rows of origin ``t``: features at ``t``, target the count of ``t + 1``.

    Cells with a map point by ``t`` are all kept; cells without one (most of a district,
    many with no feature at all) are thinned to every ``k``-th cell with weight ``k``
    (a deterministic sample that leaves the fitted means unbiased): ``k`` is ``_THIN``,
    or more where that would keep over ``_EMPTY_ROWS`` of them.
    """
    _, mpts = hist.places(t)
    empty = mpts == 0
    k = max(_THIN, -(-int(empty.sum()) // _EMPTY_ROWS))
    y_all = hist.spread(hist.counts()[t + 1])
    # Thinned harder than one in _THIN, a cell that gains a count would weigh k times:
    # those few are all kept, with weight 1, and only the cells without one are thinned.
    thinned = empty & (y_all == 0) if k > _THIN else empty
    sel = np.flatnonzero(~thinned | (np.arange(len(hist.cells)) % k == 0))
    xm = _design(_features(hist, t, bandwidth_m, sel))
    return xm, y_all[sel], np.where(thinned[sel], float(k), 1.0)


def _panel(hist: _History, first: int, stop: int, bandwidth_m: float):
    """Stacked training rows of origins ``first..stop - 1``.

    The rows of every origin up to the last month are stacked once per bandwidth, in
    order of origin, so each split's panel is a prefix of them (a view, not a copy).
    """
    key = ("panel", first, bandwidth_m)
    if key not in hist.cache:
        parts = [_panel_rows(hist, t, bandwidth_m) for t in range(first, len(hist.months) - 1)]
        ends = np.cumsum([len(p[1]) for p in parts])
        hist.cache[key] = (
            np.vstack([p[0] for p in parts]),
            np.concatenate([p[1] for p in parts]),
            np.concatenate([p[2] for p in parts]),
            dict(zip(range(first + 1, len(hist.months)), ends.tolist(), strict=True)),
        )
    xm, y, w, end = hist.cache[key]
    k = end[stop]
    return xm[:k], y[:k], w[:k]


def _predict(model, hist: _History, origin: int, bandwidth_m: float) -> np.ndarray:
    """Predicted counts at the area's cells for the month after ``origin``."""
    xm = _design(_features(hist, origin, bandwidth_m))
    with _one_openmp_thread():
        pred = model.predict(xm)
    # A diverging tree model can overflow; such a candidate then simply scores badly.
    return np.clip(np.nan_to_num(pred, nan=0.0, posinf=1e6), 0.0, 1e6)


def fit_risk(
    incidents: gpd.GeoDataFrame,
    *,
    types: tuple[str, ...] | list[str],
    study_area: object,
    cell_m: float = 50.0,
    months: tuple[str, ...] | list[str] | None = None,
    models: tuple[str, ...] | list[str] = DEFAULT_MODELS,
    bandwidths_m: tuple[float, ...] | list[float] = DEFAULT_BANDWIDTHS_M,
    half_life_months: float = 3.0,
    n_splits: int = 3,
    test_months: int = 3,
    min_origin: int = 2,
    coverages: tuple[float, ...] | list[float] = DEFAULT_COVERAGES,
    random_state: int = 0,
) -> RiskSurface:
    """Fit the risk surface of ``types`` next month from the loaded months.

    Parameters
    ----------
    incidents
        Incident frame of **every** crime type (EPSG:27700): the other types are
        features. Rows of months outside ``months`` are ignored.
    types
        The chosen crime types (e.g. ``["Anti-social behaviour"]``).
    study_area
        The area's outline (shapely geometry in BNG metres or a frame in EPSG:27700).
    cell_m
        Grid cell side, metres.
    months
        The months to learn from, ``YYYY-MM``; every month in ``incidents`` by default.
        They must be consecutive.
    models
        Candidate models (:data:`MODELS`), chosen among by rolling origin.
    bandwidths_m
        Candidate neighbour bandwidths, metres, chosen among by rolling origin.
    half_life_months
        Half-life of the recency-weighted own history (the model weighs it against
        the plain mean, so the recency weight itself is learnt).
    n_splits
        Rolling-origin splits used to choose: the last ``n_splits`` origins.
    test_months
        Months after each validation origin that are scored.
    min_origin
        First origin of the training panel (0-based month index): each training row
        has at least ``min_origin + 1`` months of history.
    coverages
        Coverages at which candidates are scored (mean hit rate).
    random_state
        Seed of the tree model.

    Returns
    -------
    RiskSurface

    Raises
    ------
    InputError
        If fewer than four months are given, the months are not consecutive, or the
        frame is not in EPSG:27700.
    """
    require_bng(incidents, "incidents")
    types = tuple(types)
    if months is None:
        months = sorted(set(incidents["month"].astype(str)))
    months = tuple(str(m) for m in months)
    _check_months(months)
    if len(months) < 4:
        msg = f"the risk surface needs at least four months of history, got {len(months)}."
        raise InputError(msg)
    geom = area_geometry(study_area)
    grid = Grid.covering(geom.bounds, cell_m)
    mask = grid.mask_from(geom)
    source_cells, own, other = source_counts(incidents, types, grid, mask, months)
    cells = np.flatnonzero(mask.ravel())
    last_t = len(months) - 1
    min_origin = max(0, min(int(min_origin), last_t - 2))
    hist = _History(
        grid,
        mask,
        months,
        source_cells,
        own,
        other,
        _map_points(incidents, types, grid, mask, months),
        cells,
        float(half_life_months),
        min_origin,
    )
    split_origins = [s for s in range(last_t - n_splits, last_t) if s > min_origin]
    if not split_origins:
        split_origins = [last_t - 1]

    def run(kind: str, bw: float) -> tuple[float, list[dict], list[tuple[float, int]]]:
        scores, rows, chi = [], [], []
        for s in split_origins:
            xm, y, w = _panel(hist, min_origin, s, bw)
            model = _fit_model(kind, xm, y, w, random_state)
            pred = np.zeros(grid.nx * grid.ny)
            pred[cells] = _predict(model, hist, s, bw)
            last = min(last_t, s + test_months)
            test = np.zeros(grid.nx * grid.ny)
            test[source_cells] = own[s + 1 : last + 1].sum(axis=0)
            # One ranking of the cells for the hit rates and the top 5% alike.
            flat, order = _ranked(pred.reshape(grid.shape), mask, coverages)
            hits = _hits(flat, order, test, coverages)
            # The best any surface could do with as many cells: the test period's own top.
            best = [
                best_hit_rate(test.reshape(grid.shape), mask, round(c * len(cells)))
                for c in coverages
            ]
            # Dispersion where it matters: the top 5% of cells (patrol areas lie there).
            top = flat[order[: int(round(0.05 * len(flat)))]]
            mu = pred[top] * (last - s)
            obs = test[top]
            chi.append((float(((obs - mu) ** 2 / np.maximum(mu, 1e-9)).sum()), len(top)))
            rows.append(
                {
                    "model": kind,
                    "bandwidth_m": bw,
                    "origin": months[s],
                    "test_months": f"{months[s + 1]}..{months[last]}",
                    **{f"hit_{round(c * 100)}": h for c, h in zip(coverages, hits, strict=True)},
                    **{
                        f"pei_{round(c * 100)}": h / b if b > 0 else np.nan
                        for c, h, b in zip(coverages, hits, best, strict=True)
                    },
                    "score": float(np.nanmean(hits)),
                }
            )
            scores.append(float(np.nanmean(hits)))
        return float(np.mean(scores)), rows, chi

    models = tuple(models)
    first = models[0]
    # The bandwidths' runs are independent: run side by side (numpy, scipy and the
    # solver release the GIL in their heavy parts), each library pool one thread. What
    # they share is filled in first, so no run computes it again.
    hist.sums()
    hist.sources()
    for t in range(min_origin, last_t + 1):
        hist.places(t)
    workers = max(1, min(len(bandwidths_m), os.cpu_count() or 1))
    with _threadpools().limit(limits=1), ThreadPoolExecutor(max_workers=workers) as pool:
        runs = list(pool.map(lambda bw: run(first, float(bw)), bandwidths_m))
    results = {(first, float(bw)): r for bw, r in zip(bandwidths_m, runs, strict=True)}
    bw_scores = {bw: results[(first, float(bw))][0] for bw in bandwidths_m}
    best_bw = max(bw_scores, key=lambda b: (bw_scores[b], -b))
    model_scores = {first: bw_scores[best_bw]}
    for kind in models[1:]:
        results[(kind, float(best_bw))] = run(kind, float(best_bw))
        model_scores[kind] = results[(kind, float(best_bw))][0]
    best_model = max(models, key=lambda k: (model_scores[k], -models.index(k)))
    rows = [row for r in results.values() for row in r[1]]
    validation = pd.DataFrame(rows)
    validation["chosen"] = (validation["model"] == best_model) & (
        validation["bandwidth_m"] == best_bw
    )
    chi = results[(best_model, float(best_bw))][2]
    dispersion = max(1.0, sum(c for c, _ in chi) / max(1, sum(n for _, n in chi)))

    xm, y, w = _panel(hist, min_origin, last_t, float(best_bw))
    model = _fit_model(best_model, xm, y, w, random_state)
    pred = np.zeros(grid.nx * grid.ny)
    pred[cells] = _predict(model, hist, last_t, float(best_bw))
    expected = pred.reshape(grid.shape)
    weights = _weights(best_model, model)
    points = _point_expected(hist, expected, last_t, half_life_months)
    desc = _describe(
        types,
        months,
        best_model,
        float(best_bw),
        half_life_months,
        weights,
        validation,
        expected[mask].sum(),
    )
    return RiskSurface(
        grid=grid,
        mask=mask,
        expected=expected,
        points=points,
        types=types,
        months=months,
        model=best_model,
        bandwidth_m=float(best_bw),
        half_life_months=float(half_life_months),
        weights=weights,
        validation=validation,
        dispersion=float(dispersion),
        description=desc,
    )


def _check_months(months: tuple[str, ...]) -> None:
    try:
        p = pd.PeriodIndex(list(months), freq="M")
    except (ValueError, TypeError) as exc:
        msg = f"months must be YYYY-MM, got {list(months)[:3]}..."
        raise InputError(msg) from exc
    if len(p) > 1 and not (np.diff(p.asi8) == 1).all():
        msg = f"months must be consecutive and in order, got {list(months)}."
        raise InputError(msg)


def _weights(kind: str, model) -> dict[str, float]:
    if kind == "glm":
        out = {"intercept": float(model.intercept_)}
        out.update({f: float(c) for f, c in zip(FEATURES, model.coef_, strict=True)})
        return out
    # Trees: the split gain summed per feature (sklearn has no public importances for
    # this model; if its internals change, the weights are reported as zeros).
    gains = np.zeros(len(FEATURES))
    for stage in getattr(model, "_predictors", []):
        for pred in stage:
            nodes = pred.nodes
            inner = ~nodes["is_leaf"].astype(bool)
            np.add.at(gains, nodes["feature_idx"][inner], nodes["gain"][inner])
    share = gains / gains.sum() if gains.sum() > 0 else gains
    return {f: float(v) for f, v in zip(FEATURES, share, strict=True)}


def _point_expected(
    hist: _History, expected: np.ndarray, origin: int, half_life_months: float
) -> gpd.GeoDataFrame:
    pts = hist.points
    n = origin + 1
    w = _recency_weights(n, half_life_months)
    recent = pts.own[:, :n] @ w / w.sum()
    kinds, kinv = np.unique(pts.kind.astype(str), return_inverse=True)
    per_kind = np.bincount(kinv, weights=pts.own[:, :n].sum(axis=1), minlength=len(kinds))
    prior = (per_kind / np.maximum(np.bincount(kinv, minlength=len(kinds)), 1) / n)[kinv]
    share = recent + prior + 1e-9
    cell_total = np.bincount(pts.cell, weights=share, minlength=expected.size)
    exp_pt = expected.ravel()[pts.cell] * share / cell_total[pts.cell]
    return gpd.GeoDataFrame(
        {"x": pts.x, "y": pts.y, "location": pts.label, "kind": pts.kind, "expected": exp_pt},
        geometry=gpd.points_from_xy(pts.x, pts.y),
        crs=BNG,
    )


def _describe(
    types, months, model, bandwidth_m, half_life_months, weights, validation, total
) -> str:
    what = ", ".join(types)
    chosen = validation[validation["chosen"]]
    how = "a Poisson regression" if model == "glm" else "Poisson gradient-boosted trees"
    if model == "glm":
        ranked = sorted(FEATURES, key=lambda f: -abs(weights[f]))
        parts = [f"{_FEATURE_TEXT[f]} ({weights[f]:+.2f})" for f in ranked]
        wtext = "weights on log(1 + count per year): " + "; ".join(parts)
    else:
        ranked = sorted(FEATURES, key=lambda f: -weights[f])
        parts = [f"{_FEATURE_TEXT[f]} ({weights[f]:.0%})" for f in ranked]
        wtext = "share of the trees' splitting gain: " + "; ".join(parts)
    hits = ", ".join(
        f"{c.split('_')[1]}% of the area holds {chosen[c].mean():.0%}"
        for c in chosen.columns
        if c.startswith("hit_")
    )
    return (
        f"Expected {what} next month ({_next_month(months[-1])}) per "
        f"cell, learnt from {months[0]} to {months[-1]} by {how}. "
        f"Neighbours are counted within a Gaussian bandwidth of {bandwidth_m:.0f} m; "
        f"recent months weigh double those {half_life_months:g} months older. "
        f"Chosen by rolling origin on the loaded months ({len(chosen)} splits: {hits} "
        f"of the following months' incidents). Expected in the whole area: {total:.0f}. "
        f"{wtext.capitalize()}."
    )


def _next_month(month: str) -> str:
    return str(pd.Period(month, freq="M") + 1)


def risk_cells(surface: RiskSurface, coverage: float) -> gpd.GeoDataFrame:
    """The highest-risk cells covering ``coverage`` of the area, as ranked polygons.

    Touching cells are joined into one polygon; each polygon carries the expected count
    of its cells next month and its share of the area's expected total.

    Parameters
    ----------
    surface
        A fitted surface (:func:`fit_risk`).
    coverage
        Share of the area's cells (0.05 = 5%), filled exactly.

    Returns
    -------
    geopandas.GeoDataFrame
        EPSG:27700: ``rank`` (1 = most expected), ``expected``, ``share``, ``cells``,
        ``area_m2`` and ``geometry``.
    """
    flat = surface.top_cells(coverage)
    iy, ix = np.divmod(flat, surface.grid.nx)
    boxes = surface.grid.cell_boxes(ix, iy)
    parts = shapely.get_parts(shapely.union_all(boxes)) if len(boxes) else np.array([])
    tree = shapely.STRtree(parts)
    cell_part = tree.query(shapely.centroid(boxes), predicate="within")
    group = np.full(len(boxes), -1)
    group[cell_part[0]] = cell_part[1]
    values = surface.expected[iy, ix]
    expected = np.bincount(group, weights=values, minlength=len(parts))
    cells = np.bincount(group, minlength=len(parts))
    total = surface.expected_total
    out = gpd.GeoDataFrame(
        {"expected": expected, "share": expected / total if total else 0.0, "cells": cells},
        geometry=list(parts),
        crs=surface.grid.crs,
    )
    out["area_m2"] = out.geometry.area
    out = out.sort_values(["expected", "area_m2"], ascending=[False, True]).reset_index(drop=True)
    out.insert(0, "rank", np.arange(1, len(out) + 1))
    return out
