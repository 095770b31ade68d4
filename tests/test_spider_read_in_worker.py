"""Item pages read in the classifier's process (MarketplaceSpider.complete_pages): the same item as read in the crawl's.

The crawl fetches such a page and yields it unread; ClassifyPipeline has it read (by a copy of the spider built from
the crawl's arguments, as the worker builds it) and classified, and the spider counts the reading."""

import dataclasses
import json
import pickle

import pytest
from itemadapter import ItemAdapter
from scrapy.http import HtmlResponse, Request
from scrapy.utils.test import get_crawler

from common.settings import ROOT
from demo_market import pages
from demo_market.catalogue import load_catalogue
from spiders.items import SkippedPage
from spiders.monitors import accounting
from spiders.pipelines import classifier_worker
from spiders.pipelines.classify import ClassifyPipeline, task_of
from spiders.pipelines.store import StorePipeline, record_of
from spiders.robot_check import BlockedPage
from spiders.spiders.demo_market import DemoMarketSpider

BASE = "http://127.0.0.1:8000"
WATCHLIST = ROOT / "watchlist.yaml"


def crawl_of(reads_elsewhere: bool):
    crawler = get_crawler(DemoMarketSpider, settings_dict={"KEYWATCH_WATCHLIST": str(WATCHLIST)})
    crawler.spider = DemoMarketSpider.from_crawler(crawler, base_url=BASE, mode="all")
    crawler.spider.reads_elsewhere = reads_elsewhere  # as the classify pipeline sets it when its worker reads
    return crawler


def demo_pages():
    rows = load_catalogue()
    url = f"{BASE}/item/{rows[0]['id']}"
    yield "plain", url, pages.item_page(rows[0], BASE).encode(), []
    # Sent on to an address without the id: the id is the one of the address asked for.
    yield "redirected", f"{BASE}/view?n=1", pages.item_page(rows[1], BASE).encode(), [f"{BASE}/item/{rows[1]['id']}"]
    yield "broken JSON-LD", url, pages.broken_item_page(rows[2]).encode(), []
    yield "malformed", url, pages.malformed_item_page(rows[3], BASE).encode(), []
    # A page claiming another listing's identity: the claim is kept, identity stays the fetched URL's.
    claims = pages.item_page(rows[4], BASE).replace(f"/item/{rows[4]['id']}", "/item/SOMEONE-ELSE").encode()
    yield "claims", url, claims, []
    yield "not even HTML", url, b"\x00\xff" * 64, []


@pytest.mark.parametrize(
    "name, url, body, redirects", list(demo_pages()), ids=lambda v: v if isinstance(v, str) else ""
)
def test_a_page_read_in_the_classifier_process_is_the_item_read_in_the_crawl(name, url, body, redirects):
    def response():
        meta = {"fetched_at": "2026-12-01T10:00:00.000000+00:00", "purpose": "all"}
        if redirects:
            meta["redirect_urls"] = redirects
        return HtmlResponse(
            url=url, body=body, headers={"Content-Type": "text/html; charset=utf-8"}, request=Request(url, meta=meta)
        )

    card = {"listing_id": "x", "url": url, "title": "From the card", "seller": "card-seller"}
    here, there = crawl_of(reads_elsewhere=False), crawl_of(reads_elsewhere=True)
    [read_here] = here.spider.parse_item(response(), card=dict(card))
    ClassifyPipeline.from_crawler(here).process_item(read_here)

    [unread] = there.spider.parse_item(response(), card=dict(card))
    assert unread.unread is not None and unread.title == "" and unread.classification is None
    assert not any(k.startswith("keywatch/items") or "problems" in k for k in there.stats.get_stats())
    # The worker's side, as in its process: a spider of its own from the crawl's arguments, the results pickled.
    classifier_worker._load(str(WATCHLIST), ("spiders.spiders.demo_market.DemoMarketSpider", there.spider.arguments))
    task = task_of(ItemAdapter(unread))
    [outcome] = pickle.loads(pickle.dumps(classifier_worker.classify_batch([pickle.loads(pickle.dumps(task))])))
    ClassifyPipeline.from_crawler(there).finish(ItemAdapter(unread), outcome)

    assert dataclasses.asdict(unread) == dataclasses.asdict(read_here)
    assert unread.classification is not None or not (unread.title or unread.description)
    if name == "redirected":
        assert unread.listing_id == load_catalogue()[1]["id"]
    if name == "claims":
        assert unread.extra["claims"]
    if name == "broken JSON-LD":
        assert unread.extra["parse_error"] and there.stats.get_value("keywatch/parse_errors") == 1
    keywatch = lambda crawler: {k: v for k, v in crawler.stats.get_stats().items() if k.startswith("keywatch/")}  # noqa: E731
    assert keywatch(there) == keywatch(here)


def test_without_a_worker_the_pipeline_reads_the_page_in_the_crawl():
    crawler = crawl_of(reads_elsewhere=True)
    url = f"{BASE}/item/DM10001"
    [item] = crawler.spider.parse_item(
        HtmlResponse(url=url, body=pages.item_page(load_catalogue()[0], BASE).encode(), request=Request(url))
    )
    assert item.unread is not None
    ClassifyPipeline.from_crawler(crawler).process_item(item)  # no reactor: no worker
    assert item.unread is None and item.title and item.classification is not None
    assert crawler.stats.get_value("keywatch/items") == 1


def test_a_reading_that_fails_in_the_worker_stores_the_page_as_a_parse_error(monkeypatch):
    crawler = crawl_of(reads_elsewhere=True)
    url = f"{BASE}/item/DM10001"
    [item] = crawler.spider.parse_item(HtmlResponse(url=url, body=b"<html></html>", request=Request(url)))

    def broken(capture):
        raise MemoryError("out of memory")

    monkeypatch.setattr(crawler.spider, "read_fetched", broken)
    ClassifyPipeline.from_crawler(crawler).process_item(item)
    assert item.unread is None and item.listing_id == "DM10001" and item.marketplace == "demo"
    assert item.extra["parse_error"] == "MemoryError: out of memory" and item.classification is None
    assert crawler.stats.get_value("keywatch/parse_errors") == 1


def test_pages_are_read_in_the_crawl_unless_a_classifier_process_reads_them():
    # The pipeline says so only when it starts a worker that reads (a running crawl, tests/test_end_to_end.py).
    assert not crawl_of(reads_elsewhere=False).spider.reads_elsewhere
    pipeline = ClassifyPipeline.from_crawler(crawl_of(reads_elsewhere=False))
    pipeline.open_spider()  # no reactor: no worker, so nothing is read elsewhere
    assert pipeline.worker is None and not pipeline.spider.reads_elsewhere


def test_what_the_reading_needs_is_never_stored():
    crawler = crawl_of(reads_elsewhere=True)
    url = f"{BASE}/item/DM10001"
    [item] = crawler.spider.parse_item(HtmlResponse(url=url, body=b"<html></html>", request=Request(url)))
    assert item.unread is not None
    item.capture_id = 7
    record = record_of(ItemAdapter(item))
    assert "unread" not in record and "capture_id" not in record and record["body"] is item.body


@pytest.mark.parametrize("page", ["amazon_robot_check.html", "cloudflare_challenge.html"])
def test_a_robot_check_read_elsewhere_is_counted_as_the_crawl_counts_it_and_dropped(page, caplog):
    # The crawl's process yields the page unscreened; where it is read (here: no worker) it is found to be a robot
    # check, counted as parse_item counts one it screens itself, and its item dropped, never counted as not stored.
    crawler = crawl_of(reads_elsewhere=True)
    url = f"{BASE}/item/DM10001"
    body = (ROOT / "tests" / "pages" / page).read_bytes()
    [item] = crawler.spider.parse_item(HtmlResponse(url=url, body=body, request=Request(url)))
    assert item.unread is not None and crawler.stats.get_value("keywatch/blocked_pages") is None
    with pytest.raises(SkippedPage), caplog.at_level("WARNING"):
        ClassifyPipeline.from_crawler(crawler).process_item(item)
    stats = crawler.stats.get_stats()
    assert stats["keywatch/blocked_pages"] == stats["keywatch/item_pages_skipped/robot_check"] == 1
    assert "keywatch/items" not in stats and "keywatch/parse_errors" not in stats
    assert f"blocked page {url}: robot check (" in caplog.text
    StorePipeline.from_crawler(crawler).not_stored(item, exception=SkippedPage("robot check"))
    counted = accounting(crawler.stats.get_stats())
    assert (counted["fetched"], counted["not_stored"], counted["lost"]) == (1, 0, 0)
    assert counted["skipped"] == {"robot_check": 1}


def test_a_robot_check_in_the_worker_is_not_stored_and_the_rest_of_its_group_is(tmp_path, monkeypatch):
    import db
    from classifier import shared_watchlist

    crawler = crawl_of(reads_elsewhere=True)
    path = tmp_path / "k.sqlite"
    store = db.connect(path)
    run_id = db.start_run(store, spider="demo_market")
    db.declare_hosts(store, run_id, "demo_market", crawler.spider.marketplace_hosts())
    monkeypatch.setattr(classifier_worker, "_watchlist", shared_watchlist(WATCHLIST))
    monkeypatch.setattr(classifier_worker, "_reader", DemoMarketSpider(base_url=BASE))
    monkeypatch.setattr(classifier_worker, "_store", store)
    row = load_catalogue()[0]
    blocked = (ROOT / "tests" / "pages" / "amazon_robot_check.html").read_bytes()
    items = [
        next(crawler.spider.parse_item(HtmlResponse(url=f"{BASE}/item/{listing_id}", body=body, request=Request(url))))
        for listing_id, body, url in (
            ("DM1", blocked, f"{BASE}/item/DM1"),
            (row["id"], pages.item_page(row, BASE).encode(), f"{BASE}/item/{row['id']}"),
        )
    ]
    adapters = [ItemAdapter(item) for item in items]
    results = classifier_worker.classify_and_store(
        [task_of(a) for a in adapters], [record_of(a) for a in adapters], run_id
    )
    (robot_check, _, not_stored), (fields, classification, stored) = results
    assert isinstance(robot_check, BlockedPage) and not_stored is None
    assert fields["title"] == row["title"] and classification["flagged"] and isinstance(stored, int)
    assert [
        r["listing_id"]
        for r in store.query("SELECT l.listing_id FROM captures c JOIN listings l ON l.pk = c.listing_pk")
    ] == [row["id"]]
    store.close()


@pytest.mark.parametrize("read_in_worker", ["True", "False"], ids=["read in the classifier", "read in the crawl"])
def test_a_robot_check_in_a_crawl_is_skipped_the_same_wherever_the_page_is_read(
    demo_market, tmp_path, monkeypatch, read_in_worker
):
    import db
    from tests.support.cli import demo_crawl_args, run_keywatch

    blocked_id = demo_market.listings[5]["id"]
    robot_check = (ROOT / "tests" / "pages" / "amazon_robot_check.html").read_text(encoding="utf-8")
    item_page = pages.item_page
    monkeypatch.setattr(
        pages, "item_page", lambda row, *a, **k: robot_check if row["id"] == blocked_id else item_page(row, *a, **k)
    )
    db_path = tmp_path / "k.sqlite"
    run = ("-s", "LOG_LEVEL=WARNING", "-s", f"KEYWATCH_READ_IN_WORKER={read_in_worker}")
    proc = run_keywatch(*demo_crawl_args(demo_market.url, db_path, *run))
    assert f"blocked page {demo_market.item_url(blocked_id)}: robot check (" in proc.stderr
    with db.read_only(db_path) as store:
        captured = {row["listing_id"] for row in store.query("SELECT listing_id FROM listings")}
        [stats] = [json.loads(row["stats"]) for row in store.query("SELECT stats FROM crawl_runs")]
        assert db.verify(store).ok
    assert captured == {row["id"] for row in demo_market.listings} - {blocked_id}
    assert stats["keywatch/blocked_pages"] == stats["keywatch/item_pages_skipped/robot_check"] == 1
    assert stats["keywatch/listing_pages_not_stored"] == 0 and "keywatch/items_not_stored" not in stats
