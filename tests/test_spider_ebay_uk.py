"""ebay_uk on real eBay captures (../shared/fixtures/real/ebay) and on hand-written pages (tests/pages).

Expected values were read off the files independently (grep of data-listingid, /itm/ ids and price spans).
"""

from pathlib import Path

import pytest
from scrapy import Request
from scrapy.http import HtmlResponse
from scrapy.utils.test import get_crawler
from twisted.python.failure import Failure

from spiders.spiders.ebay_uk import EbayUkSpider

PAGES = Path(__file__).parent / "pages"


def response(path, url, **meta):
    return HtmlResponse(url=url, body=Path(path).read_bytes(), request=Request(url, meta=meta))


@pytest.fixture
def spider():
    return EbayUkSpider.from_crawler(get_crawler(EbayUkSpider))


def test_search_scard_layout_skips_placeholders(real_fixtures, spider):
    page = response(
        real_fixtures / "ebay/ebay-co-uk_search-sold_pokemon-booster-box_2026-04_s-card.html",
        "https://www.ebay.co.uk/sch/i.html?_nkw=pokemon+base+set+booster+box+wotc",
    )
    cards = spider.parse_cards(page)
    assert [c["listing_id"] for c in cards] == [
        "187943790909",
        "198061756136",
        "147209381059",
        "366216429082",
        "157668994778",
        "267588572347",
        "256845128126",
        "256898721927",
        "198266772641",
    ]  # not the 2 "Shop on eBay" clones
    assert cards[0] == {
        "listing_id": "187943790909",
        "url": "https://www.ebay.co.uk/itm/187943790909",
        "title": "RARE Pokemon Cards Base Set 2 Booster Box Sealed 36 packs WOTC vintage",
        "price": "11086.69",
        "currency": "GBP",
        "seller": "razcore91",
        "condition": "Brand new",
        "extra": {"caption": "Sold 21 Jan 2026"},
    }
    assert [c["price"] for c in cards][-2:] == ["58580.02", "37000.00"]
    assert cards[7]["condition"] == "Pre-owned"
    # Top-rated sellers sit in a badge ("big-box-gaming  100% positive (4.1K)"), not in the attribute row.
    assert cards[1]["seller"] == cards[8]["seller"] == "big-box-gaming"
    assert spider.next_page(page) is None


def test_search_sitem_layout_2021(real_fixtures, spider):
    page = response(
        real_fixtures / "ebay/ebay-co-uk_search_warhammer_2021-01_s-item.html",
        "https://www.ebay.co.uk/sch/i.html?_nkw=warhammer&LH_BIN=1",
    )
    cards = spider.parse_cards(page)
    assert len(cards) == 61  # 62 li.s-item, one a hidden clone under .clipped
    assert cards[0]["listing_id"] == "264901451112"
    assert cards[0]["title"] == "Warhammer 40k Push-fit Primaris Space Marine Intercessor sprue 99380101121"
    assert (cards[0]["price"], cards[0]["currency"], cards[0]["seller"]) == ("3.95", "GBP", None)
    assert cards[1]["listing_id"] == "124250904497"
    assert (cards[1]["price"], cards[1]["extra"]["price_max"]) == ("5.99", "14.99")  # "£5.99 to £14.99"
    assert cards[-1]["listing_id"] == "174541467482"
    assert all(c["url"] == f"https://www.ebay.co.uk/itm/{c['listing_id']}" for c in cards)
    assert (
        spider.next_page(page) == "https://www.ebay.co.uk/sch/i.html?_from=R40&_nkw=warhammer&_sacat=0&LH_BIN=1&_pgn=2"
    )


def test_store_page_cards(real_fixtures, spider):
    page = response(
        real_fixtures / "ebay/ebay-co-uk_store-page_geoffscuriosities_2026-08.html",
        "https://www.ebay.co.uk/str/geoffscuriosities",
    )
    cards = spider.parse_cards(page)
    assert len(cards) == 48
    assert cards[0]["listing_id"] == "267729753193"
    assert cards[0]["title"] == "NEW Sony Alpha A6700 26MP Mirrorless Camera with 18-135mm Lens - 1YR Warranty"
    assert (cards[0]["price"], cards[0]["currency"]) == ("1249.00", "GBP")  # not the struck-through £1,599.00
    assert {c["seller"] for c in cards} == {"Pandota"}  # the store's name, shown once for the whole page
    assert spider.next_page(page) == "https://www.ebay.co.uk/str/geoffscuriosities?_pgn=2"


def test_item_page(real_fixtures, spider):
    page = response(
        real_fixtures / "ebay/ebay-co-uk_item_267745470208_2026-08.html", "https://www.ebay.co.uk/itm/267745470208"
    )
    listing = spider.parse_listing(page)
    assert listing["listing_id"] == "267745470208"
    assert listing["url"] == "https://www.ebay.co.uk/itm/267745470208"
    assert listing["title"] == "Alienware 18 Area-51 Ultra 9 275HX RTX 5080 32GB 2TB QHD+ 300Hz Gaming Laptop"
    assert (listing["price"], listing["currency"]) == ("2599.00", "GBP")
    assert (listing["seller"], listing["condition"]) == ("Pandota", "New")
    extra = listing["extra"]
    assert extra["seller_id"] == "geoff_lee367"
    assert extra["seller_url"] == "https://www.ebay.co.uk/str/geoffscuriosities"
    assert extra["seller_feedback"] == "(6252)"
    assert len(extra["images"]) == 11  # "Picture 1 of 11" .. "11 of 11"; the carousel repeats each as a thumbnail
    specifics = extra["item_specifics"]
    assert len(specifics) == 21  # grep -c "<dt class=ux-labels-values__labels>"
    assert specifics["Brand"] == "Alienware" and specifics["GPU"] == "RTX 5080" and specifics["EAN"] == "Does not apply"
    assert specifics["Condition"].startswith("New: A brand-new, unused, unopened")
    assert "opens in a new window" not in specifics["Condition"]
    assert extra["description_url"].startswith("https://itm.ebaydesc.com/itmdesc/267745470208?")
    assert spider.listing_status(page) == "live"


def test_item_fetches_description_iframe_and_keeps_it_as_attachment(spider):
    item_page = response(
        PAGES / "ebay_item_ended_key_programmer.html",
        "https://www.ebay.co.uk/itm/186123456789",
        purpose="candidate",
        screen_score=91.0,
    )
    [request] = list(spider.parse_item(item_page, card={"listing_id": "186123456789"}))
    assert request.url == "https://itm.ebaydesc.com/itmdesc/186123456789?t=0&category=179716&seller=keytools_4u&lsite=3"
    description_page = HtmlResponse(
        url=request.url, body=(PAGES / "ebay_description_key_programmer.html").read_bytes(), request=request
    )
    [item] = list(request.callback(description_page, **request.cb_kwargs))
    assert item.description == (
        "SKP900 Smart Key Programmer Programs new smart keys and proximity fobs over OBD2 when "
        "all keys are lost. Works with immobiliser PIN reading for most makes. Latest software 2026."
    )
    [attachment] = item.attachments
    assert attachment["kind"] == "description" and attachment["url"] == request.url and attachment["status"] == 200
    assert attachment["body"] == (PAGES / "ebay_description_key_programmer.html").read_bytes()
    assert attachment["fetched_at"].endswith("+00:00")
    assert item.body == item_page.body and item.purpose == "candidate" and item.screen_score == 91.0
    assert (item.title, item.price, item.seller, item.condition) == (
        "SKP900 Key Programmer OBD2 Smart Key Maker All Makes",
        "189.00",
        "keytools_4u",
        "Used",
    )
    assert spider.crawler.stats.get_value("keywatch/items") == 1


def test_failed_description_fetch_still_yields_the_item(spider):
    item_page = response(PAGES / "ebay_item_ended_key_programmer.html", "https://www.ebay.co.uk/itm/186123456789")
    [request] = list(spider.parse_item(item_page))
    failure = Failure(ConnectionRefusedError("connection refused"))
    failure.request = request
    [item] = list(request.errback(failure))
    assert item.listing_id == "186123456789" and item.description == "" and item.attachments == []
    assert "connection refused" in item.extra["description_error"]
    assert spider.crawler.stats.get_value("keywatch/description_errors") == 1


def test_ended_listing_wording(spider):
    page = response(PAGES / "ebay_item_ended_key_programmer.html", "https://www.ebay.co.uk/itm/186123456789")
    assert spider.listing_status(page) == "ended"


def test_ended_wording_only_inside_scripts_is_not_an_ended_listing(spider):
    body = (
        b'<html><head><script>var m = "This listing has ended. This item is no longer available.";</script></head>'
        b'<body><h1 class="x-item-title__mainTitle"><span class="ux-textspans">Car key fob</span></h1></body></html>'
    )
    page = HtmlResponse(
        url="https://www.ebay.co.uk/itm/186000000001",
        body=body,
        request=Request("https://www.ebay.co.uk/itm/186000000001"),
    )
    assert spider.listing_status(page) == "live"


def test_hand_written_relay_box_scard_search(spider):
    page = response(PAGES / "ebay_search_relay_scard.html", "https://www.ebay.co.uk/sch/i.html?_nkw=keyless+relay+box")
    cards = spider.parse_cards(page)
    assert [(c["listing_id"], c["title"], c["price"], c["seller"], c["condition"]) for c in cards] == [
        (
            "356012345678",
            "Keyless Entry Relay Box Signal Amplifier 2-Way Long Range Car Unlock Kit",
            "349.99",
            "rf_tools_direct",
            "Brand new",
        ),
        (
            "270987654321",
            "Faraday Pouch Keyless Car Key Signal Blocker RFID Bag x2",
            "5.49",
            "car-secure-uk",
            "Brand new",
        ),
        (
            "145566778899",
            "12V 40A Car Starter Relay 4 Pin Automotive Switch Pack of 5",
            "7.20",
            "autoparts-clearance",
            "Pre-owned",
        ),
    ]
    assert cards[1]["extra"] == {"price_max": "9.99"}
    assert spider.next_page(page) == "https://www.ebay.co.uk/sch/i.html?_nkw=keyless+relay+box&_pgn=2"


def test_blocked_page_is_counted_as_blocked_and_yields_nothing(spider):
    page = response(PAGES / "ebay_item_blocked.html", "https://www.ebay.co.uk/itm/186123456789")
    assert list(spider.parse_item(page, card={"listing_id": "186123456789"})) == []
    assert spider.crawler.stats.get_value("keywatch/blocked_pages") == 1
    assert spider.crawler.stats.get_value("keywatch/parse_errors") is None
    assert spider.crawler.stats.get_value("keywatch/items") is None


def test_search_page_with_broken_markup_is_counted_not_raised(spider):
    page = HtmlResponse(
        url="https://www.ebay.co.uk/sch/i.html?_nkw=x",
        body=b"<html><body><ul class='srp-results'>"
        b"<li class='s-card'><a class='s-card__link' href='/itm/not-a-number'>x</a></li></ul>",
        request=Request("https://www.ebay.co.uk/sch/i.html?_nkw=x"),
    )
    assert list(spider.parse_search(page)) == []
    assert spider.crawler.stats.get_value("keywatch/search_pages_empty") == 1


def test_non_html_description_is_still_kept_as_attachment(spider):
    from scrapy.http import Response

    item_page = response(PAGES / "ebay_item_ended_key_programmer.html", "https://www.ebay.co.uk/itm/186123456789")
    [request] = list(spider.parse_item(item_page))
    [item] = list(
        request.callback(Response(url=request.url, body=b"\x89PNG\r\n", request=request), **request.cb_kwargs)
    )
    assert item.description == "" and item.attachments[0]["body"] == b"\x89PNG\r\n"


# ---- issue 16: defects seen on real pages, reproduced on hand-written pages of the same shape -------------------


def test_singapore_dollars_are_read_as_sgd_not_usd(spider):
    page = response(PAGES / "ebay_search_sg_scard.html", "https://www.ebay.com.sg/sch/i.html?_nkw=key+programmer")
    cards = spider.parse_cards(page)
    assert [(c["listing_id"], c["price"], c["currency"]) for c in cards] == [
        ("305512345671", "200.00", "SGD"),
        ("305512345672", "12.50", "SGD"),
    ]
    assert cards[1]["extra"]["price_max"] == "1020.00"
    assert cards[0]["seller"] == "sg_auto_tools"


def test_item_listed_in_another_currency_keeps_the_sellers_price_and_the_conversion_in_extra(spider):
    page = response(PAGES / "ebay_item_listed_in_eur.html", "https://www.ebay.com/itm/198187151691")
    listing = spider.parse_listing(page)
    assert (listing["price"], listing["currency"]) == ("164.00", "EUR")  # what the seller listed, shown first
    assert listing["extra"]["converted_price"] == {"price": "177.54", "currency": "USD"}  # eBay's conversion
    assert listing["title"] == "Autel MaxiIM KM100 Key Programmer Transponder Tool"  # no trailing " -"
    assert listing["seller"] == "richiengel"
