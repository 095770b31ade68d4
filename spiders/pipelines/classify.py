"""ClassifyPipeline (100): scores each listing against the watchlist and attaches the result.

In a crawl the listings are scored by the classifier's own process (spiders/pipelines/classifier_worker.py), in
batches of `KEYWATCH_CLASSIFY_BATCH` or whatever arrived within `KEYWATCH_CLASSIFY_BATCH_SECONDS`; an item waits
in this pipeline until its batch is back, so the render and photo pipelines after it still see its classification.
For a spider whose item pages are complete (`complete_pages`, the demo marketplace) that process reads the pages
too (`KEYWATCH_READ_IN_WORKER`): the spider yields each page unread (`ListingItem.unread`) and its fields are filled
in here, with the spider's counts for them. Without a running reactor (a test calling process_item) or with
`KEYWATCH_CLASSIFY_WORKER` off, and for the rest of a crawl whose worker died, it reads and classifies in the crawl's
own process, one listing at a time: same results.
"""

import functools
import logging
from concurrent.futures import Future, ProcessPoolExecutor

from itemadapter import ItemAdapter
from scrapy import signals

from classifier import shared_watchlist
from spiders.pipelines import classifier_worker, outcomes, workers

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
    ):
        self.watchlist_path = watchlist_path
        self.stats = stats
        self.in_worker = in_worker
        self.read_in_worker = read_in_worker
        self.batch_size = max(1, batch_size)
        self.crawler = crawler
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
        if not self.in_worker or workers.running_reactor() is None:
            return
        spider = self.spider
        reader = reader_of(self.read_in_worker, type(spider), getattr(spider, "arguments", {}))  # any spider
        self.worker = classifier_worker.start(self.watchlist_path, reader)
        self.worker.submit(int)  # start it now (if not started early): its loading overlaps the first requests
        if reader is not None:
            spider.reads_elsewhere = True

    def spider_closed(self, spider, reason):
        self.stop_worker()

    def stop_worker(self, wait: bool = True) -> None:
        """No worker from now on: the crawl's process reads and classifies the rest."""
        if self.worker is not None:
            self.worker.shutdown(wait=wait, cancel_futures=True)
            self.worker = None
        if self.spider is not None:
            self.spider.reads_elsewhere = False

    def process_item(self, item):
        adapter = ItemAdapter(item)
        task = task_of(adapter)
        if task == (None, None):
            return item  # a gone listing (recheck of a removed page): nothing to classify
        if self.worker is None:
            self.finish(adapter, self.read_and_classify([task])[0])
            return item
        return self.classified_in_worker(adapter, task)

    def read_and_classify(self, tasks):
        return classifier_worker.read_and_classify(tasks, self.watchlist, self.spider)

    async def classified_in_worker(self, adapter, task):
        done = outcomes.awaited()
        self.waiting.add((task, done), self.batch_size)
        self.finish(adapter, await done)
        return adapter.item

    def send_batch(self) -> None:
        batch = self.waiting.take()
        if not batch:
            return
        reactor = workers.running_reactor()
        try:
            future = self.worker.submit(classifier_worker.classify_batch, [task for task, _ in batch])
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
            results = self.read_and_classify([task for task, _ in batch])
        for (_, done), result in zip(batch, results, strict=True):
            outcomes.settle(done, result)

    def finish(self, adapter, outcome) -> None:
        """The item's fields, if its page was read for it, and its classification."""
        fields, classification = outcome
        if fields is not None:
            if isinstance(fields, Exception):  # stored as fetched all the same, with why it was not read
                fields = {"extra": {"parse_error": f"{type(fields).__name__}: {fields}"}}
            self.spider.took_reading(adapter, fields)
        if classification is not None:
            self.attach(adapter, classification)

    def attach(self, adapter, outcome) -> None:
        if isinstance(outcome, Exception):  # the page is still stored, unclassified (`reclassify` can redo it)
            logger.error("could not classify %s (%s: %s)", adapter.get("url"), type(outcome).__name__, outcome)
            if self.stats is not None:
                self.stats.inc_value("keywatch/classify_errors")
            adapter["extra"]["classification_error"] = f"{type(outcome).__name__}: {outcome}"
            return
        # the classifier version names the model and its training set too (chained with the rest)
        adapter["classification"] = outcome


def reader_of(read_in_worker: bool, spider_class, arguments: dict) -> tuple[str, dict] | None:
    """What the classifier's process reads a crawl's item pages with (its spider's class, by import path, and
    arguments), or None when the crawl's own process reads them."""
    if read_in_worker and getattr(spider_class, "complete_pages", False):
        return f"{spider_class.__module__}.{spider_class.__qualname__}", arguments
    return None


def task_of(adapter) -> tuple:
    """(capture, None) for an item page to read and classify, (None, (title, description)) for a listing to
    classify, (None, None) for one with nothing to classify."""
    if adapter.get("unread") is None:
        return None, classifier_worker.pair_of(adapter)
    capture = {name: adapter[name] for name in ("unread", "response_url", "status", "headers", "body")}
    return capture, None
