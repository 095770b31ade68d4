"""The processes the pipelines hand their Python-heavy work to: the classifier, and the store's writer.

Classifying a listing and building a capture's canonical JSON and chain links are pure Python: done in the
crawl, they held its GIL for most of what the pipelines cost per page. Each runs in a process of its own on
the other core while Scrapy downloads and parses (bench/crawl.py measures both). They are started with
`spawn` (a fork would copy Twisted's reactor) and die with the crawl: a crawl killed mid-group loses that group,
none of which it had counted as stored, and `crawl --resume` fetches those pages again.
"""

import ctypes
import multiprocessing
import pickle
import signal
import sys
from concurrent.futures import ProcessPoolExecutor

# Each worker's own state, set once by its initializer (a worker process runs one of the two).
_store = None
_watchlist = None


def start_writer(db_path) -> ProcessPoolExecutor:
    """A writer process for the store at `db_path`: submit `save_group` to it."""
    return _start(_open_store, str(db_path))


def start_scorer(watchlist_path) -> ProcessPoolExecutor:
    """A classifier process scoring against the watchlist at `watchlist_path`: submit `score_batch` to it."""
    return _start(_load_watchlist, str(watchlist_path))


def save_group(records: list[dict], run_id: int) -> list:
    """db.save_captures in the writer: per record its capture id, or what refused it."""
    import db

    return [_picklable(outcome) for outcome in db.save_captures(_store, records, run_id)]


def score_batch(texts: list[tuple[str, str]]) -> list:
    """Per (title, description) the classification as stored (with the versions it was scored with), or the
    error that stopped it."""
    from classifier import classifier_version, classify

    outcomes = []
    for title, description in texts:
        try:
            result = classify(title, description, _watchlist)
            outcomes.append(
                {
                    **result.to_dict(),
                    "watchlist_version": _watchlist.version,
                    # the classifier version names the model and its training set too (chained with the rest)
                    "classifier_version": classifier_version(_watchlist),
                }
            )
        except Exception as error:  # noqa: BLE001 - this listing stays unclassified, the others are scored
            outcomes.append(_picklable(error))
    return outcomes


def _start(initializer, *args) -> ProcessPoolExecutor:
    context = multiprocessing.get_context("spawn")
    return ProcessPoolExecutor(max_workers=1, mp_context=context, initializer=initializer, initargs=args)


def _open_store(db_path: str) -> None:
    global _store
    _die_with_parent()
    import db

    _store = db.connect(db_path)


def _load_watchlist(path: str) -> None:
    global _watchlist
    _die_with_parent()
    from classifier import shared_watchlist

    _watchlist = shared_watchlist(path)


def _die_with_parent() -> None:
    """Ask Linux to SIGKILL this process when the crawl dies, so that nothing is committed after it: what the
    crawl did not see committed is fetched again by `crawl --resume`."""
    if sys.platform.startswith("linux"):
        pr_set_pdeathsig = 1
        ctypes.CDLL(None, use_errno=True).prctl(pr_set_pdeathsig, signal.SIGKILL)
        if multiprocessing.parent_process() is not None and not multiprocessing.parent_process().is_alive():
            raise SystemExit(1)  # the crawl died before the request above was in place


def _picklable(outcome):
    """An exception as it can cross back to the crawl (a class that cannot: its name and text in a ValueError)."""
    if not isinstance(outcome, Exception):
        return outcome
    try:
        pickle.loads(pickle.dumps(outcome))
    except Exception:  # noqa: BLE001 - whatever stops the round trip
        return ValueError(f"{type(outcome).__name__}: {outcome}")
    return outcome
