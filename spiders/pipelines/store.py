"""StorePipeline (200): writes every capture, its classification and the crawl run into the evidence store.

At the start of a run it declares the hosts of the marketplaces the spider writes (db/hosts.py): the store then
refuses a capture fetched anywhere else. Every item that does not reach the store, here or in an earlier pipeline,
is counted (`keywatch/items_not_stored`, `keywatch/rechecks_not_stored`), so a run's numbers add up.
"""

import json
import logging

import scrapy
from itemadapter import ItemAdapter
from scrapy import signals

import db
from common import VERSION
from spiders.monitors import accounting

logger = logging.getLogger(__name__)


class StorePipeline:
    def __init__(self, crawler, db_path):
        self.crawler = crawler
        self.db_path = db_path
        self.store = None
        self.run_id = None

    @classmethod
    def from_crawler(cls, crawler):
        pipeline = cls(crawler, crawler.settings.get("KEYWATCH_DB"))
        # spider_closed carries the finish reason (finished, shutdown, ...), close_spider does not.
        crawler.signals.connect(pipeline.spider_closed, signal=signals.spider_closed)
        crawler.signals.connect(pipeline.not_stored, signal=signals.item_error)
        crawler.signals.connect(pipeline.not_stored, signal=signals.item_dropped)
        return pipeline

    def open_spider(self):
        spider = self.crawler.spider
        self.store = db.connect(self.db_path)
        self.run_id = db.start_run(
            self.store,
            spider=spider.name,
            args={k: v for k, v in vars(spider).items() if isinstance(v, (str, int, float, bool))},
            crawler_version=self.crawler_version,
        )
        spider.run_id = self.run_id
        if hasattr(spider, "marketplace_hosts"):  # a MarketplaceSpider: every keywatch spider
            db.declare_hosts(self.store, self.run_id, spider.name, spider.marketplace_hosts())

    @property
    def crawler_version(self):
        return f"keywatch/{VERSION} scrapy/{scrapy.__version__}"

    def record_of(self, item) -> dict:
        # A shallow copy: asdict() would deep-copy the raw body, a measurable cost per page.
        adapter = ItemAdapter(item)
        record = {name: adapter[name] for name in adapter.field_names()}
        record["crawler_version"] = self.crawler_version
        return record

    def process_item(self, item):
        record = self.record_of(item)
        db.save_capture(self.store, record, run_id=self.run_id)
        self.count_stored(record)
        return item

    def count_stored(self, record) -> None:
        stats = self.crawler.stats
        stats.inc_value("keywatch/captures_stored")
        stats.inc_value(f"keywatch/{kind_of(record)}_stored")
        classification = record.get("classification") or {}
        if classification.get("flagged"):
            stats.inc_value("keywatch/hits")
            stats.inc_value(f"keywatch/hits/category/{classification['category']}")
            stats.inc_value(f"keywatch/hits/risk/{classification['risk']}")

    def not_stored(self, item, response=None, spider=None, failure=None, exception=None):
        self.crawler.stats.inc_value(f"keywatch/{kind_of(ItemAdapter(item))}_not_stored")

    def spider_closed(self, spider, reason):
        if self.store is None:
            return
        # The run record says itself whether every listing page fetched was stored.
        pages = accounting(self.crawler.stats.get_stats())
        self.crawler.stats.set_value("keywatch/listing_pages_not_stored", pages["not_stored"] + pages["lost"])
        # Scrapy's stats hold datetimes: store them as ISO strings.
        stats = json.loads(json.dumps(self.crawler.stats.get_stats(), default=str))
        db.finish_run(self.store, self.run_id, stats=stats, finish_reason=reason)
        self.store.close()
        self.store = None


def kind_of(record) -> str:
    """`rechecks` for a re-check's capture, `items` for every other item page."""
    return "rechecks" if record.get("purpose") == "recheck" else "items"
