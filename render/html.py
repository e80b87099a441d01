"""Escaping and formatting helpers for text that goes into the map's HTML.

Every string that comes from data (ward names, street names, venue names, hotspot
labels) passes through :func:`esc` before it reaches a popup, a tooltip, a label or a
legend. folium does not do this for us:

* ``folium.GeoJsonTooltip`` and ``folium.GeoJsonPopup`` build a ``<table>`` in the
  browser from the feature's properties and assign it to ``innerHTML``, so a property
  holding ``<img src=x onerror=...>`` runs as HTML. We therefore escape the
  *properties* before the GeoJSON is handed to folium.
* ``folium.Popup`` and ``folium.Tooltip`` paste their text into a JavaScript template
  literal (backticks), where ``${...}`` is evaluated; ``folium.Popup`` also needs
  jQuery. :mod:`render.map` uses its own popup and tooltip elements, which pass the
  escaped HTML as a JSON string instead.

The helpers here only build strings; they import neither folium nor streamlit.
"""

from __future__ import annotations

import html
import math
from collections.abc import Iterable
from numbers import Real

import pandas as pd

__all__ = ["esc", "fmt_number", "fmt_share", "popup_table"]

_MISSING = "\u2013"  # en dash, shown for a missing value


def _is_missing(value: object) -> bool:
    if value is None:
        return True
    if isinstance(value, str | list | tuple | dict):
        return False
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


def esc(value: object) -> str:
    """Escape a value for use as HTML text or inside a quoted HTML attribute.

    Parameters
    ----------
    value
        Anything; it is converted with ``str``. ``None``, ``NaN`` and ``pandas.NA``
        become an empty string.

    Returns
    -------
    str
        The text with ``&``, ``<``, ``>``, ``"`` and ``'`` replaced by entities, so it
        can never open a tag or leave an attribute.

    Examples
    --------
    >>> esc("<script>alert(1)</script>")
    '&lt;script&gt;alert(1)&lt;/script&gt;'
    >>> esc(None)
    ''
    """
    if _is_missing(value):
        return ""
    return html.escape(str(value), quote=True)


def fmt_number(value: object, *, decimals: int = 2) -> str:
    """Format a number for people: thousands separators, no trailing zeros.

    Parameters
    ----------
    value
        A number (or something ``float`` accepts). Missing values give an en dash.
    decimals
        Most decimal places shown.

    Returns
    -------
    str
        For example ``"1,234"``, ``"2.8"``, ``"28.96"``. The result is plain text made of
        digits, separators and signs, so it needs no escaping; non-numbers are escaped.

    Examples
    --------
    >>> fmt_number(10.0), fmt_number(2.8), fmt_number(12345), fmt_number(float("nan"))
    ('10', '2.8', '12,345', '–')
    """
    if _is_missing(value):
        return _MISSING
    if not isinstance(value, Real):
        try:
            value = float(str(value))
        except ValueError:
            return esc(value)
    number = float(value)
    if math.isinf(number):
        return "\u221e" if number > 0 else "-\u221e"
    rounded = round(number, decimals)
    if rounded == int(rounded):
        return f"{int(rounded):,}"
    return f"{rounded:,.{decimals}f}".rstrip("0").rstrip(".")


def fmt_share(value: object, *, decimals: int = 1) -> str:
    """Format a share in ``[0, 1]`` as a percentage.

    Parameters
    ----------
    value
        A fraction; missing values give an en dash.
    decimals
        Decimal places of the percentage.

    Returns
    -------
    str
        For example ``"12.5%"``.

    Examples
    --------
    >>> fmt_share(0.125)
    '12.5%'
    """
    if _is_missing(value):
        return _MISSING
    return f"{100.0 * float(value):.{decimals}f}%"  # type: ignore[arg-type]


def popup_table(rows: Iterable[tuple[str, object]], *, title: object = None) -> str:
    """Build a small HTML table from label/value pairs, escaping both.

    Parameters
    ----------
    rows
        ``(label, value)`` pairs. Values are escaped with :func:`esc` (numbers should
        be formatted first, e.g. with :func:`fmt_number`). Missing values show an en
        dash.
    title
        Optional heading above the table (escaped).

    Returns
    -------
    str
        HTML safe to use as the content of a popup or tooltip.

    Examples
    --------
    >>> popup_table([("Name", "<b>")], title="A & B").split("</strong>")[1]
    '<table><tr><th>Name</th><td>&lt;b&gt;</td></tr></table></div>'
    """
    cells = []
    for label, value in rows:
        shown = _MISSING if _is_missing(value) or value == "" else esc(value)
        cells.append(f"<tr><th>{esc(label)}</th><td>{shown}</td></tr>")
    head = f"<strong>{esc(title)}</strong>" if not _is_missing(title) and title != "" else ""
    return f'<div class="eh-popup">{head}<table>{"".join(cells)}</table></div>'
