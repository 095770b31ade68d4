"""telegram (public channel previews) and dhgate, on hand-written pages in the markup their public readers document.

No real Telegram preview or DHgate page was available: both spiders are untested against live markup.
"""

from pathlib import Path

from scrapy import Request
from scrapy.http import HtmlResponse
from scrapy.utils.test import get_crawler

from spiders.spiders.dhgate import DhgateSpider
from spiders.spiders.telegram import TelegramSpider

PAGES = Path(__file__).parent / "pages"


def response(name, url):
    return HtmlResponse(url=url, body=(PAGES / name).read_bytes(), request=Request(url))


def test_channel_preview_posts_are_cards_and_older_posts_are_the_next_page():
    page = response("telegram_channel_preview.html", "https://t.me/s/keyless_tools_uk")
    spider = TelegramSpider(channels="keyless_tools_uk")
    cards = spider.parse_cards(page)
    # other_channel/77 is shown on the page but is another channel's post: not a listing of this one.
    assert [c["listing_id"] for c in cards] == [
        "keyless_tools_uk/4211",
        "keyless_tools_uk/4214",
        "keyless_tools_uk/4215",
    ]
    assert cards[0]["url"] == "https://t.me/s/keyless_tools_uk/4211"
    assert cards[0]["title"] == "🔥 Keyless relay box 2-way, long range, works on most keyless cars"
    assert (cards[0]["price"], cards[0]["currency"]) == ("650.00", "GBP")
    assert (cards[2]["price"], cards[2]["currency"]) == ("450.00", "EUR")
    assert cards[1]["price"] is None
    assert spider.next_page(page) == "/s/keyless_tools_uk?before=4211"


def test_a_post_is_read_from_its_own_preview_address():
    page = response("telegram_channel_preview.html", "https://t.me/s/keyless_tools_uk/4211")
    spider = TelegramSpider.from_crawler(get_crawler(TelegramSpider), channels="keyless_tools_uk")
    listing = spider.read_listing(page, spider.marketplace_of(page.url))
    assert (listing["marketplace"], listing["listing_id"]) == ("telegram", "keyless_tools_uk/4211")
    assert listing["seller"] == "Keyless Tools UK"
    assert listing["description"].splitlines()[1] == "Price: £650 shipped UK"
    extra = listing["extra"]
    assert extra["posted"] == "2026-11-20T18:42:07+00:00"
    # under `images`, where the photos pipeline looks, and fetched from Telegram's photo host only
    assert extra["images"] == ["https://cdn4.telesco.pe/file/kt4211a.jpg", "https://cdn4.telesco.pe/file/kt4211b.jpg"]
    assert all(spider.is_photo_url(url) for url in extra["images"])
    assert not spider.is_photo_url("https://telesco.pe.example.net/file/kt4211a.jpg")
    assert extra["contacts"] == ["+44 7700 900123", "@kt_sales", "https://t.me/kt_sales"]
    assert extra["views"] == "3.1K"


def test_a_post_page_that_no_longer_shows_the_post_is_a_parse_error_not_another_post():
    page = response("telegram_channel_preview.html", "https://t.me/s/keyless_tools_uk/9999")
    spider = TelegramSpider.from_crawler(get_crawler(TelegramSpider), channels="keyless_tools_uk")
    listing = spider.read_listing(page, "telegram")
    assert listing["listing_id"] == "keyless_tools_uk/9999" and listing["title"] is None
    assert listing["extra"]["parse_error"] == "no title found on item page"


def test_dhgate_search_cards():
    page = response(
        "dhgate_search_key_programmer.html", "https://www.dhgate.com/wholesale/search.do?searchkey=key+programmer"
    )
    spider = DhgateSpider()
    cards = spider.parse_cards(page)
    assert [c["listing_id"] for c in cards] == ["912345678", "887766554"]
    assert cards[0] == {
        "listing_id": "912345678",
        "url": "https://www.dhgate.com/product/obd2-car-key-programmer-all-keys-lost/912345678.html",
        "title": "OBD2 Car Key Programmer All Keys Lost Immobiliser Tool",
        "price": "89.99",
        "currency": "USD",
        "seller": "Autotool Pro Store",
        "extra": {"price_max": "105.50"},
    }
    assert spider.next_page(page) == "/wholesale/search.do?act=search&searchkey=key+programmer&pageNum=2"


def test_dhgate_product_page():
    url = "https://www.dhgate.com/product/obd2-car-key-programmer-all-keys-lost/912345678.html"
    spider = DhgateSpider.from_crawler(get_crawler(DhgateSpider))
    listing = spider.read_listing(response("dhgate_item_key_programmer.html", url), "dhgate")
    assert (listing["listing_id"], listing["url"]) == ("912345678", url)
    assert (listing["title"], listing["price"], listing["currency"]) == (
        "OBD2 Car Key Programmer All Keys Lost Immobiliser Tool",
        "89.99",
        "USD",
    )
    assert listing["seller"] == "Autotool Pro Store"
    assert listing["extra"]["store_id"] == "21845678" and listing["extra"]["price_max"] == "105.50"
    assert listing["extra"]["min_order"] == "Min. Order: 1 Piece" and len(listing["extra"]["images"]) == 2
    assert all(spider.is_photo_url(url) for url in listing["extra"]["images"])  # www.dhresource.com
    assert not spider.is_photo_url("https://dhresource.com.example.org/0x0/f2/albu/g1.jpg")
