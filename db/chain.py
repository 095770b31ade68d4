"""The hash chain over every evidence record.

Each chain row links one record: content_hash = sha256(canonical JSON of the record envelope) and
hash = sha256(prev_hash + content_hash), with prev_hash of the first row = 64 zeros. The envelope is
{"record_type", "record_id", "created_at" (of the chain row), "row": {column: value} for the record's
non-null columns}. Null columns are left out so that a column added by a later migration does not change
the hash of older rows. A capture's body is represented by its SHA-256 column, so purging a body under a
tombstone leaves the chain intact.
"""

import functools
from dataclasses import dataclass

from db.canonical import GENESIS, canonical_json, link_hash, sha256_hex, utc_now
from db.connection import joined_transaction


@dataclass(frozen=True)
class RecordType:
    table: str
    pk: str = "id"
    columns: tuple[str, ...] | None = None  # None: every column of the row


# record_type -> where its rows live. A listing's record covers only its identity (the rest is a mutable index).
RECORD_TYPES = {
    "listing": RecordType("listings", pk="pk", columns=("pk", "marketplace", "listing_id")),
    "capture": RecordType("captures"),
    "classification": RecordType("classifications"),
    "status": RecordType("listing_status"),
    "decision": RecordType("decisions"),
    "tombstone": RecordType("tombstones"),
    "notice": RecordType("notices"),
    "marketplace_host": RecordType("marketplace_hosts"),
    "network_decision": RecordType("network_decisions"),  # db/network_decisions.py
}


def record_row(store, record_type: str, record_id: int) -> dict | None:
    """The record's hashed columns as stored, or None if the row does not exist."""
    # The connection's own cursor: sqlite-utils' query() wraps each read in a savepoint.
    # fetchall: a statement left unfinished would hold a read snapshot open on a connection outside a transaction.
    cursor = store.conn.execute(_select_record(record_type), [record_id])
    rows = cursor.fetchall()
    return dict(zip([d[0] for d in cursor.description], rows[0])) if rows else None


@functools.cache
def _select_record(record_type: str) -> str:
    spec = RECORD_TYPES[record_type]
    columns = ", ".join(f"[{c}]" for c in spec.columns) if spec.columns else "*"
    return f"SELECT {columns} FROM [{spec.table}] WHERE [{spec.pk}] = ?"


def content_hash(record_type: str, record_id: int, created_at: str, row: dict) -> str:
    envelope = {
        "record_type": record_type,
        "record_id": record_id,
        "created_at": created_at,
        "row": {k: v for k, v in row.items() if v is not None},
    }
    return sha256_hex(canonical_json(envelope))


def chain_head(store) -> str:
    """The hash of the last chain record (64 zeros for an empty chain): write it down as an external anchor."""
    rows = store.conn.execute("SELECT hash FROM chain ORDER BY seq DESC LIMIT 1").fetchall()
    return rows[0][0] if rows else GENESIS


def chain_length(store) -> int:
    return next(store.query("SELECT count(*) AS n FROM chain"))["n"]


def append_chain(store, record_type: str, record_id: int, content: dict | None = None) -> str:
    """Link an already-inserted evidence record into the chain and return the new head.

    The hash is always computed from the row as stored (what `verify` will read back); `content`, if
    given, must agree with it, which catches a caller hashing something other than what it saved.
    Runs inside the caller's write transaction, or opens one.
    """
    if record_type not in RECORD_TYPES:
        raise ValueError(f"unknown evidence record type {record_type!r} (add it to db.chain.RECORD_TYPES)")
    with joined_transaction(store):
        row = record_row(store, record_type, record_id)
        if row is None:
            raise ValueError(f"{record_type} {record_id} does not exist")
        if content is not None:
            given = {k: v for k, v in content.items() if v is not None}
            stored = {k: v for k, v in row.items() if v is not None and k in given}
            if canonical_json(given) != canonical_json(stored):
                raise ValueError(f"{record_type} {record_id}: content given differs from the stored row")
        return append_links(store, [(record_type, record_id, utc_now(), row)])


_INSERT_LINK = (
    "INSERT INTO chain (record_type, record_id, content_hash, prev_hash, hash, created_at) VALUES (?, ?, ?, ?, ?, ?)"
)


def append_links(store, links) -> str:
    """Link a run of already-inserted records, in order, in the caller's write transaction; returns the new head.

    `links` are (record type, record id, created_at, row): `row` is the record's hashed columns exactly as stored
    (db/stored_values.py), or None to read it back. The head is read once, and the links written in one statement.
    """
    prev = chain_head(store)
    rows = []
    for record_type, record_id, created_at, row in links:
        if row is None:
            row = record_row(store, record_type, record_id)
            if row is None:
                raise ValueError(f"{record_type} {record_id} does not exist")
        digest = content_hash(record_type, record_id, created_at, row)
        new_hash = link_hash(prev, digest)
        rows.append((record_type, record_id, digest, prev, new_hash, created_at))
        prev = new_hash
    store.conn.executemany(_INSERT_LINK, rows)
    return prev
