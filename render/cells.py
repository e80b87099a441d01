"""Table cells and column names as the report prints them.

Plain text only: the report's templates escape what these functions return (and the
SVG charts escape it with :func:`render.html.esc`).
"""

from __future__ import annotations

import math
import re

import numpy as np
import pandas as pd

__all__ = [
    "column_label",
    "decimals_needed",
    "format_cell",
    "is_number",
    "is_numeric_column",
    "is_withheld",
]

_MISSING = "\u2013"  # en dash


def column_label(col: object) -> str:
    """Write a column name for people.

    Parameters
    ----------
    col
        The column name.

    Returns
    -------
    str
        For example ``asb_share_pct`` -> ``ASB share %``.

    Examples
    --------
    >>> column_label("asb_share_pct"), column_label("ci_low")
    ('ASB share %', '95% CI low')
    >>> column_label("police_uk_2002_per_1000")
    'police.uk 2002 per 1,000'
    """
    text = re.sub(r"(?<![a-z])police_uk(?![a-z])", "police.uk", str(col))
    text = re.sub(r"_pct$", " %", text)
    text = text.replace("per_1000", "per 1,000").replace("ci_low", "95% CI low")
    text = text.replace("ci_high", "95% CI high").replace("_", " ")
    return re.sub(r"\basb\b", "ASB", text)


def is_number(v: object) -> bool:
    """Tell whether a cell holds a number (booleans are not numbers).

    Parameters
    ----------
    v
        The cell.

    Returns
    -------
    bool
    """
    return isinstance(v, int | float | np.integer | np.floating) and not isinstance(v, bool)


def format_cell(v: object, decimals: int | None = None) -> str:
    """Format one cell as plain text.

    Whole numbers get thousands separators; other numbers ``decimals`` places (the
    column's), or up to 2 (4 below 1) when not given; minus signs are true minus signs;
    missing values are an en dash; booleans are ``yes`` or ``no``.

    Parameters
    ----------
    v
        The cell.
    decimals
        Decimal places of a float column (:func:`decimals_needed`); None or 0 for the
        default.

    Returns
    -------
    str
        The text, not escaped.

    Examples
    --------
    >>> format_cell(-1234), format_cell(0.12345), format_cell(2.5, 2), format_cell(None)
    ('−1,234', '0.1235', '2.50', '–')
    """
    if v is None or (isinstance(v, float) and math.isnan(v)) or v is pd.NA:
        return _MISSING
    if isinstance(v, bool | np.bool_):
        return "yes" if v else "no"
    if is_number(v):
        f = float(v)
        if math.isnan(f):
            return _MISSING
        if isinstance(v, float | np.floating) and decimals:
            text = f"{f:,.{decimals}f}"
        elif f == int(f) and abs(f) < 1e15:
            text = f"{int(f):,}"
        else:
            digits = 4 if abs(f) < 1 else 2
            text = f"{f:,.{digits}f}".rstrip("0").rstrip(".")
        return text.replace("-", "\u2212")
    if isinstance(v, str):
        return v
    try:
        missing = bool(pd.isna(v))  # NaT and other missing markers print as nothing
    except (TypeError, ValueError):
        missing = False
    return "" if missing else str(v)


def decimals_needed(series: pd.Series) -> int:
    """Decimal places a column of floats needs (at most 2, or 4 for p-values).

    Parameters
    ----------
    series
        The column (its name says whether it holds p-values).

    Returns
    -------
    int
    """
    cap = 4 if "p_value" in str(series.name) else 2
    need = 0
    for v in series:
        if isinstance(v, float | np.floating) and not math.isnan(v) and v != int(v):
            text = f"{float(v):.{cap}f}".rstrip("0")
            need = max(need, len(text.split(".")[1]) if "." in text else 0)
    return need


def is_withheld(v: object) -> bool:
    """Tell whether a cell is a suppression marker (``[c]`` or ``<5``).

    Parameters
    ----------
    v
        The cell.

    Returns
    -------
    bool
    """
    return isinstance(v, str) and (v == "[c]" or re.fullmatch(r"<\d+", v) is not None)


def is_numeric_column(series: pd.Series) -> bool:
    """Tell whether a column holds numbers (ignoring blanks and suppression markers).

    Parameters
    ----------
    series
        The column.

    Returns
    -------
    bool
    """
    vals = [v for v in series if not (v is None or v is pd.NA or v == "" or is_withheld(v))]
    vals = [v for v in vals if not (isinstance(v, float) and math.isnan(v))]
    return bool(vals) and all(is_number(v) for v in vals)
