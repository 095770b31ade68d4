"""A real crawl of the demo marketplace into a temporary store: the whole path, checked against the catalogue."""

import pytest

import db
from tests.support.cli import run_keywatch
from tests.support.demo_catalogue import KNOWN_FALSE_FLAGS


def catalogue_devices(market):
    return {
        entry["id"]: entry["category"]
        for entry in market.listings
        if entry["category"] != "none" and not entry.get("malformed")
    }


def expected_hits(market):
    """What a crawl of the demo flags: the catalogue's devices and the known false flags."""
    return catalogue_devices(market) | KNOWN_FALSE_FLAGS


@pytest.mark.parametrize("read_in_worker", ["True", "False"], ids=["read in the classifier", "read in the crawl"])
def test_crawl_flags_exactly_the_catalogue_devices(demo_market, tmp_path, read_in_worker):
    db_path = tmp_path / "e2e.sqlite"
    proc = run_keywatch(
        "crawl",
        "demo_market",
        "-a",
        f"base_url={demo_market.url}",
        "-a",
        "mode=all",
        "--db",
        db_path,
        "-s",
        "LOG_LEVEL=WARNING",
        "-s",
        f"KEYWATCH_READ_IN_WORKER={read_in_worker}",
    )
    assert "finished" in proc.stdout

    store = db.connect(db_path)
    hits = {row["listing_id"]: row["category"] for row in db.hits(store)}
    assert hits == expected_hits(demo_market)

    # Every catalogue item page was captured once (the malformed one too), with its hash, time and URL.
    captured = {row["listing_id"] for row in store.query("select listing_id from listings")}
    assert captured == {e["id"] for e in demo_market.listings}
    n = len(demo_market.listings)
    assert f"listing pages:    {n} fetched = {n} stored" in proc.stdout and "1 parse errors" in proc.stdout
    for capture in store.query("select sha256, fetched_at, url from captures"):
        assert len(capture["sha256"]) == 64 and capture["fetched_at"].endswith(("Z", "+00:00")) and capture["url"]


def test_recrawl_adds_captures_and_never_overwrites(demo_market, tmp_path):
    db_path = tmp_path / "twice.sqlite"
    args = (
        "crawl",
        "demo_market",
        "-a",
        f"base_url={demo_market.url}",
        "-a",
        "mode=all",
        "--db",
        db_path,
        "-s",
        "LOG_LEVEL=WARNING",
    )
    run_keywatch(*args)
    store = db.connect(db_path)
    first = [dict(r) for r in store.query("select id, sha256, fetched_at from captures order by id")]
    store.close()
    run_keywatch(*args)
    store = db.connect(db_path)
    second = [dict(r) for r in store.query("select id, sha256, fetched_at from captures order by id")]
    assert second[: len(first)] == first
    assert len(second) == 2 * len(first)


def test_demo_command_prints_summary(tmp_path):
    proc = run_keywatch("demo", "--db", tmp_path / "demo.sqlite", timeout=120)
    out = proc.stdout
    for expected in (
        "pages fetched:",
        "listings seen:",
        "hits:",
        "by category",
        "by risk",
        "chain head:",
        str(tmp_path / "demo.sqlite"),
        "keywatch serve",
    ):
        assert expected in out, expected


def test_demo_refuses_to_run_while_another_crawl_holds_the_store(tmp_path):
    from keywatch.crawl_lock import CrawlLock

    db_path = tmp_path / "busy.sqlite"
    with CrawlLock(db_path):
        proc = run_keywatch("demo", "--db", db_path, check=False, timeout=120)
    assert proc.returncode == 1
    assert "another crawl is running" in proc.stderr and "Traceback" not in proc.stderr
