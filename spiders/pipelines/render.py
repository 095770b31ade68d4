"""RenderPipeline (200): renders the listing pages the classifier flagged (and the random sample) in headless Chromium.

Here because this is where "flagged" is known: the classify pipeline has just scored the page. The rendering
(spiders/rendering.py) is fetched through the engine like any request and its screenshot, rendered DOM and loaded
responses join the item's attachments, so the store pipeline keeps them in the same transaction as the page.
KEYWATCH_RENDER: `flagged` (default), `all` (every listing page), `off`. A page whose scripts fill in what its raw
HTML lacks (AliExpress prices) is read again from the rendered DOM by the spider's `parse_rendered`: those fields
fill in only what the page capture left empty, and `extra.rendered_fields` names them. Rendering never stops the
crawl: a page that cannot be rendered is stored without it, and counted (`keywatch/render/*`).
"""

import logging

from itemadapter import ItemAdapter
from scrapy.exceptions import IgnoreRequest, NotConfigured

from spiders.rendering import render

logger = logging.getLogger(__name__)

# What the rendered DOM may fill in: never the title or description, which the classification already read.
RENDERED_FIELDS = ("price", "currency", "seller", "condition")


class RenderPipeline:
    def __init__(self, crawler, mode: str, unavailable: str | None):
        self.crawler = crawler
        self.mode = mode
        self.unavailable = unavailable

    @classmethod
    def from_crawler(cls, crawler):
        mode = crawler.settings.get("KEYWATCH_RENDER") or "off"
        if mode == "off":
            raise NotConfigured("KEYWATCH_RENDER is off")
        return cls(crawler, mode, crawler.settings.get("KEYWATCH_RENDER_UNAVAILABLE"))

    def open_spider(self):
        if self.unavailable:
            # The crawl is otherwise the same; its summary and log say, once, why nothing was rendered.
            self.crawler.stats.set_value("keywatch/render/unavailable", self.unavailable)
            logger.info("rendering skipped: %s", self.unavailable)

    def wanted(self, adapter) -> bool:
        if not 200 <= int(adapter.get("status") or 0) < 300:
            return False  # a removed listing's error page shows nothing worth a browser
        if self.mode == "all":
            return True
        return bool((adapter.get("classification") or {}).get("flagged")) or adapter.get("purpose") == "sample"

    async def process_item(self, item):
        adapter = ItemAdapter(item)
        if self.unavailable or not self.wanted(adapter):
            return item
        stats, url = self.crawler.stats, adapter.get("response_url") or adapter["url"]
        try:
            rendering = await render(self.crawler, url)
        except IgnoreRequest as error:  # robots.txt, or another downloader middleware's refusal
            stats.inc_value("keywatch/render/refused")
            logger.info("not rendered: %s (%s)", url, error)
            return item
        except Exception as error:  # noqa: BLE001 - the page itself is stored all the same
            stats.inc_value("keywatch/render/errors")
            logger.warning("could not render %s (%s: %s)", url, type(error).__name__, error)
            return item
        spider = self.crawler.spider
        if spider.marketplace_of(rendering.url) != adapter["marketplace"]:  # a script sent the browser elsewhere
            stats.inc_value("keywatch/render/off_site")
            logger.warning("not kept: rendering %s ended off the marketplace, at %s", url, rendering.url)
            return item
        adapter["attachments"].extend(rendering.attachments)
        self.fill_in(adapter, spider.rendered_fields(rendering.dom))
        stats.inc_value("keywatch/render/rendered")
        stats.inc_value("keywatch/render/resources", len(rendering.attachments) - 2)
        stats.inc_value("keywatch/render/bytes", sum(len(a["body"]) for a in rendering.attachments))
        if rendering.dropped:
            stats.inc_value("keywatch/render/resources_dropped", rendering.dropped)
        return item

    def fill_in(self, adapter, rendered: dict) -> None:
        filled = [name for name in RENDERED_FIELDS if rendered.get(name) and not adapter.get(name)]
        for name in filled:
            adapter[name] = rendered[name]
        if filled:
            adapter["extra"]["rendered_fields"] = filled
            self.crawler.stats.inc_value("keywatch/render/fields_filled")
