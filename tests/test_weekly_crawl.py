"""`keywatch crawl --all`: the weekly job run for real against the demo marketplace, in subprocesses.

A healthy run exits 0 and reports what it did; the same crawl after the site "changes its markup" exits 2 and
says which spider looks broken and why; a second run while one holds the lock exits 1.
"""

import json
import re
import subprocess
import sys
import time

import pytest

import db
from demo_market import DemoMarket
from keywatch.weekly_report import EXIT_BROKEN, EXIT_OK
from tests.support.cli import ROOT, run_keywatch


@pytest.fixture(scope="module")
def market():
    with DemoMarket(port=0) as m:
        yield m


def write_config(tmp_path, market, **args):
    args = {"base_url": market.url, **args}
    lines = ["marketplaces:", "  - spider: demo_market", "    args:"]
    lines += [f"      {k}: {json.dumps(v)}" for k, v in args.items()]
    lines += ["  - spider: webshop", "    enabled: false"]
    path = tmp_path / "marketplaces.yaml"
    path.write_text("\n".join(lines) + "\n")
    return path


def crawl_all(config, db_path, *extra, check=False):
    return run_keywatch(
        "crawl", "--all", "--config", config, "--db", db_path, "-s", "LOG_LEVEL=WARNING", *extra, check=check
    )


def test_weekly_run_reports_then_fails_loudly_when_the_site_changes(market, tmp_path):
    config = write_config(tmp_path, market, mode="all")
    db_path = tmp_path / "weekly.sqlite"
    market.set_layout("normal")

    first = crawl_all(config, db_path)
    assert first.returncode == EXIT_OK, first.stdout + first.stderr
    out = first.stdout
    assert "No problems found." in out and "disabled: webshop" in out
    store = db.connect(db_path)
    head = db.chain_head(store)
    assert f"Evidence chain head: {head}" in out
    [run] = list(store.query("SELECT * FROM crawl_runs"))
    assert run["spider"] == "demo_market" and run["finish_reason"] == "finished"
    [report_file] = (tmp_path / "reports").glob("crawl-*.json")
    report = json.loads(report_file.read_text())
    [spider] = report["spiders"]
    counts = spider["counts"]
    listings = len(market.listings)
    assert spider["run_id"] == run["id"] and spider["finish_reason"] == "finished" and report["exit_code"] == 0
    assert counts["cards"] == listings == counts["fetched"]
    # Every fetched item page is stored, the catalogue's one malformed page too (as a counted parse error).
    pages = {k: v for k, v in counts["captures_stored"].items() if not k.startswith("attachment:")}
    assert pages == {"all": counts["fetched"]} and counts["items"] >= listings - 1
    assert counts["captures_stored"]["attachment:photo"] >= counts["fetched"]  # the report counts photos too
    assert counts["listing_pages"]["fetched"] == counts["listing_pages"]["stored"] == counts["fetched"]
    assert counts["responses_by_status"]["200"] == counts["requests"]
    assert counts["hits"] == counts["flagged_listings_stored"] > 0
    # The summary row carries the same numbers.
    row = next(line for line in out.splitlines() if line.strip().startswith("demo_market"))
    assert re.search(rf"\bfinished\s+{counts['requests']}\s+200:{counts['requests']}\s+{listings}\s+{listings}\b", row)
    # The lock was released and the job state cleaned up after a complete run.
    assert not (tmp_path / "jobs" / "weekly" / "batch.json").exists()

    market.set_layout("broken")  # item pages lose their markup: nothing parses any more
    try:
        second = crawl_all(config, db_path)
    finally:
        market.set_layout("normal")
    assert second.returncode == EXIT_BROKEN, second.stdout + second.stderr
    # The pages are still stored (as evidence of what the site served), and the spider is reported broken.
    assert re.search(r"BROKEN: demo_market: price missing on (\d+) of \1 listings \(100%, 1% in run 1\)", second.stdout)
    assert re.search(r"BROKEN: demo_market: \d+ pages failed to parse, only \d+ parsed", second.stdout)

    market.set_layout("broken-search")  # result cards lose their markup: nothing found at all
    try:
        third = crawl_all(config, db_path)
    finally:
        market.set_layout("normal")
    assert third.returncode == EXIT_BROKEN
    assert re.search(r"BROKEN: demo_market: no search results, where run 2 screened \d+", third.stdout)
    assert len(list((tmp_path / "reports").glob("crawl-*.json"))) == 3


def cli(*args):
    """The CLI in this process: fine for errors raised before any crawl starts (no reactor involved)."""
    from click.testing import CliRunner

    from keywatch.cli import cli as keywatch_cli

    return CliRunner().invoke(keywatch_cli, [str(a) for a in args])


def test_second_run_exits_1_while_the_first_holds_the_lock(market, tmp_path):
    config = write_config(tmp_path, market, mode="all")
    db_path = tmp_path / "locked.sqlite"
    # The holder is another process: flock locks belong to open files, across processes.
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, time; from keywatch.crawl_lock import CrawlLock\n"
            f"with CrawlLock({str(db_path)!r}):\n    print('locked', flush=True); time.sleep(60)",
        ],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "locked"
        started = time.monotonic()
        result = cli("crawl", "--all", "--config", config, "--db", db_path)
        assert result.exit_code == 1
        assert result.output.strip().startswith("Error: another crawl is running on this database (pid ")
        assert len(result.output.strip().splitlines()) == 1 and time.monotonic() - started < 30
        assert not db_path.exists()  # refused before touching the store
        assert cli("crawl", "demo_market", "--db", db_path).exit_code == 1  # a single crawl waits its turn too
    finally:
        holder.kill()
        holder.wait()


@pytest.mark.parametrize(
    "args, message",
    [
        ((), "give one SPIDER to crawl, or --all"),
        (("demo_market", "--all"), "give one SPIDER to crawl, or --all"),
        (("--all", "-a", "x=1"), "spider arguments come from the config file"),
        (("demo_market", "--config", "x.yaml"), "--config is only used with --all"),
        (("--all", "--config", "missing.yaml"), "missing.yaml: no such file"),
        (("no_such_spider",), "unknown spider 'no_such_spider'"),
        (("demo_market", "-s", "ITEM_PIPELINES={oops"), "-s setting ITEM_PIPELINES: not a value Scrapy can read"),
        (("demo_market", "-s", "no_equals_sign"), "-s expects NAME=VALUE"),
    ],
)
def test_crawl_usage_errors_are_one_line(tmp_path, args, message):
    result = cli("crawl", *args, "--db", tmp_path / "x.sqlite")
    assert result.exit_code == 1 and message in result.output
    assert result.output.startswith("Error: ") and len(result.output.strip().splitlines()) == 1


def test_unknown_spider_in_config_is_a_user_error(tmp_path):
    config = tmp_path / "m.yaml"
    config.write_text("marketplaces:\n  - spider: no_such_spider\n")
    result = cli("crawl", "--all", "--config", config, "--db", tmp_path / "x.sqlite")
    assert result.exit_code == 1 and "unknown spider 'no_such_spider'" in result.output
