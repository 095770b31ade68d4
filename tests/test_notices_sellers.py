"""A notice's sellers are matched one way (db/notices.py `_seller_in`) by what goes into its pack and by the
flagged listings that appeared after it: case-insensitively, without surrounding spaces."""

import db
from db import notices
from db.accounts import add_user
from db.decisions import decide_many
from tests.support.items import make_item


def test_a_notices_sellers_match_alike_in_the_pack_and_in_what_came_after(tmp_path):
    store = db.connect(tmp_path / "kw.sqlite")
    add_user(store, "rita", "not-a-real-hash")
    for listing_id, seller in (("1", "KeyShop_UK"), ("2", " keyshop_uk "), ("3", "keyshop_ukx"), ("4", "other")):
        db.save_capture(store, make_item(listing_id, seller=seller, fetched_at=f"2026-11-2{listing_id}T10:00:00Z"))
    pks = [row["pk"] for row in store.query("SELECT pk FROM listings ORDER BY pk")]
    decide_many(store, pks, "rita", "confirm", category="relay_attack")
    asked = ["  KEYSHOP_uk"]

    exported = notices.export_listings(store, marketplace="demo_market", sellers=asked)
    appeared = notices.flagged_since(store, "demo_market", asked, "2026-11-20T00:00:00Z")

    assert sorted(row["listing_id"] for row in exported) == ["1", "2"]
    assert sorted(row["listing_id"] for row in appeared) == ["1", "2"]
    assert notices.export_listings(store, marketplace="demo_market", sellers=[]) == []
    assert notices.flagged_since(store, "demo_market", [], "2026-11-20T00:00:00Z") == []
