"""spiders/overhead.py: what the crawl process keeps out of its per-page path is put back when the spider closes."""

import gc
import logging

import pytest
from scrapy.utils.test import get_crawler

from common.settings import ROOT
from spiders import settings as project_settings
from spiders.overhead import YOUNG_COLLECTION, LessOverhead


@pytest.fixture
def restore_process_state():
    thresholds, level = gc.get_threshold(), logging.getLogger("scrapy").level
    yield
    gc.unfreeze()
    gc.set_threshold(*thresholds)
    logging.getLogger("scrapy").setLevel(level)


def test_a_crawl_freezes_its_startup_heap_and_builds_no_records_below_log_level(restore_process_state):
    scrapy_logger = logging.getLogger("scrapy")
    scrapy_logger.setLevel(logging.DEBUG)  # as Scrapy's own logging configuration leaves it
    before = gc.get_threshold()
    extension = LessOverhead.from_crawler(get_crawler(settings_dict={"LOG_LEVEL": "WARNING"}))

    extension.engine_started()
    assert gc.get_freeze_count() > 0
    assert gc.get_threshold() == (YOUNG_COLLECTION, *before[1:])
    assert not scrapy_logger.isEnabledFor(logging.INFO) and scrapy_logger.isEnabledFor(logging.WARNING)

    extension.spider_closed(spider=None, reason="finished")
    assert gc.get_freeze_count() == 0  # a later crawl of the same process can free what this one left
    assert gc.get_threshold() == before
    assert scrapy_logger.level == logging.DEBUG


def test_a_debug_crawl_still_logs_debug_records(restore_process_state):
    logging.getLogger("scrapy").setLevel(logging.DEBUG)
    extension = LessOverhead.from_crawler(get_crawler(settings_dict={"LOG_LEVEL": "DEBUG"}))
    extension.engine_started()
    assert logging.getLogger("scrapy.core.engine").isEnabledFor(logging.DEBUG)
    extension.spider_closed(spider=None, reason="finished")


def test_every_crawl_has_it():
    assert "spiders.overhead.LessOverhead" in project_settings.EXTENSIONS


def test_two_crawls_at_once_leave_the_process_as_it_was(restore_process_state):
    scrapy_logger = logging.getLogger("scrapy")
    scrapy_logger.setLevel(logging.DEBUG)
    before = gc.get_threshold()
    first = LessOverhead.from_crawler(get_crawler(settings_dict={"LOG_LEVEL": "WARNING"}))
    second = LessOverhead.from_crawler(get_crawler(settings_dict={"LOG_LEVEL": "INFO"}))
    first.engine_started()
    second.engine_started()
    assert scrapy_logger.isEnabledFor(logging.INFO)  # the second crawl logs INFO: its records are built
    first.spider_closed(spider=None, reason="finished")
    assert gc.get_freeze_count() > 0 and gc.get_threshold()[0] == YOUNG_COLLECTION  # the second still runs
    second.spider_closed(spider=None, reason="finished")
    assert gc.get_freeze_count() == 0 and gc.get_threshold() == before
    assert scrapy_logger.level == logging.DEBUG


def test_counts_read_back_as_scrapys_stats_at_once():
    from spiders.counting import Counts

    stats = get_crawler().stats
    count = Counts(stats)
    count("keywatch/items")
    count("keywatch/items", 2)
    stats.inc_value("keywatch/items")  # Scrapy's own way, into the same counter
    assert stats.get_value("keywatch/items") == 4
    assert count.live is not None  # the fast way was taken


def test_counts_go_through_a_collector_that_counts_its_own_way():
    from scrapy.statscollectors import MemoryStatsCollector

    from spiders.counting import Counts

    class Audited(MemoryStatsCollector):
        def inc_value(self, key, count=1, start=0, spider=None):
            super().inc_value(f"audited/{key}", count, start)

    stats = Audited(get_crawler())
    count = Counts(stats)
    count("keywatch/items")
    assert stats.get_value("audited/keywatch/items") == 1 and stats.get_value("keywatch/items") is None


def read_pages():
    """(callback, response) for each kind of page the crawl reads: a search page, an item page, a re-check."""
    from scrapy.http import HtmlResponse, Request

    from demo_market import pages
    from demo_market.catalogue import load_catalogue
    from spiders.spiders.demo_market import DemoMarketSpider

    base = "http://127.0.0.1:8000"
    crawler = get_crawler(DemoMarketSpider, settings_dict={"KEYWATCH_MAX_PAGES": 5})
    spider = DemoMarketSpider.from_crawler(crawler, base_url=base, mode="all")
    rows = load_catalogue()[:3]

    def page(url, body):
        return HtmlResponse(url=url, body=body.encode(), encoding="utf-8", request=Request(url))

    item = f"{base}/item/{rows[0]['id']}"
    yield spider.parse_search, page(f"{base}/search?q=&page=1", pages.search_page(rows, 9, 1, 3, {"q": ""})), {}
    yield spider.parse_item, page(item, pages.item_page(rows[0], base)), {}
    yield spider.parse_recheck, page(item, pages.item_page(rows[0], base)), {"listing_id": rows[0]["id"]}


@pytest.mark.parametrize("callback, response, kwargs", list(read_pages()), ids=["search", "item", "recheck"])
def test_a_read_page_lets_its_parsed_tree_go_without_a_garbage_collection(callback, response, kwargs):
    import weakref

    tree = weakref.ref(response.selector)  # the tree the callback reads (Scrapy caches it on the response)
    gc.disable()
    try:
        output = list(callback(response, **kwargs))
        assert output  # the page was read: requests for the cards, an item
        del response
        assert tree() is None  # freed by reference counting: no reference cycle kept it
    finally:
        gc.enable()


def test_a_crawl_has_no_console_or_remote_control_that_could_change_what_it_stores(tmp_path):
    from scrapy.crawler import CrawlerProcess

    from keywatch.crawling import project_settings as crawl_settings
    from spiders.spiders.demo_market import DemoMarketSpider

    crawler = CrawlerProcess(crawl_settings(tmp_path / "k.sqlite", ROOT / "watchlist.yaml")).create_crawler(
        DemoMarketSpider
    )
    crawler._apply_settings()
    loaded = {type(extension).__name__ for extension in crawler.extensions.middlewares}
    assert "CoreStats" in loaded and "LessOverhead" in loaded
    assert not loaded & {"TelnetConsole", "RemoteControl"}


def test_a_capture_keeps_the_headers_scrapy_would_give_it():
    # capture_of reads the names and values straight from the dict under Scrapy's Headers, without its getlist.
    import random

    from scrapy.http import Headers, HtmlResponse, Request

    from spiders.base import capture_of

    names = ["content-type", "Set-Cookie", "X-RAW", b"x-bytes", "set-cookie", "Location"]
    values = ["text/html", b"caf\xe9", "a=1; Path=/", "", b"\x00\xff", "é"]
    pick = random.Random(2026)
    for _ in range(200):
        headers = Headers()
        for _ in range(pick.randrange(6)):
            name = pick.choice(names)
            if pick.random() < 0.5:
                headers.appendlist(name, pick.choice(values))
            else:
                headers[name] = [pick.choice(values) for _ in range(pick.randrange(1, 3))]
        url = "http://127.0.0.1:8000/item/DM1"
        response = HtmlResponse(url=url, body=b"<html></html>", headers=headers, request=Request(url))
        expected = {k.decode("latin-1"): [v.decode("latin-1") for v in vs] for k, vs in response.headers.items()}
        assert capture_of(response)["headers"] == expected
