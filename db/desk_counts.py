"""What the review desk reads on every request, kept current in the transaction of each write.

Installed by the desk migration m008 (db/review_schema.py). Triggers keep three things in step with the
evidence, whoever writes it (a crawl's save, a re-classification, a decision, a purge):

- `listings.review_status`: the review status the `review_status` view defines (the outcome of the latest
  confirm, dismiss or escalate), set when such a decision is appended;
- `listings.uncertainty`: |probability - threshold| of the classification that flags the listing (classified
  by the learned model; NULL for rules-only), set when the listing's classification changes;
- `desk_counts`: how many listings there are per (flagged, category, marketplace, review status), moved by one
  whenever a listing's flag, category or review status changes; and `marketplaces_seen`, one row per marketplace
  a listing was ever saved for.

They are not evidence: `verify` recounts them with the dashboard's hourly counters (db/dashboard_counts.py) in
`disagreements`, and `rebuild` rewrites them from the evidence.
The indexes serve the desk's queries without reading every listing (tests/test_desk_plans.py checks the plans).
"""

from __future__ import annotations

import json

from sqlite_utils import Database

from db import counters, dashboard_counts
from db.connection import read_snapshot, write_transaction

STATUS_OF_ACTION = "CASE {a} WHEN 'confirm' THEN 'confirmed' WHEN 'dismiss' THEN 'dismissed' ELSE 'escalated' END"
STATUS_ACTIONS = "('confirm', 'dismiss', 'escalate')"
# The queue's order as index keys: score can be NULL (a classification without one), which would break keyset
# comparisons, so it counts as -1; rules-only listings (no uncertainty) come last in the uncertain order.
QUEUE_SCORE = "ifnull(score, -1)"
UNCERTAINTY = "ifnull(uncertainty, 2)"
# A fixed shuffle of the listings (Knuth's multiplicative hash of the pk): the first N unflagged listings in this
# order are a random sample of them, whichever N reviewers reach.
SAMPLE_ORDER = "(pk * 2654435761) % 4294967296"

# A classification's distance from its flag threshold (NULL without a probability: rules-only), in SQL over
# columns `probability` and `threshold`, and in Python for a group's new listings (db/capture_group.py).
UNCERTAINTY_OF = "abs({k}probability - {k}threshold)"


def uncertainty_of(probability: float | None, threshold: float | None) -> float | None:
    return None if probability is None or threshold is None else abs(probability - threshold)


_COUNT_UP = """INSERT INTO desk_counts (flagged, category, marketplace, review_status, n)
    VALUES (NEW.flagged, coalesce(NEW.category, ''), NEW.marketplace, NEW.review_status, 1)
    ON CONFLICT DO UPDATE SET n = n + 1;"""

_SCHEMA = [
    "ALTER TABLE listings ADD COLUMN review_status TEXT NOT NULL DEFAULT 'pending'",
    "ALTER TABLE listings ADD COLUMN uncertainty REAL",
    """CREATE TABLE desk_counts (
        flagged INTEGER NOT NULL,
        category TEXT NOT NULL,
        marketplace TEXT NOT NULL,
        review_status TEXT NOT NULL,
        n INTEGER NOT NULL,
        PRIMARY KEY (flagged, category, marketplace, review_status)
    ) WITHOUT ROWID""",
    "CREATE TABLE marketplaces_seen (marketplace TEXT PRIMARY KEY) WITHOUT ROWID",
    # The queue, its tabs and its category/marketplace filters: walked in order, filtered inside the index.
    f"""CREATE INDEX listings_desk_queue ON listings (flagged, risk_rank DESC, {QUEUE_SCORE} DESC, first_seen DESC,
        pk DESC, review_status, category, marketplace)""",
    f"""CREATE INDEX listings_desk_uncertain ON listings
        (flagged, {UNCERTAINTY}, pk, review_status, category, marketplace)""",
    # First-seen ranges: the dashboard's new hits, the trend chart, the queue's date filters and their counts.
    "CREATE INDEX listings_desk_first_seen ON listings (flagged, first_seen, category, marketplace, review_status)",
    "CREATE INDEX listings_desk_seller ON listings (seller, flagged, review_status)",
    # The "missed?" sample: unflagged listings in a fixed pseudo-random order (db/recall.py).
    f"CREATE INDEX listings_desk_sample ON listings (flagged, review_status, {SAMPLE_ORDER}, pk)",
    # The compliance report's new hits by a retailer's sellers, matched as the report matches them.
    """CREATE INDEX listings_flagged_seller_folded ON listings (marketplace, lower(trim(seller)), first_seen)
       WHERE flagged = 1""",
    "CREATE INDEX decisions_created ON decisions (created_at, action)",
    "CREATE INDEX listing_status_observed ON listing_status (status, observed_at, listing_pk)",
]

_TRIGGERS = [
    f"""CREATE TRIGGER desk_review_status AFTER INSERT ON decisions WHEN NEW.action IN {STATUS_ACTIONS}
        BEGIN
          UPDATE listings SET review_status = {STATUS_OF_ACTION.format(a="NEW.action")}
          WHERE pk = NEW.listing_pk AND NEW.id = (SELECT max(id) FROM decisions
                                                  WHERE listing_pk = NEW.listing_pk AND action IN {STATUS_ACTIONS});
        END""",
    f"""CREATE TRIGGER desk_uncertainty AFTER UPDATE OF classification_id ON listings
        WHEN OLD.classification_id IS NOT NEW.classification_id
        BEGIN
          UPDATE listings SET uncertainty = (SELECT {UNCERTAINTY_OF.format(k="")} FROM classifications
                                             WHERE id = NEW.classification_id)
          WHERE pk = NEW.pk;
        END""",
    f"""CREATE TRIGGER desk_counts_insert AFTER INSERT ON listings
        BEGIN
          INSERT OR IGNORE INTO marketplaces_seen (marketplace) VALUES (NEW.marketplace);
          {_COUNT_UP}
        END""",
    f"""CREATE TRIGGER desk_counts_update AFTER UPDATE OF flagged, category, review_status ON listings
        WHEN OLD.flagged IS NOT NEW.flagged OR OLD.category IS NOT NEW.category
             OR OLD.review_status IS NOT NEW.review_status
        BEGIN
          UPDATE desk_counts SET n = n - 1
          WHERE flagged = OLD.flagged AND category = coalesce(OLD.category, '') AND marketplace = OLD.marketplace
                AND review_status = OLD.review_status;
          {_COUNT_UP}
        END""",
]

# What the stored values should be, from the evidence.
_EXPECTED_STATUS = f"""SELECT l.pk, coalesce((SELECT {STATUS_OF_ACTION.format(a="d.action")} FROM decisions d
                         WHERE d.listing_pk = l.pk AND d.action IN {STATUS_ACTIONS} ORDER BY d.id DESC LIMIT 1),
                        'pending') AS review_status,
                      (SELECT {UNCERTAINTY_OF.format(k="k.")} FROM classifications k
                       WHERE k.id = l.classification_id) AS uncertainty
                   FROM listings l"""
_KEYS = ("flagged", "category", "marketplace", "review_status")
_RECOUNT = """SELECT flagged, coalesce(category, '') AS category, marketplace, review_status, count(*) AS n
              FROM listings GROUP BY 1, 2, 3, 4"""


def install(store: Database) -> None:
    """Add the columns, tables, indexes and triggers, and fill them from the evidence (migration m008)."""
    for statement in _SCHEMA:
        store.execute(statement)
    rebuild(store)
    for statement in _TRIGGERS:
        store.execute(statement)


def rebuild(store: Database) -> None:
    """Rewrite the review status and uncertainty columns, the counts and the marketplaces from the evidence."""
    with write_transaction(store):
        restate(store)
        recount(store)


def restate(store: Database, listing_pks: list[int] | None = None) -> None:
    """Rewrite the review status and uncertainty of these listings (all when None) from the evidence."""
    only = "" if listing_pks is None else "WHERE l.pk IN (SELECT value FROM json_each(:pks))"
    with write_transaction(store):
        store.execute(
            f"""UPDATE listings SET review_status = e.review_status, uncertainty = e.uncertainty
                FROM ({_EXPECTED_STATUS} {only}) e
                WHERE e.pk = listings.pk
                  AND (listings.review_status IS NOT e.review_status OR listings.uncertainty IS NOT e.uncertainty)""",
            {} if listing_pks is None else {"pks": json.dumps(listing_pks)},
        )


def recount(store: Database) -> None:
    """Set the counts right from the listings' columns (without holding the write lock for the recount:
    db/counters.py), and add any marketplace a listing names that the filter menu lacks."""
    counters.correct(store, "desk_counts", _KEYS, _RECOUNT)
    with read_snapshot(store):
        missing = _missing_marketplaces(store)
    if missing:
        with write_transaction(store):
            store.conn.executemany("INSERT OR IGNORE INTO marketplaces_seen (marketplace) VALUES (?)", missing)


def _missing_marketplaces(store: Database) -> list[tuple[str]]:
    return store.conn.execute(
        "SELECT DISTINCT marketplace FROM listings WHERE marketplace NOT IN (SELECT marketplace FROM marketplaces_seen)"
    ).fetchall()


def disagreements(store: Database) -> list[str]:
    """What the stored desk figures get wrong against a recount from the evidence (empty when all agree)."""
    problems = []
    wrong = next(
        store.query(
            f"""SELECT count(*) AS n, min(l.pk) AS first FROM listings l JOIN ({_EXPECTED_STATUS}) e ON e.pk = l.pk
                WHERE l.review_status IS NOT e.review_status
                   OR abs(ifnull(l.uncertainty, -9) - ifnull(e.uncertainty, -9)) > 1e-9"""
        )
    )
    if wrong["n"]:
        problems.append(
            f"{wrong['n']} listings' stored review status or uncertainty is wrong (first: {wrong['first']})"
        )

    for (flagged, *rest), stored, counted in counters.differences(
        *counters.stored_and_counted(store, "desk_counts", _KEYS, _RECOUNT)
    ):
        name = "/".join(str(part or "-") for part in ["flagged" if flagged else "unflagged", *rest])
        problems.append(f"desk count {name} is {stored}, the listings hold {counted}")
    missing = [marketplace for (marketplace,) in _missing_marketplaces(store)]
    if missing:
        problems.append(f"marketplaces missing from marketplaces_seen: {', '.join(sorted(missing))}")
    if store["dashboard_counts"].exists():  # migration m009
        problems += dashboard_counts.disagreements(store)
    return problems


def counts(store: Database, *, category: str = "", marketplace: str = "", flagged: bool = True) -> dict[str, int]:
    """{review status: flagged (or unflagged) listings} within a category and/or marketplace ('' for any), from
    the counters."""
    where: list[str] = ["flagged = ?"]
    params: list[int | str] = [int(flagged)]
    for column, value in (("category", category), ("marketplace", marketplace)):
        if value:
            where.append(f"{column} = ?")
            params.append(value)
    sql = "SELECT review_status, sum(n) AS n FROM desk_counts"
    sql += " WHERE " + " AND ".join(where) + " GROUP BY 1"
    return {row["review_status"]: row["n"] for row in store.query(sql, params)}


def marketplaces(store: Database) -> list[str]:
    return [row["marketplace"] for row in store.query("SELECT marketplace FROM marketplaces_seen ORDER BY 1")]
