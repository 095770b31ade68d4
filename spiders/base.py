"""The shared machinery every marketplace spider sits on: search -> screen -> fetch -> item, plus re-checks.

A site spider is a short config class: `name`, `marketplace`, `allowed_domains`, `search_url`, `item_id` (where
its URLs carry a listing's id), and three parsing hooks (`parse_cards`, `next_page`, `parse_listing`). Everything
else (screening with the classifier, sampling, identity, hostile fields, capture fields, counting, errors,
re-checks) lives here once.

How an item page becomes the fields that are stored (identity from what was fetched, hostile fields) is
spiders/reading.py, which this class builds on.
"""

import functools
import random
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import quote_plus

import scrapy
from itemadapter import ItemAdapter
from scrapy.http import Response, TextResponse

from classifier import classify, shared_watchlist
from spiders.counting import Counts
from spiders.fields import DESCRIPTION_LIMIT, sanitise, text
from spiders.items import LISTING_FIELDS, ListingItem
from spiders.middlewares import CLOCK_SOURCE, utc_now_iso
from spiders.overhead import forget_tree
from spiders.reading import ListingReader, join, redirects_of
from spiders.robot_check import BlockedPage, blocked_reason

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
    redirects = redirects_of(response)
    return {
        "request_url": redirects[0] if redirects else response.url,
        "url": response.url,
        "status": response.status,
        # Scrapy's Headers keep each name's values as a list of bytes; read through dict's own items(), not Headers'
        # (a getlist per name), on every page.
        "headers": {k.decode("latin-1"): [v.decode("latin-1") for v in vs] for k, vs in dict.items(response.headers)},
        "body": response.body,
        "fetched_at": response.meta.get("fetched_at") or utc_now_iso(),
    }


def visible_text(response: Response) -> str:
    """The text a visitor sees: scripts and styles carry message strings that are not on screen."""
    if not isinstance(response, TextResponse):
        return ""
    nodes = response.xpath("//body//text()[not(ancestor::script or ancestor::style)]").getall()
    return " ".join(" ".join(nodes).split())


class MarketplaceSpider(ListingReader, scrapy.Spider):
    marketplace: str = ""
    # A site whose item pages hold all of a listing (no description document to fetch before it is classified): the
    # classifier's process can read its pages, and the crawl's own then only fetches them (`reads_elsewhere`). Its
    # reading must depend only on the spider's arguments: that process reads with a copy built from them alone.
    complete_pages: bool = False
    # Set by the classify pipeline while its process reads this crawl's item pages (spiders/pipelines/classify.py).
    reads_elsewhere: bool = False
    # Set by the same pipeline while that process also stores them: takes an unread item and says whether it took it.
    # One it took goes no further through Scrapy (no spider middlewares, pipelines or signals per item: 0.3M of the
    # crawl process's 5.7M instructions per page, 2026-12-03); one it did not is yielded as usual.
    hand_over: Callable[[ListingItem], bool] | None = None
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

    @classmethod
    def from_crawler(cls, crawler, *args, **kwargs):
        spider = super().from_crawler(crawler, *args, **kwargs)
        spider.arguments = kwargs  # the classifier's process builds its own copy from them, to read item pages
        return spider

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

    def description_url(self, fields: dict[str, Any]) -> str | None:
        """Where the description lives when it is not on the item page (eBay's iframe document)."""
        return (fields.get("extra") or {}).get("description_url")

    # ---- configuration ----------------------------------------------------------------------------

    @functools.cached_property
    def tally(self) -> Counts:
        """`self.tally(key)` adds one to a stat of the crawl (spiders/counting.py: cheaper than inc_value)."""
        return Counts(self.crawler.stats)

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
        return float(
            self.sample_rate_arg if self.sample_rate_arg is not None else self.settings.getfloat("KEYWATCH_SAMPLE_RATE")
        )

    def queries(self) -> list[str]:
        if self.queries_arg is not None:
            return [q.strip() for q in self.queries_arg.split(",")]
        terms = []
        for category in self.watchlist.categories.values():
            terms.extend(category.search_terms)
        return list(dict.fromkeys(terms))

    def search_request(self, query: str, page: int = 1) -> scrapy.Request:
        url = self.search_url.format(query=quote_plus(query), page=page)
        return scrapy.Request(url, callback=self.parse_search, cb_kwargs={"page": page}, errback=self.on_error)

    # ---- crawl flow -------------------------------------------------------------------------------

    async def start(self):
        targets = self.recheck_targets()
        # A listing being re-checked is fetched once, by the re-check, even if a search shows it again.
        self.seen_listing_ids.update(str(t["listing_id"]) for t in targets)
        self.seen_listing_ids.update(self.stored_before_interruption())
        for query in self.queries():
            yield self.search_request(query)
        for target in targets:
            yield scrapy.Request(
                target["url"],
                callback=self.parse_recheck,
                errback=self.on_error,
                dont_filter=True,
                cb_kwargs={"listing_id": target["listing_id"], "marketplace": target["marketplace"]},
                meta={"handle_httpstatus_list": [404, 410]},
            )

    def recheck_targets(self) -> list[dict[str, str]]:
        """Flagged, not dismissed listings of this spider's marketplaces, to see whether they are still up."""
        if not self.settings.getbool("KEYWATCH_RECHECK", True):
            return []
        import db  # read-only use of the store: which listings to revisit

        try:
            with db.read_only(self.settings.get("KEYWATCH_DB")) as store:
                return [
                    {**target, "marketplace": marketplace}
                    for marketplace in self.marketplace_hosts()
                    for target in db.recheck_targets(store, marketplace)
                ]
        except db.StoreNotFound:
            return []  # no store yet: nothing flagged to re-check

    def stored_before_interruption(self) -> set[str]:
        """When continuing an interrupted crawl: the listings its interrupted run(s) stored, not fetched again.
        What that run fetched but had not committed when it died is fetched again."""
        if not self.settings.getbool("KEYWATCH_RESUMING"):
            return set()
        import db  # read-only use of the store

        try:
            with db.read_only(self.settings.get("KEYWATCH_DB")) as store:
                return {
                    str(listing_id)
                    for marketplace in self.marketplace_hosts()
                    for listing_id in db.captured_since_interruption(store, marketplace)
                }
        except db.StoreNotFound:
            return set()

    def parse_search(self, response: Response, page: int = 1):
        if self.blocked(response):
            return
        if self.marketplace_of(response.url) is None:  # a next-page link or redirect off the marketplace
            self.tally("keywatch/pages_off_site")
            return
        try:
            cards = self.parse_cards(response)
        except Exception as error:  # a site changed its markup: count it, keep crawling
            yield from self.parse_failed(response.url, error)
            return
        self.tally("keywatch/search_pages")
        if not cards:
            self.tally("keywatch/search_pages_empty")
        for card in cards:
            card, _ = sanitise(card)
            url = card.get("url") or ""
            card["listing_id"] = self.listing_id_of(url) or card.get("listing_id")  # as the item page will be known
            if self.marketplace_of(url) is None or not card["listing_id"]:
                self.tally("keywatch/cards_rejected")  # a link off the marketplace, or no id
                continue
            yield from self.screen_card(card)
        next_href = self.next_page(response)
        next_url = join(response.url, next_href) if next_href else ""
        forget_tree(response)
        if next_url and self.marketplace_of(next_url) and page < self.max_pages:
            yield scrapy.Request(
                next_url, callback=self.parse_search, cb_kwargs={"page": page + 1}, errback=self.on_error
            )

    def screen_card(self, card: dict[str, Any]) -> Iterable[scrapy.Request]:
        listing_id = str(card["listing_id"])
        if listing_id in self.seen_listing_ids:
            return
        self.seen_listing_ids.add(listing_id)
        self.tally("keywatch/cards_screened")
        score = None if self.mode == "all" else self.screen_score(card.get("title") or "")
        if score is None:
            purpose = "all"  # every item is fetched: no screening needed
        elif score >= self.settings.getfloat("KEYWATCH_SCREEN_THRESHOLD"):
            purpose = "candidate"
        elif self.random.random() < self.sample_rate:
            purpose = "sample"  # recorded as such, so the screening miss rate can be measured
        else:
            return
        request = self.item_request(card, {"purpose": purpose, "screen_score": score})
        if request is not None:
            self.tally(f"keywatch/cards_fetched/{purpose}")
            self.tally("keywatch/cards_fetched")
            yield request

    def item_request(self, card: dict[str, Any], meta: dict[str, Any]) -> scrapy.Request | None:
        """The request for a card's item page (an API spider asks its API instead; None when it may not call)."""
        return scrapy.Request(
            card["url"], callback=self.parse_item, errback=self.on_error, cb_kwargs={"card": card}, meta=meta
        )

    def screen_score(self, title: str) -> float:
        # Any match counts for screening, even one a context would cancel: the full page decides.
        result = classify(title, "", self.watchlist)
        return max([result.score] + [m.score for m in result.matches])

    def parse_item(self, response: Response, card: dict[str, Any] | None = None):
        """One item page: stored as a capture whatever its fields hold (unless it is a robot check or not on the
        marketplace at all, both counted)."""
        self.tally("keywatch/item_pages")
        marketplace = self.marketplace_of(response.url)
        if marketplace is not None and self.reads_elsewhere:
            # Screened for a robot check where it is read (`read_fetched`, counted by `skip_blocked`): the screen
            # was the largest step of this process's own per page.
            item = self.unread_item(response, marketplace, card)
            if self.hand_over is None or not self.hand_over(item):
                yield item
            return
        if self.blocked(response):
            self.tally("keywatch/item_pages_skipped/robot_check")
            return
        if marketplace is None:
            self.tally("keywatch/item_pages_skipped/off_site")
            self.logger.warning("not stored: %s is not on a host of %s", response.url, self.name)
            return
        fields = self.read_listing(response, marketplace, card)
        forget_tree(response)
        self.count_read(response.url, fields)
        item = self.build_item(response, fields)
        url = self.description_url(fields)
        if not url:
            yield item
            return
        # The item is held back until its description arrives, so it is classified on the full text.
        url = join(response.url, url)
        if self.marketplace_of(url) is None:
            fields["extra"]["description_error"] = f"description document off the marketplace: {url[:2048]}"
            yield item
            return
        yield scrapy.Request(
            url,
            callback=self.parse_description,
            errback=self.description_failed,
            cb_kwargs={"item": item},
            dont_filter=True,
        )

    def unread_item(self, response: Response, marketplace: str, card: dict[str, Any] | None) -> ListingItem:
        """The capture as an item whose page the classifier's process is to read (`read_fetched`); until then its
        identity is what the fetched URL says."""
        fields = {"marketplace": marketplace, "listing_id": self.listing_id_of(response.url) or response.url}
        item = self.build_item(response, {**fields, "url": response.url})
        item.unread = {
            "card": card,
            "marketplace": marketplace,
            "redirects": redirects_of(response),
            "response_class": type(response),
        }
        return item

    def count_read(self, url: str, fields: dict[str, Any]) -> None:
        """Counts for an item page read, here or in the classifier's process: one that did not parse is stored all
        the same, logged and counted."""
        self.count_reading(url, fields)
        if fields["extra"].get("parse_error"):
            self.parse_failed(url, fields["extra"]["parse_error"])
        else:
            self.tally("keywatch/items")

    def parse_description(self, response: Response, item: ListingItem):
        adapter = ItemAdapter(item)
        if self.marketplace_of(response.url) != adapter["marketplace"]:  # redirected off the marketplace
            adapter["extra"]["description_error"] = f"description document off the marketplace: {response.url}"
            yield item
            return
        adapter["attachments"].append({"kind": "description", **capture_of(response)})
        adapter["description"], problem = text(visible_text(response), DESCRIPTION_LIMIT, multiline=True)
        if problem:
            adapter["extra"].setdefault("field_problems", {})["description"] = problem
            self.tally("keywatch/field_problems/description")
        yield item

    def description_failed(self, failure):
        # The item page itself was captured: keep it, and say why the description is missing.
        self.tally("keywatch/description_errors")
        item = failure.request.cb_kwargs["item"]
        ItemAdapter(item)["extra"]["description_error"] = failure.getErrorMessage()
        yield item

    def parse_recheck(self, response: Response, listing_id: str, marketplace: str | None = None):
        if self.blocked(response):  # a captcha says nothing about whether the listing is still up
            return
        marketplace = marketplace or self.marketplace
        if self.marketplace_of(response.url) != marketplace:  # sent off the marketplace: nothing of the listing's
            self.tally("keywatch/rechecks/off_site")
            self.logger.warning(
                "re-check of %s:%s went off the marketplace to %s", marketplace, listing_id, response.url
            )
            return
        status = self.listing_status(response)
        shown = self.listing_id_of(response.url)
        if status != "removed" and self.item_id is not None and shown not in (None, str(listing_id)):
            status = "removed"  # the address now shows another listing
        self.tally(f"keywatch/rechecks/{status}")
        if status == "removed":  # a redirect's target is a search page, not the listing's address
            fields = {
                "marketplace": marketplace,
                "listing_id": str(listing_id),
                "extra": {},
                "url": (redirects_of(response) or [response.url])[0],
            }
        else:  # an ended listing's page still shows what was on sale; identity stays the re-checked listing's
            fields = self.read_listing(response, marketplace, listing_id=listing_id)
            self.count_reading(response.url, fields)
            if fields["extra"].get("parse_error"):
                self.logger.warning(
                    "re-check of %s: page did not parse (%s)", response.url, fields["extra"]["parse_error"]
                )
        forget_tree(response)
        item = self.build_item(response, fields, purpose="recheck")
        ItemAdapter(item)["listing_status"] = status
        yield item

    def build_item(self, response: Response, fields: dict[str, Any], purpose: str | None = None) -> ListingItem:
        known = {k: fields[k] for k in LISTING_FIELDS if fields.get(k) is not None}
        capture = capture_of(response)
        return ListingItem(
            marketplace=fields["marketplace"],
            listing_id=fields["listing_id"],
            url=fields["url"],
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
            self.count_blocked(response.url, BlockedPage(f"robot check ({reason})"))
        return bool(reason)

    def count_blocked(self, url: str, page: BlockedPage) -> None:
        self.tally("keywatch/blocked_pages")
        self.logger.warning("blocked page %s: %s", url, page)

    def skip_blocked(self, url: str, page: BlockedPage) -> None:
        """Count an item page found to be a robot check where it was read (the classifier's process), as
        `parse_item` counts one it screens itself."""
        self.count_blocked(url, page)
        self.tally("keywatch/item_pages_skipped/robot_check")

    def parse_failed(self, url: str, error: Exception | str):
        self.tally("keywatch/parse_errors")
        reason = error if isinstance(error, str) else f"{type(error).__name__}: {error}"
        self.logger.error("could not parse %s (%s)", url, reason)
        return ()

    def on_error(self, failure):
        self.tally("keywatch/request_errors")
        self.logger.error("request failed: %s", failure.getErrorMessage())
