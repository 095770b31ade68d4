"""Gumtree UK: search results and ad pages, read through the stable `data-q` attributes (class names are hashed).

Older server-rendered pages (`article.listing-maxi`, `a.listing-link`, `.listing-title`, `.ad-price`) are read
as a fallback, and an ad page's JSON-LD Product when it has one.
"""

import re

from spiders.base import MarketplaceSpider
from spiders.parsing import clean, find_product, first, image_urls, json_ld, offer_fields, text_of
from spiders.prices import parse_price

AD_ID = re.compile(r"/p/[^?#]*?/(\d{6,})(?:[/?#]|$)")
# The ad page repeats seller-name (small and large screen); the one marked data-testid is the visible name.
SELLER = (
    '[data-q="seller-name"][data-testid="seller-name"]',
    '[data-q="seller-name-large-screen"]',
    '[data-q="seller-name"]',
    '[data-q="advertiser-name"]',
    ".seller-rating-block-name, .seller-info__name, .seller-name",
)


def q(*names: str) -> str:
    return ", ".join(f'[data-q="{name}"]' for name in names)


def one(response, selector: str) -> str:
    return text_of(response.css(selector)[:1])


class GumtreeSpider(MarketplaceSpider):
    name = "gumtree"
    marketplace = "gumtree"
    allowed_domains = ["gumtree.com"]
    search_url = "https://www.gumtree.com/search?search_category=all&q={query}&page={page}"
    item_id = AD_ID

    def parse_cards(self, response):
        cards = []
        tiles = next(
            (
                found
                for found in map(
                    response.css, (q("search-result"), "article.listing-maxi", "li.natural", ".user-ad-row")
                )
                if found
            ),
            [],
        )
        for card in tiles:
            links = card.css(f"a{q('search-result-anchor')}, a.listing-link, a[href*='/p/']").xpath("@href").getall()
            match = first(*map(AD_ID.search, links))
            if not match:
                continue
            price = parse_price(one(card, f"{q('tile-price')}, .listing-price, [itemprop=price]"), "GBP")
            cards.append(
                {
                    "listing_id": match.group(1),
                    "url": response.urljoin(match.group(0).rstrip("/?#")),
                    "title": one(card, f"{q('tile-title', 'ad-title')}, .listing-title"),
                    # The tile description also holds an inline <style>: read its <p> only.
                    "description": first(
                        text_of(card.css(f"{q('tile-description')} p")), one(card, ".listing-description")
                    ),
                    "price": price["price"],
                    "currency": price["currency"],
                    "extra": {
                        k: v
                        for k, v in {"location": one(card, f"{q('tile-location')}, .listing-location")}.items()
                        if v
                    },
                }
            )
        return cards

    def next_page(self, response):
        # The forward control is a script-driven <button>; the page head carries the real link.
        return response.css(
            f'link[rel="next"]::attr(href), a{q("pagination-forward-page")}::attr(href), a.pagination-next::attr(href)'
        ).get()

    def parse_listing(self, response):
        product = find_product({"json-ld": json_ld(response)}) or {}
        offer = offer_fields(product)
        canonical = response.css('link[rel="canonical"]::attr(href)').get("")
        match = AD_ID.search(canonical) or AD_ID.search(response.url)
        price = parse_price(one(response, f"{q('ad-price', 'vip-price')}, .ad-price, [itemprop=price]"), "GBP")
        # Details as `[data-q=attribute-row]` (dt + data-testid=attribute-value) or a plain dl of dt/dd pairs.
        details = {
            clean(text_of(dt)).rstrip(":"): first(
                text_of(dt.xpath("..").css('[data-testid="attribute-value"]')),
                text_of(dt.xpath("following-sibling::dd[1]")),
            )
            for dt in response.css("dl dt, [data-q=attribute-row] dt")
        }
        return {
            "listing_id": match.group(1) if match else None,
            "url": response.urljoin(match.group(0).rstrip("/?#")) if match else response.url,
            "title": first(
                one(response, q("vip-title", "ad-title")),
                one(response, "h1.listing-title, h1[itemprop=name]"),
                clean(product.get("name")),
                one(response, "h1"),
            ),
            "description": first(
                one(response, q("vip-description", "ad-description")),
                one(response, '[itemprop="description"], .ad-description'),
                clean(product.get("description")),
                clean(response.css('meta[property="og:description"]::attr(content)').get()),
            ),
            "price": first(price["price"], offer.get("price")),
            "currency": first(price["currency"], offer.get("currency")),
            "seller": re.sub(
                r"^Contact\s+", "", first(*(one(response, sel) for sel in SELLER), offer.get("seller")) or ""
            )
            or None,
            "condition": details.get("Condition") or None,
            "extra": {
                k: v
                for k, v in {
                    "location": one(response, f"{q('ad-location')}, .ad-location"),
                    "seller_type": one(response, q("seller-type")),
                    "posted": first(one(response, q("ad-posted", "ad-posted-date")), details.get("Posted")),
                    "item_specifics": {k: v for k, v in details.items() if k and v and k != "Posted"},
                    "images": image_urls(
                        response.css(
                            '[data-q="image-carousel"] img::attr(src), [data-q="vip-gallery"] img::attr(src)'
                        ).getall()
                    ),
                }.items()
                if v
            },
        }
