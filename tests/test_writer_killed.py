"""The store pipeline's writer process killed mid-crawl (`KEYWATCH_STORE_IN_CLASSIFIER` off, as when rendering or
photos sit between classifying and storing): nothing is dropped silently. The crawl logs the death, counts every
page it could not store and fails; what was committed stays, and the store verifies. (With the classifier's process
storing, killing it is killing the writer: tests/test_classifier_worker_killed.py.)"""

import os
import signal
import subprocess
import sys
import time

import db
from demo_market import DemoMarket
from spiders.pipelines.store_writer import PROCESS_NAME
from tests.support.cli import ROOT, demo_crawl_args
from tests.test_classifier_worker_killed import OFF, captures_per_listing, run_stats, workers_named
from tests.test_crawl_killed import committed


def test_a_writer_killed_mid_crawl_fails_the_crawl_and_counts_what_it_did_not_store(tmp_path):
    path = tmp_path / "killed.sqlite"
    with DemoMarket(port=0, scale=4) as market:
        settings = ["-s", "KEYWATCH_STORE_IN_CLASSIFIER=False", "-s", "KEYWATCH_STORE_GROUP_SIZE=8"]
        command = [sys.executable, "-m", "keywatch", *demo_crawl_args(market.url, path, *OFF, *settings)]
        crawl = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        try:
            deadline, killed_at = time.monotonic() + 120, None
            while killed_at is None and time.monotonic() < deadline and crawl.poll() is None:
                if len(committed(path)) >= 50:  # killed once it has committed some groups
                    for writer in workers_named(crawl.pid, PROCESS_NAME):
                        os.kill(writer, signal.SIGKILL)
                        killed_at = len(committed(path))
                time.sleep(0.02)
            out, err = crawl.communicate(timeout=300)
        finally:
            if crawl.poll() is None:
                crawl.kill()
        assert killed_at is not None, "the writer process was never found"

    log = err.decode() + out.decode()
    assert crawl.returncode != 0, log[-3000:]
    assert "writer process has died" in log
    stored = captures_per_listing(path)
    stats = run_stats(path)
    assert stats["keywatch/items_not_stored"] > 0
    # Every page fetched is either stored, once, or counted as not stored.
    assert len(stored) >= killed_at >= 50 and set(stored.values()) == {1}
    assert stats["keywatch/items_stored"] == len(stored)
    assert stats["keywatch/items_stored"] + stats["keywatch/items_not_stored"] == len(market.listings)
    assert db.verify(db.connect(path)).ok
