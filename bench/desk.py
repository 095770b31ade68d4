"""Benchmark the review desk at scale: p50/p95 per desk page and per read command on stores of 100k-1M listings.

    .venv/bin/python bench/desk.py --sizes 91000 1001000 --scale-from 91000   # README's figures
    .venv/bin/python bench/desk.py --sizes 20000 --repeat 5                    # a quick run

91,000 listings through `save_capture` took about an hour on the shared VM (when each save still read every
listing), so the 1M store is copied from it (`scale`), in about 10 minutes.

Stores are built through the real write path (`db.save_capture` for every capture, `db.decisions.decide_many`
for decisions, `db.status.record_status` for re-checks, `db.notices.record_notice` for notices), committed in
groups of 1,000 captures (each save is a savepoint inside the group's transaction, as a nested
`write_transaction` is), and cached under data/bench/ by size and builder version: a later run reuses the
store, and opening it applies any migration added since (as it would to a store in use).

The mix: ~12% of listings flagged (categories from watchlist.yaml, risk from the category), seven marketplaces,
sellers with a long tail, 10% of listings captured twice, a fifth of the unflagged captures `sample` pages
(the crawl's random share of screened-out cards), 20% of flagged listings decided, 1% observed removed, and
notices of confirmed listings with re-checks after them (so /report has something to report).
"""

from __future__ import annotations

import argparse
import datetime
import gc
import html
import json
import os
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import db  # noqa: E402
from db import accounts, decisions, notices, status  # noqa: E402
from db.canonical import format_utc  # noqa: E402

BUILD_VERSION = 1  # bump when the mix changes: cached stores of another version are not reused
OUT = Path("data/bench")
MARKETPLACES = {  # marketplace: share of listings
    "ebay_uk": 0.34,
    "amazon_uk": 0.18,
    "aliexpress": 0.16,
    "gumtree": 0.12,
    "dhgate": 0.08,
    "webshop": 0.07,
    "telegram": 0.05,
}
FLAGGED_SHARE = 0.12
THRESHOLD = 0.5  # the model threshold the bench's probabilities are drawn around
WORDS = """car key fob remote keyless entry signal range long obd obd2 diagnostic tool scanner code reader shell case
cover replacement battery steering wheel lock faraday pouch rfid wallet wifi booster antenna starter motor fuse 12v
universal compatible ford vauxhall bmw audi volkswagen toyota nissan honda kia hyundai mercedes genuine original oem
aftermarket new used refurbished tested boxed fast free delivery uk stock returns dispatch tracked condition
excellent spares repair black silver plastic metal warranty months""".split()
DEVICE_WORDS = {
    "relay_attack": "relay repeater amplifier two unit keyless",
    "key_programmer": "programmer autel xhorse obdstar add key all keys lost pin",
    "can_injection": "can bus injector emergency start headlight",
    "key_emulator": "emulator smart key simulator",
    "code_grabber": "grabber rolling code capture",
    "signal_jammer": "jammer blocker gps tracker",
    "mechanical_entry": "lishi pick decoder lockout wedge",
}
USER, PASSWORD = "bench", "bench-password-1"


def categories() -> dict[str, str]:
    """{category id: risk} of the repository's watchlist."""
    from classifier import load_watchlist

    watchlist = load_watchlist(Path(__file__).resolve().parents[1] / "watchlist.yaml")
    return {cid: c.risk for cid, c in watchlist.categories.items()}


def store_path(n: int) -> Path:
    return OUT / f"desk-{n}-v{BUILD_VERSION}.sqlite"


def _page(title: str, description: str) -> bytes:
    return (
        f"<!DOCTYPE html><html><head><title>{html.escape(title)}</title></head><body><h1>{html.escape(title)}</h1>"
        f"<div class='desc'>{html.escape(description)}</div></body></html>"
    ).encode()


def _item(rng, n, i, when, cats, *, flagged, purpose):
    marketplace = rng.choices(list(MARKETPLACES), weights=list(MARKETPLACES.values()))[0]
    category = rng.choice(list(cats)) if flagged else None
    words = rng.choices(WORDS, k=rng.randint(5, 10))
    if category:
        words += rng.sample(DEVICE_WORDS[category].split(), 2)
    rng.shuffle(words)
    title = " ".join(words).capitalize()
    description = " ".join(rng.choices(WORDS, k=rng.randint(15, 40)))
    # Flagged listings mostly lie above the threshold; a few sit just below it (flagged on the rules).
    probability = rng.betavariate(5, 2) if flagged else rng.betavariate(1.2, 8)
    score = round(55 + 45 * probability, 1) if flagged else round(40 * probability, 1)
    # Sellers: 200 shops with 0.15% of the listings each, and a long tail with about 20 each.
    seller = f"shop_{rng.randrange(200)}" if rng.random() < 0.3 else f"seller_{rng.randrange(max(50, n // 20))}"
    url = f"https://{marketplace}.example/itm/{i}"
    return {
        "marketplace": marketplace,
        "listing_id": str(10_000_000 + i),
        "url": url,
        "request_url": url,
        "response_url": url,
        "title": title,
        "description": description,
        "price": f"{rng.randint(5, 900)}.{rng.randint(0, 99):02d}",
        "currency": "GBP",
        "seller": seller,
        "condition": "New",
        "status": 200,
        "headers": {"Content-Type": ["text/html; charset=utf-8"]},
        "body": _page(title, description),
        "fetched_at": format_utc(when),
        "purpose": purpose,
        "screen_score": round(rng.random() * 100, 1),
        "crawler_version": "keywatch/bench-desk",
        "classification": {
            "flagged": flagged,
            "category": category,
            "risk": cats[category] if category else None,
            "score": score,
            "probability": round(probability, 4),
            "model": {"threshold": THRESHOLD},
            "matches": [{"term": title.split()[0], "field": "title", "start": 0, "end": 3, "score": 90.0}]
            if flagged
            else [],
            "watchlist_version": "bench-watchlist",
        },
    }


def build(path: Path, n: int, seed: int = 14) -> None:
    """Build a store of `n` listings at `path` through the write path (see the module's docstring)."""
    from webui.auth import hash_password

    partial = path.with_suffix(".building")
    for suffix in ("", "-wal", "-shm"):
        Path(f"{partial}{suffix}").unlink(missing_ok=True)
    rng = random.Random(seed)
    cats = categories()
    store = db.connect(partial)
    accounts.add_user(store, USER, hash_password(PASSWORD), role="admin")
    run_id = db.start_run(store, spider="bench-desk", args={"n": n}, crawler_version="keywatch/bench-desk")
    now = datetime.datetime.now(datetime.UTC)
    start = now - datetime.timedelta(days=365)
    step = datetime.timedelta(days=365) / n
    items: dict[int, dict] = {}
    wall = time.perf_counter()
    for first in range(0, n, 1000):
        with db.write_transaction(store):
            for i in range(first, min(n, first + 1000)):
                flagged = rng.random() < FLAGGED_SHARE
                purpose = "candidate" if flagged or rng.random() < 0.8 else "sample"
                item = _item(rng, n, i, start + step * i, cats, flagged=flagged, purpose=purpose)
                db.save_capture(store, item, run_id=run_id)
                if rng.random() < 0.1:
                    items[i] = item
            # A re-crawl of some listings a few weeks on: the same page again (same body) at a later time.
            for i, item in list(items.items()):
                later = start + step * i + datetime.timedelta(days=rng.randint(7, 60))
                if later < now:
                    db.save_capture(store, {**item, "fetched_at": format_utc(later)}, run_id=run_id)
            items.clear()
        if first % (n // 10 or 1) == 0:
            print(f"  {first:>8} listings, {time.perf_counter() - wall:6.0f} s", flush=True)
    db.finish_run(store, run_id, stats={"listings": n})
    _decide(store, rng)
    _notify_and_recheck(store, rng, now)
    store.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    store.close()
    os.replace(partial, path)
    print(f"built {path} in {time.perf_counter() - wall:.0f} s", flush=True)


def _decide(store, rng) -> None:
    flagged = [r["pk"] for r in store.query("SELECT pk FROM listings WHERE flagged = 1")]
    chosen = rng.sample(flagged, len(flagged) // 5)
    plan = {"dismiss": [], "confirm": [], "escalate": []}
    for pk in chosen:
        plan[rng.choices(list(plan), weights=[6, 3, 1])[0]].append(pk)
    for action, pks in plan.items():
        for first in range(0, len(pks), 500):
            details = {"reason": "false_positive"} if action == "dismiss" else {}
            if action == "confirm":
                details = {"category": "relay_attack"}
            decisions.decide_many(store, pks[first : first + 500], USER, action, via="cli bench", **details)


def _notify_and_recheck(store, rng, now) -> None:
    """Notices of confirmed listings (one per seller and marketplace, up to 200), then re-checks: some removed."""
    confirmed = list(
        store.query(
            "SELECT l.pk, l.marketplace, l.seller FROM listings l JOIN review_status r ON r.listing_pk = l.pk "
            "WHERE r.status = 'confirmed'"
        )
    )
    groups: dict[tuple, list[int]] = {}
    for row in confirmed:
        groups.setdefault((row["marketplace"], row["seller"]), []).append(row["pk"])
    with db.write_transaction(store):
        for number, ((marketplace, seller), pks) in enumerate(sorted(groups.items())[:200], start=1):
            sent = now - datetime.timedelta(days=rng.randint(10, 120))
            notices.record_notice(
                store,
                {
                    "number": f"KW-BENCH-{number:04d}",
                    "created_at": format_utc(sent),
                    "recipient": {"name": f"Retailer {seller}", "seller_ids": [seller]},
                    "marketplace": marketplace,
                    "scope": "seller",
                    "review_status": "confirmed",
                    "listing_pks": pks,
                    "pack_name": f"bench-{number}.zip",
                    "pack_sha256": "0" * 64,
                    "manifest_sha256": "0" * 64,
                    "chain_head": db.chain_head(store),
                    "exported_by": USER,
                },
            )
            for pk in pks:
                seen = sent + datetime.timedelta(days=rng.randint(1, 9))
                status.record_status(store, pk, rng.choice(["removed", "live"]), format_utc(seen))
        # Removals seen by re-checks across the year.
        pks = [r["pk"] for r in store.query("SELECT pk FROM listings WHERE pk % 100 = 7")]
        for pk in pks:
            seen = now - datetime.timedelta(days=rng.randint(0, 300), minutes=rng.randint(0, 1440))
            status.record_status(store, pk, "removed", format_utc(seen))


# Columns that hold a row id of another table, per table: shifted with that table's rows when copying.
_REFERENCES = {
    "listings": {
        "pk": "listings",
        "latest_capture_id": "captures",
        "classification_id": "classifications",
        "latest_classification_id": "classifications",
    },
    "captures": {"id": "captures", "listing_pk": "listings"},
    "classifications": {"id": "classifications", "capture_id": "captures"},
    "listing_status": {"id": "listing_status", "listing_pk": "listings", "capture_id": "captures"},
    "decisions": {"id": "decisions", "listing_pk": "listings"},
}
_KEY = {"listings": "pk"}


def scale(source: Path, path: Path, factor: int, *, marketplace: str | None = None) -> None:
    """A store of `factor` times the listings of `source`: its listings, captures, classifications, status
    observations, decisions and search rows copied under new ids (listing ids get a suffix), by SQL; the copies
    are listings of `marketplace` when given (so that a pack of the source's marketplace stays the same).

    What the write path produced, repeated: every copied row is one `source` holds. The copies are not linked into
    the hash chain (verify would report them), which the desk's reads never look at; `listing_index.disagreements`
    on a sample of copies checks that their index rows are what their evidence says.
    """
    import shutil

    from db import listing_index

    partial = path.with_suffix(".building")
    shutil.copyfile(source, partial)
    store = db.connect(partial)
    top = {t: next(store.query(f"SELECT max({_KEY.get(t, 'id')}) AS n FROM {t}"))["n"] or 0 for t in _REFERENCES}
    for k in range(1, factor):
        with db.write_transaction(store):
            for table, refs in _REFERENCES.items():
                columns = [r["name"] for r in store.query(f"PRAGMA table_info({table})")]
                renamed = {"listing_id": f"listing_id || '-{k}'"}
                if marketplace and table == "listings":
                    renamed["marketplace"] = f"'{marketplace}'"
                values = [f"{c} + {k * top[refs[c]]}" if c in refs else renamed.get(c, c) for c in columns]
                store.execute(
                    f"INSERT INTO {table} ({', '.join(columns)}) SELECT {', '.join(values)} FROM {table} "
                    f"WHERE {_KEY.get(table, 'id')} <= {top[table]}"
                )
            store.execute(
                f"INSERT INTO listings_fts (rowid, title, description) SELECT rowid + {k * top['listings']}, title, "
                f"description FROM listings_fts WHERE rowid <= {top['listings']}"
            )
        print(f"  copy {k} of {factor - 1}", flush=True)
    sample = [k * top["listings"] + pk for k in range(1, factor) for pk in (1, top["listings"] // 2, top["listings"])]
    assert not listing_index.disagreements(store, sample), "copied listings disagree with their evidence"
    store.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    store.close()
    os.replace(partial, path)


# ---------------------------------------------------------------- measuring


class _Collections:
    """Wall time spent in Python's cyclic garbage collector: a full collection of the process's heap lands on
    whichever request happens to trigger it, and says nothing about that page."""

    def __init__(self):
        self.ms, self._started = 0.0, 0.0

    def __call__(self, phase, info):
        if phase == "start":
            self._started = time.perf_counter()
        else:
            self.ms += (time.perf_counter() - self._started) * 1000


def timed(fn, repeat: int) -> dict:
    """p50/p95 of wall time, and of this process's CPU time: on a shared machine the wall time includes waiting for
    a core, which the CPU time leaves out (SQLite's reads from the page cache are CPU time too). `gc_max_ms`: the
    most time one request spent in garbage collection."""
    fn()  # warm the page cache and the app's first-request work
    wall, cpu, collecting = [], [], []
    collections = _Collections()
    gc.callbacks.append(collections)
    try:
        for _ in range(repeat):
            collections.ms = 0.0
            started, started_cpu = time.perf_counter(), time.process_time()
            fn()
            wall.append((time.perf_counter() - started) * 1000)
            cpu.append((time.process_time() - started_cpu) * 1000)
            collecting.append(collections.ms)
    finally:
        gc.callbacks.remove(collections)

    def p(samples, q):
        samples = sorted(samples)
        return round(samples[min(len(samples) - 1, int(len(samples) * q))], 1)

    return {
        "p50_ms": p(wall, 0.5),
        "p95_ms": p(wall, 0.95),
        "cpu_p50_ms": p(cpu, 0.5),
        "cpu_p95_ms": p(cpu, 0.95),
        "gc_max_ms": round(max(collecting), 1),
    }


def _line(name: str, r: dict) -> str:
    return (
        f"  {name:<44} wall {r['p50_ms']:>7} p50 {r['p95_ms']:>7} p95   cpu {r['cpu_p50_ms']:>7} p50 "
        f"{r['cpu_p95_ms']:>7} p95 (ms)  gc max {r['gc_max_ms']}"
    )


def _get(client, url: str):
    def fetch():
        response = client.get(url)
        if response.status_code != 200:
            raise SystemExit(f"{url}: HTTP {response.status_code}")
        return response

    return fetch


def desk_pages(client, store) -> dict[str, str]:
    """The pages measured: {name: URL}."""
    busy = next(
        store.query(
            "SELECT seller, count(*) AS n FROM listings WHERE flagged = 1 GROUP BY seller ORDER BY n DESC LIMIT 1"
        )
    )
    listing_pk = next(store.query("SELECT pk FROM listings WHERE flagged = 1 ORDER BY pk DESC LIMIT 1"))["pk"]
    month_ago = (datetime.datetime.now(datetime.UTC) - datetime.timedelta(days=30)).date().isoformat()
    today = datetime.datetime.now(datetime.UTC).date().isoformat()
    pages = {
        "queue": "/",
        "queue, category+marketplace": "/?category=key_programmer&marketplace=ebay_uk",
        f"queue, busiest seller ({busy['n']} flagged)": f"/?seller={busy['seller']}&status=all",
        "queue, first seen last 30 days": f"/?since={month_ago}&until={today}",
        "search 'programmer'": "/?q=programmer",
        "search 'xhorse relay' (rare pair)": "/?q=xhorse+relay",
        "search 'ford' (in most listings)": "/?q=ford",
        **{f"tab {s}": f"/?status={s}" for s in ("pending", "escalated", "confirmed", "dismissed", "all")},
        "queue, uncertain first": "/?order=uncertain",
        "missed? sample": "/?status=missed",
        "queue, page 2": None,  # the queue's own "Next" link
        "dashboard": "/dashboard",
        "report": "/report",
        "listing page": f"/listing/{listing_pk}",
        "audit": "/audit",
    }
    first = client.get("/").text
    pages["queue, page 2"] = _next_link(first)
    return {k: v for k, v in pages.items() if v}


def _next_link(page: str) -> str | None:
    import re

    found = re.search(r'<a href="([^"]+)"[^>]*>Next', page)
    return html.unescape(found.group(1)) if found else None


def measure(path: Path, repeat: int) -> dict:
    from click.testing import CliRunner

    from keywatch.cli import cli
    from webui.app import create_app, settle

    app = create_app(path, secret_key=b"bench" * 8)
    settle()  # as `keywatch serve` does before it takes requests
    client = app.test_client()
    token = _token(client)
    response = client.post("/login", data={"username": USER, "password": PASSWORD, "csrf_token": token})
    assert response.status_code == 303, "bench login failed"
    store = db.connect(path)
    # Stores in use never run ANALYZE: the desk's plans must not depend on its statistics.
    store.execute("DROP TABLE IF EXISTS sqlite_stat1")
    results = {}
    for name, url in desk_pages(client, store).items():
        results[name] = timed(_get(client, url), repeat)
        print(_line(name, results[name]), flush=True)
    runner = CliRunner()
    for name, args in {
        "keywatch hits --format jsonl": ["hits", "--db", str(path), "--format", "jsonl"],
        "keywatch report --format html": ["report", "--db", str(path), "--format", "html", "--out", os.devnull],
    }.items():

        def run(args=args):
            result = runner.invoke(cli, args, catch_exceptions=False)
            assert result.exit_code == 0, result.output

        results[name] = timed(run, max(3, repeat // 5))
        print(_line(name, results[name]), flush=True)
    counts = next(
        store.query(
            "SELECT count(*) AS listings, sum(flagged) AS flagged, (SELECT count(*) FROM decisions) AS decisions, "
            "(SELECT count(*) FROM captures) AS captures FROM listings"
        )
    )
    store.close()
    return {"store": counts, "pages": results}


def _token(client) -> str:
    import re

    return re.search(r'name="csrf_token" value="([^"]+)"', client.get("/login").text).group(1)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[91_000], help="listings per store [91000]")
    parser.add_argument("--repeat", type=int, default=20, help="requests per page [20]")
    parser.add_argument("--build-only", action="store_true", help="build (or find) the stores, measure nothing")
    parser.add_argument(
        "--scale-from", type=int, metavar="N", help="make missing stores by copying the N-listing store (see scale)"
    )
    parser.add_argument("--label", default="", help="a name for this run in the results file")
    args = parser.parse_args(argv)
    OUT.mkdir(parents=True, exist_ok=True)
    report = {}
    for n in args.sizes:
        path = store_path(n)
        if not path.exists() and args.scale_from and n > args.scale_from:
            if not store_path(args.scale_from).exists():
                print(f"building {args.scale_from} listings at {store_path(args.scale_from)}", flush=True)
                build(store_path(args.scale_from), args.scale_from)
            print(f"copying {args.scale_from} to {n} listings at {path}", flush=True)
            scale(store_path(args.scale_from), path, n // args.scale_from)
        elif not path.exists():
            print(f"building {n} listings at {path}", flush=True)
            build(path, n)
        if args.build_only:
            continue
        print(f"measuring {path}", flush=True)
        report[n] = measure(path, args.repeat)
    if report:
        out = OUT / f"desk-results{'-' + args.label if args.label else ''}.json"
        out.write_text(json.dumps(report, indent=2) + "\n")
        print(f"written to {out}")


if __name__ == "__main__":
    main()
