"""gumtree on the real search capture and a hand-written ad page (no real ad page capture exists)."""

from pathlib import Path

from scrapy import Request
from scrapy.http import HtmlResponse

from spiders.spiders.gumtree import GumtreeSpider

PAGES = Path(__file__).parent / "pages"
SEARCH = "https://www.gumtree.com/search?search_category=for-sale&search_location=ne303sb&q=lawnmower"


def response(path, url):
    return HtmlResponse(url=url, body=Path(path).read_bytes(), request=Request(url))


def test_search_results(real_fixtures):
    page = response(real_fixtures / "gumtree/gumtree-com_search_lawnmower-NE30_2026-04.html", SEARCH)
    cards = GumtreeSpider().parse_cards(page)
    assert len(cards) == 26
    assert cards[1] == {
        "listing_id": "1512968962",
        "url": "https://www.gumtree.com/p/lawn-mowers/flymo-turbo-lite-lawnmower/1512968962",
        "title": "Flymo Turbo lite lawnmower",
        "description": "Turbo lite 270 lawnmower, perfect for small lawns, selling as I’ve bought a new one. Will need "
        "a bit of a clean up as it’s sat in the garage for a little while",
        "price": "30.00",
        "currency": "GBP",
        "extra": {"location": "South Shields, Tyne and Wear"},
    }
    assert cards[0]["listing_id"] == "1512931069" and cards[0]["price"] == "70.00"
    assert cards[-1]["listing_id"] == "1512906842"
    assert sorted({c["price"] for c in cards}) == [
        "1.00",
        "10.00",
        "120.00",
        "15.00",
        "20.00",
        "30.00",
        "45.00",
        "50.00",
        "65.00",
        "70.00",
        "80.00",
    ]
    assert not any("{" in c["description"] for c in cards)  # the tile's inline CSS stays out
    assert GumtreeSpider().next_page(page) == (
        "/search?search_category=for-sale&search_location=ne303sb&q=lawnmower"
        "&page=2&distance=10&hitRecallAllCateFlag=true&sort=relevance"
    )


def test_ad_page():
    url = "https://www.gumtree.com/p/car-parts-accessories/keyless-relay-kit-long-range-2-box/1513377001?utm=x"
    listing = GumtreeSpider().parse_listing(response(PAGES / "gumtree_ad_relay.html", url))
    assert listing == {
        "listing_id": "1513377001",
        "url": "https://www.gumtree.com/p/car-parts-accessories/keyless-relay-kit-long-range-2-box/1513377001",
        "title": "Keyless relay kit long range 2 box",
        "description": "Relay attack kit, 2 boxes, works on most keyless cars up to 10m. Tested, cash on collection "
        "only. No questions.",
        "price": "450.00",
        "currency": "GBP",
        "seller": "Dazza",
        "condition": None,
        "extra": {"location": "Dudley, West Midlands", "seller_type": "Private seller", "posted": "2 days ago"},
    }
