"""The pack tables that carry map layers: hotspots, the review's named hotspots, venue reach.

Internal to the packs (:mod:`packs.review` and :mod:`packs.tasking`): the
hotspot tables with the bandwidth chosen across months when one month is too little, and
the diversion venues' reach. Map layers carry the published (withheld) values, never the
raw ones.
"""

from __future__ import annotations

from collections.abc import Sequence

import geopandas as gpd
import numpy as np
import pandas as pd

from analysis.bandwidth import choose_bandwidth
from analysis.hotspots import detect_hotspots
from analysis.rates import filter_incidents
from analysis.siting import hotspot_demand, reach_table
from geo.schema import ASB
from geo.study_area import StudyArea
from packs.disclosure import suppress_small
from packs.model import BaseMap
from packs.tables import Chart, Table, computed_note, months_in_words, tidy_note

__all__: list[str] = []


def auto_bandwidth(
    sub: gpd.GeoDataFrame, pool: gpd.GeoDataFrame, *, method: str, bandwidth_m: float | str
) -> tuple[float | str, list[str]]:
    """The KDE bandwidth for ``sub``: as given, or chosen across months.

    Left on auto for a single month, it is chosen by cross-validation across the months
    of ``pool`` (the same types, up to the period's end), so that one month is not
    mapped with a rule of thumb.
    """
    if method != "kde" or bandwidth_m != "auto":
        return bandwidth_m, []
    located = sub[sub["has_location"].to_numpy(bool)]
    pool_located = pool[pool["has_location"].to_numpy(bool)]
    if located["month"].nunique() >= 2 or pool_located["month"].nunique() < 2:
        return bandwidth_m, []
    choice = choose_bandwidth(pool_located, "auto")
    note = (
        "One month is too little to choose a bandwidth from, so it was chosen by "
        f"cross-validation across the loaded months {months_in_words(sorted(set(pool_located['month'])))}"
        f": {choice.bandwidth_m:g} m."
    )
    return choice.bandwidth_m, [note]


def _detect(
    sub: gpd.GeoDataFrame,
    pool: gpd.GeoDataFrame,
    *,
    area: StudyArea,
    method: str,
    bandwidth_m: float | str,
) -> tuple[object, list[str]]:
    """Detect hotspots in ``sub`` with :func:`auto_bandwidth`'s bandwidth."""
    bw, notes = auto_bandwidth(sub, pool, method=method, bandwidth_m=bandwidth_m)
    return detect_hotspots(sub, area, method=method, bandwidth_m=bw), notes


MIN_MAPPED = 5
"""Fewest located incidents a pack maps hotspots of: fewer make no pattern (and a
bandwidth cannot be estimated from one), so the pack says so instead."""

_HOTSPOT_COLS = ["rank", "name", "count", "share", "top_streets", "peak_months", "wards"]


def hotspot_tables(
    incidents: gpd.GeoDataFrame,
    months: Sequence[str],
    *,
    area: StudyArea,
    method: str,
    threshold: int | None,
    section: str,
    what: str,
    bandwidth_m: float | str,
    top_n: int,
) -> tuple[list[Table], object]:
    """The hotspot map with its named hotspots, and the review's named hotspots."""
    all_asb = filter_incidents(incidents, types=[ASB])
    sub = all_asb[all_asb["month"].isin(list(months))]
    pool = all_asb[all_asb["month"] <= max(months)]
    note = computed_note(months)
    n_located = int(sub["has_location"].sum())
    if n_located < MIN_MAPPED:
        t = Table(
            "hotspots",
            f"ASB hotspots ({what})",
            pd.DataFrame(),
            note,
            [
                f"{n_located or 'No'} located ASB incident(s) for {months_in_words(months)} "
                f"in the loaded data: hotspots need at least {MIN_MAPPED}."
            ],
            section,
        )
        return [t], None
    res, bw_notes = _detect(sub, pool, area=area, method=method, bandwidth_m=bandwidth_m)
    hot = res.hotspots
    cols = [c for c in _HOTSPOT_COLS if not (c == "peak_months" and len(months) == 1)]
    frame = pd.DataFrame(hot[cols]).copy()
    frame["share"] = (frame["share"] * 100).round(1)
    frame = frame.rename(columns={"share": "share_pct"})
    notes = [
        *bw_notes,
        *(tidy_note(n) for n in res.notes if not (bw_notes and n.startswith("Bandwidth"))),
        f"{len(hot)} hotspots from {len(sub):,} ASB incidents; "
        f"{int(hot['count'].sum()):,} ({hot['count'].sum() / len(sub):.1%}) lie inside "
        "them"
        + (
            f"; the {top_n} with most incidents are printed (the CSV holds all)."
            if len(hot) > top_n
            else "."
        ),
    ]
    if method == "kde":
        notes.append(f"The hotspots are the densest {res.params['coverage']:.0%} of the borough.")
    map_hot = hot.copy()
    if threshold:
        frame = suppress_small(
            frame,
            count_cols=["count"],
            threshold=threshold,
            derived={"share_pct": "count"},
            text_cols=[c for c in ("top_streets", "peak_months") if c in frame.columns],
        )
        map_hot = map_safe(
            hot,
            frame,
            ["count", "top_streets", "peak_months"],
            ["share", "density_per_km2"],
            "count",
        )
    ref = res.reference
    ref_frame = pd.DataFrame(
        {
            "review_hotspot": ref["review_name"],
            "place": ref["place"],
            "radius_m": ref["radius_m"].round(0).astype(int),
            "asb_within": ref["incidents_within"].astype(int),
            "share_pct": (ref["share"] * 100).round(1),
            "overlapping_hotspots": ref["overlapping"],
            "data_agrees": np.where(ref["agrees"], "yes", "no"),
        }
    )
    if threshold:
        ref_frame = suppress_small(
            ref_frame,
            count_cols=["asb_within"],
            threshold=threshold,
            derived={"share_pct": "asb_within"},
        )
    ref_notes = [
        "The review names three hotspots by judgement. For each, the ASB incidents within "
        "the radius of the named place in the loaded data, and whether a detected hotspot "
        "overlaps it. A 'no' is the data's answer, not a hotspot invented to agree.",
    ]
    tables = [
        Table(
            "hotspots",
            f"ASB hotspots ({what})",
            frame.reset_index(drop=True),
            note,
            notes,
            section,
            layers={"hotspots": map_hot, "reference": ref[["review_name", "place", "geometry"]]},
            show_rows=top_n,
        ),
    ]
    if len(ref):  # the review's named places are Eastleigh's
        tables.append(
            Table(
                "review_hotspots",
                "The review's named hotspots in the data",
                ref_frame,
                f"hotspot names from the 2021/22 review; counts {note}",
                ref_notes,
                section,
            )
        )
    return tables, res


def map_safe(
    gdf: gpd.GeoDataFrame,
    shown: pd.DataFrame,
    copy_cols: Sequence[str],
    blank_cols: Sequence[str],
    count_col: str,
) -> gpd.GeoDataFrame:
    """A map layer carrying the published (withheld) values, not the raw ones."""
    out = gdf.copy()
    withheld = shown[count_col].map(lambda v: isinstance(v, str)).to_numpy()
    for c in copy_cols:
        if c in out.columns and c in shown.columns:
            out[c] = shown[c].to_numpy()
    for c in blank_cols:
        if c in out.columns:
            out[c] = out[c].astype(float).mask(withheld)
    return out


def venue_table(
    incidents: gpd.GeoDataFrame,
    months: Sequence[str],
    hotspots: gpd.GeoDataFrame | None,
    *,
    venues: gpd.GeoDataFrame | None,
    radius_m: float,
    threshold: int | None,
    section: str,
) -> Table:
    if venues is None or venues.empty:
        return Table(
            "venue_reach",
            "Diversion venues",
            pd.DataFrame(),
            computed_note(months),
            [
                "No diversion venues are known for this area (the service holds "
                "Eastleigh's, from its 2021/22 review): the reach of venues such as Friday "
                "Night Football can be measured in the app's Venue siting view, with "
                "venues added there."
            ],
            section,
        )
    sub = incidents[incidents["month"].isin(list(months))]
    all_asb = reach_table(venues, hotspot_demand(sub), radius_m=radius_m)
    frame = pd.DataFrame(
        {
            "venue": all_asb["venue"],
            "status": all_asb["status"],
            "asb_within_reach": all_asb["count"].astype(int),
            "asb_share_pct": (all_asb["share"] * 100).round(1),
        }
    )
    notes = [
        f"Reach is {radius_m:.0f} m in a straight line (no street network ships with the "
        "service; walking distances are longer). police.uk does not say who was involved, "
        "so all ASB stands in for youth-related ASB.",
        f"All located ASB: {int(all_asb.attrs['total']):,} incidents.",
    ]
    if hotspots is not None and len(hotspots):
        hot = reach_table(venues, hotspot_demand(sub, hotspots), radius_m=radius_m)
        frame["hotspot_asb_within_reach"] = hot["count"].astype(int).to_numpy()
        frame["hotspot_share_pct"] = (hot["share"] * 100).round(1).to_numpy()
        notes.append(f"ASB inside the hotspots: {int(hot.attrs['total']):,} incidents.")
    planned = venues[venues["status"].astype(str).str.lower() == "planned"]
    if len(planned):
        notes.append(
            "Before and after the planned venue(s) (" + ", ".join(planned["name"]) + "): "
            "compare 'running venues together' with 'all venues together'."
        )
    if threshold:
        counts = [c for c in frame.columns if c.endswith("within_reach")]
        derived = {"asb_share_pct": "asb_within_reach"}
        if "hotspot_share_pct" in frame.columns:
            derived["hotspot_share_pct"] = "hotspot_asb_within_reach"
        frame = suppress_small(
            frame, count_cols=counts, threshold=threshold, derived=derived, link_columns=False
        )
    layers = {"venues": venues}
    if hotspots is not None:
        layers["hotspots"] = hotspots
    return Table(
        "venue_reach",
        f"Diversion venues: ASB within {radius_m:.0f} m",
        frame,
        computed_note(months) + "; venues from the 2021/22 review",
        notes,
        section,
        chart=Chart("hbar", "venue", ("asb_share_pct",), "% of ASB within reach"),
        layers=layers,
    )


def basemap_for(area: StudyArea, streets: gpd.GeoDataFrame | None = None) -> BaseMap:
    """What a pack's maps are drawn on: the area's outline, its wards and named places.

    Stations, the airport and the foreshore are left out of the labels (they crowd the
    printed map); an area without a gazetteer has no labels.
    """
    labels = area.gazetteer
    if labels is None:
        labels = gpd.GeoDataFrame({"name": []}, geometry=[], crs=area.outline.crs)
    else:
        labels = labels[~labels["kind"].isin(["station", "airport", "foreshore"])]
    key = "ward" if "ward" in area.levels else "borough"
    label = {"Wards (2018)": "2018 ward boundaries", "Wards (2025)": "2025 ward boundaries"}.get(
        area.levels[key].label, f"{area.name} outline"
    )
    return BaseMap(
        outline=area.outline,
        areas=area.local_names,
        labels=labels,
        streets=streets,
        areas_label=label,
    )
