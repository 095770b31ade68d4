"""`verify --record-anchor` and `verify --since-anchor`: the incremental check covers what came after the last
full verify, checks that the anchor still matches the chain, and leaves what came before to the full verify."""

import pytest
from click.testing import CliRunner

import db
import db.verify_records
from db.anchors import latest_anchor
from keywatch.cli import cli
from tests.support.items import make_item
from tests.test_verify import drop_append_only_triggers, flip


def verify(path, *options):
    return CliRunner().invoke(cli, ["verify", "--db", str(path), *options])


def store_with_anchor(path, before=5, after=3):
    """A store whose first `before` listings a full verify anchored, and `after` more captured since."""
    store = db.connect(path)
    db.save_captures(store, [make_item(f"old{n}", body=f"<p>old page {n}</p>".encode() * 50) for n in range(before)])
    store.close()
    recorded = verify(path, "--record-anchor")
    assert recorded.exit_code == 0, recorded.output
    assert "recorded verify anchor 1" in recorded.output
    store = db.connect(path)
    db.save_captures(store, [make_item(f"new{n}", body=f"<p>new page {n}</p>".encode() * 50) for n in range(after)])
    return store


def flip_body(store, listing_id):
    sha256 = store.execute(
        "SELECT c.sha256 FROM captures c JOIN listings l ON l.pk = c.listing_pk WHERE l.listing_id = ?", [listing_id]
    ).fetchone()[0]
    body = store.execute("SELECT body FROM bodies WHERE sha256 = ?", [sha256]).fetchone()[0]
    store.execute("UPDATE bodies SET body = ? WHERE sha256 = ?", [flip(body), sha256])
    store.conn.commit()


def test_since_anchor_checks_only_what_came_after_and_agrees_with_a_full_verify(tmp_path):
    path = tmp_path / "s.sqlite"
    store = store_with_anchor(path)
    anchor = latest_anchor(store)
    full = db.verify(store)
    assert full.ok
    result = verify(path, "--since-anchor")
    assert result.exit_code == 0, result.output
    assert f"since verify anchor 1 (chain record {anchor['seq']}" in result.output
    # The records after the anchor, ending at the same head as the full verify.
    assert f"{full.count - anchor['seq']} records, chain head {full.head}" in result.output


def test_a_flipped_byte_after_the_anchor_is_found_by_since_anchor(tmp_path):
    path = tmp_path / "s.sqlite"
    store = store_with_anchor(path)
    drop_append_only_triggers(store)
    flip_body(store, "new1")
    result = verify(path, "--since-anchor")
    assert result.exit_code == 1
    assert "stored body does not hash" in result.output or "cannot be decompressed" in result.output


def test_a_flipped_record_after_the_anchor_is_found_by_since_anchor(tmp_path):
    path = tmp_path / "s.sqlite"
    store = store_with_anchor(path)
    drop_append_only_triggers(store)
    store.execute("UPDATE captures SET url = url || 'x' WHERE id = (SELECT max(id) FROM captures)")
    store.conn.commit()
    result = verify(path, "--since-anchor")
    assert result.exit_code == 1 and "content hash mismatch" in result.output


def test_a_flipped_byte_before_the_anchor_is_left_to_the_full_verify(tmp_path):
    path = tmp_path / "s.sqlite"
    store = store_with_anchor(path)
    drop_append_only_triggers(store)
    flip_body(store, "old2")
    assert verify(path, "--since-anchor").exit_code == 0  # what the incremental check does not cover
    full = verify(path)
    assert full.exit_code == 1
    assert "stored body does not hash" in full.output or "cannot be decompressed" in full.output


@pytest.mark.parametrize(
    "edit",
    [
        "UPDATE verify_anchors SET head = replace(head, substr(head, 1, 1), 'x')",  # a head the chain never had
        "UPDATE verify_anchors SET seq = seq + 1",  # a position whose hash is another
        "UPDATE verify_anchors SET seq = 100000",  # past the end of the chain
    ],
)
def test_an_edited_anchor_does_not_match_the_chain(tmp_path, edit):
    path = tmp_path / "s.sqlite"
    store = store_with_anchor(path)
    store.execute(edit)
    store.conn.commit()
    result = verify(path, "--since-anchor")
    assert result.exit_code == 1 and "verify anchor 1" in result.output and "run a full verify" in result.output


def test_a_chain_rewritten_before_the_anchor_fails_the_anchor(tmp_path):
    path = tmp_path / "s.sqlite"
    store = store_with_anchor(path)
    drop_append_only_triggers(store)
    seq = latest_anchor(store)["seq"]
    store.execute("UPDATE chain SET hash = ? WHERE seq = ?", ["0" * 63 + "1", seq])
    store.conn.commit()
    result = verify(path, "--since-anchor")
    assert result.exit_code == 1 and "another hash" in result.output


def test_without_an_anchor_since_anchor_says_what_to_do(tmp_path):
    path = tmp_path / "s.sqlite"
    db.save_capture(db.connect(path), make_item("1"))
    result = verify(path, "--since-anchor")
    assert result.exit_code == 1 and "no verify anchor yet" in result.output
    assert verify(path, "--since-anchor", "--record-anchor").exit_code == 2


def test_a_failing_verify_records_no_anchor(tmp_path):
    path = tmp_path / "s.sqlite"
    store = db.connect(path)
    db.save_capture(store, make_item("1"))
    drop_append_only_triggers(store)
    flip_body(store, "1")
    assert verify(path, "--record-anchor").exit_code == 1
    assert latest_anchor(store) is None


def test_bodies_hashed_by_many_threads_find_what_one_finds(tmp_path):
    store = store_with_anchor(tmp_path / "s.sqlite", before=40, after=0)
    drop_append_only_triggers(store)
    for n in (3, 17, 31):
        flip_body(store, f"old{n}")
    one, many = db.verify(store, workers=1), db.verify(store, workers=4)
    assert len(one.problems) == 3 and [str(p) for p in one.problems] == [str(p) for p in many.problems]
    assert one.bodies == many.bodies == 40


def test_records_hashed_in_worker_processes_find_what_one_process_finds(tmp_path, monkeypatch):
    store = store_with_anchor(tmp_path / "s.sqlite", before=30, after=0)
    drop_append_only_triggers(store)
    store.execute("UPDATE captures SET url = url || 'x' WHERE id IN (3, 17)")
    store.execute("UPDATE listings SET marketplace = 'elsewhere' WHERE pk = 29")
    store.conn.commit()
    monkeypatch.setattr(db.verify_records, "PARALLEL_RECORDS", 0)  # a small store, checked as a large one is
    one, many = db.verify(store, workers=1), db.verify(store, workers=2)
    assert [str(p) for p in one.problems] == [str(p) for p in many.problems]
    assert sum("content hash mismatch" in str(p) for p in many.problems) == 3
