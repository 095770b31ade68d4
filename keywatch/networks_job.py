"""Recomputing seller networks from the store: after each crawl, and by `keywatch networks`."""

from __future__ import annotations

import db
from db import network_recompute
from networks.rows import compute


def recompute(db_path) -> dict:
    """Find every link and network again and replace the derived tables; returns the recompute's record."""
    store = db.connect(db_path)
    try:
        network_recompute.recompute(store, compute)
        return network_recompute.last_recompute(store) or {}
    finally:
        store.close()
