"""eBay UK: search results (s-item, s-card, browse, store pages), item pages (evo, older "vi"), descriptions."""

import re

from spiders.base import MarketplaceSpider
from spiders.parsing import (
    clean,
    find_product,
    first,
    image_urls,
    json_ld,
    offer_fields,
    query_param,
    text_of,
    without_query,
)
from spiders.prices import parse_price

# Real ids have 12 digits; the "Shop on eBay" placeholder cards link to /itm/123456 and so never match.
ITEM_ID = re.compile(r"/itm/(?:[^/?#]+/)?(\d{9,})")
NOISE = ("clipped", "LIGHT_HIGHLIGHT", "new-listing", "g-hdn")  # "Opens in a new window or tab", "New listing"
FEEDBACK = re.compile(r"\s*(?:[\d.]+% positive.*|\(\d[\d,.K]*\).*)$")
CARDS = "li.s-card, li.s-item, article.str-item-card, li.brwrvr__item-card"
# What an ended item page says in its status banner (evo `d-statusmessage`, older `.vi-status`/`#msgPanel`).
ENDED = (
    "this listing was ended",
    "this listing has ended",
    "this listing sold on",
    "bidding ended on",
    "item sold on",
    "this item is no longer available",
    "looks like this item has been sold",
    "the listing you're looking for has ended",
    "the listing you\u2019re looking for has ended",
)
# An item listed in another currency shows the seller's price first and eBay's conversion after it.
CONVERTED = ".x-price-approx__price, #convbinPrice, #convbidPrice"
TRAILING_SEPARATOR = re.compile(r"\s+[-–|]$")  # a title block can end in " -"
STATUS = '[data-testid="d-statusmessage"], .d-statusmessage, .vi-status, #msgPanel, .msgTextAlign'


def without_separator(title):
    return TRAILING_SEPARATOR.sub("", title) if title else title


class EbayUkSpider(MarketplaceSpider):
    name = "ebay_uk"
    marketplace = "ebay_uk"
    allowed_domains = ["ebay.co.uk", "ebaydesc.com"]
    photo_hosts = ["ebayimg.com"]  # listing photos: i.ebayimg.com
    search_url = "https://www.ebay.co.uk/sch/i.html?_nkw={query}&_pgn={page}"
    item_id = ITEM_ID

    def listing_status(self, response):
        status = super().listing_status(response)
        banner = text_of(response.css(STATUS)).lower()
        return "ended" if status == "live" and any(marker in banner for marker in ENDED) else status

    def parse_cards(self, response):
        store = text_of(response.css("h1")[:1]) if response.css("article.str-item-card") else None
        cards = []
        for card in response.css(CARDS):
            links = card.css(
                "a.s-card__link, a.s-item__link, a.str-item-card__link, a.bsig__title__wrapper, a[href*='/itm/']"
            )
            match = first(*(ITEM_ID.search(href) for href in links.xpath("@href").getall()))
            if not match or card.xpath('ancestor::*[contains(@class, "clipped")]'):
                continue  # hidden placeholder clones
            listing_id = card.attrib.get("data-listingid") or match.group(1)
            badge = card.css(".s-card__program-badge-container--sellerOrStoreInfo span.su-styled-text::text").get()
            row = card.css(".su-card-container__attributes__secondary .s-card__attribute-row > span::text").get()
            subtitle = card.css(
                ".s-card__subtitle span::text, .s-item__subtitle .SECONDARY_INFO::text, .bsig__listingCondition ::text"
            ).get("")
            price = " to ".join(
                text_of(p)
                for p in card.css(
                    ".s-card__price, .s-item__price, .str-item-card__property-displayPrice, .bsig__price--displayprice"
                )
            )
            price = parse_price(price)
            cards.append(
                {
                    "listing_id": listing_id,
                    "url": response.urljoin(f"/itm/{listing_id}"),
                    "title": text_of(
                        card.css(".s-card__title, .s-item__title, .str-item-card__property-title, .bsig__title__text")[
                            :1
                        ],
                        NOISE,
                    )
                    or text_of(links[-1:], NOISE),
                    "price": price["price"],
                    "currency": price["currency"],
                    "seller": FEEDBACK.sub(
                        "", clean(first(badge, row, card.css(".s-item__seller-info-text::text").get(), store))
                    )
                    or None,
                    "condition": clean(subtitle.split("·")[0]) or None,
                    "extra": {
                        k: v
                        for k, v in {
                            "price_max": price.get("price_max"),
                            "caption": text_of(card.css(".s-card__caption")) or None,  # "Sold 21 Jan 2026"
                            "shipping": text_of(card.css(".s-item__shipping, .s-item__logisticsCost")) or None,
                        }.items()
                        if v
                    },
                }
            )
        return cards

    def next_page(self, response):
        href = response.css('a.pagination__next:not([aria-disabled="true"])::attr(href)').get()
        return href if href and not href.startswith(("#", "javascript")) else None

    def parse_listing(self, response):
        product = find_product({"json-ld": json_ld(response)}) or {}
        offer = offer_fields(product)
        shown = parse_price(
            text_of(
                response.css(
                    ".x-price-primary .ux-textspans, [data-testid='x-price-primary'], "
                    ".x-bin-price .ux-textspans, "
                    "#prcIsum, #prcIsum_bidPrice, #mm-saleDscPrc"
                )[:1]
            )
        )
        # The price of record is the seller's, as shown first; the JSON-LD offer may carry eBay's conversion only.
        converted = parse_price(text_of(response.css(CONVERTED)[:1]))
        if not converted["price"] and shown["price"] and shown["currency"] != offer.get("currency"):
            converted = {"price": offer.get("price"), "currency": offer.get("currency")}
        canonical = response.css('link[rel="canonical"]::attr(href)').get("")
        listing_id = first(
            *(m.group(1) for m in map(ITEM_ID.search, (canonical, response.url)) if m),
            response.css(
                ".ux-layout-section__textual-display--itemId .ux-textspans--BOLD::text, #descItemNumber::text"
            ).re_first(r"\d{9,}"),
        )
        seller = response.css(
            ".x-sellercard-atf__info__about-seller a, [data-testid='x-seller-info'] a, .seller-persona a"
        )
        description_url = response.css("iframe#desc_ifr::attr(src)").get()
        specifics = {}
        for row in response.css(
            ".x-about-this-item .ux-layout-section-evo__col, .x-about-this-item .ux-labels-values, "
            "#viTabs_0_is .ux-labels-values"
        ):
            label = text_of(row.css(".ux-labels-values__labels"), NOISE).rstrip(":")
            values = row.css(".ux-labels-values__values")
            if label:
                specifics[label] = first(
                    text_of(values.css(".ux-expandable-textual-display-block-inline.hide"), NOISE + ("ux-action",)),
                    text_of(values, NOISE),
                )
        return {
            "listing_id": listing_id,
            "url": response.urljoin(f"/itm/{listing_id}") if listing_id else response.url,
            "title": without_separator(
                first(
                    text_of(response.css("h1.x-item-title__mainTitle, h1#itemTitle")[:1], NOISE),
                    clean(product.get("name")),
                )
            ),  # the old #itemTitle hides "Details about" in span.g-hdn
            "price": first(shown["price"], offer.get("price")),
            "currency": first(
                shown["currency"] if shown["price"] else None,
                offer.get("currency"),
                response.css('[itemprop="priceCurrency"]::attr(content)').get(),
            ),
            "seller": FEEDBACK.sub(
                "",
                first(
                    clean(seller.css(".ux-textspans--BOLD::text").get()),
                    text_of(seller[:1]),
                    clean(response.css(".x-sellercard-atf__info__about-seller::attr(title)").get()),
                    clean(response.css(".ux-seller-section__item--seller a span::text, .mbg-nw::text").get()),
                )
                or "",
            )
            or None,
            "condition": first(
                clean(
                    response.css(
                        ".x-item-condition-text .ux-textspans::text, .x-item-condition-value .ux-textspans::text"
                    ).get()
                ),
                clean(response.css("#vi-itm-cond::text").get()),
            ),
            "extra": {
                k: v
                for k, v in {
                    "item_specifics": specifics,
                    "images": image_urls(
                        [
                            first(img.attrib.get("data-zoom-src"), img.attrib.get("data-src"), img.attrib.get("src"))
                            for img in response.css(".ux-image-carousel-item img, img#icImg")
                        ]
                    )
                    or image_urls(product.get("image")),
                    "status_message": text_of(response.css(STATUS)[:1]) or None,
                    "seller_id": query_param(description_url, "seller"),
                    "seller_url": without_query(seller.attrib.get("href", "")) or None,
                    "seller_feedback": clean(
                        response.css(".x-sellercard-atf__about-seller-item .ux-textspans--SECONDARY::text").get()
                    ),
                    "price_max": shown.get("price_max") or offer.get("price_max"),
                    "converted_price": converted if converted["price"] and converted["currency"] else None,
                    "description_url": description_url,
                }.items()
                if v
            },
        }
