"""DBSCAN on police.uk-like snapped points: distinct points weighted by rows vs every row.

Rows are drawn from the real distinct snap points of the shipped police.uk files (all
five districts in them, all months), each point chosen with probability proportional
to the number of real rows on it, so multiplicities look like police.uk's. Each method
runs in its own child process; its peak resident memory comes from ``os.wait4`` (the
child's own ``ru_maxrss``), its time from a clock around the clustering call only.

    python benchmarks/bench_dbscan.py                       # 1e5 and 1e6 rows, both methods
    python benchmarks/bench_dbscan.py --skip-sklearn-large  # no scikit-learn at 1e6 (9 GB)
    python benchmarks/bench_dbscan.py --quick               # 1e4 and 1e5 rows, < 30 s

Labels are checked equal (after renumbering by cluster size) wherever both methods ran.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "data" / "police_uk" / "eastleigh_area"
EPS_M = 50.0
MIN_SAMPLES = 10
SEED = 0


def snap_points() -> tuple[np.ndarray, np.ndarray]:
    """Distinct BNG snap points of every row in the shipped files, with their row counts."""
    import pandas as pd
    from pyproj import Transformer

    frames = [
        pd.read_csv(p, usecols=["Longitude", "Latitude"], dtype=str, keep_default_na=False)
        for p in sorted(DATA.glob("*.csv"))
    ]
    df = pd.concat(frames, ignore_index=True)
    df = df[(df["Longitude"] != "") & (df["Latitude"] != "")]
    to_bng = Transformer.from_crs("EPSG:4326", "EPSG:27700", always_xy=True)
    x, y = to_bng.transform(
        df["Longitude"].astype(float).to_numpy(), df["Latitude"].astype(float).to_numpy()
    )
    points, counts = np.unique(np.column_stack([x, y]), axis=0, return_counts=True)
    return points, counts


def draw_rows(points: np.ndarray, counts: np.ndarray, n: int) -> np.ndarray:
    rng = np.random.default_rng(SEED + n)
    return points[rng.choice(len(points), size=n, p=counts / counts.sum())]


def child(method: str, n: int, snaps: str, out: str) -> None:
    """Run one method on n rows; print JSON with the time and the pre-run peak RSS."""
    data = np.load(snaps)
    xy = draw_rows(data["points"], data["counts"], n)
    if method == "ours":
        from analysis.clusters import dbscan_labels

        def run() -> np.ndarray:
            return dbscan_labels(xy, eps_m=EPS_M, min_samples=MIN_SAMPLES)
    else:
        from sklearn.cluster import DBSCAN

        from analysis.clusters import relabel_by_size

        def run() -> np.ndarray:
            return relabel_by_size(DBSCAN(eps=EPS_M, min_samples=MIN_SAMPLES).fit_predict(xy))

    before_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    t0 = time.perf_counter()
    labels = run()
    seconds = time.perf_counter() - t0
    np.save(out, labels)
    distinct = len(np.unique(xy, axis=0))
    print(json.dumps({"seconds": seconds, "before_mb": before_kb / 1024, "distinct": distinct,
                      "clusters": int(labels.max() + 1)}))  # fmt: skip


def run_child(method: str, n: int, snaps: Path, out: Path) -> dict:
    cmd = [sys.executable, __file__, "--child", method, str(n), str(snaps), str(out)]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    _, status, usage = os.wait4(proc.pid, 0)
    stdout, stderr = proc.stdout.read(), proc.stderr.read()
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"{method} at {n:,} rows failed:\n{stderr}")
    result = json.loads(stdout.strip().splitlines()[-1])
    result["peak_mb"] = usage.ru_maxrss / 1024  # Linux: kilobytes
    return result


def main() -> int:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--quick", action="store_true", help="1e4 and 1e5 rows only (< 30 s)")
    ap.add_argument("--skip-sklearn-large", action="store_true", help="no scikit-learn at 1e6 rows")
    ap.add_argument("--child", nargs=4, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        method, n, snaps, out = args.child
        child(method, int(n), snaps, out)
        return 0

    sizes = [10_000, 100_000] if args.quick else [100_000, 1_000_000]
    points, counts = snap_points()
    print(f"{len(points):,} distinct snap points carrying {counts.sum():,} real rows "
          f"(rows per point: median {np.median(counts):.0f}, max {counts.max()}); "
          f"eps_m={EPS_M:.0f}, min_samples={MIN_SAMPLES}")  # fmt: skip
    header = (f"{'rows':>9} {'distinct':>8} {'method':>8} {'time s':>8} {'peak MB':>8} "
              f"{'base MB':>8} {'clusters':>8} {'same':>5} {'x time':>7} {'x mem':>6}")  # fmt: skip
    print(header)
    print("-" * len(header))
    ok = True
    with tempfile.TemporaryDirectory() as tmp:
        snaps = Path(tmp) / "snaps.npz"
        np.savez(snaps, points=points, counts=counts)
        for n in sizes:
            ours = run_child("ours", n, snaps, Path(tmp) / "ours.npy")
            skip = args.skip_sklearn_large and n >= 1_000_000
            ref = None if skip else run_child("sklearn", n, snaps, Path(tmp) / "sklearn.npy")
            same = "-" if ref is None else str(
                np.array_equal(np.load(Path(tmp) / "ours.npy"), np.load(Path(tmp) / "sklearn.npy"))
            ).lower()  # fmt: skip
            for name, r in (("ours", ours), ("sklearn", ref)):
                if r is None:
                    print(
                        f"{n:>9,} {ours['distinct']:>8,} {'sklearn':>8} {'skipped (--skip-sklearn-large)':>40}"
                    )
                    continue
                ratio_t = ratio_m = ""
                if name == "sklearn":
                    ratio_t = f"{r['seconds'] / ours['seconds']:.0f}x"
                    ratio_m = f"{r['peak_mb'] / ours['peak_mb']:.1f}x"
                print(f"{n:>9,} {r['distinct']:>8,} {name:>8} {r['seconds']:>8.3f} {r['peak_mb']:>8.0f} "
                      f"{r['before_mb']:>8.0f} {r['clusters']:>8} {same:>5} {ratio_t:>7} {ratio_m:>6}")  # fmt: skip
            if same == "false":
                ok = False
            if n == 1_000_000:
                fast, small = ours["seconds"] < 5, ours["peak_mb"] < 1024
                print(f"ours at 1e6 rows: {ours['seconds']:.2f} s (< 5 s: {fast}), "
                      f"peak {ours['peak_mb']:.0f} MB (< 1 GB: {small})")  # fmt: skip
                ok = ok and fast and small
    print("peak MB: the child's peak resident memory (os.wait4 ru_maxrss); base MB: its peak "
          "after imports and drawing the rows, before clustering; x: sklearn / ours.")  # fmt: skip
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
