"""Writing a group of prepared captures table by table: one statement per table, not a few per capture.

db/captures.py checks and computes each item (`Item`); `write` gives the group its ids, writes its listings,
bodies, captures, classifications and status observations with one `executemany` each, and links them into the
chain in the order a capture-by-capture writer would (per item: a new listing, its page, its attachments, its
classification, its status), hashing each record from the values inserted (db/stored_values.py) instead of reading
it back. It runs inside the caller's write transaction, which holds the write lock, so the ids it takes (one more
than the largest, what SQLite would give) and the chain's head cannot move meanwhile.

A new listing is inserted with the index columns its one capture gives it (db.listing_index.first_index), its
capture, classification and status ids included, so that the index refresh after the group has nothing to update
for it, and the desk's count triggers fire once, at the insert. Where that guess is exact and the listing has no
other capture in the group, the refresh does not derive its row again: it only writes its search row.

db.save_captures picks how a group is written (below): whole in its own transaction, rolled back and redone item
by item if the database refuses any of it; in a savepoint inside a caller's transaction.
"""

import json
import sqlite3
from dataclasses import dataclass, field

from db.canonical import utc_now
from db.chain import append_links
from db.connection import write_transaction
from db.desk_counts import uncertainty_of
from db.listing_index import is_attachment
from db.stored_values import declared_types, storable_json, stored_row


@dataclass
class Capture:
    body: tuple  # (sha256, compressed body, size, encoding): a `bodies` row
    values: dict  # the capture's columns but id, listing_pk and fields
    fields: dict  # what the spider extracted (an attachment's `attachment_of` is filled in here)


@dataclass
class Item:
    marketplace: str
    listing_id: str
    fetched_at: str
    index: dict  # the index columns a new listing's first capture gives it
    search: tuple | None  # and its search row (title, description), when the index columns are exact
    page: Capture
    attachments: list[Capture] = field(default_factory=list)
    classification: dict | None = None  # its columns but id and capture_id
    given_status: str | None = None  # the listing status the item names
    live_detail: str | None = None  # a page served successfully: recorded as `live` when that is news


_LAST_IDS = (
    "SELECT (SELECT max(pk) FROM listings), (SELECT max(id) FROM captures), (SELECT max(id) FROM classifications), "
    "(SELECT max(id) FROM listing_status)"
)
_KNOWN = (
    "SELECT l.pk, l.marketplace, l.listing_id, l.status, l.status_at FROM json_each(?) j "
    "JOIN listings l ON l.marketplace = json_extract(j.value, '$[0]') AND l.listing_id = json_extract(j.value, '$[1]')"
)
_TABLES = ("captures", "classifications", "listing_status")


def write(store, items: list[Item]) -> tuple[list[tuple[int, int]], dict[int, tuple]]:
    """Write the group; per item (its page capture's id, its listing's pk), and {pk: search row} of the new
    listings whose index row was written exactly as the rules define it (db.listing_index.refresh)."""
    if not items:
        return [], {}
    conn = store.conn
    declared = {table: declared_types(store, table) for table in _TABLES}
    desk_columns = "uncertainty" in declared_types(store, "listings")
    [last] = conn.execute(_LAST_IDS).fetchall()
    last_pk, last_capture, last_classification, last_status = (n or 0 for n in last)
    known = _known_listings(conn, items)
    new_listings: dict[tuple, list] = {}  # {columns: [values, ...]}
    rows: dict[str, list] = {table: [] for table in _TABLES}
    bodies: list[tuple] = []
    status_moves: list[tuple] = []
    links: list[tuple[str, int, str, dict | None]] = []
    written: list[tuple[int, int]] = []
    exact: dict[int, tuple] = {}
    for item in items:
        created_at = utc_now()  # of the item's chain links
        found = known.get((item.marketplace, item.listing_id))
        new = found is None
        if found is None:
            last_pk += 1
            listing = known[(item.marketplace, item.listing_id)] = [last_pk, None, None]
            links.append(
                (
                    "listing",
                    last_pk,
                    created_at,
                    {"pk": last_pk, "marketplace": item.marketplace, "listing_id": item.listing_id},
                )
            )
            if item.search is not None:
                exact[last_pk] = item.search
        else:
            listing = found
            exact.pop(listing[0], None)  # a second capture in the group: the guess was of the first alone
        listing_pk = listing[0]
        page_id = last_capture + 1
        for capture in (item.page, *item.attachments):
            last_capture += 1
            if capture is not item.page:
                capture.fields["attachment_of"] = page_id
            values = {
                "id": last_capture,
                "listing_pk": listing_pk,
                **capture.values,
                "fields": storable_json(capture.fields),
            }
            bodies.append(capture.body)
            rows["captures"].append(values)
            links.append(("capture", last_capture, created_at, stored_row(values, declared["captures"])))
        classification_id = None
        if item.classification is not None:
            last_classification += 1
            classification_id = last_classification
            values = {"id": classification_id, "capture_id": page_id, **item.classification}
            rows["classifications"].append(values)
            links.append(
                ("classification", classification_id, created_at, stored_row(values, declared["classifications"]))
            )
        status = _status_of(item, listing)
        if status is not None:
            last_status += 1
            values = {
                "id": last_status,
                "listing_pk": listing_pk,
                "status": status[0],
                "observed_at": item.fetched_at,
                "capture_id": page_id,
                "detail": status[1],
            }
            rows["listing_status"].append(values)
            links.append(("status", last_status, created_at, stored_row(values, declared["listing_status"])))
            # Observations can arrive out of order (re-checks, imports): the index shows the newest one.
            if listing[2] is None or listing[2] <= item.fetched_at:
                listing[1], listing[2] = status[0], item.fetched_at
                if not new:
                    status_moves.append((status[0], item.fetched_at, listing_pk, item.fetched_at))
        if new:
            index = _index_of(item, page_id, classification_id, status, desk_columns)
            new_listings.setdefault(tuple(index), []).append(
                [listing_pk, item.marketplace, item.listing_id, *index.values()]
            )
        written.append((page_id, listing_pk))
    _insert_rows(conn, new_listings, bodies, rows, status_moves)
    append_links(store, links)
    return written, exact


def _known_listings(conn, items: list[Item]) -> dict[tuple[str, str], list]:
    """{(marketplace, listing id): [pk, status, status_at]} of the group's listings already stored (the group then
    adds its new ones, and moves their status as it records observations)."""
    pairs = json.dumps([[i.marketplace, i.listing_id] for i in items])
    return {(m, i): [pk, status, at] for pk, m, i, status, at in conn.execute(_KNOWN, [pairs]).fetchall()}


def _insert_rows(conn, new_listings: dict, bodies: list, rows: dict, status_moves: list) -> None:
    """One statement per table (listings: per set of guessed columns); listings first, which the others name."""
    for columns, values in new_listings.items():
        names = ", ".join(f"[{c}]" for c in columns)
        conn.executemany(
            f"INSERT INTO listings (pk, marketplace, listing_id, {names}) VALUES (?, ?, ?{', ?' * len(columns)})",
            values,
        )
    conn.executemany("INSERT OR IGNORE INTO bodies (sha256, body, size, encoding) VALUES (?, ?, ?, ?)", bodies)
    for table in _TABLES:
        _insert(conn, table, rows[table])
    # The same rule as db.status.record_status; a listing new in this group was inserted with its status.
    conn.executemany(
        "UPDATE listings SET status = ?, status_at = ? WHERE pk = ? AND (status_at IS NULL OR status_at <= ?)",
        status_moves,
    )


def _status_of(item: Item, listing: list) -> tuple[str, str | None] | None:
    """(status, detail) of the observation the item records, or None."""
    if item.given_status:
        return item.given_status, None
    if item.live_detail and listing[1] != "live":
        return "live", item.live_detail
    return None


def _index_of(item: Item, page_id: int, classification_id: int | None, status, desk_columns: bool) -> dict:
    """A new listing's index columns as its one capture defines them: first_index's guess, with the ids (which
    only a page capture sets) and the newest status. A wrong guess is set right by the refresh after the group."""
    index = dict(item.index)
    if status is not None:
        index["status"], index["status_at"] = status[0], item.fetched_at
    if is_attachment(item.page.values["purpose"]):  # never moves the index: the refresh leaves its row alone
        return index
    index["latest_capture_id"] = page_id
    if classification_id is not None:
        index["classification_id"] = index["latest_classification_id"] = classification_id
        if desk_columns and item.classification is not None:
            # What the desk_uncertainty trigger would set once classification_id changes (db/desk_counts.py).
            index["uncertainty"] = uncertainty_of(item.classification["probability"], item.classification["threshold"])
    return index


def _insert(conn, table: str, rows: list[dict]) -> None:
    if rows:
        columns = list(rows[0])
        conn.executemany(
            f"INSERT INTO [{table}] ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})",
            [list(row.values()) for row in rows],
        )


# ---- how a group is written: whole, or item by item when the database refuses one of it

# What refuses one item of a group (ForeignHost is a ValueError; a trigger's RAISE an IntegrityError); anything
# else (a full disk, a lost lock) fails the whole group.
REFUSED = (ValueError, TypeError, KeyError, sqlite3.IntegrityError)


class GroupRefused(Exception):
    """The database refused some item of a group written without a savepoint: its transaction is rolled back."""


# A group's writer: per item what it wrote or what refused it, and the search rows of the new listings whose index
# row needs no refresh (`write`, above).
Written = tuple[list[tuple[int, int] | Exception], dict[int, tuple]]


def in_transaction(store, ready: list) -> Written:
    # A savepoint would copy every page the group changes (~800 for 50 captures) to its journal first, for the
    # rare group the database refuses; rolling the transaction back undoes such a group as well.
    try:
        written, exact = write(store, ready)
    except REFUSED as error:
        raise GroupRefused from error
    return list(written), exact


def in_savepoint(store, ready: list) -> Written:
    try:
        with write_transaction(store):  # a savepoint: what the group wrote is undone if it is refused
            written, exact = write(store, ready)
            return list(written), exact
    except REFUSED:
        return one_by_one(store, ready)


def one_by_one(store, ready: list) -> Written:
    return [_write_alone(store, p) for p in ready], {}


def _write_alone(store, item: Item) -> tuple[int, int] | Exception:
    try:
        with write_transaction(store):
            [written], _ = write(store, [item])
    except REFUSED as error:
        return error
    return written
