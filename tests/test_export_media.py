"""Evidence packs carry each listing's screenshots and photos, content-addressed and listed in the manifest and
SHA256SUMS (verify-pack names a changed byte in one); the notice shows each screenshot beside the listing."""

import hashlib
import json
import zipfile

import pytest
from test_export_pack import rewrite_zip

import db
from db import accounts, decisions
from tests.support.cli import notify_cli
from tests.support.media import png, rendered_item


@pytest.fixture
def cli():
    return notify_cli()


@pytest.fixture
def pack(tmp_path, cli):
    """A confirmed, rendered and photographed listing of seller keyshop_uk, exported."""
    path = tmp_path / "store.sqlite"
    store = db.connect(path)
    db.save_capture(store, rendered_item("1001", marketplace="demo", screenshot=png((20, 90, 200), (320, 900))))
    accounts.add_user(store, "alice", "not-a-real-hash")
    decisions.decide(store, db.get_listing(store, "demo", "1001")["pk"], "alice", "confirm", category="relay_attack")
    store.close()
    out = tmp_path / "pack.zip"
    result = cli("export", "--seller", "demo:keyshop_uk", "--out", out, "--db", path)
    assert result.exit_code == 0, result.output
    return out


def files_of(path):
    with zipfile.ZipFile(path) as zf:
        return {n: zf.read(n) for n in zf.namelist()}


def test_screenshots_and_photos_are_files_named_by_their_hash_and_listed(pack):
    files = files_of(pack)
    shots = [n for n in files if n.startswith("screenshots/")]
    photos = [n for n in files if n.startswith("photos/")]
    assert len(shots) == 1 and len(photos) == 1
    for name in shots + photos:
        assert name.endswith(".png") and name.split("/")[1][:-4] == hashlib.sha256(files[name]).hexdigest()
    manifest = {f["path"] for f in json.loads(files["manifest.json"])["files"]}
    sums = files["SHA256SUMS"].decode()
    for name in shots + photos:
        assert name in manifest and f"  {name}\n" in sums
    # The rendered DOM is a page to read (captures/); the responses the rendering loaded are in the WARC only.
    record = json.loads(files["listings.json"])["listings"][0]
    by_kind = {}
    for capture in record["captures"]:
        by_kind.setdefault(capture["kind"], []).append(capture["file"])
    assert by_kind["screenshot"] == shots and by_kind["photo"] == photos
    assert by_kind["dom"][0].startswith("captures/") and by_kind["resource"] == [None, None]


def test_the_notice_shows_the_screenshot_beside_the_listing(pack):
    files = files_of(pack)
    shot = next(n for n in files if n.startswith("screenshots/"))
    html = files["notice.html"].decode()
    assert f'<img src="{shot}"' in html and "The listings as they were seen" in html
    assert b"/Subtype /Image" in files["notice.pdf"]


def test_the_pdf_has_no_picture_without_a_screenshot(tmp_path, cli):
    path = tmp_path / "store.sqlite"
    store = db.connect(path)
    item = rendered_item("1001", marketplace="demo")
    item["attachments"] = [a for a in item["attachments"] if a["kind"] != "screenshot"]
    db.save_capture(store, item)
    accounts.add_user(store, "alice", "not-a-real-hash")
    decisions.decide(store, db.get_listing(store, "demo", "1001")["pk"], "alice", "confirm", category="relay_attack")
    store.close()
    out = tmp_path / "plain.zip"
    assert cli("export", "--seller", "demo:keyshop_uk", "--out", out, "--db", path).exit_code == 0
    files = files_of(out)
    assert b"/Subtype /Image" not in files["notice.pdf"] and "as they were seen" not in files["notice.html"].decode()


@pytest.mark.parametrize("folder", ["screenshots/", "photos/"])
def test_verify_pack_names_a_flipped_byte_in_a_screenshot_or_photo(tmp_path, pack, cli, folder):
    victim = next(n for n in files_of(pack) if n.startswith(folder))

    def flip(name, data):
        return data[:40] + bytes([data[40] ^ 1]) + data[41:] if name == victim else data

    bad = rewrite_zip(pack, tmp_path / "bad.zip", flip)
    result = cli("verify-pack", bad, "--db", tmp_path / "no-store.sqlite")
    assert result.exit_code == 1
    assert f"{victim}: SHA-256 differs" in result.output
    assert f"{victim}: content does not hash to its own name" in result.output
