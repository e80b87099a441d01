"""The Patrol plan view: ranked hotspots with streets and peak times, printable and downloadable.

Downloads: CSV (guarded against spreadsheet formulas), GeoJSON (EPSG:4326, as web
tools expect), GeoPackage (EPSG:27700) and a standalone HTML map that opens offline.
"""

from __future__ import annotations

import re
import tempfile
from pathlib import Path

import geopandas as gpd
import pandas as pd
import streamlit as st
from shapely.geometry import box

from analysis.hotspots import HotspotResult
from app_views import drill, map_view, state
from app_views.filters import METHOD_LABELS, Filters
from app_views.printing import pack_files
from app_views.state import Dataset
from app_views.streets import streets as loaded_streets
from app_views.streets import streets_path
from geo.crs import WGS84, reproject
from geo.errors import InputError
from geo.writers import csv_bytes
from packs.patrol import patrol_pack
from render.elements import HtmlControl
from render.html import esc
from render.map import MapLayers, build_map, save_standalone_html

__all__ = [
    "PLAN_COLUMNS",
    "geojson_bytes",
    "gpkg_bytes",
    "hotspot_frame",
    "hotspot_layers",
    "html_map_bytes",
    "md_escape",
    "plan_csv_bytes",
    "plan_table",
    "render",
]

PLAN_COLUMNS = {
    "rank": "Rank",
    "name": "Hotspot",
    "count": "Incidents",
    "expected": "Expected next month",
    "expected_low": "Low (90%)",
    "expected_high": "High (90%)",
    "share": "Share",
    "top_streets": "Streets",
    "top_types": "Types",
    "wards": "Wards",
    "peak_months": "Peak months",
    "peak_days": "Peak days",
    "peak_hours": "Peak hours",
    "area_m2": "Area (m²)",
}
"""Columns of the patrol plan and their headings."""

_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]<>()#+\-.!|~$])")


def md_escape(value: object) -> str:
    r"""Escape text for a Markdown table cell so data cannot add markup or break the table.

    Examples
    --------
    >>> md_escape("A|B *x*")
    'A\\|B \\*x\\*'
    """
    text = "" if value is None or (isinstance(value, float) and pd.isna(value)) else str(value)
    return _MD_SPECIAL.sub(r"\\\1", text.replace("\n", " "))


def plan_table(hotspots: gpd.GeoDataFrame) -> pd.DataFrame:
    """The patrol plan: one row a hotspot, with days and hours only when the data has times."""
    df = pd.DataFrame(hotspots.drop(columns=hotspots.geometry.name))
    cols = [c for c in PLAN_COLUMNS if c in df.columns]
    for c in ("peak_days", "peak_hours"):
        if c in cols and not df[c].astype(str).str.len().gt(0).any():
            cols.remove(c)
    out = df[cols].copy()
    if "area_m2" in out:
        out["area_m2"] = out["area_m2"].round(0).astype("int64")
    return out


def plan_csv_bytes(hotspots: gpd.GeoDataFrame) -> bytes:
    """The plan as UTF-8 CSV whose text cells cannot run as spreadsheet formulas."""
    table = plan_table(hotspots)
    return csv_bytes(table)


def geojson_bytes(hotspots: gpd.GeoDataFrame) -> bytes:
    """The hotspot polygons as GeoJSON in EPSG:4326."""
    return reproject(hotspots, WGS84).to_json(drop_id=True).encode("utf-8")


def gpkg_bytes(hotspots: gpd.GeoDataFrame, layer: str = "hotspots") -> bytes:
    """The hotspot polygons as a GeoPackage (EPSG:27700), written to a temporary file."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "hotspots.gpkg"
        hotspots.to_file(path, layer=layer, driver="GPKG")
        return path.read_bytes()


def html_map_bytes(layers: MapLayers, title: str = "") -> bytes:
    """A standalone HTML map (Leaflet inlined, no tiles) of the layers, with its title.

    The title (what, where, when and how, escaped) sits at the top left of the map; the
    legend and the labels are the map's own.
    """
    m = build_map(layers, tiles=None)
    if title:
        HtmlControl(f"<b>{esc(title)}</b>", position="topleft", kind="title").add_to(m)
    with tempfile.TemporaryDirectory() as tmp:
        path = save_standalone_html(m, Path(tmp) / "hotspots.html")
        return path.read_bytes()


def hotspot_frame(hotspot: gpd.GeoDataFrame, pad_m: float = 300.0) -> tuple[float, ...]:
    """The box a patrol card map opens on: the hotspot and ``pad_m`` around it."""
    x0, y0, x1, y1 = hotspot.total_bounds
    return (x0 - pad_m, y0 - pad_m, x1 + pad_m, y1 + pad_m)


def hotspot_layers(ds: Dataset, f: Filters, hotspot: gpd.GeoDataFrame) -> MapLayers:
    """A patrol card map: one hotspot, the incidents around it and what lies near it."""
    x0, y0, x1, y1 = hotspot_frame(hotspot, 1500.0)
    near_box = box(x0, y0, x1, y1)
    located = state.filtered(ds, f.types, f.month_from, f.month_to)
    located = located[located["has_location"].to_numpy(bool)]
    near = located[located.geometry.intersects(near_box)]

    def nearby(layer: gpd.GeoDataFrame | None) -> gpd.GeoDataFrame | None:
        if layer is None:
            return None
        inside = layer[layer.geometry.intersects(near_box)]
        return inside if len(inside) else None

    return MapLayers(
        outlines=nearby(state.level_areas(f.level)[["name", "geometry"]]),
        hotspots=hotspot,
        points=near[["x", "y", "crime_type", "month", "location"]],
        venues=nearby(map_view.optional_layer("Venues", state.venues)),
        venue_rings_m=f.rings_m or (800.0,),
        stations=nearby(map_view.optional_layer("Rail stations", state.stations_near)),
        labels=nearby(map_view.place_labels()),
    )


@st.cache_data(max_entries=16, ttl=state.RESULTS_TTL, show_spinner="Preparing the downloads\u2026")
def _downloads(
    _ds: Dataset,
    _hs: HotspotResult,
    cache_key: str,  # noqa: ARG001 - keys the cache for the unhashed frames
    f: Filters,
) -> dict[str, bytes]:
    layers = map_view.map_layers(_ds, f, _hs, areas=False, points=False, density=False)
    return {
        "csv": plan_csv_bytes(_hs.hotspots),
        "geojson": geojson_bytes(_hs.hotspots),
        "gpkg": gpkg_bytes(_hs.hotspots),
        "html": html_map_bytes(
            layers,
            f"{state.core_area().name}: {f.types_label}, {f.period_label}; hotspots by "
            f"{METHOD_LABELS[f.method].split(':')[0]} ({f.method_label})",
        ),
    }


@st.cache_data(max_entries=4, ttl=state.RESULTS_TTL, show_spinner="Printing the patrol plan\u2026")
def _plan_files(
    _ds: Dataset,
    _hs: HotspotResult,
    cache_key: str,  # noqa: ARG001 - keys the cache for the unhashed frames
    f: Filters,
) -> dict[str, bytes | str]:
    pack = patrol_pack(
        _hs.hotspots,
        area=state.study_area(),
        period=(f.month_from, f.month_to),
        types_label=f.types_label,
        method_label=f.method_label,
        notes=[_tidy(n) for n in _hs.notes],
        streets=_streets_or_none(),
    )
    return pack_files(pack)


def _streets_or_none() -> gpd.GeoDataFrame | None:
    """The loaded streets for the printed map (the Map view says why there are none)."""
    try:
        return loaded_streets()
    except InputError:
        return None


def _tidy(note: str) -> str:
    return " ".join(note.split())


def _printable(table: pd.DataFrame) -> str:
    heads = [PLAN_COLUMNS[c] for c in table.columns]
    lines = ["| " + " | ".join(heads) + " |", "|" + "---|" * len(heads)]
    for _, row in table.iterrows():
        cells = []
        for c in table.columns:
            v = row[c]
            if c == "share":
                cells.append(f"{float(v) * 100:.1f}%")
            elif c in ("count", "rank", "area_m2", "expected_low", "expected_high"):
                cells.append(f"{int(v):,}")
            elif c == "expected":
                cells.append(f"{float(v):.1f}")
            else:
                cells.append(md_escape(v))
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def render(ds: Dataset, f: Filters) -> None:
    """Draw the Patrol plan view."""
    st.header("Patrol plan")
    ranked = (
        "Ranked by the incidents expected in each next month; 'Share' is its share of "
        "the whole area's expected incidents."
        if f.method == "patrol"
        else "Ranked by the incidents inside each hotspot."
    )
    st.caption(
        f"{f.types_label}, {f.period_label}; hotspots by {METHOD_LABELS[f.method].split(':')[0]} ({f.method_label}). {ranked} police.uk "
        "gives the month only; peak days and hours appear when a CSP log with times is "
        "loaded (Data view)."
    )
    hs = map_view.hotspot_result(ds, f)
    if hs is None or not len(hs.hotspots):
        st.info("No hotspots for these filters: widen the months or types, or change the method.")
        return
    table = plan_table(hs.hotspots)
    total = int(hs.hotspots["count"].sum())
    c1, c2, c3 = st.columns(3)
    if hs.risk is not None:
        c1.metric("Patrol areas", len(table))
        c2.metric(f"Incidents inside, {f.period_label}", f"{total:,}")
        c3.metric(
            "Share of next month's expected", f"{float(hs.hotspots['share'].sum()) * 100:.1f}%"
        )
        map_view.patrol_accuracy(hs)
    else:
        c1.metric("Hotspots", len(table))
        c2.metric("Incidents inside", f"{total:,}")
        c3.metric("Share of all", f"{float(hs.hotspots['share'].sum()) * 100:.1f}%")
    shown = table.assign(share=table["share"] * 100) if "share" in table else table
    st.dataframe(
        shown.rename(columns=PLAN_COLUMNS),
        hide_index=True,
        width="stretch",
        column_config={
            "Share": st.column_config.NumberColumn(format="%.1f%%"),
            "Expected next month": st.column_config.NumberColumn(format="%.1f"),
        },
    )

    files = _downloads(ds, hs, state.results_key(ds), f)
    stem = f"hotspots_{f.method}_{f.month_from}_{f.month_to}"
    d1, d2, d3, d4 = st.columns(4)
    d1.download_button("CSV", files["csv"], f"{stem}.csv", "text/csv", key="dl_csv")
    d2.download_button(
        "GeoJSON", files["geojson"], f"{stem}.geojson", "application/geo+json", key="dl_geojson"
    )
    d3.download_button(
        "GeoPackage", files["gpkg"], f"{stem}.gpkg", "application/geopackage+sqlite3", key="dl_gpkg"
    )
    d4.download_button("HTML map", files["html"], f"{stem}.html", "text/html", key="dl_html")

    names = {int(r): f"#{int(r)} {n}" for r, n in zip(table["rank"], table["name"], strict=True)}
    focus = st.selectbox(
        "Map",
        [0, *names],
        key="patrol_focus",
        format_func=lambda r: "Whole borough" if r == 0 else f"Zoom to hotspot {names[r]}",
    )
    fit = None
    if focus:
        chosen = hs.hotspots[hs.hotspots["rank"] == focus]
        layers = hotspot_layers(ds, f, chosen)
        fit = hotspot_frame(chosen)
        st.caption(
            "Single incident points show from zoom 15; click one for its street, types and months."
        )
    else:
        layers = map_view.map_layers(ds, f, hs, areas=False, points=False, density=False)
    map_view.show_map(layers, f, key="patrol_map", height=map_view.VIEW_MAP_HEIGHT, fit=fit)
    drill.hotspot_drill(
        state.filtered(ds, f.types, f.month_from, f.month_to), hs.hotspots, key="patrol_drill"
    )

    st.subheader("Printable plan")
    st.caption(
        "Download the plan as an A4 PDF or one offline HTML page (title, area, period, "
        "method, the map with rank numbers, and the table), or print this page from "
        "the browser (Ctrl+P prints the view without the sidebar)."
    )
    if st.button("Prepare the patrol plan to download", key="prepare_plan"):
        st.session_state["plan_ready"] = state.results_key(ds)
    if st.session_state.get("plan_ready") == state.results_key(ds):
        where = streets_path()
        key = f"{state.results_key(ds)}:{state.file_stamp(where) if where else ''}"
        plan = _plan_files(ds, hs, key, f)
        p1, p2 = st.columns(2)
        if "pdf" in plan:
            p1.download_button(
                "Patrol plan (PDF)",
                plan["pdf"],
                f"{stem}_plan.pdf",
                "application/pdf",
                key="dl_plan_pdf",
            )
        else:
            p1.caption(str(plan.get("note", "")))
        p2.download_button(
            "Patrol plan (HTML)", plan["html"], f"{stem}_plan.html", "text/html", key="dl_plan_html"
        )
    st.markdown(
        f"**{md_escape(f.types_label)}, {md_escape(f.period_label)}**, {md_escape(f.method_label)}"
    )
    st.markdown(_printable(table))
