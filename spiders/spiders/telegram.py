"""Public Telegram channels, read through their web preview (https://t.me/s/CHANNEL, no login): posts as listings.

`keywatch crawl telegram -a channels=NAME[,NAME]` (marketplaces.yaml lists them). A channel's preview page is its
"search page": each post on it (`.tgme_widget_message[data-post="NAME/123"]`) is a card, screened on its text;
older posts are the page's `?before=<id>` link, followed up to max_pages. A post is fetched at its own preview
address, https://t.me/s/NAME/123, and is known by that address ("name/123"): a page cannot make its posts another
channel's. Fields: the text (its first line as the title), the post's time, photo URLs, the contact handles, links
and phone numbers it gives, a price when the text names one, and the channel as the seller.

Built from the preview's documented markup as public readers of it use it (no saved preview page was found):
untested against live markup.
"""

import re
from urllib.parse import urlsplit

from scrapy.exceptions import CloseSpider

from spiders.base import MarketplaceSpider
from spiders.parsing import clean, first, text_of
from spiders.prices import parse_price

# A post's preview address: /s/<channel>/<post number>; channel names are 5-32 letters, digits and underscores.
POST = re.compile(r"^/s/([A-Za-z][A-Za-z0-9_]{3,31})/(\d+)/?$")
CHANNEL = re.compile(r"^/s/([A-Za-z][A-Za-z0-9_]{3,31})/?$")
PHOTO = re.compile(r"background-image:\s*url\(['\"]?([^'\")]+)")
HANDLE = re.compile(r"(?<![\w@/])@([A-Za-z][A-Za-z0-9_]{3,31})\b")
PHONE = re.compile(r"(?<!\w)\+\d[\d\s().-]{7,16}\d")
# An amount with a currency sign or code beside it: "Price 350$", "€ 1.200", "450 EUR", "£99".
AMOUNT = re.compile(
    r"(?:[£€$]|\b(?:USD|EUR|GBP|USDT)\b)\s?\d[\d.,\s]{0,12}\d?|\d[\d.,]{0,12}\s?(?:[£€$]|\b(?:USD|EUR|GBP|usd|eur)\b)"
)


def post_key(data_post: str | None) -> str | None:
    """ "Name/123" as the listing id "name/123" (channel names are case-insensitive)."""
    match = re.fullmatch(r"([A-Za-z][A-Za-z0-9_]{3,31})/(\d+)", data_post or "")
    return f"{match.group(1).lower()}/{match.group(2)}" if match else None


class TelegramSpider(MarketplaceSpider):
    name = "telegram"
    marketplace = "telegram"
    allowed_domains = ["t.me"]
    photo_hosts = ["telesco.pe"]  # post photos: cdn4.telesco.pe
    search_url = "https://t.me/s/{query}"  # one "search" per channel; {page} is not used: older posts are ?before=
    item_id = POST

    def __init__(self, channels=None, **kwargs):
        super().__init__(**kwargs)
        self.channels = [c.strip().lstrip("@") for c in (channels or "").split(",") if c.strip()]

    def queries(self):
        return self.channels

    async def start(self):
        if not self.channels:
            self.logger.error("telegram needs -a channels=NAME[,NAME] (public channels, as in marketplaces.yaml)")
            raise CloseSpider("no_channels")
        async for request in super().start():
            yield request

    def listing_id_of(self, url):
        match = POST.match(urlsplit(url or "").path)
        return f"{match.group(1).lower()}/{match.group(2)}" if match else None

    def channel_of(self, url) -> str | None:
        match = CHANNEL.match(urlsplit(url or "").path) or POST.match(urlsplit(url or "").path)
        return match.group(1).lower() if match else None

    def posts(self, response):
        """(listing id, post node) of the posts of the channel the page was fetched for: a page may show a
        forwarded or quoted post of another channel, which is not this channel's listing."""
        channel = self.channel_of(response.url)
        for node in response.css(".tgme_widget_message[data-post]"):
            key = post_key(node.attrib.get("data-post"))
            if key and (channel is None or key.split("/")[0] == channel):
                yield key, node

    def parse_cards(self, response):
        cards = []
        for key, node in self.posts(response):
            fields = self.post_fields(node, response)
            cards.append(
                {
                    "listing_id": key,
                    "url": f"https://t.me/s/{key}",
                    "title": fields["title"],
                    "description": fields["description"],
                    "price": fields["price"],
                    "currency": fields["currency"],
                }
            )
        return cards

    def next_page(self, response):
        # Older posts: the preview's "load more" link, /s/<channel>?before=<oldest post shown>.
        return first(
            response.css("a.tme_messages_more[data-before]::attr(href)").get(),
            response.css('link[rel="prev"]::attr(href)').get(),
        )

    def parse_listing(self, response):
        wanted = self.listing_id_of(response.url)
        node = next((n for key, n in self.posts(response) if key == wanted), None)
        if node is None:
            return {}  # the post is gone from the preview, or the page is not one: stored, counted as a parse error
        fields = self.post_fields(node, response)
        return {
            **fields,
            "seller": first(
                text_of(node.css(".tgme_widget_message_owner_name")[:1]),
                text_of(response.css(".tgme_channel_info_header_title")[:1]),
                wanted.split("/")[0],
            ),
        }

    def post_fields(self, node, response) -> dict:
        text_node = node.css(".tgme_widget_message_text")[:1]
        lines = [clean(line) for line in text_node.xpath(".//text()").getall()]
        text = "\n".join(line for line in lines if line)
        price = parse_price(first(*AMOUNT.findall(text)) or "")
        links = [response.urljoin(h) for h in text_node.css("a::attr(href)").getall()]
        photos = [
            m.group(1) for m in map(PHOTO.search, node.css("[style*=background-image]::attr(style)").getall()) if m
        ]
        return {
            "title": first(*lines)[:300] if text else None,
            "description": text or None,
            "price": price["price"],
            "currency": price["currency"],
            "extra": {
                k: v
                for k, v in {
                    "posted": node.css(".tgme_widget_message_date time::attr(datetime)").get(),
                    "images": list(dict.fromkeys(photos)),  # the key every spider uses: the photos pipeline reads it
                    "contacts": sorted(
                        {f"@{h}" for h in HANDLE.findall(text)}
                        | {h for h in links if urlsplit(h).hostname in ("t.me", "telegram.me", "wa.me")}
                        | {clean(p) for p in PHONE.findall(text)}
                    ),
                    "links": [h for h in links if urlsplit(h).hostname not in ("t.me", "telegram.me")],
                    "views": clean(node.css(".tgme_widget_message_views::text").get()) or None,
                    "forwarded_from": text_of(node.css(".tgme_widget_message_forwarded_from_name")[:1]) or None,
                }.items()
                if v
            },
        }
