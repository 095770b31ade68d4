"""Screenshots of the review desk for the docs (not a test: pytest collects only test_*.py).

    python -m tests.screenshots [OUT_DIR]     # default docs/screenshots

Runs the demo crawl (`keywatch demo`, the bundled marketplace on 127.0.0.1) into a temporary store, so the
pictures show real crawl data and real classifier output, serves the review desk on a free port, and drives
Debian's headless Chromium with playwright: the queue mid-triage, a listing page and the dashboard.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path

import db
from common import settings
from db import accounts, queue
from tests.support.browser import launch, log_in, serve_in_thread

DEMO_PASSWORD = "screenshots-only-password"


def demo_store(path: Path) -> None:
    """The demo crawl's evidence store at `path` (as `make demo` builds it), with one admin account."""
    from webui import auth

    subprocess.run(
        [sys.executable, "-m", "keywatch", "demo", "--db", str(path)],
        check=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    store = db.connect(path)
    try:
        accounts.add_user(store, "alice", auth.hash_password(DEMO_PASSWORD), role="admin")
    finally:
        store.close()


def showcase_listing(path: Path) -> int | None:
    """A flagged listing worth showing: highest risk, matches in both title and description, a readable few."""
    with db.read_only(path) as store:
        best, best_key = None, None
        for hit in list(db.hits(store)):
            page = queue.listing_page(store, hit["listing_pk"])
            matches = (page["classification"] or {}).get("matches", []) if page else []
            fields = {m.get("field") for m in matches if not m.get("excluded_by")}
            key = (page["risk_rank"], len(fields & {"title", "description"}), -abs(len(matches) - 4))
            if best_key is None or key > best_key:
                best, best_key = hit["listing_pk"], key
        return best


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
            queue_png = out_dir / "queue.png"
            page.screenshot(path=str(queue_png))
            # Chromium does not paint cross-origin (sandboxed) frames outside the viewport: make it tall enough.
            page.set_viewport_size({"width": 1440, "height": 1500})
            page.goto(f"{base}/listing/{listing_pk}")
            page.wait_for_load_state("load")
            page.wait_for_timeout(300)
            listing_png = out_dir / "listing.png"
            page.screenshot(path=str(listing_png), full_page=True)
            page.set_viewport_size({"width": 1440, "height": 900})
            page.goto(f"{base}/dashboard")
            page.wait_for_load_state("load")
            dashboard_png = out_dir / "dashboard.png"
            page.screenshot(path=str(dashboard_png), full_page=True)
            browser.close()
    return [queue_png, listing_png, dashboard_png]


if __name__ == "__main__":
    if settings.chromium() is None:
        sys.exit("chromium not found: run scripts/system-deps.sh (apt-get install chromium)")
    for written in take(Path(sys.argv[1] if len(sys.argv) > 1 else "docs/screenshots")):
        print(written)
