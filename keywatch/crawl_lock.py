"""One crawl at a time per evidence store: `demo`, `crawl` and `crawl --all` hold a lock file beside it."""

import fcntl
import os
from pathlib import Path

from db.canonical import utc_now


class LockHeld(RuntimeError):
    """Another crawl holds the lock for this database."""


class CrawlLock:
    """An exclusive fcntl lock on a file beside the database, held for the whole run.

    The kernel drops the lock when the process dies, so a crash never leaves a stale lock behind; the file
    itself stays (removing it would let two processes lock two different files).
    """

    def __init__(self, db_path: Path):
        self.path = Path(str(db_path) + ".crawl-lock")
        self.file = None

    def __enter__(self):
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.file = open(self.path, "a+", encoding="utf-8")
        try:
            fcntl.flock(self.file, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            self.file.seek(0)
            holder = self.file.read().strip() or "unknown process"
            self.file.close()
            self.file = None
            raise LockHeld(f"another crawl is running on this database ({holder}; lock {self.path})") from None
        self.file.seek(0)
        self.file.truncate()
        self.file.write(f"pid {os.getpid()} since {utc_now()}\n")
        self.file.flush()
        return self

    def __exit__(self, *exc):
        if self.file is not None:
            self.file.truncate(0)
            fcntl.flock(self.file, fcntl.LOCK_UN)
            self.file.close()
            self.file = None
