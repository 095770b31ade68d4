"""What the review desk reads: the queue with its filters, search and counts, a seller's listings, and one
listing as its page shows it. Review statuses come from the `review_status` view (db/decisions.py)."""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass

from sqlite_utils import Database

from db import desk_counts
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
    order: str = "risk"  # a key of ORDERS


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
        l.category, l.risk, l.risk_rank, l.score, l.uncertainty,
        r.status AS review_status, r.user AS decided_by, r.created_at AS decided_at,
        r.category AS decided_category, r.reason AS decided_reason
    FROM listings l JOIN review_status r ON r.listing_pk = l.pk
"""


# The queue's orders, as (SQL key, type) from the first key to the tie-breaker: the keys of the index that serves
# each one (db/desk_counts.py), so a page is read from where the previous one ended (a keyset, not an OFFSET).
ORDERS = {
    "risk": (("l.risk_rank", int), ("ifnull(l.score, -1)", float), ("l.first_seen", str), ("l.pk", int)),
    # Nearest the model's threshold first: where a reviewer's label teaches the model most.
    "uncertain": (("ifnull(l.uncertainty, 2)", float), ("l.pk", int)),
    # The "missed?" sample's fixed shuffle of unflagged listings (db/desk_counts.py, SAMPLE_ORDER).
    "sample": (("(l.pk * 2654435761) % 4294967296", int), ("l.pk", int)),
}
DESCENDING = {"risk": True, "uncertain": False, "sample": False}
_INDEX = {"risk": "listings_desk_queue", "uncertain": "listings_desk_uncertain", "sample": "listings_desk_sample"}
# The reviewer's choice of order for flagged listings; the "missed?" view has its own.
CHOSEN_ORDERS = ("risk", "uncertain")
MISSED = "missed"  # the view of unflagged listings to label: pending ones of the sample


@dataclass
class Page:
    rows: list[dict]
    next_after: str | None  # the cursor of the next page (`after=`), None on the last
    previous_before: str | None  # the cursor of the previous page (`before=`), None on the first


# A search matching many listings is "common": its matches are checked one listing at a time while the queue's
# index is walked, so a page stops after its 50 rows, and its tabs are not counted. Listing every match first
# costs about 0.4 us a match, checking one listing about 90 us (FTS5 seeks the word's list of listings): listing
# first is cheaper up to about sqrt(12,000 x listings) matches (a page needs 50 / share-matching checks).
MIN_COMMON_SEARCH = 20_000


# A search matching fewer listings than this reads them by rowid and sorts them, rather than walking the queue.
FEW_MATCHES = 5_000


def search_size(store: Database, f: QueueFilter) -> str:
    """ "" (no search), "few", "many" (listed first, then filtered) or "common" (checked one listing at a time)."""
    match = fts_query(f.q)
    if not match:
        return ""
    listings = sum(desk_counts.counts(store).values()) + sum(desk_counts.counts(store, flagged=False).values())
    limit = max(MIN_COMMON_SEARCH, math.isqrt(12_000 * listings))
    sql = "SELECT count(*) AS n FROM (SELECT rowid FROM listings_fts WHERE listings_fts MATCH ? LIMIT ?)"
    found = next(store.query(sql, [match, limit + 1]))["n"]
    return "common" if found > limit else "few" if found <= FEW_MATCHES else "many"


def common_search(store: Database, f: QueueFilter) -> bool:
    return search_size(store, f) == "common"


def _queue_where(f: QueueFilter, *, with_status: bool = True, common: bool = False) -> tuple[str, list]:
    where: list[str] = ["l.flagged = 0 AND l.review_status = 'pending'" if f.status == MISSED else "l.flagged = 1"]
    params: list[str] = []
    if with_status and f.status not in ("all", MISSED):
        statuses = OPEN_STATUSES if f.status == "open" else (f.status,)
        where.append(f"l.review_status IN ({', '.join('?' for _ in statuses)})")
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
    if match and common:
        where.append("EXISTS (SELECT 1 FROM listings_fts WHERE listings_fts MATCH ? AND rowid = l.pk)")
        params.append(match)
    elif match:
        where.append("l.pk IN (SELECT rowid FROM listings_fts WHERE listings_fts MATCH ?)")
        params.append(match)
    return " AND ".join(where), params


def cursor_of(row: dict, order: str = "risk") -> str:
    """The keyset position of a queue row, as the `after=`/`before=` of a page link."""
    values = {
        "risk": (row["risk_rank"], -1 if row["score"] is None else row["score"], row["first_seen"], row["pk"]),
        "uncertain": (2 if row.get("uncertainty") is None else row["uncertainty"], row["pk"]),
        "sample": ((row["pk"] * 2654435761) % 4294967296, row["pk"]),
    }[order]
    return "~".join(str(v) for v in values)


def parse_cursor(text: str | None, order: str = "risk") -> tuple | None:
    """A cursor from a URL, or None when there is none or it is not one (a hand-edited link: the first page)."""
    if not text or len(text) > 200:
        return None
    parts = text.split("~")
    keys = ORDERS[order]
    if len(parts) != len(keys):
        return None
    try:
        values = tuple(kind(part) for (_, kind), part in zip(keys, parts))
    except ValueError:
        return None
    if any(isinstance(v, int) and abs(v) >= 2**63 for v in values):
        return None
    return values


def _order_of(f: QueueFilter) -> str:
    return "sample" if f.status == MISSED else (f.order if f.order in CHOSEN_ORDERS else "risk")


@dataclass
class Matches:
    """A search's few matching listings (search_size "few") as the tabs count them and the queue orders them: read
    once for both, not by one query for the counts and another for the page (each listing row is a random read,
    3,700 of them for "programmer" at 1M listings)."""

    rows: list[tuple]  # (review status, the order's keys...)


def search_matches(store: Database, f: QueueFilter) -> Matches:
    """The listings a search with few matches finds, whatever their review status (the tabs count them all)."""
    where, params = _queue_where(f, with_status=False)
    keys = ", ".join(sql for sql, _ in ORDERS[_order_of(f)])
    return Matches(
        [
            tuple(row)
            for row in store.execute(
                f"SELECT l.review_status, {keys} FROM listings l NOT INDEXED WHERE {where}", params
            )
        ]
    )


def _page_of(matches: Matches, f: QueueFilter, cursor: tuple | None, descending: bool, limit: int) -> list[int]:
    """What the page query returns (queue_page), from the matches in memory: the same keys, compared as SQLite's row
    values compare them (the keys are never NULL, see ORDERS)."""
    statuses = None if f.status in ("all", MISSED) else (OPEN_STATUSES if f.status == "open" else (f.status,))
    rows = [row[1:] for row in matches.rows if statuses is None or row[0] in statuses]
    if cursor is not None:
        rows = [row for row in rows if (row < cursor if descending else row > cursor)]
    rows.sort(reverse=descending)
    return [row[-1] for row in rows[: limit + 1]]  # the last key is the listing's pk


def queue_page(
    store: Database,
    f: QueueFilter,
    *,
    limit: int = 100,
    after: str | None = None,
    before: str | None = None,
    size: str | None = None,
    matches: Matches | None = None,
) -> Page:
    """One page of flagged listings for review in the filter's order (ORDERS), after or before a cursor. `size`:
    the search's search_size when the caller has it already (counting a common word's matches costs 10 ms at 1M
    listings); `matches`: its search_matches, when the caller has read them for the counts too."""
    order = _order_of(f)
    keys = ORDERS[order]
    size = search_size(store, f) if size is None else size
    where, params = _queue_where(f, common=size == "common")
    start_after, end_before = parse_cursor(after, order), parse_cursor(before, order)
    backwards = end_before is not None and start_after is None
    cursor = end_before if backwards else start_after
    descending = DESCENDING[order] != backwards  # reading backwards flips the order
    if matches is not None:
        pks = _page_of(matches, f, cursor, descending, limit)
    else:
        pks = _page_query(store, f, where, params, keys, cursor, descending, size, limit)
    more = len(pks) > limit
    pks = pks[:limit]
    if backwards:
        pks.reverse()
    found = {
        row["pk"]: row
        for row in store.query(f"{_ROWS} WHERE l.pk IN (SELECT value FROM json_each(?))", [json.dumps(pks)])
    }
    rows = [found[pk] for pk in pks]
    if not rows:
        return Page([], None, None)
    has_next = more if not backwards else True
    has_previous = (start_after is not None) if not backwards else more
    return Page(
        rows,
        cursor_of(rows[-1], order) if has_next else None,
        cursor_of(rows[0], order) if has_previous else None,
    )


def _page_query(store, f, where, params, keys, cursor, descending, size, limit) -> list[int]:
    order = _order_of(f)
    if cursor is not None:
        # The first key bounds the index range; the row value then picks up exactly after the cursor.
        comparison = "<" if descending else ">"
        where += f" AND {keys[0][0]} {comparison}= ? AND ({', '.join(sql for sql, _ in keys)}) {comparison} "
        where += f"({', '.join('?' for _ in keys)})"
        params += [cursor[0], *cursor]
    direction = "DESC" if descending else "ASC"
    # A seller's listings are few: read by the seller index and sorted. Otherwise the order's index is walked
    # and filtered inside the index (a search's matches are looked up by rowid), so no page reads more than
    # the flagged listings' index entries, and the first page far fewer.
    index = "INDEXED BY listings_desk_seller" if f.seller else f"INDEXED BY {_INDEX[order]}"
    if size == "few" and not f.seller:
        index = "NOT INDEXED"  # by rowid from the search's matches, then sorted
    return [
        row["pk"]
        for row in store.query(
            f"SELECT l.pk FROM listings l {index} WHERE {where} "
            f"ORDER BY {', '.join(f'{sql} {direction}' for sql, _ in keys)} LIMIT ?",
            params + [limit + 1],
        )
    ]


def queue(store: Database, f: QueueFilter, *, limit: int = 100, after: str | None = None) -> list[dict]:
    """Flagged listings for review: by default highest risk, then highest score, then newest first."""
    return queue_page(store, f, limit=limit, after=after).rows


def queue_row(store: Database, listing_pk: int) -> dict | None:
    return next(store.query(f"{_ROWS} WHERE l.pk = ?", [listing_pk]), None)


def queue_counts(
    store: Database, f: QueueFilter, *, size: str | None = None, matches: Matches | None = None
) -> dict[str, int]:
    """How many flagged listings match the other filters, per review status (plus open and all, the "missed?"
    labels so far, and `uncounted`: 1 for a search too common to count, see common_search). `size` and `matches`
    as for queue_page."""
    counts = dict.fromkeys(REVIEW_STATUSES, 0)
    counts["uncounted"] = 0
    size = search_size(store, f) if size is None else size
    if size == "common":
        counts["uncounted"] = 1  # see common_search
    elif matches is not None:
        for row in matches.rows:
            counts[row[0]] += 1
    elif f.seller or f.since or f.until or size:
        where, params = _queue_where(f, with_status=False)
        # A search's matches by rowid (there are fewer of them than flagged listings, see search_size).
        index = "NOT INDEXED" if size and not f.seller else ""
        rows = store.query(
            f"SELECT l.review_status AS status, count(*) AS n FROM listings l {index} WHERE {where} GROUP BY 1",
            params,
        )
        counts.update({row["status"]: row["n"] for row in rows})
    else:  # the counters the writes keep (db/desk_counts.py)
        counts.update(desk_counts.counts(store, category=f.category, marketplace=f.marketplace))
    counts["open"] = sum(counts[s] for s in OPEN_STATUSES)
    counts["all"] = sum(counts[s] for s in REVIEW_STATUSES)
    labelled = desk_counts.counts(store, flagged=False)
    counts[MISSED] = labelled.get("confirmed", 0) + labelled.get("dismissed", 0)  # labelled so far
    return counts


def filter_choices(store: Database, categories) -> dict[str, list[str]]:
    """Values offered in the queue's filter menus: the watchlist's categories and every marketplace seen."""
    return {"category": list(categories), "marketplace": desk_counts.marketplaces(store)}


def seller_listings(
    store: Database,
    marketplace: str,
    seller: str,
    *,
    exclude_pk: int | None = None,
    open_only: bool = False,
    limit: int = -1,
) -> list[dict]:
    """Listings by `seller` (of record) on `marketplace`, flagged ones first (only the flagged open ones, when
    `open_only`: the scope of a decision for all of a seller's listings); `limit` -1 for all."""
    if not seller:
        return []
    scope = f"AND flagged = 1 AND review_status IN {OPEN_STATUSES}" if open_only else ""
    # The seller's listings by the seller index first: joined to the review status view, the planner would rather
    # walk the queue's index over every flagged listing.
    pks = [
        row["pk"]
        for row in store.query(
            f"""SELECT pk FROM listings INDEXED BY listings_seller WHERE marketplace = ? AND seller = ? AND pk != ?
                {scope} ORDER BY flagged DESC, risk_rank DESC, score DESC, pk LIMIT ?""",
            [marketplace, seller, exclude_pk if exclude_pk is not None else -1, limit],
        )
    ]
    found = {
        row["pk"]: row
        for row in store.query(f"{_ROWS} WHERE l.pk IN (SELECT value FROM json_each(?))", [json.dumps(pks)])
    }
    return [found[pk] for pk in pks]


def seller_listing_count(store: Database, marketplace: str, seller: str) -> int:
    return next(
        store.query("SELECT count(*) AS n FROM listings WHERE marketplace = ? AND seller = ?", [marketplace, seller])
    )["n"]


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
