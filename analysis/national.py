"""National rates per 1,000 residents a year, and areas like a chosen one.

Fed by one query of a store (:func:`geo.store_query.national_counts`). Forces can be
missing from police.uk for whole months (Greater Manchester published no street data for
much of 2019–2022), and British Transport Police and neighbouring forces' rows fall in
every district, so an area's month counts only when its own police force's file for that
month is in the store (:func:`geo.store_query.covered_months`); rates are annualised over
the months that count.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from analysis.rates import poisson_ci
from geo.errors import InputError
from geo.schema import CRIME_TYPES
from geo.store_query import NationalFiles, area_populations, covered_months, national_counts

__all__ = ["NATIONAL_COLUMNS", "national_rates", "similar_areas"]

NATIONAL_COLUMNS = [
    "code",
    "name",
    "count",
    "population",
    "months",
    "rate_per_1000_year",
    "ci_low",
    "ci_high",
    "national_rate",
    "vs_national",
]


def _counted(counts: pd.DataFrame, covered: dict) -> np.ndarray:
    """Which rows of ``counts`` (code, month, count) fall in a month that counts for their area."""
    return np.array(
        [m in covered.get(c, ()) for c, m in zip(counts["code"], counts["month"], strict=True)],
        dtype=bool,
    )


def _rate_table(counts: pd.DataFrame, pops: pd.DataFrame, covered: dict) -> pd.DataFrame:
    """Rates over each area's counted months (``counts``: code, month, count)."""
    keep = _counted(counts, covered)
    n = counts[keep].groupby("code")["count"].sum()
    t = pops.copy()
    t["count"] = t["code"].map(n).fillna(0).astype("int64")
    t["months"] = t["code"].map(lambda c: len(covered.get(c, ()))).astype("int64")
    exposure = t["population"] * t["months"] / 12.0 / 1000.0
    has = (exposure > 0).to_numpy()
    low, high = poisson_ci(t["count"].to_numpy())
    with np.errstate(divide="ignore", invalid="ignore"):
        t["rate_per_1000_year"] = np.where(has, t["count"] / exposure, np.nan)
        t["ci_low"] = np.where(has, low / exposure, np.nan)
        t["ci_high"] = np.where(has, high / exposure, np.nan)
    national = float(t.loc[has, "count"].sum() / exposure[has].sum()) if has.any() else np.nan
    t["national_rate"] = national
    t["vs_national"] = np.select(
        [~has, t["ci_low"] > national, t["ci_high"] < national],
        ["no data", "above", "below"],
        "not distinguishable",
    )
    return t


def national_rates(
    store: str | Path,
    level: str,
    month_from: str | None = None,
    month_to: str | None = None,
    *,
    types: list[str] | None = None,
    files: NationalFiles | None = None,
) -> pd.DataFrame:
    """Counts and annual rates per 1,000 residents of every area of England and Wales.

    Parameters
    ----------
    store
        The store folder.
    level
        ``district`` (current districts), ``csp`` (Dec 2019 CSPs) or ``force`` (police
        force areas).
    month_from, month_to
        Inclusive ``YYYY-MM`` bounds (all the store holds by default).
    types
        Crime types (all by default).
    files
        The national boundary, lookup and population files.

    Returns
    -------
    pandas.DataFrame
        :data:`NATIONAL_COLUMNS`, one row per area (all of them, with ``vs_national`` "no
        data" where no month counts), highest rate first. ``months`` is the number of
        months that count for the area; ``rate_per_1000_year = count / (population ×
        months / 12) × 1000``; ``ci_low``/``ci_high`` are the exact Poisson 95% interval on
        the same scale; ``national_rate`` pools every area's months; ``vs_national`` is
        ``above``/``below`` only when the national rate lies outside the interval.
        ``attrs`` holds ``months`` (the months in the store in range), ``unplaced``
        (rows in no area of England and Wales, e.g. PSNI) and ``uncounted`` (rows in an
        area in a month its own force's file is not in the store, e.g. British Transport
        Police's rows in London: not in ``count``). ``count`` summed, ``uncounted`` and
        ``unplaced`` add up to the accepted rows of the months.
    """
    counts = national_counts(
        store, level, month_from, month_to, types=types, by=("month",), files=files
    )
    pops = area_populations(level, files)
    unplaced = int(counts.loc[counts["code"] == "", "count"].sum())
    counts = counts[counts["code"] != ""]
    months = sorted(set(counts["month"]))
    covered = {
        c: {m for m in ms if m in months} for c, ms in covered_months(store, level, files).items()
    }
    uncounted = int(counts.loc[~_counted(counts, covered), "count"].sum())
    t = _rate_table(counts, pops, covered)
    t = t.sort_values(
        ["rate_per_1000_year", "code"],
        ascending=[False, True],
        na_position="last",
        ignore_index=True,
    )
    out = t[NATIONAL_COLUMNS].copy()
    out.attrs = {"months": months, "unplaced": unplaced, "uncounted": uncounted, "level": level}
    return out


def similar_areas(
    store: str | Path,
    level: str,
    code: str,
    month_from: str | None = None,
    month_to: str | None = None,
    *,
    n: int = 10,
    files: NationalFiles | None = None,
) -> pd.DataFrame:
    """The areas most like ``code`` by population, density and crime mix.

    Each area is described by log10 population, log10 residents per km² and the share of
    each of the 14 police.uk types in its counted months; every feature is standardised
    over the areas with data; the distance is the Euclidean distance with population,
    density and the mix as a whole weighted equally (each type's term divided by 14).

    Parameters
    ----------
    store
        The store folder.
    level
        ``district``, ``csp`` or ``force``.
    code
        The chosen area.
    month_from, month_to
        Inclusive ``YYYY-MM`` bounds.
    n
        How many to return.
    files
        The national files.

    Returns
    -------
    pandas.DataFrame
        ``rank``, ``code``, ``name``, ``population``, ``density_per_km2``,
        ``rate_per_1000_year``, ``distance`` (0 for the chosen area, first), then the
        ``n`` nearest areas.

    Raises
    ------
    InputError
        If ``code`` is not an area with data at this level.
    """
    counts = national_counts(
        store, level, month_from, month_to, by=("month", "crime_type"), files=files
    )
    counts = counts[counts["code"] != ""]
    pops = area_populations(level, files)
    months = set(counts["month"])
    covered = {c: ms & months for c, ms in covered_months(store, level, files).items()}
    by_month = counts.groupby(["code", "month"], as_index=False)["count"].sum()
    rates = _rate_table(by_month, pops, covered)
    ok = np.array(
        [m in covered.get(c, ()) for c, m in zip(counts["code"], counts["month"], strict=True)],
        dtype=bool,
    )
    mix = counts[ok].pivot_table(
        index="code", columns="crime_type", values="count", aggfunc="sum", fill_value=0
    )
    mix = mix.reindex(columns=list(CRIME_TYPES), fill_value=0)
    mix = mix[mix.sum(axis=1) > 0]
    share = mix.div(mix.sum(axis=1), axis=0)
    t = rates.set_index("code").loc[share.index]
    t = t[t["population"] > 0]
    share = share.loc[t.index]
    if code not in t.index:
        msg = (
            f"{code}: no {level} with counted months has this code; give a code from "
            f"'hotspots national --level {level}'."
        )
        raise InputError(msg)
    density = t["population"] / t["area_km2"]
    feats = pd.DataFrame({"pop": np.log10(t["population"]), "dens": np.log10(density)})

    def z(df: pd.DataFrame) -> pd.DataFrame:
        sd = df.std(ddof=0).replace(0, 1.0)
        return (df - df.mean()) / sd

    zf, zs = z(feats), z(share)
    d2 = ((zf - zf.loc[code]) ** 2).sum(axis=1) + ((zs - zs.loc[code]) ** 2).sum(axis=1) / len(
        CRIME_TYPES
    )
    out = pd.DataFrame(
        {
            "code": t.index,
            "name": t["name"].to_numpy(),
            "population": t["population"].to_numpy(),
            "density_per_km2": density.to_numpy(),
            "rate_per_1000_year": t["rate_per_1000_year"].to_numpy(),
            "distance": np.sqrt(d2.to_numpy()),
        }
    )
    out = out.sort_values(["distance", "code"], ignore_index=True).head(n + 1)
    out.insert(0, "rank", np.arange(len(out)))
    return out
