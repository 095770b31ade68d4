"""keywatch eval's yardstick: the plain TF-IDF baseline trained in-process, and k-fold figures side by side."""

import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from classifier import load_watchlist
from classifier.baseline import TfidfBaseline
from classifier.evaluate import read_corpus
from classifier.train import kfold_comparison
from classifier.training_config import load_config
from keywatch.cli import cli

ROOT = Path(__file__).resolve().parents[1]
DEV = ROOT / "tests" / "data" / "corpus_dev.jsonl"
INDEPENDENT = ROOT / "tests" / "data" / "corpus_independent.jsonl"


@pytest.fixture()
def small(tmp_path):
    """A watchlist (rules only) whose training config lists corpus_dev alone (one writer, so its folds split
    listings): quick to train."""
    shutil.copy(ROOT / "watchlist.yaml", tmp_path / "watchlist.yaml")
    (tmp_path / "training.yaml").write_text(f"train: [{DEV}]\nfolds: 3\nfolds_by: listing\n")
    return tmp_path


def test_the_baseline_learns_from_its_rows_alone():
    wl = load_watchlist(ROOT / "watchlist.yaml")
    rows = [r for r in read_corpus(DEV, wl.categories) if r["category"] != "ambiguous"]
    baseline = TfidfBaseline(rows, wl.categories)
    hit = baseline.classify("Keyless repeater relay box", "Two units, opens and starts the car.")
    assert hit.flagged and hit.category == "relay_attack" and hit.score >= 50
    assert not baseline.classify("Steering wheel lock", "Heavy duty, fits most cars.").flagged
    # trained on innocent listings only, it flags nothing
    innocent = [r for r in rows if r["category"] == "none"] + [dict(rows[0], category="relay_attack")]
    assert not TfidfBaseline(innocent, wl.categories).classify("Keyless repeater relay box", "").flagged


def test_eval_scores_files_with_the_baseline_and_marks_trained_on_corpora(small):
    args = ["eval", str(DEV), str(INDEPENDENT), "--watchlist", str(small / "watchlist.yaml"), "--tfidf-baseline"]
    result = CliRunner().invoke(cli, args + ["--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output[result.output.index("{") :])
    names = [r["name"] for r in data["corpora"][0]["results"]]
    assert names == ["keywatch classifier", "naive baseline", "TF-IDF baseline"]
    assert [c["in_training_set"] for c in data["corpora"]] == [True, False]
    seen, unseen = (c["results"][-1]["flagged"] for c in data["corpora"])
    assert seen["recall"] > unseen["recall"]  # in-sample on the corpus it was trained on
    text = CliRunner().invoke(cli, args + ["-q"]).output
    assert "(in the training set: in-sample for the model)" in text and "TF-IDF baseline" in text


def test_kfold_compares_the_four_on_the_same_folds(small):
    wl = load_watchlist(small / "watchlist.yaml")
    figures = kfold_comparison(load_config(small / "training.yaml"), wl)
    assert set(figures) == {"rules", "model", "combined", "baseline", "thresholds"}
    listings = {figures[k]["listings"] for k in ("rules", "model", "combined", "baseline")}
    assert listings == {sum(1 for r in read_corpus(DEV, wl.categories) if r["category"] != "ambiguous")}
    assert figures["baseline"] != figures["model"] and 0.5 < figures["baseline"]["recall"] <= 1


def test_kfold_flags_at_the_models_thresholds_when_they_are_chosen_on_a_threshold_set(small):
    """With `threshold_on`, train chooses the thresholds there (with the final model): the k-fold comparison uses
    the model's, as the figures train stores do, not thresholds chosen on its own out-of-fold predictions."""
    shutil.copy(ROOT / "watchlist.model.json", small / "watchlist.model.json")
    wl = load_watchlist(small / "watchlist.yaml")
    (small / "training.yaml").write_text(
        f"train: [{DEV}]\nthreshold_on: [{INDEPENDENT}]\nfolds: 3\nfolds_by: listing\n", encoding="utf-8"
    )
    figures = kfold_comparison(load_config(small / "training.yaml"), wl)
    assert figures["thresholds"] == [wl.model.flag_rule.threshold, wl.model.flag_rule.threshold_innocent]


def test_kfold_needs_files_or_the_flag_and_a_training_config(tmp_path):
    shutil.copy(ROOT / "watchlist.yaml", tmp_path / "watchlist.yaml")
    result = CliRunner().invoke(cli, ["eval", "--watchlist", str(tmp_path / "watchlist.yaml")])
    assert result.exit_code == 2 and "--kfold" in result.output
    result = CliRunner().invoke(cli, ["eval", "--kfold", "--watchlist", str(tmp_path / "watchlist.yaml")])
    assert result.exit_code == 1 and "need a training config" in result.output and "Traceback" not in result.output
