"""The bundled demo marketplace (demo_market/), served on 127.0.0.1: the embedded default crawl."""

import json
import os

from spiders.base import MarketplaceSpider


class DemoMarketSpider(MarketplaceSpider):
    name = "demo_market"
    marketplace = "demo"
    # Local server: no need to be slow, and robots.txt is still obeyed.
    custom_settings = {
        "DOWNLOAD_DELAY": 0,
        "AUTOTHROTTLE_ENABLED": False,
        "CONCURRENT_REQUESTS_PER_DOMAIN": 8,
        "KEYWATCH_MAX_PAGES": 1000,  # browsing everything on a small local site
    }

    def __init__(self, base_url=None, **kwargs):
        super().__init__(**kwargs)
        self.base_url = (base_url or os.environ.get("KEYWATCH_DEMO_URL") or "http://127.0.0.1:8001").rstrip("/")
        self.search_url = self.base_url + "/search?q={query}&page={page}"

    def queries(self):
        # The demo site is small: browse everything unless told otherwise.
        return [""] if self.queries_arg is None else super().queries()

    def parse_cards(self, response):
        cards = []
        for card in response.css("li.result-card"):
            cards.append({
                "listing_id": card.attrib["data-listing-id"],
                "url": response.urljoin(card.css("a.result-card__link::attr(href)").get()),
                "title": card.css(".result-card__title::text").get(default="").strip(),
                "seller": card.css(".result-card__seller-name::text").get(default="").strip() or None,
            })
        return cards

    def next_page(self, response):
        return response.css("a.pagination__next::attr(href)").get()

    def is_item_url(self, url):
        return "/item/" in url

    def parse_listing(self, response):
        product = next(
            (data for data in map(json.loads, response.css('script[type="application/ld+json"]::text').getall())
             if data.get("@type") == "Product"),
            {},
        )
        offers = product.get("offers") or {}
        return {
            "listing_id": product.get("sku") or response.url.rstrip("/").rsplit("/", 1)[-1],
            "url": response.css('link[rel="canonical"]::attr(href)').get() or response.url,
            "title": product.get("name") or response.css("h1.item-title::text").get(default="").strip(),
            "description": product.get("description")
            or " ".join(t.strip() for t in response.css("#description ::text").getall() if t.strip()),
            "price": str(offers["price"]) if offers.get("price") is not None else None,
            "currency": offers.get("priceCurrency"),
            "seller": (offers.get("seller") or {}).get("name")
            or response.css(".seller-name::text").get(default="").strip() or None,
            "condition": response.css(".item-condition::text").get(default="").strip() or None,
        }
