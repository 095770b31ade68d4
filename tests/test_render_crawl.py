"""Rendering in a real crawl: Debian's headless Chromium through scrapy-playwright, on the demo marketplace on
127.0.0.1. Flagged pages get a screenshot, their rendered DOM and every response they loaded; a script-filled
price is read from the rendered page; the browser identifies itself like the crawler. Without Chromium the crawl
is the same, less the rendering, and says why in one line.

In CI (CI=true) a missing chromium is a failure, not a skip: scripts/system-deps.sh must have installed it.
"""

import json
import subprocess
import sys

import pytest

import db
from db import media
from tests.support.browser import require_chromium
from tests.support.cli import run_keywatch
from tests.support.demo_catalogue import KNOWN_FALSE_FLAGS


@pytest.fixture
def chromium():
    require_chromium()


def test_flagged_pages_are_rendered_screenshotted_and_kept_with_what_they_loaded(chromium, demo_market, tmp_path):
    db_path = tmp_path / "rendered.sqlite"
    proc = run_keywatch(
        "crawl", "demo_market", "-a", f"base_url={demo_market.url}", "-a", "mode=all", "-a", "queries=amplifier",
        "--db", db_path, "-s", "LOG_LEVEL=WARNING", env={"KEYWATCH_RENDER": "flagged"},
    )  # fmt: skip
    assert "rendered:         3 pages" in proc.stdout, proc.stdout + proc.stderr
    with db.read_only(db_path) as store:
        assert {h["listing_id"] for h in db.hits(store)} == {"DM10009", "DM10127", "DM10151"}
        rendered = {
            row["listing_id"]
            for row in store.query(
                "SELECT DISTINCT l.listing_id FROM captures c JOIN listings l ON l.pk = c.listing_pk "
                "WHERE c.purpose = 'attachment:screenshot'"
            )
        }
        assert rendered == {"DM10009", "DM10127", "DM10151"}  # DM10131 is no hit: not rendered
        listing = db.get_listing(store, "demo", "DM10009")
        # Its price is only in the rendered page (a script fetches it): read from there, and said so.
        assert (listing["price"], listing["currency"]) == ("450.00", "GBP")
        fields = json.loads(store["captures"].get(listing["latest_capture_id"])["fields"])
        assert fields["extra"]["rendered_fields"] == ["price"]
        things = media.listing_media(store, listing["pk"])
        [shot] = things["screenshots"]
        image = media.stored_image(store, shot["id"])
        assert image["content_type"] == "image/png" and shot["attachment_of"] == listing["latest_capture_id"]
        dom = next(
            store.query(
                "SELECT sha256 FROM captures WHERE listing_pk = ? AND purpose = 'attachment:dom'", [listing["pk"]]
            )
        )
        assert "£450.00" in db.queries.stored_body(store, dom["sha256"]).decode()
        loaded = {
            (r["url"].removeprefix(demo_market.url), json.loads(r["fields"])["resource_type"])
            for r in store.query(
                "SELECT url, fields FROM captures WHERE listing_pk = ? AND purpose = 'attachment:resource'",
                [listing["pk"]],
            )
        }
        assert {
            ("/item/DM10009", "document"),
            ("/static/market.css", "stylesheet"),
            ("/api/price/DM10009", "fetch"),
        } <= loaded
        assert len([p for p in things["photos"] if p["phash"]]) == 2
        assert db.verify(store).ok
    # The browser is as polite as the crawler: robots.txt read, the contact User-Agent on every request it made.
    assert ("GET", "/robots.txt") in demo_market.request_log
    assert all(agent.startswith("keywatch/") for agent in demo_market.user_agents), demo_market.user_agents
    out = tmp_path / "rendered.warc.gz"
    run_keywatch("warc", "--listing", "demo:DM10009", "--out", out, "--db", db_path)
    check = subprocess.run([sys.executable, "-m", "warcio.cli", "check", str(out)], capture_output=True, text=True)
    assert check.returncode == 0, check.stdout + check.stderr


def test_without_chromium_the_demo_says_why_in_one_line_and_is_otherwise_the_same(tmp_path):
    proc = run_keywatch(
        "demo",
        "--db",
        tmp_path / "demo.sqlite",
        env={"KEYWATCH_RENDER": "flagged", "KEYWATCH_CHROMIUM": "/nowhere/chromium"},
    )
    lines = [line for line in (proc.stdout + proc.stderr).splitlines() if "Chromium" in line or "render" in line]
    why = "Chromium not found (apt-get install chromium, or set KEYWATCH_CHROMIUM to its path)"
    assert lines == [f"  rendering:        skipped: {why}"]
    assert (
        f"hits:             {70 + len(KNOWN_FALSE_FLAGS)}" in proc.stdout
        and "listing pages:    166 fetched = 166 stored" in proc.stdout
    )
    with db.read_only(tmp_path / "demo.sqlite") as store:
        purposes = {r["purpose"] for r in store.query("SELECT DISTINCT purpose FROM captures")}
    assert purposes == {"all", "attachment:photo"}


def test_a_bad_render_setting_is_one_line(tmp_path):
    proc = run_keywatch("demo", "--db", tmp_path / "x.sqlite", env={"KEYWATCH_RENDER": "sometimes"}, check=False)
    assert proc.returncode == 1 and proc.stderr.strip() == (
        "Error: KEYWATCH_RENDER must be one of flagged, all, off, not 'sometimes'"
    )
    assert not (tmp_path / "x.sqlite").exists()
