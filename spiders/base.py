"""The shared machinery every marketplace spider sits on: search -> screen -> fetch -> item, plus re-checks.

A site spider is a short config class: `name`, `marketplace`, `allowed_domains`, `search_url`, and three
parsing hooks (`parse_cards`, `next_page`, `parse_listing`). Everything else (screening with the classifier,
sampling, capture fields, counting, errors, re-checks) lives here once.
"""

import random
from collections.abc import Iterable
from typing import Any
from urllib.parse import quote_plus

import scrapy
from itemadapter import ItemAdapter
from scrapy.http import Response, TextResponse

from classifier import classify, shared_watchlist
from spiders.items import ListingItem
from spiders.parsing import BlockedPage, blocked_reason
from spiders.middlewares import CLOCK_SOURCE, utc_now_iso

ENDED_MARKERS = (
    "this listing has ended",
    "this listing was ended",
    "no longer available",
    "this item is out of stock and no longer",
    "this ad has expired",
    "this ad is no longer available",
)


def capture_of(response: Response) -> dict[str, Any]:
    """What was fetched, as the store keeps it: URLs, status, headers, raw body, arrival time."""
    redirects = response.meta.get("redirect_urls") or []
    return {
        "request_url": redirects[0] if redirects else response.url,
        "url": response.url,
        "status": response.status,
        "headers": {k.decode("latin-1"): [v.decode("latin-1") for v in vs] for k, vs in response.headers.items()},
        "body": response.body,
        "fetched_at": response.meta.get("fetched_at") or utc_now_iso(),
    }


def visible_text(response: Response) -> str:
    """The text a visitor sees: scripts and styles carry message strings that are not on screen."""
    if not isinstance(response, TextResponse):
        return ""
    nodes = response.xpath("//body//text()[not(ancestor::script or ancestor::style)]").getall()
    return " ".join(" ".join(nodes).split())


class MarketplaceSpider(scrapy.Spider):
    marketplace: str = ""
    # `{query}` and `{page}` are filled in; queries come from the watchlist's search_terms unless -a queries=...
    search_url: str = ""

    def __init__(self, queries=None, max_pages=None, mode="two-stage", sample_rate=None, seed=None, **kwargs):
        super().__init__(**kwargs)
        self.queries_arg = queries
        self.max_pages_arg = max_pages
        self.mode = mode  # "two-stage" (screen titles first) or "all" (fetch every item found)
        self.sample_rate_arg = sample_rate
        self.random = random.Random(seed)
        self.seen_listing_ids: set[str] = set()

    # ---- site hooks -------------------------------------------------------------------------------

    def parse_cards(self, response: Response) -> list[dict[str, Any]]:
        """Search-result cards: dicts with at least listing_id, url, title (price, currency, seller if shown)."""
        raise NotImplementedError

    def next_page(self, response: Response) -> str | None:
        """URL of the next search-results page, or None."""
        return None

    def parse_listing(self, response: Response) -> dict[str, Any]:
        """Fields of an item page: listing_id, title, description, price, currency, seller, condition, extra."""
        raise NotImplementedError

    def listing_status(self, response: Response) -> str:
        """live | ended | removed, for a re-check of a known listing. Sites override for their own wording."""
        if response.status in (404, 410):
            return "removed"
        redirects = response.meta.get("redirect_urls") or []
        if redirects and not self.is_item_url(response.url):
            return "removed"  # sent to a search or home page: the listing is gone
        if any(marker in visible_text(response).lower() for marker in ENDED_MARKERS):
            return "ended"
        return "live"

    def is_item_url(self, url: str) -> bool:
        return True

    def description_url(self, fields: dict[str, Any]) -> str | None:
        """Where the description lives when it is not on the item page (eBay's iframe document)."""
        return (fields.get("extra") or {}).get("description_url")

    # ---- configuration ----------------------------------------------------------------------------

    @property
    def watchlist(self):
        if not hasattr(self, "_watchlist"):
            self._watchlist = shared_watchlist(self.settings.get("KEYWATCH_WATCHLIST"))
        return self._watchlist

    @property
    def max_pages(self) -> int:
        return int(self.max_pages_arg or self.settings.getint("KEYWATCH_MAX_PAGES"))

    @property
    def sample_rate(self) -> float:
        return float(self.sample_rate_arg if self.sample_rate_arg is not None else self.settings.getfloat("KEYWATCH_SAMPLE_RATE"))

    def queries(self) -> list[str]:
        if self.queries_arg is not None:
            return [q.strip() for q in self.queries_arg.split(",")]
        terms = []
        for category in self.watchlist.categories.values():
            terms.extend(category.search_terms)
        return list(dict.fromkeys(terms))

    def search_request(self, query: str, page: int = 1) -> scrapy.Request:
        url = self.search_url.format(query=quote_plus(query), page=page)
        return scrapy.Request(url, callback=self.parse_search, cb_kwargs={"page": page},
                              errback=self.on_error)

    # ---- crawl flow -------------------------------------------------------------------------------

    async def start(self):
        targets = self.recheck_targets()
        # A listing being re-checked is fetched once, by the re-check, even if a search shows it again.
        self.seen_listing_ids.update(str(t["listing_id"]) for t in targets)
        for query in self.queries():
            yield self.search_request(query)
        for target in targets:
            yield scrapy.Request(
                target["url"],
                callback=self.parse_recheck,
                errback=self.on_error,
                dont_filter=True,
                cb_kwargs={"listing_id": target["listing_id"]},
                meta={"handle_httpstatus_list": [404, 410]},
            )

    def recheck_targets(self) -> list[dict[str, str]]:
        """Flagged, not dismissed listings of this marketplace, to see whether they are still up."""
        if not self.settings.getbool("KEYWATCH_RECHECK", True):
            return []
        import db  # read-only use of the store: which listings to revisit

        store = db.connect(self.settings.get("KEYWATCH_DB"))
        try:
            return list(db.recheck_targets(store, self.marketplace))
        finally:
            store.close()

    def parse_search(self, response: Response, page: int = 1):
        if self.blocked(response):
            return
        try:
            cards = self.parse_cards(response)
        except Exception as error:  # a site changed its markup: count it, keep crawling
            yield from self.parse_failed(response, error)
            return
        self.crawler.stats.inc_value("keywatch/search_pages")
        if not cards:
            self.crawler.stats.inc_value("keywatch/search_pages_empty")
        for card in cards:
            yield from self.screen_card(card)
        next_url = self.next_page(response)
        if next_url and page < self.max_pages:
            yield response.follow(next_url, callback=self.parse_search, cb_kwargs={"page": page + 1},
                                  errback=self.on_error)

    def screen_card(self, card: dict[str, Any]) -> Iterable[scrapy.Request]:
        listing_id = str(card["listing_id"])
        if listing_id in self.seen_listing_ids:
            return
        self.seen_listing_ids.add(listing_id)
        stats = self.crawler.stats
        stats.inc_value("keywatch/cards_screened")
        score = None if self.mode == "all" else self.screen_score(card.get("title") or "")
        if score is None:
            purpose = "all"  # every item is fetched: no screening needed
        elif score >= self.settings.getfloat("KEYWATCH_SCREEN_THRESHOLD"):
            purpose = "candidate"
        elif self.random.random() < self.sample_rate:
            purpose = "sample"  # recorded as such, so the screening miss rate can be measured
        else:
            return
        stats.inc_value(f"keywatch/cards_fetched/{purpose}")
        stats.inc_value("keywatch/cards_fetched")
        yield scrapy.Request(
            card["url"],
            callback=self.parse_item,
            errback=self.on_error,
            cb_kwargs={"card": card},
            meta={"purpose": purpose, "screen_score": score},
        )

    def screen_score(self, title: str) -> float:
        # Any match counts for screening, even one a context would cancel: the full page decides.
        result = classify(title, "", self.watchlist)
        return max([result.score] + [m.score for m in result.matches])

    def parse_item(self, response: Response, card: dict[str, Any] | None = None):
        if self.blocked(response):
            return
        try:
            fields = self.parse_listing(response)
            if not fields.get("title"):
                raise ValueError("no title found on item page")
        except Exception as error:
            yield from self.parse_failed(response, error)
            return
        self.crawler.stats.inc_value("keywatch/items")
        card = card or {}
        merged = {**card, **{k: v for k, v in fields.items() if v not in (None, "")}}
        merged["extra"] = {**(card.get("extra") or {}), **(fields.get("extra") or {})}  # e.g. eBay's sold date
        item = self.build_item(response, merged)
        url = self.description_url(merged)
        if not url:
            yield item
            return
        # The item is held back until its description arrives, so it is classified on the full text.
        yield scrapy.Request(response.urljoin(url), callback=self.parse_description, errback=self.description_failed,
                             cb_kwargs={"item": item}, dont_filter=True)

    def parse_description(self, response: Response, item: ListingItem):
        adapter = ItemAdapter(item)
        adapter["attachments"].append({"kind": "description", **capture_of(response)})
        adapter["description"] = visible_text(response)
        yield item

    def description_failed(self, failure):
        # The item page itself was captured: keep it, and say why the description is missing.
        self.crawler.stats.inc_value("keywatch/description_errors")
        item = failure.request.cb_kwargs["item"]
        ItemAdapter(item)["extra"]["description_error"] = failure.getErrorMessage()
        yield item

    def parse_recheck(self, response: Response, listing_id: str):
        if self.blocked(response):  # a captcha says nothing about whether the listing is still up
            return
        status = self.listing_status(response)
        self.crawler.stats.inc_value(f"keywatch/rechecks/{status}")
        fields: dict[str, Any] = {"listing_id": listing_id}
        if status != "removed":  # an ended listing's page still shows what was on sale
            try:
                fields.update({k: v for k, v in self.parse_listing(response).items() if v not in (None, "")})
            except Exception as error:
                self.logger.warning("re-check of %s: page did not parse (%s)", response.url, error)
        fields["listing_id"] = listing_id  # identity stays that of the listing being re-checked
        if status == "removed":  # a redirect's target is a search page, not the listing's address
            fields["url"] = (response.meta.get("redirect_urls") or [response.url])[0]
        item = self.build_item(response, fields, purpose="recheck")
        ItemAdapter(item)["listing_status"] = status
        yield item

    def build_item(self, response: Response, fields: dict[str, Any], purpose: str | None = None) -> ListingItem:
        known = {k: fields[k] for k in ("title", "description", "price", "currency", "seller", "condition", "extra")
                 if k in fields}
        capture = capture_of(response)
        return ListingItem(
            marketplace=self.marketplace,
            listing_id=str(fields["listing_id"]),
            url=fields.get("url") or response.url,
            **known,
            request_url=capture["request_url"],
            response_url=capture["url"],
            status=capture["status"],
            headers=capture["headers"],
            body=capture["body"],
            fetched_at=capture["fetched_at"],
            clock_source=CLOCK_SOURCE,
            purpose=purpose or response.meta.get("purpose", "all"),
            screen_score=response.meta.get("screen_score"),
        )

    def blocked(self, response: Response) -> bool:
        """A robot check or captcha instead of the page: counted as such, never read as "no listings here".

        keywatch does not try to get past these; many of them mean asking the site for permission.
        """
        reason = blocked_reason(response)
        if reason:
            self.crawler.stats.inc_value("keywatch/blocked_pages")
            self.logger.warning("blocked page %s: %s", response.url, BlockedPage(f"robot check ({reason})"))
        return bool(reason)

    def parse_failed(self, response: Response, error: Exception):
        self.crawler.stats.inc_value("keywatch/parse_errors")
        self.logger.error("could not parse %s (%s: %s)", response.url, type(error).__name__, error)
        return ()

    def on_error(self, failure):
        self.crawler.stats.inc_value("keywatch/request_errors")
        self.logger.error("request failed: %s", failure.getErrorMessage())
