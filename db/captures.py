"""Saving what a spider fetched: listing index, content-addressed body, capture, classification, chain."""

import functools
import hashlib
import json
import math
import sqlite3
import zlib
from collections.abc import Mapping
from dataclasses import dataclass

from sqlite_utils import Database

from db.canonical import normalise_utc, utc_now
from db.chain import append_chain, appending
from db.connection import write_transaction
from db.hosts import MEDIA_PURPOSES, declared_hosts, refuse_foreign_host
from db.listing_index import first_index, refresh
from db.runs import default_crawler_version
from db.status import record_status

# What the spider extracted from the page, kept with the capture as it was at fetch time.
FIELD_KEYS = ("title", "description", "price", "currency", "seller", "condition", "extra", "url")

BODY_ENCODING = "zlib"


def _json(value) -> str:
    return json.dumps(_storable(value), ensure_ascii=False, sort_keys=True, default=str)


def _storable(value):
    """What JSON and SQLite can hold faithfully: NaN and infinities have no JSON form (stored as null), and SQLite's
    JSON functions and FTS5 stop reading text at a NUL (stored as U+FFFD, which shows that something was there)."""
    kind = type(value)
    # The usual values first, by exact type: the isinstance chain below cost more than the JSON encoding itself.
    if kind is str:
        return value.replace("\x00", "\ufffd")
    if kind is int or kind is bool or value is None:
        return value
    if kind is dict:
        return {_storable(k if type(k) is str else str(k)): _storable(v) for k, v in value.items()}
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, str):
        return value.replace("\x00", "\ufffd")
    if isinstance(value, dict):
        return {_storable(str(k)): _storable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_storable(v) for v in value]
    return value


def _finite(value) -> float | None:
    return float(value) if isinstance(value, (int, float)) and math.isfinite(value) else None


def _text(value) -> str:
    return value.decode("latin-1") if isinstance(value, (bytes, bytearray)) else str(value)


def normalise_headers(headers) -> dict[str, list[str]]:
    """Headers as {name: [values]} in the order received; Scrapy's bytes are read as Latin-1 (HTTP's charset)."""
    if not headers:
        return {}
    items = headers.items() if isinstance(headers, Mapping) else headers
    result: dict[str, list[str]] = {}
    for name, values in items:
        if isinstance(values, (str, bytes, bytearray)):
            values = [values]
        result.setdefault(_text(name), []).extend(_text(v) for v in values)
    return result


def _body_bytes(body) -> bytes:
    if isinstance(body, (bytes, bytearray, memoryview)):
        return bytes(body)
    raise TypeError(f"capture body must be the raw bytes received, not {type(body).__name__}")


def compress_body(body: bytes) -> bytes:
    # Level 3, not zlib's default 6: 1.6-1.7x less CPU for bodies 4-7% bigger (demo pages of 4 kB, generated pages
    # of 50-500 kB; measured 2026-12-01), where compressing was the biggest single cost of the store's writer.
    # Any level reads back the same bytes, and verify checks each body against its SHA-256.
    return zlib.compress(body, 3)


def decompress_body(blob: bytes, encoding: str) -> bytes:
    if encoding != BODY_ENCODING:
        raise ValueError(f"unknown body encoding {encoding!r}")
    return zlib.decompress(blob)


@dataclass
class _Run:
    """What every item of a group reads from its run, read once per group: the group's transaction holds the
    write lock, so neither can change meanwhile."""

    store: Database
    run_id: int | None
    declared: dict[str, list[str]] | None

    @classmethod
    def of(cls, store, run_id):
        return cls(store, run_id, None if run_id is None else declared_hosts(store, run_id))

    @functools.cached_property
    def crawler_version(self) -> str | None:
        # Read only when an item does not name its own version; a run that does not exist refuses each such item.
        if self.run_id is None:
            return None
        rows = self.store.conn.execute("SELECT crawler_version FROM crawl_runs WHERE id = ?", [self.run_id]).fetchall()
        if not rows:
            raise ValueError(f"crawl run {self.run_id} does not exist")
        return rows[0][0]


def save_capture(store, item, run_id: int | None = None) -> int:
    """Store one fetch of one listing as evidence, in one transaction; returns the capture id.

    `item` is a mapping with the ListingItem fields (docs/architecture.md). A re-crawl adds a capture; nothing
    already stored is changed, except the listing's index columns (title, price, last seen, ...), which are
    derived from the evidence (db/listing_index.py). A capture whose URLs are not on a host its run declared for
    the listing's marketplace is refused with db.hosts.ForeignHost.
    """
    with write_transaction(store), appending(store):
        capture_id, listing_pk = _save(store, item, _Run.of(store, run_id))
        refresh(store, [listing_pk])
    return capture_id


# What refuses one item of a group (ForeignHost is a ValueError; a trigger's RAISE an IntegrityError); anything
# else (a full disk, a lost lock) fails the whole group.
REFUSED = (ValueError, TypeError, KeyError, sqlite3.IntegrityError)


def save_captures(store, items, run_id: int | None = None) -> list[int | Exception]:
    """Store a group of fetches in one transaction: per item its capture id, or the exception that refused it.

    Each item is written inside its own savepoint, so a refused item (a foreign host, a missing id) leaves no
    trace and the others are still stored; the group becomes evidence at the one COMMIT, all of it or, if that
    fails (the exception propagates), none of it. The listings' index rows are refreshed once per group.
    """
    outcomes: list[int | Exception] = []
    listing_pks: set[int] = set()
    with write_transaction(store):
        run = _Run.of(store, run_id)
        for item in items:
            try:
                # A savepoint inside the group's transaction; the chain's head is kept in memory inside it only.
                with write_transaction(store), appending(store):
                    capture_id, listing_pk = _save(store, item, run)
            except REFUSED as error:
                outcomes.append(error)
                continue
            outcomes.append(capture_id)
            listing_pks.add(listing_pk)
        refresh(store, listing_pks)
    return outcomes


def _save(store, item, run: _Run) -> tuple[int, int]:
    """Write one item's capture, attachments, classification and status (the caller's transaction);
    returns (capture id, listing pk)."""
    item = dict(item)
    for key in ("marketplace", "listing_id"):
        if not item.get(key):
            raise ValueError(f"capture without {key}")
    if "\x00" in str(item["marketplace"]) + str(item["listing_id"]):
        raise ValueError("a marketplace or listing id with a NUL character")
    body = _body_bytes(item.get("body"))
    digest = hashlib.sha256(body).hexdigest()
    url = item.get("response_url") or item.get("url")
    if not url:
        raise ValueError("capture without a URL")
    if item.get("fetched_at"):
        fetched_at = normalise_utc(item["fetched_at"])
        clock_source = item.get("clock_source") or "crawler host system clock (UTC)"
    else:
        fetched_at = utc_now()
        clock_source = "store host system clock (UTC); fetch time not given by the crawler"
    classification = item.get("classification")
    watchlist_version = item.get("watchlist_version") or (classification or {}).get("watchlist_version")
    marketplace, listing_id = str(item["marketplace"]), str(item["listing_id"])
    status = item.get("status")
    attachments = list(item.get("attachments") or ())
    # Photos and the responses a rendering loaded may come from a CDN: the page capture that named them is checked.
    host_checked = [a for a in attachments if attachment_purpose(a) not in MEDIA_PURPOSES]
    urls = [item.get("request_url"), url, *(a.get(key) for a in host_checked for key in ("request_url", "url"))]
    # Each URL once (the request, response and canonical URLs are usually one), in order: the first foreign one is
    # the one named.
    refuse_foreign_host(run.declared, marketplace, list(dict.fromkeys(urls)))
    crawler_version = item.get("crawler_version") or run.crawler_version or default_crawler_version()
    fields = {k: item.get(k) for k in FIELD_KEYS}
    listing_pk = _listing_pk(
        store, marketplace, listing_id, first_index(fetched_at, url, item.get("purpose"), fields, classification)
    )
    capture_id = _insert_capture(
        store,
        listing_pk,
        run.run_id,
        body=body,
        digest=digest,
        request_url=item.get("request_url") or url,
        url=url,
        status=status,
        headers=item.get("headers"),
        fetched_at=fetched_at,
        clock_source=clock_source,
        crawler_version=crawler_version,
        watchlist_version=watchlist_version,
        purpose=item.get("purpose"),
        screen_score=item.get("screen_score"),
        fields=fields,
    )
    for attachment in attachments:
        # A document the listing is made of (eBay's description iframe): its own capture, linked to the page's.
        attached_body = _body_bytes(attachment.get("body"))
        _insert_capture(
            store,
            listing_pk,
            run.run_id,
            body=attached_body,
            digest=hashlib.sha256(attached_body).hexdigest(),
            request_url=attachment.get("request_url") or attachment["url"],
            url=attachment["url"],
            status=attachment.get("status"),
            headers=attachment.get("headers"),
            fetched_at=normalise_utc(attachment["fetched_at"]) if attachment.get("fetched_at") else fetched_at,
            clock_source=clock_source,
            crawler_version=crawler_version,
            watchlist_version=watchlist_version,
            purpose=attachment_purpose(attachment),
            screen_score=None,
            # What the crawler learned about the document (a photo's perceptual hashes, a rendering's browser).
            fields={
                **(attachment.get("fields") or {}),
                "attachment_of": capture_id,
                "kind": attachment.get("kind"),
            },
        )
    if classification is not None:
        _insert_classification(
            store, capture_id, classification, classifier_version=item.get("classifier_version") or crawler_version
        )
    _record_capture_status(store, listing_pk, capture_id, fetched_at, status, item.get("listing_status"))
    return capture_id, listing_pk


def attachment_purpose(attachment) -> str:
    """`attachment:<kind>`: a document the listing is made of, never a page of its own (db/media.py names the kinds)."""
    return f"attachment:{attachment.get('kind') or 'document'}"


def _insert_capture(
    store,
    listing_pk,
    run_id,
    *,
    body,
    digest,
    request_url,
    url,
    status,
    headers,
    fetched_at,
    clock_source,
    crawler_version,
    watchlist_version,
    purpose,
    screen_score,
    fields,
) -> int:
    """One body (stored once per SHA-256) and one capture row, linked into the chain."""
    conn = store.conn
    conn.execute(
        "INSERT OR IGNORE INTO bodies (sha256, body, size, encoding) VALUES (?, ?, ?, ?)",
        [digest, compress_body(body), len(body), BODY_ENCODING],
    )
    cursor = conn.execute(
        "INSERT INTO captures (listing_pk, run_id, request_url, url, status, headers, sha256, body_size, "
        "fetched_at, clock_source, crawler_version, watchlist_version, purpose, screen_score, fields) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [
            listing_pk,
            run_id,
            request_url,
            url,
            None if status is None else int(status),
            _json_headers(headers),
            digest,
            len(body),
            fetched_at,
            clock_source,
            crawler_version,
            watchlist_version,
            purpose,
            screen_score,
            _json(fields),
        ],
    )
    append_chain(store, "capture", cursor.lastrowid)
    return cursor.lastrowid


def _json_headers(headers) -> str:
    # Not key-sorted: the order the server sent headers in is part of what was received.
    return json.dumps(normalise_headers(headers), ensure_ascii=False)


def _listing_pk(store, marketplace: str, listing_id: str, index: dict) -> int:
    """The listing's pk, creating (and chaining) its identity the first time it is captured, with `index`, the
    index columns its first capture most likely gives it (db.listing_index.first_index)."""
    rows = store.conn.execute(
        "SELECT pk FROM listings WHERE marketplace = ? AND listing_id = ?", [marketplace, listing_id]
    ).fetchall()
    if rows:
        return rows[0][0]
    columns = ", ".join(f"[{c}]" for c in index)
    cursor = store.conn.execute(
        f"INSERT INTO listings (marketplace, listing_id, {columns}) VALUES (?, ?{', ?' * len(index)})",
        [marketplace, listing_id, *index.values()],
    )
    append_chain(store, "listing", cursor.lastrowid)
    return cursor.lastrowid


def _record_capture_status(store, listing_pk, capture_id, fetched_at, http_status, given_status):
    if given_status:
        record_status(store, listing_pk, given_status, fetched_at, capture_id=capture_id)
        return
    # A page served successfully is a sighting of a live listing; record it only when that is news.
    if http_status is not None and 200 <= int(http_status) < 300:
        [(current,)] = store.conn.execute("SELECT status FROM listings WHERE pk = ?", [listing_pk]).fetchall()
        if current != "live":
            record_status(store, listing_pk, "live", fetched_at, capture_id=capture_id, detail=f"HTTP {http_status}")


def save_classification(
    store, capture_id: int, classification: Mapping, *, classifier_version: str | None = None
) -> int:
    """Append a classification of a capture (a crawl's, or a later re-classification) and link it into the chain."""
    with write_transaction(store):
        classification_id = _insert_classification(
            store, capture_id, classification, classifier_version=classifier_version
        )
        refresh(store, _listings_of(store, [capture_id]))
    return classification_id


def save_classifications(store, scored) -> list[int]:
    """Append many classifications, (capture id, classification) pairs, in one transaction (a batch of a bulk
    job such as `reclassify`: the caller keeps batches small, since the write lock is held meanwhile)."""
    with write_transaction(store):
        ids = [_insert_classification(store, capture_id, c, classifier_version=None) for capture_id, c in scored]
        refresh(store, _listings_of(store, [capture_id for capture_id, _ in scored]))
    return ids


def _listings_of(store, capture_ids: list[int]) -> list[int]:
    rows = store.conn.execute(
        "SELECT DISTINCT listing_pk FROM captures WHERE id IN (SELECT value FROM json_each(?))",
        [json.dumps(capture_ids)],
    ).fetchall()
    return [pk for (pk,) in rows]


def _insert_classification(store, capture_id: int, classification: Mapping, *, classifier_version) -> int:
    c = dict(classification)
    risk = c.get("risk")
    cursor = store.conn.execute(
        "INSERT INTO classifications (capture_id, watchlist_version, classifier_version, flagged, category, "
        "risk, score, matches, created_at, probability, threshold) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [
            capture_id,
            c.get("watchlist_version"),
            c.get("classifier_version") or classifier_version or default_crawler_version(),
            int(bool(c.get("flagged"))),
            c.get("category"),
            None if risk is None else str(risk),
            c.get("score"),
            _json(c.get("matches") or []),
            utc_now(),
            # The model's probability and its flag threshold (db/schema.py evidence_v3); absent for rules-only.
            _finite(c.get("probability")),
            _finite((c.get("model") or {}).get("threshold")),
        ],
    )
    append_chain(store, "classification", cursor.lastrowid)
    return cursor.lastrowid
