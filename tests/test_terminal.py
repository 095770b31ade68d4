"""keywatch.terminal: stored text shown escaped, JSON kept exact and valid."""

import json

from keywatch.terminal import json_text, printable, printable_lines


def test_printable_escapes_controls_bidi_and_invisible_characters_only():
    assert printable("Relay box 2× — Ключ, clés\u00a0UK") == "Relay box 2× — Ключ, clés\u00a0UK"
    assert (
        printable("\x1b[2J\x9b\u202e\u2066\u200b\ufeff\u2028\x7f\x00")
        == "\\x1b[2J\\x9b\\u202e\\u2066\\u200b\\ufeff\\u2028\\x7f\\x00"
    )
    assert printable("a\tb\nc\rd") == "a\\tb\\nc\\rd"
    assert printable("tag\U000e0041") == "tag\\U000e0041"  # Unicode tag letters can hide text
    assert printable(None) == "" and printable(42) == "42"


def test_printable_lines_keeps_the_documents_own_line_breaks():
    assert printable_lines("# Report\n| \x1b]0;x\x07 |\n") == "# Report\n| \\x1b]0;x\\x07 |\n"


def test_json_text_round_trips_exactly_and_holds_no_raw_control():
    value = {"title": "\x1b]0;x\x07\x9b\u202e\x7f\U000e0041 Ключ", "n": [1, 2.5, None]}
    for options in ({}, {"indent": 2}):
        text = json_text(value, **options)
        assert json.loads(text) == value
        assert all(ch == "\n" or ch.isprintable() for ch in text), text
        assert "Ключ" in text and "\\udb40\\udc41" in text


def test_retailer_list_prints_names_escaped_and_json_exact(tmp_path):
    import click.testing

    import db
    from db import retailers
    from keywatch.cli import cli

    path = tmp_path / "k.sqlite"
    store = db.connect(path)
    name = "Keys \x1b]0;pwned\x07Ltd \u202edtl"
    retailers.save_retailer(
        store,
        {
            "name": name,
            "marketplace": "demo",
            "seller_ids": ["s\x9b2J"],
            "email": "",
            "address": "",
            "reporting_url": "",
        },
        db.utc_now(),
    )
    store.close()
    runner = click.testing.CliRunner()
    listed = runner.invoke(cli, ["retailer", "list", "--db", str(path)], color=True)
    assert listed.exit_code == 0, listed.output
    assert "Keys \\x1b]0;pwned\\x07Ltd \\u202edtl\tdemo\ts\\x9b2J" in listed.output
    as_json = runner.invoke(cli, ["retailer", "list", "--json", "--db", str(path)], color=True).output
    assert json.loads(as_json)[0]["name"] == name and "\x1b" not in as_json and "\u202e" not in as_json
