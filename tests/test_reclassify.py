"""keywatch reclassify: every stored capture re-scored with the current watchlist, changes reported."""

import json
import shutil
from pathlib import Path

from click.testing import CliRunner

import db
from classifier import load_watchlist
from classifier.model import content_version
from classifier.version import __version__
from keywatch.cli import cli
from tests.support.items import make_item

STALE = {
    "flagged": True,
    "category": "relay_attack",
    "risk": "high",
    "score": 90.0,
    "matches": [],
    "watchlist_version": "old-watchlist",
}


def store_with_stale_scores(path):
    store = db.connect(path)
    db.save_capture(store, make_item("1", classification=STALE))  # a relay box: still flagged
    db.save_capture(
        store,
        make_item(
            "2",
            title="Faraday pouch, blocks relay attacks on keyless cars",
            description="Signal blocking bag for car keys.",
            classification=STALE,
        ),
    )
    db.save_capture(
        store,
        make_item(
            "3",
            title="Lishi HU66 2-in-1 pick decoder",
            description="",
            classification={**STALE, "flagged": False, "category": None},
        ),
    )
    store.close()


def run(*args):
    return CliRunner().invoke(cli, ["reclassify", *map(str, args)])


def test_reclassify_appends_new_scores_and_reports_changes(tmp_path):
    path = tmp_path / "s.sqlite"
    store_with_stale_scores(path)
    result = run("--db", path)
    assert result.exit_code == 0, result.output
    assert "3 scored" in result.output
    assert "1 newly flagged" in result.output and "1 no longer flagged" in result.output
    assert "demo_market:2: relay_attack -> not flagged" in result.output
    assert "demo_market:3: not flagged -> mechanical_entry" in result.output

    store = db.connect(path)
    rows = [
        dict(r) for r in store.query("select capture_id, flagged, watchlist_version from classifications order by id")
    ]
    assert len(rows) == 6 and rows[:3] == [
        {"capture_id": i, "flagged": f, "watchlist_version": "old-watchlist"} for i, f in ((1, 1), (2, 1), (3, 0))
    ]
    assert {r["watchlist_version"] for r in rows[3:]} != {"old-watchlist"}
    flagged = {r["listing_id"] for r in db.hits(store)}
    assert flagged == {"1", "3"}
    assert db.verify(store).ok

    again = run("--db", path)
    assert "0 scored, 3 skipped" in again.output


def test_dry_run_records_nothing(tmp_path):
    path = tmp_path / "s.sqlite"
    store_with_stale_scores(path)
    result = run("--db", path, "--dry-run")
    assert result.exit_code == 0 and "Would re-score" in result.output and "1 no longer flagged" in result.output
    store = db.connect(path)
    assert store.execute("select count(*) from classifications").fetchone()[0] == 3


def test_missing_store_is_a_one_line_error(tmp_path):
    result = run("--db", tmp_path / "nope.sqlite")
    assert result.exit_code == 1 and "no evidence store" in result.output
    assert not (tmp_path / "nope.sqlite").exists()


def test_reclassify_records_the_model_and_rescores_when_the_model_changes(tmp_path):
    root = Path(__file__).resolve().parents[1]
    shutil.copy(root / "watchlist.yaml", tmp_path / "watchlist.yaml")
    data = json.loads((root / "watchlist.model.json").read_text())
    (tmp_path / "watchlist.model.json").write_text(json.dumps(data))
    path = tmp_path / "s.sqlite"
    store_with_stale_scores(path)

    def versions():
        store = db.connect(path)
        rows = [r["classifier_version"] for r in store.query("SELECT classifier_version FROM classifications")]
        ok = db.verify(store).ok
        store.close()
        return rows, ok

    assert "3 scored" in run("--db", path, "--watchlist", tmp_path / "watchlist.yaml").output
    model = load_watchlist(tmp_path / "watchlist.yaml").model
    expected = f"{__version__}+model.{model.version}.train.{model.training_set}"
    rows, ok = versions()
    assert rows[3:] == [expected] * 3 and ok  # chained with the classification

    # a retrained model (same watchlist): every capture is re-scored and the new model recorded
    data["threshold"] = 0.5
    data["version"] = content_version(data)
    (tmp_path / "watchlist.model.json").write_text(json.dumps(data))
    again = run("--db", path, "--watchlist", tmp_path / "watchlist.yaml")
    assert "3 scored, 0 skipped" in again.output, again.output
    rows, ok = versions()
    assert rows[6:] == [f"{__version__}+model.{data['version']}.train.{model.training_set}"] * 3 and ok


def test_a_run_scores_the_captures_stored_when_it_started_not_those_a_crawl_adds_meanwhile(tmp_path, monkeypatch):
    from keywatch.commands import classify as classify_command

    path = tmp_path / "s.sqlite"
    store_with_stale_scores(path)
    monkeypatch.setattr(classify_command, "RECLASSIFY_BATCH", 1)
    scored = classify_command.classify_many
    crawl = db.connect(path)

    def scoring_while_a_crawl_stores(listings, wl):
        stored = crawl.execute("SELECT count(*) FROM captures").fetchone()[0]
        if stored < 10:
            db.save_capture(crawl, make_item(f"new{stored}"))
        return scored(listings, wl)

    monkeypatch.setattr(classify_command, "classify_many", scoring_while_a_crawl_stores)
    result = run("--db", path)
    assert result.exit_code == 0, result.output
    assert "3 scored" in result.output  # not the crawl's captures, which chasing would have scored (10)
