"""LessOverhead: an extension that keeps two costs out of every page of a crawl (bench/crawl.py measures them).

- Python's garbage collector. The compiled watchlist and its model are a large heap that lives as long as the
  crawl, and every full collection walked all of it again; so once the engine has started, what exists then is
  frozen (`gc.freeze`) and collections look only at what the crawl makes. A page makes thousands of short-lived
  objects, so the youngest generation is collected every YOUNG_COLLECTION allocations instead of every 700:
  fewer objects live long enough to be walked again by the older collections.
- Log records nobody will see. Scrapy's loggers are set to DEBUG whatever LOG_LEVEL says, so a record was built
  for every response ("Crawled") and item ("Scraped from") and then dropped by the handler. For the crawl they
  are set to LOG_LEVEL, so those are not built at all; what is logged and counted stays the same.

All of it is undone when the last running crawl of the process closes (the weekly job runs one after another).

- Parsed pages kept for the collector. Scrapy's Selector keeps its response and the response caches its Selector:
  a reference cycle, so every page read (its whole lxml tree) stayed in memory until a collection found it, and
  those collections were most of the crawl's garbage-collection time. `forget_tree` breaks the cycle once the
  spider has read a page, so the tree goes when the response does.
"""

import gc
import logging

from scrapy import signals

# Allocations between collections of the youngest generation while crawling. A collection walks what is still alive,
# and in a full crawl that is mostly the items waiting for the classifier's process (hundreds, each with its response
# and Scrapy's tasks and coroutines), so fewer collections cost less in all: 20,000 (the workers' figure,
# spiders/pipelines/workers.py) took 0.73-0.93 s of this process's CPU over the 5,362 pages of bench/crawl.py, 100,000
# took 0.24-0.32 s, at the same peak memory (2026-12-02, timed in gc.callbacks, under load).
YOUNG_COLLECTION = 100_000

QUIETED_LOGGERS = ("scrapy",)

# What the process had before its first running crawl changed it, while any crawl runs.
_saved: dict = {}
_running = 0


def forget_tree(response) -> None:
    """Drop the parsed tree a response caches (a page read again is parsed again)."""
    if getattr(response, "_cached_selector", None) is not None:
        response._cached_selector = None


class LessOverhead:
    def __init__(self, log_level: int):
        self.log_level = log_level
        self.started = False

    @classmethod
    def from_crawler(cls, crawler):
        level = logging.getLevelName(str(crawler.settings.get("LOG_LEVEL") or "DEBUG").upper())
        extension = cls(level if isinstance(level, int) else logging.DEBUG)
        # The collection before the freeze below walks every object the imports made (0.1-0.2 s of CPU): here, before
        # the spider opens, rather than at engine_started, after it, in the crawl's measured first second. What is
        # made between the two is frozen uncollected: the engine and its components, which live as long anyway.
        gc.collect()
        crawler.signals.connect(extension.engine_started, signal=signals.engine_started)
        crawler.signals.connect(extension.spider_closed, signal=signals.spider_closed)
        return extension

    def engine_started(self):
        global _running
        if _running == 0:
            _saved.update(
                thresholds=gc.get_threshold(),
                levels={name: logging.getLogger(name).level for name in QUIETED_LOGGERS},
            )
            # The lowest LOG_LEVEL of the running crawls wins: what one of them logs is still built.
            for name, level in _saved["levels"].items():
                logging.getLogger(name).setLevel(max(level, self.log_level))
            gc.set_threshold(YOUNG_COLLECTION, *_saved["thresholds"][1:])
        else:
            for name in QUIETED_LOGGERS:
                logger = logging.getLogger(name)
                logger.setLevel(max(_saved["levels"][name], min(logger.level, self.log_level)))
        _running += 1
        self.started = True
        gc.freeze()

    def spider_closed(self, spider, reason):
        global _running
        if not self.started:
            return
        self.started = False
        _running -= 1
        if _running == 0:
            gc.unfreeze()
            gc.set_threshold(*_saved["thresholds"])
            for name, level in _saved["levels"].items():
                logging.getLogger(name).setLevel(level)
            _saved.clear()
