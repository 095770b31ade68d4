"""Request guards for the review desk: login and role checks, CSRF tokens, security headers, the secret key.

CSRF is a small synchronizer-token implementation rather than Flask-WTF: the app has no WTForms forms, htmx
sends the token as a header (`X-CSRF-Token`, set once on <body> via hx-headers) and plain forms send it as a
hidden field, and the whole check is one constant-time comparison against a random per-session token.
"""

from __future__ import annotations

import functools
import hmac
import os
import secrets
from pathlib import Path
from urllib.parse import urlsplit

from flask import abort, current_app, flash, g, redirect, request, session, url_for

CSRF_FIELD = "csrf_token"
CSRF_HEADER = "X-CSRF-Token"
SAFE_METHODS = ("GET", "HEAD", "OPTIONS")

# The app's own pages: nothing inline, nothing from elsewhere.
APP_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "frame-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
# A captured page is hostile: a unique origin, no scripts, no forms, no plugins, no popups, and no requests
# anywhere (so a captured page cannot even ping the marketplace that an officer is looking at it).
CAPTURE_CSP = (
    "sandbox; default-src 'none'; style-src 'unsafe-inline'; img-src data:; form-action 'none'; frame-ancestors 'self'"
)


def load_secret_key(db_path: Path) -> bytes:
    """The session-signing key, kept in `<db>.secret` beside the database (mode 0600), made on first use.

    Beside rather than inside the database so that a copy of the evidence store handed to someone else does
    not carry the key that signs reviewers' sessions. The file is written whole under a temporary name and
    then linked into place, so a second process starting at the same moment never reads it half-written.
    """
    key_path = Path(f"{db_path}.secret")
    if not key_path.exists():
        key = secrets.token_bytes(32)
        temporary = key_path.with_name(f".{key_path.name}.{secrets.token_hex(8)}")
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            with os.fdopen(fd, "w") as f:
                f.write(key.hex())
                f.flush()
                os.fsync(f.fileno())
            os.link(temporary, key_path)  # fails if another process made it first: then theirs is used
        except FileExistsError:
            pass
        finally:
            temporary.unlink(missing_ok=True)
    try:
        key = bytes.fromhex(key_path.read_text().strip())
    except ValueError:
        key = b""
    if len(key) < 32:
        raise RuntimeError(f"{key_path} does not hold a 32-byte hex session key: delete it to make a new one")
    return key


def csrf_token() -> str:
    token = session.get(CSRF_FIELD)
    if not token:
        token = session[CSRF_FIELD] = secrets.token_urlsafe(32)
    return token


def check_csrf() -> None:
    """Refuse (400) any state-changing request whose token is missing or does not match the session's."""
    if request.method in SAFE_METHODS:
        return
    sent = request.headers.get(CSRF_HEADER) or request.form.get(CSRF_FIELD) or ""
    expected = session.get(CSRF_FIELD) or ""
    if not expected or not hmac.compare_digest(sent.encode(), expected.encode()):
        abort(400, description="The form's security token is missing or out of date. Reload the page and try again.")


def add_security_headers(response):
    response.headers.setdefault("Content-Security-Policy", APP_CSP)
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Referrer-Policy", "no-referrer")
    response.headers.setdefault("X-Frame-Options", "DENY")
    if request.endpoint != "static":
        # Listing pages hold personal data (seller names): keep them out of shared and disk caches.
        response.headers.setdefault("Cache-Control", "no-store")
    return response


def to_login(next_url: str | None = None):
    if request.headers.get("HX-Request"):
        # htmx would swap the login page into a table row: tell it to navigate instead.
        response = current_app.response_class(status=401)
        response.headers["HX-Redirect"] = url_for("auth.login")
        return response
    return redirect(url_for("auth.login", next=next_url))


def session_ended():
    """The answer to a POST without a live session (logged out in another tab, expired, account disabled).

    The request is refused unread; the reviewer lands on the login page told why, rather than on a 400 about a
    missing token. A cross-site forgery against a logged-out browser gets the same harmless redirect.
    """
    if not from_another_site():
        # Only for one's own stale tab: a flash sets a cookie, and a cross-site POST (sent without the SameSite
        # cookie) must not be able to replace a reviewer's live session with it and so log them out.
        flash(
            "Your session has ended (logged out, expired or the account was disabled), so that action was not "
            "recorded. Log in and try again.",
            "error",
        )
    return to_login()


def from_another_site() -> bool:
    """Whether the browser says this request was sent by another site (Fetch metadata, else Origin)."""
    site = request.headers.get("Sec-Fetch-Site")
    if site:
        return site not in ("same-origin", "none")
    origin = request.headers.get("Origin")
    return bool(origin) and origin != request.host_url.rstrip("/")


def login_required(view):
    @functools.wraps(view)
    def wrapped(*args, **kwargs):
        if g.user is None:
            return to_login(request.full_path.rstrip("?") if request.method == "GET" else None)
        return view(*args, **kwargs)

    return wrapped


def admin_required(view):
    @functools.wraps(view)
    @login_required
    def wrapped(*args, **kwargs):
        if not g.user.is_admin:
            abort(403, description="Only administrators can manage users.")
        return view(*args, **kwargs)

    return wrapped


def is_web_link(url) -> bool:
    """Whether `url` is an absolute http(s) URL, safe to put in an href."""
    try:
        parts = urlsplit(str(url or "").strip())
    except ValueError:
        return False
    return parts.scheme.lower() in ("http", "https") and bool(parts.netloc)


def safe_next(target: str | None) -> str:
    """Only local paths after login: never an open redirect to another site.

    Browsers drop tabs and newlines inside a URL and read a backslash as a slash, so `/<TAB>/evil.example`
    would arrive as `//evil.example`: any whitespace, control character or backslash disqualifies the target.
    """
    if (
        target
        and target.startswith("/")
        and not target.startswith("//")
        and "\\" not in target
        and not any(c.isspace() or ord(c) < 32 or ord(c) == 127 for c in target)
        and not urlsplit(target).netloc
    ):
        return target
    return url_for("review.queue")
