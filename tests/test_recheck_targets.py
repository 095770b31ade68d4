"""Which flagged listings a crawl re-checks (db/rechecks.py), and the status history queries."""

import db
from db import rechecks
from db.status import status_history
from tests.support.items import make_item


def targets(store, marketplace="demo_market"):
    return sorted(t["listing_id"] for t in rechecks.recheck_targets(store, marketplace))


def run_with(store, items, finish):
    run_id = db.start_run(store, spider="demo_market")
    for item in items:
        db.save_capture(store, item, run_id=run_id)
    db.finish_run(store, run_id, stats={}, finish_reason=finish)
    return run_id


def test_interrupted_crawl_does_not_recheck_what_it_already_fetched():
    store = db.connect(":memory:")
    run_with(store, [make_item("a"), make_item("b"), make_item("c", marketplace="elsewhere")], "finished")
    assert targets(store) == ["a", "b"]

    # Interrupted after fetching a again: a resumed crawl leaves a out.
    run_with(store, [make_item("a", purpose="recheck", fetched_at="2026-11-29T10:00:00Z")], "shutdown")
    assert targets(store) == ["b"]
    assert targets(store, "elsewhere") == ["c"]  # another marketplace's crawl is not affected

    # Once a crawl of the marketplace finishes, everything flagged is due again.
    run_with(store, [make_item("b", fetched_at="2026-11-30T10:00:00Z")], "finished")
    assert targets(store) == ["a", "b"]

    # An interruption older than the resume window no longer holds anything back.
    run_with(store, [make_item("a", purpose="recheck", fetched_at="2026-12-01T10:00:00Z")], None)
    assert targets(store) == ["b"]
    store.execute("UPDATE crawl_runs SET started_at = '2019-01-01T00:00:00.000000Z' WHERE finish_reason = 'finished'")
    store.execute(
        "UPDATE crawl_runs SET started_at = '2020-01-01T00:00:00.000000Z' "
        "WHERE coalesce(finish_reason, '') != 'finished'"
    )
    assert targets(store) == ["a", "b"]


def test_targets_keep_the_flagged_undismissed_rule_of_the_store():
    store = db.connect(":memory:")
    run_with(store, [make_item("a"), make_item("b"), make_item("n", classification={"flagged": False})], "finished")
    pk = {r["listing_id"]: r["pk"] for r in store.query("SELECT listing_id, pk FROM listings")}
    store.execute(
        "INSERT INTO decisions (listing_pk, user, action, created_at) VALUES (?, 'ann', 'dismiss', 'now')", [pk["b"]]
    )
    assert targets(store) == ["a"]
    [target] = rechecks.recheck_targets(store, "demo_market")
    assert target["url"] == "http://127.0.0.1:8000/item/a"


def test_status_history_and_per_run_observations():
    store = db.connect(":memory:")
    first = run_with(store, [make_item("a")], "finished")
    pk = next(store.query("SELECT pk FROM listings"))["pk"]
    second = db.start_run(store, spider="demo_market")
    capture = db.save_capture(
        store, make_item("a", purpose="recheck", status=404, title="", fetched_at="2026-12-05T10:00:00Z"), run_id=second
    )
    db.record_status(store, pk, "removed", "2026-12-05T10:00:00Z", capture_id=capture, detail="HTTP 404")
    history = status_history(store, [pk])[pk]
    assert [(h["status"], h["observed_at"]) for h in history] == [
        ("live", "2026-11-28T10:00:00.123456Z"),
        ("removed", "2026-12-05T10:00:00.000000Z"),
    ]
    assert rechecks.run_status_observations(store, first) == {"live": 1}
    assert rechecks.run_status_observations(store, second) == {"removed": 1}
