"""The Tasking review view: this period against the previous one of the same length.

"This period" is the sidebar's month range; "the previous period" is the same number
of months just before it. Change by area is tested with the exact conditional Poisson
test (:func:`analysis.rates.period_change`); hotspots of the two periods are classed
new, intensifying, persistent, diminishing or gone (:func:`analysis.change.classify_change`).
"""

from __future__ import annotations

import geopandas as gpd
import pandas as pd
import streamlit as st

from analysis.change import classify_change
from analysis.emerging import EmergingResult, emerging_hotspots
from analysis.naming import names_for
from analysis.periods import contiguous_runs, previous_period
from analysis.rates import period_change
from app_views import map_view, state
from app_views.filters import Filters
from app_views.printing import pack_files
from app_views.state import Dataset, level_labels
from geo.errors import InputError
from geo.published import check_review_tables, checks_to_frame
from geo.schema import ASB
from geo.study_area import EASTLEIGH
from packs import tasking_pack
from render.map import MapLayers

__all__ = ["change_by_area", "hotspot_change", "monthly_by_area", "render", "suggest_period"]


def suggest_period(months: list[str]) -> tuple[str, str] | None:
    """The latest period whose previous period of the same length is loaded too.

    Examples
    --------
    >>> suggest_period(["2017-02", "2017-03", "2017-04", "2017-05", "2022-02"])
    ('2017-04', '2017-05')
    """
    for run in reversed(contiguous_runs(months)):
        if len(run) >= 2:
            half = len(run) // 2
            return run[-half], run[-1]
    return None


@st.cache_data(
    max_entries=32, ttl=state.RESULTS_TTL, show_spinner="Testing the change by area\u2026"
)
def _change_by_area(
    _ds: Dataset,
    cache_key: str,  # noqa: ARG001 - keys the cache for the unhashed frames
    level: str,
    types: tuple[str, ...],
    before: tuple[str, str],
    after: tuple[str, str],
) -> pd.DataFrame:
    return period_change(
        _ds.incidents, state.core_area().level(level), before=before, after=after, types=list(types)
    )


def change_by_area(
    ds: Dataset, f: Filters, before: tuple[str, str], after: tuple[str, str]
) -> pd.DataFrame:
    """Counts by area in both periods, with the p-value and whether it is more than noise."""
    return _change_by_area(ds, state.results_key(ds), f.level, f.types, before, after)


@st.cache_data(
    max_entries=16,
    ttl=state.RESULTS_TTL,
    show_spinner="Classing the hotspots of both periods\u2026",
)
def _hotspot_change(
    _ds: Dataset,
    cache_key: str,  # noqa: ARG001 - keys the cache for the unhashed frames
    types: tuple[str, ...],
    before: tuple[str, str],
    after: tuple[str, str],
    params: tuple[tuple[str, object], ...],
    months: int,
) -> gpd.GeoDataFrame:
    p = dict(params)
    hs_before = state.hotspots(_ds, types, *before, p)
    hs_after = state.hotspots(_ds, types, *after, p)
    inc_before = state.filtered(_ds, types, *before)
    inc_after = state.filtered(_ds, types, *after)
    return classify_change(
        hs_before.hotspots,
        hs_after.hotspots,
        inc_before,
        inc_after,
        months_before=months,
        months_after=months,
    )


def hotspot_change(
    ds: Dataset, f: Filters, before: tuple[str, str], after: tuple[str, str], months: int
) -> gpd.GeoDataFrame:
    """Hotspots of the two periods classed new/intensifying/persistent/diminishing/gone."""
    params = tuple(sorted(f.hotspot_params().items()))
    return _hotspot_change(ds, state.results_key(ds), f.types, before, after, params, months)


def monthly_by_area(ds: Dataset, f: Filters, level: str) -> pd.DataFrame:
    """Incidents of the chosen types by month (rows) and area (columns), every month loaded."""
    sub = state.filtered(ds, f.types, ds.months[0], ds.months[-1])
    col = state.core_area().level(level).column
    names = state.level_areas(level).set_index("code")["name"]
    table = pd.crosstab(sub["month"], sub[col].map(names).fillna("(no area)"))
    return table.reindex(ds.months, fill_value=0)


def _set_months(months: tuple[str, str]) -> None:
    st.session_state["months"] = months


LATEST = "latest"
"""Compare mode: the latest month against the month before and the same month a year before."""
SIDEBAR = "sidebar"
"""Compare mode: the sidebar's months against the same number of months before them."""


def _shift(month: str, n: int) -> str:
    return str(pd.Period(month, freq="M") + n)


def _latest_month(ds: Dataset, f: Filters) -> None:
    """The latest loaded month against the month before and the same month a year before."""
    this = ds.months[-1]
    st.caption(
        f"{f.types_label}: {this}, the latest month loaded, against the month before "
        f"({_shift(this, -1)}) and the same month a year before ({_shift(this, -12)})."
    )
    shown = False
    for label, month in (
        ("the month before", _shift(this, -1)),
        ("the same month a year before", _shift(this, -12)),
    ):
        if month not in ds.months:
            st.warning(f"{month} ({label}) is not loaded: that comparison cannot be made.")
            continue
        st.markdown(f"### {this} against {label}, {month}")
        _comparison(ds, f, (month, month), (this, this), 1, maps=not shown)
        shown = True


@st.cache_data(max_entries=4, ttl=state.RESULTS_TTL, show_spinner="Printing the tasking pack\u2026")
def _tasking_files(
    _ds: Dataset,
    cache_key: str,  # noqa: ARG001 - keys the cache
    month: str,
    types: tuple[str, ...],
) -> dict[str, bytes | str]:
    pack = tasking_pack(
        month,
        _ds.incidents,
        area=state.study_area(),
        types=types or (ASB,),
        caveats=[_ds.caveat] if _ds.caveat else [],
    )
    return pack_files(pack)


def _tasking_download(ds: Dataset, f: Filters) -> None:
    """The monthly tasking pack of the latest month, as an A4 PDF and an HTML page."""
    this = ds.months[-1]
    if st.button(f"Prepare the tasking pack for {this} to download", key="prepare_tasking"):
        st.session_state["tasking_ready"] = (state.results_key(ds), this, f.types)
    if st.session_state.get("tasking_ready") != (state.results_key(ds), this, f.types):
        return
    try:
        files = _tasking_files(ds, state.results_key(ds), this, f.types)
    except InputError as exc:
        state.show_input_error("The tasking pack cannot be made", exc)
        return
    t1, t2 = st.columns(2)
    if "pdf" in files:
        t1.download_button(
            "Tasking pack (PDF)",
            files["pdf"],
            f"tasking_{this}.pdf",
            "application/pdf",
            key="dl_tasking_pdf",
        )
    else:
        t1.caption(str(files.get("note", "")))
    t2.download_button(
        "Tasking pack (HTML)",
        files["html"],
        f"tasking_{this}.html",
        "text/html",
        key="dl_tasking_html",
    )


def render(ds: Dataset, f: Filters) -> None:
    """Draw the Tasking review view."""
    st.header("Tasking review")
    if ds.months:
        _tasking_download(ds, f)
    mode = st.radio(
        "Compare",
        [LATEST, SIDEBAR],
        key="tasking_mode",
        horizontal=True,
        format_func={
            LATEST: "Latest month: month before and a year before",
            SIDEBAR: "The sidebar's months: the period before",
        }.__getitem__,
    )
    if mode == LATEST and ds.months:
        _latest_month(ds, f)
        _trend_and_published(ds, f)
        return
    n = len(pd.period_range(f.month_from, f.month_to, freq="M"))
    before = previous_period(f.month_from, f.month_to)
    after = (f.month_from, f.month_to)
    loaded_before = [m for m in ds.months if before[0] <= m <= before[1]]
    st.caption(
        f"{f.types_label}: this period {f.period_label} ({n} month{'s' * (n > 1)}) against the "
        f"previous {n} month{'s' * (n > 1)}, {before[0]} to {before[1]}."
    )
    if not loaded_before:
        st.warning(
            f"No data is loaded for the previous period ({before[0]} to {before[1]}), so "
            "nothing can be compared. Choose a later month range in the sidebar."
        )
        pick = suggest_period(ds.months)
        if pick is not None:
            st.button(
                f"Compare {pick[0]} to {pick[1]} with the {len(pd.period_range(*pick, freq='M'))}"
                " months before",
                on_click=_set_months,
                args=(pick,),
                key="tasking_suggest",
            )
    else:
        if len(loaded_before) < n:
            st.warning(
                f"Only {len(loaded_before)} of the {n} previous months are loaded "
                f"({', '.join(loaded_before)}); the comparison undercounts the previous period."
            )
        _comparison(ds, f, before, after, n)
    _trend_and_published(ds, f)


@st.cache_resource(
    max_entries=8, ttl=state.RESULTS_TTL, show_spinner="Classing emerging hot spots\u2026"
)
def _emerging(
    _ds: Dataset,
    cache_key: str,  # noqa: ARG001 - keys the cache
    types: tuple[str, ...],
    months: tuple[str, ...],
) -> EmergingResult:
    inc = state.filtered(_ds, types, months[0], months[-1])
    return emerging_hotspots(inc, study_area=state.core_area().geometry, months=months)


def _emerging_section(ds: Dataset, f: Filters, *, maps: bool = True) -> None:
    """Emerging hot spots over the chosen months: a space-time cube of 200 m bins.

    The summary by class, then (when ``maps``) the bins drawn by class, then the hot
    spot bins one by one.
    """
    st.subheader("Emerging hot spots")
    months = [m for m in ds.months if f.month_from <= m <= f.month_to]
    run = max(contiguous_runs(months), key=len) if months else []
    if len(run) < 4:
        st.caption(
            "Emerging hot spots need at least four consecutive months in the sidebar's "
            "range: each 200 m bin's monthly series is tested for a trend."
        )
        return
    try:
        res = _emerging(ds, state.results_key(ds), f.types, tuple(run))
    except InputError as exc:
        state.show_input_error("Emerging hot spots not available", exc)
        return
    st.caption(res.description)
    shown = res.summary.rename(
        columns={
            "class": "pattern",
            "bins": "200 m bins",
            "incidents": "incidents",
            "share": "share of incidents",
        }
    )
    st.dataframe(
        shown.assign(**{"share of incidents": shown["share of incidents"] * 100}),
        hide_index=True,
        width="stretch",
        column_config={"share of incidents": st.column_config.NumberColumn(format="%.1f%%")},
    )
    cells = res.cells[res.cells["class"] != "no pattern detected"]
    if maps and len(cells):
        map_view.show_map(
            MapLayers(
                borough=state.borough(),
                outlines=state.level_areas(f.level)[["name", "geometry"]],
                emerging=cells,
                labels=map_view.place_labels(),
            ),
            f,
            key="emerging_map",
            height=map_view.VIEW_MAP_HEIGHT,
        )
    hot = res.cells[res.cells["class"].str.contains("hot", case=False)]
    if len(hot):
        names = (
            names_for(
                hot.geometry.centroid.to_frame("geometry").set_crs(hot.crs), state.gazetteer()
            )
            if state.core_area().code == EASTLEIGH
            else None
        )
        table = pd.DataFrame(
            {
                "pattern": hot["class"].to_numpy(),
                "near": names.to_numpy() if names is not None else "",
                "incidents": hot["count"].to_numpy(),
                "hot months": hot["hot_months"].to_numpy(),
                "trend z": hot["trend_z"].round(2).to_numpy(),
            }
        ).sort_values(["incidents"], ascending=False)
        st.dataframe(table, hide_index=True, width="stretch")


def _trend_and_published(ds: Dataset, f: Filters) -> None:
    _emerging_section(ds, f)
    # LSOAs are too many to draw as lines: their local areas (or wards) instead.
    levels = state.core_area().levels
    level = (
        next((k for k in ("local_area", "ward") if k in levels), f.level)
        if f.level in ("lsoa", "lsoa21")
        else f.level
    )
    label = levels[level].label  # "Wards (2018)" -> "wards (2018)"; "LSOAs (2011)" stays
    st.subheader(
        f"Monthly trend by {label if label[:2].isupper() else label[0].lower() + label[1:]}"
    )
    trend = monthly_by_area(ds, f, level)
    ranked = trend.sum().sort_values(ascending=False).index.tolist()
    chosen = st.session_state.get("trend_areas")
    if (
        chosen is None
        or not set(chosen) <= set(ranked)
        or st.session_state.get("_trend_level") != level
    ):
        st.session_state["trend_areas"] = ranked[:5]
        st.session_state["_trend_level"] = level
    picked = st.multiselect(
        "Areas", ranked, key="trend_areas", help="The five with most incidents are shown first."
    )
    st.line_chart(trend[picked] if picked else trend, height=300)
    st.caption("Every month loaded; a gap between loaded months is drawn as a straight line.")

    _published()


def _comparison(
    ds: Dataset,
    f: Filters,
    before: tuple[str, str],
    after: tuple[str, str],
    n: int,
    *,
    maps: bool = True,
) -> None:
    change = change_by_area(ds, f, before, after)
    total_before, total_after = int(change["before"].sum()), int(change["after"].sum())
    c1, c2, c3 = st.columns(3)
    c1.metric(f"Previous period ({before[0]} to {before[1]})", f"{total_before:,}")
    pct = (total_after - total_before) / total_before * 100 if total_before else float("nan")
    c2.metric(
        f"This period ({after[0]} to {after[1]})",
        f"{total_after:,}",
        delta=None if pd.isna(pct) else f"{pct:+.1f}%",
        delta_color="inverse",
    )
    c3.metric("Areas with a change beyond noise", int(change["significant"].sum()))

    st.subheader(f"Change by {level_labels()[f.level].lower()}", anchor=False)
    rates = state.rates(ds, f.level, f.types, *after).set_index("code")
    show = change.assign(
        rate_per_1000=change["code"].map(rates["rate_per_1000"]),
        vs_borough=change["code"].map(rates["vs_borough"]),
    )[
        [
            "name",
            "before",
            "after",
            "change",
            "change_pct",
            "p_value",
            "direction",
            "rate_per_1000",
            "vs_borough",
        ]
    ]
    st.dataframe(
        show.rename(
            columns={
                "change_pct": "change %",
                "p_value": "p-value",
                "rate_per_1000": "rate per 1,000 (this period)",
                "vs_borough": "vs borough rate",
            }
        ),
        hide_index=True,
        width="stretch",
        column_config={
            "change %": st.column_config.NumberColumn(format="%.1f"),
            "p-value": st.column_config.NumberColumn(format="%.3f"),
            "rate per 1,000 (this period)": st.column_config.NumberColumn(format="%.2f"),
        },
    )
    st.caption(
        "A change is 'more than noise' when the exact conditional Poisson test gives p < 0.05 "
        "(given the two periods' total, is this period's share unlikely if nothing changed?)."
    )

    st.subheader("Hotspot change", anchor=False)
    try:
        classed = hotspot_change(ds, f, before, after, n)
    except InputError as exc:
        state.show_input_error("Hotspot change not available", exc)
        return
    counts = classed["status"].value_counts()
    cols = st.columns(5)
    for col, status in zip(
        cols, ("new", "intensifying", "persistent", "diminishing", "gone"), strict=True
    ):
        col.metric(status.capitalize(), int(counts.get(status, 0)))
    layers = MapLayers(
        borough=state.borough(),
        outlines=state.level_areas(f.level)[["name", "geometry"]],
        change=classed if len(classed) else None,
        labels=map_view.place_labels(),
    )
    if maps:
        map_view.show_map(layers, f, key="tasking_map", height=map_view.VIEW_MAP_HEIGHT)
    st.dataframe(
        pd.DataFrame(classed.drop(columns="geometry")).rename(
            columns={
                "count_before": "previous period",
                "count_after": "this period",
                "change_pct": "change % (per month)",
                "p_value": "p-value",
            }
        ),
        hide_index=True,
        width="stretch",
        column_config={
            "change % (per month)": st.column_config.NumberColumn(format="%.1f"),
            "p-value": st.column_config.NumberColumn(format="%.3f"),
        },
    )


def _published() -> None:
    st.subheader("The review's published tables, 2021/22")
    try:
        tables = state.review_tables()
    except InputError as exc:
        st.error(f"The review's tables cannot be read: {exc}")
        return
    checks = checks_to_frame(check_review_tables(tables))
    bad = int((~checks["ok"]).sum())
    st.caption(
        f"As printed in the CSP's strategic review 2021/22 (April 2021 to March 2022). "
        f"{len(checks)} stated totals checked against their rows: {len(checks) - bad} add up, "
        f"{bad} do not (the notes say by how much and why)."
    )
    names = [t for t in tables if t != "stated_totals"]
    table = st.selectbox(
        "Table", names, key="review_table", format_func=lambda t: t.replace("_", " ").capitalize()
    )
    st.dataframe(tables[table], hide_index=True, width="stretch")
    st.markdown("**Checks against the review's stated totals**")
    st.dataframe(checks, hide_index=True, width="stretch")
