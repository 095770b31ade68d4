"""webshop: the real Etsy listing capture, and a real offline crawl of the demo marketplace's shop (/shop/)."""

import json
import subprocess
import sys
from pathlib import Path

from scrapy import Request
from scrapy.http import HtmlResponse

from spiders.spiders.webshop import WebshopSpider

ROOT = Path(__file__).resolve().parent.parent

# Runs in a child process (Scrapy's reactor starts once per process): crawl, print every item as JSON.
CRAWL = """
import json, sys
from scrapy import signals
from scrapy.crawler import CrawlerProcess
from scrapy.settings import Settings

settings = Settings()
settings.setmodule("spiders.settings", priority="project")
settings.setdict({"ITEM_PIPELINES": {}, "KEYWATCH_RECHECK": False, "DOWNLOAD_DELAY": 0, "AUTOTHROTTLE_ENABLED": False,
                  "HTTPCACHE_ENABLED": False, "LOG_LEVEL": "ERROR"}, priority="cmdline")
process = CrawlerProcess(settings)
crawler = process.create_crawler("webshop")
items = []


def collect(item):  # a module-level function: signals hold their receivers weakly
    items.append(item)


crawler.signals.connect(collect, signal=signals.item_scraped)
process.crawl(crawler, start_url=sys.argv[1])
process.start()
for item in items:
    print(json.dumps({k: getattr(item, k) for k in ("marketplace", "listing_id", "url", "title", "price", "currency",
                                                    "seller", "purpose", "status")}))
print(json.dumps({"stats": {k: v for k, v in crawler.stats.get_stats().items() if isinstance(v, (int, str))}}))
"""


def test_etsy_listing(real_fixtures):
    url = "https://www.etsy.com/listing/1385245506/sterling-silver-crown-birth-year"
    page = HtmlResponse(
        url=url,
        body=(real_fixtures / "etsy/etsy-com_listing_1385245506_2026-04.html").read_bytes(),
        request=Request(url),
    )
    spider = WebshopSpider()
    assert spider.is_product_page(page)
    listing = spider.read_listing(page, spider.marketplace_of(url))
    assert {k: listing[k] for k in ("marketplace", "listing_id", "url", "title", "price", "currency", "seller")} == {
        "marketplace": "etsy.com",
        "listing_id": "/listing/1385245506/sterling-silver-crown-birth-year",
        "url": url,
        "title": "Sterling Silver Crown Birth Year Necklace: Old English Date Pendant",
        "price": "40.63",
        "currency": "EUR",
        "seller": "GowaDesign",
    }
    assert listing["extra"]["price_max"] == "48.75" and listing["extra"]["availability"] == "InStock"
    assert listing["description"].startswith("💎 Crown Year Necklace – Personalized Birth Year or Anniversary Jewelry")
    assert len(listing["extra"]["images"]) == 8


def test_page_without_product_data_outside_product_paths_is_not_a_product():
    url = "https://shop.example/blog/winter-driving"
    page = HtmlResponse(
        url=url,
        body=b"<html><head><title>Winter driving tips</title></head><body><h1>Tips</h1>"
        b"<p class='price'>From \xc2\xa39.99</p></body></html>",
        request=Request(url),
    )
    assert not WebshopSpider().is_product_page(page)


def test_offline_crawl_of_the_demo_shop(demo_market):
    proc = subprocess.run(
        [sys.executable, "-c", CRAWL, f"{demo_market.url}/shop/"], capture_output=True, text=True, cwd=ROOT, timeout=240
    )
    assert proc.returncode == 0, proc.stderr
    *lines, stats = [json.loads(line) for line in proc.stdout.splitlines()]
    stats = stats["stats"]
    by_id = {line["listing_id"]: line for line in lines}
    assert len(lines) == len(by_id)  # each product page once
    expected = {}
    for row in demo_market.shop_products:
        # Every product is known by the address it was fetched at, whatever SKU its structured data gives.
        expected[f"/shop/product/{row['id']}"] = (row["title"], f"{float(row['price']):.2f}", row["currency"])
    assert {k: (v["title"], v["price"], v["currency"]) for k, v in by_id.items()} == expected
    assert {line["marketplace"] for line in lines} == {f"127.0.0.1:{demo_market.port}"}
    assert {line["purpose"] for line in lines} == {"all"} and {line["status"] for line in lines} == {200}
    sellers = {
        f"/shop/product/{row['id']}": row["seller"]
        for row in demo_market.shop_products
        if row["shop"] in ("jsonld", "microdata")
    }
    assert {k: by_id[k]["seller"] for k in sellers} == sellers
    assert stats["robotstxt/request_count"] == 1
    assert stats.get("keywatch/parse_errors") is None and stats["finish_reason"] == "finished"


def test_crawl_without_start_url_stops_with_a_reason():
    proc = subprocess.run([sys.executable, "-c", CRAWL, ""], capture_output=True, text=True, cwd=ROOT, timeout=240)
    assert proc.returncode == 0, proc.stderr
    [stats] = [json.loads(line) for line in proc.stdout.splitlines()]
    assert stats["stats"]["finish_reason"] == "no_start_url"
    assert "webshop needs -a start_url=URL" in proc.stderr


def test_shopify_product_group_reads_price_and_seller_from_the_variants_offer():
    url = "https://shop.example/products/obd-port-lock-pro"
    page = HtmlResponse(
        url=url,
        body=(Path(__file__).parent / "pages" / "shopify_product_group.html").read_bytes(),
        request=Request(url),
    )
    spider = WebshopSpider()
    assert spider.is_product_page(page)
    listing = spider.parse_listing(page)
    assert (listing["title"], listing["price"], listing["currency"]) == ("OBD Port Lock Pro", "39.99", "GBP")
    assert listing["seller"] == "Secure Garage Supplies"  # only inside hasVariant[].offers.seller
    assert listing["extra"]["price_max"] == "44.99"
    assert listing["extra"]["source"] == "schema.org Product"
