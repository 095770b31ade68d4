"""watchlist.yaml: the shipped file is complete, and broken files are reported line by line."""

import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from classifier import WatchlistError, load_watchlist
from keywatch.cli import cli

ROOT = Path(__file__).resolve().parents[1]
CATEGORIES = {
    "relay_attack",
    "key_programmer",
    "can_injection",
    "key_emulator",
    "code_grabber",
    "signal_jammer",
    "mechanical_entry",
}

MINIMAL = """\
categories:
  relay_attack:
    label: Relay box
    risk: high
    risk_reason: opens cars
    note: offence
    terms: [relay box]
    search_terms: [relay box]
"""


def write(tmp_path, text, name="wl.yaml"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def problems(path):
    with pytest.raises(WatchlistError) as info:
        load_watchlist(path)
    return info.value.problems


def test_shipped_watchlist_has_exactly_the_seven_categories_with_everything_reviewers_need():
    wl = load_watchlist(ROOT / "watchlist.yaml")
    assert set(wl.categories) == CATEGORIES
    for cat in wl.categories.values():
        assert cat.label and cat.note and cat.risk_reason
        assert cat.risk in ("high", "medium", "low")
        assert len(cat.terms) >= 10 and cat.search_terms and cat.exclusions
        assert set(cat.translations) >= {"de", "fr", "es", "pl", "ro"}, cat.id
    assert re.fullmatch(r"[0-9a-f]{16}", wl.version)
    context_ids = {c.id for c in wl.contexts}
    assert {"faraday_pouch", "steering_lock", "obd_lock", "diagnostic_only", "network_signal"} <= context_ids


def test_issue_domain_names_are_in_the_watchlist():
    wl = load_watchlist(ROOT / "watchlist.yaml")
    # named anywhere as evidence: key blade profiles weigh as makers, "all keys lost" as a claim (model 4)
    text = {
        cid: " ".join(c.strong_terms + c.makers + tuple(c.all_claims) + c.device_words).lower()
        for cid, c in wl.categories.items()
    }
    for name in (
        "im508",
        "im608",
        "vvdi",
        "key tool max",
        "k518",
        "x300",
        "cgdi",
        "x431 immo",
        "skp900",
        "skp1000",
        "mvp pro",
        "tango",
        "zed full",
        "smart pro",
        "abrites avdi",
        "tcode",
        "handy baby",
        "cn900",
        "all keys lost",
    ):
        assert name in text["key_programmer"], name
    for name in ("hu66", "hu100", "hu92", "toy48", "lishi", "slim jim", "ignition puller", "tryout", "jiggler"):
        assert name in text["mechanical_entry"], name
    assert "keyless repeater" in text["relay_attack"] and "game boy" in text["key_emulator"]
    assert "keeloq" in text["code_grabber"] and "433mhz jammer" in text["signal_jammer"]
    assert "smart start box" in text["can_injection"]


def test_version_is_a_content_hash(tmp_path):
    a = load_watchlist(write(tmp_path, MINIMAL, "a.yaml"))
    b = load_watchlist(write(tmp_path, MINIMAL + "\n", "b.yaml"))
    c = load_watchlist(write(tmp_path, MINIMAL, "c.yaml"))
    assert a.version == c.version != b.version


def test_bad_yaml_names_file_and_line(tmp_path):
    path = write(tmp_path, MINIMAL + "  broken: [unclosed\n")
    (message,) = problems(path)
    assert message.startswith(f"{path}:")
    assert "not valid YAML" in message
    assert int(message.split(":")[1]) >= 9


def test_missing_key_names_the_category_line(tmp_path):
    path = write(tmp_path, MINIMAL.replace("    note: offence\n", ""))
    assert problems(path) == [f"{path}:3: category 'relay_attack': missing required key 'note'"]


def test_unknown_category_id_in_a_context(tmp_path):
    text = MINIMAL + "contexts:\n  - id: pouch\n    label: Pouch\n    cancels: [relay_atack]\n    terms: [faraday]\n"
    (message,) = problems(write(tmp_path, text))
    assert ":12: context 'pouch': cancels: unknown category id 'relay_atack'" in message


def test_duplicate_category_and_context_ids(tmp_path):
    category = MINIMAL.split("\n", 1)[1]
    text = (
        MINIMAL
        + category
        + "contexts:\n"
        + "  - {id: a, label: A, cancels: all, terms: [x]}\n"
        + "  - {id: a, label: B, cancels: all, terms: [y]}\n"
    )
    found = problems(write(tmp_path, text))
    assert any(":9: categories: duplicate key 'relay_attack' (first defined on line 2)" in p for p in found)
    assert any(":18: context 'a': duplicate id (first defined on line 17)" in p for p in found)


def test_wrong_types_are_each_reported_with_their_line(tmp_path):
    text = MINIMAL.replace("risk: high", "risk: 5").replace(
        "terms: [relay box]\n    search", "terms: relay box\n    search"
    )
    text += "settings:\n  flag_threshold: lots\n"
    found = problems(write(tmp_path, text))
    assert len(found) == 3
    assert ":4: category 'relay_attack': risk must be a non-empty string, not an int ('5')" in found[0]
    assert ":7: category 'relay_attack': terms must be a list of strings, not a str ('relay box')" in found[1]
    assert ":10: settings: flag_threshold must be a number, not a str ('lots')" in found[2]


def test_every_problem_is_reported_not_just_the_first(tmp_path):
    text = MINIMAL.replace("risk: high", "risk: extreme").replace("label: Relay box", "lable: Relay box")
    text += "  key_programmer: []\n"
    found = problems(write(tmp_path, text))
    assert len(found) == 4
    joined = "\n".join(found)
    assert "unknown key 'lable'" in joined and "missing required key 'label'" in joined
    assert "risk must be one of high, medium, low, not 'extreme'" in joined
    assert ":9: category 'key_programmer' must be a mapping, not a list" in joined


def test_a_term_in_two_categories_and_a_repeated_term(tmp_path):
    text = MINIMAL.replace("terms: [relay box]\n    search", "terms: [relay box, Relay-Boxes]\n    search")
    text += (
        MINIMAL.split("\n", 1)[1]
        .replace("relay_attack", "key_emulator")
        .replace("[relay box]\n    search", "[RELAY BOX]\n    search", 1)
    )
    found = problems(write(tmp_path, text))
    assert any("'Relay-Boxes' repeats a strong term from line 7" in p for p in found)
    assert any("term 'RELAY BOX' is also a term of category 'relay_attack'" in p for p in found)


def test_a_term_without_letters(tmp_path):
    (message,) = problems(write(tmp_path, MINIMAL.replace("[relay box]\n    search", "[relay box, '🔥']\n    search")))
    assert ":7: category 'relay_attack': terms item '🔥' has no letters or digits to match" in message


def test_unreadable_empty_and_non_utf8_files(tmp_path):
    assert problems(tmp_path / "missing.yaml")[0].startswith(f"{tmp_path / 'missing.yaml'}: cannot read the watchlist")
    assert problems(write(tmp_path, "")) == [f"{tmp_path / 'wl.yaml'}:1: the watchlist is empty"]
    path = tmp_path / "latin1.yaml"
    path.write_bytes(b"categories:\n  # caf\xe9\n")
    assert problems(path) == [f"{path}:2: not UTF-8 text"]


def test_watchlist_check_command(tmp_path):
    runner = CliRunner()
    ok = runner.invoke(cli, ["watchlist", "check", str(ROOT / "watchlist.yaml")])
    assert ok.exit_code == 0 and "OK" in ok.output and "7 categories" in ok.output
    bad = write(tmp_path, MINIMAL.replace("risk: high", "risk: extreme").replace("    note: offence\n", ""))
    result = runner.invoke(cli, ["watchlist", "check", str(bad)])
    assert result.exit_code == 1
    lines = result.output.strip().splitlines()
    assert lines[0].startswith(f"Error: {bad}:3:") and lines[1].startswith(f"{bad}:4:")
    assert "Traceback" not in result.output


def test_classify_refuses_an_invalid_watchlist_with_the_same_message(tmp_path):
    bad = write(tmp_path, MINIMAL.replace("risk: high", "risk: extreme"))
    runner = CliRunner()
    check = runner.invoke(cli, ["watchlist", "check", str(bad)])
    run = runner.invoke(
        cli, ["classify", "--watchlist", str(bad), "-"], input='{"id": 1, "title": "x", "description": ""}\n'
    )
    assert run.exit_code == 1 and run.output == check.output
    assert run.output.startswith("Error: ") and "risk must be one of" in run.output


def test_negations_and_listing_wide_contexts_are_validated(tmp_path):
    good = MINIMAL + (
        "negations:\n  before: [not the]\n  after: [style]\n"
        "contexts:\n  - id: svc\n    label: Service\n    cancels: all\n"
        "    where: listing\n    terms: [we come to you]\n"
    )
    wl = load_watchlist(write(tmp_path, good))
    assert wl.negations_before == ("not the",) and wl.negations_after == ("style",)
    assert wl.contexts[0].where == "listing"
    bad = MINIMAL + "negations:\n  around: [not]\n"
    (message,) = problems(write(tmp_path, bad, "bad.yaml"))
    assert ":10: negations: unknown key 'around'" in message


def test_claims_makers_and_weights_are_validated(tmp_path):
    text = MINIMAL.replace(
        "terms: [relay box]\n",
        "terms: [relay box]\n    makers: [acme]\n"
        "    claims:\n      en: [one by the house, relay box]\n      xx: [one unit]\n",
        1,
    )
    text += "settings:\n  weights:\n    claim: lots\n    veto: 100\n"
    found = "\n".join(problems(write(tmp_path, text)))
    assert ":11: category 'relay_attack': claims: unknown language 'xx'" in found
    assert "'relay box' repeats a strong term from line 7" in found
    assert "settings: weights: claim must be a number, not a str ('lots')" in found
    assert "settings: weights: unknown key 'veto'" in found


def test_device_names_in_term_only_languages_but_no_claims_there(tmp_path):
    text = MINIMAL.replace(
        "terms: [relay box]\n",
        "terms: [relay box]\n    translations:\n      ja: [リレー装置]\n      ko: [증폭 장치]\n",
        1,
    )
    wl = load_watchlist(write(tmp_path, text))
    assert wl.categories["relay_attack"].translations == {"ja": ("リレー装置",), "ko": ("증폭 장치",)}
    claims = MINIMAL.replace("terms: [relay box]\n", "terms: [relay box]\n    claims:\n      ja: [鍵なしで始動]\n", 1)
    (message,) = problems(write(tmp_path, claims, "bad.yaml"))
    assert "claims: unknown language 'ja'" in message


def test_weights_decide_the_scores(tmp_path):
    text = MINIMAL.replace("terms: [relay box]\n", "terms: [relay box]\n    claims:\n      en: [one by the house]\n", 1)
    text += "settings:\n  weights:\n    claim: 59\n"
    from classifier.classify import classify_rules

    light = load_watchlist(write(tmp_path, text))
    assert classify_rules("Gadget", "One by the house.", light).score == 59
    assert not classify_rules("Gadget", "One by the house.", light).flagged
    heavy = load_watchlist(write(tmp_path, text.replace("claim: 59", "claim: 61"), "heavy.yaml"))
    assert classify_rules("Gadget", "One by the house.", heavy).flagged
