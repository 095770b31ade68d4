"""Processes of the crawl's own (the store's writer, the classifier): started with `spawn`, never forked (a fork
would copy Twisted's reactor), and dying with the crawl, so that nothing is committed or decided after it."""

import ctypes
import gc
import multiprocessing
import pickle
import signal
import sys
from concurrent.futures import Future, ProcessPoolExecutor

from spiders.pipelines import outcomes

# Allocations between collections of the youngest generation in a crawl's workers: a batch makes thousands of
# short-lived objects, and Python's default (700) let many of them live long enough to be walked again by the older
# collections. (The crawl's own process has its own figure, spiders/overhead.py.)
YOUNG_COLLECTION = 20_000


# Workers started before their crawl opened (`start_early`), each waiting for the `start` that asks for it:
# [(name, initializer, initargs, executor)].
_early: list[tuple] = []


def start(name: str, initializer, *initargs) -> ProcessPoolExecutor:
    """One worker process named `name` (what `top` and bench/crawl.py show) that runs `initializer(*initargs)`
    first (in it, after `die_with_parent`): the one `start_early` started with the same arguments, if any."""
    for entry in _early:
        if entry[:3] == (name, initializer, initargs):
            _early.remove(entry)
            return entry[3]
    return _spawn(name, initializer, *initargs)


def start_early(name: str, initializer, *initargs) -> None:
    """Start now the worker a crawl's `start` will ask for once its spider opens. A worker's start-up (Python, its
    imports, the classifier's watchlist and model: 1-2 s of CPU) then overlaps the crawl's own (Scrapy, the spider,
    the engine) instead of competing with the crawl's first pages. Unclaimed ones: `stop_early`."""
    if any(entry[:3] == (name, initializer, initargs) for entry in _early):
        return
    executor = _spawn(name, initializer, *initargs)
    executor.submit(int)  # the pool spawns its process on the first task
    _early.append((name, initializer, initargs, executor))


def stop_early() -> None:
    """Stop the workers started early that no crawl asked for (a crawl that did not start, other settings)."""
    while _early:
        _early.pop()[3].shutdown(wait=False, cancel_futures=True)


def start_early_for(crawler, arguments: dict) -> None:
    """Start the workers the item pipelines of `crawler` will ask for when it crawls with `arguments` (each pipeline
    class with a `start_workers_early(settings, spider class, arguments)` says which)."""
    from scrapy.utils.conf import build_component_list
    from scrapy.utils.misc import load_object

    for path in build_component_list(crawler.settings.getwithbase("ITEM_PIPELINES")):
        pipeline = load_object(path)
        if hasattr(pipeline, "start_workers_early"):
            pipeline.start_workers_early(crawler.settings, crawler.spidercls, arguments)


def _spawn(name: str, initializer, *initargs) -> ProcessPoolExecutor:
    context = multiprocessing.get_context("spawn")
    return ProcessPoolExecutor(
        max_workers=1, mp_context=context, initializer=_initialise, initargs=(name, initializer, *initargs)
    )


def _initialise(name: str, initializer, *initargs) -> None:
    die_with_parent()
    call_process(name)
    initializer(*initargs)
    # As in the crawl's process (spiders/overhead.py): what the worker loaded (the watchlist and its model, the
    # imports) lives as long as it does, so collections leave it alone and look only at what each batch makes.
    gc.collect()
    gc.freeze()
    gc.set_threshold(YOUNG_COLLECTION, *gc.get_threshold()[1:])


def die_with_parent() -> None:
    """Ask Linux to SIGKILL this process when the crawl dies, so that nothing is committed after it: what the
    crawl did not see committed is fetched again by `crawl --resume`."""
    if sys.platform.startswith("linux"):
        pr_set_pdeathsig = 1
        ctypes.CDLL(None, use_errno=True).prctl(pr_set_pdeathsig, signal.SIGKILL)
        if multiprocessing.parent_process() is not None and not multiprocessing.parent_process().is_alive():
            raise SystemExit(1)  # the crawl died before the request above was in place


def call_process(name: str) -> None:
    """Name this process (Linux keeps 15 bytes of it): a crawl's workers are told apart in `top` and by
    bench/crawl.py, which reports the CPU of each."""
    if sys.platform.startswith("linux"):
        pr_set_name = 15
        ctypes.CDLL(None, use_errno=True).prctl(pr_set_name, name.encode()[:15], 0, 0, 0)


def picklable(outcome):
    """An exception as it can cross back to the crawl (a class that cannot: its name and text in a ValueError)."""
    if not isinstance(outcome, Exception):
        return outcome
    try:
        pickle.loads(pickle.dumps(outcome))
    except Exception:  # noqa: BLE001 - whatever stops the round trip
        return ValueError(f"{type(outcome).__name__}: {outcome}")
    return outcome


async def finished(future: Future) -> None:
    """Wait (in the reactor's loop) until `future`, a task of a worker, is done, whatever its outcome: what went
    wrong in the worker shows in the first task that needs it (the pipelines fall back then)."""
    done = outcomes.awaited()
    reactor = running_reactor()
    future.add_done_callback(lambda _: reactor.callFromThread(outcomes.settle, done, None))
    await done


def running_reactor():
    """Twisted's reactor when one is installed (a crawl), else None: importing it would install one."""
    return (
        getattr(sys.modules.get("twisted.internet.reactor"), "callLater", None)
        and sys.modules["twisted.internet.reactor"]
    )


class OpenGroup(list):
    """Entries waiting to be handed on together: `send` runs once `size` of them have come, or `seconds` after the
    first (a reactor timer; none without a running reactor), whichever is sooner. `send` calls `take`."""

    def __init__(self, seconds: float, send):
        super().__init__()
        self.seconds = seconds
        self.send = send
        self.timer = None

    def add(self, entry, size: int) -> None:
        self.append(entry)
        reactor = running_reactor()
        if len(self) >= size:
            self.send()
        elif self.timer is None and reactor is not None:
            self.timer = reactor.callLater(self.seconds, self.send)

    def take(self) -> list:
        """The entries so far (the group is empty again), and no timer pending."""
        if self.timer is not None and self.timer.active():
            self.timer.cancel()
        self.timer = None
        entries = list(self)
        self.clear()
        return entries
