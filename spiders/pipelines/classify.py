"""ClassifyPipeline (100): scores each listing against the watchlist and attaches the result.

The scoring runs in a process of its own (spiders/pipelines/workers.py), in batches of the listings that
arrived within BATCH_SECONDS (at most BATCH_SIZE): one round trip per listing cost the crawl a quarter of what
classifying it in place did.
"""

import asyncio
import logging

from itemadapter import ItemAdapter

from classifier import shared_watchlist
from spiders.pipelines import workers

logger = logging.getLogger(__name__)

BATCH_SIZE = 50
# What a listing may wait for others: each hand-over to the process costs the crawl a few milliseconds
# (bench/crawl.py --profile), so a batch should hold many listings.
BATCH_SECONDS = 0.05


class ClassifyPipeline:
    def __init__(self, watchlist_path, stats=None, batch_size: int = BATCH_SIZE, batch_seconds: float = BATCH_SECONDS):
        # Loaded here too: a broken watchlist stops the crawl before its first request, with the usual error.
        shared_watchlist(watchlist_path)
        self.watchlist_path = watchlist_path
        self.stats = stats
        self.batch_size = max(1, batch_size)
        self.batch_seconds = batch_seconds
        self.batch: list[tuple[tuple[str, str], asyncio.Future]] = []
        self.timer: asyncio.TimerHandle | None = None
        self.scorer = None

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler.settings.get("KEYWATCH_WATCHLIST"), crawler.stats)

    def open_spider(self):
        # Every item of a run is scored by this one process, against the watchlist version it loaded.
        self.scorer = workers.start_scorer(self.watchlist_path)
        self.scorer.submit(int)  # start it now: its imports and the watchlist load overlap the first requests

    def close_spider(self):
        if self.scorer is not None:
            self.scorer.shutdown()
            self.scorer = None

    async def process_item(self, item):
        adapter = ItemAdapter(item)
        if not adapter.get("title") and not adapter.get("description"):
            return item  # a gone listing (recheck of a removed page): nothing to classify
        try:
            adapter["classification"] = await self.score(adapter.get("title") or "", adapter.get("description") or "")
        except Exception as error:  # noqa: BLE001 - the page is still stored, unclassified (`reclassify` can redo it)
            logger.error("could not classify %s (%s: %s)", adapter.get("url"), type(error).__name__, error)
            if self.stats is not None:
                self.stats.inc_value("keywatch/classify_errors")
            adapter["extra"]["classification_error"] = f"{type(error).__name__}: {error}"
        return item

    def score(self, title: str, description: str) -> asyncio.Future:
        """The listing's classification (a dict, as stored), once its batch has been scored."""
        loop = asyncio.get_running_loop()
        future = loop.create_future()
        self.batch.append(((title, description), future))
        if len(self.batch) >= self.batch_size:
            self.send_batch()
        elif self.timer is None:
            self.timer = loop.call_later(self.batch_seconds, self.send_batch)
        return future

    def send_batch(self) -> None:
        if self.timer is not None:
            self.timer.cancel()
            self.timer = None
        batch, self.batch = self.batch, []
        if not batch:
            return
        loop = asyncio.get_running_loop()
        futures = [future for _, future in batch]
        try:
            scored = self.scorer.submit(workers.score_batch, [texts for texts, _ in batch])
        except Exception as error:  # noqa: BLE001 - the classifier process has died: these stay unclassified
            deliver(futures, [error] * len(futures))
            return
        scored.add_done_callback(lambda done: loop.call_soon_threadsafe(deliver_result, futures, done))


def deliver_result(futures: list[asyncio.Future], done) -> None:
    try:
        outcomes = done.result()
    except Exception as error:  # noqa: BLE001 - the process died while scoring: every listing of the batch failed
        outcomes = [error] * len(futures)
    deliver(futures, outcomes)


def deliver(futures: list[asyncio.Future], outcomes: list) -> None:
    for future, outcome in zip(futures, outcomes, strict=True):
        if future.cancelled():
            continue
        if isinstance(outcome, Exception):
            future.set_exception(outcome)
        else:
            future.set_result(outcome)
