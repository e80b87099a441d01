"""Small-count suppression for tables of non-public data, safe against differencing.

police.uk data is public, but a CSP's own ASB and CCTV logs are not: a count of one to
four people in a small area can identify someone (``DOMAIN.md``, "Disclosure"). This
module withholds such counts in tables meant for the public, and withholds enough other
cells that no withheld count can be worked back out from what is published.

The rules
---------
* **Primary suppression.** A count from 1 to ``threshold - 1`` (1-4 for the usual
  ``threshold=5``) is withheld and shown as ``"<5"``. **Zero is shown**: it identifies
  no one (UK practice suppresses "counts of one to four"; ``DOMAIN.md`` says the same),
  and hiding zeros would hide most of a small table for nothing.
* **Complementary (secondary) suppression.** Children add up to their parent (wards to
  their local area, local areas to the borough, quarters to the year). Wherever one of
  those sums would have exactly one withheld term, so that it could be recovered as
  "parent minus the published children", the next smallest non-zero child is withheld
  too (a zero is never used: it would hide nothing); when no child is left, the parent
  total is withheld instead, which then needs a partner among its own siblings.
  Complementary cells are shown as ``"[c]"``.
* **Between periods.** With ``link_columns=True`` (the count columns are periods of one
  measure, as in a change table) a row withheld in one period is withheld in every
  period, and every column derived from it (change, per cent change, rate, interval,
  share) is withheld too (``"[c]"``).
* **Audit.** The simple rule above is not enough on its own: an attacker also knows that
  counts are whole numbers, that ``"<5"`` means 1-4 and that ``"[c]"`` means 0 or at
  least 5. After the rule, every withheld cell is attacked with exact integer
  programming (:func:`attack_bounds`: the smallest and largest value it can take given
  everything published); any cell pinned to a single value gets another partner, and
  the audit runs again until no withheld count of one or more can be recovered. (A zero
  withheld only because its row is withheld in another period may be worked out as
  zero; a zero identifies no one.)

What is assumed published: every shown child, every shown parent total, and the grand
total (the borough); the parent totals are taken as published even when the table
itself does not print them, since another table may.

Examples
--------
>>> import pandas as pd
>>> wards = pd.DataFrame({"ward": ["A", "B", "C"], "area": ["X", "X", "X"],
...                       "count": [3, 12, 40]})
>>> st = suppress(wards, count_cols=["count"], threshold=5, parent_col="area")
>>> st.frame["count"].tolist()
['<5', '[c]', 40]
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy.optimize import Bounds, LinearConstraint, milp

from geo.errors import InputError

__all__ = [
    "COMPLEMENTARY_MARKER",
    "SuppressedTable",
    "attack_bounds",
    "mask_text_counts",
    "primary_marker",
    "suppress",
    "suppress_small",
]

COMPLEMENTARY_MARKER = "[c]"
"""Shown for a cell withheld so that a small count cannot be worked out (and for any
rate, interval, share or change derived from a withheld count)."""

_STATUS_PUBLISHED, _STATUS_PRIMARY, _STATUS_COMP = "published", "primary", "complementary"


def primary_marker(threshold: int) -> str:
    """The text shown for a small count: ``"<5"`` for ``threshold=5``.

    Parameters
    ----------
    threshold
        Counts from 1 to ``threshold - 1`` are withheld.

    Returns
    -------
    str
    """
    return f"<{int(threshold)}"


@dataclass
class SuppressedTable:
    """A table with small counts withheld, and the account of what was withheld.

    Attributes
    ----------
    frame
        The table to publish: the input with withheld counts replaced by ``"<5"``
        (primary) or ``"[c]"`` (complementary), and derived columns of withheld rows
        by ``"[c]"``. Same index and columns as the input.
    values
        The input table, unchanged (never publish it).
    mask
        Boolean frame (index as ``frame``; the count and derived columns): True where
        withheld.
    status
        For the count columns: ``published``, ``primary`` or ``complementary``.
    parents
        The parent totals as published (index: parent key; the count columns), with
        the same markers; None without ``parent_col``.
    parent_status
        Status of each parent total, like ``status``.
    total
        The grand total of each count column as published (a marker when withheld).
    total_status
        Status of each grand total.
    threshold
        Counts from 1 to ``threshold - 1`` were withheld.
    count_cols
        The count columns.
    notes
        Plain-language notes for the reader of the table.
    audit
        One row per withheld cell: ``level`` (``child``, ``parent``, ``total``),
        ``key``, ``column``, ``status``, ``lower`` and ``upper`` (the range an
        attacker can work out), ``recoverable`` (pinned to one value that is not zero;
        False for every row when the suppression succeeded).
    """

    frame: pd.DataFrame
    values: pd.DataFrame
    mask: pd.DataFrame
    status: pd.DataFrame
    parents: pd.DataFrame | None
    parent_status: pd.DataFrame | None
    total: pd.Series
    total_status: pd.Series
    threshold: int
    count_cols: tuple[str, ...]
    notes: list[str] = field(default_factory=list)
    audit: pd.DataFrame = field(default_factory=pd.DataFrame)

    @property
    def n_primary(self) -> int:
        """Withheld small counts (children, parents and totals)."""
        return self._count(_STATUS_PRIMARY)

    @property
    def n_complementary(self) -> int:
        """Cells withheld only to protect small counts."""
        return self._count(_STATUS_COMP)

    def _count(self, what: str) -> int:
        n = int((self.status == what).to_numpy().sum())
        if self.parent_status is not None:
            n += int((self.parent_status == what).to_numpy().sum())
        return n + int((self.total_status == what).sum())

    def withheld_rows(self) -> pd.Index:
        """Index labels of the child rows with any withheld count."""
        return self.frame.index[self.mask[list(self.count_cols)].any(axis=1).to_numpy()]


# --------------------------------------------------------------------------- engine


@dataclass
class _System:
    """The cells of one table as a matrix, and the sums that tie them together.

    Cells are numbered children first, then parents, then the grand total. Each
    equation is ``sum(members) == total``.
    """

    values: np.ndarray  # (n_cells, n_cols) int
    n_children: int
    n_parents: int
    equations: list[tuple[list[int], int]]

    @property
    def grand(self) -> int:
        return self.values.shape[0] - 1


def _build_system(
    child_values: np.ndarray, parent_of: np.ndarray | None, parent_values: np.ndarray | None
) -> _System:
    n_c = child_values.shape[0]
    if parent_of is None:
        grand = child_values.sum(axis=0, keepdims=True)
        values = np.vstack([child_values, grand])
        return _System(values, n_c, 0, [(list(range(n_c)), n_c)])
    n_p = parent_values.shape[0]
    grand = parent_values.sum(axis=0, keepdims=True)
    values = np.vstack([child_values, parent_values, grand])
    equations = [([int(i) for i in np.flatnonzero(parent_of == p)], n_c + p) for p in range(n_p)]
    equations.append((list(range(n_c, n_c + n_p)), n_c + n_p))
    return _System(values, n_c, n_p, equations)


def _link(supp: np.ndarray, link_columns: bool) -> np.ndarray:
    if link_columns and supp.shape[1] > 1:
        return np.repeat(supp.any(axis=1, keepdims=True), supp.shape[1], axis=1)
    return supp


def _partner(
    system: _System, supp: np.ndarray, members: list[int], total: int, j: int
) -> int | None:
    """The cell to withhold so that an equation stops having one unknown."""
    v = system.values[:, j]
    free = [i for i in members if not supp[i, j]]
    nonzero = sorted((int(v[i]), i) for i in free if v[i] > 0)
    if nonzero:
        return nonzero[0][1]
    if not supp[total, j] and v[total] > 0:
        return total
    return None


def _apply_rule(system: _System, supp: np.ndarray, link_columns: bool) -> np.ndarray:
    """Withhold partners until no sum has exactly one withheld term (zeros excepted)."""
    supp = _link(supp.copy(), link_columns)
    changed = True
    while changed:
        changed = False
        for j in range(supp.shape[1]):
            for members, total in system.equations:
                unknown = [i for i in [*members, total] if supp[i, j]]
                if len(unknown) != 1:
                    continue
                pick = _partner(system, supp, members, total, j)
                if pick is not None:
                    supp[pick, j] = True
                    supp = _link(supp, link_columns)
                    changed = True
    return supp


def _bounds_for_column(
    system: _System, supp: np.ndarray, primary: np.ndarray, j: int, threshold: int
) -> dict[int, tuple[float, float]]:
    """Smallest and largest value of each withheld cell of column ``j`` an attacker can find."""
    v = system.values[:, j].astype(float)
    unknown = [int(i) for i in np.flatnonzero(supp[:, j])]
    if not unknown:
        return {}
    pos = {c: k for k, c in enumerate(unknown)}
    n = len(unknown)
    comp = [c for c in unknown if not primary[c, j]]
    n_bin = len(comp)
    big = float(max(v.max(), threshold) * 4 + 10)
    rows, lo, hi = [], [], []
    for members, total in system.equations:
        row = np.zeros(n + n_bin)
        rhs = 0.0
        for i, coef in [*((m, 1.0) for m in members), (total, -1.0)]:
            if i in pos:
                row[pos[i]] += coef
            else:
                rhs -= coef * v[i]
        if row.any():
            rows.append(row)
            lo.append(rhs)
            hi.append(rhs)
    # complementary cells: 0 or at least the threshold  (x >= T z, x <= big z, z binary)
    for k, c in enumerate(comp):
        a = np.zeros(n + n_bin)
        a[pos[c]], a[n + k] = 1.0, -float(threshold)
        rows.append(a)
        lo.append(0.0)
        hi.append(np.inf)
        b = np.zeros(n + n_bin)
        b[pos[c]], b[n + k] = 1.0, -big
        rows.append(b)
        lo.append(-np.inf)
        hi.append(0.0)
    lb = np.array([1.0 if primary[c, j] else 0.0 for c in unknown] + [0.0] * n_bin)
    ub = np.array([threshold - 1.0 if primary[c, j] else big for c in unknown] + [1.0] * n_bin)
    cons = LinearConstraint(np.array(rows), np.array(lo), np.array(hi)) if rows else ()
    out: dict[int, tuple[float, float]] = {}
    integrality = np.ones(n + n_bin)
    for c in unknown:
        ends = []
        for sign in (1.0, -1.0):
            cost = np.zeros(n + n_bin)
            cost[pos[c]] = sign
            res = milp(cost, constraints=cons, integrality=integrality, bounds=Bounds(lb, ub))
            if not res.success:  # the true values are always feasible
                msg = f"disclosure audit failed to solve ({res.message}); report this as a bug."
                raise RuntimeError(msg)
            ends.append(float(round(res.x[pos[c]])))
        out[c] = (ends[0], ends[1])
    return out


def _audit(
    system: _System, supp: np.ndarray, primary: np.ndarray, threshold: int
) -> list[tuple[int, int, float, float]]:
    found = []
    for j in range(supp.shape[1]):
        for c, (low, high) in _bounds_for_column(system, supp, primary, j, threshold).items():
            found.append((c, j, low, high))
    return found


def _protect(
    system: _System, primary: np.ndarray, threshold: int, link_columns: bool
) -> tuple[np.ndarray, list[tuple[int, int, float, float]]]:
    """Withhold more cells until no withheld one can be pinned; ``primary`` may be changed.

    When every cell around a pinned one is already withheld, the pin comes from the
    ranges the markers give: a small total shown as "<T" over children each shown as
    "<T" (at least 1) can force them (four children under a total of four are 1 each).
    Such a total (or parent) is then shown as withheld without its range.
    """
    supp = _apply_rule(system, primary, link_columns)
    for _ in range(system.values.size + 1):
        audit = _audit(system, supp, primary, threshold)
        pinned = [(c, j) for c, j, low, high in audit if low == high and system.values[c, j] > 0]
        if not pinned:
            return supp, audit
        added = False
        for c, j in pinned:
            for members, total in system.equations:
                if c not in members and c != total:
                    continue
                pick = _partner(system, supp, members, total, j)
                if pick is not None:
                    supp[pick, j] = True
                    added = True
                    break
            if added:
                break
        if not added:  # everything around the pinned cells is already withheld
            totals = {t for _, t in system.equations}
            ranged = [(c, j) for c, j in pinned if c in totals and primary[c, j]]
            if not ranged:  # the pinned cells are children: a total's range pins them
                ranged = [
                    (t, j)
                    for c, j in pinned
                    for m, t in system.equations
                    if c in m and primary[t, j]
                ]
            if ranged:
                for c, j in ranged:
                    primary[c, j] = False
                continue
            supp[:, :] = supp | (system.values > 0)
        supp = _apply_rule(system, supp, link_columns)
    return supp, _audit(system, supp, primary, threshold)


# --------------------------------------------------------------------------- public


def _check_counts(df: pd.DataFrame, cols: Sequence[str], what: str) -> np.ndarray:
    missing = [c for c in cols if c not in df.columns]
    if missing:
        msg = f"{what}: count column(s) {missing} missing; found {list(df.columns)}."
        raise InputError(msg)
    arr = df[list(cols)].apply(pd.to_numeric, errors="coerce")
    bad = arr.isna() | (arr < 0) | (arr % 1 != 0)
    if bad.to_numpy().any():
        r, c = np.argwhere(bad.to_numpy())[0]
        msg = (
            f"{what}: column '{cols[c]}' row {df.index[r]!r} holds {df[cols[c]].iloc[r]!r}; "
            "counts must be whole numbers of 0 or more (suppress before formatting)."
        )
        raise InputError(msg)
    return arr.to_numpy(dtype=np.int64)


def _status_frame(supp: np.ndarray, primary: np.ndarray, index: pd.Index, cols) -> pd.DataFrame:
    status = np.where(primary, _STATUS_PRIMARY, np.where(supp, _STATUS_COMP, _STATUS_PUBLISHED))
    return pd.DataFrame(status, index=index, columns=list(cols))


def _display(values: pd.DataFrame, status: pd.DataFrame, threshold: int) -> pd.DataFrame:
    out = values.astype(object).copy()
    out = out.mask(status == _STATUS_PRIMARY, primary_marker(threshold))
    return out.mask(status == _STATUS_COMP, COMPLEMENTARY_MARKER)


def suppress(
    table: pd.DataFrame,
    *,
    count_cols: Sequence[str],
    threshold: int,
    parent_col: str | None = None,
    parents: pd.DataFrame | None = None,
    link_columns: bool = True,
    derived: Mapping[str, str | Sequence[str]] | None = None,
) -> SuppressedTable:
    """Withhold small counts, and enough others that none can be recovered.

    Parameters
    ----------
    table
        One row per child area (or category, or month), with whole-number counts in
        ``count_cols``.
    count_cols
        The count columns: periods of one measure (e.g. ``["before", "after"]``), or
        a single ``["count"]``.
    threshold
        Counts from 1 to ``threshold - 1`` are withheld (``5``: one to four). A
        threshold of 1 or less withholds nothing.
    parent_col
        Column naming each row's parent (e.g. ``local_area`` for wards). Without it,
        the rows add up to one grand total.
    parents
        Published parent totals, indexed by parent key, with ``count_cols``; by
        default the sums of the children. They must equal those sums.
    link_columns
        Withhold a row in every count column when it is withheld in one (right for
        periods; pass False for columns that are different measures, each of which
        then adds up separately).
    derived
        Columns computed from the counts, mapped to the count column(s) they come from
        (``{"rate_per_1000": "count", "change": ["before", "after"]}``): withheld
        when any of their sources is.

    Returns
    -------
    SuppressedTable

    Raises
    ------
    InputError
        For a missing column, a count that is not a whole number of 0 or more,
        parent totals that do not equal the sum of their children, or a parent
        missing from ``parents``.
    """
    cols = tuple(count_cols)
    if not cols:
        msg = "suppress: count_cols is empty; name the column(s) holding counts."
        raise InputError(msg)
    threshold = int(threshold)
    child_values = _check_counts(table, cols, "table")
    parent_of = parent_values = None
    parent_index = None
    if parent_col is not None:
        if parent_col not in table.columns:
            msg = f"table: parent column {parent_col!r} missing; found {list(table.columns)}."
            raise InputError(msg)
        keys = table[parent_col].astype(str)
        sums = (
            pd.DataFrame(child_values, columns=list(cols), index=table.index)
            .groupby(keys.to_numpy(), sort=False)
            .sum()
        )
        if parents is None:
            published = sums
        else:
            published = parents.copy()
            published.index = published.index.astype(str)
            unknown = sorted(set(keys) - set(published.index))
            if unknown:
                msg = f"parents: no total for parent(s) {unknown}; give every parent's total."
                raise InputError(msg)
            pv = _check_counts(published, cols, "parents")
            published = pd.DataFrame(pv, index=published.index, columns=list(cols))
            diff = published.reindex(sums.index) - sums
            if diff.to_numpy().any():
                p = diff.index[diff.to_numpy().any(axis=1)][0]
                msg = (
                    f"parents: the total of {p!r} ({published.loc[p].tolist()}) is not the sum "
                    f"of its rows ({sums.loc[p].tolist()}); suppression needs totals that add up."
                )
                raise InputError(msg)
            extra = [p for p in published.index if p not in set(keys)]
            if extra and published.loc[extra].to_numpy().any():
                msg = f"parents: {extra} have counts but no rows in the table."
                raise InputError(msg)
        parent_index = pd.Index(published.index)
        code = {p: k for k, p in enumerate(parent_index)}
        parent_of = keys.map(code).to_numpy()
        parent_values = published[list(cols)].to_numpy(dtype=np.int64)
    system = _build_system(child_values, parent_of, parent_values)
    primary = (system.values >= 1) & (system.values < threshold)
    if threshold > 1:
        supp, audit_rows = _protect(system, primary, threshold, link_columns)  # may demote
    else:
        supp, audit_rows = np.zeros_like(primary), []

    n_c, n_p = system.n_children, system.n_parents
    status = _status_frame(supp[:n_c], primary[:n_c], table.index, cols)
    frame = table.copy()
    disp = _display(table[list(cols)], status, threshold)
    for c in cols:
        frame[c] = disp[c]
    mask = pd.DataFrame(supp[:n_c], index=table.index, columns=list(cols))
    for col, sources in (derived or {}).items():
        if col not in table.columns:
            msg = f"table: derived column {col!r} missing; found {list(table.columns)}."
            raise InputError(msg)
        srcs = [sources] if isinstance(sources, str) else list(sources)
        unknown = [s for s in srcs if s not in cols]
        if unknown:
            msg = (
                f"derived column {col!r} names {unknown}, which are not count columns {list(cols)}."
            )
            raise InputError(msg)
        m = mask[srcs].any(axis=1)
        mask[col] = m
        frame[col] = frame[col].astype(object).mask(m, COMPLEMENTARY_MARKER)

    parents_disp = parent_status = None
    if n_p:
        pvals = pd.DataFrame(system.values[n_c : n_c + n_p], index=parent_index, columns=list(cols))
        parent_status = _status_frame(
            supp[n_c : n_c + n_p], primary[n_c : n_c + n_p], parent_index, cols
        )
        parents_disp = _display(pvals, parent_status, threshold)
    g = system.grand
    total_status = pd.Series(
        np.where(primary[g], _STATUS_PRIMARY, np.where(supp[g], _STATUS_COMP, _STATUS_PUBLISHED)),
        index=list(cols),
    )
    total = _display(
        pd.DataFrame([system.values[g]], columns=list(cols)),
        pd.DataFrame([total_status.to_numpy()], columns=list(cols)),
        threshold,
    ).iloc[0]

    def where(c: int) -> tuple[str, object]:
        if c < n_c:
            return "child", table.index[c]
        if c < n_c + n_p:
            return "parent", parent_index[c - n_c]
        return "total", "total"

    audit = pd.DataFrame(
        [
            {
                "level": where(c)[0],
                "key": where(c)[1],
                "column": cols[j],
                "status": _STATUS_PRIMARY if primary[c, j] else _STATUS_COMP,
                "lower": low,
                "upper": high,
                "recoverable": bool(low == high and system.values[c, j] > 0),
            }
            for c, j, low, high in audit_rows
        ],
        columns=["level", "key", "column", "status", "lower", "upper", "recoverable"],
    )
    notes = []
    n_prim, n_comp = int(primary.sum()), int((supp & ~primary).sum())
    if threshold > 1:
        notes.append(
            f"Counts of 1 to {threshold - 1} are withheld ({primary_marker(threshold)}); "
            f"{n_prim} such cell(s) here. Zero is shown."
        )
        if n_comp:
            notes.append(
                f"{n_comp} further cell(s) are withheld ({COMPLEMENTARY_MARKER}) so that the small "
                "counts cannot be worked out from the totals"
                + (", in every period alike" if link_columns and len(cols) > 1 else "")
                + "."
            )
    return SuppressedTable(
        frame=frame,
        values=table.copy(),
        mask=mask,
        status=status,
        parents=parents_disp,
        parent_status=parent_status,
        total=total,
        total_status=total_status,
        threshold=threshold,
        count_cols=cols,
        notes=notes,
        audit=audit,
    )


def attack_bounds(
    published: Mapping[str, np.ndarray | Sequence[object]],
    equations: Sequence[tuple[Sequence[str], str]],
    *,
    threshold: int,
) -> dict[str, tuple[int, int]]:
    """The range of values each withheld cell can take, given what is published.

    An independent check of a published table: every cell is a name; ``published``
    maps each name to its shown value (an int, or the marker ``"<5"`` / ``"[c]"``);
    ``equations`` says which cells add up to which (``(members, total)``).

    Parameters
    ----------
    published
        Cell name to shown value.
    equations
        ``(member names, total name)`` for every sum that holds.
    threshold
        The suppression threshold (``"<5"`` means 1 to 4; ``"[c]"`` means 0 or at
        least ``threshold``).

    Returns
    -------
    dict
        For every withheld cell, ``(lowest, highest)`` integer value consistent with
        the published cells; equal ends mean the cell can be recovered.
    """
    names = list(published)
    index = {n: k for k, n in enumerate(names)}
    values = np.zeros((len(names), 1), dtype=np.int64)
    primary = np.zeros((len(names), 1), dtype=bool)
    supp = np.zeros((len(names), 1), dtype=bool)
    for n, v in published.items():
        if isinstance(v, str):
            supp[index[n], 0] = True
            primary[index[n], 0] = v == primary_marker(threshold)
        else:
            values[index[n], 0] = int(v)
    eqs = [([index[m] for m in members], index[total]) for members, total in equations]
    system = _System(values, len(names), 0, eqs)
    bounds = _bounds_for_column(system, supp, primary, 0, threshold)
    return {names[c]: (int(lo), int(hi)) for c, (lo, hi) in bounds.items()}


def suppress_small(
    table: pd.DataFrame,
    *,
    count_cols: Sequence[str],
    threshold: int,
    derived: Mapping[str, str | Sequence[str]] | None = None,
    text_cols: Sequence[str] = (),
    link_columns: bool = True,
) -> pd.DataFrame:
    """Primary suppression only, for counts that do not add up to a published total.

    Hotspot counts and venue reach overlap one another and are not parts of a whole,
    so differencing does not apply; small counts are still withheld.

    Parameters
    ----------
    table
        The table.
    count_cols
        Count columns (``"<5"`` where 1 to ``threshold - 1``).
    threshold
        As :func:`suppress`.
    derived
        Derived columns and their sources, withheld (``"[c]"``) with them.
    text_cols
        Text columns holding counts in brackets (``"Market Street (3)"``), rewritten
        by :func:`mask_text_counts`.
    link_columns
        Withhold a row's counts in every count column when one is small.

    Returns
    -------
    pandas.DataFrame
        A copy with markers in place of withheld values.
    """
    threshold = int(threshold)
    out = table.copy()
    if threshold <= 1:
        return out
    vals = _check_counts(table, list(count_cols), "table")
    small = (vals >= 1) & (vals < threshold)
    supp = _link(small, link_columns)
    for k, c in enumerate(count_cols):
        col = out[c].astype(object)
        col = col.mask(small[:, k], primary_marker(threshold))
        out[c] = col.mask(supp[:, k] & ~small[:, k], COMPLEMENTARY_MARKER)
    mask = pd.DataFrame(supp, index=table.index, columns=list(count_cols))
    for col, sources in (derived or {}).items():
        srcs = [sources] if isinstance(sources, str) else list(sources)
        out[col] = out[col].astype(object).mask(mask[srcs].any(axis=1), COMPLEMENTARY_MARKER)
    for c in text_cols:
        out[c] = out[c].map(lambda s: mask_text_counts(s, threshold))
    return out


_BRACKETED = re.compile(r"\((\d+)\)")


def mask_text_counts(text: object, threshold: int) -> object:
    """Replace small bracketed counts in a label: ``"Market St (3)"`` -> ``"Market St (<5)"``.

    Parameters
    ----------
    text
        A label such as a hotspot's top streets; non-strings are returned unchanged.
    threshold
        As :func:`suppress`.

    Returns
    -------
    object

    Examples
    --------
    >>> mask_text_counts("Market Street (3), High Street (12)", 5)
    'Market Street (<5), High Street (12)'
    """
    if not isinstance(text, str) or threshold <= 1:
        return text

    def repl(m: re.Match) -> str:
        n = int(m.group(1))
        return f"({primary_marker(threshold)})" if 1 <= n < threshold else m.group(0)

    return _BRACKETED.sub(repl, text)
