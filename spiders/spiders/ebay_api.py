"""eBay's Browse API, the route eBay allows: search by the watchlist's terms, screen titles, fetch item details.

`keywatch crawl ebay_api [-a q=TERMS] [-a category_ids=ID[,ID]] [-a filter=FILTER] [-a limit=N]`: without `q`, one
search per search term of the watchlist (and per category given; the API takes one category per call). Calls go
to the setting `EBAY_API_URL` (default https://api.ebay.com) with `X-EBAY-C-MARKETPLACE-ID: EBAY_GB`: search at
`/buy/browse/v1/item_summary/search` (paging by the response's `next` link), the candidates' details at
`/buy/browse/v1/item/{item_id}`, re-checks of flagged listings at `/item/get_item_by_legacy_id` (a listing with
variations, which eBay calls an item group, at `/item/get_items_by_item_group`). Keys and token:
spiders/ebay_auth.py. At most `EBAY_API_DAILY_CALLS` Browse calls in any 24 hours, counting earlier runs.

Each item's JSON answer is the capture (raw bytes, SHA-256, chained) and fills the same ListingItem as a web page;
the search answer the item was found in is kept with it as an attachment. Listings are stored as marketplace
`ebay_uk` under eBay's legacy (numeric) item id, the number in `/itm/<id>`, so a listing seen by this spider and by
the `ebay_uk` spider is one listing. Identity follows the one rule (spiders/reading.py): the id is read from the URL
fetched, `/item/v1|<legacy id>|<variation>`, an id eBay's own search answer gave; the answer's `legacyItemId` and
`itemWebUrl` are claims checked against it.
"""

import json
import re
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from urllib.parse import quote, urlencode, urlsplit

import scrapy
from itemadapter import ItemAdapter
from parsel import Selector
from scrapy.exceptions import CloseSpider
from scrapy.utils.defer import maybe_deferred_to_future

from db.hosts import host_of
from spiders.base import MarketplaceSpider, capture_of
from spiders.ebay_auth import AccessToken, CredentialsError, keys_configured, read_credentials
from spiders.fields import sanitise
from spiders.parsing import clean, first, image_urls, mapping, text_of
from spiders.prices import decimal_string
from spiders.reading import join

# The legacy item id in a web URL (/itm/<id>) or in a Browse item URL (/item/v1|<id>|<variation>, pipes escaped).
ITEM_ID = re.compile(r"(?:/itm/(?:[^/?#]+/)?|/item/v1(?:\||%7C))(\d{9,})", re.IGNORECASE)
BROWSE = "/buy/browse/v1"
MARKETPLACE_ID = "EBAY_GB"
# eBay's answer to the legacy id of a listing with variations: "The legacy Id is invalid. Use
# .../get_items_by_item_group?item_group_id=... to get the item group details."
ITEM_GROUP_ERROR = 11006


async def sleep(seconds: float) -> None:
    # The reactor is imported here: importing it with the spider module would install one before Scrapy does.
    from twisted.internet import reactor
    from twisted.internet.task import deferLater

    await maybe_deferred_to_future(deferLater(reactor, seconds, lambda: None))


def retry_after(response) -> float:
    """Seconds to wait, from a Retry-After of seconds or an HTTP date (60 when eBay gives none)."""
    value = (response.headers.get(b"Retry-After") or b"60").decode("latin-1").strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        try:
            return max(0.0, (parsedate_to_datetime(value) - datetime.now(UTC)).total_seconds())
        except (TypeError, ValueError):
            return 60.0


def errors_of(response) -> list[dict]:
    """eBay's error container in a response (`{"errors": [{"errorId", "message"}]}`), [] if it has none."""
    try:
        errors = mapping(json.loads(response.text)).get("errors")
    except ValueError:
        return []
    return [e for e in errors if isinstance(e, dict)] if isinstance(errors, list) else []


def api_errors(response) -> str:
    """eBay's error messages in a response, for the log."""
    return "; ".join(f"{e.get('errorId')} {e.get('message')}" for e in errors_of(response))[:500]


def items_of(text: str) -> list[dict]:
    """The Items an answer holds: an Item, or each variation of an item group (`get_items_by_item_group`'s
    `items`, their description moved to the answer's `commonDescriptions`)."""
    data = mapping(json.loads(text))
    if not isinstance(data.get("items"), list):
        return [data]
    shared = {
        item_id: mapping(common).get("description")
        for common in data.get("commonDescriptions") or []
        for item_id in (mapping(common).get("itemIds") or [])
        if isinstance(item_id, str)
    }
    items = [mapping(i) for i in data["items"]]
    return [{"description": shared.get(str(i.get("itemId"))), **i, "variations": len(items)} for i in items]


def on_sale(item: dict) -> bool:
    """An Item not past its end date nor out of stock."""
    ended = clean(item.get("itemEndDate"))
    offers = item.get("estimatedAvailabilities")
    availability = [mapping(a).get("estimatedAvailabilityStatus") for a in offers] if isinstance(offers, list) else []
    return not ((ended and ended < datetime.now(UTC).isoformat()) or "OUT_OF_STOCK" in availability)


class EbayApiSpider(MarketplaceSpider):
    name = "ebay_api"
    marketplace = "ebay_uk"
    replaces = "ebay_uk"  # `crawl --all` runs this spider instead of ebay_uk when API keys are configured
    allowed_domains = ["api.ebay.com", "ebay.co.uk"]  # the API's host is EBAY_API_URL's (from_crawler)
    photo_hosts = ["ebayimg.com"]  # listing photos: i.ebayimg.com
    api_url = "https://api.ebay.com"
    item_id = ITEM_ID
    # A 429 is answered here, waiting as long as Retry-After says (the retry middleware caps its waits); server
    # errors and timeouts are still retried by the middleware.
    custom_settings = {"RETRY_HTTP_CODES": [500, 502, 503, 504, 522, 524, 408]}

    def __init__(self, q=None, category_ids=None, filter=None, limit=None, **kwargs):
        super().__init__(**kwargs)
        self.q = q
        self.category_ids = [c.strip() for c in (category_ids or "").split(",") if c.strip()] or [None]
        self.filter = filter
        self.limit = min(max(int(limit or 50), 1), 200)  # the Browse API's page size: 1 to 200
        self.found_in: dict[str, dict] = {}  # listing id -> the search answer it was found in, kept with the item
        self.calls = 0

    @classmethod
    def is_configured(cls, settings) -> bool:
        return keys_configured()

    @classmethod
    def from_crawler(cls, crawler, *args, **kwargs):
        spider = super().from_crawler(crawler, *args, **kwargs)
        spider.api_url = crawler.settings.get("EBAY_API_URL", "https://api.ebay.com").rstrip("/")
        spider.allowed_domains = [urlsplit(spider.api_url).hostname or "", "ebay.co.uk"]
        return spider

    def marketplace_hosts(self):
        # The API host is ebay_uk's for this spider's runs: eBay's own answers, fetched from eBay's API host.
        return {self.marketplace: [host_of(self.api_url), "ebay.co.uk"]}

    def queries(self):
        return [self.q] if self.q else super().queries()

    # ---- calls ------------------------------------------------------------------------------------

    async def start(self):
        try:
            credentials = read_credentials()
            if credentials is None:
                self.logger.error("ebay_api needs EBAY_CLIENT_ID and EBAY_CLIENT_SECRET (or EBAY_CREDENTIALS_FILE)")
                raise CloseSpider("no_api_keys")
            self.token = AccessToken(self.crawler, self.api_url, credentials)
            await self.token.get()
        except CredentialsError as error:
            self.logger.error("ebay_api: %s", error)
            raise CloseSpider("api_keys_refused") from None
        self.start_budget()
        targets = self.recheck_targets()
        self.seen_listing_ids.update(str(t["listing_id"]) for t in targets)
        for query in self.queries():
            for category in self.category_ids:
                request = self.call(self.search_url(query, category), self.parse_search, page=1)
                if request:
                    yield request
        for target in targets:
            url = f"{self.api_url}{BROWSE}/item/get_item_by_legacy_id?legacy_item_id={quote(str(target['listing_id']))}"
            request = self.call(url, self.parse_recheck, listing_id=target["listing_id"], marketplace=self.marketplace)
            if request:
                yield request

    def search_url(self, query: str, category: str | None) -> str:
        params = {"q": query, "limit": self.limit, "offset": 0}
        params.update({k: v for k, v in (("category_ids", category), ("filter", self.filter)) if v})
        return f"{self.api_url}{BROWSE}/item_summary/search?{urlencode(params)}"

    def start_budget(self) -> None:
        """The Browse calls this run may make: the daily budget less the calls of the last 24 hours' runs."""
        import db  # read-only: the calls earlier runs recorded

        self.budget = self.settings.getint("EBAY_API_DAILY_CALLS", 5000)
        since = (datetime.now(UTC) - timedelta(days=1)).isoformat(timespec="microseconds").replace("+00:00", "Z")
        store = db.connect(self.settings.get("KEYWATCH_DB"))
        try:
            self.calls_before = db.stat_total_since(store, self.name, "keywatch/ebay_api/calls", since)
        finally:
            store.close()
        self.crawler.stats.set_value("keywatch/ebay_api/budget", self.budget)
        self.crawler.stats.set_value("keywatch/ebay_api/calls_before", self.calls_before)
        self.logger.info("eBay API budget: %d calls a day, %d used in the last 24 h", self.budget, self.calls_before)

    def call(self, url: str, callback, meta=None, **cb_kwargs) -> scrapy.Request | None:
        """A Browse API call with the current token, or None when the day's budget is spent (counted)."""
        stats = self.crawler.stats
        if self.calls_before + self.calls >= self.budget:
            if not stats.get_value("keywatch/ebay_api/budget_exhausted"):
                self.logger.warning("eBay API daily budget of %d calls reached: no more calls this run", self.budget)
            stats.inc_value("keywatch/ebay_api/budget_exhausted")
            return None
        self.calls += 1
        stats.inc_value("keywatch/ebay_api/calls")
        stats.set_value("keywatch/ebay_api/budget_left", self.budget - self.calls_before - self.calls)
        return scrapy.Request(
            url,
            callback=callback,
            errback=self.on_error,
            cb_kwargs=cb_kwargs,
            dont_filter=True,
            headers={
                "Authorization": f"Bearer {self.token.value}",
                "X-EBAY-C-MARKETPLACE-ID": MARKETPLACE_ID,
                "Accept": "application/json",
            },
            # An API is called under eBay's API licence, not crawled: robots.txt governs its web pages.
            meta={"dont_obey_robotstxt": True, "dont_cache": True, "handle_httpstatus_all": True, **(meta or {})},
        )

    async def answer(self, response, allowed=(200,)):
        """The decoded JSON of an answer; or the call again (a new token after 401, a wait after 429); or None for
        an error (logged with eBay's message and counted)."""
        stats, request = self.crawler.stats, response.request
        if response.status == 401 and not response.meta.get("token_renewed"):
            stats.inc_value("keywatch/ebay_api/token_renewed")
            stale = (request.headers.get("Authorization") or b"").decode("latin-1").removeprefix("Bearer ")
            await self.token.get(stale=stale)
            return self.again(request, token_renewed=True)
        if response.status == 429:
            wait = retry_after(response)
            limit = self.settings.getfloat("EBAY_API_MAX_WAIT", 900)
            stats.inc_value("keywatch/ebay_api/rate_limited")
            if wait > limit or response.meta.get("rate_waits", 0) >= 3:
                self.logger.error("eBay API: rate limit, retry after %.0f s (more than %.0f s): stopping", wait, limit)
                raise CloseSpider("rate_limited")
            self.logger.warning("eBay API: rate limit, waiting %.0f s as Retry-After says", wait)
            await sleep(wait)
            return self.again(request, rate_waits=response.meta.get("rate_waits", 0) + 1)
        if response.status not in allowed:
            stats.inc_value(f"keywatch/ebay_api/errors/{response.status}")
            self.logger.error("eBay API %s answered %d: %s", request.url, response.status, api_errors(response))
            return None
        return response

    def again(self, request, **meta):
        """The same call once more, with the current token (it counts against the budget like any call)."""
        kept = {
            k: request.meta[k] for k in ("purpose", "screen_score", "token_renewed", "rate_waits") if k in request.meta
        }
        return self.call(request.url, request.callback, {**kept, **meta}, **request.cb_kwargs)

    def blocked(self, response):
        # eBay's API answers in JSON, never with a robot check; text in a listing's JSON is not a challenge page.
        return False

    # ---- answers ----------------------------------------------------------------------------------

    async def parse_search(self, response, page: int = 1):
        answer = await self.answer(response)
        if not isinstance(answer, scrapy.http.Response):
            if answer is not None:
                yield answer
            return
        data = mapping(json.loads(response.text))
        cards = self.parse_cards(response)
        self.crawler.stats.inc_value("keywatch/search_pages")
        if not cards:
            self.crawler.stats.inc_value("keywatch/search_pages_empty")
        await self.token.get()  # renewed before the item calls go out, if it is about to lapse
        search = {"kind": "search", **capture_of(response)}
        for card in cards:
            card["listing_id"] = self.listing_id_of(card.get("url") or "")
            if not card["listing_id"] or self.marketplace_of(card["url"]) is None:
                self.crawler.stats.inc_value("keywatch/cards_rejected")
                continue
            self.found_in.setdefault(card["listing_id"], search)
            for request in self.screen_card(card):
                yield request
        next_url = join(response.url, clean(data.get("next"))) if data.get("next") else ""
        if next_url and self.marketplace_of(next_url) and page < self.max_pages:
            request = self.call(next_url, self.parse_search, page=page + 1)
            if request:
                yield request

    def parse_cards(self, response):
        """The cards of a search answer (`itemSummaries[]`), each to be fetched at its Browse item URL."""
        return [
            sanitise(self.card_of(s))[0]
            for s in mapping(json.loads(response.text)).get("itemSummaries") or []
            if isinstance(s, dict)
        ]

    def card_of(self, summary: dict) -> dict:
        price, seller = mapping(summary.get("price")), mapping(summary.get("seller"))
        item_id = clean(summary.get("itemId"))
        url = f"{self.api_url}{BROWSE}/item/{quote(item_id, safe='')}" if item_id else ""
        return {
            "listing_id": self.listing_id_of(url),
            "url": url,
            "title": clean(summary.get("title")),
            "price": decimal_string(first(price.get("convertedFromValue"), price.get("value"))),
            "currency": first(price.get("convertedFromCurrency"), price.get("currency")),
            "seller": clean(seller.get("username")) or None,
            "condition": clean(summary.get("condition")) or None,
        }

    def item_request(self, card, meta):
        return self.call(card["url"], self.parse_item, meta, card=card)

    async def parse_item(self, response, card=None):
        answer = await self.answer(response)
        if not isinstance(answer, scrapy.http.Response):
            if answer is not None:
                yield answer
            return
        for item in super().parse_item(response, card):
            search = self.found_in.get(ItemAdapter(item)["listing_id"])
            if search:
                ItemAdapter(item)["attachments"].append(search)
            yield item

    async def parse_recheck(self, response, listing_id, marketplace=None):
        if response.status == 400 and "get_items_by_item_group" not in response.url:
            if any(e.get("errorId") == ITEM_GROUP_ERROR for e in errors_of(response)):
                # A listing with variations: eBay answers for the group of them, by the same id.
                url = f"{self.api_url}{BROWSE}/item/get_items_by_item_group?item_group_id={quote(str(listing_id))}"
                request = self.call(url, self.parse_recheck, listing_id=listing_id, marketplace=marketplace)
                if request:
                    yield request
                return
        answer = await self.answer(response, allowed=(200, 404))
        if not isinstance(answer, scrapy.http.Response):
            if answer is not None:
                yield answer
            return
        for item in super().parse_recheck(response, listing_id, marketplace):
            yield item

    def listing_status(self, response):
        if response.status in (404, 410):
            return "removed"
        # A listing with variations is live while one of them is (an empty group has ended).
        return "live" if any(map(on_sale, items_of(response.text))) else "ended"

    def parse_listing(self, response):
        items = items_of(response.text)
        data = items[0] if items else {}  # a group's fields are its first variation's
        price, seller = mapping(data.get("price")), mapping(data.get("seller"))
        converted = price.get("convertedFromValue") is not None  # eBay converted the seller's listed price
        description = data.get("description")
        return {
            "listing_id": data.get("legacyItemId"),
            "url": data.get("itemWebUrl"),
            "title": clean(data.get("title")),
            "description": first(
                text_of(Selector(text=description)) if isinstance(description, str) and description else None,
                clean(data.get("shortDescription")),
            ),
            "price": decimal_string(price.get("convertedFromValue") if converted else price.get("value")),
            "currency": price.get("convertedFromCurrency") if converted else price.get("currency"),
            "seller": clean(seller.get("username")) or None,
            "condition": clean(data.get("condition")) or None,
            "extra": {
                k: v
                for k, v in {
                    "converted_price": {"price": decimal_string(price.get("value")), "currency": price.get("currency")}
                    if converted
                    else None,
                    "item_id": data.get("itemId"),
                    "item_specifics": {
                        clean(a.get("name")): clean(a.get("value"))
                        for a in map(mapping, data.get("localizedAspects") or [])
                        if clean(a.get("name"))
                    },
                    "images": image_urls(
                        [mapping(data.get("image")).get("imageUrl")]
                        + [mapping(i).get("imageUrl") for i in data.get("additionalImages") or []]
                    ),
                    "seller_feedback": seller.get("feedbackScore"),
                    "seller_feedback_percentage": seller.get("feedbackPercentage"),
                    "seller_account_type": seller.get("sellerAccountType"),
                    "category_path": data.get("categoryPath"),
                    "item_location": data.get("itemLocation"),
                    "item_end_date": data.get("itemEndDate"),
                    "buying_options": data.get("buyingOptions"),
                    "variations": data.get("variations"),
                    "source": "eBay Browse API",
                }.items()
                if v
            },
        }

    def closed(self, reason):
        if hasattr(self, "budget"):
            self.logger.info(
                "eBay API: %d calls this run, %d in the last 24 h of a budget of %d",
                self.calls,
                self.calls_before + self.calls,
                self.budget,
            )
