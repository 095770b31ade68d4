"""The real pages of tests/real_pages.yaml, read from outside the repository; each is skipped when absent.

Pages come from $KEYWATCH_REAL_PAGES (default ../shared/fixtures/real) or the local cache that
scripts/fetch_real_pages.py fills from saved code-search answers. Nothing is fetched from the network.
"""

import hashlib
import os
from pathlib import Path

import pytest
import yaml
from scrapy import Request
from scrapy.http import HtmlResponse
from scrapy.utils.test import get_crawler

from tests.support.cli import REAL_FIXTURES, ROOT

MANIFEST = yaml.safe_load((ROOT / "tests" / "real_pages.yaml").read_text(encoding="utf-8"))["pages"]
PLACES = [
    Path(os.environ.get("KEYWATCH_REAL_PAGES") or REAL_FIXTURES),
    Path("~/.cache/keywatch/real_pages").expanduser(),
]


def spider_class(name):
    from scrapy.spiderloader import SpiderLoader
    from scrapy.utils.project import get_project_settings

    return SpiderLoader.from_settings(get_project_settings()).load(name)


def test_the_manifest_says_where_each_page_is_and_never_points_inside_the_repository():
    for entry in MANIFEST:
        assert {"file", "repo", "path", "commit", "spider", "kind", "url", "expected"} <= entry.keys(), entry
        assert len(entry["commit"]) == 40 and not (ROOT / entry["file"]).exists()
        assert entry["sha256"] is None or len(entry["sha256"]) == 64


@pytest.mark.parametrize("entry", MANIFEST, ids=lambda e: e["file"])
def test_real_page(entry):
    path = next((place / entry["file"] for place in PLACES if (place / entry["file"]).is_file()), None)
    if path is None:
        pytest.skip(f"{entry['file']} is not in {', '.join(map(str, PLACES))} (scripts/fetch_real_pages.py)")
    body = path.read_bytes()
    if entry["sha256"]:
        assert hashlib.sha256(body).hexdigest() == entry["sha256"]
    cls = spider_class(entry["spider"])
    spider = cls.from_crawler(get_crawler(cls))
    page = HtmlResponse(url=entry["url"], body=body, request=Request(entry["url"]))
    expected = entry["expected"] or {}
    if entry["kind"] == "search":
        cards = spider.parse_cards(page)
        if "listing_ids" in expected:
            assert [c["listing_id"] for c in cards] == expected["listing_ids"]
        return
    listing = spider.read_listing(page, spider.marketplace_of(entry["url"]) or spider.marketplace)
    assert {k: listing.get(k) for k in expected} == expected


def test_fetch_script_joins_saved_pieces_and_refuses_gaps(tmp_path, capsys):
    import json
    import runpy

    main = runpy.run_path(str(ROOT / "scripts" / "fetch_real_pages.py"))["main"]
    entry = MANIFEST[0]
    saved = tmp_path / "saved"
    saved.mkdir()
    where = {"repo": entry["repo"], "path": entry["path"], "commit": entry["commit"], "total_chars": 10}
    (saved / "a.json").write_text(json.dumps({**where, "offset": 0, "text": "<html>"}))
    assert main([str(saved), "--cache", str(tmp_path / "cache")]) == 0
    assert "missing  " + entry["file"] in capsys.readouterr().out
    (saved / "b.json").write_text(json.dumps({**where, "offset": 6, "text": "é</p"}))
    assert main([str(saved), "--cache", str(tmp_path / "cache")]) == 0
    assert (tmp_path / "cache" / entry["file"]).read_text(encoding="utf-8") == "<html>é</p"
    assert hashlib.sha256("<html>é</p".encode()).hexdigest() in capsys.readouterr().out
