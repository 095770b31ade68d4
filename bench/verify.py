"""Verify benchmark: a full verify with one hashing thread and with one per core, then `--since-anchor` after a
week's worth of new captures.

    .venv/bin/python bench/verify.py                        # the 100,000-listing store of bench/export.py
    .venv/bin/python bench/verify.py --db data/bench/export-10000.sqlite --added 500

Works on a copy of the store (built by bench/export.py, cached under data/bench/): full verify with 1 and with
os.cpu_count() body-hashing threads, records an anchor, adds `--added` captures through db.save_captures, and
times verify --since-anchor. Results go to bench/out/verify.json.
"""

import argparse
import os
import random
import shutil
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from store import build_pool, make_item, write_result  # noqa: E402, I001 - bench/store.py's page generator

import db  # noqa: E402


def timed(fn):
    started = time.perf_counter()
    result = fn()
    return result, round(time.perf_counter() - started, 2)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", type=Path, default=ROOT / "data" / "bench" / "export-100000.sqlite")
    parser.add_argument("--added", type=int, default=1000, help="captures added after the anchor [1000]")
    options = parser.parse_args()
    if not options.db.exists():
        raise SystemExit(f"{options.db} does not exist: build it with bench/export.py --sizes ...")
    cores = os.cpu_count() or 1
    with tempfile.TemporaryDirectory(prefix="keywatch-verify-bench-") as tmp:
        path = Path(tmp) / "store.sqlite"
        shutil.copyfile(options.db, path)
        store = db.connect(path)
        listings = store.execute("SELECT count(*) FROM listings").fetchone()[0]
        one, one_s = timed(lambda: db.verify(store, workers=1))
        many, many_s = timed(lambda: db.verify(store, workers=cores))
        assert one.ok and many.ok, (one.summary(), many.summary())
        db.record_anchor(store, many.count, many.head, many.count, many.bodies)
        rng = random.Random(7)
        pool = build_pool(rng, size=200)
        start = datetime(2027, 1, 1, tzinfo=UTC)
        items = [make_item(rng, pool, f"9{n:08d}", n, start + timedelta(seconds=n), 2, 6) for n in range(options.added)]
        for first in range(0, len(items), 50):
            db.save_captures(store, items[first : first + 50])
        since, since_s = timed(lambda: db.verify(store, since=db.latest_anchor(store)))
        assert since.ok, since.summary()
        store.close()
    result = {
        "listings": listings,
        "chain_records": many.count,
        "bodies": many.bodies,
        "cores": cores,
        "full_verify_1_thread_s": one_s,
        f"full_verify_{cores}_threads_s": many_s,
        "added_after_anchor": options.added,
        "records_after_anchor": since.count,
        "since_anchor_s": since_s,
    }
    print(
        f"{listings:,} listings, {many.count:,} chain records, {many.bodies:,} bodies: full verify {one_s} s with one "
        f"hashing thread, {many_s} s with {cores}; after {options.added:,} new captures ({since.count:,} records) "
        f"verify --since-anchor {since_s} s"
    )
    write_result("verify", result)
    return 0


if __name__ == "__main__":
    sys.exit(main())
