"""The two-stage crawl on the demo marketplace: every search card screened by title, item pages fetched only for
candidates plus a random sample, and the counts the run records agree with the store and with what the server
actually served."""

import json
import math
from collections import Counter

import pytest

import db
from demo_market import PER_PAGE, DemoMarket
from spiders import settings as project
from tests.support.cli import run_keywatch


@pytest.fixture
def market():
    with DemoMarket(port=0) as m:
        yield m


def crawl(market, db_path, *args):
    return run_keywatch(
        "crawl", "demo_market", "-a", f"base_url={market.url}", "--db", db_path, "-s", "LOG_LEVEL=WARNING", *args
    )


def test_two_stage_counts_agree_with_store_and_server(market, tmp_path):
    db_path = tmp_path / "two-stage.sqlite"
    crawl(market, db_path, "-a", "sample_rate=0.25", "-a", "seed=7")  # browse-all, two-stage (the default mode)

    store = db.connect(db_path)
    [run] = list(store.query("SELECT * FROM crawl_runs"))
    stats = json.loads(run["stats"])
    listings = market.listings
    fetched = {p: stats.get(f"keywatch/cards_fetched/{p}", 0) for p in ("candidate", "sample", "all")}

    # Stage 1: every listing's card was screened once; stage 2 fetched candidates and a sample, nothing else.
    assert stats["keywatch/cards_screened"] == len(listings)
    assert fetched["all"] == 0 and fetched["candidate"] > 0 and fetched["sample"] > 0
    assert stats["keywatch/cards_fetched"] == fetched["candidate"] + fetched["sample"] < len(listings)
    # The sample is a sample: roughly the rate asked for, of the cards that were not candidates.
    rest = len(listings) - fetched["candidate"]
    assert 0.10 * rest < fetched["sample"] < 0.40 * rest

    # The store holds one capture per fetched item page, with its purpose and screening score.
    captures = list(
        store.query(
            "SELECT c.purpose, c.screen_score, c.url, l.listing_id FROM captures c "
            "JOIN listings l ON l.pk = c.listing_pk WHERE c.purpose NOT LIKE 'attachment:%'"  # not the photos
        )
    )
    by_purpose = Counter(c["purpose"] for c in captures)
    # Every fetched item page is stored, even one that fails to parse (counted as a parse error).
    failed = stats.get("keywatch/parse_errors", 0)
    assert (
        by_purpose["candidate"] + by_purpose["sample"]
        == stats["keywatch/cards_fetched"]
        == stats["keywatch/item_pages"]
    )
    assert stats["keywatch/items"] == stats["keywatch/cards_fetched"] - failed
    assert set(by_purpose) <= {"candidate", "sample"} and by_purpose["sample"] == fetched["sample"]
    threshold = project.KEYWATCH_SCREEN_THRESHOLD
    assert all(c["screen_score"] >= threshold for c in captures if c["purpose"] == "candidate")
    assert all(c["screen_score"] < threshold for c in captures if c["purpose"] == "sample")
    # Flagged: the run's hit count is the store's count of flagged listings.
    flagged = next(store.query("SELECT count(*) AS n FROM listings WHERE flagged = 1"))["n"]
    assert stats["keywatch/hits"] == flagged > 0

    # What the server saw: robots.txt, every results page once, and exactly the item pages the run says it fetched.
    paths = Counter(path for _, path in market.request_log)
    item_paths = {p for p in paths if p.startswith("/item/")}
    search_paths = [p for p in paths if p.startswith("/search")]
    assert paths["/robots.txt"] == 1
    assert len(search_paths) == math.ceil(len(listings) / PER_PAGE) and all(paths[p] == 1 for p in search_paths)
    assert len(item_paths) == stats["keywatch/cards_fetched"] and all(paths[p] == 1 for p in item_paths)
    assert {f"/item/{c['listing_id']}" for c in captures} <= item_paths
    assert sum(paths.values()) == stats["downloader/response_count"] == stats["downloader/request_count"]

    # The screening miss rate, measured against the catalogue's own labels: devices stage 2 never fetched.
    devices = {row["id"] for row in listings if row["category"] != "none"}
    fetched_ids = {p.rsplit("/", 1)[1] for p in item_paths}
    missed = devices - fetched_ids
    assert len(missed) <= 0.1 * len(devices), f"screening missed {sorted(missed)}"
