"""Packs carry the seller's pages exactly as received, scripts and all: the README warns, and the notice shows
them only in a sandboxed frame (no scripts), by link, never inlined."""

import http.server
import os
import threading
import zipfile
from html.parser import HTMLParser

import pytest

import db
from db import accounts, decisions
from exports.export import export_pack, resolve_target
from exports.office import load_office
from tests.support.items import make_item

MARKER = "CAPTURED-PAGE-MARKER-7f3a"


def hostile_page(beacon: str) -> bytes:
    return (
        f"<html><body><h1>{MARKER}</h1><form action='{beacon}/form'><input name=q></form>"
        f"<script>fetch('{beacon}/script-ran'); document.body.dataset.ran = 'yes';"
        f"top.location = '{beacon}/took-over';</script></body></html>"
    ).encode()


def export_with_capture(tmp_path, body: bytes):
    store = db.connect(tmp_path / "store.sqlite")
    db.save_capture(store, make_item("L1", marketplace="demo", seller="s1", body=body))
    accounts.add_user(store, "alice", "x")
    decisions.decide(store, db.get_listing(store, "demo", "L1")["pk"], "alice", "confirm", category="relay_attack")
    out = tmp_path / "pack.zip"
    export_pack(store, resolve_target(store, seller="demo:s1"), out, office=load_office())
    folder = tmp_path / "unzipped"
    with zipfile.ZipFile(out) as zf:
        zf.extractall(folder)
        capture = next(n for n in zf.namelist() if n.startswith("captures/"))
    return folder, capture


class Elements(HTMLParser):
    def __init__(self):
        super().__init__()
        self.found = []

    def handle_starttag(self, tag, attrs):
        self.found.append((tag, dict(attrs)))


def test_the_pack_readme_warns_about_the_raw_pages(tmp_path):
    folder, _ = export_with_capture(tmp_path, hostile_page("http://127.0.0.1:9"))
    readme = (folder / "README.txt").read_text()
    assert "written by the seller" in readme and "scripts" in readme
    assert "do not open them directly in a web browser" in readme


def test_the_notice_links_captures_into_a_sandboxed_frame_and_never_inlines_them(tmp_path):
    folder, capture = export_with_capture(tmp_path, hostile_page("http://127.0.0.1:9"))
    html = (folder / "notice.html").read_text()
    assert MARKER not in html and "fetch(" not in html  # the page's bytes are not in the letter
    parser = Elements()
    parser.feed(html)
    frames = [attrs for tag, attrs in parser.found if tag in ("iframe", "frame", "object", "embed")]
    assert frames, "the notice offers no way to view the captured page"
    for attrs in frames:
        assert "sandbox" in attrs and attrs["sandbox"].split() == [], attrs  # no allow-scripts, no allow-*
    names = {attrs.get("name") for attrs in frames}
    links = [attrs for tag, attrs in parser.found if tag == "a" and attrs.get("href", "").startswith("captures/")]
    assert [link["href"] for link in links] == [capture]
    assert all(link.get("target") in names for link in links)  # opened in the sandbox, not as a page of its own
    policy = next(
        attrs["content"]
        for tag, attrs in parser.found
        if tag == "meta" and attrs.get("http-equiv", "").lower() == "content-security-policy"
    )
    assert "script-src 'none'" in policy


@pytest.fixture
def beacon():
    """A server on 127.0.0.1 that records every path asked of it: a script that runs calls it."""
    hits = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            hits.append(self.path)
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}", hits
    server.shutdown()
    thread.join(timeout=10)


def test_viewing_a_capture_from_the_notice_runs_none_of_its_scripts(tmp_path, beacon):
    """In a real browser: open notice.html from the unzipped pack, click the capture's link, see the page, and
    nothing of it runs (its script would call the beacon and take over the window)."""
    sync_api = pytest.importorskip("playwright.sync_api")
    from common import settings
    from tests.support.browser import launch

    if settings.chromium() is None:
        if os.environ.get("CI") == "true":
            pytest.fail("chromium is not installed (scripts/system-deps.sh installs it)")
        pytest.skip("chromium is not installed")
    url, hits = beacon
    folder, capture = export_with_capture(tmp_path, hostile_page(url))
    with sync_api.sync_playwright() as p:
        browser = launch(p)
        try:
            page = browser.new_page()
            notice = (folder / "notice.html").as_uri()
            page.goto(notice)
            page.click(f"a[href='{capture}']", timeout=10_000)
            frame = page.frame_locator("iframe[sandbox]")
            assert MARKER in frame.locator("h1").inner_text(timeout=10_000)
            page.wait_for_timeout(500)  # time for a script to run, if it could
            assert page.url == notice
        finally:
            browser.close()
    assert hits == []
