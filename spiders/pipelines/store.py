"""StorePipeline (400): writes every capture, its classification and the crawl run into the evidence store.

Items are committed in groups (`KEYWATCH_STORE_GROUP_SIZE` items, or whatever arrived within
`KEYWATCH_STORE_GROUP_SECONDS`, whichever comes first), one transaction per group: one commit per page was most
of what the pipeline added to a bare download. An item is held in the pipeline until its group has committed, so
it counts as stored (stats, the run's accounting, Scrapy's item_scraped) only once it is evidence; a crash loses
at most the group being written, none of which was counted, and a resumed crawl fetches those pages again.

When the classifier's process stores what it classifies (no pipeline between the two, spiders/pipelines/classify.py),
an item reaches this pipeline committed already (`capture_id`): it is only counted here. The writer process is
started for the first group this pipeline commits itself.

At the start of a run it declares the hosts of the marketplaces the spider writes (db/hosts.py): the store then
refuses a capture fetched anywhere else. Every item that does not reach the store, here or in an earlier pipeline,
is counted (`keywatch/items_not_stored`, `keywatch/rechecks_not_stored`), so a run's numbers add up.
"""

import functools
import json
import logging
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures import wait as wait_for
from concurrent.futures.process import BrokenProcessPool

import scrapy
from scrapy import signals
from scrapy.utils.defer import deferred_from_coro

import db
from common import VERSION
from spiders.counting import Counts
from spiders.items import NEVER_STORED, SkippedPage, fields_of
from spiders.monitors import accounting
from spiders.pipelines import outcomes, store_writer, workers

logger = logging.getLogger(__name__)

CRAWLER_VERSION = f"keywatch/{VERSION} scrapy/{scrapy.__version__}"
WRITER_DIED = "store_writer_died"  # the finish reason of a crawl whose writer process died


class StorePipeline:
    def __init__(self, crawler, db_path, group_size: int = 50, group_seconds: float = 0.2):
        self.crawler = crawler
        self.db_path = db_path
        self.store = None
        self.run_id = None
        self.group_size = max(1, group_size)
        self.group = workers.OpenGroup(group_seconds, self.commit_group)  # (record, outcome awaited) to commit
        # One process writes the groups, in order (spiders/pipelines/store_writer.py), so a commit overlaps the
        # downloading and parsing of the next pages. Groups handed to it and not yet released, oldest first:
        self.writer: ProcessPoolExecutor | None = None
        self.writing: list[tuple[Future, list]] = []
        self.writer_died = False

    @classmethod
    def from_crawler(cls, crawler):
        settings = crawler.settings
        pipeline = cls(
            crawler,
            settings.get("KEYWATCH_DB"),
            group_size=settings.getint("KEYWATCH_STORE_GROUP_SIZE", 50),
            group_seconds=settings.getfloat("KEYWATCH_STORE_GROUP_SECONDS", 0.2),
        )
        # spider_closed carries the finish reason (finished, shutdown, ...), close_spider does not.
        crawler.signals.connect(pipeline.spider_closed, signal=signals.spider_closed)
        crawler.signals.connect(pipeline.not_stored, signal=signals.item_error)
        crawler.signals.connect(pipeline.not_stored, signal=signals.item_dropped)
        return pipeline

    @classmethod
    def start_workers_early(cls, settings, spider_class, arguments: dict) -> None:
        """The writer process this pipeline will ask for, started before the crawl opens (workers.py): none when
        the classifier's process may store this crawl's items (its pipeline decides once the crawl opens)."""
        if not (settings.getbool("KEYWATCH_CLASSIFY_WORKER") and settings.getbool("KEYWATCH_STORE_IN_CLASSIFIER")):
            store_writer.start_early(settings.get("KEYWATCH_DB"))

    def open_spider(self):
        spider = self.crawler.spider
        # The run's own record; the writer process has a connection of its own for the captures.
        self.store = db.connect(self.db_path)
        self.run_id = db.start_run(
            self.store,
            spider=spider.name,
            args={k: v for k, v in vars(spider).items() if isinstance(v, (str, int, float, bool))},
            crawler_version=CRAWLER_VERSION,
        )
        spider.run_id = self.run_id
        if hasattr(spider, "marketplace_hosts"):  # a MarketplaceSpider: every keywatch spider
            db.declare_hosts(self.store, self.run_id, spider.name, spider.marketplace_hosts())

    async def process_item(self, item):
        fields = fields_of(item)
        if fields.get("capture_id") is not None:  # committed by the classifier's process
            self.count_stored(fields)
            return item
        record = record_of(fields)
        committed = outcomes.awaited()
        self.group.add((record, committed), self.group_size)
        # Raises what refused this item (Scrapy then logs it and signals item_error, counted by not_stored).
        await committed
        self.count_stored(record)
        return item

    def start_writer(self) -> ProcessPoolExecutor:
        """The writer process, started for the first group this pipeline commits itself (the one started early for
        this crawl, if any)."""
        if self.writer is None:
            self.writer = store_writer.start(self.db_path)
        return self.writer

    def commit_group(self) -> None:
        """Hand the open group to the writer process; its items are released once it has committed."""
        group = self.group.take()
        if not group:
            return
        try:
            future = self.start_writer().submit(store_writer.save_group, [record for record, _ in group], self.run_id)
        except BrokenProcessPool as error:  # the writer died: this group is not stored (release stops the crawl)
            future = Future()
            future.set_exception(error)
        self.writing.append((future, group))
        reactor = workers.running_reactor()
        if reactor is not None:
            future.add_done_callback(lambda done: reactor.callFromThread(self.release, done))

    def release(self, future: Future) -> None:
        """Tell each item of a committed group how it went (in the reactor's thread, where Scrapy runs)."""
        entry = next((entry for entry in self.writing if entry[0] is future), None)
        if entry is None:
            return  # released already, by wait_for_writes
        self.writing.remove(entry)
        group = entry[1]
        try:
            results = future.result()
        except Exception as error:  # noqa: BLE001 - the commit failed, or the writer died: no item of it is stored
            results = [error] * len(group)
            if isinstance(error, BrokenProcessPool):
                self.stop_crawl(error)
        for (_, committed), result in zip(group, results, strict=True):
            if isinstance(result, Exception):
                outcomes.fail(committed, result)
            else:
                outcomes.settle(committed, result)

    def stop_crawl(self, error: BaseException) -> None:
        """The writer died: nothing more can be stored, so the crawl stops rather than fetch pages it would only
        count as lost. Its finish reason (not "finished") keeps a batch from marking it done, and its run's
        losses tell `--resume` to start from the store, not from a JOBDIR that saw those pages
        (keywatch/job_state.py)."""
        if self.writer_died:
            return
        self.writer_died = True
        logger.error("the store's writer process has died: nothing more is stored, the crawl stops (%s)", error)
        try:
            engine = self.crawler.engine
        except (AttributeError, RuntimeError):  # no engine: not crawling (a test driving process_item)
            return
        if engine is not None and engine.spider is not None:
            deferred_from_coro(engine.close_spider_async(reason=WRITER_DIED))

    def wait_for_writes(self) -> None:
        """Commit the open group and wait for every group the writer holds, releasing their items."""
        self.commit_group()
        while self.writing:
            future = self.writing[0][0]
            wait_for([future])
            self.release(future)

    @functools.cached_property
    def tally(self) -> Counts:
        return Counts(self.crawler.stats)

    def count_stored(self, record) -> None:
        count = self.tally
        count("keywatch/captures_stored")
        count(f"keywatch/{kind_of(record)}_stored")
        classification = record.get("classification") or {}
        if classification.get("flagged"):
            count("keywatch/hits")
            count(f"keywatch/hits/category/{classification['category']}")
            count(f"keywatch/hits/risk/{classification['risk']}")

    def not_stored(self, item, response=None, spider=None, failure=None, exception=None):
        if isinstance(exception, SkippedPage):
            return  # no listing page: the spider counted it as skipped
        self.crawler.stats.inc_value(f"keywatch/{kind_of(fields_of(item))}_not_stored")

    def spider_closed(self, spider, reason):
        if self.store is None:
            return
        self.wait_for_writes()  # normally nothing: Scrapy closes a spider only once no item is in the pipelines
        if self.writer is not None:
            self.writer.shutdown()
        # The run record says itself whether every listing page fetched was stored.
        pages = accounting(self.crawler.stats.get_stats())
        self.crawler.stats.set_value("keywatch/listing_pages_not_stored", pages["not_stored"] + pages["lost"])
        # Scrapy's stats hold datetimes: store them as ISO strings.
        stats = json.loads(json.dumps(self.crawler.stats.get_stats(), default=str))
        db.finish_run(self.store, self.run_id, stats=stats, finish_reason=reason)
        self.store.close()
        self.store = None


def record_of(fields) -> dict:
    """The item as the store keeps it (db.save_captures), from its fields (`fields_of`, or any mapping). A shallow
    copy: asdict() would deep-copy the raw body, a measurable cost per page."""
    record = {name: value for name, value in fields.items() if name not in NEVER_STORED}
    record["crawler_version"] = CRAWLER_VERSION
    return record


def kind_of(record) -> str:
    """`rechecks` for a re-check's capture, `items` for every other item page."""
    return "rechecks" if record.get("purpose") == "recheck" else "items"
