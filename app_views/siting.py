"""The Venue siting view: reach of the Friday Night Football venues and where to add one.

Demand is the located ASB of the sidebar's months inside the hotspots (found by the
sidebar's method on ASB), or all located ASB. Reach is a straight-line radius the user
sets. The venues are editable (added, moved by their coordinates, removed); edits are
checked by the same rules as the venue file and saved atomically to the user's own
copy (``$HOTSPOTS_USER_DIR``), never over the shipped file.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import geopandas as gpd
import pandas as pd
import streamlit as st

from analysis.network import WalkNetwork, reach_shares, venue_catchments
from analysis.siting import (
    candidate_sites,
    hotspot_demand,
    maximal_covering,
    rank_candidates,
    reach_table,
    venue_change_effect,
)
from app_views import map_view, state
from app_views import streets as street_files
from app_views.filters import Filters
from app_views.state import Dataset
from app_views.uploads import first_line
from geo.crs import BNG, WGS84, transformer
from geo.errors import InputError
from geo.paths import VENUES_PATH
from geo.places import VENUE_COLUMNS, load_venues, save_venues
from geo.schema import ASB
from geo.writers import csv_bytes
from render.map import MapLayers

__all__ = [
    "EDIT_COLUMNS",
    "reach_display",
    "demand_for",
    "edited_venues",
    "hedge_end_effect",
    "render",
]

EDIT_COLUMNS = [
    "name",
    "place",
    "status",
    "hours_per_session",
    "average_attendance",
    "easting",
    "northing",
    "location_precision",
    "note",
]
"""Venue columns shown in the editor (lon/lat are recomputed from easting/northing)."""

_BASE = "venues_base"
_EDITED = "venues_edited"
_EDITOR = "venue_editor"
_CLICK = "site_click"


def demand_for(ds: Dataset, f: Filters, *, inside_hotspots: bool) -> gpd.GeoDataFrame:
    """Demand points: located ASB of the months, inside the ASB hotspots or all of it."""
    asb = state.filtered(ds, (ASB,), f.month_from, f.month_to)
    polys = None
    if inside_hotspots:
        hs = state.hotspots(ds, (ASB,), f.month_from, f.month_to, f.hotspot_params())
        polys = hs.hotspots
    return hotspot_demand(asb, polys)


def edited_venues(table: pd.DataFrame) -> gpd.GeoDataFrame:
    """Check an edited venue table with the venue file's own rules and return the venues.

    Raises
    ------
    InputError
        Naming every problem by line, venue and column.
    """
    frame = table.copy()
    for col in VENUE_COLUMNS:
        if col not in frame.columns:
            frame[col] = ""
    frame["lon"] = ""
    frame["lat"] = ""
    frame = frame[list(VENUE_COLUMNS)]
    frame = frame.astype(object).where(frame.notna(), "")
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "venues_being_edited.csv"
        frame.to_csv(path, index=False)
        try:
            return load_venues(path)
        except InputError as exc:
            msg = str(exc).replace(str(path), "the edited venues")
            raise InputError(msg) from None


def hedge_end_effect(
    venues: gpd.GeoDataFrame, demand: gpd.GeoDataFrame, radius_m: float
) -> dict[str, object] | None:
    """Share within reach of the running venues, before and after adding the planned ones."""
    planned = venues[venues["status"] == "planned"]
    if planned.empty:
        return None
    return venue_change_effect(
        venues, demand, radius_m=radius_m, add=list(planned["name"].astype(str))
    )


@st.cache_data(
    max_entries=16, ttl=state.RESULTS_TTL, show_spinner="Solving the maximal covering problem\u2026"
)
def _mclp(
    _existing: gpd.GeoDataFrame,
    _cands: gpd.GeoDataFrame,
    _demand: gpd.GeoDataFrame,
    cache_key: tuple,  # noqa: ARG001 - keys the cache for the unhashed frames
    radius_m: float,
    p_new: int,
) -> tuple[pd.DataFrame, float, float, str]:
    res = maximal_covering(
        _existing, _cands, _demand, radius_m=radius_m, p_new=p_new, time_limit_s=20.0
    )
    return (
        pd.DataFrame(res.chosen.drop(columns="geometry")),
        res.share_before,
        res.share_after,
        res.status,
    )


def _base_table() -> pd.DataFrame:
    if _BASE not in st.session_state:
        v = state.venues()
        st.session_state[_BASE] = pd.DataFrame(v[EDIT_COLUMNS]).reset_index(drop=True)
    return st.session_state[_BASE]


def _add_clicked_venue() -> None:
    pt = st.session_state.get(_CLICK)
    base = st.session_state.get(_EDITED, st.session_state.get(_BASE))
    if pt is None or base is None:
        return
    row = dict.fromkeys(EDIT_COLUMNS, "")
    row.update(
        name=f"New venue {len(base) + 1}",
        place="",
        status="planned",
        easting=round(pt[0]),
        northing=round(pt[1]),
        location_precision="approximate: clicked on the map in the app",
    )
    st.session_state[_BASE] = pd.concat([base, pd.DataFrame([row])], ignore_index=True)
    st.session_state.pop(_EDITOR, None)


def _reset_venues() -> None:
    st.session_state.pop(_BASE, None)
    st.session_state.pop(_EDITOR, None)


def _pct(v: float) -> str:
    return "\u2013" if pd.isna(v) else f"{v * 100:.1f}%"


def render(ds: Dataset, f: Filters) -> None:
    """Draw the Venue siting view."""
    st.header("Venue siting")
    c1, c2 = st.columns(2)
    radius_m = float(c1.slider("Reach (m)", 200, 3000, 800, 50, key="reach_m"))
    mode = c2.radio(
        "Demand",
        ["hotspots", "all"],
        key="demand_mode",
        horizontal=True,
        format_func={"hotspots": "ASB inside hotspots", "all": "All located ASB"}.__getitem__,
    )
    st.caption(
        f"Demand: anti-social behaviour {f.period_label} with a map point"
        + (f", inside the hotspots found by {f.method_label}" if mode == "hotspots" else "")
        + ". police.uk does not say who was involved, so all ASB stands in for youth-related "
        "ASB."
    )
    try:
        demand = demand_for(ds, f, inside_hotspots=mode == "hotspots")
    except InputError as exc:
        state.show_input_error("No demand to measure", exc)
        return

    st.subheader("Venues")
    st.caption(
        "Edit, add or remove rows; move a venue by changing its easting/northing (metres, "
        "British National Grid), or click the map and add a venue there. "
        f"Saved copies go to {state.user_dir()}; the shipped file is never changed."
    )
    base = _base_table()
    edited = st.data_editor(
        base,
        key=_EDITOR,
        num_rows="dynamic",
        hide_index=True,
        width="stretch",
        column_config={
            "status": st.column_config.SelectboxColumn(options=["running", "planned"]),
            "easting": st.column_config.NumberColumn(format="%d"),
            "northing": st.column_config.NumberColumn(format="%d"),
        },
    )
    st.session_state[_EDITED] = edited
    try:
        venues = edited_venues(edited)
    except InputError as exc:
        st.error(f"The venues as edited cannot be used: {exc}")
        venues = state.venues()
        st.caption("Showing the venues as last loaded until the edits are fixed.")
    b1, b2, b3, b4 = st.columns(4)
    if b1.button("Save my venues", key="save_venues"):
        try:
            path = save_venues(venues, state.user_dir() / VENUES_PATH.name)
        except (InputError, OSError) as exc:
            st.error(f"Not saved: {exc}")
        else:
            st.success(f"Saved to {path}")
    b2.download_button(
        "Download venues (CSV)",
        csv_bytes(pd.DataFrame(venues.drop(columns="geometry"))),
        "friday_night_football.csv",
        "text/csv",
        key="dl_venues",
    )
    b3.button(
        "Add a venue at the clicked point",
        key="add_clicked",
        on_click=_add_clicked_venue,
        disabled=st.session_state.get(_CLICK) is None,
    )
    b4.button("Undo my edits", key="reset_venues", on_click=_reset_venues)

    net = _network()
    walking = _walking_shares(net, venues, demand, radius_m) if net is not None else None
    _reach(venues, demand, radius_m, walking)
    catchments = _catchments(net, venues, radius_m) if net is not None else None
    _candidates(ds, f, venues, demand, radius_m, catchments)


def _network() -> WalkNetwork | None:
    """The walking graph, or None (the view then says reach is in a straight line)."""
    try:
        net = street_files.walk_network()
    except InputError as exc:
        st.warning(
            f"Streets not used ({str(exc).splitlines()[0]}): reach is measured in a straight line."
        )
        return None
    if net is None:
        st.info(
            "Reach is measured in a straight line: no street file is loaded. Load one in the "
            "Data view (or start the app with --streets FILE) to measure it on foot along "
            "the streets."
        )
    return net


def _venue_key(venues: gpd.GeoDataFrame) -> tuple:
    return tuple(
        (str(n), round(g.x), round(g.y))
        for n, g in zip(venues["name"], venues.geometry, strict=True)
    )


@st.cache_data(max_entries=16, ttl=state.RESULTS_TTL, show_spinner="Walking the streets\u2026")
def _walking_cached(
    _net: WalkNetwork,
    _venues: gpd.GeoDataFrame,
    _demand: gpd.GeoDataFrame,
    cache_key: tuple,  # noqa: ARG001 - keys the cache for the unhashed objects
    radius_m: float,
) -> pd.DataFrame:
    return reach_shares(_net, _venues, _demand, distance_m=radius_m)


def _walking_shares(
    net: WalkNetwork, venues: gpd.GeoDataFrame, demand: gpd.GeoDataFrame, radius_m: float
) -> pd.DataFrame | None:
    """Walking and straight-line reach of each venue (None if it cannot be measured)."""
    key = (
        id(net),
        len(net.links),
        _venue_key(venues),
        tuple(map(tuple, demand[["x", "y", "weight"]].to_numpy().round(1).tolist())),
    )
    try:
        return _walking_cached(net, venues, demand, key, radius_m)
    except InputError as exc:
        st.warning(f"Walking reach not measured: {first_line(exc)}")
        return None


@st.cache_data(max_entries=16, ttl=state.RESULTS_TTL, show_spinner="Drawing the catchments\u2026")
def _catchments_cached(
    _net: WalkNetwork,
    _venues: gpd.GeoDataFrame,
    cache_key: tuple,  # noqa: ARG001 - keys the cache
    radius_m: float,
) -> gpd.GeoDataFrame:
    return venue_catchments(_net, _venues, radius_m)


def _catchments(
    net: WalkNetwork, venues: gpd.GeoDataFrame, radius_m: float
) -> gpd.GeoDataFrame | None:
    try:
        return _catchments_cached(net, venues, (id(net), _venue_key(venues)), radius_m)
    except InputError as exc:
        st.warning(f"Walking catchments not drawn: {first_line(exc)}")
        return None


def _reach(
    venues: gpd.GeoDataFrame,
    demand: gpd.GeoDataFrame,
    radius_m: float,
    walking: pd.DataFrame | None = None,
) -> None:
    total = int(demand["weight"].sum()) if len(demand) else 0
    effect = hedge_end_effect(venues, demand, radius_m)
    st.subheader("Share of hotspot ASB within reach")
    if effect is not None:
        added = ", ".join(n for n in effect["venues_after"] if n not in effect["venues_before"])
        m1, m2, m3 = st.columns(3)
        m1.metric(
            "Running venues",
            _pct(effect["share_before"]),
            help=f"{effect['count_before']:,.0f} of {total:,} incidents",
        )
        m2.metric(
            f"After adding {added}",
            _pct(effect["share_after"]),
            delta=f"{effect['difference'] * 100:+.1f} points",
            help=f"{effect['count_after']:,.0f} of {total:,} incidents",
        )
        m3.metric("Demand (incidents)", f"{total:,}")
        st.markdown(
            f"Within {radius_m:,.0f} m, the running venues reach **{_pct(effect['share_before'])}**"
            f" of the demand; adding **{added}** brings it to "
            f"**{_pct(effect['share_after'])}**."
        )
    table = reach_table(venues, demand, radius_m=radius_m)
    st.dataframe(reach_display(table, walking), hide_index=True, width="stretch")
    if walking is not None:
        both = walking.iloc[-1]
        st.markdown(
            f"All venues together: **{_pct(both['walking_share'])}** of the demand within "
            f"{radius_m:,.0f} m **on foot along the streets**, against "
            f"**{_pct(both['straight_line_share'])}** within {radius_m:,.0f} m **in a straight "
            "line**."
        )
        st.caption(
            "On foot: from the venue to its nearest street, along the streets, to the "
            "incident's map point. Straight line: within a circle of that radius. Incidents "
            "beyond the streets loaded are never within walking reach."
        )
    else:
        st.caption(f"Reach: within {radius_m:,.0f} m in a straight line.")


def reach_display(table: pd.DataFrame, walking: pd.DataFrame | None = None) -> pd.DataFrame:
    """The reach table as shown: human headings, shares as percentages with one decimal.

    >>> t = pd.DataFrame({"venue": ["A"], "status": ["running"], "radius_m": [800.0],
    ...                   "points": [3], "count": [10], "share": [0.25]})
    >>> reach_display(t).to_dict("records")
    [{'Venue': 'A', 'Status': 'running', 'Reach (m)': '800', 'Incidents within reach, straight line': '10', 'Share, straight line': '25.0%'}]
    """
    out = pd.DataFrame(
        {
            "Venue": table["venue"].astype(str),
            "Status": table["status"].fillna("").astype(str),
            "Reach (m)": table["radius_m"].map("{:,.0f}".format),
            "Incidents within reach, straight line": table["count"].map("{:,.0f}".format),
            "Share, straight line": table["share"].map(_pct),
        }
    )
    if walking is not None:
        by = walking.set_index("venue")
        known = out["Venue"].isin(by.index)
        count = out["Venue"].map(by["walking_count"])
        share = out["Venue"].map(by["walking_share"])
        out["Incidents within reach, on foot"] = [
            f"{c:,.0f}" if k else "\u2013" for c, k in zip(count, known, strict=True)
        ]
        out["Share, on foot"] = [
            _pct(v) if k else "\u2013" for v, k in zip(share, known, strict=True)
        ]
    return out


def _candidates(
    ds: Dataset,
    f: Filters,
    venues: gpd.GeoDataFrame,
    demand: gpd.GeoDataFrame,
    radius_m: float,
    catchments: gpd.GeoDataFrame | None = None,
) -> None:
    st.subheader("Where a new venue would reach most")
    hs = None
    if st.session_state.get("demand_mode", "hotspots") == "hotspots":
        hs = map_view.hotspot_result(ds, f)
    click = st.session_state.get(_CLICK)
    shown = venues
    if click is not None:
        extra = gpd.GeoDataFrame(
            {"name": ["Clicked point"], "status": ["clicked candidate"]},
            geometry=gpd.points_from_xy([click[0]], [click[1]]),
            crs=BNG,
        )
        shown = gpd.GeoDataFrame(pd.concat([venues, extra], ignore_index=True), crs=BNG)
    layers = MapLayers(
        borough=state.borough(),
        outlines=state.core_area().local_names[["name", "geometry"]],
        hotspots=hs.hotspots if hs is not None and len(hs.hotspots) else None,
        points=pd.DataFrame(
            {
                "x": demand["x"].repeat(demand["weight"]).to_numpy(),
                "y": demand["y"].repeat(demand["weight"]).to_numpy(),
            }
        ),
        venues=shown,
        venue_rings_m=(radius_m,),
        schools=map_view.optional_layer("Schools", state.schools_near),
        stations=map_view.optional_layer("Rail stations", state.stations_near),
        labels=map_view.place_labels(),
        streets=street_files.streets_for_map(),
        catchments=catchments,
    )
    if catchments is not None:
        st.caption(
            f"Green shapes: where each venue reaches within {radius_m:,.0f} m on foot along "
            f"the streets; the rings around the venues: {radius_m:,.0f} m in a straight line."
        )
    out = map_view.show_map(layers, f, key="siting_map", height=map_view.VIEW_MAP_HEIGHT)
    pt = map_view.clicked_point(out)
    if pt is not None and pt != st.session_state.get(_CLICK):
        st.session_state[_CLICK] = pt
        st.rerun()
    if click is not None:
        lon, lat = transformer(BNG, WGS84).transform(*click)
        st.caption(
            f"Clicked point: {click[0]:,.0f} E, {click[1]:,.0f} N ({lat:.5f}, {lon:.5f}); "
            "it is ranked with the other candidates below."
        )

    running = venues[venues["status"] != "planned"]
    clicked_ll = None
    if click is not None:
        lon, lat = transformer(BNG, WGS84).transform(*click)
        clicked_ll = (lon, lat)
    try:
        cands = candidate_sites(
            schools=map_view.optional_layer("Schools", state.schools_near),
            stations=map_view.optional_layer("Rail stations", state.stations_near),
            gazetteer=map_view.optional_layer("Places", state.gazetteer),
            clicked=clicked_ll,
            venues=venues,
        )
        ranked = rank_candidates(
            running, cands, demand, radius_m=radius_m, n_new=min(3, len(cands))
        )
    except InputError as exc:
        st.warning(f"Candidates cannot be ranked: {exc}")
        return
    st.caption(
        f"{len(cands)} candidates: planned venues, schools, rail stations, named places"
        + (" and the clicked point" if click is not None else "")
        + ". 'Further share' is the share of demand a site reaches that no running venue "
        "reaches already."
    )
    top = pd.DataFrame(ranked.drop(columns="geometry")).head(20)
    top["greedy_order"] = top["greedy_order"].astype("string").fillna("")
    shown = top[
        ["rank", "name", "kind", "reach_share", "gain_share", "share_after", "greedy_order"]
    ].rename(
        columns={
            "rank": "Rank",
            "name": "Site",
            "kind": "Kind",
            "reach_share": "Reach on its own",
            "gain_share": "Further share",
            "share_after": "With running venues",
            "greedy_order": "Greedy pick",
        }
    )
    for col in ("Reach on its own", "Further share", "With running venues"):
        shown[col] = shown[col].map(_pct)
    st.dataframe(shown, hide_index=True, width="stretch")
    p_new = int(
        st.number_input("New venues to choose together (maximal covering)", 1, 5, 1, key="p_new")
    )
    key = (
        state.results_key(ds),
        f.month_from,
        f.month_to,
        tuple(sorted(f.hotspot_params().items())),
        st.session_state.get("demand_mode"),
        tuple(map(tuple, running.geometry.apply(lambda g: (round(g.x), round(g.y))))),
        click,
    )
    try:
        chosen, before, after, status = _mclp(running, cands, demand, key, radius_m, p_new)
    except InputError as exc:
        st.warning(f"Maximal covering not solved: {exc}")
        return
    st.markdown(
        f"Best {p_new} new site{'s' * (p_new > 1)} together ({status}): "
        + ", ".join(f"**{n}** ({k})" for n, k in zip(chosen["name"], chosen["kind"], strict=True))
        + f". Running venues reach {_pct(before)}; with these, {_pct(after)}."
    )
