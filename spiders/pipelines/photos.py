"""PhotosPipeline (300): downloads each listing's photos through Scrapy's downloader and keeps the good ones.

The photos are the image URLs the spider found (`extra.images`: JSON-LD `image`, gallery markup), on the
marketplace's own hosts or the image hosts its spider names (`photo_hosts`, e.g. eBay's i.ebayimg.com); at most
KEYWATCH_PHOTOS per listing page (0: none), each at most KEYWATCH_PHOTO_MAX_BYTES. They are fetched with
engine.download_async, so robots.txt, per-domain concurrency and delay, retries and the contact User-Agent apply
as to every request. Each photo is checked (spiders/photos.py) and kept as an attachment of the page capture
with its perceptual hashes; a bad photo is counted (`keywatch/photos/rejected/<why>`) and the crawl goes on.
A re-check of a live listing keeps its photos as they are now, like its page (bodies are stored once, so unchanged
photos cost a capture row each, not their bytes).
"""

import asyncio
import logging

import scrapy
from itemadapter import ItemAdapter
from scrapy.exceptions import IgnoreRequest, NotConfigured
from twisted.internet.defer import CancelledError

try:  # what Scrapy raises for a download over download_maxsize: its own exception since 2.14's successors
    from scrapy.exceptions import DownloadCancelledError

    TOO_LARGE: tuple[type[BaseException], ...] = (DownloadCancelledError, CancelledError)
except ImportError:
    TOO_LARGE = (CancelledError,)

from db.media import PHOTO
from spiders.base import capture_of
from spiders.photos import BadPhoto, inspect_photo
from spiders.reading import join

logger = logging.getLogger(__name__)


class PhotosPipeline:
    def __init__(self, crawler, limit: int, max_bytes: int):
        self.crawler = crawler
        self.limit = limit
        self.max_bytes = max_bytes

    @classmethod
    def from_crawler(cls, crawler):
        limit = crawler.settings.getint("KEYWATCH_PHOTOS")
        if limit <= 0:
            raise NotConfigured("KEYWATCH_PHOTOS is 0")
        return cls(crawler, limit, crawler.settings.getint("KEYWATCH_PHOTO_MAX_BYTES"))

    async def process_item(self, item):
        adapter = ItemAdapter(item)
        if not 200 <= int(adapter.get("status") or 0) < 300:
            return item  # a removed listing's error page shows no photos
        found = await asyncio.gather(*(self.fetch(url) for url in self.photo_urls(adapter)))
        adapter["attachments"].extend(photo for photo in found if photo)
        return item

    def photo_urls(self, adapter) -> list[str]:
        spider = self.crawler.spider
        base = adapter.get("response_url") or adapter["url"]
        urls: list[str] = []
        for value in (adapter.get("extra") or {}).get("images") or []:
            url = join(base, value) if isinstance(value, str) else ""
            if not url or url in urls:
                continue
            if not spider.is_photo_url(url):
                self.rejected(url, "off_host", "not on a host of the marketplace or of its photos")
                continue
            urls.append(url)
        if len(urls) > self.limit:
            self.crawler.stats.inc_value("keywatch/photos/over_limit", len(urls) - self.limit)
        return urls[: self.limit]

    async def fetch(self, url: str) -> dict | None:
        request = scrapy.Request(
            url,
            dont_filter=True,
            # The host was checked above (is_photo_url): an image CDN is often not among allowed_domains.
            meta={"download_maxsize": self.max_bytes, "allow_offsite": True, "max_retry_times": 1},
        )
        try:
            response = await self.crawler.engine.download_async(request)
        except IgnoreRequest as error:
            return self.rejected(url, "refused", str(error))
        except TOO_LARGE as error:  # Scrapy cancels a download larger than download_maxsize
            return self.rejected(url, "too_large", str(error) or f"larger than {self.max_bytes} bytes")
        except Exception as error:  # noqa: BLE001 - a photo that cannot be fetched is counted, not fatal
            return self.rejected(url, "download_failed", f"{type(error).__name__}: {error}")
        if response.status != 200:
            return self.rejected(url, "http_status", f"HTTP {response.status}")
        if not self.crawler.spider.is_photo_url(response.url):
            return self.rejected(url, "off_host", f"redirected to {response.url}")
        content_type = response.headers.get("Content-Type", b"").decode("latin-1")
        try:
            photo = inspect_photo(response.body, content_type)
        except BadPhoto as bad:
            return self.rejected(url, bad.reason, str(bad))
        self.crawler.stats.inc_value("keywatch/photos/stored")
        self.crawler.stats.inc_value("keywatch/photos/bytes", len(response.body))
        return {"kind": PHOTO, **capture_of(response), "fields": photo.fields()}

    def rejected(self, url: str, reason: str, message: str) -> None:
        self.crawler.stats.inc_value("keywatch/photos/rejected")
        self.crawler.stats.inc_value(f"keywatch/photos/rejected/{reason}")
        logger.warning("photo not kept: %s (%s)", url[:2048], message)
        return None
