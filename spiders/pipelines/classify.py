"""ClassifyPipeline (100): scores each listing against the watchlist and attaches the result."""

import logging

from itemadapter import ItemAdapter

from classifier import classifier_version, classify, shared_watchlist

logger = logging.getLogger(__name__)


class ClassifyPipeline:
    def __init__(self, watchlist, stats=None):
        self.watchlist = watchlist
        self.stats = stats

    @classmethod
    def from_crawler(cls, crawler):
        # Loaded once per crawl: every item of a run is scored against the same watchlist version.
        return cls(shared_watchlist(crawler.settings.get("KEYWATCH_WATCHLIST")), crawler.stats)

    def process_item(self, item):
        adapter = ItemAdapter(item)
        if not adapter.get("title") and not adapter.get("description"):
            return item  # a gone listing (recheck of a removed page): nothing to classify
        try:
            result = classify(adapter.get("title") or "", adapter.get("description") or "", self.watchlist)
        except Exception as error:  # noqa: BLE001 - the page is still stored, unclassified (`reclassify` can redo it)
            logger.error("could not classify %s (%s: %s)", adapter.get("url"), type(error).__name__, error)
            if self.stats is not None:
                self.stats.inc_value("keywatch/classify_errors")
            adapter["extra"]["classification_error"] = f"{type(error).__name__}: {error}"
            return item
        # the classifier version names the model and its training set too (chained with the rest)
        adapter["classification"] = {
            **result.to_dict(),
            "watchlist_version": self.watchlist.version,
            "classifier_version": classifier_version(self.watchlist),
        }
        return item
