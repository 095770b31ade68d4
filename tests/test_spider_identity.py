"""Identity comes from what was fetched: a page may only write listings of the site it was fetched from.

The red-team reproduction of issue 10: a shop page served from another local server, whose rel=canonical
points at the demo marketplace's item page and whose JSON-LD carries that item's sku, must not rewrite the
demo listing (title, seller, flag), and what it claimed is kept with its own capture and counted.
"""

import json

import pytest
from scrapy import Request
from scrapy.http import HtmlResponse
from scrapy.utils.test import get_crawler

import db
from db import accounts, decisions
from spiders.spiders.aliexpress import AliexpressSpider
from spiders.spiders.amazon_uk import AmazonUkSpider
from spiders.spiders.demo_market import DemoMarketSpider
from spiders.spiders.ebay_uk import EbayUkSpider
from spiders.spiders.gumtree import GumtreeSpider
from spiders.spiders.webshop import WebshopSpider
from tests.support.cli import demo_crawl_args, run_keywatch


def product_page(
    *,
    canonical: str,
    sku: str,
    title="Slim phone case for iPhone 15",
    seller="Innocent Cases Ltd",
    price="9.99",
    url=None,
) -> str:
    product = {
        "@context": "https://schema.org",
        "@type": "Product",
        "name": title,
        "sku": sku,
        "description": "A thin silicone phone case.",
        "offers": {
            "@type": "Offer",
            "price": price,
            "priceCurrency": "GBP",
            "seller": {"@type": "Organization", "name": seller},
        },
    }
    if url:
        product["url"] = url
    return (
        f'<html><head><title>{title}</title><link rel="canonical" href="{canonical}">'
        f'<script type="application/ld+json">{json.dumps(product)}</script></head>'
        f"<body><h1>{title}</h1><p class='price'>£{price}</p></body></html>"
    )


def crawl_demo(market, db_path):
    run_keywatch(*demo_crawl_args(market.url, db_path, "-s", "LOG_LEVEL=WARNING"))


def crawl_shop(start_url, db_path, check=True):
    return run_keywatch(
        "crawl", "webshop", "-a", f"start_url={start_url}", "--db", db_path, "-s", "LOG_LEVEL=WARNING", check=check
    )


def test_a_shop_page_claiming_a_demo_listing_cannot_rewrite_it(demo_market, shop, tmp_path):
    db_path = tmp_path / "k.sqlite"
    crawl_demo(demo_market, db_path)
    store = db.connect(db_path)
    before = db.get_listing(store, "demo", "DM10003")
    assert before["flagged"] == 1 and before["seller"] == "autokeys_direct"
    accounts.add_user(store, "alice", "not-a-real-hash", role="reviewer")
    decisions.decide(store, before["pk"], "alice", "confirm", category="key_programmer")
    captures_before = store.execute("SELECT count(*) FROM captures WHERE listing_pk = ?", [before["pk"]]).fetchone()[0]
    store.close()

    # The marketplace used to be read from the canonical URL's host: `demo` is the demo marketplace's name.
    shop.pages["/products/phone-case"] = product_page(
        canonical="http://demo/item/DM10003", sku="DM10003", url=f"{demo_market.url}/item/DM10003"
    )
    crawl_shop(f"{shop.url}/products/phone-case", db_path)

    store = db.connect(db_path)
    after = db.get_listing(store, "demo", "DM10003")
    assert {k: after[k] for k in ("title", "seller", "flagged", "category", "latest_capture_id")} == {
        k: before[k] for k in ("title", "seller", "flagged", "category", "latest_capture_id")
    }
    assert (
        store.execute("SELECT count(*) FROM captures WHERE listing_pk = ?", [before["pk"]]).fetchone()[0]
        == captures_before
    )
    assert "DM10003" in {h["listing_id"] for h in db.hits(store) if h["marketplace"] == "demo"}

    # The shop page is a listing of the shop it was fetched from, known by its own address.
    shop_host = shop.url.removeprefix("http://")
    page = db.get_listing(store, shop_host, "/products/phone-case")
    assert page is not None and page["title"] == "Slim phone case for iPhone 15"
    assert page["url"] == f"{shop.url}/products/phone-case"
    [capture] = store.query("SELECT fields FROM captures WHERE listing_pk = ?", [page["pk"]])
    extra = json.loads(capture["fields"])["extra"]
    assert extra["claims"] == {"url": f"{demo_market.url}/item/DM10003", "canonical": "http://demo/item/DM10003"}
    assert extra["sku"] == "DM10003"
    # What the page said is kept as it said it, and counted.
    [run] = store.query("SELECT stats FROM crawl_runs WHERE spider = 'webshop'")
    assert json.loads(run["stats"])["keywatch/identity_claims_rejected"] >= 1
    assert db.verify(store).ok


# ---- the rule in every spider: offline, one page per site claiming another listing ------------------------------

LD = '<script type="application/ld+json">{"@type": "Product", "name": "Relay box", "sku": "%s"}</script>'
CLAIMS = [  # spider, fetched URL, page claiming another listing, (marketplace, listing id), claims
    (
        EbayUkSpider,
        "https://www.ebay.co.uk/itm/356012345678",
        '<link rel="canonical" href="https://www.ebay.co.uk/itm/199999999999">'
        '<h1 class="x-item-title__mainTitle">Relay</h1>',
        ("ebay_uk", "356012345678"),
        {"listing_id": "199999999999", "url": "https://www.ebay.co.uk/itm/199999999999"},
    ),
    (
        AmazonUkSpider,
        "https://www.amazon.co.uk/dp/B0CD1DZ6RD",
        '<input id="ASIN" value="B000000001"><span id="productTitle">Relay</span>',
        ("amazon_uk", "B0CD1DZ6RD"),
        {"listing_id": "B000000001", "url": "https://www.amazon.co.uk/dp/B000000001"},
    ),
    (
        GumtreeSpider,
        "https://www.gumtree.com/p/parts/relay/1512968962",
        '<link rel="canonical" href="https://evil.example/p/parts/other/1234567"><h1 data-q="vip-title">Relay</h1>',
        ("gumtree", "1512968962"),
        {
            "listing_id": "1234567",
            "url": "https://www.gumtree.com/p/parts/other/1234567",
            "canonical": "https://evil.example/p/parts/other/1234567",
        },
    ),
    (
        AliexpressSpider,
        "https://www.aliexpress.com/item/1005006123456789.html",
        '<script>window.runParams = {"data": {"productInfoComponent": '
        '{"subject": "Relay", "idStr": "1005000000000001"}}};'
        "</script>",
        ("aliexpress", "1005006123456789"),
        {"listing_id": "1005000000000001", "url": "https://www.aliexpress.com/item/1005000000000001.html"},
    ),
    (
        DemoMarketSpider,
        "http://127.0.0.1:8001/item/DM10001",
        '<link rel="canonical" href="http://demo/item/DM10003">' + LD % "DM10003",
        ("demo", "DM10001"),
        {"listing_id": "DM10003", "url": "http://demo/item/DM10003"},
    ),
    (
        WebshopSpider,
        "https://www.shop.example/products/a",
        '<link rel="canonical" href="https://shop.example/products/b">' + LD % "DM10003",
        ("shop.example", "/products/a"),
        {"canonical": "https://shop.example/products/b"},
    ),
]


@pytest.mark.parametrize("cls, url, html, identity, claims", CLAIMS, ids=[c[0].name for c in CLAIMS])
def test_every_spider_takes_identity_from_the_fetched_url(cls, url, html, identity, claims):
    spider = cls.from_crawler(
        get_crawler(cls), **({"start_url": "https://shop.example/"} if cls is WebshopSpider else {})
    )
    page = HtmlResponse(url=url, body=f"<html><head>{html}</head><body></body></html>".encode(), request=Request(url))
    [item] = spider.parse_item(page, card={"listing_id": "111111111111", "url": url, "title": "Card title"})
    assert (item.marketplace, item.listing_id, item.url) == (*identity, url)
    assert item.extra["claims"] == claims
    assert spider.crawler.stats.get_value("keywatch/identity_claims_rejected") == 1


def test_a_page_from_another_host_is_not_read_as_a_listing():
    spider = EbayUkSpider.from_crawler(get_crawler(EbayUkSpider))
    url = "https://www.ebay.co.uk.evil.example/itm/356012345678"  # redirected there, say
    page = HtmlResponse(url=url, body=b"<h1 class='x-item-title__mainTitle'>Relay</h1>", request=Request(url))
    assert list(spider.parse_item(page)) == []
    assert list(spider.parse_recheck(page, listing_id="356012345678", marketplace="ebay_uk")) == []
    stats = spider.crawler.stats
    assert (
        stats.get_value("keywatch/item_pages_skipped/off_site") == 1
        and stats.get_value("keywatch/rechecks/off_site") == 1
    )


def test_a_recheck_sent_to_another_listing_records_the_listing_removed():
    spider = EbayUkSpider.from_crawler(get_crawler(EbayUkSpider))
    asked, shown = "https://www.ebay.co.uk/itm/356012345678", "https://www.ebay.co.uk/itm/199999999999"
    request = Request(shown, meta={"redirect_urls": [asked]})
    page = HtmlResponse(url=shown, body=b"<h1 class='x-item-title__mainTitle'>Another item</h1>", request=request)
    [item] = spider.parse_recheck(page, listing_id="356012345678", marketplace="ebay_uk")
    assert (item.listing_id, item.listing_status, item.url, item.title) == ("356012345678", "removed", asked, "")


def test_a_description_document_off_the_marketplace_is_not_fetched():
    spider = EbayUkSpider.from_crawler(get_crawler(EbayUkSpider))
    url = "https://www.ebay.co.uk/itm/356012345678"
    html = b"<h1 class='x-item-title__mainTitle'>Relay</h1><iframe id='desc_ifr' src='https://evil.example/d'></iframe>"
    [item] = spider.parse_item(HtmlResponse(url=url, body=html, request=Request(url)))
    assert item.extra["description_error"] == "description document off the marketplace: https://evil.example/d"


def test_urls_no_parser_accepts_are_claims_not_crashes():
    spider = EbayUkSpider.from_crawler(get_crawler(EbayUkSpider))
    url = "https://www.ebay.co.uk/itm/356012345678"
    html = (
        b"<link rel='canonical' href='http://[x/itm/1'><h1 class='x-item-title__mainTitle'>Relay</h1>"
        b"<iframe id='desc_ifr' src='http://[y/d'></iframe>"
    )
    [item] = spider.parse_item(HtmlResponse(url=url, body=html, request=Request(url)))
    assert item.listing_id == "356012345678" and item.extra["claims"] == {"canonical": "http://[x/itm/1"}
    assert item.extra["description_error"].startswith("description document off the marketplace")


@pytest.mark.parametrize(
    "spider",
    [
        DemoMarketSpider(base_url="http://127.0.0.1:8000"),
        EbayUkSpider(),
        WebshopSpider(start_url="https://shop.example/"),
    ],
    ids=["demo", "ebay_uk", "webshop"],
)
def test_the_marketplace_a_host_is_on_is_kept_and_never_differs_from_asking_again(spider):
    from spiders.reading import HOSTS_KEPT

    urls = [
        "http://127.0.0.1:8000/item/DM1",
        "http://127.0.0.1:8001/item/DM1",
        "https://www.ebay.co.uk/itm/1",
        "https://ebay.co.uk.evil.example/itm/1",
        "https://shop.example/p/1",
        "https://SHOP.example:443/p/1",
        "not a url",
    ]
    first = [spider.marketplace_of(url) for url in urls]
    assert first == [spider.marketplace_of(url) for url in urls]  # from what it kept
    fresh = type(spider).__new__(type(spider))
    fresh.__dict__.update({k: v for k, v in vars(spider).items() if k != "_marketplace_by_host"})
    assert first == [fresh.marketplace_of(url) for url in urls]
    # A hostile page naming hosts without end: what is kept stays bounded, and the answers stay right.
    for n in range(HOSTS_KEPT + 50):
        assert spider.marketplace_of(f"https://h{n}.example/item/1") is None
    assert len(vars(spider)["_marketplace_by_host"]) <= HOSTS_KEPT
    assert [spider.marketplace_of(url) for url in urls] == first
