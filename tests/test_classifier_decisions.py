"""keywatch train --from-decisions: reviewers' confirmed and dismissed listings become training rows."""

import json
from pathlib import Path

from click.testing import CliRunner

import db
from classifier.model import load_model
from db import accounts
from db.decisions import decide
from db.training_rows import decided_listings
from keywatch.cli import cli
from tests.support.items import make_item

ROOT = Path(__file__).resolve().parents[1]

LISTINGS = {
    # listing id: (title, description, what the reviewer does)
    "1": ("Relay box keyless repeater", "Long range 2-way relay.", ("confirm", "relay_attack")),
    "2": ("Kit for keyless cars", "Two units, one by the house.", ("confirm", None)),  # the flagged category
    "3": ("Faraday pouch", "Blocks relay attacks.", ("dismiss", None)),
    "4": ("Lishi HU66 pick", "For locksmiths.", None),  # pending: teaches nothing yet
    "5": ("Xhorse condor key cutting machine", "Cuts keys.", ("escalate", None)),  # still open
}


def decided_store(path):
    store = db.connect(path)
    accounts.add_user(store, "alice", "not-a-real-hash")
    pks = {}
    for listing_id, (title, description, _) in LISTINGS.items():
        classification = {"flagged": True, "category": "relay_attack", "risk": "high", "score": 90, "matches": []}
        db.save_capture(
            store, make_item(listing_id, title=title, description=description, classification=classification)
        )
        pks[listing_id] = next(store.query("SELECT pk FROM listings WHERE listing_id = ?", [listing_id]))["pk"]
    for listing_id, (_, _, decision) in LISTINGS.items():
        if decision is None:
            continue
        action, category = decision
        details = {"category": category or "relay_attack"} if action == "confirm" else {}
        if action == "dismiss":
            details = {"reason": "false_positive"}
        decide(store, pks[listing_id], "alice", action, **details)
    # a later capture of listing 1 is the text that counts (its newest page)
    db.save_capture(
        store,
        make_item(
            "1",
            title="Relay box keyless repeater v2",
            description="Long range 2-way relay.",
            fetched_at="2026-11-29T10:00:00.000000Z",
            classification=None,
        ),
    )
    return store


def test_decided_listings_are_labelled_by_the_decision(tmp_path):
    store = decided_store(tmp_path / "s.sqlite")
    rows = decided_listings(store)
    assert [(r["id"], r["title"], r["category"]) for r in rows] == [
        ("decision:demo_market:1", "Relay box keyless repeater v2", "relay_attack"),
        ("decision:demo_market:2", "Kit for keyless cars", "relay_attack"),
        ("decision:demo_market:3", "Faraday pouch", "none"),
    ]
    # a later dismissal overrides the confirmation: the latest status-changing decision counts
    first = next(store.query("SELECT pk FROM listings WHERE listing_id = '1'"))["pk"]
    decide(store, first, "alice", "dismiss", reason="false_positive")
    assert [r["category"] for r in decided_listings(store)] == ["none", "relay_attack", "none"]


def test_train_from_decisions_adds_them_and_prints_before_and_after(tmp_path):
    decided_store(tmp_path / "s.sqlite").close()
    config = tmp_path / "training.yaml"
    config.write_text(f"train: [{ROOT}/tests/data/corpus_dev.jsonl]\nfolds: 2\nfolds_by: listing\n")
    output = tmp_path / "model.json"
    result = CliRunner().invoke(
        cli,
        [
            "train",
            "--watchlist",
            str(ROOT / "watchlist.yaml"),
            "--config",
            str(config),
            "--output",
            str(output),
            "--from-decisions",
            "--db",
            str(tmp_path / "s.sqlite"),
        ],
    )
    assert result.exit_code == 0, result.output
    assert "3 decided listings from" in result.output and "1 none, 2 relay_attack" in result.output
    assert "k-fold (combined), before -> after:" in result.output
    assert "before: rules + model" in result.output and "after: rules + model" in result.output
    model = load_model(output)
    files = model.training_info["files"]
    assert files[-1]["path"] == "(3 listings from reviewers' decisions)"
    assert model.training_info["listings"] == len(_scored(ROOT / "tests/data/corpus_dev.jsonl")) + 3


def test_train_from_decisions_with_nothing_decided_is_a_one_line_error(tmp_path):
    store = db.connect(tmp_path / "s.sqlite")
    store.close()
    result = CliRunner().invoke(
        cli,
        ["train", "--watchlist", str(ROOT / "watchlist.yaml"), "--from-decisions", "--db", str(tmp_path / "s.sqlite")],
    )
    assert result.exit_code == 1
    assert result.output.splitlines()[-1].endswith("no confirmed or dismissed listings to learn from")


def _scored(path):
    return [r for r in map(json.loads, path.read_text().splitlines()) if r["category"] != "ambiguous"]
