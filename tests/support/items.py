"""Sample ListingItem dicts, as the store pipeline passes them to db.save_capture."""

CLASSIFIED = {
    "flagged": True,
    "category": "relay_attack",
    "risk": "high",
    "score": 91.5,
    "matches": [
        {
            "term": "relay box",
            "category": "relay_attack",
            "field": "title",
            "start": 0,
            "end": 9,
            "text": "Relay box",
            "score": 100.0,
            "excluded_by": None,
        }
    ],
    "watchlist_version": "wl-test-1",
}


def make_item(
    listing_id="1001",
    *,
    body=None,
    fetched_at="2026-11-28T10:00:00.123456Z",
    marketplace="demo_market",
    classification=CLASSIFIED,
    **overrides,
):
    """A ListingItem-shaped dict as the store pipeline passes it to db.save_capture."""
    url = f"http://127.0.0.1:8000/item/{listing_id}"
    item = {
        "marketplace": marketplace,
        "listing_id": listing_id,
        "url": url,
        "title": "Relay box keyless repeater",
        "description": "Long range 2-way relay. £249.87, UK stock",
        "price": "249.87",
        "currency": "GBP",
        "seller": "keyshop_uk",
        "condition": "new",
        "extra": {"images": ["a.jpg"], "specifics": {"Brand": "Unbranded"}},
        "request_url": url + "?ref=search",
        "response_url": url,
        "status": 200,
        "headers": {"Content-Type": ["text/html; charset=utf-8"], "Set-Cookie": ["a=1", "b=2"]},
        "body": body if body is not None else f"<html><body><h1>Relay box {listing_id}</h1></body></html>".encode(),
        "fetched_at": fetched_at,
        "purpose": "candidate",
        "screen_score": 88.0,
        "classification": dict(classification) if classification else None,
    }
    item.update(overrides)
    return item
