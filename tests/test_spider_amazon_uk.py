"""amazon_uk on real Amazon captures (amazon.com, so USD) and a hand-written third-party-seller page."""

from pathlib import Path

from scrapy import Request
from scrapy.http import HtmlResponse

from spiders.spiders.amazon_uk import AmazonUkSpider

PAGES = Path(__file__).parent / "pages"


def response(path, url):
    return HtmlResponse(url=url, body=Path(path).read_bytes(), request=Request(url))


def test_search_results(real_fixtures):
    page = response(real_fixtures / "amazon/amazon-com_search_laptop_2025-08.html", "https://www.amazon.com/s?k=laptop")
    cards = AmazonUkSpider().parse_cards(page)
    assert len(cards) == 22
    assert [c["listing_id"] for c in cards][:4] == ["B0FKF4PK2D", "B0DTW26PXY", "B0FMFF5QRF", "B0BS4BP8FB"]
    # A sponsored result links through /sspa/click: its URL is rebuilt from the ASIN.
    assert cards[0] == {
        "listing_id": "B0FKF4PK2D",
        "url": "https://www.amazon.com/dp/B0FKF4PK2D",
        "title": 'VAIO 14" FHD Laptop Intel Core i3 8GB RAM 512GB SSD with Backlit Keyboard',
        "price": "599.99",
        "currency": "USD",
        "extra": {"sponsored": True},
    }
    assert sum(c["extra"].get("sponsored", False) for c in cards) == 6
    # The struck-through list price ($1,399.99) is not the price; two results show no price at all.
    assert cards[2]["price"] == "369.00"
    assert [c["listing_id"] for c in cards if c["price"] is None] == ["B0FJR8474F", "B0FB4381XX"]
    assert cards[-1]["listing_id"] == "B0DX26L4N1" and cards[-1]["price"] == "275.49"
    assert AmazonUkSpider().next_page(page) == "/s?k=laptop&page=2&xpid=3C0slk-4acQZ7&qid=1756493406&ref=sr_pg_1"


def test_product_page_sold_by_amazon(real_fixtures):
    url = "https://www.amazon.com/Skullcandy-Canceling-Headphones-Microphone-Bluetooth/dp/B0CD1DZ6RD"
    listing = AmazonUkSpider().parse_listing(
        response(real_fixtures / "amazon/amazon-com_product_B0CD1DZ6RD_2026-04.html", url)
    )
    assert listing["listing_id"] == "B0CD1DZ6RD"
    assert listing["url"] == "https://www.amazon.com/dp/B0CD1DZ6RD"
    assert listing["title"].startswith("Skullcandy Crusher ANC 2 Wireless Over-Ear Bluetooth Headphones")
    assert listing["title"].endswith("Microphone iPhone Android - True Black")
    assert (listing["price"], listing["currency"], listing["seller"]) == ("239.99", "USD", "Amazon.com")
    assert listing["description"].startswith("PATENTED MULTI-SENSORY CRUSHER BASS TECHNOLOGY.")
    assert listing["description"].count("\n") == 7  # 7 bullets, then the product description
    assert listing["extra"]["availability"] == "Only 3 left in stock - order soon."
    assert "seller_id" not in listing["extra"]


def test_product_page_third_party_seller():
    page = response(PAGES / "amazon_product_third_party_seller.html", "https://www.amazon.co.uk/dp/B0KEYPRG01?th=1")
    listing = AmazonUkSpider().parse_listing(page)
    assert listing["listing_id"] == "B0KEYPRG01" and listing["url"] == "https://www.amazon.co.uk/dp/B0KEYPRG01"
    assert listing["title"] == (
        "OBD2 Key Programmer Smart Key Fob Coding Tool - Add Keys When All Lost, Immobiliser PIN Reader"
    )
    assert (listing["price"], listing["currency"]) == ("89.99", "GBP")
    assert listing["seller"] == "KeyPro Direct UK"
    assert listing["extra"]["seller_id"] == "A3KEYPRO7SELLR"
    assert "Reads the immobiliser PIN code" in listing["description"]
    assert AmazonUkSpider().is_item_url(page.url)


def test_seller_shown_by_two_seller_links_is_named_once():
    page = response(PAGES / "amazon_product_two_seller_links.html", "https://www.amazon.co.uk/dp/B0C1234XYZ")
    listing = AmazonUkSpider().parse_listing(page)
    assert listing["seller"] == "AutoKeyTech UK"  # not "AutoKeyTech UK AutoKeyTech UK"
    assert listing["extra"]["seller_id"] == "A3XYZSELLER01"
    assert (listing["price"], listing["currency"]) == ("89.99", "GBP")
