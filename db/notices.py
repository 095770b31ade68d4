"""The notices sent to retailers: the tables (retailers' too, read and written by db/retailers.py), what goes into
a pack, recording a notice, and what the compliance report reads.

A notice is evidence: one append-only row per export (number, time, recipient as it was then, the listings
it covered, the pack's SHA-256), linked into the hash chain. The listing set is a JSON column of the notice
row itself so that the chain covers it.
"""

import json
import re

from sqlite_utils import Migrations

from db.canonical import GENESIS
from db.chain import append_chain
from db.connection import write_transaction
from db.schema import protect

# Applied by db.connect (db.connection.MIGRATION_MODULES) after the evidence and review schemas.
migrations = Migrations("keywatch-notices")

# The review statuses a pack may cover (db/decisions.py defines them all).
EXPORTABLE_STATUSES = ("confirmed", "escalated")


@migrations()
def m001_retailers_and_notices(store):
    store.execute(
        """CREATE TABLE retailers (
            id INTEGER PRIMARY KEY,
            name TEXT NOT NULL UNIQUE,
            marketplace TEXT NOT NULL,
            email TEXT,
            address TEXT,
            reporting_url TEXT,
            updated_at TEXT NOT NULL
        )"""
    )
    # One seller account belongs to one retailer, so `--seller M:S` and the report resolve unambiguously.
    store.execute(
        """CREATE TABLE retailer_sellers (
            marketplace TEXT NOT NULL,
            seller_id TEXT NOT NULL COLLATE NOCASE,
            retailer_id INTEGER NOT NULL REFERENCES retailers(id),
            PRIMARY KEY (marketplace, seller_id)
        )"""
    )
    store.execute(
        """CREATE TABLE notices (
            id INTEGER PRIMARY KEY,
            number TEXT NOT NULL UNIQUE,
            created_at TEXT NOT NULL,
            retailer_id INTEGER REFERENCES retailers(id),
            recipient TEXT NOT NULL,
            marketplace TEXT,
            scope TEXT NOT NULL,
            review_status TEXT NOT NULL,
            listing_pks TEXT NOT NULL,
            listing_count INTEGER NOT NULL,
            pack_name TEXT NOT NULL,
            pack_sha256 TEXT NOT NULL,
            manifest_sha256 TEXT NOT NULL,
            chain_head TEXT NOT NULL,
            exported_by TEXT
        )"""
    )
    store.execute("CREATE INDEX retailer_sellers_retailer ON retailer_sellers (retailer_id)")
    store.execute("CREATE INDEX notices_retailer ON notices (retailer_id, created_at)")
    protect(store, "notices")


# ---------------------------------------------------------------- what goes into a pack


def _seller_in(sellers: list[str]) -> tuple[str, list[str]]:
    """Seller ids compare case-insensitively and without surrounding spaces, folded in SQL as the index
    listings_flagged_seller_folded (db/desk_counts.py) folds them: (the condition, its parameters)."""
    return f"lower(trim(l.seller)) IN ({', '.join('?' * len(sellers))})", [s.strip().lower() for s in sellers]


def export_listings(
    store,
    *,
    marketplace: str | None = None,
    sellers: list[str] | None = None,
    review_status: str = "confirmed",
    accounts: list[str] | None = None,
) -> list[dict]:
    """Listings whose current review status is `review_status`, on `marketplace`, by one of `sellers` (or of
    `accounts`, exact "MARKETPLACE:SELLER" keys on any marketplace: a seller network's members).

    Each dict carries the listing index, its latest classification (`matches` parsed), the decision that
    set the review status, and its captures (oldest first). Seller ids compare case-insensitively.
    """
    if review_status not in EXPORTABLE_STATUSES:
        raise ValueError(f"review status must be one of {', '.join(EXPORTABLE_STATUSES)}")
    where, params = ["r.status = ?"], [review_status]
    if marketplace is not None:
        where.append("l.marketplace = ?")
        params.append(marketplace)
    if sellers is not None:
        if not sellers:
            return []
        clause, folded = _seller_in(sellers)
        where.append(clause)
        params += folded
    if accounts is not None:
        where.append("l.marketplace || ':' || l.seller IN (SELECT value FROM json_each(?))")
        params.append(json.dumps(accounts))
    rows = list(
        store.query(
            f"""SELECT l.pk, l.marketplace, l.listing_id, l.url, l.title, l.seller, l.price, l.currency,
                   l.first_seen, l.last_seen, l.status, l.status_at,
                   k.id AS classification_id, k.category AS classifier_category, k.risk AS classifier_risk,
                   k.score AS classifier_score, k.matches AS classifier_matches,
                   k.watchlist_version AS watchlist_version,
                   d.id AS decision_id, d.action AS decision_action, d.category AS decision_category,
                   d.reason AS decision_reason, d.note AS decision_note, d.user AS decided_by,
                   d.created_at AS decided_at, r.status AS review_status
            FROM listings l
            JOIN review_status r ON r.listing_pk = l.pk
            JOIN decisions d ON d.id = r.decision_id
            LEFT JOIN classifications k ON k.id = l.classification_id
            WHERE {" AND ".join(where)}
            ORDER BY l.marketplace, lower(l.seller), l.first_seen, l.listing_id""",
            params,
        )
    )
    for row in rows:
        row["classifier_matches"] = json.loads(row["classifier_matches"] or "[]")
        row["notes"] = [
            dict(n)
            for n in store.query(
                "SELECT user, note, created_at FROM decisions WHERE listing_pk = ? AND action = 'note' ORDER BY id",
                [row["pk"]],
            )
        ]
        row["captures"] = [
            dict(c)
            for c in store.query(
                """SELECT c.id, c.fetched_at, c.request_url, c.url, c.status, c.sha256, c.body_size, c.purpose,
                      EXISTS (SELECT 1 FROM bodies b WHERE b.sha256 = c.sha256) AS body_present
               FROM captures c WHERE c.listing_pk = ? ORDER BY c.fetched_at, c.id""",
                [row["pk"]],
            )
        ]
    return rows


# ---------------------------------------------------------------- notices


def next_notice_number(store, prefix: str, year: int) -> str:
    """The next free number PREFIX-YEAR-NNNN; call inside the write transaction that records the notice."""
    start = f"{prefix}-{year}-"
    pattern = re.compile(rf"{re.escape(start)}(\d+)")
    # The numbers that start with PREFIX-YEAR- are one range of the unique index on `number` (they sort before
    # PREFIX-YEAR. since "." follows "-"): only that year's notices are read, not every notice as LIKE did.
    rows = store.query("SELECT number FROM notices WHERE number > ? AND number < ?", [start, f"{prefix}-{year}."])
    used = [int(m.group(1)) for row in rows if (m := pattern.fullmatch(row["number"]))]
    return f"{prefix}-{year}-{max(used, default=0) + 1:04d}"


def chain_position(store) -> tuple[int, str]:
    """(seq, hash) of the last chain record, (0, genesis) for an empty chain: where a snapshot stands."""
    row = next(store.query("SELECT seq, hash FROM chain ORDER BY seq DESC LIMIT 1"), None)
    return (row["seq"], row["hash"]) if row else (0, GENESIS)


# For each chained record type, the listings whose pack content a new record of that type can change.
_RECORD_LISTINGS = {
    "listing": "SELECT pk AS listing_pk FROM listings WHERE pk = ?",
    "capture": "SELECT listing_pk FROM captures WHERE id = ?",
    "classification": "SELECT c.listing_pk FROM classifications k JOIN captures c ON c.id = k.capture_id "
    "WHERE k.id = ?",
    "status": "SELECT listing_pk FROM listing_status WHERE id = ?",
    "decision": "SELECT listing_pk FROM decisions WHERE id = ?",
    "tombstone": "SELECT c.listing_pk FROM tombstones t, json_each(t.capture_ids) j "
    "JOIN captures c ON c.id = j.value WHERE t.id = ?",
}


def changes_since(store, seq: int, head: str, listing_pks: set[int]) -> str | None:
    """The first chain record after `seq` that concerns one of `listing_pks`, described; None when there is none.

    Call inside the write transaction that records a notice built from a snapshot taken at (seq, head).
    Notices are not listed: their numbers are checked separately. A record type this function does not know
    counts as a change, so a new kind of evidence makes exports rebuild rather than go stale.
    """
    at = next(store.query("SELECT hash FROM chain WHERE seq = ?", [seq]), None)
    if (at["hash"] if at else GENESIS) != head:
        return f"the chain record at position {seq} is no longer {head[:12]}…"
    for record in list(store.query("SELECT record_type, record_id FROM chain WHERE seq > ? ORDER BY seq", [seq])):
        record_type, record_id = record["record_type"], record["record_id"]
        if record_type == "notice":
            continue
        query = _RECORD_LISTINGS.get(record_type)
        if query is None:
            return f"a new {record_type} record {record_id}"
        touched = {row["listing_pk"] for row in store.query(query, [record_id])} & listing_pks
        if touched:
            return f"a new {record_type} record {record_id} for listing {min(touched)}"
    return None


def record_notice(store, notice: dict) -> int:
    """Append a notice and link it into the chain (inside the caller's write transaction); returns its id."""
    row = {
        **notice,
        "recipient": json.dumps(notice["recipient"], ensure_ascii=False, sort_keys=True),
        "listing_pks": json.dumps(sorted(notice["listing_pks"])),
        "listing_count": len(notice["listing_pks"]),
    }
    columns = (
        "number",
        "created_at",
        "retailer_id",
        "recipient",
        "marketplace",
        "scope",
        "review_status",
        "listing_pks",
        "listing_count",
        "pack_name",
        "pack_sha256",
        "manifest_sha256",
        "chain_head",
        "exported_by",
    )
    with write_transaction(store):
        notice_id = store.execute(
            f"INSERT INTO notices ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})",
            [row.get(c) for c in columns],
        ).lastrowid
        append_chain(store, "notice", notice_id)
    return notice_id


def _notice(row) -> dict:
    return {**row, "recipient": json.loads(row["recipient"]), "listing_pks": json.loads(row["listing_pks"])}


def get_notice(store, number: str) -> dict | None:
    row = next(store.query("SELECT * FROM notices WHERE number = ?", [number]), None)
    return _notice(row) if row else None


# ---------------------------------------------------------------- compliance


def notified_listings(store, since: str | None = None) -> list[dict]:
    """One row per (notice, listing) for notices sent at or after `since`, with the listing's identity."""
    return list(
        store.query(
            """SELECT n.id AS notice_id, n.number, n.created_at AS notified_at, n.retailer_id, n.recipient,
                  n.marketplace AS notice_marketplace, l.pk AS listing_pk, l.marketplace, l.listing_id,
                  l.seller, l.status, l.status_at
           FROM notices n, json_each(n.listing_pks) j JOIN listings l ON l.pk = j.value
           WHERE n.created_at >= ? ORDER BY n.created_at, n.id, l.pk""",
            [since or ""],
        )
    )


def flagged_since(store, marketplace: str, sellers: list[str] | None, since: str) -> list[dict]:
    """Flagged listings first seen after `since` on `marketplace` (by one of `sellers`, when given)."""
    where, params = ["l.flagged = 1", "l.marketplace = ?", "l.first_seen > ?"], [marketplace, since]
    if sellers is not None:
        if not sellers:
            return []
        clause, folded = _seller_in(sellers)
        where.append(clause)
        params += folded
    return list(
        store.query(
            "SELECT l.pk, l.marketplace, l.listing_id, l.seller, l.first_seen FROM listings l "
            f"WHERE {' AND '.join(where)}",
            params,
        )
    )
