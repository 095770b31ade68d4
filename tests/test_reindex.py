"""`keywatch reindex` re-derives what verify's index and count checks compare with the evidence, and only that."""

import sqlite3

import pytest
from click.testing import CliRunner

import db
from keywatch.cli import cli
from tests.support.items import make_item

EVIDENCE_TABLES = ("chain", "captures", "bodies", "classifications", "status_records", "decisions")


def _stored(store):
    for i, listing in enumerate(("1001", "2002", "3003")):
        db.save_capture(store, make_item(listing, fetched_at=f"2026-11-0{i + 1}T10:00:00.000001Z"))
    db.save_capture(store, make_item("1001", fetched_at="2026-11-08T10:00:00.000001Z", title="Later title"))


def _evidence(store) -> dict[str, list]:
    tables = set(store.table_names())
    return {t: store.execute(f"SELECT * FROM [{t}] ORDER BY rowid").fetchall() for t in EVIDENCE_TABLES if t in tables}


TAMPERING = [
    "UPDATE listings SET title = 'Phone case' WHERE pk = 2",
    "UPDATE listings SET flagged = 0 WHERE pk = 2",
    "UPDATE listings SET last_seen = '2027-01-01T00:00:00.000000Z', latest_capture_id = 1 WHERE pk = 1",
    "DELETE FROM listings_fts WHERE rowid = 3",
    "UPDATE desk_counts SET n = n + 5",
    "UPDATE listings SET review_status = 'confirmed' WHERE pk = 1",
]


@pytest.mark.parametrize("sql", TAMPERING)
@pytest.mark.parametrize("batch", [1, 2_000])
def test_reindex_mends_what_verify_reports_and_leaves_the_evidence_as_it_was(store, sql, batch):
    _stored(store)
    before = _evidence(store)
    with store.conn:
        store.conn.execute(sql)
    assert not db.verify(store).ok
    db.reindex(store, batch=batch)
    assert db.verify(store).ok, db.verify(store).summary()
    assert _evidence(store) == before


def test_reindex_of_an_honest_store_changes_nothing(store):
    _stored(store)
    dump = list(store.conn.iterdump())
    result = db.reindex(store, batch=2)
    assert (result.listings, result.stray_search_rows) == (3, 0)
    assert list(store.conn.iterdump()) == dump


def test_a_search_row_of_no_listing_is_deleted(store):
    # It cannot show anything (search joins the listings), so verify does not report it; reindex still tidies it.
    _stored(store)
    with store.conn:
        store.conn.execute("INSERT INTO listings_fts (rowid, title, description) VALUES (99, 'nothing', 'at all')")
    assert db.reindex(store).stray_search_rows == 1
    assert store.execute("SELECT count(*) FROM listings_fts").fetchone()[0] == 3


def test_reindex_reports_progress_per_batch(store):
    _stored(store)
    seen = []
    db.reindex(store, batch=2, progress=lambda done, total: seen.append((done, total)))
    assert seen == [(2, 3), (3, 3)]


def test_the_cli_mends_a_tampered_store_file(store, tmp_path):
    _stored(store)
    path = store.conn.execute("PRAGMA database_list").fetchone()[2]
    store.close()
    with sqlite3.connect(path) as conn:
        conn.execute("UPDATE listings SET title = 'Phone case', flagged = 0 WHERE pk = 2")
        conn.execute("DELETE FROM listings_fts WHERE rowid = 2")
    conn.close()
    runner = CliRunner()
    assert runner.invoke(cli, ["verify", "--db", path]).exit_code == 1
    result = runner.invoke(cli, ["reindex", "--db", path])
    assert result.exit_code == 0, result.output
    assert "3 listings" in result.output
    verified = runner.invoke(cli, ["verify", "--db", path])
    assert verified.exit_code == 0, verified.output
