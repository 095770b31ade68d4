"""The listings index and the search index, derived from the chained evidence by one set of rules.

`listings` (apart from its identity) and `listings_fts` are not evidence: they are what the evidence says, kept
for fast queues, exports and search. Every column is defined here once, as SQL over captures, classifications
and status observations; the store refreshes a listing's row after each write, `verify` recomputes every row and
names the columns that disagree, and `rebuild` rewrites them all. The rules (docs/evidence.md, "The listings
index"):

- first_seen / last_seen / latest_capture_id: the oldest / newest page capture (description documents and other
  attachments never move the index; ties on a time go to the later row);
- title, price, currency: the newest page capture that shows one; url: the newest canonical URL kept with a
  capture, else the newest capture's fetched URL;
- seller: the **seller of record**, the first seller any capture showed; latest_seller: the newest one shown.
  A page that later names someone else does not silently re-address exports and notices;
- flagged: a listing stays flagged while any of its page captures' latest classification flags it: a newer page
  that no longer matches (a seller rewording a listing to slip out of the queue) does not drop it. A reviewer's
  dismissal takes it out of the queue. classification_id (and category, risk, score) is then the newest
  flagging classification; latest_classification_id is always the newest capture's latest one, so a dropped
  flag shows as `flagged = 1` with the two differing (`flag_dropped` in db.hits);
- status / status_at: the newest status observation;
- risk_rank is a generated column (from risk); the search row holds the index title and the newest description.
"""

import json
import math

from db.connection import write_transaction

# NOT MATERIALIZED: each correlated subquery then reads one listing's captures through captures_listing. The text
# columns are read as text (CAST), as the listings table keeps them: a title given as the number 7 is stored as "7".
_DERIVED = """
WITH page AS NOT MATERIALIZED (
    SELECT c.id, c.listing_pk, c.url, c.fetched_at,
           CASE WHEN json_valid(c.fields) THEN c.fields ELSE '{}' END AS fields
    FROM captures c WHERE coalesce(c.purpose, '') NOT LIKE 'attachment:%'
), shown AS NOT MATERIALIZED (
    SELECT id, listing_pk, url, fetched_at,
           nullif(CAST(json_extract(fields, '$.title') AS TEXT), '') AS title,
           nullif(CAST(json_extract(fields, '$.seller') AS TEXT), '') AS seller,
           nullif(json_extract(fields, '$.price'), '') AS price,
           nullif(CAST(json_extract(fields, '$.currency') AS TEXT), '') AS currency,
           nullif(CAST(json_extract(fields, '$.url') AS TEXT), '') AS page_url,
           nullif(CAST(json_extract(fields, '$.description') AS TEXT), '') AS description
    FROM page
), verdict AS NOT MATERIALIZED (
    SELECT p.listing_pk, p.id AS capture_id, p.fetched_at, k.id AS classification_id, k.flagged
    FROM page p JOIN classifications k ON k.id = (SELECT max(k2.id) FROM classifications k2 WHERE k2.capture_id = p.id)
), derived AS (
    SELECT l.pk,
        (SELECT min(fetched_at) FROM page WHERE listing_pk = l.pk) AS first_seen,
        (SELECT max(fetched_at) FROM page WHERE listing_pk = l.pk) AS last_seen,
        (SELECT id FROM page WHERE listing_pk = l.pk ORDER BY fetched_at DESC, id DESC LIMIT 1) AS latest_capture_id,
        coalesce((SELECT page_url FROM shown WHERE listing_pk = l.pk AND page_url IS NOT NULL
                  ORDER BY fetched_at DESC, id DESC LIMIT 1),
                 (SELECT url FROM page WHERE listing_pk = l.pk ORDER BY fetched_at DESC, id DESC LIMIT 1)) AS url,
        (SELECT title FROM shown WHERE listing_pk = l.pk AND title IS NOT NULL
         ORDER BY fetched_at DESC, id DESC LIMIT 1) AS title,
        (SELECT seller FROM shown WHERE listing_pk = l.pk AND seller IS NOT NULL
         ORDER BY fetched_at, id LIMIT 1) AS seller,
        (SELECT seller FROM shown WHERE listing_pk = l.pk AND seller IS NOT NULL
         ORDER BY fetched_at DESC, id DESC LIMIT 1) AS latest_seller,
        (SELECT CAST(price AS TEXT) FROM shown WHERE listing_pk = l.pk AND price IS NOT NULL
         ORDER BY fetched_at DESC, id DESC LIMIT 1) AS price,
        (SELECT currency FROM shown WHERE listing_pk = l.pk AND currency IS NOT NULL
         ORDER BY fetched_at DESC, id DESC LIMIT 1) AS currency,
        (SELECT description FROM shown WHERE listing_pk = l.pk AND description IS NOT NULL
         ORDER BY fetched_at DESC, id DESC LIMIT 1) AS description,
        (SELECT classification_id FROM verdict WHERE listing_pk = l.pk AND flagged
         ORDER BY fetched_at DESC, capture_id DESC LIMIT 1) AS flag_classification_id,
        (SELECT classification_id FROM verdict WHERE listing_pk = l.pk
         ORDER BY fetched_at DESC, capture_id DESC LIMIT 1) AS latest_classification_id,
        s.status, s.observed_at AS status_at
    FROM listings l
    LEFT JOIN listing_status s ON s.id = (SELECT s2.id FROM listing_status s2 WHERE s2.listing_pk = l.pk
                                          ORDER BY s2.observed_at DESC, s2.id DESC LIMIT 1)
    {only}
)
SELECT d.pk, d.first_seen, d.last_seen, d.latest_capture_id, d.url, d.title, d.seller, d.latest_seller, d.price,
       d.currency, coalesce(d.flag_classification_id, d.latest_classification_id) AS classification_id,
       d.latest_classification_id, d.flag_classification_id IS NOT NULL AS flagged, k.category, k.risk, k.score,
       d.status, d.status_at, d.description
FROM derived d LEFT JOIN classifications k ON k.id = coalesce(d.flag_classification_id, d.latest_classification_id)
ORDER BY d.pk
"""

# The derived columns of `listings`, in the order the query gives them (after pk).
COLUMNS = (
    "first_seen",
    "last_seen",
    "latest_capture_id",
    "url",
    "title",
    "seller",
    "latest_seller",
    "price",
    "currency",
    "classification_id",
    "latest_classification_id",
    "flagged",
    "category",
    "risk",
    "score",
    "status",
    "status_at",
)


def first_index(fetched_at: str, url: str, purpose, fields: dict, classification) -> tuple[dict, tuple | None]:
    """The index columns a new listing's first capture most likely gives it, written with its identity, and its
    search row (title, description) when that guess is exact.

    A guess: it pays because the INSERT maintains each index of `listings` (and fires its triggers) anyway, where
    an UPDATE of the same columns straight after would do it all a second time. Values the rules would transform
    (a NUL, a number as a title, empty text where a column keeps it) are left to refresh, which compares every
    column with what the rules above define and sets the ones the guess got wrong. The guess is exact when every
    value it read is text shown as given or None: for a listing whose one page capture this is, the rules then
    define what it guessed, and refresh need not derive the row (db/capture_group.py).
    """
    index: dict[str, str | int | float | None] = {"first_seen": fetched_at, "last_seen": fetched_at}
    if is_attachment(purpose):
        return index, None
    exact = True

    def shown(value):
        nonlocal exact
        if isinstance(value, str) and value and "\x00" not in value:
            return value
        exact = exact and value is None
        return None

    # A page capture's URL is never null, so neither is the column it gives.
    index["url"] = shown(fields.get("url")) or shown(url)
    exact = exact and index["url"] is not None
    for column, key in (("title", "title"), ("seller", "seller"), ("latest_seller", "seller")):
        index[column] = shown(fields.get(key))
    index["price"], index["currency"] = shown(fields.get("price")), shown(fields.get("currency"))
    if classification is not None:
        risk, score = classification.get("risk"), classification.get("score")
        index["flagged"] = int(bool(classification.get("flagged")))
        index["category"] = shown(classification.get("category"))
        index["risk"] = shown(None if risk is None else str(risk))
        index["score"] = _real(score)
        exact = exact and (score is None or index["score"] is not None)
    description = shown(fields.get("description"))
    return index, (index["title"], description) if exact else None


def is_attachment(purpose) -> bool:
    """Whether a capture of this purpose is an attachment, which never moves the index (the rules' `page`)."""
    # LIKE 'attachment:%' folds ASCII case; lower() folds at least as much, so an attachment is never guessed at.
    return isinstance(purpose, str) and purpose.lower().startswith("attachment:")


def _real(value) -> float | None:
    """`value` as a REAL column reads it back, for the numbers that are plainly numbers (None for the others)."""
    if type(value) is int and -(2**63) <= value < 2**63:
        return float(value)
    return value if type(value) is float and math.isfinite(value) else None


def derived_rows(store, listing_pks=None):
    """{pk: {column: value}} as the evidence defines them (all listings when `listing_pks` is None)."""
    sql, params = _only(_DERIVED, "l.pk", listing_pks)
    return {row.pop("pk"): row for row in store.query(sql, params)}


def _only(sql: str, column: str, listing_pks) -> tuple[str, dict]:
    """`sql` limited to these listings (all when None). Two forms rather than `:pks IS NULL OR ...`: an OR in the
    WHERE keeps SQLite from searching by primary key, and each listing checked would cost a scan of them all."""
    if listing_pks is None:
        return sql.replace("{only}", ""), {}
    pks = json.dumps(sorted({int(pk) for pk in listing_pks}))
    return sql.replace("{only}", f"WHERE {column} IN (SELECT value FROM json_each(:pks))"), {"pks": pks}


def has_search(store) -> bool:
    return next(store.query("SELECT 1 AS found FROM sqlite_master WHERE name = 'listings_fts'"), None) is not None


def refresh(store, listing_pks, written_exactly=None) -> None:
    """Rewrite the index rows (and search rows) of these listings from their evidence.

    Only the columns the evidence changed are set: an UPDATE maintains the indexes and fires the triggers of the
    columns it names, whatever their values, and a listing's row has many of both (db/desk_counts.py). A search
    row that already holds the title and description is left as it is. `written_exactly`: {pk: (title,
    description)} of listings among these whose index row was inserted as the rules define it (first_index's
    exact guess): only their search rows are written."""
    written_exactly = written_exactly or {}
    derived = [pk for pk in listing_pks if pk not in written_exactly]
    rows = derived_rows(store, derived) if derived else {}
    rows = {pk: row for pk, row in rows.items() if row["latest_capture_id"] is not None}
    shown = {pk: (row["title"], row["description"]) for pk, row in rows.items()} | written_exactly
    if not shown:
        return  # no page capture (yet): nothing to index
    selected = ", ".join(f"[{c}]" for c in COLUMNS)
    sql, params = _only(f"SELECT pk, {selected} FROM listings {{only}}", "pk", rows)
    stored = {row[0]: row[1:] for row in store.conn.execute(sql, params).fetchall()} if rows else {}
    search = _search_rows(store, shown) if has_search(store) else None
    searched = []  # the search rows to write, each in one statement
    with write_transaction(store):
        for pk in sorted(shown):
            if pk in rows:
                _set_changed(store, pk, rows[pk], stored[pk])
            title_and_description = shown[pk]
            if search is not None and search.get(pk) != title_and_description:
                if pk in search:
                    store.conn.execute("DELETE FROM listings_fts WHERE rowid = ?", [pk])
                searched.append((pk, *title_and_description))
        if searched:  # a store from before the search index has no table to prepare the statement on
            store.conn.executemany("INSERT INTO listings_fts (rowid, title, description) VALUES (?, ?, ?)", searched)


def _set_changed(store, pk: int, row: dict, stored: tuple) -> None:
    changed = [(c, row[c]) for c, old in zip(COLUMNS, stored) if not _identical(old, row[c])]
    if changed:
        assignments = ", ".join(f"[{c}] = ?" for c, _ in changed)
        store.conn.execute(f"UPDATE listings SET {assignments} WHERE pk = ?", [v for _, v in changed] + [pk])


def _identical(a, b) -> bool:
    """The same value of the same type: anything else is written (87 and 87.0 are equal, but not the same)."""
    return type(a) is type(b) and a == b


def rebuild(store) -> int:
    """Rewrite every listing's index and search row from the evidence; returns how many listings were indexed."""
    with write_transaction(store):
        if has_search(store):
            store.execute("DELETE FROM listings_fts")
        pks = [row["pk"] for row in store.query("SELECT pk FROM listings")]
        refresh(store, pks)
    return len(pks)


def _same(a, b) -> bool:
    if isinstance(a, (int, float)) and isinstance(b, (int, float)) and not isinstance(a, bool):
        return float(a) == float(b)
    return a == b


def disagreements(store, listing_pks=None) -> dict[int, list[str]]:
    """{pk: [column, ...]} of index and search rows that differ from what the evidence says."""
    stored_columns = {r["name"] for r in store.query("PRAGMA table_info(listings)")}
    columns = [c for c in COLUMNS if c in stored_columns]
    selected = ", ".join(f"[{c}]" for c in columns)
    sql, params = _only(f"SELECT pk, {selected} FROM listings {{only}}", "pk", listing_pks)
    stored = {row.pop("pk"): row for row in store.query(sql, params)}
    search = _search_rows(store, listing_pks) if has_search(store) else None
    wrong: dict[int, list[str]] = {}
    derived = derived_rows(store, listing_pks)
    for pk, expected in derived.items():
        row = stored.get(pk, {})
        columns_wrong = [c for c in columns if not _same(row.get(c), expected[c])]
        if search is not None and expected["latest_capture_id"] is not None:
            found = search.get(pk)
            if found is None:
                columns_wrong.append("search row (missing)")
            elif found != (expected["title"], expected["description"]):
                columns_wrong.append("search row")
        if columns_wrong:
            wrong[pk] = columns_wrong
    if search is not None:
        # a search row with no page capture behind it would let search find words the evidence never held
        indexed = {pk for pk, expected in derived.items() if expected["latest_capture_id"] is not None}
        for pk in sorted(search.keys() - indexed):
            wrong.setdefault(pk, []).append("search row (no capture behind it)")
    return wrong


def _search_rows(store, listing_pks) -> dict[int, tuple]:
    sql, params = _only("SELECT rowid AS pk, title, description FROM listings_fts {only}", "rowid", listing_pks)
    return {row["pk"]: (row["title"], row["description"]) for row in store.query(sql, params)}
