"""Venue siting on the shipped real ASB, and how its cost grows with demand points.

Part 1 (figures): the shipped ASB of February-May 2017 and the venue file. Demand is
every located ASB incident, and "hotspot ASB" (those inside the hotspots the engine
finds, ``--method``), both aggregated to distinct police.uk map points. For 800 m and
1,500 m straight line it prints the reach table, the share before and after adding the
planned Hedge End venue, the best candidates by further share, and the MCLP choice
(running venues forced open) with its solve time.

Part 2 (scaling): ``reach_table``, ``rank_candidates`` and ``maximal_covering`` (p_new=1
and 3) on 10^3, 10^4 and 10^5 synthetic distinct demand points spread over the borough's
bounding box, against the real 173 candidate sites, best of ``--repeat`` runs. Imports
are excluded; the first CBC solve in a process is not.

Run: ``.venv/bin/python benchmarks/bench_siting.py [--method dbscan] [--repeat 3]``.
"""

from __future__ import annotations

import argparse
import time
import warnings

import geopandas as gpd
import numpy as np
import pandas as pd

from analysis.siting import (
    candidate_sites,
    hotspot_demand,
    maximal_covering,
    rank_candidates,
    reach_table,
    venue_change_effect,
)
from geo.crs import BNG
from geo.io import load_incidents
from geo.paths import (
    GAZETTEER_PATH,
    SCHOOLS_PATH,
    STATIONS_PATH,
    VENUES_PATH,
    shipped_incident_paths,
)
from geo.places import load_gazetteer, load_schools, load_stations, load_venues
from geo.schema import ASB
from tests.areas import EASTLEIGH

RADII_M = (800.0, 1500.0)


def _best(fn, repeat: int) -> tuple[float, object]:
    best, out = float("inf"), None
    for _ in range(repeat):
        t = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t)
    return best, out


def figures(method: str) -> None:
    from analysis.hotspots import detect_hotspots

    inc = load_incidents(shipped_incident_paths(), EASTLEIGH).incidents
    asb = inc[(inc["crime_type"] == ASB) & inc["month"].between("2017-02", "2017-05")]
    venues = load_venues(VENUES_PATH)
    running = venues[venues["status"] == "running"]
    planned = venues.loc[venues["status"] == "planned", "name"].tolist()
    cands = candidate_sites(
        schools=load_schools(SCHOOLS_PATH),
        stations=load_stations(STATIONS_PATH),
        gazetteer=load_gazetteer(GAZETTEER_PATH),
        venues=venues,
    )
    hs = detect_hotspots(asb, EASTLEIGH, method=method)
    print(f"ASB 2017-02..2017-05: {len(asb)} rows, {int(asb['has_location'].sum())} located")
    print(f"hotspots ({method}): {len(hs.hotspots)}, params {hs.params}")
    print(f"candidates: {len(cands)} ({cands['kind'].value_counts().to_dict()})")
    demands = {
        "all located ASB": hotspot_demand(asb),
        f"hotspot ASB ({method})": hotspot_demand(asb, hs.hotspots),
    }
    for label, demand in demands.items():
        print(f"\n=== {label}: {int(demand['weight'].sum())} incidents at {len(demand)} points")
        for r in RADII_M:
            print(f"\n-- radius {r:,.0f} m straight line")
            t = reach_table(venues, demand, radius_m=r)
            print(t.to_string(index=False, formatters={"share": "{:.1%}".format}))
            e = venue_change_effect(venues, demand, radius_m=r, add=planned)
            print(
                f"adding {planned[0]}: {e['share_before']:.1%} -> {e['share_after']:.1%} "
                f"({e['difference']:+.1%}; {e['count_before']:.0f} -> {e['count_after']:.0f} "
                f"of {e['total']:.0f})"
            )
            rk = rank_candidates(running, cands, demand, radius_m=r)
            cols = ["rank", "name", "kind", "gain_count", "gain_share", "share_after"]
            print(rk[cols].head(5).to_string(index=False))
            hed = rk[rk["kind"] == "planned venue"]
            print(f"planned venue ranks {int(hed['rank'].iloc[0])} of {len(rk)}")
            for p in (1, 2):
                secs, res = _best(
                    lambda p=p, r=r, d=demand: maximal_covering(
                        running, cands, d, radius_m=r, p_new=p
                    ),
                    1,
                )
                print(
                    f"MCLP p_new={p}: {list(res.chosen['name'])}: {res.share_before:.1%} -> "
                    f"{res.share_after:.1%} [{res.status}] {secs:.2f} s"
                )


def scaling(repeat: int) -> None:
    rng = np.random.default_rng(0)
    venues = load_venues(VENUES_PATH)
    running = venues[venues["status"] == "running"]
    cands = candidate_sites(
        schools=load_schools(SCHOOLS_PATH),
        stations=load_stations(STATIONS_PATH),
        gazetteer=load_gazetteer(GAZETTEER_PATH),
    )
    x0, y0, x1, y1 = 441_000, 106_000, 453_000, 123_000  # the borough's box, metres
    rows = []
    for n in (1_000, 10_000, 100_000):
        pts = gpd.GeoDataFrame(
            {"weight": rng.integers(1, 6, n)},
            geometry=gpd.points_from_xy(rng.uniform(x0, x1, n), rng.uniform(y0, y1, n)),
            crs=BNG,
        )
        row = {"points": n, "candidates": len(cands)}
        row["reach_s"], _ = _best(lambda d=pts: reach_table(venues, d, radius_m=800.0), repeat)
        row["rank_s"], _ = _best(
            lambda d=pts: rank_candidates(running, cands, d, radius_m=800.0, n_new=3), repeat
        )
        for p in (1, 3):
            row[f"mclp{p}_s"], res = _best(
                lambda d=pts, p=p: maximal_covering(running, cands, d, radius_m=800.0, p_new=p),
                repeat,
            )
            row[f"mclp{p}_status"] = res.status
        rows.append(row)
    print("\n=== scaling (radius 800 m)")
    print(pd.DataFrame(rows).to_string(index=False, float_format="{:.3f}".format))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--method", default="dbscan", choices=["kde", "dbscan", "gistar"])
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--skip-scaling", action="store_true")
    args = ap.parse_args()
    warnings.simplefilter("ignore", DeprecationWarning)
    pd.set_option("display.width", 200)
    figures(args.method)
    if not args.skip_scaling:
        scaling(args.repeat)


if __name__ == "__main__":
    main()
