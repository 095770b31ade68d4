"""The bundled demo marketplace (demo_market/), served on 127.0.0.1: the embedded default crawl."""

import json
import re

from lxml import etree
from parsel.csstranslator import css2xpath

from common import settings
from db.hosts import host_of
from spiders.base import MarketplaceSpider
from spiders.parsing import clean, dig, find_product, first_of, image_urls
from spiders.prices import decimal_string, parse_price


def compiled(css: str) -> etree.XPath:
    return etree.XPath(css2xpath(css))


# A results page holds dozens of cards: each field is one compiled XPath over lxml's own element, where parsel
# wrapped every match of every selector in an object of its own (the selectors' meaning is the same).
CARDS = compiled("li.result-card")
CARD_LINK = compiled("a.result-card__link::attr(href)")
CARD_TITLE = compiled(".result-card__title::text")
CARD_SELLER = compiled(".result-card__seller-name::text")


def first_match(matches: list) -> str | None:
    return str(matches[0]) if matches else None


class DemoMarketSpider(MarketplaceSpider):
    name = "demo_market"
    marketplace = "demo"
    item_id = re.compile(r"/item/([^/]+)")
    # Local server: no need to be slow, and robots.txt is still obeyed.
    custom_settings = {
        "DOWNLOAD_DELAY": 0,
        "AUTOTHROTTLE_ENABLED": False,
        "CONCURRENT_REQUESTS_PER_DOMAIN": 8,
        "KEYWATCH_MAX_PAGES": 1000,  # browsing everything on a small local site
    }

    def __init__(self, base_url=None, **kwargs):
        super().__init__(**kwargs)
        self.base_url = (base_url or settings.demo_url()).rstrip("/")
        self.search_url = self.base_url + "/search?q={query}&page={page}"
        self.host = host_of(self.base_url)  # once: every link and page is checked against it

    def marketplace_hosts(self):
        return {self.marketplace: [self.host]}

    def queries(self):
        # The demo site is small: browse everything unless told otherwise.
        return [""] if self.queries_arg is None else super().queries()

    def parse_cards(self, response):
        cards = []
        for card in CARDS(response.selector.root):
            cards.append(
                {
                    "listing_id": card.attrib["data-listing-id"],
                    "url": response.urljoin(first_match(CARD_LINK(card))),
                    "title": (first_match(CARD_TITLE(card)) or "").strip(),
                    "seller": (first_match(CARD_SELLER(card)) or "").strip() or None,
                }
            )
        return cards

    def next_page(self, response):
        return response.css("a.pagination__next::attr(href)").get()

    def parse_listing(self, response):
        # Strict: a page cut off mid-transfer (broken JSON-LD) is a parse error, stored and counted as such.
        blocks = [json.loads(block) for block in response.css('script[type="application/ld+json"]::text').getall()]
        product = find_product({"json-ld": blocks}) or {}
        # The markup is read where the JSON-LD says nothing (first_of calls a lambda only when it has to).
        return {
            "listing_id": product.get("sku"),
            "url": response.css('link[rel="canonical"]::attr(href)').get(),
            "title": first_of(clean(product.get("name")), lambda: clean(response.css("h1.item-title::text").get())),
            "description": first_of(
                clean(product.get("description")),
                lambda: " ".join(t.strip() for t in response.css("#description ::text").getall() if t.strip()),
            ),
            "price": decimal_string(dig(product, "offers", "price")),
            "currency": dig(product, "offers", "priceCurrency"),
            "seller": first_of(
                clean(dig(product, "offers", "seller", "name")), lambda: clean(response.css(".seller-name::text").get())
            ),
            "condition": clean(response.css(".item-condition::text").get()) or None,
            "extra": {
                "images": first_of(
                    image_urls(product.get("image")), lambda: response.css(".gallery img::attr(src)").getall()
                )
                or [],
                # What the seller writes about itself on every item page, where contacts hide (networks/).
                "seller_profile": clean(response.css(".seller-about::text").get()) or None,
            },
        }

    def parse_rendered(self, response):
        # One listing's price is filled in by a script (demo_market/pages.py): only the rendered page shows it.
        return parse_price(clean(response.css(".item-price::text").get()) or "")
