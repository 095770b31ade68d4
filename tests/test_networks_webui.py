"""The review desk's seller and network pages: graph, evidence, confirming, rejecting a link, deciding a network."""

import re

import pytest

import db
from db import network_decisions
from db import networks as stored
from keywatch.networks_job import recompute
from tests.support.desk import token_of
from tests.support.items import make_item

pytestmark = pytest.mark.usefixtures("fast_password_hashes")

HOSTILE = "evil\u202e<script>alert(1)</script>"


@pytest.fixture
def network_id(desk):
    store = db.connect(desk.path)
    db.save_capture(
        store, make_item("n1", seller="alpha", description="ring 07700 900123", fetched_at="2026-10-01T09:00:00Z")
    )
    db.save_capture(store, make_item("n2", seller="alpha", description="second listing, same seller"))
    db.save_capture(
        store, make_item("n3", seller=HOSTILE, description="call +44 7700 900 123", fetched_at="2026-11-01T09:00:00Z")
    )
    db.save_capture(store, make_item("n4", seller="charlie", description="t.me/someone_else", marketplace="other"))
    db.save_capture(store, make_item("n5", seller="alpha", description="a phone case", classification=None))
    store.close()
    recompute(desk.path)
    with db.read_only(desk.path) as store:
        [found] = stored.list_networks(store)
    return found["id"]


def test_network_page_draws_the_graph_and_the_evidence_safely(alice, network_id):
    page = alice.get(f"/network/{network_id}")
    assert page.status_code == 200
    html = page.text
    assert "<svg" in html and html.count("<line ") == 1 and html.count("<circle ") == 2
    assert "+447700900123" in html and "07700 900123" in html  # the item, and how the first writer wrote it
    assert "<script>alert(1)</script>" not in html and "&lt;script&gt;" in html
    assert "\u202e" not in html.replace("<bdi>", "")  # revealed, never obeyed
    assert "Not confirmed" in html
    assert "Decide all 3 open flagged listings" in html


def test_networks_list_and_seller_page(alice, network_id):
    assert network_id in alice.get("/networks").text
    page = alice.get("/seller", query_string={"marketplace": "demo_market", "name": "alpha"})
    assert page.status_code == 200
    assert "3 listings" in page.text and network_id in page.text
    assert "Listings of linked accounts" in page.text
    assert alice.get("/seller", query_string={"marketplace": "demo_market", "name": "nobody"}).status_code == 404


def test_posts_need_the_csrf_token(alice, network_id):
    assert alice.post(f"/network/{network_id}/confirm", data={"note": "x"}).status_code == 400


def test_confirm_then_reject_the_link_recomputes_the_networks(desk, alice, network_id):
    token = token_of(alice, f"/network/{network_id}")
    confirmed = alice.post(f"/network/{network_id}/confirm", data={"csrf_token": token, "note": "same number"})
    assert confirmed.status_code == 303
    assert "Confirmed by alice" in alice.get(f"/network/{network_id}").text
    link_id = re.search(r"/link/(L[0-9a-f]+)/reject", alice.get(f"/network/{network_id}").text).group(1)
    refused = alice.post(f"/network/{network_id}/link/{link_id}/reject", data={"csrf_token": token})
    assert refused.status_code == 303  # a rejection needs a note: nothing recorded
    rejected = alice.post(
        f"/network/{network_id}/link/{link_id}/reject", data={"csrf_token": token, "note": "quoted, not shared"}
    )
    assert rejected.status_code == 303 and rejected.location.endswith("/networks")
    with db.read_only(desk.path) as store:
        assert stored.list_networks(store) == []
        assert [d["action"] for d in network_decisions.about_network(store, network_id)] == ["confirm", "reject_link"]
        assert db.verify(store).ok


def test_deciding_a_whole_network_covers_its_open_listings_only(desk, alice, network_id):
    token = token_of(alice, f"/network/{network_id}")
    response = alice.post(
        f"/network/{network_id}/decide",
        data={"csrf_token": token, "action": "escalate", "note": "one seller, three listings", "listing_pk": "1"},
    )
    assert response.status_code == 303
    with db.read_only(desk.path) as store:
        statuses = {row["listing_id"]: row["review_status"] for row in stored.network_listings(store, network_id)}
        charlie = next(
            store.query(
                "SELECT r.status FROM listings l JOIN review_status r ON r.listing_pk = l.pk WHERE l.listing_id = 'n4'"
            )
        )
    # The unflagged listing of the network is not the reviewer's to decide in bulk.
    assert statuses == {"n1": "escalated", "n2": "escalated", "n3": "escalated", "n5": "pending"}
    assert charlie["status"] == "pending"


def test_deciding_a_whole_network_reads_the_form_as_a_listing_decision_does(desk, alice, network_id):
    """webui.views.decision_form: confirming needs a category of the watchlist, and nothing is recorded without."""
    token = token_of(alice, f"/network/{network_id}")
    response = alice.post(
        f"/network/{network_id}/decide", data={"csrf_token": token, "action": "confirm", "category": "not_a_category"}
    )
    assert response.status_code == 400 and b"Choose a category" in response.data
    with db.read_only(desk.path) as store:
        assert next(store.query("SELECT count(*) AS n FROM decisions"))["n"] == 0


def test_a_listing_page_links_to_its_sellers_page(desk, alice, network_id):
    with db.read_only(desk.path) as store:
        pk = next(store.query("SELECT pk FROM listings WHERE seller = ?", [HOSTILE]))["pk"]
    html = alice.get(f"/listing/{pk}").text
    link = re.search(r'<a href="([^"]*)" id="seller-page">', html)
    assert link is not None
    page = alice.get(link.group(1).replace("&amp;", "&"))
    assert page.status_code == 200 and "+447700900123" in page.text
