"""A rendered page in the WARC: its screenshot and DOM as resource records, the responses it loaded and the photos
as response records, all of one rendering concurrent to its first record; warcio's tools read and check it."""

import json
import subprocess
import sys

from warcio.archiveiterator import ArchiveIterator

import db
from db.warc import select_captures, sha256_base32, write_warc
from tests.support.media import rendered_item

PAGE = "http://127.0.0.1:8000/item/1"


def exported(store, tmp_path):
    db.save_capture(store, rendered_item("1"))
    out = tmp_path / "rendered.warc.gz"
    result = write_warc(store, select_captures(store, listings=[("demo_market", "1")]), out)
    with open(out, "rb") as fh:
        records = [(r.rec_type, dict(r.rec_headers.headers), r.content_stream().read()) for r in ArchiveIterator(fh)]
    return out, result, records


def test_screenshot_and_dom_are_resource_records_and_loaded_responses_replay(store, tmp_path):
    _, result, records = exported(store, tmp_path)
    assert result.captures == 6 and result.records == len(records)
    stored = {r["purpose"]: r for r in store.query("SELECT purpose, sha256, url FROM captures")}
    resources = {h["WARC-Target-URI"]: (h, body) for kind, h, body in records if kind == "resource"}
    shot, shot_body = resources[f"urn:fullPage:{PAGE}"]
    assert shot["Content-Type"] == "image/png" and shot_body.startswith(b"\x89PNG")
    assert shot["WARC-Payload-Digest"] == sha256_base32(stored["attachment:screenshot"]["sha256"])
    dom, dom_body = resources[f"urn:dom:{PAGE}"]
    assert dom["Content-Type"] == "text/html; charset=utf-8" and b"Relay box 1" in dom_body
    responses = [h["WARC-Target-URI"] for kind, h, _ in records if kind == "response"]
    # The listing page as Scrapy fetched it, the same page as the browser loaded it, its stylesheet, the photo.
    assert sorted(responses) == sorted([PAGE, PAGE, "http://cdn.example/s.css", "http://img.example/1.png"])


def test_one_renderings_records_are_concurrent_to_its_first(store, tmp_path):
    _, _, records = exported(store, tmp_path)
    rendering = [
        h
        for kind, h, body in records
        if kind == "resource" or (kind == "response" and h["WARC-Target-URI"] in (PAGE, "http://cdn.example/s.css"))
    ]
    scrapy_page, first, *rest = rendering  # Scrapy's fetch of the page is its own capture event
    assert "WARC-Concurrent-To" not in scrapy_page and "WARC-Concurrent-To" not in first
    assert {h["WARC-Concurrent-To"] for h in rest} == {first["WARC-Record-ID"]} and len(rest) == 3
    metadata = [json.loads(body) for kind, h, body in records if kind == "metadata"]
    page_id = next(m["capture_id"] for m in metadata if m["purpose"] == "candidate")
    assert {m["fields"].get("attachment_of") for m in metadata if m["purpose"] != "candidate"} == {page_id}


def test_warcio_checks_every_digest_and_indexes_every_record(store, tmp_path):
    out, _, records = exported(store, tmp_path)
    warcio = [sys.executable, "-m", "warcio.cli"]
    check = subprocess.run(warcio + ["check", "-v", str(out)], capture_output=True, text=True)
    assert check.returncode == 0, check.stdout + check.stderr
    assert check.stdout.count("digest pass") == len(records)
    index = subprocess.run(warcio + ["index", str(out)], capture_output=True, text=True, check=True)
    indexed = [json.loads(line) for line in index.stdout.splitlines()]
    assert [line["warc-type"] for line in indexed] == [kind for kind, _, _ in records]
