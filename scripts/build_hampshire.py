"""Build ``boundaries/hampshire.gpkg``: the 14 districts of the Hampshire force, with populations.

Run ``python scripts/build_hampshire.py [SHARED_DATA]`` from the repository root
(``SHARED_DATA`` defaults to ``../shared/data``). Every layer is repaired with
``make_valid``, projected to British National Grid (EPSG:27700) and given ``code`` and
``name``; each carries ``district`` (its district's ONS code).

Layers
------
``districts``
    The 14 districts (``code``, ``name``, ``csp_code``, ``csp_name``, ``population``).
``lsoa_2021``
    LSOA December 2021 with Census 2021 usual residents (``population``).
``lsoa_2011``
    LSOA December 2011, the codes police.uk files of 2021-22 carry, with the Census 2021
    population carried onto them (below).
``wards_2025``
    Wards May 2025 (the newest set all 14 districts have), with population (below).
``lsoa11_lsoa21``
    For each LSOA 2021, the LSOA 2011 codes it overlaps and the share of its area in each.

How populations reach LSOA 2011 and wards
-----------------------------------------
* An LSOA 2021 whose code is also an LSOA 2011 code gives that LSOA its whole population
  (1,166 of the 1,231 in Hampshire).
* Any other LSOA 2021 (a split, a merge or a redrawn one) shares its population among the
  LSOA 2011 it overlaps in proportion to its area inside each (overlaps under 1% of its
  area are ignored), so a 2011 LSOA split into two 2021 LSOAs gets their sum, and a 2021
  LSOA made of two 2011 LSOAs is divided between them by area.
* Wards: each LSOA 2021 shares its population among the 2025 wards of its district it
  overlaps, in proportion to area (overlaps under 1% ignored).
* Shares are rounded to whole residents by the largest-remainder rule within each LSOA
  2021, so every level of every district sums exactly to the district's Census 2021 total.
"""

from __future__ import annotations

import sys
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "boundaries" / "hampshire.gpkg"
BNG = "EPSG:27700"
MIN_SHARE = 0.01


def _polygonal(geom):
    fixed = shapely.make_valid(geom, method="structure", keep_collapsed=False)
    parts = [
        g
        for g in shapely.get_parts(fixed)
        if g.geom_type in ("Polygon", "MultiPolygon") and not g.is_empty
    ]
    return shapely.union_all(parts)


def _read(path: Path, code: str, name: str, district: str) -> gpd.GeoDataFrame:
    gdf = gpd.read_file(path)
    gdf = gdf.rename(columns={code: "code", name: "name", district: "district"})
    gdf = gdf[["code", "name", "district", "geometry"]].copy()
    gdf["geometry"] = [_polygonal(g) for g in gdf.geometry]
    return gdf.to_crs(BNG).sort_values("code").reset_index(drop=True)


def _largest_remainder(total: int, weights: np.ndarray) -> np.ndarray:
    raw = total * weights / weights.sum()
    out = np.floor(raw).astype(int)
    short = total - out.sum()
    out[np.argsort(-(raw - out), kind="stable")[:short]] += 1
    return out


def _overlaps(src: gpd.GeoDataFrame, dst: gpd.GeoDataFrame) -> pd.DataFrame:
    """Share of each ``src`` polygon's area inside each ``dst`` polygon of the same district.

    Shares under 1% are dropped (slivers where generalised boundaries disagree) and the
    rest re-scaled to sum to one.
    """
    tree = shapely.STRtree(dst.geometry.to_numpy())
    si, di = tree.query(src.geometry.to_numpy(), predicate="intersects")
    keep = src["district"].to_numpy()[si] == dst["district"].to_numpy()[di]
    si, di = si[keep], di[keep]
    inter = shapely.area(
        shapely.intersection(src.geometry.to_numpy()[si], dst.geometry.to_numpy()[di])
    )
    share = inter / shapely.area(src.geometry.to_numpy()[si])
    df = pd.DataFrame(
        {"src": src["code"].to_numpy()[si], "dst": dst["code"].to_numpy()[di], "share": share}
    )
    df = df[df["share"] >= MIN_SHARE]
    df["share"] = df["share"] / df.groupby("src")["share"].transform("sum")
    return df.reset_index(drop=True)


def _apportion(pop: pd.Series, links: pd.DataFrame) -> pd.Series:
    """Residents of each ``dst`` from ``src`` populations shared by ``links``."""
    parts = []
    for src, group in links.groupby("src", sort=True):
        counts = _largest_remainder(int(pop[src]), group["share"].to_numpy())
        parts.append(pd.Series(counts, index=group["dst"].to_numpy()))
    return pd.concat(parts).groupby(level=0).sum()


def build(shared: Path) -> dict[str, gpd.GeoDataFrame]:
    """Build every layer and write the GeoPackage; return the layers."""
    hants = shared / "boundaries" / "hampshire"
    csp = pd.read_csv(hants / "csp_hampshire.csv", dtype=str).set_index("LAD19CD")
    districts = gpd.read_file(hants / "lad_hampshire.geojson")
    districts = districts.rename(columns={"LADCD": "code", "LADNM": "name"})
    districts["district"] = districts["code"]
    districts["csp_code"] = districts["code"].map(csp["CSP19CD"])
    districts["csp_name"] = districts["code"].map(csp["CSP19NM"])
    districts["geometry"] = [_polygonal(g) for g in districts.geometry]
    districts = districts[["code", "name", "district", "csp_code", "csp_name", "geometry"]]
    districts = districts.to_crs(BNG).sort_values("code").reset_index(drop=True)

    lsoa21 = _read(hants / "lsoa21_hampshire.geojson", "LSOA21CD", "LSOA21NM", "LADCD_ACTIVE")
    lsoa11 = _read(hants / "lsoa11_hampshire.geojson", "LSOA11CD", "LSOA11NM", "LADCD_ACTIVE")
    wards = _read(hants / "wards_hampshire.geojson", "WD25CD", "WD25NM", "LAD25CD")
    census = pd.read_csv(
        shared / "population" / "england_wales" / "census2021_lsoa21_population.csv",
        dtype={"lsoa21_code": str},
    )
    pop21 = census.set_index("lsoa21_code")["total_usual_residents"].reindex(lsoa21["code"])
    if pop21.isna().any():
        raise SystemExit(f"no Census 2021 population for {pop21[pop21.isna()].index[:3].tolist()}")
    lsoa21["population"] = pop21.astype(int).to_numpy()

    same = lsoa21["code"].isin(set(lsoa11["code"]))
    links = _overlaps(lsoa21[~same], lsoa11)
    links = pd.concat(
        [
            links,
            pd.DataFrame(
                {"src": lsoa21.loc[same, "code"], "dst": lsoa21.loc[same, "code"], "share": 1.0}
            ),
        ]
    )
    pops = lsoa21.set_index("code")["population"]
    lsoa11["population"] = lsoa11["code"].map(_apportion(pops, links)).fillna(0).astype(int)
    wards["population"] = (
        wards["code"].map(_apportion(pops, _overlaps(lsoa21, wards))).fillna(0).astype(int)
    )
    districts["population"] = (
        districts["code"].map(lsoa21.groupby("district")["population"].sum()).astype(int)
    )
    for name, layer in (("lsoa_2011", lsoa11), ("wards_2025", wards)):
        check = layer.groupby("district")["population"].sum()
        want = districts.set_index("code")["population"]
        if not check.reindex(want.index).eq(want).all():
            raise SystemExit(f"{name}: district populations do not reconcile")
    table = links.rename(columns={"src": "lsoa21_code", "dst": "lsoa11_code"})
    layers = {"districts": districts, "lsoa_2021": lsoa21, "lsoa_2011": lsoa11, "wards_2025": wards}
    OUT.unlink(missing_ok=True)
    for name, gdf in layers.items():
        gdf.to_file(OUT, layer=name, driver="GPKG")
    gpd.GeoDataFrame(table.reset_index(drop=True)).to_file(
        OUT, layer="lsoa11_lsoa21", driver="GPKG"
    )
    return layers


if __name__ == "__main__":
    shared = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT.parent / "shared" / "data"
    built = build(shared)
    for name, gdf in built.items():
        print(f"{name}: {len(gdf)} features, population {gdf['population'].sum():,}")
    print(f"wrote {OUT} ({OUT.stat().st_size / 1e6:.1f} MB)")
