"""`keywatch classify` and `keywatch eval`: output shapes and one-line errors."""

import importlib
import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from keywatch.cli import cli

ROOT = Path(__file__).resolve().parents[1]
WATCHLIST = str(ROOT / "watchlist.yaml")


def run(args, stdin=None):
    return CliRunner().invoke(cli, args, input=stdin)


def test_classify_writes_one_line_per_input_in_order():
    rows = [
        {"id": "a", "title": "Keyless repeater relay box", "description": "two units", "price": "£900"},
        {"id": 2, "title": "Faraday pouch", "description": "stops relay attacks"},
        {"id": "c", "title": "HU66 Lishi", "description": None},
    ]
    stdin = "\n".join(json.dumps(r) for r in rows) + "\n\n"
    result = run(["classify", "--watchlist", WATCHLIST, "-"], stdin)
    assert result.exit_code == 0, result.output
    out = [json.loads(line) for line in result.output.splitlines()]
    assert [o["id"] for o in out] == ["a", 2, "c"]
    assert [list(o)[:6] for o in out] == [["id", "flagged", "category", "risk", "score", "matches"]] * 3
    assert [(o["flagged"], o["category"], o["risk"]) for o in out] == [
        (True, "relay_attack", "high"),
        (False, None, None),
        (True, "mechanical_entry", "medium"),
    ]
    for match in out[0]["matches"]:
        assert rows[0][match["field"]][match["start"] : match["end"]] == match["text"]


def test_classify_reads_a_file(tmp_path):
    path = tmp_path / "in.jsonl"
    path.write_text(json.dumps({"id": 1, "title": "GPS jammer", "description": ""}) + "\n", encoding="utf-8")
    result = run(["classify", str(path), "--watchlist", WATCHLIST])
    assert result.exit_code == 0 and json.loads(result.output)["category"] == "signal_jammer"


def test_a_bad_line_is_named_and_nothing_half_written():
    good = json.dumps({"id": 1, "title": "GPS jammer", "description": ""})
    result = run(["classify", "--watchlist", WATCHLIST], good + "\n{not json\n" + good + "\n")
    assert result.exit_code == 1
    lines = result.output.splitlines()
    assert json.loads(lines[0])["id"] == 1
    assert lines[1].startswith("Error: line 2: not valid JSON")
    assert len(lines) == 2 and "Traceback" not in result.output


def test_missing_fields_and_wrong_types():
    result = run(["classify", "--watchlist", WATCHLIST], json.dumps({"id": 1, "title": "x"}) + "\n")
    assert result.exit_code == 1 and result.output == "Error: line 1: missing 'description'\n"
    result = run(["classify", "--watchlist", WATCHLIST], "[1, 2]\n")
    assert result.exit_code == 1 and "line 1: expected a JSON object" in result.output
    result = run(["classify", "--watchlist", WATCHLIST], json.dumps({"id": 1, "title": 5, "description": ""}) + "\n")
    assert result.exit_code == 1 and "line 1: 'title' must be a string or null" in result.output


def test_a_missing_watchlist_is_a_one_line_error(tmp_path):
    result = run(["classify", "--watchlist", str(tmp_path / "nope.yaml")], "")
    assert (
        result.exit_code == 1 and result.output.startswith("Error: ") and "cannot read the watchlist" in result.output
    )


def write_corpus(tmp_path, rows):
    path = tmp_path / "corpus.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n", encoding="utf-8")
    return str(path)


CORPUS = [
    {"id": "1", "title": "Keyless repeater", "description": "", "category": "relay_attack"},
    {"id": "2", "title": "Lonsdor K518", "description": "", "category": "key_programmer"},
    {"id": "3", "title": "Steering lock", "description": "", "category": "none"},
    {"id": "4", "title": "Flipper Zero", "description": "", "category": "ambiguous"},
    # labelled as a device but sold as a pouch: the classifier (rightly) misses it
    {"id": "5", "title": "Faraday pouch", "description": "", "category": "signal_jammer", "obfuscated": True},
]


def test_eval_reports_scores_confusion_and_misses(tmp_path):
    result = run(["eval", write_corpus(tmp_path, CORPUS), "--watchlist", WATCHLIST])
    assert result.exit_code == 0, result.output
    out = result.output
    assert "4 listings scored (1 ambiguous left out)" in out
    assert "flagged vs not" in out and "relay_attack" in out and "confusion" in out
    assert "misses (1):\n  5: [signal_jammer -> none, 0] Faraday pouch" in out
    assert "false flags (0):" in out


def test_eval_thresholds_set_the_exit_code(tmp_path):
    corpus = write_corpus(tmp_path, CORPUS)
    ok = run(["eval", corpus, "--watchlist", WATCHLIST, "--min-precision", "1", "--min-recall", "0.6"])
    assert ok.exit_code == 0
    low = run(["eval", corpus, "--watchlist", WATCHLIST, "--min-recall", "0.9", "--min-obfuscated-recall", "0.5", "-q"])
    assert low.exit_code == 1
    assert low.output.splitlines()[-1] == "Error: thresholds not met: recall 0.667 < 0.9; obfuscated recall 0.000 < 0.5"


def test_eval_json_and_baseline(tmp_path):
    result = run(["eval", write_corpus(tmp_path, CORPUS), "--watchlist", WATCHLIST, "--baseline", "--json"])
    data = json.loads(result.output)
    (corpus,) = data["corpora"]
    assert [r["name"] for r in corpus["results"]] == [
        "rules + model (combined)",
        "rules alone",
        "model alone",
        "naive baseline",
    ]
    assert data["model"]["version"] and data["model"]["training_set"]
    ours = corpus["results"][0]
    assert ours["flagged"] == {"precision": 1.0, "recall": 0.6667, "f1": 0.8, "support": 3}
    assert ours["confusion"]["relay_attack"]["relay_attack"] == 1
    assert ours["confusion"]["signal_jammer"]["none"] == 1


def test_eval_rejects_a_bad_corpus_line(tmp_path):
    corpus = write_corpus(tmp_path, CORPUS[:2] + [{"id": "x", "title": "t", "description": "", "category": "relay"}])
    result = run(["eval", corpus, "--watchlist", WATCHLIST])
    assert result.exit_code == 1
    assert result.output.startswith(f"Error: {corpus}:3: unknown category 'relay'")


def test_every_classifier_command_has_help():
    for args in (["classify", "--help"], ["eval", "--help"], ["watchlist", "--help"], ["watchlist", "check", "--help"]):
        result = run(args)
        assert result.exit_code == 0 and "Usage:" in result.output


def listing(n, **extra):
    return json.dumps({"id": n, "title": "GPS jammer", "description": "", **extra}) + "\n"


def test_deeply_nested_input_is_a_one_line_error():
    deep = '{"id": 2, "title": "x", "description": "", "extra": ' + "[" * 100_000 + "]" * 100_000 + "}\n"
    result = run(["classify", "--watchlist", WATCHLIST], listing(1) + deep)
    assert result.exit_code == 1 and "Traceback" not in result.output and result.exception.__class__ is SystemExit
    lines = result.output.splitlines()
    assert json.loads(lines[0])["id"] == 1 and lines[1].startswith("Error: line 2: ") and len(lines) == 2


def test_a_bad_byte_is_blamed_on_its_own_line(tmp_path):
    path = tmp_path / "in.jsonl"
    path.write_bytes(listing(1).encode() + b'{"id": 2, "title": "caf\xe9", "description": ""}\n' + listing(3).encode())
    for args, stdin in (([str(path)], None), (["-"], path.read_bytes())):
        result = run(["classify", "--watchlist", WATCHLIST, *args], stdin)
        assert result.exit_code == 1
        lines = result.output.splitlines()
        assert json.loads(lines[0])["id"] == 1
        assert lines[1] == "Error: line 2: not UTF-8 text (byte 0xe9 at column 24)" and len(lines) == 2


def test_a_bad_byte_in_a_long_first_line_is_on_line_1(tmp_path):
    path = tmp_path / "in.jsonl"
    path.write_bytes(b'{"id": 1, "title": "' + b"a" * 100_000 + b'\xff", "description": ""}\n' + listing(2).encode())
    result = run(["classify", "--watchlist", WATCHLIST, str(path)])
    assert result.exit_code == 1 and result.output.startswith("Error: line 1: not UTF-8 text")


@pytest.mark.parametrize("value", ["NaN", "Infinity", "-Infinity", "1e999", "-1e400"])
def test_output_is_always_valid_json(value):
    line = f'{{"id": {value}, "title": "GPS jammer", "description": ""}}\n'
    result = run(["classify", "--watchlist", WATCHLIST], listing(1) + line)
    assert result.exit_code == 1 and "Traceback" not in result.output
    lines = result.output.splitlines()
    json.loads(lines[0], parse_constant=lambda c: pytest.fail(f"{c} written"))
    assert lines[1] == f"Error: line 2: not valid JSON ({value} is not a finite number)" and len(lines) == 2


def test_a_huge_integer_id_is_kept_or_refused_in_one_line():
    result = run(["classify", "--watchlist", WATCHLIST], '{"id": 1%s, "title": "", "description": ""}\n' % ("0" * 5000))
    assert result.exit_code == 1 and result.output.startswith("Error: line 1: ") and "Traceback" not in result.output
    big = 10**40
    result = run(["classify", "--watchlist", WATCHLIST], listing(big))
    assert result.exit_code == 0 and json.loads(result.output)["id"] == big


def test_eval_refuses_a_deeply_nested_or_non_finite_corpus_line(tmp_path):
    path = tmp_path / "c.jsonl"
    row = '{"id": "1", "title": "t", "description": "", "category": "none", "x": %s}\n'
    for bad in ("[" * 100_000 + "]" * 100_000, "NaN"):
        path.write_text(json.dumps(CORPUS[0]) + "\n" + row % bad, encoding="utf-8")
        result = run(["eval", str(path), "--watchlist", WATCHLIST])
        assert (
            result.exit_code == 1
            and result.output.startswith(f"Error: {path}:2: ")
            and "Traceback" not in result.output
        )


def test_a_bad_line_after_several_batches_still_writes_every_line_before_it(monkeypatch):
    classify_module = importlib.import_module("classifier.classify")  # the package exports a function of that name

    monkeypatch.setattr(classify_module, "BATCH_LISTINGS", 2)
    good = [
        json.dumps({"id": i, "title": "GPS jammer" if i % 2 else "Phone case", "description": ""}) for i in range(5)
    ]
    result = run(["classify", "--watchlist", WATCHLIST], "\n".join(good) + "\n{not json\n" + good[0] + "\n")
    assert result.exit_code == 1
    lines = result.output.splitlines()
    assert [json.loads(line)["id"] for line in lines[:5]] == [0, 1, 2, 3, 4]
    assert [json.loads(line)["flagged"] for line in lines[:5]] == [False, True, False, True, False]
    assert lines[5].startswith("Error: line 6: not valid JSON") and len(lines) == 6
