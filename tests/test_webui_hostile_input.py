"""Hostile input on the review desk (issue 10): odd URLs and forms get a clear 4xx, never a 500, and text that a
seller wrote cannot disguise itself with bidirectional controls."""

import re

import pytest

import db
from tests.support.desk import decisions_in, login, make_desk, token_of
from tests.support.items import make_item
from webui import create_app, views

pytestmark = pytest.mark.usefixtures("fast_password_hashes")


@pytest.mark.parametrize(
    "url, status, says",
    [
        ("/?q=%00", 200, "Review queue"),
        ("/?q=relay%00box", 200, "Review queue"),
        ("/listing/99999999999999999999", 404, "Not Found"),
        ("/listing/9223372036854775808", 404, "Not Found"),
        ("/capture/9223372036854775808/page", 404, "Not Found"),
        ("/report?since=9999-12-31T23:59:59-23:59", 400, "since"),
        ("/report?since=0001-01-01T00:00:00%2B23:59", 400, "since"),
    ],
)
def test_odd_urls_get_a_clear_answer_not_a_500(bob, url, status, says):
    response = bob.get(url)
    assert response.status_code == status, response.text[:300]
    assert says in response.text


def test_a_page_cursor_that_is_not_one_shows_the_first_page(bob):
    for query in ("page=9223372036854775807", "page=x", "after=99999999999999999999999", "after=x~y~z~1", "before=-3~"):
        response = bob.get(f"/?{query}")
        assert response.status_code == 200, query
        assert len(re.findall(r'<tr id="row-', response.text)) == 5, query
    for before in ("99999999999999999999999", "x", "-1"):
        assert bob.get(f"/audit?before={before}").status_code == 200


def test_a_search_for_a_nul_still_searches_the_other_words(bob, desk):
    _, _, pks = desk
    page = bob.get("/?q=headlight%00").text
    assert re.findall(r'data-pk="(\d+)"', page) == [str(pks["KW-1003"])]


@pytest.mark.parametrize("value", ["²", "٣", "1e3", "-1", "99999999999999999999999"])
def test_a_bulk_decision_with_a_strange_listing_number_records_nothing(bob, desk, value):
    _, path, pks = desk
    response = bob.post(
        "/seller/decide",
        data={
            "csrf_token": token_of(bob, "/"),
            "marketplace": "demo",
            "seller": "nightshift_tools",
            "action": "escalate",
            "listing_pk": [value],
            "next": f"/listing/{pks['KW-1004']}",
        },
        follow_redirects=True,
    )
    assert response.status_code == 200
    assert "no listings to decide on" in response.text
    assert decisions_in(path) == []


def test_an_htmx_decision_with_a_hostile_next_is_recorded_and_answered_as_recorded(bob, desk):
    _, path, pks = desk
    response = bob.post(
        f"/listing/{pks['KW-1001']}/decide",
        data={"action": "escalate", "next": "/?q=%00&page=x"},
        headers={"HX-Request": "true", "X-CSRF-Token": token_of(bob, "/")},
    )
    assert response.status_code == 200
    assert "status-escalated" in response.text
    assert [d["action"] for d in decisions_in(path)] == ["escalate"]


def test_a_recorded_htmx_decision_is_never_answered_with_an_error(bob, desk, monkeypatch):
    """Whatever goes wrong while drawing the updated row, the decision is in the store: say so, don't 500."""
    _, path, pks = desk
    token = token_of(bob, "/")

    def broken(*args, **kwargs):
        raise RuntimeError("drawing the tabs failed")

    monkeypatch.setattr(views, "tabs_context", broken)
    response = bob.post(
        f"/listing/{pks['KW-1001']}/decide",
        data={"action": "escalate", "next": "/"},
        headers={"HX-Request": "true", "X-CSRF-Token": token},
    )
    assert response.status_code == 200
    assert response.headers["HX-Refresh"] == "true"  # htmx reloads the page, which shows the recorded state
    assert [d["action"] for d in decisions_in(path)] == ["escalate"]


# ---------------------------------------------------------------- bidirectional controls in seller text

RLO = "\u202e"
BIDI_CONTROLS = re.compile("[\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def visible_text(page: str) -> str:
    """The page without its attribute values (hidden inputs keep the seller's exact bytes, and must)."""
    return re.sub(r'="[^"]*"', '=""', page)


@pytest.fixture
def disguised(tmp_path):
    path = tmp_path / "k.sqlite"
    make_desk(path)
    store = db.connect(path)
    item = make_item(
        "RLO-1",
        marketplace="demo",
        seller=f"invoice{RLO}gnp.exe",
        title=f"Relay box {RLO}tinu 2",
        description=f"Keyless {RLO}yaler box, boxed",
        url=f"http://127.0.0.1/item/{RLO}1",
        extra={f"Loc{RLO}ation": f"Birm{RLO}ingham"},
    )
    db.save_capture(store, item)
    db.save_capture(store, make_item("RLO-2", marketplace="demo", seller=f"invoice{RLO}gnp.exe", title="Other kit"))
    pk = store.conn.execute("SELECT pk FROM listings WHERE listing_id = 'RLO-1'").fetchone()[0]
    store.conn.close()
    client = create_app(path, TESTING=True).test_client()
    login(client, "alice")
    token = token_of(client, "/")
    client.post(f"/listing/{pk}/decide", data={"action": "note", "note": f"seller says {RLO}kcab", "csrf_token": token})
    return client, pk


def test_bidi_controls_in_seller_text_are_shown_not_obeyed(disguised):
    client, pk = disguised
    for url in (f"/listing/{pk}", "/?q=relay", "/audit"):
        page = client.get(url).text
        assert not BIDI_CONTROLS.search(visible_text(page)), url
        assert '<span class="char-code" title="U+202E RIGHT-TO-LEFT OVERRIDE">U+202E</span>' in page, url
    page = client.get(f"/listing/{pk}").text
    assert (
        '<bdi>invoice<span class="char-code" title="U+202E RIGHT-TO-LEFT OVERRIDE">U+202E</span>gnp.exe</bdi>' in page
    )
    # The bulk form still names the seller exactly as captured, so the decision reaches the right listings.
    assert f'name="seller" value="invoice{RLO}gnp.exe"' in page


def test_the_browser_tab_title_shows_the_control_too(disguised):
    client, pk = disguised
    title = re.search(r"<title>(.*?)</title>", client.get(f"/listing/{pk}").text).group(1)
    assert RLO not in title and "[U+202E]" in title
