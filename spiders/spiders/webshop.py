"""Any web shop (Shopify, WooCommerce, Etsy-style): walk it from -a start_url=URL[,URL...], read its products.

There is no search step: every product page found is an item (purpose "all"). A page is a product page when
it carries a schema.org Product (JSON-LD or microdata), says og:type "product", or sits at a product path
(/product/, /products/, /listing/, /item/) with a heading. Each shop is its own marketplace, named by the host
of its start URL (`www.` dropped, the port kept when one is given), and a product is known by the address it was
fetched at: a page's SKU or canonical link cannot make it another shop's product, or another product of the
same shop (they are kept as `extra.sku` and, when they disagree, `extra.claims`).
"""

import re
from collections import Counter
from urllib.parse import urlsplit

import scrapy
from scrapy.exceptions import CloseSpider
from scrapy.http import HtmlResponse
from scrapy.linkextractors import LinkExtractor

from db.hosts import host_of
from spiders.base import MarketplaceSpider
from spiders.parsing import clean, find_product, first, image_urls, name_of, offer_fields, structured_data, text_of
from spiders.prices import decimal_string, parse_price

# Carts, accounts and sort/filter permutations are endless and say nothing about the products.
DENY = (
    r"/cart\b",
    r"/checkout",
    r"/account",
    r"/login",
    r"/wishlist",
    r"/search\b",
    r"[?&](add-to-cart|add_to_wishlist|sort|sort_by|orderby|filter[^=]*)=",
)
SHOP_LINK = re.compile(r"/shop/([^/?#]+)/?(?:[?#]|$)")  # how Etsy-style marketplaces link the selling shop
# Shopify /products/x, WooCommerce /product/x, Etsy /listing/1/x: a page there with a title and no
# structured data is still a product page (read from <title>/meta description and the shown price).
PRODUCT_PATH = re.compile(r"/(?:products?|listing|item)/[^/]+")


def shop_of(url: str) -> str:
    return host_of(url).removeprefix("www.")


class WebshopSpider(MarketplaceSpider):
    name = "webshop"
    marketplace = "webshop"
    custom_settings = {"DEPTH_LIMIT": 6}

    def __init__(self, start_url=None, **kwargs):
        super().__init__(**kwargs)
        self.start_urls = [url.strip() for url in (start_url or "").split(",") if url.strip()]
        self.allowed_domains = sorted({urlsplit(url).hostname for url in self.start_urls} - {None})
        self.links = LinkExtractor(deny=DENY)  # its allow_domains compares host:port, so hosts are checked below
        self._data = (None, {})

    def queries(self):
        return []  # no search: the shops are walked from their start URLs

    async def start(self):
        if not self.start_urls:  # a finish reason other than "finished" makes `keywatch crawl` fail loudly
            self.logger.error("webshop needs -a start_url=URL[,URL...]")
            raise CloseSpider("no_start_url")
        for url in self.start_urls:
            yield scrapy.Request(url, callback=self.parse_page, errback=self.on_error)
        async for request in super().start():  # re-checks of listings already flagged
            yield request

    def marketplace_hosts(self):
        return {shop_of(url): [shop_of(url)] for url in self.start_urls if shop_of(url)}

    def marketplace_of(self, url):
        # Without start URLs (`keywatch parse`), any page is a page of its own shop.
        return super().marketplace_of(url) if self.start_urls else shop_of(url) or None

    def parse_page(self, response):
        if not isinstance(response, HtmlResponse):
            return
        if self.blocked(response):  # a challenge page has no links worth following either
            return
        if self.marketplace_of(response.url) is None:  # redirected off the shops being walked
            self.crawler.stats.inc_value("keywatch/pages_off_site")
            return
        if self.is_product_page(response):
            yield from self.parse_item(response)
        for link in self.links.extract_links(response):
            if self.marketplace_of(link.url) is not None:
                yield scrapy.Request(link.url, callback=self.parse_page, errback=self.on_error)

    def page_data(self, response) -> dict:
        if self._data[0] is not response:  # extruct is the slow part: once per page
            self._data = (response, structured_data(response))
        return self._data[1]

    def is_product_page(self, response) -> bool:
        data = self.page_data(response)
        og_type = first(*(og.get("@type") for og in data.get("opengraph") or []))
        return (
            find_product(data) is not None
            or str(og_type).lower() == "product"
            or bool(PRODUCT_PATH.search(urlsplit(response.url).path) and response.css("h1"))
        )

    def parse_cards(self, response):
        return []  # shops are walked, not searched: a listing page's products are found by following its links

    def parse_listing(self, response):
        data = self.page_data(response)
        product = find_product(data) or {}
        og = next(iter(data.get("opengraph") or []), {})
        offer = offer_fields(product)
        shown = parse_price(text_of(response.css('[itemprop="price"], [class*="price"]')[:1]))
        shops = Counter(
            SHOP_LINK.search(h).group(1) for h in response.css("a::attr(href)").getall() if SHOP_LINK.search(h)
        )
        return {
            "url": product.get("url"),  # a claim, as the canonical link is (the base spider reads both)
            "title": first(
                clean(product.get("name")),
                clean(og.get("og:title")),
                text_of(response.css("h1")[:1]),
                text_of(response.css("title")[:1]),
            ),
            "description": first(
                clean(product.get("description")),
                clean(og.get("og:description")),
                clean(response.css('meta[name="description"]::attr(content)').get()),
            ),
            "price": first(
                offer.get("price"),
                decimal_string(first(og.get("product:price:amount"), og.get("og:price:amount"))),
                shown["price"],
            ),
            "currency": first(
                offer.get("currency"), og.get("product:price:currency"), og.get("og:price:currency"), shown["currency"]
            ),
            "seller": first(offer.get("seller"), shops.most_common(1)[0][0] if shops else None),
            "extra": {
                k: v
                for k, v in {
                    "sku": clean(
                        first(product.get("sku"), product.get("productID"), og.get("product:retailer_item_id"))
                    ),
                    "brand": name_of(product.get("brand")),
                    "availability": offer.get("availability"),
                    "price_max": offer.get("price_max"),
                    "images": image_urls(first(product.get("image"), og.get("og:image"))),
                    "source": "schema.org Product" if product else "OpenGraph" if og.get("og:title") else "HTML",
                }.items()
                if v
            },
        }
