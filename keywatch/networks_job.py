"""Recomputing seller networks from the store: after each crawl, and by `keywatch networks`."""

from __future__ import annotations

import db
from db import networks as stored
from networks.rows import compute


def recompute(db_path) -> dict:
    """Find every link and network again and replace the derived tables; returns the recompute's record."""
    store = db.connect(db_path)
    try:
        with db.read_snapshot(store):
            pages = list(stored.page_rows(store))
            photos = list(stored.photo_rows(store))
            rejected = stored.rejected_link_ids(store)
        stored.save_computed(store, *compute(pages, photos, rejected))
        return stored.last_recompute(store) or {}
    finally:
        store.close()
