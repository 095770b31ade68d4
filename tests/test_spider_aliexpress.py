"""aliexpress on hand-written pages only: no real AliExpress capture was available (untested on live markup)."""

from pathlib import Path

from scrapy import Request
from scrapy.http import HtmlResponse
from scrapy.utils.test import get_crawler

from spiders.spiders.aliexpress import AliexpressSpider

PAGES = Path(__file__).parent / "pages"


def response(name, url):
    return HtmlResponse(url=url, body=(PAGES / name).read_bytes(), request=Request(url))


def test_search_results_from_init_data():
    page = response(
        "aliexpress_search_key_programmer.html", "https://www.aliexpress.com/wholesale?SearchText=key+programmer&page=1"
    )
    spider = AliexpressSpider()
    cards = spider.parse_cards(page)
    assert [(c["listing_id"], c["price"], c["currency"], c["seller"]) for c in cards] == [
        ("1005006543210987", "36.48", "GBP", "AutoKey Tools Store"),
        ("1005007000111222", "1.99", "GBP", "Keyshell Factory Store"),
        ("1005005888999000", "112.05", "GBP", "Shenzhen RF Electronic Store"),  # from the formatted price only
    ]
    assert cards[0]["title"] == "Smart Key Programmer OBD2 Auto Key Maker for Toyota Ford Hyundai All Keys Lost"
    assert cards[0]["url"] == "https://www.aliexpress.com/item/1005006543210987.html"
    assert cards[1]["extra"]["sponsored"] is True
    # 137 results, 60 a page: page 1 has a next page.
    assert spider.next_page(page) == "https://www.aliexpress.com/wholesale?SearchText=key+programmer&page=2"


def test_item_page_component_shape():
    page = response(
        "aliexpress_item_can_device.html", "https://www.aliexpress.com/item/1005005888999000.html?spm=a2g0o"
    )
    listing = AliexpressSpider().parse_listing(page)
    assert listing["listing_id"] == "1005005888999000"
    assert listing["url"] == "https://www.aliexpress.com/item/1005005888999000.html"
    assert listing["title"] == (
        "CAN Bus Emergency Start Device Smart Key Bypass Module for Toyota Lexus Headlight Connector"
    )
    assert (listing["price"], listing["currency"], listing["seller"]) == (
        "112.05",
        "GBP",
        "Shenzhen RF Electronic Store",
    )
    assert listing["extra"]["item_specifics"] == {
        "Brand Name": "NoEnName_Null",
        "Type": "Emergency start",
        "Origin": "Mainland China",
    }
    assert listing["extra"]["store_id"] == 1103000111
    assert len(listing["extra"]["images"]) == 2


def test_item_page_older_module_shape():
    page = response("aliexpress_item_old_modules.html", "https://www.aliexpress.com/item/4000123456789.html")
    listing = AliexpressSpider().parse_listing(page)
    assert (listing["listing_id"], listing["price"], listing["currency"]) == ("4000123456789", "12.60", "USD")
    assert listing["extra"]["price_max"] == "15.80"
    assert listing["title"] == "433MHz Universal Remote Code Grabber Copy Clone Garage Car Fob"
    assert listing["seller"] == "Smart RF Remote Store"


def test_truncated_page_is_a_counted_parse_error_and_still_stored():
    spider = AliexpressSpider.from_crawler(get_crawler(AliexpressSpider))
    page = response("aliexpress_item_truncated.html", "https://www.aliexpress.com/item/1005001111222333.html")
    [item] = spider.parse_item(page, card={"listing_id": "1005001111222333"})
    assert (item.marketplace, item.listing_id, item.title, item.body) == (
        "aliexpress",
        "1005001111222333",
        "",
        page.body,
    )
    assert spider.crawler.stats.get_value("keywatch/parse_errors") == 1


def test_search_page_without_data_is_empty_not_an_error():
    spider = AliexpressSpider.from_crawler(get_crawler(AliexpressSpider))
    page = response("aliexpress_item_truncated.html", "https://www.aliexpress.com/wholesale?SearchText=x")
    assert list(spider.parse_search(page)) == []
    assert spider.crawler.stats.get_value("keywatch/search_pages_empty") == 1
    assert spider.next_page(page) is None


def test_item_page_saved_from_a_browser_reads_the_product_not_the_logo():
    page = response("aliexpress_item_browser_saved.html", "https://www.aliexpress.com/item/1005007123456789.html")
    listing = AliexpressSpider().parse_listing(page)
    # The logo's h1 ("Aliexpress") comes first; the product heading, <title>, og:title and JSON-LD agree.
    assert listing["title"] == "Universal Smart Key Emulator Emergency Start Box for Keyless Cars"
    assert (listing["price"], listing["currency"], listing["seller"]) == ("86.39", "GBP", "CarKey Pro Store")
    assert listing["extra"]["images"] == ["https://ae01.alicdn.com/kf/S1a2b3c.jpg"]
