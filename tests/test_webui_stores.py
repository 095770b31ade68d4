"""The desk keeps one store connection per thread (webui/stores.py), and still notices a store migrated by another
process or replaced at the same path, and never hands a request's unfinished transaction to the next one."""

from __future__ import annotations

import shutil
import sqlite3
import threading

import pytest

import db
from tests.support.items import make_item
from webui.stores import Stores


@pytest.fixture
def path(tmp_path):
    path = tmp_path / "keywatch.sqlite"
    db.connect(path).conn.close()
    return path


def test_a_thread_gets_the_same_connection_back_and_another_thread_its_own(path):
    stores = Stores(path)
    first = stores.acquire()
    stores.release(first)
    assert stores.acquire() is first
    other = []
    thread = threading.Thread(target=lambda: other.append(stores.acquire()))
    thread.start()
    thread.join()
    assert other[0] is not first


def test_a_store_migrated_by_a_newer_keywatch_meanwhile_is_refused(path):
    stores = Stores(path)
    stores.release(stores.acquire())
    newer = sqlite3.connect(path)
    newer.execute(
        "INSERT INTO _sqlite_migrations (migration_set, name, applied_at) "
        "VALUES ('keywatch.evidence', 'evidence_v99_from_the_future', '2031-01-01 00:00:00')"
    )
    newer.commit()
    newer.close()
    with pytest.raises(db.StoreTooNew):
        stores.acquire()


def test_a_store_replaced_at_the_same_path_is_opened_again(path, tmp_path):
    stores = Stores(path)
    held = stores.acquire()
    stores.release(held)
    other = tmp_path / "other.sqlite"
    store = db.connect(other)
    db.save_capture(store, make_item("9001", title="Only in the other store"))
    store.conn.close()
    replacement = tmp_path / "replacement.sqlite"
    shutil.copyfile(other, replacement)
    replacement.replace(path)  # a new file (inode) at the same path, as a restore from a backup makes
    store = stores.acquire()
    assert store is not held
    assert [r["title"] for r in store.query("SELECT title FROM listings")] == ["Only in the other store"]


def test_a_transaction_a_request_left_open_is_rolled_back_not_handed_on(path):
    stores = Stores(path)
    store = stores.acquire()
    store.conn.execute("BEGIN IMMEDIATE")
    store.conn.execute("INSERT INTO marketplaces_seen (marketplace) VALUES ('left_open')")
    stores.release(store)
    assert not store.conn.in_transaction
    again = stores.acquire()
    assert again.execute("SELECT count(*) FROM marketplaces_seen WHERE marketplace = 'left_open'").fetchone()[0] == 0


def test_a_write_by_another_process_is_seen_by_the_next_request(desk):
    from tests.support.desk import logged_in

    client = logged_in(desk.app, "bob")
    assert "Seen only after the first request" not in client.get("/?status=all").text
    writer = db.connect(desk.path)
    db.save_capture(writer, make_item("9002", title="Seen only after the first request"))
    writer.conn.close()
    assert "Seen only after the first request" in client.get("/?status=all").text
