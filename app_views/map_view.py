"""The Map view: choropleth, density, hotspots, incidents, venues and the area profile.

:func:`map_layers` gathers the layers from the cached loaders and
:func:`render.map.build_map` draws them; :func:`show_map` hands the map to
``streamlit_folium.st_folium``. Clicking an area (or choosing it in the list under
the map) opens its profile.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
import streamlit as st
from folium.map import FitBounds
from streamlit.delta_generator import DeltaGenerator
from streamlit_folium import st_folium

from analysis.hotspots import HotspotResult
from analysis.rates import filter_incidents
from app_views import drill, state
from app_views.filters import METHOD_LABELS, METHOD_QUESTIONS, Filters
from app_views.state import Dataset, level_labels
from app_views.streets import streets_for_map
from geo.crs import BNG, WGS84, transformer
from geo.errors import InputError
from render.map import MapLayers, build_map

__all__ = [
    "RiskCells",
    "method_accuracy",
    "patrol_accuracy",
    "MAIN_MAP_HEIGHT",
    "PROFILE_KEY",
    "VIEW_MAP_HEIGHT",
    "area_at",
    "area_profile",
    "choropleth",
    "clicked_point",
    "hotspot_result",
    "map_layers",
    "optional_layer",
    "place_labels",
    "render",
    "show_map",
]

MAIN_MAP_HEIGHT = 780
"""Height of the Map view's map (pixels): the borough fits at zoom 12."""

VIEW_MAP_HEIGHT = 760
"""Height of the other views' maps (pixels); differs from the main map's, so a browser
test can tell a map left over from the previous view from the new one."""

PROFILE_KEY = "profile_area"
"""Session key of the area whose profile is open."""

STATIC_TABLE_ROWS = 150
"""Longest table of areas drawn as a static (printable) table; longer ones scroll."""


def optional_layer(name: str, loader: Callable[[], gpd.GeoDataFrame]) -> gpd.GeoDataFrame | None:
    """Load a supporting layer; on failure say so in a caption and carry on without it."""
    try:
        return loader()
    except (InputError, ImportError, OSError) as exc:
        state.show_input_error(f"{name} not shown", exc, quiet=True)
        return None


def hotspot_result(ds: Dataset, f: Filters) -> HotspotResult | None:
    """The cached hotspots for the filters, or None (with a warning) when there are none."""
    try:
        return state.hotspots(ds, f.types, f.month_from, f.month_to, f.hotspot_params())
    except InputError as exc:
        state.show_input_error("No hotspots", exc)
        return None
    except Exception as exc:  # noqa: BLE001 - keep the app usable; say what failed
        st.error(
            f"The hotspot engine failed ({type(exc).__name__}: {exc}). The rest of the view "
            "still works; try another method or report this."
        )
        return None


def choropleth(ds: Dataset, f: Filters, level: str | None = None) -> gpd.GeoDataFrame:
    """Area polygons with the chosen measure as ``value`` (and count, rate, interval)."""
    level = level or f.level
    areas = state.level_areas(level)[["code", "geometry"]]
    rates = state.rates(ds, level, f.types, f.month_from, f.month_to)
    gdf = areas.merge(rates, on="code", how="left")
    gdf["value"] = gdf["rate_per_1000"] if f.measure == "rate" else gdf["count"]
    return gpd.GeoDataFrame(gdf, geometry="geometry", crs=BNG)


def place_labels() -> gpd.GeoDataFrame | None:
    """Gazetteer places as map labels (render shows minor places and stations zoomed in)."""
    gaz = optional_layer("Place labels", state.gazetteer)
    if gaz is None:
        return None
    return gaz[["name", "kind", "geometry"]]


@dataclass(frozen=True)
class RiskCells:
    """The risk surface's expected counts as a raster the map draws (``values``, ``grid``)."""

    values: np.ndarray
    grid: object


def map_layers(
    ds: Dataset,
    f: Filters,
    hs: HotspotResult | None,
    *,
    areas: bool = True,
    points: bool = True,
    density: bool = True,
    venues: bool = True,
) -> MapLayers:
    """The layers of the main map for the filters."""
    located = state.filtered(ds, f.types, f.month_from, f.month_to)
    located = located[located["has_location"].to_numpy(bool)]
    surface, bandwidth = (
        state.display_density(ds, f.types, f.month_from, f.month_to, hs)
        if density and hs is not None and hs.risk is None
        else (None, "")
    )
    density_label = f"{f.types_label}: kernel density ({bandwidth})"
    if density and hs is not None and hs.risk is not None:
        # The risk surface's cells: the expected count next month per 50 m cell.
        surface = RiskCells(values=hs.risk.expected, grid=hs.risk.grid)
        density_label = f"{f.types_label}: expected next month per 50 m cell (risk surface)"
    return MapLayers(
        borough=state.borough(),
        areas=choropleth(ds, f) if areas else None,
        outlines=None if areas else state.level_areas(f.level)[["name", "geometry"]],
        value_label=(
            f"{f.value_label} (residents: Census 2021)" if f.measure == "rate" else f.value_label
        ),
        classification="natural_breaks",
        k=5,
        density=surface,
        density_label=density_label,
        hotspots=hs.hotspots if hs is not None and len(hs.hotspots) else None,
        points=located[["x", "y", "crime_type", "month", "location"]] if points else None,
        venues=optional_layer("Venues", state.venues) if venues else None,
        venue_rings_m=f.rings_m or (800.0,),
        schools=optional_layer("Schools", state.schools_near),
        stations=optional_layer("Rail stations", state.stations_near),
        labels=place_labels(),
        streets=streets_for_map(),
    )


def show_map(
    layers: MapLayers,
    f: Filters,
    *,
    key: str,
    height: int = VIEW_MAP_HEIGHT,
    fit: tuple[float, float, float, float] | None = None,
) -> dict:
    """Draw the map with st_folium and return what the user last clicked.

    ``fit`` is a British National Grid box ``(x0, y0, x1, y1)`` to open the map on
    (the map builder otherwise fits the borough, or all its layers).
    """
    try:
        m = build_map(layers, tiles=f.tiles)
    except InputError as exc:
        st.error(f"The map cannot be drawn: {exc}")
        return {}
    if fit is not None:
        # Replace the builder's fit (a second fit would animate the map as it opens).
        for name, child in list(m._children.items()):
            if isinstance(child, FitBounds):
                del m._children[name]
        (lon0, lon1), (lat0, lat1) = transformer(BNG, WGS84).transform(
            [fit[0], fit[2]], [fit[1], fit[3]]
        )
        m.fit_bounds([[min(lat0, lat1), min(lon0, lon1)], [max(lat0, lat1), max(lon0, lon1)]])
    out = st_folium(
        m,
        key=key,
        height=height,
        use_container_width=True,
        returned_objects=["last_clicked"],
        # st_folium renders the map itself (the map's elements, once); render=True would
        # render the whole page first as well, serialising every GeoJSON layer and
        # compiling it as a Jinja template one more time (0.2-0.4 s for a county's LSOA
        # layer), and the component is given the same script, header and links either way.
        render=False,
    )
    if (out or {}).get("last_clicked"):
        return out
    return st.session_state.get(key) or out or {}


def clicked_point(out: dict) -> tuple[float, float] | None:
    """The last clicked point of a map as British National Grid ``(x, y)``, if any."""
    click = (out or {}).get("last_clicked")
    if not click or "lat" not in click or "lng" not in click:
        return None
    x, y = transformer(WGS84, BNG).transform(float(click["lng"]), float(click["lat"]))
    return float(x), float(y)


def area_at(areas: gpd.GeoDataFrame, x: float, y: float) -> str | None:
    """Code of the area holding the point ``(x, y)`` (metres), or None."""
    hit = areas[areas.geometry.intersects(shapely.Point(x, y))]
    return str(hit["code"].iloc[0]) if len(hit) else None


def _sync_profile(areas: gpd.GeoDataFrame, out: dict) -> None:
    """Open the profile of a newly clicked area (before the list widget is drawn)."""
    codes = set(areas["code"])
    if st.session_state.get(PROFILE_KEY) not in codes | {""}:
        st.session_state[PROFILE_KEY] = ""
    pt = clicked_point(out)
    if pt is None or st.session_state.get("_profile_click") == pt:
        return
    st.session_state["_profile_click"] = pt
    code = area_at(areas, *pt)
    if code is not None:
        st.session_state[PROFILE_KEY] = code


def _rate_verdict(col: DeltaGenerator, row: pd.Series) -> None:
    """The area's rate with its interval, and whether it differs from the borough's."""
    col.metric(
        "Rate per 1,000 residents a year",
        f"{row['rate_per_1000']:.2f}",
        help=f"95% exact Poisson interval {row['ci_low']:.2f} to {row['ci_high']:.2f}; "
        f"{int(row['population']):,} residents (Census 2021).",
    )
    verdict = {
        "higher": "higher than the borough's: the borough rate lies below its 95% interval",
        "lower": "lower than the borough's: the borough rate lies above its 95% interval",
        "not different": "not distinguishable from the borough's (the borough rate lies "
        "inside its 95% interval)",
    }[row["vs_borough"]]
    st.markdown(
        f"Rate **{row['rate_per_1000']:.2f}** per 1,000 a year (95% interval "
        f"{row['ci_low']:.2f} to {row['ci_high']:.2f}): {verdict}."
    )


def area_profile(ds: Dataset, f: Filters, code: str) -> None:
    """Count, rate with its interval, trend by month, top types and the borough comparison."""
    rates = state.rates(ds, f.level, f.types, f.month_from, f.month_to)
    row = rates.set_index("code").loc[code]
    st.subheader(f"{row['name']}")
    c1, c2, c3 = st.columns(3)
    c1.metric(f"{f.types_label}, {f.period_label}", f"{int(row['count']):,}")
    c3.metric("Borough rate per 1,000 a year", f"{row['borough_rate']:.2f}")
    if row["vs_borough"] == "no residents":
        c2.metric("Rate per 1,000 residents a year", "\u2013")
        st.markdown(
            "No residents here at Census 2021 (they are counted in the neighbouring areas "
            "its census area was merged with), so it has no rate."
        )
    else:
        _rate_verdict(c2, row)
    col = state.core_area().level(f.level).column
    inc = ds.incidents
    here = inc[inc[col].to_numpy(dtype=object) == code]
    typed = filter_incidents(here, types=list(f.types)) if f.types else here
    by_month = typed["month"].value_counts().reindex(ds.months, fill_value=0)
    left, right = st.columns(2)
    with left:
        st.markdown(f"**{f.types_label} by month** (every month loaded)")
        st.bar_chart(by_month.rename("incidents"), height=220)
    with right:
        period = filter_incidents(here, month_from=f.month_from, month_to=f.month_to)
        top = period["crime_type"].value_counts().head(6)
        st.markdown(f"**Top types here, {f.period_label}** (all types)")
        st.dataframe(
            top.rename_axis("type").reset_index(name="incidents"),
            hide_index=True,
            width="stretch",
        )


def _kpis(ds: Dataset, f: Filters, hs: HotspotResult | None) -> None:
    sub = state.filtered(ds, f.types, f.month_from, f.month_to)
    located = int(sub["has_location"].sum())
    c1, c2, c3, c4 = st.columns(4)
    c1.metric("Incidents", f"{len(sub):,}", help=f"{f.types_label}, {f.period_label}")
    c2.metric("With a map point", f"{located:,}")
    if hs is not None and hs.risk is not None:
        c3.metric("Patrol areas", f"{len(hs.hotspots)}")
        share = float(hs.hotspots["share"].sum()) if len(hs.hotspots) else 0.0
        c4.metric("Share of next month's expected", f"{share * 100:.1f}%")
    elif hs is not None:
        c3.metric("Hotspots", f"{len(hs.hotspots)}")
        share = float(hs.hotspots["share"].sum()) if len(hs.hotspots) else 0.0
        c4.metric("Share inside hotspots", f"{share * 100:.1f}%")


def patrol_accuracy(hs: HotspotResult) -> None:
    """How far to trust the patrol areas: the risk surface scored on months it never saw."""
    v = hs.risk.validation
    chosen = v[v["chosen"]] if "chosen" in v.columns else v
    parts = []
    for cov in (1, 5, 10):
        col, pei_col = f"hit_{cov}", f"pei_{cov}"
        if col in chosen.columns and len(chosen):
            hit = float(chosen[col].mean())
            pei = float(chosen[pei_col].mean()) if pei_col in chosen.columns else float("nan")
            parts.append(
                f"the top {cov}% of the area held {hit:.0%} of the following months' "
                f"incidents (PAI {hit / (cov / 100):.1f}"
                + (f", PEI {pei:.2f}" if pei == pei else "")
                + ")"
            )
    if parts:
        st.caption(
            f"How far to trust it: scored by rolling origin on the loaded months "
            f"({chosen['origin'].nunique() if 'origin' in chosen else len(chosen)} splits, each fitted on "
            f"the months before and scored on the months after), {'; '.join(parts)}. "
            f"Model {hs.risk.model}, neighbours within {hs.risk.bandwidth_m:.0f} m. PAI is the "
            "hit rate over the area's share; PEI the hit rate over the best any map could "
            "reach with as much area (1 = as good as knowing the future)."
        )


def _rolling_method(f: Filters) -> str:
    """The rolling-origin name of the sidebar's method."""
    if f.method == "kde":
        return "kde auto" if f.bandwidth_m == "auto" else f"kde {float(f.bandwidth_m):.0f} m"
    return f.method


def method_accuracy(ds: Dataset, f: Filters) -> None:
    """How far to trust KDE, DBSCAN or Gi*: scored on request on months it did not see."""
    if not st.toggle(
        f"Measure how well {METHOD_LABELS[f.method].split(':')[0]} predicts the following months",
        key="measure_method",
        help="Rolling origin on the months chosen: fitted on the months before each origin "
        "and scored on the three after it (several splits). Takes a few seconds.",
    ):
        return
    try:
        summ = state.method_accuracy(ds, f.types, f.month_from, f.month_to, _rolling_method(f))
    except InputError as exc:
        state.show_input_error("Accuracy not measured", exc)
        return
    parts = [
        f"cells over {r.area_share:.1%} of the area held {r.hit_rate:.0%} of the following "
        f"months' incidents (PAI {r.pai:.1f}, PEI {r.pei:.2f})"
        for r in summ.itertuples()
        if r.hit_rate == r.hit_rate
    ]
    st.caption(
        f"How far to trust it: scored by rolling origin on the months chosen "
        f"({int(summ['splits'].max())} splits, each fitted on the months before and scored "
        f"on the months after): {'; '.join(parts)}. The patrol areas' own figures are "
        "shown when Patrol areas is the method."
    )


def render(ds: Dataset, f: Filters) -> None:
    """Draw the Map view."""
    st.header("Map")
    st.caption(
        f"{f.value_label} by {level_labels()[f.level].lower()}; hotspots by "
        f"{METHOD_LABELS[f.method].split(':')[0]} ({f.method_label}). Click an area for its "
        "profile. Zoom in to see single incident points."
    )
    st.caption(f"{METHOD_LABELS[f.method].split(':')[0]} answers: {METHOD_QUESTIONS[f.method]}")
    level = state.core_area().level(f.level)
    st.caption(
        f"Boundaries: {level.boundaries}. Residents: {level.population}."
        + (
            " Rates are per 1,000 residents a year, annualised from the months chosen."
            if f.measure == "rate"
            else ""
        )
    )
    hs = hotspot_result(ds, f)
    _kpis(ds, f, hs)
    typed = state.filtered(ds, f.types, f.month_from, f.month_to)
    fit = drill.search_box(typed, key="map_search")
    layers = map_layers(ds, f, hs, points=f.show_points, density=f.show_density)
    out = show_map(layers, f, key="main_map", height=MAIN_MAP_HEIGHT, fit=fit)
    if hs is not None and hs.notes:
        st.caption(" ".join(hs.notes))
    if hs is not None and hs.risk is not None:
        patrol_accuracy(hs)
    elif hs is not None:
        method_accuracy(ds, f)
    drill.hotspot_drill(typed, layers.hotspots, key="map_drill")

    areas = layers.areas if layers.areas is not None else state.level_areas(f.level)
    _sync_profile(areas, out)
    names = dict(zip(areas["code"], areas["name"], strict=True))
    order = [""] + sorted(names, key=names.__getitem__)
    code = st.selectbox(
        "Area profile",
        order,
        key=PROFILE_KEY,
        format_func=lambda c: "Choose an area, or click it on the map" if c == "" else names[c],
    )
    if code:
        area_profile(ds, f, code)

    st.subheader(f"All {level_labels()[f.level].lower()}")
    table = state.rates(ds, f.level, f.types, f.month_from, f.month_to)
    st.metric("Total in the table", f"{int(table['count'].sum()):,}")
    show = table[
        ["name", "count", "population", "rate_per_1000", "ci_low", "ci_high", "vs_borough"]
    ].rename(
        columns={
            "name": "Area",
            "count": "Incidents",
            "population": "Residents",
            "rate_per_1000": "Rate per 1,000 a year",
            "ci_low": "95% low",
            "ci_high": "95% high",
            "vs_borough": "Against the borough",
        }
    )
    if len(show) > STATIC_TABLE_ROWS:
        # A long table (Birmingham's 639 LSOAs) as a static table took the browser
        # about a second after the map had arrived: the scrolling grid draws only the
        # rows in view, and sorts and searches them.
        st.dataframe(
            show.set_index("Area"),
            column_config={
                c: st.column_config.NumberColumn(format="%.2f")
                for c in ("Rate per 1,000 a year", "95% low", "95% high")
            },
        )
    else:
        # Static tables: they print in full and need none of the data-grid's script, so
        # the map draws sooner. Counts with thousands separators, rates with two decimals.
        for col in ("Incidents", "Residents"):
            show[col] = show[col].map(lambda v: "\u2013" if pd.isna(v) else f"{v:,.0f}")
        for col in ("Rate per 1,000 a year", "95% low", "95% high"):
            show[col] = show[col].map("{:.2f}".format)
        st.table(show.set_index("Area"))
    if hs is not None and hs.reference is not None and len(hs.reference):
        st.subheader("The review's named hotspots in this data")
        ref = pd.DataFrame(hs.reference.drop(columns="geometry"))
        ref["agrees"] = ref["agrees"].map({True: "yes", False: "no"})
        st.table(
            ref[["review_name", "incidents_within", "agrees", "verdict"]].set_index("review_name")
        )
