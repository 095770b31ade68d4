"""Interrupting the weekly crawl with SIGTERM leaves the store consistent; `crawl --all --resume` finishes the job
without fetching again what the interrupted run already stored."""

import json
import signal
import subprocess
import sys
import time
from collections import Counter

import pytest

import db
from demo_market import DemoMarket
from keywatch.weekly_report import EXIT_INTERRUPTED, EXIT_OK
from tests.support.cli import ROOT, run_keywatch


def captures_so_far(db_path) -> int:
    try:
        store = db.connect(db_path, create=False)
    except db.StoreNotFound:
        return 0
    try:
        # Listing pages: their photos are captures too, stored with them.
        return next(store.query("SELECT count(*) AS n FROM captures WHERE purpose NOT LIKE 'attachment:%'"))["n"]
    except Exception:  # noqa: BLE001 - the crawl may still be creating the schema
        return 0
    finally:
        store.close()


@pytest.mark.parametrize(
    "extra",
    [[], ["-s", "KEYWATCH_RENDER=off", "-s", "KEYWATCH_PHOTOS=0"]],
    ids=["as configured", "item pages handed to the classifier's process"],
)
def test_sigterm_then_resume_stores_the_rest_once(tmp_path, extra):
    db_path = tmp_path / "resume.sqlite"
    config = tmp_path / "marketplaces.yaml"
    with DemoMarket(port=0, scale=2) as market:
        config.write_text(
            f"marketplaces:\n  - spider: demo_market\n    args: {{base_url: '{market.url}', mode: all}}\n"
        )
        command = [
            sys.executable,
            "-m",
            "keywatch",
            "crawl",
            "--all",
            "--config",
            str(config),
            "--db",
            str(db_path),
            "-s",
            "LOG_LEVEL=INFO",
            # At most ~50 pages/s, so the signal lands mid-crawl however far the store's writer lags behind the
            # spider: unthrottled on a loaded machine, every page had been fetched before 60 were stored.
            "-s",
            "DOWNLOAD_DELAY=0.02",
            *extra,
        ]
        crawl = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        deadline = time.monotonic() + 90
        while captures_so_far(db_path) < 60 and time.monotonic() < deadline and crawl.poll() is None:
            time.sleep(0.1)
        assert crawl.poll() is None, "the crawl ended before it could be interrupted"
        crawl.send_signal(signal.SIGTERM)
        out, err = crawl.communicate(timeout=90)
        assert crawl.returncode == EXIT_INTERRUPTED, out + err[-3000:]
        assert "interrupted before it finished" in out and "keywatch crawl --all --resume" in out

        # Interrupted, but consistent: the evidence verifies and the run says how it ended.
        verified = run_keywatch("verify", "--db", db_path)
        assert verified.returncode == 0
        store = db.connect(db_path)
        [first] = list(store.query("SELECT * FROM crawl_runs"))
        assert first["finish_reason"] == "shutdown"
        interrupted_captures = captures_so_far(db_path)
        assert 60 <= interrupted_captures < len(market.listings) - 1
        assert (tmp_path / "jobs" / "resume" / "batch.json").exists()
        served_before = Counter(path for _, path in market.request_log)

        resumed = run_keywatch(
            "crawl",
            "--all",
            "--resume",
            "--config",
            config,
            "--db",
            db_path,
            "-s",
            "LOG_LEVEL=WARNING",
            *extra,
            check=False,
        )
        assert resumed.returncode == EXIT_OK, resumed.stdout + resumed.stderr[-3000:]
        assert "(resumed)" in resumed.stdout
        served = Counter(path for _, path in market.request_log)

    runs = list(store.query("SELECT * FROM crawl_runs ORDER BY id"))
    assert [r["finish_reason"] for r in runs] == ["shutdown", "finished"]
    # Every listing stored once: nothing the interrupted run stored was fetched again, nothing was lost.
    per_listing = Counter(
        r["listing_id"]
        for r in store.query(
            "SELECT l.listing_id FROM captures c JOIN listings l ON l.pk = c.listing_pk "
            "WHERE c.purpose NOT LIKE 'attachment:%'"  # a page's photos are captures of their own
        )
    )
    assert max(per_listing.values()) == 1, [k for k, n in per_listing.items() if n > 1][:10]
    every = {row["id"] for row in market.listings}  # the malformed page too: stored, as a counted parse error
    assert set(per_listing) == every
    # The server agrees: no item page was requested twice across the two runs.
    items_served = {p: n for p, n in served.items() if p.startswith("/item/")}
    assert max(items_served.values()) == 1
    assert sum(items_served.values()) > sum(n for p, n in served_before.items() if p.startswith("/item/"))
    second_stats = json.loads(runs[1]["stats"])
    assert second_stats.get("keywatch/captures_stored", 0) == len(every) - interrupted_captures
    assert not (tmp_path / "jobs" / "resume").exists()  # a finished batch leaves no job state behind
    assert run_keywatch("verify", "--db", db_path).returncode == 0
