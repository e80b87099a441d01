"""Counts and rates per 1,000 residents by area, with exact Poisson intervals.

Rates on small populations are noisy, so every rate carries its exact (Garwood)
95% Poisson interval, and an area is flagged as differing from the borough only when
the borough's rate lies outside that interval.
"""

from __future__ import annotations

from collections.abc import Collection

import numpy as np
import pandas as pd
from scipy import stats

from geo.errors import InputError
from geo.schema import CRIME_TYPES
from geo.study_area import AreaLevel

__all__ = [
    "area_rates",
    "filter_incidents",
    "pct_change",
    "period_change",
    "poisson_ci",
]


def poisson_ci(count: np.ndarray | int, *, conf: float = 0.95) -> tuple[np.ndarray, np.ndarray]:
    """Exact (Garwood) confidence interval for a Poisson count.

    Parameters
    ----------
    count
        Observed counts.
    conf
        Confidence level.

    Returns
    -------
    low, high : numpy.ndarray
        Bounds on the expected count; ``low`` is 0 for a count of 0.

    Examples
    --------
    >>> [round(float(v), 3) for v in poisson_ci(10)]
    [4.795, 18.39]
    """
    k = np.asarray(count, dtype=float)
    a = 1 - conf
    low = np.where(k > 0, stats.chi2.ppf(a / 2, 2 * k) / 2, 0.0)
    high = stats.chi2.ppf(1 - a / 2, 2 * (k + 1)) / 2
    return low, high


def filter_incidents(
    incidents: pd.DataFrame,
    *,
    types: list[str] | tuple[str, ...] | None = None,
    month_from: str | None = None,
    month_to: str | None = None,
) -> pd.DataFrame:
    """Keep the incidents of some types within a month range (inclusive).

    Parameters
    ----------
    incidents
        Incident frame.
    types
        Crime types to keep (a single type may be given as a string); all when None
        or empty.
    month_from, month_to
        ``YYYY-MM`` bounds, inclusive.

    Returns
    -------
    pandas.DataFrame
        The matching rows (same type as the input).
    """
    mask = np.ones(len(incidents), dtype=bool)
    if isinstance(types, str):
        types = [types]
    if types:
        known = set(incidents["crime_type"].unique())
        # A police.uk category that happens not to occur counts 0; only a name that is
        # neither a category nor in the data (a typo) is an error.
        unknown = [t for t in types if t not in known and t not in CRIME_TYPES]
        if unknown and len(unknown) == len(types):
            msg = (
                f"type(s) {unknown} do not occur in the data; the types are "
                f"{sorted(known | set(CRIME_TYPES))}."
            )
            raise InputError(msg)
        mask &= incidents["crime_type"].isin(types).to_numpy()
    if month_from and month_to and month_from > month_to:
        msg = f"months {month_from}..{month_to}: the range ends before it starts; swap the two months."
        raise InputError(msg)
    for bound, op in ((month_from, np.greater_equal), (month_to, np.less_equal)):
        if bound:
            if not pd.Series([bound]).str.fullmatch(r"\d{4}-(0[1-9]|1[0-2])").iloc[0]:
                msg = f"month {bound!r} is not in YYYY-MM form (e.g. 2017-02)."
                raise InputError(msg)
            mask &= op(incidents["month"].to_numpy(dtype=str), bound)
    return incidents[mask]


def area_rates(
    incidents: pd.DataFrame,
    level: AreaLevel,
    *,
    types: list[str] | tuple[str, ...] | None = None,
    month_from: str | None = None,
    month_to: str | None = None,
    per: int = 1000,
    conf: float = 0.95,
    months_held: Collection[str] | None = None,
) -> pd.DataFrame:
    """Counts and rates per ``per`` residents per year for every area of a level.

    Rates are annualised from the period: the count over ``m`` months is scaled by
    ``12 / m``, so a month and a year read on the same scale. The period is the months
    of ``months_held`` within the bounds when given, else ``month_from`` to
    ``month_to`` when both are given, else the months present in the filtered
    incidents.

    Parameters
    ----------
    incidents
        Incident frame joined to areas (:func:`geo.join.join_areas`).
    level
        The areas (a study area's :class:`geo.study_area.AreaLevel`): polygons with
        ``code``, ``name`` and ``population`` covering the whole study area, and the
        incident column that places a row in them. The study area's population is
        their sum.
    types, month_from, month_to
        Filters, as :func:`filter_incidents`.
    per
        Rate denominator (1,000 residents).
    conf
        Confidence level of the intervals.
    months_held
        The months the data holds for the area (a store with gaps: the months its own
        police force has a file for), so a month missing from the data is not read as
        a month without crime.

    Returns
    -------
    pandas.DataFrame
        One row per area (areas with no incidents included, count 0), sorted by
        rate: ``code``, ``name``, ``count``, ``population``, ``rate_per_1000`` (per
        year), ``ci_low``, ``ci_high``, ``share`` (of all counted), ``borough_rate``,
        ``vs_borough`` (``higher``, ``lower``, ``not different``, or ``no residents``
        where the population is 0 and the rate NaN) and ``months`` (the
        period's length). ``attrs`` holds ``population_source`` and ``boundaries``.
    """
    sub = filter_incidents(incidents, types=types, month_from=month_from, month_to=month_to)
    if months_held is not None:
        lo, hi = month_from or "0000-00", month_to or "9999-99"
        n_months = max(len({str(m) for m in months_held if lo <= str(m) <= hi}), 1)
    elif month_from and month_to:
        n_months = _months(month_from, month_to)
    else:
        n_months = max(int(pd.Series(sub["month"]).nunique()), 1)
    areas = level.areas
    pop_total = float(areas["population"].sum())
    col = level.column
    if col is None:
        counts = pd.Series({areas["code"].iloc[0]: len(sub)})
    else:
        counts = sub[col].value_counts()
    out = pd.DataFrame({"code": areas["code"], "name": areas["name"]})
    out["count"] = out["code"].map(counts).fillna(0).astype(int)
    out["population"] = areas["population"].astype(float).to_numpy()
    low, high = poisson_ci(out["count"].to_numpy(), conf=conf)
    pop = out["population"].to_numpy(float)
    # An area with no residents (an LSOA whose population went to its neighbours) has no rate.
    scale = np.divide(per * 12 / n_months, pop, out=np.full(len(pop), np.nan), where=pop > 0)
    rate_col = f"rate_per_{per}"
    out[rate_col] = out["count"] * scale
    out["ci_low"] = low * scale
    out["ci_high"] = high * scale
    total = int(out["count"].sum())
    out["share"] = out["count"] / total if total else 0.0
    borough_rate = len(sub) * per * 12 / n_months / pop_total
    out["borough_rate"] = borough_rate
    out["vs_borough"] = np.select(
        [pop <= 0, out["ci_low"] > borough_rate, out["ci_high"] < borough_rate],
        ["no residents", "higher", "lower"],
        "not different",
    )
    out["population"] = out["population"].astype(int)
    out["months"] = n_months
    out.attrs.update(population_source=level.population, boundaries=level.boundaries)
    return out.sort_values([rate_col, "code"], ascending=[False, True]).reset_index(drop=True)


def pct_change(before: float, after: float) -> float:
    """Percentage change from ``before`` to ``after``.

    Examples
    --------
    >>> round(pct_change(2183, 1816), 2)
    -16.81
    """
    if before == 0:
        return float("nan")
    return (after - before) / before * 100.0


def period_change(
    incidents: pd.DataFrame,
    level: AreaLevel,
    *,
    before: tuple[str, str],
    after: tuple[str, str],
    types: list[str] | tuple[str, ...] | None = None,
    alpha: float = 0.05,
) -> pd.DataFrame:
    """Change in counts by area between two periods, and whether it is more than noise.

    The test is the exact conditional test for two Poisson counts: given
    ``n = before + after`` incidents, ``after`` is Binomial(n, p) with
    ``p = months_after / (months_before + months_after)`` when nothing changed.

    Parameters
    ----------
    incidents
        Incident frame joined to areas.
    level
        Area level, as :func:`area_rates`.
    before, after
        ``(YYYY-MM, YYYY-MM)`` inclusive month ranges.
    types
        Crime types; all when None.
    alpha
        Significance level.

    Returns
    -------
    pandas.DataFrame
        ``code``, ``name``, ``before``, ``after``, ``change``, ``change_pct``,
        ``p_value``, ``significant`` (bool) and ``direction``.
    """
    a = area_rates(incidents, level, types=types, month_from=before[0], month_to=before[1])
    b = area_rates(incidents, level, types=types, month_from=after[0], month_to=after[1])
    m_a, m_b = _months(*before), _months(*after)
    out = a[["code", "name"]].copy()
    out["before"] = a["count"].to_numpy()
    out["after"] = out["code"].map(b.set_index("code")["count"]).to_numpy()
    out["change"] = out["after"] - out["before"]
    out["change_pct"] = [pct_change(x, y) for x, y in zip(out["before"], out["after"], strict=True)]
    p = m_b / (m_a + m_b)
    out["p_value"] = [
        stats.binomtest(int(y), int(x + y), p).pvalue if x + y > 0 else 1.0
        for x, y in zip(out["before"], out["after"], strict=True)
    ]
    out["significant"] = out["p_value"] < alpha
    out["direction"] = np.where(
        ~out["significant"], "no clear change", np.where(out["change"] > 0, "up", "down")
    )
    return out.sort_values("change").reset_index(drop=True)


def _months(start: str, end: str) -> int:
    y0, m0 = map(int, start.split("-"))
    y1, m1 = map(int, end.split("-"))
    n = (y1 - y0) * 12 + (m1 - m0) + 1
    if n < 1:
        msg = f"period {start}..{end} ends before it starts."
        raise InputError(msg)
    return n
