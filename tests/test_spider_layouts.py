"""Older and newer layouts of each site, on hand-written pages (tests/pages) that reproduce the structures public
scrapers read (docs/spiders.md names the sources). Expected values are the ones written into each page."""

from pathlib import Path

from scrapy import Request
from scrapy.http import HtmlResponse
from scrapy.utils.test import get_crawler

from spiders.spiders.aliexpress import AliexpressSpider
from spiders.spiders.amazon_uk import AmazonUkSpider
from spiders.spiders.ebay_uk import EbayUkSpider
from spiders.spiders.gumtree import GumtreeSpider

PAGES = Path(__file__).parent / "pages"


def page(name, url):
    return HtmlResponse(url=url, body=(PAGES / name).read_bytes(), request=Request(url))


def test_amazon_older_product_page():
    listing = AmazonUkSpider().parse_listing(
        page("amazon_product_old_layout.html", "https://www.amazon.co.uk/gp/product/B07KEYPRG1?psc=1")
    )
    assert (listing["listing_id"], listing["price"], listing["currency"]) == ("B07KEYPRG1", "64.99", "GBP")
    assert listing["title"] == "OBD2 Key Programmer for Transponder Keys, Blank Key Coding Tool"
    assert listing["seller"] == "KeyTools Direct"  # from the "Sold by ... and Fulfilled by Amazon." sentence


def test_amazon_merchant_sentence_without_a_link():
    body = (
        b'<html><body><span id="productTitle">Relay</span><input id="ASIN" value="B0RELAY000">'
        b'<div id="merchant-info">Ships from and sold by Amazon.co.uk.</div></body></html>'
    )
    listing = AmazonUkSpider().parse_listing(HtmlResponse(url="https://www.amazon.co.uk/dp/B0RELAY000", body=body))
    assert listing["seller"] == "Amazon.co.uk"


def test_amazon_currently_unavailable_has_no_price():
    listing = AmazonUkSpider().parse_listing(
        page("amazon_product_unavailable.html", "https://www.amazon.co.uk/dp/B09RELAY001")
    )
    assert listing["listing_id"] == "B09RELAY001" and listing["title"] == "Keyless Entry Signal Booster Relay Amplifier"
    assert listing["price"] is None and listing["currency"] is None and listing["seller"] is None
    assert listing["extra"]["unavailable"] is True


def test_amazon_older_search_results_with_split_prices():
    response = page("amazon_search_split_price.html", "https://www.amazon.co.uk/s?k=key+programmer")
    cards = AmazonUkSpider().parse_cards(response)
    assert [(c["listing_id"], c["price"], c["currency"]) for c in cards] == [
        ("B07KEYPRG1", "1064.99", "GBP"),
        ("B00NOPRICE", None, None),
    ]  # the empty-ASIN banner is skipped
    assert cards[1]["title"] == "Steering wheel lock, no price shown"
    assert AmazonUkSpider().next_page(response) == "/s?k=key+programmer&page=2"


def test_ebay_pre_2023_item_page():
    listing = EbayUkSpider().parse_listing(
        page("ebay_item_old_layout_ended.html", "https://www.ebay.co.uk/itm/Lishi-HU66/174512345678?hash=x")
    )
    assert listing["listing_id"] == "174512345678"
    assert listing["title"] == "Lishi HU66 2 in 1 pick decoder VAG locksmith tool"  # without "Details about"
    assert (listing["price"], listing["currency"], listing["seller"], listing["condition"]) == (
        "34.50",
        "GBP",
        "lockpro_uk",
        "New",
    )
    assert listing["extra"]["status_message"].startswith("This listing was ended by the seller")


def test_ebay_sold_banner_makes_a_recheck_ended():
    spider = EbayUkSpider.from_crawler(get_crawler(EbayUkSpider))
    response = page("ebay_item_sold_evo.html", "https://www.ebay.co.uk/itm/226612345678")
    assert spider.listing_status(response) == "ended"
    assert spider.parse_listing(response)["price"] == "120.00"  # "GBP 120.00"
    live = page("ebay_item_relay_box.html", "https://www.ebay.co.uk/itm/186123456789")
    assert spider.listing_status(live) == "live"


def test_ebay_browse_cards():
    cards = EbayUkSpider().parse_cards(
        page("ebay_browse_cards.html", "https://www.ebay.co.uk/b/Car-Diagnostic-Tools/1")
    )
    assert cards == [
        {
            "listing_id": "395512345678",
            "url": "https://www.ebay.co.uk/itm/395512345678",
            "title": "Key programmer OBD2 all makes",
            "price": "5.99",
            "currency": "GBP",
            "seller": None,
            "condition": "Brand new",
            "extra": {"price_max": "14.99"},
        }
    ]  # not the /itm/123456 placeholder


def test_gumtree_ad_title_variant():
    listing = GumtreeSpider().parse_listing(
        page("gumtree_ad_ad_title.html", "https://www.gumtree.com/p/tools/key-cutting-machine/1498765432")
    )
    assert (listing["listing_id"], listing["title"], listing["price"], listing["seller"], listing["condition"]) == (
        "1498765432",
        "Key cutting machine with Lishi picks",
        "1200.00",
        "Mick",
        "Used",
    )
    assert listing["description"] == "Full locksmith kit, picks and decoders included."
    assert listing["extra"]["item_specifics"] == {"Condition": "Used", "Brand": "Lishi"}
    assert listing["extra"]["posted"] == "8 days ago"


def test_gumtree_legacy_search_results():
    cards = GumtreeSpider().parse_cards(page("gumtree_search_legacy.html", "https://www.gumtree.com/search?q=relay"))
    assert [(c["listing_id"], c["title"], c["price"]) for c in cards] == [
        ("1412345678", "Relay box keyless car", "0.00"),
        ("1412345679", "Signal jammer", "40.00"),
    ]  # "Free" is 0.00
    assert cards[0]["extra"] == {"location": "Walsall"} and "extra" in cards[1] and cards[1]["extra"] == {}


def test_aliexpress_client_rendered_item_page():
    listing = AliexpressSpider().parse_listing(
        page("aliexpress_item_csr_dcdata.html", "https://www.aliexpress.com/item/1005006123456789.html?spm=x")
    )
    assert (listing["listing_id"], listing["title"], listing["price"], listing["currency"]) == (
        "1005006123456789",
        "CAN bus smart key emulator for Toyota",
        "23.45",
        "GBP",
    )
    assert listing["extra"]["images"] == ["https://ae01.alicdn.com/kf/a.jpg", "https://ae01.alicdn.com/kf/b.jpg"]


def test_aliexpress_json_of_the_wrong_shape_gives_what_it_can():
    listing = AliexpressSpider().parse_listing(
        page("aliexpress_item_wrong_types.html", "https://www.aliexpress.com/item/1005006000000001.html")
    )
    assert listing["listing_id"] == "1005006000000001" and listing["title"] == "Remote key programmer"
    assert listing["price"] is None and listing["seller"] is None
    assert listing["extra"]["item_specifics"] == {"Brand": "7"}


def test_aliexpress_search_list_found_where_it_moved():
    body = (
        b'<script>window._dida_config_._init_data_ = { data: {"data": {"root": {"fields": {"mods": {"newList": '
        b'{"items": [{"productId": "1005001", "title": {"displayTitle": "Key fob cloner"}, '
        b'"prices": {"salePrice": {"minPrice": 9.5, "currencyCode": "GBP"}}}]}}}}}} }</script>'
    )
    cards = AliexpressSpider().parse_cards(
        HtmlResponse(url="https://www.aliexpress.com/wholesale?SearchText=x", body=body)
    )
    assert [(c["listing_id"], c["title"], c["price"], c["currency"]) for c in cards] == [
        ("1005001", "Key fob cloner", "9.50", "GBP")
    ]


def test_gumtree_current_ad_page_with_attribute_rows():
    listing = GumtreeSpider().parse_listing(
        page(
            "gumtree_ad_attribute_rows.html",
            "https://www.gumtree.com/p/car-parts-accessories/autel-key-programmer/1519900001",
        )
    )
    assert (listing["listing_id"], listing["title"], listing["price"]) == (
        "1519900001",
        "Autel key programmer with IM508 tablet",
        "650.00",
    )
    assert listing["seller"] == "Dazza Motors"  # not the abbreviated small-screen copy
    assert listing["condition"] == "Used - like new"
    assert listing["description"] == "Programs keys for most makes. Collection only."
    assert listing["extra"]["item_specifics"] == {"Condition": "Used - like new", "Seller type": "Trade"}
    assert len(listing["extra"]["images"]) == 2


def test_aliexpress_rendered_search_page_without_json():
    cards = AliexpressSpider().parse_cards(
        page("aliexpress_search_rendered.html", "https://www.aliexpress.com/wholesale?SearchText=key+programmer")
    )
    assert [(c["listing_id"], c["title"], c["price"], c["currency"]) for c in cards] == [
        ("1005005111111111", "OBD2 key programmer for Ford Toyota", "18.40", "GBP"),
        ("1005005222222222", "Universal remote key cloner 433MHz", "7.99", "USD"),
    ]
    assert cards[0]["url"] == "https://www.aliexpress.com/item/1005005111111111.html"


def test_ebay_seller_from_the_about_seller_title_and_feedback_stripped():
    body = (
        b'<html><body><h1 class="x-item-title__mainTitle"><span>Relay box</span></h1>'
        b'<div class="x-sellercard-atf__info__about-seller" title="keyman_uk"></div></body></html>'
    )
    listing = EbayUkSpider().parse_listing(HtmlResponse(url="https://www.ebay.co.uk/itm/186123456789", body=body))
    assert listing["seller"] == "keyman_uk"
    body = (
        b'<html><body><h1 class="x-item-title__mainTitle"><span>Relay box</span></h1><div class="seller-persona">'
        b'<a href="/usr/keyman_uk">keyman_uk (1234) 99.1% positive</a></div></body></html>'
    )
    listing = EbayUkSpider().parse_listing(HtmlResponse(url="https://www.ebay.co.uk/itm/186123456789", body=body))
    assert listing["seller"] == "keyman_uk"
