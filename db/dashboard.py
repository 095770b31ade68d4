"""The review desk's dashboard: what happened since a given time, by category and marketplace, and over weeks."""

from __future__ import annotations

from sqlite_utils import Database


def dashboard(store: Database, since: str) -> dict:
    """Counts since `since` (UTC ISO): new hits, decisions and removals by category and marketplace."""
    new_hits = list(
        store.query(
            """SELECT category, marketplace, count(*) AS n FROM listings
               WHERE flagged = 1 AND first_seen >= ? GROUP BY 1, 2 ORDER BY 3 DESC""",
            [since],
        )
    )
    decided = list(
        store.query(
            """SELECT d.action, coalesce(d.category, l.category) AS category, l.marketplace, count(*) AS n
               FROM decisions d JOIN listings l ON l.pk = d.listing_pk
               WHERE d.created_at >= ? GROUP BY 1, 2, 3 ORDER BY 4 DESC""",
            [since],
        )
    )
    removals = list(
        store.query(
            """SELECT l.category, l.marketplace, count(DISTINCT s.listing_pk) AS n
               FROM listing_status s JOIN listings l ON l.pk = s.listing_pk
               WHERE s.status = 'removed' AND s.observed_at >= ? GROUP BY 1, 2 ORDER BY 3 DESC""",
            [since],
        )
    )
    return {"new_hits": new_hits, "decisions": decided, "removals": removals}


def weekly_events(store: Database, since: str) -> dict[str, list[str]]:
    """Times of new hits, confirmations and removals since `since`, for the trend chart."""

    def times(sql):
        return [row["at"] for row in store.query(sql, [since])]

    return {
        "new hits": times("SELECT first_seen AS at FROM listings WHERE flagged = 1 AND first_seen >= ?"),
        "confirmed": times("SELECT created_at AS at FROM decisions WHERE action = 'confirm' AND created_at >= ?"),
        "removed": times(
            """SELECT min(observed_at) AS at FROM listing_status WHERE status = 'removed'
               GROUP BY listing_pk HAVING min(observed_at) >= ?"""
        ),
    }
