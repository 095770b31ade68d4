"""CLI commands for the review desk: serve, user, review."""

from __future__ import annotations

import ipaddress
import sys
from pathlib import Path

import click

import db
from db import accounts, decisions
from keywatch.options import (
    cli_channel,
    db_option,
    load_watchlist_or_fail,
    open_store,
    parse_listing_ref,
    read_store,
    watchlist_option,
)
from keywatch.terminal import printable

LOOPBACK_NAMES = ("localhost",)


def is_loopback(host: str) -> bool:
    if host in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@click.command()
@db_option
@watchlist_option
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8000, show_default=True, type=click.IntRange(0, 65535), help="Port to listen on.")
@click.option("--threads", default=4, show_default=True, type=click.IntRange(1, 64), help="Worker threads.")
@click.option(
    "--secure-cookies", is_flag=True, help="Mark the session cookie Secure (use when a TLS reverse proxy is in front)."
)
@click.option(
    "--trusted-proxies",
    type=click.IntRange(0, 10),
    default=0,
    show_default=True,
    envvar="KEYWATCH_TRUSTED_PROXIES",
    show_envvar=True,
    help="Reverse proxies in front whose X-Forwarded-For, -Proto and -Host headers are believed (0: "
    "none). Set 1 behind one TLS proxy, so that the audit trail and login throttling see each "
    "reviewer's address, not the proxy's.",
)
def serve(db_path, watchlist_path, host, port, threads, secure_cookies, trusted_proxies):
    """Start the review desk web UI (waitress, 127.0.0.1:8000 by default).

    Reviewers confirm listings as one of the categories of --watchlist. Create an account first with
    `keywatch user add NAME --role admin`. Behind a TLS reverse proxy use --secure-cookies and
    --trusted-proxies 1 (see docs/operations.md).
    """
    from waitress import serve as waitress_serve

    from webui import create_app
    from webui.app import settle

    load_watchlist_or_fail(watchlist_path)
    # An existing store only: a typo in --db, or a start that then fails to bind its port, leaves no file behind.
    try:
        with open_store(db_path) as store:
            has_users = bool(accounts.list_users(store))
    except click.ClickException as error:
        if Path(db_path).exists():
            raise
        raise click.ClickException(
            f"{error.message}; to start a new one, create its first account with "
            f"`keywatch user add NAME --role admin --db {db_path}`"
        ) from None
    if not is_loopback(host):
        click.secho(
            f"WARNING: listening on {host}, not only on this machine. Anyone who can reach this address can try "
            "to log in; the review desk speaks plain HTTP, so put it behind a TLS reverse proxy and use "
            "--secure-cookies.",
            fg="red",
            err=True,
        )
        if trusted_proxies:
            click.secho(
                f"WARNING: --trusted-proxies with --host {host}: a client that reaches this port without going "
                "through the proxy can forge its address (in the audit trail and for login throttling). Let only "
                "the proxy reach it.",
                fg="red",
                err=True,
            )
    if not has_users:
        click.secho("No users yet: create one with `keywatch user add NAME --role admin`.", fg="yellow", err=True)
    try:
        app = create_app(
            db_path,
            watchlist_path=watchlist_path,
            SESSION_COOKIE_SECURE=secure_cookies,
            TRUSTED_PROXIES=trusted_proxies,
        )
    except (RuntimeError, OSError) as error:  # an unreadable or damaged <db>.secret key file
        raise click.ClickException(str(error)) from None
    settle()
    click.echo(f"Starting the review desk on http://{host}:{port}/ (database {db_path}); Ctrl+C stops it.", err=True)
    try:
        waitress_serve(app, host=host, port=port, threads=threads, ident="keywatch")
    except OSError as error:  # the port is taken, the address is not this machine's, the name does not resolve
        raise click.ClickException(f"cannot listen on {host}:{port}: {error.strerror or error}") from None


@click.group()
def user():
    """Manage review desk accounts (passwords are stored as argon2id hashes)."""


def _read_password(password_stdin: bool, what: str = "password", *, confirm: bool = True) -> str:
    """One password: the next line of standard input with --password-stdin, else asked for (twice to confirm)."""
    try:
        if password_stdin:
            # Bytes, decoded here: a text stream would raise on a byte that is not UTF-8, with a traceback.
            password = sys.stdin.buffer.readline().decode("utf-8").rstrip("\r\n")
            if not password:
                raise click.ClickException(f"no {what} on standard input")
            return password
        return click.prompt(what.capitalize(), hide_input=True, confirmation_prompt=confirm)
    except UnicodeDecodeError:
        raise click.ClickException(f"the {what} given is not valid UTF-8 text") from None


@user.command("add")
@click.argument("name")
@click.option("--role", type=click.Choice(accounts.ROLES), default="reviewer", show_default=True, help="Account role.")
@click.option("--password-stdin", is_flag=True, help="Read the password from the first line of standard input.")
@db_option
def user_add(name, role, password_stdin, db_path):
    """Create an account NAME (asks for the password twice unless --password-stdin)."""
    from webui.auth import hash_password

    password = _read_password(password_stdin)
    with open_store(db_path, create=True) as store:
        try:
            accounts.add_user(store, name, hash_password(password), role=role, via=cli_channel())
        except accounts.ReviewError as error:
            raise click.ClickException(str(error)) from None
    click.echo(f"Created {role} {name}.")


@user.command("passwd")
@click.argument("name")
@click.option(
    "--password-stdin",
    is_flag=True,
    help="Read the current password from the first line of standard input, the new one from the second.",
)
@db_option
def user_passwd(name, password_stdin, db_path):
    """Change the password of NAME, given the current one.

    Asks for the current password, then the new one twice. The account's open sessions end.
    """
    from webui.auth import check_password

    current = _read_password(password_stdin, "current password", confirm=False)
    new = _read_password(password_stdin, "new password")
    with open_store(db_path) as store:
        account = accounts.get_user(store, name)
        if account is None or account.disabled:
            raise click.ClickException(f"no active user {name!r}")
        if not check_password(store, name, current):
            raise click.ClickException(
                f"the current password is wrong (an administrator can use `keywatch user reset-password {name}`)"
            )
        _set_password(store, name, new, actor=name)
    click.echo(f"Changed the password of {name}; its open sessions have ended.")


@user.command("reset-password")
@click.argument("name")
@click.option("--password-stdin", is_flag=True, help="Read the new password from the first line of standard input.")
@db_option
def user_reset_password(name, password_stdin, db_path):
    """Set a new password for NAME without the current one.

    An administrator's reset, for a lost or exposed password. The account's open sessions end.
    """
    new = _read_password(password_stdin, "new password")
    with open_store(db_path) as store:
        _set_password(store, name, new, actor=None)
    click.echo(f"Reset the password of {name}; its open sessions have ended.")


def _set_password(store, name: str, password: str, *, actor: str | None) -> None:
    """`actor`: the account's own user (who gave its current password), or None for a reset."""
    from webui.auth import hash_password

    try:
        accounts.set_password(store, name, hash_password(password), actor=actor, via=cli_channel())
    except accounts.ReviewError as error:
        raise click.ClickException(str(error)) from None


@user.command("list")
@db_option
def user_list(db_path):
    """List accounts with their role and state."""
    with read_store(db_path) as store:
        users = accounts.list_users(store)
    if not users:
        click.echo("No users. Create one with `keywatch user add NAME --role admin`.")
    for u in users:
        state = "disabled" if u.disabled else "active"
        click.echo("\t".join(printable(v) for v in (u.name, u.role, state, u.created_at)))


@user.command("disable")
@click.argument("name")
@db_option
def user_disable(name, db_path):
    """Disable account NAME and end its sessions for good.

    It can no longer log in, and enabling it again later does not revive the sessions it had.
    """
    _set_disabled(name, db_path, True)
    click.echo(f"Disabled {name}.")


@user.command("enable")
@click.argument("name")
@db_option
def user_enable(name, db_path):
    """Re-enable a disabled account NAME."""
    _set_disabled(name, db_path, False)
    click.echo(f"Enabled {name}.")


def _set_disabled(name, db_path, disabled: bool) -> None:
    with open_store(db_path) as store:
        try:
            accounts.set_disabled(store, name, disabled, via=cli_channel())
        except accounts.ReviewError as error:
            raise click.ClickException(str(error)) from None


@click.command("review")
@click.argument("listing", metavar="MARKETPLACE:LISTING_ID")
@click.option("--confirm", "category", metavar="CATEGORY", help="Confirm the listing as this device category.")
@click.option("--dismiss", "reason", type=click.Choice(decisions.DISMISS_REASONS), help="Dismiss it, for this reason.")
@click.option("--escalate", is_flag=True, help="Escalate it for a senior reviewer.")
@click.option("--note", help="Free-text note (alone: adds a note without changing the status).")
@click.option("--user", "user_name", required=True, help="The reviewer taking the decision (an existing account).")
@db_option
@watchlist_option
def review_command(listing, category, reason, escalate, note, user_name, db_path, watchlist_path):
    """Record a review decision from the command line, with the same audit trail as the web UI.

    Example: keywatch review demo:KW-0042 --confirm relay_attack --note "seen twice" --user alice
    """
    marketplace, listing_id = parse_listing_ref(listing)
    chosen = [a for a, on in (("confirm", category), ("dismiss", reason), ("escalate", escalate)) if on]
    if len(chosen) > 1:
        raise click.UsageError("choose one of --confirm, --dismiss, --escalate")
    if not chosen and not note:
        raise click.UsageError("choose one of --confirm CATEGORY, --dismiss REASON, --escalate (or give --note)")
    action = chosen[0] if chosen else "note"
    if category is not None:
        categories = load_watchlist_or_fail(watchlist_path).categories
        if category not in categories:
            raise click.ClickException(
                f"unknown category {category!r} in {watchlist_path}; one of: {', '.join(categories)}"
            )
    with open_store(db_path) as store:
        listing = db.get_listing(store, marketplace, listing_id)
        if listing is None:
            raise click.ClickException(f"no listing {marketplace}:{listing_id} in {db_path}")
        try:
            row = decisions.decide(
                store, listing["pk"], user_name, action, category=category, reason=reason, note=note, via=cli_channel()
            )
        except accounts.ReviewError as error:
            raise click.ClickException(str(error)) from None
    click.echo(
        f"Decision {row['id']}: {marketplace}:{listing_id} {row['status_before']} -> {row['status_after']} "
        f"({action} by {user_name})."
    )


commands = [serve, user, review_command]
