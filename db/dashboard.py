"""The review desk's dashboard: what happened since a given time, by category and marketplace, and over weeks.

Whole hours are read from the hourly counters (db/dashboard_counts.py), the first, partial hour of a window from
the evidence, so a page reads about as much however busy the week was.
"""

from __future__ import annotations

from sqlite_utils import Database

from db.dashboard_counts import split

# The evidence of a window's first hour [since, next): the same figures, the same shape as the counters' rows.
_FIRST_HOUR = {
    "new_hit": """SELECT '' AS action, category, marketplace, count(*) AS n FROM listings
                  WHERE flagged = 1 AND first_seen >= :since AND first_seen < :next GROUP BY 2, 3""",
    "decision": """SELECT d.action, coalesce(d.category, l.category) AS category, l.marketplace, count(*) AS n
                   FROM decisions d JOIN listings l ON l.pk = d.listing_pk
                   WHERE d.created_at >= :since AND d.created_at < :next GROUP BY 1, 2, 3""",
    # A listing removed since `since` whose latest removal falls in the first hour (later ones are counted).
    "removed_last": """SELECT '' AS action, l.category, l.marketplace, count(DISTINCT s.listing_pk) AS n
                       FROM listing_status s JOIN listings l ON l.pk = s.listing_pk
                       WHERE s.status = 'removed' AND s.observed_at >= :since AND s.observed_at < :next
                         AND NOT EXISTS (SELECT 1 FROM listing_status e INDEXED BY listing_status_listing
                                         WHERE e.listing_pk = s.listing_pk AND e.status = 'removed'
                                           AND e.observed_at >= :next)
                       GROUP BY 2, 3""",
}


def _since(store: Database, series: str, since: str) -> list[dict]:
    """{action, category, marketplace, n} of one series since `since`, most first (no category: None)."""
    first, following = split(since)
    totals: dict[tuple, int] = {}
    rows = list(
        store.query(
            """SELECT action, category, marketplace, sum(n) AS n FROM dashboard_counts
               WHERE series = ? AND hour > ? GROUP BY 1, 2, 3""",
            [series, first],
        )
    )
    rows += store.query(_FIRST_HOUR[series], {"since": since, "next": following})
    for row in rows:
        key = (row["action"], row["category"] or None, row["marketplace"])
        totals[key] = totals.get(key, 0) + row["n"]
    found = [
        {"action": action, "category": category, "marketplace": marketplace, "n": n}
        for (action, category, marketplace), n in totals.items()
        if n
    ]
    return sorted(found, key=lambda r: -r["n"])


def dashboard(store: Database, since: str) -> dict:
    """Counts since `since` (UTC ISO): new hits, decisions and removals by category and marketplace."""

    def without_action(rows):
        return [{k: v for k, v in row.items() if k != "action"} for row in rows]

    return {
        "new_hits": without_action(_since(store, "new_hit", since)),
        "decisions": _since(store, "decision", since),
        "removals": without_action(_since(store, "removed_last", since)),
    }


def weekly_counts(store: Database, start: str, weeks: int) -> dict[str, list[int]]:
    """New hits, confirmations and removals (a listing's first removal) per week from `start` (UTC, a Monday at
    midnight): {series: [n per week]}."""
    first, following = split(start)
    # Weeks by calendar day: julianday() keeps milliseconds, and would round 23:59:59.9999995 into the next week.
    week = "CAST((julianday(substr(at, 1, 10)) - julianday(substr(:start, 1, 10))) / 7 AS INTEGER)"
    counted = "SELECT hour AS at, n FROM dashboard_counts WHERE series = '{}' AND hour > :first {}"
    queries = {
        "new hits": counted.format("new_hit", "")
        + """UNION ALL SELECT first_seen, 1 FROM listings
             WHERE flagged = 1 AND first_seen >= :start AND first_seen < :next""",
        "confirmed": counted.format("decision", "AND action = 'confirm'")
        + """UNION ALL SELECT created_at, 1 FROM decisions
             WHERE created_at >= :start AND created_at < :next AND action = 'confirm'""",
        "removed": counted.format("removed_first", "")
        + """UNION ALL SELECT observed_at, 1 FROM listing_status s
             WHERE s.status = 'removed' AND s.observed_at >= :start AND s.observed_at < :next
               AND NOT EXISTS (SELECT 1 FROM listing_status e INDEXED BY listing_status_listing
                               WHERE e.listing_pk = s.listing_pk
                               AND e.status = 'removed' AND (e.observed_at < s.observed_at
                                    OR (e.observed_at = s.observed_at AND e.id < s.id)))""",
    }
    params = {"start": start, "first": first, "next": following}
    result = {}
    for name, sql in queries.items():
        counts = [0] * weeks
        for row in store.query(f"SELECT {week} AS week, sum(n) AS n FROM ({sql}) GROUP BY 1", params):
            if 0 <= row["week"] < weeks:
                counts[row["week"]] = row["n"]
        result[name] = counts
    return result
