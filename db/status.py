"""Listing status (live, ended, removed): an append-only history; the listing's index keeps the latest."""

import json

from sqlite_utils import Database

from db.canonical import normalise_utc
from db.chain import append_chain
from db.connection import joined_transaction

LISTING_STATUSES = ("live", "ended", "removed")


def record_status(
    store: Database,
    listing_pk: int,
    status: str,
    observed_at: str,
    capture_id: int | None = None,
    detail: str | None = None,
) -> int:
    """Append a status observation for a listing and link it into the chain; returns its id."""
    if status not in LISTING_STATUSES:
        raise ValueError(f"status must be one of {', '.join(LISTING_STATUSES)}, not {status!r}")
    observed_at = normalise_utc(observed_at)
    with joined_transaction(store):
        cursor = store.conn.execute(
            "INSERT INTO listing_status (listing_pk, status, observed_at, capture_id, detail) VALUES (?, ?, ?, ?, ?)",
            [listing_pk, status, observed_at, capture_id, detail],
        )
        status_id = cursor.lastrowid
        assert status_id is not None  # sqlite3 sets it after every row inserted
        append_chain(store, "status", status_id)
        # Observations can arrive out of order (re-checks, imports): the index shows the newest one.
        store.conn.execute(
            "UPDATE listings SET status = ?, status_at = ? WHERE pk = ? AND (status_at IS NULL OR status_at <= ?)",
            [status, observed_at, listing_pk, observed_at],
        )
    return status_id


def status_history(store: Database, listing_pks: list[int]) -> dict[int, list[dict]]:
    """Each listing's status observations, oldest first: {pk: [{"status", "observed_at", "capture_id", "detail"}]}."""
    history: dict[int, list[dict]] = {pk: [] for pk in listing_pks}
    if not listing_pks:
        return history
    for row in store.query(
        "SELECT s.listing_pk, s.status, s.observed_at, s.capture_id, s.detail FROM listing_status s "
        "JOIN json_each(?) j ON j.value = s.listing_pk ORDER BY s.observed_at, s.id",
        [json.dumps(sorted(set(listing_pks)))],
    ):
        history[row.pop("listing_pk")].append(row)
    return history
