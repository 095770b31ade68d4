"""Listing status (live, ended, removed): an append-only history; the listing's index keeps the latest."""

from db.canonical import normalise_utc
from db.chain import append_chain
from db.connection import write_transaction

STATUSES = ("live", "ended", "removed")


def record_status(
    store, listing_pk: int, status: str, observed_at: str, capture_id: int | None = None, detail: str | None = None
) -> int:
    """Append a status observation for a listing and link it into the chain; returns its id."""
    if status not in STATUSES:
        raise ValueError(f"status must be one of {', '.join(STATUSES)}, not {status!r}")
    observed_at = normalise_utc(observed_at)
    with write_transaction(store):
        cursor = store.conn.execute(
            "INSERT INTO listing_status (listing_pk, status, observed_at, capture_id, detail) VALUES (?, ?, ?, ?, ?)",
            [listing_pk, status, observed_at, capture_id, detail],
        )
        status_id = cursor.lastrowid
        append_chain(store, "status", status_id)
        # Observations can arrive out of order (re-checks, imports): the index shows the newest one.
        store.conn.execute(
            "UPDATE listings SET status = ?, status_at = ? WHERE pk = ? AND (status_at IS NULL OR status_at <= ?)",
            [status, observed_at, listing_pk, observed_at],
        )
    return status_id
