"""Recomputing seller networks from the store: after each crawl, and by `keywatch networks`."""

from __future__ import annotations

import db
from db import network_decisions, network_recompute
from networks.rows import compute


def recompute(db_path) -> dict:
    """Find every link and network again and replace the derived tables; returns the recompute's record."""
    store = db.connect(db_path)
    try:
        with db.read_snapshot(store):
            pages = list(network_recompute.page_rows(store))
            photos = list(network_recompute.photo_rows(store))
            rejected = network_decisions.rejected_link_ids(store)
        network_recompute.save_computed(store, *compute(pages, photos, rejected))
        return network_recompute.last_recompute(store) or {}
    finally:
        store.close()
