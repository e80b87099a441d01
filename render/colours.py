"""The colours the maps and the report share, defined once.

Hotspot change (:data:`CHANGE_COLOURS`) is drawn alike on the interactive map
(:mod:`render.layers`), its legend and the report's static map (:mod:`render.static_map`).
"""

from __future__ import annotations

__all__ = ["CHANGE_COLOURS", "CHANGE_STATUSES"]

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
