"""The 2021/22 review's tables beside the same figures computed from police.uk.

When the incident data holds all twelve months of the review year (April 2021 to
March 2022), :func:`packs.review.review_pack` shows each table police.uk can give
with the review's published figure, the police.uk figure, their difference and the
likely causes of it (:func:`compared_review_tables`); the review's three named
hotspots get a plain verdict from the year's data (:func:`named_hotspots_table`).
The review's 14 crime types and police.uk's 13 crime categories are compared in the
groups of :data:`CRIME_TYPE_GROUPS`, where each side's categories map whole onto the
other's.
"""

from __future__ import annotations

from collections.abc import Sequence

import geopandas as gpd
import numpy as np
import pandas as pd

from geo.schema import ASB, CRIME_TYPES
from geo.study_area import StudyArea
from packs.area_counts import Nesting, area_counts
from packs.disclosure import COMPLEMENTARY_MARKER, suppress, suppress_small
from packs.model import NOT_IN_POLICE_UK, PUBLISHED, REVIEW_PERIOD, Chart, Table
from packs.tables import (
    month_name,
    month_range,
    months_in_words,
    population,
    rate_columns,
    with_total,
)

__all__ = [
    "CRIME_TYPE_GROUPS",
    "COMPARED",
    "compared_review_tables",
    "crime_type_mapping",
    "covers_review_year",
    "named_hotspots_table",
    "not_in_police_uk_note",
]

CRIME_TYPE_GROUPS: tuple[tuple[str, tuple[str, ...], tuple[str, ...]], ...] = (
    (
        "Violence and sexual offences",
        ("Homicide", "Violence with injury", "Violence without injury", "Sexual offences"),
        ("Violence and sexual offences",),
    ),
    ("Theft", ("Theft",), ("Bicycle theft", "Other theft", "Shoplifting", "Theft from the person")),
    ("Public order", ("Public order",), ("Public order",)),
    ("Criminal damage and arson", ("Criminal damage", "Arson"), ("Criminal damage and arson",)),
    ("Burglary", ("Burglary residential", "Burglary commercial"), ("Burglary",)),
    ("Vehicle crime", ("Vehicle offences",), ("Vehicle crime",)),
    ("Robbery", ("Robbery",), ("Robbery",)),
    (
        "Drugs, weapons and other crime",
        ("Drug trafficking", "Miscellaneous"),
        ("Drugs", "Possession of weapons", "Other crime"),
    ),
)
"""How the review's crime types and police.uk's categories are compared.

Each entry is ``(group, review types, police.uk categories)``: the smallest groups in
which every category of either side falls whole. The review's "Drug trafficking" is
possession with intent to supply and above, while police.uk's "Drugs" also holds
possession, so drugs are compared together with the review's "Miscellaneous" and
police.uk's "Possession of weapons" and "Other crime".
"""

UNMAPPED = "Not mapped"
"""Group of a category neither side's mapping names (shown, never dropped)."""

COMPARED = PUBLISHED + " beside the same figures computed from police.uk data"
"""Source note of a table with the published and the police.uk figure side by side."""

_WHY_NOT = {
    "domestic_abuse": "police.uk does not flag domestic abuse; the count comes from the "
    "police's own recording",
    "hate_crime": "police.uk does not flag hate crime; it comes from police recording and "
    "third-party reporting centres",
    "arson_by_quarter": "these are the fire service's arson incidents; police.uk merges "
    "police-recorded arson into 'Criminal damage and arson'",
    "cctv_by_month": "the CCTV control room log is the council's own record",
}


def covers_review_year(incidents: pd.DataFrame) -> bool:
    """Tell whether the incidents hold every month of the review year.

    Parameters
    ----------
    incidents
        Incident frame with a ``month`` column.

    Returns
    -------
    bool
        True when each month from April 2021 to March 2022 has at least one row.

    Examples
    --------
    >>> covers_review_year(pd.DataFrame({"month": ["2022-02"]}))
    False
    """
    present = set(incidents["month"].astype(str))
    return all(m in present for m in month_range(*REVIEW_PERIOD))


def not_in_police_uk_note(key: str) -> str | None:
    """The note a published table police.uk cannot give carries, or None.

    Parameters
    ----------
    key
        A review table's key (``domestic_abuse``, ``hate_crime``, ``arson_by_quarter``,
        ``cctv_by_month``; any other key gives None).

    Returns
    -------
    str or None

    Examples
    --------
    >>> not_in_police_uk_note("cctv_by_month")[:60]
    'Not in police.uk data, so shown as published only: the CCTV '
    >>> not_in_police_uk_note("crime_by_type") is None
    True
    """
    why = _WHY_NOT.get(key)
    if why is None:
        return None
    return (
        f"{NOT_IN_POLICE_UK[:1].upper()}{NOT_IN_POLICE_UK[1:]}, so shown as published only: {why}."
    )


def crime_type_mapping(
    review_types: Sequence[str], police_uk_types: Sequence[str] = CRIME_TYPES
) -> pd.DataFrame:
    """Every crime category of either side with the comparison group it falls in.

    Parameters
    ----------
    review_types
        The review's crime types (``crime_by_type.csv``).
    police_uk_types
        police.uk categories (ASB is left out: the review counts it apart).

    Returns
    -------
    pandas.DataFrame
        ``side`` (``review`` or ``police.uk``), ``category``, ``group``; a category no
        group names is in group :data:`UNMAPPED`, so no row is ever lost.

    Examples
    --------
    >>> m = crime_type_mapping(["Theft", "Arson", "Kite flying"])
    >>> m[m["side"] == "review"]["group"].tolist()
    ['Theft', 'Criminal damage and arson', 'Not mapped']
    """
    review_group = {t: g for g, rev, _ in CRIME_TYPE_GROUPS for t in rev}
    police_group = {t: g for g, _, pol in CRIME_TYPE_GROUPS for t in pol}
    rows = [("review", t, review_group.get(t, UNMAPPED)) for t in review_types]
    rows += [("police.uk", t, police_group.get(t, UNMAPPED)) for t in police_uk_types if t != ASB]
    return pd.DataFrame(rows, columns=["side", "category", "group"])


# --------------------------------------------------------------------------- helpers


def _pct(diff: float, base: float) -> float:
    return round(diff / base * 100, 1) if base else float("nan")


def _pct2(after: int, before: int) -> str:
    return f"{(after - before) / before * 100:+.2f}%".replace("-", "\u2212")


def _signed(n: float) -> str:
    return f"{n:+,.0f}".replace("-", "\u2212")


def _signed_pct(p: float) -> str:
    return f"{p:+.1f}%".replace("-", "\u2212")


def _side_by_side(
    frame: pd.DataFrame,
    label_col: str,
    total_label: str,
    threshold: int | None,
) -> tuple[pd.DataFrame, list[str], tuple[object, object]]:
    """Add ``difference`` and ``difference_pct`` (police.uk minus published) and a total.

    Returns the table, suppression notes, and the (published, police.uk) totals shown.
    """
    out = frame.copy()
    out["difference"] = out["police_uk"] - out["published"]
    out["difference_pct"] = [
        _pct(d, p) for d, p in zip(out["difference"], out["published"], strict=True)
    ]
    pub_total, pol_total = int(out["published"].sum()), int(out["police_uk"].sum())
    notes: list[str] = []
    if threshold:
        st = suppress(
            out,
            count_cols=["published", "police_uk"],
            threshold=threshold,
            link_columns=False,
            derived={
                "difference": ["published", "police_uk"],
                "difference_pct": ["published", "police_uk"],
            },
        )
        out, notes = st.frame, st.notes
        pub_total, pol_total = st.total["published"], st.total["police_uk"]
    total: dict[str, object] = {"published": pub_total, "police_uk": pol_total}
    if all(isinstance(v, int | np.integer) for v in (pub_total, pol_total)):
        total["difference"] = int(pol_total) - int(pub_total)
        total["difference_pct"] = _pct(total["difference"], int(pub_total))
    else:
        total["difference"] = total["difference_pct"] = COMPLEMENTARY_MARKER
    return with_total(out, label_col, total, total_label), notes, (pub_total, pol_total)


def _headline(what: str, pub: int, pol: int) -> str:
    diff = pol - pub
    return (
        f"{what}: the review published {pub:,}, police.uk holds {pol:,}: "
        f"{_signed(diff)} ({_signed_pct(_pct(diff, pub))})."
    )


def _snapping_note() -> str:
    return (
        "Snapping: police.uk moves every report to the nearest of about 750,000 anonymous "
        "map points, by up to a few hundred metres. Areas are counted here by the LSOA code "
        "on each row, so snapping hardly changes the borough or local-area counts (a "
        "report right on the borough edge, such as the Southampton boundary at West End or "
        "the River Hamble, may be coded to either side); it matters for the maps: hotspot "
        "edges and the counts within reach of a named place or a venue."
    )


def _location_note(sub: pd.DataFrame) -> str:
    n = int((~sub["has_location"].to_numpy(bool)).sum())
    if n == 0:
        return (
            f"Rows without a location: none of the {len(sub):,} Eastleigh rows of the year "
            "lacks one, so they explain none of the difference (such rows are counted by "
            "their LSOA but kept off the maps)."
        )
    return (
        f"Rows without a location: {n:,} of the {len(sub):,} Eastleigh rows of the year "
        "lack one; they are counted here by their LSOA but kept off the maps, so they "
        "change the hotspot and venue figures, not these counts."
    )


def _systems_note(what: str) -> str:
    return (
        f"Two systems: the review's {what} were extracted from InterAct (the Police and "
        "Crime Commissioner's multi-agency data tool, the review's footnote 1) on a date it "
        "does not give; police.uk publishes each month's records some weeks after the month "
        "ends, as the force held them then. Records re-classified, transferred or cancelled "
        "between the two dates are counted differently."
    )


# --------------------------------------------------------------------------- tables


def compared_review_tables(
    incidents: pd.DataFrame,
    *,
    area: StudyArea,
    review_tables: dict[str, pd.DataFrame],
    threshold: int | None = None,
) -> list[Table]:
    """The review's tables police.uk can give, published and police.uk side by side.

    Parameters
    ----------
    incidents
        Incident frame holding every month of the review year
        (:func:`covers_review_year`); other months are ignored, except the year before
        for the ASB change where it is loaded.
    area
        The study area (wards of both sets, local areas, populations).
    review_tables
        The review's published tables (:func:`geo.published.load_review_tables`).
    threshold
        Withhold counts from 1 to this minus one (and enough others); None for none.

    Returns
    -------
    list of Table
        ``key_figures``, ``crime_by_type``, ``crime_by_month``, ``asb_by_quarter``,
        ``asb_by_local_area`` and ``top_wards``, each with ``published``,
        ``police_uk``, ``difference`` and ``difference_pct`` columns (or, for the wards,
        rates per 1,000 on both ward sets) and notes naming the likely causes.
    """
    months = month_range(*REVIEW_PERIOD)
    sub = incidents[incidents["month"].isin(months)]
    asb = sub[sub["crime_type"] == ASB]
    crimes = sub[sub["crime_type"] != ASB]
    source = COMPARED + f" for {months_in_words(months)}"
    t = review_tables
    month_tab, march = _crime_by_month(crimes, t, threshold, source)
    quarter_tab, year_before = _asb_by_quarter(incidents, asb, t, threshold, source)
    tables = [
        _key_figures(crimes, asb, t, year_before, march, source),
        _crime_by_type(crimes, sub, t, threshold, source, march),
        month_tab,
        quarter_tab,
        _asb_by_local_area(asb, sub, t, area, threshold, source),
        _top_wards(asb, t, area, threshold, source),
    ]
    return tables


def _key_figures(
    crimes: pd.DataFrame,
    asb: pd.DataFrame,
    t: dict[str, pd.DataFrame],
    year_before: int | None,
    march: tuple[int, int],
    source: str,
) -> Table:
    stated = {
        (r.table, r.column, r.subset): int(r.stated_total) for r in t["stated_totals"].itertuples()
    }
    q = t["asb_by_quarter"].groupby("year")["count"].sum()
    pub_asb, pub_yb = int(q["2021-22"]), int(q["2020-21"])
    pub_crime = int(t["crime_by_type"]["count"].sum())
    pub_change = round((pub_asb - pub_yb) / pub_yb * 100, 2)
    pol_change = round((len(asb) - year_before) / year_before * 100, 2) if year_before else None
    rows: list[tuple[str, object, object, str]] = [
        ("Recorded crimes (all types but ASB)", pub_crime, len(crimes), ""),
        ("ASB incidents", pub_asb, len(asb), ""),
        (
            "ASB incidents, 2020/21",
            pub_yb,
            year_before,
            "" if year_before else "the loaded police.uk data does not hold 2020/21",
        ),
        (
            "ASB change on the year before (%)",
            pub_change,
            pol_change,
            "" if pol_change is not None else "needs 2020/21",
        ),
        (
            "Domestic abuse crimes",
            stated[("domestic_abuse_by_offence", "count", "")],
            None,
            NOT_IN_POLICE_UK,
        ),
        ("Hate crimes", stated[("hate_crime", "crimes", "")], None, NOT_IN_POLICE_UK),
        ("CCTV incidents", int(t["cctv_by_month"]["total"].sum()), None, NOT_IN_POLICE_UK),
        (
            "CCTV arrests (as printed)",
            stated[("cctv_by_month", "arrests", "")],
            None,
            NOT_IN_POLICE_UK,
        ),
    ]
    diff = [(b - a if isinstance(a, int) and isinstance(b, int) else None) for _, a, b, _ in rows]
    frame = pd.DataFrame(
        {
            "measure": [r[0] for r in rows],
            "published": pd.Series([r[1] for r in rows], dtype=object),
            "police_uk": pd.Series([r[2] for r in rows], dtype=object),
            "difference": pd.Series(diff, dtype=object),
            "difference_pct": pd.Series(
                [_pct(d, r[1]) if d is not None else None for d, r in zip(diff, rows, strict=True)],
                dtype=object,
            ),
            "police_uk_note": [r[3] for r in rows],
        }
    )
    pub_march, pol_march = march
    notes = [
        _headline("Recorded crime", pub_crime, len(crimes))
        + f" March 2022 alone accounts for {_signed(pol_march - pub_march)} of it "
        "(see crime by month).",
        _headline("ASB", pub_asb, len(asb)),
        "Each table below gives the causes; the tables police.uk cannot give (domestic "
        "abuse, hate crime, fire service arson, CCTV) stay as published.",
    ]
    return Table(
        "key_figures", "Key figures, April 2021 to March 2022", frame, source, notes, "summary"
    )


def _crime_by_type(
    crimes: pd.DataFrame,
    sub: pd.DataFrame,
    t: dict[str, pd.DataFrame],
    threshold: int | None,
    source: str,
    march: tuple[int, int],
) -> Table:
    review = t["crime_by_type"][["crime_type", "count"]].copy()
    review["count"] = review["count"].astype(int)
    police = crimes.groupby("crime_type").size()
    present = [c for c in CRIME_TYPES if c != ASB]
    present += sorted(set(police.index) - set(present))
    mapping = crime_type_mapping(review["crime_type"].tolist(), present)
    groups = [g for g, _, _ in CRIME_TYPE_GROUPS]
    if (mapping["group"] == UNMAPPED).any():
        groups.append(UNMAPPED)
    rev_count = dict(zip(review["crime_type"], review["count"], strict=True))
    rows = []
    for g in groups:
        rev = mapping[(mapping["side"] == "review") & (mapping["group"] == g)]["category"]
        pol = mapping[(mapping["side"] == "police.uk") & (mapping["group"] == g)]["category"]
        rows.append(
            {
                "group": g,
                "review_types": "; ".join(f"{c} ({rev_count[c]:,})" for c in rev),
                "published": int(sum(rev_count[c] for c in rev)),
                "police_uk_categories": "; ".join(f"{c} ({int(police.get(c, 0)):,})" for c in pol),
                "police_uk": int(sum(int(police.get(c, 0)) for c in pol)),
            }
        )
    frame = pd.DataFrame(rows).sort_values("published", ascending=False, kind="stable")
    frame = frame.reset_index(drop=True)
    shown, s_notes, _ = _side_by_side(frame, "group", "Overall recorded crime", threshold)
    by_group = frame.set_index("group")
    drugs = by_group.loc["Drugs, weapons and other crime"]
    pub, pol = int(frame["published"].sum()), int(frame["police_uk"].sum())
    pub_march, pol_march = march
    rest = (pol - pol_march) - (pub - pub_march)
    notes = [
        _headline("Recorded crime", pub, pol),
        "Categories: police.uk has 13 crime categories besides ASB, the review 14 types; "
        "they are compared in the groups shown, in which each side's categories fall "
        "whole (the counts of each category are in brackets). Every category of both "
        "sides is in a group, so the groups add up to each side's total.",
        "The review's 'Drug trafficking' is possession with intent to supply and above; "
        "police.uk's 'Drugs' also holds possession. Compared together with the review's "
        "'Miscellaneous' and police.uk's 'Possession of weapons' and 'Other crime', the "
        f"group differs by {_signed(int(drugs['police_uk']) - int(drugs['published']))}, "
        "so drug possession and weapons most likely sit in the review's 'Miscellaneous'.",
        f"Extract date: the review's March 2022 ({pub_march:,}) is about half of any other "
        f"month; police.uk has {pol_march:,}. March accounts for "
        f"{_signed(pol_march - pub_march)} of the difference; the other eleven months "
        f"differ by {_signed(rest)} ({_signed_pct(_pct(rest, pub - pub_march))}). The "
        "review's extract most likely did not yet hold all of March's crimes.",
        _systems_note("crimes"),
        _snapping_note(),
        _location_note(sub),
        *s_notes,
    ]
    return Table(
        "crime_by_type",
        "Recorded crime by type: published and police.uk",
        shown,
        source,
        notes,
        "crime",
    )


def _crime_by_month(
    crimes: pd.DataFrame, t: dict[str, pd.DataFrame], threshold: int | None, source: str
) -> tuple[Table, tuple[int, int]]:
    cm = t["crime_by_month"][["month", "count"]].copy()
    counts = crimes.groupby("month").size()
    frame = pd.DataFrame(
        {
            "month": cm["month"].map(month_name),
            "published": cm["count"].astype(int).to_numpy(),
            "police_uk": cm["month"].map(counts).fillna(0).astype(int).to_numpy(),
        }
    )
    shown, s_notes, _ = _side_by_side(frame, "month", "Total", threshold)
    last = frame.iloc[-1]
    march = (int(last["published"]), int(last["police_uk"]))
    others = frame.iloc[:-1]
    pcts = (others["police_uk"] - others["published"]) / others["published"] * 100
    notes = [
        f"March 2022: the review prints {march[0]:,}, about half of any other month; "
        f"police.uk has {march[1]:,}. The review's extract most likely did not yet hold "
        "all of March's crimes (records are added for weeks after a month ends).",
        f"April 2021 to February 2022: police.uk is higher in every month, by "
        f"{pcts.min():.1f}% to {pcts.max():.1f}%; the months rise and fall together "
        "(October and November highest in both), so the two series are the same months "
        "counted by two systems (see recorded crime by type for the causes).",
        *s_notes,
    ]
    if (pcts < 0).any():
        notes[1] = (
            f"April 2021 to February 2022: police.uk differs by {_signed_pct(pcts.min())} to "
            f"{_signed_pct(pcts.max())} a month (see recorded crime by type for the causes)."
        )
    return (
        Table(
            "crime_by_month",
            "Recorded crime by month: published and police.uk",
            shown,
            source,
            notes,
            "crime",
            chart=Chart("bar", "month", ("published", "police_uk"), "crimes"),
        ),
        march,
    )


def _asb_by_quarter(
    incidents: pd.DataFrame,
    asb: pd.DataFrame,
    t: dict[str, pd.DataFrame],
    threshold: int | None,
    source: str,
) -> tuple[Table, int | None]:
    pub = t["asb_by_quarter"].pivot(index="quarter", columns="year", values="count").astype(int)
    pub = pub.reset_index()
    years = [c for c in pub.columns if c != "quarter"]
    months = month_range(*REVIEW_PERIOD)
    by_month = asb.groupby("month").size().reindex(months, fill_value=0)
    fin = {f"Q{i + 1}": int(by_month.iloc[3 * i : 3 * i + 3].sum()) for i in range(4)}
    # The same twelve months read as calendar quarters: Q1 = January-March 2022.
    cal = {
        "Q1": int(by_month.iloc[9:12].sum()),
        "Q2": int(by_month.iloc[0:3].sum()),
        "Q3": int(by_month.iloc[3:6].sum()),
        "Q4": int(by_month.iloc[6:9].sum()),
    }
    frame = pub[["quarter", *years]].copy()
    frame = frame.rename(columns={"2021-22": "published"})
    frame["police_uk"] = frame["quarter"].map(fin).astype(int)
    shown, s_notes, _ = _side_by_side(frame, "quarter", "Total (sum of quarters)", threshold)
    frame["police_uk_calendar_quarter"] = frame["quarter"].map(cal).astype(int)
    cal_diff = frame["police_uk_calendar_quarter"] - frame["published"]
    cal_col = frame["police_uk_calendar_quarter"].astype(object).tolist()
    cal_d = cal_diff.astype(object).tolist()
    if threshold:
        cal_shown = suppress_small(
            frame[["police_uk_calendar_quarter"]].assign(calendar_difference=cal_diff),
            count_cols=["police_uk_calendar_quarter"],
            threshold=threshold,
            derived={"calendar_difference": "police_uk_calendar_quarter"},
        )
        cal_col = cal_shown["police_uk_calendar_quarter"].tolist()
        cal_d = cal_shown["calendar_difference"].tolist()
    shown["police_uk_calendar_quarter"] = [*cal_col, shown.iloc[-1]["police_uk"]]
    shown["calendar_difference"] = [*cal_d, shown.iloc[-1]["difference"]]
    shown = shown.rename(
        columns={"published": "2021-22_published", "police_uk": "2021-22_police_uk"}
    )
    fin_err = int((frame["police_uk"] - frame["published"]).abs().sum())
    cal_err = int(cal_diff.abs().sum())
    worst = (
        frame.assign(d=frame["police_uk"] - frame["published"])
        .sort_values("d", key=abs, ascending=False)
        .iloc[0]
    )
    yb_months = month_range("2020-04", "2021-03")
    present = set(incidents["month"].astype(str))
    year_before = None
    if all(m in present for m in yb_months):
        year_before = int(
            (incidents["month"].isin(yb_months) & (incidents["crime_type"] == ASB)).sum()
        )
    pub_total = int(frame["published"].sum())
    notes = [
        _headline("ASB", pub_total, len(asb)),
        "2019-20, 2020-21 and 2021-22 published are the review's published quarters; "
        "'2021-22 police.uk' counts the same year's ASB by financial quarter as the review "
        "labels them (Q1 = April to June 2021). The review's change on the year before "
        f"({_pct2(pub_total, int(frame['2020-21'].sum()))}) is in the key figures. Earlier "
        "years stay as published: "
        + (
            "the loaded police.uk data does not hold them."
            if year_before is None
            else "the review's own totals are used for them."
        ),
        f"Read as financial quarters, the quarters differ a lot (Q{worst['quarter'][1:]}: "
        f"{_signed(int(worst['d']))}) although the totals are close; read as calendar "
        "quarters of the same twelve months (Q1 = January to March 2022, Q2 = April to "
        "June 2021 and so on; column 'police.uk calendar quarter'), "
        + (
            f"every quarter is within {cal_diff.abs().max():,} of the review's "
            f"(sum of gaps {cal_err:,} against {fin_err:,}). The review's quarters are most "
            "likely calendar quarters."
            if cal_err < fin_err
            else f"the gaps are no smaller ({cal_err:,} against {fin_err:,})."
        ),
        "police.uk's ASB falls through the year ("
        f"{int(by_month.iloc[0]):,} in April 2021, {int(by_month.iloc[-1]):,} in March "
        "2022); the review describes the police re-recording many ASB reports as crimes "
        "(crime data integrity) in this period.",
        _systems_note("ASB figures")
        + " An ASB report re-recorded as a crime after police.uk published it would most "
        "likely stay ASB on police.uk, which would leave police.uk higher, as it is.",
        *s_notes,
    ]
    return (
        Table(
            "asb_by_quarter",
            "ASB incidents by quarter: published (three years) and police.uk (2021-22)",
            shown,
            source,
            notes,
            "asb",
            chart=Chart(
                "bar",
                "quarter",
                ("2021-22_published", "2021-22_police_uk", "police_uk_calendar_quarter"),
                "ASB incidents",
            ),
        ),
        year_before,
    )


def _asb_by_local_area(
    asb: pd.DataFrame,
    sub: pd.DataFrame,
    t: dict[str, pd.DataFrame],
    area: StudyArea,
    threshold: int | None,
    source: str,
) -> Table:
    la = t["asb_by_local_area"][["local_area", "count"]].copy()
    counts = asb.groupby("local_area").size()
    frame = (
        pd.DataFrame(
            {
                "local_area": la["local_area"],
                "published": la["count"].astype(int).to_numpy(),
                "police_uk": la["local_area"].map(counts).fillna(0).astype(int).to_numpy(),
            }
        )
        .sort_values("published", ascending=False, kind="stable")
        .reset_index(drop=True)
    )
    pop = population(area, "local_area")
    outside = len(asb) - int(frame["police_uk"].sum())
    shown, s_notes, _ = _side_by_side(frame, "local_area", "Borough", threshold)
    body = shown.iloc[:-1]
    pub_rate = rate_columns(
        body[["local_area", "published"]],
        "published",
        pop,
        body["published"].map(lambda v: isinstance(v, str)),
        "local_area",
    )
    pol_rate = rate_columns(
        body[["local_area", "police_uk"]],
        "police_uk",
        pop,
        body["police_uk"].map(lambda v: isinstance(v, str)),
        "local_area",
    )
    borough = float(population(area, "borough").iloc[0])
    shown["per_1000_published"] = [
        *pub_rate["per_1000"],
        round(int(frame["published"].sum()) / borough * 1000, 2),
    ]
    shown["per_1000_police_uk"] = [*pol_rate["per_1000"], round(len(asb) / borough * 1000, 2)]
    pcts = (frame["police_uk"] - frame["published"]) / frame["published"] * 100
    lo = frame.loc[pcts.idxmin(), "local_area"]
    notes = [
        _headline("ASB", int(frame["published"].sum()), len(asb)),
        "police.uk counts each report in the local area of its row's LSOA (LSOAs nest in "
        "the wards and local areas); per 1,000 Census 2021 residents for both.",
        f"The difference is spread across the borough: from {_signed_pct(pcts.min())} ({lo}) "
        f"to {_signed_pct(pcts.max())} ({frame.loc[pcts.idxmax(), 'local_area']}). A gap of a similar "
        "share everywhere points to how and when the two systems counted, not to "
        "boundaries or snapping, which would move reports between neighbouring areas.",
        _snapping_note(),
        _location_note(sub),
        *s_notes,
    ]
    if outside:
        notes.insert(
            2,
            f"{outside:,} police.uk ASB reports have no local area and are in "
            "the borough total only.",
        )
    return Table(
        "asb_by_local_area",
        "ASB by local area: published and police.uk",
        shown,
        source,
        notes,
        "asb",
        chart=Chart("hbar", "local_area", ("published", "police_uk"), "ASB incidents"),
    )


def _ward_rates(asb: pd.DataFrame, area: StudyArea, ward_set: str) -> pd.DataFrame:
    months = month_range(*REVIEW_PERIOD)
    nesting = Nesting(ward_set, "local_area")
    wards = area_counts(asb, months, area=area, types=[ASB], nesting=nesting, threshold=None)
    w = wards.small[["code", "name"]].copy()
    w["count"] = wards.small[months].sum(axis=1).astype(int)
    w = rate_columns(
        w, "count", population(area, ward_set), pd.Series(False, index=w.index), "code"
    )
    w = w.sort_values("per_1000", ascending=False, kind="stable").reset_index(drop=True)
    w["rank"] = range(1, len(w) + 1)
    return w.set_index("code")


def _top_wards(
    asb: pd.DataFrame,
    t: dict[str, pd.DataFrame],
    area: StudyArea,
    threshold: int | None,
    source: str,
) -> Table:
    tw = t["top_ward_rates"]
    w02 = _ward_rates(asb, area, "ward2002")
    w18 = _ward_rates(asb, area, "ward")

    def look(w: pd.DataFrame, code: object, col: str) -> object:
        if not isinstance(code, str) or code not in w.index:
            return None
        v = w.loc[code, col]
        if threshold and 1 <= int(w.loc[code, "count"]) < threshold:
            return COMPLEMENTARY_MARKER
        return v.item() if hasattr(v, "item") else v

    frame = pd.DataFrame(
        {
            "rank": tw["rank"].astype(int),
            "ward": tw["ward_as_written"],
            "published_per_1000": tw["rate_per_1000"].astype(float),
            "ward_2002": [look(w02, c, "name") for c in tw["likely_ward_code"]],
            "police_uk_2002_per_1000": [look(w02, c, "per_1000") for c in tw["likely_ward_code"]],
            "rank_2002": pd.Series(
                [look(w02, c, "rank") for c in tw["likely_ward_code"]], dtype=object
            ),
            "ward_2018": [look(w18, c, "name") for c in tw["alt_ward_code_2018"]],
            "police_uk_2018_per_1000": pd.Series(
                [look(w18, c, "per_1000") for c in tw["alt_ward_code_2018"]], dtype=object
            ),
            "rank_2018": pd.Series(
                [look(w18, c, "rank") for c in tw["alt_ward_code_2018"]], dtype=object
            ),
        }
    )
    frame["ward_2018"] = frame["ward_2018"].fillna("(no such ward)")

    def gap(col: str) -> float:
        v = pd.to_numeric(frame[col], errors="coerce")
        return float((v - frame["published_per_1000"]).abs().mean())

    g02, g18 = gap("police_uk_2002_per_1000"), gap("police_uk_2018_per_1000")
    n = len(tw)
    top02 = w02.head(n)["name"].tolist()
    top18 = w18.head(n)["name"].tolist()
    in02 = sum(c in w02.head(n).index for c in tw["likely_ward_code"])
    in18 = sum(c in w18.head(n).index for c in tw["alt_ward_code_2018"].dropna())
    better = "2002" if (in02, -g02) >= (in18, -g18) else "2018"
    notes = [
        "The review's four highest wards per 1,000 residents beside police.uk's ASB for the "
        "year per 1,000 Census 2021 residents of the same ward in each ward set; 'rank' is "
        "the ward's place among its set (19 wards of 2002, 14 of 2018). The chart shows the "
        "published rates and police.uk's on the 2002 wards.",
        f"police.uk's {n} highest on the 2002 wards: {', '.join(top02)} ({in02} of the "
        f"review's {n}; rates off the review's by {g02:.2f} per 1,000 on average). On the "
        f"2018 wards: {', '.join(top18)} ({in18} of the {tw['alt_ward_code_2018'].notna().sum()} "
        f"that exist in that set; off by {g18:.2f} on average).",
        f"The {better} ward set matches the review better"
        + (", as its ward names (Hedge End Wildern) suggest." if better == "2002" else "."),
        "The rates cannot match exactly: the review gives neither counts nor the population "
        "it used, which was most likely older than Census 2021 (see the README of the "
        "published tables), and its ASB count differs from police.uk's (see the key "
        "figures).",
    ]
    if threshold:
        notes.append(f"Rates of wards with fewer than {threshold} reports are withheld.")
    return Table(
        "top_wards",
        "The highest wards for ASB per 1,000 residents: published and police.uk",
        frame,
        source,
        notes,
        "asb",
        chart=Chart(
            "hbar",
            "ward",
            ("published_per_1000", "police_uk_2002_per_1000"),
            "ASB per 1,000",
        ),
    )


# --------------------------------------------------------------------------- hotspots


def named_hotspots_table(
    reference: gpd.GeoDataFrame,
    hotspots: gpd.GeoDataFrame,
    *,
    months: Sequence[str],
    located: int,
    top_n: int,
    threshold: int | None,
    section: str,
) -> Table:
    """The review's named hotspots checked against the data, each with a plain verdict.

    Parameters
    ----------
    reference
        :func:`analysis.reference.reference_hotspots` for the period (EPSG:27700).
    hotspots
        The detected hotspots (``rank``, ``name``, geometry in EPSG:27700).
    months
        The months counted.
    located
        Located ASB incidents of those months (the base of the shares).
    top_n
        How many of the highest-ranked hotspots count as agreeing.
    threshold
        Withhold counts from 1 to this minus one; None for none.
    section
        The pack section.

    Returns
    -------
    Table
        ``review_hotspot``, ``place``, ``radius_m``, ``asb_within``, ``share_pct``,
        ``overlapping_hotspots``, ``data_agrees`` and ``verdict``, one row per named
        hotspot; the verdict names the nearest top hotspot where none overlaps.
    """
    top = hotspots[hotspots["rank"] <= top_n] if len(hotspots) else hotspots
    period = months_in_words(months)
    rows = []
    for r in reference.itertuples():
        n = int(r.incidents_within)
        share = round(n / max(located, 1) * 100, 1)
        where = f"within {r.radius_m:.0f} m of {r.place}"
        shown_n = f"fewer than {threshold}" if threshold and 1 <= n < threshold else f"{n:,}"
        if r.agrees:
            verdict = (
                f"The data agrees: {shown_n} ASB reports {where} in {period} "
                f"({share}% of the borough's), and the detected hotspot(s) {r.overlapping} "
                "overlap it."
            )
        else:
            verdict = (
                f"The data does not show a hotspot here: {shown_n} ASB reports {where} in "
                f"{period} ({share}% of the borough's), and none of the top {top_n} "
                "detected hotspots overlaps it."
            )
            if len(top):
                centre = r.geometry.centroid
                dist = top.geometry.distance(centre)
                k = top.loc[dist.idxmin()]
                kn = int(k["count"])
                k_text = (
                    f"fewer than {threshold}" if threshold and 1 <= kn < threshold else f"{kn:,}"
                )
                verdict += (
                    f" The nearest is #{int(k['rank'])} {k['name']} "
                    f"({k_text} reports), {float(dist.min()):,.0f} m from {r.place}."
                )
        rows.append(
            {
                "review_hotspot": r.review_name,
                "place": r.place,
                "radius_m": int(round(r.radius_m)),
                "asb_within": n,
                "share_pct": share,
                "overlapping_hotspots": r.overlapping,
                "data_agrees": "yes" if r.agrees else "no",
                "verdict": verdict,
            }
        )
    frame = pd.DataFrame(
        rows,
        columns=[
            "review_hotspot",
            "place",
            "radius_m",
            "asb_within",
            "share_pct",
            "overlapping_hotspots",
            "data_agrees",
            "verdict",
        ],
    )
    if threshold:
        frame = suppress_small(
            frame,
            count_cols=["asb_within"],
            threshold=threshold,
            derived={"share_pct": "asb_within"},
        )
    notes = [
        f"The review names three hotspots by judgement. For each: the ASB reports of "
        f"{period} within the reach of the named place, their share of the borough's "
        f"{located:,} located reports, and whether one of the {top_n} highest-ranked "
        "detected hotspots overlaps the reach. A 'no' is the data's answer, not a "
        "hotspot invented to agree.",
        "Snapping moves each report by up to a few hundred metres, so a count within a "
        "few hundred metres of a place is approximate.",
    ]
    return Table(
        "review_hotspots",
        f"The review's named hotspots in the data, {period}",
        frame,
        f"hotspot names from the 2021/22 review; counts computed from police.uk data for {period}",
        notes,
        section,
    )
