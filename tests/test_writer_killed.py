"""The store pipeline's writer process killed mid-crawl (`KEYWATCH_STORE_IN_CLASSIFIER` off, as when rendering or
photos sit between classifying and storing): nothing is dropped silently. The crawl logs the death, stops (finish
reason `store_writer_died`, not "finished"), counts every page it fetched and could not store, and fails; what was
committed stays, the store verifies, and `--resume` fetches again exactly what was not stored. (With the
classifier's process storing, killing it is killing the writer: tests/test_classifier_worker_killed.py.)"""

import json
import sqlite3
import subprocess
import sys

import db
from demo_market import DemoMarket
from spiders.pipelines.store import WRITER_DIED
from spiders.pipelines.store_writer import PROCESS_NAME
from tests.support.cli import ROOT, demo_crawl_args
from tests.support.workers import crawl_killing
from tests.test_classifier_worker_killed import OFF, captures_per_listing, run_stats
from tests.test_crawl_killed import committed


def _finish_reasons(path) -> list[str]:
    with sqlite3.connect(path) as conn:
        rows = conn.execute("SELECT stats FROM crawl_runs ORDER BY id").fetchall()
    return [json.loads(stats)["finish_reason"] for (stats,) in rows]


def test_a_writer_killed_mid_crawl_stops_the_crawl_and_resume_stores_the_rest_once(tmp_path):
    path = tmp_path / "killed.sqlite"
    with DemoMarket(port=0, scale=4) as market:
        settings = ["-s", "KEYWATCH_STORE_IN_CLASSIFIER=False", "-s", "KEYWATCH_STORE_GROUP_SIZE=8"]
        command = [sys.executable, "-m", "keywatch", *demo_crawl_args(market.url, path, *OFF, *settings, "--resume")]

        def ready(pid):  # once it has committed some groups: how many captures then
            so_far = len(committed(path))
            return so_far if so_far >= 50 else None

        crawl, killed_at = crawl_killing(command, PROCESS_NAME, ready)
        assert killed_at is not None, "the writer process was never found"

        log = crawl.stderr.decode() + crawl.stdout.decode()
        assert crawl.returncode != 0, log[-3000:]
        assert "writer process has died" in log and "run the same command again to continue" in log
        assert _finish_reasons(path) == [WRITER_DIED]
        stored = captures_per_listing(path)
        stats = run_stats(path)
        assert stats["keywatch/items_not_stored"] > 0
        # Every page fetched is either stored, once, or counted as not stored.
        assert len(stored) >= killed_at >= 50 and set(stored.values()) == {1}
        assert stats["keywatch/items_stored"] == len(stored)
        assert stats["keywatch/items_stored"] + stats["keywatch/items_not_stored"] == stats["keywatch/item_pages"]
        assert db.verify(db.connect(path)).ok

        # The JOBDIR saw the pages that were not stored: resuming starts from the store instead.
        resumed = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=300)
        assert resumed.returncode == 0, resumed.stdout + resumed.stderr[-3000:]
        assert _finish_reasons(path) == [WRITER_DIED, "finished"]
        assert captures_per_listing(path) == {listing["id"]: 1 for listing in market.listings}
        assert db.verify(db.connect(path)).ok
