"""Opening the store. Writers: WAL, a busy timeout, foreign keys, migrations, and the one way to write safely.
Readers: `read_only`, which changes nothing, creates nothing and refuses a foreign or newer store."""

import contextlib
import functools
import importlib
import os
import sqlite3
from pathlib import Path

import sqlite_utils

BUSY_TIMEOUT_SECONDS = 60

# Modules that declare a `migrations` set (sqlite_utils.Migrations); applied in this order.
MIGRATION_MODULES = ("db.schema", "db.review_schema", "db.notices", "db.anchors", "db.network_schema")
EVIDENCE_MIGRATIONS = "keywatch.evidence"  # the set every keywatch store has (db/schema.py)


class StoreError(Exception):
    """The store cannot be used as asked; the message is one line for the user."""


class StoreNotFound(StoreError, FileNotFoundError):
    """A command that does not create a store was pointed at a file that does not exist."""


class NotAStore(StoreError):
    """The file is not a keywatch evidence store (empty, not SQLite, or another program's database)."""


class StoreTooNew(StoreError):
    """The store has migrations this code does not know: a newer keywatch wrote it."""


class StoreTooOld(StoreError):
    """A reader needs a table or column that a migration this store has not had yet would add."""


class StoreChanged(StoreError):
    """The store file changed while it was read without locks: what was read cannot be trusted."""


def _missing(path: Path) -> StoreNotFound:
    return StoreNotFound(f"no evidence store at {path} (run a crawl first, or pass --db)")


def connect(
    path, *, create: bool = True, check_same_thread: bool = True, cache_kib: int | None = None
) -> sqlite_utils.Database:
    """Open (and, unless `create=False`, create) the evidence store at `path` for writing, migrated to the
    current schema. Commands that only read use `read_only`. `check_same_thread=False` lets another thread use
    the connection (sqlite3's own flag): the caller makes sure two threads never use it at once. `cache_kib`:
    SQLite's page cache for this connection (default 2 MB), for a connection kept open across many reads.
    """
    memory = str(path) == ":memory:"
    if not memory:
        path = Path(path)
        if not path.exists():
            if not create:
                raise _missing(path)
            path.parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(str(path), timeout=BUSY_TIMEOUT_SECONDS, check_same_thread=check_same_thread)
    conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_SECONDS * 1000}")
    if not memory:
        # Readers and one writer at a time without "database is locked"; switching mode waits on the busy timeout.
        conn.execute("PRAGMA journal_mode = WAL")
    # NORMAL in WAL keeps every committed transaction across a process crash (only an OS crash can lose the last ones).
    conn.execute("PRAGMA synchronous = NORMAL")
    conn.execute("PRAGMA foreign_keys = ON")
    if cache_kib:
        conn.execute(f"PRAGMA cache_size = -{int(cache_kib)}")
    store = sqlite_utils.Database(conn)
    if not migrations_current(conn):
        _refuse_newer(store, path)
        apply_migrations(store)
    return store


# WAL pages a crawl's group writer lets gather before SQLite checkpoints them into the database file (SQLite's default:
# 1,000, about 1.25 groups of 50 demo pages). Each group dirties pages all over the unique indexes on random hashes
# (chain links, bodies): checkpointing every few groups writes each hot page back once instead of once per group, and
# took 13% off db.save_captures per page (0.42 -> 0.37 ms, 5,000 demo pages in groups of 50, three rounds each,
# 2026-12-03). The WAL then grows to about 16 MB between checkpoints; readers see every commit as before.
GROUP_WRITER_CHECKPOINT_PAGES = 4000


def connect_group_writer(path) -> sqlite_utils.Database:
    """`connect`, for a process that commits a crawl's captures group after group (the classifier's, or the store
    pipeline's writer)."""
    store = connect(path)
    store.conn.execute(f"PRAGMA wal_autocheckpoint = {GROUP_WRITER_CHECKPOINT_PAGES}")
    return store


def migrations_current(conn: sqlite3.Connection) -> bool:
    """Whether the store's keywatch migrations are exactly this code's: one read of a small table, instead of the
    full check of each migration set (connect), and cheap enough for the desk to ask before every request on a
    connection it keeps open (webui/stores.py). Read every time rather than remembered, so a store migrated by
    another process meanwhile is noticed at once."""
    try:
        rows = conn.execute("SELECT migration_set, name FROM _sqlite_migrations").fetchall()
    except sqlite3.OperationalError:  # a new store: no migrations table yet
        return False
    applied = {(migration_set, name) for migration_set, name in rows if migration_set.startswith("keywatch")}
    return applied == _known_pairs()


@functools.cache
def _known_pairs() -> frozenset[tuple[str, str]]:
    return frozenset((migration_set, name) for migration_set, names in _known_migrations().items() for name in names)


@contextlib.contextmanager
def read_only(path):
    """The store at `path` for a command that only reads: SQLite refuses every write, no byte of the file
    changes, no file appears beside it, and a foreign, empty or newer store is refused (StoreError).

    Changes still in a -wal (or a -journal) mean a writer has the store open, or crashed: then it is opened
    `mode=ro`, under SQLite's locks, so those changes are read. Otherwise the one file holds everything and
    it is opened `immutable=1`: no locks, no -wal or -shm, which is what lets a write-protected copy be read
    at all. Nothing then stops a writer from starting meanwhile, so the file is compared before and after,
    and a change raises StoreChanged rather than trusting a read that may mix two states.
    """
    path = Path(path)
    if not path.is_file():
        raise _missing(path)
    locked = any(_size(path, suffix) for suffix in ("-wal", "-journal"))
    before = _stamp(path)
    uri = path.resolve().as_uri() + ("?mode=ro" if locked else "?mode=ro&immutable=1")
    conn = sqlite3.connect(uri, uri=True, timeout=BUSY_TIMEOUT_SECONDS)
    store = sqlite_utils.Database(conn)
    try:
        conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_SECONDS * 1000}")
        _check_readable(store, path, locked)
        try:
            yield store
        except sqlite3.OperationalError as error:
            if "no such" in str(error) and _pending(store):
                raise StoreTooOld(
                    f"{path} is from an older keywatch and lacks what this command reads ({error}); "
                    "reading never upgrades a store: open a copy with a writing command to upgrade it"
                ) from error
            raise
    finally:
        conn.close()
        if not locked and _stamp(path) != before:
            raise StoreChanged(
                f"{path} changed while it was read (a crawl or the review desk wrote to it): run the command again"
            )


def _size(path: Path, suffix: str) -> int:
    try:
        return os.stat(f"{path}{suffix}").st_size
    except FileNotFoundError:
        return 0


def _stamp(path: Path) -> tuple | None:
    # Every write to the main file (a checkpoint, a rollback-journal commit) moves its mtime; a writer's changes
    # still in its -wal do not touch what an unlocked reader reads.
    try:
        stat = path.stat()
    except FileNotFoundError:
        return None
    return stat.st_ino, stat.st_size, stat.st_mtime_ns


def _check_readable(store, path: Path, locked: bool) -> None:
    try:
        applied = _applied(store)
    except sqlite3.DatabaseError as error:
        if error.sqlite_errorname == "SQLITE_NOTADB":
            raise NotAStore(f"{path}: not a keywatch evidence store ({error})") from None
        hint = (
            " (its -wal holds changes that SQLite reads only with a -shm file beside it: copy the store and "
            "its -wal into a writable folder and read the copy)"
            if locked
            else ""
        )
        raise StoreError(f"cannot read {path}: {error}{hint}") from None
    if not any(migration_set == EVIDENCE_MIGRATIONS for migration_set, _ in applied):
        raise NotAStore(f"{path}: not a keywatch evidence store (no keywatch schema in it)")
    _refuse_newer(store, path, applied)


def _applied(store) -> set[tuple[str, str]]:
    if not store["_sqlite_migrations"].exists():
        return set()
    return {(r["migration_set"], r["name"]) for r in store.query("SELECT migration_set, name FROM _sqlite_migrations")}


@functools.cache
def _known_migrations() -> dict[str, frozenset[str]]:
    empty = sqlite_utils.Database(memory=True)  # on which every migration of a set is pending
    return {m.name: frozenset(migration.name for migration in m.pending(empty)) for m in _migration_sets()}


def _refuse_newer(store, path, applied=None) -> None:
    """A store migrated by a newer keywatch may hold what this code would misread or break: refuse it."""
    known = _known_migrations()
    unknown = sorted(
        name
        for migration_set, name in (applied if applied is not None else _applied(store))
        if name not in known.get(migration_set, ()) and migration_set.startswith("keywatch")
    )
    if unknown:
        from common import VERSION

        raise StoreTooNew(
            f"{path} was written by a newer keywatch (schema {', '.join(unknown)}, unknown to "
            f"keywatch {VERSION}): use that version or a later one"
        )


def _pending(store) -> list:
    return [migration for m in _migration_sets() for migration in m.pending(store)]


def _migration_sets() -> list[sqlite_utils.Migrations]:
    return [importlib.import_module(name).migrations for name in MIGRATION_MODULES]


def apply_migrations(store) -> None:
    """Apply pending migrations under the write lock, so processes opening a new store at once do not collide."""
    sets = list(_migration_sets())
    if not any(m.pending(store) for m in sets):
        return
    with write_transaction(store):
        for migrations in sets:
            migrations.apply(store)


def roll_back_unfinished(store) -> None:
    """Undo a transaction its writer left open (an error between BEGIN and COMMIT that nothing caught), so that a
    connection used again later does not carry it on."""
    if store.conn.in_transaction:
        store.conn.rollback()


@contextlib.contextmanager
def write_transaction(store):
    """BEGIN IMMEDIATE ... COMMIT (ROLLBACK on error): takes the write lock up front, waiting on the busy timeout.

    Taking the lock before reading the chain head is what keeps concurrent writers from forking the chain.
    Nested use becomes a savepoint inside the outer transaction.
    """
    conn = store.conn
    if conn.in_transaction:
        with store.atomic():
            yield store
        return
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield store
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise
    else:
        conn.execute("COMMIT")


@contextlib.contextmanager
def journals_in_memory(store):
    """Statement journals kept in memory for the transactions begun inside (PRAGMA temp_store, which SQLite reads
    when a write transaction begins), then the connection's own setting again.

    Every statement that fires a trigger (an INSERT into `listings` or `listing_status`) and every savepoint copies
    each page it changes to a statement journal first; past 64 KiB SQLite moves that journal to a temporary file,
    written page by page with two system calls each: about 1,500 for a group of 50 new listings (measured
    2026-12-03). Outside a transaction only: the setting cannot change while a temporary table is open in one.
    """
    conn = store.conn
    [(before,)] = conn.execute("PRAGMA temp_store").fetchall()
    conn.execute("PRAGMA temp_store = MEMORY")
    try:
        yield store
    finally:
        conn.execute(f"PRAGMA temp_store = {int(before)}")


def joined_transaction(store):
    """The caller's transaction when there is one (no savepoint: its failure fails the caller's, which undoes it
    all), else a write transaction of its own. For the small steps of a write (a chain link, a status record)
    that run many times per capture: a savepoint each was a measurable part of storing one."""
    return contextlib.nullcontext(store) if store.conn.in_transaction else write_transaction(store)


@contextlib.contextmanager
def read_snapshot(store):
    """One read transaction: every query inside sees the same committed state, whatever other writers do meanwhile.

    verify, timelines and exports read several tables; without this they could see a capture committed
    between two of their queries and report a body as missing.
    """
    conn = store.conn
    if conn.in_transaction:
        yield store
        return
    conn.execute("BEGIN")
    try:
        conn.execute("SELECT 1 FROM sqlite_master LIMIT 1").fetchall()  # takes the snapshot now
        yield store
    finally:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
