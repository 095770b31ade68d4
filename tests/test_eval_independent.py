"""The independent corpus: listings written by a second author, in other voices, never drawn
from the generator's phrase banks. The watchlist was tuned on it and the model trains on it, so this is an
in-sample regression gate; the honest figures are the k-fold ones and the never-tuned split (README)."""

import json
from collections import Counter
from pathlib import Path

from click.testing import CliRunner

from keywatch.cli import cli
from tests.data.check_corpus import DEVICES

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT / "tests" / "data" / "corpus_independent.jsonl"


def rows():
    return [json.loads(line) for line in CORPUS.read_text(encoding="utf-8").splitlines() if line.strip()]


def test_independent_corpus_is_big_varied_and_well_formed():
    data = rows()
    assert len(data) >= 250
    assert len({r["id"] for r in data}) == len(data)
    for r in data:
        assert set(r) == {"id", "title", "description", "category", "source", "lang", "obfuscated"}, r["id"]
        assert r["category"] in DEVICES | {"none", "ambiguous"}, r["id"]
        assert isinstance(r["obfuscated"], bool) and r["title"].strip(), r["id"]
    cats = Counter(r["category"] for r in data)
    assert all(cats[c] >= 15 for c in DEVICES), cats
    assert 0.40 <= sum(cats[c] for c in DEVICES) / len(data) <= 0.55
    assert {r["lang"] for r in data} >= {"en", "de", "fr", "es", "pl", "ro", "it", "ru"}
    assert sum(1 for r in data if r["obfuscated"] and r["category"] in DEVICES) >= 30


def test_independent_corpus_meets_the_measured_quality():
    # measured: precision 1.000, recall 0.990, category 1.000, obfuscated recall 1.000 (docs/classifier.md);
    # the margins allow about two more misses and one false flag, no more
    result = CliRunner().invoke(
        cli,
        [
            "eval",
            str(CORPUS),
            "--watchlist",
            str(ROOT / "watchlist.yaml"),
            "--min-precision",
            "0.99",
            "--min-recall",
            "0.98",
            "--min-category-accuracy",
            "0.98",
            "--min-obfuscated-recall",
            "0.95",
        ],
    )
    assert result.exit_code == 0, result.output
