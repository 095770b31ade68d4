"""DHgate (wholesale): search results and product pages.

Search: https://www.dhgate.com/wholesale/search.do?act=search&searchkey=TERMS&pageNum=N; products live at
/product/<slug>/<id>.html, whose number is the listing id. A product page is read from its schema.org Product
(JSON-LD) and OpenGraph first, then its heading, shown price and the store it links to (/store/<id>).

Built from DHgate's documented URL forms and the selectors public DHgate readers use (no saved DHgate page was
found): untested against live markup. Prices are shown in US dollars unless the page names another currency.
"""

import re

from spiders.base import MarketplaceSpider
from spiders.parsing import clean, find_product, first, image_urls, json_ld, name_of, offer_fields, text_of
from spiders.prices import parse_price

ITEM_ID = re.compile(r"/product/[^/?#]+/(\d{6,})\.html")
CARD = "ancestor::*[contains(@class, 'item') or contains(@class, 'gallery') or contains(@class, 'product')][1]"
TITLE = "[class*='title'], h2, h3"
PRICE = "[class*='price']"
STORE = re.compile(r"/store/(?:info/|products/)?(\d+)")


class DhgateSpider(MarketplaceSpider):
    name = "dhgate"
    marketplace = "dhgate"
    allowed_domains = ["dhgate.com"]
    photo_hosts = ["dhresource.com"]  # product photos: www.dhresource.com
    search_url = "https://www.dhgate.com/wholesale/search.do?act=search&searchkey={query}&pageNum={page}"
    item_id = ITEM_ID

    def parse_cards(self, response):
        cards = {}
        for link in response.css("a[href*='/product/']"):
            match = ITEM_ID.search(link.attrib.get("href", ""))
            if not match or match.group(1) in cards:
                continue
            card = link.xpath(CARD)[:1] or link
            title = first(text_of(card.css(TITLE)[:1]), clean(link.attrib.get("title")), text_of(link))
            if not title:
                continue  # an image link; the title link of the same product follows
            price = parse_price(text_of(card.css(PRICE)[:1]), "USD")
            store = card.css("a[href*='/store/']")[:1]
            cards[match.group(1)] = {
                "listing_id": match.group(1),
                "url": response.urljoin(match.group(0)),
                "title": title,
                "price": price["price"],
                "currency": price["currency"],
                "seller": text_of(store) or None,
                "extra": {k: v for k, v in {"price_max": price.get("price_max")}.items() if v},
            }
        return list(cards.values())

    def next_page(self, response):
        return response.css("a.next::attr(href), a[class*='next']::attr(href), link[rel='next']::attr(href)").get()

    def parse_listing(self, response):
        product = find_product({"json-ld": json_ld(response)}) or {}
        offer = offer_fields(product)
        shown = parse_price(text_of(response.css(PRICE)[:1]), "USD")
        store = response.css("a[href*='/store/']")
        store_link = next((a for a in store if text_of(a)), None)
        return {
            "title": first(
                clean(product.get("name")),
                text_of(response.css("h1")[:1]),
                clean(response.css('meta[property="og:title"]::attr(content)').get()),
            ),
            "description": first(
                clean(product.get("description")),
                clean(response.css('meta[name="description"]::attr(content)').get()),
            ),
            "price": first(offer.get("price"), shown["price"]),
            "currency": first(offer.get("currency") if offer.get("price") else None, shown["currency"]),
            "seller": first(offer.get("seller"), text_of(store_link) if store_link is not None else None),
            "extra": {
                k: v
                for k, v in {
                    "price_max": first(offer.get("price_max"), shown.get("price_max")),
                    "store_id": first(*(m.group(1) for m in map(STORE.search, store.xpath("@href").getall()) if m)),
                    "brand": name_of(product.get("brand")),
                    "min_order": text_of(response.css("[class*='min-order'], [class*='minOrder']")[:1]) or None,
                    "sold": text_of(response.css("[class*='sold']")[:1]) or None,
                    "images": image_urls(
                        first(product.get("image"), response.css('meta[property="og:image"]::attr(content)').get())
                    ),
                }.items()
                if v
            },
        }
