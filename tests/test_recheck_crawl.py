"""Re-checks, for real: crawl the demo marketplace, take some flagged listings down in each way a marketplace does
(404, 410, "this listing has ended", redirect to search), crawl again, and read each listing's status history."""

import json

import db
from db import accounts, decisions, rechecks
from db.status import status_history
from demo_market import DemoMarket
from tests.support.cli import demo_crawl_args, run_keywatch


def history_of(store, listing_id):
    pk = db.get_listing(store, "demo", listing_id)["pk"]
    return status_history(store, [pk])[pk]


REMOVALS = {"404": "removed", "410": "removed", "ended": "ended", "redirect": "removed"}


def test_status_history_records_when_flagged_listings_come_down(tmp_path):
    db_path = tmp_path / "rechecks.sqlite"
    config = tmp_path / "marketplaces.yaml"
    with DemoMarket(port=0) as market:
        config.write_text(f"marketplaces:\n  - spider: demo_market\n    args: {{base_url: '{market.url}'}}\n")
        run_keywatch(*demo_crawl_args(market.url, db_path, "-s", "LOG_LEVEL=WARNING"))
        store = db.connect(db_path)
        flagged = [row["listing_id"] for row in db.hits(store)]
        assert len(flagged) > 10
        taken_down = dict(zip(flagged[:4], REMOVALS, strict=True))
        for listing_id, how in taken_down.items():
            market.remove(listing_id, how=how)
        dismissed = flagged[4]
        accounts.add_user(store, "ann", "unused-hash")
        decisions.decide(
            store, db.get_listing(store, "demo", dismissed)["pk"], "ann", "dismiss", reason="false_positive"
        )
        store.close()

        proc = run_keywatch("crawl", "--all", "--config", config, "--db", db_path, "-s", "LOG_LEVEL=WARNING")
        assert "No problems found." in proc.stdout

    store = db.connect(db_path)
    first_run, second_run = [r["id"] for r in store.query("SELECT id FROM crawl_runs ORDER BY id")]
    for listing_id, how in taken_down.items():
        history = history_of(store, listing_id)
        assert [h["status"] for h in history] == ["live", REMOVALS[how]], (how, history)
        assert history[0]["observed_at"] < history[1]["observed_at"]
        # The observation points at the capture that shows it: the 404/410/ended page, or the search page.
        capture = store["captures"].get(history[1]["capture_id"])
        assert capture["purpose"] == "recheck" and capture["run_id"] == second_run
        assert capture["status"] == {"404": 404, "410": 410, "ended": 200, "redirect": 200}[how]
        if how == "redirect":
            assert "/search?" in capture["url"] and capture["request_url"].endswith(f"/item/{listing_id}")
        listing = db.get_listing(store, "demo", listing_id)
        assert listing["status"] == REMOVALS[how] and listing["flagged"] == 1

    # Every other flagged, undismissed listing was re-checked once and is still live; the dismissed one was not.
    rechecked = [
        r["listing_id"]
        for r in store.query(
            "SELECT l.listing_id FROM captures c JOIN listings l ON l.pk = c.listing_pk "
            "WHERE c.run_id = ? AND c.purpose = 'recheck'",
            [second_run],
        )
    ]
    assert sorted(rechecked) == sorted(set(flagged) - {dismissed})
    for listing_id in set(flagged) - set(taken_down) - {dismissed}:
        assert history_of(store, listing_id)[-1]["status"] == "live"
    assert [h["status"] for h in history_of(store, dismissed)] == ["live"]

    # The run report counts what was observed, from the stats and from the store alike.
    [report_file] = (tmp_path / "reports").glob("crawl-*.json")
    counts = json.loads(report_file.read_text())["spiders"][0]["counts"]
    expected = {"live": len(flagged) - 5, "removed": 3, "ended": 1}
    assert counts["rechecks"] == expected
    assert rechecks.run_status_observations(store, second_run) == expected
    assert first_run < second_run
