"""Options shared by several commands, as decorators (sqlite-utils style)."""

import contextlib
import sqlite3
from pathlib import Path

import click

from keywatch.paths import default_db_path, default_watchlist_path


def db_option(fn):
    """`--db PATH`: the evidence store (default: $KEYWATCH_DB or data/keywatch.sqlite)."""
    return click.option(
        "--db",
        "db_path",
        type=click.Path(dir_okay=False, path_type=Path),
        default=None,
        help="SQLite evidence store [default: $KEYWATCH_DB or data/keywatch.sqlite]",
        callback=lambda ctx, param, value: value or default_db_path(),
    )(fn)


def watchlist_option(fn):
    """`--watchlist PATH`: the watchlist (default: $KEYWATCH_WATCHLIST or ./watchlist.yaml)."""
    return click.option(
        "--watchlist",
        "watchlist_path",
        type=click.Path(dir_okay=False, path_type=Path),
        default=None,
        help="Watchlist YAML [default: $KEYWATCH_WATCHLIST or ./watchlist.yaml]",
        callback=lambda ctx, param, value: value or default_watchlist_path(),
    )(fn)


def connect_store(db_path, *, create: bool = False):
    """The evidence store for a command that writes to it, migrated; a missing, foreign or newer file is a
    one-line user error. Commands that only read use `read_store`.

    Only commands that write new evidence create a store: a typo in --db must not leave an empty file behind.
    """
    import db

    try:
        return db.connect(db_path, create=create)
    except db.StoreError as error:
        raise click.ClickException(str(error)) from None
    except sqlite3.DatabaseError as error:
        if error.sqlite_errorname == "SQLITE_NOTADB":
            raise click.ClickException(f"{db_path}: not a keywatch evidence store ({error})") from None
        raise click.ClickException(f"cannot open {db_path} for writing: {error}") from None


@contextlib.contextmanager
def open_store(db_path, *, create: bool = False):
    """connect_store, closed when the block ends."""
    store = connect_store(db_path, create=create)
    try:
        yield store
    finally:
        store.close()


@contextlib.contextmanager
def read_store(db_path):
    """The evidence store for a command that only reads it (db.read_only: nothing in or beside the file
    changes, so an examiner's write-protected copy reads as well as the live store); every problem with the
    store, including one met while reading, is a one-line user error.
    """
    import db

    try:
        with db.read_only(db_path) as store:
            yield store
    except db.StoreError as error:
        raise click.ClickException(str(error)) from None
    except sqlite3.DatabaseError as error:
        raise click.ClickException(f"cannot read {db_path}: {error}") from None


def parse_listing_ref(ref: str, param_hint: str = "LISTING") -> tuple[str, str]:
    """MARKETPLACE:LISTING_ID, as commands take a listing."""
    marketplace, sep, listing_id = ref.partition(":")
    if not sep or not marketplace or not listing_id:
        raise click.BadParameter(f"expected MARKETPLACE:LISTING_ID, got {ref!r}", param_hint=param_hint)
    return marketplace, listing_id
