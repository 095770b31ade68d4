"""Exporting an evidence pack for one recipient and recording the notice, as one all-or-nothing step."""

import hashlib
import importlib.metadata
import json
import os
import platform
import secrets
import sqlite3
import tempfile
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import db
from db import notices, retailers, warc
from db.canonical import normalise_utc
from db.queries import stored_body
from db.verify_index import listing_index_problems
from exports.letter import notice_context, render_html, render_pdf
from exports.listings import letter_rows, listing_record, pack_file, to_csv, to_json
from exports.networks import NETWORK_FILE, NetworkNotExportable, confirmed_network, manifest_entry, notice_section
from exports.networks import recipient as network_recipient
from exports.office import Office
from exports.pack import WrittenPack, write_pack

WARC_NAME = "captures.warc.gz"


class ExportError(ValueError):
    """An export that cannot be made; the message is meant for the user. Nothing has been written or recorded."""


@dataclass
class Target:
    """Who a pack is addressed to and which listings it covers."""

    recipient: dict  # name, marketplace, seller_ids, email, address, reporting_url (as in the letter)
    retailer_id: int | None  # None for a seller not in the retailers table
    marketplace: str | None  # None: a network's accounts on several marketplaces
    sellers: list[str] | None  # None: every seller on the marketplace
    scope: str  # the selection, as given on the command line
    network: dict | None = None  # a confirmed network (exports/networks.py): its accounts, links and evidence


def resolve_target(
    store,
    *,
    retailer: str | None = None,
    seller: str | None = None,
    marketplace: str | None = None,
    network: str | None = None,
) -> Target:
    """Turn exactly one of --retailer NAME, --seller MARKETPLACE:SELLER, --marketplace M or --network N into a
    Target."""
    if sum(x is not None for x in (retailer, seller, marketplace, network)) != 1:
        raise ExportError(
            "give exactly one of --retailer NAME, --seller MARKETPLACE:SELLER, --marketplace M, --network N"
        )
    if network is not None:
        try:
            found = confirmed_network(store, network)
        except NetworkNotExportable as error:
            raise ExportError(f"{error}; nothing exported") from None
        only = found["marketplaces"][0] if len(found["marketplaces"]) == 1 else None
        entry = manifest_entry(found)
        return Target(network_recipient(store, found), None, only, None, f"network:{found['id']}", entry)
    if retailer is not None:
        found = retailers.get_retailer(store, retailer)
        if found is None:
            known = ", ".join(r["name"] for r in retailers.list_retailers(store)) or "none yet"
            raise ExportError(f"no retailer named {retailer!r} (known: {known}; see `keywatch retailer import`)")
        # A retailer without seller ids is the marketplace operator: its pack covers the whole marketplace.
        return Target(
            _recipient(found),
            found["id"],
            found["marketplace"],
            found["seller_ids"] or None,
            f"retailer:{found['name']}",
        )
    if seller is not None:
        market, sep, seller_id = seller.partition(":")
        if not sep or not market or not seller_id.strip():
            raise ExportError(f"--seller must be MARKETPLACE:SELLER, got {seller!r}")
        found = retailers.retailer_for_seller(store, market, seller_id)
        if found is not None:
            recipient, retailer_id = _recipient(found), found["id"]
        else:
            # Not in retailers.yaml: the notice goes to the seller account, through the marketplace's channel.
            operator = retailers.marketplace_operator(store, market) or {}
            recipient = {
                "name": seller_id.strip(),
                "marketplace": market,
                "seller_ids": [seller_id.strip()],
                "email": "",
                "address": "",
                "reporting_url": operator.get("reporting_url", ""),
            }
            retailer_id = None
        return Target(recipient, retailer_id, market, [seller_id.strip()], f"seller:{market}:{seller_id.strip()}")
    operator = retailers.marketplace_operator(store, marketplace)
    if operator is not None:
        recipient, retailer_id = _recipient(operator), operator["id"]
    else:
        recipient = {
            "name": f"{marketplace} (marketplace operator)",
            "marketplace": marketplace,
            "seller_ids": [],
            "email": "",
            "address": "",
            "reporting_url": "",
        }
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


# Rebuilds allowed because these very listings changed during the build (a recheck crawl, a reviewer).
MAX_ATTEMPTS = 3
# Rebuilds allowed because another export took the number first: each means that export succeeded.
MAX_NUMBER_RETRIES = 20


@dataclass
class _Built:
    """A pack built from one read snapshot, not yet recorded: what must still hold when its notice is written."""

    staging: Path
    pack: WrittenPack
    number: str
    prefix: str
    year: int
    created_at: str
    rows: list[dict]
    chain_seq: int  # the snapshot's last chain record (0: empty chain)
    chain_head: str
    captures: int


def export_pack(
    store,
    target: Target,
    out: Path,
    *,
    office: Office,
    review_status: str = "confirmed",
    exported_by: str | None = None,
    now: str | None = None,
) -> ExportResult:
    """Build the pack for `target` at `out` and record its notice, chained. All or nothing.

    The pack is built from one read snapshot (WAL readers do not block writers) into a staging file beside
    `out`, using the notice number that is next in that snapshot. A short write transaction then records the
    notice, but only if that number is still free and no chain record added since the snapshot touches
    these listings; otherwise the pack is discarded and rebuilt (bounded: MAX_ATTEMPTS, MAX_NUMBER_RETRIES).
    The ZIP is linked into place inside that transaction and removed again if the COMMIT fails. An existing
    `out` is never replaced: an earlier pack is evidence too.
    """
    out = Path(out)
    if out.is_dir():
        raise ExportError(f"--out {out} is a directory: give the pack's file name, e.g. {out / 'pack.zip'}")
    if out.exists():
        raise ExportError(f"{out} already exists: packs are never overwritten, choose another name")
    if not out.parent.exists():
        raise ExportError(f"folder {out.parent} does not exist")
    changes, collisions = 0, 0
    while True:
        with db.read_snapshot(store):
            built = _build(store, target, out, office, review_status, now)
        try:
            result, why, number_taken = _record_if_current(store, built, target, out, review_status, exported_by)
        finally:
            built.staging.unlink(missing_ok=True)
        if result is not None:
            return result
        collisions += number_taken
        changes += not number_taken
        if changes >= MAX_ATTEMPTS or collisions > MAX_NUMBER_RETRIES:
            raise ExportError(
                f"the store changed while the pack was being built ({why}), too often in a row; "
                "nothing exported, no notice recorded. Try again when the crawl or review of these "
                "listings has finished"
            )


def _build(store, target, out, office, review_status, now) -> _Built:
    """Everything the pack holds, read inside the caller's snapshot, written to a staging ZIP."""
    rows = notices.export_listings(
        store,
        marketplace=target.marketplace,
        sellers=target.sellers,
        review_status=review_status,
        accounts=target.network["sellers"] if target.network else None,
    )
    if not rows:
        raise ExportError(f"no {review_status} listings for {target.scope}: nothing exported, no notice recorded")
    # The pack quotes the listings index (title, URL, seller, price, status): it must agree with the chained
    # captures, or a notice could go out quoting an edited title that no capture shows.
    wrong = listing_index_problems(store, [r["pk"] for r in rows])
    if wrong:
        raise ExportError(f"{wrong[0]}; run `keywatch verify`. Nothing exported, no notice recorded")
    files: dict[str, bytes] = {}
    named: dict[int, str] = {}  # capture id -> its file in the pack
    capture_ids = []
    for row in rows:
        for capture in row["captures"]:
            if not capture["body_present"]:
                continue
            capture_ids.append(capture["id"])
            body = stored_body(store, capture["sha256"])
            if body is None or hashlib.sha256(body).hexdigest() != capture["sha256"]:
                raise ExportError(
                    f"capture {capture['id']}: stored body does not match its SHA-256 "
                    "(run `keywatch verify`); nothing exported"
                )
            name = pack_file(capture["purpose"], capture["sha256"], body)
            if name is not None:
                named[capture["id"]] = name
                files[name] = body
    records = [listing_record(r, named) for r in rows]

    created_at = normalise_utc(now) if now else db.utc_now()
    year = int(created_at[:4])
    number = notices.next_notice_number(store, office.reference_prefix, year)
    seq, head = notices.chain_position(store)
    header = {
        "notice_number": number,
        "created_at": created_at,
        "recipient": target.recipient,
        "scope": target.scope,
        "review_status": review_status,
        "listing_count": len(records),
        "capture_count": len(capture_ids),
        # The snapshot's chain head; this notice's own chain record, added later, then covers the pack's SHA-256.
        # The head's position is the chain's length (records are only appended, numbered from 1): counting them
        # read every chain record, 0.27 s per 385,000 (about 3 s at a million listings) on each export.
        "store": {"chain_head": head, "chain_length": seq},
        "tools": tool_versions(),
        **({"network": target.network} if target.network else {}),
    }
    files["listings.json"] = to_json(
        records, {k: header[k] for k in ("notice_number", "created_at", "scope", "review_status", "listing_count")}
    )
    files["listings.csv"] = to_csv(records)
    if capture_ids:
        files[WARC_NAME] = _warc(store, capture_ids)
    context = notice_context(
        number=number,
        date=long_date(created_at),
        office=office,
        recipient=target.recipient,
        listings=letter_rows(records),
        chain_head=head,
    )
    if target.network:
        document = {"notice_number": number, "scope": target.scope, "network": target.network}
        files[NETWORK_FILE] = (json.dumps(document, indent=2, ensure_ascii=False) + "\n").encode("utf-8")
        context["network"] = notice_section(target.network)
    # The PDF draws each listing's screenshot from the pack's own copy (the HTML links to it).
    context["images"] = {name: data for name, data in files.items() if name.startswith("screenshots/")}
    files["notice.html"] = render_html(context, office.template)
    files["notice.pdf"] = render_pdf(context)
    files["README.txt"] = README.format(number=number).encode("utf-8")

    # Unique per build, so two exports to the same name never share a staging file.
    staging = out.with_name(f".{out.name}.{number}.{secrets.token_hex(4)}.staging")
    try:
        pack = write_pack(staging, files, **header)
    except BaseException:
        staging.unlink(missing_ok=True)
        raise
    return _Built(staging, pack, number, office.reference_prefix, year, created_at, rows, seq, head, len(capture_ids))


def _record_if_current(store, built: _Built, target, out, review_status, exported_by):
    """Record the notice and put the pack in place, if the pack still describes the store; else
    (None, why, whether the number was taken).

    Holds the write lock only for a few queries: the prefix's next number, the chain records added since the
    snapshot, one INSERT and one chain link.
    """
    linked = False
    try:
        with db.write_transaction(store):
            if notices.next_notice_number(store, built.prefix, built.year) != built.number:
                return None, f"notice number {built.number} was taken by another export", True
            changed = notices.changes_since(store, built.chain_seq, built.chain_head, {r["pk"] for r in built.rows})
            if changed:
                return None, changed, False
            notice_id = notices.record_notice(
                store,
                {
                    "number": built.number,
                    "created_at": built.created_at,
                    "retailer_id": target.retailer_id,
                    "recipient": target.recipient,
                    "marketplace": target.marketplace,
                    "scope": target.scope,
                    "review_status": review_status,
                    "listing_pks": [r["pk"] for r in built.rows],
                    "pack_name": out.name,
                    "pack_sha256": built.pack.sha256,
                    "manifest_sha256": built.pack.manifest_sha256,
                    "chain_head": built.chain_head,
                    "exported_by": exported_by,
                },
            )
            try:
                os.link(built.staging, out)  # atomic, and refuses to replace a file that appeared meanwhile
            except FileExistsError:
                raise ExportError(f"{out} already exists: packs are never overwritten, choose another name") from None
            except OSError:
                # A filesystem without hard links (some network shares): a rename is still atomic.
                os.replace(built.staging, out)
            linked = True
    except BaseException:
        if linked:
            out.unlink(missing_ok=True)  # the notice was rolled back (e.g. COMMIT failed): so must the pack be
        raise
    pack = WrittenPack(out, built.pack.sha256, built.pack.manifest_sha256, built.pack.files)
    return ExportResult(built.number, notice_id, pack, len(built.rows), built.captures), None, False


README = """Evidence pack {number}

What is here
  notice.pdf, notice.html   the notice letter (the same text in two formats)
  listings.csv, listings.json   every listing covered, with the classifier's reasons and the reviewer's decision
  network.json              (a network's pack) its seller accounts, who confirmed it, every link and its evidence
  captures/<sha256>.html    each captured page exactly as received (and, for rendered pages, the DOM after its
                            scripts ran); its name is the SHA-256 of its bytes
  screenshots/<sha256>.png  full-page screenshots of rendered listing pages (headless Chromium)
  photos/<sha256>.<type>    the listings' photos as downloaded
  captures.warc.gz          every capture as WARC 1.1 records (open with warcio or a replay tool), including each
                            rendered page's screenshot and every response it loaded, so it replays offline
  manifest.json             every file's size and SHA-256, the evidence store's chain head, tool versions
  SHA256SUMS                every file's SHA-256 (including manifest.json), for sha256sum

How to check that nothing has changed
  unzip the pack into an empty folder, then in that folder run:
      sha256sum -c SHA256SUMS
  every line must say OK. Each captured page, screenshot and photo is named after its own SHA-256, which
      sha256sum captures/* screenshots/* photos/*
  shows side by side with the name.
  `keywatch verify-pack PACK.zip` does all of this in one step and also reports extra or missing files.

Careful: the captured pages are hostile
  captures/*.html are the seller's own pages exactly as received: written by the seller, they may hold
  scripts, forms and links to the seller's servers. Read them as text, or through notice.html, which shows
  each one in a frame that runs no scripts; do not open them directly in a web browser.
"""
