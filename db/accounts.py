"""Review desk accounts: users and their password hashes, login throttling, server-side sessions, and the record
of account changes (who created, disabled, enabled an account or set its password, when and from where).

Passwords arrive here already hashed (webui/auth.py hashes and checks them); tables: db/review_schema.py.
"""

from __future__ import annotations

import datetime
import re
import secrets
from dataclasses import dataclass

from sqlite_utils import Database

from db.canonical import format_utc, utc_now
from db.connection import write_transaction

ROLES = ("reviewer", "admin")
# What account_changes.change says.
CREATED, DISABLED, ENABLED = "created", "disabled", "enabled"
PASSWORD_CHANGED, PASSWORD_RESET = "password changed", "password reset"


class ReviewError(ValueError):
    """A decision or account change that cannot be made; the message is meant for the user."""


@dataclass(frozen=True)
class User:
    name: str
    role: str
    disabled: bool
    created_at: str

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"


def _user(row: dict) -> User:
    return User(row["name"], row["role"], bool(row["disabled"]), row["created_at"])


# A user name is what the audit trail shows for every decision, so no name may pass for another. ASCII only:
# letters of other alphabets can be pixel-identical to Latin ones (Cyrillic "а" in "аdmin"). Within ASCII, names
# that differ only by case or by a look-alike character ("a1ice", "b0b", "Alice") are refused too.
USER_NAME = re.compile(r"[A-Za-z0-9._@-]{1,64}")
_LOOK_ALIKES = str.maketrans({"1": "l", "I": "l", "0": "o", "O": "o"})


def _look_alike_key(name: str) -> str:
    return name.translate(_LOOK_ALIKES).lower().replace("rn", "m").replace("vv", "w")


def add_user(
    store: Database,
    name: str,
    password_hash: str,
    role: str = "reviewer",
    created_by: str | None = None,
    *,
    via: str | None = None,
) -> User:
    """Create an account; `created_by` is the desk user who did (None from the command line), `via` how."""
    if role not in ROLES:
        raise ReviewError(f"role must be one of {', '.join(ROLES)}, not {role!r}")
    if not USER_NAME.fullmatch(name):
        raise ReviewError(
            "user names are 1-64 ASCII letters, digits or . _ - @ (a letter from another alphabet "
            "can look identical to a Latin one, like the Cyrillic 'а' in 'аdmin')"
        )
    with write_transaction(store):
        if get_user(store, name) is not None:
            raise ReviewError(f"user {name!r} already exists")
        key = _look_alike_key(name)
        for other in list_users(store):
            if _look_alike_key(other.name) == key:
                raise ReviewError(
                    f"user name {name!r} looks like the existing user {other.name!r}: choose a clearly different name"
                )
        store.execute(
            "INSERT INTO users (name, password_hash, role, disabled, created_at, created_by) VALUES (?, ?, ?, 0, ?, ?)",
            [name, password_hash, role, utc_now(), created_by],
        )
        _record_change(store, name, f"{CREATED} ({role})", created_by, via)
    return _existing_user(store, name)


def get_user(store: Database, name: str) -> User | None:
    row = next(store.query("SELECT * FROM users WHERE name = ?", [name]), None)
    return _user(row) if row else None


def active_user(store: Database, name: str) -> User:
    """The account that records a decision: it must exist and not be disabled."""
    user = get_user(store, name)
    if user is None or user.disabled:
        raise ReviewError(f"no active user {name!r} (create one with `keywatch user add`)")
    return user


def _existing_user(store: Database, name: str) -> User:
    user = get_user(store, name)
    if user is None:
        raise ReviewError(f"no such user: {name!r}")
    return user


def list_users(store: Database) -> list[User]:
    return [_user(row) for row in store.query("SELECT * FROM users ORDER BY name")]


def password_hash(store: Database, name: str) -> str | None:
    """The stored hash of an active account; None for an unknown or disabled one."""
    row = next(store.query("SELECT password_hash FROM users WHERE name = ? AND disabled = 0", [name]), None)
    return row["password_hash"] if row else None


def set_password_hash(store: Database, name: str, new_hash: str) -> None:
    """Used to upgrade a hash when argon2's parameters change (the same password: sessions carry on)."""
    with write_transaction(store):
        store.execute("UPDATE users SET password_hash = ? WHERE name = ?", [new_hash, name])


def set_password(
    store: Database, name: str, new_hash: str, *, actor: str | None = None, via: str | None = None
) -> None:
    """A new password, changed by its user (`actor` == `name`) or reset by someone else (an administrator on the
    desk, or whoever ran `keywatch user reset-password`: `actor` None). Every open session of the account ends
    with the old password, so whoever learnt the old one and logged in with it is out too."""
    with write_transaction(store):
        _existing_user(store, name)
        store.execute("UPDATE users SET password_hash = ? WHERE name = ?", [new_hash, name])
        _end_sessions_of(store, name)
        _record_change(store, name, PASSWORD_CHANGED if actor == name else PASSWORD_RESET, actor, via)


def set_disabled(
    store: Database, name: str, disabled: bool = True, *, actor: str | None = None, via: str | None = None
) -> User:
    """Disabling ends the account's sessions for good: enabling it again later does not revive them."""
    with write_transaction(store):
        _existing_user(store, name)
        store.execute("UPDATE users SET disabled = ? WHERE name = ?", [int(disabled), name])
        if disabled:
            _end_sessions_of(store, name)
        _record_change(store, name, DISABLED if disabled else ENABLED, actor, via)
    return _existing_user(store, name)


def _record_change(store: Database, account: str, change: str, actor: str | None, via: str | None) -> None:
    store.execute(
        "INSERT INTO account_changes (at, account, change, actor, via) VALUES (?, ?, ?, ?, ?)",
        [utc_now(), account, change, actor, via],
    )


def account_changes(store: Database, *, limit: int = 200) -> list[dict]:
    """The newest account changes, newest first: {"id", "at", "account", "change", "actor", "via"}."""
    return list(store.query("SELECT * FROM account_changes ORDER BY id DESC LIMIT ?", [limit]))


# ---------------------------------------------------------------- login throttling


def _since(seconds: float) -> str:
    return format_utc(datetime.datetime.now(datetime.UTC) - datetime.timedelta(seconds=seconds))


def reserve_login_attempt(store: Database, username: str, ip: str, limit: int, window_seconds: int) -> int | None:
    """Count this attempt as a failure up front, unless the pair is already throttled; returns its id or None.

    The count and the insert share one write transaction, so concurrent guesses (the server has several
    threads) cannot all pass the check before any of them is recorded. `login_succeeded` clears it.
    """
    with write_transaction(store):
        throttled = recent_failures(store, username, ip, window_seconds) >= limit
        cursor = store.execute(
            "INSERT INTO login_attempts (username, ip, at, ok) VALUES (?, ?, ?, 0)", [username[:200], ip, utc_now()]
        )
    return None if throttled else cursor.lastrowid


def login_succeeded(store: Database, attempt_id: int) -> None:
    """Mark a reserved attempt as the successful login it turned out to be."""
    store.execute("UPDATE login_attempts SET ok = 1, at = ? WHERE id = ?", [utc_now(), attempt_id])


def recent_failures(store: Database, username: str, ip: str, window_seconds: int) -> int:
    """Failed logins for this user from this address within the window, since the last success."""
    row = next(
        store.query(
            """SELECT count(*) AS n FROM login_attempts
               WHERE username = :user AND ip = :ip AND ok = 0 AND at >= :since
                 AND at > coalesce((SELECT max(at) FROM login_attempts
                                    WHERE username = :user AND ip = :ip AND ok = 1), '')""",
            {"user": username[:200], "ip": ip, "since": _since(window_seconds)},
        )
    )
    return row["n"]


# ---------------------------------------------------------------- sessions


def start_session(store: Database, user: str) -> str:
    """Record a new login and return its random session id (a fresh one every time: no session fixation)."""
    session_id = secrets.token_urlsafe(32)
    store.execute("INSERT INTO sessions (id, user, created_at) VALUES (?, ?, ?)", [session_id, user, utc_now()])
    return session_id


def session_active(store: Database, session_id: str | None, user: str | None, max_age_seconds: float) -> bool:
    """Whether `session_id` is a login of `user` that has not been ended and is younger than `max_age_seconds`."""
    if not session_id or not user:
        return False
    row = next(
        store.query(
            "SELECT 1 FROM sessions WHERE id = ? AND user = ? AND ended_at IS NULL AND created_at >= ?",
            [session_id, user, _since(max_age_seconds)],
        ),
        None,
    )
    return row is not None


def end_session(store: Database, session_id: str | None) -> None:
    if session_id:
        store.execute("UPDATE sessions SET ended_at = ? WHERE id = ? AND ended_at IS NULL", [utc_now(), session_id])


def _end_sessions_of(store: Database, user: str) -> None:
    """Within the caller's write transaction: end every open session of `user`."""
    store.execute("UPDATE sessions SET ended_at = ? WHERE user = ? AND ended_at IS NULL", [utc_now(), user])
