"""Bar charts drawn as inline SVG for the report (print needs no script).

:func:`bar_chart_svg` draws grouped bars, upright or on their side; :func:`table_chart_svg`
draws a table's :class:`packs.Chart`. Every string from data is escaped here with
:func:`render.html.esc`, so the SVG is returned as :class:`markupsafe.Markup`, ready for
the report's autoescaping templates.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence

from markupsafe import Markup

from packs import Chart, Table
from render.cells import column_label, format_cell, is_number
from render.html import esc

__all__ = ["SERIES_COLOURS", "bar_chart_svg", "shorten_labels", "table_chart_svg"]

SERIES_COLOURS = ("#3b6ea8", "#e08214", "#7b3294", "#1b7837", "#b2182b", "#666666")
"""Fill of each bar series, in order (repeating after six)."""

_MONTH = re.compile(r"(\d{4})-(0[1-9]|1[0-2])")
_ABBR = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def shorten_labels(labels: Sequence[object]) -> list[str]:
    """Write month labels ``2021-04`` as ``Apr 21`` when every label is a month.

    Parameters
    ----------
    labels
        Category labels.

    Returns
    -------
    list of str
        The labels shortened, or as given when any is not a month (``2019-20`` is a
        financial year, so a list holding one is left alone).

    Examples
    --------
    >>> shorten_labels(["2021-04", "2021-05"]), shorten_labels(["2019-20"])
    (['Apr 21', 'May 21'], ['2019-20'])
    """
    texts = [str(x) for x in labels]
    if texts and all(_MONTH.fullmatch(t) for t in texts):
        return [f"{_ABBR[int(t[5:]) - 1]} {t[2:4]}" for t in texts]
    return texts


def _text(v: object) -> str:
    """A cell as escaped SVG text."""
    return esc(format_cell(v))


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
) -> Markup:
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
    markupsafe.Markup
        An ``<svg>`` element with a ``<title>``; every string in it was escaped.
    """
    names = list(series)
    shown = shorten_labels(labels)
    legend_names = shorten_labels([column_label(x) for x in names])
    vals = {
        k: [float(v) if is_number(v) and not math.isnan(float(v)) else None for v in vs]
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
                f'text-anchor="middle" fill="#5b6470">{_text(step * t)}</text>'
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
                        f'fill="#5b6470">{_text(raw)}</text>'
                    )
                    continue
                w = plot_w * v / vmax
                out.append(
                    f'<rect x="{x0}" y="{by:.1f}" width="{w:.1f}" height="{bar_h:.1f}" '
                    f'fill="{SERIES_COLOURS[j % len(SERIES_COLOURS)]}"/>'
                )
                out.append(
                    f'<text x="{x0 + w + 4:.1f}" y="{by + bar_h - 1:.1f}" '
                    f'font-size="10.5">{_text(v)}</text>'
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
                f'fill="#5b6470">{_text(step * t)}</text>'
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
                        f"{_text(series[name][i])}</text>"
                    )
                    continue
                h = plot_h * v / vmax
                out.append(
                    f'<rect x="{bx:.1f}" y="{y0 + plot_h - h:.1f}" width="{bar_w:.1f}" '
                    f'height="{h:.1f}" fill="{SERIES_COLOURS[j % len(SERIES_COLOURS)]}"/>'
                )
                if k <= 2 and n <= 14:
                    out.append(
                        f'<text x="{bx + bar_w / 2:.1f}" y="{y0 + plot_h - h - 3:.1f}" '
                        f'font-size="9.5" text-anchor="middle">{_text(v)}</text>'
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
                f'fill="{SERIES_COLOURS[j % len(SERIES_COLOURS)]}"/>'
            )
            name_text = legend_names[j]
            legend.append(f'<text x="{x + 16:.0f}" y="15" font-size="11.5">{esc(name_text)}</text>')
            x += 30 + 7 * len(name_text)
    return Markup(  # noqa: S704 - every string from data was escaped above
        f'<svg viewBox="0 0 {width} {height}" role="img" '
        f'font-family="DejaVu Sans, Arial, sans-serif">'
        f"<title>{esc(value_label)}</title>{''.join(legend)}{''.join(out)}{axis}</svg>"
    )


def table_chart_svg(t: Table) -> Markup | None:
    """Draw a table's chart (:attr:`packs.Table.chart`) from its printed rows.

    The total row is left out; long category names lay the bars on their side.

    Parameters
    ----------
    t
        The table.

    Returns
    -------
    markupsafe.Markup or None
        The chart's ``<svg>``, or None when the table has no chart or nothing to draw.
    """
    c: Chart | None = t.chart
    if c is None or t.frame.empty or c.x not in t.frame.columns:
        return None
    frame = t.frame.iloc[:-1] if t.total_row else t.frame
    if t.show_rows is not None:
        frame = frame.head(t.show_rows)
    ys = [y for y in c.y if y in frame.columns]
    if not ys or frame.empty:
        return None
    labels = list(frame[c.x])
    # long category names do not fit under vertical bars: lay the bars on their side
    long_names = max((len(x) for x in shorten_labels(labels)), default=0) > 14
    return bar_chart_svg(
        labels,
        {y: list(frame[y]) for y in ys},
        horizontal=c.kind == "hbar" or long_names,
        value_label=c.label,
    )
