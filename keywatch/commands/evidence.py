"""CLI commands over the evidence store: hits, show, verify, warc, purge, reindex."""

import csv
import os
import sys

import click

import db
from db.queries import HIT_COLUMNS
from db.warc import WarcError, select_captures, write_warc
from keywatch.options import (
    DAYS,
    ROW_ID,
    SHA256,
    db_option,
    login_name,
    open_store,
    parse_listing_ref,
    read_store,
    refuse_store_as_output,
    table_format_option,
)
from keywatch.terminal import json_text, printable


def _table(rows: list[dict], columns) -> str:
    def cell(value, column):
        text = "" if value is None else str(value)
        return printable(text[:48] + "…" if column == "title" and len(text) > 49 else text)

    cells = [[cell(r.get(c), c) for c in columns] for r in rows]
    widths = [max([len(c)] + [len(row[i]) for row in cells]) for i, c in enumerate(columns)]
    lines = ["  ".join(c.ljust(w) for c, w in zip(columns, widths, strict=True)).rstrip()]
    lines += ["  ".join(v.ljust(w) for v, w in zip(row, widths, strict=True)).rstrip() for row in cells]
    return "\n".join(lines)


@click.command()
@db_option
@table_format_option()
def hits(db_path, output_format):
    """List flagged listings, highest risk and score first, with the SHA-256 of each one's latest capture.

    Example: keywatch hits --format csv > hits.csv
    """
    with read_store(db_path) as store:
        rows = [{c: r[c] for c in HIT_COLUMNS} for r in db.hits(store)]
    if output_format == "jsonl":
        for row in rows:
            click.echo(json_text(row))
    elif output_format == "csv":
        from exports.listings import spreadsheet_safe

        # Titles and seller names are written by sellers: no cell may run as a formula in a spreadsheet
        # (`--format jsonl` keeps the exact text).
        writer = csv.DictWriter(sys.stdout, fieldnames=HIT_COLUMNS, lineterminator="\n")
        writer.writeheader()
        writer.writerows({k: spreadsheet_safe(v) for k, v in row.items()} for row in rows)
    elif rows:
        click.echo(_table(rows, HIT_COLUMNS))
    else:
        click.echo("No flagged listings.", err=True)


def _event_line(event: dict) -> str:
    kind = event["kind"]
    if kind == "capture":
        body = "" if event["body_present"] else "  [body purged]"
        # A document the page is made of says what it is: (description), (screenshot), (photo), (resource), ...
        kind = (event.get("purpose") or "").partition("attachment:")[2]
        return (
            f"capture {event['id']}{f' ({kind})' if kind else ''}: HTTP {event['status']}  {event['body_size']} bytes"
            f"  sha256 {event['sha256']}"
            f"  run {event['run_id']}  {event['url']}{body}"
        )
    if kind == "classification":
        verdict = (
            f"flagged {event['category']} ({event['risk']}, score {event['score']})"
            if event["flagged"]
            else f"not flagged (score {event['score']})"
        )
        of = f"classification {event['id']} of capture {event['capture_id']}"
        return f"{of}: {verdict}  watchlist {event['watchlist_version']}"
    if kind == "status":
        detail = f" ({event['detail']})" if event.get("detail") else ""
        return f"status {event['status']}{detail}"
    what = " ".join(str(event[k]) for k in ("action", "category", "reason") if event.get(k))
    note = f": {event['note']}" if event.get("note") else ""
    return f"decision {event['id']} by {event['user']}: {what}{note}"


@click.command()
@click.argument("listing")
@db_option
@click.option("--json", "as_json", is_flag=True, help="Print the listing and its timeline as JSON.")
def show(listing, db_path, as_json):
    """Show one listing (MARKETPLACE:LISTING_ID) and its timeline: captures, classifications, status changes
    and decisions, oldest first.

    Example: keywatch show demo_market:1042
    """
    marketplace, listing_id = parse_listing_ref(listing)
    with read_store(db_path) as store:
        history = db.listing_history(store, marketplace, listing_id)
    if history is None:
        raise click.ClickException(f"no listing {marketplace}:{listing_id} in {db_path}")
    if as_json:
        click.echo(json_text(history, indent=2))
        return
    for line in _show_lines(history):
        click.echo(printable(line))  # each line holds stored text, escaped whole: one output line each


def _show_lines(history: dict):
    item = history["listing"]
    yield f"{item['marketplace']}:{item['listing_id']}  {item['title'] or ''}"
    yield f"  url:        {item['url']}"
    price = f"{item['price']} {item['currency'] or ''}".strip() if item["price"] is not None else "-"
    yield f"  seller:     {item['seller'] or '-'}    price: {price}"
    yield f"  first seen: {item['first_seen']}    last seen: {item['last_seen']}    status: {item['status'] or '-'}"
    if item["flagged"]:
        yield f"  flagged:    {item['category']} ({item['risk']}, score {item['score']})"
    else:
        yield "  flagged:    no"
    yield "Timeline:"
    for event in history["events"]:
        yield f"  {event['at']}  {_event_line(event)}"


@click.command()
@db_option
@click.option(
    "--anchor", type=SHA256, metavar="HASH", help="A chain head written down earlier: it must still be in the chain."
)
@click.option(
    "--since-anchor",
    is_flag=True,
    help="Check only what was added after the last verify anchor (written by --record-anchor).",
)
@click.option(
    "--record-anchor",
    is_flag=True,
    help="After a full verify that passes, record where it got to, for later --since-anchor runs.",
)
def verify(db_path, anchor, since_anchor, record_anchor):
    """Re-hash every stored body and record and walk the hash chain.

    Prints "N records, chain head <hash>" and exits 0, or names the first bad record and exits 1.
    Bodies are re-hashed on every core. --since-anchor checks only the chain records after the last
    anchor (and their bodies, hosts and listings), after checking that the anchor still matches the
    chain: seconds instead of minutes on a large store. Only a full verify records an anchor.

    Example: keywatch verify --db data/keywatch.sqlite --record-anchor
             keywatch verify --db data/keywatch.sqlite --since-anchor
    """
    if since_anchor and record_anchor:
        raise click.UsageError("--record-anchor needs a full verify: leave out --since-anchor")
    with read_store(db_path) as store:  # checking evidence must not change it
        since = db.latest_anchor(store) if since_anchor else None
        if since_anchor and since is None:
            raise click.ClickException(f"{db_path} has no verify anchor yet: run `keywatch verify --record-anchor`")
        result = db.verify(store, anchor=anchor, since=since)
    if not result.ok:
        for problem in result.problems[1:20]:
            click.echo(printable(f"  also: {problem}"), err=True)
        raise click.ClickException(printable(result.summary()))
    if since:
        where = f"chain record {since['seq']}, {since['verified_at']}"
        click.echo(f"since verify anchor {since['id']} ({where}): ", nl=False)
    click.echo(printable(result.summary()))
    if record_anchor:
        with open_store(db_path) as store:
            anchor_id = db.record_anchor(store, result.count, result.head, result.count, result.bodies)
        click.echo(f"recorded verify anchor {anchor_id} at chain record {result.count}")


@click.command()
@click.option(
    "--listing",
    "listings",
    multiple=True,
    metavar="MARKETPLACE:LISTING_ID",
    help="Captures of this listing (repeatable).",
)
@click.option("--run", "run_id", type=ROW_ID, help="Captures of this crawl run.")
@click.option("--all", "all_captures", is_flag=True, help="Every capture in the store.")
@click.option(
    "--out",
    "out_path",
    required=True,
    type=click.Path(dir_okay=False, writable=True),
    help="The WARC file to write (FILE.warc.gz).",
)
@db_option
def warc(listings, run_id, all_captures, out_path, db_path):
    """Export captures as a WARC 1.1 file (request, response and metadata records; payloads byte-identical,
    SHA-256 payload digests matching the store; a rendered page's screenshot and DOM as resource records beside
    the responses it loaded, so it replays offline).

    Example: keywatch warc --listing demo_market:1042 --out 1042.warc.gz
    """
    refs = [parse_listing_ref(ref) for ref in listings]
    if sum(bool(x) for x in (refs, run_id is not None, all_captures)) != 1:
        raise click.UsageError("choose exactly one of --listing, --run or --all")
    refuse_store_as_output(out_path, db_path)
    result = None
    try:
        with read_store(db_path) as store:
            capture_ids = select_captures(store, listings=refs, run_id=run_id, all_captures=all_captures)
            if not capture_ids:
                raise click.ClickException("no captures chosen: nothing to export")
            result = write_warc(store, capture_ids, out_path)
    except WarcError as error:
        raise click.ClickException(str(error)) from None
    except OSError as error:
        raise click.ClickException(f"cannot write {out_path}: {error.strerror}") from None
    except click.ClickException:
        if result is not None:  # written from a store that changed meanwhile: not an export to hand over
            os.unlink(out_path)
        raise
    click.echo(f"Wrote {result.captures} captures ({result.records} WARC records) to {out_path}")
    if result.skipped:
        click.echo(f"Skipped {len(result.skipped)} captures whose bodies were purged (see their tombstones).", err=True)


@click.command()
@click.option(
    "--dismissed-older-than",
    "days",
    type=DAYS,
    required=True,
    metavar="DAYS",
    help="Purge listings whose dismissal is older than this many days.",
)
@click.option("--actor", default=None, help="Who is purging (recorded in the tombstone) [default: login name].")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@db_option
def purge(days, actor, yes, db_path):
    """Delete the stored pages (bodies) of dismissed listings past the retention period.

    Each removal leaves a tombstone in the hash chain (what, when, why, who, the body's SHA-256), so `verify`
    still passes. Listings ever confirmed or escalated, and pages shared with any other listing, are kept.

    Example: keywatch purge --dismissed-older-than 90 --yes
    """
    actor = actor or login_name()
    with open_store(db_path) as store:
        planned = db.purge_dismissed(store, days, actor, dry_run=True)
        if not planned.bodies:
            click.echo(f"Nothing to purge: no bodies of listings dismissed before {planned.cutoff}.")
            return
        click.echo(
            f"{len(planned.bodies)} bodies ({planned.bytes} bytes) of {len(planned.listings)} listings "
            f"dismissed before {planned.cutoff}."
        )
        if not yes:
            click.confirm("Purge them?", abort=True)
        result = db.purge_dismissed(store, days, actor)
        head = db.chain_head(store)
    click.echo(f"Purged {len(result.bodies)} bodies, {len(result.bodies)} tombstones written; chain head {head}")


@click.command()
@db_option
def reindex(db_path):
    """Rewrite the listings index, the search index and the review desk's counts from the chained evidence.

    For when `verify` reports "index column(s) ... disagree with the chained evidence" or a desk or dashboard
    count that disagrees: those are derived from the evidence, never evidence themselves, and this derives them
    again. The evidence is only read. Each batch of listings is its own short write transaction, so a crawl or
    the review desk can keep writing meanwhile. Run `keywatch verify` afterwards.

    Example: keywatch reindex --db data/keywatch.sqlite && keywatch verify --db data/keywatch.sqlite
    """
    with open_store(db_path) as store:
        result = db.reindex(store)
    stray = f"; {result.stray_search_rows} stray search rows deleted" if result.stray_search_rows else ""
    click.echo(f"Re-derived the index rows of {result.listings} listings and the desk's counts{stray}.")


commands = [hits, show, verify, warc, purge, reindex]
