"""Streets at district scale: reading, the walking graph, reach, catchments and the map.

The shared OS Open Roads sample of Shirley and Freemantle (1,466 links, 128 km) is laid
``--copies`` x ``--copies`` times side by side (each copy its own nodes; default 4 x 4 =
23,456 links, about 2,050 km: more than a district's roads) and written as a GeoPackage.
The real police.uk points of Southampton LSOAs inside the sample (15 months of the
Hampshire archive) are copied with it. Timed, best of ``--repeat``:

* ``geo.streets.read_streets`` of the GeoPackage;
* ``analysis.network.build_walk_network``;
* ``reach_shares`` of five venues (one near the middle of each of five copies) at 800 m
  over all the incidents, and ``walk_catchment`` of one venue;
* ``render.streets.add_streets`` and the page's size; with ``--browser``, the time
  Chromium takes to open the page and draw the whole network at zoom 12, the links
  drawn, and a screenshot in /tmp.

Run: ``.venv/bin/python benchmarks/bench_streets.py [--copies 4] [--repeat 3] [--browser]``.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
import zipfile
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from analysis.network import build_walk_network, reach_shares, walk_catchment  # noqa: E402
from geo.streets import read_streets  # noqa: E402
from render.leaflet_offline import offline_map  # noqa: E402
from render.map import save_standalone_html  # noqa: E402
from render.streets import add_streets  # noqa: E402

SHARED = REPO / ".." / "shared" / "data"
SAMPLE = SHARED / "streets" / "os_open_roads_sample_southampton.geojson"
HAMPSHIRE = SHARED / "police_uk" / "hampshire" / "hampshire-street-2021-03-to-2022-05.zip"


def best(fn, repeat: int):
    times, out = [], None
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t0)
    return min(times), out


def incidents_in(hull: shapely.Geometry) -> np.ndarray:
    with zipfile.ZipFile(HAMPSHIRE) as z:
        frames = [
            pd.read_csv(z.open(n), usecols=["Longitude", "Latitude", "LSOA name"])
            for n in z.namelist()
            if n.endswith("-street.csv")
        ]
    df = pd.concat(frames).dropna(subset=["Longitude", "Latitude"])
    df = df[df["LSOA name"].fillna("").str.startswith("Southampton")]
    pts = gpd.GeoSeries(gpd.points_from_xy(df["Longitude"], df["Latitude"]), crs=4326)
    pts = pts.to_crs(27700)
    pts = pts[pts.within(hull)]
    return shapely.get_coordinates(pts.to_numpy())


def tiled(sample: gpd.GeoDataFrame, copies: int) -> tuple[gpd.GeoDataFrame, float, float]:
    x0, y0, x1, y1 = sample.total_bounds
    dx, dy = x1 - x0 + 200, y1 - y0 + 200
    parts = []
    for i in range(copies):
        for j in range(copies):
            part = sample.copy()
            part["geometry"] = part.geometry.translate(i * dx, j * dy)
            part["start_node"] = part["start_node"] + f"-{i}-{j}"
            part["end_node"] = part["end_node"] + f"-{i}-{j}"
            parts.append(part)
    return gpd.GeoDataFrame(pd.concat(parts, ignore_index=True), crs=27700), dx, dy


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--copies", type=int, default=4)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--browser", action="store_true")
    args = ap.parse_args()

    sample = read_streets(SAMPLE)
    hull = shapely.convex_hull(shapely.multipoints(shapely.get_coordinates(sample.geometry)))
    base_xy = incidents_in(hull)
    streets, dx, dy = tiled(sample, args.copies)
    n_copies = args.copies**2
    shifts = np.array([(i * dx, j * dy) for i in range(args.copies) for j in range(args.copies)])
    incidents = np.vstack([base_xy + s for s in shifts])
    mid = sample.geometry.union_all().centroid
    venues = np.array([[mid.x, mid.y]]) + shifts[: min(5, n_copies)]

    with tempfile.TemporaryDirectory() as d:
        gpkg = Path(d) / "roads.gpkg"
        out = streets.rename(columns={"start_node": "start_node", "end_node": "end_node"})
        out.to_file(gpkg, layer="road_link", driver="GPKG")
        size_mb = gpkg.stat().st_size / 2**20
        read_s, read = best(lambda: read_streets(gpkg), args.repeat)
    build_s, net = best(lambda: build_walk_network(read), args.repeat)
    reach_s, shares = best(
        lambda: reach_shares(net, venues, incidents, distance_m=800), args.repeat
    )
    catch_s, area = best(lambda: walk_catchment(net, venues[0], 800), args.repeat)

    def page():
        m = offline_map(location=[50.93, -1.40], zoom_start=12)
        add_streets(m, read)
        return save_standalone_html(m, Path("/tmp/bench_streets.html"))

    render_s, html = best(page, args.repeat)
    km = read["length_m"].sum() / 1000
    print(
        f"{len(read):,} links, {km:,.0f} km ({n_copies} copies of the sample); GeoPackage {size_mb:.1f} MiB"
    )
    print(f"{len(incidents):,} incidents, {len(venues)} venues")
    print(f"read_streets         {read_s * 1000:8.0f} ms")
    print(f"build_walk_network   {build_s * 1000:8.0f} ms")
    print(f"reach_shares 800 m   {reach_s * 1000:8.0f} ms  (5 venues)")
    print(f"walk_catchment 800 m {catch_s * 1000:8.0f} ms  ({area.area / 1e6:.2f} km2)")
    print(
        f"add_streets + save   {render_s * 1000:8.0f} ms  (page {html.stat().st_size / 2**20:.1f} MiB)"
    )
    row = shares.iloc[-1]
    print(
        f"all venues: within 800 m walking {row.walking_count:,} ({row.walking_share:.1%}), "
        f"straight line {row.straight_line_count:,} ({row.straight_line_share:.1%})"
    )
    if args.browser:
        browse(html, len(read), read)
    return 0


def browse(html: Path, links: int, streets: gpd.GeoDataFrame) -> None:
    from playwright.sync_api import sync_playwright

    from tests.browser_kit import CHROMIUM, CHROMIUM_ARGS

    lonlat = streets.to_crs(4326).total_bounds
    count = """() => {
      const name = Object.keys(window).find(k => k.startsWith('streets_layer_'));
      const grid = window[name].getLayers()[0], zoom = grid._tileZoom, ids = new Set();
      let loading = 0;
      for (const k in grid._tiles) { if (!grid._tiles[k].loaded) loading++; }
      for (const k in grid._vectorTiles) {
        if (Number(k.split(':')[2]) !== zoom) continue;
        for (const id in grid._vectorTiles[k]._features) ids.add(id);
      }
      return [ids.size, loading, Object.keys(grid._tiles).length];
    }"""
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1200, "height": 900})
        t0 = time.perf_counter()
        page.goto(html.as_uri())
        page.wait_for_function("() => Object.keys(window).some(k => k.startsWith('map_'))")
        map_name = page.evaluate("() => Object.keys(window).find(k => k.startsWith('map_'))")
        page.evaluate(
            f"() => {{ window['{map_name}'].fitBounds([[{lonlat[1]}, {lonlat[0]}], "
            f"[{lonlat[3]}, {lonlat[2]}]]); }}"
        )
        while True:
            drawn, loading, tiles = page.evaluate(count)
            if (
                loading == 0 and tiles > 0 and drawn >= 0.98 * links
            ) or time.perf_counter() - t0 > 120:
                break
            page.wait_for_timeout(200)
        opened_s = time.perf_counter() - t0
        zoom = page.evaluate(f"() => window['{map_name}'].getZoom()")
        page.wait_for_timeout(600)  # tiles fade in over 200 ms
        page.screenshot(path="/tmp/bench_streets_district.png")
        t1 = time.perf_counter()
        page.evaluate(f"() => {{ window['{map_name}'].setZoom({zoom + 4}); }}")
        page.wait_for_timeout(300)
        while page.evaluate(count)[1] > 0 and time.perf_counter() - t1 < 60:
            page.wait_for_timeout(100)
        zoom_s = time.perf_counter() - t1
        page.wait_for_timeout(600)
        page.screenshot(path="/tmp/bench_streets_district_zoomed.png")
        browser.close()
    print(
        f"Chromium: opened and drew {drawn:,} of {links:,} links at zoom {zoom} in "
        f"{opened_s:.1f} s ({tiles} tiles); zoom {zoom + 4} drawn in {zoom_s:.1f} s; "
        "screenshots /tmp/bench_streets_district.png, /tmp/bench_streets_district_zoomed.png"
    )


if __name__ == "__main__":
    raise SystemExit(main())
