"""The chart of rows per period on both sides, as inline SVG text (no script, no fetched resource).

Each period is a pair of bars (source, lake); a period whose counts differ gets a red band, a
marker above the plot and its label in red, so a difference of 3 rows in 400 is still seen.
Every bar group carries a `<title>`, which browsers show as a tooltip and screen readers read.
"""

from __future__ import annotations

import math
from html import escape

from lakeshift.report.model import PeriodCount

SOURCE_FILL = "#1f4e79"
LAKE_FILL = "#6cb4e4"
MISMATCH_FILL = "#c0392b"
BAND_FILL = "#fbe3e0"
GRID_STROKE = "#d9dee5"
TEXT_FILL = "#44505c"
MARGIN_LEFT, MARGIN_RIGHT, MARGIN_TOP, MARGIN_BOTTOM = 64, 12, 30, 30
MAX_X_LABELS = 16


def nice_ticks(maximum: int, count: int = 4) -> list[int]:
    """Round tick values from 0 to at least `maximum`, about `count` steps.

    >>> nice_ticks(447)
    [0, 100, 200, 300, 400, 500]
    """
    if maximum <= 0:
        return [0, 1]
    raw = maximum / count
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 5, 10) if m * magnitude >= raw)
    step = max(int(step), 1)
    top = math.ceil(maximum / step) * step
    return list(range(0, top + 1, step))


def _label(period: str | None) -> str:
    return "(no date)" if period is None else period


def _count(value: int | None) -> str:
    return "unknown" if value is None else f"{value:,}"


def _text(x: float, y: float, text: str, anchor: str = "middle", fill: str = TEXT_FILL) -> str:
    return (
        f'<text x="{x:.1f}" y="{y:.1f}" text-anchor="{anchor}" fill="{fill}">{escape(text)}</text>'
    )


def _axis(ticks: list[int], width: int, y_of: dict[int, float]) -> list[str]:
    parts = []
    for tick in ticks:
        y = y_of[tick]
        parts.append(
            f'<line x1="{MARGIN_LEFT}" x2="{width - MARGIN_RIGHT}" y1="{y:.1f}" y2="{y:.1f}" '
            f'stroke="{GRID_STROKE}" stroke-width="1"/>'
        )
        parts.append(_text(MARGIN_LEFT - 6, y + 4, f"{tick:,}", anchor="end"))
    return parts


def period_chart(periods: list[PeriodCount], width: int = 960, height: int = 230) -> str:
    """Grouped bars of source and lake rows per period, mismatching periods marked."""
    if not periods:
        return ""
    plot_width = width - MARGIN_LEFT - MARGIN_RIGHT
    bottom = height - MARGIN_BOTTOM
    plot_height = bottom - MARGIN_TOP
    highest = max((v for p in periods for v in (p.source, p.target) if v is not None), default=0)
    ticks = nice_ticks(highest)
    scale = plot_height / ticks[-1]
    y_of = {tick: bottom - tick * scale for tick in ticks}
    group = plot_width / len(periods)
    bar = max(group * 0.38, 0.6)
    every = max(1, math.ceil(len(periods) / MAX_X_LABELS))
    different = [p for p in periods if p.mismatch]
    summary = f"Rows per period, source and lake: {len(periods)} periods" + (
        f", counts differ in {', '.join(_label(p.period) for p in different)}" if different else ""
    )
    parts = [
        f'<svg class="chart" viewBox="0 0 {width} {height}" width="100%" '
        f'preserveAspectRatio="xMidYMid meet" role="img" font-size="11" '
        f'font-family="system-ui, sans-serif"><title>{escape(summary)}</title>',
        *_axis(ticks, width, y_of),
    ]
    for index, point in enumerate(periods):
        left = MARGIN_LEFT + index * group
        middle = left + group / 2
        tip = f"{_label(point.period)}: source {_count(point.source)}, lake {_count(point.target)}"
        if point.mismatch:
            tip += " (counts differ)"
        parts.append(f'<g class="period"><title>{escape(tip)}</title>')
        if point.mismatch:
            parts.append(
                f'<rect x="{left:.1f}" y="{MARGIN_TOP}" width="{group:.1f}" '
                f'height="{plot_height}" fill="{BAND_FILL}"/>'
            )
        for offset, value, fill in (
            (-bar, point.source, SOURCE_FILL),
            (0.0, point.target, LAKE_FILL),
        ):
            if value is not None and value > 0:
                top = bottom - value * scale
                parts.append(
                    f'<rect x="{middle + offset:.1f}" y="{top:.1f}" width="{bar:.1f}" '
                    f'height="{bottom - top:.1f}" fill="{fill}"/>'
                )
        if point.mismatch:
            marker = MARGIN_TOP - 4
            parts.append(
                f'<path d="M{middle - 5:.1f},{marker - 8} L{middle + 5:.1f},{marker - 8} '
                f'L{middle:.1f},{marker} Z" fill="{MISMATCH_FILL}"/>'
            )
            parts.append(_text(middle, marker - 12, _label(point.period), fill=MISMATCH_FILL))
        parts.append("</g>")
        if index % every == 0:
            parts.append(_text(middle, bottom + 16, _label(point.period)))
    parts.append(
        f'<line x1="{MARGIN_LEFT}" x2="{width - MARGIN_RIGHT}" y1="{bottom}" y2="{bottom}" '
        f'stroke="{TEXT_FILL}" stroke-width="1"/></svg>'
    )
    return "".join(parts)
