"""Verify anchors: where the last full `verify` found the chain sound, so that `verify --since-anchor` checks only
what was added after it.

An anchor is the chain position and head hash a passing full verify saw (`keywatch verify --record-anchor`).
It is not evidence and not in the chain: it only says where the incremental check may start. It is checked
against the chain each time it is used (the chain row at its position must still carry its head hash), so a
chain rewritten before the anchor, or an anchor edited to a hash the chain never had, fails the check; an anchor
moved to another real position of the chain cannot be told from inside the store, which is why a full verify
(and a head written down elsewhere, `--anchor`) stays the final word (docs/evidence.md).
"""

from sqlite_utils import Migrations

from db.canonical import utc_now
from db.connection import write_transaction

migrations = Migrations("keywatch.anchors")


@migrations()
def anchors_v1(store):
    store.execute(
        """
        CREATE TABLE verify_anchors (
            id INTEGER PRIMARY KEY,
            seq INTEGER NOT NULL,       -- the last chain record the full verify checked
            head TEXT NOT NULL,         -- its hash
            records INTEGER NOT NULL,   -- chain records checked
            bodies INTEGER NOT NULL,    -- bodies re-hashed
            verified_at TEXT NOT NULL
        )
        """
    )


def record_anchor(store, seq: int, head: str, records: int, bodies: int) -> int:
    """Write down what a passing full verify saw; returns the anchor's id."""
    with write_transaction(store):
        found = next(store.query("SELECT hash FROM chain WHERE seq = ?", [seq]), None)
        if seq and (found is None or found["hash"] != head):
            raise ValueError(f"chain position {seq} no longer has head {head}: verify again")
        return store.execute(
            "INSERT INTO verify_anchors (seq, head, records, bodies, verified_at) VALUES (?, ?, ?, ?, ?)",
            [seq, head, records, bodies, utc_now()],
        ).lastrowid


def latest_anchor(store) -> dict | None:
    """The newest anchor, or None (none recorded yet, or a store from before anchors existed)."""
    if next(store.query("SELECT 1 AS found FROM sqlite_master WHERE name = 'verify_anchors'"), None) is None:
        return None
    return next(store.query("SELECT * FROM verify_anchors ORDER BY id DESC LIMIT 1"), None)
