"""The dashboard's weekly trend chart, drawn server-side as inline SVG (no chart library, no script)."""

from __future__ import annotations

import datetime
from html import escape

from markupsafe import Markup

COLOURS = {"new hits": "#b45309", "confirmed": "#1d4ed8", "removed": "#15803d"}


def week_labels(start: datetime.datetime, weeks: int) -> list[datetime.date]:
    """The first day of each week from `start` (a Monday): the chart's x axis."""
    return [(start + datetime.timedelta(weeks=i)).date() for i in range(weeks)]


def trend_svg(series: dict, width: int = 960, height: int = 260) -> Markup:
    """Grouped bars per week, one colour per series, with axis labels and an accessible title."""
    weeks = series["weeks"]
    names = [k for k in series if k != "weeks"]
    peak = max([1] + [n for name in names for n in series[name]])
    left, bottom, top, right = 36, 28, 12, 8
    plot_w, plot_h = width - left - right, height - top - bottom
    group = plot_w / max(len(weeks), 1)
    bar = max((group - 6) / max(len(names), 1), 1)
    parts = [
        # Scales with its panel: the viewBox fixes the drawing's proportions, width="100%" fills the panel and
        # the height follows (no height attribute), so the chart is never a fixed-size island in a wide panel.
        f'<svg class="chart" viewBox="0 0 {width} {height}" width="100%" preserveAspectRatio="xMidYMid meet" '
        f'role="img" aria-labelledby="trend-title" '
        f'xmlns="http://www.w3.org/2000/svg"><title id="trend-title">Weekly new hits, confirmations and removals, '
        f"last {len(weeks)} weeks</title>"
    ]
    for tick in sorted({0, peak // 2, peak}):  # whole numbers only: these are counts
        y = top + plot_h * (1 - tick / peak)
        parts.append(f'<line x1="{left}" x2="{width - right}" y1="{y:.1f}" y2="{y:.1f}" stroke="#d1d5db"/>')
        parts.append(
            f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end" font-size="11" fill="#4b5563">{tick}</text>'
        )
    for i, week in enumerate(weeks):
        x0 = left + i * group + 3
        for j, name in enumerate(names):
            value = series[name][i]
            h = plot_h * value / peak
            parts.append(
                f'<rect x="{x0 + j * bar:.1f}" y="{top + plot_h - h:.1f}" width="{bar - 1:.1f}" height="{h:.1f}" '
                f'fill="{COLOURS.get(name, "#6b7280")}"><title>{escape(name)}, week of {week}: {value}</title></rect>'
            )
        if i % 2 == 0 or len(weeks) <= 8:
            parts.append(
                f'<text x="{x0 + group / 2 - 3:.1f}" y="{height - 10}" text-anchor="middle" font-size="11" '
                f'fill="#4b5563">{week.strftime("%d %b")}</text>'
            )
    parts.append("</svg>")
    return Markup("".join(parts))
