"""Retention purge: dismissed listings' bodies go, under a tombstone; confirmed evidence never does."""

import sqlite3
from datetime import UTC, datetime

import pytest

import db
from tests.support.items import make_item

NOW = datetime(2027, 3, 1, tzinfo=UTC)
OLD = "2026-12-01T00:00:00.000000Z"  # 90 days before NOW
RECENT = "2027-02-25T00:00:00.000000Z"  # 4 days before NOW


def decide(store, listing_id, action, when, marketplace="demo_market"):
    pk = db.get_listing(store, marketplace, listing_id)["pk"]
    with db.write_transaction(store):
        decision_id = store.execute(
            "INSERT INTO decisions (listing_pk, user, action, reason, created_at) VALUES (?, 'ann', ?, ?, ?)",
            [pk, action, "false_positive" if action == "dismiss" else None, when],
        ).lastrowid
        db.append_chain(store, "decision", decision_id)


def body_present(store, listing_id):
    capture = store["captures"].get(db.get_listing(store, "demo_market", listing_id)["latest_capture_id"])
    return store.execute("SELECT count(*) FROM bodies WHERE sha256 = ?", [capture["sha256"]]).fetchone()[0] == 1


@pytest.fixture
def dismissals(store):
    for listing_id in (
        "old-dismissed",
        "recent-dismissed",
        "confirmed",
        "confirmed-then-dismissed",
        "undecided",
        "escalated",
        "note-after-dismiss",
    ):
        db.save_capture(store, make_item(listing_id, body=f"<html>{listing_id} by seller Jane Doe</html>".encode()))
    # Identical bytes under a dismissed and an undecided listing: the undecided one still needs them.
    db.save_capture(store, make_item("shared-dismissed", body=b"<html>shared</html>"))
    db.save_capture(store, make_item("shared-undecided", body=b"<html>shared</html>"))
    decide(store, "old-dismissed", "dismiss", OLD)
    decide(store, "recent-dismissed", "dismiss", RECENT)
    decide(store, "confirmed", "confirm", OLD)
    decide(store, "confirmed-then-dismissed", "confirm", OLD)
    decide(store, "confirmed-then-dismissed", "dismiss", OLD)
    decide(store, "escalated", "escalate", OLD)
    decide(store, "note-after-dismiss", "dismiss", OLD)
    decide(store, "note-after-dismiss", "note", RECENT)
    decide(store, "shared-dismissed", "dismiss", OLD)
    return store


def test_purge_removes_only_old_dismissed_bodies(dismissals):
    result = db.purge_dismissed(dismissals, 30, "retention-job", now=NOW)
    assert sorted(r["listing_id"] for r in result.listings) == [
        "note-after-dismiss",
        "old-dismissed",
        "shared-dismissed",
    ]
    assert len(result.bodies) == 2  # the shared body stays
    for gone in ("old-dismissed", "note-after-dismiss"):
        assert not body_present(dismissals, gone)
    for kept in (
        "recent-dismissed",
        "confirmed",
        "confirmed-then-dismissed",
        "undecided",
        "escalated",
        "shared-dismissed",
        "shared-undecided",
    ):
        assert body_present(dismissals, kept), kept


def test_purge_leaves_a_verifiable_chain_with_tombstones(dismissals):
    head_before = db.chain_head(dismissals)
    result = db.purge_dismissed(dismissals, 30, "retention-job", now=NOW)
    check = db.verify(dismissals, anchor=head_before)
    assert check.ok, check.problems
    tombstones = list(dismissals.query("SELECT * FROM tombstones ORDER BY id"))
    assert [t["sha256"] for t in tombstones] == [b["sha256"] for b in result.bodies]
    assert all(t["actor"] == "retention-job" and "dismissed" in t["reason"] for t in tombstones)
    chained = [r["record_type"] for r in dismissals.query("SELECT record_type FROM chain ORDER BY seq DESC LIMIT 2")]
    assert chained == ["tombstone", "tombstone"]
    # The captures themselves (URL, time, SHA-256) are still there.
    assert dismissals["captures"].count == 9


def test_dry_run_changes_nothing(dismissals):
    head = db.chain_head(dismissals)
    planned = db.purge_dismissed(dismissals, 30, "x", now=NOW, dry_run=True)
    assert len(planned.bodies) == 2 and planned.bytes > 0
    assert db.chain_head(dismissals) == head and dismissals["tombstones"].count == 0
    assert body_present(dismissals, "old-dismissed")


def test_purge_is_idempotent(dismissals):
    db.purge_dismissed(dismissals, 30, "x", now=NOW)
    again = db.purge_dismissed(dismissals, 30, "x", now=NOW)
    assert again.bodies == [] and dismissals["tombstones"].count == 2
    assert db.verify(dismissals).ok


def test_body_delete_without_tombstone_is_refused(dismissals):
    with pytest.raises(sqlite3.IntegrityError, match="append-only"):
        dismissals.execute("DELETE FROM bodies")


def test_recaptured_identical_body_after_purge_is_stored_and_verifies(dismissals):
    db.purge_dismissed(dismissals, 30, "x", now=NOW)
    db.save_capture(dismissals, make_item("new-listing", body=b"<html>old-dismissed by seller Jane Doe</html>"))
    assert body_present(dismissals, "new-listing")
    assert db.verify(dismissals).ok


def test_purge_writes_in_batches_and_a_listing_confirmed_meanwhile_keeps_its_body(dismissals, monkeypatch):
    from db import purge

    monkeypatch.setattr(purge, "PURGE_BATCH", 1)  # one body per write transaction
    batches = []
    real = purge._tombstone_and_delete

    def between_batches(store, entry, *args):
        batches.append(store.conn.in_transaction)
        real(store, entry, *args)
        if len(batches) == 1:  # a reviewer's decision lands between the first batch and the next
            store.execute("COMMIT")
            decide(store, "old-dismissed", "confirm", RECENT)
            decide(store, "note-after-dismiss", "confirm", RECENT)
            store.execute("BEGIN IMMEDIATE")

    monkeypatch.setattr(purge, "_tombstone_and_delete", between_batches)
    result = db.purge_dismissed(dismissals, 30, "retention-job", now=NOW)
    # The first body went in its own batch; the other listing, confirmed before its batch, keeps its body.
    assert len(result.bodies) == 1 and batches == [True]
    assert not body_present(dismissals, "note-after-dismiss") or not body_present(dismissals, "old-dismissed")
    assert body_present(dismissals, "note-after-dismiss") or body_present(dismissals, "old-dismissed")
    assert db.verify(dismissals).ok
