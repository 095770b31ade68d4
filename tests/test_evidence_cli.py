"""The evidence commands through click's CliRunner: output shapes, errors as one line, exit codes."""

import csv
import io
import json

import click
import pytest
from click.testing import CliRunner
from warcio.archiveiterator import ArchiveIterator

import db
from keywatch.commands import evidence
from tests.support.items import CLASSIFIED, make_item


@click.group()
def cli():
    pass


for command in evidence.commands:
    cli.add_command(command)


@pytest.fixture
def db_path(tmp_path):
    path = tmp_path / "store.sqlite"
    store = db.connect(path)
    db.save_capture(store, make_item("1001"))
    db.save_capture(
        store,
        make_item(
            "1002",
            title="Smart key programmer, all makes",
            classification={**CLASSIFIED, "category": "key_programmer", "score": 80.0},
        ),
    )
    db.save_capture(
        store,
        make_item(
            "1003", title="Steering wheel lock", classification={**CLASSIFIED, "flagged": False, "category": None}
        ),
    )
    store.close()
    return path


def run(*args, **kwargs):
    return CliRunner().invoke(cli, [str(a) for a in args], catch_exceptions=False, **kwargs)


def test_every_command_has_help():
    for command in evidence.commands:
        result = run(command.name, "--help")
        assert result.exit_code == 0 and "--db" in result.output, command.name


def test_hits_jsonl(db_path):
    result = run("hits", "--db", db_path, "--format", "jsonl")
    assert result.exit_code == 0
    rows = [json.loads(line) for line in result.output.splitlines()]
    assert [r["listing_id"] for r in rows] == ["1001", "1002"]
    assert set(evidence.HIT_COLUMNS) <= set(rows[0])
    assert len(rows[0]["sha256"]) == 64


def test_hits_csv_and_table(db_path):
    rows = list(csv.DictReader(io.StringIO(run("hits", "--db", db_path, "--format", "csv").output)))
    assert [r["category"] for r in rows] == ["relay_attack", "key_programmer"]
    table = run("hits", "--db", db_path).output.splitlines()
    assert table[0].split()[:4] == ["marketplace", "listing_id", "url", "title"]
    assert len(table) == 3


def test_missing_database_is_one_line_error_and_not_created(tmp_path):
    missing = tmp_path / "nope.sqlite"
    for args in (
        ["hits"],
        ["verify"],
        ["show", "demo_market:1"],
        ["warc", "--all", "--out", tmp_path / "x.warc.gz"],
        ["purge", "--dismissed-older-than", "30", "--yes"],
    ):
        result = run(*args, "--db", missing)
        assert result.exit_code == 1, args
        assert result.output.startswith("Error: no evidence store at") and result.output.count("\n") == 1
    assert not missing.exists()


def test_not_a_database_is_one_line_error(tmp_path):
    bogus = tmp_path / "bogus.sqlite"
    bogus.write_text("hello, not sqlite " * 100)
    result = run("hits", "--db", bogus)
    assert result.exit_code == 1 and "not a keywatch evidence store" in result.output


def test_show_prints_timeline(db_path):
    result = run("show", "demo_market:1001", "--db", db_path)
    assert result.exit_code == 0
    assert "Relay box" in result.output and "Timeline:" in result.output
    assert "capture 1: HTTP 200" in result.output and "status live" in result.output
    assert "flagged relay_attack" in result.output
    data = json.loads(run("show", "demo_market:1001", "--db", db_path, "--json").output)
    assert [e["kind"] for e in data["events"]][:2] == ["capture", "status"]
    assert run("show", "demo_market:9999", "--db", db_path).exit_code == 1
    bad = run("show", "no-colon", "--db", db_path)
    assert bad.exit_code == 2 and "MARKETPLACE:LISTING_ID" in bad.output


def test_verify_ok_then_failing(db_path):
    result = run("verify", "--db", db_path)
    assert result.exit_code == 0
    store = db.connect(db_path)
    assert result.output == f"{db.chain_length(store)} records, chain head {db.chain_head(store)}\n"
    store.conn.execute("DROP TRIGGER captures_no_update")
    store.conn.execute("UPDATE captures SET fetched_at = '2026-11-28T10:00:00.123457Z' WHERE id = 2")
    store.conn.commit()
    result = run("verify", "--db", db_path)
    assert result.exit_code == 1
    assert "capture 2" in result.output and "content hash mismatch" in result.output


def test_verify_anchor(db_path):
    assert run("verify", "--db", db_path, "--anchor", "f" * 64).exit_code == 1


def test_warc_command(db_path, tmp_path):
    out = tmp_path / "out" / "pack.warc.gz"
    result = run(
        "warc", "--listing", "demo_market:1001", "--listing", "demo_market:1002", "--out", out, "--db", db_path
    )
    assert result.exit_code == 0, result.output
    assert "Wrote 2 captures" in result.output
    with open(out, "rb") as fh:
        assert sum(r.rec_type == "response" for r in ArchiveIterator(fh)) == 2
    assert run("warc", "--out", out, "--db", db_path).exit_code == 2
    assert run("warc", "--all", "--run", "1", "--out", out, "--db", db_path).exit_code == 2
    unknown = run("warc", "--listing", "demo_market:404", "--out", tmp_path / "y.warc.gz", "--db", db_path)
    assert unknown.exit_code == 1 and "no listing demo_market:404" in unknown.output
    assert not (tmp_path / "y.warc.gz").exists()


def test_purge_command_asks_then_purges(db_path):
    store = db.connect(db_path)
    with db.write_transaction(store):
        store.execute(
            "INSERT INTO decisions (listing_pk, user, action, reason, created_at) "
            "VALUES (3, 'ann', 'dismiss', 'false_positive', '2020-01-01T00:00:00.000000Z')"
        )
        db.append_chain(store, "decision", 1)
    store.close()
    declined = run("purge", "--dismissed-older-than", "30", "--db", db_path, input="n\n")
    assert declined.exit_code == 1 and "1 bodies" in declined.output
    result = run("purge", "--dismissed-older-than", "30", "--db", db_path, "--yes", "--actor", "dpo")
    assert result.exit_code == 0 and "Purged 1 bodies" in result.output
    assert run("verify", "--db", db_path).exit_code == 0
    assert "Nothing to purge" in run("purge", "--dismissed-older-than", "30", "--db", db_path, "--yes").output
    shown = run("show", "demo_market:1003", "--db", db_path).output
    assert "[body purged]" in shown


def test_verify_does_not_migrate_the_store_it_checks(db_path):
    import sqlite3

    conn = sqlite3.connect(db_path)
    conn.execute("DELETE FROM _sqlite_migrations WHERE migration_set != 'keywatch.evidence'")
    conn.commit()
    before = conn.execute("SELECT count(*) FROM _sqlite_migrations").fetchone()[0]
    conn.close()
    assert run("verify", "--db", db_path).exit_code == 0
    conn = sqlite3.connect(db_path)
    assert conn.execute("SELECT count(*) FROM _sqlite_migrations").fetchone()[0] == before


def test_verify_leaves_the_database_file_byte_identical(db_path):
    import hashlib

    store = db.connect(db_path)
    store.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    store.close()
    before = hashlib.sha256(db_path.read_bytes()).hexdigest()
    assert run("verify", "--db", db_path).exit_code == 0
    assert hashlib.sha256(db_path.read_bytes()).hexdigest() == before


def test_hits_csv_defuses_formula_titles_and_jsonl_keeps_them(tmp_path):
    import csv as csv_module
    import io

    from click.testing import CliRunner

    import db
    from keywatch.cli import cli
    from tests.support.items import make_item

    path = tmp_path / "k.sqlite"
    store = db.connect(path)
    db.save_capture(store, make_item("F-1", title='=HYPERLINK("http://evil.example","Relay box")', seller="@seller"))
    store.conn.close()
    out = CliRunner().invoke(cli, ["hits", "--format", "csv", "--db", str(path)])
    assert out.exit_code == 0, out.output
    [row] = list(csv_module.DictReader(io.StringIO(out.output)))
    assert row["title"] == '\'=HYPERLINK("http://evil.example","Relay box")' and row["seller"] == "'@seller"
    out = CliRunner().invoke(cli, ["hits", "--format", "jsonl", "--db", str(path)])
    assert '"title": "=HYPERLINK' in out.output


# ---------------------------------------------------------------- hostile text on the officer's terminal

HOSTILE = (
    "\x1b]0;owned\x07\x1b]8;;http://evil.example\x1b\\click\x1b]8;;\x1b\\ \x1b[2J\x1b[31mRelay box"
    "\x9b2J\x9d0;c1\x9c \u202egnp.exe\u2066x\u2069 \u200bzero\ufeff\x00nul\rCR\nLF\ttab\x7f\u2028end"
)


def _terminal_safe(text):
    """Nothing a terminal would act on: no control or format character other than the line breaks we print."""
    import unicodedata

    bad = sorted(
        {f"U+{ord(ch):04X}" for ch in text if ch != "\n" and unicodedata.category(ch) in ("Cc", "Cf", "Zl", "Zp")}
    )
    assert not bad, f"raw control characters reach the terminal: {bad}"
    return text


@pytest.fixture
def hostile_db(tmp_path):
    path = tmp_path / "hostile.sqlite"
    store = db.connect(path)
    db.save_capture(
        store,
        make_item(
            "666",
            title=HOSTILE,
            seller="\u202eresu_\x1b[8mhidden",
            price="1\x1b[2J",
            response_url="http://127.0.0.1:8000/item/666?\x1b]0;x\x07",
        ),
    )
    store.close()
    return path


def run_on_terminal(*args):
    # color=True: click then passes escape sequences through as it does to a real terminal.
    return CliRunner().invoke(cli, [str(a) for a in args], catch_exceptions=False, color=True)


def test_show_and_hits_print_seller_text_escaped(hostile_db):
    for args in (["show", "demo_market:666"], ["hits"]):
        result = run_on_terminal(*args, "--db", hostile_db)
        assert result.exit_code == 0, result.output
        _terminal_safe(result.output)
        assert "\\x1b]0;owned\\x07" in result.output and "\\u202eresu_\\x1b[8mhidden" in result.output, args
    shown = run_on_terminal("show", "demo_market:666", "--db", hostile_db).output
    assert "\\rCR\\nLF\\ttab" in shown and "\\x9b2J" in shown and "\\u202egnp.exe" in shown
    # The store keeps no NUL in extracted fields (it becomes U+FFFD, docs/evidence.md): nothing to escape.
    assert "\ufffdnul" in shown


def test_json_outputs_stay_exact_valid_and_terminal_safe(hostile_db):
    result = run_on_terminal("hits", "--format", "jsonl", "--db", hostile_db)
    [row] = [json.loads(line) for line in _terminal_safe(result.output).splitlines()]
    stored = HOSTILE.replace("\x00", "\ufffd")  # the store keeps no NUL in extracted fields
    assert row["title"] == stored and row["seller"] == "\u202eresu_\x1b[8mhidden"
    data = json.loads(_terminal_safe(run_on_terminal("show", "demo_market:666", "--json", "--db", hostile_db).output))
    assert data["listing"]["title"] == stored


def test_json_output_keeps_letters_readable(tmp_path):
    path = tmp_path / "letters.sqlite"
    store = db.connect(path)
    db.save_capture(store, make_item("7", title="Programmateur de clés Ключ"))
    store.close()
    assert "Programmateur de clés Ключ" in run("hits", "--format", "jsonl", "--db", path).output


def test_csv_keeps_seller_text_exact(hostile_db):
    rows = list(csv.DictReader(io.StringIO(run("hits", "--format", "csv", "--db", hostile_db).output, newline="")))
    assert rows[0]["title"] == HOSTILE.replace("\x00", "\ufffd")


def test_verify_problems_print_stored_text_escaped(hostile_db):
    import sqlite3

    conn = sqlite3.connect(hostile_db)
    conn.execute("DROP TRIGGER chain_no_update")
    conn.execute("UPDATE chain SET record_type = 'capture\x1b]0;forged\x07' WHERE seq = 1")
    conn.commit()
    conn.close()
    result = run_on_terminal("verify", "--db", hostile_db)
    assert result.exit_code == 1 and "capture\\x1b]0;forged\\x07" in result.output
    _terminal_safe(result.output)


# ---------------------------------------------------------------- option values: an error line, never a traceback


@pytest.mark.parametrize("days", ["inf", "nan", "NaN", "1e308", "1e6", "-5", "-inf", "ten"])
def test_purge_refuses_days_that_are_not_a_retention_period(db_path, days):
    result = CliRunner().invoke(cli, ["purge", f"--dismissed-older-than={days}", "--yes", "--db", str(db_path)])
    assert result.exit_code == 2, result  # a usage error, as for any bad option value; not a traceback
    assert "Invalid value for '--dismissed-older-than'" in result.output.splitlines()[-1]


@pytest.mark.parametrize("run_id", ["99999999999999999999", "-99999999999999999999", "9223372036854775808", "0"])
def test_warc_refuses_a_run_id_that_cannot_exist(db_path, tmp_path, run_id):
    out = tmp_path / "x.warc.gz"
    result = CliRunner().invoke(cli, ["warc", f"--run={run_id}", "--out", str(out), "--db", str(db_path)])
    assert result.exit_code == 2, result
    assert "Invalid value for '--run'" in result.output.splitlines()[-1]
    assert not out.exists()


def test_largest_run_id_is_just_not_found(db_path, tmp_path):
    result = run("warc", "--run", 2**63 - 1, "--out", tmp_path / "x.warc.gz", "--db", db_path)
    assert result.exit_code == 1 and "no crawl run" in result.output


def test_verify_anchor_must_be_a_sha256_and_case_does_not_matter(db_path):
    store = db.connect(db_path)
    head = db.chain_head(store)
    store.close()
    assert run("verify", "--db", db_path, "--anchor", head.upper()).exit_code == 0
    bad = CliRunner().invoke(cli, ["verify", "--db", str(db_path), "--anchor", "abc"])
    assert bad.exit_code == 2 and "Invalid value for '--anchor'" in bad.output


@pytest.mark.parametrize("suffix", ["", "-wal", "-shm"])
def test_warc_never_writes_over_the_store(db_path, suffix):
    before = db_path.read_bytes()
    result = run("warc", "--all", "--out", f"{db_path}{suffix}", "--db", db_path)
    assert result.exit_code == 1 and "is the evidence store" in result.output
    assert db_path.read_bytes() == before
    assert run("verify", "--db", db_path).exit_code == 0


def test_purge_works_without_a_login_name(db_path, monkeypatch):
    import getpass

    def no_login_name():
        raise KeyError("getpwuid(): uid not found: 4242")

    monkeypatch.setattr(getpass, "getuser", no_login_name)
    result = CliRunner().invoke(cli, ["purge", "--dismissed-older-than", "30", "--yes", "--db", str(db_path)])
    assert result.exit_code == 0 and result.exception is None, result.output
