"""Options shared by several commands, as decorators (sqlite-utils style)."""

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
