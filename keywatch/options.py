"""Options shared by several commands, as decorators (sqlite-utils style)."""

import contextlib
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


def connect_store(db_path, *, create: bool = False, readonly: bool = False):
    """The evidence store for a command; a missing or foreign file is a one-line user error.

    Only commands that write new evidence create a store: a typo in --db must not leave an empty file behind.
    """
    import sqlite3

    import db

    try:
        return db.connect(db_path, create=create, readonly=readonly)
    except db.StoreNotFound as error:
        raise click.ClickException(str(error)) from None
    except sqlite3.DatabaseError as error:
        raise click.ClickException(f"{db_path}: not a keywatch evidence store ({error})") from None


@contextlib.contextmanager
def open_store(db_path, *, create: bool = False, readonly: bool = False):
    """connect_store, closed when the block ends."""
    store = connect_store(db_path, create=create, readonly=readonly)
    try:
        yield store
    finally:
        store.close()


def parse_listing_ref(ref: str, param_hint: str = "LISTING") -> tuple[str, str]:
    """MARKETPLACE:LISTING_ID, as commands take a listing."""
    marketplace, sep, listing_id = ref.partition(":")
    if not sep or not marketplace or not listing_id:
        raise click.BadParameter(f"expected MARKETPLACE:LISTING_ID, got {ref!r}", param_hint=param_hint)
    return marketplace, listing_id
