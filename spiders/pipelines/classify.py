"""ClassifyPipeline (100): scores each listing against the watchlist and attaches the result.

In a crawl the listings are scored by the classifier's own process (spiders/pipelines/classifier_worker.py), in
batches of `KEYWATCH_CLASSIFY_BATCH` or whatever arrived within `KEYWATCH_CLASSIFY_BATCH_SECONDS`; an item waits
in this pipeline until its batch is back, so the render and photo pipelines after it still see its classification.
For a spider whose item pages are complete (`complete_pages`, the demo marketplace) that process reads the pages
too (`KEYWATCH_READ_IN_WORKER`): the spider yields each page unread (`ListingItem.unread`) and its fields are filled
in here, with the spider's counts for them; a page that reading finds to be a robot check is counted by the spider as
one it screened itself, and its item dropped (`SkippedPage`). Without a running reactor (a test calling process_item)
or with `KEYWATCH_CLASSIFY_WORKER` off, and for the rest of a crawl whose worker died, it reads and classifies in the
crawl's own process, one listing at a time: same results.

When the store pipeline comes right after this one (rendering and photos off) and `KEYWATCH_STORE_IN_CLASSIFIER` is
on, that process also commits what it classified, in the store's groups (`KEYWATCH_STORE_GROUP_SIZE`, `_SECONDS`):
an item is handed over once, body included, and waits here until its group has committed; the store pipeline then
only counts it (`capture_id`). If the process dies, the items it held are read and classified here, those of them
its last group did commit (the store says which) count as stored, and the store pipeline's own writer stores the
others and the rest of the crawl.

An unread item page of such a crawl does not even come through Scrapy's item pipelines: the spider hands it to `take`
(`MarketplaceSpider.hand_over`), and it is counted here when its group has committed, as the store pipeline counts
an item, or handed to that pipeline's writer if the process died. Scrapy's own path for an item (spider
middlewares, this chain, its signals) cost the crawl's process more than anything the item needed. While
`KEYWATCH_HANDOVER_GROUPS` groups' worth are out, the spider yields the next pages as items instead: Scrapy holds
each until it is stored, and slows the crawl down as it does for any slow pipeline. The spider closes only once
every capture handed over is settled (`close_spider`): its run's record, written when it has closed, counts them all.
"""

import functools
import hashlib
import logging
from collections.abc import MutableMapping
from concurrent.futures import Future, ProcessPoolExecutor

from scrapy import signals

import db
from classifier import shared_watchlist
from spiders.items import SkippedPage, fields_of
from spiders.pipelines import classifier_worker, outcomes, workers
from spiders.pipelines.classifier_worker import task_of
from spiders.pipelines.store import StorePipeline, record_of
from spiders.robot_check import BlockedPage

logger = logging.getLogger(__name__)


class ClassifyPipeline:
    def __init__(
        self,
        watchlist_path,
        stats=None,
        in_worker=False,
        batch_size: int = 32,
        batch_seconds: float = 0.2,
        crawler=None,
        read_in_worker=False,
        store_in_worker=False,
        group: tuple[int, float] = (50, 0.2),
        handover_groups: int = 4,
    ):
        self.watchlist_path = watchlist_path
        self.stats = stats
        self.in_worker = in_worker
        self.read_in_worker = read_in_worker
        self.batch_size = max(1, batch_size)
        self.crawler = crawler
        self.store_in_worker = store_in_worker
        self.group = group  # the store's group (size, seconds), the batch when the worker stores
        self.stores = False  # the worker also commits what it classifies (decided when the spider opens)
        self.store_pipeline: StorePipeline | None = None  # the one that comes next, when the worker stores
        self.handover_groups = handover_groups
        self.handed = 0  # captures handed over (`take`) and not settled yet
        self.all_settled = None  # what close_spider awaits while some are
        self.worker: ProcessPoolExecutor | None = None
        self.waiting = workers.OpenGroup(batch_seconds, self.send_batch)  # (task, outcome awaited) for the next batch

    @classmethod
    def from_crawler(cls, crawler):
        settings = crawler.settings
        pipeline = cls(
            settings.get("KEYWATCH_WATCHLIST"),
            crawler.stats,
            in_worker=settings.getbool("KEYWATCH_CLASSIFY_WORKER"),
            batch_size=settings.getint("KEYWATCH_CLASSIFY_BATCH"),
            batch_seconds=settings.getfloat("KEYWATCH_CLASSIFY_BATCH_SECONDS"),
            crawler=crawler,
            read_in_worker=settings.getbool("KEYWATCH_READ_IN_WORKER"),
            store_in_worker=settings.getbool("KEYWATCH_STORE_IN_CLASSIFIER"),
            group=(settings.getint("KEYWATCH_STORE_GROUP_SIZE"), settings.getfloat("KEYWATCH_STORE_GROUP_SECONDS")),
            handover_groups=settings.getint("KEYWATCH_HANDOVER_GROUPS", 4),
        )
        crawler.signals.connect(pipeline.spider_closed, signal=signals.spider_closed)
        return pipeline

    @functools.cached_property
    def watchlist(self):
        # The crawl's own copy, loaded only when this process classifies (no worker, or a worker that died): the
        # worker loads its own, and every result names the versions it used.
        return shared_watchlist(self.watchlist_path)

    @property
    def spider(self):
        """The crawl's spider: it reads the pages it left unread when the worker cannot, and counts what was read."""
        return self.crawler.spider if self.crawler is not None else None

    @classmethod
    def start_workers_early(cls, settings, spider_class, arguments: dict) -> None:
        """The classifier's process this pipeline will ask for, started before the crawl opens (workers.py)."""
        if settings.getbool("KEYWATCH_CLASSIFY_WORKER"):
            reader = reader_of(settings.getbool("KEYWATCH_READ_IN_WORKER"), spider_class, arguments)
            classifier_worker.start_early(settings.get("KEYWATCH_WATCHLIST"), reader)

    def open_spider(self):
        """Start the worker (or claim the one started early); returns what to await until it has loaded: the spider
        opens, and its first requests go out, only then. While a worker loads (1-2 s of CPU: Python, its
        imports, the watchlist and model) it classifies nothing, and the crawl's first pages piled up behind it,
        their start-up competing with the crawl for the two cores (2026-12-03, bench/crawl.py)."""
        if not self.in_worker or workers.running_reactor() is None:
            return None
        spider = self.spider
        reader = reader_of(self.read_in_worker, type(spider), getattr(spider, "arguments", {}))  # any spider
        self.worker = classifier_worker.start(self.watchlist_path, reader)
        self.store_pipeline = store_comes_next(self.crawler, self)
        self.stores = self.store_in_worker and self.store_pipeline is not None
        if self.stores:
            loaded = self.worker.submit(classifier_worker.open_store, str(self.crawler.settings.get("KEYWATCH_DB")))
            self.batch_size, self.waiting.seconds = max(1, self.group[0]), self.group[1]
        else:
            loaded = self.worker.submit(int)
        if reader is not None:
            spider.reads_elsewhere = True
            if self.stores:
                spider.hand_over = self.take
        return workers.finished(loaded)

    def spider_closed(self, spider, reason):
        self.stop_worker()

    def stop_worker(self, wait: bool = True) -> None:
        """No worker from now on: the crawl's process reads and classifies the rest."""
        if self.worker is not None:
            self.worker.shutdown(wait=wait, cancel_futures=True)
            self.worker = None
        self.stores = False
        if self.spider is not None:
            self.spider.reads_elsewhere = False
            self.spider.hand_over = None

    async def close_spider(self):
        """Wait until every capture handed over (`take`) is settled: stored and counted, or counted as not stored.
        Scrapy calls this once nothing else is left of the crawl, before the run's record is written."""
        if self.handed:
            self.send_batch()
            self.all_settled = outcomes.awaited()
            await self.all_settled

    def take(self, item) -> bool:
        """Hand an unread item page to the worker, which reads, classifies and stores it, without Scrapy holding it:
        True, unless `handover_groups` groups' worth are out already or no worker stores (the spider then yields it)."""
        if not self.stores or self.handed >= self.handover_groups * self.batch_size:
            return False
        fields = fields_of(item)
        self.handed += 1
        self.waiting.add((task_of(fields), record_of(fields), None), self.batch_size)
        return True

    def process_item(self, item):
        fields = fields_of(item)
        task = task_of(fields)
        if self.stores:
            return self.through_worker(item, fields, task, record_of(fields))
        if task == (None, None):
            return item  # a gone listing (recheck of a removed page): nothing to classify
        if self.worker is None:
            self.finish(fields, self.read_and_classify([task])[0])
            return item
        return self.through_worker(item, fields, task)

    def read_and_classify(self, tasks):
        return classifier_worker.read_and_classify(tasks, self.watchlist, self.spider)

    async def through_worker(self, item, fields: MutableMapping, task, record=None):
        """The item, once the worker has classified it (its page read, if unread) and, given the item's `record` as
        the store keeps it, committed it too."""
        done = outcomes.awaited()
        self.waiting.add((task, record, done), self.batch_size)
        outcome = await done
        self.finish(fields, outcome[:2])
        if record is not None:
            stored = outcome[2]
            if isinstance(stored, Exception):
                raise stored  # Scrapy logs it and signals item_error: counted as not stored
            # None: the worker died before its group committed, and the store pipeline's own writer stores it.
            fields["capture_id"] = stored
        return item

    def send_batch(self) -> None:
        batch = self.waiting.take()
        if not batch:
            return
        reactor = workers.running_reactor()
        tasks, records = [task for task, _, _ in batch], [record for _, record, _ in batch]
        try:
            if records[0] is None:
                future = self.worker.submit(classifier_worker.classify_batch, tasks)
            else:  # one call: a body the task and the record share is pickled once
                counted = [done is None for _, _, done in batch]  # handed over: only counted here
                future = self.worker.submit(
                    classifier_worker.classify_and_store, tasks, records, self.spider.run_id, counted
                )
        except Exception as error:  # noqa: BLE001 - the worker is gone (or shut down): classify here instead
            future = Future()
            future.set_exception(error)
        future.add_done_callback(lambda done: reactor.callFromThread(self.release, done, batch))

    def release(self, future: Future, batch) -> None:
        """Hand each listing of a batch its outcome (in the reactor's thread, where Scrapy runs)."""
        try:
            results = future.result()
        except Exception as error:  # noqa: BLE001 - the worker died: this crawl reads and classifies in its own
            if self.worker is not None:
                logger.error("the classifier's process has died; classifying in the crawl's own (%s)", error)
                self.stop_worker(wait=False)
            results = self.read_and_classify([task for task, _, _ in batch])
            if batch[0][1] is not None:
                results = self.committed_before(results, [record for _, record, _ in batch])
        for (_, record, done), result in zip(batch, results, strict=True):
            if done is None:
                self.settle_handed(record, result)
            else:
                outcomes.settle(done, result)

    def settle_handed(self, record: dict, outcome: tuple) -> None:
        """Count a capture handed over (`take`) as the pipelines count an item: stored once its group committed,
        skipped if its page was a robot check, not stored (logged) if the store refused it. The worker died before its
        group committed (None): the store pipeline's own writer stores it. Whatever fails here, the capture is settled:
        the spider's close waits for every one."""
        stored = outcome[2]
        try:
            self.finish(record, outcome[:2])
        except SkippedPage:
            self.settled()  # the spider counted it as a page it skipped
            return
        except Exception:  # noqa: BLE001 - what it read went uncounted; whether it is stored is still counted
            logger.exception("could not count what was read of %s", record.get("url"))
        if stored is None:
            outcomes.start(self.store_elsewhere(record))
            return
        try:
            if isinstance(stored, Exception):
                self.not_stored(record, stored)
            else:
                self.store_pipeline.count_stored(record)
        finally:
            self.settled()

    async def store_elsewhere(self, record: dict) -> None:
        try:
            await self.store_pipeline.process_item(record)
        except Exception as error:  # noqa: BLE001 - as Scrapy would for an item: logged, counted as not stored
            self.not_stored(record, error)
        self.settled()

    def not_stored(self, record: dict, error: Exception) -> None:
        """A capture handed over that the store refused: logged, and counted as the store pipeline counts an item
        that did not reach the store (Scrapy logs a yielded one itself)."""
        logger.error("not stored: %s (%s: %s)", record.get("url"), type(error).__name__, error)
        self.store_pipeline.not_stored(record, exception=error)

    def settled(self) -> None:
        self.handed -= 1
        if not self.handed and self.all_settled is not None:
            outcomes.settle(self.all_settled, None)
            self.all_settled = None

    def committed_before(self, results: list[tuple], records: list[dict]) -> list[tuple]:
        """`results` with, per record, the id of its capture if the dead worker's group committed it, else None
        (the store pipeline stores it). The worker has exited: nothing it held commits any more."""
        with db.read_only(self.crawler.settings.get("KEYWATCH_DB")) as store:
            committed = db.captures_of_run(store, self.spider.run_id)
        return [
            (fields, classification, committed.get(capture_key(record)))
            for (fields, classification), record in zip(results, records, strict=True)
        ]

    def finish(self, item: MutableMapping, outcome) -> None:
        """The item's fields (or its record's), with what its page read, if it was read for it, and its
        classification, counted. An item page that was a robot check is counted by the spider and dropped
        (SkippedPage)."""
        fields, classification = outcome
        if isinstance(fields, BlockedPage):
            self.spider.skip_blocked(item["response_url"], fields)
            raise SkippedPage(str(fields))
        fields = classifier_worker.fill_in(item, fields, classification)
        if fields is not None:
            self.spider.count_read(item["response_url"], fields)
        if isinstance(classification, Exception):  # the page is still stored, unclassified (`reclassify` redoes it)
            logger.error(
                "could not classify %s (%s: %s)", item.get("url"), type(classification).__name__, classification
            )
            if self.stats is not None:
                self.stats.inc_value("keywatch/classify_errors")


def reader_of(read_in_worker: bool, spider_class, arguments: dict) -> tuple[str, dict] | None:
    """What the classifier's process reads a crawl's item pages with (its spider's class, by import path, and
    arguments), or None when the crawl's own process reads them."""
    if read_in_worker and getattr(spider_class, "complete_pages", False):
        return f"{spider_class.__module__}.{spider_class.__qualname__}", arguments
    return None


def store_comes_next(crawler, pipeline) -> StorePipeline | None:
    """The store pipeline, if it follows `pipeline` in this crawl with no other (rendering, photos) between them."""
    try:
        chain = list(crawler.engine.scraper.itemproc.middlewares)
    except (AttributeError, RuntimeError):  # no engine: not crawling (a test driving process_item)
        return None
    here = next((i for i, other in enumerate(chain) if other is pipeline), None)
    after = chain[here + 1] if here is not None and here + 1 < len(chain) else None
    return after if isinstance(after, StorePipeline) else None


def capture_key(record: dict) -> tuple[str, str]:
    """What the store knows a capture by within its run (db.captures_of_run): its URL and its body's SHA-256."""
    return record.get("response_url") or record["url"], hashlib.sha256(record["body"]).hexdigest()
