"""Retention: remove the bodies of dismissed listings after a retention period, leaving tombstones.

A body goes only if every capture that refers to it belongs to a listing whose review status is `dismissed` (the
`review_status` view, db/decisions.py), by a decision taken more than N days ago, and which was never confirmed
or escalated. The tombstone (what, when, why, who,
the body's SHA-256 and the captures that referred to it) is written and chained first, in the same transaction
as the delete; the append-only trigger on `bodies` lets a delete through only once that tombstone exists.
"""

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from db.canonical import format_utc, utc_now
from db.chain import append_chain
from db.connection import write_transaction


@dataclass
class PurgeResult:
    cutoff: str
    listings: list[dict] = field(default_factory=list)  # {"pk", "marketplace", "listing_id", "dismissed_at"}
    bodies: list[dict] = field(default_factory=list)  # {"sha256", "capture_ids", "size", "tombstone_id"}

    @property
    def bytes(self) -> int:
        return sum(b["size"] for b in self.bodies)


# Listings dismissed before the cutoff, and never confirmed or escalated.
_ELIGIBLE_LISTINGS = """
SELECT l.pk, l.marketplace, l.listing_id, r.created_at AS dismissed_at, r.decision_id
FROM listings l JOIN review_status r ON r.listing_pk = l.pk
WHERE r.status = 'dismissed' AND r.created_at < :cutoff
  AND NOT EXISTS (SELECT 1 FROM decisions d WHERE d.listing_pk = l.pk AND d.action IN ('confirm', 'escalate'))
ORDER BY l.pk
"""


def purge_dismissed(
    store, older_than_days: float, actor: str, *, now: datetime | None = None, dry_run: bool = False
) -> PurgeResult:
    """Purge (or, with dry_run, list) the bodies of listings dismissed more than `older_than_days` ago."""
    if older_than_days < 0:
        raise ValueError("the retention period cannot be negative")
    if not actor:
        raise ValueError("a purge must name who ran it")
    now = now or datetime.now(UTC)
    result = PurgeResult(cutoff=format_utc(now - timedelta(days=older_than_days)))
    # secure_delete overwrites the freed pages, so the personal data is gone from the file, not just unlinked.
    store.execute("PRAGMA secure_delete = ON")
    with write_transaction(store):
        result.listings = [dict(r) for r in store.query(_ELIGIBLE_LISTINGS, {"cutoff": result.cutoff})]
        eligible = {r["pk"] for r in result.listings}
        by_listing = {r["pk"]: r for r in result.listings}
        candidates = list(
            store.query(
                "SELECT DISTINCT c.sha256, b.size FROM captures c JOIN bodies b ON b.sha256 = c.sha256 "
                "WHERE c.listing_pk IN (SELECT value FROM json_each(?)) ORDER BY c.sha256",
                [json.dumps(sorted(eligible))],
            )
        )
        for candidate in candidates:
            sha256, size = candidate["sha256"], candidate["size"]
            users = list(store.query("SELECT id, listing_pk FROM captures WHERE sha256 = ? ORDER BY id", [sha256]))
            # The same page bytes can belong to a listing still under review or confirmed: then it stays.
            if any(user["listing_pk"] not in eligible for user in users):
                continue
            capture_ids = [user["id"] for user in users]
            entry = {"sha256": sha256, "capture_ids": capture_ids, "size": size, "tombstone_id": None}
            result.bodies.append(entry)
            if dry_run:
                continue
            decisions = sorted({by_listing[user["listing_pk"]]["decision_id"] for user in users})
            reason = (
                f"retention: listing dismissed more than {older_than_days:g} days ago "
                f"(decision {', '.join(map(str, decisions))}); body may hold personal data"
            )
            cursor = store.execute(
                "INSERT INTO tombstones (sha256, capture_ids, reason, purged_at, actor) VALUES (?, ?, ?, ?, ?)",
                [sha256, json.dumps(capture_ids), reason, utc_now(), actor],
            )
            entry["tombstone_id"] = cursor.lastrowid
            append_chain(store, "tombstone", cursor.lastrowid)
            store.execute("DELETE FROM bodies WHERE sha256 = ?", [sha256])
    if result.bodies and not dry_run:
        # Old page versions can linger in the write-ahead log until a checkpoint copies and truncates it.
        store.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return result
