"""What the review desk reads: the queue with its filters, search and counts, a seller's listings, and one
listing as its page shows it. Review statuses come from the `review_status` view (db/decisions.py)."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

from sqlite_utils import Database

from db.decisions import OPEN_STATUSES, REVIEW_STATUSES
from db.queries import FLAG_DROPPED


@dataclass
class QueueFilter:
    status: str = "open"  # open (pending + escalated) | pending | escalated | confirmed | dismissed | all
    category: str = ""
    marketplace: str = ""
    seller: str = ""
    since: str = ""  # YYYY-MM-DD, on first_seen (UTC)
    until: str = ""
    q: str = ""  # full-text search over title and description


_CONTROL_CHARACTERS = re.compile("[\x00-\x1f\x7f-\x9f]")


def fts_query(text: str) -> str:
    """A reviewer's words as an FTS5 query: every word must appear (a trailing * keeps prefix search)."""
    terms = []
    # A control character separates words: FTS5 reads a NUL inside a quoted term as the end of the query.
    for word in _CONTROL_CHARACTERS.sub(" ", text).split():
        prefix = word.endswith("*") and len(word) > 1
        word = word.rstrip("*").replace('"', '""')
        if word:
            terms.append(f'"{word}"' + ("*" if prefix else ""))
    return " ".join(terms)


# flag_dropped: still flagged by an earlier capture, but the newest no longer matches; latest_seller: the seller
# the newest capture shows, beside the seller of record (docs/evidence.md, "The listings index").
_ROWS = f"""
    SELECT l.pk, l.marketplace, l.listing_id, l.url, l.title, l.seller, l.latest_seller, l.price, l.currency,
        l.first_seen, l.last_seen, l.status AS listing_status, l.flagged, {FLAG_DROPPED} AS flag_dropped,
        l.category, l.risk, l.risk_rank, l.score,
        r.status AS review_status, r.user AS decided_by, r.created_at AS decided_at,
        r.category AS decided_category, r.reason AS decided_reason
    FROM listings l JOIN review_status r ON r.listing_pk = l.pk
"""


def _queue_where(f: QueueFilter, *, with_status: bool = True) -> tuple[str, list]:
    where: list[str] = ["l.flagged = 1"]
    params: list[str] = []
    if with_status and f.status != "all":
        statuses = OPEN_STATUSES if f.status == "open" else (f.status,)
        where.append(f"r.status IN ({', '.join('?' for _ in statuses)})")
        params.extend(statuses)
    for column, value in (("l.category", f.category), ("l.marketplace", f.marketplace), ("l.seller", f.seller)):
        if value:
            where.append(f"{column} = ?")
            params.append(value)
    if f.since:
        where.append("l.first_seen >= ?")
        params.append(f.since)
    if f.until:
        # A bare date includes that whole day.
        where.append("l.first_seen < ?")
        params.append(f.until + "\uffff" if len(f.until) == 10 else f.until)
    match = fts_query(f.q)
    if match:
        where.append("l.pk IN (SELECT rowid FROM listings_fts WHERE listings_fts MATCH ?)")
        params.append(match)
    return " AND ".join(where), params


def queue(store: Database, f: QueueFilter, *, limit: int = 100, offset: int = 0) -> list[dict]:
    """Flagged listings for review, highest risk then highest score first."""
    where, params = _queue_where(f)
    sql = f"""{_ROWS} WHERE {where}
              ORDER BY l.risk_rank DESC, l.score DESC, l.first_seen DESC, l.pk
              LIMIT ? OFFSET ?"""
    return list(store.query(sql, params + [limit, offset]))


def queue_row(store: Database, listing_pk: int) -> dict | None:
    return next(store.query(f"{_ROWS} WHERE l.pk = ?", [listing_pk]), None)


def queue_counts(store: Database, f: QueueFilter) -> dict[str, int]:
    """How many flagged listings match the other filters, per review status (plus open and all)."""
    where, params = _queue_where(f, with_status=False)
    counts = dict.fromkeys(REVIEW_STATUSES, 0)
    for row in store.query(
        f"""SELECT r.status, count(*) AS n FROM listings l JOIN review_status r ON r.listing_pk = l.pk
            WHERE {where} GROUP BY 1""",
        params,
    ):
        counts[row["status"]] = row["n"]
    counts["open"] = sum(counts[s] for s in OPEN_STATUSES)
    counts["all"] = sum(counts[s] for s in REVIEW_STATUSES)
    return counts


def filter_choices(store: Database) -> dict[str, list[str]]:
    """Values offered in the queue's filter menus."""

    def values(column):
        return [
            row["v"]
            for row in store.query(
                f"SELECT DISTINCT {column} AS v FROM listings WHERE flagged = 1 AND {column} IS NOT NULL ORDER BY 1"
            )
        ]

    return {"category": values("category"), "marketplace": values("marketplace")}


def seller_listings(store: Database, marketplace: str, seller: str, *, exclude_pk: int | None = None) -> list[dict]:
    """Every listing by `seller` (of record) on `marketplace`, flagged ones first."""
    if not seller:
        return []
    return list(
        store.query(
            f"""{_ROWS} WHERE l.marketplace = ? AND l.seller = ? AND l.pk != ?
                ORDER BY l.flagged DESC, l.risk_rank DESC, l.score DESC, l.pk""",
            [marketplace, seller, exclude_pk if exclude_pk is not None else -1],
        )
    )


# ---------------------------------------------------------------- one listing's page


def _fields(store: Database, capture_id: int | None) -> dict:
    row = next(store.query("SELECT fields FROM captures WHERE id = ?", [capture_id]), None)
    return json.loads(row["fields"] or "{}") if row else {}


def listing_page(store: Database, listing_pk: int) -> dict | None:
    """Everything the listing page shows, or None if there is no such listing: its queue row, `fields` of the
    newest capture, the `classification` that flags it (`matches` parsed) and the `classified_fields` it read."""
    result = queue_row(store, listing_pk)
    if result is None:
        return None
    index = next(store.query("SELECT latest_capture_id, classification_id FROM listings WHERE pk = ?", [listing_pk]))
    result["latest_capture_id"] = index["latest_capture_id"]
    result["fields"] = _fields(store, index["latest_capture_id"])
    result["classification"] = None
    if index["classification_id"] is not None:
        classification = next(store.query("SELECT * FROM classifications WHERE id = ?", [index["classification_id"]]))
        classification["matches"] = json.loads(classification["matches"] or "[]")
        result["classification"] = classification
    # The classifier's offsets point into the text of the capture it classified, which is not the newest one when
    # a later re-check found the page gone (or the flag was dropped): highlight that capture's text.
    result["classified_fields"] = result["fields"]
    classified = result["classification"]
    if classified is not None and classified["capture_id"] != index["latest_capture_id"]:
        result["classified_fields"] = _fields(store, classified["capture_id"])
    return result


def listing_captures(store: Database, listing_pk: int) -> list[dict]:
    """The listing's captures, newest first, with whether each one's body is still stored."""
    return list(
        store.query(
            """SELECT c.id, c.url, c.status, c.sha256, c.body_size, c.fetched_at, c.clock_source, c.run_id, c.purpose,
                  c.crawler_version, c.watchlist_version, (b.sha256 IS NOT NULL) AS body_kept
               FROM captures c LEFT JOIN bodies b ON b.sha256 = c.sha256
               WHERE c.listing_pk = ? ORDER BY c.fetched_at DESC, c.id DESC""",
            [listing_pk],
        )
    )
