"""The strategic review pack: the tables of the review's data section for a period.

:func:`review_pack` uses the review's published tables for 2021/22
(:mod:`packs.published_tables`), beside police.uk's figures when the twelve months are
loaded (:mod:`packs.review_compare`), and computes every other period from the incidents;
tables police.uk cannot give are listed as "not in police.uk data". Also importable
from :mod:`packs`.
"""

from __future__ import annotations

from collections.abc import Sequence

import geopandas as gpd
import pandas as pd

from analysis.rates import filter_incidents
from geo.errors import InputError
from geo.schema import ASB
from geo.study_area import EASTLEIGH, StudyArea
from packs.area_counts import area_counts, pack_nesting, whole_label
from packs.disclosure import COMPLEMENTARY_MARKER, primary_marker, suppress
from packs.maps import basemap_for, hotspot_tables, venue_table
from packs.published_tables import published_tables
from packs.review_compare import (
    compared_review_tables,
    covers_review_year,
    named_hotspots_table,
    not_in_police_uk_note,
)
from packs.tables import (
    NOT_IN_POLICE_UK,
    REVIEW_PERIOD,
    Chart,
    Pack,
    Table,
    computed_note,
    financial_quarter,
    month_name,
    month_range,
    months_in_words,
    parse_period,
    percent_change,
    population,
    rate_columns,
    shift_month,
    simple_counts,
    sort_withheld_last,
    suppression_note,
    suppression_threshold,
    vs_borough,
    with_total,
)

__all__ = ["review_pack"]


def _unavailable(key: str, title: str, section: str, why: str) -> Table:
    return Table(
        key=key,
        title=title,
        frame=pd.DataFrame(),
        source_note=NOT_IN_POLICE_UK,
        notes=[why],
        section=section,
    )


def _check_ward_set(ward_set: str, threshold: int | None) -> None:
    if ward_set not in ("ward", "ward2002"):
        msg = f"ward_set {ward_set!r}: choose 'ward' (2018 wards) or 'ward2002'."
        raise InputError(msg)
    if ward_set == "ward2002" and threshold:
        msg = (
            "ward_set 'ward2002' with suppression: the 2002 wards do not nest exactly in the "
            "five local areas, so withheld counts could be differenced between the two; use "
            "the 2018 wards (ward_set='ward') for a suppressed pack."
        )
        raise InputError(msg)


def _with_police_uk_figures(
    published: list[Table],
    inc: gpd.GeoDataFrame,
    area: StudyArea,
    review_tables: dict[str, pd.DataFrame],
    threshold: int | None,
) -> list[Table]:
    """The published tables with police.uk's figures beside them where it can give them."""
    compared = {
        t.key: t
        for t in compared_review_tables(
            inc, area=area, review_tables=review_tables, threshold=threshold
        )
    }
    out = []
    for t in published:
        why = not_in_police_uk_note(t.key)
        if why is not None:
            t.notes.insert(0, why)
        out.append(compared.get(t.key, t))
    return out


# --------------------------------------------------------------------------- review


def review_pack(
    period: str | Sequence[str],
    incidents: gpd.GeoDataFrame,
    suppress_below: int | None = None,
    *,
    area: StudyArea,
    review_tables: dict[str, pd.DataFrame] | None = None,
    method: str = "kde",
    bandwidth_m: float | str = "auto",
    ward_set: str = "ward",
    top_wards: int = 4,
    top_n: int = 10,
    radius_m: float = 800.0,
    caveats: Sequence[str] = (),
) -> Pack:
    """The strategic review's data section for a period.

    For Eastleigh (whose review it is) in 2021/22 (``2021-04..2022-03``) the review's
    published tables are used and each says so. When the incident data holds all twelve
    months of that year, every table police.uk can give shows the published figure
    beside police.uk's, with the difference and its likely causes
    (:mod:`packs.review_compare`), the review's named hotspots get a plain verdict, and
    the tables police.uk cannot give stay as published and say so. With fewer months,
    the hotspot map and venue reach are computed from the months held, and say that.
    For any other period or area the incident data must hold every month; every table
    the data can give is computed from it, and the tables police.uk cannot give (CCTV,
    hate crime, arson, domestic abuse) are listed as "not in police.uk data". Areas are
    counted by the area's own levels (:func:`packs.area_counts.pack_nesting`): wards
    within local areas for Eastleigh; elsewhere wards or LSOAs, within districts for a
    partnership of several.

    Parameters
    ----------
    period
        ``("YYYY-MM", "YYYY-MM")`` or ``"YYYY-MM..YYYY-MM"``.
    incidents
        Incident frame (:func:`geo.io.load_incidents`).
    suppress_below
        Withhold counts from 1 to this minus one (5: one to four), consistently; None
        for no suppression.
    area
        The study area (areas, populations, venues, named places).
    review_tables
        The review's published tables (:func:`geo.published.load_review_tables`),
        needed for 2021/22.
    method
        Hotspot method: ``kde``, ``dbscan`` or ``gistar``.
    bandwidth_m
        KDE bandwidth in metres, or ``auto`` (cross-validation across months; for a
        single month, across the loaded months up to it).
    ward_set
        ``ward`` (2018 wards) or ``ward2002`` for the highest wards (computed periods).
    top_wards
        How many of the highest wards per 1,000 to list.
    top_n
        Hotspots printed (the CSV holds all).
    radius_m
        Reach of a diversion venue, metres (straight line).
    caveats
        What a reader must know of the data before anything else (e.g. the months a
        store holds no file of the area's own police force for); the pack's first notes.

    Returns
    -------
    Pack

    Raises
    ------
    InputError
        For a malformed period, a period (other than 2021/22) the data does not fully
        cover, or a bad ``suppress_below``.
    """
    first, last = parse_period(period)
    threshold = suppression_threshold(suppress_below)
    _check_ward_set(ward_set, threshold)
    inc = incidents
    months = month_range(first, last)
    present = sorted(set(inc["month"].astype(str)))
    covered = [m for m in months if m in present]
    pack_notes = suppression_note(threshold)
    # The published review is Eastleigh's: another area's 2021/22 is computed like any year.
    if (first, last) == REVIEW_PERIOD and area.code == EASTLEIGH:
        if review_tables is None:
            msg = "the 2021/22 review pack needs the review's published tables; pass them."
            raise InputError(msg)
        full_year = covers_review_year(inc)
        tables = published_tables(threshold, review_tables, area)
        if full_year:
            tables = _with_police_uk_figures(tables, inc, area, review_tables, threshold)
            pack_notes.insert(
                0,
                (
                    "2021/22: the loaded police.uk data holds all twelve months of the "
                    "review year, so every table police.uk can give shows the review's "
                    "published figure beside the figure computed from police.uk, with the "
                    "difference and its likely causes. The tables police.uk cannot give "
                    "(domestic abuse, hate crime, fire service arson, CCTV) stay as "
                    "published and say so."
                ),
            )
        else:
            pack_notes.insert(
                0,
                (
                    "2021/22: the tables marked 'published table from the 2021/22 review' "
                    "are the review's own numbers. The loaded police.uk data holds "
                    + (months_in_words(covered) if covered else "no month")
                    + " of that year, so only the hotspot map and venue reach are computed "
                    "from it; load all twelve months to see police.uk's figures beside the "
                    "published ones."
                ),
            )
        if threshold:
            pack_notes.append(
                "Suppression was applied to the published tables as asked, "
                "although the review has already published them."
            )
        section = "hotspots"
        if covered:
            hot_tables, res = hotspot_tables(
                inc,
                covered,
                area=area,
                method=method,
                threshold=threshold,
                bandwidth_m=bandwidth_m,
                top_n=top_n,
                section=section,
                what=f"{method.upper()}, {months_in_words(covered)}",
            )
            if not full_year:
                for t in hot_tables:
                    t.notes.insert(
                        0,
                        f"The loaded police.uk data holds {months_in_words(covered)} of the "
                        "review year only; the review's own hotspots are named below.",
                    )
            elif res is not None:
                located = filter_incidents(inc, types=[ASB])
                located = located[
                    located["month"].isin(covered) & located["has_location"].to_numpy(bool)
                ]
                hot_tables = [
                    named_hotspots_table(
                        res.reference,
                        res.hotspots,
                        months=covered,
                        located=len(located),
                        top_n=top_n,
                        threshold=threshold,
                        section=section,
                    )
                    if t.key == "review_hotspots"
                    else t
                    for t in hot_tables
                ]
            tables += hot_tables
            hot = res.hotspots if res is not None else None
            tables.append(
                venue_table(
                    filter_incidents(inc, types=[ASB]),
                    covered,
                    hot,
                    venues=area.venues,
                    radius_m=radius_m,
                    threshold=threshold,
                    section="venues",
                )
            )
        else:
            tables.append(
                _unavailable(
                    "hotspots",
                    "ASB hotspots",
                    section,
                    "No police.uk data for 2021/22 is loaded, so no hotspot "
                    "map can be drawn; the review names Hamble including "
                    "the foreshore, Eastleigh town centre and Hedge End "
                    "town centre.",
                )
            )
        title = "Strategic review 2021/22: data tables"
    else:
        missing = [m for m in months if m not in present]
        if missing:
            msg = (
                f"period {first}..{last}: the incident data holds {len(covered)} of its "
                f"{len(months)} months (missing {', '.join(missing[:6])}"
                f"{' ...' if len(missing) > 6 else ''}); the loaded months are "
                f"{', '.join(present)}. Load the missing months with --incidents, or choose "
                f"a period inside the data; published tables exist only for "
                f"{REVIEW_PERIOD[0]}..{REVIEW_PERIOD[1]}."
            )
            raise InputError(msg)
        tables = _computed_review_tables(
            inc,
            months,
            present,
            area=area,
            threshold=threshold,
            method=method,
            ward_set=ward_set,
            top_wards=top_wards,
            radius_m=radius_m,
            bandwidth_m=bandwidth_m,
            top_n=top_n,
        )
        title = f"Strategic review data tables, {months_in_words(months)}"
    return Pack(
        "review",
        title,
        (first, last),
        tables,
        [*caveats, *pack_notes],
        threshold,
        basemap=basemap_for(area),
        area_name=f"{area.name} ({area.code})",
    )


def _computed_review_tables(
    inc: gpd.GeoDataFrame,
    months: list[str],
    present: list[str],
    *,
    area: StudyArea,
    threshold: int | None,
    method: str,
    ward_set: str,
    top_wards: int,
    radius_m: float,
    bandwidth_m: float | str,
    top_n: int,
) -> list[Table]:
    note = computed_note(months)
    sub = inc[inc["month"].isin(months)]
    asb = sub[sub["crime_type"] == ASB]
    crimes = sub[sub["crime_type"] != ASB]
    tables: list[Table] = []
    year_before = [shift_month(m, -12) for m in months]
    has_yb = all(m in present for m in year_before)
    yb_asb = int((inc["month"].isin(year_before) & (inc["crime_type"] == ASB)).sum())
    key_rows = [
        ("Recorded crimes (police.uk, excluding ASB)", len(crimes)),
        ("ASB incidents", len(asb)),
        ("Months covered", len(months)),
    ]
    if has_yb:
        key_rows.append(("ASB incidents, the same months a year before", yb_asb))
        key_rows.append(("ASB change on the year before (%)", percent_change(yb_asb, len(asb))))
    key = pd.DataFrame(key_rows, columns=["measure", "value"], dtype=object)
    key_notes = (
        []
        if has_yb
        else [
            f"The change on the year before cannot be given: the loaded data does not hold "
            f"{months_in_words(year_before)}."
        ]
    )
    if threshold:
        small = [
            1 <= v < threshold and k != "Months covered"
            for k, v in zip(key["measure"], key["value"], strict=True)
        ]
        key["value"] = key["value"].astype(object).mask(small, primary_marker(threshold))
    tables.append(
        Table(
            "key_figures",
            f"Key figures, {months_in_words(months)}",
            key,
            note,
            key_notes,
            "summary",
        )
    )

    ct = crimes.groupby("crime_type").size().rename("count").reset_index()
    ct = ct.sort_values(["count", "crime_type"], ascending=[False, True]).reset_index(drop=True)
    ct["share_pct"] = (ct["count"] / max(len(crimes), 1) * 100).round(1)
    frame, notes = simple_counts(
        ct,
        label_col="crime_type",
        count_cols=["count"],
        threshold=threshold,
        derived={"share_pct": "count"},
        total_label="All recorded crime",
    )
    tables.append(
        Table(
            "crime_by_type",
            "Recorded crime by type",
            frame,
            note,
            [
                "police.uk's crime categories (13 besides ASB) are broader than the "
                "review's 14 types: e.g. 'Violence and sexual offences' holds violence "
                "with and without injury and sexual offences.",
                *notes,
            ],
            "crime",
            chart=Chart("hbar", "crime_type", ("count",), "crimes"),
        )
    )

    for key_, title, why in (
        (
            "domestic_abuse",
            "Domestic abuse crimes",
            "police.uk does not flag domestic abuse; the count comes from the police's own "
            "recording (the review's 1,608 for 2021/22).",
        ),
        (
            "hate_crime",
            "Hate crime by protected characteristic",
            "police.uk does not flag hate crime; it comes from police recording and third-party "
            "reporting centres.",
        ),
        (
            "arson_by_quarter",
            "Arson by quarter",
            "police.uk merges 'Criminal damage and arson' into one category; arson incidents "
            "come from the fire service.",
        ),
        (
            "cctv_by_month",
            "CCTV control room: incidents, police and ranger calls, arrests",
            "The CCTV control room log is the council's own record, not police.uk data.",
        ),
    ):
        tables.append(_unavailable(key_, title, "partners", why))

    # ASB by month within quarters (and the same months a year before where the data has
    # them): one suppression, so the monthly and quarterly figures cannot be differenced.
    mrows = []
    for m in months:
        fy, qn = financial_quarter(m)
        mrows.append({"month": m, "quarter": f"{fy} {qn}"})
    mq = pd.DataFrame(mrows)
    asb_all = inc[inc["crime_type"] == ASB].groupby("month").size()
    mq["asb"] = mq["month"].map(asb_all).fillna(0).astype(int)
    qcols = ["asb"]
    if has_yb:
        mq["asb_year_before"] = mq["month"].map(lambda x: int(asb_all.get(shift_month(x, -12), 0)))
        qcols.append("asb_year_before")
    q = mq.groupby("quarter", sort=True)[qcols].sum().reset_index()
    held = mq.groupby("quarter", sort=True)["month"].apply(list)
    q_label = {
        k: k
        if len(v) == 3
        else f"{k} ({', '.join(pd.Period(x, freq='M').strftime('%b') for x in v)} only)"
        for k, v in held.items()
    }
    q_notes = [
        "Financial quarters (Q1 = April to June); a quarter only partly inside the "
        "period shows which months it holds."
    ]
    if not has_yb:
        q_notes.append(
            f"The change on the year before cannot be given: the loaded data does "
            f"not hold {months_in_words(year_before)}."
        )
    m_st = None
    if threshold:
        m_st = suppress(
            mq,
            count_cols=qcols,
            threshold=threshold,
            parent_col="quarter",
            parents=q.set_index("quarter")[qcols],
        )
        q_shown = m_st.parents.reindex(q["quarter"]).reset_index()
        q_total = {c: m_st.total[c] for c in qcols}
        q_withheld = (m_st.parent_status.reindex(q["quarter"]) != "published").any(axis=1)
        q_notes += m_st.notes
    else:
        q_shown = q.copy()
        q_total = {c: int(q[c].sum()) for c in qcols}
        q_withheld = pd.Series(False, index=q["quarter"])
    if has_yb:
        pct = [percent_change(a, b) for a, b in zip(q["asb_year_before"], q["asb"], strict=True)]
        q_shown["change_pct"] = (
            pd.Series(pct, dtype=object)
            .mask(q_withheld.to_numpy(), COMPLEMENTARY_MARKER)
            .to_numpy()
        )
        whole = all(not isinstance(v, str) for v in q_total.values())
        q_total["change_pct"] = percent_change(yb_asb, len(asb)) if whole else COMPLEMENTARY_MARKER
    q_shown["quarter"] = q_shown["quarter"].map(q_label)
    q_shown = with_total(q_shown, "quarter", q_total)
    tables.append(
        Table(
            "asb_by_quarter",
            "ASB incidents by quarter",
            q_shown,
            note,
            q_notes,
            "asb",
            chart=Chart("bar", "quarter", tuple(qcols), "ASB incidents"),
        )
    )

    cm = pd.DataFrame({"month": months})
    cm.insert(0, "month_name", cm["month"].map(month_name))
    cm["crimes"] = cm["month"].map(crimes.groupby("month").size()).fillna(0).astype(int)
    frame, notes = simple_counts(
        cm, label_col="month_name", count_cols=["crimes"], threshold=threshold
    )
    asb_month = (m_st.frame if m_st is not None else mq)["asb"].tolist()
    frame["asb"] = [*asb_month, q_total["asb"]]
    if m_st is not None:
        notes = [*notes, "ASB by month is withheld together with ASB by quarter."]
    tables.insert(
        2,
        Table(
            "crime_by_month",
            "Recorded crime and ASB by month",
            frame,
            note,
            notes,
            "crime",
            chart=Chart("bar", "month", ("crimes", "asb"), "incidents"),
        ),
    )

    # ASB by parent area (Eastleigh: local area) and the highest small areas (wards),
    # suppressed together over the whole period.
    nest = pack_nesting(area, ward_set)
    areas = area_counts(inc, months, area=area, types=[ASB], nesting=nest, threshold=None)
    small = areas.small.copy()
    small["count"] = small[months].sum(axis=1)
    parents = None
    if areas.parents is not None:
        parents = areas.parents.copy()
        parents["count"] = parents[months].sum(axis=1)
    st = None
    if threshold:
        st = suppress(
            small[["code", "name", "parent", "count"]],
            count_cols=["count"],
            threshold=threshold,
            parent_col="parent" if parents is not None else None,
            parents=parents.set_index("parent")[["count"]] if parents is not None else None,
        )
    whole_name = whole_label(area)
    whole_rate = len(asb) / float(population(area, "borough").iloc[0]) * 1000 * 12 / len(months)
    if parents is not None:
        pcol = nest.parent
        la_shown = parents[["parent", "count"]].copy()
        la_withheld = pd.Series(False, index=parents.index)
        if st is not None:
            la_shown["count"] = st.parents.reindex(parents["parent"])["count"].to_numpy()
            la_withheld = pd.Series(
                (st.parent_status.reindex(parents["parent"])["count"] != "published").to_numpy(),
                index=parents.index,
            )
        la_shown = rate_columns(
            la_shown, "count", areas.parent_population, la_withheld, "parent", months=len(months)
        )
        la_shown["vs_borough"] = vs_borough(la_shown, whole_rate)
        la_shown = sort_withheld_last(la_shown, "count")
        la_shown = with_total(
            la_shown,
            "parent",
            {
                "count": st.total["count"] if st is not None else len(asb),
                "per_1000": round(whole_rate, 2),
            },
            whole_name,
        )
        tables.append(
            Table(
                f"asb_by_{pcol}",
                f"ASB by {nest.parent_plural[:-1]}, counts and per 1,000 residents a year "
                "(Census 2021)",
                la_shown.rename(columns={"parent": pcol}),
                note,
                [
                    "Counted by each incident's LSOA (police.uk), which nests in the "
                    + (
                        f"{nest.parent_plural}"
                        if nest.small == "lsoa"
                        else f"{nest.small_plural} and {nest.parent_plural}"
                    )
                    + ". Per 1,000 Census 2021 "
                    "residents with an exact Poisson 95% interval; 'vs_borough' says "
                    f"whether the interval excludes the {whole_name.lower()}'s rate.",
                    *(st.notes if st is not None else []),
                ],
                "asb",
                chart=Chart("hbar", pcol, ("count",), "ASB incidents"),
            )
        )

    parent_cols = ["parent"] if parents is not None else []
    w_shown = (st.frame if st is not None else small)[["code", "name", *parent_cols, "count"]]
    w_withheld = st.mask["count"] if st is not None else pd.Series(False, index=small.index)
    w_shown = rate_columns(
        w_shown, "count", population(area, nest.small), w_withheld, "code", months=len(months)
    )
    w_shown["vs_borough"] = vs_borough(w_shown, whole_rate)
    w_shown = sort_withheld_last(w_shown, "per_1000").head(top_wards)
    w_shown.insert(0, "rank", range(1, len(w_shown) + 1))
    if parents is not None:
        w_shown = w_shown.rename(columns={"parent": nest.parent})
    vintage = area.level(nest.small).label.partition("(")[2].rstrip(")")
    small_words = f"{nest.small_plural} ({vintage})" if vintage else nest.small_plural
    tables.append(
        Table(
            f"top_{nest.small_key}",
            f"The highest {nest.small_plural} for ASB per 1,000 residents a year (Census 2021)",
            w_shown.drop(columns=["code"]),
            note,
            [
                f"The {top_wards} highest of the {len(small)} {small_words}, per "
                "1,000 Census 2021 residents, with exact Poisson 95% intervals; on "
                "small populations a high rate can be noise: 'vs_borough' says whether "
                f"the interval excludes the {whole_name.lower()}'s {whole_rate:.2f}."
            ],
            "asb",
            chart=Chart("hbar", "name", ("per_1000",), "ASB per 1,000 a year"),
        )
    )

    hot_tables, res = hotspot_tables(
        inc,
        months,
        area=area,
        method=method,
        threshold=threshold,
        bandwidth_m=bandwidth_m,
        top_n=top_n,
        section="hotspots",
        what=f"{method.upper()}, {months_in_words(months)}",
    )
    tables += hot_tables
    hot = res.hotspots if res is not None else None
    tables.append(
        venue_table(
            filter_incidents(inc, types=[ASB]),
            months,
            hot,
            venues=area.venues,
            radius_m=radius_m,
            threshold=threshold,
            section="venues",
        )
    )
    return tables
