"""The parts of a pack, and the helpers both packs build their tables with.

:class:`Pack` is an ordered list of :class:`Table` (with an optional :class:`Chart`);
each table names where its numbers come from (:data:`PUBLISHED`, :func:`computed_note`
or :data:`NOT_IN_POLICE_UK`). Periods are read by :func:`parse_period`. The private
helpers here (totals, suppression notes, rates per 1,000; counts by area are in
:mod:`packs.area_counts`) are shared by :mod:`packs.review`,
:mod:`packs.published_tables` and :mod:`packs.tasking`; callers import the
public names from :mod:`packs`.
"""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

from analysis.rates import pct_change, poisson_ci
from geo.errors import InputError
from geo.study_area import StudyArea
from packs.disclosure import (
    COMPLEMENTARY_MARKER,
    primary_marker,
    suppress,
)
from packs.model import (
    NOT_IN_POLICE_UK,
    PUBLISHED,
    REVIEW_PERIOD,
    SECTION_TITLES,
    TOTAL_LABELS,
    Chart,
    Pack,
    Table,
)

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
]


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


def shift_month(month: str, n: int) -> str:
    return str(pd.Period(month, freq="M") + n)


def month_name(month: str) -> str:
    """A month in words: ``"2017-05"`` is ``"May 2017"``.

    Examples
    --------
    >>> month_name("2017-05")
    'May 2017'
    """
    return pd.Period(month, freq="M").strftime("%B %Y")


def months_in_words(months: Sequence[str]) -> str:
    months = sorted(months)
    if not months:
        return "no months"
    if len(months) == 1:
        return month_name(months[0])
    full = month_range(months[0], months[-1])
    if len(full) == len(months):
        return f"{month_name(months[0])} to {month_name(months[-1])}"
    return ", ".join(month_name(m) for m in months[:-1]) + f" and {month_name(months[-1])}"


def computed_note(months: Sequence[str]) -> str:
    """The source note of a table counted from police.uk incidents.

    Examples
    --------
    >>> computed_note(["2017-02", "2017-03"])
    'computed from police.uk data for February 2017 to March 2017'
    """
    return f"computed from police.uk data for {months_in_words(months)}"


def financial_quarter(month: str) -> tuple[str, str]:
    """Financial year and quarter (April-June is Q1): ``("2017-18", "Q1")``."""
    y, m = (int(v) for v in month.split("-"))
    start = y if m >= 4 else y - 1
    return f"{start}-{(start + 1) % 100:02d}", f"Q{(m - 4) % 12 // 3 + 1}"


# --------------------------------------------------------------------------- helpers


def suppression_threshold(suppress_below: int | None) -> int | None:
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


def percent_change(before: float, after: float) -> float:
    return round(pct_change(before, after), 1) if before else float("nan")


def tidy_note(note: str) -> str:
    """A note ending in exactly one full stop."""
    return note.rstrip(". ") + "."


def sort_withheld_last(frame: pd.DataFrame, by: str, ascending: bool = False) -> pd.DataFrame:
    """Sort by a column that may hold markers, putting withheld rows last."""
    num = pd.to_numeric(frame[by], errors="coerce")
    order = num.sort_values(ascending=ascending, na_position="last", kind="stable").index
    return frame.loc[order].reset_index(drop=True)


def with_total(
    frame: pd.DataFrame, label_col: str, total: dict[str, object], label: str = "Total"
) -> pd.DataFrame:
    row: dict[str, object] = dict.fromkeys(frame.columns, "")
    row[label_col] = label
    row.update(total)
    return pd.concat([frame, pd.DataFrame([row])], ignore_index=True)


def simple_counts(
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
    return with_total(shown, label_col, total, total_label), notes


def suppression_note(threshold: int | None) -> list[str]:
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


MAX_PRINTED_AREAS = 30
"""Rows of small areas a printed table shows at most (a county's hundreds of LSOAs are
in the CSV)."""


def population(area: StudyArea, level: str) -> pd.Series:
    """Residents of each area of a level, indexed by code (floats)."""
    return area.areas(level).set_index("code")["population"].astype(float)


def rate_columns(
    frame: pd.DataFrame,
    count_col: str,
    pop: pd.Series,
    withheld: pd.Series,
    key: str,
    *,
    months: int = 12,
) -> pd.DataFrame:
    """Add population, per 1,000 residents per year and its 95% interval.

    Withheld where the count is. ``months`` is how many months the counts cover: rates
    are annualised by ``12 / months``.
    """
    out = frame.copy()
    counts = pd.to_numeric(out[count_col], errors="coerce")
    population = out[key].map(pop)
    low, high = poisson_ci(counts.fillna(0).to_numpy())
    # An area with no residents (an LSOA whose population went to its neighbours) has no rate.
    per_person = 1.0 / population.where(population > 0)
    per_year = 1000 * 12 / months
    out["population"] = population.astype("Int64")
    out["per_1000"] = (counts * per_person * per_year).round(2)
    out["ci_low"] = (pd.Series(low, index=out.index) * per_person * per_year).round(2)
    out["ci_high"] = (pd.Series(high, index=out.index) * per_person * per_year).round(2)
    for c in ("per_1000", "ci_low", "ci_high"):
        out[c] = out[c].astype(object).mask(withheld.to_numpy(), COMPLEMENTARY_MARKER)
    return out


def vs_borough(frame: pd.DataFrame, borough_rate: float) -> pd.Series:
    def one(row: pd.Series) -> str:
        lo, hi = row["ci_low"], row["ci_high"]
        if isinstance(lo, str) or isinstance(hi, str):
            return COMPLEMENTARY_MARKER
        if pd.isna(lo) or pd.isna(hi):
            return "no residents"
        if lo > borough_rate:
            return "higher"
        if hi < borough_rate:
            return "lower"
        return "not different"

    return frame.apply(one, axis=1)
