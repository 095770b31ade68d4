"""The review desk's storage: reviewer accounts, login throttling, the review queue, decisions and their
audit trail, full-text search. All SQL the web UI and `keywatch review` need lives here.

Decisions are append-only rows in the evidence store's `decisions` table, each chained with
`db.append_chain`; a listing's review status is simply the outcome of its latest status-changing decision.
"""

from __future__ import annotations

import datetime
import json
import re
import secrets
from dataclasses import dataclass

from sqlite_utils import Database, Migrations

from db.canonical import format_utc, utc_now
from db.captures import decompress_body
from db.chain import append_chain
from db.connection import write_transaction

ROLES = ("reviewer", "admin")
ACTIONS = ("confirm", "dismiss", "escalate", "note")
DISMISS_REASONS = ("false_positive", "legitimate_trade_seller", "duplicate", "other")
# The review status each action leads to; a note leaves the status as it was.
STATUS_AFTER = {"confirm": "confirmed", "dismiss": "dismissed", "escalate": "escalated"}
STATUSES = ("pending", "escalated", "confirmed", "dismissed")
OPEN_STATUSES = ("pending", "escalated")

# Applied by db.connect (db.connection.MIGRATION_MODULES) after the evidence schema.
migrations = Migrations("keywatch-review")


class ReviewError(ValueError):
    """A decision or account change that cannot be made; the message is meant for the user."""


@migrations()
def m001_accounts(store: Database):
    store.execute(
        """CREATE TABLE users (
            name TEXT PRIMARY KEY,
            password_hash TEXT NOT NULL,
            role TEXT NOT NULL CHECK (role IN ('reviewer', 'admin')),
            disabled INTEGER NOT NULL DEFAULT 0,
            created_at TEXT NOT NULL,
            created_by TEXT
        )"""
    )
    # Kept (not pruned) so repeated guessing stays visible to an administrator.
    store.execute(
        """CREATE TABLE login_attempts (
            id INTEGER PRIMARY KEY,
            username TEXT NOT NULL,
            ip TEXT NOT NULL,
            at TEXT NOT NULL,
            ok INTEGER NOT NULL
        )"""
    )
    store.execute("CREATE INDEX login_attempts_user_ip ON login_attempts (username, ip, at)")


@migrations()
def m002_review_status_and_search(store: Database):
    # Before/after status on each decision makes the audit trail self-explaining and puts it under the chain's
    # hash (the chain hashes every non-null column of a decision row).
    store.execute("ALTER TABLE decisions ADD COLUMN status_before TEXT")
    store.execute("ALTER TABLE decisions ADD COLUMN status_after TEXT")
    # A listing's review status is the outcome of its latest status-changing decision (notes do not count).
    store.execute(
        """CREATE VIEW review_status AS
           SELECT d.listing_pk, d.status_after AS status, d.user, d.created_at, d.action, d.category, d.reason
           FROM decisions d
           WHERE d.id = (SELECT max(d2.id) FROM decisions d2
                         WHERE d2.listing_pk = d.listing_pk AND d2.action != 'note')"""
    )
    # Full-text search over the newest capture's title and description of each listing (rowid = listing pk).
    store.execute(
        "CREATE VIRTUAL TABLE listings_fts USING fts5 (title, description, tokenize = 'porter unicode61 remove_diacritics 2')"
    )
    store.execute(
        """CREATE TRIGGER listings_fts_capture AFTER INSERT ON captures
           WHEN NEW.fetched_at >= (SELECT last_seen FROM listings WHERE pk = NEW.listing_pk)
           BEGIN
             DELETE FROM listings_fts WHERE rowid = NEW.listing_pk;
             INSERT INTO listings_fts (rowid, title, description)
             VALUES (NEW.listing_pk, json_extract(NEW.fields, '$.title'), json_extract(NEW.fields, '$.description'));
           END"""
    )
    store.execute(
        """INSERT INTO listings_fts (rowid, title, description)
           SELECT c.listing_pk, json_extract(c.fields, '$.title'), json_extract(c.fields, '$.description')
           FROM captures c JOIN listings l ON l.latest_capture_id = c.id"""
    )


@migrations()
def m003_sessions(store: Database):
    # Server-side record of each login, so logging out (or an admin disabling the account) ends a session
    # even if someone kept a copy of its signed cookie.
    store.execute(
        """CREATE TABLE sessions (
            id TEXT PRIMARY KEY,
            user TEXT NOT NULL,
            created_at TEXT NOT NULL,
            ended_at TEXT
        )"""
    )


@migrations()
def m004_decision_channel(store: Database):
    # How a decision arrived: "web <address>" (a logged-in session) or "cli <OS user>@<host>". The command line
    # names a reviewer without a password, so the audit trail must show that it came from there, and as whom.
    store.execute("ALTER TABLE decisions ADD COLUMN via TEXT")


@migrations()
def m005_search_rows_from_the_listing_index(store: Database):
    # The search row is now written with the listing's index row (db/listing_index.py): the trigger indexed any
    # newer capture, so a description document blanked its listing's row, and it passed NULs to FTS5, which
    # stops reading a value at a NUL (the words after it were never found).
    store.execute("DROP TRIGGER IF EXISTS listings_fts_capture")
    from db import listing_index

    listing_index.rebuild(store)


def migrate(store: Database) -> None:
    """Create or update the review desk's own tables (idempotent; db.connect already does this)."""
    if migrations.pending(store):
        with write_transaction(store):
            migrations.apply(store)


# ---------------------------------------------------------------- accounts


@dataclass(frozen=True)
class User:
    name: str
    role: str
    disabled: bool
    created_at: str

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"


def _user(row) -> User:
    return User(row["name"], row["role"], bool(row["disabled"]), row["created_at"])


# A user name is what the audit trail shows for every decision, so no name may pass for another. ASCII only:
# letters of other alphabets can be pixel-identical to Latin ones (Cyrillic "а" in "аdmin"). Within ASCII, names
# that differ only by case or by a look-alike character ("a1ice", "b0b", "Alice") are refused too.
USER_NAME = re.compile(r"[A-Za-z0-9._@-]{1,64}")
_LOOK_ALIKES = str.maketrans({"1": "l", "I": "l", "0": "o", "O": "o"})


def _look_alike_key(name: str) -> str:
    return name.translate(_LOOK_ALIKES).lower().replace("rn", "m").replace("vv", "w")


def add_user(
    store: Database, name: str, password_hash: str, role: str = "reviewer", created_by: str | None = None
) -> User:
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
    return get_user(store, name)


def get_user(store: Database, name: str) -> User | None:
    rows = list(store.query("SELECT * FROM users WHERE name = ?", [name]))
    return _user(rows[0]) if rows else None


def password_hash(store: Database, name: str) -> str | None:
    rows = list(store.query("SELECT password_hash FROM users WHERE name = ? AND disabled = 0", [name]))
    return rows[0]["password_hash"] if rows else None


def set_password_hash(store: Database, name: str, new_hash: str) -> None:
    """Used to upgrade a hash when argon2's parameters change (the same password: sessions carry on)."""
    with write_transaction(store):
        store.execute("UPDATE users SET password_hash = ? WHERE name = ?", [new_hash, name])


def set_password(store: Database, name: str, new_hash: str) -> None:
    """A new password (changed by its user or reset by an administrator): every open session of the account
    ends with the old password, so whoever learnt the old one and logged in with it is out too."""
    with write_transaction(store):
        if get_user(store, name) is None:
            raise ReviewError(f"no such user: {name!r}")
        store.execute("UPDATE users SET password_hash = ? WHERE name = ?", [new_hash, name])
        _end_sessions_of(store, name)


def list_users(store: Database) -> list[User]:
    return [_user(row) for row in store.query("SELECT * FROM users ORDER BY name")]


def set_disabled(store: Database, name: str, disabled: bool = True) -> User:
    """Disabling ends the account's sessions for good: enabling it again later does not revive them."""
    with write_transaction(store):
        if get_user(store, name) is None:
            raise ReviewError(f"no such user: {name!r}")
        store.execute("UPDATE users SET disabled = ? WHERE name = ?", [int(disabled), name])
        if disabled:
            _end_sessions_of(store, name)
    return get_user(store, name)


def reserve_login_attempt(store: Database, username: str, ip: str, limit: int, window_seconds: int) -> int | None:
    """Count this attempt as a failure up front, unless the pair is already throttled; returns its id or None.

    The count and the insert share one write transaction, so concurrent guesses (the server has several
    threads) cannot all pass the check before any of them is recorded. `login_succeeded` clears it.
    """
    with write_transaction(store):
        if recent_failures(store, username, ip, window_seconds) >= limit:
            store.conn.execute(
                "INSERT INTO login_attempts (username, ip, at, ok) VALUES (?, ?, ?, 0)", [username[:200], ip, utc_now()]
            )
            return None
        cursor = store.conn.execute(
            "INSERT INTO login_attempts (username, ip, at, ok) VALUES (?, ?, ?, 0)", [username[:200], ip, utc_now()]
        )
        return cursor.lastrowid


def login_succeeded(store: Database, attempt_id: int) -> None:
    """Mark a reserved attempt as the successful login it turned out to be."""
    with write_transaction(store):
        store.conn.execute("UPDATE login_attempts SET ok = 1, at = ? WHERE id = ?", [utc_now(), attempt_id])


def start_session(store: Database, user: str) -> str:
    """Record a new login and return its random session id (a fresh one every time: no session fixation)."""
    session_id = secrets.token_urlsafe(32)
    with write_transaction(store):
        store.conn.execute(
            "INSERT INTO sessions (id, user, created_at) VALUES (?, ?, ?)", [session_id, user, utc_now()]
        )
    return session_id


def session_active(store: Database, session_id: str | None, user: str | None, max_age_seconds: float) -> bool:
    """Whether `session_id` is a login of `user` that has not been ended and is younger than `max_age_seconds`."""
    if not session_id or not user:
        return False
    since = format_utc(datetime.datetime.now(datetime.UTC) - datetime.timedelta(seconds=max_age_seconds))
    row = store.conn.execute(
        "SELECT 1 FROM sessions WHERE id = ? AND user = ? AND ended_at IS NULL AND created_at >= ?",
        [session_id, user, since],
    ).fetchone()
    return row is not None


def end_session(store: Database, session_id: str | None) -> None:
    if not session_id:
        return
    with write_transaction(store):
        store.conn.execute(
            "UPDATE sessions SET ended_at = ? WHERE id = ? AND ended_at IS NULL", [utc_now(), session_id]
        )


def _end_sessions_of(store: Database, user: str) -> None:
    """Within the caller's write transaction: end every open session of `user`."""
    store.conn.execute("UPDATE sessions SET ended_at = ? WHERE user = ? AND ended_at IS NULL", [utc_now(), user])


def record_login_attempt(store: Database, username: str, ip: str, ok: bool) -> None:
    with write_transaction(store):
        store.execute(
            "INSERT INTO login_attempts (username, ip, at, ok) VALUES (?, ?, ?, ?)",
            [username[:200], ip, utc_now(), int(ok)],
        )


def recent_failures(store: Database, username: str, ip: str, window_seconds: int) -> int:
    """Failed logins for this user from this address within the window, since the last success."""
    since = format_utc(datetime.datetime.now(datetime.UTC) - datetime.timedelta(seconds=window_seconds))
    row = next(
        store.query(
            """SELECT count(*) AS n FROM login_attempts
               WHERE username = ? AND ip = ? AND ok = 0 AND at >= ?
                 AND at > coalesce((SELECT max(at) FROM login_attempts
                                    WHERE username = ? AND ip = ? AND ok = 1), '')""",
            [username[:200], ip, since, username[:200], ip],
        )
    )
    return row["n"]


# ---------------------------------------------------------------- the queue


@dataclass
class QueueFilter:
    status: str = "open"  # open (pending + escalated) | pending | escalated | confirmed | dismissed | all
    category: str = ""
    marketplace: str = ""
    seller: str = ""
    since: str = ""  # YYYY-MM-DD, on first_seen (UTC)
    until: str = ""
    q: str = ""  # full-text search over title and description


_CONTROL_CHARACTERS = re.compile("[\x00-\x1f\x7f-\x9f]")


def fts_query(text: str) -> str:
    """A reviewer's words as an FTS5 query: every word must appear (a trailing * keeps prefix search)."""
    terms = []
    # A control character separates words: FTS5 reads a NUL inside a quoted term as the end of the query.
    for word in _CONTROL_CHARACTERS.sub(" ", text).split():
        prefix = word.endswith("*") and len(word) > 1
        word = word.rstrip("*").replace('"', '""')
        if word:
            terms.append(f'"{word}"' + ("*" if prefix else ""))
    return " ".join(terms)


_QUEUE_COLUMNS = """
    l.pk, l.marketplace, l.listing_id, l.url, l.title, l.seller, l.price, l.currency, l.first_seen, l.last_seen,
    l.status AS listing_status, l.flagged, l.category, l.risk, l.risk_rank, l.score,
    coalesce(r.status, 'pending') AS review_status, r.user AS decided_by, r.created_at AS decided_at,
    r.category AS decided_category, r.reason AS decided_reason
"""


def _queue_where(f: QueueFilter, *, with_status: bool = True) -> tuple[str, list]:
    where, params = ["l.flagged = 1"], []
    if with_status and f.status != "all":
        statuses = OPEN_STATUSES if f.status == "open" else (f.status,)
        where.append(f"coalesce(r.status, 'pending') IN ({', '.join('?' for _ in statuses)})")
        params.extend(statuses)
    for column, value in (("l.category", f.category), ("l.marketplace", f.marketplace), ("l.seller", f.seller)):
        if value:
            where.append(f"{column} = ?")
            params.append(value)
    if f.since:
        where.append("l.first_seen >= ?")
        params.append(f.since)
    if f.until:
        # A bare date includes that whole day.
        where.append("l.first_seen < ?")
        params.append(f.until + "\uffff" if len(f.until) == 10 else f.until)
    match = fts_query(f.q)
    if match:
        where.append("l.pk IN (SELECT rowid FROM listings_fts WHERE listings_fts MATCH ?)")
        params.append(match)
    return " AND ".join(where), params


def queue(store: Database, f: QueueFilter, *, limit: int = 100, offset: int = 0) -> list[dict]:
    """Flagged listings for review, highest risk then highest score first."""
    where, params = _queue_where(f)
    sql = f"""SELECT {_QUEUE_COLUMNS}
              FROM listings l LEFT JOIN review_status r ON r.listing_pk = l.pk
              WHERE {where}
              ORDER BY l.risk_rank DESC, l.score DESC, l.first_seen DESC, l.pk
              LIMIT ? OFFSET ?"""
    return list(store.query(sql, params + [limit, offset]))


def queue_row(store: Database, listing_pk: int) -> dict | None:
    rows = list(
        store.query(
            f"SELECT {_QUEUE_COLUMNS} FROM listings l LEFT JOIN review_status r ON r.listing_pk = l.pk WHERE l.pk = ?",
            [listing_pk],
        )
    )
    return rows[0] if rows else None


def queue_counts(store: Database, f: QueueFilter) -> dict[str, int]:
    """How many flagged listings match the other filters, per review status (plus open and all)."""
    where, params = _queue_where(f, with_status=False)
    counts = dict.fromkeys(STATUSES, 0)
    for row in store.query(
        f"""SELECT coalesce(r.status, 'pending') AS status, count(*) AS n
            FROM listings l LEFT JOIN review_status r ON r.listing_pk = l.pk
            WHERE {where} GROUP BY 1""",
        params,
    ):
        counts[row["status"]] = row["n"]
    counts["open"] = sum(counts[s] for s in OPEN_STATUSES)
    counts["all"] = sum(counts[s] for s in STATUSES)
    return counts


def filter_choices(store: Database) -> dict[str, list[str]]:
    """Values offered in the queue's filter menus."""

    def values(column):
        return [
            row["v"]
            for row in store.query(
                f"SELECT DISTINCT {column} AS v FROM listings WHERE flagged = 1 AND {column} IS NOT NULL ORDER BY 1"
            )
        ]

    return {"category": values("category"), "marketplace": values("marketplace")}


# ---------------------------------------------------------------- one listing


def find_listing(store: Database, marketplace: str, listing_id: str) -> int | None:
    row = store.conn.execute(
        "SELECT pk FROM listings WHERE marketplace = ? AND listing_id = ?", [marketplace, listing_id]
    ).fetchone()
    return row[0] if row else None


def listing(store: Database, listing_pk: int) -> dict | None:
    """Everything the listing page shows, or None if there is no such listing."""
    row = queue_row(store, listing_pk)
    if row is None:
        return None
    result = dict(row)
    result["fields"] = {}
    result["classification"] = None
    extra = next(store.query("SELECT latest_capture_id, classification_id FROM listings WHERE pk = ?", [listing_pk]))
    if extra["latest_capture_id"] is not None:
        capture = next(store.query("SELECT fields FROM captures WHERE id = ?", [extra["latest_capture_id"]]))
        result["fields"] = json.loads(capture["fields"] or "{}")
    if extra["classification_id"] is not None:
        c = dict(next(store.query("SELECT * FROM classifications WHERE id = ?", [extra["classification_id"]])))
        c["matches"] = json.loads(c["matches"] or "[]")
        result["classification"] = c
    # The classifier's offsets point into the text of the capture it classified, which is not the newest one
    # when a later re-check found the page gone: highlight that capture's text, not the newest capture's.
    result["classified_fields"] = result["fields"]
    classified = result["classification"]
    if classified is not None and classified["capture_id"] != extra["latest_capture_id"]:
        row = store.conn.execute("SELECT fields FROM captures WHERE id = ?", [classified["capture_id"]]).fetchone()
        result["classified_fields"] = json.loads(row[0] or "{}") if row else {}
    result["latest_capture_id"] = extra["latest_capture_id"]
    return result


def captures(store: Database, listing_pk: int) -> list[dict]:
    return list(
        store.query(
            """SELECT c.id, c.url, c.status, c.sha256, c.body_size, c.fetched_at, c.clock_source, c.run_id, c.purpose,
                  c.crawler_version, c.watchlist_version, (b.sha256 IS NOT NULL) AS body_kept
           FROM captures c LEFT JOIN bodies b ON b.sha256 = c.sha256
           WHERE c.listing_pk = ? ORDER BY c.fetched_at DESC, c.id DESC""",
            [listing_pk],
        )
    )


def capture_body(store: Database, capture_id: int) -> tuple[bytes, dict] | None:
    """The raw bytes of a capture as received and its response headers; None if unknown or purged."""
    rows = list(
        store.query(
            """SELECT b.body, b.encoding, c.headers FROM captures c JOIN bodies b ON b.sha256 = c.sha256
           WHERE c.id = ?""",
            [capture_id],
        )
    )
    if not rows:
        return None
    return decompress_body(rows[0]["body"], rows[0]["encoding"]), json.loads(rows[0]["headers"] or "{}")


def decisions(store: Database, listing_pk: int) -> list[dict]:
    """The listing's audit trail, oldest first."""
    return list(store.query("SELECT * FROM decisions WHERE listing_pk = ? ORDER BY id", [listing_pk]))


def timeline(store: Database, listing_pk: int) -> list[dict]:
    """First sighting, captures, status observations, classifications and decisions, in time order."""
    events = []
    for row in store.query("SELECT first_seen FROM listings WHERE pk = ?", [listing_pk]):
        events.append({"at": row["first_seen"], "kind": "first seen", "text": ""})
    for row in store.query("SELECT id, fetched_at, status, sha256 FROM captures WHERE listing_pk = ?", [listing_pk]):
        events.append(
            {
                "at": row["fetched_at"],
                "kind": "capture",
                "text": f"capture #{row['id']}: HTTP {row['status']}, sha256 {row['sha256'][:12]}…",
            }
        )
    for row in store.query("SELECT status, observed_at, detail FROM listing_status WHERE listing_pk = ?", [listing_pk]):
        events.append(
            {
                "at": row["observed_at"],
                "kind": "status",
                "text": row["status"] + (f" ({row['detail']})" if row["detail"] else ""),
            }
        )
    for row in store.query(
        """SELECT k.created_at, k.flagged, k.category, k.score, k.watchlist_version FROM classifications k
           JOIN captures c ON c.id = k.capture_id WHERE c.listing_pk = ?""",
        [listing_pk],
    ):
        verdict = f"flagged {row['category']} (score {row['score']:g})" if row["flagged"] else "not flagged"
        events.append(
            {
                "at": row["created_at"],
                "kind": "classification",
                "text": f"{verdict}, watchlist {str(row['watchlist_version'] or '')[:12]}",
            }
        )
    for row in decisions(store, listing_pk):
        events.append({"at": row["created_at"], "kind": "decision", "text": describe_decision(row)})
    return sorted(events, key=lambda e: e["at"])


def describe_decision(row) -> str:
    detail = row["category"] if row["action"] == "confirm" else row["reason"] if row["action"] == "dismiss" else None
    text = f"{row['user']}: {row['action']}" + (f" ({detail})" if detail else "")
    if row["status_before"] != row["status_after"]:
        text += f", {row['status_before']} → {row['status_after']}"
    return text + (f" — {row['note']}" if row["note"] else "")


def seller_listings(store: Database, marketplace: str, seller: str, *, exclude_pk: int | None = None) -> list[dict]:
    if not seller:
        return []
    return list(
        store.query(
            f"""SELECT {_QUEUE_COLUMNS} FROM listings l LEFT JOIN review_status r ON r.listing_pk = l.pk
            WHERE l.marketplace = ? AND l.seller = ? AND l.pk != ?
            ORDER BY l.flagged DESC, l.risk_rank DESC, l.score DESC, l.pk""",
            [marketplace, seller, exclude_pk if exclude_pk is not None else -1],
        )
    )


# ---------------------------------------------------------------- decisions


def current_status(store: Database, listing_pk: int) -> str:
    rows = list(store.query("SELECT status FROM review_status WHERE listing_pk = ?", [listing_pk]))
    return rows[0]["status"] if rows else "pending"


def _validate(action: str, category: str | None, reason: str | None, note: str | None) -> None:
    if action not in ACTIONS:
        raise ReviewError(f"action must be one of {', '.join(ACTIONS)}, not {action!r}")
    if action == "confirm" and not category:
        raise ReviewError("confirming needs a category")
    if action == "dismiss" and reason not in DISMISS_REASONS:
        raise ReviewError(f"dismissing needs a reason: one of {', '.join(DISMISS_REASONS)}")
    if action == "dismiss" and reason == "other" and not note:
        raise ReviewError("dismissing for reason 'other' needs a note saying why")
    if action == "note" and not note:
        raise ReviewError("a note needs some text")
    if note is not None and len(note) > 4000:
        raise ReviewError("notes are limited to 4000 characters")


def decide(
    store: Database,
    listing_pk: int,
    user: str,
    action: str,
    *,
    category: str | None = None,
    reason: str | None = None,
    note: str | None = None,
    via: str | None = None,
) -> dict:
    """Append one decision (and its chain record) for one listing; returns the stored row."""
    return decide_many(store, [listing_pk], user, action, category=category, reason=reason, note=note, via=via)[0]


def decide_many(
    store: Database,
    listing_pks: list[int],
    user: str,
    action: str,
    *,
    category: str | None = None,
    reason: str | None = None,
    note: str | None = None,
    via: str | None = None,
) -> list[dict]:
    """Append the same decision for several listings in one transaction: all recorded, or none."""
    note = (note or "").strip() or None
    category = category if action == "confirm" else None
    reason = reason if action == "dismiss" else None
    _validate(action, category, reason, note)
    if not listing_pks:
        raise ReviewError("no listings to decide on")
    rows = []
    with write_transaction(store):
        account = get_user(store, user)
        if account is None or account.disabled:
            raise ReviewError(f"no active user {user!r} (create one with `keywatch user add`)")
        for pk in listing_pks:
            if store.conn.execute("SELECT 1 FROM listings WHERE pk = ?", [pk]).fetchone() is None:
                raise ReviewError(f"no listing with id {pk}")
            before = current_status(store, pk)
            row = {
                "listing_pk": pk,
                "user": user,
                "action": action,
                "category": category,
                "reason": reason,
                "note": note,
                "created_at": utc_now(),
                "status_before": before,
                "status_after": STATUS_AFTER.get(action, before),
                "via": via,
            }
            cursor = store.conn.execute(
                "INSERT INTO decisions (listing_pk, user, action, category, reason, note, created_at, "
                "status_before, status_after, via) VALUES (:listing_pk, :user, :action, :category, :reason, :note, "
                ":created_at, :status_before, :status_after, :via)",
                row,
            )
            row = {"id": cursor.lastrowid, **row}
            append_chain(store, "decision", row["id"], row)
            rows.append(row)
    return rows


def audit_trail(store: Database, *, limit: int = 200) -> list[dict]:
    """The newest decisions across all listings, with the listing they concern."""
    return list(
        store.query(
            """SELECT d.*, l.marketplace, l.listing_id, l.title FROM decisions d JOIN listings l ON l.pk = d.listing_pk
           ORDER BY d.id DESC LIMIT ?""",
            [limit],
        )
    )


# ---------------------------------------------------------------- dashboard


def dashboard(store: Database, since: str) -> dict:
    """Counts since `since` (UTC ISO): new hits, decisions and removals by category and marketplace."""
    new_hits = list(
        store.query(
            """SELECT category, marketplace, count(*) AS n FROM listings
           WHERE flagged = 1 AND first_seen >= ? GROUP BY 1, 2 ORDER BY 3 DESC""",
            [since],
        )
    )
    decided = list(
        store.query(
            """SELECT d.action, coalesce(d.category, l.category) AS category, l.marketplace, count(*) AS n
           FROM decisions d JOIN listings l ON l.pk = d.listing_pk
           WHERE d.created_at >= ? GROUP BY 1, 2, 3 ORDER BY 4 DESC""",
            [since],
        )
    )
    removals = list(
        store.query(
            """SELECT l.category, l.marketplace, count(DISTINCT s.listing_pk) AS n
           FROM listing_status s JOIN listings l ON l.pk = s.listing_pk
           WHERE s.status = 'removed' AND s.observed_at >= ? GROUP BY 1, 2 ORDER BY 3 DESC""",
            [since],
        )
    )
    return {"new_hits": new_hits, "decisions": decided, "removals": removals}


def weekly_events(store: Database, since: str) -> dict[str, list[str]]:
    """Times of new hits, confirmations and removals since `since`, for the trend chart."""

    def times(sql):
        return [row["at"] for row in store.query(sql, [since])]

    return {
        "new hits": times("SELECT first_seen AS at FROM listings WHERE flagged = 1 AND first_seen >= ?"),
        "confirmed": times("SELECT created_at AS at FROM decisions WHERE action = 'confirm' AND created_at >= ?"),
        "removed": times(
            """SELECT min(observed_at) AS at FROM listing_status WHERE status = 'removed'
               GROUP BY listing_pk HAVING min(observed_at) >= ?"""
        ),
    }
