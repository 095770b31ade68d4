"""Benchmark the evidence store at scale: insert N captures of realistic marketplace pages (50-500 KB of HTML),
then report inserts/s, database size against raw size, `verify` time and the review-queue query latency.

    .venv/bin/python bench/store.py             # 100,000 captures (tens of GB raw; takes a while)
    .venv/bin/python bench/store.py --n 2000    # a quick run
    .venv/bin/python bench/store.py --writer    # the crawl's store writer: CPU per demo item page, groups of 50

Pages are assembled per capture from a pool of generated fragments (item cards, description paragraphs, item
specifics, inline state JSON with random ids) around a fixed page shell, so zlib sees what it sees on real
pages: lots of markup repeated within a page, varied text, and incompressible tokens.
"""

import argparse
import json
import os
import random
import statistics
import string
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import db  # noqa: E402
from db.canonical import format_utc  # noqa: E402

CATEGORIES = [
    ("relay_attack", "high"),
    ("key_programmer", "high"),
    ("can_injection", "critical"),
    ("key_emulator", "high"),
    ("code_grabber", "high"),
    ("signal_jammer", "medium"),
    ("mechanical_entry", "medium"),
]
WORDS = """car key fob remote keyless entry relay repeater amplifier signal range long programmer obd obd2 diagnostic
tool scanner code reader immobiliser transponder chip blank shell case cover replacement battery cr2032 steering wheel
lock anti theft faraday pouch bag blocking rfid wallet wifi booster antenna extender mesh router starter motor relay
fuse 12v 24v universal compatible fits ford vauxhall bmw audi volkswagen toyota nissan honda kia hyundai mercedes
land rover range sport evoque discovery genuine original oem aftermarket new used refurbished tested working boxed
fast free delivery uk stock seller feedback returns accepted within days dispatch royal mail tracked next day pickup
collection only cash paypal condition excellent good fair parts not working spares repair listing ends watch add
basket buy now best offer postage packaging item specifics brand model year colour black silver grey material plastic
metal aluminium warranty months manufacturer part number mpn ean upc unbranded does apply quantity available sold
""".split()
CSS = ".x-page{margin:0 auto;max-width:1280px;font-family:Arial,Helvetica,sans-serif}" * 40
SCRIPT_LIB = (
    "function track(e){window.dataLayer=window.dataLayer||[];dataLayer.push({event:e,ts:Date.now()})}"
    "document.addEventListener('click',function(e){var t=e.target.closest('[data-track]');"
    "if(t){track(t.getAttribute('data-track'))}});"
) * 30


def token(rng, n=16, alphabet=string.ascii_letters + string.digits):
    return "".join(rng.choices(alphabet, k=n))


def sentence(rng, lo=6, hi=18):
    words = rng.choices(WORDS, k=rng.randint(lo, hi))
    return " ".join(words).capitalize() + "."


def build_pool(rng, size=3000):
    """Fragments a page is assembled from: product cards, paragraphs, spec rows, state blobs."""
    pool = []
    for i in range(size):
        kind = i % 4
        if kind == 0:
            item = rng.randint(10**11, 10**12 - 1)
            title = sentence(rng, 5, 12)[:-1]
            pool.append(
                '<li class="s-item s-item__pl-on-bottom" '
                f'data-viewport=\'{{"trackableId":"{token(rng, 32, "0123456789abcdef")}"}}\'>'
                '<div class="s-item__wrapper clearfix"><div class="s-item__image-section">'
                f'<a href="https://www.example-market.co.uk/itm/{item}?hash=item{token(rng, 10, "0123456789abcdef")}'
                f'&amp;_trkparms={token(rng, 40)}">'
                f'<img class="s-item__image-img" alt="{title}" '
                f'src="https://i.example-img.com/images/g/{token(rng, 16)}/s-l225.webp" loading="lazy"></a></div>'
                '<div class="s-item__info clearfix">'
                f'<a class="s-item__link" href="https://www.example-market.co.uk/itm/{item}">'
                f'<div class="s-item__title"><span role="heading" aria-level="3">{title}</span></div></a>'
                '<div class="s-item__details clearfix"><div class="s-item__detail s-item__detail--primary">'
                f'<span class="s-item__price">£{rng.randint(3, 900)}.{rng.randint(0, 99):02d}</span></div>'
                '<div class="s-item__detail s-item__detail--primary">'
                '<span class="s-item__shipping s-item__logisticsCost">'
                f"{rng.choice(['Free postage', '+£3.99 postage', 'Collection in person'])}</span></div>"
                '<div class="s-item__detail s-item__detail--secondary"><span class="s-item__seller-info-text">'
                f"{token(rng, 8, string.ascii_lowercase)}_{rng.randint(1, 999)} ({rng.randint(1, 50000)}) "
                f"{rng.randint(90, 100)}.{rng.randint(0, 9)}%"
                "</span></div></div></div></div></li>\n"
            )
        elif kind == 1:
            pool.append("<p>" + " ".join(sentence(rng) for _ in range(rng.randint(3, 9))) + "</p>\n")
        elif kind == 2:
            rows = "".join(
                '<div class="ux-labels-values__labels">'
                f'<span class="ux-textspans">{rng.choice(WORDS).title()}</span></div>'
                '<div class="ux-labels-values__values">'
                f'<span class="ux-textspans">{sentence(rng, 1, 4)[:-1]}</span></div>\n'
                for _ in range(rng.randint(4, 12))
            )
            pool.append(f'<div class="ux-layout-section-evo__row">{rows}</div>\n')
        else:
            state = {
                "listingId": token(rng, 12, string.digits),
                "session": token(rng, 48),
                "experiments": [token(rng, 8) for _ in range(rng.randint(5, 20))],
                "recs": [
                    {"id": token(rng, 12, string.digits), "score": rng.random()} for _ in range(rng.randint(5, 25))
                ],
            }
            pool.append(f'<script type="application/json" data-state="{token(rng, 6)}">{json.dumps(state)}</script>\n')
    return pool


def make_page(rng, pool, listing_id, title, price, size):
    product = {
        "@context": "https://schema.org",
        "@type": "Product",
        "name": title,
        "sku": listing_id,
        "offers": {"@type": "Offer", "price": price, "priceCurrency": "GBP"},
    }
    head = (
        f'<!DOCTYPE html><html lang="en-GB"><head><meta charset="utf-8"><title>{title} | eXample Market</title>'
        f'<meta name="description" content="{title}. Buy it now for £{price}."><style>{CSS}</style>'
        f"<script>{SCRIPT_LIB}</script>"
        f'<script type="application/ld+json">{json.dumps(product)}</script>'
        f'</head><body><div class="x-page"><h1 class="x-item-title__mainTitle"><span>{title}</span></h1>'
        f'<div class="x-price-primary"><span>£{price}</span></div>'
    )
    parts, length = [head], len(head)
    while length < size:
        chunk = rng.choices(pool, k=32)
        parts.extend(chunk)
        length += sum(len(c) for c in chunk)
    parts.append("</div></body></html>")
    return "".join(parts).encode("utf-8")[:size]


def make_item(rng, pool, listing_id, n_version, when, min_kb, max_kb):
    flagged = rng.random() < 0.15
    category, risk = rng.choice(CATEGORIES) if flagged else (None, None)
    title = sentence(rng, 5, 14)[:-1]
    price = f"{rng.randint(5, 900)}.{rng.randint(0, 99):02d}"
    size = rng.randint(min_kb * 1024, max_kb * 1024)
    page_rng = random.Random(f"{listing_id}/{n_version}")
    body = make_page(page_rng, pool, listing_id, title, price, size)
    url = f"https://www.example-market.co.uk/itm/{listing_id}"
    return {
        "marketplace": "bench_market",
        "listing_id": listing_id,
        "url": url,
        "title": title,
        "description": sentence(rng, 20, 60),
        "price": price,
        "currency": "GBP",
        "seller": f"seller_{rng.randint(1, 5000)}",
        "condition": "New",
        "extra": {"bench": True},
        "request_url": url,
        "response_url": url,
        "status": 200,
        "headers": {
            "Content-Type": ["text/html; charset=utf-8"],
            "Server": ["nginx"],
            "Content-Length": [str(len(body))],
        },
        "body": body,
        "fetched_at": format_utc(when),
        "purpose": "candidate",
        "screen_score": round(rng.random() * 100, 1),
        "crawler_version": "keywatch/bench",
        "classification": {
            "flagged": flagged,
            "category": category,
            "risk": risk,
            "score": round(60 + rng.random() * 40, 1) if flagged else round(rng.random() * 50, 1),
            "matches": [{"term": "relay", "field": "title", "start": 0, "end": 5, "score": 100.0}] if flagged else [],
            "watchlist_version": "bench-watchlist",
        },
    }


QUEUE_SQL = """
SELECT l.pk, l.marketplace, l.listing_id, l.title, l.category, l.risk, l.score
FROM listings l
WHERE l.flagged = 1 AND NOT EXISTS (SELECT 1 FROM decisions d WHERE d.listing_pk = l.pk)
ORDER BY l.risk_rank DESC, l.score DESC
LIMIT 50
"""


def timed(fn, repeat):
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - start) * 1000)
    samples.sort()
    return {
        "median_ms": round(statistics.median(samples), 2),
        "p95_ms": round(samples[int(len(samples) * 0.95) - 1], 2),
    }


def decide(store, pks, action: str, reason: str | None = None) -> None:
    """A reviewer's decision on each of these listings, chained, in one transaction."""
    with db.write_transaction(store):
        for pk in pks:
            decision_id = store.execute(
                "INSERT INTO decisions (listing_pk, user, action, reason, created_at) VALUES (?, 'bench', ?, ?, ?)",
                [pk, action, reason, db.utc_now()],
            ).lastrowid
            db.append_chain(store, "decision", decision_id)


def write_result(name: str, result) -> Path:
    """bench/out/<name>.json"""
    out_dir = Path(__file__).resolve().parent / "out"
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / f"{name}.json"
    path.write_text(json.dumps(result, indent=2), encoding="utf-8")
    return path


def file_size(path):
    return sum(os.path.getsize(p) for p in (path, f"{path}-wal") if os.path.exists(p))


def demo_records(n: int) -> tuple[list[dict], dict]:
    """`n` records as the crawl's store pipeline hands them to its writer, from the demo marketplace's item pages
    (rendered without a server, parsed and classified as the crawl does), and the hosts its run declares."""
    from itemadapter import ItemAdapter
    from scrapy.http import HtmlResponse

    from classifier import classify, load_watchlist
    from demo_market import DemoMarket
    from spiders.items import ListingItem
    from spiders.pipelines.store import record_of
    from spiders.spiders.demo_market import DemoMarketSpider

    base = "http://127.0.0.1:8999"
    spider = DemoMarketSpider(base_url=base)
    watchlist = load_watchlist(Path(__file__).resolve().parents[1] / "watchlist.yaml")
    market = DemoMarket(scale=n // 160 + 1)
    records = []
    for i, row in enumerate(market.listings[:n]):
        status, headers, html = market.route(f"/item/{row['id']}", {})
        body = html.encode("utf-8")
        url = f"{base}/item/{row['id']}"
        try:
            fields = spider.parse_listing(HtmlResponse(url=url, body=body, encoding="utf-8"))
        except Exception:  # noqa: BLE001 - the demo's hostile pages: the crawl stores them as parse errors
            continue
        result = classify(fields["title"], fields["description"], watchlist)
        known = {
            k: fields[k] for k in ("title", "description", "price", "currency", "seller", "condition") if fields.get(k)
        }
        item = ListingItem(
            marketplace=spider.marketplace,
            listing_id=fields["listing_id"],
            url=url,
            **known,
            request_url=url,
            response_url=url,
            status=status,
            headers={"Content-Type": ["text/html; charset=utf-8"], "Content-Length": [str(len(body))]}
            | {k: [v] for k, v in headers.items()},
            body=body,
            fetched_at=format_utc(datetime(2026, 11, 28, tzinfo=UTC) + timedelta(seconds=i)),
            purpose="all",
            screen_score=1.0,
        )
        item.classification = {**result.to_dict(), "watchlist_version": watchlist.version}
        records.append(record_of(ItemAdapter(item)))
    return records, {"spider": spider.name, "hosts": spider.marketplace_hosts()}


def writer_cpu(n: int, group: int, db_path: Path) -> dict:
    """CPU per item of db.save_captures in groups of `group`, as the crawl's writer process runs it, into a new
    store with a run that declared its hosts; and SQL statements per item (SQLite's trace, triggers included)."""
    records, run = demo_records(n)
    for suffix in ("", "-wal", "-shm"):
        Path(f"{db_path}{suffix}").unlink(missing_ok=True)
    store = db.connect_group_writer(db_path)
    run_id = db.start_run(store, spider=run["spider"], crawler_version="keywatch/bench")
    db.declare_hosts(store, run_id, run["spider"], run["hosts"])
    statements = 0

    def count(_sql):
        nonlocal statements
        statements += 1

    per_group = []
    for start in range(0, len(records), group):
        # Every other group traced: tracing costs CPU too, so only the untraced ones are timed.
        traced = (start // group) % 2 == 1
        store.conn.set_trace_callback(count if traced else None)
        started = time.process_time()
        outcomes = db.save_captures(store, records[start : start + group], run_id=run_id)
        if not traced:
            per_group.append((time.process_time() - started) * 1000 / len(outcomes))
        assert not [o for o in outcomes if isinstance(o, Exception)], outcomes
    store.conn.set_trace_callback(None)
    traced_items = sum(len(records[s : s + group]) for s in range(group, len(records), 2 * group))
    assert db.verify(store).ok
    store.close()
    return {
        "items": len(records),
        "mean_body_bytes": round(sum(len(r["body"]) for r in records) / len(records)),
        "group": group,
        "cpu_ms_per_item_median_group": round(statistics.median(per_group), 3),
        "cpu_ms_per_item_best_group": round(min(per_group), 3),
        "sql_statements_per_item": round(statements / max(traced_items, 1), 1),
    }


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=100_000, help="captures to insert [100000]")
    parser.add_argument("--min-kb", type=int, default=50)
    parser.add_argument("--max-kb", type=int, default=500)
    parser.add_argument("--recapture", type=float, default=0.2, help="share of captures that re-crawl a listing [0.2]")
    parser.add_argument("--db", type=Path, default=Path("bench/out/store.sqlite"))
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--group", type=int, default=50, help="captures per transaction, as a crawl commits them [50]")
    parser.add_argument("--keep", action="store_true", help="keep the benchmark database afterwards")
    parser.add_argument("--writer", action="store_true", help="only the crawl's store writer on demo pages [--n 2000]")
    args = parser.parse_args(argv)
    if args.writer:
        result = writer_cpu(args.n if args.n != 100_000 else 2000, args.group, args.db.with_name("writer.sqlite"))
        print(json.dumps(result, indent=2))
        write_result("store-writer", result)
        return

    for suffix in ("", "-wal", "-shm"):
        Path(f"{args.db}{suffix}").unlink(missing_ok=True)
    rng = random.Random(args.seed)
    pool = build_pool(rng)
    store = db.connect(args.db)
    run_id = db.start_run(
        store, spider="bench", args=vars(args) | {"db": str(args.db)}, crawler_version="keywatch/bench"
    )
    start_time = datetime(2026, 1, 1, tzinfo=UTC)
    raw_bytes, insert_seconds, identical = 0, 0.0, 0
    recent: dict[str, dict] = {}  # recently captured listings (bounded), which re-crawls pick from
    report_every = max(1, args.n // 20)
    group: list[dict] = []  # committed together, as the crawl's store pipeline does
    wall = time.perf_counter()
    for i in range(args.n):
        when = start_time + timedelta(seconds=30 * i, microseconds=rng.randint(0, 999_999))
        if recent and rng.random() < args.recapture:
            listing_id = rng.choice(list(recent))
            if rng.random() < 0.5:  # unchanged page: its body is stored once
                item = dict(recent[listing_id], fetched_at=format_utc(when))
                identical += 1
            else:
                item = make_item(rng, pool, listing_id, i, when, args.min_kb, args.max_kb)
        else:
            listing_id = f"{100000000 + i}"
            item = make_item(rng, pool, listing_id, i, when, args.min_kb, args.max_kb)
        recent.pop(listing_id, None)
        recent[listing_id] = item
        if len(recent) > 500:
            del recent[next(iter(recent))]
        raw_bytes += len(item["body"])
        group.append(item)
        if len(group) >= args.group or i + 1 == args.n:
            started = time.perf_counter()
            stored = db.save_captures(store, group, run_id=run_id)
            insert_seconds += time.perf_counter() - started
            assert not [o for o in stored if isinstance(o, Exception)], stored
            group = []
        if (i + 1) % report_every == 0:
            print(
                f"  {i + 1:>7} captures, {raw_bytes / 1e9:6.2f} GB raw, "
                f"{(i + 1) / max(insert_seconds, 1e-9):7.1f} inserts/s, "
                f"{time.perf_counter() - wall:7.0f} s elapsed",
                flush=True,
            )
    db.finish_run(store, run_id, stats={"captures": args.n})

    # Decide on a third of the flagged listings so the queue's "not yet decided" condition has work to do.
    flagged = [r[0] for r in store.execute("SELECT pk FROM listings WHERE flagged = 1").fetchall()]
    decided = rng.sample(flagged, len(flagged) // 3)
    decide(store, decided, "dismiss", "false_positive")
    store.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    store.execute("ANALYZE")

    db_bytes = file_size(args.db)
    started = time.perf_counter()
    result = db.verify(store)
    verify_seconds = time.perf_counter() - started
    assert result.ok, str(result.first)

    queue = timed(lambda: list(store.query(QUEUE_SQL)), 50)
    from db import queue as desk_queue

    review_queue = timed(lambda: desk_queue.queue(store, desk_queue.QueueFilter(), limit=50), 20)
    hits_ms = timed(lambda: sum(1 for _ in db.hits(store)), 3)

    report = {
        "captures": args.n,
        "listings": store["listings"].count,
        "identical_recaptures": identical,
        "flagged_listings": len(flagged),
        "decided": len(decided),
        "raw_body_bytes": raw_bytes,
        "db_bytes": db_bytes,
        "compression_ratio": round(raw_bytes / db_bytes, 2),
        "inserts_per_second": round(args.n / insert_seconds, 1),
        "raw_mb_per_second": round(raw_bytes / 1e6 / insert_seconds, 1),
        "verify_seconds": round(verify_seconds, 1),
        "chain_records": result.count,
        "bodies_checked": result.bodies,
        "queue_query": queue,
        "review_queue": review_queue,
        "all_hits": hits_ms,
        "sqlite": db.connect(":memory:").execute("select sqlite_version()").fetchone()[0],
    }
    print(json.dumps(report, indent=2))
    out = args.db.parent / f"store-{args.n}.json"
    out.write_text(json.dumps(report, indent=2) + "\n")
    print(
        f"\n{args.n} captures ({raw_bytes / 1e9:.2f} GB raw) in {insert_seconds:.0f} s: {report['inserts_per_second']} "
        f"inserts/s; database {db_bytes / 1e9:.2f} GB ({report['compression_ratio']}x smaller than raw); "
        f"verify {verify_seconds:.1f} s; review queue {queue['median_ms']} ms median. Written to {out}"
    )
    store.close()
    if not args.keep:
        for suffix in ("", "-wal", "-shm"):
            Path(f"{args.db}{suffix}").unlink(missing_ok=True)


if __name__ == "__main__":
    main()
