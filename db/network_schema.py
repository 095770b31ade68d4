"""The store's tables for seller networks: the migration set `keywatch-networks`.

Links and networks are derived data (docs/networks.md): `keywatch networks` and every crawl recompute them from the
captures and replace the tables `network_links`, `networks` and `network_members` whole (db/network_recompute.py);
nobody edits them. What reviewers decide about them is evidence: `network_decisions` is append-only and each row is
chained (db/network_decisions.py).
"""

from __future__ import annotations

from sqlite_utils import Migrations

from db.schema import protect

# Applied by db.connect (db.connection.MIGRATION_MODULES) after the notices' set.
migrations = Migrations("keywatch-networks")


@migrations()
def m001_links_networks_decisions(store):
    store.execute(
        """CREATE TABLE network_links (
            id TEXT PRIMARY KEY,
            kind TEXT NOT NULL,
            a TEXT NOT NULL,
            b TEXT NOT NULL,
            item TEXT NOT NULL,
            item_hash TEXT NOT NULL,
            weight REAL NOT NULL,
            evidence TEXT NOT NULL,
            first_seller TEXT NOT NULL,
            first_listing TEXT NOT NULL,
            first_capture_id INTEGER NOT NULL,
            first_at TEXT NOT NULL,
            network_id TEXT
        )"""
    )
    store.execute("CREATE INDEX network_links_a ON network_links (a)")
    store.execute("CREATE INDEX network_links_b ON network_links (b)")
    store.execute("CREATE INDEX network_links_network ON network_links (network_id)")
    store.execute(
        """CREATE TABLE networks (
            id TEXT PRIMARY KEY,
            sellers TEXT NOT NULL,
            size INTEGER NOT NULL,
            marketplaces TEXT NOT NULL,
            listings TEXT NOT NULL
        )"""
    )
    store.execute(
        """CREATE TABLE network_members (
            seller TEXT PRIMARY KEY,
            marketplace TEXT NOT NULL,
            seller_name TEXT NOT NULL,
            network_id TEXT NOT NULL REFERENCES networks(id)
        )"""
    )
    # One row per recompute: when, and what it found (what the review desk shows as "as of").
    store.execute(
        """CREATE TABLE network_recomputes (
            id INTEGER PRIMARY KEY,
            at TEXT NOT NULL,
            sellers INTEGER NOT NULL,
            links INTEGER NOT NULL,
            networks INTEGER NOT NULL,
            stock TEXT NOT NULL
        )"""
    )
    store.execute(
        """CREATE TABLE network_decisions (
            id INTEGER PRIMARY KEY,
            action TEXT NOT NULL CHECK (action IN ('confirm', 'reject_link', 'restore_link')),
            network_id TEXT,
            sellers TEXT,
            link_id TEXT,
            link TEXT,
            user TEXT NOT NULL,
            note TEXT,
            created_at TEXT NOT NULL,
            via TEXT
        )"""
    )
    store.execute("CREATE INDEX network_decisions_network ON network_decisions (network_id, id)")
    store.execute("CREATE INDEX network_decisions_link ON network_decisions (link_id, id)")
    protect(store, "network_decisions")


def has_tables(store) -> bool:
    """Whether the store has the network tables: a store opened read-only is not migrated, and one written by a
    keywatch before seller networks has none (it has no networks either)."""
    return store["network_recomputes"].exists()
