"""Benchmark of the Parquet store (geo.store) against plain pandas and geopandas.

Not a test. Run once, niced::

    PYTHONPATH=$PWD nice -n 10 python benchmarks/bench_store.py --work /tmp/bench_store

Stages (each in its own process, so its peak memory is its own):

1. ingest of the two national months (police-uk-street-2021-06.zip, 2022-03.zip) beside
   ``pandas.read_csv`` of the same archive members (all columns as text);
2. a SYNTHETIC national volume: the two national months relabelled to 60 months
   (2017-04 .. 2022-03, alternating the two sources; about 23 million rows; the rows are
   real, their month is not), written as plain CSVs, then ingested;
3. national counts by CSP x month x type over the 60 months (one query) beside pandas
   ``read_csv`` + ``groupby`` of the same CSVs, and the point-in-polygon fallback for rows
   without an LSOA code beside ``geopandas.sjoin``;
4. one district's five years (Newcastle upon Tyne, E08000021) out as a GeoDataFrame beside
   pandas ``read_csv`` + filter of the same CSVs.

Prints a Markdown table (also written to ``<work>/bench_store.md``).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import time
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
NATIONAL = Path("/work/shared/data/police_uk/national")
ZIPS = [NATIONAL / "police-uk-street-2021-06.zip", NATIONAL / "police-uk-street-2022-03.zip"]
DISTRICT = "E08000021"


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def du(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def months(n: int) -> list[str]:
    out, y, m = [], 2022, 3
    for _ in range(n):
        out.append(f"{y:04d}-{m:02d}")
        m -= 1
        if m == 0:
            y, m = y - 1, 12
    return out[::-1]


# --- stages (run in child processes) -----------------------------------------------------


def stage_ingest(
    work: Path,  # noqa: ARG001 - every stage takes the work folder
    paths: list[str],
    store: str,
) -> dict:
    from app_views.serve import keep_freed_memory
    from geo.store_counts import refresh_counts
    from geo.store_ingest import ingest

    keep_freed_memory()  # as `hotspots ingest` does
    shutil.rmtree(store, ignore_errors=True)
    t = time.perf_counter()
    r = ingest(paths, store, progress=False)
    rows_s = time.perf_counter() - t
    refresh_counts(store)  # as `hotspots ingest` does
    s = time.perf_counter() - t
    return {
        "seconds": s,
        "seconds_rows": rows_s,
        "rows": r.rows_read,
        "accepted": r.accepted,
        "rejected": r.rejected,
        "partitions": r.partitions_written,
        "store_bytes": du(Path(store)),
        "peak_mb": peak_mb(),
    }


def stage_pandas_zip(work: Path) -> dict:  # noqa: ARG001
    import pandas as pd

    t = time.perf_counter()
    rows = 0
    for z in ZIPS:
        with zipfile.ZipFile(z) as zf:
            for info in zf.infolist():
                if info.filename.endswith("-street.csv"):
                    with zf.open(info) as fh:
                        rows += len(pd.read_csv(fh, dtype=str, keep_default_na=False))
    return {"seconds": time.perf_counter() - t, "rows": rows, "peak_mb": peak_mb()}


def stage_make_synthetic(work: Path, n: int) -> dict:
    out = work / "synthetic"
    shutil.rmtree(out, ignore_errors=True)
    t = time.perf_counter()
    members = []
    for z in ZIPS:
        with zipfile.ZipFile(z) as zf:
            src_month = z.stem.removeprefix("police-uk-street-")
            members.append(
                [
                    (i.filename.split("/")[-1], src_month, zf.read(i))
                    for i in zf.infolist()
                    if i.filename.endswith("-street.csv")
                ]
            )
    rows = 0
    for k, month in enumerate(months(n)):
        folder = out / month
        folder.mkdir(parents=True)
        for name, src_month, data in members[k % 2]:
            body = data.replace(f",{src_month},".encode(), f",{month},".encode())
            (folder / name.replace(src_month, month)).write_bytes(body)
            rows += body.count(b"\n") - 1
    return {
        "seconds": time.perf_counter() - t,
        "rows": rows,
        "bytes": du(out),
        "peak_mb": peak_mb(),
    }


def stage_national(work: Path, store: str) -> dict:
    from geo.store_query import area_lookup, national_counts

    t = time.perf_counter()
    area_lookup("csp")
    lookup_s = time.perf_counter() - t
    t = time.perf_counter()
    c = national_counts(store, "csp", by=("month", "crime_type"))
    first = time.perf_counter() - t
    t = time.perf_counter()
    c = national_counts(store, "csp", by=("month", "crime_type"))
    second = time.perf_counter() - t
    c.to_csv(work / "national_counts_store.csv", index=False)
    return {
        "seconds": first,
        "seconds_warm": second,
        "lookup_seconds": lookup_s,
        "groups": len(c),
        "rows": int(c["count"].sum()),
        "unplaced": int(c.loc[c["code"] == "", "count"].sum()),
        "peak_mb": peak_mb(),
    }


def stage_pandas_national(work: Path) -> dict:
    import pandas as pd

    from geo.store_query import area_lookup

    lk = area_lookup("csp")[["lsoa_code", "code"]]
    files = sorted((work / "synthetic").rglob("*-street.csv"))
    t = time.perf_counter()
    parts = []
    uncoded = []
    rows = 0
    for f in files:
        df = pd.read_csv(
            f,
            usecols=["Month", "Longitude", "Latitude", "LSOA code", "Crime type"],
            dtype=str,
            keep_default_na=False,
        )
        rows += len(df)
        ok = (df["Longitude"] != "") | (df["LSOA code"] != "")
        df = df[ok]
        uncoded.append(
            df.loc[df["LSOA code"] == "", ["Month", "Crime type", "Longitude", "Latitude"]]
        )
        parts.append(df.groupby(["LSOA code", "Month", "Crime type"]).size())
    agg = pd.concat(parts).groupby(level=[0, 1, 2]).sum().rename("n").reset_index()
    agg = agg.merge(lk, left_on="LSOA code", right_on="lsoa_code", how="left")
    out = agg.groupby(["code", "Month", "Crime type"])["n"].sum()
    groupby_s = time.perf_counter() - t
    pts = pd.concat(uncoded, ignore_index=True)
    pts = pts[pts["Longitude"] != ""]
    return {
        "seconds": groupby_s,
        "rows": rows,
        "groups": len(out),
        "uncoded_points": len(pts),
        "peak_mb": peak_mb(),
        "_pts": pts[["Longitude", "Latitude"]].astype(float).to_numpy().tolist(),
    }


def stage_sjoin(work: Path) -> dict:
    import geopandas as gpd
    import numpy as np

    from geo.store_query import NationalFiles

    pts = np.load(work / "uncoded.npy")
    t = time.perf_counter()
    lsoa = gpd.read_parquet(NationalFiles.default().lsoa11, columns=["LSOA11CD", "geometry"])
    g = gpd.GeoDataFrame(geometry=gpd.points_from_xy(pts[:, 0], pts[:, 1]), crs="EPSG:4326")
    j = gpd.sjoin(g, lsoa, predicate="within", how="left")
    return {
        "seconds": time.perf_counter() - t,
        "points": len(pts),
        "placed": int(j["LSOA11CD"].notna().sum()),
        "peak_mb": peak_mb(),
    }


def stage_duck_pip(work: Path) -> dict:
    import duckdb  # noqa: F401
    import numpy as np
    import pandas as pd

    from geo.store import connect
    from geo.store_query import NationalFiles

    pts = np.load(work / "uncoded.npy")
    t = time.perf_counter()
    con = connect(spatial=True)
    con.register("p_df", pd.DataFrame({"lon": pts[:, 0], "lat": pts[:, 1]}))
    n = con.execute(
        f"""WITH p AS (SELECT DISTINCT lon, lat FROM p_df),
            l AS (SELECT LSOA11CD, geometry AS geom
                  FROM read_parquet('{NationalFiles.default().lsoa11}'))
            SELECT count(*) FROM p JOIN l ON ST_Contains(l.geom, ST_Point(p.lon, p.lat))"""
    ).fetchone()[0]
    return {
        "seconds": time.perf_counter() - t,
        "points": len(pts),
        "placed_distinct": int(n),
        "peak_mb": peak_mb(),
    }


def stage_district(work: Path, store: str) -> dict:  # noqa: ARG001
    import geopandas as gpd

    from geo.store_query import NationalFiles, area_lookup, store_incidents

    lk = area_lookup("district")
    codes = set(lk.loc[lk["code"] == DISTRICT, "lsoa_code"])
    lsoas = gpd.read_parquet(
        NationalFiles.default().lsoa11, columns=["LSOA11CD", "LSOA11NM", "geometry"]
    )
    lsoas = lsoas[lsoas["LSOA11CD"].isin(codes)].rename(
        columns={"LSOA11CD": "code", "LSOA11NM": "name"}
    )
    t = time.perf_counter()
    g = store_incidents(store, codes, lsoas=lsoas)
    first = time.perf_counter() - t
    t = time.perf_counter()
    g = store_incidents(store, codes, lsoas=lsoas)
    second = time.perf_counter() - t
    return {
        "seconds": first,
        "seconds_warm": second,
        "rows": len(g),
        "months": int(g["month"].nunique()),
        "lsoas": len(codes),
        "peak_mb": peak_mb(),
    }


def stage_pandas_district(work: Path) -> dict:
    import geopandas as gpd
    import pandas as pd

    from geo.store_query import area_lookup

    lk = area_lookup("district")
    codes = set(lk.loc[lk["code"] == DISTRICT, "lsoa_code"])
    files = sorted((work / "synthetic").rglob("*-street.csv"))
    t = time.perf_counter()
    parts = []
    for f in files:
        df = pd.read_csv(f, dtype=str, keep_default_na=False)
        parts.append(df[df["LSOA code"].isin(codes)])
    df = pd.concat(parts, ignore_index=True)
    lon = pd.to_numeric(df["Longitude"], errors="coerce")
    lat = pd.to_numeric(df["Latitude"], errors="coerce")
    g = gpd.GeoDataFrame(df, geometry=gpd.points_from_xy(lon, lat), crs="EPSG:4326")
    g = g.to_crs("EPSG:27700")
    return {"seconds": time.perf_counter() - t, "rows": len(g), "peak_mb": peak_mb()}


STAGES = {
    "ingest": stage_ingest,
    "pandas_zip": stage_pandas_zip,
    "make_synthetic": stage_make_synthetic,
    "national": stage_national,
    "pandas_national": stage_pandas_national,
    "sjoin": stage_sjoin,
    "duck_pip": stage_duck_pip,
    "district": stage_district,
    "pandas_district": stage_pandas_district,
}


def run(stage: str, work: Path, *args: str) -> dict:
    """Run a stage in a child process (its peak memory is its own)."""
    cmd = [sys.executable, __file__, "--stage", stage, "--work", str(work), *args]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    t = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, check=False)
    if proc.returncode:
        sys.stderr.write(proc.stderr)
        raise SystemExit(f"stage {stage} failed")
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    out["wall"] = time.perf_counter() - t
    print(
        f"  {stage}: { ({k: v for k, v in out.items() if not k.startswith('_')}) }",
        file=sys.stderr,
        flush=True,
    )
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--work", default="/tmp/bench_store")
    ap.add_argument("--months", type=int, default=60)
    ap.add_argument("--stage")
    ap.add_argument("args", nargs="*")
    a = ap.parse_args()
    work = Path(a.work)
    work.mkdir(parents=True, exist_ok=True)
    if a.stage:
        fn = STAGES[a.stage]
        if a.stage == "ingest":
            res = fn(work, a.args[1:], a.args[0])
        elif a.stage == "make_synthetic":
            res = fn(work, a.months)
        elif a.stage in ("national", "district"):
            res = fn(work, a.args[0])
        else:
            res = fn(work)
        if "_pts" in res:
            import numpy as np

            np.save(work / "uncoded.npy", np.asarray(res.pop("_pts"), dtype=float).reshape(-1, 2))
        print(json.dumps(res))
        return

    store2, store60 = work / "store_two_months", work / "store_60_months"
    r = {}
    print(f"load average at start: {os.getloadavg()}", file=sys.stderr)
    r["ingest2"] = run("ingest", work, str(store2), *map(str, ZIPS))
    r["pandas2"] = run("pandas_zip", work)
    r["synth"] = run("make_synthetic", work, "--months", str(a.months))
    r["ingest60"] = run("ingest", work, str(store60), str(work / "synthetic"))
    r["national"] = run("national", work, str(store60))
    r["pandas_national"] = run("pandas_national", work)
    r["sjoin"] = run("sjoin", work)
    r["duck_pip"] = run("duck_pip", work)
    r["district"] = run("district", work, str(store60))
    r["pandas_district"] = run("pandas_district", work)
    print(f"load average at end: {os.getloadavg()}", file=sys.stderr)
    (work / "bench_store.json").write_text(json.dumps(r, indent=1))
    print(table(r, a.months))


def table(r: dict, n: int) -> str:
    def rate(x: dict) -> str:
        return (
            f"{x['rows'] / x['seconds']:,.0f} rows/s with the count table "
            f"({x['rows'] / x['seconds_rows']:,.0f} rows/s for the rows alone)"
        )

    i2, i60 = r["ingest2"], r["ingest60"]
    lines = [
        f"SYNTHETIC volume: the two national months relabelled to {n} months, "
        f"{r['synth']['rows']:,} rows ({r['synth']['bytes'] / 2**30:.1f} GiB of CSV); "
        "the rows are real police.uk rows, their months are not.",
        "",
        "| task | store (DuckDB) | plain pandas/geopandas | store ÷ pandas time | target |",
        "|---|---|---|---|---|",
        f"| ingest 2 national months ({i2['rows']:,} rows) | {i2['seconds']:.1f} s, {rate(i2)}, "
        f"store {i2['store_bytes'] / 2**20:.0f} MiB, peak {i2['peak_mb']:,.0f} MB | "
        f"read_csv of the same members {r['pandas2']['seconds']:.1f} s ({r['pandas2']['rows'] / r['pandas2']['seconds']:,.0f} rows/s), "
        f"peak {r['pandas2']['peak_mb']:,.0f} MB | {i2['seconds'] / r['pandas2']['seconds']:.2f} "
        "| ≥ 250,000 rows/s |",
        f"| ingest {n} months ({i60['rows']:,} rows) | {i60['seconds']:.0f} s, {rate(i60)}, "
        f"store {i60['store_bytes'] / 2**30:.2f} GiB, peak {i60['peak_mb']:,.0f} MB | "
        f"read_csv + groupby of the same CSVs (5 columns) {r['pandas_national']['seconds']:.0f} s"
        f", peak {r['pandas_national']['peak_mb']:,.0f} MB | "
        f"{i60['seconds'] / r['pandas_national']['seconds']:.2f} | ≥ 250,000 rows/s; "
        "< 2 GB |",
        f"| national counts CSP × month × type, {n} months ({r['national']['groups']:,} groups) "
        f"| {r['national']['seconds']:.2f} s cold, {r['national']['seconds_warm']:.2f} s warm "
        f"(+ {r['national']['lookup_seconds']:.1f} s once to build the LSOA lookup), peak "
        f"{r['national']['peak_mb']:,.0f} MB | read_csv + groupby "
        f"{r['pandas_national']['seconds']:.0f} s | "
        f"{r['national']['seconds'] / r['pandas_national']['seconds']:.3f} | < 2 s |",
        f"| point-in-polygon of rows without a code ({r['sjoin']['points']:,} points) | "
        f"DuckDB spatial, distinct points: {r['duck_pip']['seconds']:.1f} s | geopandas.sjoin "
        f"{r['sjoin']['seconds']:.1f} s | {r['duck_pip']['seconds'] / r['sjoin']['seconds']:.2f} "
        "| |",
        f"| one district's {n} months out (E08000021, {r['district']['rows']:,} rows, "
        f"GeoDataFrame EPSG:27700) | {r['district']['seconds']:.2f} s cold, "
        f"{r['district']['seconds_warm']:.2f} s warm | read_csv + filter + GeoDataFrame "
        f"{r['pandas_district']['seconds']:.0f} s | "
        f"{r['district']['seconds'] / r['pandas_district']['seconds']:.3f} | < 1 s |",
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    main()
