"""Signing in: argon2id password hashes, login with throttling, server-side sessions, logout."""

from __future__ import annotations

import functools

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import Blueprint, current_app, flash, g, redirect, render_template, request, session, url_for

from db import accounts
from webui.security import safe_next

bp = Blueprint("auth", __name__)
hasher = PasswordHasher()  # argon2id with the library's current recommended parameters

MIN_PASSWORD_LENGTH = 10
# Five wrong passwords for one account from one address within 15 minutes lock that pair for the rest of the
# window; other users, and the same user elsewhere, are unaffected (no lock-out of a whole team by a guesser).
MAX_FAILURES = 5
WINDOW_SECONDS = 15 * 60
TOO_MANY_FAILURES = "Too many failed attempts for this account from your address. Wait 15 minutes and try again."


@functools.cache
def _dummy_hash(parameters) -> str:
    """Verified against when the user does not exist, so an unknown name costs as long as a wrong password."""
    return hasher.hash("keywatch-no-such-user")


def hash_password(password: str) -> str:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise accounts.ReviewError(f"passwords need at least {MIN_PASSWORD_LENGTH} characters")
    return hasher.hash(password)


def check_password(store, name: str, password: str) -> bool:
    stored = accounts.password_hash(store, name)
    try:
        hasher.verify(stored or _dummy_hash((hasher.time_cost, hasher.memory_cost, hasher.parallelism)), password)
    except (VerificationError, InvalidHashError):
        return False
    if stored is None:
        return False
    if hasher.check_needs_rehash(stored):
        accounts.set_password_hash(store, name, hasher.hash(password))
    return True


def client_ip() -> str:
    # Behind a reverse proxy, ProxyFix (create_app's TRUSTED_PROXIES) has already put the client's address here.
    return request.remote_addr or "unknown"


def web_channel() -> str:
    """How a decision or account change arrived, for the audit trails: `web <client address>`."""
    return f"web {client_ip()}"


def throttled_check(name: str, password: str) -> bool | None:
    """Check `name`'s password under the login throttle: True, False, or None while the pair is locked out.

    Shared by the login form and the change-password form, so that a stolen session cannot be used to guess
    its account's password faster than the login page allows.
    """
    store, config = g.store, current_app.config
    # Counted as a failure before the password is checked, so parallel guesses cannot slip past the limit.
    attempt = accounts.reserve_login_attempt(
        store, name, client_ip(), config["LOGIN_MAX_FAILURES"], config["LOGIN_WINDOW_SECONDS"]
    )
    if attempt is None:
        return None
    if not name or not check_password(store, name, password):
        return False
    accounts.login_succeeded(store, attempt)
    return True


def start_session(name: str) -> None:
    """A fresh session (new cookie, CSRF token and server-side id) for `name`: no session fixation."""
    session.clear()
    session["user"] = name
    session["sid"] = accounts.start_session(g.store, name)
    session.permanent = True


@bp.route("/login", methods=["GET", "POST"])
def login():
    if request.method != "POST":
        if g.user is not None:
            return redirect(url_for("review.queue"))
        return render_template("login.html", next=request.args.get("next", ""))
    name = request.form.get("username", "").strip()
    checked = throttled_check(name, request.form.get("password", ""))
    if not checked:
        status, message = (429, TOO_MANY_FAILURES) if checked is None else (401, "Wrong user name or password.")
        flash(message, "error")
        return render_template("login.html", next=request.form.get("next", ""), username=name), status
    start_session(name)
    return redirect(safe_next(request.form.get("next")), code=303)


@bp.route("/logout", methods=["POST"])
def logout():
    # Ended on the server too: a copy of the cookie taken before logging out no longer works.
    accounts.end_session(g.store, session.get("sid"))
    session.clear()
    return redirect(url_for("auth.login"), code=303)
