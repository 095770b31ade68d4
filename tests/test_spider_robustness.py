"""Every spider over every page we have, of its own site or another: nothing raises except a clean BlockedPage.

Real captures (../shared/fixtures/real, read in place) and hand-written pages (tests/pages) go through each
spider's `parse_cards` and `parse_listing` under search and item URLs, through `keywatch parse`, and through the
crawl callbacks, where robot checks must be counted as `keywatch/blocked_pages`, never as empty search pages.
"""

import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from scrapy import Request
from scrapy.http import HtmlResponse
from scrapy.utils.test import get_crawler

from keywatch.cli import cli
from spiders.robot_check import blocked_reason
from spiders.spiders.aliexpress import AliexpressSpider
from spiders.spiders.amazon_uk import AmazonUkSpider
from spiders.spiders.dhgate import DhgateSpider
from spiders.spiders.ebay_uk import EbayUkSpider
from spiders.spiders.gumtree import GumtreeSpider
from spiders.spiders.telegram import TelegramSpider
from spiders.spiders.webshop import WebshopSpider

ROOT = Path(__file__).resolve().parents[1]
REAL = ROOT.parent / "shared" / "fixtures" / "real"
PAGES = sorted(REAL.rglob("*.html")) + sorted((ROOT / "tests" / "pages").glob("*.html"))
BLOCKED = {
    "amazon_robot_check.html",
    "aliexpress_slider_punish.html",
    "cloudflare_challenge.html",
    "ebay_item_blocked.html",
}
# The site a page belongs to: the spider that may find listings on it. Others must find none.
OWNER = {
    "ebay": "ebay_uk",
    "amazon": "amazon_uk",
    "gumtree": "gumtree",
    "aliexpress": "aliexpress",
    "etsy": "webshop",
    "shopify": "webshop",
    "telegram": "telegram",
    "dhgate": "dhgate",
}
SPIDERS = {
    "ebay_uk": (
        EbayUkSpider,
        "https://www.ebay.co.uk/sch/i.html?_nkw=relay",
        "https://www.ebay.co.uk/itm/186123456789",
    ),
    "amazon_uk": (AmazonUkSpider, "https://www.amazon.co.uk/s?k=relay", "https://www.amazon.co.uk/dp/B0CD1DZ6RD"),
    "gumtree": (
        GumtreeSpider,
        "https://www.gumtree.com/search?q=relay",
        "https://www.gumtree.com/p/parts/relay/1512968962",
    ),
    "aliexpress": (
        AliexpressSpider,
        "https://www.aliexpress.com/wholesale?SearchText=relay",
        "https://www.aliexpress.com/item/1005006123456789.html",
    ),
    "webshop": (WebshopSpider, "https://shop.example/collections/all", "https://shop.example/products/relay"),
    "telegram": (TelegramSpider, "https://t.me/s/keyless_tools_uk", "https://t.me/s/keyless_tools_uk/4211"),
    "dhgate": (
        DhgateSpider,
        "https://www.dhgate.com/wholesale/search.do?searchkey=relay",
        "https://www.dhgate.com/product/relay-box/912345678.html",
    ),
}


def owner(path: Path) -> str | None:
    site = path.parent.name if path.parent.parent == REAL else path.name.split("_")[0]
    return OWNER.get(site)


def pages():
    if not REAL.is_dir():  # the hand-written pages still run
        return [p for p in PAGES if REAL not in p.parents]
    return PAGES


@pytest.fixture(params=pages(), ids=lambda p: p.name)
def path(request):
    return request.param


def spider_of(name):
    cls = SPIDERS[name][0]
    return cls.from_crawler(get_crawler(cls))


@pytest.mark.parametrize("name", SPIDERS)
def test_hooks_never_raise_on_any_page(path, name):
    cls, search_url, item_url = SPIDERS[name]
    body = path.read_bytes()
    for url in (search_url, item_url, "https://unrelated.example/page"):
        response = HtmlResponse(url=url, body=body, request=Request(url))
        spider = cls()
        for hook in (spider.parse_cards, spider.parse_listing):
            # Robot checks are caught before any hook runs (MarketplaceSpider.blocked, keywatch parse);
            # hooks must still not raise on them.
            result = hook(response)
            if hook == spider.parse_cards:
                assert isinstance(result, list)
                assert all(card["listing_id"] and card["url"].startswith("http") for card in result)
                if owner(path) != name:
                    assert result == [], f"{name} found listings on {path.name}, a page of another site"
            else:
                assert isinstance(result, dict)


def test_robot_checks_are_recognised_and_real_pages_are_not():
    for path in pages():
        reason = blocked_reason(HtmlResponse(url="https://x.example/", body=path.read_bytes()))
        assert bool(reason) == (path.name in BLOCKED), (path.name, reason)


@pytest.mark.parametrize("name", SPIDERS)
def test_keywatch_parse_answers_in_json_lines_or_one_error_line(path, name):
    _, search_url, item_url = SPIDERS[name]
    for url in (search_url, item_url):
        result = CliRunner().invoke(cli, ["parse", name, str(path), "--url", url])
        assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
        if result.exit_code == 0:
            for line in result.stdout.splitlines():
                assert json.loads(line)["marketplace"]
        else:
            assert result.exit_code == 1
            [line] = result.output.strip().splitlines()
            assert line.startswith("Error: ") and "Traceback" not in line
            if path.name in BLOCKED:
                assert "robot check" in line


@pytest.mark.parametrize("name", ["ebay_uk", "amazon_uk", "gumtree", "aliexpress"])
@pytest.mark.parametrize("blocked", sorted(BLOCKED))
def test_crawl_counts_robot_checks_not_empty_pages_or_parse_errors(name, blocked):
    spider = spider_of(name)
    _, search_url, item_url = SPIDERS[name]
    body = (ROOT / "tests" / "pages" / blocked).read_bytes()
    search = HtmlResponse(url=search_url, body=body, request=Request(search_url))
    assert list(spider.parse_search(search)) == []
    item = HtmlResponse(url=item_url, body=body, request=Request(item_url))
    assert list(spider.parse_item(item, card={"listing_id": "1"})) == []
    assert list(spider.parse_recheck(item, listing_id="1")) == []  # a captcha says nothing of the listing
    stats = spider.crawler.stats
    assert stats.get_value("keywatch/blocked_pages") == 3
    for stat in ("keywatch/search_pages_empty", "keywatch/parse_errors", "keywatch/items"):
        assert stats.get_value(stat) is None, stat
    assert not any(key.startswith("keywatch/rechecks/") for key in stats.get_stats())


def test_webshop_walk_counts_a_challenge_page():
    spider = spider_of("webshop")
    url = "https://www.example-shop.co.uk/"
    response = HtmlResponse(
        url=url, body=(ROOT / "tests/pages/cloudflare_challenge.html").read_bytes(), request=Request(url)
    )
    assert list(spider.parse_page(response)) == []
    assert spider.crawler.stats.get_value("keywatch/blocked_pages") == 1


def test_an_unparseable_page_is_still_a_parse_error_and_still_stored():
    spider = spider_of("ebay_uk")
    url = "https://www.ebay.co.uk/itm/186123456789"
    response = HtmlResponse(url=url, body=b"<html><body><p>nothing here</p></body></html>", request=Request(url))
    [item] = spider.parse_item(response)
    assert (item.listing_id, item.title, item.body) == ("186123456789", "", response.body)
    assert spider.crawler.stats.get_value("keywatch/parse_errors") == 1
    assert spider.crawler.stats.get_value("keywatch/blocked_pages") is None


def own_pages():
    """Pages a spider may find listings on: those of its own site, robot checks left out."""
    return [p for p in pages() if owner(p) and p.name not in BLOCKED]


@pytest.mark.parametrize("cut", [0.05, 0.4, 0.8])
@pytest.mark.parametrize("own_page", own_pages(), ids=lambda p: p.name)
def test_truncated_pages_of_its_own_site_never_raise(own_page, cut):
    """A download cut short (DOWNLOAD_MAXSIZE, a dropped connection) still parses to whatever is there."""
    cls, search_url, item_url = SPIDERS[owner(own_page)]
    body = own_page.read_bytes()
    body = body[: max(1, int(len(body) * cut))]
    for url in (search_url, item_url):
        response = HtmlResponse(url=url, body=body, request=Request(url))
        spider = cls()
        assert isinstance(spider.parse_cards(response), list)
        assert isinstance(spider.parse_listing(response), dict)


def test_every_robot_check_marker_holds_a_cue_so_the_cheap_first_look_cannot_miss_it():
    from spiders.robot_check import BLOCK_PHRASES, BLOCK_TITLES, BLOCK_URLS, CAPTCHA_FORMS, CUES

    markers = [*BLOCK_TITLES, *BLOCK_PHRASES, *BLOCK_URLS, *CAPTCHA_FORMS.replace("#", " ").split(",")]
    for marker in markers:
        assert any(cue in marker.lower() for cue in CUES), marker


@pytest.mark.parametrize("encoding", ["utf-8", "cp1252", "utf-16", "utf-32", "cp037", "utf-7"])
def test_a_robot_check_is_recognised_in_any_encoding_the_bytes_first_look_included(encoding):
    # The first look reads raw bytes where ASCII text is written as such; UTF-16, EBCDIC or UTF-7 are read as text.
    page = "<html><head><title>Robot Check</title></head><body><p>Enter the characters you see below</p></body></html>"
    response = HtmlResponse(
        url="https://x.example/", body=page.encode(encoding), headers={"Content-Type": f"text/html; charset={encoding}"}
    )
    assert response.text == page
    assert blocked_reason(response) == "page title 'robot check'"


def test_no_cue_in_lower_cased_text_can_hide_from_the_bytes_first_look():
    # Lower-casing non-ASCII text yields ASCII letters only for the Kelvin sign (k) and U+0130 (i and a combining dot):
    # no cue has a k, and none ends in i, so a cue in the text is in the bytes.
    from spiders.robot_check import CUES

    makes_ascii = {c: c.lower() for c in map(chr, range(0x80, 0x110000)) if any(ord(x) < 0x80 for x in c.lower())}
    assert makes_ascii == {"\u0130": "i\u0307", "\u212a": "k"}
    assert not any("k" in cue or cue.endswith("i") for cue in CUES)


def marker_pages():
    from spiders.robot_check import BLOCK_PHRASES, BLOCK_TITLES, BLOCK_URLS

    for title in BLOCK_TITLES:
        yield f"<html><head><title>{title.title()}</title></head><body><p>A car alarm.</p></body></html>", "page title"
    for phrase in BLOCK_PHRASES:
        yield f"<html><body><p>{phrase.upper()}</p></body></html>", "page says"
    for address in BLOCK_URLS:
        yield f"<html><body><form action='{address.upper()}?x=1'><p>Continue</p></form></body></html>", "challenge"


@pytest.mark.parametrize("page, reason", list(marker_pages()))
def test_every_marker_is_found_when_only_the_markers_of_the_cues_a_page_holds_are_looked_for(page, reason):
    # Besides its marker, the page holds a cue word of other markers ("security", as car listings do): each marker
    # is looked for only on a page that holds its own cue, and none may be missed for that.
    page = page.replace("<body>", "<body><p>Vehicle security, keyless entry</p>")
    response = HtmlResponse(url="https://x.example/", body=page.encode(), encoding="utf-8")
    assert (blocked_reason(response) or "").startswith(reason), page


def test_a_page_holding_a_cue_word_but_no_marker_is_no_robot_check():
    page = "<html><head><title>Car security system</title></head><body><p>Request a quote, verify fit.</p></body>"
    assert blocked_reason(HtmlResponse(url="https://x.example/", body=page.encode(), encoding="utf-8")) is None
