"""The Flask application factory: one store connection per request, login and CSRF checks, security headers."""

from __future__ import annotations

import datetime
from pathlib import Path

from flask import Flask, g, render_template, request, session
from werkzeug.exceptions import HTTPException
from werkzeug.middleware.proxy_fix import ProxyFix
from werkzeug.routing import IntegerConverter

import db
from classifier import shared_watchlist
from common import settings
from db import accounts as account_store
from webui import accounts, auth, badges, network_pages, security, untrusted, views
from webui.stores import Stores

SQLITE_MAX_INTEGER = 2**63 - 1


class RowIdConverter(IntegerConverter):
    """`<int:...>` in a route, bounded to what SQLite can store: a larger number is a 404, not an OverflowError."""

    def __init__(self, map, *args, **kwargs):
        kwargs.setdefault("max", SQLITE_MAX_INTEGER)
        super().__init__(map, *args, **kwargs)


def create_app(db_path, *, watchlist_path=None, secret_key: bytes | None = None, **config) -> Flask:
    """The review desk over the evidence store at `db_path` (created and migrated if missing).

    Reviewers confirm listings as one of the categories of the watchlist at `watchlist_path` (default:
    common.settings.watchlist_path); classifier.WatchlistError when it cannot be used.
    """
    db_path = Path(db_path)
    watchlist = shared_watchlist(watchlist_path or settings.watchlist_path())
    app = Flask(__name__)
    app.config.update(
        DB_PATH=db_path,
        CATEGORY_LABELS={cid: category.label for cid, category in watchlist.categories.items()},
        SECRET_KEY=secret_key or security.load_secret_key(db_path),
        SESSION_COOKIE_NAME="keywatch_session",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        PERMANENT_SESSION_LIFETIME=datetime.timedelta(hours=12),
        # The lifetime runs from login (db.accounts.session_active), so re-sending the cookie on every response
        # adds nothing and races: a slow photo response carrying the session as it was when the photo was asked for
        # overwrote the cookie a decision had just set, and its "Decision recorded." flash was lost.
        SESSION_REFRESH_EACH_REQUEST=False,
        MAX_CONTENT_LENGTH=1024 * 1024,
        LOGIN_MAX_FAILURES=auth.MAX_FAILURES,
        LOGIN_WINDOW_SECONDS=auth.WINDOW_SECONDS,
        # Set SESSION_COOKIE_SECURE when serving over HTTPS (keywatch serve --secure-cookies).
        # How many reverse proxies in front may say who the client is (keywatch serve --trusted-proxies).
        TRUSTED_PROXIES=0,
    )
    app.config.update(config)
    if app.config["TRUSTED_PROXIES"]:
        # Off by default: trusted X-Forwarded-* headers from a client that reaches the desk directly would let it
        # choose its own address (the audit trail's "web <address>" and the login throttle's key).
        hops = app.config["TRUSTED_PROXIES"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)
    app.url_map.converters["int"] = RowIdConverter
    # Create the store and apply every migration once up front, not racing on the first requests.
    db.connect(db_path).conn.close()
    stores = app.extensions["keywatch_stores"] = Stores(db_path)

    @app.before_request
    def open_store_and_user():
        g.user = None
        if request.endpoint == "static":
            return
        g.store = stores.acquire()
        name = session.get("user")
        if name:
            user = account_store.get_user(g.store, name)
            lifetime = app.permanent_session_lifetime.total_seconds()
            # A disabled account, or a session logged out elsewhere, ends at once, not when the cookie expires.
            if (
                user is None
                or user.disabled
                or not account_store.session_active(g.store, session.get("sid"), name, lifetime)
            ):
                session.clear()
            else:
                g.user = user
        if g.user is None and request.method not in security.SAFE_METHODS and request.endpoint != "auth.login":
            # Checked before the token: an ended session has no token left, and that is not a forgery to report
            # as a 400 but a reason to log in again. Either way the POST is refused and nothing changes.
            return security.session_ended()
        security.check_csrf()

    @app.teardown_request
    def close_store(_exc):
        store = g.pop("store", None)
        if store is not None:
            stores.release(store)

    app.after_request(security.add_security_headers)

    @app.context_processor
    def template_globals():
        return {"csrf_token": security.csrf_token, "current_user": g.get("user")}

    # Globals rather than context variables: a block rendered alone (an htmx fragment) sees them too.
    app.jinja_env.globals.update(badges.GLOBALS)
    # A captured listing URL is hostile input: only http(s) becomes a link (never javascript: or data:).
    app.jinja_env.tests["web_link"] = security.is_web_link
    # Text a seller wrote is shown with its invisible and bidi control characters visible (webui/untrusted.py).
    app.jinja_env.filters["untrusted"] = untrusted.isolate
    app.jinja_env.filters["untrusted_segment"] = untrusted.reveal_segment
    app.jinja_env.filters["untrusted_plain"] = untrusted.reveal_plain

    @app.errorhandler(HTTPException)
    def http_error(error):
        return render_template("error.html", error=error), error.code

    app.register_blueprint(auth.bp)
    app.register_blueprint(accounts.bp)
    app.register_blueprint(views.bp)
    app.register_blueprint(network_pages.bp)
    return app


def settle() -> None:
    """Load what pages import on first use, then move everything loaded so far out of the garbage collector's
    sight (gc.freeze): a full collection otherwise walks the libraries' objects (NumPy, SciPy, the watchlist),
    100-300 ms on the shared 2-core VM, and lands on whichever request triggers it. For a server that was just
    started: objects created later are collected as usual. (The report's charts are SVG, exports/report_charts.py:
    matplotlib's left tens of thousands of objects in cycles after every drawing, for such a collection to walk.)"""
    import gc

    import exports.report  # the report page

    exports.report._environment().get_template("report.html.j2")  # compiled once, before the freeze
    gc.collect()
    gc.freeze()
