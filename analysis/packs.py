"""The strategic review pack and the monthly tasking pack, as tables.

Every year the CSP writes a strategic review whose data section is a fixed set of
tables; every month the District Tasking and Priority group meets over maps and
tables. :func:`review_pack` and :func:`tasking_pack` assemble those tables from the
data as pandas frames (this module writes no HTML: :mod:`render.report` does), each
:class:`Table` saying where its numbers come from:

* ``"published table from the 2021/22 review"``: the review's own numbers
  (:mod:`analysis.published`), used for 2021/22, the one year whose tables exist; the
  shipped police.uk data holds only February 2022 of that year;
* ``"computed from police.uk data for <months>"``: counted here from the incidents;
* ``"not in police.uk data"``: CCTV control-room logs, hate crime, arson (fire service)
  and domestic abuse flags are not in police.uk street data; such tables are listed
  with that note and no numbers, never invented.

With ``suppress_below=N`` every count from 1 to N-1 is withheld
(:mod:`analysis.disclosure`), consistently across wards, local areas and the borough
and across every period shown, so that no withheld count can be worked out from the
tables of the pack taken together.

Examples
--------
>>> pack = review_pack(("2021-04", "2022-03"))  # doctest: +SKIP
>>> pack["crime_by_type"].frame.iloc[-1]["count"]  # doctest: +SKIP
8287
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

import geopandas as gpd
import numpy as np
import pandas as pd
from scipy import stats

from analysis.disclosure import (
    COMPLEMENTARY_MARKER,
    SuppressedTable,
    primary_marker,
    suppress,
    suppress_small,
)
from analysis.rates import area_rates, filter_incidents, pct_change, poisson_ci
from geo.errors import InputError
from geo.schema import ASB, LOCAL_AREAS

__all__ = [
    "NOT_IN_POLICE_UK",
    "PUBLISHED",
    "REVIEW_PERIOD",
    "SECTION_TITLES",
    "TOTAL_LABELS",
    "Chart",
    "Pack",
    "Table",
    "computed_note",
    "month_range",
    "parse_period",
    "review_pack",
    "tasking_pack",
]

PUBLISHED = "published table from the 2021/22 review"
"""Source note of a table whose numbers are the review's own."""

NOT_IN_POLICE_UK = "not in police.uk data"
"""Source note of a table the police.uk data cannot give."""

REVIEW_PERIOD = ("2021-04", "2022-03")
"""The year of the one review whose tables are published (April 2021 - March 2022)."""

TOTAL_LABELS = frozenset(
    {
        "Total",
        "Total (as printed)",
        "Total (sum of quarters)",
        "Total (sum of months)",
        "Overall recorded crime",
        "All recorded crime",
        "All types",
        "Borough",
    }
)
"""Labels of the total rows the packs append (last row of a table)."""

_MONTH_NAMES = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)

SECTION_TITLES = {
    "summary": "Summary",
    "crime": "Recorded crime",
    "asb": "Anti-social behaviour",
    "partners": "Partnership data",
    "hotspots": "Hotspots",
    "venues": "Diversion venues",
    "areas": "Areas",
    "patrol": "Patrol plan",
}
"""Heading of each section key used by :attr:`Table.section` (page breaks fall between)."""


@dataclass(frozen=True)
class Chart:
    """A chart of a table's columns (drawn by :mod:`render.report`).

    Attributes
    ----------
    kind
        ``"bar"`` (categories along the bottom) or ``"hbar"`` (categories down the side).
    x
        Column of category labels.
    y
        Columns of values, one bar series each.
    label
        What the values are (axis label).
    """

    kind: str
    x: str
    y: tuple[str, ...]
    label: str = ""


@dataclass
class Table:
    """One table of a pack.

    Attributes
    ----------
    key
        Short identifier (also the CSV file name).
    title
        Heading.
    frame
        The table as published: numbers, text, and suppression markers where withheld.
    source_note
        Where the numbers come from (:data:`PUBLISHED`, :func:`computed_note` or
        :data:`NOT_IN_POLICE_UK`).
    notes
        What a reader must know (checks, caveats, what was withheld).
    section
        The section it belongs to (page breaks fall between sections).
    chart
        A chart to draw from ``frame``, if any.
    layers
        Map layers in EPSG:27700 (``hotspots``, ``change``, ``reference``, ``venues``),
        with withheld counts already replaced; None for no map.
    show_rows
        Rows to print (the first ones); None for all. The CSV always holds every row.
    total_row
        Whether the last row is a total (printed in bold, left out of charts).
    """

    key: str
    title: str
    frame: pd.DataFrame
    source_note: str
    notes: list[str] = field(default_factory=list)
    section: str = ""
    chart: Chart | None = None
    layers: dict[str, gpd.GeoDataFrame] | None = None
    show_rows: int | None = None
    total_row: bool = False

    def __post_init__(self) -> None:
        if len(self.frame) and len(self.frame.columns):
            last = self.frame.iloc[-1]
            self.total_row = self.total_row or any(
                isinstance(v, str) and v in TOTAL_LABELS for v in last.to_numpy()
            )

    @property
    def available(self) -> bool:
        """False for a table the data cannot give (it has no rows)."""
        return self.source_note != NOT_IN_POLICE_UK


@dataclass
class Pack:
    """An ordered list of tables with a title.

    Attributes
    ----------
    kind
        ``"review"`` or ``"tasking"``.
    title
        Title of the pack.
    period
        First and last month covered (``YYYY-MM``).
    tables
        The tables in reading order.
    notes
        Notes on the whole pack (data loaded, suppression).
    suppress_below
        The suppression threshold used, or None.
    """

    kind: str
    title: str
    period: tuple[str, str]
    tables: list[Table]
    notes: list[str] = field(default_factory=list)
    suppress_below: int | None = None

    def __iter__(self) -> Iterator[Table]:
        return iter(self.tables)

    def __len__(self) -> int:
        return len(self.tables)

    def __getitem__(self, key: str) -> Table:
        for t in self.tables:
            if t.key == key:
                return t
        msg = f"the pack has no table {key!r}; it has {[t.key for t in self.tables]}."
        raise KeyError(msg)

    @property
    def sections(self) -> list[str]:
        """Section names in order of first appearance."""
        seen: dict[str, None] = {}
        for t in self.tables:
            seen.setdefault(t.section, None)
        return list(seen)


# --------------------------------------------------------------------------- months


def _check_month(value: str, what: str) -> str:
    text = str(value).strip()
    if not pd.Series([text]).str.fullmatch(r"\d{4}-(0[1-9]|1[0-2])").iloc[0]:
        msg = f"{what} {value!r} is not a month in YYYY-MM form (e.g. 2017-05)."
        raise InputError(msg)
    return text


def parse_period(period: str | Sequence[str]) -> tuple[str, str]:
    """Read a period: ``"2017-05"``, ``"2017-02..2017-05"`` or ``("2017-02", "2017-05")``.

    Parameters
    ----------
    period
        One month, or a first and last month (inclusive).

    Returns
    -------
    tuple of str
        ``(first, last)``.

    Raises
    ------
    InputError
        If a month is not ``YYYY-MM`` or the period ends before it starts.

    Examples
    --------
    >>> parse_period("2017-02..2017-05")
    ('2017-02', '2017-05')
    >>> parse_period("2017-05")
    ('2017-05', '2017-05')
    """
    if isinstance(period, str):
        parts = period.split("..")
        if len(parts) > 2:
            msg = f"period {period!r}: write one month (2017-05) or a range (2017-02..2017-05)."
            raise InputError(msg)
        parts = parts if len(parts) == 2 else [parts[0], parts[0]]
    else:
        parts = list(period)
        if len(parts) == 1:
            parts = parts * 2
        if len(parts) != 2:
            msg = f"period {period!r}: give a first and a last month."
            raise InputError(msg)
    first = _check_month(parts[0], "period start")
    last = _check_month(parts[1], "period end")
    if last < first:
        msg = f"period {first}..{last} ends before it starts; write the earlier month first."
        raise InputError(msg)
    return first, last


def month_range(first: str, last: str) -> list[str]:
    """Every month from ``first`` to ``last`` inclusive, as ``YYYY-MM``.

    Examples
    --------
    >>> month_range("2017-02", "2017-05")
    ['2017-02', '2017-03', '2017-04', '2017-05']
    """
    return [str(p) for p in pd.period_range(first, last, freq="M")]


def _shift(month: str, n: int) -> str:
    return str(pd.Period(month, freq="M") + n)


def _month_name(month: str) -> str:
    y, m = month.split("-")
    return f"{_MONTH_NAMES[int(m) - 1]} {y}"


def _span(months: Sequence[str]) -> str:
    months = sorted(months)
    if not months:
        return "no months"
    if len(months) == 1:
        return _month_name(months[0])
    full = month_range(months[0], months[-1])
    if len(full) == len(months):
        return f"{_month_name(months[0])} to {_month_name(months[-1])}"
    return ", ".join(_month_name(m) for m in months[:-1]) + f" and {_month_name(months[-1])}"


def computed_note(months: Sequence[str]) -> str:
    """The source note of a table counted from police.uk incidents.

    Examples
    --------
    >>> computed_note(["2017-02", "2017-03"])
    'computed from police.uk data for February 2017 to March 2017'
    """
    return f"computed from police.uk data for {_span(months)}"


def _quarter(month: str) -> tuple[str, str]:
    """Financial year and quarter (April-June is Q1): ``("2017-18", "Q1")``."""
    y, m = (int(v) for v in month.split("-"))
    start = y if m >= 4 else y - 1
    return f"{start}-{(start + 1) % 100:02d}", f"Q{(m - 4) % 12 // 3 + 1}"


# --------------------------------------------------------------------------- helpers


def _load(incidents: gpd.GeoDataFrame | None) -> gpd.GeoDataFrame:
    if incidents is not None:
        return incidents
    from geo.io import load_incidents  # noqa: PLC0415

    return load_incidents().incidents


def _threshold(suppress_below: int | None) -> int | None:
    if suppress_below is None:
        return None
    try:
        n = int(suppress_below)
    except (TypeError, ValueError) as exc:
        msg = f"suppress_below {suppress_below!r}: give a whole number such as 5."
        raise InputError(msg) from exc
    if n < 2 or n != suppress_below:
        msg = (
            f"suppress_below {suppress_below!r}: give a whole number of 2 or more (5 withholds "
            "counts of one to four)."
        )
        raise InputError(msg)
    return n


def _pvalue(before: int, after: int, p_after: float = 0.5) -> float:
    n = int(before) + int(after)
    return float(stats.binomtest(int(after), n, p_after).pvalue) if n else 1.0


def _direction(before: int, after: int, p: float, alpha: float = 0.05) -> str:
    if p >= alpha:
        return "no clear change"
    return "up" if after > before else "down"


def _pct(before: float, after: float) -> float:
    return round(pct_change(before, after), 1) if before else float("nan")


def _tidy(note: str) -> str:
    """A note ending in exactly one full stop."""
    return note.rstrip(". ") + "."


def _unavailable(key: str, title: str, section: str, why: str) -> Table:
    return Table(
        key=key,
        title=title,
        frame=pd.DataFrame(),
        source_note=NOT_IN_POLICE_UK,
        notes=[why],
        section=section,
    )


def _ward_layer(ward_set: str) -> pd.DataFrame:
    from geo.boundaries import load_layer  # noqa: PLC0415

    name = {"ward": "wards_2018", "ward2002": "wards_2002"}[ward_set]
    return load_layer(name)[["code", "name", "local_area"]]


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


def _sort_withheld_last(frame: pd.DataFrame, by: str, ascending: bool = False) -> pd.DataFrame:
    """Sort by a column that may hold markers, putting withheld rows last."""
    num = pd.to_numeric(frame[by], errors="coerce")
    order = num.sort_values(ascending=ascending, na_position="last", kind="stable").index
    return frame.loc[order].reset_index(drop=True)


def _with_total(
    frame: pd.DataFrame, label_col: str, total: dict[str, object], label: str = "Total"
) -> pd.DataFrame:
    row: dict[str, object] = dict.fromkeys(frame.columns, "")
    row[label_col] = label
    row.update(total)
    return pd.concat([frame, pd.DataFrame([row])], ignore_index=True)


def _simple_counts(
    frame: pd.DataFrame,
    *,
    label_col: str,
    count_cols: Sequence[str],
    threshold: int | None,
    derived: dict[str, str | Sequence[str]] | None = None,
    link_columns: bool = True,
    total_label: str = "Total",
) -> tuple[pd.DataFrame, list[str]]:
    """A table of counts adding up to a total row, withheld where asked."""
    if threshold:
        st = suppress(
            frame,
            count_cols=count_cols,
            threshold=threshold,
            link_columns=link_columns,
            derived=derived,
        )
        shown = st.frame
        total = {c: st.total[c] for c in count_cols}
        notes = st.notes
    else:
        shown = frame
        total = {c: int(frame[c].sum()) for c in count_cols}
        notes = []
    return _with_total(shown, label_col, total, total_label), notes


def _suppression_note(threshold: int | None) -> list[str]:
    if not threshold:
        return []
    return [
        f"Small-count suppression: counts of 1 to {threshold - 1} are shown as "
        f"{primary_marker(threshold)}; further cells are shown as {COMPLEMENTARY_MARKER} so "
        "that no withheld count can be worked out from totals, in any table of this pack "
        "or between its periods. Rates, intervals, shares and changes of withheld counts "
        f"are shown as {COMPLEMENTARY_MARKER}. Zero is shown."
    ]


# --------------------------------------------------------------------------- areas


@dataclass
class _Areas:
    """Counts by ward, local area and borough for several months, suppressed together."""

    wards: pd.DataFrame  # code, name, local_area, <month columns>
    local_areas: pd.DataFrame  # local_area, <month columns>
    borough: dict[str, int]
    months: list[str]
    st: SuppressedTable | None

    def ward_shown(self) -> pd.DataFrame:
        return self.st.frame if self.st is not None else self.wards

    def la_shown(self) -> pd.DataFrame:
        if self.st is None:
            return self.local_areas
        shown = self.st.parents.reindex(self.local_areas["local_area"]).reset_index()
        return shown.rename(columns={"index": "local_area"})

    def ward_withheld(self, month: str) -> pd.Series:
        if self.st is None:
            return pd.Series(False, index=self.wards.index)
        return self.st.mask[month]

    def la_withheld(self, month: str) -> pd.Series:
        if self.st is None:
            return pd.Series(False, index=self.local_areas.index)
        status = self.st.parent_status.reindex(self.local_areas["local_area"])[month]
        return pd.Series((status != "published").to_numpy(), index=self.local_areas.index)


def _area_counts(
    incidents: pd.DataFrame,
    months: Sequence[str],
    *,
    types: Sequence[str] | None,
    ward_set: str,
    threshold: int | None,
) -> _Areas:
    col = {"ward": "ward_code", "ward2002": "ward2002_code"}[ward_set]
    wards = _ward_layer(ward_set).sort_values(["local_area", "name"]).reset_index(drop=True)
    sub = filter_incidents(incidents, types=list(types) if types else None)
    sub = sub[sub["month"].isin(list(months))]
    by_ward = sub.groupby([col, "month"]).size().unstack(fill_value=0)
    by_la = sub.groupby(["local_area", "month"]).size().unstack(fill_value=0)
    for m in months:
        wards[m] = wards["code"].map(by_ward.get(m, {})).fillna(0).astype(int)
    la = pd.DataFrame({"local_area": list(LOCAL_AREAS)})
    for m in months:
        la[m] = la["local_area"].map(by_la.get(m, {})).fillna(0).astype(int)
    borough = {m: int(la[m].sum()) for m in months}
    st = None
    if threshold:
        parents = la.set_index("local_area")[list(months)]
        if ward_set != "ward":  # pragma: no cover - refused by _check_ward_set
            msg = "suppression needs the 2018 wards."
            raise InputError(msg)
        st = suppress(
            wards,
            count_cols=list(months),
            threshold=threshold,
            parent_col="local_area",
            parents=parents,
            link_columns=True,
        )
    return _Areas(wards, la, borough, list(months), st)


def _population(level: str) -> pd.Series:
    from geo.boundaries import areas_for_level  # noqa: PLC0415

    a = areas_for_level(level)
    return a.set_index("code")["population"].astype(float)


def _rate_columns(
    frame: pd.DataFrame, count_col: str, pop: pd.Series, withheld: pd.Series, key: str
) -> pd.DataFrame:
    """Add population, per 1,000 and its 95% interval; withheld where the count is."""
    out = frame.copy()
    counts = pd.to_numeric(out[count_col], errors="coerce")
    population = out[key].map(pop)
    low, high = poisson_ci(counts.fillna(0).to_numpy())
    out["population"] = population.astype("Int64")
    out["per_1000"] = (counts / population * 1000).round(2)
    out["ci_low"] = (pd.Series(low, index=out.index) / population * 1000).round(2)
    out["ci_high"] = (pd.Series(high, index=out.index) / population * 1000).round(2)
    for c in ("per_1000", "ci_low", "ci_high"):
        out[c] = out[c].astype(object).mask(withheld.to_numpy(), COMPLEMENTARY_MARKER)
    return out


def _vs_borough(frame: pd.DataFrame, borough_rate: float) -> pd.Series:
    def one(row: pd.Series) -> str:
        lo, hi = row["ci_low"], row["ci_high"]
        if isinstance(lo, str) or isinstance(hi, str):
            return COMPLEMENTARY_MARKER
        if lo > borough_rate:
            return "higher"
        if hi < borough_rate:
            return "lower"
        return "not different"

    return frame.apply(one, axis=1)


# --------------------------------------------------------------------------- hotspots


def _auto_bandwidth(
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
    from analysis.bandwidth import choose_bandwidth  # noqa: PLC0415

    choice = choose_bandwidth(pool_located, "auto")
    note = (
        "One month is too little to choose a bandwidth from, so it was chosen by "
        f"cross-validation across the loaded months {_span(sorted(set(pool_located['month'])))}"
        f": {choice.bandwidth_m:g} m."
    )
    return choice.bandwidth_m, [note]


def _detect(
    sub: gpd.GeoDataFrame,
    pool: gpd.GeoDataFrame,
    *,
    method: str,
    bandwidth_m: float | str,
) -> tuple[object, list[str]]:
    """Detect hotspots in ``sub`` with :func:`_auto_bandwidth`'s bandwidth."""
    from analysis.hotspots import detect_hotspots  # noqa: PLC0415

    bw, notes = _auto_bandwidth(sub, pool, method=method, bandwidth_m=bandwidth_m)
    return detect_hotspots(sub, method=method, bandwidth_m=bw), notes


_HOTSPOT_COLS = ["rank", "name", "count", "share", "top_streets", "peak_months", "wards"]


def _hotspot_tables(
    incidents: gpd.GeoDataFrame,
    months: Sequence[str],
    *,
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
    if sub.empty or not sub["has_location"].any():
        t = Table(
            "hotspots",
            f"ASB hotspots ({what})",
            pd.DataFrame(),
            note,
            [f"No located ASB incidents for {_span(months)} in the loaded data."],
            section,
        )
        return [t], None
    res, bw_notes = _detect(sub, pool, method=method, bandwidth_m=bandwidth_m)
    hot = res.hotspots
    cols = [c for c in _HOTSPOT_COLS if not (c == "peak_months" and len(months) == 1)]
    frame = pd.DataFrame(hot[cols]).copy()
    frame["share"] = (frame["share"] * 100).round(1)
    frame = frame.rename(columns={"share": "share_pct"})
    notes = [
        *bw_notes,
        *(_tidy(n) for n in res.notes if not (bw_notes and n.startswith("Bandwidth"))),
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
        map_hot = _map_safe(
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
        Table(
            "review_hotspots",
            "The review's named hotspots in the data",
            ref_frame,
            f"hotspot names from the 2021/22 review; counts {note}",
            ref_notes,
            section,
        ),
    ]
    return tables, res


def _map_safe(
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


def _venue_table(
    incidents: gpd.GeoDataFrame,
    months: Sequence[str],
    hotspots: gpd.GeoDataFrame | None,
    *,
    radius_m: float,
    threshold: int | None,
    section: str,
) -> Table:
    from analysis.places import load_venues  # noqa: PLC0415
    from analysis.siting import hotspot_demand, reach_table  # noqa: PLC0415

    venues = load_venues()
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


# --------------------------------------------------------------------------- review


def review_pack(
    period: str | Sequence[str] = REVIEW_PERIOD,
    incidents: gpd.GeoDataFrame | None = None,
    suppress_below: int | None = None,
    *,
    method: str = "kde",
    bandwidth_m: float | str = "auto",
    ward_set: str = "ward",
    top_wards: int = 4,
    top_n: int = 10,
    radius_m: float = 800.0,
) -> Pack:
    """The strategic review's data section for a period.

    For 2021/22 (``2021-04..2022-03``) the review's published tables are used and each
    says so; the hotspot map and venue reach are computed from whatever months of that
    year the incident data holds (the shipped data: February 2022 only), and say that.
    For any other period the incident data must hold every month; every table the data
    can give is computed from it, and the tables police.uk cannot give (CCTV, hate
    crime, arson, domestic abuse) are listed as "not in police.uk data".

    Parameters
    ----------
    period
        ``("YYYY-MM", "YYYY-MM")`` or ``"YYYY-MM..YYYY-MM"``.
    incidents
        Incident frame (:func:`geo.io.load_incidents`); the shipped data by default.
    suppress_below
        Withhold counts from 1 to this minus one (5: one to four), consistently; None
        for no suppression.
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
    threshold = _threshold(suppress_below)
    _check_ward_set(ward_set, threshold)
    inc = _load(incidents)
    months = month_range(first, last)
    present = sorted(set(inc["month"].astype(str)))
    covered = [m for m in months if m in present]
    pack_notes = _suppression_note(threshold)
    if (first, last) == REVIEW_PERIOD:
        tables = _published_tables(threshold)
        pack_notes.insert(
            0,
            (
                "2021/22: the tables marked 'published table from the 2021/22 review' are the "
                "review's own numbers. The loaded police.uk data holds "
                + (_span(covered) if covered else "no month")
                + " of that year, so only the hotspot map and venue reach are computed from it."
            ),
        )
        if threshold:
            pack_notes.append(
                "Suppression was applied to the published tables as asked, "
                "although the review has already published them."
            )
        section = "hotspots"
        if covered:
            hot_tables, res = _hotspot_tables(
                inc,
                covered,
                method=method,
                threshold=threshold,
                bandwidth_m=bandwidth_m,
                top_n=top_n,
                section=section,
                what=f"{method.upper()}, {_span(covered)}",
            )
            for t in hot_tables:
                t.notes.insert(
                    0,
                    f"The loaded police.uk data holds {_span(covered)} of the "
                    "review year only; the review's own hotspots are named below.",
                )
            tables += hot_tables
            hot = res.hotspots if res is not None else None
            tables.append(
                _venue_table(
                    filter_incidents(inc, types=[ASB]),
                    covered,
                    hot,
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
            threshold=threshold,
            method=method,
            ward_set=ward_set,
            top_wards=top_wards,
            radius_m=radius_m,
            bandwidth_m=bandwidth_m,
            top_n=top_n,
        )
        title = f"Strategic review data tables, {_span(months)}"
    return Pack("review", title, (first, last), tables, pack_notes, threshold)


def _published_tables(threshold: int | None) -> list[Table]:
    from analysis.published import (  # noqa: PLC0415
        asb_change_pct,
        check_review_tables,
        load_review_tables,
    )

    t = load_review_tables()
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
    frame, notes = _simple_counts(
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
    cm.insert(0, "month_name", cm["month"].map(_month_name))
    frame, notes = _simple_counts(
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
    hc = _with_total(
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
    frame, notes = _simple_counts(
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
    cc.insert(0, "month_name", cc["month"].map(_month_name))
    frame, notes = _simple_counts(
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
    frame = _with_total(frame, "quarter", total, "Total (sum of quarters)")
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
    shown = _rate_columns(shown, "count", _population("local_area"), withheld, "local_area")
    shown = _with_total(shown, "local_area", {"count": tot}, "Borough")
    tables.append(
        Table(
            "asb_by_local_area",
            "ASB by local area, counts and per 1,000 residents",
            shown,
            PUBLISHED + "; rates computed here",
            la_notes,
            "asb",
            chart=Chart("hbar", "local_area", ("count",), "ASB incidents"),
        )
    )

    tw = pd.DataFrame(t["top_ward_rates"]).copy()
    pop02 = _population("ward2002")
    pop18 = _population("ward")
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
            "The highest wards for ASB per 1,000 residents",
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
            chart=Chart("hbar", "ward", ("per_1000",), "ASB per 1,000"),
        )
    )
    return tables


def _computed_review_tables(
    inc: gpd.GeoDataFrame,
    months: list[str],
    present: list[str],
    *,
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
    year_before = [_shift(m, -12) for m in months]
    has_yb = all(m in present for m in year_before)
    yb_asb = int((inc["month"].isin(year_before) & (inc["crime_type"] == ASB)).sum())
    key_rows = [
        ("Recorded crimes (police.uk, excluding ASB)", len(crimes)),
        ("ASB incidents", len(asb)),
        ("Months covered", len(months)),
    ]
    if has_yb:
        key_rows.append(("ASB incidents, the same months a year before", yb_asb))
        key_rows.append(("ASB change on the year before (%)", _pct(yb_asb, len(asb))))
    key = pd.DataFrame(key_rows, columns=["measure", "value"], dtype=object)
    key_notes = (
        []
        if has_yb
        else [
            f"The change on the year before cannot be given: the loaded data does not hold "
            f"{_span(year_before)}."
        ]
    )
    if threshold:
        small = [
            1 <= v < threshold and k != "Months covered"
            for k, v in zip(key["measure"], key["value"], strict=True)
        ]
        key["value"] = key["value"].astype(object).mask(small, primary_marker(threshold))
    tables.append(
        Table("key_figures", f"Key figures, {_span(months)}", key, note, key_notes, "summary")
    )

    ct = crimes.groupby("crime_type").size().rename("count").reset_index()
    ct = ct.sort_values(["count", "crime_type"], ascending=[False, True]).reset_index(drop=True)
    ct["share_pct"] = (ct["count"] / max(len(crimes), 1) * 100).round(1)
    frame, notes = _simple_counts(
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
        fy, qn = _quarter(m)
        mrows.append({"month": m, "quarter": f"{fy} {qn}"})
    mq = pd.DataFrame(mrows)
    asb_all = inc[inc["crime_type"] == ASB].groupby("month").size()
    mq["asb"] = mq["month"].map(asb_all).fillna(0).astype(int)
    qcols = ["asb"]
    if has_yb:
        mq["asb_year_before"] = mq["month"].map(lambda x: int(asb_all.get(_shift(x, -12), 0)))
        qcols.append("asb_year_before")
    q = mq.groupby("quarter", sort=True)[qcols].sum().reset_index()
    held = mq.groupby("quarter", sort=True)["month"].apply(list)
    q_label = {
        k: k
        if len(v) == 3
        else f"{k} ({', '.join(_MONTH_NAMES[int(x[5:]) - 1][:3] for x in v)} only)"
        for k, v in held.items()
    }
    q_notes = [
        "Financial quarters (Q1 = April to June); a quarter only partly inside the "
        "period shows which months it holds."
    ]
    if not has_yb:
        q_notes.append(
            f"The change on the year before cannot be given: the loaded data does "
            f"not hold {_span(year_before)}."
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
        pct = [_pct(a, b) for a, b in zip(q["asb_year_before"], q["asb"], strict=True)]
        q_shown["change_pct"] = (
            pd.Series(pct, dtype=object)
            .mask(q_withheld.to_numpy(), COMPLEMENTARY_MARKER)
            .to_numpy()
        )
        whole = all(not isinstance(v, str) for v in q_total.values())
        q_total["change_pct"] = _pct(yb_asb, len(asb)) if whole else COMPLEMENTARY_MARKER
    q_shown["quarter"] = q_shown["quarter"].map(q_label)
    q_shown = _with_total(q_shown, "quarter", q_total)
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
    cm.insert(0, "month_name", cm["month"].map(_month_name))
    cm["crimes"] = cm["month"].map(crimes.groupby("month").size()).fillna(0).astype(int)
    frame, notes = _simple_counts(
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

    # ASB by local area and the highest wards, suppressed together over the whole period.
    areas = _area_counts(inc, months, types=[ASB], ward_set=ward_set, threshold=None)
    wards = areas.wards.copy()
    wards["count"] = wards[months].sum(axis=1)
    la = areas.local_areas.copy()
    la["count"] = la[months].sum(axis=1)
    st = None
    if threshold:
        st = suppress(
            wards[["code", "name", "local_area", "count"]],
            count_cols=["count"],
            threshold=threshold,
            parent_col="local_area",
            parents=la.set_index("local_area")[["count"]],
        )
    borough_rate = len(asb) / float(_population("borough").iloc[0]) * 1000
    la_shown = la[["local_area", "count"]].copy()
    la_withheld = pd.Series(False, index=la.index)
    if st is not None:
        la_shown["count"] = st.parents.reindex(la["local_area"])["count"].to_numpy()
        la_withheld = pd.Series(
            (st.parent_status.reindex(la["local_area"])["count"] != "published").to_numpy(),
            index=la.index,
        )
    la_shown = _rate_columns(
        la_shown, "count", _population("local_area"), la_withheld, "local_area"
    )
    la_shown["vs_borough"] = _vs_borough(la_shown, borough_rate)
    la_shown = _sort_withheld_last(la_shown, "count")
    la_shown = _with_total(
        la_shown,
        "local_area",
        {
            "count": st.total["count"] if st is not None else len(asb),
            "per_1000": round(borough_rate, 2),
        },
        "Borough",
    )
    tables.append(
        Table(
            "asb_by_local_area",
            "ASB by local area, counts and per 1,000 residents",
            la_shown,
            note,
            [
                "Counted by each incident's LSOA (police.uk), which nests in the wards "
                "and local areas. Per 1,000 Census 2021 residents with an exact "
                "Poisson 95% interval; 'vs_borough' says whether the interval "
                "excludes the borough's rate.",
                *(st.notes if st is not None else []),
            ],
            "asb",
            chart=Chart("hbar", "local_area", ("count",), "ASB incidents"),
        )
    )

    w_shown = (st.frame if st is not None else wards)[["code", "name", "local_area", "count"]]
    w_withheld = st.mask["count"] if st is not None else pd.Series(False, index=wards.index)
    w_shown = _rate_columns(w_shown, "count", _population(ward_set), w_withheld, "code")
    w_shown["vs_borough"] = _vs_borough(w_shown, borough_rate)
    w_shown = _sort_withheld_last(w_shown, "per_1000").head(top_wards)
    w_shown.insert(0, "rank", range(1, len(w_shown) + 1))
    set_name = "2018" if ward_set == "ward" else "2002"
    tables.append(
        Table(
            "top_wards",
            "The highest wards for ASB per 1,000 residents",
            w_shown.drop(columns=["code"]),
            note,
            [
                f"The {top_wards} highest of the {len(wards)} {set_name} wards, per "
                "1,000 Census 2021 residents, with exact Poisson 95% intervals; on "
                "small populations a high rate can be noise: 'vs_borough' says whether "
                f"the interval excludes the borough's {borough_rate:.2f}."
            ],
            "asb",
            chart=Chart("hbar", "name", ("per_1000",), "ASB per 1,000"),
        )
    )

    hot_tables, res = _hotspot_tables(
        inc,
        months,
        method=method,
        threshold=threshold,
        bandwidth_m=bandwidth_m,
        top_n=top_n,
        section="hotspots",
        what=f"{method.upper()}, {_span(months)}",
    )
    tables += hot_tables
    hot = res.hotspots if res is not None else None
    tables.append(
        _venue_table(
            filter_incidents(inc, types=[ASB]),
            months,
            hot,
            radius_m=radius_m,
            threshold=threshold,
            section="venues",
        )
    )
    return tables


# --------------------------------------------------------------------------- tasking


def tasking_pack(
    month: str | Sequence[str] = "2017-05",
    incidents: gpd.GeoDataFrame | None = None,
    suppress_below: int | None = None,
    *,
    types: Sequence[str] = (ASB,),
    method: str = "kde",
    bandwidth_m: float | str = "auto",
    top_n: int = 10,
    alpha: float = 0.05,
) -> Pack:
    """The monthly District Tasking and Priority pack.

    This month against the last and against the same month a year before (where the
    data holds them; the pack says when it does not), by crime type, local area and
    ward, with the exact test of whether each change is more than noise; the wards
    above the borough's rate per 1,000; the hotspots of this month classed new,
    persistent, intensifying, diminishing or gone against last month's; and the patrol
    list with streets.

    Parameters
    ----------
    month
        ``"YYYY-MM"`` (this month), or a range ``"YYYY-MM..YYYY-MM"`` whose last month
        is this month (the range adds a monthly trend by local area).
    incidents
        Incident frame; the shipped data by default.
    suppress_below
        As :func:`review_pack`.
    types
        Crime types of the area tables, hotspots and patrol list (ASB by default).
    method
        Hotspot method (``kde`` by default).
    bandwidth_m
        KDE bandwidth in metres, or ``auto``: chosen by cross-validation across the
        loaded months up to this month, and used for both months compared.
    top_n
        Hotspots printed in the change table and the patrol list (the CSV holds all).
    alpha
        Significance level of the change tests.

    Returns
    -------
    Pack

    Raises
    ------
    InputError
        For a malformed month, or when the data does not hold this month.
    """
    first, this = parse_period(month)
    threshold = _threshold(suppress_below)
    inc = _load(incidents)
    present = sorted(set(inc["month"].astype(str)))
    if this not in present:
        msg = (
            f"month {this}: not in the incident data, which holds {', '.join(present)}; "
            "load that month with --incidents or choose one of those."
        )
        raise InputError(msg)
    types = list(types) if types else None
    what = ", ".join(types) if types else "all crime and ASB"
    last = _shift(this, -1)
    year_before = _shift(this, -12)
    has_last = last in present
    has_yb = year_before in present
    trend = [m for m in month_range(first, this) if m in present]
    cols = sorted({this, *trend, *([last] if has_last else []), *([year_before] if has_yb else [])})
    pack_notes = [
        f"This month: {_month_name(this)}. "
        + (
            f"Last month ({_month_name(last)}) is in the data."
            if has_last
            else f"Last month ({_month_name(last)}) is not in the loaded data: no month-on-month "
            "change and no hotspot classes."
        )
        + (
            f" The same month a year before ({_month_name(year_before)}) is in the data."
            if has_yb
            else f" The same month a year before ({_month_name(year_before)}) is not "
            "in the loaded data, so there is no year-on-year comparison."
        ),
        f"Area tables, hotspots and the patrol list: {what}.",
        *_suppression_note(threshold),
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
            out["change_pct"] = [_pct(x, y) for x, y in zip(b, a, strict=True)]
            out["p_value"] = [round(_pvalue(x, y), 4) for x, y in zip(b, a, strict=True)]
            out["more_than_noise"] = [
                _direction(x, y, p, alpha) for x, y, p in zip(b, a, out["p_value"], strict=True)
            ]
        if has_yb:
            out["change_on_year_pct"] = [
                _pct(x, y)
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
    frame = _with_total(frame, "crime_type", total, "All types")
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

    # areas: wards within local areas within the borough, every month suppressed together
    areas = _area_counts(inc, cols, types=types, ward_set="ward", threshold=threshold)
    la = add_change(areas.local_areas)
    la_shown = areas.la_shown()
    for c in derived_cols:
        la_shown[c] = (
            la[c]
            .astype(object)
            .mask(
                np.column_stack([areas.la_withheld(m) for m in derived_cols[c]]).any(axis=1),
                COMPLEMENTARY_MARKER,
            )
        )
    pop_la = _population("local_area")
    la_shown = _rate_columns(la_shown, this, pop_la, areas.la_withheld(this), "local_area")
    la_shown = la_shown[["local_area", *cmp_cols, *derived_cols, "per_1000", "ci_low", "ci_high"]]
    borough_this = areas.borough[this]
    borough_rate = borough_this / float(_population("borough").iloc[0]) * 1000
    tot = {c: (areas.st.total[c] if areas.st is not None else areas.borough[c]) for c in cmp_cols}
    tot["per_1000"] = round(borough_rate, 2)
    la_shown = _with_total(la_shown, "local_area", tot, "Borough")
    tables.append(
        Table(
            "local_areas",
            f"{what}: local areas, this month against last",
            la_shown.rename(columns={c: label(c) for c in cmp_cols}),
            note,
            [
                "Per 1,000 Census 2021 residents this month, exact Poisson 95% interval.",
                *(areas.st.notes if areas.st is not None else []),
            ],
            "areas",
        )
    )

    wards = add_change(areas.wards)
    w_shown = areas.ward_shown().copy()
    for c in derived_cols:
        w_shown[c] = (
            wards[c]
            .astype(object)
            .mask(
                np.column_stack([areas.ward_withheld(m) for m in derived_cols[c]]).any(axis=1),
                COMPLEMENTARY_MARKER,
            )
        )
    w_shown = w_shown[["name", "local_area", *cmp_cols, *derived_cols]]
    if has_last:
        w_shown = _sort_withheld_last(w_shown, "change")
    tables.append(
        Table(
            "wards",
            f"{what}: wards, this month against last",
            w_shown.rename(columns={c: label(c) for c in cmp_cols}),
            note,
            [
                "2018 wards. A change is 'up' or 'down' only when the exact test says "
                "it is more than noise."
            ],
            "areas",
        )
    )

    rates = area_rates(inc, "ward", types=types, month_from=this, month_to=this)
    above = rates[rates["vs_borough"] == "higher"]
    ab = above[["code", "name", "count", "population", "rate_per_1000", "ci_low", "ci_high"]]
    ab = ab.copy()
    for c in ("rate_per_1000", "ci_low", "ci_high"):
        ab[c] = ab[c].round(2)
    ab_notes = [
        f"Wards whose exact Poisson 95% interval lies wholly above the borough's "
        f"{borough_rate:.2f} per 1,000 ({_month_name(this)}, {what})."
    ]
    if ab.empty:
        ab_notes.append("No ward's rate is distinguishable from the borough's this month.")
    if threshold:
        shown = areas.ward_shown().set_index("code")[this]
        withheld = areas.ward_withheld(this)
        withheld.index = areas.wards["code"]
        ab["count"] = ab["code"].map(shown).to_numpy()
        m = ab["code"].map(withheld).to_numpy(bool)
        for c in ("rate_per_1000", "ci_low", "ci_high"):
            ab[c] = ab[c].astype(object).mask(m, COMPLEMENTARY_MARKER)
    ab = ab.drop(columns=["code"]).reset_index(drop=True)
    ab.insert(2, "borough_rate", round(borough_rate, 2))
    tables.append(
        Table(
            "wards_above",
            "Wards above the borough's rate this month",
            ab,
            computed_note([this]),
            ab_notes,
            "areas",
            chart=Chart("hbar", "name", ("rate_per_1000",), "per 1,000"),
        )
    )

    if len(trend) >= 3:
        tr = areas.la_shown()[["local_area", *trend]]
        tables.append(
            Table(
                "trend",
                f"{what}: monthly trend by local area",
                tr,
                computed_note(trend),
                ["Counts by month."],
                "areas",
                chart=Chart("bar", "local_area", tuple(trend), "incidents"),
            )
        )

    tables += _tasking_hotspots(
        inc,
        this,
        last if has_last else None,
        types=types,
        method=method,
        alpha=alpha,
        threshold=threshold,
        bandwidth_m=bandwidth_m,
        top_n=top_n,
    )
    title = f"District Tasking and Priority pack, {_month_name(this)}"
    return Pack("tasking", title, (first, this), tables, pack_notes, threshold)


def _tasking_hotspots(
    inc: gpd.GeoDataFrame,
    this: str,
    last: str | None,
    *,
    types: list[str] | None,
    method: str,
    alpha: float,
    threshold: int | None,
    bandwidth_m: float | str,
    top_n: int,
) -> list[Table]:
    from analysis.change import classify_change  # noqa: PLC0415
    from analysis.hotspots import detect_hotspots  # noqa: PLC0415

    def pick(m: str) -> gpd.GeoDataFrame:
        return filter_incidents(inc, types=types, month_from=m, month_to=m)

    now = pick(this)
    pool = filter_incidents(inc, types=types, month_to=this)
    if now.empty or not now["has_location"].any():
        return [
            Table(
                "patrol",
                f"Patrol list, {_month_name(this)}",
                pd.DataFrame(),
                computed_note([this]),
                ["No located incidents of these types this month: no hotspots and no patrol list."],
                "patrol",
            )
        ]
    bw, bw_notes = _auto_bandwidth(now, pool, method=method, bandwidth_m=bandwidth_m)
    res = detect_hotspots(now, method=method, bandwidth_m=bw)
    hot = res.hotspots
    method_notes = [
        *bw_notes,
        *(_tidy(n) for n in res.notes if not (bw_notes and n.startswith("Bandwidth"))),
    ]
    if bw_notes:
        method_notes.append(
            "Both months are mapped with the same bandwidth, so their hotspots can be compared."
        )
    tables: list[Table] = []
    status = pd.Series("", index=hot.index)
    if last is not None:
        before = pick(last)
        res_b = detect_hotspots(before, method=method, bandwidth_m=bw)
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
                    f"Last month ({_month_name(_shift(this, -1))}) is not in the loaded "
                    "data, so hotspots cannot be classed new, persistent, intensifying, "
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
        map_hot = _map_safe(
            hot, pl, ["count", "top_streets"], ["share", "density_per_km2"], "count"
        )
        map_hot["peak_months"] = ""
    tables.append(
        Table(
            "patrol",
            f"Patrol list, {_month_name(this)}",
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
