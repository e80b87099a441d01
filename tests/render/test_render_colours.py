"""Colours and the density PNG made with branca are the ones the hand-written code made.

The expected values were recorded from the hand-written PNG encoder and colour ramps
(``render/raster.py`` ``_png`` and ``_lut``, ``render/legend.py`` ``_YLORRD``) before they
were replaced by :mod:`branca`; the page must draw the same pixels and colours.
"""

from __future__ import annotations

import ast
import hashlib
import types
from pathlib import Path

import numpy as np
import pytest

import render
from render.colours import CHANGE_COLOURS, DENSITY_ANCHORS, class_colours, density_lut
from render.legend import classify
from render.raster import density_image

RENDER_DIR = Path(render.__file__).resolve().parent

# ColorBrewer YlOrRd as render/legend.py spelled it out before branca.
OLD_YLORRD = {
    3: ("#ffeda0", "#feb24c", "#f03b20"),
    4: ("#ffffb2", "#fecc5c", "#fd8d3c", "#e31a1c"),
    5: ("#ffffb2", "#fecc5c", "#fd8d3c", "#f03b20", "#bd0026"),
    6: ("#ffffb2", "#fed976", "#feb24c", "#fd8d3c", "#f03b20", "#bd0026"),
    7: ("#ffffb2", "#fed976", "#feb24c", "#fd8d3c", "#fc4e2a", "#e31a1c", "#b10026"),
    8: ("#ffffcc", "#ffeda0", "#fed976", "#feb24c", "#fd8d3c", "#fc4e2a", "#e31a1c", "#b10026"),
    9: (
        "#ffffcc",
        "#ffeda0",
        "#fed976",
        "#feb24c",
        "#fd8d3c",
        "#fc4e2a",
        "#e31a1c",
        "#bd0026",
        "#800026",
    ),
}


def _grid(values: np.ndarray, x0=445_000.0, y0=115_000.0, cell_m=100.0):
    ny, nx = values.shape
    return types.SimpleNamespace(
        values=values, grid=types.SimpleNamespace(x0=x0, y0=y0, cell_m=cell_m, nx=nx, ny=ny)
    )


@pytest.mark.parametrize("n", range(1, 10))
def test_class_colours_are_the_old_ylorrd(n):
    three = OLD_YLORRD[3]
    old = OLD_YLORRD.get(n) or ((three[2],) if n == 1 else (three[0], three[2]))
    assert class_colours(n) == old
    if n >= 2:
        assert classify(list(range(1, 40)), "quantiles", n).colours == old


def test_density_ramp_is_the_old_lookup_table():
    lut = density_lut()
    assert lut.shape == (256, 3) and lut.dtype == np.uint8
    assert hashlib.sha256(lut.tobytes()).hexdigest() == (
        "b2209545aec2e450ad56e4a83fec34447f667d90e45c8d31c411985f8efaeb3a"
    )
    assert lut[[0, 1, 63, 64, 127, 128, 191, 255]].tolist() == [
        [140, 150, 198],
        [140, 149, 198],
        [140, 108, 177],
        [140, 107, 177],
        [136, 65, 157],
        [136, 65, 157],
        [129, 15, 124],
        [77, 0, 75],
    ]
    # the ends are the ramp's anchors
    assert "#" + bytes(lut[0]).hex() == DENSITY_ANCHORS[0]
    assert "#" + bytes(lut[-1]).hex() == DENSITY_ANCHORS[-1]


def test_density_png_bytes_are_the_old_ones():
    rng = np.random.default_rng(7)
    values = rng.gamma(0.6, 1.0, (23, 31))
    values[3, 4] = np.nan
    image = density_image(_grid(values))
    assert (image.width, image.height) == (63, 47)
    assert hashlib.sha256(image.png).hexdigest() == (
        "04c25540340c0a057e182eb7d13abc8f1189105391c27093202ed6bd62d25007"
    )
    ramp = np.linspace(0, 1, 400).reshape(20, 20)
    image = density_image(_grid(ramp, cell_m=50.0), oversample=3)
    assert (image.width, image.height) == (61, 61)
    assert hashlib.sha256(image.png).hexdigest() == (
        "3fd0017a79f50c600c04717ce4e8dede673f78e4d6984819773ad54c15189d6f"
    )


def test_change_colours_are_defined_once():
    """Only render/colours.py spells out the hotspot-change colours."""
    for path in RENDER_DIR.glob("*.py"):
        if path.name == "colours.py":
            continue
        text = path.read_text(encoding="utf-8")
        tree = ast.parse(text)
        consts = {
            n.value
            for n in ast.walk(tree)
            if isinstance(n, ast.Constant) and isinstance(n.value, str)
        }
        shared = [c for c in CHANGE_COLOURS.values() if c in consts]
        # a single colour may recur in an unrelated palette, the set of them may not
        assert len(shared) <= 1, (path.name, shared)
