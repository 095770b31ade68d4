"""A regression gate on corpus_heldout.jsonl. It was held out in phase 1; the model now trains on it (training.yaml),
so these figures are in-sample. The honest figures are the k-fold ones (test_classifier_model.py) and the
never-tuned split (tests/data/*_holdout.jsonl, README)."""

import json
from pathlib import Path

from click.testing import CliRunner

from keywatch.cli import cli

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "tests" / "data"


def test_corpus_is_big_and_varied_enough():
    rows = [
        json.loads(line)
        for name in ("corpus_dev.jsonl", "corpus_heldout.jsonl")
        for line in (DATA / name).read_text(encoding="utf-8").splitlines()
        if line.strip()
    ]
    assert len(rows) >= 600
    innocent = [r for r in rows if r["category"] == "none"]
    assert len(innocent) >= 0.25 * len(rows)
    assert sum(1 for r in rows if r["obfuscated"] and r["category"] not in ("none", "ambiguous")) >= 60
    assert {r["lang"] for r in rows} >= {"en", "de", "fr", "es", "pl", "ro"}
    assert any(r["category"] == "ambiguous" for r in rows)
    assert {r["source"] for r in rows} >= {"ebay", "amazon", "aliexpress", "gumtree", "facebook", "shop"}
    assert len({r["id"] for r in rows}) == len(rows)


def test_heldout_meets_the_targets():
    result = CliRunner().invoke(
        cli,
        [
            "eval",
            str(DATA / "corpus_heldout.jsonl"),
            "--watchlist",
            str(ROOT / "watchlist.yaml"),
            "--min-precision",
            "0.97",
            "--min-recall",
            "0.95",
            "--min-category-accuracy",
            "0.95",
            "--min-obfuscated-recall",
            "0.90",
        ],
    )
    assert result.exit_code == 0, result.output
