"""The store writer writes a group table by table (db/capture_group.py): what it stores, the chain it links and
the items it refuses are what writing the same items one at a time gives."""

import contextlib
import sqlite3

import pytest

import db
from db.chain import record_row
from db.stored_values import declared_types, stored_row
from tests.support.items import CLASSIFIED, make_item
from tests.support.store_checks import assert_store_agrees

# Values a column stores as given, and values SQLite's affinity changes (the writer reads those rows back).
HOSTILE = {
    "a score as text": {"classification": {**CLASSIFIED, "score": "91.5"}},
    "a score that is no number": {"classification": {**CLASSIFIED, "score": "high"}},
    "a whole screen score": {"screen_score": 88},
    "a screen score past 2**53": {"screen_score": 2**60 + 1},
    "a screen score as text": {"screen_score": "0.5"},
    "a status as text": {"status": "200"},
    "a watchlist version as a number": {"watchlist_version": 7},
    "a category as a number": {"classification": {**CLASSIFIED, "category": 5}},
    "a NUL in the title": {"title": "Relay\x00box"},
    "a model's probability": {"classification": {**CLASSIFIED, "probability": 0.75, "model": {"threshold": 0.5}}},
    "an ended listing": {"listing_status": "ended"},
    "not found": {"status": 404},
}


def _items():
    items = [make_item(f"{n}", fetched_at=f"2026-11-28T10:00:{n:02d}Z", **o) for n, o in enumerate(HOSTILE.values())]
    # The same listings again within the group: a newer capture, an older one, a status that is no longer news.
    items.append(make_item("0", fetched_at="2026-11-28T11:00:00Z", title="Phone case", seller="other"))
    items.append(make_item("1", fetched_at="2026-11-28T09:00:00Z"))
    items.append(make_item("10", fetched_at="2026-11-28T12:00:00Z"))
    items.append(make_item("11", fetched_at="2026-11-28T12:00:00Z"))
    return items


def _what_is_stored(store) -> dict:
    """Every row the writer makes, but the times it takes itself (classifications' and links' created_at)."""
    return {
        "listings": list(store.query("SELECT * FROM listings ORDER BY pk")),
        "captures": list(store.query("SELECT * FROM captures ORDER BY id")),
        "classifications": list(store.query("SELECT * FROM classifications ORDER BY id")),
        "status": list(store.query("SELECT * FROM listing_status ORDER BY id")),
        "bodies": list(store.query("SELECT sha256, size, encoding FROM bodies ORDER BY sha256")),
        "links": [tuple(r.values()) for r in store.query("SELECT record_type, record_id FROM chain ORDER BY seq")],
        "search": list(store.query("SELECT rowid, title, description FROM listings_fts ORDER BY rowid")),
        "desk": list(store.query("SELECT * FROM desk_counts ORDER BY 1, 2, 3, 4")),
        "dashboard": list(store.query("SELECT * FROM dashboard_counts ORDER BY 1, 2, 3, 4, 5")),
    }


def _without_times(stored: dict) -> dict:
    stored["classifications"] = [{k: v for k, v in r.items() if k != "created_at"} for r in stored["classifications"]]
    return stored


def test_a_group_stores_what_one_capture_at_a_time_stores(tmp_path):
    grouped, alone = db.connect(tmp_path / "grouped.sqlite"), db.connect(tmp_path / "alone.sqlite")
    outcomes = db.save_captures(grouped, _items())
    assert all(isinstance(o, int) for o in outcomes), outcomes
    for item in _items():
        db.save_capture(alone, item)
    assert _without_times(_what_is_stored(grouped)) == _without_times(_what_is_stored(alone))
    assert_store_agrees(grouped)


@pytest.mark.parametrize("overrides", list(HOSTILE.values()), ids=list(HOSTILE))
def test_a_row_hashed_from_the_values_inserted_is_the_row_read_back(store, overrides):
    """Where stored_row answers, it answers what SQLite hands back (else the writer reads the row back)."""
    db.save_captures(store, [make_item("1001", **overrides)])
    for table, record_type in (("captures", "capture"), ("classifications", "classification")):
        declared = declared_types(store, table)
        row = record_row(store, record_type, 1)
        given = {**row, **{k: v for k, v in _given(overrides, table).items() if k in row}}
        guessed = stored_row(given, declared)
        assert (
            guessed is None or guessed == row and [type(v) for v in guessed.values()] == [type(v) for v in row.values()]
        )
    assert_store_agrees(store)


def _given(overrides: dict, table: str) -> dict:
    if table == "captures":
        return {k: v for k, v in overrides.items() if k in ("screen_score", "watchlist_version")}
    return {k: v for k, v in overrides.get("classification", {}).items() if k in ("score", "category")}


REFUSED_IN_THE_DATABASE = {
    # Through every check in Python; the captures table's NOT NULL refuses it.
    "an attachment without a URL": {"attachments": [{"kind": "description", "url": None, "body": b"<p>d</p>"}]},
    # Only the chain's hashing refuses it (no JSON for infinity), after its rows were inserted.
    "an infinite score": {"classification": {**CLASSIFIED, "score": float("inf")}},
}


@pytest.mark.parametrize("in_a_transaction", [False, True], ids=["its own transaction", "the caller's"])
@pytest.mark.parametrize("overrides", list(REFUSED_IN_THE_DATABASE.values()), ids=list(REFUSED_IN_THE_DATABASE))
def test_an_item_the_database_refuses_mid_group_is_reported_and_the_others_stored(store, overrides, in_a_transaction):
    """In its own transaction the refused group is rolled back and written again; in the caller's, a savepoint
    undoes it."""
    db.save_captures(store, [make_item("1000")])
    items = [make_item("1001"), make_item("1001", fetched_at="2026-11-28T11:00:00Z"), make_item("2002", **overrides)]
    items += [make_item("3003"), make_item("1000", fetched_at="2026-11-28T12:00:00Z")]
    with db.write_transaction(store) if in_a_transaction else contextlib.nullcontext():
        outcomes = db.save_captures(store, items)
    assert _temp_store(store) == 0
    assert isinstance(outcomes[2], (ValueError, sqlite3.IntegrityError)), outcomes
    assert [isinstance(o, int) for o in outcomes] == [True, True, False, True, True]
    assert [r["listing_id"] for r in store.query("SELECT listing_id FROM listings ORDER BY pk")] == [
        "1000",
        "1001",
        "3003",
    ]
    assert store["captures"].count == 5
    assert [r["pk"] for r in store.query("SELECT pk FROM listings")] == [1, 2, 3]  # no id skipped
    assert_store_agrees(store)


def _temp_store(store) -> int:
    return store.conn.execute("PRAGMA temp_store").fetchone()[0]


def test_the_connections_temporary_storage_is_as_it_was_after_a_group(store):
    """The group's statement journals are kept in memory (db.connection.journals_in_memory), for its transaction
    only: a connection set to keep temporary tables in files keeps doing so."""
    store.conn.execute("PRAGMA temp_store = FILE")
    db.save_captures(store, [make_item("1001"), make_item("2002")])
    assert _temp_store(store) == 1
    db.save_captures(
        store, [make_item("3003", classification={**CLASSIFIED, "score": float("inf")}), make_item("4004")]
    )
    assert _temp_store(store) == 1
    assert [r["listing_id"] for r in store.query("SELECT listing_id FROM listings ORDER BY pk")] == [
        "1001",
        "2002",
        "4004",
    ]
