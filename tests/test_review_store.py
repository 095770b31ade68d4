"""db/review.py on its own: decisions, review status, search index, throttling records, migrations."""

import datetime

import pytest

import db
import db.review as review
from webui import sample


@pytest.fixture
def store(tmp_path):
    store = db.connect(tmp_path / "k.sqlite")
    store.pks = sample.build(store)
    review.add_user(store, "alice", "$argon2id$not-a-real-hash", role="admin")
    yield store
    store.close()


def test_migrations_are_applied_by_connect_and_idempotent(tmp_path):
    store = db.connect(tmp_path / "k.sqlite")
    assert {"users", "login_attempts", "listings_fts"} <= set(store.table_names())
    assert "status_before" in store["decisions"].columns_dict
    review.migrate(store)  # nothing pending: no error, nothing changes
    assert [m.name for m in review.migrations.applied(store)] == [
        "m001_accounts",
        "m002_review_status_and_search",
        "m003_sessions",
        "m004_decision_channel",
        "m005_search_rows_from_the_listing_index",
    ]


def test_decide_many_is_all_or_nothing(store):
    pks = store.pks
    with pytest.raises(review.ReviewError, match="no listing with id 424242"):
        review.decide_many(store, [pks["KW-1001"], 424242], "alice", "escalate")
    assert store.conn.execute("SELECT count(*) FROM decisions").fetchone()[0] == 0
    assert store.conn.execute("SELECT count(*) FROM chain WHERE record_type = 'decision'").fetchone()[0] == 0
    rows = review.decide_many(store, [pks["KW-1001"], pks["KW-1002"]], "alice", "confirm", category="relay_attack")
    assert [r["status_after"] for r in rows] == ["confirmed", "confirmed"]
    assert db.verify(store).problems == []


def test_status_follows_the_latest_status_changing_decision(store):
    pk = store.pks["KW-1004"]
    assert review.current_status(store, pk) == "pending"
    review.decide(store, pk, "alice", "escalate")
    review.decide(store, pk, "alice", "note", note="checked the seller's other shop")
    assert review.current_status(store, pk) == "escalated"
    review.decide(store, pk, "alice", "dismiss", reason="false_positive")
    assert review.current_status(store, pk) == "dismissed"
    assert [e["kind"] for e in review.timeline(store, pk)].count("decision") == 3


def test_fields_that_do_not_belong_to_the_action_are_not_stored(store):
    row = review.decide(store, store.pks["KW-1001"], "alice", "escalate", category="relay_attack", reason="duplicate")
    assert row["category"] is None and row["reason"] is None


def test_a_tampered_decision_is_caught_by_verify(store):
    review.decide(store, store.pks["KW-1001"], "alice", "confirm", category="relay_attack")
    store.execute("DROP TRIGGER decisions_no_update")
    store.execute("UPDATE decisions SET status_after = 'dismissed'")
    assert db.verify(store).problems


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
    assert review.fts_query(text) == expected


def test_search_index_follows_the_newest_capture(store):
    def found(words):
        return [r["listing_id"] for r in review.queue(store, review.QueueFilter(status="all", q=words))]

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
    db.save_capture(store, item)
    assert found("emergency") == []
    assert found("bypass") == ["KW-1003"]
    assert found("relist*") == ["KW-1003"]


def test_queue_counts(store):
    review.decide(store, store.pks["KW-1001"], "alice", "dismiss", reason="duplicate")
    counts = review.queue_counts(store, review.QueueFilter())
    assert counts == {"pending": 4, "escalated": 0, "confirmed": 0, "dismissed": 1, "open": 4, "all": 5}


def test_recent_failures_reset_after_a_success(store):
    for ok in (False, False, True, False):
        review.record_login_attempt(store, "alice", "10.1.1.1", ok=ok)
    assert review.recent_failures(store, "alice", "10.1.1.1", 900) == 1
    assert review.recent_failures(store, "alice", "10.9.9.9", 900) == 0


def test_dashboard_and_weekly_events(store):
    now = datetime.datetime.now(datetime.UTC)
    since = db.canonical.format_utc(now - datetime.timedelta(days=7))
    stats = review.dashboard(store, since)
    assert sum(r["n"] for r in stats["new_hits"]) == 3
    events = review.weekly_events(store, db.canonical.format_utc(now - datetime.timedelta(weeks=4)))
    assert len(events["new hits"]) == 5 and events["confirmed"] == [] and events["removed"] == []
