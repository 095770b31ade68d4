"""An export must not hold the store's write lock while it builds the pack: crawls keep saving meanwhile."""

import json
import zipfile

import pytest

import db
from db import accounts, decisions, notices
from exports import export as export_module
from exports.export import export_pack, resolve_target
from exports.office import load_office
from exports.pack import verify_pack
from tests.support.items import make_item
from tests.support.notices import notices_in

LISTINGS = 300


def _confirmed_store(path, count):
    store = db.connect(path)
    accounts.add_user(store, "alice", "not-a-real-hash")
    for i in range(count):
        db.save_capture(
            store,
            make_item(
                f"{3000 + i}",
                marketplace="demo",
                seller="bulk_seller",
                body=f"<html><h1>Relay box {i}</h1>{'x' * 2000}</html>".encode(),
                fetched_at=f"2026-03-01T10:{i // 60:02d}:{i % 60:02d}.000001Z",
            ),
        )
        decisions.decide(
            store, db.get_listing(store, "demo", f"{3000 + i}")["pk"], "alice", "confirm", category="relay_attack"
        )
    return store


def _export(store, out):
    target = resolve_target(store, seller="demo:bulk_seller")
    return export_pack(store, target, out, office=load_office(None))


def test_a_concurrent_crawl_is_not_blocked_by_a_large_export(tmp_path, monkeypatch):
    """While the pack is built (letter rendered, ZIP written) the export holds only a read snapshot, so a crawl's
    save_capture gets the write lock at once. The crawl here does not wait at all (busy timeout 0): were the
    lock held, its save would fail there and then, whatever the machine's speed."""
    path = tmp_path / "store.sqlite"
    store = _confirmed_store(path, LISTINGS)
    saved = []

    def crawl_saves(stage):
        crawl = db.connect(path)
        try:
            crawl.conn.execute("PRAGMA busy_timeout = 0")
            item = make_item(f"w-{stage}", marketplace="other_market", seller="crawler", fetched_at=db.utc_now())
            saved.append((stage, db.save_capture(crawl, item)))
        finally:
            crawl.conn.close()

    render_pdf, write_pack = export_module.render_pdf, export_module.write_pack

    def rendering(context):
        crawl_saves("while the letter is rendered")
        return render_pdf(context)

    def zipping(*args, **kwargs):
        crawl_saves("before the ZIP is written")
        written = write_pack(*args, **kwargs)
        crawl_saves("after the ZIP is written")
        return written

    monkeypatch.setattr(export_module, "render_pdf", rendering)
    monkeypatch.setattr(export_module, "write_pack", zipping)
    result = _export(store, tmp_path / "pack.zip")
    assert [stage for stage, _ in saved] == [
        "while the letter is rendered",
        "before the ZIP is written",
        "after the ZIP is written",
    ]
    assert result.listings == LISTINGS
    assert db.verify(store).ok
    assert verify_pack(tmp_path / "pack.zip").problems == []
    notice = notices.get_notice(store, result.number)
    assert notice["pack_sha256"] == result.pack.sha256 and notice["listing_count"] == LISTINGS


def _during_build(monkeypatch, path, write, times=1):
    """Make `write(other_store, build_no)` run from another connection while the pack is being built (the first
    `times` builds); returns the list of notice numbers each build's letter was rendered with."""
    builds = []
    render = export_module.render_pdf

    def render_and_write(context):
        builds.append(context["number"])
        if len(builds) <= times:
            other = db.connect(path)
            try:
                write(other, len(builds))
            finally:
                other.conn.close()
        return render(context)

    monkeypatch.setattr(export_module, "render_pdf", render_and_write)
    return builds


def _zip_json(path, name):
    with zipfile.ZipFile(path) as zf:
        return json.loads(zf.read(name))


def test_an_unrelated_write_during_the_build_keeps_the_pack(tmp_path, monkeypatch):
    path = tmp_path / "store.sqlite"
    store = _confirmed_store(path, 3)
    head_before = db.chain_head(store)
    builds = _during_build(
        monkeypatch,
        path,
        lambda other, n: db.save_capture(
            other, make_item(f"u{n}", marketplace="other_market", fetched_at=db.utc_now())
        ),
    )
    result = _export(store, tmp_path / "pack.zip")
    assert len(builds) == 1
    manifest = _zip_json(tmp_path / "pack.zip", "manifest.json")
    # The pack and notice name the snapshot's head; the notice's own chain record follows the crawl's capture.
    assert manifest["store"]["chain_head"] == head_before == notices.get_notice(store, result.number)["chain_head"]
    last = store.conn.execute("SELECT record_type, record_id FROM chain ORDER BY seq DESC LIMIT 1").fetchone()
    assert last == ("notice", result.notice_id)
    assert db.verify(store).ok and verify_pack(tmp_path / "pack.zip").problems == []


def test_a_new_capture_of_an_exported_listing_makes_the_export_rebuild(tmp_path, monkeypatch):
    path = tmp_path / "store.sqlite"
    store = _confirmed_store(path, 3)
    builds = _during_build(
        monkeypatch,
        path,
        lambda other, n: db.save_capture(
            other,
            make_item(
                "3001",
                marketplace="demo",
                seller="bulk_seller",
                title="Relay box, recaptured",
                body=b"<html>recaptured during the export</html>",
                fetched_at=db.utc_now(),
            ),
        ),
    )
    result = _export(store, tmp_path / "pack.zip")
    assert len(builds) == 2 and builds[0] == builds[1] == result.number  # the number was still free
    listing = next(
        x for x in _zip_json(tmp_path / "pack.zip", "listings.json")["listings"] if x["listing_id"] == "3001"
    )
    assert listing["title"] == "Relay box, recaptured" and len(listing["captures"]) == 2
    manifest = _zip_json(tmp_path / "pack.zip", "manifest.json")
    assert manifest["store"]["chain_head"] == notices.get_notice(store, result.number)["chain_head"]
    assert db.verify(store).ok and verify_pack(tmp_path / "pack.zip").problems == []


def test_a_decision_on_an_exported_listing_makes_the_export_rebuild_without_it(tmp_path, monkeypatch):
    path = tmp_path / "store.sqlite"
    store = _confirmed_store(path, 3)
    pk = db.get_listing(store, "demo", "3002")["pk"]
    builds = _during_build(
        monkeypatch, path, lambda other, n: decisions.decide(other, pk, "alice", "dismiss", reason="false_positive")
    )
    result = _export(store, tmp_path / "pack.zip")
    assert len(builds) == 2 and result.listings == 2
    assert pk not in notices.get_notice(store, result.number)["listing_pks"]


def test_a_number_taken_during_the_build_makes_the_export_rebuild_with_the_next(tmp_path, monkeypatch):
    path = tmp_path / "store.sqlite"
    store = _confirmed_store(path, 3)
    taken = []

    def other_export(other, n):
        monkeypatch.undo()  # the other export builds normally
        taken.append(_export(other, tmp_path / "first.zip").number)
        _during_build(monkeypatch, path, lambda *_: None, times=0)  # record the remaining builds again

    _during_build(monkeypatch, path, other_export)
    result = _export(store, tmp_path / "second.zip")
    assert taken[0].endswith("-0001") and result.number.endswith("-0002")
    with zipfile.ZipFile(tmp_path / "second.zip") as zf:
        assert result.number in zf.read("notice.html").decode()
    assert db.verify(store).ok
    assert [n["number"] for n in notices_in(store)] == [taken[0], result.number]


def test_listings_that_keep_changing_give_a_clear_error_and_leave_nothing(tmp_path, monkeypatch):
    path = tmp_path / "store.sqlite"
    store = _confirmed_store(path, 3)
    builds = _during_build(
        monkeypatch,
        path,
        lambda other, n: db.save_capture(
            other,
            make_item(
                "3000",
                marketplace="demo",
                seller="bulk_seller",
                body=f"<html>{n}</html>".encode(),
                fetched_at=db.utc_now(),
            ),
        ),
        times=99,
    )
    with pytest.raises(export_module.ExportError, match="changed while the pack was being built"):
        _export(store, tmp_path / "pack.zip")
    assert len(builds) == export_module.MAX_ATTEMPTS
    assert list(tmp_path.glob("*.zip")) == [] and list(tmp_path.glob(".*staging")) == []
    assert list(tmp_path.glob(".*.part")) == []
    assert notices_in(store) == [] and db.verify(store).ok
