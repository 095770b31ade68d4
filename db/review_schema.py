"""The review desk's tables: the migration set `keywatch-review`, applied by db.connect after the evidence schema.

Stores in use have these migrations recorded by set and function name: never rename one, only add new ones.
What the tables hold and who writes them: accounts, login attempts and sessions (db/accounts.py); the
`review_status` view, the one definition of a listing's review status (db/decisions.py); the search index
(db/listing_index.py); account changes (db/accounts.py).
"""

from sqlite_utils import Database, Migrations

from db.schema import protect

migrations = Migrations("keywatch-review")


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
        "CREATE VIRTUAL TABLE listings_fts USING fts5 "
        "(title, description, tokenize = 'porter unicode61 remove_diacritics 2')"
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


@migrations()
def m006_review_status_of_every_listing(store: Database):
    # The one definition of a listing's review status, read by the queue, the exports, the re-checks and the
    # retention purge alike: the outcome of its latest status-changing decision (confirm, dismiss, escalate; a
    # note changes nothing), else `pending`. Read from `action`, which every decision has (`status_after` is the
    # audit trail's copy, and decisions recorded before m002 lack it), with a row for every listing so that no
    # reader needs a default of its own.
    store.execute("DROP VIEW review_status")
    store.execute(
        """CREATE VIEW review_status AS
           SELECT l.pk AS listing_pk,
                  CASE d.action WHEN 'confirm' THEN 'confirmed' WHEN 'dismiss' THEN 'dismissed'
                                WHEN 'escalate' THEN 'escalated' ELSE 'pending' END AS status,
                  d.id AS decision_id, d.user, d.created_at, d.action, d.category, d.reason
           FROM listings l
           LEFT JOIN decisions d ON d.id = (SELECT max(d2.id) FROM decisions d2 WHERE d2.listing_pk = l.pk
                                              AND d2.action IN ('confirm', 'dismiss', 'escalate'))"""
    )


@migrations()
def m007_account_changes(store: Database):
    # Who created, disabled, enabled an account or set its password, when, and from where: an administrator's
    # record (not evidence about listings, so not chained), append-only like the evidence tables.
    store.execute(
        """CREATE TABLE account_changes (
            id INTEGER PRIMARY KEY,
            at TEXT NOT NULL,
            account TEXT NOT NULL,
            change TEXT NOT NULL,
            actor TEXT,
            via TEXT
        )"""
    )
    store.execute("CREATE INDEX account_changes_account ON account_changes (account, id)")
    protect(store, "account_changes")


@migrations()
def m008_desk_read_paths(store: Database):
    # What the desk reads on every request, kept current by triggers in the transaction of each write
    # (db/desk_counts.py explains them; `verify` recounts them): a listing's review status as a column, the number
    # of flagged listings per category, marketplace and review status, and the marketplaces seen.
    from db import desk_counts

    desk_counts.install(store)


@migrations()
def m009_dashboard_counts(store: Database):
    # The dashboard's figures per hour, kept by triggers (db/dashboard_counts.py; `verify` recounts them): a week's
    # decisions read from the evidence cost 9 us each, 220 ms for a busy desk's 24,000.
    from db import dashboard_counts

    dashboard_counts.install(store)
