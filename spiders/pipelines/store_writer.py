"""The store's writer: a process of its own that commits the groups of captures StorePipeline hands it.

Building a capture's canonical JSON and chain links is pure Python: in a writer thread it held the crawl's GIL
for about half of what the store cost per page. In a process it runs on the other core while Scrapy downloads
and parses (bench/crawl.py measures both). It is started with `spawn` (a fork would copy Twisted's reactor) and
dies with the crawl: a crawl killed mid-group loses that group, none of which it had counted as stored, and
`crawl --resume` fetches those pages again.
"""

import ctypes
import multiprocessing
import pickle
import signal
import sys
from concurrent.futures import ProcessPoolExecutor

_store = None  # the writer's own connection to the store, opened once by its initializer


def start(db_path) -> ProcessPoolExecutor:
    """A writer process for the store at `db_path`: submit `save_group` to it."""
    context = multiprocessing.get_context("spawn")
    return ProcessPoolExecutor(max_workers=1, mp_context=context, initializer=_open_store, initargs=(str(db_path),))


def save_group(records: list[dict], run_id: int) -> list:
    """db.save_captures in the writer: per record its capture id, or what refused it."""
    import db

    return [_picklable(outcome) for outcome in db.save_captures(_store, records, run_id)]


def _open_store(db_path: str) -> None:
    global _store
    _die_with_parent()
    import db

    _store = db.connect(db_path)


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
