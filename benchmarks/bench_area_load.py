"""Load the shipped 15 Hampshire months and cut them to one area, against plain pandas.

Run ``python benchmarks/bench_area_load.py`` (not a test). For each area, in the same run:

* ours: :func:`geo.io.load_incidents` on the shipped archive (read every row of every
  month, validate it, keep one copy of each force-month, keep the area's rows by LSOA
  code, project, join wards and LSOA 2021);
* plain: ``pandas.read_csv`` of every month in the archive, ``points_from_xy`` +
  ``to_crs`` and ``geopandas.sjoin`` of the located rows to the area's LSOA 2011
  polygons (no validation, no account of rows, no ward join).

Both keep about the same rows; the ratio is ours / plain (median of three runs).
"""

from __future__ import annotations

import statistics
import time
import zipfile

import geopandas as gpd
import pandas as pd

from geo.io import load_incidents
from geo.paths import shipped_incident_paths
from geo.study_area import load_study_area

AREAS = ("E07000086", "E06000045", "North Hampshire")


def plain(archive, lsoas: gpd.GeoDataFrame) -> int:
    frames = []
    with zipfile.ZipFile(archive) as z:
        for name in z.namelist():
            if name.endswith(".csv"):
                frames.append(pd.read_csv(z.open(name)))
    df = pd.concat(frames, ignore_index=True).dropna(subset=["Longitude", "Latitude"])
    pts = gpd.GeoDataFrame(
        df, geometry=gpd.points_from_xy(df["Longitude"], df["Latitude"]), crs="EPSG:4326"
    ).to_crs("EPSG:27700")
    return len(gpd.sjoin(pts, lsoas[["code", "geometry"]], predicate="within"))


def timed(fn) -> tuple[float, object]:
    runs, out = [], None
    for _ in range(3):
        t = time.perf_counter()
        out = fn()
        runs.append(time.perf_counter() - t)
    return statistics.median(runs), out


def main() -> None:
    archive = shipped_incident_paths("hampshire")[0]
    print("| area | ours (s) | rows kept | plain pandas + sjoin (s) | rows kept | ratio |")
    print("|---|---|---|---|---|---|")
    for code in AREAS:
        area = load_study_area(code)
        t_ours, res = timed(lambda a=area: load_incidents([archive], a))
        t_plain, n = timed(lambda a=area: plain(archive, a.lsoas))
        print(
            f"| {area.name} | {t_ours:.2f} | {res.accepted:,} | {t_plain:.2f} | {n:,} | "
            f"{t_ours / t_plain:.2f} |"
        )


if __name__ == "__main__":
    main()
