"""A network drawn as a small SVG graph, laid out on the server: sellers on a circle, one line per link.

Only numbers are computed here; the template writes the SVG, so every seller name and item goes through Jinja's
escaping like any other text on the page.
"""

from __future__ import annotations

import math

SIZE = 360
RADIUS = 130
KIND_COLOURS = {
    "phone": "#b12704",
    "email": "#8a3ab9",
    "handle": "#0a7f8c",
    "domain": "#5a6b00",
    "description": "#2d5d8a",
    "photo": "#c77700",
    "name": "#777777",
}


def layout(sellers: list[str], links: list[dict]) -> dict:
    """{"size", "nodes": [{"seller", "x", "y", "label_x", "anchor"}], "edges": [{"id", "kind", "x1"...,
    "colour", "rejected", "offset"}]}: several links between one pair are drawn side by side."""
    centre = SIZE / 2
    position = {}
    nodes = []
    for i, seller in enumerate(sellers):
        angle = -math.pi / 2 + 2 * math.pi * i / max(len(sellers), 1)
        x, y = centre + RADIUS * math.cos(angle), centre + RADIUS * math.sin(angle)
        position[seller] = (x, y)
        right = math.cos(angle) >= 0
        nodes.append(
            {
                "seller": seller,
                "x": round(x, 1),
                "y": round(y, 1),
                "label_x": round(x + (10 if right else -10), 1),
                "anchor": "start" if right else "end",
            }
        )
    edges, seen = [], {}
    for link in links:
        if link["a"] not in position or link["b"] not in position:
            continue
        pair = (link["a"], link["b"])
        n = seen[pair] = seen.get(pair, -1) + 1
        (x1, y1), (x2, y2) = position[link["a"]], position[link["b"]]
        length = math.hypot(x2 - x1, y2 - y1) or 1
        # Parallel links are moved apart across the line between the two sellers, 6 px each.
        shift = 6 * ((n + 1) // 2) * (1 if n % 2 else -1)
        dx, dy = -(y2 - y1) / length * shift, (x2 - x1) / length * shift
        edges.append(
            {
                "id": link["id"],
                "kind": link["kind"],
                "x1": round(x1 + dx, 1),
                "y1": round(y1 + dy, 1),
                "x2": round(x2 + dx, 1),
                "y2": round(y2 + dy, 1),
                "colour": KIND_COLOURS.get(link["kind"], "#333333"),
                "rejected": link.get("rejected", False),
            }
        )
    return {"size": SIZE, "nodes": nodes, "edges": edges}
