"""Rebuild ``boundaries/eastleigh.gpkg`` from the source GeoJSON files.

Run ``python scripts/build_boundaries.py`` from the repository root. Every layer is
repaired with ``make_valid`` (keeping polygonal parts only), projected to British
National Grid (EPSG:27700) and given the columns ``code`` and ``name``.
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import pandas as pd
import shapely

ROOT = Path(__file__).resolve().parents[1]
SRC = ROOT / "boundaries" / "source"
OUT = ROOT / "boundaries" / "eastleigh.gpkg"
BNG = "EPSG:27700"


def _polygonal(geom):
    fixed = shapely.make_valid(geom, method="structure", keep_collapsed=False)
    parts = [
        g
        for g in shapely.get_parts(fixed)
        if g.geom_type in ("Polygon", "MultiPolygon") and not g.is_empty
    ]
    return shapely.union_all(parts)


def _read(name: str, code: str, label: str) -> gpd.GeoDataFrame:
    gdf = gpd.read_file(SRC / name)
    gdf = gdf.rename(columns={code: "code", label: "name"})[["code", "name", "geometry"]]
    gdf["geometry"] = [_polygonal(g) for g in gdf.geometry]
    return gdf.to_crs(BNG).sort_values("code").reset_index(drop=True)


def build() -> dict[str, gpd.GeoDataFrame]:
    """Build every layer and write the GeoPackage; return the layers."""
    table = pd.read_csv(ROOT / "boundaries" / "ward_local_area.csv", dtype=str)
    wards18 = _read("eastleigh_wards_2018_wd22.geojson", "WD22CD", "WD22NM")
    wards02 = _read("eastleigh_wards_2002_2018_wd13.geojson", "WD13CD", "WD13NM")
    for gdf, ward_set in ((wards18, "2018"), (wards02, "2002")):
        lookup = table[table.ward_set == ward_set].set_index("ward_code")["local_area"]
        gdf["local_area"] = gdf["code"].map(lookup)
        missing = gdf.loc[gdf.local_area.isna(), "code"].tolist()
        if missing:
            raise SystemExit(
                f"ward_local_area.csv has no local area for {ward_set} wards {missing}"
            )
    lsoa = _read("eastleigh_lsoa_2011.geojson", "LSOA11CD", "LSOA11NM")
    lsoa21 = _read("eastleigh_lsoa_2021_new_codes.geojson", "LSOA21CD", "LSOA21NM")
    msoa = _read("eastleigh_msoa_2011.geojson", "MSOA11CD", "MSOA11NM")
    oa = gpd.read_file(SRC / "eastleigh_oa_2011.geojson").rename(columns={"OA11CD": "code"})
    oa["geometry"] = [_polygonal(g) for g in oa.geometry]
    oa = oa[["code", "geometry"]].to_crs(BNG).sort_values("code").reset_index(drop=True)
    pts = gpd.GeoDataFrame(oa[["code"]], geometry=oa.representative_point(), crs=BNG)
    oa["lsoa_code"] = gpd.sjoin(
        pts,
        lsoa[["code", "geometry"]].rename(columns={"code": "l"}),
        predicate="within",
        how="left",
    )["l"].to_numpy()
    oa["name"] = oa["code"]
    # Each output area belongs to the ward holding its interior point (or, where the
    # generalised polygons miss it, the ward it overlaps most). Populations and incident
    # counts both use this, so numerators and denominators cover the same ground.
    for col, wards in (("ward_code", wards18), ("ward2002_code", wards02)):
        hit = gpd.sjoin(
            pts,
            wards[["code", "geometry"]].rename(columns={"code": "w"}),
            predicate="within",
            how="left",
        )
        hit = hit[~hit.index.duplicated()]["w"]
        for i in hit.index[hit.isna()]:
            hit[i] = wards["code"].iloc[
                int(wards.geometry.intersection(oa.geometry[i]).area.argmax())
            ]
        oa[col] = hit.to_numpy()
    lsoa["msoa_code"] = lsoa["name"].str[:-1].str.strip().map(msoa.set_index("name")["code"])

    borough = gpd.GeoDataFrame(
        {"code": ["E07000086"], "name": ["Eastleigh"]},
        geometry=[shapely.union_all(wards18.geometry.to_numpy())],
        crs=BNG,
    )
    local_areas = wards18.dissolve("local_area", as_index=False)[["local_area", "geometry"]].rename(
        columns={"local_area": "name"}
    )
    local_areas.insert(0, "code", local_areas["name"])
    layers = {
        "wards_2018": wards18,
        "wards_2002": wards02,
        "lsoa_2011": lsoa,
        "lsoa_2021_new": lsoa21,
        "msoa_2011": msoa,
        "oa_2011": oa,
        "local_areas": local_areas,
        "borough": borough,
    }
    if OUT.exists():
        OUT.unlink()
    for name, gdf in layers.items():
        gdf.to_file(OUT, layer=name, driver="GPKG")
    return layers


if __name__ == "__main__":
    built = build()
    for layer, frame in built.items():
        area = frame.geometry.area.sum() / 1e6
        print(
            f"{layer:14s} {len(frame):4d} features  {area:7.2f} km²  valid={frame.is_valid.all()}"
        )
    print(f"wrote {OUT.relative_to(ROOT)}")
