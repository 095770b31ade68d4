"""Counting into Scrapy's stats at the price of a dict update: what the crawl counts for every page goes through here.

Scrapy 2.19's StatsCollector looks up each of its own attributes through a `__getattribute__` that raises and
catches an AttributeError, so one `inc_value` costs several microseconds, and a keywatch crawl counts about ten
things per page (bench/crawl.py). The collector keeps its stats in a dict that `get_stats()` hands out, the one it
returns for the rest of the crawl: counts go straight into that dict, and the stats read the same as with
`inc_value` at every moment. A collector that works otherwise (its own `inc_value`, a copy from `get_stats()`) is
called as usual.
"""

from scrapy.statscollectors import StatsCollector


class Counts:
    def __init__(self, stats):
        self.stats = stats
        live = stats.get_stats()
        plain = type(stats).inc_value is StatsCollector.inc_value and isinstance(live, dict)
        self.live = live if plain and live is stats.get_stats() else None

    def __call__(self, key: str, count: int = 1) -> None:
        """Add `count` to the stat `key` (from 0), as `stats.inc_value(key, count)` does."""
        if self.live is None:
            self.stats.inc_value(key, count)
        else:
            self.live[key] = self.live.get(key, 0) + count
