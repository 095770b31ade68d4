"""marketplaces.yaml loading, the crawl lock and the resumable job state of `keywatch crawl --all`."""

import subprocess
import sys
import textwrap

import pytest

from common.yamlfile import ConfigError
from keywatch.crawl_lock import CrawlLock, LockHeld
from keywatch.job_state import JobState
from keywatch.marketplaces import load_config


def write(tmp_path, text):
    path = tmp_path / "marketplaces.yaml"
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def test_shipped_config_lists_the_marketplaces_with_webshop_disabled():
    from tests.support.cli import ROOT

    jobs = load_config(ROOT / "marketplaces.yaml")
    enabled = {job.spider: job.enabled for job in jobs}
    assert enabled == {
        "ebay_uk": True,
        "amazon_uk": True,
        "gumtree": True,
        "aliexpress": True,
        "webshop": False,
        "dhgate": True,
        "telegram": False,  # until its channels are named
    }
    assert all(job.args.get("max_pages") for job in jobs if job.enabled)


def test_args_and_settings_become_strings(tmp_path):
    path = write(
        tmp_path,
        """\
        marketplaces:
          - spider: demo_market
            args: {base_url: "http://127.0.0.1:9", max_pages: 2, queries: [relay box, key programmer], seed: ""}
            settings: {DOWNLOAD_DELAY: 0.5, ROBOTSTXT_OBEY: true}
          - spider: webshop
            enabled: false
        """,
    )
    demo, shop = load_config(path)
    assert demo.args == {"base_url": "http://127.0.0.1:9", "max_pages": "2", "queries": "relay box,key programmer"}
    assert demo.settings == {"DOWNLOAD_DELAY": "0.5", "ROBOTSTXT_OBEY": "true"}
    assert demo.enabled and not shop.enabled


@pytest.mark.parametrize(
    "text, message",
    [
        ("marketplaces: [\n  {spider: a\n", "marketplaces.yaml:3: not valid YAML"),
        ("spiders: []\n", "expected a top-level 'marketplaces:' list"),
        (
            "marketplaces:\n  - spider: ebay_uk\n  - spider: gumtree\n    pages: 3\n",
            "marketplaces.yaml:3: unknown key 'pages'",
        ),
        (
            "marketplaces:\n  - spider: ebay_uk\n    enabled: yes please\n",
            "marketplaces.yaml:2: 'enabled:' must be true or false",
        ),
        ("marketplaces:\n  - spider: ebay_uk\n  - spider: ebay_uk\n", "marketplaces.yaml:3: ebay_uk is listed twice"),
        ("marketplaces:\n  - spider: webshop\n", "webshop is enabled but has no args.start_url"),
        ("marketplaces:\n  - spider: ebay_uk\n    enabled: false\n", "no marketplace is enabled"),
        ("marketplaces:\n  - enabled: true\n", "'spider:' must name a spider"),
        (
            "marketplaces:\n  - spider: ebay_uk\n    args: {queries: [{a: 1}]}\n",
            "args.queries: expected a single value",
        ),
        # A list where a mapping belongs was an AttributeError with a traceback.
        ("marketplaces:\n  - spider: ebay_uk\n    args: [max_pages, 2]\n", "marketplaces.yaml:2: 'args:' and"),
        ("marketplaces:\n  - spider: ebay_uk\n    settings: [DOWNLOAD_DELAY]\n", "marketplaces.yaml:2: 'args:' and"),
    ],
)
def test_bad_config_names_file_line_and_problem(tmp_path, text, message):
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as error:
        load_config(path)
    assert message in str(error.value)
    assert "\n" not in str(error.value)


def test_missing_config_file(tmp_path):
    with pytest.raises(ConfigError, match="no such file"):
        load_config(tmp_path / "nope.yaml")


def test_lock_refuses_a_second_holder_and_is_released(tmp_path):
    db_path = tmp_path / "store.sqlite"
    with CrawlLock(db_path) as lock:
        assert "pid" in lock.path.read_text()
        # A separate process sees the lock (flock is per open file, across processes).
        code = textwrap.dedent(f"""
            from keywatch.crawl_lock import CrawlLock, LockHeld
            try:
                CrawlLock({str(db_path)!r}).__enter__()
            except LockHeld as error:
                print("held:", error)
        """)
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
        assert out.startswith("held: another crawl is running on this database (pid ")
        with pytest.raises(LockHeld):
            CrawlLock(db_path).__enter__()
    with CrawlLock(db_path):
        pass  # released on exit: it can be taken again


def test_job_state_resume_skips_done_spiders_and_fresh_run_starts_over(tmp_path):
    db_path = tmp_path / "store.sqlite"
    state = JobState(db_path)
    assert state.begin(resume=True) is False  # nothing to resume: a fresh batch
    batch = state.batch["batch"]
    state.jobdir("a").mkdir(parents=True)
    state.jobdir("b").mkdir(parents=True)
    state.record("a", 1, finished=True)
    state.record("b", 2, finished=False)
    assert not state.jobdir("a").exists() and state.jobdir("b").exists()

    again = JobState(db_path)
    assert again.begin(resume=True) is True
    assert again.batch["batch"] == batch and again.is_done("a") and not again.is_done("b")
    assert again.jobdir("b").exists()

    fresh = JobState(db_path)
    assert fresh.begin(resume=False) is False
    assert fresh.batch["done"] == {} and not fresh.jobdir("b").exists()


def test_shipped_config_names_only_existing_spiders():
    from scrapy.spiderloader import SpiderLoader

    from keywatch.crawling import project_settings
    from tests.support.cli import ROOT

    known = SpiderLoader.from_settings(project_settings(ROOT / "unused.sqlite", ROOT / "watchlist.yaml")).list()
    assert {job.spider for job in load_config(ROOT / "marketplaces.yaml")} <= set(known)
