"""ClassifyPipeline (100): scores each listing against the watchlist and attaches the result.

In a crawl the listings are scored by the classifier's own process (spiders/pipelines/classifier_worker.py), in
batches of `KEYWATCH_CLASSIFY_BATCH` or whatever arrived within `KEYWATCH_CLASSIFY_BATCH_SECONDS`; an item waits
in this pipeline until its batch is back, so the render and photo pipelines after it still see its classification.
Without a running reactor (a test calling process_item) or with `KEYWATCH_CLASSIFY_WORKER` off, and for the rest
of a crawl whose worker died, it classifies in the crawl's own process, one listing at a time: same results.
"""

import functools
import logging
from concurrent.futures import Future, ProcessPoolExecutor

from itemadapter import ItemAdapter
from scrapy import signals
from scrapy.utils.defer import maybe_deferred_to_future
from twisted.internet import defer

from classifier import shared_watchlist
from spiders.pipelines import classifier_worker, workers

logger = logging.getLogger(__name__)


class ClassifyPipeline:
    def __init__(self, watchlist_path, stats=None, in_worker=False, batch_size: int = 32, batch_seconds: float = 0.2):
        self.watchlist_path = watchlist_path
        self.stats = stats
        self.in_worker = in_worker
        self.batch_size = max(1, batch_size)
        self.worker: ProcessPoolExecutor | None = None
        self.waiting = workers.OpenGroup(batch_seconds, self.send_batch)  # (pair, Deferred) for the next batch

    @classmethod
    def from_crawler(cls, crawler):
        settings = crawler.settings
        pipeline = cls(
            settings.get("KEYWATCH_WATCHLIST"),
            crawler.stats,
            in_worker=settings.getbool("KEYWATCH_CLASSIFY_WORKER"),
            batch_size=settings.getint("KEYWATCH_CLASSIFY_BATCH"),
            batch_seconds=settings.getfloat("KEYWATCH_CLASSIFY_BATCH_SECONDS"),
        )
        crawler.signals.connect(pipeline.spider_closed, signal=signals.spider_closed)
        return pipeline

    @functools.cached_property
    def watchlist(self):
        # The crawl's own copy, loaded only when this process classifies (no worker, or a worker that died): the
        # worker loads its own, and every result names the versions it used.
        return shared_watchlist(self.watchlist_path)

    def open_spider(self):
        if self.in_worker and workers.running_reactor() is not None:
            self.worker = classifier_worker.start(self.watchlist_path)
            self.worker.submit(int)  # start it now: loading the watchlist overlaps the crawl's first requests

    def spider_closed(self, spider, reason):
        if self.worker is not None:
            self.worker.shutdown(cancel_futures=True)
            self.worker = None

    def process_item(self, item):
        adapter = ItemAdapter(item)
        if not adapter.get("title") and not adapter.get("description"):
            return item  # a gone listing (recheck of a removed page): nothing to classify
        pair = (adapter.get("title") or "", adapter.get("description") or "")
        if self.worker is None:
            self.attach(adapter, classifier_worker.classify_pairs([pair], self.watchlist)[0])
            return item
        return self.classified_in_worker(adapter, pair)

    async def classified_in_worker(self, adapter, pair):
        done: defer.Deferred = defer.Deferred()
        self.waiting.add((pair, done), self.batch_size)
        self.attach(adapter, await maybe_deferred_to_future(done))
        return adapter.item

    def send_batch(self) -> None:
        batch = self.waiting.take()
        if not batch:
            return
        reactor = workers.running_reactor()
        try:
            future = self.worker.submit(classifier_worker.classify_batch, [pair for pair, _ in batch])
        except Exception as error:  # noqa: BLE001 - the worker is gone (or shut down): classify here instead
            future = Future()
            future.set_exception(error)
        future.add_done_callback(lambda done: reactor.callFromThread(self.release, done, batch))

    def release(self, future: Future, batch) -> None:
        """Hand each listing of a batch its outcome (in the reactor's thread, where Scrapy runs)."""
        pairs = [pair for pair, _ in batch]
        try:
            outcomes = future.result()
        except Exception as error:  # noqa: BLE001 - the worker died: this crawl classifies in its own process
            if self.worker is not None:
                logger.error("the classifier's process has died; classifying in the crawl's own (%s)", error)
                self.worker.shutdown(wait=False, cancel_futures=True)
                self.worker = None
            outcomes = classifier_worker.classify_pairs(pairs, self.watchlist)
        for (_, done), outcome in zip(batch, outcomes, strict=True):
            done.callback(outcome)

    def attach(self, adapter, outcome) -> None:
        if isinstance(outcome, Exception):  # the page is still stored, unclassified (`reclassify` can redo it)
            logger.error("could not classify %s (%s: %s)", adapter.get("url"), type(outcome).__name__, outcome)
            if self.stats is not None:
                self.stats.inc_value("keywatch/classify_errors")
            adapter["extra"]["classification_error"] = f"{type(outcome).__name__}: {outcome}"
            return
        # the classifier version names the model and its training set too (chained with the rest)
        adapter["classification"] = outcome
