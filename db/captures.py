"""Saving what a spider fetched: listing index, content-addressed body, capture, classification, chain."""

import functools
import hashlib
import json
import math
import zlib
from collections.abc import Mapping
from dataclasses import dataclass

from sqlite_utils import Database

from db import capture_group
from db.canonical import normalise_utc, utc_now
from db.chain import append_chain
from db.connection import journals_in_memory, write_transaction
from db.hosts import MEDIA_PURPOSES, declared_hosts, refuse_foreign_host
from db.listing_index import first_index, refresh
from db.runs import default_crawler_version
from db.status import LISTING_STATUSES
from db.stored_values import storable as _storable  # noqa: F401 - tests read it here
from db.stored_values import storable_json as _json

# What the spider extracted from the page, kept with the capture as it was at fetch time.
FIELD_KEYS = ("title", "description", "price", "currency", "seller", "condition", "extra", "url")

BODY_ENCODING = "zlib"


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
    [outcome] = save_captures(store, [item], run_id)
    if isinstance(outcome, Exception):
        raise outcome
    return outcome


def save_captures(store, items, run_id: int | None = None) -> list[int | Exception]:
    """Store a group of fetches in one transaction: per item its capture id, or the exception that refused it.

    A refused item (a foreign host, a missing id, a value a constraint rejects) leaves no trace and the others are
    still stored; the group becomes evidence at the one COMMIT, all of it or, if that fails (the exception
    propagates), none of it. The group is written table by table (db/capture_group.py); if the database refuses
    any of it, that is undone and the items are written again one by one, each in its own savepoint, so that
    only the item at fault is refused. The listings' index rows are refreshed once per group.
    """
    if store.conn.in_transaction:  # the caller's: a savepoint undoes what a refused group wrote
        with write_transaction(store):
            return _save(store, items, run_id, capture_group.in_savepoint)
    with journals_in_memory(store):
        try:
            with write_transaction(store):
                return _save(store, items, run_id, capture_group.in_transaction)
        except capture_group.GroupRefused:
            pass  # rolled back, the group and all: prepared and written again, item by item
        with write_transaction(store):
            return _save(store, items, run_id, capture_group.one_by_one)


def _save(store, items, run_id, write_group) -> list[int | Exception]:
    run = _Run.of(store, run_id)
    prepared: list[capture_group.Item | Exception] = []
    for item in items:
        try:
            prepared.append(_prepare(item, run))
        except capture_group.REFUSED as error:
            prepared.append(error)
    written, exact = write_group(store, [p for p in prepared if not isinstance(p, Exception)])
    stored = iter(written)
    outcomes = [p if isinstance(p, Exception) else next(stored) for p in prepared]
    refresh(store, {o[1] for o in outcomes if not isinstance(o, Exception)}, exact)
    return [o if isinstance(o, Exception) else o[0] for o in outcomes]


def _prepare(item, run: _Run) -> "capture_group.Item":
    """Everything one item will write, checked and computed before the group touches the database."""
    item = dict(item)
    for key in ("marketplace", "listing_id"):
        if not item.get(key):
            raise ValueError(f"capture without {key}")
    if "\x00" in str(item["marketplace"]) + str(item["listing_id"]):
        raise ValueError("a marketplace or listing id with a NUL character")
    body = _body_bytes(item.get("body"))
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
    index, search = first_index(fetched_at, url, item.get("purpose"), fields, classification)
    page = _capture(
        run.run_id,
        body=body,
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
    documents = []
    for attachment in attachments:
        # A document the listing is made of (eBay's description iframe): its own capture, linked to the page's.
        documents.append(
            _capture(
                run.run_id,
                body=_body_bytes(attachment.get("body")),
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
                # What the crawler learned about the document (a photo's perceptual hashes, a rendering's browser);
                # `attachment_of` is the page capture's id, known once the group is written.
                fields={**(attachment.get("fields") or {}), "attachment_of": None, "kind": attachment.get("kind")},
            )
        )
    verdict = None
    if classification is not None:
        verdict = _classification_values(classification, item.get("classifier_version") or crawler_version)
    return capture_group.Item(
        marketplace=marketplace,
        listing_id=listing_id,
        fetched_at=fetched_at,
        index=index,
        search=search,
        page=page,
        attachments=documents,
        classification=verdict,
        **_status_to_record(status, item.get("listing_status")),
    )


def _status_to_record(http_status, given_status) -> dict:
    """The status observation a capture records: the one the item names, or (a page served successfully is a
    sighting of a live listing) `live`, recorded only when that is news, which the group's writer knows."""
    if given_status:
        if given_status not in LISTING_STATUSES:
            raise ValueError(f"status must be one of {', '.join(LISTING_STATUSES)}, not {given_status!r}")
        return {"given_status": given_status, "live_detail": None}
    if http_status is not None and 200 <= int(http_status) < 300:
        return {"given_status": None, "live_detail": f"HTTP {http_status}"}
    return {"given_status": None, "live_detail": None}


def attachment_purpose(attachment) -> str:
    """`attachment:<kind>`: a document the listing is made of, never a page of its own (db/media.py names the kinds)."""
    return f"attachment:{attachment.get('kind') or 'document'}"


def _capture(
    run_id,
    *,
    body,
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
) -> "capture_group.Capture":
    """One capture row but its id and listing (and the body it names, stored once per SHA-256)."""
    digest = hashlib.sha256(body).hexdigest()
    return capture_group.Capture(
        body=(digest, compress_body(body), len(body), BODY_ENCODING),
        values={
            "run_id": run_id,
            "request_url": request_url,
            "url": url,
            "status": None if status is None else int(status),
            "headers": _json_headers(headers),
            "sha256": digest,
            "body_size": len(body),
            "fetched_at": fetched_at,
            "clock_source": clock_source,
            "crawler_version": crawler_version,
            "watchlist_version": watchlist_version,
            "purpose": purpose,
            "screen_score": screen_score,
        },
        fields=fields,
    )


# One encoder, not one per call as json.dumps builds when given options (it keeps nothing between calls).
_HEADERS_ENCODER = json.JSONEncoder(ensure_ascii=False)
_TEXT = frozenset({str})


def _json_headers(headers) -> str:
    # Not key-sorted: the order the server sent headers in is part of what was received.
    return _HEADERS_ENCODER.encode(headers if _normalised(headers) else normalise_headers(headers))


def _normalised(headers) -> bool:
    """Whether `headers` already is what normalise_headers makes of them, {text: [text, ...]} by exact type (as
    the crawl's items give them): building that again cost as much as encoding it."""
    return (
        type(headers) is dict
        and _TEXT.issuperset(map(type, headers))
        and all(type(values) is list and _TEXT.issuperset(map(type, values)) for values in headers.values())
    )


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
    values = {"capture_id": capture_id, **_classification_values(classification, classifier_version)}
    cursor = store.conn.execute(
        f"INSERT INTO classifications ({', '.join(values)}) VALUES ({', '.join('?' * len(values))})",
        list(values.values()),
    )
    append_chain(store, "classification", cursor.lastrowid)
    return cursor.lastrowid


def _classification_values(classification: Mapping, classifier_version) -> dict:
    """A classification row's columns but its id and capture."""
    c = dict(classification)
    risk = c.get("risk")
    return {
        "watchlist_version": c.get("watchlist_version"),
        "classifier_version": c.get("classifier_version") or classifier_version or default_crawler_version(),
        "flagged": int(bool(c.get("flagged"))),
        "category": c.get("category"),
        "risk": None if risk is None else str(risk),
        "score": c.get("score"),
        "matches": _json(c.get("matches") or []),
        "created_at": utc_now(),
        # The model's probability and its flag threshold (db/schema.py evidence_v3); absent for rules-only.
        "probability": _finite(c.get("probability")),
        "threshold": _finite((c.get("model") or {}).get("threshold")),
    }
