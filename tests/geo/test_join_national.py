"""Incidents of a national study area take their LSOA 2021 by code, else by point."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo.crs import BNG
from geo.join import join_areas
from geo.store_query import national_study_area


def test_lsoa_2021_by_code_where_unchanged_else_by_point() -> None:
    area = national_study_area("E06000045")  # Southampton: some LSOAs were split in 2021
    codes21 = set(area.lsoas_2021["code"])
    l11 = area.lsoas.set_index("code")
    same = sorted(c for c in l11.index if c in codes21)[0]
    changed = sorted(c for c in l11.index if c not in codes21)[0]
    # A point inside the changed LSOA, and the LSOA 2021 polygon that holds it.
    pt = l11.geometry[changed].representative_point()
    l21 = area.lsoas_2021
    holder = l21.loc[l21.contains(pt), "code"].tolist()
    assert len(holder) == 1
    inc = gpd.GeoDataFrame(
        {
            "lsoa_code": [same, changed, changed],
            "x": [np.nan, pt.x, np.nan],
            "y": [np.nan, pt.y, np.nan],
        },
        geometry=[None, pt, None],
        crs=BNG,
    )
    out = join_areas(inc, area)
    # Unchanged code: kept even without a point; changed code: by its point, else none.
    assert out["lsoa21_code"].tolist()[:2] == [same, holder[0]]
    assert pd.isna(out["lsoa21_code"].iloc[2])
    assert shapely.equals(out.geometry.iloc[1], pt)
