"""The one item every spider yields: a listing as parsed, plus the raw capture it was parsed from."""

from collections.abc import MutableMapping
from dataclasses import dataclass, field
from typing import Any

from itemadapter import ItemAdapter
from scrapy.exceptions import DropItem

# What a listing says, as an item holds it (besides its identity).
LISTING_FIELDS = ("title", "description", "price", "currency", "seller", "condition", "extra")
# Fields about the item's way through the crawl, never stored as part of its capture.
NEVER_STORED = ("unread", "capture_id")


class SkippedPage(DropItem):
    """Raised by a pipeline for an item whose page turned out to be no listing page (a robot check, found where the
    page was read): counted as skipped by the spider, never as not stored. Scrapy's own log line is left at DEBUG:
    the spider has logged the page as a warning."""

    def __init__(self, message: str):
        super().__init__(message, log_level="DEBUG")


@dataclass
class ListingItem:
    # What the listing says (parsed by the site's spider).
    marketplace: str
    listing_id: str
    url: str
    title: str = ""
    description: str = ""
    price: str | None = None  # a decimal string such as "249.87": money is never a float
    currency: str | None = None  # ISO 4217
    seller: str | None = None
    condition: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    # The capture: exactly what was fetched, when and from where.
    request_url: str = ""
    response_url: str = ""
    status: int = 0
    headers: dict[str, list[str]] = field(default_factory=dict)
    body: bytes = b""
    fetched_at: str = ""  # UTC, ISO 8601 with microseconds
    clock_source: str = ""

    # Why it was fetched: candidate (passed screening), sample (random screening check),
    # recheck (is a flagged listing still up?), all (every item fetched, no screening).
    purpose: str = "all"
    screen_score: float | None = None
    listing_status: str | None = None  # live | ended | removed, set on rechecks
    attachments: list[dict[str, Any]] = field(default_factory=list)  # e.g. eBay's description iframe

    # Set by ClassifyPipeline.
    classification: dict[str, Any] | None = None

    # An item page not read yet: the classifier's process reads it (MarketplaceSpider.complete_pages), and until
    # then the listing fields above are what the fetch alone says. What the reading needs besides the capture:
    # the search card, the marketplace, the redirects and the response's class. Never stored.
    unread: dict[str, Any] | None = None

    # The id of the item's capture once the classifier's process has committed it (it stores the items it classifies
    # when no pipeline comes between classifying and storing: spiders/pipelines/classify.py). Never stored.
    capture_id: int | None = None


def fields_of(item) -> MutableMapping:
    """An item's fields to read and set: a ListingItem's own attribute dict (what its attributes are), any other
    item through an ItemAdapter. The pipelines look at every item a crawl stores, and an adapter cost them about
    4 microseconds to make and a few more to read through."""
    return vars(item) if type(item) is ListingItem else ItemAdapter(item)
