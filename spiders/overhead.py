"""LessOverhead: an extension that keeps two costs out of every page of a crawl (bench/crawl.py measures them).

- Python's garbage collector. The compiled watchlist and its model are a large heap that lives as long as the
  crawl, and every full collection walked all of it again; so once the engine has started, what exists then is
  frozen (`gc.freeze`) and collections look only at what the crawl makes. A page makes thousands of short-lived
  objects, so the youngest generation is collected every YOUNG_COLLECTION allocations instead of every 700:
  fewer objects live long enough to be walked again by the older collections. All of it is undone when the
  spider closes (a later crawl of the same process, the weekly job, starts the same way).
- Log records nobody will see. Scrapy's loggers are set to DEBUG whatever LOG_LEVEL says, so a record was built
  for every response ("Crawled") and item ("Scraped from") and then dropped by the handler. For the crawl they
  are set to LOG_LEVEL, so those are not built at all; what is logged and counted stays the same.
"""

import gc
import logging

from scrapy import signals

YOUNG_COLLECTION = 20_000
QUIETED_LOGGERS = ("scrapy",)


class LessOverhead:
    def __init__(self, log_level: int):
        self.log_level = log_level
        self.saved_levels: dict[str, int] = {}
        self.saved_thresholds: tuple[int, ...] | None = None

    @classmethod
    def from_crawler(cls, crawler):
        level = logging.getLevelName(str(crawler.settings.get("LOG_LEVEL") or "DEBUG").upper())
        extension = cls(level if isinstance(level, int) else logging.DEBUG)
        crawler.signals.connect(extension.engine_started, signal=signals.engine_started)
        crawler.signals.connect(extension.spider_closed, signal=signals.spider_closed)
        return extension

    def engine_started(self):
        for name in QUIETED_LOGGERS:
            logger = logging.getLogger(name)
            self.saved_levels[name] = logger.level
            logger.setLevel(max(logger.level, self.log_level))
        gc.collect()
        gc.freeze()
        self.saved_thresholds = gc.get_threshold()
        gc.set_threshold(YOUNG_COLLECTION, *self.saved_thresholds[1:])

    def spider_closed(self, spider, reason):
        if self.saved_thresholds is not None:
            gc.set_threshold(*self.saved_thresholds)
            self.saved_thresholds = None
            gc.unfreeze()
        for name, level in self.saved_levels.items():
            logging.getLogger(name).setLevel(level)
        self.saved_levels.clear()
