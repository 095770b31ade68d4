"""Screenshots, rendered DOMs, loaded responses and photos in the store: captures like any other, linked to their
page; verify names a changed byte in one, purge removes them under tombstones, the host rule spares only media."""

import json
import re
import zlib

import pytest
from test_evidence_purge import NOW, OLD, decide

import db
from db import media
from tests.support.items import make_item
from tests.support.media import png, rendered_item


def kinds(store):
    return [r["purpose"] for r in store.query("SELECT purpose FROM captures ORDER BY id")]


def test_a_rendering_and_photos_are_captures_linked_to_the_page(store):
    page_id = db.save_capture(store, rendered_item("1"))
    assert kinds(store) == ["candidate"] + [
        f"attachment:{k}" for k in ("resource", "resource", "screenshot", "dom", "photo")
    ]
    for row in store.query("SELECT fields FROM captures WHERE id > ?", [page_id]):
        assert json.loads(row["fields"])["attachment_of"] == page_id
    photo = json.loads(next(store.query("SELECT fields FROM captures WHERE purpose = 'attachment:photo'"))["fields"])
    assert (photo["phash"], photo["dhash"], photo["width"]) == ("ffff000000000000", "0000ffff00000000", 64)
    listing = db.get_listing(store, "demo_market", "1")
    assert listing["latest_capture_id"] == page_id  # attachments never become the listing's page
    assert db.verify(store).ok


def test_a_photo_shown_by_two_listings_is_stored_once(store):
    shared = png((10, 150, 10))
    db.save_capture(store, rendered_item("1", photo=shared))
    db.save_capture(store, rendered_item("2", photo=shared, seller="another_seller"))
    photos = list(store.query("SELECT DISTINCT sha256 FROM captures WHERE purpose = 'attachment:photo'"))
    assert len(photos) == 1
    assert next(store.query("SELECT count(*) AS n FROM bodies WHERE sha256 = ?", [photos[0]["sha256"]]))["n"] == 1
    one = media.listing_media(store, db.get_listing(store, "demo_market", "1")["pk"])
    assert [p["other_listings"] for p in one["photos"]] == [1]


def test_photos_and_loaded_responses_may_come_from_a_cdn_but_the_rendered_page_may_not(store):
    run = db.start_run(store, spider="demo_market")
    db.declare_hosts(store, run, "demo_market", {"demo_market": ["127.0.0.1:8000"]})
    db.save_capture(store, rendered_item("1"), run_id=run)  # photo on img.example, stylesheet on cdn.example
    elsewhere = rendered_item("2")
    screenshot = next(a for a in elsewhere["attachments"] if a["kind"] == "screenshot")
    screenshot["url"] = "http://evil.example/item/2"
    with pytest.raises(db.ForeignHost, match="evil.example"):
        db.save_capture(store, elsewhere, run_id=run)
    assert db.verify(store).ok


def test_a_page_capture_relabelled_as_media_to_escape_the_host_rule_is_reported(store):
    """The exemption is by purpose, which is chained: a page capture cannot be relabelled as media unseen."""
    run = db.start_run(store, spider="demo_market")
    db.declare_hosts(store, run, "demo_market", {"demo_market": ["127.0.0.1:8000"]})
    db.save_capture(store, rendered_item("1"), run_id=run)
    store.conn.execute("DROP TRIGGER captures_no_update")
    store.conn.execute("UPDATE captures SET purpose = 'attachment:resource' WHERE purpose = 'candidate'")
    problems = [str(p) for p in db.verify(store).problems]
    assert any("content hash mismatch" in p for p in problems)


@pytest.mark.parametrize("kind", ["screenshot", "photo"])
def test_a_flipped_byte_in_a_screenshot_or_photo_is_named(store, kind):
    db.save_capture(store, rendered_item("1"))
    capture = next(store.query("SELECT id, sha256 FROM captures WHERE purpose = ?", [f"attachment:{kind}"]))
    raw = bytearray(
        zlib.decompress(next(store.query("SELECT body FROM bodies WHERE sha256 = ?", [capture["sha256"]]))["body"])
    )
    raw[len(raw) // 2] ^= 0x01
    store.conn.execute("DROP TRIGGER bodies_no_update")
    store.conn.execute("UPDATE bodies SET body = ? WHERE sha256 = ?", [zlib.compress(bytes(raw)), capture["sha256"]])
    result = db.verify(store)
    assert not result.ok
    assert result.first.record == f"capture {capture['id']} ({kind})"
    assert f"does not hash to {capture['sha256']}" in result.first.message


def test_purge_removes_a_dismissed_listings_rendering_and_photos_under_tombstones(store):
    shared = png((10, 150, 10))
    db.save_capture(store, rendered_item("gone", photo=shared))
    db.save_capture(store, rendered_item("kept", photo=shared, screenshot=png((1, 2, 3), (100, 200))))
    pk = db.get_listing(store, "demo_market", "gone")["pk"]
    decide(store, "gone", "dismiss", OLD)
    result = db.purge_dismissed(store, 30, "retention-job", now=NOW)
    purged = {b["sha256"] for b in result.bodies}
    gone = {
        (r["purpose"], r["url"]): r["sha256"]
        for r in store.query("SELECT purpose, url, sha256 FROM captures WHERE listing_pk = ?", [pk])
    }
    page = "http://127.0.0.1:8000/item/gone"
    for purpose in ("candidate", "attachment:screenshot", "attachment:dom", "attachment:resource"):
        assert gone[purpose, page] in purged, purpose
    # The same photo and stylesheet are still evidence of the other listing.
    assert gone["attachment:photo", "http://img.example/gone.png"] not in purged
    assert gone["attachment:resource", "http://cdn.example/s.css"] not in purged
    tombstoned = {r["sha256"] for r in store.query("SELECT sha256 FROM tombstones")}
    assert tombstoned == purged
    assert (
        media.stored_image(
            store,
            next(
                store.query("SELECT id FROM captures WHERE listing_pk = ? AND purpose = 'attachment:screenshot'", [pk])
            )["id"],
        )
        is None
    )
    assert media.listing_media(store, pk)["screenshots"][0]["body_kept"] is False
    assert db.verify(store).ok


def test_stored_image_serves_only_screenshots_and_photos_that_are_images(store):
    page_id = db.save_capture(store, rendered_item("1", photo=b"<html>not a photo</html>"))
    ids = {r["purpose"]: r["id"] for r in store.query("SELECT id, purpose FROM captures")}
    shot = media.stored_image(store, ids["attachment:screenshot"])
    assert (shot["kind"], shot["content_type"]) == ("screenshot", "image/png")
    photo = media.stored_image(store, ids["attachment:photo"])
    assert photo["content_type"] is None and photo["body"] == b"<html>not a photo</html>"
    assert media.stored_image(store, page_id) is None
    assert media.stored_image(store, ids["attachment:dom"]) is None


def test_thumbnails_prefer_the_main_photo_else_the_screenshot(store):
    db.save_capture(store, rendered_item("1"))
    no_photo = rendered_item("2")
    no_photo["attachments"] = [a for a in no_photo["attachments"] if a["kind"] != "photo"]
    db.save_capture(store, no_photo)
    db.save_capture(store, make_item("3"))
    pks = [db.get_listing(store, "demo_market", i)["pk"] for i in ("1", "2", "3")]
    chosen = media.thumbnails(store, pks)
    purpose = {r["id"]: r["purpose"] for r in store.query("SELECT id, purpose FROM captures")}
    assert purpose[chosen[pks[0]]] == "attachment:photo"
    assert purpose[chosen[pks[1]]] == "attachment:screenshot"
    assert pks[2] not in chosen


def test_keywatch_show_names_what_each_capture_of_a_listing_is(tmp_path):
    from click.testing import CliRunner
    from test_evidence_cli import cli

    path = tmp_path / "s.sqlite"
    store = db.connect(path)
    db.save_capture(store, rendered_item("1"))
    store.close()
    out = CliRunner().invoke(cli, ["show", "demo_market:1", "--db", str(path)]).output
    kinds = re.findall(r"  capture \d+(?: \((\w+)\))?: HTTP", out)
    assert kinds == ["", "photo", "resource", "resource", "screenshot", "dom"], out
