"""Amazon UK: search results and product pages (no JSON-LD on Amazon: visible markup only)."""

import re
from urllib.parse import urlsplit

from spiders.base import MarketplaceSpider
from spiders.parsing import clean, first, query_param, text_of
from spiders.prices import parse_price

ASIN = re.compile(r"/(?:dp|gp/product|gp/aw/d)/([A-Z0-9]{10})")
# The buy-box price across layouts: current core price blocks first, then the older `priceblock_*` spans.
PRICE = (
    "#corePriceDisplay_desktop_feature_div .a-price .a-offscreen::text",
    "#apex_desktop .a-price .a-offscreen::text",
    ".priceToPay .a-offscreen::text, .apexPriceToPay .a-offscreen::text",
    "#apex_offerDisplay_desktop .a-price .a-offscreen::text",
    "#corePrice_feature_div .a-price .a-offscreen::text",
    "#corePrice_desktop .a-price .a-offscreen::text, #tp_price_block_total_price_ww .a-offscreen::text",
    "#priceblock_ourprice::text, #priceblock_dealprice::text, #priceblock_saleprice::text",
    "#price_inside_buybox::text, #newBuyBoxPrice::text, #kindle-price::text, #price::text",
)
# The split price (`.a-price-whole` "12." + `.a-price-fraction` "99") when no screen-reader copy is present.
WHOLE = ("#corePriceDisplay_desktop_feature_div", "#apex_desktop", "#corePrice_feature_div", "#buybox")
SOLD_BY = re.compile(
    r"(?:sold by|dispatched from and sold by|ships from and sold by)\s+(.+?)"
    r"(?:\s+and\s+(?:fulfilled|dispatched)|\s*\.\s|\s*\.?$)",
    re.IGNORECASE,
)


def split_price(node) -> str:
    whole = clean(node.css(".a-price-whole::text").get())
    if not whole:
        return ""
    symbol = clean(node.css(".a-price-symbol::text").get())
    return f"{symbol}{whole.rstrip('.')}.{clean(node.css('.a-price-fraction::text').get()) or '00'}"


class AmazonUkSpider(MarketplaceSpider):
    name = "amazon_uk"
    marketplace = "amazon_uk"
    allowed_domains = ["amazon.co.uk"]
    photo_hosts = ["media-amazon.com", "ssl-images-amazon.com"]  # product photos
    search_url = "https://www.amazon.co.uk/s?k={query}&page={page}"
    item_id = ASIN

    def home_currency(self, response):
        host = urlsplit(response.url).hostname or ""
        return "GBP" if host.endswith(".co.uk") else "USD" if host.endswith("amazon.com") else None

    def parse_cards(self, response):
        cards = []
        # 2019+ results carry data-component-type; older ones only `s-result-item` with a data-asin.
        results = response.css('div[data-component-type="s-search-result"]') or response.css(
            ".s-result-item[data-asin]"
        )
        for card in results:
            asin = card.attrib.get("data-asin")
            if not asin:
                continue
            # Sponsored results link through /sspa/click: the ASIN gives the real product URL.
            heading = card.xpath(".//a/h2") or card.css("h2")
            shown = first(card.css(".a-price:not(.a-text-price) .a-offscreen::text").get(), split_price(card))
            price = parse_price(shown, self.home_currency(response))
            cards.append(
                {
                    "listing_id": asin,
                    "url": response.urljoin(f"/dp/{asin}"),
                    "title": first(
                        text_of(heading[:1]),
                        re.sub(r"^Sponsored Ad - ", "", heading.attrib.get("aria-label", "")),
                        text_of(card.css("span.a-text-normal")[:1]),
                    ),
                    "price": price["price"],
                    "currency": price["currency"],
                    "extra": {
                        k: v
                        for k, v in {
                            "sponsored": bool(card.css(".puis-sponsored-label-text, .s-sponsored-label-text")),
                            "rating": clean(card.css("span.a-icon-alt::text").get()) or None,
                        }.items()
                        if v
                    },
                }
            )
        return cards

    def next_page(self, response):
        return response.css("a.s-pagination-next::attr(href), #pagnNextLink::attr(href)").get()

    def parse_listing(self, response):
        asin = first(
            response.css("input#ASIN::attr(value), input[name='ASIN']::attr(value)").get(),
            *(
                m.group(1)
                for m in map(ASIN.search, (response.css('link[rel="canonical"]::attr(href)').get(""), response.url))
                if m
            ),
        )
        shown = first(
            next((text for sel in PRICE for text in map(clean, response.css(sel).getall()) if text), ""),
            *(split_price(response.css(box)[:1]) for box in WHOLE),
        )
        price = parse_price(shown, self.home_currency(response))
        seller_link = response.css("#sellerProfileTriggerId")[:1]  # some pages repeat it in a second offer block
        merchant = text_of(response.css("#merchant-info")[:1])
        bullets = [clean(text_of(li)) for li in response.css("#feature-bullets li")]
        availability = text_of(response.css("#availability")[:1]) or None
        return {
            "listing_id": asin,
            "url": response.urljoin(f"/dp/{asin}") if asin else response.url,
            "title": first(
                clean(response.css("#productTitle::text").get()),
                clean(response.css("#btAsinTitle::text").get()),
                text_of(response.css("#title")[:1]),
            ),
            "description": "\n".join(
                [b for b in bullets if b] + [text_of(response.css("#productDescription"))]
            ).strip(),
            "price": price["price"],
            "currency": price["currency"],
            "seller": first(
                text_of(seller_link),
                text_of(response.css("#merchantInfoFeature_feature_div .offer-display-feature-text-message")[:1]),
                text_of(response.css('#tabular-buybox .tabular-buybox-text[tabular-attribute-name="Sold by"]')[:1]),
                text_of(response.css("#merchant-info a")[:1]),
                clean(SOLD_BY.search(merchant).group(1)) if SOLD_BY.search(merchant) else merchant,
            )
            or None,
            "extra": {
                k: v
                for k, v in {
                    "seller_id": query_param(seller_link.attrib.get("href"), "seller"),
                    "brand": clean(response.css("#bylineInfo::text").get()) or None,
                    "availability": availability,
                    "unavailable": bool(availability and "currently unavailable" in availability.lower()),
                    "rating": response.css("#acrPopover::attr(title)").get(),
                    "reviews": clean(response.css("#acrCustomerReviewText::text").get()) or None,
                    "price_max": price.get("price_max"),
                }.items()
                if v
            },
        }
