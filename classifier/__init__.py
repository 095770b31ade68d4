"""Score marketplace listings against watchlist.yaml: is this a keyless car-theft device?

    from classifier import load_watchlist, classify, WatchlistError
    wl = load_watchlist("watchlist.yaml")
    result = classify(title, description, wl)

Pure Python (stdlib, rapidfuzz, PyYAML): no Scrapy, no database. See docs/classifier.md.
"""

from classifier.classify import Classification, Match, classify, default_watchlist, naive_classify
from classifier.normalise import normalise
from classifier.watchlist import (Category, Context, Watchlist, WatchlistError, default_watchlist_path, load_watchlist,
                                  shared_watchlist)

__version__ = "1.0.0"

__all__ = [
    "Category", "Classification", "Context", "Match", "Watchlist", "WatchlistError", "__version__",
    "classify", "default_watchlist", "default_watchlist_path", "load_watchlist", "naive_classify", "normalise",
    "shared_watchlist",
]
