"""The classifier's process storing what it classified (KEYWATCH_STORE_IN_CLASSIFIER, no pipeline between classify and
store): its half run in this process, the store pipeline counting what it committed, and a group whose worker died
checked against the store."""

from concurrent.futures import Future
from concurrent.futures.process import BrokenProcessPool

import pytest
from itemadapter import ItemAdapter
from scrapy.http import HtmlResponse, Request
from scrapy.utils.test import get_crawler
from twisted.internet import defer

import db
from classifier import shared_watchlist
from demo_market import pages
from demo_market.catalogue import load_catalogue
from spiders.pipelines import classifier_worker
from spiders.pipelines.classifier_worker import task_of
from spiders.pipelines.classify import ClassifyPipeline, store_comes_next
from spiders.pipelines.store import StorePipeline, record_of
from spiders.spiders.demo_market import DemoMarketSpider
from tests.test_pipelines import BASE, WATCHLIST, listing


@pytest.fixture
def crawl(tmp_path):
    """A crawler whose store pipeline has opened its run (and declared the demo's hosts)."""
    settings = {"KEYWATCH_DB": str(tmp_path / "k.sqlite"), "KEYWATCH_WATCHLIST": str(WATCHLIST)}
    crawler = get_crawler(DemoMarketSpider, settings_dict=settings)
    crawler.spider = crawler._create_spider(base_url=BASE)
    store = StorePipeline.from_crawler(crawler)
    store.open_spider()
    yield crawler, store
    store.spider_closed(crawler.spider, "finished")


def captures(path) -> list[tuple]:
    with db.read_only(path) as store:
        return [
            (row["listing_id"], row["flagged"])
            for row in store.query(
                "SELECT l.listing_id, k.flagged FROM captures c JOIN listings l ON l.pk = c.listing_pk "
                "LEFT JOIN classifications k ON k.capture_id = c.id ORDER BY c.id"
            )
        ]


def test_the_worker_reads_classifies_and_commits_a_group(crawl, monkeypatch):
    crawler, store = crawl
    monkeypatch.setattr(classifier_worker, "_watchlist", shared_watchlist(WATCHLIST))
    monkeypatch.setattr(classifier_worker, "_reader", DemoMarketSpider(base_url=BASE))
    monkeypatch.setattr(classifier_worker, "_store", db.connect(crawler.settings.get("KEYWATCH_DB")))
    # An item page left unread (the demo's pages are read in the worker), a listing already read, a foreign host.
    row = load_catalogue()[0]  # a CAN-injection kit sold as a speaker: flagged on its description
    url = f"{BASE}/item/{row['id']}"
    body = pages.item_page(row, BASE).encode()
    spider = crawler.spider
    spider.reads_elsewhere = True
    [unread] = spider.parse_item(HtmlResponse(url=url, body=body, request=Request(url)))
    foreign = listing("DM3")
    foreign.response_url = foreign.url = "http://elsewhere.example/item/DM3"
    items = [unread, listing("DM2", title="Leather key fob cover"), foreign]
    adapters = [ItemAdapter(item) for item in items]
    results = classifier_worker.classify_and_store(
        [task_of(a) for a in adapters], [record_of(a) for a in adapters], store.run_id
    )
    (fields, first, stored_first), (no_fields, second, stored_second), (_, _, refused) = results
    watchlist = shared_watchlist(WATCHLIST)
    assert (fields["title"], fields["description"]) == (row["title"], row["description"])
    assert first == classifier_worker.classify_pairs([(row["title"], row["description"])], watchlist)[0]
    assert first["flagged"] and no_fields is None and second["flagged"] is False
    assert isinstance(stored_first, int) and isinstance(stored_second, int)
    assert isinstance(refused, db.ForeignHost)
    # Stored as read and classified there, the foreign page not at all; the store still verifies.
    assert captures(crawler.settings.get("KEYWATCH_DB")) == [(row["id"], 1), ("DM2", 0)]
    with db.read_only(crawler.settings.get("KEYWATCH_DB")) as check:
        assert db.verify(check).ok


def test_an_item_the_worker_committed_is_only_counted_by_the_store_pipeline(crawl):
    crawler, store = crawl
    item = listing("DM1")
    item.classification = {"flagged": True, "category": "relay_attack", "risk": "high"}
    item.capture_id = 41
    done = defer.ensureDeferred(store.process_item(item))
    assert done.called and store.group == [] and store.writer is None  # nothing handed to a writer
    assert crawler.stats.get_value("keywatch/items_stored") == 1 and crawler.stats.get_value("keywatch/hits") == 1


def test_a_group_whose_worker_died_counts_what_it_committed_and_leaves_the_rest_to_the_store_pipeline(crawl):
    crawler, store = crawl
    pipeline = ClassifyPipeline.from_crawler(crawler)
    committed, lost = listing("DM1"), listing("DM2", title="Leather key fob cover")
    records = [record_of(ItemAdapter(item)) for item in (committed, lost)]
    # What the worker had committed of its last group before it died.
    [capture_id] = db.save_captures(store.store, [dict(records[0])], store.run_id)
    waiting, got = [defer.Deferred(), defer.Deferred()], []
    for outcome in waiting:
        outcome.addCallback(got.append)
    died = Future()
    died.set_exception(BrokenProcessPool("killed"))
    items = zip((committed, lost), records, waiting, strict=True)
    batch = [(task_of(ItemAdapter(item)), record, outcome) for item, record, outcome in items]
    pipeline.release(died, batch)
    assert [stored for _, _, stored in got] == [capture_id, None]
    # Classified in the crawl's process instead, as the worker would have.
    assert [classification["flagged"] for _, classification, _ in got] == [True, False]


def test_the_worker_stores_only_when_the_store_pipeline_comes_right_after_classify():
    class Chain:
        def __init__(self, *pipelines):
            self.engine = type("Engine", (), {})()
            self.engine.scraper = type("Scraper", (), {})()
            self.engine.scraper.itemproc = type("Manager", (), {"middlewares": pipelines})()

    classify, store, render = object.__new__(ClassifyPipeline), object.__new__(StorePipeline), object()
    assert store_comes_next(Chain(classify, store), classify)
    assert not store_comes_next(Chain(classify, render, store), classify)
    assert not store_comes_next(Chain(classify), classify)
    assert not store_comes_next(get_crawler(), classify)  # no engine: a test driving process_item
