"""The dashboard's figures per hour, kept current in the transaction of each write (migration m009).

The dashboard counts what happened since a moment a week ago, and its trend chart per week over twelve weeks:
read from the evidence, that is every decision, new hit and removal of the window (9 us a decision joined to its
listing: 220 ms for 24,000 decisions). `dashboard_counts` holds them per hour instead, one row per
(series, hour, action, category, marketplace):

- `new_hit`: flagged listings by the hour they were first seen, their category and marketplace;
- `decision`: decisions by the hour they were made, their action, their category (else the listing's) and the
  listing's marketplace;
- `removed_last`: listings by the hour of their latest `removed` observation (a listing removed since a moment
  is one whose latest removal is after it), category and marketplace;
- `removed_first`: listings by the hour of their first `removed` observation (the trend's removals), nothing else.

A window then reads its whole hours from here and only its first, partial hour from the evidence. Triggers move a
listing's rows when its flag, category or first-seen time changes; `verify` recounts the table (`disagreements`)
and `rebuild` rewrites it from the evidence. Not evidence: nothing is hashed or chained.
"""

from __future__ import annotations

import datetime

from sqlite_utils import Database

from db import counters

SERIES = ("new_hit", "decision", "removed_last", "removed_first")


def hour(column: str) -> str:
    """The hour of a stored UTC time ('2026-11-28T11:12:00.123456Z' -> '2026-11-28T11'): the store writes every
    time in that one form (db/canonical.py, format_utc), so the hour is its first 13 characters."""
    return f"substr({column}, 1, 13)"


def _add(select: str) -> str:
    # `WHERE` is in every select: an upsert's SELECT needs one, or SQLite reads ON CONFLICT as a join's ON.
    return f"""INSERT INTO dashboard_counts (series, hour, action, category, marketplace, n) {select}
               ON CONFLICT DO UPDATE SET n = n + excluded.n;"""


def _latest_removal(listing: str, category: str, sign: str) -> str:
    """Add `sign` 1 at the hour of the listing's latest removal under `category`, when it has one."""
    return _add(
        f"""SELECT 'removed_last', {hour("max(s.observed_at)")}, '', coalesce({category}, ''), l.marketplace, {sign}1
            FROM listing_status s JOIN listings l ON l.pk = s.listing_pk
            WHERE s.listing_pk = {listing} AND s.status = 'removed' GROUP BY s.listing_pk"""
    )


def _decisions_of(listing: str, category: str, sign: str) -> str:
    """Move a listing's decisions without a category of their own (they count under the listing's)."""
    return _add(
        f"""SELECT 'decision', {hour("created_at")}, action, coalesce({category}, ''), l.marketplace, {sign}count(*)
            FROM decisions d JOIN listings l ON l.pk = d.listing_pk
            WHERE d.listing_pk = {listing} AND d.category IS NULL GROUP BY 2, 3"""
    )


def _other_removals(pick: str) -> str:
    return f"""(SELECT {pick}(observed_at) FROM listing_status
                WHERE listing_pk = NEW.listing_pk AND status = 'removed' AND id != NEW.id)"""


_TABLE = """CREATE TABLE dashboard_counts (
    series TEXT NOT NULL,
    hour TEXT NOT NULL,
    action TEXT NOT NULL,
    category TEXT NOT NULL,
    marketplace TEXT NOT NULL,
    n INTEGER NOT NULL,
    PRIMARY KEY (series, hour, action, category, marketplace)
) WITHOUT ROWID"""

_TRIGGERS = [
    # A capture of a new listing pays for one row when it is flagged, nothing otherwise.
    f"""CREATE TRIGGER dashboard_counts_listing_insert AFTER INSERT ON listings WHEN NEW.flagged = 1
        BEGIN
          {
        _add(
            f"SELECT 'new_hit', {hour('NEW.first_seen')}, '', coalesce(NEW.category, ''), NEW.marketplace, 1 WHERE true"
        )
    }
        END""",
    f"""CREATE TRIGGER dashboard_counts_listing_update AFTER UPDATE OF flagged, category, first_seen ON listings
        WHEN OLD.flagged IS NOT NEW.flagged OR OLD.category IS NOT NEW.category OR OLD.first_seen IS NOT NEW.first_seen
        BEGIN
          {
        _add(
            f"SELECT 'new_hit', {hour('OLD.first_seen')}, '', coalesce(OLD.category, ''), OLD.marketplace, -1 "
            "WHERE OLD.flagged = 1"
        )
    }
          {
        _add(
            f"SELECT 'new_hit', {hour('NEW.first_seen')}, '', coalesce(NEW.category, ''), NEW.marketplace, 1 "
            "WHERE NEW.flagged = 1"
        )
    }
        END""",
    # The category a listing's decisions and removal count under follows the listing's (as the dashboard shows it).
    f"""CREATE TRIGGER dashboard_counts_listing_category AFTER UPDATE OF category ON listings
        WHEN OLD.category IS NOT NEW.category
        BEGIN
          {_decisions_of("NEW.pk", "OLD.category", "-")}
          {_decisions_of("NEW.pk", "NEW.category", "")}
          {_latest_removal("NEW.pk", "OLD.category", "-")}
          {_latest_removal("NEW.pk", "NEW.category", "")}
        END""",
    f"""CREATE TRIGGER dashboard_counts_decision AFTER INSERT ON decisions
        BEGIN
          {
        _add(
            f"SELECT 'decision', {hour('NEW.created_at')}, NEW.action, coalesce(NEW.category, l.category, ''), "
            "l.marketplace, 1 FROM listings l WHERE l.pk = NEW.listing_pk"
        )
    }
        END""",
    # A listing counts once per removal series: at its latest removal, and at its first. An observation recorded
    # out of order (an import, a late re-check) moves it only when it is later (earlier) than the others.
    f"""CREATE TRIGGER dashboard_counts_removal AFTER INSERT ON listing_status WHEN NEW.status = 'removed'
        BEGIN
          {
        _add(
            f"SELECT 'removed_last', {hour(_other_removals('max'))}, '', coalesce(l.category, ''), "
            f"l.marketplace, -1 FROM listings l WHERE l.pk = NEW.listing_pk "
            f"AND NEW.observed_at > {_other_removals('max')}"
        )
    }
          {
        _add(
            f"SELECT 'removed_last', {hour('NEW.observed_at')}, '', coalesce(l.category, ''), l.marketplace, 1 "
            f"FROM listings l WHERE l.pk = NEW.listing_pk "
            f"AND NEW.observed_at > coalesce({_other_removals('max')}, '')"
        )
    }
          {
        _add(
            f"SELECT 'removed_first', {hour(_other_removals('min'))}, '', '', '', -1 "
            f"WHERE NEW.observed_at < {_other_removals('min')}"
        )
    }
          {
        _add(
            f"SELECT 'removed_first', {hour('NEW.observed_at')}, '', '', '', 1 "
            f"WHERE NEW.observed_at < coalesce({_other_removals('min')}, char(1114111))"
        )
    }
        END""",
]

_KEYS = ("series", "hour", "action", "category", "marketplace")
# Every row the table should hold, from the evidence.
_RECOUNT = f"""
    SELECT 'new_hit' AS series, {hour("first_seen")} AS hour, '' AS action, coalesce(category, '') AS category,
           marketplace, count(*) AS n
    FROM listings WHERE flagged = 1 GROUP BY 2, 4, 5
    UNION ALL
    SELECT 'decision', {hour("d.created_at")}, d.action, coalesce(d.category, l.category, ''), l.marketplace, count(*)
    FROM decisions d JOIN listings l ON l.pk = d.listing_pk GROUP BY 2, 3, 4, 5
    UNION ALL
    SELECT 'removed_last', hour, '', category, marketplace, count(*) FROM (
        SELECT {hour("max(s.observed_at)")} AS hour, coalesce(l.category, '') AS category, l.marketplace
        FROM listing_status s JOIN listings l ON l.pk = s.listing_pk WHERE s.status = 'removed' GROUP BY s.listing_pk)
    GROUP BY 2, 4, 5
    UNION ALL
    SELECT 'removed_first', hour, '', '', '', count(*) FROM (
        SELECT {hour("min(observed_at)")} AS hour FROM listing_status WHERE status = 'removed' GROUP BY listing_pk)
    GROUP BY 2"""


def install(store: Database) -> None:
    """Create the table and its triggers, and fill it from the evidence (migration m009)."""
    store.execute(_TABLE)
    rebuild(store)
    for statement in _TRIGGERS:
        store.execute(statement)


def rebuild(store: Database) -> None:
    """Set the table right from the evidence (without holding the write lock for the recount: db/counters.py)."""
    counters.correct(store, "dashboard_counts", _KEYS, _RECOUNT)


def disagreements(store: Database) -> list[str]:
    """What the stored hourly figures get wrong against a recount from the evidence (empty when all agree)."""
    return [
        f"dashboard count {'/'.join(part or '-' for part in key)} is {stored}, the evidence holds {counted}"
        for key, stored, counted in counters.differences(
            *counters.stored_and_counted(store, "dashboard_counts", _KEYS, _RECOUNT)
        )
    ]


def split(since: str) -> tuple[str, str]:
    """(the hour `since` falls in, the start of the next hour): the counters serve every hour after the first; the
    first hour's rows from `since` on are read from the evidence."""
    first = since[:13]
    start = datetime.datetime.strptime(first, "%Y-%m-%dT%H").replace(tzinfo=datetime.UTC)
    following = start + datetime.timedelta(hours=1)
    return first, following.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
