"""A listing's review status is one rule, read by everything that asks for it: the queue and its counts, a
decision's `status_before`, exports, re-checks and the retention purge (the code that deletes).

The rule: the outcome of the latest status-changing decision (confirm, dismiss, escalate), a note changes
nothing, no decision is `pending`. A decision stored without `status_after` (as stores from before the review
desk's migrations hold them) counts like any other.
"""

from datetime import UTC, datetime

import pytest

import db
from db import accounts, decisions, notices, queue, rechecks
from tests.support.items import make_item

# listing id -> the decisions taken on it, in order; a "legacy ..." one is stored as before status_after existed.
SEQUENCES = {
    "undecided": [],
    "note-only": ["note"],
    "dismissed-then-noted": ["dismiss", "note"],
    "noted-dismissed-noted": ["note", "dismiss", "note", "note"],
    "escalated-then-noted": ["escalate", "note"],
    "confirmed": ["confirm"],
    "dismissed-then-escalated": ["dismiss", "note", "escalate"],
    "legacy-dismissed": ["legacy dismiss"],
    "legacy-confirmed-then-noted": ["legacy confirm", "note"],
}
EXPECTED = {
    "undecided": "pending",
    "note-only": "pending",
    "dismissed-then-noted": "dismissed",
    "noted-dismissed-noted": "dismissed",
    "escalated-then-noted": "escalated",
    "confirmed": "confirmed",
    "dismissed-then-escalated": "escalated",
    "legacy-dismissed": "dismissed",
    "legacy-confirmed-then-noted": "confirmed",
}
DETAILS = {"confirm": {"category": "relay_attack"}, "dismiss": {"reason": "false_positive"}, "note": {"note": "n"}}


def _legacy_decision(store, pk: int, action: str) -> None:
    """A decision as a store written before the review desk's migrations holds it: no status_before/_after."""
    with db.write_transaction(store):
        cursor = store.execute(
            "INSERT INTO decisions (listing_pk, user, action, category, reason, created_at) VALUES (?, ?, ?, ?, ?, ?)",
            [pk, "ann", action, DETAILS[action].get("category"), DETAILS[action].get("reason"), db.utc_now()],
        )
        db.append_chain(store, "decision", cursor.lastrowid)


@pytest.fixture
def decided(store):
    """Every SEQUENCES listing flagged and decided on; returns {listing id: pk}."""
    accounts.add_user(store, "ann", "not-a-real-hash")
    pks = {}
    for listing_id, actions in SEQUENCES.items():
        db.save_capture(store, make_item(listing_id, seller="one_seller"))
        pks[listing_id] = pk = db.get_listing(store, "demo_market", listing_id)["pk"]
        for action in actions:
            if action.startswith("legacy "):
                _legacy_decision(store, pk, action.removeprefix("legacy "))
            else:
                decisions.decide(store, pk, "ann", action, **DETAILS.get(action, {}))
    return pks


def test_every_reader_agrees_on_each_listings_review_status(store, decided):
    by_pk = {pk: listing_id for listing_id, pk in decided.items()}

    # one listing at a time
    assert {listing_id: decisions.current_status(store, pk) for listing_id, pk in decided.items()} == EXPECTED

    # the queue, under each status tab, and its counts
    everything = queue.queue(store, queue.QueueFilter(status="all"))
    assert {row["listing_id"]: row["review_status"] for row in everything} == EXPECTED
    for status in decisions.REVIEW_STATUSES:
        shown = {row["listing_id"] for row in queue.queue(store, queue.QueueFilter(status=status))}
        assert shown == {listing_id for listing_id, s in EXPECTED.items() if s == status}, status
    counts = queue.queue_counts(store, queue.QueueFilter())
    assert {s: counts[s] for s in decisions.REVIEW_STATUSES} == {
        s: list(EXPECTED.values()).count(s) for s in decisions.REVIEW_STATUSES
    }

    # exports: the listings a pack of each exportable status covers
    for status in notices.EXPORTABLE_STATUSES:
        exported = {row["listing_id"] for row in notices.export_listings(store, review_status=status)}
        assert exported == {listing_id for listing_id, s in EXPECTED.items() if s == status}, status

    # re-checks: every flagged listing not dismissed
    targets = {t["listing_id"] for t in rechecks.recheck_targets(store, "demo_market")}
    assert targets == {listing_id for listing_id, s in EXPECTED.items() if s != "dismissed"}

    # the retention purge: dismissed listings (never confirmed or escalated), and nothing else
    planned = db.purge_dismissed(store, 0, "test", now=datetime(2100, 1, 1, tzinfo=UTC), dry_run=True)
    assert {by_pk[row["pk"]] for row in planned.listings} == {"dismissed-then-noted", "noted-dismissed-noted"} | {
        "legacy-dismissed"
    }


def test_a_decision_records_the_status_it_found_by_the_same_rule(store, decided):
    for listing_id, pk in decided.items():
        row = decisions.decide(store, pk, "ann", "note", note="checked again")
        assert row["status_before"] == row["status_after"] == EXPECTED[listing_id], listing_id


def test_the_views_rule_and_the_actions_table_say_the_same(store):
    """STATUS_AFTER (what a new decision records) and the review_status view (what everyone reads) agree."""
    accounts.add_user(store, "ann", "not-a-real-hash")
    for n, (action, status) in enumerate(decisions.STATUS_AFTER.items()):
        db.save_capture(store, make_item(f"L{n}"))
        pk = db.get_listing(store, "demo_market", f"L{n}")["pk"]
        row = decisions.decide(store, pk, "ann", action, **DETAILS.get(action, {}))
        assert row["status_after"] == status == decisions.current_status(store, pk)
