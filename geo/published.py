"""The CSP strategic review 2021/22: its published tables and their own arithmetic.

The review (``data/review_2021_22/README.md`` says which page each table came from)
prints totals under several tables. :func:`check_review_tables` sums the rows and
compares them with those stated totals, so a table whose numbers do not add up is
reported with its difference rather than silently accepted.

Examples
--------
>>> from geo.paths import REVIEW_DIR
>>> tables = load_review_tables(REVIEW_DIR)
>>> round(asb_change_pct(tables), 2)
-16.81
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from geo.errors import InputError
from geo.schema import LOCAL_AREAS

__all__ = [
    "TABLE_COLUMNS",
    "RELATIONS",
    "REVIEW_MONTHS",
    "TableCheck",
    "asb_change_pct",
    "check_review_tables",
    "checks_to_frame",
    "load_review_tables",
]

REVIEW_MONTHS = tuple(str(p) for p in pd.period_range("2021-04", "2022-03", freq="M"))
"""The twelve months of the review year, ``2021-04`` .. ``2022-03``."""

# table -> {column: kind}; kind is "str", "int", "int?" (may be empty) or "float".
TABLE_COLUMNS: dict[str, dict[str, str]] = {
    "crime_by_type": {"crime_type": "str", "count": "int", "comment": "str"},
    "crime_by_month": {"month": "str", "count": "int"},
    "asb_by_quarter": {"year": "str", "quarter": "str", "count": "int"},
    "asb_by_local_area": {"local_area": "str", "name_in_review": "str", "count": "int"},
    "top_ward_rates": {
        "rank": "int",
        "ward_as_written": "str",
        "rate_per_1000": "float",
        "likely_ward_set": "str",
        "likely_ward_code": "str",
        "likely_ward_name": "str",
        "alt_ward_code_2018": "str",
        "alt_ward_name_2018": "str",
        "note": "str",
    },
    "cctv_by_month": {
        "month": "str",
        "total": "int",
        "police": "int",
        "rangers": "int",
        "arrests": "int",
    },
    "hate_crime": {"characteristic": "str", "crimes": "int", "incidents": "int?"},
    "arson_by_quarter": {
        "year": "str",
        "quarter": "str",
        "incidents": "int",
        "deliberate": "int",
    },
    "domestic_abuse_by_offence": {"offence": "str", "count": "int"},
    "stated_totals": {
        "table": "str",
        "column": "str",
        "subset": "str",
        "relation": "str",
        "stated_total": "int",
        "note": "str",
    },
}
"""Every table of the review with its columns and their kinds."""

_MONTHLY = ("crime_by_month", "cctv_by_month")

RELATIONS = {
    "equal": "the rows should sum exactly to the stated total",
    "rows_are_part": "the rows list only part of what the total counts (sum <= total)",
    "rows_may_overlap": "a case can appear in more than one row (sum >= total)",
}
"""Allowed values of ``stated_totals.relation`` and what each means."""


@dataclass(frozen=True)
class TableCheck:
    """One comparison of a table's rows with a total the review states.

    Attributes
    ----------
    table
        Table name (the CSV's stem).
    column
        Column summed.
    stated
        Total printed in (or implied by) the review.
    computed
        Sum of the rows as published.
    ok
        True when ``computed == stated``.
    note
        What the difference is and why, in words.
    """

    table: str
    column: str
    stated: int
    computed: int
    ok: bool
    note: str

    @property
    def difference(self) -> int:
        """Rows minus the stated total (negative: the rows fall short)."""
        return self.computed - self.stated


def _convert(df: pd.DataFrame, table: str, path: Path) -> pd.DataFrame:
    """Check the columns of one raw (all-string) table and convert their kinds."""
    spec = TABLE_COLUMNS[table]
    missing = [c for c in spec if c not in df.columns]
    if missing:
        msg = (
            f"{path}: column(s) {missing} missing; found {list(df.columns)}. "
            f"The header must be {','.join(spec)}."
        )
        raise InputError(msg)
    out = df[list(spec)].copy()
    for col, kind in spec.items():
        if kind == "str":
            continue
        values = out[col].str.strip()
        empty = values == ""
        if kind != "int?" and empty.any():
            line = int(empty.to_numpy().nonzero()[0][0]) + 2
            msg = (
                f"{path}: line {line}, column '{col}' is empty; enter the number the review prints."
            )
            raise InputError(msg)
        numbers = pd.to_numeric(values.where(~empty), errors="coerce")
        bad = numbers.isna() & ~empty
        if bad.any():
            pos = int(bad.to_numpy().nonzero()[0][0])
            msg = (
                f"{path}: line {pos + 2}, column '{col}' holds {values.iloc[pos]!r}, "
                "which is not a number; write digits only (no thousands separators)."
            )
            raise InputError(msg)
        if kind == "float":
            out[col] = numbers.astype(float)
        else:
            if ((numbers.dropna() % 1) != 0).any():
                msg = f"{path}: column '{col}' must hold whole numbers (counts)."
                raise InputError(msg)
            out[col] = numbers.astype("Int64")
    return out


def load_review_tables(folder: Path) -> dict[str, pd.DataFrame]:
    """Read the review's published tables.

    Parameters
    ----------
    folder
        Folder holding one CSV per table (see :data:`TABLE_COLUMNS`); the shipped one
        is :data:`geo.paths.REVIEW_DIR`.

    Returns
    -------
    dict of str to pandas.DataFrame
        One frame per table, keyed by the CSV's stem (``"crime_by_type"``, ...,
        ``"stated_totals"``). Counts are nullable ``Int64``; text stays text.

    Raises
    ------
    InputError
        If a file is missing, a column is missing, or a count is not a number;
        the message names the file, line and column.
    """
    folder = Path(folder)
    tables: dict[str, pd.DataFrame] = {}
    for table in TABLE_COLUMNS:
        path = folder / f"{table}.csv"
        if not path.is_file():
            msg = f"{path}: file missing; the review tables need {table}.csv in {folder}."
            raise InputError(msg)
        raw = pd.read_csv(path, dtype=str, keep_default_na=False)
        tables[table] = _convert(raw, table, path)
    unknown = set(tables["asb_by_local_area"]["local_area"]) - set(LOCAL_AREAS)
    if unknown:
        msg = (
            f"{folder / 'asb_by_local_area.csv'}: local_area {sorted(unknown)} is not one of "
            f"{list(LOCAL_AREAS)}; use the canonical name and keep the review's wording in "
            "name_in_review."
        )
        raise InputError(msg)
    return tables


def _subset(df: pd.DataFrame, subset: str, table: str) -> pd.DataFrame:
    """Rows of ``df`` selected by a ``key=value`` subset ('' selects all)."""
    if not subset:
        return df
    key, _, value = subset.partition("=")
    if key not in df.columns:
        msg = f"stated_totals.csv: subset {subset!r} names column {key!r}, not in table {table}."
        raise InputError(msg)
    return df[df[key] == value]


def _note(
    table: str, column: str, relation: str, computed: int, stated: int, rows: pd.DataFrame
) -> str:
    """Explain a comparison in words."""
    diff = computed - stated
    if diff == 0:
        parts = [f"rows sum to the stated {stated}"]
    elif relation == "rows_are_part" and diff < 0:
        parts = [
            f"rows sum to {computed}, {-diff} short of the stated {stated}: the review "
            f"breaks down only part of the total ({-diff} not broken down)"
        ]
    elif relation == "rows_may_overlap" and diff > 0:
        parts = [
            f"rows sum to {computed}, {diff} more than the stated {stated}: consistent "
            "with cases counted under more than one row"
        ]
    else:
        word = "short of" if diff < 0 else "more than"
        parts = [
            f"THE REVIEW'S OWN NUMBERS DO NOT ADD UP: rows sum to {computed}, "
            f"{abs(diff)} {word} the stated {stated} (difference {diff:+d})"
        ]
    if table in _MONTHLY:
        missing = [m for m in REVIEW_MONTHS if m not in set(rows["month"])]
        if missing:
            parts.append(f"months missing from the table: {', '.join(missing)}")
    empty = int(rows[column].isna().sum())
    if empty:
        parts.append(f"{empty} row(s) have no value in '{column}' (left empty as in the review)")
    return "; ".join(parts)


def check_review_tables(tables: dict[str, pd.DataFrame]) -> list[TableCheck]:
    """Compare each table's rows with the totals the review states.

    Parameters
    ----------
    tables
        As returned by :func:`load_review_tables` (must include ``stated_totals``).

    Returns
    -------
    list of TableCheck
        One entry per row of ``stated_totals``, in its order. ``ok`` is False
        whenever the rows do not sum exactly to the stated total; ``note`` gives
        the difference, any months missing from a monthly table, and the
        review's own explanation where it gives one.

    Raises
    ------
    InputError
        If ``stated_totals`` names a table or column that is not loaded.
    """
    if "stated_totals" not in tables:
        msg = "tables: no 'stated_totals' table; load them with load_review_tables()."
        raise InputError(msg)
    checks = []
    for row in tables["stated_totals"].itertuples(index=False):
        if row.table not in tables or row.column not in tables[row.table].columns:
            msg = (
                f"stated_totals.csv: table {row.table!r} column {row.column!r} is not among "
                f"the loaded tables {sorted(tables)}."
            )
            raise InputError(msg)
        if row.relation not in RELATIONS:
            msg = (
                f"stated_totals.csv: relation {row.relation!r} for {row.table}.{row.column} "
                f"is not one of {sorted(RELATIONS)}."
            )
            raise InputError(msg)
        rows = _subset(tables[row.table], row.subset, row.table)
        computed = int(rows[row.column].sum(skipna=True))
        stated = int(row.stated_total)
        note = _note(row.table, row.column, row.relation, computed, stated, rows)
        if row.note:
            note += f". Review: {row.note}"
        checks.append(
            TableCheck(
                table=row.table + (f"[{row.subset}]" if row.subset else ""),
                column=row.column,
                stated=stated,
                computed=computed,
                ok=computed == stated,
                note=note,
            )
        )
    return checks


def checks_to_frame(checks: list[TableCheck]) -> pd.DataFrame:
    """Lay out checks as a table for printing or export.

    Parameters
    ----------
    checks
        As returned by :func:`check_review_tables`.

    Returns
    -------
    pandas.DataFrame
        Columns table, column, stated, computed, difference, ok, note.
    """
    return pd.DataFrame(
        [
            {
                "table": c.table,
                "column": c.column,
                "stated": c.stated,
                "computed": c.computed,
                "difference": c.difference,
                "ok": c.ok,
                "note": c.note,
            }
            for c in checks
        ],
        columns=["table", "column", "stated", "computed", "difference", "ok", "note"],
    )


def asb_change_pct(tables: dict[str, pd.DataFrame]) -> float:
    """Year-on-year change in ASB incidents, 2020-21 to 2021-22, in per cent.

    Parameters
    ----------
    tables
        As returned by :func:`load_review_tables`.

    Returns
    -------
    float
        ``(total 2021-22 - total 2020-21) / total 2020-21 * 100`` from the
        quarterly rows; the review prints "down 16.81%".

    Raises
    ------
    InputError
        If either year has no quarterly rows.
    """
    asb = tables["asb_by_quarter"]
    totals = {}
    for year in ("2020-21", "2021-22"):
        rows = asb[asb["year"] == year]
        if rows.empty:
            msg = f"asb_by_quarter.csv: no rows for year {year}; the change needs both years."
            raise InputError(msg)
        totals[year] = int(rows["count"].sum())
    return (totals["2021-22"] - totals["2020-21"]) / totals["2020-21"] * 100
