"""ClassifyPipeline (100): scores each listing against the watchlist and attaches the result."""

from itemadapter import ItemAdapter

from classifier import classifier_version, classify, shared_watchlist


class ClassifyPipeline:
    def __init__(self, watchlist):
        self.watchlist = watchlist

    @classmethod
    def from_crawler(cls, crawler):
        # Loaded once per crawl: every item of a run is scored against the same watchlist version.
        return cls(shared_watchlist(crawler.settings.get("KEYWATCH_WATCHLIST")))

    def process_item(self, item):
        adapter = ItemAdapter(item)
        if not adapter.get("title") and not adapter.get("description"):
            return item  # a gone listing (recheck of a removed page): nothing to classify
        result = classify(adapter.get("title") or "", adapter.get("description") or "", self.watchlist)
        # the classifier version names the model and its training set too (chained with the rest)
        adapter["classification"] = {**result.to_dict(), "watchlist_version": self.watchlist.version,
                                     "classifier_version": classifier_version(self.watchlist)}
        return item
