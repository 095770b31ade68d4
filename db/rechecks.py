"""What the weekly crawl asks of the store: which listings to re-check, and what each spider run did.

Re-check targets are the flagged listings of a marketplace that a reviewer has not dismissed (the `review_status`
view, db/decisions.py) and that were not seen removed, less what an interrupted crawl already fetched, so that
`crawl --resume` does not fetch those pages again. The run queries read what a crawl stored (captures, statuses)
rather than what it believed it did, so a report cannot claim captures that never reached the evidence store.
"""

import datetime

from sqlite_utils import Database

from db.canonical import format_utc

# An interrupted crawl older than this is not "resumed" any more: its listings are due for a re-check again.
RESUME_WINDOW_DAYS = 7

# A run "of a marketplace" is one that stored at least one capture of one of its listings.
_RUN_OF_MARKETPLACE = (
    "EXISTS (SELECT 1 FROM captures c2 JOIN listings l2 ON l2.pk = c2.listing_pk "
    "WHERE c2.run_id = {run}.id AND l2.marketplace = :marketplace)"
)


def recheck_targets(store: Database, marketplace: str):
    """Listings of `marketplace` to re-fetch: flagged, not dismissed, not seen removed, and not already
    captured by an interrupted crawl that has not been followed by a finished one (a resumed crawl).

    Yields {"listing_id", "url", "status", "last_seen"}, least recently seen first.
    """
    done = captured_since_interruption(store, marketplace)
    for target in store.query(
        "SELECT l.listing_id, l.url, l.status, l.last_seen FROM listings l "
        "JOIN review_status r ON r.listing_pk = l.pk "
        "WHERE l.marketplace = ? AND l.flagged = 1 AND coalesce(l.status, '') != 'removed' "
        "AND r.status != 'dismissed' ORDER BY l.last_seen, l.pk",
        [marketplace],
    ):
        if target["listing_id"] not in done:
            yield target


def captured_since_interruption(store: Database, marketplace: str) -> set[str]:
    """Listing ids of `marketplace` captured by runs that did not finish normally (shutdown, killed, crashed)
    and started after the marketplace's last normally finished run, within the resume window."""
    window_start = format_utc(datetime.datetime.now(datetime.UTC) - datetime.timedelta(days=RESUME_WINDOW_DAYS))
    rows = store.query(
        f"""
        SELECT DISTINCT l.listing_id FROM captures c
        JOIN crawl_runs r ON r.id = c.run_id
        JOIN listings l ON l.pk = c.listing_pk
        WHERE l.marketplace = :marketplace
          AND coalesce(r.finish_reason, '') != 'finished'
          AND r.started_at >= :window_start
          AND r.started_at > coalesce(
                (SELECT max(r2.started_at) FROM crawl_runs r2
                 WHERE r2.finish_reason = 'finished' AND {_RUN_OF_MARKETPLACE.format(run="r2")}), '')
        """,
        {"marketplace": marketplace, "window_start": window_start},
    )
    return {row["listing_id"] for row in rows}


# ---------------------------------------------------------------- per-run report


def previous_finished_runs(store: Database, spider: str, before_run_id: int, limit: int = 10) -> list[dict]:
    """The runs of `spider` before `before_run_id` that finished normally, newest first (at most `limit`)."""
    return list(
        store.query(
            "SELECT * FROM crawl_runs WHERE spider = ? AND id < ? AND finish_reason = 'finished' "
            "ORDER BY id DESC LIMIT ?",
            [spider, before_run_id, limit],
        )
    )


def run_field_coverage(store: Database, run_id: int) -> dict:
    """How many listing captures (re-checks and description documents left out) a run stored, and on how many
    each field was empty.

    Returns {"captures": n, "missing": {"title": n, "price": n, "currency": n, "seller": n, "listing_id": n}}.
    """
    row = next(
        store.query(
            """
        SELECT count(*) AS captures,
          coalesce(sum(coalesce(json_extract(c.fields, '$.title'), '') = ''), 0) AS title,
          coalesce(sum(coalesce(json_extract(c.fields, '$.price'), '') = ''), 0) AS price,
          coalesce(sum(coalesce(json_extract(c.fields, '$.currency'), '') = ''), 0) AS currency,
          coalesce(sum(coalesce(json_extract(c.fields, '$.seller'), '') = ''), 0) AS seller,
          coalesce(sum(coalesce(l.listing_id, '') = ''), 0) AS listing_id
        FROM captures c JOIN listings l ON l.pk = c.listing_pk
        WHERE c.run_id = ? AND coalesce(c.purpose, '') != 'recheck' AND coalesce(c.purpose, '') NOT LIKE 'attachment:%'
        """,
            [run_id],
        )
    )
    captures = row.pop("captures")
    return {"captures": captures, "missing": row}


def run_capture_counts(store: Database, run_id: int) -> dict:
    """Captures a run stored, by purpose, and how many distinct listings its captures flagged."""
    by_purpose = {
        row["purpose"] or "unknown": row["n"]
        for row in store.query(
            "SELECT purpose, count(*) AS n FROM captures WHERE run_id = ? GROUP BY purpose ORDER BY purpose",
            [run_id],
        )
    }
    flagged = next(
        store.query(
            "SELECT count(DISTINCT c.listing_pk) AS n FROM captures c JOIN classifications k ON k.capture_id = c.id "
            "WHERE c.run_id = ? AND k.flagged = 1",
            [run_id],
        )
    )["n"]
    return {"by_purpose": by_purpose, "flagged_listings": flagged}


def run_status_observations(store: Database, run_id: int) -> dict[str, int]:
    """Listing statuses (live, ended, removed) recorded from a run's captures, counted."""
    return {
        row["status"]: row["n"]
        for row in store.query(
            "SELECT s.status, count(*) AS n FROM listing_status s JOIN captures c ON c.id = s.capture_id "
            "WHERE c.run_id = ? GROUP BY s.status ORDER BY s.status",
            [run_id],
        )
    }
