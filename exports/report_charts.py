"""The compliance report's two charts, for the report file and the review desk's /report alike: SVG drawn from
the report's figures, labels as text.

They were drawn with matplotlib (PNG) until 2026-12-01: at a hundred retailers that took four seconds of CPU
whenever the figures changed, left about 46,000 objects in reference cycles for a later request's full garbage
collection to walk (the desk's /report p95 of 176.8 ms at 1M listings), and read `$...$` in a seller's name as
mathematics. These take 3-5 ms of CPU for 200 retailers and leave almost nothing behind.
"""

from __future__ import annotations

import base64
import re
from html import escape

from exports.display import shown

CHART_LABEL_ROOM = 60  # characters of a retailer's label; the table below the chart has the whole name
OUTCOMES = (  # (key, label, colour) in stacking order
    ("removed", "removed", "#2e7d32"),
    ("still_live", "still live", "#c62828"),
    ("down_before_notice", "down before notice", "#9e9e9e"),
    ("not_rechecked", "not re-checked", "#ffb300"),
)
# What XML 1.0 cannot hold even escaped (controls are already shown as [U+XXXX] by exports.display.shown).
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
WIDTH, LABELS, MARGIN = 960, 380, 20  # the drawing's width, the room for retailer labels, the right margin
ROW, TOP = 22, 40  # one retailer's bar height, the room for the title and legend


def _text(value) -> str:
    return escape(_NOT_XML.sub("\ufffd", str(value)), quote=True)


def _data_uri(svg: str) -> str:
    return "data:image/svg+xml;base64," + base64.b64encode(svg.encode()).decode("ascii")


def _svg(height: int, title: str, body: list[str]) -> str:
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {height}" width="{WIDTH}" height="{height}" '
        f'font-family="sans-serif" font-size="12"><title>{_text(title)}</title>'
        f'<rect width="{WIDTH}" height="{height}" fill="#fff"/>'
        f'<text x="{WIDTH / 2}" y="18" text-anchor="middle" font-size="14">{_text(title)}</text>'
        + "".join(body)
        + "</svg>"
    )


def _ticks(peak: float) -> list[int]:
    """Whole-number gridlines: these are counts."""
    step = max(1, round(peak / 5))
    return list(range(0, int(peak) + 1, step))


def outcomes_svg(rows: list[dict]) -> str:
    """Per retailer and marketplace, its notified listings as one bar split by outcome (removed, still live ...)."""
    plot = WIDTH - LABELS - MARGIN
    height = TOP + ROW * len(rows) + 40
    peak = max([1] + [sum(r[key] for key, _, _ in OUTCOMES) for r in rows])
    scale = plot / peak
    body = []
    for i, (_, label, colour) in enumerate(OUTCOMES):
        x = LABELS + i * 140
        body.append(f'<rect x="{x}" y="26" width="10" height="10" fill="{colour}"/>')
        body.append(f'<text x="{x + 14}" y="35" font-size="11">{label}</text>')
    bottom = TOP + ROW * len(rows)
    for tick in _ticks(peak):
        x = LABELS + tick * scale
        body.append(f'<line x1="{x:.1f}" x2="{x:.1f}" y1="{TOP}" y2="{bottom}" stroke="#e0e0e0"/>')
        body.append(f'<text x="{x:.1f}" y="{bottom + 14}" text-anchor="middle" font-size="11">{tick}</text>')
    body.append(f'<text x="{LABELS + plot / 2}" y="{bottom + 32}" text-anchor="middle">notified listings</text>')
    for i, r in enumerate(rows):
        y = TOP + i * ROW
        label = shown(f"{r['retailer']} ({r['marketplace']})", CHART_LABEL_ROOM, "the table below")
        body.append(f'<text x="{LABELS - 6}" y="{y + ROW / 2 + 4}" text-anchor="end">{_text(label)}</text>')
        x = LABELS
        for key, name, colour in OUTCOMES:
            if r[key]:
                w = r[key] * scale
                body.append(
                    f'<rect x="{x:.1f}" y="{y + 3}" width="{w:.1f}" height="{ROW - 6}" fill="{colour}">'
                    f"<title>{_text(label)}: {r[key]} {name}</title></rect>"
                )
                x += w
    return _svg(height, "What happened to notified listings", body)


def histogram(values: list[float], bins: int) -> tuple[list[float], list[int]]:
    """(bin edges, counts): `bins` equal bins from the least value to the greatest, the last one closed (as
    numpy.histogram; one value alone gets a bin a day wide around it)."""
    low, high = min(values), max(values)
    if low == high:
        low, high = low - 0.5, high + 0.5
    width = (high - low) / bins
    counts = [0] * bins
    for value in values:
        counts[min(bins - 1, int((value - low) / width))] += 1
    return [low + i * width for i in range(bins + 1)], counts


def days_svg(days: list[float]) -> str:
    """How many removed listings came down after how many days."""
    edges, counts = histogram(days, min(20, max(5, len(days))))
    left, plot_w, top, plot_h = 50, WIDTH - 50 - MARGIN, 30, 200
    peak = max(counts)
    body = []
    for tick in _ticks(peak):
        y = top + plot_h * (1 - tick / peak)
        body.append(f'<line x1="{left}" x2="{left + plot_w}" y1="{y:.1f}" y2="{y:.1f}" stroke="#e0e0e0"/>')
        body.append(f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end" font-size="11">{tick}</text>')
    bar = plot_w / len(counts)
    for i, n in enumerate(counts):
        h = plot_h * n / peak
        body.append(
            f'<rect x="{left + i * bar:.1f}" y="{top + plot_h - h:.1f}" width="{bar - 1:.1f}" height="{h:.1f}" '
            f'fill="#1565c0"><title>{edges[i]:.1f} to {edges[i + 1]:.1f} days: {n}</title></rect>'
        )
    for i in range(0, len(edges), max(1, len(edges) // 6)):
        x = left + i * bar
        body.append(
            f'<text x="{x:.1f}" y="{top + plot_h + 14}" text-anchor="middle" font-size="11">{edges[i]:.1f}</text>'
        )
    body.append(
        f'<text x="{left + plot_w / 2}" y="{top + plot_h + 34}" text-anchor="middle">days from notice to removal</text>'
    )
    body.append(
        f'<text x="14" y="{top + plot_h / 2}" text-anchor="middle" transform="rotate(-90 14 {top + plot_h / 2})">'
        "listings</text>"
    )
    return _svg(top + plot_h + 44, "Time to removal", body)


def report_charts(data: dict) -> dict[str, str]:
    """{"outcomes": ..., "days": ...} as data: URIs, each only when it has bars."""
    charts = {}
    if data["rows"]:
        charts["outcomes"] = _data_uri(outcomes_svg(data["rows"]))
    days = [x["days_to_removal"] for x in data["listings"] if x["state"] == "removed"]
    if days:
        charts["days"] = _data_uri(days_svg(days))
    return charts
