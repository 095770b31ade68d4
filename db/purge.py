"""Retention: remove the bodies of dismissed listings after a retention period, leaving tombstones, in batches.

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
from db.connection import read_snapshot, write_transaction


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
    """Purge (or, with dry_run, list) the bodies of listings dismissed more than `older_than_days` ago.

    The candidates are read first; their bodies are then removed in batches of PURGE_BATCH, each in its own
    short write transaction, which reads eligibility again under the write lock (a listing confirmed meanwhile
    keeps its bodies), so a crawl or a reviewer writing at the same time never waits long. An interrupted purge
    has removed whole batches, each with its tombstones; running it again finishes the rest.
    """
    if older_than_days < 0:
        raise ValueError("the retention period cannot be negative")
    if not actor:
        raise ValueError("a purge must name who ran it")
    now = now or datetime.now(UTC)
    result = PurgeResult(cutoff=format_utc(now - timedelta(days=older_than_days)))
    with read_snapshot(store):
        result.listings = _eligible(store, result.cutoff)
        candidates = list(
            store.query(
                "SELECT DISTINCT c.sha256, b.size FROM captures c JOIN bodies b ON b.sha256 = c.sha256 "
                "WHERE c.listing_pk IN (SELECT value FROM json_each(?)) ORDER BY c.sha256",
                [json.dumps(sorted(r["pk"] for r in result.listings))],
            )
        )
    if dry_run:
        eligible = {r["pk"]: r for r in result.listings}
        result.bodies = [entry for entry, _ in _purgeable(store, candidates, eligible)]
        return result
    # secure_delete overwrites the freed pages, so the personal data is gone from the file, not just unlinked.
    store.execute("PRAGMA secure_delete = ON")
    for start in range(0, len(candidates), PURGE_BATCH):
        with write_transaction(store):
            eligible = {r["pk"]: r for r in _eligible(store, result.cutoff)}
            for entry, decisions in _purgeable(store, candidates[start : start + PURGE_BATCH], eligible):
                _tombstone_and_delete(store, entry, decisions, older_than_days, actor)
                result.bodies.append(entry)
    if result.bodies:
        # Old page versions can linger in the write-ahead log until a checkpoint copies and truncates it.
        store.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return result


# Bodies removed per write transaction (each a tombstone, a chain link and a secure delete).
PURGE_BATCH = 200


def _eligible(store, cutoff: str) -> list[dict]:
    return [dict(r) for r in store.query(_ELIGIBLE_LISTINGS, {"cutoff": cutoff})]


def _purgeable(store, candidates, eligible: dict[int, dict]):
    """(entry, decision ids) for each candidate body whose every capture belongs to an eligible listing."""
    for candidate in candidates:
        sha256, size = candidate["sha256"], candidate["size"]
        if next(store.query("SELECT 1 AS found FROM bodies WHERE sha256 = ?", [sha256]), None) is None:
            continue  # purged meanwhile (another purge)
        users = list(store.query("SELECT id, listing_pk FROM captures WHERE sha256 = ? ORDER BY id", [sha256]))
        # The same page bytes can belong to a listing still under review or confirmed: then it stays.
        if not users or any(user["listing_pk"] not in eligible for user in users):
            continue
        entry = {"sha256": sha256, "capture_ids": [user["id"] for user in users], "size": size, "tombstone_id": None}
        yield entry, sorted({eligible[user["listing_pk"]]["decision_id"] for user in users})


def _tombstone_and_delete(store, entry: dict, decisions: list[int], older_than_days: float, actor: str) -> None:
    reason = (
        f"retention: listing dismissed more than {older_than_days:g} days ago "
        f"(decision {', '.join(map(str, decisions))}); body may hold personal data"
    )
    cursor = store.execute(
        "INSERT INTO tombstones (sha256, capture_ids, reason, purged_at, actor) VALUES (?, ?, ?, ?, ?)",
        [entry["sha256"], json.dumps(entry["capture_ids"]), reason, utc_now(), actor],
    )
    entry["tombstone_id"] = cursor.lastrowid
    append_chain(store, "tombstone", cursor.lastrowid)
    store.execute("DELETE FROM bodies WHERE sha256 = ?", [entry["sha256"]])
