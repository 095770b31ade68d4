"""Deploying keywatch to a real Scrapyd on 127.0.0.1 with scrapyd-client, then running the demo crawl there.

This is the path docs/operations.md describes for teams that crawl on a separate host: a copy of the project as
checked out (scrapy.cfg, pyproject.toml, the packages), `scrapyd-deploy TARGET`, then schedule.json with the
database and the watchlist passed as settings (absolute paths: the egg carries no watchlist.yaml).
"""

import json
import shutil
import socket
import subprocess
import sys
import time
import urllib.parse
import urllib.request
import zipfile
from pathlib import Path

import pytest

import db
from demo_market import DemoMarket
from tests.support.cli import ROOT
from tests.support.project import top_level_packages

VENV_BIN = Path(sys.executable).parent
pytestmark = pytest.mark.skipif(
    not (VENV_BIN / "scrapyd").exists() or not (VENV_BIN / "scrapyd-deploy").exists(),
    reason="scrapyd / scrapyd-client not installed (pip install -e '.[test]')",
)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def api(base, endpoint, data=None):
    body = urllib.parse.urlencode(data, doseq=True).encode() if data is not None else None
    with urllib.request.urlopen(f"{base}/{endpoint}", data=body, timeout=30) as response:
        return json.loads(response.read())


@pytest.fixture
def scrapyd(tmp_path):
    home = tmp_path / "scrapyd"
    home.mkdir()
    port = free_port()
    (home / "scrapyd.conf").write_text(
        "[scrapyd]\n"
        f"bind_address = 127.0.0.1\nhttp_port = {port}\n"
        "eggs_dir = eggs\nlogs_dir = logs\ndbs_dir = dbs\nitems_dir =\n"
        "poll_interval = 0.5\nmax_proc = 2\n"
    )
    log = open(home / "scrapyd.out", "w")
    proc = subprocess.Popen(
        [str(VENV_BIN / "scrapyd"), "--pidfile", str(home / "twistd.pid")],
        cwd=home,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):
            try:
                if api(base, "daemonstatus.json")["status"] == "ok":
                    break
            except OSError:
                time.sleep(0.2)
        else:
            pytest.fail("scrapyd did not start:\n" + (home / "scrapyd.out").read_text())
        yield base, home
    finally:
        proc.terminate()
        proc.wait(timeout=30)
        log.close()


def project_checkout(target: Path, scrapyd_url: str) -> Path:
    """A copy of the project as a user would deploy it: scrapy.cfg, pyproject.toml and the listed packages."""
    target.mkdir()
    for name in ("pyproject.toml", "README.md", "LICENSE"):
        if (ROOT / name).exists():
            shutil.copy(ROOT / name, target / name)
    for package in top_level_packages():
        shutil.copytree(ROOT / package, target / package, ignore=shutil.ignore_patterns("__pycache__"))
    cfg = (ROOT / "scrapy.cfg").read_text()
    (target / "scrapy.cfg").write_text(cfg + f"\n[deploy:test]\nurl = {scrapyd_url}/\nproject = keywatch\n")
    return target


def test_deploy_schedule_and_crawl_demo_on_scrapyd(scrapyd, tmp_path):
    base, home = scrapyd
    checkout = project_checkout(tmp_path / "checkout", base)

    egg = tmp_path / "keywatch.egg"
    built = subprocess.run(
        [str(VENV_BIN / "scrapyd-deploy"), "--build-egg", str(egg)],
        cwd=checkout,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert built.returncode == 0, built.stderr[-3000:]
    with zipfile.ZipFile(egg) as z:
        names = set(z.namelist())
        entry_points = z.read("EGG-INFO/entry_points.txt").decode() if "EGG-INFO/entry_points.txt" in names else ""
    assert "spiders/spiders/demo_market.py" in names and "demo_market/catalogue.jsonl" in names
    assert "[scrapy]" in entry_points and "settings = spiders.settings" in entry_points, (
        "the egg has no scrapy settings entry point, so Scrapyd cannot load the project: pyproject.toml needs\n"
        '[project.entry-points.scrapy]\nsettings = "spiders.settings"'
    )

    deployed = subprocess.run(
        [str(VENV_BIN / "scrapyd-deploy"), "test", "-v", "r1"],
        cwd=checkout,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert deployed.returncode == 0, deployed.stdout + deployed.stderr
    assert '"status": "ok"' in deployed.stdout + deployed.stderr
    assert "demo_market" in api(base, "listspiders.json?project=keywatch")["spiders"]

    db_path = tmp_path / "scrapyd-run.sqlite"
    with DemoMarket(port=0) as market:
        job = api(
            base,
            "schedule.json",
            {
                "project": "keywatch",
                "spider": "demo_market",
                "base_url": market.url,
                "mode": "all",
                # The egg has no watchlist.yaml and the job runs in Scrapyd's own directory: absolute paths.
                "setting": [
                    f"KEYWATCH_DB={db_path}",
                    f"KEYWATCH_WATCHLIST={ROOT / 'watchlist.yaml'}",
                    "LOG_LEVEL=INFO",
                ],
            },
        )
        assert job["status"] == "ok", job
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            jobs = api(base, "listjobs.json?project=keywatch")
            if any(j["id"] == job["jobid"] for j in jobs["finished"]):
                break
            time.sleep(0.5)
        else:
            pytest.fail(f"job did not finish: {jobs}")
        served = market.requests

    [log_file] = (home / "logs" / "keywatch" / "demo_market").glob(f"{job['jobid']}.log")
    log = log_file.read_text()
    assert "'finish_reason': 'finished'" in log, log[-3000:]
    store = db.connect(db_path)
    [run] = list(store.query("SELECT * FROM crawl_runs"))
    assert run["spider"] == "demo_market" and run["finish_reason"] == "finished"
    captures = next(store.query("SELECT count(*) AS n FROM captures"))["n"]
    assert captures >= len(market.listings) - 1  # every item page, bar the catalogue's one malformed page
    assert json.loads(run["stats"])["downloader/response_count"] == served
    assert len(db.chain_head(store)) == 64
