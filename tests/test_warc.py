import gzip
import hashlib
import json
import subprocess
import sys

import pytest
from warcio.archiveiterator import ArchiveIterator

import db
from db.warc import WarcError, http_headers_for_replay, select_captures, sha256_base32, write_warc
from tests.support.items import make_item

BODY = b"<!doctype html><html><head><meta charset=utf-8></head><body>\xc2\xa3249.87 relay \x00\xff</body></html>"


@pytest.fixture
def warc_store(store):
    run_id = db.start_run(store, spider="demo_market", crawler_version="keywatch/0.1.0 scrapy/2.13")
    db.save_capture(
        store,
        make_item(
            "1",
            body=BODY,
            fetched_at="2026-11-28T10:00:00.123456Z",
            headers={
                "Content-Type": ["text/html; charset=utf-8"],
                "Content-Encoding": ["gzip"],
                "Content-Length": ["77"],
                "Set-Cookie": ["a=1", "b=2"],
            },
        ),
        run_id=run_id,
    )
    db.save_capture(store, make_item("2", fetched_at="2026-11-28T10:00:01Z", status=404), run_id=run_id)
    db.save_capture(store, make_item("1", body=b"later page", fetched_at="2026-11-29T00:00:00.5Z"))
    return store


def records(path):
    with open(path, "rb") as fh:
        for record in ArchiveIterator(fh, check_digests=True):
            yield record, record.content_stream().read()


def test_all_captures_read_back_byte_identical_with_matching_digests(warc_store, tmp_path):
    out = tmp_path / "all.warc.gz"
    result = write_warc(warc_store, select_captures(warc_store, all_captures=True), out)
    assert result.captures == 3 and result.records == 1 + 3 * 3
    stored = {c["url"] + "@" + c["fetched_at"]: c for c in warc_store.query("SELECT * FROM captures")}
    seen = 0
    types = []
    for record, payload in records(out):
        types.append(record.rec_type)
        assert record.rec_headers.protocol == "WARC/1.1"
        if record.rec_type != "response":
            continue
        capture = stored[
            record.rec_headers.get_header("WARC-Target-URI") + "@" + record.rec_headers.get_header("WARC-Date")
        ]
        body = db.captures.decompress_body(warc_store["bodies"].get(capture["sha256"])["body"], "zlib")
        assert payload == body
        assert hashlib.sha256(payload).hexdigest() == capture["sha256"]
        assert record.rec_headers.get_header("WARC-Payload-Digest") == sha256_base32(capture["sha256"])
        assert record.http_headers.get_statuscode() == str(capture["status"])
        seen += 1
    assert seen == 3
    assert types[0] == "warcinfo" and types.count("request") == 3 and types.count("metadata") == 3


def test_warc_date_keeps_microseconds_and_headers_are_made_replay_safe(warc_store, tmp_path):
    out = tmp_path / "one.warc.gz"
    write_warc(warc_store, select_captures(warc_store, listings=[("demo_market", "1")]), out)
    responses = [(r, p) for r, p in records(out) if r.rec_type == "response"]
    assert [r.rec_headers.get_header("WARC-Date") for r, _ in responses] == [
        "2026-11-28T10:00:00.123456Z",
        "2026-11-29T00:00:00.500000Z",
    ]
    first = responses[0][0].http_headers
    assert first.get_header("Content-Encoding") is None  # the stored body is already decoded
    assert first.get_header("X-Keywatch-Original-Content-Encoding") == "gzip"
    assert first.get_header("X-Keywatch-Original-Content-Length") == "77"
    assert first.get_header("Content-Length") == str(len(BODY))
    assert [v for k, v in first.headers if k == "Set-Cookie"] == ["a=1", "b=2"]


def test_request_and_metadata_records_point_at_the_response(warc_store, tmp_path):
    out = tmp_path / "run.warc.gz"
    write_warc(warc_store, select_captures(warc_store, run_id=1), out)
    by_type = {}
    for record, payload in records(out):
        by_type.setdefault(record.rec_type, []).append((record, payload))
    response_ids = {r.rec_headers.get_header("WARC-Record-ID") for r, _ in by_type["response"]}
    assert len(response_ids) == 2
    assert {r.rec_headers.get_header("WARC-Concurrent-To") for r, _ in by_type["request"]} == response_ids
    assert {r.rec_headers.get_header("WARC-Refers-To") for r, _ in by_type["metadata"]} == response_ids
    meta = json.loads(by_type["metadata"][0][1])
    assert meta["listing_id"] == "1" and meta["classification"]["category"] == "relay_attack"
    info = by_type["warcinfo"][0][1].decode()
    assert "keywatch" in info and "keywatch/0.1.0 scrapy/2.13" in info and db.chain_head(warc_store) in info


def test_warcio_command_line_tools_read_it(warc_store, tmp_path):
    out = tmp_path / "all.warc.gz"
    write_warc(warc_store, select_captures(warc_store, all_captures=True), out)
    warcio = [sys.executable, "-m", "warcio.cli"]
    index = subprocess.run(warcio + ["index", str(out)], capture_output=True, text=True, check=True)
    lines = [json.loads(line) for line in index.stdout.splitlines()]
    assert [line["warc-type"] for line in lines].count("response") == 3
    check = subprocess.run(warcio + ["check", "-v", str(out)], capture_output=True, text=True)
    assert check.returncode == 0, check.stdout + check.stderr
    assert check.stdout.count("digest pass") == len(lines)


def test_purged_captures_are_skipped_not_faked(warc_store, tmp_path):
    with db.write_transaction(warc_store):
        warc_store.execute(
            "INSERT INTO decisions (listing_pk, user, action, reason, created_at) "
            "VALUES (2, 'ann', 'dismiss', 'false_positive', '2026-01-01T00:00:00.000000Z')"
        )
        db.append_chain(warc_store, "decision", 1)
    assert len(db.purge_dismissed(warc_store, 30, "job").bodies) == 1
    result = write_warc(warc_store, select_captures(warc_store, all_captures=True), tmp_path / "x.warc.gz")
    assert result.captures == 2 and [s["capture_id"] for s in result.skipped] == [2]


def test_tampered_body_refuses_export_and_leaves_no_file(warc_store, tmp_path):
    warc_store.conn.execute("DROP TRIGGER bodies_no_update")
    warc_store.conn.execute(
        "UPDATE bodies SET body = ? WHERE size = ?", [db.captures.compress_body(b"forged"), len(BODY)]
    )
    warc_store.conn.commit()
    out = tmp_path / "x.warc.gz"
    with pytest.raises(WarcError, match="capture 1"):
        write_warc(warc_store, select_captures(warc_store, all_captures=True), out)
    assert list(tmp_path.iterdir()) == []


def test_choose_exactly_one_selection(warc_store):
    with pytest.raises(WarcError):
        select_captures(warc_store)
    with pytest.raises(WarcError):
        select_captures(warc_store, run_id=1, all_captures=True)
    with pytest.raises(WarcError, match="no listing"):
        select_captures(warc_store, listings=[("demo_market", "nope")])
    with pytest.raises(WarcError, match="no crawl run"):
        select_captures(warc_store, run_id=99)


def test_still_gzipped_body_keeps_its_content_encoding():
    gz = gzip.compress(b"hello")
    headers = http_headers_for_replay(200, {"Content-Encoding": ["gzip"], "Transfer-Encoding": ["chunked"]}, gz)
    assert headers.get_header("Content-Encoding") == "gzip"
    assert headers.get_header("Transfer-Encoding") is None
    assert headers.get_header("X-Keywatch-Original-Transfer-Encoding") == "chunked"
    assert headers.statusline == "200 OK"
