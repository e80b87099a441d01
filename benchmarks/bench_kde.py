"""Kernel density on the borough's 50 m grid: ours against scikit-learn, SciPy and KDEpy.

Points: rows drawn with replacement from the located Eastleigh police.uk rows of the
shipped files (``geo.io.load_incidents()``: all crime types, all five months, 4,370 rows
on about 1,100 distinct snap points; each point drawn in proportion to its real row
count), each moved by Gaussian jitter of sd 50 m in x and y (a snap point stands for
eight or more addresses around it), then clipped inside the range of the grid's cell
centres (KDEpy needs every point inside its grid; the count clipped is printed).

Grid: ``Grid.covering(borough, 50 m)``, 200 x 346 = 69,200 cells. Every method computes
the Gaussian KDE with sd 200 m at every cell centre:

* ours: ``analysis.kde.kde_surface(xy, bandwidth_m=200, kernel="gaussian", grid=grid)``;
* scikit-learn ``KernelDensity(kernel="gaussian", bandwidth=200, rtol=1e-3)`` (kd-tree,
  relative tolerance 0.1 % so each value is within 0.1 % of exact) + ``score_samples``;
* SciPy ``gaussian_kde`` with its covariance set to 200^2 I (exact, all pairs);
* KDEpy ``FFTKDE(kernel="gaussian", bw=200)`` evaluated on the same grid of centres
  (linear binning + FFT).

Time is the call only (fit + evaluate), best of 3 when a run takes under 1 s. A method
is skipped at a size whose estimated time (its last measured time, or a probe run at
1,000 points, x the size ratio) exceeds the budget (60 s; 4 s with --quick) and "skipped (est. N s)" is printed. Error: largest
absolute difference from ``analysis.kde.kde_exact`` at 2,000 random cell centres (500
with --quick), as % of the largest exact value there. ``kde_exact`` cuts the Gaussian at
4 sd and rescales it by 1/(1 - e^-8); methods without the cut differ from it by up to
0.034 % of the local value by definition.

``--binning`` adds the table that chose quadratic binning (see ``analysis.kde``): the
error of simple, linear and quadratic binning onto the 50 m cells, with no oversampling.

Run: ``.venv/bin/python benchmarks/bench_kde.py [--quick] [--binning]``. The exit status
is 1 (full run only) if ours takes 0.5 s or more at 10^6 points, or is not at least 100x
faster than scikit-learn at 10^5 with an error under 0.1 % of the peak.
"""

from __future__ import annotations

import argparse
import sys
import time

import numpy as np
from KDEpy import FFTKDE
from scipy.signal import fftconvolve
from scipy.stats import gaussian_kde
from sklearn.neighbors import KernelDensity

from analysis.grid import Grid
from analysis.kde import kde_exact, kde_surface, kernel_values
from geo.io import load_incidents
from geo.paths import shipped_incident_paths
from tests.areas import EASTLEIGH

SD_M = 200.0
CELL_M = 50.0
JITTER_M = 50.0


class _IsotropicKDE(gaussian_kde):
    """SciPy's gaussian_kde with covariance sd^2 I instead of a scaled data covariance."""

    def __init__(self, dataset: np.ndarray, sd: float) -> None:
        self._sd = sd
        super().__init__(dataset)

    def _compute_covariance(self) -> None:
        self.factor = 1.0
        self.covariance = np.eye(2) * self._sd**2
        self.cho_cov = np.eye(2) * self._sd
        self.log_det = 2.0 * np.log(np.diag(self.cho_cov * np.sqrt(2 * np.pi))).sum()


def draw_points(snap: np.ndarray, n: int, grid: Grid, rng: np.random.Generator):
    xy = snap[rng.integers(0, len(snap), n)] + rng.normal(0.0, JITTER_M, (n, 2))
    lo = np.array([grid.x0, grid.y0]) + CELL_M / 2 + 1.0
    hi = np.array(grid.bounds[2:]) - CELL_M / 2 - 1.0
    clipped = int(np.any((xy < lo) | (xy > hi), axis=1).sum())
    return np.clip(xy, lo, hi), clipped


def run_ours(xy, grid, _centres):
    return kde_surface(xy, bandwidth_m=SD_M, kernel="gaussian", grid=grid).values


def run_sklearn(xy, grid, centres):
    kd = KernelDensity(kernel="gaussian", bandwidth=SD_M, rtol=1e-3).fit(xy)
    return np.exp(kd.score_samples(centres)).reshape(grid.shape) * len(xy) * 1e6


def run_scipy(xy, grid, centres):
    kde = _IsotropicKDE(xy.T, SD_M)
    return kde.evaluate(centres.T).reshape(grid.shape) * len(xy) * 1e6


def run_kdepy(xy, grid, _centres):
    xs = grid.x0 + (np.arange(grid.nx) + 0.5) * CELL_M
    ys = grid.y0 + (np.arange(grid.ny) + 0.5) * CELL_M
    gx, gy = np.meshgrid(xs, ys, indexing="ij")  # sorted by x, then y, as KDEpy wants
    pts = np.column_stack([gx.ravel(), gy.ravel()])
    dens = FFTKDE(kernel="gaussian", bw=SD_M).fit(xy).evaluate(pts)
    return dens.reshape(grid.nx, grid.ny).T * len(xy) * 1e6


METHODS = {
    "ours": run_ours,
    "sklearn KernelDensity": run_sklearn,
    "scipy gaussian_kde": run_scipy,
    "KDEpy FFTKDE": run_kdepy,
}


def timed(fn, *args):
    t0 = time.perf_counter()
    out = fn(*args)
    best = time.perf_counter() - t0
    if best < 1.0:
        for _ in range(2):
            t0 = time.perf_counter()
            fn(*args)
            best = min(best, time.perf_counter() - t0)
    return out, best


def binning_table(snap, grid, rng):
    """Error of simple, linear and quadratic binning onto the cells, no oversampling."""
    r = int(np.ceil(4 * SD_M / CELL_M)) + 1
    o = np.arange(-r, r + 1) * CELL_M
    kern = kernel_values(o[None, :] ** 2 + o[:, None] ** 2, SD_M, "gaussian")
    kern /= kern.sum() * CELL_M * CELL_M
    big = grid.padded(r + 1)
    xs, ys = grid.centres()
    sample = rng.choice(grid.nx * grid.ny, 2000, replace=False)
    ev = np.column_stack([xs.ravel()[sample], ys.ravel()[sample]])

    def binned(xy, scheme):
        fx = (xy[:, 0] - big.x0) / CELL_M - 0.5  # node coordinates: centres are integers
        fy = (xy[:, 1] - big.y0) / CELL_M - 0.5
        out = np.zeros(big.shape)
        if scheme == "simple":
            np.add.at(out, (np.rint(fy).astype(int), np.rint(fx).astype(int)), 1.0)
            return out
        if scheme == "linear":
            ix, iy = np.floor(fx), np.floor(fy)
            tx, ty = fx - ix, fy - iy
            wx, wy, offs = ((1 - tx, tx), (1 - ty, ty), (0, 1))
        else:
            ix, iy = np.rint(fx), np.rint(fy)
            tx, ty = fx - ix, fy - iy
            wx = (tx * (tx - 1) / 2, 1 - tx * tx, tx * (tx + 1) / 2)
            wy = (ty * (ty - 1) / 2, 1 - ty * ty, ty * (ty + 1) / 2)
            offs = (-1, 0, 1)
        for a, oa in enumerate(offs):
            for b, ob in enumerate(offs):
                idx = (iy.astype(int) + ob, ix.astype(int) + oa)
                np.add.at(out, idx, wx[a] * wy[b])
        return out

    print(f"\nBinning onto {CELL_M:g} m cells without oversampling (Gaussian sd {SD_M:g} m),")
    print("largest error at 2,000 cell centres, % of the peak:")
    print(f"{'points':>40} {'simple':>8} {'linear':>8} {'quadratic':>10}")
    snapped = snap[rng.integers(0, len(snap), 2000)]
    jittered = draw_points(snap, 100_000, grid, rng)[0]
    for label, xy in (
        ("2,000 snapped police.uk points", snapped),
        ("100,000 points jittered 50 m", jittered),
    ):
        exact = kde_exact(xy, ev, SD_M, "gaussian")
        errs = []
        for scheme in ("simple", "linear", "quadratic"):
            surf = fftconvolve(binned(xy, scheme), kern, mode="same")[
                r + 1 : -r - 1, r + 1 : -r - 1
            ]
            got = surf.ravel()[sample] * 1e6
            errs.append(100 * np.abs(got - exact).max() / exact.max())
        print(f"{label:>40} {errs[0]:>7.3f}% {errs[1]:>7.3f}% {errs[2]:>9.4f}%")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="10^4 and 10^5 points, 4 s budget")
    ap.add_argument("--binning", action="store_true", help="also print the binning table")
    args = ap.parse_args(argv)
    sizes = [10_000, 100_000] if args.quick else [10_000, 100_000, 1_000_000]
    budget = 4.0 if args.quick else 60.0
    n_eval = 500 if args.quick else 2000
    rng = np.random.default_rng(20170201)

    inc = load_incidents(shipped_incident_paths(), EASTLEIGH).incidents
    located = inc[inc["has_location"].to_numpy(bool)]
    snap = np.column_stack([located.geometry.x.to_numpy(), located.geometry.y.to_numpy()])
    borough = EASTLEIGH.geometry
    grid = Grid.covering(borough, CELL_M)
    xs, ys = grid.centres()
    centres = np.column_stack([xs.ravel(), ys.ravel()])
    sample = rng.choice(len(centres), n_eval, replace=False)
    print(
        f"{len(located):,} located Eastleigh rows on "
        f"{len(np.unique(snap.round(1), axis=0)):,} snap points; grid {grid.nx} x {grid.ny} "
        f"= {grid.nx * grid.ny:,} cells of {CELL_M:g} m; Gaussian sd {SD_M:g} m; "
        f"error at {n_eval:,} cell centres"
    )
    # Probe each other method at 1,000 points, to estimate its time at the first size.
    probe_xy = draw_points(snap, 1_000, grid, rng)[0]
    last_time: dict[str, tuple[int, float]] = {}
    for name, fn in METHODS.items():
        if name != "ours":
            t0 = time.perf_counter()
            fn(probe_xy, grid, centres)
            last_time[name] = (1_000, time.perf_counter() - t0)
    probes = ", ".join(f"{k} {t:.2f} s" for k, (_, t) in last_time.items())
    print(f"probe at 1,000 points: {probes}")
    print(f"\n{'points':>10} {'method':>22} {'time s':>9} {'x ours':>8} {'max err % peak':>15}")
    results: dict[tuple[str, int], tuple[float, float]] = {}
    for n in sizes:
        xy, clipped = draw_points(snap, n, grid, rng)
        t0 = time.perf_counter()
        exact = kde_exact(xy, centres[sample], SD_M, "gaussian")
        t_exact = time.perf_counter() - t0
        peak = exact.max()
        for name, fn in METHODS.items():
            if name in last_time:
                n0, t0_ = last_time[name]
                est = t0_ * n / n0
                if est > budget:
                    print(f"{n:>10,} {name:>22} {'skipped (est. ' + f'{est:.0f} s)':>34}")
                    continue
            vals, t = timed(fn, xy, grid, centres)
            last_time[name] = (n, t)
            err = 100 * np.abs(vals.ravel()[sample] - exact).max() / peak
            results[(name, n)] = (t, err)
            ratio = t / results[("ours", n)][0]
            ratio_txt = (
                "" if name == "ours" else f"{ratio:,.0f}x" if ratio >= 10 else f"{ratio:.1f}x"
            )
            print(f"{n:>10,} {name:>22} {t:>9.3f} {ratio_txt:>8} {err:>14.4f}%")
        print(
            f"{'':>10} (exact reference: {t_exact:.1f} s; {clipped} point(s) clipped to the grid)"
        )

    ok = True
    if not args.quick:
        t6, e6 = results[("ours", 1_000_000)]
        fast = t6 < 0.5
        print(f"\nours at 10^6 points: {t6:.3f} s (< 0.5 s: {fast}), error {e6:.4f} % of peak")
        if ("sklearn KernelDensity", 100_000) in results:
            ts, _ = results[("sklearn KernelDensity", 100_000)]
            to, eo = results[("ours", 100_000)]
            beat = ts / to >= 100 and eo < 0.1
            print(
                f"ours vs scikit-learn at 10^5: {ts / to:,.0f}x faster, error {eo:.4f} % "
                f"(>= 100x and < 0.1 %: {beat})"
            )
        else:
            beat = False
            print("scikit-learn at 10^5 was skipped: no comparison")
        ok = fast and beat
    if args.binning:
        binning_table(snap, grid, rng)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
