"""Drill-down and search: a hotspot's own incidents and outcomes, and finding a place.

:func:`hotspot_drill` lists the incidents inside a hotspot (or patrol area) chosen by
rank: month, type, street and police.uk's "Last outcome category" (``outcome``), with
the outcome mix, and offers both as CSV (shares in a numeric ``share_pct`` column).
:func:`search_box` finds a street (from the incidents' locations), a place (the
gazetteer) or an area (every level of the study area) and returns the box to open the
map on.
"""

from __future__ import annotations

import geopandas as gpd
import pandas as pd
import shapely
import streamlit as st

from app_views import state
from app_views.state import level_labels
from geo.writers import csv_bytes

__all__ = [
    "NO_OUTCOME",
    "hotspot_drill",
    "hotspot_incidents",
    "outcome_mix",
    "search_box",
    "search_targets",
]

NO_OUTCOME = "no outcome recorded"
"""Shown for an empty ``outcome`` (police.uk gives none for anti-social behaviour)."""

_LEVEL_WORDS = {
    "ward": "ward",
    "ward2002": "ward 2002",
    "lsoa": "LSOA",
    "lsoa21": "LSOA 2021",
    "local_area": "local area",
    "borough": "borough",
    "district": "district",
}
_PLACE_PAD_M = 600.0
_STREET_PAD_M = 150.0


def hotspot_incidents(incidents: pd.DataFrame, shape: shapely.Geometry) -> pd.DataFrame:
    """The located incidents inside ``shape`` (metres): month, type, street, outcome.

    >>> inc = pd.DataFrame({"x": [0.0, 50.0, 500.0], "y": [0.0, 0.0, 0.0],
    ...                     "has_location": [True, True, True],
    ...                     "month": ["2017-03", "2017-02", "2017-02"],
    ...                     "crime_type": ["Drugs", "Anti-social behaviour", "Drugs"],
    ...                     "location": ["On or near High Street", "On or near Park", "x"],
    ...                     "outcome": ["Under investigation", "", ""]})
    >>> hotspot_incidents(inc, shapely.box(-10, -10, 100, 10)).to_dict("records")[0]
    {'Month': '2017-02', 'Type': 'Anti-social behaviour', 'Street': 'Park', 'Outcome': 'no outcome recorded'}
    """
    located = incidents[incidents["has_location"].to_numpy(bool)]
    inside = shapely.contains_xy(shape, located["x"].to_numpy(float), located["y"].to_numpy(float))
    here = located[inside]
    outcome = here["outcome"] if "outcome" in here.columns else pd.Series("", index=here.index)
    out = pd.DataFrame(
        {
            "Month": here["month"].astype(str),
            "Type": here["crime_type"].astype(str),
            "Street": here["location"]
            .fillna("")
            .astype(str)
            .str.replace(r"^On or near\s+", "", regex=True),
            "Outcome": outcome.fillna("").astype(str).str.strip().replace("", NO_OUTCOME),
        }
    )
    return out.sort_values(["Month", "Type", "Street"], kind="stable").reset_index(drop=True)


def outcome_mix(rows: pd.DataFrame) -> pd.DataFrame:
    """Incidents by outcome, most first, with ``share_pct`` (percent, one decimal).

    >>> rows = pd.DataFrame({"Outcome": ["a", "b", "a", "a"]})
    >>> outcome_mix(rows).to_dict("records")
    [{'Outcome': 'a', 'Incidents': 3, 'share_pct': 75.0}, {'Outcome': 'b', 'Incidents': 1, 'share_pct': 25.0}]
    """
    counts = rows["Outcome"].value_counts()
    total = int(counts.sum())
    return pd.DataFrame(
        {
            "Outcome": counts.index.astype(str),
            "Incidents": counts.to_numpy(int),
            "share_pct": (counts.to_numpy(float) * 100 / total).round(1) if total else 0.0,
        }
    )


def hotspot_drill(
    incidents: pd.DataFrame, hotspots: gpd.GeoDataFrame | None, *, key: str, what: str = "hotspot"
) -> None:
    """Choose a hotspot (or patrol area) by rank; list its incidents and their outcomes."""
    if hotspots is None or not len(hotspots):
        return
    st.subheader(f"Incidents in a {what}")
    ranked = hotspots.sort_values("rank").reset_index(drop=True)
    labels = {int(r): f"#{int(r)} {n}" for r, n in zip(ranked["rank"], ranked["name"], strict=True)}
    rank = st.selectbox(
        f"Which {what}",
        list(labels),
        key=key,
        format_func=labels.__getitem__,
        help="The incidents of the sidebar's types and months inside it.",
    )
    shape = ranked.loc[ranked["rank"] == rank, "geometry"].iloc[0]
    rows = hotspot_incidents(incidents, shape)
    mix = outcome_mix(rows)
    left, right = st.columns([3, 2])
    with left:
        st.markdown(f"**{len(rows):,} incidents in {labels[rank]}**")
        st.dataframe(rows, hide_index=True, width="stretch", height=300)
        st.download_button(
            "Download these incidents (CSV)",
            csv_bytes(rows.rename(columns=str.lower)),
            f"{what}_{rank}_incidents.csv",
            "text/csv",
            key=f"{key}_csv",
        )
    with right:
        st.markdown("**Outcome mix** (police.uk's last outcome category)")
        shown = mix.assign(Share=mix["share_pct"].map("{:.1f}%".format)).drop(columns="share_pct")
        st.dataframe(shown, hide_index=True, width="stretch")
        st.download_button(
            "Download the outcome mix (CSV)",
            csv_bytes(mix.rename(columns=str.lower)),
            f"{what}_{rank}_outcomes.csv",
            "text/csv",
            key=f"{key}_mix_csv",
        )
        if (rows["Outcome"] == NO_OUTCOME).all() and len(rows):
            st.caption("police.uk records no outcome for anti-social behaviour.")


def search_targets(
    incidents: pd.DataFrame,
    gazetteer: gpd.GeoDataFrame | None,
    levels: dict[str, gpd.GeoDataFrame],
) -> dict[str, tuple[float, float, float, float]]:
    """Everything the search finds, each with its box ``(x0, y0, x1, y1)`` in metres.

    Streets come from the incidents' locations ("On or near" dropped), places from the
    gazetteer, areas from each level (labelled with the level's name).

    >>> inc = pd.DataFrame({"x": [10.0, 30.0], "y": [5.0, 5.0], "has_location": [True, True],
    ...                     "location": ["On or near Leigh Road", "On or near Leigh Road"]})
    >>> search_targets(inc, None, {})
    {'Leigh Road (street)': (-140.0, -145.0, 180.0, 155.0)}
    """
    out: dict[str, tuple[float, float, float, float]] = {}
    located = incidents[incidents["has_location"].to_numpy(bool)]
    street = (
        located["location"]
        .fillna("")
        .astype(str)
        .str.replace(r"^On or near\s+", "", regex=True)
        .str.strip()
    )
    ok = street != ""
    boxes = (
        located[ok]
        .assign(street=street[ok])
        .groupby("street")
        .agg(x0=("x", "min"), y0=("y", "min"), x1=("x", "max"), y1=("y", "max"))
    )
    p = _STREET_PAD_M
    # Column by column, not row by row: a rural district has thousands of streets.
    corners = zip(
        (boxes["x0"] - p).tolist(),
        (boxes["y0"] - p).tolist(),
        (boxes["x1"] + p).tolist(),
        (boxes["y1"] + p).tolist(),
        strict=True,
    )
    for name, box in zip(boxes.index, corners, strict=True):
        out[f"{name} (street)"] = box
    if gazetteer is not None:
        _add_boxes(out, gazetteer, "place", pad_m=_PLACE_PAD_M)
    for label, areas in levels.items():
        _add_boxes(out, areas, label)
    return dict(sorted(out.items(), key=lambda kv: kv[0].lower()))


def _add_boxes(
    out: dict[str, tuple[float, float, float, float]],
    frame: gpd.GeoDataFrame,
    label: str,
    *,
    pad_m: float = 0.0,
) -> None:
    """Add each named geometry's box (padded by ``pad_m``) as ``"name (label)"``."""
    geoms = frame.geometry.to_numpy()
    keep = ~(shapely.is_missing(geoms) | shapely.is_empty(geoms))
    geoms = geoms[keep]
    if pad_m:
        geoms = shapely.buffer(geoms, pad_m, quad_segs=16)  # as BaseGeometry.buffer
    names = frame["name"].to_numpy()[keep]
    for name, box in zip(names, shapely.bounds(geoms).tolist(), strict=True):
        out[f"{name} ({label})"] = tuple(box)


def search_box(incidents: pd.DataFrame, *, key: str) -> tuple[float, float, float, float] | None:
    """A search box for a street, place or area; returns the box to zoom the map to."""
    try:
        gaz = state.gazetteer()
    except Exception:  # noqa: BLE001 - search still works without places
        gaz = None
    levels = {}
    for level in level_labels():
        try:
            levels[_LEVEL_WORDS.get(level, level)] = state.level_areas(level)
        except Exception:  # noqa: BLE001, S112 - a level without polygons is left out
            continue
    targets = search_targets(incidents, gaz, levels)
    choice = st.selectbox(
        "Find a street, place or area",
        [""] + list(targets),
        key=key,
        format_func=lambda v: (
            "Type a street, place or ward to zoom the map to it" if v == "" else v
        ),
    )
    return targets.get(choice) if choice else None
