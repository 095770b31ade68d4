"""Reading commands open the store read-only: no byte of an examiner's copy changes, nothing is created next to
it, a foreign or empty file is refused (not given a schema), and a store from a newer keywatch is refused.

Tests run as root, which ignores file permissions: what they check is what matters (the file's SHA-256, the
side files, the journal mode byte), and the write-protected case uses `chattr +i`, which binds root too.
"""

import contextlib
import hashlib
import os
import re
import shutil
import sqlite3
import subprocess

import pytest
from click.testing import CliRunner

import db
from exports.pack import write_pack
from keywatch.cli import cli
from tests.support.items import make_item

SIDE_FILES = ("-wal", "-shm", "-journal")


def run(*args):
    return CliRunner().invoke(cli, [str(a) for a in args], catch_exceptions=False)


def reading_commands(path, tmp_path):
    """Every command that only reads the store, with arguments that make it read."""
    pack = tmp_path / "pack.zip"
    if not pack.exists():
        write_pack(pack, {"listings.csv": b"a,b\n"}, notice_number="KW-2026-0001")
    return [
        ["verify"],
        ["hits"],
        ["hits", "--format", "jsonl"],
        ["show", "demo_market:1001"],
        ["warc", "--all", "--out", tmp_path / "out.warc.gz"],
        ["user", "list"],
        ["retailer", "list"],
        ["report"],
        ["verify-pack", pack],
        ["reclassify", "--dry-run"],
    ]


def sha256(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()


def side_files(path):
    return sorted(p.name for p in path.parent.iterdir() if p.name != path.name and p.name.startswith(path.name))


def journal_mode_bytes(path):
    """Bytes 18-19 of the header: 1,1 for a rollback journal, 2,2 for WAL."""
    return path.read_bytes()[18:20]


def make_store(path, *, journal_mode="wal"):
    store = db.connect(path)
    db.save_capture(store, make_item("1001"))
    db.save_capture(store, make_item("1002", title="Smart key programmer"))
    if journal_mode != "wal":
        store.execute(f"PRAGMA journal_mode = {journal_mode}")
    store.close()
    assert side_files(path) == []
    return path


@pytest.fixture
def store_path(tmp_path):
    return make_store(tmp_path / "evidence" / "store.sqlite")


@pytest.mark.parametrize("journal_mode", ["wal", "delete"])
def test_reading_commands_change_no_byte_and_create_no_file(tmp_path, journal_mode):
    path = make_store(tmp_path / "evidence" / "store.sqlite", journal_mode=journal_mode)
    before, mode = sha256(path), journal_mode_bytes(path)
    for args in reading_commands(path, tmp_path):
        result = run(*args, "--db", path)
        assert result.exit_code == 0, (args, result.output)
        assert sha256(path) == before, args
        assert side_files(path) == [], args
        assert journal_mode_bytes(path) == mode, args


@pytest.mark.parametrize("content", [b"", b"not a database at all " * 200], ids=["empty", "garbage"])
def test_reading_commands_refuse_an_empty_or_non_sqlite_file_and_leave_it_alone(tmp_path, content):
    path = tmp_path / "evidence" / "x.sqlite"
    path.parent.mkdir()
    path.write_bytes(content)
    for args in reading_commands(path, tmp_path):
        result = run(*args, "--db", path)
        assert result.exit_code == 1, (args, result.output)
        assert "not a keywatch evidence store" in result.output and result.output.count("\n") == 1, args
        assert path.read_bytes() == content and side_files(path) == [], args


def test_reading_commands_give_no_schema_to_a_foreign_database(tmp_path):
    path = tmp_path / "evidence" / "other.sqlite"
    path.parent.mkdir()
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE recipes (name TEXT)")
    conn.commit()
    conn.close()
    before = sha256(path)
    for args in reading_commands(path, tmp_path):
        result = run(*args, "--db", path)
        assert result.exit_code == 1 and "not a keywatch evidence store" in result.output, (args, result.output)
        assert sha256(path) == before and side_files(path) == [], args


def _from_the_future(path):
    conn = sqlite3.connect(path)
    conn.execute(
        "INSERT INTO _sqlite_migrations (migration_set, name, applied_at) "
        "VALUES ('keywatch.evidence', 'evidence_v99_from_the_future', '2031-01-01 00:00:00')"
    )
    conn.commit()
    conn.close()


def test_a_store_from_a_newer_keywatch_is_refused_in_one_line(store_path, tmp_path):
    _from_the_future(store_path)
    before = sha256(store_path)
    commands = reading_commands(store_path, tmp_path) + [["purge", "--dismissed-older-than", "30", "--yes"]]
    for args in commands:
        result = run(*args, "--db", store_path)
        assert result.exit_code == 1, (args, result.output)
        assert "newer keywatch" in result.output and "evidence_v99_from_the_future" in result.output, args
        assert result.output.count("\n") == 1, (args, result.output)
    assert sha256(store_path) == before


def test_writing_on_a_newer_store_is_refused_by_connect(store_path):
    _from_the_future(store_path)
    with pytest.raises(db.StoreTooNew):
        db.connect(store_path)


def test_reading_sees_transactions_still_in_the_wal_of_a_live_store(store_path):
    """A crawl holding the store open: its committed captures are in the -wal; a reader must see them."""
    writer = db.connect(store_path)
    writer.execute("PRAGMA wal_autocheckpoint = 0")
    db.save_capture(writer, make_item("1003", title="Key emulator, fresh from a running crawl"))
    try:
        result = run("hits", "--db", store_path, "--format", "jsonl")
        assert result.exit_code == 0 and "fresh from a running crawl" in result.output
        assert run("verify", "--db", store_path).exit_code == 0
    finally:
        writer.close()


def test_a_change_during_an_unlocked_read_is_reported_not_trusted(store_path):
    with pytest.raises(db.StoreChanged):
        with db.read_only(store_path) as store:
            assert store["captures"].count == 2
            writer = db.connect(store_path)
            db.save_capture(writer, make_item("1003"))
            writer.close()  # checkpoints into the main file and removes the -wal


def test_read_only_store_refuses_writes(store_path):
    with db.read_only(store_path) as store:
        with pytest.raises(sqlite3.OperationalError, match="readonly"):
            store.execute("INSERT INTO crawl_runs (spider, started_at) VALUES ('x', 'y')")


def test_an_older_store_still_verifies_and_a_missing_table_is_one_line(tmp_path):
    """A store made before the review desk existed: verify reads it; `user list` explains instead of crashing."""
    import sqlite_utils

    from db.schema import migrations

    path = tmp_path / "old.sqlite"
    old = sqlite_utils.Database(path)
    migrations.apply(old)
    db.save_capture(old, make_item("1001"))
    old.close()
    before = sha256(path)
    assert run("verify", "--db", path).exit_code == 0
    result = run("user", "list", "--db", path)
    assert result.exit_code == 1 and "older keywatch" in result.output and result.output.count("\n") == 1
    assert sha256(path) == before and side_files(path) == []


@contextlib.contextmanager
def write_protected(folder):
    """The examiner's copy: files 0444 in a 0555 folder; as root also `chattr +i`, which root cannot write past."""
    files = [p for p in folder.iterdir()]
    immutable = os.geteuid() == 0
    if immutable and not shutil.which("chattr"):
        pytest.skip("running as root without chattr: cannot make a folder root cannot write to")
    for file in files:
        file.chmod(0o444)
    folder.chmod(0o555)
    try:
        if immutable:
            done = subprocess.run(["chattr", "+i", *files, folder], capture_output=True)
            if done.returncode != 0:
                pytest.skip(f"chattr +i not permitted here: {done.stderr.decode().strip()}")
        yield folder
    finally:
        if immutable:
            subprocess.run(["chattr", "-i", *files, folder], capture_output=True)
        folder.chmod(0o755)
        for file in files:
            file.chmod(0o644)


def test_reading_commands_work_on_a_write_protected_copy(store_path, tmp_path):
    before = sha256(store_path)
    with write_protected(store_path.parent):
        for args in reading_commands(store_path, tmp_path):
            result = run(*args, "--db", store_path)
            assert result.exit_code == 0, (args, result.output)
        assert re.fullmatch(r"\d+ records, chain head [0-9a-f]{64}\n", run("verify", "--db", store_path).output)
        assert "Smart key programmer" in run("hits", "--db", store_path).output
    assert sha256(store_path) == before and side_files(store_path) == []


@pytest.mark.parametrize("with_shm", [True, False])
def test_a_write_protected_copy_taken_with_its_wal(store_path, tmp_path, with_shm):
    """Copied while a crawl had it open: the newest capture is only in the -wal. It is read with the copy's
    -shm; without one SQLite cannot read the -wal in a folder it cannot write, and the command says what to do."""
    writer = db.connect(store_path)
    writer.execute("PRAGMA wal_autocheckpoint = 0")
    db.save_capture(writer, make_item("1003", title="Key emulator only in the wal"))
    copy = tmp_path / "copy"
    copy.mkdir()
    for suffix in ("", "-wal", "-shm") if with_shm else ("", "-wal"):
        shutil.copy(f"{store_path}{suffix}", copy / f"store.sqlite{suffix}")
    writer.close()
    path = copy / "store.sqlite"
    with write_protected(copy):
        result = run("hits", "--db", path)
        if with_shm:
            assert result.exit_code == 0 and "only in the wal" in result.output
        else:
            assert result.exit_code == 1 and result.output.count("\n") == 1
            assert "copy the store and its -wal into a writable folder" in result.output


@pytest.mark.parametrize(
    "command", [["report", "--out"], ["warc", "--all", "--out"], ["export", "--marketplace", "demo_market", "--out"]]
)
def test_no_output_file_replaces_the_store(store_path, command):
    before = sha256(store_path)
    for target in (store_path, f"{store_path}-wal"):
        result = run(*command, target, "--db", store_path)
        assert result.exit_code == 1 and "is the evidence store" in result.output, (command, result.output)
    assert sha256(store_path) == before and side_files(store_path) == []
