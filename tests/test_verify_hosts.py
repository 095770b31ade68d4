"""A capture may only stand as a listing of the marketplace its host belongs to, and verify checks it.

Issue 10: a shop page rewrote demo:DM10003 and `verify` still passed, because the forged capture was a correctly
chained capture, the newest of that listing, and the index agreed with it. Now each run declares the hosts of
the marketplaces it writes (chained evidence), the store refuses a capture fetched elsewhere, verify re-checks
every capture against its run's declaration, and the index keeps the flag and the seller of record.
"""

import pytest

import db
from db import captures, hosts
from tests.support.items import CLASSIFIED, make_item

DEMO = "127.0.0.1:8001"
SHOP = "127.0.0.1:9002"
INNOCENT = {
    "flagged": False,
    "category": None,
    "risk": None,
    "score": 4.0,
    "matches": [],
    "watchlist_version": "wl-test-1",
}


def demo_item(**overrides):
    url = f"http://{DEMO}/item/DM10003"
    fields = {
        "url": url,
        "request_url": url,
        "response_url": url,
        "seller": "autokeys_direct",
        "fetched_at": "2026-11-28T10:00:00.000001Z",
        **overrides,
    }
    return make_item("DM10003", marketplace="demo", **fields)


def forged_item():
    """What the webshop spider used to yield for a shop page claiming the demo listing."""
    url = f"http://{SHOP}/products/phone-case"
    return demo_item(
        url="http://demo/item/DM10003",
        request_url=url,
        response_url=url,
        title="Phone case",
        seller="Innocent Cases Ltd",
        fetched_at="2026-11-29T10:00:00.000001Z",
        classification=INNOCENT,
        body=b"<html>phone case</html>",
    )


def runs(store):
    demo_run = db.start_run(store, spider="demo_market")
    hosts.declare_hosts(store, demo_run, "demo_market", {"demo": [DEMO]})
    shop_run = db.start_run(store, spider="webshop")
    hosts.declare_hosts(store, shop_run, "webshop", {SHOP: [SHOP]})
    return demo_run, shop_run


def test_the_store_refuses_a_capture_fetched_off_its_marketplace(store):
    demo_run, shop_run = runs(store)
    db.save_capture(store, demo_item(), run_id=demo_run)
    with pytest.raises(hosts.ForeignHost, match="the run does not crawl marketplace 'demo'"):
        db.save_capture(store, forged_item(), run_id=shop_run)
    # A run of the demo spider fetching the same listing from another host is refused as well.
    with pytest.raises(hosts.ForeignHost, match="is not on a host of marketplace 'demo'"):
        db.save_capture(store, forged_item(), run_id=demo_run)
    assert store.execute("SELECT count(*) FROM captures").fetchone()[0] == 1
    assert db.verify(store).ok


def test_a_marketplace_is_written_by_one_spider(store):
    runs(store)
    run = db.start_run(store, spider="webshop")
    # A web shop served from a host called "demo" is a shop, not the demo marketplace.
    with pytest.raises(hosts.ForeignHost, match="written by spider 'demo_market'"):
        hosts.declare_hosts(store, run, "webshop", {"demo": ["demo"]})


def test_verify_names_a_capture_that_the_old_code_would_have_stored(store, monkeypatch):
    demo_run, shop_run = runs(store)
    db.save_capture(store, demo_item(), run_id=demo_run)
    monkeypatch.setattr(captures, "refuse_foreign_host", lambda *args: None)  # the write path before the fix
    forged = db.save_capture(store, forged_item(), run_id=shop_run)
    result = db.verify(store)
    assert not result.ok
    assert f"capture {forged}" in str(result.first) and "fetched off its listing's marketplace" in str(result.first)


def test_a_newer_capture_keeps_the_flag_and_the_seller_of_record(store, monkeypatch):
    """Even a capture that got in: the index shows the flag the evidence holds and the first seller, and the drop."""
    demo_run, shop_run = runs(store)
    db.save_capture(store, demo_item(), run_id=demo_run)
    monkeypatch.setattr(captures, "refuse_foreign_host", lambda *args: None)
    db.save_capture(store, forged_item(), run_id=shop_run)
    listing = db.get_listing(store, "demo", "DM10003")
    assert listing["flagged"] == 1 and listing["category"] == CLASSIFIED["category"]
    assert listing["seller"] == "autokeys_direct" and listing["latest_seller"] == "Innocent Cases Ltd"
    [hit] = db.hits(store)
    assert hit["listing_id"] == "DM10003" and hit["flag_dropped"]


def test_verify_names_a_run_declaring_another_spiders_marketplace(store):
    runs(store)
    run = db.start_run(store, spider="webshop")
    with db.write_transaction(store):
        row = store.execute(
            "INSERT INTO marketplace_hosts (run_id, spider, marketplace, host, declared_at) "
            "VALUES (?, 'webshop', 'demo', 'demo', '2026-11-29T00:00:00.000000Z')",
            [run],
        ).lastrowid
        db.append_chain(store, "marketplace_host", row)
    result = db.verify(store)
    assert not result.ok and "marketplace demo: written by more than one spider" in str(result.first)


@pytest.mark.parametrize(
    "url, host",
    [
        ("http://127.0.0.1:8001/item/1", "127.0.0.1:8001"),
        ("https://www.ebay.co.uk/itm/1", "www.ebay.co.uk"),
        ("javascript:alert(1)", ""),
        ("data:text/html,hi", ""),
        ("http://[::1]:8080/", "[::1]:8080"),
        ("http://a:notaport/", ""),
        ("", ""),
    ],
)
def test_host_of(url, host):
    assert hosts.host_of(url) == host


@pytest.mark.parametrize(
    "host, domain, covered",
    [
        ("www.ebay.co.uk", "ebay.co.uk", True),
        ("itm.ebaydesc.com", "ebaydesc.com", True),
        ("evilebay.co.uk", "ebay.co.uk", False),
        ("127.0.0.1:8001", "127.0.0.1:8001", True),
        ("127.0.0.1:9002", "127.0.0.1:8001", False),
        ("127.0.0.1", "127.0.0.1:8001", False),
        ("ebay.co.uk:8443", "ebay.co.uk", True),
        ("", "ebay.co.uk", False),
    ],
)
def test_host_matches(host, domain, covered):
    assert hosts.host_matches(host, domain) is covered


def test_verify_names_a_marketplace_that_runs_of_two_spiders_wrote_in_an_older_store(store):
    """A store written before runs declared their hosts: the forged capture still shows, by the spider of its run."""
    demo_run = db.start_run(store, spider="demo_market")
    db.save_capture(store, demo_item(), run_id=demo_run)
    shop_run = db.start_run(store, spider="webshop")
    db.save_capture(store, forged_item(), run_id=shop_run)  # no declaration: nothing refuses it
    result = db.verify(store)
    assert not result.ok
    assert str(result.first) == "marketplace demo: written by more than one spider (demo_market, webshop)"
