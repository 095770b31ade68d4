"""Gumtree UK: search results and ad pages, read through the stable `data-q` attributes (class names are hashed)."""

import re

from spiders.base import MarketplaceSpider
from spiders.parsing import clean, first, parse_price, text_of

AD_ID = re.compile(r"/p/[^?#]*?/(\d{6,})(?:[/?#]|$)")


def q(name: str) -> str:
    return f'[data-q="{name}"]'


class GumtreeSpider(MarketplaceSpider):
    name = "gumtree"
    marketplace = "gumtree"
    allowed_domains = ["gumtree.com"]
    search_url = "https://www.gumtree.com/search?search_category=all&q={query}&page={page}"

    def is_item_url(self, url):
        return bool(AD_ID.search(url))

    def parse_cards(self, response):
        cards = []
        for card in response.css(q("search-result")):
            match = AD_ID.search(card.css(f"a{q('search-result-anchor')}::attr(href)").get(""))
            if not match:
                continue
            price = parse_price(text_of(card.css(q("tile-price"))), "GBP")
            cards.append({
                "listing_id": match.group(1),
                "url": response.urljoin(match.group(0).rstrip("/?#")),
                "title": text_of(card.css(q("tile-title"))),
                # The tile description also holds an inline <style>: read its <p> only.
                "description": text_of(card.css(f"{q('tile-description')} p")),
                "price": price["price"], "currency": price["currency"],
                "extra": {"location": text_of(card.css(q("tile-location"))) or None},
            })
        return cards

    def next_page(self, response):
        # The forward control is a script-driven <button>; the page head carries the real link.
        return response.css(f'link[rel="next"]::attr(href), a{q("pagination-forward-page")}::attr(href)').get()

    def parse_listing(self, response):
        canonical = response.css('link[rel="canonical"]::attr(href)').get("")
        match = AD_ID.search(canonical) or AD_ID.search(response.url)
        price = parse_price(text_of(response.css(f'{q("ad-price")}, {q("vip-price")}')[:1]), "GBP")
        return {
            "listing_id": match.group(1) if match else None,
            "url": response.urljoin(match.group(0).rstrip("/?#")) if match else response.url,
            "title": first(text_of(response.css(q("vip-title"))[:1]), text_of(response.css("h1")[:1])),
            "description": first(text_of(response.css(q("vip-description"))[:1]),
                                 text_of(response.css('[itemprop="description"]')[:1]),
                                 clean(response.css('meta[property="og:description"]::attr(content)').get())),
            "price": price["price"], "currency": price["currency"],
            "seller": text_of(response.css(f'{q("seller-name")}, {q("seller-name-large-screen")}')[:1]) or None,
            "extra": {k: v for k, v in {
                "location": text_of(response.css(q("ad-location"))[:1]),
                "seller_type": text_of(response.css(q("seller-type"))[:1]),
                "posted": text_of(response.css(q("ad-posted"))[:1]),
            }.items() if v},
        }
