"""A real two-stage crawl of ebay_uk against hand-written eBay pages served on 127.0.0.1.

search (s-card) -> screen titles with the real watchlist -> item page -> description iframe -> one item with the
description filled in and the description document kept as an attachment.
"""

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PAGES = Path(__file__).parent / "pages"

# The item page names itm.ebaydesc.com, as eBay's does; the local copy points it at this server instead.
ROUTES = {
    "/sch/i.html": "ebay_search_relay_scard.html",
    "/itm/356012345678": "ebay_item_relay_box.html",
    "/itmdesc/356012345678": "ebay_description_relay_box.html",
}

CRAWL = """
import json, sys
from scrapy import signals
from scrapy.crawler import CrawlerProcess
from scrapy.settings import Settings
from spiders.spiders.ebay_uk import EbayUkSpider

base = sys.argv[1]


class LocalEbay(EbayUkSpider):
    allowed_domains = ["127.0.0.1"]
    search_url = base + "/sch/i.html?_nkw={query}&_pgn={page}"


settings = Settings()
settings.setmodule("spiders.settings", priority="project")
settings.setdict({"ITEM_PIPELINES": {}, "KEYWATCH_RECHECK": False, "DOWNLOAD_DELAY": 0, "AUTOTHROTTLE_ENABLED": False,
                  "HTTPCACHE_ENABLED": False, "LOG_LEVEL": "ERROR", "RETRY_ENABLED": False}, priority="cmdline")
process = CrawlerProcess(settings)
crawler = process.create_crawler(LocalEbay)
items = []


def collect(item):  # a module-level function: signals hold their receivers weakly
    items.append(item)


crawler.signals.connect(collect, signal=signals.item_scraped)
process.crawl(crawler, queries="keyless relay box", max_pages="1", sample_rate="0")
process.start()
for item in items:
    print(json.dumps({"listing_id": item.listing_id, "url": item.url, "title": item.title, "price": item.price,
                      "seller": item.seller, "purpose": item.purpose, "description": item.description,
                      "attachments": [{**a, "body": a["body"].decode()} for a in item.attachments],
                      "body_is_item_page": b"x-item-title__mainTitle" in item.body}))
print(json.dumps({"stats": {k: v for k, v in crawler.stats.get_stats().items() if isinstance(v, (int, str))}}))
"""


@pytest.fixture
def local_ebay(page_server):
    for path, name in ROUTES.items():
        page_server.pages[path] = (
            (PAGES / name).read_bytes().replace(b"https://itm.ebaydesc.com", page_server.url.encode())
        )
    return page_server.url


def test_two_stage_crawl_fetches_the_description(local_ebay):
    proc = subprocess.run(
        [sys.executable, "-c", CRAWL, local_ebay], capture_output=True, text=True, cwd=ROOT, timeout=240
    )
    assert proc.returncode == 0, proc.stderr
    *items, stats = [json.loads(line) for line in proc.stdout.splitlines()]
    stats = stats["stats"]
    assert stats["keywatch/cards_screened"] == 3
    relay = next(item for item in items if item["listing_id"] == "356012345678")
    assert relay["purpose"] == "candidate"
    assert relay["url"] == f"{local_ebay}/itm/356012345678"
    assert (relay["title"], relay["price"], relay["seller"]) == (
        "Keyless Entry Relay Box Signal Amplifier 2-Way Long Range Car Unlock Kit",
        "349.99",
        "rf_tools_direct",
    )
    assert relay["description"] == (
        "Two-box relay kit: one unit near the key fob, one at the car door. Opens and "
        "starts keyless cars. Long range, rechargeable, supplied in a plain box."
    )
    [attachment] = relay["attachments"]
    assert attachment["url"].startswith(f"{local_ebay}/itmdesc/356012345678?")
    assert attachment["status"] == 200 and attachment["body"] == (PAGES / "ebay_description_relay_box.html").read_text()
    assert relay["body_is_item_page"]  # the item's own capture stays the item page, not the description
    # Other fetched cards 404 here: counted as HTTP errors, nothing else breaks.
    assert stats["keywatch/items"] == len(items) and stats["finish_reason"] == "finished"
