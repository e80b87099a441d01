"""A national study area is the same whether its LSOAs come from the files or from memory."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pandas as pd
import shapely

from geo.store_query import NationalFiles, national_study_area, warm_national


def _frames(area) -> dict[str, pd.DataFrame]:
    out = {"lsoas": area.lsoas, "lsoas_2021": area.lsoas_2021, "outline": area.outline}
    out |= {f"level {k}": lvl.areas for k, lvl in area.levels.items()}
    return out


def test_an_area_is_the_same_before_and_after_the_national_polygons_are_warmed(
    tmp_path: Path,
) -> None:
    shared = NationalFiles.default()
    # Links under new paths, so that these files are not yet held in memory.
    links = {}
    for field in ("lsoa11", "lsoa21"):
        link = tmp_path / getattr(shared, field).name
        link.symlink_to(getattr(shared, field))
        links[field] = link
    files = dataclasses.replace(shared, **links)
    cold = national_study_area("E06000045", files)  # Southampton, read from the files
    warm_national(files)
    warm = national_study_area("Southampton", files)  # from memory
    assert len(cold.lsoas) == 148 and len(cold.lsoas_2021) == 152  # ONS counts
    for what, a in _frames(cold).items():
        b = _frames(warm)[what]
        pd.testing.assert_frame_equal(a.drop(columns="geometry"), b.drop(columns="geometry"))
        assert shapely.equals_exact(a.geometry.to_numpy(), b.geometry.to_numpy(), 0).all(), what
        assert a.crs == b.crs, what
    # A frame handed out is the caller's: changing it does not change the next area.
    warm.lsoas.loc[0, "name"] = "changed"
    assert national_study_area("E06000045", files).lsoas.loc[0, "name"] != "changed"
