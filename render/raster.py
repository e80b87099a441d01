"""The density surface drawn as an image for a Leaflet overlay.

:func:`density_image` resamples a density grid (square in British National Grid) onto
the Web Mercator pixels Leaflet draws, so the grid's rotation against the meridians is
drawn rather than ignored, and encodes it as a PNG; see :mod:`render.map` for why.
"""

from __future__ import annotations

import base64
import math
from dataclasses import dataclass
from typing import Protocol

import numpy as np
from branca.utilities import write_png

from geo.crs import BNG, WEB_MERCATOR, WGS84, transformer
from geo.errors import InputError
from render.colours import density_lut

__all__ = ["DensityGrid", "DensityImage", "DensitySurfaceLike", "density_image"]


# --------------------------------------------------------------------------- types


class DensityGrid(Protocol):
    """The grid of a density surface, in British National Grid metres.

    ``x0``, ``y0`` are the south-west (outer) corner of cell ``[0, 0]``; cells are
    ``cell_m`` square; there are ``nx`` columns (west to east) and ``ny`` rows (south
    to north).
    """

    x0: float
    y0: float
    cell_m: float
    nx: int
    ny: int


class DensitySurfaceLike(Protocol):
    """Anything with ``values`` (``[ny, nx]``, row 0 southernmost) and a ``grid``."""

    values: np.ndarray
    grid: DensityGrid


@dataclass(frozen=True)
class DensityImage:
    """A density surface drawn as a PNG for a Leaflet image overlay.

    Attributes
    ----------
    png
        RGBA PNG bytes; row 0 is the northern edge.
    bounds
        ``((south, west), (north, east))`` in degrees: the bounding box of the grid's
        four projected corners.
    width, height
        Size in pixels.
    max_value
        The value drawn in the darkest colour.
    """

    png: bytes
    bounds: tuple[tuple[float, float], tuple[float, float]]
    width: int
    height: int
    max_value: float

    @property
    def data_uri(self) -> str:
        """The PNG as a ``data:image/png;base64,...`` URI."""
        return "data:image/png;base64," + base64.b64encode(self.png).decode("ascii")


# ------------------------------------------------------------------------- image


def density_image(
    surface: DensitySurfaceLike,
    *,
    oversample: int = 2,
    max_pixels: int = 2048,
    min_share: float = 0.02,
) -> DensityImage:
    """Draw a density surface as a PNG placed correctly on a Leaflet (Web Mercator) map.

    The image covers the bounding box of the grid's four corners projected to
    longitude/latitude. Each pixel takes the value of the grid cell under its centre
    (the pixel centre is projected back to British National Grid), so the grid's
    rotation against the meridians is drawn, not ignored; pixels outside the grid are
    transparent.

    Parameters
    ----------
    surface
        ``values`` ``[ny, nx]`` with row 0 the southernmost, and ``grid`` with ``x0``,
        ``y0`` (south-west outer corner, metres), ``cell_m``, ``nx``, ``ny``.
    oversample
        Pixels per cell edge (placement error is at most half a pixel).
    max_pixels
        Largest width or height of the image; the pixel size grows to respect it.
    min_share
        Cells below this share of the maximum are transparent (so kernel tails do not
        wash over the whole borough).

    Returns
    -------
    DensityImage
        PNG bytes, bounds and size.

    Raises
    ------
    InputError
        If ``values`` does not have the grid's shape or the grid is malformed.
    """
    grid = getattr(surface, "grid", None)
    values = getattr(surface, "values", None)
    needed = ("x0", "y0", "cell_m", "nx", "ny")
    if grid is None or values is None or not all(hasattr(grid, a) for a in needed):
        msg = (
            "layers.density: expected an object with .values [ny, nx] and .grid with "
            f"{list(needed)}; got {type(surface).__name__}."
        )
        raise InputError(msg)
    x0, y0, cell_m = float(grid.x0), float(grid.y0), float(grid.cell_m)
    nx, ny = int(grid.nx), int(grid.ny)
    arr = np.asarray(values, dtype=float)
    if arr.shape != (ny, nx) or cell_m <= 0:
        msg = (
            f"layers.density: values have shape {arr.shape} but the grid says (ny, nx) = "
            f"({ny}, {nx}) with cell_m={cell_m}; pass the surface's own grid."
        )
        raise InputError(msg)
    to_ll = transformer(BNG, WGS84)
    corners_e = np.array([x0, x0 + nx * cell_m, x0, x0 + nx * cell_m])
    corners_n = np.array([y0, y0, y0 + ny * cell_m, y0 + ny * cell_m])
    lon, lat = to_ll.transform(corners_e, corners_n)
    west, east, south, north = (
        float(lon.min()),
        float(lon.max()),
        float(lat.min()),
        float(lat.max()),
    )

    to_merc = transformer(WGS84, WEB_MERCATOR)
    mx0, my0 = to_merc.transform(west, south)
    mx1, my1 = to_merc.transform(east, north)
    scale = 1.0 / math.cos(math.radians((south + north) / 2.0))  # Mercator metres per ground metre
    pixel = cell_m * scale / max(int(oversample), 1)
    width, height = math.ceil((mx1 - mx0) / pixel), math.ceil((my1 - my0) / pixel)
    if max(width, height) > max_pixels:
        shrink = max(width, height) / max_pixels
        width, height = max(1, math.ceil(width / shrink)), max(1, math.ceil(height / shrink))
    width, height = max(width, 1), max(height, 1)
    # Leaflet stretches the image linearly between the projected corners.
    px = mx0 + (np.arange(width) + 0.5) * (mx1 - mx0) / width
    py = my1 - (np.arange(height) + 0.5) * (my1 - my0) / height
    gx, gy = np.meshgrid(px, py)
    to_bng = transformer(WEB_MERCATOR, BNG)
    e, n = to_bng.transform(gx, gy)
    col = np.floor((e - x0) / cell_m).astype(int)
    row = np.floor((n - y0) / cell_m).astype(int)
    inside = (col >= 0) & (col < nx) & (row >= 0) & (row < ny)
    sampled = np.full(gx.shape, np.nan)
    sampled[inside] = arr[row[inside], col[inside]]

    finite = np.isfinite(arr)
    vmax = float(arr[finite].max()) if finite.any() else 0.0
    rgba = np.zeros((height, width, 4), dtype=np.uint8)
    if vmax > 0:
        share = np.where(np.isfinite(sampled), sampled / vmax, 0.0)
        share = np.clip(share, 0.0, 1.0)
        shown = share >= max(min_share, 1e-12)
        lut = density_lut()
        idx = np.round(np.sqrt(share) * 255).astype(int)  # sqrt: long tails stay visible
        rgba[..., :3] = lut[idx]
        alpha = np.where(shown, 130 + 110 * np.sqrt(share), 0)
        rgba[..., 3] = alpha.round().astype(np.uint8)
    return DensityImage(
        png=write_png(rgba),
        bounds=((south, west), (north, east)),
        width=width,
        height=height,
        max_value=vmax,
    )
