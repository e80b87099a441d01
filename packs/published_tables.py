"""The 2021/22 strategic review's own tables, as tables of a review pack.

Internal to :func:`packs.review.review_pack`: the review's published numbers
(:mod:`geo.published`) laid out as pack tables, each noting any check of the
printed totals that fails and, with suppression, what was withheld.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from analysis.rates import pct_change, poisson_ci
from geo.published import asb_change_pct, check_review_tables
from geo.study_area import StudyArea
from packs.disclosure import primary_marker, suppress, suppress_small
from packs.tables import (
    PUBLISHED,
    Chart,
    Table,
    month_name,
    population,
    rate_columns,
    simple_counts,
    with_total,
)

__all__: list[str] = []


def published_tables(
    threshold: int | None, t: dict[str, pd.DataFrame], area: StudyArea
) -> list[Table]:
    checks = {(c.table, c.column): c for c in check_review_tables(t)}

    def check_note(table: str, column: str, label: str = "") -> list[str]:
        c = checks.get((table, column))
        if c is None or c.ok:
            return []
        return [f"{label or column}: {c.note}"]

    tables: list[Table] = []
    crime_total = int(t["crime_by_type"]["count"].sum())
    asb = t["asb_by_quarter"]
    asb_tot = asb.groupby("year")["count"].sum()
    change = asb_change_pct(t)
    hate = t["hate_crime"]
    cctv = t["cctv_by_month"]
    stated = {
        (r.table, r.column, r.subset): int(r.stated_total) for r in t["stated_totals"].itertuples()
    }
    key = pd.DataFrame(
        [
            (
                "Recorded crimes",
                crime_total,
                "rows of the main crime types table sum to the printed 'Overall recorded crime'",
            ),
            ("ASB incidents, 2021/22", int(asb_tot["2021-22"]), "quarterly table"),
            ("ASB incidents, 2020/21", int(asb_tot["2020-21"]), "quarterly table"),
            ("ASB change on the year before (%)", round(change, 2), "(1,816 - 2,183) / 2,183"),
            (
                "Domestic abuse crimes",
                stated[("domestic_abuse_by_offence", "count", "")],
                "printed in the text",
            ),
            ("Hate crimes", stated[("hate_crime", "crimes", "")], "printed 'Total crimes'"),
            ("CCTV incidents", int(cctv["total"].sum()), "CCTV table"),
            (
                "CCTV arrests (as printed)",
                stated[("cctv_by_month", "arrests", "")],
                "the twelve months sum to " + f"{int(cctv['arrests'].sum())}",
            ),
        ],
        columns=["measure", "value", "from"],
        dtype=object,
    )
    key_notes: list[str] = []
    tables.append(
        Table(
            "key_figures",
            "Key figures, April 2021 to March 2022",
            key,
            PUBLISHED,
            key_notes,
            "summary",
        )
    )

    ct = pd.DataFrame(t["crime_by_type"])[["crime_type", "count", "comment"]].copy()
    ct["count"] = ct["count"].astype(int)
    frame, notes = simple_counts(
        ct,
        label_col="crime_type",
        count_cols=["count"],
        threshold=threshold,
        total_label="Overall recorded crime",
    )
    tables.append(
        Table(
            "crime_by_type",
            "Recorded crime by type",
            frame,
            PUBLISHED,
            [*check_note("crime_by_type", "count"), *notes],
            "crime",
            chart=Chart("hbar", "crime_type", ("count",), "crimes"),
        )
    )

    cm = pd.DataFrame(t["crime_by_month"]).copy()
    cm["count"] = cm["count"].astype(int)
    cm.insert(0, "month_name", cm["month"].map(month_name))
    frame, notes = simple_counts(
        cm, label_col="month_name", count_cols=["count"], threshold=threshold
    )
    tables.append(
        Table(
            "crime_by_month",
            "Recorded crime by month",
            frame,
            PUBLISHED,
            [
                "March 2022 (397) is about half of any other month; the review prints "
                "it so and it is kept so.",
                *notes,
            ],
            "crime",
            chart=Chart("bar", "month", ("count",), "crimes"),
        )
    )

    da = pd.DataFrame(t["domestic_abuse_by_offence"]).copy()
    da["count"] = da["count"].astype(int)
    if threshold:
        da = suppress_small(da, count_cols=["count"], threshold=threshold)
    tables.append(
        Table(
            "domestic_abuse",
            "Domestic abuse crimes by main offence",
            da,
            PUBLISHED,
            [
                "The review counts 1,608 domestic abuse crimes in the year; this table "
                "lists only its main offences (1,212 of them)."
            ],
            "crime",
        )
    )

    hc = pd.DataFrame(hate).copy()
    hc["crimes"] = hc["crimes"].astype(int)
    hc["incidents"] = (
        hc["incidents"].astype("Int64").astype(object).where(hc["incidents"].notna(), "")
    )
    if threshold:
        hc = suppress_small(hc, count_cols=["crimes"], threshold=threshold)
        hc["incidents"] = hc["incidents"].map(
            lambda v: primary_marker(threshold) if isinstance(v, int) and 1 <= v < threshold else v
        )
    hc = with_total(
        hc,
        "characteristic",
        {
            "crimes": stated[("hate_crime", "crimes", "")],
            "incidents": stated[("hate_crime", "incidents", "")],
        },
        "Total (as printed)",
    )
    tables.append(
        Table(
            "hate_crime",
            "Hate crime by protected characteristic",
            hc,
            PUBLISHED,
            [
                *check_note("hate_crime", "crimes", "crimes"),
                *check_note("hate_crime", "incidents", "incidents"),
                "'Other' has no incidents figure in the review (left empty, not 0).",
                "1.49 hate crimes per 1,000 residents (the review's figure).",
            ],
            "partners",
        )
    )

    ar = pd.DataFrame(t["arson_by_quarter"]).copy()
    ar = ar[["quarter", "incidents", "deliberate"]]
    for c in ("incidents", "deliberate"):
        ar[c] = ar[c].astype(int)
    frame, notes = simple_counts(
        ar,
        label_col="quarter",
        count_cols=["incidents", "deliberate"],
        threshold=threshold,
        link_columns=False,
        total_label="Total (sum of quarters)",
    )
    tables.append(
        Table(
            "arson_by_quarter",
            "Arson by quarter (fire service)",
            frame,
            PUBLISHED,
            [
                "Fire service arson incidents, of which deliberate; a different count "
                "from police-recorded 'Arson' crimes (34) in the crime table. The "
                "review prints no total.",
                *notes,
            ],
            "partners",
            chart=Chart("bar", "quarter", ("incidents", "deliberate"), "incidents"),
        )
    )

    cc = pd.DataFrame(cctv).copy()
    for c in ("total", "police", "rangers", "arrests"):
        cc[c] = cc[c].astype(int)
    cc.insert(0, "month_name", cc["month"].map(month_name))
    frame, notes = simple_counts(
        cc,
        label_col="month_name",
        count_cols=["total", "police", "rangers", "arrests"],
        threshold=threshold,
        link_columns=False,
        total_label="Total (sum of months)",
    )
    tables.append(
        Table(
            "cctv_by_month",
            "CCTV control room: incidents, police and ranger calls, arrests",
            frame,
            PUBLISHED,
            [*check_note("cctv_by_month", "arrests", "arrests"), *notes],
            "partners",
            chart=Chart("bar", "month", ("total", "police", "rangers", "arrests"), "incidents"),
        )
    )

    q = asb.pivot(index="quarter", columns="year", values="count").astype(int)
    q = q.reset_index()
    years = [c for c in q.columns if c != "quarter"]
    q["change_on_year_before_pct"] = [
        round(pct_change(a, b), 2) for a, b in zip(q["2020-21"], q["2021-22"], strict=True)
    ]
    asb_notes = [f"Year on year: {change:+.2f}% (the review: 'down 16.81%')."]
    asb_notes += check_note("asb_by_quarter", "count", "2019-20")
    c19 = checks.get(("asb_by_quarter[year=2019-20]", "count"))
    if c19 is not None and not c19.ok:
        asb_notes.append(f"2019-20: {c19.note}")
    if threshold:
        st = suppress(
            q,
            count_cols=years,
            threshold=threshold,
            derived={"change_on_year_before_pct": ["2020-21", "2021-22"]},
        )
        frame = st.frame
        total = {y: st.total[y] for y in years}
        asb_notes += st.notes
    else:
        frame = q
        total = {y: int(q[y].sum()) for y in years}
    total["change_on_year_before_pct"] = round(change, 2)
    frame = with_total(frame, "quarter", total, "Total (sum of quarters)")
    tables.append(
        Table(
            "asb_by_quarter",
            "ASB incidents by quarter, three years",
            frame,
            PUBLISHED,
            asb_notes,
            "asb",
            chart=Chart("bar", "quarter", tuple(years), "ASB incidents"),
        )
    )

    la = pd.DataFrame(t["asb_by_local_area"])[["local_area", "name_in_review", "count"]].copy()
    la["count"] = la["count"].astype(int)
    la = la.sort_values("count", ascending=False).reset_index(drop=True)
    la_notes = [
        "Counts as published. Per 1,000 residents and the exact Poisson 95% interval "
        "are computed here from the published count and Census 2021 residents of "
        "each local area (the review gives no rate for local areas)."
    ]
    if threshold:
        st = suppress(la, count_cols=["count"], threshold=threshold)
        shown, withheld, tot = st.frame, st.mask["count"], st.total["count"]
        la_notes += st.notes
    else:
        shown, withheld, tot = la, pd.Series(False, index=la.index), int(la["count"].sum())
    shown = rate_columns(shown, "count", population(area, "local_area"), withheld, "local_area")
    shown = with_total(shown, "local_area", {"count": tot}, "Borough")
    tables.append(
        Table(
            "asb_by_local_area",
            "ASB by local area, counts and per 1,000 residents a year (Census 2021)",
            shown,
            PUBLISHED + "; rates computed here",
            la_notes,
            "asb",
            chart=Chart("hbar", "local_area", ("count",), "ASB incidents"),
        )
    )

    tw = pd.DataFrame(t["top_ward_rates"]).copy()
    pop02 = population(area, "ward2002")
    pop18 = population(area, "ward")
    pops = [
        pop02.get(c) if s == "2002" else pop18.get(c)
        for c, s in zip(tw["likely_ward_code"], tw["likely_ward_set"], strict=True)
    ]
    implied = [
        round(r * p / 1000) if p else np.nan for r, p in zip(tw["rate_per_1000"], pops, strict=True)
    ]
    lo, hi = poisson_ci(np.nan_to_num(np.array(implied, dtype=float)))
    wards = pd.DataFrame(
        {
            "rank": tw["rank"].astype(int),
            "ward": tw["ward_as_written"],
            "per_1000": tw["rate_per_1000"].astype(float),
            "likely_ward": tw["likely_ward_name"] + " (" + tw["likely_ward_set"] + " set)",
            "residents_2021": pd.array([int(p) if p else pd.NA for p in pops], dtype="Int64"),
            "implied_count": pd.array(
                [int(v) if v == v else pd.NA for v in implied], dtype="Int64"
            ),
            "ci_low": [
                round(v / p * 1000, 2) if p else np.nan for v, p in zip(lo, pops, strict=True)
            ],
            "ci_high": [
                round(v / p * 1000, 2) if p else np.nan for v, p in zip(hi, pops, strict=True)
            ],
        }
    )
    tables.append(
        Table(
            "top_wards",
            "The highest wards for ASB per 1,000 residents a year (Census 2021)",
            wards,
            PUBLISHED + "; intervals approximate, computed here",
            [
                "Rates as published. The review gives neither counts nor the "
                "population it used, so the intervals are approximate: the count is "
                "implied from the published rate and the Census 2021 residents of the "
                "ward the review most likely meant (it uses 2002 ward names, e.g. "
                "Hedge End Wildern), with an exact Poisson 95% interval on it."
            ],
            "asb",
            chart=Chart("hbar", "ward", ("per_1000",), "ASB per 1,000 a year"),
        )
    )
    return tables
