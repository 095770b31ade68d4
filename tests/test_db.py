import hashlib
import sqlite3
import zlib

import pytest

import db
from db.queries import HIT_COLUMNS
from tests.support.items import CLASSIFIED, make_item


def test_connect_creates_folder_and_uses_wal(tmp_path):
    path = tmp_path / "nested" / "store.sqlite"
    store = db.connect(path)
    assert path.exists()
    assert store.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert store.execute("PRAGMA foreign_keys").fetchone()[0] == 1
    assert store.execute("PRAGMA busy_timeout").fetchone()[0] >= 5000
    store.conn.close()
    # Re-opening applies nothing twice.
    again = db.connect(path)
    from db.schema import migrations

    assert again.execute(
        "SELECT count(*) FROM _sqlite_migrations WHERE migration_set = 'keywatch.evidence'"
    ).fetchone()[0] == len(migrations._migrations)


def test_connect_checks_migrations_in_full_only_when_the_store_has_other_ones(tmp_path, monkeypatch):
    """The desk connects on every request: a current store costs one read of its migrations, and a store whose
    migrations another process changed meanwhile still gets the full check (and the migration it lacks)."""
    path = tmp_path / "store.sqlite"
    db.connect(path).conn.close()
    full_checks = []
    monkeypatch.setattr(db.connection, "apply_migrations", lambda store: full_checks.append(1))
    db.connect(path).conn.close()
    assert full_checks == []
    # Another process's store, one migration short (as if made by the keywatch before it).
    other = sqlite3.connect(path)
    other.execute("DELETE FROM _sqlite_migrations WHERE rowid = (SELECT max(rowid) FROM _sqlite_migrations)")
    other.commit()
    other.close()
    db.connect(path).conn.close()
    assert full_checks == [1]


def test_connect_without_create_refuses_missing_file(tmp_path):
    with pytest.raises(db.StoreNotFound):
        db.connect(tmp_path / "missing.sqlite", create=False)
    assert not (tmp_path / "missing.sqlite").exists()


def test_save_capture_stores_everything(store):
    run_id = db.start_run(store, spider="demo_market", args={"pages": 2})
    item = make_item()
    capture_id = db.save_capture(store, item, run_id=run_id)
    db.finish_run(store, run_id, stats={"item_scraped_count": 1}, finish_reason="finished")

    capture = store["captures"].get(capture_id)
    assert capture["sha256"] == hashlib.sha256(item["body"]).hexdigest()
    assert capture["body_size"] == len(item["body"])
    assert capture["url"] == item["response_url"] and capture["request_url"] == item["request_url"]
    assert capture["fetched_at"] == "2026-11-28T10:00:00.123456Z"
    assert capture["watchlist_version"] == "wl-test-1"
    assert capture["crawler_version"].startswith("keywatch ")
    body_row = store["bodies"].get(capture["sha256"])
    assert zlib.decompress(body_row["body"]) == item["body"]
    run = db.get_run(store, run_id)
    assert run["finish_reason"] == "finished" and run["finished_at"]
    classification = next(store.query("SELECT * FROM classifications WHERE capture_id = ?", [capture_id]))
    assert classification["category"] == "relay_attack" and classification["flagged"] == 1


def test_recrawl_adds_capture_and_identical_body_is_stored_once(store):
    first = db.save_capture(store, make_item(fetched_at="2026-11-28T10:00:00Z"))
    second = db.save_capture(store, make_item(fetched_at="2026-11-29T10:00:00Z", price="199.00"))
    assert first != second
    assert store["captures"].count == 2
    assert store["bodies"].count == 1
    assert store["listings"].count == 1
    listing = db.get_listing(store, "demo_market", "1001")
    assert listing["first_seen"] == "2026-11-28T10:00:00.000000Z"
    assert listing["last_seen"] == "2026-11-29T10:00:00.000000Z"
    assert listing["latest_capture_id"] == second
    assert listing["price"] == "199.00"
    # The first capture still says what the page said then.
    assert '"price": "249.87"' in store["captures"].get(first)["fields"]


def test_older_capture_arriving_late_does_not_become_latest(store):
    new = db.save_capture(store, make_item(fetched_at="2026-11-29T10:00:00Z", title="new title"))
    db.save_capture(store, make_item(fetched_at="2026-11-27T10:00:00Z", title="old title"))
    listing = db.get_listing(store, "demo_market", "1001")
    assert listing["latest_capture_id"] == new and listing["title"] == "new title"
    assert listing["first_seen"].startswith("2026-11-27")


def test_hits_lists_flagged_listings_with_latest_sha256(store):
    db.save_capture(store, make_item("1", body=b"one"))
    latest = make_item("1", body=b"one, later", fetched_at="2026-11-30T00:00:00Z")
    db.save_capture(store, latest)
    db.save_capture(store, make_item("2", classification={**CLASSIFIED, "flagged": False, "category": None}))
    db.save_capture(store, make_item("3", classification=None))
    db.save_capture(store, make_item("4", classification={**CLASSIFIED, "risk": "medium", "score": 99}))
    rows = list(db.hits(store))
    assert [r["listing_id"] for r in rows] == ["1", "4"]  # high risk before medium
    assert rows[0]["sha256"] == hashlib.sha256(b"one, later").hexdigest()
    assert set(HIT_COLUMNS) <= set(rows[0])


def test_headers_keep_order_and_bytes_are_read_as_latin1(store):
    headers = {b"Server": [b"nginx"], b"Content-Type": [b"text/html"], b"X-Caf\xe9": [b"\xe9"]}
    capture_id = db.save_capture(store, make_item(headers=headers))
    assert (
        store["captures"].get(capture_id)["headers"]
        == '{"Server": ["nginx"], "Content-Type": ["text/html"], "X-Café": ["é"]}'
    )


@pytest.mark.parametrize(
    "bad, message",
    [
        ({"body": "text, not bytes"}, "raw bytes"),
        ({"listing_id": ""}, "listing_id"),
        ({"fetched_at": "yesterday"}, "ISO 8601"),
        ({"fetched_at": "2026-11-28T10:00:00"}, "UTC offset"),
        # A time whose UTC instant falls outside year 1..9999 (hostile Date-like fields) was an OverflowError.
        ({"fetched_at": "0001-01-01T00:00:00+01:00"}, "out of range"),
        ({"fetched_at": "9999-12-31T23:59:59-23:59"}, "out of range"),
    ],
)
def test_bad_items_are_refused_without_partial_writes(store, bad, message):
    with pytest.raises((TypeError, ValueError), match=message):
        db.save_capture(store, make_item(**bad))
    for table in ("listings", "captures", "bodies", "chain"):
        assert store[table].count == 0


@pytest.mark.parametrize(
    "table, sql",
    [
        ("captures", "UPDATE captures SET url = 'http://elsewhere/'"),
        ("captures", "DELETE FROM captures"),
        ("bodies", "UPDATE bodies SET size = 1"),
        ("bodies", "DELETE FROM bodies"),
        ("classifications", "UPDATE classifications SET score = 1"),
        ("classifications", "DELETE FROM classifications"),
        ("listing_status", "UPDATE listing_status SET status = 'removed'"),
        ("listing_status", "DELETE FROM listing_status"),
        ("chain", "UPDATE chain SET hash = 'x'"),
        ("chain", "DELETE FROM chain"),
        ("listings", "UPDATE listings SET listing_id = 'other'"),
        ("listings", "DELETE FROM listings"),
    ],
)
def test_triggers_refuse_changes_to_evidence(store, table, sql):
    db.save_capture(store, make_item())
    with pytest.raises(sqlite3.IntegrityError, match="evidence is append-only"):
        store.execute(sql)


def test_decisions_and_tombstones_are_append_only(store):
    db.save_capture(store, make_item())
    store.execute("INSERT INTO decisions (listing_pk, user, action, created_at) VALUES (1, 'ann', 'confirm', 'now')")
    store.execute(
        "INSERT INTO tombstones (sha256, capture_ids, reason, purged_at, actor) VALUES ('x', '[]', 'r', 't', 'a')"
    )
    for sql in (
        "UPDATE decisions SET action = 'dismiss'",
        "DELETE FROM decisions",
        "UPDATE tombstones SET reason = 'x'",
        "DELETE FROM tombstones",
    ):
        with pytest.raises(sqlite3.IntegrityError, match="append-only"):
            store.execute(sql)


def test_listing_index_columns_may_change_but_verify_names_an_edit(store):
    db.save_capture(store, make_item())
    store.execute("UPDATE listings SET title = 'edited index'")  # no trigger: the store rewrites the index itself
    result = db.verify(store)
    assert not result.ok
    assert str(result.first) == "chain seq 1 (listing 1): index column(s) title disagree with the chained evidence"


def test_chain_links_every_record(store):
    assert db.chain_head(store) == db.GENESIS
    db.save_capture(store, make_item())
    kinds = [r["record_type"] for r in store.query("SELECT record_type FROM chain ORDER BY seq")]
    assert kinds == ["listing", "capture", "classification", "status"]
    rows = list(store.query("SELECT * FROM chain ORDER BY seq"))
    assert rows[0]["prev_hash"] == db.GENESIS
    for before, after in zip(rows, rows[1:], strict=False):
        assert after["prev_hash"] == before["hash"]
        assert after["hash"] == hashlib.sha256((before["hash"] + after["content_hash"]).encode()).hexdigest()
    assert db.chain_head(store) == rows[-1]["hash"]


def test_append_chain_for_other_modules(store):
    db.save_capture(store, make_item())
    with db.write_transaction(store):
        decision_id = store.execute(
            "INSERT INTO decisions (listing_pk, user, action, category, created_at) "
            "VALUES (1, 'ann', 'confirm', 'relay_attack', '2026-11-28T12:00:00.000000Z')"
        ).lastrowid
        head = db.append_chain(store, "decision", decision_id, {"user": "ann", "action": "confirm"})
    assert head == db.chain_head(store)
    with pytest.raises(ValueError, match="differs"):
        db.append_chain(store, "decision", decision_id, {"user": "bob"})
    with pytest.raises(ValueError, match="unknown evidence record type"):
        db.append_chain(store, "gossip", 1)
    assert db.verify(store).ok


def test_record_status_is_appended_and_indexed(store):
    capture_id = db.save_capture(store, make_item())
    pk = db.get_listing(store, "demo_market", "1001")["pk"]
    db.record_status(store, pk, "removed", "2026-12-01T09:00:00Z", capture_id=capture_id, detail="HTTP 404")
    db.record_status(store, pk, "ended", "2026-11-30T09:00:00Z")  # older observation arriving late
    assert db.get_listing(store, "demo_market", "1001")["status"] == "removed"
    statuses = [r["status"] for r in store.query("SELECT status FROM listing_status ORDER BY id")]
    assert statuses == ["live", "removed", "ended"]
    with pytest.raises(ValueError, match="status must be"):
        db.record_status(store, pk, "gone", "2026-12-01T09:00:00Z")
    assert db.verify(store).ok


def test_live_status_recorded_only_when_it_changes(store):
    db.save_capture(store, make_item(fetched_at="2026-11-28T10:00:00Z"))
    db.save_capture(store, make_item(fetched_at="2026-11-29T10:00:00Z"))
    db.save_capture(store, make_item(fetched_at="2026-11-30T10:00:00Z", status=404, listing_status="removed"))
    db.save_capture(store, make_item(fetched_at="2026-12-01T10:00:00Z"))
    statuses = [r["status"] for r in store.query("SELECT status FROM listing_status ORDER BY id")]
    assert statuses == ["live", "removed", "live"]


def test_write_transaction_rolls_back_everything_on_error(store):
    with pytest.raises(RuntimeError):
        with db.write_transaction(store):
            db.save_capture(store, make_item())
            raise RuntimeError("crash")
    assert store["captures"].count == 0 and store["chain"].count == 0
    assert not store.conn.in_transaction


def test_listing_history_orders_events(store):
    db.save_capture(store, make_item(fetched_at="2026-11-28T10:00:00Z"))
    db.save_capture(store, make_item(fetched_at="2026-11-29T10:00:00Z", body=b"changed"))
    pk = db.get_listing(store, "demo_market", "1001")["pk"]
    db.record_status(store, pk, "ended", "2026-11-29T11:00:00Z")
    history = db.listing_history(store, "demo_market", "1001")
    kinds = [e["kind"] for e in history["events"]]
    assert kinds[:2] == ["capture", "status"]
    assert kinds.count("capture") == 2 and kinds.count("classification") == 2
    assert [e["at"] for e in history["events"]] == sorted(e["at"] for e in history["events"])
    assert db.listing_history(store, "demo_market", "nope") is None


def test_recheck_targets_skip_dismissed_removed_and_unflagged(store):
    for listing_id in ("a", "b", "c", "d"):
        db.save_capture(store, make_item(listing_id))
    db.save_capture(store, make_item("e", classification={**CLASSIFIED, "flagged": False}))
    db.save_capture(store, make_item("x", marketplace="other_market"))
    pk = {r["listing_id"]: r["pk"] for r in store.query("SELECT listing_id, pk FROM listings")}
    db.record_status(store, pk["b"], "removed", "2026-12-01T00:00:00Z")
    for listing, action in (("c", "dismiss"), ("d", "dismiss"), ("d", "escalate"), ("a", "note")):
        store.execute(
            "INSERT INTO decisions (listing_pk, user, action, created_at) VALUES (?, 'ann', ?, 'now')",
            [pk[listing], action],
        )
    targets = list(db.recheck_targets(store, "demo_market"))
    assert sorted(t["listing_id"] for t in targets) == ["a", "d"]
    assert targets[0]["url"].startswith("http://127.0.0.1")


def test_reclassification_appends_and_a_flag_the_evidence_holds_stays(store):
    old = db.save_capture(store, make_item(fetched_at="2026-11-28T10:00:00Z"))
    new = db.save_capture(store, make_item(fetched_at="2026-11-29T10:00:00Z"))
    db.save_classification(store, old, {**CLASSIFIED, "category": "key_emulator", "watchlist_version": "wl-2"})
    assert db.get_listing(store, "demo_market", "1001")["category"] == "relay_attack"  # the newest capture's
    unflagged = {
        "flagged": False,
        "category": None,
        "risk": None,
        "score": 3,
        "matches": [],
        "watchlist_version": "wl-2",
    }
    newest_verdict = db.save_classification(store, new, unflagged)
    # The newest page no longer matches, but the older capture's latest classification still flags the listing:
    # it stays a hit, with the flag it rests on, and the drop is shown beside it.
    listing = db.get_listing(store, "demo_market", "1001")
    assert listing["flagged"] == 1 and listing["category"] == "key_emulator"
    assert listing["latest_classification_id"] == newest_verdict != listing["classification_id"]
    [hit] = db.hits(store)
    assert hit["flag_dropped"]
    # Once no capture's latest classification flags it any more, it is no longer a hit.
    db.save_classification(store, old, unflagged)
    listing = db.get_listing(store, "demo_market", "1001")
    assert listing["flagged"] == 0 and listing["score"] == 3
    assert list(db.hits(store)) == []
    assert store["classifications"].count == 5  # nothing replaced
    assert db.verify(store).ok


def test_a_crawls_group_writer_checkpoints_less_often_and_its_commits_are_read_at_once(tmp_path):
    path = tmp_path / "store.sqlite"
    writer = db.connect_group_writer(path)
    assert writer.execute("PRAGMA wal_autocheckpoint").fetchone()[0] == db.connection.GROUP_WRITER_CHECKPOINT_PAGES
    assert db.connect(path).execute("PRAGMA wal_autocheckpoint").fetchone()[0] == 1000  # others keep SQLite's
    run_id = db.start_run(writer, spider="demo_market")
    with db.read_only(path) as reader:
        assert [row["id"] for row in reader.query("SELECT id FROM crawl_runs")] == [run_id]
