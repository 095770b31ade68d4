"""Item pages handed to the classifier's process outright (`MarketplaceSpider.hand_over`, `ClassifyPipeline.take`)
when it stores what it classifies: each counted as the pipelines count an item, the spider closing only once all are
settled, and past the limit the pages yielded as items instead. A crawl stores and counts the same either way."""

import pickle
import sqlite3
import subprocess
import sys
from concurrent.futures import Future
from concurrent.futures.process import BrokenProcessPool

import pytest
from scrapy.http import HtmlResponse, Request
from twisted.internet import defer

import db
from demo_market import DemoMarket, pages
from demo_market.catalogue import load_catalogue
from spiders.monitors import accounting
from spiders.pipelines.classify import ClassifyPipeline
from spiders.robot_check import BlockedPage
from tests.support.cli import ROOT, demo_crawl_args
from tests.test_classifier_stores import crawl  # noqa: F401 - the fixture
from tests.test_classifier_worker_killed import OFF, run_stats, stored
from tests.test_pipelines import BASE, listing
from tests.test_spider_read_in_worker import crawl_of

CLASSIFIED = {"flagged": True, "category": "relay_attack", "risk": "high", "score": 91.0}


def handing_over(crawler, store, limit_groups=4, batch=50):
    """A classify pipeline as a crawl whose worker stores has it, its batches kept here (the test releases them)."""
    pipeline = ClassifyPipeline.from_crawler(crawler)
    pipeline.stores, pipeline.store_pipeline = True, store
    pipeline.batch_size, pipeline.handover_groups = batch, limit_groups
    pipeline.send_batch = pipeline.waiting.send = lambda: None
    return pipeline


def released(pipeline, outcome) -> None:
    """The batch handed over so far, given back by a worker with `outcome` (results, or what it raised)."""
    future = Future()
    if isinstance(outcome, BaseException):
        future.set_exception(outcome)
    else:
        future.set_result(outcome)
    pipeline.release(future, pipeline.waiting.take())


def test_the_spider_yields_an_unread_page_only_when_it_is_not_taken():
    crawler = crawl_of(reads_elsewhere=True)
    row = load_catalogue()[0]
    url = f"{BASE}/item/{row['id']}"
    response = HtmlResponse(url=url, body=pages.item_page(row, BASE).encode(), request=Request(url))
    taken = []
    crawler.spider.hand_over = lambda item: taken.append(item) or True
    assert list(crawler.spider.parse_item(response)) == [] and taken[0].unread is not None
    crawler.spider.hand_over = lambda item: False
    [item] = crawler.spider.parse_item(response)
    assert item.unread is not None and item.listing_id == taken[0].listing_id
    assert crawler.stats.get_value("keywatch/item_pages") == 2


def test_each_capture_handed_over_is_counted_as_its_group_went(crawl, caplog):  # noqa: F811
    crawler, store = crawl
    pipeline = handing_over(crawler, store)
    for listing_id in ("DM1", "DM2", "DM3"):
        assert pipeline.take(listing(listing_id))
    assert pipeline.handed == 3
    blocked = BlockedPage("robot check (captcha)")
    with caplog.at_level("ERROR"):
        released(pipeline, [(None, CLASSIFIED, 7), (None, CLASSIFIED, ValueError("refused")), (blocked, None, None)])
    stats = crawler.stats.get_stats()
    assert (stats["keywatch/items_stored"], stats["keywatch/hits"], stats["keywatch/items_not_stored"]) == (1, 1, 1)
    assert stats["keywatch/item_pages_skipped/robot_check"] == 1
    assert "not stored: http://127.0.0.1:8000/item/DM2 (ValueError: refused)" in caplog.text
    assert pipeline.handed == 0


def test_a_capture_whose_worker_died_uncommitted_is_stored_by_the_store_pipeline(crawl):  # noqa: F811
    crawler, store = crawl
    pipeline = handing_over(crawler, store)
    assert pipeline.take(listing("DM1")) and pipeline.take(listing("DM2", title="Leather key fob cover"))
    released(pipeline, BrokenProcessPool("killed"))  # classified here instead; nothing of the group committed
    assert pipeline.handed == 2 and len(store.group) == 2  # with the store pipeline's writer now
    store.wait_for_writes()
    assert pipeline.handed == 0
    stats = crawler.stats.get_stats()
    assert (stats["keywatch/items_stored"], stats["keywatch/hits"]) == (2, 1)
    with db.read_only(crawler.settings.get("KEYWATCH_DB")) as check:
        flagged = [row["flagged"] for row in check.query("SELECT flagged FROM classifications ORDER BY id")]
    assert flagged == [1, 0]


def test_past_the_limit_nothing_is_taken_and_without_a_storing_worker_nothing_at_all(crawl):  # noqa: F811
    crawler, store = crawl
    pipeline = handing_over(crawler, store, limit_groups=1, batch=2)
    assert [pipeline.take(listing(f"DM{n}")) for n in range(3)] == [True, True, False]
    released(pipeline, [(None, CLASSIFIED, 1), (None, CLASSIFIED, 2)])
    assert pipeline.take(listing("DM4"))
    pipeline.stores = False
    assert not pipeline.take(listing("DM5"))


def test_the_spider_closes_only_once_every_capture_handed_over_is_settled(crawl):  # noqa: F811
    crawler, store = crawl
    pipeline = handing_over(crawler, store)
    assert defer.ensureDeferred(pipeline.close_spider()).called  # nothing out: closes at once
    pipeline.take(listing("DM1"))
    closing = defer.ensureDeferred(pipeline.close_spider())
    assert not closing.called
    released(pipeline, [(None, CLASSIFIED, 3)])
    assert closing.called and crawler.stats.get_value("keywatch/items_stored") == 1


def _crawl(url, path, *settings) -> dict:
    done = subprocess.run(
        [sys.executable, "-m", "keywatch", *demo_crawl_args(url, path, *OFF, *settings)],
        cwd=ROOT,
        capture_output=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr.decode()[-3000:]
    with sqlite3.connect(path) as conn:
        return {name: conn.execute(f"SELECT count(*) FROM {name}").fetchone()[0] for name in ("captures", "listings")}


@pytest.mark.parametrize("groups", ["0", "1"], ids=["every page yielded", "handed over and yielded by turns"])
def test_a_crawl_stores_and_counts_the_same_whether_pages_are_handed_over_or_yielded(tmp_path, groups):
    # Groups of 4 and at most one out at a time: most pages meet the limit, so the crawl mixes both ways.
    small = ["-s", "KEYWATCH_STORE_GROUP_SIZE=4", "-s", "LOG_LEVEL=ERROR"]
    with DemoMarket(port=0, scale=1) as market:
        default = _crawl(market.url, tmp_path / "default.sqlite", *small)
        other = _crawl(market.url, tmp_path / "other.sqlite", *small, "-s", f"KEYWATCH_HANDOVER_GROUPS={groups}")
    assert default == other == {"captures": len(market.listings), "listings": len(market.listings)}
    assert stored(tmp_path / "default.sqlite") == stored(tmp_path / "other.sqlite")
    assert run_stats(tmp_path / "default.sqlite") == run_stats(tmp_path / "other.sqlite")
    counted = accounting(run_stats(tmp_path / "other.sqlite"))
    assert (counted["not_stored"], counted["lost"]) == (0, 0)
    for path in (tmp_path / "default.sqlite", tmp_path / "other.sqlite"):
        assert db.verify(db.connect(path)).ok
    # Scrapy counts the items that went through its pipelines: none of those handed over.
    with sqlite3.connect(tmp_path / "other.sqlite") as conn:
        scraped = conn.execute("SELECT json_extract(stats, '$.item_scraped_count') FROM crawl_runs").fetchone()[0]
    if groups == "0":
        assert scraped == len(market.listings)
    else:
        assert 0 < (scraped or 0) < len(market.listings)


def test_what_the_worker_sends_back_of_a_capture_handed_over_counts_as_the_whole_result(caplog):
    # counted_only keeps what the crawl counts: a count that came to read more of a result would differ here.
    from spiders.pipelines.classifier_worker import counted_only
    from spiders.pipelines.store import StorePipeline

    fields = {
        "title": "Relay box",
        "description": "2-way",
        "marketplace": "demo",
        "listing_id": "DM1",
        "url": f"{BASE}/item/DM1",
        "extra": {
            "field_problems": {"price": "not a price", "seller": "too long"},
            "claims": {"listing_id": "DM9", "url": "http://elsewhere.example/item/DM9"},
            "parse_error": "JSONDecodeError: Expecting value",
            "images": ["a.jpg"],
        },
    }
    classification = {**CLASSIFIED, "matches": [{"term": "relay box"}], "probability": 0.97, "model": "m"}
    counted = []
    for outcome in [(fields, classification), counted_only(fields, classification)]:
        crawler = crawl_of(reads_elsewhere=True)
        crawler.spider.run_id = 1
        pipeline = handing_over(crawler, StorePipeline.from_crawler(crawler))
        assert pipeline.take(listing("DM1"))
        with caplog.at_level("INFO"):
            released(pipeline, [(*outcome, 5)])
        counted.append(crawler.stats.get_stats())
    assert counted[0] == counted[1]
    assert counted[0]["keywatch/identity_claims_rejected"] == counted[0]["keywatch/parse_errors"] == 1
    assert counted[0]["keywatch/field_problems/price"] == counted[0]["keywatch/hits/risk/high"] == 1
    assert len(pickle.dumps(counted_only(fields, classification))) < len(pickle.dumps((fields, classification)))


def test_a_count_that_fails_still_settles_its_capture_and_counts_it_stored(crawl, caplog, monkeypatch):  # noqa: F811
    crawler, store = crawl
    pipeline = handing_over(crawler, store)

    def broken(url, fields):
        raise RuntimeError("a bug in counting")

    monkeypatch.setattr(crawler.spider, "count_read", broken)
    pipeline.take(listing("DM1"))
    closing = defer.ensureDeferred(pipeline.close_spider())
    with caplog.at_level("ERROR"):
        released(pipeline, [({"extra": {}}, CLASSIFIED, 9)])
    assert closing.called and pipeline.handed == 0
    assert crawler.stats.get_value("keywatch/items_stored") == 1
    assert "could not count what was read of http://127.0.0.1:8000/item/DM1" in caplog.text
