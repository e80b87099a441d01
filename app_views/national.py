"""The National view: every district, CSP or force area of England and Wales from a store.

With ``hotspots app --store DIR`` the view counts the store's rows of the sidebar's
types and months by area in one query (:func:`analysis.national.national_rates`), gives
each area its rate per 1,000 residents a year with its exact 95% interval, flags the
areas above the national rate beyond noise, and draws them as a choropleth.
"""

from __future__ import annotations

import geopandas as gpd
import pandas as pd
import shapely
import streamlit as st

from analysis.national import national_rates
from app_views import map_view, state
from app_views.filters import Filters
from app_views.state import Dataset
from geo.crs import BNG, to_bng
from geo.errors import InputError
from geo.store_query import NationalFiles, area_lookup
from render.model import MapLayers

__all__ = ["LEVELS", "area_polygons", "render"]

LEVELS = {
    "csp": "Community Safety Partnerships",
    "district": "Districts",
    "force": "Police force areas",
}
"""The national levels and what the view calls them."""

SIMPLIFY_M = 250.0
"""Outlines are simplified to this tolerance for the national map (metres)."""


@st.cache_resource(max_entries=3)
def _polygons(level: str, stamp: tuple[str, float]) -> gpd.GeoDataFrame:  # noqa: ARG001
    files = NationalFiles.default()
    lad = to_bng(gpd.read_parquet(files.lad, columns=["LADCD", "geometry"]), name=files.lad.name)
    lad["geometry"] = shapely.make_valid(lad.geometry.to_numpy())
    if level == "district":
        out = lad.rename(columns={"LADCD": "code"})
    else:
        link = area_lookup("district")[["lsoa_code", "code"]].rename(columns={"code": "lad"})
        link = link.merge(area_lookup(level)[["lsoa_code", "code"]], on="lsoa_code")
        first = link.drop_duplicates("lad").set_index("lad")["code"]
        lad["code"] = lad["LADCD"].map(first)
        out = lad.dropna(subset=["code"]).dissolve(by="code").reset_index()[["code", "geometry"]]
    out["geometry"] = out.geometry.simplify(SIMPLIFY_M)
    return gpd.GeoDataFrame(out[["code", "geometry"]], geometry="geometry", crs=BNG)


def area_polygons(level: str) -> gpd.GeoDataFrame:
    """Simplified outlines of every area at ``level`` (cached on the district file)."""
    return _polygons(level, state.file_stamp(NationalFiles.default().lad))


@st.cache_data(max_entries=8, ttl=state.RESULTS_TTL, show_spinner="Counting every area\u2026")
def _rates(
    store: str, level: str, month_from: str, month_to: str, types: tuple[str, ...]
) -> pd.DataFrame:
    return national_rates(store, level, month_from, month_to, types=list(types) or None)


def render(ds: Dataset, f: Filters) -> None:  # noqa: ARG001 - same signature as every view
    """Draw the National view."""
    st.header("National")
    store = state.store_dir()
    if store is None:
        st.info(
            "The national view reads a police.uk store of any forces and months: build "
            "one with `hotspots ingest FILES --store DIR` and start the app with "
            "`hotspots app --store DIR`."
        )
        return
    level = st.radio(
        "Areas", list(LEVELS), format_func=LEVELS.__getitem__, horizontal=True, key="national_level"
    )
    try:
        table = _rates(str(store), level, f.month_from, f.month_to, tuple(f.types))
        polys = area_polygons(level)
    except InputError as exc:
        state.show_input_error("The national view cannot be drawn", exc)
        return
    counted = table[table["vs_national"] != "no data"]
    st.caption(
        f"{f.types_label}, {f.period_label}: {len(counted)} of {len(table)} "
        f"{LEVELS[level].lower()} have their own force's data for these months; rates per "
        "1,000 residents a year (Census 2021), with exact Poisson 95% intervals; 'above' "
        "where the national rate lies below the interval."
    )
    gdf = polys.merge(table, on="code", how="inner")
    gdf = gdf[gdf["vs_national"] != "no data"]
    gdf = gdf.assign(
        value=gdf["rate_per_1000_year"],
        rate_per_1000=gdf["rate_per_1000_year"],
        vs_borough=gdf["vs_national"],
    )
    layers = MapLayers(
        areas=gpd.GeoDataFrame(gdf, geometry="geometry", crs=BNG),
        value_label=f"{f.types_label} per 1,000 residents a year, {f.period_label}",
        classification="quantiles",
        area_names=False,
    )
    map_view.show_map(layers, f, key="national_map", height=map_view.VIEW_MAP_HEIGHT)
    st.dataframe(
        table.rename(
            columns={
                "rate_per_1000_year": "per 1,000 a year",
                "ci_low": "95% low",
                "ci_high": "95% high",
                "national_rate": "national rate",
                "vs_national": "vs national",
            }
        ),
        hide_index=True,
        width="stretch",
        column_config={
            c: st.column_config.NumberColumn(format="%.2f")
            for c in ("per 1,000 a year", "95% low", "95% high", "national rate")
        },
    )
