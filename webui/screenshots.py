"""Screenshots of the review desk for the docs, and the browser plumbing the browser tests share.

    python -m webui.screenshots [OUT_DIR]     # default docs/screenshots

Runs the demo crawl (`keywatch demo`, the bundled marketplace on 127.0.0.1) into a temporary store, so the
pictures show real crawl data and real classifier output, serves the review desk on a free port, and drives
Debian's headless Chromium with playwright: the queue mid-triage and a listing page.
"""

from __future__ import annotations

import contextlib
import sys
import tempfile
import threading
from pathlib import Path

from werkzeug.serving import WSGIRequestHandler, make_server

from common import settings


class QuietHandler(WSGIRequestHandler):
    def log_request(self, *args, **kwargs):  # keep test and script output readable
        pass


CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
]


def launch(playwright):
    return playwright.chromium.launch(executable_path=settings.chromium(), headless=True, args=CHROMIUM_ARGS)


@contextlib.contextmanager
def serve_in_thread(app):
    """The app on 127.0.0.1 at a free port, in a background thread; yields the base URL."""
    server = make_server("127.0.0.1", 0, app, threaded=True, request_handler=QuietHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=10)


def log_in(page, base_url: str, name: str, password: str) -> None:
    page.goto(f"{base_url}/login")
    page.fill("input[name=username]", name)
    page.fill("input[name=password]", password)
    page.press("input[name=password]", "Enter")
    page.wait_for_url(f"{base_url}/")


def demo_store(path: Path) -> None:
    """The demo crawl's evidence store at `path` (as `make demo` builds it), with one admin account."""
    import subprocess

    import db
    import db.review as review
    from webui import auth

    subprocess.run(
        [sys.executable, "-m", "keywatch", "demo", "--db", str(path)],
        check=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    store = db.connect(path)
    try:
        review.add_user(store, "alice", auth.hash_password(DEMO_PASSWORD), role="admin", created_by="screenshots")
    finally:
        store.conn.close()


DEMO_PASSWORD = "screenshots-only-password"


def showcase_listing(path: Path) -> int:
    """A flagged listing worth showing: highest risk, matches in both title and description, a readable few."""
    import json

    import db

    store = db.connect(path)
    try:
        best, best_key = None, None
        for pk, rank, matches in store.conn.execute(
            "SELECT l.pk, l.risk_rank, k.matches FROM listings l JOIN classifications k ON k.id = l.classification_id "
            "WHERE l.flagged = 1 ORDER BY l.risk_rank DESC, l.score DESC, l.pk"
        ):
            fields = {m.get("field") for m in json.loads(matches) if not m.get("excluded_by")}
            key = (rank, len(fields & {"title", "description"}), -abs(len(json.loads(matches)) - 4))
            if best_key is None or key > best_key:
                best, best_key = pk, key
        return best
    finally:
        store.conn.close()


def take(out_dir: Path) -> list[Path]:
    from playwright.sync_api import sync_playwright

    from webui import create_app

    out_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "keywatch.sqlite"
        demo_store(path)
        listing_pk = showcase_listing(path)
        app = create_app(path)
        with serve_in_thread(app) as base, sync_playwright() as p:
            browser = launch(p)
            context = browser.new_context(
                viewport={"width": 1440, "height": 900}, device_scale_factor=1, locale="en-GB", timezone_id="UTC"
            )
            page = context.new_page()
            log_in(page, base, "alice", DEMO_PASSWORD)
            # Mid-triage: the first listing confirmed from the keyboard, the next one selected.
            first = page.get_attribute("#queue tbody tr.row >> nth=0", "data-pk")
            page.keyboard.press("j")
            page.keyboard.press("c")
            page.wait_for_selector(f"#row-{first}.review-confirmed")
            page.wait_for_timeout(200)
            queue = out_dir / "queue.png"
            page.screenshot(path=str(queue))
            # Chromium does not paint cross-origin (sandboxed) frames outside the viewport: make it tall enough.
            page.set_viewport_size({"width": 1440, "height": 1500})
            page.goto(f"{base}/listing/{listing_pk}")
            page.wait_for_load_state("load")
            page.wait_for_timeout(300)
            listing = out_dir / "listing.png"
            page.screenshot(path=str(listing), full_page=True)
            page.set_viewport_size({"width": 1440, "height": 900})
            page.goto(f"{base}/dashboard")
            page.wait_for_load_state("load")
            dashboard = out_dir / "dashboard.png"
            page.screenshot(path=str(dashboard), full_page=True)
            browser.close()
    return [queue, listing, dashboard]


if __name__ == "__main__":
    if settings.chromium() is None:
        sys.exit("chromium not found: run scripts/system-deps.sh (apt-get install chromium)")
    for written in take(Path(sys.argv[1] if len(sys.argv) > 1 else "docs/screenshots")):
        print(written)
