"""Rebuild ``data/population/population_by_area.csv`` and ``lsoa11_to_wards.csv``.

Method (output-area apportionment, documented in ``data/population/README.md``):

1. Census 2021 usual residents are published per LSOA 2021. Each 2011 output area
   (OA) is placed in the LSOA 2021 that holds its interior point (the nine new 2021
   LSOAs split four 2011 LSOAs; the other 73 codes are unchanged).
2. Each LSOA 2021's residents are shared equally among its output areas. Output areas
   are drawn by ONS to hold similar numbers of households, so an equal share is a far
   better guess than giving a whole LSOA to one ward.
3. Each output area goes to the ward (2018 and 2002 sets) that holds its interior
   point; ward, local-area and LSOA 2011 populations are sums of output areas, so every
   level reconciles exactly to the borough total (136,435).

Census 2011 residents (per LSOA 2011) are apportioned the same way for comparison.
Run ``python scripts/build_populations.py`` from the repository root.
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
GPKG = ROOT / "boundaries" / "eastleigh.gpkg"
POP = ROOT / "data" / "population"


def _oa_population_2021(oa: gpd.GeoDataFrame, new21: gpd.GeoDataFrame, p21: pd.Series) -> pd.Series:
    """Share each LSOA 2021's residents among 2011 output areas.

    Unchanged LSOAs: equally among their output areas. The four 2011 LSOAs split in
    2021: each child's residents by the share of the child's area each output area
    covers (the children are mostly new-build estates, which output areas predate).
    """
    pop = pd.Series(0.0, index=oa.index)
    n_oa = oa.groupby("lsoa_code")["code"].transform("size")
    unchanged = oa["lsoa_code"].isin(p21.index)
    pop[unchanged] = oa.loc[unchanged, "lsoa_code"].map(p21) / n_oa[unchanged]
    for _, child in new21.iterrows():
        inter = oa.geometry.intersection(child.geometry).area
        share = inter / inter.sum()
        pop += share * p21[child["code"]]
    return pop


def _largest_remainder(values: np.ndarray, total: int) -> np.ndarray:
    floor = np.floor(values).astype(int)
    short = total - floor.sum()
    order = np.argsort(-(values - floor), kind="stable")
    floor[order[:short]] += 1
    return floor


def build() -> tuple[pd.DataFrame, pd.DataFrame]:
    """Apportion populations; write and return (population_by_area, lsoa11_to_wards)."""
    layers = {
        n: gpd.read_file(GPKG, layer=n)
        for n in ("oa_2011", "lsoa_2011", "lsoa_2021_new", "wards_2018", "wards_2002", "borough")
    }
    oa = layers["oa_2011"].copy()
    oa["ward"] = oa["ward_code"]
    oa["ward2002"] = oa["ward2002_code"]

    p21 = pd.read_csv(POP / "census2021_lsoa21_usual_residents_by_age_eastleigh.csv")
    p21 = p21.set_index("lsoa21_code")["total_usual_residents"]
    p11 = pd.read_csv(POP / "census2011_lsoa11_population_households_eastleigh.csv", thousands=",")
    # The PHP01 extract has three "Persons" columns: all usual residents comes first.
    p11 = p11.set_index("LSOA Code")["Persons"]
    oa["pop2021"] = _oa_population_2021(oa, layers["lsoa_2021_new"], p21)
    if round(oa["pop2021"].sum()) != int(p21.sum()):
        raise SystemExit("apportioned 2021 population does not reconcile to the LSOA totals")
    oa["pop2011"] = oa["lsoa_code"].map(p11) / oa.groupby("lsoa_code")["code"].transform("size")

    wards18 = layers["wards_2018"].set_index("code")
    wards02 = layers["wards_2002"].set_index("code")
    lsoa = layers["lsoa_2011"].set_index("code")
    oa["local_area"] = oa["ward"].map(wards18["local_area"])
    rows = []
    for level, key, names in (
        ("lsoa", "lsoa_code", lsoa["name"]),
        ("ward", "ward", wards18["name"]),
        ("ward2002", "ward2002", wards02["name"]),
    ):
        sums = oa.groupby(key)[["pop2021", "pop2011"]].sum()
        out = pd.DataFrame(
            {
                "level": level,
                "code": sums.index,
                "name": sums.index.map(names) if names is not None else sums.index,
                "population": _largest_remainder(sums["pop2021"].to_numpy(), int(p21.sum())),
                "population_2011": _largest_remainder(sums["pop2011"].to_numpy(), int(p11.sum())),
                "output_areas": oa.groupby(key).size().reindex(sums.index).to_numpy(),
            }
        )
        rows.append(out)
    # Local areas are unions of 2018 wards: sum the rounded ward figures so the two
    # levels agree to the person.
    wards = rows[1].assign(local_area=rows[1]["code"].map(wards18["local_area"]))
    la = wards.groupby("local_area")[["population", "population_2011", "output_areas"]].sum()
    rows.append(
        pd.DataFrame(
            {
                "level": "local_area",
                "code": la.index,
                "name": la.index,
                **{c: la[c].to_numpy() for c in la.columns},
            }
        )
    )
    rows.append(
        pd.DataFrame(
            {
                "level": ["borough"],
                "code": ["E07000086"],
                "name": ["Eastleigh"],
                "population": [int(p21.sum())],
                "population_2011": [int(p11.sum())],
                "output_areas": [len(oa)],
            }
        )
    )
    table = pd.concat(rows, ignore_index=True)

    share = []
    for col in ("ward", "ward2002"):
        w = oa.groupby(["lsoa_code", col])["pop2021"].sum()
        tot = w.groupby(level=0).transform("sum")
        frac = (
            (w / tot)
            .rename("share")
            .reset_index()
            .sort_values(["lsoa_code", "share"], ascending=[True, False])
        )
        best = frac.drop_duplicates("lsoa_code").set_index("lsoa_code")
        share.append(best.rename(columns={col: f"{col}_code", "share": f"{col}_share"}))
    lookup = pd.concat(share, axis=1).reset_index().rename(columns={"ward_code": "ward_code"})
    lookup["ward_share"] = lookup["ward_share"].round(3)
    lookup["ward2002_share"] = lookup["ward2002_share"].round(3)
    table.to_csv(POP / "population_by_area.csv", index=False)
    lookup.to_csv(POP / "lsoa11_to_wards.csv", index=False)
    return table, lookup


if __name__ == "__main__":
    t, lk = build()
    print(t.groupby("level")[["population", "population_2011"]].sum())
    print(t[t.level.isin(["ward", "local_area"])].to_string(index=False))
    print(f"LSOAs split between 2018 wards: {(lk.ward_share < 0.999).sum()} of {len(lk)}")
