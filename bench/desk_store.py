"""The desk benchmark's stores: 100k-1M listings built through the real write path, cached under data/bench/.

Stores are built through the real write path (`db.save_capture` for every capture, `db.decisions.decide_many`
for decisions, `db.status.record_status` for re-checks, `db.notices.record_notice` for notices), committed in
groups of 1,000 captures (each save is a savepoint inside the group's transaction, as a nested
`write_transaction` is), and cached under data/bench/ by size and builder version: a later run reuses the
store, and opening it applies any migration added since (as it would to a store in use).

91,000 listings through `save_capture` took about an hour on the shared VM (when each save still read every
listing), so the 1M store is copied from it (`scale`), in about 10 minutes.

The mix: ~12% of listings flagged (categories from watchlist.yaml, risk from the category), seven marketplaces,
sellers with a long tail, 10% of listings captured twice, a fifth of the unflagged captures `sample` pages
(the crawl's random share of screened-out cards), 20% of flagged listings decided, 1% observed removed, and
notices of confirmed listings with re-checks after them (so /report has something to report).
"""

from __future__ import annotations

import datetime
import html
import os
import random
import time
from pathlib import Path

import db
from db import accounts, decisions, notices, status
from db.canonical import format_utc

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
