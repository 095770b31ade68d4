"""Reading an item page into the fields keywatch stores: identity from what was fetched, hostile fields made safe.

Identity comes from what was fetched, never from what a page says. The marketplace is the one whose hosts the page
was fetched from (after redirects); the listing id is read from the fetched URL where the site puts it there
(`item_id`: eBay /itm/ID, Amazon /dp/ASIN, the demo's /item/ID, ...; for sites whose URLs carry none, such as web
shops, the address itself); the listing URL is the page's own (canonical link, schema.org url) only when that names
the same listing on the same marketplace. What a page claims about its identity and disagrees (another id, another
host, javascript: and data: URLs) is kept with the capture as `extra.claims` and counted
(`keywatch/identity_claims_rejected`). Every field goes through spiders/fields.py: what cannot be read is null,
named in `extra.field_problems` and counted per field (`keywatch/field_problems/<field>`).
"""

import re
from typing import Any
from urllib.parse import urljoin, urlsplit

from lxml import etree
from scrapy.http import Request, Response, TextResponse

from db.hosts import host_matches, host_of
from spiders.fields import TEXT_LIMITS, sanitise, text
from spiders.parsing import CANONICAL, address_id, first, first_match
from spiders.robot_check import BlockedPage, blocked_reason


def redirects_of(response: Response) -> list[str]:
    """The URLs a response was redirected from, first asked for first ([] for a page read outside a crawl)."""
    try:
        return response.meta.get("redirect_urls") or []
    except AttributeError:  # not tied to a request (`keywatch parse`)
        return []


def join(base: str, link: str) -> str:
    """`link` made absolute against `base`; "" for one no URL parser accepts (`http://[x`): pages are hostile."""
    try:
        return urljoin(base, link)
    except ValueError:
        return ""


def canonical_url(response: Response) -> str | None:
    if not isinstance(response, TextResponse):
        return None
    root = response.selector.root
    if not isinstance(root, etree._Element):  # a JSON answer (an API's) has no markup to hold a canonical link
        return None
    return text(first_match(CANONICAL(root)), TEXT_LIMITS["url"])[0]


def response_of(capture: dict[str, Any]) -> Response:
    """The response a capture was made from, as the crawl had it: its class, URL, status, headers (as received),
    body and the redirects that led to it."""
    unread = capture["unread"]
    headers = {k.encode("latin-1"): [v.encode("latin-1") for v in vs] for k, vs in capture["headers"].items()}
    url = capture["response_url"]
    meta = {"redirect_urls": unread["redirects"]} if unread["redirects"] else {}
    return unread["response_class"](
        url=url, status=capture["status"], headers=headers, body=capture["body"], request=Request(url, meta=meta)
    )


# Hosts whose marketplace (or none) a spider keeps (ListingReader.marketplace_of).
HOSTS_KEPT = 1024


class ListingReader:
    """The identity rules and the page reading of MarketplaceSpider (spiders/base.py)."""

    allowed_domains: list[str] = []
    # Where the site's item URLs carry the listing id (group 1, searched in the path); None: the address is the id.
    item_id: re.Pattern | None = None
    # Hosts the site serves its listing photos from besides its own (an image CDN), subdomains included.
    photo_hosts: list[str] = []

    def is_item_url(self, url: str) -> bool:
        return self.item_id is None or self.listing_id_of(url) is not None

    def marketplace_hosts(self) -> dict[str, list[str]]:
        """{marketplace: [host, ...]} this spider fetches (subdomains included): declared to the store per run."""
        return {self.marketplace: list(self.allowed_domains)}

    def marketplace_of(self, url: str) -> str | None:
        """The marketplace whose hosts `url` is on, or None: a page from anywhere else is no listing of ours.

        Asked for every card and every page, of a handful of hosts: each host's answer is kept. `marketplace_hosts`
        is what the run declared to the store as it opened (db.declare_hosts), fixed for the crawl."""
        host = host_of(url)
        known = self.__dict__.setdefault("_marketplace_by_host", {})
        try:
            return known[host]
        except KeyError:
            pass
        found = next(
            (
                marketplace
                for marketplace, hosts in self.marketplace_hosts().items()
                if any(host_matches(host, h) for h in hosts)
            ),
            None,
        )
        if len(known) < HOSTS_KEPT:  # a hostile page's links may name any number of hosts
            known[host] = found
        return found

    def is_photo_url(self, url: str) -> bool:
        """Whether a photo may be fetched from `url`: the marketplace's hosts or its photo hosts, over http(s)."""
        return self.marketplace_of(url) is not None or any(host_matches(host_of(url), h) for h in self.photo_hosts)

    def listing_id_of(self, url: str) -> str | None:
        if self.item_id is None:
            return address_id(url)
        match = self.item_id.search(urlsplit(url or "").path)
        return match.group(1) if match else None

    def identity(self, response: Response, page: dict[str, Any], marketplace: str, listing_id: str | None = None):
        """(listing_id, url, claims): the id from the fetched URL (after redirects, else the URL asked for) unless
        given (a re-check's), the page's canonical URL only if it names that listing on that marketplace; the page's
        own id and URLs that disagree are returned as claims."""
        fetched = [response.url, *reversed(redirects_of(response))]
        listing_id = str(
            listing_id or first(*map(self.listing_id_of, fetched)) or address_id(response.url) or response.url
        )
        claims = {}
        if page.get("listing_id") and str(page["listing_id"]) != listing_id:
            claims["listing_id"] = page["listing_id"]
        url = None
        checked = set()  # a page's url is mostly its canonical link: one check decides both
        for name, claimed in (("url", page.get("url")), ("canonical", canonical_url(response))):
            if not claimed or claimed in checked or claimed in claims.values():
                continue
            checked.add(claimed)
            absolute = join(response.url, claimed)
            if self.marketplace_of(absolute) == marketplace and self.listing_id_of(absolute) == listing_id:
                url = url or absolute
            else:
                claims[name] = claimed[:2048]
        return listing_id, url or response.url, claims

    def read_listing(
        self, response: Response, marketplace: str, card: dict[str, Any] | None = None, listing_id: str | None = None
    ) -> dict[str, Any]:
        """The listing as it is stored: the page's fields over the search card's, sanitised, with its identity from
        what was fetched. Never raises: a hook error is kept as `extra.parse_error`, unreadable fields as
        `extra.field_problems`, disagreeing identity claims as `extra.claims`."""
        try:
            page = self.parse_listing(response)
            error = None
        except Exception as exc:  # a site changed its markup: the page is still stored
            page, error = {}, f"{type(exc).__name__}: {exc}"
        page, problems = sanitise(page if isinstance(page, dict) else {})
        if not error and not page.get("title"):  # the search card may still give one: the page did not parse
            error = "no title found on item page"
        card, _ = sanitise({k: v for k, v in (card or {}).items() if k not in ("listing_id", "url")})
        listing_id, url, claims = self.identity(response, page, marketplace, listing_id)
        fields = {
            "title": None,
            "description": None,
            "price": None,
            "currency": None,
            "seller": None,
            "condition": None,
        }
        fields.update({k: v for k, v in card.items() if v not in (None, "")})
        fields.update({k: v for k, v in page.items() if v not in (None, "") and k not in ("listing_id", "url")})
        extra = {**(card.get("extra") or {}), **(page.get("extra") or {})}  # e.g. eBay's sold date from the card
        for name, value in (("parse_error", error), ("field_problems", problems), ("claims", claims)):
            if value:
                extra[name] = value
        fields.update(marketplace=marketplace, listing_id=listing_id, url=url, extra=extra)
        return fields

    def read_fetched(self, capture: dict[str, Any]) -> dict[str, Any]:
        """`read_listing` of an item page the crawl fetched and did not read (ListingItem.unread), from its capture
        alone: run in the classifier's process, and the same as reading it in the crawl's. The crawl's process
        yielded it unscreened: a robot check raises BlockedPage (the pipeline has the spider count it)."""
        unread = capture["unread"]
        response = response_of(capture)
        reason = blocked_reason(response)
        if reason:
            raise BlockedPage(f"robot check ({reason})")
        return self.read_listing(response, unread["marketplace"], unread["card"])

    def parse_rendered(self, response: Response) -> dict[str, Any]:
        """Fields of the rendered DOM (after the page's scripts ran) for a site whose raw HTML lacks them, such as a
        price filled in by a script. Default: none. Only empty price, currency, seller and condition are filled."""
        return {}

    def rendered_fields(self, response: Response | None) -> dict[str, Any]:
        """`parse_rendered`'s fields, sanitised like the page's; {} when it fails (the page capture stands)."""
        if response is None:
            return {}
        try:
            fields = self.parse_rendered(response)
        except Exception as error:  # noqa: BLE001 - a rendered page is hostile input too
            self.logger.warning("could not read the rendered %s (%s: %s)", response.url, type(error).__name__, error)
            return {}
        return sanitise(fields if isinstance(fields, dict) else {})[0]

    def count_reading(self, url: str, fields: dict[str, Any]) -> None:
        """Stats for what could not be read on a page, and what it claimed about its identity."""
        extra = fields["extra"]
        for name in extra.get("field_problems") or {}:
            self.tally(f"keywatch/field_problems/{name}")
        if extra.get("claims"):
            self.tally("keywatch/identity_claims_rejected")
            for name in extra["claims"]:
                self.tally(f"keywatch/identity_claims_rejected/{name}")
            self.logger.info("%s claims to be %s; kept as claims", url, extra["claims"])
