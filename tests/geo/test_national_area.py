"""A national study area's LSOAs, picked from the polygons held in memory, are the files' own."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
import shapely

from geo.crs import BNG
from geo.store_query import NationalFiles, national_study_area


def _read(path: Path, code: str, name: str, codes: set[str]) -> gpd.GeoDataFrame:
    """The LSOAs of ``codes`` read straight from the file, reprojected and made valid."""
    gdf = gpd.read_parquet(
        path, columns=[code, name, "geometry"], filters=[(code, "in", sorted(codes))]
    )
    gdf = gdf.to_crs(BNG).rename(columns={code: "code", name: "name"}).reset_index(drop=True)
    gdf["geometry"] = shapely.make_valid(gdf.geometry.to_numpy())
    return gdf


def test_an_area_has_the_lsoas_of_the_files_and_its_frames_are_its_own() -> None:
    files = NationalFiles.default()
    area = national_study_area("E06000045")  # Southampton
    assert len(area.lsoas) == 148 and len(area.lsoas_2021) == 152  # ONS counts
    for got, path, code, name in (
        (area.lsoas, files.lsoa11, "LSOA11CD", "LSOA11NM"),
        (area.lsoas_2021, files.lsoa21, "LSOA21CD", "LSOA21NM"),
    ):
        want = _read(path, code, name, set(got["code"]))
        pd.testing.assert_frame_equal(got.drop(columns="geometry"), want.drop(columns="geometry"))
        assert shapely.equals_exact(got.geometry.to_numpy(), want.geometry.to_numpy(), 0).all()
        assert got.crs == want.crs
    # A frame handed out is the caller's: changing it does not change the next area.
    area.lsoas.loc[0, "name"] = "changed"
    area.lsoas.loc[0, "geometry"] = shapely.box(0, 0, 1, 1)
    again = national_study_area("Southampton")
    assert again.lsoas.loc[0, "name"] != "changed"
    assert not shapely.equals(again.lsoas.geometry.iloc[0], shapely.box(0, 0, 1, 1))


def test_a_partnership_of_several_districts_has_them_as_a_level() -> None:
    # South Nottinghamshire CSP: Broxtowe, Gedling and Rushcliffe (the December 2019 lookup).
    area = national_study_area("South Nottinghamshire")
    districts = area.areas("district").set_index("code")
    assert districts["name"].to_dict() == {
        "E07000172": "Broxtowe",
        "E07000173": "Gedling",
        "E07000176": "Rushcliffe",
    }
    # Each district is its LSOAs: residents and area add up to the whole partnership
    # (whose outline is of the LSOAs 2021: 2,600 m2 of 609 km2 differ).
    whole = area.areas("borough")
    assert districts["population"].sum() == whole["population"].iloc[0]
    assert districts.geometry.area.sum() == pytest.approx(area.area_m2, rel=1e-5)
    assert area.level("district").column == "district_code"
    assert set(area.lsoa_wards["district_code"]) == set(districts.index)
    # A district alone has no such level; nor does a partnership of one district.
    assert "district" not in national_study_area("Broxtowe").levels
    assert "district" not in national_study_area("E06000045").levels
