"""Does a change to the crawl change what it stores? One demo marketplace crawled by two copies of keywatch.

    git archive <commit> | tar -x -C /tmp/before
    .venv/bin/python bench/crawl_compare.py /tmp/before [--scale 3]

Both crawls (`keywatch crawl demo_market -a mode=all`, rendering and photos off) fetch the same pages from one
server, each into a store of its own; then every capture (URLs, status, headers but their Date, SHA-256 of the raw
bytes, size, purpose, the fields as stored, versions), every classification, every listing's index row (its
times left out) and the run's keywatch/* counts are compared, and each store is verified (its chain and index).
Exits 1 when anything differs or either store fails verify.
"""

import argparse
import json
import sqlite3
import subprocess
import sys
import tempfile
from pathlib import Path

import crawl  # bench/crawl.py, beside this file

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

# Columns that say when, not what: they differ between any two crawls.
TIMES = {
    "pk",
    "first_seen",
    "last_seen",
    "status_at",
    "latest_capture_id",
    "classification_id",
    "latest_classification_id",
}


def crawl_into(root: Path, url: str, db_path: Path) -> None:
    """The benchmark's full crawl (bench/crawl.py), run by the copy of keywatch at `root`."""
    args = crawl.full_crawl_args(url, db_path)
    done = subprocess.run([sys.executable, *args], cwd=root, capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"the crawl by {root} failed:\n{done.stderr[-3000:]}")


def stored(db_path: Path) -> dict[str, dict]:
    """What a crawl stored, keyed so that two crawls' rows meet: {part: {key: row}}."""
    store = sqlite3.connect(db_path)
    captures = {}
    for row in store.execute(
        "SELECT l.marketplace, l.listing_id, c.purpose, c.request_url, c.url, c.status, c.headers, c.sha256, "
        "c.body_size, c.screen_score, c.fields, c.crawler_version, c.watchlist_version, c.clock_source "
        "FROM captures c JOIN listings l ON l.pk = c.listing_pk"
    ):
        headers = json.loads(row[6])
        headers.pop("Date", None)
        captures[row[:3]] = (*row[3:6], headers, *row[7:])
    classifications = {
        row[:2]: row[2:]
        for row in store.execute(
            "SELECT l.marketplace, l.listing_id, k.flagged, k.category, k.risk, k.score, k.matches, k.probability, "
            "k.threshold, k.watchlist_version, k.classifier_version FROM classifications k "
            "JOIN captures c ON c.id = k.capture_id JOIN listings l ON l.pk = c.listing_pk"
        )
    }
    columns = [row[1] for row in store.execute("PRAGMA table_info(listings)") if row[1] not in TIMES]
    listings = {
        row[:2]: row
        for row in store.execute(f"SELECT {', '.join(f'[{c}]' for c in columns)} FROM listings")  # noqa: S608
    }
    [(stats,)] = store.execute("SELECT stats FROM crawl_runs ORDER BY id DESC LIMIT 1").fetchall()
    counts = {k: v for k, v in json.loads(stats).items() if k.startswith("keywatch/")}
    store.close()
    return {"captures": captures, "classifications": classifications, "listings": listings, "counts": counts}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("before", type=Path, help="a copy of keywatch to compare with (e.g. from git archive)")
    parser.add_argument("--scale", type=int, default=3, help="catalogue copies (31: the benchmark's 5,146 pages)")
    options = parser.parse_args()

    from demo_market import DemoMarket

    with tempfile.TemporaryDirectory(prefix="keywatch-compare-") as tmp, DemoMarket(port=0, scale=options.scale) as m:
        before, after = Path(tmp) / "before.sqlite", Path(tmp) / "after.sqlite"
        crawl_into(options.before.resolve(), m.url, before)
        crawl_into(ROOT, m.url, after)
        old, new = stored(before), stored(after)
        verified = {name: verify(path) for name, path in (("before", before), ("after", after))}
    differs = False
    for part in old:
        keys = old[part].keys() | new[part].keys()
        wrong = sorted(str(k) for k in keys if old[part].get(k) != new[part].get(k))
        differs = differs or bool(wrong)
        print(f"{part}: {len(old[part]):,} before, {len(new[part]):,} after, {len(wrong)} differ {wrong[:3]}")
    for name, summary in verified.items():
        print(f"verify {name}: {summary or 'ok'}")
    print("the same" if not differs else "DIFFERENT")
    return 1 if differs or any(verified.values()) else 0


def verify(db_path: Path) -> str:
    """What `verify` finds wrong with a crawl's store (empty when it passes)."""
    import db

    store = db.connect(db_path)
    try:
        result = db.verify(store)
    finally:
        store.close()
    return "" if result.ok else result.summary()


if __name__ == "__main__":
    sys.exit(main())
