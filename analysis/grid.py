"""A regular grid of square cells in British National Grid metres.

Every raster in the service (density surfaces, hotspot masks) lives on a
:class:`Grid`. Arrays on a grid are shaped ``[ny, nx]`` and **row 0 is the
southernmost row** (``values[iy, ix]`` is the cell whose lower-left corner is
``(x0 + ix * cell_m, y0 + iy * cell_m)``), so that ``y`` grows with the row
index exactly as it does on the map. Images, whose first row is the top, need
the array flipped (``values[::-1]``); :attr:`Grid.transform` describes that
flipped, north-up image.
"""

from __future__ import annotations

import math
import threading
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

import geopandas as gpd
import numpy as np
import shapely
from shapely.geometry import MultiPolygon, Polygon
from shapely.geometry.base import BaseGeometry

from geo.crs import BNG
from geo.errors import InputError

__all__ = ["Grid", "area_geometry"]


def area_geometry(area: Any, what: str = "study_area") -> BaseGeometry:
    """Turn a study area into one polygonal shapely geometry in BNG metres.

    Parameters
    ----------
    area
        A shapely (multi)polygon in BNG metres, or a GeoDataFrame/GeoSeries in
        EPSG:27700 whose geometries are unioned (e.g. the 14 wards of the borough).
    what
        Name used in error messages.

    Returns
    -------
    shapely.geometry.base.BaseGeometry
        The valid, polygonal union (slivers that ``make_valid`` turns into lines
        or points are dropped, as they cover no area).

    Raises
    ------
    InputError
        If the frame is not in EPSG:27700, or the area has no polygonal part.
    """
    if isinstance(area, gpd.GeoDataFrame | gpd.GeoSeries):
        if area.crs is None or not area.crs.equals(BNG):
            msg = (
                f"{what} must be in British National Grid (EPSG:27700), got {area.crs}; "
                "call geo.crs.to_bng() first."
            )
            raise InputError(msg)
        geoms = np.asarray(area.geometry.values if hasattr(area, "geometry") else area.values)
    elif isinstance(area, Polygon | MultiPolygon) and not area.is_empty and area.is_valid:
        return area  # already one valid polygonal geometry: nothing to mend or union
    elif isinstance(area, BaseGeometry):
        geoms = np.asarray([area])
    else:
        msg = (
            f"{what} must be a shapely polygon in BNG metres or a GeoDataFrame/GeoSeries in "
            f"EPSG:27700, got {type(area).__name__}."
        )
        raise InputError(msg)
    geoms = geoms[~shapely.is_missing(geoms) & ~shapely.is_empty(geoms)]
    valid = shapely.make_valid(geoms)
    parts = shapely.get_parts(valid)
    # make_valid can return GeometryCollections: dig one level deeper.
    parts = shapely.get_parts(parts)
    polys = parts[np.isin(shapely.get_type_id(parts), (3, 6))]  # Polygon, MultiPolygon
    if len(polys) == 0:
        msg = f"{what} has no polygon with an area; pass the boundary polygons of the study area."
        raise InputError(msg)
    return shapely.union_all(polys)


_MASK_BLOCK = 16
"""Side, in cells, of the blocks :meth:`Grid.mask_from` settles at once where it can."""

_MASKS: OrderedDict[tuple[Grid, int], tuple[BaseGeometry, np.ndarray]] = OrderedDict()
"""The last few masks of a grid and a shapely outline (held, so its id is not reused):
one view asks for the same study area's mask three times (bandwidth, surface, coverage)."""
_MASKS_KEPT = 4
_MASKS_LOCK = threading.Lock()


@dataclass(frozen=True)
class Grid:
    """A regular grid of square cells.

    Parameters
    ----------
    x0, y0 : float
        Lower-left corner of the lower-left cell, metres (BNG easting, northing).
    cell_m : float
        Side of a cell, metres.
    nx, ny : int
        Number of columns (west to east) and rows (south to north).
    crs : str
        Coordinate reference system of ``x0``/``y0``; always BNG in this service.

    Notes
    -----
    Arrays on the grid are ``[ny, nx]`` with row 0 the southernmost row and
    column 0 the westernmost. Cell ``(iy, ix)`` spans
    ``[x0 + ix*cell_m, x0 + (ix+1)*cell_m) x [y0 + iy*cell_m, y0 + (iy+1)*cell_m)``.
    """

    x0: float
    y0: float
    cell_m: float
    nx: int
    ny: int
    crs: str = BNG

    def __post_init__(self) -> None:
        if not (math.isfinite(self.cell_m) and self.cell_m > 0):
            msg = f"Grid cell_m must be a positive number of metres, got {self.cell_m!r}."
            raise InputError(msg)
        if int(self.nx) < 1 or int(self.ny) < 1:
            msg = f"Grid must have at least one cell, got nx={self.nx}, ny={self.ny}."
            raise InputError(msg)
        if not (math.isfinite(self.x0) and math.isfinite(self.y0)):
            msg = f"Grid origin must be finite, got x0={self.x0!r}, y0={self.y0!r}."
            raise InputError(msg)

    @classmethod
    def covering(cls, bounds: Any, cell_m: float, pad_m: float = 0.0) -> Grid:
        """Smallest grid, aligned to multiples of ``cell_m``, that covers ``bounds``.

        Parameters
        ----------
        bounds
            ``(minx, miny, maxx, maxy)`` in metres, or anything with ``total_bounds``
            (GeoDataFrame/GeoSeries) or ``bounds`` (shapely geometry).
        cell_m
            Side of a cell, metres.
        pad_m
            Extra margin added on every side before snapping, metres.

        Returns
        -------
        Grid
            A grid whose cell edges fall on multiples of ``cell_m`` (so two grids
            with the same ``cell_m`` share cell edges and can be compared cell by cell).

        Raises
        ------
        InputError
            If the bounds are not finite or ``cell_m``/``pad_m`` are invalid.
        """
        if hasattr(bounds, "total_bounds"):
            bounds = bounds.total_bounds
        elif isinstance(bounds, BaseGeometry):
            bounds = bounds.bounds
        try:
            minx, miny, maxx, maxy = (float(v) for v in bounds)
        except (TypeError, ValueError) as exc:
            msg = f"bounds must be (minx, miny, maxx, maxy) in metres, got {bounds!r}."
            raise InputError(msg) from exc
        if (
            not all(math.isfinite(v) for v in (minx, miny, maxx, maxy))
            or maxx < minx
            or maxy < miny
        ):
            msg = f"bounds must be finite with min <= max, got {(minx, miny, maxx, maxy)}."
            raise InputError(msg)
        if not (math.isfinite(cell_m) and cell_m > 0):
            msg = f"cell_m must be a positive number of metres, got {cell_m!r}."
            raise InputError(msg)
        if not (math.isfinite(pad_m) and pad_m >= 0):
            msg = f"pad_m must be a non-negative number of metres, got {pad_m!r}."
            raise InputError(msg)
        x0 = math.floor((minx - pad_m) / cell_m) * cell_m
        y0 = math.floor((miny - pad_m) / cell_m) * cell_m
        nx = max(1, math.ceil((maxx + pad_m - x0) / cell_m))
        ny = max(1, math.ceil((maxy + pad_m - y0) / cell_m))
        # A maximum lying exactly on an edge belongs to the next cell ([a, b) cells).
        if x0 + nx * cell_m <= maxx + pad_m:
            nx += 1
        if y0 + ny * cell_m <= maxy + pad_m:
            ny += 1
        return cls(float(x0), float(y0), float(cell_m), int(nx), int(ny))

    @property
    def shape(self) -> tuple[int, int]:
        """Array shape ``(ny, nx)``."""
        return (self.ny, self.nx)

    @property
    def cell_area_m2(self) -> float:
        """Area of one cell, square metres."""
        return self.cell_m * self.cell_m

    @property
    def cell_km2(self) -> float:
        """Area of one cell, square kilometres."""
        return self.cell_area_m2 / 1e6

    @property
    def bounds(self) -> tuple[float, float, float, float]:
        """Outer edges ``(minx, miny, maxx, maxy)`` of the grid, metres."""
        return (
            self.x0,
            self.y0,
            self.x0 + self.nx * self.cell_m,
            self.y0 + self.ny * self.cell_m,
        )

    @property
    def transform(self) -> tuple[float, float, float, float, float, float]:
        """Affine transform ``(a, b, c, d, e, f)`` of the north-up image ``values[::-1]``.

        In the order used by rasterio/``affine``: pixel ``(col, row)`` of the flipped
        array has its upper-left corner at ``x = c + a*col``, ``y = f + e*row`` with
        ``a = cell_m``, ``e = -cell_m``, ``c = x0`` and ``f = maxy``. (GDAL's
        geotransform is ``(c, a, b, f, d, e)``.) For an image overlay on a web map
        use :attr:`bounds` converted to longitude/latitude.
        """
        return (self.cell_m, 0.0, self.x0, 0.0, -self.cell_m, self.bounds[3])

    def centres(self) -> tuple[np.ndarray, np.ndarray]:
        """Coordinates of the cell centres.

        Returns
        -------
        xs, ys : numpy.ndarray
            Two float arrays shaped ``[ny, nx]`` (row 0 south).
        """
        xs = self.x0 + (np.arange(self.nx) + 0.5) * self.cell_m
        ys = self.y0 + (np.arange(self.ny) + 0.5) * self.cell_m
        return np.meshgrid(xs, ys)

    def cell_index(self, x: Any, y: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Cell column and row holding each point.

        Parameters
        ----------
        x, y
            Coordinates in metres (scalars or arrays of the same shape).

        Returns
        -------
        ix, iy : numpy.ndarray of int
            Column and row of each point's cell. Outside the grid they are out of
            range (possibly negative): use them only where ``inside`` is True.
        inside : numpy.ndarray of bool
            True where the point lies on the grid (NaN coordinates are outside).
            A point on a shared edge belongs to the cell to its east/north.
        """
        x = np.asarray(x, dtype=float)
        y = np.asarray(y, dtype=float)
        fx = np.floor((x - self.x0) / self.cell_m)
        fy = np.floor((y - self.y0) / self.cell_m)
        inside = (fx >= 0) & (fx < self.nx) & (fy >= 0) & (fy < self.ny)
        ix = np.where(np.isfinite(fx), fx, -1).astype(np.int64)
        iy = np.where(np.isfinite(fy), fy, -1).astype(np.int64)
        return ix, iy, inside

    def cell_index_in(
        self, x: Any, y: Any, mask: np.ndarray | None
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """As :meth:`cell_index`, with ``inside`` True only in cells where ``mask`` is True.

        Parameters
        ----------
        x, y
            Coordinates in metres.
        mask
            ``[ny, nx]`` booleans (e.g. the study area's cells), or None for every cell.

        Returns
        -------
        ix, iy, inside : numpy.ndarray
        """
        ix, iy, inside = self.cell_index(x, y)
        if mask is not None:
            inside[inside] = mask[iy[inside], ix[inside]]
        return ix, iy, inside

    def cell_polygons(self, mask: np.ndarray | None = None) -> gpd.GeoDataFrame:
        """Square polygons of the cells.

        Parameters
        ----------
        mask
            Optional bool array ``[ny, nx]``; only cells where it is True are returned.

        Returns
        -------
        geopandas.GeoDataFrame
            Columns ``ix``, ``iy``, ``geometry`` in the grid's CRS, one row per cell,
            ordered by row (south first) then column (west first).
        """
        if mask is None:
            iy, ix = np.divmod(np.arange(self.nx * self.ny), self.nx)
        else:
            mask = np.asarray(mask, dtype=bool)
            if mask.shape != self.shape:
                msg = f"mask has shape {mask.shape}, the grid is {self.shape} (ny, nx)."
                raise InputError(msg)
            iy, ix = np.nonzero(mask)
        return gpd.GeoDataFrame(
            {"ix": ix.astype(np.int64), "iy": iy.astype(np.int64)},
            geometry=self.cell_boxes(ix, iy),
            crs=self.crs,
        )

    def cell_boxes(self, ix: np.ndarray, iy: np.ndarray) -> np.ndarray:
        """Square polygons of cells ``(ix, iy)``.

        Parameters
        ----------
        ix, iy
            Column and row of each cell.

        Returns
        -------
        numpy.ndarray of shapely.Polygon
            Neighbouring cells share their edge coordinates exactly, so unions of
            cells have no slivers.
        """
        ix = np.asarray(ix, dtype=np.int64)
        iy = np.asarray(iy, dtype=np.int64)
        ex = self.x0 + np.arange(self.nx + 1) * self.cell_m
        ey = self.y0 + np.arange(self.ny + 1) * self.cell_m
        return shapely.box(ex[ix], ey[iy], ex[ix + 1], ey[iy + 1])

    def mask_from(self, polygon: Any) -> np.ndarray:
        """Cells whose centre lies inside ``polygon``.

        Parameters
        ----------
        polygon
            Shapely (multi)polygon in BNG metres, or a GeoDataFrame/GeoSeries in
            EPSG:27700 (unioned), see :func:`area_geometry`.

        Returns
        -------
        numpy.ndarray of bool
            ``[ny, nx]``; a centre exactly on the boundary counts as outside.
        """
        key = (self, id(polygon))
        with _MASKS_LOCK:
            held = _MASKS.get(key)
            if held is not None and held[0] is polygon:
                _MASKS.move_to_end(key)
                return held[1].copy()
        mask = self._mask_of(area_geometry(polygon))
        if isinstance(polygon, BaseGeometry):
            with _MASKS_LOCK:
                _MASKS[key] = (polygon, mask.copy())
                while len(_MASKS) > _MASKS_KEPT:
                    _MASKS.popitem(last=False)
        return mask

    def _mask_of(self, geom: BaseGeometry) -> np.ndarray:
        shapely.prepare(geom)
        # Blocks of cells wholly inside or wholly outside are settled at once; only the
        # centres of blocks the boundary crosses are tested one by one (Cornwall: 1.4
        # million cells, most of them far from its coast).
        b = _MASK_BLOCK
        nbx, nby = -(-self.nx // b), -(-self.ny // b)
        bx = self.x0 + np.arange(nbx + 1) * b * self.cell_m
        by = self.y0 + np.arange(nby + 1) * b * self.cell_m
        gx, gy = np.meshgrid(np.arange(nbx), np.arange(nby))
        blocks = shapely.box(bx[gx], by[gy], bx[gx + 1], by[gy + 1])
        inside = shapely.contains(geom, blocks)
        crossed = shapely.intersects(geom, blocks) & ~inside

        def cells_of(flags: np.ndarray) -> np.ndarray:
            return np.repeat(np.repeat(flags, b, axis=0), b, axis=1)[: self.ny, : self.nx]

        mask = cells_of(inside)
        iy, ix = np.nonzero(cells_of(crossed))
        mask[iy, ix] = shapely.contains_xy(
            geom, self.x0 + (ix + 0.5) * self.cell_m, self.y0 + (iy + 0.5) * self.cell_m
        )
        return mask

    def padded(self, n_cells: int) -> Grid:
        """The same grid grown by ``n_cells`` cells on every side."""
        n = int(n_cells)
        return Grid(
            self.x0 - n * self.cell_m,
            self.y0 - n * self.cell_m,
            self.cell_m,
            self.nx + 2 * n,
            self.ny + 2 * n,
            self.crs,
        )
