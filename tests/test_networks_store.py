"""Seller networks in the store: recomputed from captures, replaced whole, decisions chained and kept."""

import json

import pytest

import db
from db import network_decisions
from db import networks as stored
from db.accounts import ReviewError, add_user, set_disabled
from db.decisions import NOTE_LIMIT, decide
from keywatch.networks_job import recompute
from tests.support.items import make_item


def with_photo(listing_id: str, seller: str, dhash: str, phash: str) -> dict:
    return make_item(listing_id, seller=seller, description="", attachments=[photo(listing_id, dhash, phash)])


def photo(listing_id: str, dhash: str, phash: str) -> dict:
    return {
        "kind": "photo",
        "request_url": f"http://127.0.0.1:8000/img/{listing_id}.png",
        "url": f"http://127.0.0.1:8000/img/{listing_id}.png",
        "status": 200,
        "headers": {"Content-Type": ["image/png"]},
        "body": f"png of {listing_id} {phash}".encode(),
        "fields": {"phash": phash, "dhash": dhash, "width": 64, "height": 48},
    }


@pytest.fixture
def path(tmp_path):
    path = tmp_path / "kw.sqlite"
    store = db.connect(path)
    add_user(store, "rita", "not-a-real-hash", role="reviewer")
    items = [
        make_item(
            "1", seller="alpha", description="Trade prices: ring 07700 900123", fetched_at="2026-10-01T09:00:00Z"
        ),
        make_item("2", seller="bravo", description="call +44 7700 900 123 today", fetched_at="2026-11-02T09:00:00Z"),
        make_item("3", seller="charlie", description="t.me/keyless_king for the list"),
        make_item("4", seller="delta", description="Telegram: @Keyless_King"),
        # Two shared photos (one a near copy) link echo and foxtrot; a lone shared photo does not link golf.
        with_photo("5", "echo", "00ff00ff00ff00ff", "1111222233334444"),
        with_photo("6", "echo", "abcdabcdabcdabcd", "5555666677778888"),
        make_item(
            "7", seller="foxtrot", description="", attachments=[photo("7", "00ff00ff00ff00fe", "1111222233334445")]
        ),
        make_item(
            "8", seller="foxtrot", description="", attachments=[photo("8", "abcdabcdabcdabcd", "5555666677778888")]
        ),
        with_photo("9", "golf", "abcdabcdabcdabcd", "5555666677778888"),
    ]
    for item in items:
        db.save_capture(store, item)
    store.close()
    return path


def networks_of(path):
    with db.read_only(path) as store:
        return {tuple(n["sellers"]): n for n in stored.list_networks(store)}


def test_recompute_finds_the_networks_with_their_evidence(path):
    result = recompute(path)
    assert result["networks"] == 3
    found = networks_of(path)
    assert set(found) == {
        ("demo_market:alpha", "demo_market:bravo"),
        ("demo_market:charlie", "demo_market:delta"),
        ("demo_market:echo", "demo_market:foxtrot"),
    }
    [phone] = found[("demo_market:alpha", "demo_market:bravo")]["links"]
    assert phone["kind"] == "phone" and phone["item"] == "+447700900123"
    assert phone["first_seller"] == "demo_market:alpha" and phone["first_listing"] == "demo_market:1"
    assert phone["evidence"]["first"]["text"] == "07700 900123"
    photos = found[("demo_market:echo", "demo_market:foxtrot")]["links"]
    assert [link["kind"] for link in photos] == ["photo", "photo"]


def test_recompute_replaces_what_was_there(path):
    recompute(path)
    recompute(path)
    with db.read_only(path) as store:
        assert next(store.query("SELECT count(*) AS n FROM networks"))["n"] == 3
        assert next(store.query("SELECT count(*) AS n FROM network_recomputes"))["n"] == 2


def test_a_rejected_link_stays_rejected_after_recomputing_and_decisions_are_chained(path):
    recompute(path)
    store = db.connect(path)
    [link] = networks_of(path)[("demo_market:alpha", "demo_market:bravo")]["links"]
    with pytest.raises(ReviewError, match="needs a note"):
        network_decisions.decide_network(store, "rita", "reject_link", link_id=link["id"])
    network_decisions.decide_network(
        store, "rita", "reject_link", link_id=link["id"], note="bravo quoted alpha's number"
    )
    store.close()
    recompute(path)
    found = networks_of(path)
    assert ("demo_market:alpha", "demo_market:bravo") not in found
    store = db.connect(path)
    assert stored.seller_links(store, "demo_market", "alpha")[0]["rejected"] is True
    network_decisions.decide_network(store, "rita", "restore_link", link_id=link["id"])
    store.close()
    recompute(path)
    assert ("demo_market:alpha", "demo_market:bravo") in networks_of(path)
    store = db.connect(path)
    assert db.verify(store).ok
    assert next(store.query("SELECT count(*) AS n FROM chain WHERE record_type = 'network_decision'"))["n"] == 2


def test_confirming_names_the_members_and_a_changed_network_needs_confirming_again(path):
    recompute(path)
    store = db.connect(path)
    network = networks_of(path)[("demo_market:charlie", "demo_market:delta")]
    assert network["status"] == "unconfirmed"
    decision = network_decisions.decide_network(
        store, "rita", "confirm", network_id=network["id"], note="same Telegram"
    )
    assert json.loads(decision["sellers"]) == network["sellers"]
    assert stored.get_network(store, network["id"])["status"] == "confirmed"
    with pytest.raises(ReviewError, match="no network"):
        network_decisions.decide_network(store, "rita", "confirm", network_id="Nnothere")
    # A third account writes the same handle: the network is another one now, not yet confirmed.
    db.save_capture(store, make_item("10", seller="hotel", description="tg @keyless_king"))
    store.close()
    recompute(path)
    grown = networks_of(path)[("demo_market:charlie", "demo_market:delta", "demo_market:hotel")]
    assert grown["id"] != network["id"] and grown["status"] == "unconfirmed"
    with db.read_only(path) as store:
        assert db.verify(store).ok


def test_network_listings_and_open_listings(path):
    recompute(path)
    store = db.connect(path)
    network = networks_of(path)[("demo_market:alpha", "demo_market:bravo")]
    listings = stored.network_listings(store, network["id"])
    assert sorted(row["listing_id"] for row in listings) == ["1", "2"]
    assert len(stored.open_listing_pks(store, network["id"])) == 2
    assert [row["listing_id"] for row in stored.seller_listings(store, "demo_market", "echo")] == ["5", "6"]


def test_a_network_decision_takes_notes_and_accounts_as_a_listing_decision_does(path):
    """One rule for both (db.decisions.clean_note, db.accounts.active_user): a note is trimmed and at most
    NOTE_LIMIT characters, and only an active account decides."""
    recompute(path)
    store = db.connect(path)
    network = networks_of(path)[("demo_market:alpha", "demo_market:bravo")]
    listing_pk = stored.network_listings(store, network["id"])[0]["pk"]
    too_long = "x" * (NOTE_LIMIT + 1)
    with pytest.raises(ReviewError, match=f"limited to {NOTE_LIMIT}"):
        network_decisions.decide_network(store, "rita", "confirm", network_id=network["id"], note=too_long)
    with pytest.raises(ReviewError, match=f"limited to {NOTE_LIMIT}"):
        decide(store, listing_pk, "rita", "escalate", note=too_long)
    confirmed = network_decisions.decide_network(store, "rita", "confirm", network_id=network["id"], note="  \n ")
    assert confirmed["note"] is None
    assert decide(store, listing_pk, "rita", "escalate", note=" why \n")["note"] == "why"
    set_disabled(store, "rita")
    for attempt in (
        lambda: network_decisions.decide_network(store, "rita", "confirm", network_id=network["id"]),
        lambda: decide(store, listing_pk, "rita", "escalate"),
        lambda: network_decisions.decide_network(store, "nobody", "confirm", network_id=network["id"]),
    ):
        with pytest.raises(ReviewError, match="no active user"):
            attempt()
    assert db.verify(store).ok
