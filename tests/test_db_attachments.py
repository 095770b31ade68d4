"""Documents a listing is made of (eBay's description iframe) and re-checks of gone pages, in the store."""

import json

import db
from tests.support.items import make_item


def test_attachment_is_its_own_capture_linked_to_the_page(tmp_path):
    store = db.connect(tmp_path / "s.sqlite")
    description = b"<html><body>Keyless repeater, works on most cars</body></html>"
    item = make_item(
        "300",
        attachments=[
            {
                "kind": "description",
                "url": "https://itm.ebaydesc.com/itmdesc/300",
                "status": 200,
                "headers": {"Content-Type": ["text/html"]},
                "body": description,
                "fetched_at": "2026-11-28T10:00:01.000001Z",
            }
        ],
    )
    page_id = db.save_capture(store, item)
    rows = [dict(r) for r in store.query("select * from captures order by id")]
    assert [r["purpose"] for r in rows] == ["candidate", "attachment:description"]
    attached = rows[1]
    assert json.loads(attached["fields"]) == {"attachment_of": page_id, "kind": "description"}
    assert attached["url"] == "https://itm.ebaydesc.com/itmdesc/300"
    assert attached["fetched_at"] == "2026-11-28T10:00:01.000001Z"
    # The listing still points at the page, not the document fetched after it.
    listing = db.get_listing(store, "demo_market", "300")
    assert listing["latest_capture_id"] == page_id
    assert db.verify(store).ok


def test_recheck_of_a_gone_page_keeps_the_listing_view(tmp_path):
    store = db.connect(tmp_path / "s.sqlite")
    db.save_capture(store, make_item("301"))
    gone = make_item(
        "301",
        title="",
        description="",
        price=None,
        currency=None,
        seller=None,
        status=404,
        body=b"Not found",
        fetched_at="2026-12-05T10:00:00.000000Z",
        purpose="recheck",
        listing_status="removed",
        classification=None,
    )
    db.save_capture(store, gone)
    listing = db.get_listing(store, "demo_market", "301")
    assert (listing["title"], listing["price"], listing["seller"]) == (
        "Relay box keyless repeater",
        "249.87",
        "keyshop_uk",
    )
    assert listing["status"] == "removed"
    assert listing["last_seen"] == "2026-12-05T10:00:00.000000Z"
    assert db.verify(store).ok
