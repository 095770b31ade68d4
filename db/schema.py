"""The store's shape, declared once as sqlite-utils migrations.

Evidence tables are append-only: triggers refuse UPDATE and DELETE. The one sanctioned exception is
deleting a body whose SHA-256 already has a tombstone (see db/purge.py). `listings` and `crawl_runs`
are operational indexes and may be updated, except a listing's identity, which is evidence.
"""

from sqlite_utils import Migrations

migrations = Migrations("keywatch.evidence")

APPEND_ONLY_MESSAGE = "evidence is append-only"

# Tables whose rows are evidence: nothing in them is ever updated; only `bodies` rows may be deleted, and
# only under a tombstone.
EVIDENCE_TABLES = ("captures", "bodies", "classifications", "listing_status", "tombstones", "chain", "decisions")
# Added by evidence_v2 (below): which hosts each crawl run fetched each marketplace from (db/hosts.py).
HOST_TABLE = "marketplace_hosts"


def protect(store, table: str, *, allow_delete_when: str | None = None) -> None:
    """Install the triggers that make `table` append-only (other modules call this for their evidence tables)."""
    store.execute(
        f"CREATE TRIGGER IF NOT EXISTS [{table}_no_update] BEFORE UPDATE ON [{table}] "
        f"BEGIN SELECT RAISE(ABORT, '{APPEND_ONLY_MESSAGE}'); END"
    )
    when = f" WHEN NOT ({allow_delete_when})" if allow_delete_when else ""
    store.execute(
        f"CREATE TRIGGER IF NOT EXISTS [{table}_no_delete] BEFORE DELETE ON [{table}]{when} "
        f"BEGIN SELECT RAISE(ABORT, '{APPEND_ONLY_MESSAGE}'); END"
    )


_SCHEMA_V1 = [
    """
    CREATE TABLE crawl_runs (
        id INTEGER PRIMARY KEY,
        spider TEXT NOT NULL,
        args TEXT NOT NULL DEFAULT '{}',
        started_at TEXT NOT NULL,
        finished_at TEXT,
        finish_reason TEXT,
        stats TEXT,
        crawler_version TEXT,
        watchlist_version TEXT
    )
    """,
    """
    CREATE TABLE listings (
        pk INTEGER PRIMARY KEY,
        marketplace TEXT NOT NULL,
        listing_id TEXT NOT NULL,
        url TEXT,
        title TEXT,
        seller TEXT,
        price TEXT,
        currency TEXT,
        first_seen TEXT NOT NULL,
        last_seen TEXT NOT NULL,
        latest_capture_id INTEGER,
        status TEXT,
        status_at TEXT,
        classification_id INTEGER,
        flagged INTEGER NOT NULL DEFAULT 0,
        category TEXT,
        risk TEXT,
        risk_rank INTEGER NOT NULL DEFAULT 0,
        score REAL,
        UNIQUE (marketplace, listing_id)
    )
    """,
    """
    CREATE TABLE bodies (
        sha256 TEXT PRIMARY KEY,
        body BLOB NOT NULL,
        size INTEGER NOT NULL,
        encoding TEXT NOT NULL
    )
    """,
    """
    CREATE TABLE captures (
        id INTEGER PRIMARY KEY,
        listing_pk INTEGER NOT NULL REFERENCES listings(pk),
        run_id INTEGER REFERENCES crawl_runs(id),
        request_url TEXT,
        url TEXT NOT NULL,
        status INTEGER,
        headers TEXT NOT NULL,
        sha256 TEXT NOT NULL,
        body_size INTEGER NOT NULL,
        fetched_at TEXT NOT NULL,
        clock_source TEXT NOT NULL,
        crawler_version TEXT NOT NULL,
        watchlist_version TEXT,
        purpose TEXT,
        screen_score REAL,
        fields TEXT NOT NULL
    )
    """,
    """
    CREATE TABLE classifications (
        id INTEGER PRIMARY KEY,
        capture_id INTEGER NOT NULL REFERENCES captures(id),
        watchlist_version TEXT,
        classifier_version TEXT,
        flagged INTEGER NOT NULL,
        category TEXT,
        risk TEXT,
        score REAL,
        matches TEXT NOT NULL,
        created_at TEXT NOT NULL
    )
    """,
    """
    CREATE TABLE listing_status (
        id INTEGER PRIMARY KEY,
        listing_pk INTEGER NOT NULL REFERENCES listings(pk),
        status TEXT NOT NULL CHECK (status IN ('live', 'ended', 'removed')),
        observed_at TEXT NOT NULL,
        capture_id INTEGER REFERENCES captures(id),
        detail TEXT
    )
    """,
    """
    CREATE TABLE decisions (
        id INTEGER PRIMARY KEY,
        listing_pk INTEGER NOT NULL REFERENCES listings(pk),
        user TEXT NOT NULL,
        action TEXT NOT NULL,
        category TEXT,
        reason TEXT,
        note TEXT,
        created_at TEXT NOT NULL
    )
    """,
    """
    CREATE TABLE tombstones (
        id INTEGER PRIMARY KEY,
        sha256 TEXT NOT NULL,
        capture_ids TEXT NOT NULL,
        reason TEXT NOT NULL,
        purged_at TEXT NOT NULL,
        actor TEXT NOT NULL
    )
    """,
    # UNIQUE(prev_hash) makes a fork impossible even if two writers ever raced past the write lock.
    """
    CREATE TABLE chain (
        seq INTEGER PRIMARY KEY,
        record_type TEXT NOT NULL,
        record_id INTEGER NOT NULL,
        content_hash TEXT NOT NULL,
        prev_hash TEXT NOT NULL UNIQUE,
        hash TEXT NOT NULL UNIQUE,
        created_at TEXT NOT NULL,
        UNIQUE (record_type, record_id)
    )
    """,
    "CREATE INDEX captures_listing ON captures (listing_pk, fetched_at)",
    "CREATE INDEX captures_run ON captures (run_id)",
    "CREATE INDEX captures_sha256 ON captures (sha256)",
    "CREATE INDEX classifications_capture ON classifications (capture_id)",
    "CREATE INDEX listing_status_listing ON listing_status (listing_pk, observed_at)",
    "CREATE INDEX decisions_listing ON decisions (listing_pk, created_at)",
    "CREATE INDEX tombstones_sha256 ON tombstones (sha256)",
    "CREATE INDEX listings_queue ON listings (flagged, risk_rank DESC, score DESC)",
    "CREATE INDEX listings_seller ON listings (marketplace, seller)",
    # A listing's identity is evidence (captures point at it by pk); its other columns are an index.
    """
    CREATE TRIGGER listings_identity_fixed BEFORE UPDATE OF pk, marketplace, listing_id ON listings
    BEGIN SELECT RAISE(ABORT, 'evidence is append-only'); END
    """,
    """
    CREATE TRIGGER listings_no_delete BEFORE DELETE ON listings
    BEGIN SELECT RAISE(ABORT, 'evidence is append-only'); END
    """,
]


@migrations()
def evidence_v1(store):
    for statement in _SCHEMA_V1:
        store.execute(statement)
    for table in EVIDENCE_TABLES:
        if table == "bodies":
            protect(
                store, table, allow_delete_when="EXISTS (SELECT 1 FROM tombstones WHERE tombstones.sha256 = OLD.sha256)"
            )
        else:
            protect(store, table)


# risk as a number for ordering the queue, derived so that it cannot disagree with `risk`.
RISK_RANK = (
    "CASE lower(risk) WHEN 'critical' THEN 4 WHEN 'high' THEN 3 WHEN 'medium' THEN 2 WHEN 'low' THEN 1 ELSE 0 END"
)


@migrations()
def evidence_v2_hosts_and_derived_index(store):
    # Which hosts each run fetched each marketplace from: declared before any page is read (db/hosts.py).
    store.execute(
        """
        CREATE TABLE marketplace_hosts (
            id INTEGER PRIMARY KEY,
            run_id INTEGER NOT NULL REFERENCES crawl_runs(id),
            spider TEXT NOT NULL,
            marketplace TEXT NOT NULL,
            host TEXT NOT NULL,
            declared_at TEXT NOT NULL,
            UNIQUE (run_id, marketplace, host)
        )
        """
    )
    store.execute("CREATE INDEX marketplace_hosts_marketplace ON marketplace_hosts (marketplace, spider)")
    protect(store, HOST_TABLE)
    # The index keeps a flag and a seller of record that the evidence holds (db/listing_index.py), so it shows
    # the newest verdict and seller beside them; risk_rank becomes a generated column.
    store.execute("ALTER TABLE listings ADD COLUMN latest_classification_id INTEGER")
    store.execute("ALTER TABLE listings ADD COLUMN latest_seller TEXT")
    store.execute("DROP INDEX listings_queue")
    store.execute("ALTER TABLE listings DROP COLUMN risk_rank")
    store.execute(f"ALTER TABLE listings ADD COLUMN risk_rank INTEGER GENERATED ALWAYS AS ({RISK_RANK}) VIRTUAL")
    store.execute("CREATE INDEX listings_queue ON listings (flagged, risk_rank DESC, score DESC)")
    from db import listing_index  # the index rules changed: rewrite every row by the current ones

    listing_index.rebuild(store)


@migrations()
def evidence_v3_classification_probability(store):
    # The learned model's probability and the threshold it flags at, kept with each classification (so the desk
    # can put the listings the model was least sure about first). Nullable: rules-only classifications have
    # neither, and the chain hashes only non-null columns, so rows stored before this keep their hashes.
    store.execute("ALTER TABLE classifications ADD COLUMN probability REAL")
    store.execute("ALTER TABLE classifications ADD COLUMN threshold REAL")
