"""The crawl's classifier: a process of its own that scores the listings ClassifyPipeline hands it, a batch at a time.

Classifying was the largest single cost of the crawl's own process (bench/crawl.py): here it runs on the other
core, and `classify_many` scores each batch's model features together. The worker loads the watchlist itself, and
each result names the watchlist and classifier versions that produced it. Each crawl starts its own and stops it
when it closes (the crawls of a weekly run go one after another).
"""

from concurrent.futures import ProcessPoolExecutor

from classifier import classifier_version, classify, load_watchlist
from classifier.classify import classify_many
from spiders.pipelines import workers

_watchlist = None  # loaded once by the worker's initializer


def start(watchlist_path) -> ProcessPoolExecutor:
    """A classifier process for the watchlist at `watchlist_path`: submit `classify_batch` to it."""
    return workers.start(_load, str(watchlist_path))


def _load(path: str) -> None:
    global _watchlist
    _watchlist = load_watchlist(path)
    # The model and the term index are built on first use: here, while the crawl is still starting (its robots.txt,
    # its first search pages), and before the worker freezes what it has loaded (workers.py), rather than in the
    # middle of the first batch (0.5-0.6 s of CPU on the shipped model, 2026-12-02), which held its listings.
    classifier_version(_watchlist)
    _watchlist.matcher  # noqa: B018 - built now, kept by the watchlist


def classify_batch(pairs: list[tuple[str, str]]) -> list:
    """Per (title, description) its classification as stored, or the exception that stopped it."""
    return [workers.picklable(outcome) for outcome in classify_pairs(pairs, _watchlist)]


def classify_pairs(pairs: list[tuple[str, str]], watchlist) -> list:
    """The classifications of `pairs` (dicts, with the versions that made them), or per pair what went wrong: a
    failing batch is retried one listing at a time, so one bad listing does not cost the others theirs."""
    versions = {"watchlist_version": watchlist.version, "classifier_version": classifier_version(watchlist)}
    try:
        return [{**result.to_dict(), **versions} for result in classify_many(pairs, watchlist)]
    except Exception:  # noqa: BLE001 - find out which listing, below
        pass
    outcomes: list = []
    for title, description in pairs:
        try:
            outcomes.append({**classify(title, description, watchlist).to_dict(), **versions})
        except Exception as error:  # noqa: BLE001 - the page is still stored, unclassified (`reclassify` redoes it)
            outcomes.append(error)
    return outcomes
