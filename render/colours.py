"""The colours the maps and the report share, defined once, with branca's colour maps.

* Hotspot change (:data:`CHANGE_COLOURS`) is drawn alike on the interactive map
  (:mod:`render.layers`), its legend and the report's static map
  (:mod:`render.static_map`).
* Emerging hot spot classes (:data:`EMERGING_COLOURS`, after ArcGIS Pro's Emerging Hot
  Spot palette: hot patterns in reds, oranges and pinks, cold ones in the matching
  blues) are drawn alike on the interactive map, its legend and the report's static map.
* Choropleth classes are ColorBrewer YlOrRd from :func:`branca.utilities.color_brewer`
  (:func:`class_colours`).
* The density surface is drawn on :data:`DENSITY_ANCHORS`, interpolated by
  :class:`branca.colormap.LinearColormap` (:func:`density_lut`); its legend shows the
  same anchors as a CSS gradient.
"""

from __future__ import annotations

import numpy as np
from branca.colormap import LinearColormap
from branca.utilities import color_brewer

__all__ = [
    "CHANGE_COLOURS",
    "CHANGE_STATUSES",
    "DENSITY_ANCHORS",
    "EMERGING_COLOURS",
    "NO_DATA_COLOUR",
    "class_colours",
    "density_lut",
]

CHANGE_STATUSES = ("new", "persistent", "intensifying", "diminishing", "gone")
"""The statuses a hotspot can have between two periods, in legend order."""

CHANGE_COLOURS = {
    "new": "#d7191c",
    "persistent": "#7b3294",
    "intensifying": "#e66101",
    "diminishing": "#4393c3",
    "gone": "#7f7f7f",
}
"""Colour of each change status (ColorBrewer-derived, distinguishable in print)."""

EMERGING_COLOURS = {
    "new hot spot": "#67000d",
    "consecutive hot spot": "#e7298a",
    "intensifying hot spot": "#d7000f",
    "persistent hot spot": "#f4675b",
    "diminishing hot spot": "#fcc5c0",
    "sporadic hot spot": "#fd8d3c",
    "oscillating hot spot": "#7a0177",
    "historical hot spot": "#8c2d04",
    "new cold spot": "#061a40",
    "consecutive cold spot": "#1fa2b4",
    "intensifying cold spot": "#2a5cff",
    "persistent cold spot": "#74a9cf",
    "diminishing cold spot": "#d6e8f8",
    "sporadic cold spot": "#99d8a8",
    "oscillating cold spot": "#6a51a3",
    "historical cold spot": "#5b6b7a",
}
"""Fill of each emerging hot spot class (:data:`analysis.emerging.EMERGING_CLASSES`, hot first).

After ArcGIS Pro's Emerging Hot Spot palette, in solid fills: new is the darkest red,
intensifying a strong red, persistent a lighter red, diminishing a pale pink, sporadic
orange, oscillating purple-red, historical brown-red and consecutive a rose; the cold
classes take the matching blues (sporadic a blue-green, oscillating a blue-purple,
historical a slate). Drawn at 0.6 opacity, any two hot (or two cold) classes differ by a
CIE76 colour difference of at least 15 on the map's background. "no pattern detected"
has no colour: it is not drawn.
"""

DENSITY_ANCHORS = ("#8c96c6", "#8c6bb1", "#88419d", "#810f7c", "#4d004b")
"""Density ramp, low to high (ColorBrewer BuPu-like, so it does not clash with YlOrRd)."""

NO_DATA_COLOUR = "#d9d9d9"
"""Fill of an area with no value (grey, outside the YlOrRd ramp)."""


def class_colours(n: int) -> tuple[str, ...]:
    """Fill colours of ``n`` choropleth classes, light to dark (ColorBrewer YlOrRd).

    ColorBrewer's sequential ramps start at three classes; one class takes the dark end
    of the three-class ramp and two classes its light and dark ends.

    Parameters
    ----------
    n
        Number of classes, 1 to 9.

    Returns
    -------
    tuple of str
        ``n`` hex colours.

    Examples
    --------
    >>> class_colours(2)
    ('#ffeda0', '#f03b20')
    """
    if n >= 3:
        return tuple(color_brewer("YlOrRd", n))
    three = color_brewer("YlOrRd", 3)
    return (three[2],) if n == 1 else (three[0], three[2])


def density_lut(n: int = 256) -> np.ndarray:
    """Sample the density ramp at ``n`` evenly spaced shares of the maximum.

    Parameters
    ----------
    n
        Number of entries (share ``i / (n - 1)`` for entry ``i``).

    Returns
    -------
    numpy.ndarray
        ``[n, 3]`` uint8 RGB: the :class:`branca.colormap.LinearColormap` of
        :data:`DENSITY_ANCHORS` (its float colours rounded to the nearest byte, as
        ``rgb_bytes_tuple`` would truncate them).
    """
    ramp = LinearColormap(list(DENSITY_ANCHORS), vmin=0.0, vmax=1.0)
    floats = np.array([ramp.rgba_floats_tuple(float(x))[:3] for x in np.linspace(0.0, 1.0, n)])
    return (floats * 255).round().astype(np.uint8)
