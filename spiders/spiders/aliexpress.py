"""AliExpress: search and item pages, read from the JSON the page embeds for its scripts.

Built from public descriptions of the page data (no real capture was available): untested against live markup.
"""

import re

from w3lib.url import add_or_replace_parameter

from spiders.base import MarketplaceSpider
from spiders.parsing import (
    clean,
    dig,
    embedded_json,
    find_product,
    first,
    image_urls,
    json_ld,
    mapping,
    offer_fields,
    text_of,
)
from spiders.prices import decimal_string, parse_price

ITEM_ID = re.compile(r"/item/(\d{6,})\.html")
OG_SUFFIX = re.compile(r"\s*-\s*AliExpress(?:\s+\d+)?\s*$")  # og:title ends "- AliExpress 202192403"
SITE_NAME = re.compile(r"^ali\s*express$", re.IGNORECASE)  # the logo is an h1 too, before the product's
SHOWN_PRICE = '.product-price-current, [class*="price--current"], .product-price-value, [data-pl="product-price"]'
STORE_NAME = '[data-pl="store-name"], [class*="storeName"], [class*="store-name"], .shop-name'


def page_title(response, product: dict) -> str:
    """The product's title on a page whose scripts' data is gone: its heading, else the JSON-LD name, another h1,
    og:title or <title> (AliExpress's suffix dropped), never the site's own name."""
    suffixed = (response.css('meta[property="og:title"]::attr(content)').get(), response.css("title::text").get())
    candidates = (
        *(text_of(h) for h in response.css('[data-pl="product-title"]')),
        clean(product.get("name")),
        *(text_of(h) for h in response.css("h1")),
        *(OG_SUFFIX.sub("", clean(t)) for t in suffixed),
    )
    return first(*(t for t in candidates if not SITE_NAME.match(t or "")))


def product_lists(data, depth=0):
    """Lists of product tiles anywhere in the search data, for layouts that move `itemList`."""
    if depth > 8:
        return
    if isinstance(data, list):
        if any(isinstance(x, dict) and x.get("productId") for x in data):
            yield data
        for x in data:
            yield from product_lists(x, depth + 1)
    elif isinstance(data, dict):
        for x in data.values():
            yield from product_lists(x, depth + 1)


def amount(node) -> dict:
    """AliExpress money: {"value": 12.5, "currency": "GBP", "formatedAmount": "£12.50"}."""
    if not isinstance(node, dict):
        return {"price": None, "currency": None}
    shown = parse_price(first(node.get("formatedAmount"), node.get("formattedAmount")) or "")
    return {
        "price": first(decimal_string(node.get("value")), shown["price"]),
        "currency": first(node.get("currency"), node.get("currencyCode"), shown["currency"]),
    }


class AliexpressSpider(MarketplaceSpider):
    name = "aliexpress"
    marketplace = "aliexpress"
    allowed_domains = ["aliexpress.com", "alicdn.com"]  # descriptions (and photos) are served from the CDN
    search_url = "https://www.aliexpress.com/wholesale?SearchText={query}&page={page}"
    item_id = ITEM_ID

    def search_fields(self, response) -> dict:
        data = embedded_json(response.text, "_init_data_") or embedded_json(response.text, "__INIT_DATA__") or {}
        return mapping(
            first(
                dig(data, "data", "data", "root", "fields"),
                dig(data, "data", "root", "fields"),
                dig(data, "root", "fields"),
            )
        )

    def parse_cards(self, response):
        cards = []
        fields = self.search_fields(response)
        products = dig(fields, "mods", "itemList", "content") or next(product_lists(fields), [])
        if not products:
            return self.rendered_cards(response)
        for product in products:
            if not isinstance(product, dict) or not product.get("productId"):
                continue  # banners and other tiles share the list
            sale = mapping(dig(product, "prices", "salePrice"))
            shown = parse_price(sale.get("formattedPrice"))
            cards.append(
                {
                    "listing_id": str(product["productId"]),
                    "url": response.urljoin(f"/item/{product['productId']}.html"),
                    "title": clean(first(dig(product, "title", "displayTitle"), dig(product, "title", "seoTitle"))),
                    "price": first(decimal_string(sale.get("minPrice")), shown["price"]),
                    "currency": first(sale.get("currencyCode"), shown["currency"]),
                    "seller": clean(dig(product, "store", "storeName")) or None,
                    "extra": {
                        k: v
                        for k, v in {
                            "store_id": dig(product, "store", "storeId"),
                            "sponsored": product.get("productType") == "ad",
                        }.items()
                        if v
                    },
                }
            )
        return cards

    def rendered_cards(self, response):
        """Cards of a page saved after rendering (no JSON left): product links `/item/<id>.html` in card tiles."""
        cards = {}
        for link in response.css(
            ".search-item-card a, .search-card-item, a.search-card-item, #card-list a, "
            '[class*="card-out-wrapper"] a, a[href*="/item/"]'
        ):
            match = ITEM_ID.search(link.attrib.get("href", ""))
            title = first(
                text_of(link.css('h3, [class*="titleText"], .organic-list-offer-title')[:1]), link.attrib.get("title")
            )
            if not match or not title or match.group(1) in cards:
                continue
            price = parse_price(
                text_of(link.css('[class*="price-sale"], [class*="price--current"], .organic-list-offer-price')[:1])
            )
            cards[match.group(1)] = {
                "listing_id": match.group(1),
                "url": response.urljoin(f"/item/{match.group(1)}.html"),
                "title": clean(title),
                "price": price["price"],
                "currency": price["currency"],
            }
        return list(cards.values())

    def next_page(self, response):
        info = mapping(self.search_fields(response).get("pageInfo"))
        page, size, total = (int(float(decimal_string(info.get(k)) or 0)) for k in ("page", "pageSize", "totalResults"))
        return add_or_replace_parameter(response.url, "page", str(page + 1)) if page and page * size < total else None

    def parse_listing(self, response):
        data = mapping(dig(embedded_json(response.text, "window.runParams"), "data"))
        # Client-rendered pages leave runParams empty and keep only images in _d_c_.DCData.
        dc_data = mapping(embedded_json(response.text, "window._d_c_.DCData"))
        info = mapping(first(data.get("productInfoComponent"), data.get("titleModule")))
        prices = mapping(first(data.get("priceComponent"), data.get("priceModule")))
        paths = (
            ("discountPrice", "minActivityAmount"),
            ("origPrice", "minAmount"),
            ("minActivityAmount",),
            ("minAmount",),
        )
        product = find_product({"json-ld": json_ld(response)}) or {}
        offer = offer_fields(product)
        price = (
            next((a for a in (amount(dig(prices, *path)) for path in paths) if a["price"]), None)
            or (offer if offer.get("price") else None)
            or parse_price(
                first(
                    prices.get("formatedActivityPrice"),
                    prices.get("formatedPrice"),
                    text_of(response.css(SHOWN_PRICE)[:1]),
                )
            )
        )
        store = mapping(first(data.get("sellerComponent"), data.get("storeModule")))
        props = [
            p
            for p in dig(first(data.get("productPropComponent"), data.get("specsModule")), "props") or []
            if isinstance(p, dict)
        ]
        match = ITEM_ID.search(response.css('link[rel="canonical"]::attr(href)').get("")) or ITEM_ID.search(
            response.url
        )
        listing_id = first(
            info.get("idStr"), info.get("id"), dig(data, "pageModule", "productId"), match.group(1) if match else None
        )
        return {
            "listing_id": str(listing_id) if listing_id else None,
            "url": response.urljoin(f"/item/{listing_id}.html") if listing_id else response.url,
            "title": first(clean(info.get("subject")), page_title(response, product)),
            "price": price.get("price"),
            "currency": price.get("currency"),
            "seller": first(clean(store.get("storeName")), offer.get("seller"), text_of(response.css(STORE_NAME)[:1])),
            "extra": {
                k: v
                for k, v in {
                    "store_id": store.get("storeNum"),
                    "price_max": first(
                        amount(prices.get("maxActivityAmount"))["price"],
                        parse_price(prices.get("formatedActivityPrice")).get("price_max"),
                    ),
                    "item_specifics": {
                        clean(p.get("attrName")): clean(p.get("attrValue")) for p in props if p.get("attrName")
                    },
                    "images": image_urls(
                        first(
                            dig(first(data.get("imageComponent"), data.get("imageModule")) or {}, "imagePathList"),
                            dig(dc_data, "imagePathList"),
                            product.get("image"),
                        )
                    ),
                    "description_url": dig(
                        first(data.get("productDescComponent"), data.get("descriptionModule")) or {}, "descriptionUrl"
                    ),
                }.items()
                if v
            },
        }

    def parse_rendered(self, response):
        # Client-rendered item pages fill the price and the store in with scripts: read them as shown.
        return {
            **parse_price(text_of(response.css(SHOWN_PRICE)[:1])),
            "seller": text_of(response.css(STORE_NAME)[:1]),
        }
