"""Score marketplace listings against watchlist.yaml: is this a keyless car-theft device?

    from classifier import load_watchlist, classify, WatchlistError
    wl = load_watchlist("watchlist.yaml")
    result = classify(title, description, wl)

Python with rapidfuzz, PyYAML and numpy (scikit-learn only to train the model: classifier.train);
no Scrapy, no database. See docs/classifier.md.
"""

# First, before any compiled module: importing it refuses extensions built from an older source.
from classifier import build_check  # noqa: F401
from classifier.classify import (
    Classification,
    Match,
    classifier_version,
    classify,
    classify_rules,
    default_watchlist,
    naive_classify,
)
from classifier.model import ModelError
from classifier.normalise import normalise
from classifier.version import __version__
from classifier.watchlist import Category, Context, Watchlist, WatchlistError
from classifier.watchlist_file import load_watchlist, shared_watchlist

__all__ = [
    "Category",
    "Classification",
    "Context",
    "Match",
    "ModelError",
    "Watchlist",
    "WatchlistError",
    "__version__",
    "classifier_version",
    "classify",
    "classify_rules",
    "default_watchlist",
    "load_watchlist",
    "naive_classify",
    "normalise",
    "shared_watchlist",
]
