"""What a pipeline holding an item awaits while a worker process has it (classify, store), and how it is given.

In a crawl the pipelines run as tasks of asyncio's loop (Scrapy's asyncio reactor): a future of that loop is what
they await, at less than half the CPU of a Deferred awaited through `maybe_deferred_to_future` (about 15 against
35 microseconds, twice per item). Without a running loop (a test driving `process_item` with `ensureDeferred`) it
is a Deferred. Either is settled in the reactor's thread, the loop's own.
"""

import asyncio

from twisted.internet import defer
from twisted.python.failure import Failure


def awaited():
    """A new outcome to await: an asyncio future when a loop runs here, else a Deferred."""
    try:
        return asyncio.get_running_loop().create_future()
    except RuntimeError:
        return defer.Deferred()


def settle(outcome, value) -> None:
    """Give `outcome` its value: `await` returns it."""
    if isinstance(outcome, defer.Deferred):
        outcome.callback(value)
    else:
        outcome.set_result(value)


def fail(outcome, error: BaseException) -> None:
    """Give `outcome` an error: `await` raises it."""
    if isinstance(outcome, defer.Deferred):
        outcome.errback(Failure(error))
    else:
        outcome.set_exception(error)


def start(coroutine):
    """Run `coroutine` on its own, as a task of the running loop (a crawl), else as a Deferred (a test)."""
    try:
        return asyncio.get_running_loop().create_task(coroutine)
    except RuntimeError:
        return defer.ensureDeferred(coroutine)
