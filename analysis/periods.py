"""Periods of months: runs of consecutive months, the default period, the period before.

Months are ``YYYY-MM`` strings, as in every incident frame.
"""

from __future__ import annotations

__all__ = ["DEFAULT_MONTHS", "contiguous_runs", "default_months", "previous_period"]

DEFAULT_MONTHS = 12
"""Views and commands open on the latest twelve months loaded, unless told otherwise."""


def _month_index(month: str) -> int:
    year, mon = map(int, month.split("-"))
    return year * 12 + mon - 1


def _month_of(index: int) -> str:
    return f"{index // 12:04d}-{index % 12 + 1:02d}"


def contiguous_runs(months: list[str]) -> list[list[str]]:
    """Split sorted ``YYYY-MM`` months into runs of consecutive months.

    Examples
    --------
    >>> contiguous_runs(["2017-02", "2017-03", "2022-02"])
    [['2017-02', '2017-03'], ['2022-02']]
    """
    runs: list[list[str]] = []
    for m in months:
        if runs and _month_index(m) == _month_index(runs[-1][-1]) + 1:
            runs[-1].append(m)
        else:
            runs.append([m])
    return runs


def default_months(months: list[str], *, last: int = DEFAULT_MONTHS) -> tuple[str, str]:
    """The period a view or command opens on.

    The latest ``last`` months of the longest run of consecutive months loaded (the
    latest run when runs tie).

    Examples
    --------
    >>> default_months(["2017-02", "2017-03", "2017-04", "2022-02"])
    ('2017-02', '2017-04')
    >>> default_months([f"2021-{m:02d}" for m in range(3, 13)] + ["2022-01", "2022-02"], last=3)
    ('2021-12', '2022-02')
    """
    runs = contiguous_runs(sorted(months))
    best = max(reversed(runs), key=len)[-last:]
    return best[0], best[-1]


def previous_period(month_from: str, month_to: str) -> tuple[str, str]:
    """The period of the same length just before ``month_from``..``month_to``.

    Examples
    --------
    >>> previous_period("2017-04", "2017-05")
    ('2017-02', '2017-03')
    """
    a, b = _month_index(month_from), _month_index(month_to)
    n = b - a + 1
    return _month_of(a - n), _month_of(a - 1)
