"""A listing page capture with what a rendering and the photo downloads add, as the pipelines attach them."""

import io

from PIL import Image, ImageDraw

from tests.support.items import make_item


def png(color=(200, 40, 40), size=(64, 48), mark=None) -> bytes:
    """A small PNG: a coloured block on white (`mark`: a dot somewhere, for a near-duplicate of the same picture)."""
    image = Image.new("RGB", size, (255, 255, 255))
    draw = ImageDraw.Draw(image)
    draw.rectangle((8, 8, size[0] - 8, size[1] - 8), fill=color)
    if mark:
        draw.point(mark, fill=(0, 0, 0))
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


def rendered_item(listing_id="1001", *, photo=None, screenshot=None, host="127.0.0.1:8000", **overrides):
    """make_item(...) with a rendering (the document response, a stylesheet, a screenshot, the DOM) and a photo."""
    page = f"http://{host}/item/{listing_id}"
    made = {"request_url": page, "url": page, "status": 200, "headers": {}}
    attachments = [
        {
            "kind": "resource",
            "request_url": page,
            "url": page,
            "status": 200,
            "headers": {"Content-Type": ["text/html"]},
            "body": f"<html><link rel=stylesheet href=/s.css><h1>Relay box {listing_id}</h1></html>".encode(),
            "fetched_at": "2026-11-28T10:00:01.000000Z",
            "fields": {"method": "GET", "resource_type": "document"},
        },
        {
            "kind": "resource",
            "request_url": "http://cdn.example/s.css",
            "url": "http://cdn.example/s.css",
            "status": 200,
            "headers": {"Content-Type": ["text/css"]},
            "body": b"h1 { color: red }",
            "fetched_at": "2026-11-28T10:00:01.100000Z",
            "fields": {"method": "GET", "resource_type": "stylesheet"},
        },
        {
            "kind": "screenshot",
            **made,
            "body": screenshot or png((30, 30, 200), (128, 300)),
            "fetched_at": "2026-11-28T10:00:02.000000Z",
            "fields": {"browser": "chromium 1", "content_type": "image/png"},
        },
        {
            "kind": "dom",
            **made,
            "body": f"<html><h1>Relay box {listing_id}</h1><p>£249.87</p></html>".encode(),
            "fetched_at": "2026-11-28T10:00:02.100000Z",
            "fields": {"browser": "chromium 1", "content_type": "text/html; charset=utf-8"},
        },
        {
            "kind": "photo",
            "request_url": f"http://img.example/{listing_id}.png",
            "url": f"http://img.example/{listing_id}.png",
            "status": 200,
            "headers": {"Content-Type": ["image/png"]},
            "body": photo or png(),
            "fetched_at": "2026-11-28T10:00:00.500000Z",
            "fields": {"phash": "ffff000000000000", "dhash": "0000ffff00000000", "width": 64, "height": 48},
        },
    ]
    return make_item(listing_id, attachments=attachments, **overrides)
