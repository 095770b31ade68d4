"""Rewrite what the desk derives from the evidence: the listings index and search rows, the desk's counts and the
dashboard's hourly counts, when `verify` says they disagree with it (an edited table, a restored backup of the
wrong file, a bug). The evidence itself is only read.

The index is rewritten a batch of listings at a time, each batch read and written in one short write transaction:
reading inside it means a crawl saving meanwhile cannot be overwritten by what was read before its commit, and
keeping it short means that crawl waits for one batch, not for the whole store. The counts are recounted once at the
end, from the listings' columns, outside the write lock (db/counters.py)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from sqlite_utils import Database

from db import dashboard_counts, desk_counts, listing_index
from db.connection import write_transaction

# Listings per write transaction. On the 1M-listing desk bench store (2026-12-01, load 7): 0.12-0.22 s of CPU,
# 0.23-0.44 s wall, per batch. The recounts at the end (2026-12-02: desk 1.7 s, dashboard 0.3 s of CPU) hold the
# lock only to add their corrections (under 1 ms; 2.0 s when the desk's recount was one write).
BATCH = 2_000


@dataclass(frozen=True)
class ReindexResult:
    listings: int  # listings whose index rows were derived again
    stray_search_rows: int  # search rows of no listing with a page capture, deleted


def reindex(
    store: Database, batch: int = BATCH, progress: Callable[[int, int], None] = lambda done, total: None
) -> ReindexResult:
    pks = [pk for (pk,) in store.conn.execute("SELECT pk FROM listings ORDER BY pk").fetchall()]
    desk = "desk_counts" in store.table_names()  # a store from before the desk's migrations has no counts
    for start in range(0, len(pks), batch):
        with write_transaction(store):
            listing_index.refresh(store, pks[start : start + batch])
            if desk:
                desk_counts.restate(store, pks[start : start + batch])
        progress(min(start + batch, len(pks)), len(pks))
    stray = 0
    if listing_index.has_search(store):
        with write_transaction(store):
            stray = store.conn.execute(
                "DELETE FROM listings_fts WHERE rowid NOT IN "
                "(SELECT pk FROM listings WHERE latest_capture_id IS NOT NULL)"
            ).rowcount
    if desk:
        desk_counts.recount(store)
    if "dashboard_counts" in store.table_names():
        dashboard_counts.rebuild(store)
    return ReindexResult(len(pks), stray)
