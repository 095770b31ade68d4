"""Exporting an evidence pack for one recipient and recording the notice, as one all-or-nothing step."""

import hashlib
import importlib.metadata
import os
import platform
import sqlite3
import tempfile
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import db
from db import notices, warc
from db.canonical import normalise_utc
from db.verify import listing_index_problems
from exports.letter import notice_context, render_html, render_pdf
from exports.listings import capture_file, letter_rows, listing_record, to_csv, to_json
from exports.office import Office
from exports.pack import WrittenPack, write_pack

WARC_NAME = "captures.warc.gz"


class ExportError(ValueError):
    """An export that cannot be made; the message is meant for the user. Nothing has been written or recorded."""


@dataclass
class Target:
    """Who a pack is addressed to and which listings it covers."""
    recipient: dict            # name, marketplace, seller_ids, email, address, reporting_url (as in the letter)
    retailer_id: int | None    # None for a seller not in the retailers table
    marketplace: str
    sellers: list[str] | None  # None: every seller on the marketplace
    scope: str                 # the selection, as given on the command line


def resolve_target(store, *, retailer: str | None = None, seller: str | None = None,
                   marketplace: str | None = None) -> Target:
    """Turn exactly one of --retailer NAME, --seller MARKETPLACE:SELLER or --marketplace M into a Target."""
    if sum(x is not None for x in (retailer, seller, marketplace)) != 1:
        raise ExportError("give exactly one of --retailer NAME, --seller MARKETPLACE:SELLER, --marketplace M")
    if retailer is not None:
        found = notices.get_retailer(store, retailer)
        if found is None:
            known = ", ".join(r["name"] for r in notices.list_retailers(store)) or "none yet"
            raise ExportError(f"no retailer named {retailer!r} (known: {known}; see `keywatch retailer import`)")
        # A retailer without seller ids is the marketplace operator: its pack covers the whole marketplace.
        return Target(_recipient(found), found["id"], found["marketplace"], found["seller_ids"] or None,
                      f"retailer:{found['name']}")
    if seller is not None:
        market, sep, seller_id = seller.partition(":")
        if not sep or not market or not seller_id.strip():
            raise ExportError(f"--seller must be MARKETPLACE:SELLER, got {seller!r}")
        found = notices.retailer_for_seller(store, market, seller_id)
        if found is not None:
            recipient, retailer_id = _recipient(found), found["id"]
        else:
            # Not in retailers.yaml: the notice goes to the seller account, through the marketplace's channel.
            operator = notices.marketplace_operator(store, market) or {}
            recipient = {"name": seller_id.strip(), "marketplace": market, "seller_ids": [seller_id.strip()],
                         "email": "", "address": "", "reporting_url": operator.get("reporting_url", "")}
            retailer_id = None
        return Target(recipient, retailer_id, market, [seller_id.strip()], f"seller:{market}:{seller_id.strip()}")
    operator = notices.marketplace_operator(store, marketplace)
    if operator is not None:
        recipient, retailer_id = _recipient(operator), operator["id"]
    else:
        recipient = {"name": f"{marketplace} (marketplace operator)", "marketplace": marketplace, "seller_ids": [],
                     "email": "", "address": "", "reporting_url": ""}
        retailer_id = None
    return Target(recipient, retailer_id, marketplace, None, f"marketplace:{marketplace}")


def _recipient(retailer: dict) -> dict:
    return {k: retailer[k] for k in ("name", "marketplace", "seller_ids", "email", "address", "reporting_url")}


@dataclass
class ExportResult:
    number: str
    notice_id: int
    pack: WrittenPack
    listings: int
    captures: int


def _version(package: str) -> str | None:
    try:
        return importlib.metadata.version(package)
    except importlib.metadata.PackageNotFoundError:
        return None


def tool_versions() -> dict:
    versions = {name: _version(name) for name in ("keywatch", "sqlite-utils", "warcio", "reportlab", "jinja2")}
    return {**versions, "python": platform.python_version(), "sqlite": sqlite3.sqlite_version}


def _warc(store, capture_ids: list[int]) -> bytes:
    """The captures as a gzipped WARC 1.1, by the store's own WARC writer (same as `keywatch warc`)."""
    with tempfile.TemporaryDirectory(prefix="keywatch-warc-") as tmp:
        path = Path(tmp) / WARC_NAME
        warc.write_warc(store, capture_ids, path)
        return path.read_bytes()


def long_date(utc: str) -> str:
    moment = datetime.fromisoformat(utc.replace("Z", "+00:00"))
    return f"{moment.day} {moment:%B %Y}"


def export_pack(store, target: Target, out: Path, *, office: Office, review_status: str = "confirmed",
                exported_by: str | None = None, now: str | None = None) -> ExportResult:
    """Build the pack for `target` at `out` and record its notice, chained. All or nothing.

    Everything happens inside one write transaction, so the pack is a consistent snapshot and the notice
    number cannot be taken twice. The ZIP is built beside `out` and linked into place only once the notice
    row is written; any failure removes it and rolls the notice back. An existing `out` is never replaced:
    an earlier pack is evidence too.
    """
    out = Path(out)
    if out.is_dir():
        raise ExportError(f"--out {out} is a directory: give the pack's file name, e.g. {out / 'pack.zip'}")
    if out.exists():
        raise ExportError(f"{out} already exists: packs are never overwritten, choose another name")
    if not out.parent.exists():
        raise ExportError(f"folder {out.parent} does not exist")
    linked = False
    try:
        with db.write_transaction(store):
            result, linked = _export_locked(store, target, out, office, review_status, exported_by, now)
    except BaseException:
        if linked:
            out.unlink(missing_ok=True)  # the notice was rolled back (e.g. COMMIT failed): so must the pack be
        raise
    return result


def _export_locked(store, target, out, office, review_status, exported_by, now):
    rows = notices.export_listings(store, marketplace=target.marketplace, sellers=target.sellers,
                                   review_status=review_status)
    if not rows:
        raise ExportError(f"no {review_status} listings for {target.scope}: nothing exported, no notice recorded")
    # The pack quotes the listings index (title, URL, seller, price, status): it must agree with the chained
    # captures, or a notice could go out quoting an edited title that no capture shows.
    wrong = listing_index_problems(store, [r["pk"] for r in rows])
    if wrong:
        raise ExportError(f"{wrong[0]}; run `keywatch verify`. Nothing exported, no notice recorded")
    records = [listing_record(r) for r in rows]

    files: dict[str, bytes] = {}
    capture_ids = []
    for row in rows:
        for capture in row["captures"]:
            if not capture["body_present"]:
                continue
            capture_ids.append(capture["id"])
            name = capture_file(capture["sha256"])
            if name in files:
                continue
            body = notices.capture_body(store, capture["sha256"])
            if body is None or hashlib.sha256(body).hexdigest() != capture["sha256"]:
                raise ExportError(f"capture {capture['id']}: stored body does not match its SHA-256 "
                                  "(run `keywatch verify`); nothing exported")
            files[name] = body

    created_at = normalise_utc(now) if now else db.utc_now()
    number = notices.next_notice_number(store, office.reference_prefix, int(created_at[:4]))
    head, length = db.chain_head(store), db.chain_length(store)
    header = {
        "notice_number": number,
        "created_at": created_at,
        "recipient": target.recipient,
        "scope": target.scope,
        "review_status": review_status,
        "listing_count": len(records),
        "capture_count": len(capture_ids),
        # Taken before this notice's own chain record, which then covers the pack's SHA-256.
        "store": {"chain_head": head, "chain_length": length},
        "tools": tool_versions(),
    }
    files["listings.json"] = to_json(records, {k: header[k] for k in ("notice_number", "created_at", "scope",
                                                                        "review_status", "listing_count")})
    files["listings.csv"] = to_csv(records)
    if capture_ids:
        files[WARC_NAME] = _warc(store, capture_ids)
    context = notice_context(number=number, date=long_date(created_at), office=office, recipient=target.recipient,
                             listings=letter_rows(records), chain_head=head)
    files["notice.html"] = render_html(context, office.template)
    files["notice.pdf"] = render_pdf(context)
    files["README.txt"] = README.format(number=number).encode("utf-8")

    staging = out.with_name(f".{out.name}.{number}.staging")
    try:
        pack = write_pack(staging, files, **header)
        notice_id = notices.record_notice(store, {
            "number": number, "created_at": created_at, "retailer_id": target.retailer_id,
            "recipient": target.recipient, "marketplace": target.marketplace, "scope": target.scope,
            "review_status": review_status, "listing_pks": [r["pk"] for r in rows], "pack_name": out.name,
            "pack_sha256": pack.sha256, "manifest_sha256": pack.manifest_sha256, "chain_head": head,
            "exported_by": exported_by,
        })
        try:
            os.link(staging, out)  # atomic, and refuses to replace a file that appeared meanwhile
        except FileExistsError:
            raise ExportError(f"{out} already exists: packs are never overwritten, choose another name") from None
        except OSError:
            # A filesystem without hard links (some network shares): a rename is still atomic.
            os.replace(staging, out)
    finally:
        staging.unlink(missing_ok=True)
    pack = WrittenPack(out, pack.sha256, pack.manifest_sha256, pack.files)
    return ExportResult(number, notice_id, pack, len(records), len(capture_ids)), True


README = """Evidence pack {number}

What is here
  notice.pdf, notice.html   the notice letter (the same text in two formats)
  listings.csv, listings.json   every listing covered, with the classifier's reasons and the reviewer's decision
  captures/<sha256>.html    each captured page exactly as received; its name is the SHA-256 of its bytes
  captures.warc.gz          the same captures as WARC 1.1 request/response records (open with warcio or a replay tool)
  manifest.json             every file's size and SHA-256, the evidence store's chain head, tool versions
  SHA256SUMS                every file's SHA-256 (including manifest.json), for sha256sum

How to check that nothing has changed
  unzip the pack into an empty folder, then in that folder run:
      sha256sum -c SHA256SUMS
  every line must say OK. Each captured page is named after its own SHA-256, which
      sha256sum captures/*.html
  shows side by side with the name.
  `keywatch verify-pack PACK.zip` does all of this in one step and also reports extra or missing files.
"""
