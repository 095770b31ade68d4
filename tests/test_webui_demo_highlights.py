"""The listing page's highlights on real classifier output: the demo crawl's every hit, through the app."""

import html
import json
import re

import pytest

import db
from db import accounts
from tests.support.cli import run_keywatch
from tests.support.desk import login
from webui import auth, create_app
from webui.highlight import segments

pytestmark = pytest.mark.usefixtures("fast_password_hashes")


def test_every_demo_hit_is_highlighted_exactly_where_the_classifier_matched(demo_market, tmp_path):
    path = tmp_path / "demo.sqlite"
    run_keywatch("crawl", "demo_market", "-a", f"base_url={demo_market.url}", "--db", path, "-s", "LOG_LEVEL=WARNING")
    store = db.connect(path)
    accounts.add_user(store, "alice", auth.hash_password("correct-horse-battery"), role="admin")
    rows = store.conn.execute(
        "SELECT l.pk, c.fields, k.matches FROM listings l JOIN classifications k ON k.id = l.classification_id "
        "JOIN captures c ON c.id = k.capture_id WHERE l.flagged = 1"
    ).fetchall()
    store.conn.close()
    assert len(rows) >= 30
    client = create_app(path, TESTING=True).test_client()
    login(client, "alice", "correct-horse-battery")
    highlighted = 0
    for pk, fields, matches in rows:
        fields, matches = json.loads(fields), json.loads(matches)
        shown = [m for m in matches if m["field"] in ("title", "description")]
        highlighted += bool(shown)
        for m in shown:
            assert fields[m["field"]][m["start"] : m["end"]] == m["text"], (pk, m)
        page = client.get(f"/listing/{pk}").text
        marked = [html.unescape(t) for t in re.findall(r'<mark class="[^"]*" title="[^"]*">(.*?)</mark>', page)]
        expected = [s.text for f in ("title", "description") for s in segments(fields.get(f), matches, f) if s.terms]
        assert marked == expected, pk
        for m in shown:
            assert any(m["text"] in text for text in marked), (pk, m["text"])
    assert highlighted >= 30
