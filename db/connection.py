"""Opening the store: WAL, a busy timeout, foreign keys, migrations; and the one way to write safely."""

import contextlib
import importlib
import sqlite3
from pathlib import Path

import sqlite_utils

BUSY_TIMEOUT_SECONDS = 60

# Modules that may declare a `migrations` set (sqlite_utils.Migrations); applied in this order.
# db.review and db.notices belong to other parts of keywatch and may not exist yet.
MIGRATION_MODULES = ("db.schema", "db.review", "db.notices")


class StoreNotFound(FileNotFoundError):
    """A read-only command was pointed at a database file that does not exist."""


def connect(path, *, create: bool = True, migrate: bool = True, readonly: bool = False) -> sqlite_utils.Database:
    """Open (and, unless `create=False`, create) the evidence store at `path`, migrated to the current schema.

    `migrate=False` leaves the schema as it is; `readonly=True` opens an existing file so that SQLite itself
    refuses every write (for an examiner checking a store, who must not change it).
    """
    if readonly:
        return _connect_readonly(path)
    memory = str(path) == ":memory:"
    if not memory:
        path = Path(path)
        if not path.exists():
            if not create:
                raise StoreNotFound(f"no evidence store at {path} (run a crawl first, or pass --db)")
            path.parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(str(path), timeout=BUSY_TIMEOUT_SECONDS)
    conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_SECONDS * 1000}")
    if not memory:
        # Readers and one writer at a time without "database is locked"; switching mode waits on the busy timeout.
        conn.execute("PRAGMA journal_mode = WAL")
    # NORMAL in WAL keeps every committed transaction across a process crash (only an OS crash can lose the last ones).
    conn.execute("PRAGMA synchronous = NORMAL")
    conn.execute("PRAGMA foreign_keys = ON")
    store = sqlite_utils.Database(conn)
    if migrate:
        apply_migrations(store)
    return store


def _connect_readonly(path) -> sqlite_utils.Database:
    path = Path(path)
    if not path.exists():
        raise StoreNotFound(f"no evidence store at {path} (run a crawl first, or pass --db)")
    conn = sqlite3.connect(path.resolve().as_uri() + "?mode=ro", uri=True, timeout=BUSY_TIMEOUT_SECONDS)
    conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_SECONDS * 1000}")
    return sqlite_utils.Database(conn)


def _migration_sets():
    for name in MIGRATION_MODULES:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as error:
            if error.name == name:
                continue
            raise
        migrations = getattr(module, "migrations", None)
        if migrations is not None:
            yield migrations


def apply_migrations(store) -> None:
    """Apply pending migrations under the write lock, so processes opening a new store at once do not collide."""
    sets = list(_migration_sets())
    if not any(m.pending(store) for m in sets):
        return
    with write_transaction(store):
        for migrations in sets:
            migrations.apply(store)


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
