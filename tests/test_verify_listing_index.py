"""verify checks the listings index (what the queue, exports and notices show) against the chained evidence."""

import sqlite3

import pytest

import db
from db import listing_index
from tests.support.items import make_item


def _honest(store):
    db.save_capture(store, make_item("1001", fetched_at="2026-11-01T10:00:00.000001Z"))
    # A later re-check of a removed page: no title or seller on it, the index keeps the last known ones.
    db.save_capture(
        store,
        make_item(
            "1001",
            fetched_at="2026-11-08T10:00:00.000001Z",
            title="",
            seller=None,
            price=None,
            status=404,
            listing_status="removed",
            classification=None,
            body=b"<html>gone</html>",
        ),
    )
    # Stored out of order (an older capture arriving late) must not count as tampering.
    db.save_capture(store, make_item("1001", fetched_at="2026-10-30T10:00:00.000001Z", title="Old title"))
    db.save_capture(
        store,
        make_item(
            "2002",
            fetched_at="2026-11-02T10:00:00.000001Z",
            attachments=[
                {
                    "kind": "description",
                    "url": "http://127.0.0.1:8000/d/2002",
                    "status": 200,
                    "headers": {},
                    "body": b"<p>desc</p>",
                    "fetched_at": "2026-11-09T10:00:00.000001Z",
                }
            ],
        ),
    )
    db.record_status(store, 2, "ended", "2026-11-03T00:00:00Z")


def test_an_honest_store_with_removed_pages_late_captures_and_attachments_verifies(store):
    _honest(store)
    result = db.verify(store)
    assert result.ok, result.summary()


@pytest.mark.parametrize(
    "sql, column",
    [
        ("UPDATE listings SET title = 'Phone case' WHERE pk = 2", "title"),
        ("UPDATE listings SET seller = 'someone_else' WHERE pk = 2", "seller"),
        ("UPDATE listings SET price = '1.00' WHERE pk = 2", "price"),
        ("UPDATE listings SET url = 'http://elsewhere.example/' WHERE pk = 2", "url"),
        ("UPDATE listings SET flagged = 0 WHERE pk = 2", "flagged"),  # would hide a hit from the review queue
        ("UPDATE listings SET category = 'signal_jammer' WHERE pk = 2", "category"),
        ("UPDATE listings SET score = 10 WHERE pk = 2", "score"),
        ("UPDATE listings SET first_seen = '2025-01-01T00:00:00.000000Z' WHERE pk = 2", "first_seen"),
        ("UPDATE listings SET last_seen = '2027-01-01T00:00:00.000000Z' WHERE pk = 2", "last_seen"),
        ("UPDATE listings SET status = 'live' WHERE pk = 1", "status"),
        ("UPDATE listings SET latest_capture_id = 1 WHERE pk = 1", "latest_capture_id"),
        ("UPDATE listings SET title = 'Never on sale' WHERE pk = 1", "title"),
        ("UPDATE listings SET classification_id = NULL, flagged = 0 WHERE pk = 2", "classification_id"),
    ],
)
def test_each_edit_of_the_index_is_named(store, sql, column):
    _honest(store)
    store.execute(sql)
    result = db.verify(store)
    assert not result.ok
    assert column in str(result.first) and "listing" in str(result.first)


def test_the_canonical_listing_url_is_kept_with_each_capture(store):
    capture_id = db.save_capture(
        store,
        make_item(
            "3003", url="http://127.0.0.1:8000/item/3003", response_url="http://127.0.0.1:8000/item/3003?redirected=1"
        ),
    )
    fields = store.execute("SELECT json_extract(fields, '$.url') FROM captures WHERE id = ?", [capture_id]).fetchone()
    assert fields[0] == "http://127.0.0.1:8000/item/3003"


@pytest.mark.parametrize(
    "sql, record",
    [
        ("UPDATE captures SET fields = '{not json' WHERE id = 1", "capture 1"),
        ("UPDATE captures SET url = X'00ff' WHERE id = 1", "capture 1"),
        ("UPDATE classifications SET score = 9e999 WHERE id = 1", "classification 1"),
        ("UPDATE chain SET created_at = X'01' WHERE seq = 2", "chain seq 2"),
        ("UPDATE chain SET content_hash = X'01' WHERE seq = 2", "chain seq 2"),
        ("UPDATE chain SET prev_hash = X'01' WHERE seq = 2", "chain seq 2"),
        ("UPDATE chain SET hash = 'é' WHERE seq = 2", "chain seq 2"),
    ],
)
def test_verify_reports_values_no_honest_write_stores_instead_of_crashing(store, sql, record):
    _honest(store)
    for (name,) in store.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'").fetchall():
        store.execute(f"DROP TRIGGER [{name}]")
    store.execute(sql)
    result = db.verify(store)
    assert not result.ok
    assert record in str(result.first)


def test_reclassifying_an_older_capture_after_the_page_went_away_still_verifies(store):
    """The index keeps the classification of the newest classified capture when a gone page arrives; a later
    re-score of that capture is appended and becomes the one shown (keywatch reclassify re-scores every capture)."""
    from tests.support.items import CLASSIFIED

    first = db.save_capture(store, make_item("1001", fetched_at="2026-11-01T10:00:00.000001Z"))
    db.save_capture(
        store,
        make_item(
            "1001",
            fetched_at="2026-11-08T10:00:00.000001Z",
            title="",
            status=404,
            listing_status="removed",
            classification=None,
            body=b"<html>gone</html>",
        ),
    )
    db.save_classification(store, first, {**CLASSIFIED, "score": 77.0, "watchlist_version": "wl-test-2"})
    result = db.verify(store)
    assert result.ok, result.summary()
    store.execute("UPDATE listings SET classification_id = 999")
    assert "classification_id" in str(db.verify(store).first)


def test_risk_rank_is_derived_from_risk_and_cannot_sink_a_hit(store):
    _honest(store)
    assert store.execute("SELECT risk_rank FROM listings WHERE pk = 2").fetchone()[0] == 3  # "high"
    with pytest.raises(sqlite3.OperationalError, match="generated column"):
        store.execute("UPDATE listings SET risk_rank = 0 WHERE pk = 2")


def test_a_deleted_or_altered_search_row_is_named_and_rebuilt(store):
    from db import listing_index

    _honest(store)
    store.execute("DELETE FROM listings_fts WHERE rowid = 2")  # the hit could no longer be found by search
    store.execute("UPDATE listings_fts SET title = 'phone case' WHERE rowid = 1")
    problems = [str(p) for p in db.verify(store).problems]
    assert len(problems) == 2
    assert "(listing 1): index column(s) search row disagree" in problems[0]
    assert "(listing 2): index column(s) search row (missing) disagree" in problems[1]
    store.execute("UPDATE listings SET title = 'Never on sale', flagged = 0 WHERE pk = 2")
    assert listing_index.rebuild(store) == 2
    assert db.verify(store).ok
    assert db.get_listing(store, "demo_market", "2002")["flagged"] == 1


def test_a_search_row_with_no_capture_behind_it_is_named_and_removed(store):
    _honest(store)
    store.execute("INSERT INTO listings_fts (rowid, title, description) VALUES (77, 'keyless relay', '')")
    problems = [str(p) for p in db.verify(store).problems]
    assert len(problems) == 1 and "listing 77: index column(s) search row (no capture behind it)" in problems[0]
    listing_index.rebuild(store)
    assert db.verify(store).ok


def test_a_nul_in_a_title_does_not_hide_the_words_after_it(store):
    from db import queue

    db.save_capture(store, make_item("4004", title="Smart\x00 key programmer OBD kit"))
    found = queue.queue(store, queue.QueueFilter(q="programmer"))
    assert [row["listing_id"] for row in found] == ["4004"]
    assert db.verify(store).ok


def test_a_description_document_does_not_blank_the_search_row(store):
    from db import queue

    db.save_capture(
        store,
        make_item(
            "5005",
            attachments=[
                {
                    "kind": "description",
                    "url": "http://127.0.0.1:8000/d/5005",
                    "status": 200,
                    "headers": {},
                    "body": b"<p>desc</p>",
                    "fetched_at": "2026-11-29T10:00:00.000001Z",
                }
            ],
        ),
    )
    assert [row["listing_id"] for row in queue.queue(store, queue.QueueFilter(q="repeater"))] == ["5005"]


def test_checking_some_listings_searches_them_by_key_rather_than_scanning_every_listing(tmp_path):
    # An export checks the index of the listings it quotes: its cost must follow the pack, not the store.
    store = db.connect(tmp_path / "plan.sqlite")
    for sql, params in (
        listing_index._only(listing_index._DERIVED, "l.pk", [1, 2]),
        listing_index._only("SELECT pk FROM listings {only}", "pk", [1, 2]),
    ):
        plan = [row["detail"] for row in store.query("EXPLAIN QUERY PLAN " + sql, params)]
        assert not [step for step in plan if step.startswith(("SCAN l", "SCAN listings", "SCAN c"))], plan


def test_a_capture_whose_text_fields_are_numbers_still_verifies(store):
    # save_capture keeps what it is given; the index column (text) holds "7", and the rule that derives it must
    # read the capture's 7 as that text too, or verify calls an honest store tampered with.
    db.save_capture(
        store, make_item("3003", fetched_at="2026-11-01T10:00:00.000001Z", title=7, url=249.87, seller=True, currency=1)
    )
    db.save_capture(store, make_item("3003", fetched_at="2026-11-09T10:00:00.000001Z", title=8.5))
    result = db.verify(store)
    assert result.ok, result.summary()
    assert store.execute("SELECT title FROM listings WHERE listing_id = '3003'").fetchone() == ("8.5",)
