"""The learned layer: a data file rebuilt exactly from its config, probabilities, and exact explanations."""

import importlib
import json
import pickletools
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from classifier import classifier_version, classify, load_watchlist, model
from classifier.model import load_model, model_path_for, model_text
from classifier.rules import MAX_FIELD_CHARS
from classifier.training_config import load_config
from keywatch.cli import cli
from tests.support.compiled import source_classifier
from tests.support.corpora import SEALED

ROOT = Path(__file__).resolve().parents[1]
WATCHLIST = ROOT / "watchlist.yaml"


@pytest.fixture(scope="module")
def wl():
    return load_watchlist(WATCHLIST)


def run(args, stdin=None):
    return CliRunner().invoke(cli, args, input=stdin)


@pytest.mark.starts_first  # about three minutes: the training set, its k-fold and the final fit
def test_the_committed_model_is_what_the_training_config_rebuilds():
    result = run(["train", "--watchlist", str(WATCHLIST), "--check"])
    assert result.exit_code == 0, result.output
    assert "watchlist.model.json: OK" in result.output


def test_check_fails_for_a_model_trained_on_other_corpora(tmp_path):
    config = tmp_path / "training.yaml"
    config.write_text(
        f"train: [{ROOT}/tests/data/corpus_dev.jsonl]\nthreshold_on: {ROOT}/tests/data/corpus_heldout.jsonl\n"
        "folds_by: listing\n"
    )
    result = run(["train", "--watchlist", str(WATCHLIST), "--config", str(config), "--check"])
    assert result.exit_code == 1 and result.output.splitlines()[-1] == (
        f"Error: {model_path_for(WATCHLIST)} is not what the training config rebuilds (run: keywatch train)"
    )


def test_the_model_is_json_data_that_says_where_it_came_from(wl):
    raw = model_path_for(WATCHLIST).read_bytes()
    assert raw[:1] == b"{" and not raw.startswith(b"\x80")  # JSON, not a pickle
    with pytest.raises(ValueError):
        list(pickletools.genops(raw))
    data = json.loads(raw)
    config = load_config(ROOT / "training.yaml")
    assert [f["path"] for f in data["training_set"]["files"]] == [p.relative_to(ROOT).as_posix() for p in config.train]
    trained = [f["path"] for f in data["training_set"]["files"]]
    # Phase 9 (written_m, written_n: scored once by model 7, in aggregate) is the threshold set since model 8, so
    # never trained on; phase 19 (tests/support/corpora.SEALED) is model 18's never-tuned split, in no list.
    # Phases 4 to 8, 10 and 11 (written_d, real_titles_3, written_e, written_f, real_titles_4, written_i, written_j,
    # real_titles_5, written_k, written_l, written_o, written_p, written_s, written_t) were scored in aggregate
    # first, then joined the training set (phase 11 with model 10, phase 12 with model 11, phase 13 with model 13,
    # phase 14 with model 14, phase 15 with model 15, phase 16 with model 16, phase 17 with model 17, phase 18 with
    # model 18).
    dev = ["tests/data/written_m.jsonl", "tests/data/written_n.jsonl"]
    assert [p.relative_to(ROOT).as_posix() for p in config.threshold_on] == dev
    assert [f["path"] for f in data["threshold_set"]["files"]] == dev
    assert set(data["threshold_set"]["figures"]) == {"rules", "model", "combined"}
    never_tuned = [Path(name).stem for name in SEALED]
    assert never_tuned
    listed = [p.name for p in config.train + config.threshold_on] + trained + data["threshold_set"]["path"].split(", ")
    assert not [p for p in listed if any(name in p for name in never_tuned)]
    assert not [p for p in config.threshold_on if p.stem in ("written_s", "written_t")]  # phase 11 is training data
    assert not [p for p in trained if any(name in p for name in ("written_m", "written_n"))]
    assert data["training_set"]["watchlist_version"] == wl.version
    assert len(data["weights"]) == len(data["classes"]) == len(wl.categories) + 1
    assert set(data["kfold"]) == {"rules", "model", "combined"}
    assert data["settings"]["near_duplicate"] and "rule_features" not in data  # the rules are not features
    assert {"description_only_recall", "obfuscated_recall", "languages"} <= set(data["kfold"]["combined"])
    assert {"lt", "lv", "cs", "hu", "pt", "tr", "uk", "sv"} <= set(data["kfold"]["combined"]["languages"])


def test_a_hand_edited_model_is_refused_in_one_line(tmp_path):
    shutil.copy(WATCHLIST, tmp_path / "watchlist.yaml")
    data = json.loads(model_path_for(WATCHLIST).read_text())
    data["threshold"] = 0.01
    (tmp_path / "watchlist.model.json").write_text(json.dumps(data))
    result = run(
        ["classify", "--watchlist", str(tmp_path / "watchlist.yaml")], '{"id": 1, "title": "x", "description": ""}\n'
    )
    assert result.exit_code == 1
    assert (
        result.output == f"Error: {tmp_path / 'watchlist.model.json'}: "
        "the model's content does not match its version (edited by hand?)\n"
    )
    (tmp_path / "watchlist.model.json").write_bytes(b"\x80\x04garbage")
    result = run(["classify", "--watchlist", str(tmp_path / "watchlist.yaml")], "")
    assert result.exit_code == 1 and "not a keywatch model" in result.output and "Traceback" not in result.output


def test_the_model_file_is_checked_on_its_text_and_any_layout_of_the_same_content_loads(tmp_path, monkeypatch):
    """train writes the canonical text its version hashes, so loading checks the version on the text as read; the
    same content laid out otherwise (indented, by hand or an older train) is checked the slow way and loads too."""
    text = model_path_for(WATCHLIST).read_text(encoding="utf-8")
    data = json.loads(text)
    assert model_text(data) == text and model._text_has_version(text, data["version"])
    # in the Python source: compiled (setup.py), load_model calls content_version directly, past any patch
    with source_classifier():
        source = importlib.import_module("classifier.model")
        monkeypatch.setattr(source, "content_version", lambda _data: pytest.fail("the slow check ran on train's text"))
        assert source.load_model(model_path_for(WATCHLIST)).version == data["version"]
        monkeypatch.undo()
    indented = tmp_path / "indented.model.json"
    indented.write_text(json.dumps(data, indent=1, ensure_ascii=False), encoding="utf-8")
    assert not model._text_has_version(indented.read_text(encoding="utf-8"), data["version"])
    assert load_model(indented).version == data["version"]


def test_without_a_model_file_the_rules_decide_alone(tmp_path):
    shutil.copy(WATCHLIST, tmp_path / "watchlist.yaml")
    alone = load_watchlist(tmp_path / "watchlist.yaml")
    result = classify("Keyless repeater", "", alone).to_dict()
    assert result["flagged"] and "model" not in result
    assert classifier_version(alone) == classifier_version(alone).split("+")[0]


def test_every_classification_records_the_model_and_its_training_set(wl):
    model = wl.model
    for title in ("Keyless repeater relay box", "Phone case"):
        record = classify(title, "", wl).to_dict()
        assert record["model"] == {
            "version": model.version,
            "training_set": model.training_set,
            "threshold": model.threshold,
        }
    assert classifier_version(wl).endswith(f"+model.{model.version}.train.{model.training_set}")


def test_probabilities_are_a_distribution(wl):
    from classifier.rules import weigh

    for title, description in [("Keyless repeater", "2 units"), ("Steering wheel lock", "heavy duty"), ("", "")]:
        prediction = wl.model.predict(weigh(title, description, wl))
        assert abs(sum(prediction.probabilities.values()) - 1) < 1e-9
        assert prediction.device_probability == pytest.approx(1 - prediction.probabilities["none"])


def test_a_flag_lists_rule_spans_and_the_words_that_pushed_it(wl):
    title = "Smart key signal booster"
    description = "One box stays by the front door, the other by the car. Opens and starts in seconds."
    result = classify(title, description, wl)
    assert result.flagged and result.category == "relay_attack"
    fields = {"title": title, "description": description}
    pushed = [m for m in result.matches if m.kind == "ngram"]
    assert pushed and all(m.score > 0 and m.category == "relay_attack" for m in pushed)
    assert len({m.term for m in pushed}) <= 5
    for m in result.matches:
        assert fields[m.field][m.start : m.end] == m.text
    assert any(m.kind in ("term", "device", "target", "claim") for m in result.matches)


def test_raw_words_that_pushed_a_flag_are_spans_of_the_text_as_written(wl):
    """Raw n-grams (the text as written, lower-cased, split at white space) are explained by the raw word, mapped
    to its span: punctuation and case as the seller wrote them, and Chinese the matcher splits character by
    character read as the phrase it is."""
    listings = [
        ("Keyless-Go Verstärker (2 Boxen)", "Öffnet und startet das Auto ohne Schlüssel."),
        ("汽车钥匙信号放大器 无钥匙进入", "一个放在房子旁边，一个放在车旁边，无需钥匙即可开门启动。"),
    ]
    raw = []
    for title, description in listings:
        result = classify(title, description, wl)
        assert result.flagged
        fields = {"title": title, "description": description}
        for m in result.matches:
            assert fields[m.field][m.start : m.end] == m.text
        raw += [m for m in result.matches if m.term.startswith("r:")]
    assert raw and all(m.kind == "ngram" and m.text.lower() == m.term[2:] and " " not in m.text for m in raw)


def test_explanations_index_the_full_field_past_the_cap(wl):
    filler = "Great condition, fast dispatch. " * (2 * MAX_FIELD_CHARS // 32)
    description = filler + "Keyless repeater relay box, two units, opens and starts the car."
    result = classify("Bundle", description, wl)
    assert result.flagged and result.to_dict()["truncated"]["description"]["length"] == len(description)
    for m in result.matches:
        assert ({"title": "Bundle", "description": description}[m.field][m.start : m.end]) == m.text


def test_an_unflagged_listing_has_no_model_explanation(wl):
    result = classify("Steering wheel lock heavy duty", "Fits most cars.", wl)
    assert not result.flagged and not [m for m in result.matches if m.kind == "ngram"]
    assert 0 <= result.probability < wl.model.threshold


def test_train_adds_a_listed_corpus_and_writes_the_model(tmp_path):
    extra = tmp_path / "extra.jsonl"
    extra.write_text(
        json.dumps(
            {
                "id": "x1",
                "title": "Handheld car gadget",
                "description": "Opens and starts the car without the key, tested on Kia.",
                "category": "key_emulator",
            }
        )
        + "\n"
    )
    # One small corpus, not the shipped config: a full training run takes minutes, and the committed model's
    # rebuild is tested once already (above).
    config = tmp_path / "training.yaml"
    config.write_text(f"train: [{ROOT}/tests/data/written_a_train.jsonl]\nfolds_by: listing\n")
    base, out = tmp_path / "base.json", tmp_path / "model.json"
    common = ["train", "--watchlist", str(WATCHLIST), "--config", str(config)]
    assert run([*common, "--output", str(base)]).exit_code == 0
    result = run([*common, "--corpus", str(extra), "--output", str(out)])
    assert result.exit_code == 0, result.output
    assert "5-fold cross-validation" in result.output and "combined" in result.output
    data, before = json.loads(out.read_text()), json.loads(base.read_text())
    assert data["training_set"]["listings"] == before["training_set"]["listings"] + 1
    assert data["training_set"]["hash"] != before["training_set"]["hash"]
    assert data["training_set"]["files"][-1]["path"] == "extra.jsonl"  # relative to the config, as in the repo


def test_a_bad_training_config_is_a_one_line_error(tmp_path):
    config = tmp_path / "training.yaml"
    for text, message in (
        ("train: nope\n", "expected `train:`"),
        ("train: [a.jsonl]\nthreshold_on: b.jsonl\nfoo: 1\n", "unknown key(s): foo"),
        (
            "train: [a.jsonl]\nc: 10\ntrain: [b.jsonl]\n",
            ":3: not valid YAML: duplicate key 'train' (first defined on line 1)",
        ),
        ("train: [a.jsonl]\ntargets: 0.97\n", "`targets` must be a mapping"),
        ("train: [a.jsonl]\ntargets: {precision: 0.97, f1: 0.9}\n", "`targets` must be a mapping"),
        ("train: [a.jsonl]\ntargets: {recall: 96}\n", "`targets: recall` must be a number from 0 to 1"),
        ("train: [a.jsonl]\nfolds_by: seller\n", "`folds_by` must be one of: corpus, listing"),
        ("train: [a.jsonl]\nthreshold_on: [b.jsonl, 3]\n", "a path or list of paths"),
        ("train: [a.jsonl]\nthreshold_on: [b.jsonl, a.jsonl]\n", "must not be trained on: a.jsonl"),
    ):
        config.write_text(text)
        result = run(["train", "--watchlist", str(WATCHLIST), "--config", str(config), "--output", str(tmp_path / "m")])
        assert result.exit_code == 1 and message in result.output and "Traceback" not in result.output
        assert not (tmp_path / "m").exists()


def test_thresholds_can_be_chosen_on_several_corpora_never_trained_on(tmp_path):
    config = tmp_path / "training.yaml"
    data = ROOT / "tests/data"
    config.write_text(
        f"train: [{data}/written_a_train.jsonl]\nfolds_by: listing\n"
        f"threshold_on: [{data}/written_a_holdout.jsonl, {data}/written_b_holdout.jsonl]\n"
    )
    out = tmp_path / "model.json"
    result = run(["train", "--watchlist", str(WATCHLIST), "--config", str(config), "--output", str(out)])
    assert result.exit_code == 0, result.output
    threshold_set = json.loads(out.read_text())["threshold_set"]
    assert [f["path"] for f in threshold_set["files"]] == [
        (data / name).as_posix() for name in ("written_a_holdout.jsonl", "written_b_holdout.jsonl")
    ]
    assert all(len(f["sha256"]) == 64 for f in threshold_set["files"])
    assert "written_a_holdout.jsonl, " in result.output  # `train` says where the thresholds came from


def test_the_rules_flag_alone_only_with_the_models_floor_or_in_a_long_listing():
    from classifier.flag_rule import FlagRule

    def decided(words, probability=0.1, rule_score=100, innocent=False):
        rule = FlagRule(0.5, 0.9, rules_alone=95, rules_alone_floor=0.3, rules_alone_words=100)
        return rule.category(probability, "key_emulator", "relay_attack", rule_score, innocent, words, True)

    assert decided(words=20) is None  # the model's say in a listing of ordinary length
    assert decided(words=20, probability=0.3) == "relay_attack"  # the rules' named device, the model not against
    assert decided(words=100) == "relay_attack"  # pages of filler dilute the model, not the rules
    assert decided(words=100, rule_score=94) is None
    assert decided(words=20, probability=0.6) == "key_emulator"  # the model names the kind
    assert decided(words=20, probability=0.6, rule_score=60, innocent=True) is None  # innocent words raise the bar


def test_a_writer_is_one_corpus_whatever_its_split_suffix():
    from classifier.train import writer_of

    assert writer_of(Path("d/written_a_train.jsonl")) == writer_of(Path("written_a_holdout.jsonl")) == "written_a"
    assert writer_of(Path("corpus_dev.jsonl")) == writer_of(Path("corpus_heldout.jsonl")) == "corpus"
    assert writer_of(Path("real_titles_2.jsonl")) != writer_of(Path("real_titles_train.jsonl"))


def _writers_feats(n_writers, per_writer):
    from classifier.feature_matrix import Featurised

    rows, labels, writers = [], [], []
    for w in range(n_writers):
        for k in range(per_writer):
            # unrelated texts (no near-duplicates), half of them devices
            rows.append({"title": f"item {w * per_writer + k} " + "qwxzjkvbp"[k % 9] * (k + 1), "description": ""})
            labels.append("key_programmer" if k % 2 else "none")
            writers.append(f"writer{w}")
    n = len(rows)
    return Featurised(rows, labels, [], [(None, 0)] * n, [False] * n, writers)


def test_corpus_folds_never_split_a_writer_and_listing_folds_do(tmp_path):
    import numpy as np

    from classifier.train import folds

    config_path = tmp_path / "training.yaml"
    config_path.write_text("train: [a.jsonl]\nfolds: 3\n")
    config = load_config(config_path)
    assert config.folds_by == "corpus"
    feats = _writers_feats(6, 10)
    y = np.array([int(label != "none") for label in feats.labels])

    def writers_per_fold():
        return [{feats.writers[i] for i in test} for _, test in folds(feats, y, config)]

    by_corpus = writers_per_fold()
    assert sorted(w for ws in by_corpus for w in ws) == sorted({*feats.writers})  # each writer in one fold only
    config.folds_by = "listing"
    assert any(len(ws) > 2 for ws in writers_per_fold())
    config.folds_by, config.folds = "corpus", 7
    from classifier.training_config import TrainingError

    with pytest.raises(TrainingError, match="7 folds need at least 7 writers"):
        folds(feats, y, config)
    # by listing, what is counted is groups of near-duplicates, not writers (2 here)
    config.folds_by, config.folds = "listing", 21
    with pytest.raises(TrainingError, match="21 folds need at least 21 groups of near-duplicate") as error:
        folds(_writers_feats(2, 10), y[:20], config)
    assert "writers" not in str(error.value) and "there are 2 " not in str(error.value)


def _listings(device_probabilities, truths):
    import numpy as np

    from classifier.feature_matrix import Featurised

    n = len(truths)
    probs = np.array([[1 - p, p] for p in device_probabilities])
    rows = [{"title": "", "description": ""} for _ in range(n)]
    labels = ["key_programmer" if t else "none" for t in truths]
    feats = Featurised(rows, labels, [[] for _ in range(n)], [(None, 0)] * n, [False] * n)
    return probs, feats


def test_thresholds_are_furthest_inside_both_targets_not_at_best_f1(tmp_path):
    """20 devices (17 at 0.9, 3 at 0.3) and 20 innocent listings (3 at 0.35, 17 at 0.1). Flagging from 0.3 has the
    best F1 (P 0.87, R 1.0) but misses the precision target 0.9; from 0.36 both targets hold (P 1.0, R 0.85 against
    0.8): that is the choice. With a recall target of 0.95 only the lower thresholds meet it."""
    from classifier.train import _thresholds

    config_path = tmp_path / "training.yaml"
    config_path.write_text("train: [a.jsonl]\ntargets: {precision: 0.9, recall: 0.8}\n")
    config = load_config(config_path)
    probs, feats = _listings([0.9] * 17 + [0.3] * 3 + [0.35] * 3 + [0.1] * 17, [True] * 20 + [False] * 20)

    def f1(low):
        flagged = probs[:, 1] >= low
        tp = int(flagged[:20].sum())
        return 2 * tp / (2 * tp + int(flagged[20:].sum()) + 20 - tp)

    assert f1(0.3) > f1(0.36)
    low, high = _thresholds(probs, feats, ["none", "key_programmer"], config)
    assert 0.36 <= low <= 0.9 and high >= low
    config.target_precision, config.target_recall = 0.8, 0.95
    assert _thresholds(probs, feats, ["none", "key_programmer"], config)[0] <= 0.3


def test_a_threshold_sets_spike_within_ties_within_is_settled_by_the_out_of_fold_predictions(tmp_path):
    """The threshold set (20 devices, one at 0.5; one innocent listing at 0.55) is best from any threshold up to
    0.5, by one listing (margin 0.052 against 0.05 above). Out of fold, four innocent listings score 0.6: only a
    threshold above 0.6 meets the precision target there. Exact ties alone keep the spike; `ties_within` 0.005
    counts 0.05 as equal to 0.052 and lets the out-of-fold predictions choose."""
    from classifier.train import _thresholds
    from classifier.training_config import TrainingError

    config_path = tmp_path / "training.yaml"
    config_path.write_text("train: [a.jsonl]\ntargets: {precision: 0.9, recall: 0.9}\nties_within: 0.005\n")
    config = load_config(config_path)
    assert config.ties_within == 0.005
    classes = ["none", "key_programmer"]
    held = _listings([0.9] * 19 + [0.5] + [0.55] + [0.1] * 19, [True] * 20 + [False] * 20)
    out_of_fold = _listings([0.9] * 20 + [0.6] * 4 + [0.1] * 16, [True] * 20 + [False] * 20)
    assert _thresholds(*held, classes, config, out_of_fold)[0] > 0.6
    config.ties_within = 0.0
    assert _thresholds(*held, classes, config, out_of_fold)[0] <= 0.5
    assert _thresholds(*held, classes, config)[0] <= 0.5
    config_path.write_text("train: [a.jsonl]\nties_within: 2\n")
    with pytest.raises(TrainingError, match="`ties_within` must be a number from 0 to 1"):
        load_config(config_path)


def test_a_well_hashed_model_of_the_wrong_shape_is_refused_in_one_line(tmp_path):
    from classifier.model import FORMAT, ModelError, content_version

    data = {"format": FORMAT, "classes": ["none"], "ngrams": "oops"}
    data["version"] = content_version(data)
    path = tmp_path / "m.json"
    path.write_text(json.dumps(data))
    with pytest.raises(ModelError, match="not a usable keywatch model"):
        load_model(path)
    path.write_text("[" * 100_000 + "]" * 100_000)
    with pytest.raises(ModelError, match="not a keywatch model"):
        load_model(path)


def test_kfold_figures_do_not_regress():
    """Out-of-fold by writer (no fold splits a writer's corpus: every listing scored by a model that never saw its
    writer) on the whole training set, at the shipped thresholds (chosen on the dev split, ties broken out of
    fold), each gate a little below what model 18 as shipped measures (32,755 listings: P 0.9728, R 0.9628, category
    0.9847, obfuscated 0.9549, description-only 0.9683; model 17 on its 30,893: 0.9694 / 0.9594, obfuscated 0.9513;
    model 16 on its 29,025: 0.9681 / 0.9581). The set grows harder as writers join: car adverts that mention keyless
    entry and keys, and the languages with fewest writers, are new text out-of-fold (docs/classifier.md)."""
    combined = json.loads(model_path_for(WATCHLIST).read_text())["kfold"]["combined"]
    assert combined["precision"] >= 0.972 and combined["recall"] >= 0.962
    assert combined["category"] >= 0.984 and combined["obfuscated_recall"] >= 0.954
    assert combined["description_only_recall"] >= 0.967


def test_kfold_by_writer_meets_issue_11s_targets():
    """Met since model 18 (P 0.9728, R 0.9628); a strict xfail from model 8 to model 17 (0.9694 / 0.9594)."""
    model = json.loads(model_path_for(WATCHLIST).read_text())
    assert model["settings"]["folds_by"] == "corpus"
    combined = model["kfold"]["combined"]
    assert combined["precision"] >= 0.97 and combined["recall"] >= 0.96
    assert combined["obfuscated_recall"] >= 0.93 and combined["description_only_recall"] >= 0.93
    assert combined["category"] >= 0.97


def test_the_dev_split_meets_issue_11s_targets_at_the_thresholds_chosen_on_it():
    """The threshold set (phase 9) at the two thresholds chosen on it: flattered by that choice, not by training
    (model 18: P 0.9872, R 0.9872, category 0.9963, description-only 0.9956, obfuscated 0.9748; model 17: 0.9836,
    0.9872). A gate against a model or threshold change that loses it; the fair figure is phase 19's."""
    combined = json.loads(model_path_for(WATCHLIST).read_text())["threshold_set"]["figures"]["combined"]
    assert combined["precision"] >= 0.97 and combined["recall"] >= 0.96
    assert combined["obfuscated_recall"] >= 0.93 and combined["description_only_recall"] >= 0.93
    assert combined["category"] >= 0.97
