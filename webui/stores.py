"""The desk's store connections: one per server thread, kept open from one request to the next.

Opening a connection costs 3-6 ms on the shared VM: SQLite parses the store's whole schema (over a hundred
tables, indexes and triggers) on a connection's first statement. Kept open, a connection is checked before each
request, in microseconds, to still be the right one: the same file (not replaced by another at the same path)
with exactly this code's migrations (db.connection.migrations_current: another process may have migrated it).
Otherwise it is closed and the store opened again through db.connect, which migrates it or refuses it just as
it did on every request before. A request never leaves a transaction open for the next one (release).
"""

from __future__ import annotations

import os
import threading
from pathlib import Path

import db
from db.connection import migrations_current, roll_back_unfinished

CACHE_KIB = 64 * 1024  # per connection, so per server thread


def _identity(path: Path) -> tuple[int, int] | None:
    try:
        stat = os.stat(path)
    except FileNotFoundError:
        return None
    return stat.st_dev, stat.st_ino


class Stores:
    """The store at `path`, one connection per thread (sqlite3 connections stay in the thread that opened them)."""

    def __init__(self, path: Path):
        self.path = path
        self._local = threading.local()

    def acquire(self):
        held = getattr(self._local, "held", None)
        identity = _identity(self.path)
        if held is not None:
            store, opened = held
            if opened == identity and migrations_current(store.conn):
                return store
            self._local.held = None
            store.conn.close()
        # A kept connection keeps its page cache: 64 MB rather than SQLite's 2 MB holds the listing rows a search
        # reads, request after request (the 3,700 of "programmer" at 1M listings: 10.5 -> 5.6 ms CPU, warm).
        store = db.connect(self.path, cache_kib=CACHE_KIB)
        self._local.held = (store, _identity(self.path))
        return store

    def release(self, store) -> None:
        roll_back_unfinished(store)  # a write the request began and did not finish: never the next request's

    def close(self) -> None:
        """Close this thread's connection (the others close with their threads)."""
        held = getattr(self._local, "held", None)
        self._local.held = None
        if held is not None:
            held[0].conn.close()
