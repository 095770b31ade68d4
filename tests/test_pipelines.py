"""The item pipelines, one at a time, with a Scrapy crawler from `get_crawler` and no crawl around them."""

import json
import os
import signal

import pytest
import scrapy
from scrapy.utils.test import get_crawler
from twisted.internet import defer
from twisted.python.failure import Failure

import db
from classifier import classifier_version, shared_watchlist
from common import VERSION
from common.settings import ROOT
from spiders.items import ListingItem
from spiders.pipelines import classifier_worker
from spiders.pipelines.classify import ClassifyPipeline
from spiders.pipelines.store import StorePipeline
from spiders.spiders.demo_market import DemoMarketSpider

WATCHLIST = ROOT / "watchlist.yaml"
BASE = "http://127.0.0.1:8000"


def listing(listing_id="DM1", title="Keyless entry relay box, 2-way repeater", purpose="candidate", **fields):
    url = f"{BASE}/item/{listing_id}"
    return ListingItem(
        marketplace="demo",
        listing_id=listing_id,
        url=url,
        title=title,
        description="Long range, UK stock.",
        request_url=url,
        response_url=url,
        status=200,
        headers={"Content-Type": ["text/html; charset=utf-8"]},
        body=f"<html><h1>{title}</h1></html>".encode(),
        fetched_at="2026-11-28T10:00:00.123456Z",
        purpose=purpose,
        **fields,
    )


# ---------------------------------------------------------------- ClassifyPipeline (100)


@pytest.fixture
def classify_pipeline():
    crawler = get_crawler(settings_dict={"KEYWATCH_WATCHLIST": str(WATCHLIST)})
    return ClassifyPipeline.from_crawler(crawler), crawler


def test_classify_attaches_the_result_with_the_versions_it_was_scored_with(classify_pipeline):
    pipeline, _ = classify_pipeline
    item = pipeline.process_item(listing())
    result = item.classification
    assert result["flagged"] and result["category"] == "relay_attack" and result["matches"]
    watchlist = shared_watchlist(WATCHLIST)
    assert result["watchlist_version"] == watchlist.version
    assert result["classifier_version"] == classifier_version(watchlist)


def test_classify_scores_an_innocent_listing_too(classify_pipeline):
    pipeline, _ = classify_pipeline
    item = pipeline.process_item(listing(title="Leather key fob cover, brown"))
    assert item.classification["flagged"] is False and item.classification["watchlist_version"]


def test_classify_leaves_a_gone_listing_alone(classify_pipeline):
    pipeline, _ = classify_pipeline
    gone = listing(title="", purpose="recheck", listing_status="removed")
    gone.description = ""
    assert pipeline.process_item(gone).classification is None


def test_a_classifier_error_keeps_the_page_unclassified_and_counted(classify_pipeline, monkeypatch):
    pipeline, crawler = classify_pipeline

    def broken(*args, **kwargs):
        raise RuntimeError("model file damaged")

    monkeypatch.setattr(classifier_worker, "classify_many", broken)
    monkeypatch.setattr(classifier_worker, "classify", broken)
    item = pipeline.process_item(listing())
    assert item.classification is None
    assert item.extra["classification_error"] == "RuntimeError: model file damaged"
    assert crawler.stats.get_value("keywatch/classify_errors") == 1


def test_one_listing_that_breaks_the_classifier_does_not_cost_its_batch_theirs(monkeypatch):
    watchlist = shared_watchlist(WATCHLIST)
    real = classifier_worker.classify

    def fails_on_poison(title, description, wl):
        if title == "poison":
            raise RuntimeError("bad listing")
        return real(title, description, wl)

    monkeypatch.setattr(classifier_worker, "classify", fails_on_poison)
    monkeypatch.setattr(
        classifier_worker, "classify_many", lambda pairs, wl: map(lambda p: fails_on_poison(*p, wl), pairs)
    )
    pairs = [("Keyless relay box", ""), ("poison", ""), ("Leather key fob cover", "")]
    outcomes = classifier_worker.classify_pairs(pairs, watchlist)
    assert outcomes[0]["flagged"] and outcomes[0]["watchlist_version"] == watchlist.version
    assert isinstance(outcomes[1], RuntimeError)
    assert outcomes[2]["flagged"] is False


def test_a_batch_whose_worker_died_is_classified_in_the_crawl_and_the_worker_dropped(classify_pipeline):
    from concurrent.futures import Future
    from concurrent.futures.process import BrokenProcessPool

    pipeline, _ = classify_pipeline

    class Worker:
        def shutdown(self, **kwargs):
            self.shut = True

    pipeline.worker = worker = Worker()
    waiting = [defer.Deferred(), defer.Deferred()]
    got = []
    for d in waiting:
        d.addCallback(got.append)
    died = Future()
    died.set_exception(BrokenProcessPool("killed"))
    pipeline.release(
        died,
        [
            ((None, ("Keyless relay box, 2-way", "")), None, waiting[0]),
            ((None, ("Leather key fob cover", "")), None, waiting[1]),
        ],
    )
    assert pipeline.worker is None and worker.shut
    assert [fields for fields, _ in got] == [None, None]  # nothing to read: these were classified on their text
    assert [classification["flagged"] for _, classification in got] == [True, False]
    assert (
        got[0][1]
        == classifier_worker.classify_pairs([("Keyless relay box, 2-way", "")], shared_watchlist(WATCHLIST))[0]
    )


# ---------------------------------------------------------------- StorePipeline (200)


@pytest.fixture
def store_pipeline(tmp_path):
    crawler = get_crawler(DemoMarketSpider, settings_dict={"KEYWATCH_DB": str(tmp_path / "k.sqlite")})
    crawler.spider = crawler._create_spider(base_url=BASE)
    pipeline = StorePipeline.from_crawler(crawler)
    pipeline.open_spider()
    yield pipeline, crawler, tmp_path / "k.sqlite"
    if pipeline.store is not None:
        pipeline.store.close()
        if pipeline.writer is not None:
            pipeline.writer.shutdown()


def flagged(item):
    item.classification = {
        "flagged": True,
        "category": "relay_attack",
        "risk": "high",
        "score": 100,
        "matches": [],
        "watchlist_version": "test",
    }
    return item


def test_store_opens_a_run_and_declares_the_spiders_hosts(store_pipeline):
    pipeline, crawler, path = store_pipeline
    assert crawler.spider.run_id == pipeline.run_id
    run = db.get_run(pipeline.store, pipeline.run_id)
    assert run["spider"] == "demo_market" and json.loads(run["args"])["base_url"] == BASE
    hosts = pipeline.store.execute("SELECT marketplace, host FROM marketplace_hosts").fetchall()
    assert hosts == [("demo", "127.0.0.1:8000")]


def store_items(pipeline, *items) -> list[defer.Deferred]:
    """Hand items to the pipeline as Scrapy does, then commit the open group; each item's outcome."""
    outcomes = [defer.ensureDeferred(pipeline.process_item(item)) for item in items]
    pipeline.wait_for_writes()
    return outcomes


def test_store_writes_each_capture_and_counts_it(store_pipeline):
    pipeline, crawler, _ = store_pipeline
    store_items(
        pipeline,
        flagged(listing("DM1")),
        listing("DM2", title="Leather key fob cover"),
        listing("DM1", purpose="recheck", listing_status="live"),
    )
    captures = pipeline.store.execute("SELECT run_id, crawler_version, purpose FROM captures ORDER BY id").fetchall()
    version = f"keywatch/{VERSION} scrapy/{scrapy.__version__}"
    assert captures == [(pipeline.run_id, version, p) for p in ("candidate", "candidate", "recheck")]
    stats = crawler.stats
    assert stats.get_value("keywatch/captures_stored") == 3
    assert (stats.get_value("keywatch/items_stored"), stats.get_value("keywatch/rechecks_stored")) == (2, 1)
    assert stats.get_value("keywatch/hits") == 1
    assert stats.get_value("keywatch/hits/category/relay_attack") == stats.get_value("keywatch/hits/risk/high") == 1


def test_an_item_counts_as_stored_only_once_its_group_has_committed(store_pipeline):
    pipeline, crawler, _ = store_pipeline
    pipeline.group_size = 3
    waiting = [defer.ensureDeferred(pipeline.process_item(listing(f"DM{n}"))) for n in (1, 2)]
    # Held in the pipeline: nothing written, nothing counted, Scrapy not told the items are done.
    assert not any(d.called for d in waiting)
    assert pipeline.store.execute("SELECT count(*) FROM captures").fetchone() == (0,)
    assert crawler.stats.get_value("keywatch/items_stored") is None
    third = defer.ensureDeferred(pipeline.process_item(listing("DM3")))  # the group is full: one commit
    assert len(pipeline.writing) == 1 and not pipeline.group
    pipeline.wait_for_writes()
    assert all(d.called for d in [*waiting, third])
    assert pipeline.store.execute("SELECT count(*) FROM captures").fetchone() == (3,)
    assert crawler.stats.get_value("keywatch/items_stored") == 3


def test_store_counts_what_did_not_reach_it(store_pipeline):
    pipeline, crawler, _ = store_pipeline
    pipeline.not_stored(listing("DM3"))
    pipeline.not_stored(listing("DM4", purpose="recheck"))
    assert crawler.stats.get_value("keywatch/items_not_stored") == 1
    assert crawler.stats.get_value("keywatch/rechecks_not_stored") == 1


def test_store_refuses_a_capture_from_another_host_and_keeps_nothing_of_it(store_pipeline):
    pipeline, _, _ = store_pipeline
    elsewhere = listing("DM5")
    elsewhere.url = elsewhere.request_url = elsewhere.response_url = "https://attacker.example/item/DM5"
    [refused, stored] = store_items(pipeline, elsewhere, listing("DM6"))
    with pytest.raises(db.ForeignHost):
        refused.result.raiseException()
    assert stored.result.listing_id == "DM6"  # the rest of its group is stored all the same
    assert pipeline.store.execute("SELECT count(*) FROM captures").fetchone() == (1,)


def test_store_records_how_the_run_ended_and_closes(store_pipeline):
    pipeline, crawler, path = store_pipeline
    store_items(pipeline, listing("DM1"))
    crawler.stats.set_value("keywatch/item_pages", 2)
    crawler.stats.set_value("keywatch/items_stored", 1)
    run_id = pipeline.run_id
    pipeline.spider_closed(crawler.spider, "shutdown")
    assert pipeline.store is None
    store = db.connect(path)
    try:
        run = db.get_run(store, run_id)
        assert run["finish_reason"] == "shutdown" and run["finished_at"]
        stats = json.loads(run["stats"])
        assert stats["keywatch/captures_stored"] == 1 and stats["keywatch/listing_pages_not_stored"] == 1
        assert db.verify(store).ok
    finally:
        store.close()
    pipeline.spider_closed(crawler.spider, "finished")  # a second close (or one without an open) does nothing


def test_a_writer_process_that_died_stores_nothing_more_and_says_so_for_every_item(store_pipeline):
    pipeline, crawler, _ = store_pipeline
    pipeline.start_writer().submit(int).result()  # the writer is up
    for process in list(pipeline.writer._processes.values()):
        os.kill(process.pid, signal.SIGKILL)
        process.join(timeout=10)
    outcomes = store_items(pipeline, listing("DM1"), listing("DM2"))
    assert all(isinstance(outcome.result, Failure) for outcome in outcomes)  # released with an error, not hung
    for outcome in outcomes:
        outcome.addErrback(lambda failure: None)
    assert crawler.stats.get_value("keywatch/items_stored") is None
    assert pipeline.store.execute("SELECT count(*) FROM captures").fetchone() == (0,)
