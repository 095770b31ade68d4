"""The classifier's process killed mid-crawl (it reads and classifies the demo's item pages, and by default commits
them too): the crawl logs it, reads and classifies the rest in its own process, counts what the dead process's last
group did commit, has its own writer store the others, and stores the same as a crawl whose worker lived, each
listing once, in a store that verifies."""

import json
import sqlite3
import subprocess
import sys
from collections import Counter

import pytest

import db
from demo_market import DemoMarket
from spiders.pipelines.classifier_worker import PROCESS_NAME
from spiders.pipelines.store_writer import PROCESS_NAME as WRITER
from tests.support.cli import ROOT, demo_crawl_args
from tests.support.workers import crawl_killing, workers_named

OFF = ["-s", "KEYWATCH_RENDER=off", "-s", "KEYWATCH_PHOTOS=0"]


def stored(path) -> dict:
    """Per listing, its capture's fields and its classification (without the times and ids of this crawl)."""
    with sqlite3.connect(path) as conn:
        rows = conn.execute(
            "SELECT l.listing_id, c.url, c.sha256, c.fields, k.flagged, k.category, k.score, k.matches "
            "FROM captures c JOIN listings l ON l.pk = c.listing_pk LEFT JOIN classifications k ON k.capture_id = c.id"
        ).fetchall()
    return {row[0]: row[1:] for row in rows}


def run_stats(path) -> dict:
    with sqlite3.connect(path) as conn:
        stats = json.loads(conn.execute("SELECT stats FROM crawl_runs ORDER BY id DESC LIMIT 1").fetchone()[0])
    return {k: v for k, v in stats.items() if k.startswith("keywatch/")}


def captures_per_listing(path) -> Counter:
    with sqlite3.connect(path) as conn:
        rows = conn.execute("SELECT l.listing_id FROM captures c JOIN listings l ON l.pk = c.listing_pk").fetchall()
    return Counter(row[0] for row in rows)


@pytest.mark.parametrize("stores", [True, False], ids=["classifier stores", "writer stores"])
def test_a_classifier_killed_mid_crawl_leaves_the_crawl_to_read_and_classify_the_rest_alike(tmp_path, stores):
    killed_path, whole_path = tmp_path / "killed.sqlite", tmp_path / "whole.sqlite"
    with DemoMarket(port=0, scale=4) as market:
        command = [sys.executable, "-m", "keywatch", *demo_crawl_args(market.url, killed_path, *OFF)]
        # Small batches and groups, so that the worker has handed back some and holds others when it is killed.
        batches = ["-s", "KEYWATCH_CLASSIFY_BATCH=8", "-s", "KEYWATCH_STORE_GROUP_SIZE=8", "-s", "LOG_LEVEL=ERROR"]
        batches += ["-s", f"KEYWATCH_STORE_IN_CLASSIFIER={stores}"]
        before: dict = {}

        def ready(pid):
            if sum(1 for _, path in market.request_log if path.startswith("/item/")) < 150:
                return None
            # One worker when it stores (no writer of the store pipeline's yet), two when it does not.
            before["writers"] = workers_named(pid, WRITER)
            return len(market.request_log)

        crawl, killed_at = crawl_killing([*command, *batches], PROCESS_NAME, ready)
        writers_before, err = before.get("writers"), crawl.stderr
        assert killed_at is not None, "the classifier's process was never found"
        assert bool(writers_before) is not stores
        assert crawl.returncode == 0, err.decode()[-3000:]
        assert "classifier's process has died" in err.decode()
        assert killed_at < len(market.request_log), "killed after the crawl's last page: the test proves nothing"

        whole = subprocess.run(
            [sys.executable, "-m", "keywatch", *demo_crawl_args(market.url, whole_path, *OFF), *batches],
            cwd=ROOT,
            capture_output=True,
            timeout=300,
        )
        assert whole.returncode == 0, whole.stderr.decode()[-3000:]

    killed, alive = stored(killed_path), stored(whole_path)
    assert set(killed) == {row["id"] for row in market.listings}
    assert set(captures_per_listing(killed_path).values()) == {1}  # nothing stored twice, nothing lost
    assert killed == alive
    assert db.verify(db.connect(killed_path)).ok
    assert run_stats(killed_path) == run_stats(whole_path)
