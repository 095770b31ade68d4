"""The bundled demo marketplace (demo_market/), served on 127.0.0.1: the embedded default crawl."""

import json
import re

from common import settings
from db.hosts import host_of
from spiders.base import MarketplaceSpider
from spiders.parsing import CANONICAL, clean, compiled, dig, find_product, first_match, first_of, image_urls
from spiders.prices import decimal_string, parse_price

# Each selector compiled once (spiders/parsing.py `compiled`): a results page holds dozens of cards.
CARDS = compiled("li.result-card")
CARD_LINK = compiled("a.result-card__link::attr(href)")
CARD_TITLE = compiled(".result-card__title::text")
CARD_SELLER = compiled(".result-card__seller-name::text")
NEXT_PAGE = compiled("a.pagination__next::attr(href)")
JSON_LD = compiled('script[type="application/ld+json"]::text')
TITLE = compiled("h1.item-title::text")
DESCRIPTION = compiled("#description ::text")
PRICE = compiled(".item-price::text")
SELLER = compiled(".seller-name::text")
CONDITION = compiled(".item-condition::text")
GALLERY = compiled(".gallery img::attr(src)")
SELLER_ABOUT = compiled(".seller-about::text")


class DemoMarketSpider(MarketplaceSpider):
    name = "demo_market"
    marketplace = "demo"
    item_id = re.compile(r"/item/([^/]+)")
    complete_pages = True  # the description is on the item page: the classifier's process reads it
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
        return first_match(NEXT_PAGE(response.selector.root))

    def parse_listing(self, response):
        root = response.selector.root
        # Strict: a page cut off mid-transfer (broken JSON-LD) is a parse error, stored and counted as such.
        product = find_product({"json-ld": [json.loads(block) for block in JSON_LD(root)]}) or {}
        # The markup is read where the JSON-LD says nothing (first_of calls a lambda only when it has to).
        return {
            "listing_id": product.get("sku"),
            "url": first_match(CANONICAL(root)),
            "title": first_of(clean(product.get("name")), lambda: clean(first_match(TITLE(root)))),
            "description": first_of(
                clean(product.get("description")),
                lambda: " ".join(t.strip() for t in DESCRIPTION(root) if t.strip()),
            ),
            "price": decimal_string(dig(product, "offers", "price")),
            "currency": dig(product, "offers", "priceCurrency"),
            "seller": first_of(
                clean(dig(product, "offers", "seller", "name")), lambda: clean(first_match(SELLER(root)))
            ),
            "condition": clean(first_match(CONDITION(root))) or None,
            "extra": {
                "images": first_of(image_urls(product.get("image")), lambda: GALLERY(root)) or [],
                # What the seller writes about itself on every item page, where contacts hide (networks/).
                "seller_profile": clean(first_match(SELLER_ABOUT(root))) or None,
            },
        }

    def parse_rendered(self, response):
        # One listing's price is filled in by a script (demo_market/pages.py): only the rendered page shows it.
        return parse_price(clean(first_match(PRICE(response.selector.root))) or "")
