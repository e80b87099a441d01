"""Small synthetic incident frames for the risk, patrol and rolling tests."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo.crs import BNG

ASB = "Anti-social behaviour"
AREA = shapely.box(0.0, 0.0, 1000.0, 1000.0)
"""A 1 km square: 400 cells of 50 m."""


def months(n: int, start: str = "2021-01") -> list[str]:
    """``n`` consecutive months from ``start``."""
    return [str(p) for p in pd.period_range(start, periods=n, freq="M")]


def frame(rows: list[tuple[str, str, float, float, str]]) -> gpd.GeoDataFrame:
    """An incident frame from ``(month, crime_type, x, y, location)`` rows."""
    df = pd.DataFrame(rows, columns=["month", "crime_type", "x", "y", "location"])
    df["has_location"] = True
    df["datetime"] = pd.NaT
    return gpd.GeoDataFrame(df, geometry=gpd.points_from_xy(df["x"], df["y"]), crs=BNG)


def town(n_months: int = 8, seed: int = 0) -> gpd.GeoDataFrame:
    """A made-up town: a busy car park, a supermarket with shoplifting, quiet streets.

    - (225, 225) "Parking Area": 3 ASB a month;
    - (725, 725) "Supermarket": 4 shoplifting a month, 1 ASB every other month;
    - (475, 775) "Mill Lane": 1 ASB a month;
    - 6 random ASB and 6 random other crimes a month elsewhere (seeded).
    """
    rng = np.random.default_rng(seed)
    rows = []
    for i, m in enumerate(months(n_months)):
        rows += [(m, ASB, 225.0, 225.0, "On or near Parking Area")] * 3
        rows += [(m, "Shoplifting", 725.0, 725.0, "On or near Supermarket")] * 4
        if i % 2:
            rows.append((m, ASB, 725.0, 725.0, "On or near Supermarket"))
        rows.append((m, ASB, 475.0, 775.0, "On or near Mill Lane"))
        for kind in (ASB, "Burglary"):
            for _ in range(6):
                x, y = rng.integers(0, 20, 2) * 50 + 25
                rows.append((m, kind, float(x), float(y), f"On or near Street {x}-{y}"))
    return frame(rows)
