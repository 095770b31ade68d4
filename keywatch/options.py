"""Options shared by several commands, as decorators (sqlite-utils style)."""

import contextlib
import math
import os
import re
import sqlite3
from pathlib import Path

import click

from common import settings


def db_option(fn):
    """`--db PATH`: the evidence store (default: $KEYWATCH_DB or data/keywatch.sqlite)."""
    return click.option(
        "--db",
        "db_path",
        type=click.Path(dir_okay=False, path_type=Path),
        default=None,
        help="SQLite evidence store [default: $KEYWATCH_DB or data/keywatch.sqlite]",
        callback=lambda ctx, param, value: value or settings.db_path(),
    )(fn)


def table_format_option(help_text: str = "Output format."):
    """--format table|jsonl|csv (as `output_format`), for commands that list rows."""
    return click.option(
        "--format",
        "output_format",
        type=click.Choice(["table", "jsonl", "csv"]),
        default="table",
        show_default=True,
        help=help_text,
    )


def watchlist_option(fn):
    """`--watchlist PATH`: the watchlist (default: $KEYWATCH_WATCHLIST or ./watchlist.yaml)."""
    return click.option(
        "--watchlist",
        "watchlist_path",
        type=click.Path(dir_okay=False, path_type=Path),
        default=None,
        help="Watchlist YAML [default: $KEYWATCH_WATCHLIST or ./watchlist.yaml]",
        callback=lambda ctx, param, value: value or settings.watchlist_path(),
    )(fn)


def load_watchlist_or_fail(path):
    """The watchlist at `path`, compiled once per process; every problem with it is a user error that names the
    file and line. Commands check it before they start work: better now than mid-crawl."""
    from classifier import WatchlistError, shared_watchlist

    try:
        return shared_watchlist(path)
    except WatchlistError as error:
        raise click.ClickException(str(error)) from None


def load_watchlist_with_model(path):
    """The watchlist at `path` with its model loaded now, or a one-line error: a broken model file is reported
    before the first listing. Loaded afresh, not shared: `train` replaces the model file beside an unchanged
    watchlist."""
    from classifier import ModelError, WatchlistError, load_watchlist

    try:
        wl = load_watchlist(path)
        wl.model  # noqa: B018 - loads it
        return wl
    except (WatchlistError, ModelError) as exc:
        raise click.ClickException(str(exc)) from None


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


# Option types: a value click accepts must also be one the store and the standard library accept, so a
# command never meets an out-of-range number as a traceback deep inside.


class RowId(click.types.IntParamType):
    """A row id, 1 up to SQLite's largest INTEGER (a larger number overflows it)."""

    name = "id"

    def convert(self, value, param, ctx):
        number = super().convert(value, param, ctx)
        if not 1 <= number <= 2**63 - 1:
            self.fail(f"{value!r} is not a row id (1 to 2**63-1)", param, ctx)
        return number


class Days(click.FloatRange):
    """A number of days from 0 to a century (finite, so that now minus it is a real date)."""

    name = "days"

    def __init__(self):
        super().__init__(0, 36525)

    def convert(self, value, param, ctx):
        days = super().convert(value, param, ctx)
        if math.isnan(days):  # NaN passes every range comparison
            self.fail(f"{value!r} is not a number of days", param, ctx)
        return days


class Sha256(click.ParamType):
    """A SHA-256 as 64 hex digits, either case (compared in lower case, as the store writes them)."""

    name = "sha256"

    def convert(self, value, param, ctx):
        digest = str(value).strip().lower()
        if not re.fullmatch(r"[0-9a-f]{64}", digest):
            self.fail(f"{value!r} is not a SHA-256 (64 hex digits)", param, ctx)
        return digest


ROW_ID = RowId()
DAYS = Days()
SHA256 = Sha256()


def refuse_store_as_output(out_path, db_path) -> None:
    """An output file must never replace the evidence store or one of SQLite's files beside it."""
    out, store = Path(out_path).resolve(), Path(db_path).resolve()
    if out in {store, *(store.with_name(store.name + suffix) for suffix in ("-wal", "-shm", "-journal"))} or (
        out.exists() and store.exists() and os.path.samefile(out, store)
    ):
        raise click.ClickException(f"{out_path} is the evidence store or one of its files: choose another --out")


def cli_channel() -> str:
    """Who really ran a decision's command: the command line takes a reviewer's name without a password."""
    import socket

    return f"cli {login_name()}@{socket.gethostname()}"


def login_name() -> str:
    """Who runs this command, as the OS knows them; some containers have no login name, only a uid."""
    import getpass

    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return f"uid {os.getuid()}" if hasattr(os, "getuid") else "unknown"
