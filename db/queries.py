"""Reading the store: hits, one listing and its history, captures to re-classify, stored bodies."""

import json

from sqlite_utils import Database

from db.captures import decompress_body
from db.connection import read_snapshot

# flag_dropped: still flagged, but the newest capture no longer matches; latest_seller: beside the seller of record.
HIT_COLUMNS = (
    "marketplace",
    "listing_id",
    "url",
    "title",
    "category",
    "risk",
    "score",
    "first_seen",
    "last_seen",
    "sha256",
    "status",
    "seller",
    "price",
    "currency",
    "flag_dropped",
    "latest_seller",
)

# A hit whose newest capture no longer matches: still flagged (an older capture's classification flags it), shown
# as such so that a reviewer sees the listing changed (docs/evidence.md, "The listings index").
FLAG_DROPPED = "(l.latest_classification_id IS NOT l.classification_id)"


def hits(store: Database):
    """One dict per flagged listing (see db/listing_index.py for when a listing is flagged), highest risk and
    score first. `flag_dropped` says the newest capture no longer matches; `latest_seller` is the seller the newest
    capture shows (`seller` is the seller of record)."""
    return store.query(
        "SELECT l.marketplace, l.listing_id, l.url, l.title, l.category, l.risk, l.score, l.first_seen, l.last_seen, "
        "c.sha256, l.status, l.seller, l.price, l.currency, "
        f"{FLAG_DROPPED} AS flag_dropped, l.latest_seller, l.pk AS listing_pk, l.latest_capture_id AS capture_id "
        "FROM listings l LEFT JOIN captures c ON c.id = l.latest_capture_id "
        "WHERE l.flagged = 1 ORDER BY l.risk_rank DESC, l.score DESC, l.marketplace, l.listing_id"
    )


def get_listing(store: Database, marketplace: str, listing_id: str) -> dict | None:
    return next(
        store.query("SELECT * FROM listings WHERE marketplace = ? AND listing_id = ?", [marketplace, str(listing_id)]),
        None,
    )


def listing_history(store: Database, marketplace: str, listing_id: str) -> dict | None:
    """A listing with its history, oldest first: every capture, classification, status change and decision.

    Returns {"listing": {...}, "events": [{"at", "kind", ...}]} or None when the listing is unknown.
    """
    with read_snapshot(store):
        listing = get_listing(store, marketplace, listing_id)
        if listing is None:
            return None
        events = listing_events(store, listing["pk"])
    return {"listing": listing, "events": events}


def listing_events(store: Database, pk: int) -> list[dict]:
    """Every capture, classification, status observation and decision of one listing, in time order: dicts with
    `at`, `kind` (capture, status, classification, decision) and the row's columns."""
    events: list[dict] = []
    for c in store.query(
        "SELECT c.id, c.fetched_at, c.url, c.status, c.sha256, c.body_size, c.run_id, c.purpose, "
        "(SELECT count(*) FROM bodies b WHERE b.sha256 = c.sha256) AS body_present "
        "FROM captures c WHERE c.listing_pk = ?",
        [pk],
    ):
        events.append({"at": c["fetched_at"], "kind": "capture", **c, "body_present": bool(c["body_present"])})
    for k in store.query(
        "SELECT k.id, k.created_at, k.capture_id, k.flagged, k.category, k.risk, k.score, k.watchlist_version "
        "FROM classifications k JOIN captures c ON c.id = k.capture_id WHERE c.listing_pk = ?",
        [pk],
    ):
        events.append({"at": k["created_at"], "kind": "classification", **k, "flagged": bool(k["flagged"])})
    for s in store.query("SELECT * FROM listing_status WHERE listing_pk = ?", [pk]):
        events.append({"at": s["observed_at"], "kind": "status", **s})
    for d in store.query("SELECT * FROM decisions WHERE listing_pk = ?", [pk]):
        events.append({"at": d["created_at"], "kind": "decision", **d})
    order = {"capture": 0, "status": 1, "classification": 2, "decision": 3}
    events.sort(key=lambda e: (e["at"], order[e["kind"]], e["id"]))
    return events


def captures_to_classify(store: Database, after: int = 0, limit: int = -1, upto: int | None = None):
    """Every capture of a listing page (not attached documents), oldest first, with the text the spider
    extracted and the capture's latest classification (None columns when it was never classified).

    `after` and `limit` read them a page at a time (captures with an id above `after`), so that a long job
    holds no read open between its writes; `upto` (a capture id) leaves out captures stored after it."""
    return store.query(
        "SELECT c.id AS capture_id, c.fields, l.marketplace, l.listing_id, l.latest_capture_id = c.id AS is_latest, "
        "k.flagged, k.category, k.watchlist_version, k.classifier_version "
        "FROM captures c JOIN listings l ON l.pk = c.listing_pk "
        "LEFT JOIN classifications k ON k.id = (SELECT max(id) FROM classifications WHERE capture_id = c.id) "
        "WHERE c.id > ? AND c.id <= ? AND coalesce(c.purpose, '') NOT LIKE 'attachment:%' ORDER BY c.id LIMIT ?",
        [after, (1 << 63) - 1 if upto is None else upto, limit],
    )


def last_capture_id(store: Database) -> int:
    """The id of the newest capture, 0 in an empty store: where a bulk job that started now stops."""
    return store.conn.execute("SELECT coalesce(max(id), 0) FROM captures").fetchone()[0]


def stored_body(store: Database, sha256: str) -> bytes | None:
    """The raw bytes stored under `sha256`, or None when the body has been purged (under a tombstone)."""
    row = next(store.query("SELECT body, encoding FROM bodies WHERE sha256 = ?", [sha256]), None)
    return decompress_body(row["body"], row["encoding"]) if row else None


def captured_page(store: Database, capture_id: int) -> tuple[bytes, dict] | None:
    """A capture's raw bytes as received and its response headers; None if the capture is unknown or purged."""
    row = next(
        store.query(
            "SELECT b.body, b.encoding, c.headers FROM captures c JOIN bodies b ON b.sha256 = c.sha256 WHERE c.id = ?",
            [capture_id],
        ),
        None,
    )
    if row is None:
        return None
    return decompress_body(row["body"], row["encoding"]), json.loads(row["headers"] or "{}")
