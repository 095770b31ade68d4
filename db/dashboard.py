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


def weekly_counts(store: Database, start: str, weeks: int) -> dict[str, list[int]]:
    """New hits, confirmations and removals (a listing's first removal) per week from `start` (UTC, a Monday at
    midnight), counted in SQL over the time indexes: {series: [n per week]}."""
    # Weeks by calendar day: julianday() keeps milliseconds, and would round 23:59:59.9999995 into the next week.
    week = "CAST((julianday(substr(at, 1, 10)) - julianday(substr(:start, 1, 10))) / 7 AS INTEGER)"
    queries = {
        "new hits": "SELECT first_seen AS at FROM listings WHERE flagged = 1 AND first_seen >= :start",
        "confirmed": "SELECT created_at AS at FROM decisions WHERE created_at >= :start AND action = 'confirm'",
        "removed": """SELECT observed_at AS at FROM listing_status s
                      WHERE s.status = 'removed' AND s.observed_at >= :start
                        AND NOT EXISTS (SELECT 1 FROM listing_status e INDEXED BY listing_status_listing
                                        WHERE e.listing_pk = s.listing_pk
                                        AND e.status = 'removed' AND (e.observed_at < s.observed_at
                                             OR (e.observed_at = s.observed_at AND e.id < s.id)))""",
    }
    result = {}
    for name, sql in queries.items():
        counts = [0] * weeks
        for row in store.query(f"SELECT {week} AS week, count(*) AS n FROM ({sql}) GROUP BY 1", {"start": start}):
            if 0 <= row["week"] < weeks:
                counts[row["week"]] = row["n"]
        result[name] = counts
    return result
