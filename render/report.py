"""Write a report pack as one self-contained HTML page, a CSV per table, and a PDF.

:func:`write_report` takes a :class:`packs.Pack` and writes:

* ``report.html``: one file that opens offline. Styles are inline; charts are SVG drawn
  here; every map appears twice: as a static SVG drawn here from the polygons (wards,
  borough, hotspots, the review's named places, venues and their reach), which is what
  prints, and, on screen only, as the interactive Leaflet map of :mod:`render.map` in
  an ``<iframe srcdoc>`` (the map page attribute-escaped, sandboxed to scripts only).
  Leaflet maps do not always print, so the print stylesheet hides the iframes. A
  Content-Security-Policy forbids every network request, and the page is checked with
  :func:`render.leaflet_offline.remote_assets` before it is written. Every string from
  data is escaped with :func:`render.html.esc`.
* ``NN_<table>.csv``: each table with data, formula-guarded
  (:func:`geo.writers.safe_csv`), all rows (the page may print only the first ones).
* ``report.pdf``: printed on A4 by headless Chromium when ``/usr/bin/chromium`` (or
  ``chromium`` on the path) exists; otherwise skipped, with a note saying so.
"""

from __future__ import annotations

import math
import re
import shutil
import subprocess
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo.writers import safe_csv
from packs import SECTION_TITLES, Chart, Pack, Table
from render.html import esc
from render.leaflet_offline import remote_assets

__all__ = [
    "MAP_MODES",
    "ReportFiles",
    "bar_chart_svg",
    "find_chromium",
    "print_pdf",
    "render_html",
    "static_map_svg",
    "write_report",
]

MAP_MODES = ("both", "static", "interactive", "none")
"""How maps are drawn: static SVG and interactive Leaflet (``both``), one, or none."""

_CHROMIUM_PATHS = ("/usr/bin/chromium", "/usr/bin/chromium-browser")

_SERIES = ("#3b6ea8", "#e08214", "#7b3294", "#1b7837", "#b2182b", "#666666")

_CHANGE_COLOURS = {
    "new": "#d7191c",
    "persistent": "#7b3294",
    "intensifying": "#e66101",
    "diminishing": "#4393c3",
    "gone": "#7f7f7f",
}

_CSP = (
    "default-src 'none'; script-src 'unsafe-inline' data:; style-src 'unsafe-inline' data:; "
    "img-src data:; font-src data:; frame-src 'self' about: data:; connect-src 'none'"
)

_CSS = """
:root { --ink: #1f2328; --muted: #5b6470; --rule: #d0d7de; --band: #f4f6f8; --accent: #3b6ea8; }
* { box-sizing: border-box; }
body { font: 14px/1.45 "DejaVu Sans", "Segoe UI", Roboto, Arial, sans-serif; color: var(--ink);
  margin: 0 auto; max-width: 1000px; padding: 16px 24px 48px; }
h1 { font-size: 24px; margin: 0 0 4px; }
h2 { font-size: 19px; margin: 28px 0 8px; padding-bottom: 4px; border-bottom: 2px solid var(--accent); }
h3 { font-size: 15px; margin: 18px 0 4px; }
p, ul { margin: 4px 0 8px; }
.meta { color: var(--muted); font-size: 12.5px; }
.pack-notes { background: var(--band); border-left: 4px solid var(--accent); padding: 8px 12px; margin: 10px 0; }
.pack-notes li { margin: 2px 0; }
nav.toc { columns: 2; font-size: 12.5px; margin: 8px 0 12px; }
nav.toc a { color: var(--accent); text-decoration: none; }
.source { display: inline-block; font-size: 11.5px; padding: 1px 7px; border-radius: 9px; margin: 0 0 4px;
  border: 1px solid var(--rule); color: var(--muted); }
.source.published { border-color: #9ebcda; background: #eef4fb; color: #23466e; }
.source.computed { border-color: #a6d4a6; background: #eff8ef; color: #1b5e20; }
.source.unavailable { border-color: #e2b4b4; background: #fbefef; color: #8a1f1f; }
.notes { font-size: 12.5px; color: var(--muted); padding-left: 18px; }
table.data { border-collapse: collapse; width: 100%; font-size: 12.5px; margin: 6px 0 10px; }
table.data th, table.data td { border-bottom: 1px solid var(--rule); padding: 3px 6px; vertical-align: top;
  overflow-wrap: break-word; word-break: normal; hyphens: manual; }
table.data th { text-align: left; background: var(--band); font-weight: 600; }
table.data td.num, table.data th.num { text-align: right; }
table.data td.num { white-space: nowrap; }
table.data td:first-child:not(.num) { min-width: 9em; }
table.data tr.total td { font-weight: 700; border-top: 1.5px solid var(--ink); }
table.data td.withheld { color: var(--muted); font-style: italic; }
.more { font-size: 12px; color: var(--muted); }
figure { margin: 6px 0 12px; }
figure svg { display: block; width: 100%; height: auto; }
figure.map svg { max-height: 760px; }
figcaption { font-size: 11.5px; color: var(--muted); }
.interactive iframe { width: 100%; height: 560px; border: 1px solid var(--rule); }
.interactive summary { cursor: pointer; color: var(--accent); font-size: 13px; }
footer { margin-top: 28px; font-size: 11.5px; color: var(--muted); border-top: 1px solid var(--rule); padding-top: 6px; }
@page { size: A4; margin: 13mm 12mm 15mm 12mm;
  @bottom-right { content: "page " counter(page) " of " counter(pages); font-size: 8pt; color: #5b6470; } }
@media print {
  body { max-width: none; padding: 0; font-size: 9.5pt; }
  h1 { font-size: 17pt; } h2 { font-size: 13pt; margin-top: 0; } h3 { font-size: 11pt; }
  .screen-only, .interactive { display: none !important; }
  section.sec { break-before: page; }
  section.sec.first { break-before: auto; }
  article.tbl { break-inside: avoid-page; }
  article.tbl.long { break-inside: auto; }
  h2, h3, .source { break-after: avoid-page; }
  figure { break-inside: avoid-page; }
  figure.map svg { max-height: 165mm; }
  table.data { font-size: 8.5pt; }
  table.data thead { display: table-header-group; }
  table.data tr { break-inside: avoid-page; }
  nav.toc { display: none; }
  a { color: inherit; text-decoration: none; }
}
"""


@dataclass
class ReportFiles:
    """What :func:`write_report` wrote.

    Attributes
    ----------
    html
        The self-contained HTML page.
    csvs
        One CSV per table with data, in pack order.
    pdf
        The PDF, or None when it was not printed (see ``notes``).
    notes
        What was skipped and why.
    """

    html: Path
    csvs: list[Path] = field(default_factory=list)
    pdf: Path | None = None
    notes: list[str] = field(default_factory=list)


# --------------------------------------------------------------------------- formatting


def _label(col: str) -> str:
    """A column name for people: ``asb_share_pct`` -> ``asb share %``."""
    text = str(col)
    text = re.sub(r"_pct$", " %", text)
    text = text.replace("per_1000", "per 1,000").replace("ci_low", "95% CI low")
    text = text.replace("ci_high", "95% CI high").replace("_", " ")
    return re.sub(r"\basb\b", "ASB", text)


def _is_num(v: object) -> bool:
    return isinstance(v, int | float | np.integer | np.floating) and not isinstance(v, bool)


def _fmt(v: object, decimals: int | None = None) -> str:
    """Format one cell as escaped HTML text.

    Whole numbers get thousands separators; other numbers ``decimals`` places (the
    column's), or up to 2 (4 below 1) when not given; minus signs are true minus signs.
    """
    if v is None or (isinstance(v, float) and math.isnan(v)) or v is pd.NA:
        return "\u2013"
    if isinstance(v, bool | np.bool_):
        return "yes" if v else "no"
    if _is_num(v):
        f = float(v)
        if math.isnan(f):
            return "\u2013"
        if isinstance(v, float | np.floating) and decimals:
            text = f"{f:,.{decimals}f}"
        elif f == int(f) and abs(f) < 1e15:
            text = f"{int(f):,}"
        else:
            digits = 4 if abs(f) < 1 else 2
            text = f"{f:,.{digits}f}".rstrip("0").rstrip(".")
        return text.replace("-", "\u2212")
    return esc(v)


def _decimals(series: pd.Series) -> int:
    """Decimal places a column of floats needs (at most 2, or 4 for p-values)."""
    cap = 4 if "p_value" in str(series.name) else 2
    need = 0
    for v in series:
        if isinstance(v, float | np.floating) and not math.isnan(v) and v != int(v):
            text = f"{float(v):.{cap}f}".rstrip("0")
            need = max(need, len(text.split(".")[1]) if "." in text else 0)
    return need


def _withheld(v: object) -> bool:
    return isinstance(v, str) and (v == "[c]" or re.fullmatch(r"<\d+", v) is not None)


def _numeric_col(series: pd.Series) -> bool:
    vals = [v for v in series if not (v is None or v is pd.NA or v == "" or _withheld(v))]
    vals = [v for v in vals if not (isinstance(v, float) and math.isnan(v))]
    return bool(vals) and all(_is_num(v) for v in vals)


def _table_html(t: Table) -> str:
    frame = t.frame
    rows = frame if t.show_rows is None else frame.head(t.show_rows)
    if t.total_row and t.show_rows is not None and len(frame) > t.show_rows:
        rows = pd.concat([rows, frame.tail(1)])
    numeric = {c: _numeric_col(frame[c]) for c in frame.columns}
    places = {c: _decimals(frame[c]) for c in frame.columns}
    head = "".join(
        f'<th class="{"num" if numeric[c] else ""}" scope="col">{esc(_label(c))}</th>'
        for c in frame.columns
    )
    body = []
    n = len(rows)
    for i, (_, row) in enumerate(rows.iterrows()):
        cls = ' class="total"' if t.total_row and i == n - 1 else ""
        cells = []
        for c in frame.columns:
            v = row[c]
            klass = []
            if numeric[c]:
                klass.append("num")
            if _withheld(v):
                klass.append("withheld")
            attr = f' class="{" ".join(klass)}"' if klass else ""
            cells.append(f"<td{attr}>{_fmt(v, places[c])}</td>")
        body.append(f"<tr{cls}>{''.join(cells)}</tr>")
    more = ""
    if t.show_rows is not None and len(frame) - int(t.total_row) > t.show_rows:
        more = (
            f'<p class="more">The first {t.show_rows} of {len(frame) - int(t.total_row)} '
            "rows are printed; the CSV holds every row.</p>"
        )
    return (
        f'<table class="data"><thead><tr>{head}</tr></thead>'
        f"<tbody>{''.join(body)}</tbody></table>{more}"
    )


# --------------------------------------------------------------------------- charts


_MONTH = re.compile(r"(\d{4})-(0[1-9]|1[0-2])")
_ABBR = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def _shorten(labels: Sequence[object]) -> list[str]:
    """Month labels ``2021-04`` as ``Apr 21`` when every label is a month; else as given.

    (``2019-20`` is a financial year, so a list holding one is left alone.)
    """
    texts = [str(x) for x in labels]
    if texts and all(_MONTH.fullmatch(t) for t in texts):
        return [f"{_ABBR[int(t[5:]) - 1]} {t[2:4]}" for t in texts]
    return texts


def _ticks(v: float) -> tuple[float, int]:
    """A round tick step and how many steps reach ``v`` (3 to 6 gridlines)."""
    if v <= 0:
        return 1.0, 4
    raw = v / 4
    exp = 10 ** math.floor(math.log10(raw))
    step = next(f * exp for f in (1, 2, 2.5, 5, 10) if f * exp >= raw)
    return step, max(1, math.ceil(v / step))


def bar_chart_svg(
    labels: Sequence[object],
    series: dict[str, Sequence[object]],
    *,
    horizontal: bool = False,
    value_label: str = "",
    width: int = 720,
) -> str:
    """Draw a grouped bar chart as inline SVG.

    Parameters
    ----------
    labels
        Category labels (escaped).
    series
        Series name to values, one per label; a value that is not a number (for example a
        withheld ``"<5"``) draws no bar and is written in its place.
    horizontal
        Bars running left to right, categories down the side.
    value_label
        What the values are (escaped).
    width
        Width in SVG units (the chart scales to its container).

    Returns
    -------
    str
        An ``<svg>`` element with a ``<title>``.
    """
    names = list(series)
    shown = _shorten(labels)
    legend_names = _shorten([_label(x) for x in names])
    vals = {
        k: [float(v) if _is_num(v) and not math.isnan(float(v)) else None for v in vs]
        for k, vs in series.items()
    }
    top = max([v for vs in vals.values() for v in vs if v is not None] + [0.0])
    step, n_ticks = _ticks(top)
    vmax = step * n_ticks
    n, k = len(labels), max(len(names), 1)
    legend_h = 22 if k > 1 else 0
    out: list[str] = []
    if horizontal:
        label_w = min(300, 12 + 6.6 * max((len(str(x)) for x in labels), default=4))
        row_h = max(14, 9 * k + 6)
        height = int(legend_h + 24 + n * row_h + 26)
        plot_w = width - label_w - 60
        x0, y0 = label_w, legend_h + 10
        for t in range(n_ticks + 1):
            gx = x0 + plot_w * t / n_ticks
            out.append(
                f'<line x1="{gx:.1f}" y1="{y0}" x2="{gx:.1f}" y2="{y0 + n * row_h}" '
                'stroke="#e1e4e8"/>'
            )
            out.append(
                f'<text x="{gx:.1f}" y="{y0 + n * row_h + 14}" font-size="11" '
                f'text-anchor="middle" fill="#5b6470">{_fmt(step * t)}</text>'
            )
        bar_h = (row_h - 6) / k
        for i in range(n):
            cy = y0 + i * row_h
            out.append(
                f'<text x="{x0 - 6}" y="{cy + row_h / 2 + 4:.1f}" font-size="11.5" '
                f'text-anchor="end">{esc(shown[i])}</text>'
            )
            for j, name in enumerate(names):
                v = vals[name][i]
                by = cy + 3 + j * bar_h
                if v is None:
                    raw = series[name][i]
                    out.append(
                        f'<text x="{x0 + 4}" y="{by + bar_h - 1:.1f}" font-size="10.5" '
                        f'fill="#5b6470">{_fmt(raw)}</text>'
                    )
                    continue
                w = plot_w * v / vmax
                out.append(
                    f'<rect x="{x0}" y="{by:.1f}" width="{w:.1f}" height="{bar_h:.1f}" '
                    f'fill="{_SERIES[j % len(_SERIES)]}"/>'
                )
                out.append(
                    f'<text x="{x0 + w + 4:.1f}" y="{by + bar_h - 1:.1f}" '
                    f'font-size="10.5">{_fmt(v)}</text>'
                )
        axis = (
            f'<text x="{x0 + plot_w / 2:.1f}" y="{height - 2}" font-size="11" '
            f'text-anchor="middle" fill="#5b6470">{esc(value_label)}</text>'
        )
    else:
        height = 250 + legend_h
        x0, y0, plot_h = 54, legend_h + 12, 170
        plot_w = width - x0 - 10
        for t in range(n_ticks + 1):
            gy = y0 + plot_h - plot_h * t / n_ticks
            out.append(
                f'<line x1="{x0}" y1="{gy:.1f}" x2="{x0 + plot_w}" y2="{gy:.1f}" stroke="#e1e4e8"/>'
            )
            out.append(
                f'<text x="{x0 - 6}" y="{gy + 4:.1f}" font-size="11" text-anchor="end" '
                f'fill="#5b6470">{_fmt(step * t)}</text>'
            )
        slot = plot_w / max(n, 1)
        bar_w = slot * 0.8 / k
        rotate = n > 8 or max((len(x) for x in shown), default=0) * 6.5 > slot
        for i in range(n):
            sx = x0 + i * slot + slot * 0.1
            for j, name in enumerate(names):
                v = vals[name][i]
                bx = sx + j * bar_w
                if v is None:
                    out.append(
                        f'<text x="{bx + bar_w / 2:.1f}" y="{y0 + plot_h - 3}" '
                        f'font-size="9.5" text-anchor="middle" fill="#5b6470">'
                        f"{_fmt(series[name][i])}</text>"
                    )
                    continue
                h = plot_h * v / vmax
                out.append(
                    f'<rect x="{bx:.1f}" y="{y0 + plot_h - h:.1f}" width="{bar_w:.1f}" '
                    f'height="{h:.1f}" fill="{_SERIES[j % len(_SERIES)]}"/>'
                )
                if k <= 2 and n <= 14:
                    out.append(
                        f'<text x="{bx + bar_w / 2:.1f}" y="{y0 + plot_h - h - 3:.1f}" '
                        f'font-size="9.5" text-anchor="middle">{_fmt(v)}</text>'
                    )
            cx = x0 + i * slot + slot / 2
            ly = y0 + plot_h + 14
            if rotate:
                out.append(
                    f'<text x="{cx:.1f}" y="{ly}" font-size="10.5" text-anchor="end" '
                    f'transform="rotate(-35 {cx:.1f} {ly})">{esc(shown[i])}</text>'
                )
            else:
                out.append(
                    f'<text x="{cx:.1f}" y="{ly}" font-size="10.5" text-anchor="middle">'
                    f"{esc(shown[i])}</text>"
                )
        axis = (
            f'<text x="12" y="{y0 + plot_h / 2:.1f}" font-size="11" text-anchor="middle" '
            f'fill="#5b6470" transform="rotate(-90 12 {y0 + plot_h / 2:.1f})">'
            f"{esc(value_label)}</text>"
        )
    legend = []
    if k > 1:
        x = 10.0
        for j in range(len(names)):
            legend.append(
                f'<rect x="{x:.0f}" y="5" width="12" height="12" '
                f'fill="{_SERIES[j % len(_SERIES)]}"/>'
            )
            name_text = legend_names[j]
            legend.append(f'<text x="{x + 16:.0f}" y="15" font-size="11.5">{esc(name_text)}</text>')
            x += 30 + 7 * len(name_text)
    return (
        f'<svg viewBox="0 0 {width} {height}" role="img" '
        f'font-family="DejaVu Sans, Arial, sans-serif">'
        f"<title>{esc(value_label)}</title>{''.join(legend)}{''.join(out)}{axis}</svg>"
    )


def _chart_html(t: Table) -> str:
    c: Chart | None = t.chart
    if c is None or t.frame.empty or c.x not in t.frame.columns:
        return ""
    frame = t.frame.iloc[:-1] if t.total_row else t.frame
    if t.show_rows is not None:
        frame = frame.head(t.show_rows)
    ys = [y for y in c.y if y in frame.columns]
    if not ys or frame.empty:
        return ""
    labels = list(frame[c.x])
    # long category names do not fit under vertical bars: lay the bars on their side
    long_names = max((len(x) for x in _shorten(labels)), default=0) > 14
    svg = bar_chart_svg(
        labels,
        {y: list(frame[y]) for y in ys},
        horizontal=c.kind == "hbar" or long_names,
        value_label=c.label,
    )
    return f'<figure class="chart">{svg}</figure>'


# --------------------------------------------------------------------------- maps


@dataclass
class _Base:
    borough: gpd.GeoDataFrame
    wards: gpd.GeoDataFrame
    places: gpd.GeoDataFrame


def _base() -> _Base:
    from geo.boundaries import load_layer  # noqa: PLC0415
    from geo.places import load_gazetteer  # noqa: PLC0415

    places = load_gazetteer()
    places = places[~places["kind"].isin(["station", "airport", "foreshore"])]
    return _Base(load_layer("borough"), load_layer("wards_2018"), places)


def _path(geom: shapely.Geometry, tx) -> str:
    parts = []
    polys = getattr(geom, "geoms", [geom])
    for poly in polys:
        if poly.is_empty or poly.geom_type != "Polygon":
            continue
        for ring in [poly.exterior, *poly.interiors]:
            xy = np.asarray(ring.coords)
            px = tx(xy)
            parts.append("M" + "L".join(f"{a:.1f},{b:.1f}" for a, b in px) + "Z")
    return "".join(parts)


def static_map_svg(
    layers: dict[str, gpd.GeoDataFrame],
    *,
    base: _Base | None = None,
    width: int = 700,
    label_top: int = 10,
    title: str = "",
) -> str:
    """Draw a hotspot map as inline SVG, for print.

    Parameters
    ----------
    layers
        ``hotspots`` (ranked polygons), ``change`` (polygons with ``status``),
        ``reference`` (the review's named places: reach circles with ``review_name``),
        ``venues`` (points with ``name``, ``status``); all in EPSG:27700.
    base
        Borough, wards and place names; the shipped ones by default.
    width
        Width in SVG units (it scales to the page).
    label_top
        Hotspots labelled with their rank (the highest ranks).
    title
        Accessible title (escaped).

    Returns
    -------
    str
        An ``<svg>`` element drawn in British National Grid, north up, with a legend
        and a scale bar.
    """
    base = base or _base()
    minx, miny, maxx, maxy = base.borough.total_bounds
    pad = 400.0
    minx, miny, maxx, maxy = minx - pad, miny - pad, maxx + pad, maxy + pad
    s = width / (maxx - minx)
    height = (maxy - miny) * s

    def tx(xy: np.ndarray) -> np.ndarray:
        return np.column_stack([(xy[:, 0] - minx) * s, (maxy - xy[:, 1]) * s])

    out = [f'<rect width="{width}" height="{height:.0f}" fill="#f6f5f1"/>']
    wards = base.wards.copy()
    wards["geometry"] = wards.geometry.simplify(15)
    for g in wards.geometry:
        out.append(f'<path d="{_path(g, tx)}" fill="#ffffff" stroke="#b8bcc2" stroke-width="0.8"/>')
    for g in base.borough.geometry.simplify(15):
        out.append(f'<path d="{_path(g, tx)}" fill="none" stroke="#30363d" stroke-width="1.8"/>')
    for _, p in base.places.iterrows():
        x, y = tx(np.array([[p.geometry.x, p.geometry.y]]))[0]
        out.append(
            f'<text x="{x:.1f}" y="{y:.1f}" font-size="11" font-style="italic" '
            f'fill="#6e7781" text-anchor="middle" paint-order="stroke" stroke="#ffffff" '
            f'stroke-width="3">{esc(p["name"])}</text>'
        )
    legend: list[tuple[str, str, str]] = []
    venues = layers.get("venues")
    if venues is not None and len(venues):
        for _, v in venues.iterrows():
            x, y = tx(np.array([[v.geometry.x, v.geometry.y]]))[0]
            planned = str(v.get("status", "")).lower() == "planned"
            colour = "#e08214" if planned else "#1b7837"
            out.append(
                f'<circle cx="{x:.1f}" cy="{y:.1f}" r="{800 * s:.1f}" fill="{colour}" '
                f'fill-opacity="0.08" stroke="{colour}" stroke-width="1" '
                'stroke-dasharray="4 3"/>'
            )
            out.append(
                f'<path d="M{x:.1f},{y - 7:.1f}L{x + 6:.1f},{y + 5:.1f}L{x - 6:.1f},'
                f'{y + 5:.1f}Z" fill="{colour}" stroke="#ffffff" stroke-width="1"/>'
            )
        legend.append(("tri", "#1b7837", "Diversion venue (ring: 800 m)"))
        if (venues.get("status", pd.Series(dtype=str)).astype(str).str.lower() == "planned").any():
            legend.append(("tri", "#e08214", "Planned venue"))
    ref = layers.get("reference")
    if ref is not None and len(ref):
        for _, r in ref.iterrows():
            out.append(
                f'<path d="{_path(r.geometry, tx)}" fill="none" stroke="#0969da" '
                'stroke-width="1.6" stroke-dasharray="5 3"/>'
            )
        legend.append(("ring", "#0969da", "The review's named hotspots"))
    change = layers.get("change")
    if change is not None and len(change):
        for status, colour in _CHANGE_COLOURS.items():
            sub = change[change["status"] == status]
            for g in sub.geometry:
                out.append(
                    f'<path d="{_path(g, tx)}" fill="{colour}" fill-opacity="0.55" '
                    f'stroke="{colour}" stroke-width="1.4"/>'
                )
            if len(sub):
                legend.append(("box", colour, f"{status} ({len(sub)})"))
    hot = layers.get("hotspots")
    marks = []
    if hot is not None and len(hot):
        for g in hot.geometry:
            out.append(
                f'<path d="{_path(g, tx)}" fill="#d7301f" fill-opacity="0.6" '
                'stroke="#a50f15" stroke-width="1"/>'
            )
        legend.append(("box", "#d7301f", f"Hotspot ({len(hot)})"))
        ranked = hot.sort_values("rank").head(label_top) if "rank" in hot.columns else hot.head(0)
        for _, h in ranked.iterrows():
            pt = h.geometry.representative_point()
            x, y = tx(np.array([[pt.x, pt.y]]))[0]
            marks.append(
                f'<circle cx="{x:.1f}" cy="{y:.1f}" r="8.5" fill="#ffffff" '
                'stroke="#a50f15" stroke-width="1.5"/>'
                f'<text x="{x:.1f}" y="{y + 3.8:.1f}" font-size="10.5" font-weight="700" '
                f'text-anchor="middle" fill="#a50f15">{int(h["rank"])}</text>'
            )
        if marks:
            legend.append(("num", "#a50f15", "Rank (as in the table)"))
    out += marks
    # scale bar and north arrow
    bar_m = 2000.0
    bx, by = 16.0, height - 18
    out.append(
        f'<rect x="{bx}" y="{by - 5}" width="{bar_m * s:.1f}" height="5" fill="#30363d"/>'
        f'<rect x="{bx + bar_m * s / 2:.1f}" y="{by - 5}" width="{bar_m * s / 2:.1f}" '
        'height="5" fill="#ffffff" stroke="#30363d" stroke-width="0.8"/>'
        f'<text x="{bx}" y="{by + 10}" font-size="10.5">0</text>'
        f'<text x="{bx + bar_m * s:.1f}" y="{by + 10}" font-size="10.5" '
        'text-anchor="middle">2 km</text>'
    )
    nx, ny = width - 24.0, 40.0
    out.append(
        f'<path d="M{nx},{ny - 24}L{nx + 7},{ny - 4}L{nx},{ny - 9}L{nx - 7},{ny - 4}Z" '
        f'fill="#30363d"/><text x="{nx}" y="{ny + 9}" font-size="12" font-weight="700" '
        'text-anchor="middle">N</text>'
    )
    if legend:
        lh = 18
        lw = 16 + max(7.0 * len(t) for _, _, t in legend) + 24
        lx, ly = 10.0, 10.0
        out.append(
            f'<rect x="{lx}" y="{ly}" width="{lw:.0f}" height="{lh * len(legend) + 10}" '
            'fill="#ffffff" fill-opacity="0.92" stroke="#d0d7de"/>'
        )
        for i, (kind, colour, text) in enumerate(legend):
            yy = ly + 8 + i * lh
            if kind == "box":
                sym = (
                    f'<rect x="{lx + 8}" y="{yy + 1}" width="14" height="11" fill="{colour}" '
                    f'fill-opacity="0.6" stroke="{colour}"/>'
                )
            elif kind == "ring":
                sym = (
                    f'<circle cx="{lx + 15}" cy="{yy + 6.5}" r="6" fill="none" '
                    f'stroke="{colour}" stroke-width="1.6" stroke-dasharray="3 2"/>'
                )
            elif kind == "tri":
                sym = (
                    f'<path d="M{lx + 15},{yy}L{lx + 21},{yy + 12}L{lx + 9},{yy + 12}Z" '
                    f'fill="{colour}"/>'
                )
            else:
                sym = (
                    f'<circle cx="{lx + 15}" cy="{yy + 6.5}" r="6.5" fill="#ffffff" '
                    f'stroke="{colour}" stroke-width="1.5"/><text x="{lx + 15}" y="{yy + 10}" '
                    f'font-size="9" font-weight="700" text-anchor="middle" fill="{colour}">1'
                    "</text>"
                )
            out.append(
                sym + f'<text x="{lx + 28}" y="{yy + 10.5}" font-size="11.5">{esc(text)}</text>'
            )
    return (
        f'<svg viewBox="0 0 {width} {height:.0f}" role="img" '
        f'font-family="DejaVu Sans, Arial, sans-serif"><title>{esc(title)}</title>'
        f"{''.join(out)}</svg>"
    )


def _interactive_html(layers: dict[str, gpd.GeoDataFrame], base: _Base) -> str:
    from render.map import MapLayers, build_map  # noqa: PLC0415

    labels = base.places[["name", "geometry"]].copy()
    ml = MapLayers(
        borough=base.borough,
        outlines=base.wards[["code", "name", "geometry"]],
        hotspots=layers.get("hotspots"),
        change=layers.get("change"),
        venues=layers.get("venues"),
        labels=labels,
    )
    if ml.venues is not None:
        ml.venue_rings_m = (800.0,)
    page = build_map(ml, height="100%").get_root().render()
    found = remote_assets(page)
    if found:
        msg = f"the interactive map would load remote assets: {found[:5]}"
        raise RuntimeError(msg)
    return page


def _map_html(t: Table, maps: str, base: _Base | None) -> str:
    if not t.layers or maps == "none" or base is None:
        return ""
    parts = []
    if maps in ("both", "static"):
        svg = static_map_svg(t.layers, base=base, title=t.title)
        parts.append(
            f'<figure class="map">{svg}<figcaption>Map: {esc(t.title)}. 2018 ward '
            "boundaries; British National Grid, north up.</figcaption></figure>"
        )
    if maps in ("both", "interactive"):
        page = _interactive_html(t.layers, base)
        open_attr = " open" if maps == "interactive" else ""
        parts.append(
            f'<details class="interactive screen-only"{open_attr}><summary>Interactive map '
            "(zoom, click a hotspot for its details; on screen only)</summary>"
            f'<iframe sandbox="allow-scripts" title="{esc(t.title)}" loading="lazy" '
            f'srcdoc="{esc(page)}"></iframe></details>'
        )
    return "".join(parts)


# --------------------------------------------------------------------------- page


def _source_class(note: str) -> str:
    if note.startswith("published"):
        return "published"
    if note.startswith("not in police.uk"):
        return "unavailable"
    return "computed"


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "section"


def render_html(pack: Pack, *, maps: str = "both") -> str:
    """Build the report page.

    Parameters
    ----------
    pack
        The pack (:func:`packs.review_pack` or :func:`packs.tasking_pack`).
    maps
        One of :data:`MAP_MODES`.

    Returns
    -------
    str
        A complete HTML document that loads nothing from the network.

    Raises
    ------
    ValueError
        For an unknown ``maps`` mode.
    RuntimeError
        If the page would load any remote asset (a defect; never written).
    """
    if maps not in MAP_MODES:
        msg = f"maps must be one of {MAP_MODES}, got {maps!r}."
        raise ValueError(msg)
    base = _base() if maps != "none" and any(t.layers for t in pack) else None
    sections = []
    toc = []
    for k, sec in enumerate(pack.sections):
        name = SECTION_TITLES.get(sec, sec.title() if sec else "Tables")
        sid = f"sec-{_slug(name)}"
        toc.append(f'<li><a href="#{sid}">{esc(name)}</a></li>')
        arts = []
        for t in (t for t in pack if t.section == sec):
            cls = _source_class(t.source_note)
            notes = "".join(f"<li>{esc(n)}</li>" for n in t.notes)
            long_ = " long" if len(t.frame) > 28 or t.layers else ""
            if not t.available:
                body = f'<ul class="notes">{notes}</ul>'
            else:
                table = _table_html(t) if len(t.frame) else '<p class="more">No rows.</p>'
                body = (
                    (f'<ul class="notes">{notes}</ul>' if notes else "")
                    + _chart_html(t)
                    + table
                    + _map_html(t, maps, base)
                )
            arts.append(
                f'<article class="tbl{long_}" id="t-{esc(t.key)}"><h3>{esc(t.title)}</h3>'
                f'<p class="source {cls}">{esc(t.source_note[:1].upper() + t.source_note[1:])}'
                f"</p>{body}</article>"
            )
        first = " first" if k == 0 else ""
        sections.append(
            f'<section class="sec{first}" id="{sid}"><h2>{esc(name)}</h2>{"".join(arts)}</section>'
        )
    when = datetime.now(UTC).strftime("%d %B %Y %H:%M UTC")
    period = (
        pack.period[0]
        if pack.period[0] == pack.period[1]
        else f"{pack.period[0]} to {pack.period[1]}"
    )
    notes = "".join(f"<li>{esc(n)}</li>" for n in pack.notes)
    page = (
        "<!DOCTYPE html>\n"
        '<html lang="en-GB"><head><meta charset="utf-8">'
        f'<meta http-equiv="Content-Security-Policy" content="{esc(_CSP)}">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{esc(pack.title)}</title><style>{_CSS}</style></head><body>"
        f"<header><h1>{esc(pack.title)}</h1>"
        f'<p class="meta">Eastleigh Community Safety Partnership &middot; period {esc(period)}'
        f" &middot; produced {esc(when)} by the hotspot mapping service</p>"
        + (f'<ul class="pack-notes">{notes}</ul>' if notes else "")
        + f'<nav class="toc screen-only"><ul>{"".join(toc)}</ul></nav></header>'
        + "".join(sections)
        + "<footer>Crime and ASB data: police.uk street-level data, Open Government Licence "
        "v3.0; boundaries: ONS, contains OS data &copy; Crown copyright and database right; "
        "published tables: Eastleigh CSP Strategic Review 2021/22. Tables marked 'computed' "
        "are counted by this service; 'published' are the review's own numbers.</footer>"
        "</body></html>\n"
    )
    found = remote_assets(page)
    if found:
        msg = f"the report page would load remote assets: {found[:5]}"
        raise RuntimeError(msg)
    return page


# --------------------------------------------------------------------------- pdf


def find_chromium() -> str | None:
    """The Chromium executable, or None when it is not installed."""
    for p in _CHROMIUM_PATHS:
        if Path(p).exists():
            return p
    return shutil.which("chromium")


def print_pdf(
    html_path: Path,
    pdf_path: Path,
    *,
    chromium: str | None = None,
    budget_ms: int = 8000,
    timeout_s: float = 180.0,
) -> Path:
    """Print an HTML file to an A4 PDF with headless Chromium.

    Parameters
    ----------
    html_path
        The page (opened as a ``file://`` URL).
    pdf_path
        Where to write the PDF.
    chromium
        The browser executable; :func:`find_chromium` by default.
    budget_ms
        Virtual time given to the page before printing (lets maps and scripts settle).
    timeout_s
        Wall-clock limit.

    Returns
    -------
    pathlib.Path
        ``pdf_path``.

    Raises
    ------
    RuntimeError
        If Chromium is missing or fails, or writes no PDF.
    """
    exe = chromium or find_chromium()
    if exe is None:
        msg = "Chromium is not installed (/usr/bin/chromium); the PDF was not printed."
        raise RuntimeError(msg)
    pdf_path = Path(pdf_path).resolve()
    pdf_path.unlink(missing_ok=True)
    with tempfile.TemporaryDirectory(prefix="eh-chromium-") as profile:
        cmd = [
            exe,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--disable-extensions",
            "--disable-default-apps",
            "--mute-audio",
            f"--user-data-dir={profile}",
            f"--virtual-time-budget={int(budget_ms)}",
            f"--print-to-pdf={pdf_path}",
            "--no-pdf-header-footer",
            Path(html_path).resolve().as_uri(),
        ]
        try:
            proc = subprocess.run(
                cmd, capture_output=True, text=True, timeout=timeout_s, check=False
            )
        except subprocess.TimeoutExpired as exc:
            msg = f"Chromium did not finish printing {html_path} within {timeout_s:.0f} s."
            raise RuntimeError(msg) from exc
    if not pdf_path.exists() or pdf_path.stat().st_size == 0:
        tail = (proc.stderr or "").strip().splitlines()[-3:]
        msg = f"Chromium wrote no PDF (exit {proc.returncode}): {' | '.join(tail)}"
        raise RuntimeError(msg)
    return pdf_path


# --------------------------------------------------------------------------- files


def write_report(
    pack: Pack,
    out_dir: str | Path,
    *,
    maps: str = "both",
    pdf: bool | None = None,
    chromium: str | None = None,
) -> ReportFiles:
    """Write a pack as ``report.html``, one CSV per table, and ``report.pdf``.

    Parameters
    ----------
    pack
        The pack to write.
    out_dir
        Folder to write into (created if missing).
    maps
        One of :data:`MAP_MODES`: ``both`` (default) puts a static SVG map (printed)
        and an interactive Leaflet map (screen only) with every table that has a map.
    pdf
        True: print the PDF (error if Chromium is missing); False: do not; None
        (default): print it when Chromium is installed, else skip with a note.
    chromium
        Browser executable for the PDF; :func:`find_chromium` by default.

    Returns
    -------
    ReportFiles

    Raises
    ------
    RuntimeError
        If ``pdf=True`` and the PDF cannot be printed.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    files = ReportFiles(html=out / "report.html")
    for i, t in enumerate(pack, start=1):
        if not t.available or t.frame.empty:
            continue
        path = safe_csv(t.frame, out / f"{i:02d}_{t.key}.csv")
        path.chmod(0o644)
        files.csvs.append(path)
    page = render_html(pack, maps=maps)
    tmp = out / ".report.html.tmp"
    tmp.write_text(page, encoding="utf-8")
    tmp.replace(files.html)
    exe = chromium or find_chromium()
    if pdf is False:
        files.notes.append("PDF not asked for.")
    elif exe is None:
        if pdf:
            msg = "Chromium is not installed (/usr/bin/chromium); cannot print the PDF."
            raise RuntimeError(msg)
        files.notes.append("PDF skipped: Chromium is not installed (/usr/bin/chromium).")
    else:
        files.pdf = print_pdf(files.html, out / "report.pdf", chromium=exe)
    return files
