"""The evidence commands through click's CliRunner: output shapes, errors as one line, exit codes."""

import csv
import io
import json

import click
import pytest
from click.testing import CliRunner
from warcio.archiveiterator import ArchiveIterator

import db
from db.testing import CLASSIFIED, make_item
from keywatch.commands import evidence


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
    db.save_capture(store, make_item("1002", title="Smart key programmer, all makes",
                                     classification={**CLASSIFIED, "category": "key_programmer", "score": 80.0}))
    db.save_capture(store, make_item("1003", title="Steering wheel lock",
                                     classification={**CLASSIFIED, "flagged": False, "category": None}))
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
    for args in (["hits"], ["verify"], ["show", "demo_market:1"], ["warc", "--all", "--out", tmp_path / "x.warc.gz"],
                 ["purge", "--dismissed-older-than", "30", "--yes"]):
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
    result = run("warc", "--listing", "demo_market:1001", "--listing", "demo_market:1002", "--out", out, "--db", db_path)
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
        store.execute("INSERT INTO decisions (listing_pk, user, action, reason, created_at) "
                      "VALUES (3, 'ann', 'dismiss', 'false_positive', '2020-01-01T00:00:00.000000Z')")
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
    from db.testing import make_item
    from keywatch.cli import cli

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
