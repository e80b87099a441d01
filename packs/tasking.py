"""The monthly District Tasking and Priority pack.

:func:`tasking_pack` compares this month with the last and with the same month a year
before, by type, local area and ward, with an exact test of each change; lists the wards
above the borough's rate; classes this month's hotspots against last month's; gives
the patrol list; and classes 200 m bins as emerging hot and cold spots over the
consecutive months up to this one. Also importable from :mod:`packs`.
"""

from __future__ import annotations

from collections.abc import Sequence

import geopandas as gpd
import numpy as np
import pandas as pd
from scipy import stats

from analysis.change import classify_change
from analysis.emerging import EMERGING_CLASSES, emerging_hotspots
from analysis.hotspots import detect_hotspots
from analysis.naming import names_for
from analysis.periods import contiguous_runs
from analysis.rates import area_rates, filter_incidents
from geo.errors import InputError
from geo.schema import ASB
from geo.study_area import StudyArea
from packs.area_counts import area_counts, pack_nesting, whole_label
from packs.disclosure import COMPLEMENTARY_MARKER, suppress, suppress_small
from packs.maps import MIN_MAPPED, auto_bandwidth, basemap_for, map_safe
from packs.tables import (
    MAX_PRINTED_AREAS,
    Chart,
    Pack,
    Table,
    computed_note,
    month_name,
    month_range,
    months_in_words,
    parse_period,
    percent_change,
    population,
    rate_columns,
    shift_month,
    sort_withheld_last,
    suppression_note,
    suppression_threshold,
    tidy_note,
    with_total,
)

__all__ = ["tasking_pack"]


def _pvalue(before: int, after: int, p_after: float = 0.5) -> float:
    n = int(before) + int(after)
    return float(stats.binomtest(int(after), n, p_after).pvalue) if n else 1.0


def _direction(before: int, after: int, p: float, alpha: float = 0.05) -> str:
    if p >= alpha:
        return "no clear change"
    return "up" if after > before else "down"


# --------------------------------------------------------------------------- tasking


def tasking_pack(
    month: str | Sequence[str],
    incidents: gpd.GeoDataFrame,
    suppress_below: int | None = None,
    *,
    area: StudyArea,
    types: Sequence[str] = (ASB,),
    method: str = "kde",
    bandwidth_m: float | str = "auto",
    top_n: int = 10,
    alpha: float = 0.05,
    caveats: Sequence[str] = (),
) -> Pack:
    """The monthly District Tasking and Priority pack.

    This month against the last and against the same month a year before (where the
    data holds them; the pack says when it does not), by crime type, local area and
    ward (elsewhere by the area's own levels, :func:`packs.area_counts.pack_nesting`:
    wards or LSOAs, within districts for a partnership), with the exact test of whether
    each change is more than noise; the wards above the borough's rate per 1,000; the
    hotspots of this month classed new,
    persistent, intensifying, diminishing or gone against last month's; the patrol
    list with streets; and the emerging hot spots (ArcGIS Pro's classes of 200 m bins)
    over the consecutive loaded months ending this month (at most 12, at least 4; with
    fewer the pack's notes say why there is no such table).

    Parameters
    ----------
    month
        ``"YYYY-MM"`` (this month), or a range ``"YYYY-MM..YYYY-MM"`` whose last month
        is this month (the range adds a monthly trend by local area).
    incidents
        Incident frame (:func:`geo.io.load_incidents`).
    suppress_below
        As :func:`review_pack`.
    area
        The study area (areas, populations, named places).
    types
        Crime types of the area tables, hotspots and patrol list (ASB by default).
    method
        Hotspot method (``kde`` by default).
    bandwidth_m
        KDE bandwidth in metres, or ``auto``: chosen by cross-validation across the
        loaded months up to this month, and used for both months compared.
    top_n
        Hotspots printed in the change table and the patrol list, and three times as
        many emerging hot spot bins (the CSV holds all).
    alpha
        Significance level of the change tests.
    caveats
        What a reader must know of the data before anything else (e.g. the months a
        store holds no file of the area's own police force for); the pack's first notes.

    Returns
    -------
    Pack

    Raises
    ------
    InputError
        For a malformed month, or when the data does not hold this month.
    """
    first, this = parse_period(month)
    threshold = suppression_threshold(suppress_below)
    inc = incidents
    present = sorted(set(inc["month"].astype(str)))
    if this not in present:
        msg = (
            f"month {this}: not in the incident data, which holds {', '.join(present)}; "
            "load that month with --incidents or choose one of those."
        )
        raise InputError(msg)
    types = list(types) if types else None
    what = ", ".join(types) if types else "all crime and ASB"
    last = shift_month(this, -1)
    year_before = shift_month(this, -12)
    has_last = last in present
    has_yb = year_before in present
    trend = [m for m in month_range(first, this) if m in present]
    cols = sorted({this, *trend, *([last] if has_last else []), *([year_before] if has_yb else [])})
    pack_notes = [
        f"This month: {month_name(this)}. "
        + (
            f"Last month ({month_name(last)}) is in the data."
            if has_last
            else f"Last month ({month_name(last)}) is not in the loaded data: no month-on-month "
            "change and no hotspot classes."
        )
        + (
            f" The same month a year before ({month_name(year_before)}) is in the data."
            if has_yb
            else f" The same month a year before ({month_name(year_before)}) is not "
            "in the loaded data, so there is no year-on-year comparison."
        ),
        f"Area tables, hotspots, the patrol list and emerging hot spots: {what}.",
        *suppression_note(threshold),
    ]
    tables: list[Table] = []
    src_months = sorted({this, *([last] if has_last else []), *([year_before] if has_yb else [])})
    note = computed_note(src_months)
    cmp_cols = [*([year_before] if has_yb else []), *([last] if has_last else []), this]

    def label(m: str) -> str:
        if m == this:
            return "this_month"
        if m == last:
            return "last_month"
        if m == year_before:
            return "year_before"
        return m

    def add_change(frame: pd.DataFrame) -> pd.DataFrame:
        out = frame.copy()
        if has_last:
            b, a = out[last].astype(int), out[this].astype(int)
            out["change"] = a - b
            out["change_pct"] = [percent_change(x, y) for x, y in zip(b, a, strict=True)]
            out["p_value"] = [round(_pvalue(x, y), 4) for x, y in zip(b, a, strict=True)]
            out["more_than_noise"] = [
                _direction(x, y, p, alpha) for x, y, p in zip(b, a, out["p_value"], strict=True)
            ]
        if has_yb:
            out["change_on_year_pct"] = [
                percent_change(x, y)
                for x, y in zip(out[year_before].astype(int), out[this].astype(int), strict=True)
            ]
        return out

    derived_cols: dict[str, list[str]] = {}
    if has_last:
        for c in ("change", "change_pct", "p_value", "more_than_noise"):
            derived_cols[c] = [last, this]
    if has_yb:
        derived_cols["change_on_year_pct"] = [year_before, this]

    # by crime type (all types; adds up to all incidents)
    bt = (
        inc[inc["month"].isin(cmp_cols)]
        .groupby(["crime_type", "month"])
        .size()
        .unstack(fill_value=0)
    )
    bt = bt.reindex(columns=cmp_cols, fill_value=0).reset_index()
    bt = add_change(bt).sort_values(this, ascending=False).reset_index(drop=True)
    if threshold:
        st = suppress(bt, count_cols=cmp_cols, threshold=threshold, derived=derived_cols)
        frame, total, t_notes = st.frame, {c: st.total[c] for c in cmp_cols}, st.notes
    else:
        frame, total, t_notes = bt, {c: int(bt[c].sum()) for c in cmp_cols}, []
    frame = with_total(frame, "crime_type", total, "All types")
    frame = frame.rename(columns={c: label(c) for c in cmp_cols})
    tables.append(
        Table(
            "by_type",
            "This month against last month and a year before, by type",
            frame,
            note,
            [
                "'more_than_noise': exact conditional test of two Poisson counts "
                f"(alpha {alpha}); 'no clear change' means the change may be chance.",
                *t_notes,
            ],
            "summary",
        )
    )

    # areas: small areas within their parents within the whole, every month suppressed
    # together (Eastleigh: wards within local areas)
    nest = pack_nesting(area)
    areas = area_counts(inc, cols, area=area, types=types, nesting=nest, threshold=threshold)
    whole_name = whole_label(area)
    whole_this = areas.whole[this]
    whole_rate = whole_this / float(population(area, "borough").iloc[0]) * 1000 * 12
    tot = {c: (areas.st.total[c] if areas.st is not None else areas.whole[c]) for c in cmp_cols}

    def masked(frame: pd.DataFrame, shown: pd.DataFrame, withheld) -> pd.DataFrame:  # noqa: ANN001
        out = shown.copy()
        for c in derived_cols:
            hide = np.column_stack([withheld(m) for m in derived_cols[c]]).any(axis=1)
            out[c] = frame[c].astype(object).mask(hide, COMPLEMENTARY_MARKER)
        return out

    if nest.parent is not None:
        pcol = nest.parent
        la_shown = masked(add_change(areas.parents), areas.parents_shown(), areas.parents_withheld)
        la_shown = rate_columns(
            la_shown,
            this,
            areas.parent_population,
            areas.parents_withheld(this),
            "parent",
            months=1,
        )
        la_shown = la_shown[["parent", *cmp_cols, *derived_cols, "per_1000", "ci_low", "ci_high"]]
        la_tot = {**tot, "per_1000": round(whole_rate, 2)}
        la_shown = with_total(la_shown, "parent", la_tot, whole_name)
        tables.append(
            Table(
                nest.parent_key,
                f"{what}: {nest.parent_plural}, this month against last",
                la_shown.rename(columns={"parent": pcol, **{c: label(c) for c in cmp_cols}}),
                note,
                [
                    "Per 1,000 Census 2021 residents this month, exact Poisson 95% interval.",
                    *(areas.st.notes if areas.st is not None else []),
                ],
                "areas",
            )
        )

    small_key = nest.small_key
    w_shown = masked(add_change(areas.small), areas.small_shown(), areas.small_withheld)
    parent_cols = ["parent"] if nest.parent is not None else []
    w_shown = w_shown[["name", *parent_cols, *cmp_cols, *derived_cols]]
    w_shown = sort_withheld_last(w_shown, "change" if has_last else this)
    many = len(w_shown) > MAX_PRINTED_AREAS
    tables.append(
        Table(
            small_key,
            f"{what}: {nest.small_plural}, this month against last",
            w_shown.rename(
                columns={"parent": nest.parent or "", **{c: label(c) for c in cmp_cols}}
            ),
            note,
            [
                f"{area.level(nest.small).label}. A change is 'up' or 'down' only when the "
                "exact test says it is more than noise.",
                *(
                    [
                        f"{MAX_PRINTED_AREAS} of the {len(w_shown)} {nest.small_plural} "
                        "are printed, "
                        + ("the largest rises first" if has_last else "the most incidents first")
                        + "; the CSV holds all."
                    ]
                    if many
                    else []
                ),
            ],
            "areas",
            show_rows=MAX_PRINTED_AREAS if many else None,
        )
    )

    rates = area_rates(inc, area.level(nest.small), types=types, month_from=this, month_to=this)
    above = rates[rates["vs_borough"] == "higher"]
    ab = above[["code", "name", "count", "population", "rate_per_1000", "ci_low", "ci_high"]]
    ab = ab.copy()
    for c in ("rate_per_1000", "ci_low", "ci_high"):
        ab[c] = ab[c].round(2)
    small_cap = nest.small_plural[0].upper() + nest.small_plural[1:]
    ab_notes = [
        f"{small_cap} whose exact Poisson 95% interval lies wholly above the "
        f"{whole_name.lower()}'s {whole_rate:.2f} per 1,000 residents a year "
        f"({month_name(this)}, {what}; annualised from the month, residents from "
        "Census 2021)."
    ]
    if ab.empty:
        ab_notes.append(
            f"No {nest.small_plural[:-1]}'s rate is distinguishable from the "
            f"{whole_name.lower()}'s this month."
        )
    if threshold:
        shown = areas.small_shown().set_index("code")[this]
        withheld = areas.small_withheld(this)
        withheld.index = areas.small["code"]
        ab["count"] = ab["code"].map(shown).to_numpy()
        m = ab["code"].map(withheld).to_numpy(bool)
        for c in ("rate_per_1000", "ci_low", "ci_high"):
            ab[c] = ab[c].astype(object).mask(m, COMPLEMENTARY_MARKER)
    ab = ab.drop(columns=["code"]).reset_index(drop=True)
    ab.insert(2, "borough_rate", round(whole_rate, 2))
    tables.append(
        Table(
            f"{small_key}_above",
            f"{small_cap} above the {whole_name.lower()}'s rate this month",
            ab,
            computed_note([this]),
            ab_notes,
            "areas",
            chart=Chart("hbar", "name", ("rate_per_1000",), "per 1,000 a year"),
        )
    )

    if len(trend) >= 3:
        if nest.parent is not None:
            tr = areas.parents_shown()[["parent", *trend]].rename(columns={"parent": nest.parent})
            by, what_by = nest.parent, f"by {nest.parent_plural[:-1]}"
        else:
            totals = areas.st.total if areas.st is not None else areas.whole
            tr = pd.DataFrame([{"area": area.name, **{m: totals[m] for m in trend}}])
            by, what_by = "area", f"in {area.name}"
        tables.append(
            Table(
                "trend",
                f"{what}: monthly trend {what_by}",
                tr,
                computed_note(trend),
                ["Counts by month."],
                "areas",
                chart=Chart("bar", by, tuple(trend), "incidents"),
            )
        )

    tables += _tasking_hotspots(
        inc,
        this,
        last if has_last else None,
        area=area,
        types=types,
        method=method,
        alpha=alpha,
        threshold=threshold,
        bandwidth_m=bandwidth_m,
        top_n=top_n,
    )
    run = contiguous_runs([m for m in present if m <= this])[-1][-_EMERGING_MAX_MONTHS:]
    if len(run) >= _EMERGING_MIN_MONTHS:
        tables.append(
            _emerging_table(inc, run, area=area, types=types, threshold=threshold, top_n=top_n)
        )
    else:
        pack_notes.append(
            f"No emerging hot spots: they need at least {_EMERGING_MIN_MONTHS} consecutive "
            f"months ending {month_name(this)}, and the data holds {len(run)} "
            f"({months_in_words(run)})."
        )
    title = f"District Tasking and Priority pack, {month_name(this)}"
    return Pack(
        "tasking",
        title,
        (first, this),
        tables,
        [*caveats, *pack_notes],
        threshold,
        basemap=basemap_for(area),
        area_name=f"{area.name} ({area.code})",
    )


def _tasking_hotspots(
    inc: gpd.GeoDataFrame,
    this: str,
    last: str | None,
    *,
    area: StudyArea,
    types: list[str] | None,
    method: str,
    alpha: float,
    threshold: int | None,
    bandwidth_m: float | str,
    top_n: int,
) -> list[Table]:
    def pick(m: str) -> gpd.GeoDataFrame:
        return filter_incidents(inc, types=types, month_from=m, month_to=m)

    now = pick(this)
    pool = filter_incidents(inc, types=types, month_to=this)
    n_now = int(now["has_location"].sum())
    if n_now < MIN_MAPPED:
        return [
            Table(
                "patrol",
                f"Patrol list, {month_name(this)}",
                pd.DataFrame(),
                computed_note([this]),
                [
                    f"{n_now or 'No'} located incident(s) of these types this month: hotspots "
                    f"need at least {MIN_MAPPED}, so there are no hotspots and no patrol list."
                ],
                "patrol",
            )
        ]
    bw, bw_notes = auto_bandwidth(now, pool, method=method, bandwidth_m=bandwidth_m)
    res = detect_hotspots(now, area, method=method, bandwidth_m=bw)
    hot = res.hotspots
    method_notes = [
        *bw_notes,
        *(tidy_note(n) for n in res.notes if not (bw_notes and n.startswith("Bandwidth"))),
    ]
    if bw_notes:
        method_notes.append(
            "Both months are mapped with the same bandwidth, so their hotspots can be compared."
        )
    tables: list[Table] = []
    status = pd.Series("", index=hot.index)
    before = pick(last) if last is not None else None
    n_before = 0 if before is None else int(before["has_location"].sum())
    if before is not None and n_before >= MIN_MAPPED:
        res_b = detect_hotspots(before, area, method=method, bandwidth_m=bw)
        ch = classify_change(
            res_b.hotspots, hot, before, now, months_before=1, months_after=1, alpha=alpha
        )
        wkb_now = hot.geometry.to_wkb()
        for s, g in zip(ch["status"], ch.geometry.to_wkb(), strict=True):
            status[wkb_now == g] = s
        cf = pd.DataFrame(
            ch[["status", "name", "count_before", "count_after", "change_pct", "p_value"]]
        ).copy()
        cf["change_pct"] = cf["change_pct"].round(1)
        cf["p_value"] = cf["p_value"].round(4)
        cf = cf.rename(columns={"count_before": "last_month", "count_after": "this_month"})
        biggest = (
            np.maximum(ch["count_before"], ch["count_after"])
            .sort_values(ascending=False, kind="stable")
            .index
        )
        cf = cf.loc[biggest].reset_index(drop=True)
        map_ch = ch.loc[biggest].reset_index(drop=True)
        if threshold:
            cf = suppress_small(
                cf,
                count_cols=["last_month", "this_month"],
                threshold=threshold,
                derived={
                    "change_pct": ["last_month", "this_month"],
                    "p_value": ["last_month", "this_month"],
                },
            )
            map_ch["count_before"] = cf["last_month"].to_numpy()
            map_ch["count_after"] = cf["this_month"].to_numpy()
            withheld = (
                cf["this_month"].map(lambda v: isinstance(v, str)).to_numpy()
                | cf["last_month"].map(lambda v: isinstance(v, str)).to_numpy()
            )
            map_ch["change_pct"] = map_ch["change_pct"].astype(float).mask(withheld)
            map_ch["p_value"] = map_ch["p_value"].astype(float).mask(withheld)
        counts = ch["status"].value_counts()
        summary = ", ".join(
            f"{counts.get(s, 0)} {s}"
            for s in ("new", "intensifying", "persistent", "diminishing", "gone")
        )
        tables.append(
            Table(
                "hotspot_change",
                f"Hotspots this month against last ({method.upper()})",
                cf,
                computed_note([last, this]),
                [
                    f"{summary}.",
                    "A hotspot is new when it overlaps none of last month's; otherwise the incidents "
                    "in the matched area are compared by the exact Poisson test: intensifying or "
                    f"diminishing when the change is significant (alpha {alpha}), else persistent. "
                    "Gone: last month's hotspots that overlap none of this month's.",
                    "'last_month' and 'this_month' both count incidents in the matched area "
                    "(this hotspot together with last month's hotspots it overlaps), so the "
                    "change compares like with like. The top 20 hotspots of each month are "
                    "compared.",
                    *(
                        [
                            f"The {top_n} with most incidents in either month are printed; the CSV "
                            f"holds all {len(cf)}."
                        ]
                        if len(cf) > top_n
                        else []
                    ),
                    *method_notes,
                ],
                "hotspots",
                layers={"change": map_ch},
                show_rows=top_n,
            )
        )
    else:
        tables.append(
            Table(
                "hotspot_change",
                "Hotspots this month against last",
                pd.DataFrame(),
                computed_note([this]),
                [
                    (
                        f"Last month ({month_name(shift_month(this, -1))}) is not in the "
                        "loaded data"
                        if before is None
                        else f"Last month had {n_before} located incident(s) of these types, "
                        f"too few to map (at least {MIN_MAPPED})"
                    )
                    + ", so hotspots cannot be classed new, persistent, intensifying, "
                    "diminishing or gone."
                ],
                "hotspots",
            )
        )

    pl = pd.DataFrame(hot[["rank", "name", "count", "share", "top_streets", "wards"]]).copy()
    pl["share"] = (pl["share"] * 100).round(1)
    pl = pl.rename(columns={"share": "share_pct"})
    if last is not None:
        pl.insert(2, "status", status.to_numpy())
    map_hot = hot.copy()
    if threshold:
        pl = suppress_small(
            pl,
            count_cols=["count"],
            threshold=threshold,
            derived={"share_pct": "count"},
            text_cols=["top_streets"],
        )
        map_hot = map_safe(hot, pl, ["count", "top_streets"], ["share", "density_per_km2"], "count")
        map_hot["peak_months"] = ""
    tables.append(
        Table(
            "patrol",
            f"Patrol list, {month_name(this)}",
            pl,
            computed_note([this]),
            [
                f"This month's hotspots by incidents inside ({method.upper()}), with the streets "
                "police.uk names for the incidents there (its points are anonymised to the nearest "
                "of a fixed set of map points, so a street is where the report was placed).",
                *(
                    [f"The {top_n} with most incidents are printed; the CSV holds all {len(pl)}."]
                    if len(pl) > top_n
                    else []
                ),
                *method_notes,
            ],
            "patrol",
            layers={
                "hotspots": map_hot,
                "reference": res.reference[["review_name", "place", "geometry"]],
            },
            show_rows=top_n,
        )
    )
    return tables


_EMERGING_MIN_MONTHS = 4
_EMERGING_MAX_MONTHS = 12

# What each pattern means, in plain words ({k}: hot or cold, {o}: the opposite).
_PATTERN_MEANINGS = {
    "new": "a {k} spot this month for the first time in these months",
    "consecutive": (
        "a {k} spot for two or more months in a row up to this month, and never before that run"
    ),
    "intensifying": (
        "a {k} spot in at least 90% of the months, this month included, and getting more intense"
    ),
    "persistent": (
        "a {k} spot in at least 90% of the months, this month included, with no clear trend"
    ),
    "diminishing": (
        "a {k} spot in at least 90% of the months, this month included, but getting less intense"
    ),
    "sporadic": "a {k} spot this month and on and off before, never a {o} spot",
    "oscillating": "a {k} spot this month that was a {o} spot in an earlier month",
    "historical": "a {k} spot in at least 90% of the months, but not this month",
}


def _meaning(klass: str) -> str:
    """Plain-language meaning of an emerging hot spot class."""
    pattern, kind, _ = klass.split(" ")
    return _PATTERN_MEANINGS[pattern].format(k=kind, o="cold" if kind == "hot" else "hot")


def _emerging_table(
    inc: gpd.GeoDataFrame,
    run: list[str],
    *,
    area: StudyArea,
    types: list[str] | None,
    threshold: int | None,
    top_n: int,
) -> Table:
    """Emerging hot spots over ``run`` (consecutive months ending this month)."""
    sub = filter_incidents(inc, types=types, month_from=run[0], month_to=run[-1])
    res = emerging_hotspots(sub, study_area=area.geometry, months=run)
    cells = res.cells
    order = {c: i for i, c in enumerate(EMERGING_CLASSES)}
    hot = cells[cells["class"].str.endswith(" hot spot")].copy()
    hot["order"] = hot["class"].map(order)
    # The busiest first, so that the rows the page prints are where most incidents are.
    hot = hot.sort_values(["count", "order"], ascending=[False, True], kind="stable")
    frame = pd.DataFrame({"class": hot["class"].to_numpy()})
    if area.gazetteer is not None and len(area.gazetteer) and len(hot):
        centres = gpd.GeoDataFrame(geometry=hot.geometry.centroid, crs=hot.crs)
        frame["place"] = names_for(centres, area.gazetteer).to_numpy()
    frame["incidents"] = hot["count"].astype(int).to_numpy()
    frame["hot_months"] = hot["hot_months"].astype(int).to_numpy()
    frame["trend_z"] = hot["trend_z"].round(2).to_numpy()
    drawn = cells["class"] != "no pattern detected"
    layer = cells.loc[drawn, ["class", "count", "hot_months", "cold_months", "trend_z", "geometry"]]
    layer = layer.reset_index(drop=True)
    if threshold:
        frame = suppress_small(frame, count_cols=["incidents"], threshold=threshold)
        layer["count"] = suppress_small(
            pd.DataFrame({"count": layer["count"].astype(int)}),
            count_cols=["count"],
            threshold=threshold,
        )["count"].to_numpy()
    bins = cells["class"].value_counts()
    present = [c for c in EMERGING_CLASSES if c in bins.index]
    notes = [
        f"Months used: {months_in_words(run)} ({len(run)} consecutive months ending this "
        f"month; at most {_EMERGING_MAX_MONTHS}). Each 200 m bin with an incident in "
        "those months is classed by the pattern of its monthly hot and cold spots.",
        "A bin is a hot (cold) spot in a month when it and the bins within 400 m, that "
        "month and the month before, hold significantly more (fewer) incidents than the "
        "average bin.",
        *(
            f"{c.capitalize()} ({int(bins[c])} bin{'s' * (int(bins[c]) != 1)}): {_meaning(c)}."
            for c in present
            if c != "no pattern detected"
        ),
        *(
            [
                f"No pattern detected: {int(bins['no pattern detected'])} bins with "
                "incidents but none of these patterns (not listed, not drawn)."
            ]
            if "no pattern detected" in bins.index
            else []
        ),
        "One row per hot spot bin, by incidents (most first) and then pattern (in the "
        "order above); the map draws every hot and cold spot bin."
        if len(frame)
        else "No bin is a hot spot in these months.",
        "'trend_z': Mann-Kendall z of the bin's monthly Gi* z-scores (above 0: more "
        "clustered over time).",
        tidy_note(res.description),
    ]
    return Table(
        "emerging",
        f"Emerging hot spots, {months_in_words(run)}",
        frame,
        computed_note(run),
        notes,
        "hotspots",
        layers={"emerging": layer},
        show_rows=3 * top_n,
    )
