"""The review desk's storage on its own: decisions, review status, search, throttling records, migrations."""

import datetime

import pytest

import db
from db import accounts, dashboard, decisions, queries, queue, review_schema
from tests.support import desk as sample


@pytest.fixture
def sample_store(store):
    """The sample desk's listings (`.pks`: {listing id: pk}) and an administrator, alice."""
    store.pks = sample.build(store)
    accounts.add_user(store, "alice", "$argon2id$not-a-real-hash", role="admin")
    return store


def test_migrations_are_applied_by_connect_and_idempotent(tmp_path):
    store = db.connect(tmp_path / "k.sqlite")
    assert {"users", "login_attempts", "listings_fts"} <= set(store.table_names())
    assert "status_before" in store["decisions"].columns_dict
    db.connection.apply_migrations(store)  # nothing pending: no error, nothing changes
    assert [m.name for m in review_schema.migrations.applied(store)] == [
        "m001_accounts",
        "m002_review_status_and_search",
        "m003_sessions",
        "m004_decision_channel",
        "m005_search_rows_from_the_listing_index",
        "m006_review_status_of_every_listing",
        "m007_account_changes",
        "m008_desk_read_paths",
        "m009_dashboard_counts",
    ]


def test_decide_many_is_all_or_nothing(sample_store):
    pks = sample_store.pks
    with pytest.raises(accounts.ReviewError, match="no listing with id 424242"):
        decisions.decide_many(sample_store, [pks["KW-1001"], 424242], "alice", "escalate")
    assert sample_store.conn.execute("SELECT count(*) FROM decisions").fetchone()[0] == 0
    assert sample_store.conn.execute("SELECT count(*) FROM chain WHERE record_type = 'decision'").fetchone()[0] == 0
    rows = decisions.decide_many(
        sample_store, [pks["KW-1001"], pks["KW-1002"]], "alice", "confirm", category="relay_attack"
    )
    assert [r["status_after"] for r in rows] == ["confirmed", "confirmed"]
    assert db.verify(sample_store).problems == []


def test_status_follows_the_latest_status_changing_decision(sample_store):
    pk = sample_store.pks["KW-1004"]
    assert decisions.current_status(sample_store, pk) == "pending"
    decisions.decide(sample_store, pk, "alice", "escalate")
    decisions.decide(sample_store, pk, "alice", "note", note="checked the seller's other shop")
    assert decisions.current_status(sample_store, pk) == "escalated"
    decisions.decide(sample_store, pk, "alice", "dismiss", reason="false_positive")
    assert decisions.current_status(sample_store, pk) == "dismissed"
    assert [e["kind"] for e in queries.listing_events(sample_store, pk)].count("decision") == 3


def test_fields_that_do_not_belong_to_the_action_are_not_stored(sample_store):
    row = decisions.decide(
        sample_store, sample_store.pks["KW-1001"], "alice", "escalate", category="relay_attack", reason="duplicate"
    )
    assert row["category"] is None and row["reason"] is None


def test_a_tampered_decision_is_caught_by_verify(sample_store):
    decisions.decide(sample_store, sample_store.pks["KW-1001"], "alice", "confirm", category="relay_attack")
    sample_store.execute("DROP TRIGGER decisions_no_update")
    sample_store.execute("UPDATE decisions SET status_after = 'dismissed'")
    assert db.verify(sample_store).problems


@pytest.mark.parametrize(
    "text, expected",
    [
        ("relay box", '"relay" "box"'),
        ('say "hi"', '"say" """hi"""'),
        ("prog*", '"prog"*'),
        ("NEAR( OR", '"NEAR(" "OR"'),
        ("   ", ""),
    ],
)
def test_fts_query_quotes_every_word(text, expected):
    assert queue.fts_query(text) == expected


def test_search_index_follows_the_newest_capture(sample_store):
    def found(words):
        return [r["listing_id"] for r in queue.queue(sample_store, queue.QueueFilter(status="all", q=words))]

    assert found("emergency") == ["KW-1003"]
    item = {
        "marketplace": "demo",
        "listing_id": "KW-1003",
        "url": "http://127.0.0.1/item/KW-1003",
        "title": "Headlight connector kit (relisted)",
        "description": "Bypass module, plug and drive away.",
        "body": b"<html>relisted</html>",
        "status": 200,
        "fetched_at": datetime.datetime.now(datetime.UTC).isoformat(),
        "classification": {
            "flagged": True,
            "category": "can_injection",
            "risk": "critical",
            "score": 90,
            "matches": [],
        },
    }
    db.save_capture(sample_store, item)
    assert found("emergency") == []
    assert found("bypass") == ["KW-1003"]
    assert found("relist*") == ["KW-1003"]


def test_queue_counts(sample_store):
    decisions.decide(sample_store, sample_store.pks["KW-1001"], "alice", "dismiss", reason="duplicate")
    counts = queue.queue_counts(sample_store, queue.QueueFilter())
    assert counts == {
        "pending": 4,
        "escalated": 0,
        "confirmed": 0,
        "dismissed": 1,
        "open": 4,
        "all": 5,
        "missed": 0,
        "uncounted": 0,
    }


def test_recent_failures_reset_after_a_success(sample_store):
    for ok in (False, False, True, False):
        attempt = accounts.reserve_login_attempt(sample_store, "alice", "10.1.1.1", limit=5, window_seconds=900)
        if ok:
            accounts.login_succeeded(sample_store, attempt)
    assert accounts.recent_failures(sample_store, "alice", "10.1.1.1", 900) == 1
    assert accounts.recent_failures(sample_store, "alice", "10.9.9.9", 900) == 0


def test_dashboard_and_weekly_events(sample_store):
    now = datetime.datetime.now(datetime.UTC)
    since = db.canonical.format_utc(now - datetime.timedelta(days=7))
    stats = dashboard.dashboard(sample_store, since)
    assert sum(r["n"] for r in stats["new_hits"]) == 3
    start = (now - datetime.timedelta(days=now.weekday(), weeks=3)).replace(hour=0, minute=0, second=0, microsecond=0)
    weekly = dashboard.weekly_counts(sample_store, db.canonical.format_utc(start), 4)
    assert sum(weekly["new hits"]) == 5 and weekly["confirmed"] == [0] * 4 and weekly["removed"] == [0] * 4
