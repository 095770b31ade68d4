"""A crawl killed with SIGKILL while a group of captures waits for its commit leaves a consistent store: verify
passes, nothing committed is lost, and `--resume` completes the crawl, fetching again exactly what was not
committed."""

import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections import Counter

import db
from demo_market import DemoMarket
from tests.support.cli import ROOT, demo_crawl_args


def committed(path) -> list[tuple]:
    """(capture id, listing id, sha256) of every capture committed so far."""
    try:
        with sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=5) as conn:
            return conn.execute(
                "SELECT c.id, l.listing_id, c.sha256 FROM captures c JOIN listings l ON l.pk = c.listing_pk "
                "ORDER BY c.id"
            ).fetchall()
    except sqlite3.OperationalError:
        return []  # not created yet


def item_pages_served(market) -> Counter:
    return Counter(path for _, path in market.request_log if path.startswith("/item/"))


def test_sigkill_mid_group_then_verify_passes_and_resume_fetches_what_was_not_committed(tmp_path):
    path = tmp_path / "killed.sqlite"
    with DemoMarket(port=0, scale=6) as market:
        command = [
            sys.executable,
            "-m",
            "keywatch",
            *demo_crawl_args(market.url, path, "--resume", "-s", "KEYWATCH_RENDER=off", "-s", "KEYWATCH_PHOTOS=0"),
        ]
        # Groups of 40 that otherwise wait 30 s: when the kill comes, a group is certainly waiting for its commit.
        group = ["-s", "KEYWATCH_STORE_GROUP_SIZE=40", "-s", "KEYWATCH_STORE_GROUP_SECONDS=30"]
        crawl = subprocess.Popen(
            [*command, *group, "-s", "LOG_LEVEL=ERROR"],
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            deadline = time.monotonic() + 90
            while len(committed(path)) < 150 and time.monotonic() < deadline and crawl.poll() is None:
                time.sleep(0.05)
            os.kill(crawl.pid, signal.SIGKILL)
            crawl.wait(timeout=10)
        finally:
            if crawl.poll() is None:
                crawl.kill()
        before = committed(path)
        served_before = item_pages_served(market)
        assert crawl.returncode == -signal.SIGKILL
        assert len(before) >= 150, "the crawl should have been killed mid-way, with captures committed"
        stored_before = {listing_id for _, listing_id, _ in before}
        fetched_not_committed = set(served_before) - {f"/item/{listing_id}" for listing_id in stored_before}
        assert fetched_not_committed, "the kill should have come while fetched pages waited for their commit"

        store = db.connect(path)
        result = db.verify(store)
        assert result.ok, result
        assert len(before) < len(market.listings), "killed before the end, or the test proves nothing"
        store.close()

        resumed = subprocess.run(
            [*command, "-s", "LOG_LEVEL=WARNING"], cwd=ROOT, capture_output=True, text=True, timeout=300
        )
        assert resumed.returncode == 0, resumed.stdout + resumed.stderr[-3000:]
        served = item_pages_served(market)

    after = committed(path)
    assert after[: len(before)] == before  # nothing committed was lost or changed
    per_listing = Counter(listing_id for _, listing_id, _ in after)
    assert set(per_listing) == {row["id"] for row in market.listings}  # the crawl is complete
    assert max(per_listing.values()) == 1  # and nothing stored before the kill was stored again
    # The server agrees: pages fetched but not committed were fetched again, committed ones were not.
    assert {page for page, n in served.items() if n > 1} == fetched_not_committed
    assert db.verify(db.connect(path)).ok
