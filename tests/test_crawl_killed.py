"""A crawl killed with SIGKILL mid-write leaves a consistent store: verify passes, nothing committed is lost."""

import os
import signal
import sqlite3
import subprocess
import sys
import time

import db
from demo_market import DemoMarket
from tests.support.cli import ROOT


def captures_committed(path) -> int:
    try:
        with sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=5) as conn:
            return conn.execute("SELECT count(*) FROM captures").fetchone()[0]
    except sqlite3.OperationalError:
        return 0  # not created yet


def test_sigkill_mid_crawl_then_verify_passes_and_committed_captures_remain(tmp_path):
    path = tmp_path / "killed.sqlite"
    with DemoMarket(port=0, scale=6) as market:
        crawl = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "keywatch",
                "crawl",
                "demo_market",
                "-a",
                f"base_url={market.url}",
                "-a",
                "mode=all",
                "--db",
                str(path),
                "-s",
                "LOG_LEVEL=ERROR",
            ],
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            deadline = time.monotonic() + 60
            while captures_committed(path) < 150 and time.monotonic() < deadline and crawl.poll() is None:
                time.sleep(0.05)
            seen_before_kill = captures_committed(path)
            os.kill(crawl.pid, signal.SIGKILL)
            crawl.wait(timeout=10)
        finally:
            if crawl.poll() is None:
                crawl.kill()
    assert crawl.returncode == -signal.SIGKILL
    assert seen_before_kill >= 150, "the crawl should have been killed mid-way, with captures committed"

    store = db.connect(path)
    result = db.verify(store)
    assert result.ok, result
    after = store.execute("SELECT count(*) FROM captures").fetchone()[0]
    assert after >= seen_before_kill
    assert after < len(market.listings), "killed before the end, or the test proves nothing"
    # Every committed capture is whole: body present and hashing to its SHA-256 (verify re-hashes them all).
    missing = store.execute(
        "SELECT count(*) FROM captures c LEFT JOIN bodies b ON b.sha256 = c.sha256 WHERE b.sha256 IS NULL"
    ).fetchone()[0]
    assert missing == 0
