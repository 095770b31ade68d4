"""Retailers and the notices sent to them: their tables, and every query the exports and the report need.

A notice is evidence: one append-only row per export (number, time, recipient as it was then, the listings
it covered, the pack's SHA-256), linked into the hash chain. The listing set is a JSON column of the notice
row itself so that the chain covers it. Retailers are contact details, and may be updated.
"""

import json
import re

from sqlite_utils import Migrations

from db.canonical import GENESIS
from db.captures import decompress_body
from db.chain import append_chain
from db.connection import write_transaction
from db.schema import protect

# Applied by db.connect (db.connection.MIGRATION_MODULES) after the evidence and review schemas.
migrations = Migrations("keywatch-notices")

REVIEW_STATUSES = ("confirmed", "escalated")


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


def migrate(store) -> None:
    """Create or update the notices tables (idempotent; db.connect does this too)."""
    if migrations.pending(store):
        with write_transaction(store):
            migrations.apply(store)


# ---------------------------------------------------------------- retailers


def save_retailer(store, retailer: dict, updated_at: str) -> int:
    """Insert or update a retailer by name (contact details and seller ids); returns its id.

    Raises ValueError when one of its seller ids already belongs to another retailer.
    """
    with write_transaction(store):
        row = store.conn.execute("SELECT id FROM retailers WHERE name = ?", [retailer["name"]]).fetchone()
        values = [
            retailer["marketplace"],
            retailer.get("email") or None,
            retailer.get("address") or None,
            retailer.get("reporting_url") or None,
            updated_at,
        ]
        if row:
            retailer_id = row[0]
            store.conn.execute(
                "UPDATE retailers SET marketplace = ?, email = ?, address = ?, reporting_url = ?, "
                "updated_at = ? WHERE id = ?",
                [*values, retailer_id],
            )
            store.conn.execute("DELETE FROM retailer_sellers WHERE retailer_id = ?", [retailer_id])
        else:
            retailer_id = store.conn.execute(
                "INSERT INTO retailers (name, marketplace, email, address, reporting_url, updated_at) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                [retailer["name"], *values],
            ).lastrowid
        for seller in retailer.get("seller_ids") or []:
            owner = store.conn.execute(
                "SELECT r.name FROM retailer_sellers s JOIN retailers r ON r.id = s.retailer_id "
                "WHERE s.marketplace = ? AND s.seller_id = ?",
                [retailer["marketplace"], seller],
            ).fetchone()
            if owner:
                raise ValueError(f"seller {retailer['marketplace']}:{seller} already belongs to retailer {owner[0]!r}")
            store.conn.execute(
                "INSERT INTO retailer_sellers (marketplace, seller_id, retailer_id) VALUES (?, ?, ?)",
                [retailer["marketplace"], seller, retailer_id],
            )
    return retailer_id


def _retailer(store, row) -> dict:
    sellers = [
        r[0]
        for r in store.conn.execute(
            "SELECT seller_id FROM retailer_sellers WHERE retailer_id = ? ORDER BY seller_id", [row["id"]]
        )
    ]
    return {
        "id": row["id"],
        "name": row["name"],
        "marketplace": row["marketplace"],
        "seller_ids": sellers,
        "email": row["email"] or "",
        "address": row["address"] or "",
        "reporting_url": row["reporting_url"] or "",
        "updated_at": row["updated_at"],
    }


def list_retailers(store) -> list[dict]:
    return [_retailer(store, row) for row in store.query("SELECT * FROM retailers ORDER BY name")]


def get_retailer(store, name: str) -> dict | None:
    rows = list(store.query("SELECT * FROM retailers WHERE name = ?", [name]))
    return _retailer(store, rows[0]) if rows else None


def retailer_for_seller(store, marketplace: str, seller: str) -> dict | None:
    rows = list(
        store.query(
            "SELECT r.* FROM retailers r JOIN retailer_sellers s ON s.retailer_id = r.id "
            "WHERE s.marketplace = ? AND s.seller_id = ?",
            [marketplace, seller.strip()],
        )
    )
    return _retailer(store, rows[0]) if rows else None


def marketplace_operator(store, marketplace: str) -> dict | None:
    """The retailers entry standing for a marketplace itself: that marketplace, and no seller ids."""
    rows = list(
        store.query(
            "SELECT r.* FROM retailers r WHERE r.marketplace = ? AND NOT EXISTS "
            "(SELECT 1 FROM retailer_sellers s WHERE s.retailer_id = r.id) ORDER BY r.name LIMIT 1",
            [marketplace],
        )
    )
    return _retailer(store, rows[0]) if rows else None


# ---------------------------------------------------------------- what goes into a pack


def export_listings(
    store, *, marketplace: str | None = None, sellers: list[str] | None = None, review_status: str = "confirmed"
) -> list[dict]:
    """Listings whose current review status is `review_status`, on `marketplace`, by one of `sellers`.

    Each dict carries the listing index, its latest classification (`matches` parsed), the decision that
    set the review status, and its captures (oldest first). Seller ids compare case-insensitively.
    """
    if review_status not in REVIEW_STATUSES:
        raise ValueError(f"review status must be one of {', '.join(REVIEW_STATUSES)}")
    where, params = ["r.status = ?"], [review_status]
    if marketplace is not None:
        where.append("l.marketplace = ?")
        params.append(marketplace)
    if sellers is not None:
        if not sellers:
            return []
        where.append(f"lower(trim(l.seller)) IN ({', '.join('?' * len(sellers))})")
        params += [s.strip().lower() for s in sellers]
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
            -- the decision that set the review status (as in the review_status view)
            JOIN decisions d ON d.id = (SELECT max(d2.id) FROM decisions d2
                                        WHERE d2.listing_pk = l.pk AND d2.action != 'note')
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


def capture_body(store, sha256: str) -> bytes | None:
    """The raw bytes stored under `sha256`, or None when the body has been purged (under a tombstone)."""
    row = store.conn.execute("SELECT body, encoding FROM bodies WHERE sha256 = ?", [sha256]).fetchone()
    return decompress_body(row[0], row[1]) if row else None


# ---------------------------------------------------------------- notices


def next_notice_number(store, prefix: str, year: int) -> str:
    """The next free number PREFIX-YEAR-NNNN; call inside the write transaction that records the notice."""
    pattern = re.compile(rf"^{re.escape(prefix)}-{year}-(\d+)$")
    used = [
        int(m.group(1))
        for (number,) in store.conn.execute("SELECT number FROM notices WHERE number LIKE ?", [f"{prefix}-{year}-%"])
        if (m := pattern.match(number))
    ]
    return f"{prefix}-{year}-{max(used, default=0) + 1:04d}"


def chain_position(store) -> tuple[int, str]:
    """(seq, hash) of the last chain record, (0, genesis) for an empty chain: where a snapshot stands."""
    row = store.conn.execute("SELECT seq, hash FROM chain ORDER BY seq DESC LIMIT 1").fetchone()
    return (row[0], row[1]) if row else (0, GENESIS)


# For each chained record type, the listings whose pack content a new record of that type can change.
_RECORD_LISTINGS = {
    "listing": "SELECT pk FROM listings WHERE pk = ?",
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
    at = store.conn.execute("SELECT hash FROM chain WHERE seq = ?", [seq]).fetchone()
    if (at[0] if at else GENESIS) != head:
        return f"the chain record at position {seq} is no longer {head[:12]}…"
    for record_type, record_id in store.conn.execute(
        "SELECT record_type, record_id FROM chain WHERE seq > ? ORDER BY seq", [seq]
    ).fetchall():
        if record_type == "notice":
            continue
        query = _RECORD_LISTINGS.get(record_type)
        if query is None:
            return f"a new {record_type} record {record_id}"
        touched = {pk for (pk,) in store.conn.execute(query, [record_id])} & listing_pks
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
        notice_id = store.conn.execute(
            f"INSERT INTO notices ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})",
            [row.get(c) for c in columns],
        ).lastrowid
        append_chain(store, "notice", notice_id)
    return notice_id


def _notice(row) -> dict:
    return {**row, "recipient": json.loads(row["recipient"]), "listing_pks": json.loads(row["listing_pks"])}


def list_notices(store, since: str | None = None) -> list[dict]:
    return [
        _notice(r)
        for r in store.query("SELECT * FROM notices WHERE created_at >= ? ORDER BY created_at, id", [since or ""])
    ]


def get_notice(store, number: str) -> dict | None:
    rows = list(store.query("SELECT * FROM notices WHERE number = ?", [number]))
    return _notice(rows[0]) if rows else None


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


def status_history(store, listing_pks: list[int]) -> dict[int, list[dict]]:
    """Status observations (live/ended/removed) per listing, oldest first."""
    history: dict[int, list[dict]] = {pk: [] for pk in listing_pks}
    if not listing_pks:
        return history
    for row in store.query(
        "SELECT s.listing_pk, s.status, s.observed_at FROM listing_status s JOIN json_each(?) j ON j.value = s.listing_pk "
        "ORDER BY s.observed_at, s.id",
        [json.dumps(sorted(set(listing_pks)))],
    ):
        history[row["listing_pk"]].append({"status": row["status"], "at": row["observed_at"]})
    return history


def flagged_since(store, marketplace: str, sellers: list[str] | None, since: str) -> list[dict]:
    """Flagged listings first seen after `since` on `marketplace` (by one of `sellers`, when given)."""
    where, params = ["l.flagged = 1", "l.marketplace = ?", "l.first_seen > ?"], [marketplace, since]
    if sellers is not None:
        if not sellers:
            return []
        where.append(f"lower(trim(l.seller)) IN ({', '.join('?' * len(sellers))})")
        params += [s.strip().lower() for s in sellers]
    return list(
        store.query(
            f"SELECT l.pk, l.marketplace, l.listing_id, l.seller, l.first_seen FROM listings l WHERE {' AND '.join(where)}",
            params,
        )
    )
