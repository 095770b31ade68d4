"""WARC 1.1 export of stored captures (warcio): request, response and metadata records per capture; a rendered
page's screenshot and DOM as resource records, concurrent to the responses the rendering loaded.

The response payload is the stored body byte for byte; its WARC-Payload-Digest is SHA-256 (base32, as warcio
writes it) and is checked against the store's SHA-256 before anything is written. WARC-Date is the capture's
fetched_at, with microseconds. Headers the crawler already undid (Content-Encoding, Transfer-Encoding) are
renamed to X-Keywatch-Original-<Name> so replay tools do not decode the body a second time.
"""

import base64
import hashlib
import http
import importlib.metadata
import io
import json
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from warcio.statusandheaders import StatusAndHeaders
from warcio.utils import Digester
from warcio.warcwriter import WARCWriter

from common.atomic import atomic_output
from common.images import image_type
from db import media
from db.captures import decompress_body
from db.chain import chain_head
from db.connection import read_snapshot
from db.queries import get_listing

WARC_1_1 = "https://iipc.github.io/warc-specifications/specifications/warc-format/warc-1.1/"
RENAMED_PREFIX = "X-Keywatch-Original-"


class WarcError(ValueError):
    """The export cannot be made (nothing chosen, unknown listing, a stored body that fails its hash)."""


class _SHA256WARCWriter(WARCWriter):
    # warcio digests with SHA-1 unless told otherwise; SHA-256 lets the digest be compared with the store's.
    @staticmethod
    def _create_digester():
        return Digester("sha256")


@dataclass
class WarcResult:
    path: Path
    captures: int = 0
    records: int = 0
    skipped: list[dict] = field(default_factory=list)  # captures whose body was purged (tombstoned)


def sha256_base32(hex_digest: str) -> str:
    """The store's hex SHA-256 in WARC's `sha256:BASE32` form."""
    return "sha256:" + base64.b32encode(bytes.fromhex(hex_digest)).decode("ascii")


def select_captures(store, *, listings=None, run_id=None, all_captures=False) -> list[int]:
    """Capture ids for `listings` ([(marketplace, listing_id)]), one crawl run, or everything; oldest first."""
    if sum(bool(x) for x in (listings, run_id is not None, all_captures)) != 1:
        raise WarcError("choose exactly one of: listings, a run, or all captures")
    if all_captures:
        return [r["id"] for r in store.query("SELECT id FROM captures ORDER BY fetched_at, id")]
    if run_id is not None:
        if next(store.query("SELECT 1 AS found FROM crawl_runs WHERE id = ?", [run_id]), None) is None:
            raise WarcError(f"no crawl run {run_id}")
        return [
            r["id"] for r in store.query("SELECT id FROM captures WHERE run_id = ? ORDER BY fetched_at, id", [run_id])
        ]
    ids = []
    for marketplace, listing_id in listings:
        listing = get_listing(store, marketplace, listing_id)
        if listing is None:
            raise WarcError(f"no listing {marketplace}:{listing_id}")
        ids += [
            r["id"]
            for r in store.query(
                "SELECT id FROM captures WHERE listing_pk = ? ORDER BY fetched_at, id", [listing["pk"]]
            )
        ]
    return ids


def http_headers_for_replay(status: int | None, headers: dict[str, list[str]], body: bytes) -> StatusAndHeaders:
    """The response's status line and headers as stored, made consistent with the stored (decoded) body."""
    pairs = []
    for name, values in headers.items():
        lower = name.lower()
        for value in values:
            still_gzipped = (
                lower == "content-encoding" and value.strip().lower() in ("gzip", "x-gzip") and body[:2] == b"\x1f\x8b"
            )
            if lower in ("content-encoding", "transfer-encoding") and not still_gzipped:
                pairs.append((RENAMED_PREFIX + name, value))
            elif lower == "content-length" and value.strip() != str(len(body)):
                pairs.append((RENAMED_PREFIX + name, value))
            elif lower != "content-length":
                pairs.append((name, value))
    pairs.append(("Content-Length", str(len(body))))
    status = status or 200
    try:
        reason = http.HTTPStatus(status).phrase
    except ValueError:
        reason = ""
    return StatusAndHeaders(f"{status} {reason}".strip(), pairs, protocol="HTTP/1.1")


def _capture_rows(store, capture_ids):
    for capture_id in capture_ids:
        yield next(
            store.query(
                "SELECT c.*, l.marketplace, l.listing_id, b.body AS stored_body, b.encoding AS body_encoding "
                "FROM captures c JOIN listings l ON l.pk = c.listing_pk LEFT JOIN bodies b ON b.sha256 = c.sha256 "
                "WHERE c.id = ?",
                [capture_id],
            )
        )


def _classification(store, capture_id):
    return next(
        store.query("SELECT * FROM classifications WHERE capture_id = ? ORDER BY id DESC LIMIT 1", [capture_id]), None
    )


def _version(package: str) -> str:
    try:
        return importlib.metadata.version(package)
    except importlib.metadata.PackageNotFoundError:
        return "unknown"


def write_warc(store, capture_ids, out_path) -> WarcResult:
    """Write the captures to `out_path` (gzipped WARC 1.1). The file appears only when complete."""
    out_path = Path(out_path)
    result = WarcResult(out_path)
    versions = sorted(
        r["crawler_version"]
        for r in store.query(
            "SELECT DISTINCT crawler_version FROM captures WHERE id IN (SELECT value FROM json_each(?))",
            [json.dumps(list(capture_ids))],
        )
    )
    out_path.parent.mkdir(parents=True, exist_ok=True)
    with read_snapshot(store):
        _write_file(store, capture_ids, out_path, result, versions)
    return result


def _write_file(store, capture_ids, out_path, result, versions):
    with atomic_output(out_path) as fh:
        writer = _SHA256WARCWriter(fh, gzip=True, warc_version="1.1")
        writer.write_record(
            writer.create_warcinfo_record(
                out_path.name,
                {
                    "software": f"keywatch {_version('keywatch')} (warcio {_version('warcio')})",
                    "format": "WARC File Format 1.1",
                    "conformsTo": WARC_1_1,
                    "description": "Captures exported from a keywatch evidence store",
                    "crawler-versions": "; ".join(versions),
                    "keywatch-chain-head": chain_head(store),
                },
            )
        )
        result.records += 1
        renderings: dict[int, str] = {}  # page capture id -> the record its rendering's other records are concurrent to
        for row in _capture_rows(store, capture_ids):
            if row["stored_body"] is None:
                result.skipped.append({"capture_id": row["id"], "sha256": row["sha256"]})
                continue
            result.records += _write_capture(store, writer, row, renderings)
            result.captures += 1


def _write_capture(store, writer, row, renderings) -> int:
    """The capture's records (request, response and metadata; a resource and metadata for a screenshot or rendered
    DOM); returns how many were written."""
    body = decompress_body(row["stored_body"], row["body_encoding"])
    if hashlib.sha256(body).hexdigest() != row["sha256"]:
        raise WarcError(f"capture {row['id']}: stored body does not match its SHA-256; run `keywatch verify`")
    url, date = row["url"], row["fetched_at"]
    fields = json.loads(row["fields"])
    kind = media.kind_of(row["purpose"])
    warc_headers = {"WARC-Date": date}
    # A rendering's screenshot, DOM and loaded responses were made in one capture event: WARC-Concurrent-To ties
    # them to the first of its records written.
    rendering = fields.get("attachment_of") if kind in media.RENDER_KINDS else None
    if rendering in renderings:
        warc_headers["WARC-Concurrent-To"] = renderings[rendering]
    if kind in BROWSER_MADE:
        # Made by the browser, not received over HTTP: a `resource` record under a URN naming the page.
        record = writer.create_warc_record(
            f"urn:{BROWSER_MADE[kind]}:{url}",
            "resource",
            payload=io.BytesIO(body),
            length=len(body),
            warc_content_type=_made_content_type(kind, body),
            warc_headers_dict=warc_headers,
        )
        records = [record]
    else:
        record = writer.create_warc_record(
            url,
            "response",
            payload=io.BytesIO(body),
            length=len(body),
            http_headers=http_headers_for_replay(row["status"], json.loads(row["headers"]), body),
            warc_headers_dict=warc_headers,
        )
        records = [_request_record(writer, url, date, record, fields.get("method") or "GET"), record]
    # For a resource record the payload is the whole block: warcio writes the same digest for both.
    if record.rec_headers.get_header("WARC-Payload-Digest") != sha256_base32(row["sha256"]):
        raise WarcError(f"capture {row['id']}: WARC digest differs from the stored SHA-256")
    record_id = record.rec_headers.get_header("WARC-Record-ID")
    if rendering is not None:
        renderings.setdefault(rendering, record_id)
    metadata = {
        "capture_id": row["id"],
        "marketplace": row["marketplace"],
        "listing_id": row["listing_id"],
        "request_url": row["request_url"],
        "url": url,
        "fetched_at": date,
        "clock_source": row["clock_source"],
        "sha256": row["sha256"],
        "crawler_version": row["crawler_version"],
        "watchlist_version": row["watchlist_version"],
        "run_id": row["run_id"],
        "purpose": row["purpose"],
        "fields": fields,
        "classification": _classification(store, row["id"]),
    }
    records.append(
        writer.create_warc_record(
            record.rec_headers.get_header("WARC-Target-URI"),
            "metadata",
            payload=io.BytesIO(json.dumps(metadata, ensure_ascii=False, indent=1).encode("utf-8")),
            warc_content_type="application/json",
            warc_headers_dict={"WARC-Date": date, "WARC-Refers-To": record_id},
        )
    )
    for each in records:
        writer.write_record(each)
    return len(records)


def _request_record(writer, url, date, response, method):
    parts = urlsplit(url)
    return writer.create_warc_record(
        url,
        "request",
        http_headers=StatusAndHeaders(
            f"{method} {parts.path or '/'}{'?' + parts.query if parts.query else ''} HTTP/1.1",
            [("Host", parts.netloc)],
            is_http_request=True,
        ),
        warc_headers_dict={"WARC-Date": date, "WARC-Concurrent-To": response.rec_headers.get_header("WARC-Record-ID")},
    )


# What the browser made rather than received, by kind, and the URN scheme its resource record is filed under
# (`urn:fullPage:<page URL>` as Browsertrix files a full-page screenshot).
BROWSER_MADE = {media.SCREENSHOT: "fullPage", media.DOM: "dom"}


def _made_content_type(kind: str, body: bytes) -> str:
    if kind == media.DOM:
        return "text/html; charset=utf-8"
    found = image_type(body)
    return found[0] if found else "application/octet-stream"
