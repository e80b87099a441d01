"""Counts by small area within larger areas within the whole, for any study area.

A pack's area tables count incidents by the smallest areas it names (Eastleigh's 2018
wards; elsewhere a district's wards where a ward file covers it, otherwise its LSOAs)
within the areas they nest in (Eastleigh's five local areas; a partnership's districts;
otherwise none, only the whole area). :func:`pack_nesting` says which levels those
are for an area, and :func:`area_counts` counts them for several months, suppressed
together so that no withheld count can be worked out from another month, a parent or
the total.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd

from analysis.rates import filter_incidents
from geo.errors import InputError
from geo.study_area import StudyArea
from packs.disclosure import SuppressedTable, suppress

__all__ = ["AreaCounts", "Nesting", "area_counts", "pack_nesting", "whole_label"]

_PLURAL = {
    "ward": "wards",
    "ward2002": "wards",
    "lsoa": "LSOAs",
    "local_area": "local areas",
    "district": "districts",
}


@dataclass(frozen=True)
class Nesting:
    """Which levels a pack's area tables count.

    Attributes
    ----------
    small
        Level key of the smallest areas named: ``ward``, ``ward2002`` or ``lsoa``.
    parent
        Level key of the areas they nest in (``local_area`` or ``district``), or None
        when the area has no such level (the whole area is then the only parent).
    """

    small: str
    parent: str | None

    @property
    def small_plural(self) -> str:
        """What a reader calls the small areas, e.g. ``"wards"`` or ``"LSOAs"``."""
        return _PLURAL.get(self.small, self.small)

    @property
    def parent_plural(self) -> str | None:
        """What a reader calls the parents, e.g. ``"local areas"``; None without."""
        return None if self.parent is None else _PLURAL.get(self.parent, self.parent)

    @property
    def small_key(self) -> str:
        """The key (and CSV name) of a pack's table of the small areas, e.g. ``"lsoas"``."""
        return self.small_plural.lower().replace(" ", "_")

    @property
    def parent_key(self) -> str | None:
        """The key of a pack's table of the parents, e.g. ``"local_areas"``; None without."""
        plural = self.parent_plural
        return None if plural is None else plural.lower().replace(" ", "_")


def _several_districts(area: StudyArea) -> bool:
    """Whether ``area`` is a partnership of more than one district."""
    return "district" in area.levels and len(area.levels["district"].areas) > 1


def whole_label(area: StudyArea) -> str:
    """What the pack calls the whole area in its total rows.

    Parameters
    ----------
    area
        The study area.

    Returns
    -------
    str
        ``Partnership`` for an area of several districts, else ``Borough``.
    """
    return "Partnership" if _several_districts(area) else "Borough"


def pack_nesting(area: StudyArea, ward_set: str = "ward") -> Nesting:
    """The levels of ``area`` a pack counts by.

    Parameters
    ----------
    area
        The study area.
    ward_set
        The ward set wanted (``ward`` or ``ward2002``); LSOAs where the area has none.

    Returns
    -------
    Nesting
        Small areas: ``ward_set`` if the area has it, else ``lsoa``. Parents:
        ``local_area`` if the area has it, else ``district`` where it holds more than
        one district (a partnership), else None.

    Examples
    --------
    >>> from geo.study_area import load_study_area
    >>> pack_nesting(load_study_area())
    Nesting(small='ward', parent='local_area')
    """
    small = ward_set if ward_set in area.levels else "lsoa"
    parent = None
    if "local_area" in area.levels:
        parent = "local_area"
    elif _several_districts(area):
        parent = "district"
    return Nesting(small, parent)


def _parent_names(small: gpd.GeoDataFrame, parents: gpd.GeoDataFrame, key: str) -> np.ndarray:
    """The name of the parent each small area lies in (its own column, else by position)."""
    if key in small.columns:
        return small[key].astype(str).to_numpy()
    points = gpd.GeoSeries(small.geometry.representative_point(), crs=small.crs)
    frame = gpd.GeoDataFrame({"i": np.arange(len(small))}, geometry=points)
    hit = gpd.sjoin_nearest(frame, parents[["name", "geometry"]], how="left")
    return hit.drop_duplicates("i").sort_values("i")["name"].astype(str).to_numpy()


@dataclass
class AreaCounts:
    """Counts by small area, parent and the whole area for several months.

    Attributes
    ----------
    nesting
        The levels counted.
    small
        ``code``, ``name``, ``parent`` (the parent's name; the area's own name without
        parents) and one count column per month.
    parents
        ``parent`` and one count column per month; None without a parent level.
    whole
        The whole area's count of each month.
    months
        The months counted.
    st
        The suppression of ``small`` (with ``parents``), or None.
    parent_population
        Census 2021 residents of each parent, indexed by its name; None without parents.
    """

    nesting: Nesting
    small: pd.DataFrame
    parents: pd.DataFrame | None
    whole: dict[str, int]
    months: list[str]
    st: SuppressedTable | None
    parent_population: pd.Series | None = None

    def small_shown(self) -> pd.DataFrame:
        """``small`` as published (withheld counts replaced by their markers)."""
        return self.st.frame if self.st is not None else self.small

    def parents_shown(self) -> pd.DataFrame:
        """``parents`` as published; raises if there are none."""
        if self.parents is None:
            msg = "this area has no level above its small areas."
            raise InputError(msg)
        if self.st is None:
            return self.parents
        shown = self.st.parents.reindex(self.parents["parent"]).reset_index()
        return shown.rename(columns={shown.columns[0]: "parent"})

    def small_withheld(self, month: str) -> pd.Series:
        """Whether each small area's count of ``month`` is withheld."""
        if self.st is None:
            return pd.Series(False, index=self.small.index)
        return self.st.mask[month]

    def parents_withheld(self, month: str) -> pd.Series:
        """Whether each parent's count of ``month`` is withheld."""
        assert self.parents is not None
        if self.st is None:
            return pd.Series(False, index=self.parents.index)
        status = self.st.parent_status.reindex(self.parents["parent"])[month]
        return pd.Series((status != "published").to_numpy(), index=self.parents.index)


def area_counts(
    incidents: pd.DataFrame,
    months: Sequence[str],
    *,
    area: StudyArea,
    types: Sequence[str] | None,
    nesting: Nesting,
    threshold: int | None,
) -> AreaCounts:
    """Count incidents by small area and parent for each month, suppressed together.

    Parameters
    ----------
    incidents
        Incident frame with the small level's column (e.g. ``ward_code``) and ``month``.
    months
        The months, ``YYYY-MM``.
    area
        The study area.
    types
        Crime types to count; None for all.
    nesting
        The levels (:func:`pack_nesting`).
    threshold
        Withhold counts from 1 to ``threshold - 1`` in every month, small areas and
        parents together; None for none.

    Returns
    -------
    AreaCounts
        Parents' counts are the sums of their small areas', so the tables add up.

    Raises
    ------
    InputError
        If the incidents lack the small level's column.
    """
    level = area.level(nesting.small)
    col = level.column
    if col not in incidents.columns:
        msg = (
            f"incidents: no {col!r} column to count {nesting.small_plural} by; load them "
            "with this study area (geo.io.load_incidents) so that each row is placed."
        )
        raise InputError(msg)
    small_areas = area.areas(nesting.small)
    small = pd.DataFrame({"code": small_areas["code"], "name": small_areas["name"]})
    parent_areas = None if nesting.parent is None else area.areas(nesting.parent)
    if parent_areas is None:
        small["parent"] = area.name
    else:
        small["parent"] = _parent_names(small_areas, parent_areas, nesting.parent)
    small = small.sort_values(["parent", "name"]).reset_index(drop=True)
    sub = filter_incidents(incidents, types=list(types) if types else None)
    sub = sub[sub["month"].isin(list(months))]
    by_small = sub.groupby([col, "month"]).size().unstack(fill_value=0)
    for m in months:
        small[m] = small["code"].map(by_small.get(m, {})).fillna(0).astype(int)
    parents = parent_population = None
    if parent_areas is not None:
        names = parent_areas["name"].astype(str)
        parents = small.groupby("parent")[list(months)].sum().reindex(names, fill_value=0)
        parents = parents.rename_axis("parent").reset_index()
        parent_population = parent_areas["population"].astype(float).set_axis(names)
    whole = {m: int(small[m].sum()) for m in months}
    st = None
    if threshold:
        st = suppress(
            small,
            count_cols=list(months),
            threshold=threshold,
            parent_col="parent" if parents is not None else None,
            parents=parents.set_index("parent")[list(months)] if parents is not None else None,
            link_columns=True,
        )
    return AreaCounts(nesting, small, parents, whole, list(months), st, parent_population)
