"""Amazon UK: search results and product pages (no JSON-LD on Amazon: visible markup only)."""

import re
from urllib.parse import parse_qs, urlsplit

from spiders.base import MarketplaceSpider
from spiders.parsing import clean, first, parse_price, text_of

ASIN = re.compile(r"/(?:dp|gp/product|gp/aw/d)/([A-Z0-9]{10})")
PRICE = ("#corePriceDisplay_desktop_feature_div .a-price .a-offscreen::text",
         "#apex_desktop .a-price .a-offscreen::text",
         "#corePrice_feature_div .a-price .a-offscreen::text",
         "#corePrice_desktop .a-price .a-offscreen::text, #tp_price_block_total_price_ww .a-offscreen::text",
         "#priceblock_ourprice::text, #priceblock_dealprice::text, #price_inside_buybox::text")


class AmazonUkSpider(MarketplaceSpider):
    name = "amazon_uk"
    marketplace = "amazon_uk"
    allowed_domains = ["amazon.co.uk"]
    search_url = "https://www.amazon.co.uk/s?k={query}&page={page}"

    def is_item_url(self, url):
        return bool(ASIN.search(url))

    def parse_cards(self, response):
        cards = []
        for card in response.css('div[data-component-type="s-search-result"]'):
            asin = card.attrib.get("data-asin")
            if not asin:
                continue
            # Sponsored results link through /sspa/click: the ASIN gives the real product URL.
            heading = card.xpath(".//a/h2") or card.css("h2")
            price = parse_price(card.css(".a-price:not(.a-text-price) .a-offscreen::text").get())
            cards.append({
                "listing_id": asin,
                "url": response.urljoin(f"/dp/{asin}"),
                "title": first(text_of(heading[:1]), re.sub(r"^Sponsored Ad - ", "", heading.attrib.get("aria-label", ""))),
                "price": price["price"], "currency": price["currency"],
                "extra": {k: v for k, v in {
                    "sponsored": bool(card.css(".puis-sponsored-label-text")),
                    "rating": clean(card.css("span.a-icon-alt::text").get()) or None,
                }.items() if v},
            })
        return cards

    def next_page(self, response):
        return response.css("a.s-pagination-next::attr(href)").get()

    def parse_listing(self, response):
        asin = first(response.css("input#ASIN::attr(value)").get(),
                     *(m.group(1) for m in map(ASIN.search, (response.css('link[rel="canonical"]::attr(href)').get(""),
                                                              response.url)) if m))
        shown = next((text for sel in PRICE for text in map(clean, response.css(sel).getall()) if text), "")
        price = parse_price(shown)
        seller_link = response.css("#sellerProfileTriggerId")
        bullets = [clean(text_of(li)) for li in response.css("#feature-bullets li")]
        return {
            "listing_id": asin,
            "url": response.urljoin(f"/dp/{asin}") if asin else response.url,
            "title": clean(response.css("#productTitle::text").get()),
            "description": "\n".join([b for b in bullets if b] + [text_of(response.css("#productDescription"))]).strip(),
            "price": price["price"], "currency": price["currency"],
            "seller": first(text_of(seller_link),
                            text_of(response.css("#merchantInfoFeature_feature_div .offer-display-feature-text-message")[:1]),
                            text_of(response.css('#tabular-buybox .tabular-buybox-text[tabular-attribute-name="Sold by"]')[:1]),
                            text_of(response.css("#merchant-info"))) or None,
            "extra": {k: v for k, v in {
                "seller_id": first(*parse_qs(urlsplit(seller_link.attrib.get("href", "")).query).get("seller", [])),
                "brand": clean(response.css("#bylineInfo::text").get()) or None,
                "availability": text_of(response.css("#availability")[:1]) or None,
                "rating": response.css("#acrPopover::attr(title)").get(),
                "reviews": clean(response.css("#acrCustomerReviewText::text").get()) or None,
                "price_max": price.get("price_max"),
            }.items() if v},
        }
