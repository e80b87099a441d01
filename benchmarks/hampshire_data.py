"""Hampshire police.uk months and district outlines for the multi-district benchmarks.

Builds, straight from the shared files (not through :mod:`geo.study_area`, which
builds Eastleigh only), each district's incident frame and outline: the incidents of
a district are the rows whose LSOA code is one of its LSOA 2011 codes; the outline is
the district polygon projected to EPSG:27700.
"""

from __future__ import annotations

import io
import zipfile
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd

from geo.crs import BNG
from geo.io import project_lonlat

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"
ZIP_PATH = SHARED / "police_uk" / "hampshire" / "hampshire-street-2021-03-to-2022-05.zip"
LSOA_PATH = SHARED / "boundaries" / "hampshire" / "lsoa11_hampshire.geojson"
LAD_PATH = SHARED / "boundaries" / "hampshire" / "lad_hampshire.geojson"
WARDS_PATH = SHARED / "boundaries" / "hampshire" / "wards_hampshire.geojson"


@dataclass(frozen=True)
class District:
    """One district: code, name, outline (EPSG:27700), incidents and wards."""

    code: str
    name: str
    outline: object
    incidents: gpd.GeoDataFrame
    wards: gpd.GeoDataFrame


def read_rows(zip_path: Path = ZIP_PATH) -> pd.DataFrame:
    """Every row of every monthly file in the archive, as an incident-like frame."""
    frames = []
    with zipfile.ZipFile(zip_path) as zf:
        for name in sorted(n for n in zf.namelist() if n.endswith("-street.csv")):
            df = pd.read_csv(io.BytesIO(zf.read(name)), dtype=str, keep_default_na=False)
            frames.append(df)
    raw = pd.concat(frames, ignore_index=True)
    lon = pd.to_numeric(raw["Longitude"], errors="coerce").to_numpy()
    lat = pd.to_numeric(raw["Latitude"], errors="coerce").to_numpy()
    x, y = project_lonlat(lon, lat)
    out = pd.DataFrame(
        {
            "crime_id": raw["Crime ID"],
            "month": raw["Month"],
            "location": raw["Location"],
            "lsoa_code": raw["LSOA code"],
            "crime_type": raw["Crime type"],
            "x": x,
            "y": y,
        }
    )
    out["has_location"] = np.isfinite(x) & np.isfinite(y)
    out["datetime"] = pd.NaT
    return out


def load_districts(zip_path: Path = ZIP_PATH) -> list[District]:
    """The 14 Hampshire districts with their incidents, in name order."""
    rows = read_rows(zip_path)
    lsoas = gpd.read_file(LSOA_PATH)[["LSOA11CD", "LADCD_ACTIVE"]]
    lad = gpd.read_file(LAD_PATH).to_crs(BNG)
    wards = gpd.read_file(WARDS_PATH).to_crs(BNG)
    district_of = dict(zip(lsoas["LSOA11CD"], lsoas["LADCD_ACTIVE"], strict=True))
    rows["district"] = rows["lsoa_code"].map(district_of)
    out = []
    for code, name, geom in sorted(
        zip(lad["LADCD"], lad["LADNM"], lad.geometry, strict=True), key=lambda t: t[1]
    ):
        df = rows[rows["district"] == code].drop(columns="district").reset_index(drop=True)
        pts = gpd.points_from_xy(df["x"], df["y"])
        pts = np.where(df["has_location"].to_numpy(), pts, None)
        gdf = gpd.GeoDataFrame(df, geometry=list(pts), crs=BNG)
        w = wards[wards["LAD25CD"] == code][["WD25CD", "WD25NM", "geometry"]]
        w = w.rename(columns={"WD25CD": "code", "WD25NM": "name"}).reset_index(drop=True)
        out.append(District(code, name, geom, gdf, w))
    return out
