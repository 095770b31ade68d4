"""The review desk through Flask's test client: every route, the permissions, CSRF, throttling, decisions."""

import html
import re
import stat

import pytest

import db
from db import accounts
from tests.support.desk import HOSTILE_MARKER, USERS, decisions_in, login, token_of
from tests.support.items import make_item
from webui import create_app

pytestmark = pytest.mark.usefixtures("fast_password_hashes")


# ---------------------------------------------------------------- login required


def get_routes(pks, capture_id=1):
    return [
        "/",
        f"/listing/{pks['KW-1001']}",
        "/dashboard",
        "/report",
        "/audit",
        "/users",
        f"/capture/{capture_id}/page",
    ]


def test_anonymous_get_is_redirected_to_login(desk):
    app, _, pks = desk
    client = app.test_client()
    for url in get_routes(pks):
        response = client.get(url)
        assert response.status_code == 302, url
        assert response.headers["Location"].startswith("/login"), url


def test_anonymous_post_with_valid_token_is_still_refused(desk):
    app, path, pks = desk
    client = app.test_client()
    token = token_of(client)
    for url in (f"/listing/{pks['KW-1001']}/decide", "/seller/decide", "/users", "/users/bob/disable"):
        response = client.post(url, data={"csrf_token": token, "action": "escalate", "name": "x", "password": "y" * 12})
        assert response.status_code == 302 and response.headers["Location"].startswith("/login"), url
    assert decisions_in(path) == []
    assert [u.name for u in accounts.list_users(db.connect(path))] == ["alice", "bob"]


def test_htmx_request_without_session_gets_a_redirect_header_not_a_page(desk):
    app, _, pks = desk
    client = app.test_client()
    token = token_of(client)
    response = client.post(
        f"/listing/{pks['KW-1001']}/decide",
        data={"csrf_token": token, "action": "escalate"},
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 401
    assert response.headers["HX-Redirect"] == "/login"


def test_login_page_and_static_files_need_no_login(desk):
    app, _, _ = desk
    client = app.test_client()
    assert client.get("/login").status_code == 200
    assert client.head("/login").status_code == 200
    assert client.get("/").headers["Location"] == "/login?next=/"
    for name in ("htmx.min.js", "keys.js", "app.css"):
        response = client.get(f"/static/{name}")
        assert response.status_code == 200, name
        response.close()


def test_login_wrong_password_and_unknown_user_are_refused(desk):
    app, _, _ = desk
    client = app.test_client()
    assert login(client, "alice", "wrong-password").status_code == 401
    assert login(client, "nobody", "whatever-password").status_code == 401
    assert client.get("/").status_code == 302


def test_login_redirects_to_next_but_never_off_site(desk):
    app, _, pks = desk
    client = app.test_client()
    token = token_of(client)
    ok = client.post(
        "/login",
        data={
            "username": "bob",
            "password": USERS["bob"][1],
            "csrf_token": token,
            "next": f"/listing/{pks['KW-1002']}",
        },
    )
    assert ok.headers["Location"] == f"/listing/{pks['KW-1002']}"
    for evil in ("//evil.example/", "https://evil.example/", "/\\evil.example"):
        client = app.test_client()
        response = client.post(
            "/login",
            data={"username": "bob", "password": USERS["bob"][1], "csrf_token": token_of(client), "next": evil},
        )
        assert response.headers["Location"] == "/", evil


def test_logout_needs_post_with_token(alice):
    assert alice.get("/logout").status_code == 405
    assert alice.post("/logout").status_code == 400
    assert alice.get("/").status_code == 200
    assert alice.post("/logout", data={"csrf_token": token_of(alice, "/")}).status_code == 303
    assert alice.get("/").status_code == 302


# ---------------------------------------------------------------- throttling


def test_failed_logins_are_throttled_per_user_and_address(desk):
    app, path, _ = desk
    client = app.test_client()
    for _ in range(5):
        assert login(client, "bob", "not-his-password", ip="10.0.0.5").status_code == 401
    # The right password is refused too while the lock lasts: a guesser learns nothing.
    locked = login(client, "bob", ip="10.0.0.5")
    assert locked.status_code == 429
    assert "Too many failed attempts" in locked.text
    assert client.get("/").status_code == 302
    # Same user from another address, another user from the same address: unaffected.
    assert login(app.test_client(), "bob", ip="10.0.0.6").status_code == 303
    assert login(app.test_client(), "alice", ip="10.0.0.5").status_code == 303
    attempts = list(db.connect(path).query("SELECT username, ip, ok FROM login_attempts WHERE username = 'bob'"))
    assert sum(1 for a in attempts if a["ip"] == "10.0.0.5" and not a["ok"]) == 6


def test_throttle_window_expires(desk):
    app, _, _ = desk
    app.config["LOGIN_WINDOW_SECONDS"] = 0  # every earlier failure is already outside the window
    client = app.test_client()
    for _ in range(6):
        login(client, "bob", "not-his-password")
    assert login(client, "bob").status_code == 303


# ---------------------------------------------------------------- CSRF


@pytest.mark.parametrize("token", [None, "", "forged-token-value"])
def test_post_without_the_right_csrf_token_is_refused(alice, desk, token):
    _, path, pks = desk
    data = {"action": "confirm", "category": "relay_attack"}
    if token is not None:
        data["csrf_token"] = token
    response = alice.post(f"/listing/{pks['KW-1001']}/decide", data=data)
    assert response.status_code == 400
    response = alice.post("/users", data={**data, "name": "mallory", "password": "m" * 12, "role": "admin"})
    assert response.status_code == 400
    assert decisions_in(path) == []
    assert accounts.get_user(db.connect(path), "mallory") is None


def test_token_from_another_session_is_refused(desk, alice):
    app, path, pks = desk
    other = app.test_client()
    login(other, "bob")
    stolen = token_of(other, "/")
    response = alice.post(f"/listing/{pks['KW-1001']}/decide", data={"action": "escalate", "csrf_token": stolen})
    assert response.status_code == 400
    assert decisions_in(path) == []


def test_login_form_itself_needs_the_token(desk):
    app, _, _ = desk
    client = app.test_client()
    response = client.post("/login", data={"username": "alice", "password": USERS["alice"][1]})
    assert response.status_code == 400


def test_htmx_header_token_is_accepted(alice, desk):
    _, path, pks = desk
    token = token_of(alice, "/")
    response = alice.post(
        f"/listing/{pks['KW-1003']}/decide",
        data={"action": "escalate", "next": "/"},
        headers={"HX-Request": "true", "X-CSRF-Token": token},
    )
    assert response.status_code == 200
    assert response.text.lstrip().startswith(f'<tr id="row-{pks["KW-1003"]}"')
    assert "status-escalated" in response.text
    assert [d["action"] for d in decisions_in(path)] == ["escalate"]


# ---------------------------------------------------------------- roles


def test_reviewer_cannot_manage_users(bob, desk):
    _, path, _ = desk
    token = token_of(bob, "/")
    assert bob.get("/users").status_code == 403
    assert (
        bob.post("/users", data={"csrf_token": token, "name": "eve", "password": "e" * 12, "role": "admin"}).status_code
        == 403
    )
    assert bob.post("/users/alice/disable", data={"csrf_token": token}).status_code == 403
    assert 'href="/users"' not in bob.get("/").text
    store = db.connect(path)
    assert accounts.get_user(store, "eve") is None and not accounts.get_user(store, "alice").disabled


def test_admin_adds_and_disables_users_and_disabling_ends_sessions(alice, desk):
    app, path, _ = desk
    carol = app.test_client()
    token = token_of(alice, "/users")
    response = alice.post(
        "/users", data={"csrf_token": token, "name": "carol", "password": "carol-password", "role": "reviewer"}
    )
    assert response.status_code == 303
    assert login(carol, "carol", "carol-password").status_code == 303
    assert carol.get("/").status_code == 200
    assert alice.post("/users/carol/disable", data={"csrf_token": token}).status_code == 303
    assert accounts.get_user(db.connect(path), "carol").disabled
    assert carol.get("/").status_code == 302  # the open session ended at once
    assert login(carol, "carol", "carol-password").status_code == 401
    # Short passwords and duplicate names are refused with a message, not an error page.
    page = alice.post(
        "/users",
        data={"csrf_token": token, "name": "dave", "password": "short", "role": "reviewer"},
        follow_redirects=True,
    )
    assert "at least 10 characters" in page.text
    page = alice.post("/users", data={"csrf_token": token, "name": "bob", "password": "b" * 12}, follow_redirects=True)
    assert "already exists" in page.text


def test_admin_cannot_disable_themselves(alice, desk):
    _, path, _ = desk
    page = alice.post("/users/alice/disable", data={"csrf_token": token_of(alice, "/users")}, follow_redirects=True)
    assert "cannot disable your own account" in page.text
    assert not accounts.get_user(db.connect(path), "alice").disabled


# ---------------------------------------------------------------- decisions


def test_decisions_are_appended_with_audit_fields_and_chained(bob, desk):
    _, path, pks = desk
    pk = pks["KW-1002"]
    token = token_of(bob, "/")
    steps = [
        ({"action": "escalate", "note": "needs a second look"}, "pending", "escalated"),
        ({"action": "note", "note": "seller also on another site"}, "escalated", "escalated"),
        ({"action": "confirm", "category": "key_programmer"}, "escalated", "confirmed"),
        ({"action": "dismiss", "reason": "duplicate"}, "confirmed", "dismissed"),
    ]
    for data, _, _ in steps:
        response = bob.post(f"/listing/{pk}/decide", data={**data, "csrf_token": token})
        assert response.status_code == 303
        assert response.headers["Location"] == f"/listing/{pk}"
    rows = decisions_in(path, pk)
    assert [(r["action"], r["status_before"], r["status_after"]) for r in rows] == [
        (d["action"], before, after) for d, before, after in steps
    ]
    assert all(r["user"] == "bob" and r["created_at"].endswith("Z") for r in rows)
    assert rows[2]["category"] == "key_programmer" and rows[3]["reason"] == "duplicate"
    store = db.connect(path)
    chained = {r["record_id"] for r in store.query("SELECT record_id FROM chain WHERE record_type = 'decision'")}
    assert chained == {r["id"] for r in rows}
    assert db.verify(store).problems == []
    page = bob.get(f"/listing/{pk}").text
    assert "seller also on another site" in page and "confirmed → dismissed" in page


def test_decisions_cannot_be_edited_in_place(bob, desk):
    _, path, pks = desk
    bob.post(f"/listing/{pks['KW-1001']}/decide", data={"action": "escalate", "csrf_token": token_of(bob, "/")})
    store = db.connect(path)
    with pytest.raises(Exception, match="append-only"):
        store.execute("UPDATE decisions SET user = 'someone else'")
    with pytest.raises(Exception, match="append-only"):
        store.execute("DELETE FROM decisions")


@pytest.mark.parametrize(
    "data, message",
    [
        ({"action": "dismiss"}, "dismissing needs a reason"),
        ({"action": "dismiss", "reason": "other"}, "needs a note"),
        ({"action": "note"}, "a note needs some text"),
        ({"action": "delete"}, "action must be one of"),
    ],
)
def test_incomplete_decisions_are_refused_with_a_message(bob, desk, data, message):
    _, path, pks = desk
    page = bob.post(
        f"/listing/{pks['KW-1001']}/decide", data={**data, "csrf_token": token_of(bob, "/")}, follow_redirects=True
    )
    assert message in page.text
    assert decisions_in(path) == []


def test_confirm_with_unknown_category_is_refused(bob, desk):
    _, path, pks = desk
    response = bob.post(
        f"/listing/{pks['KW-1001']}/decide",
        data={"action": "confirm", "category": "toaster", "csrf_token": token_of(bob, "/")},
    )
    assert response.status_code == 400
    assert decisions_in(path) == []


def test_decision_on_missing_listing_is_refused(bob, desk):
    _, path, _ = desk
    page = bob.post(
        "/listing/9999/decide", data={"action": "escalate", "csrf_token": token_of(bob, "/")}, follow_redirects=True
    )
    assert "no listing with id 9999" in page.text
    assert decisions_in(path) == []


def test_bulk_decision_covers_only_that_sellers_open_listings(bob, desk):
    _, path, pks = desk
    token = token_of(bob, "/")
    # One of the seller's two listings is already dismissed; a listing of another seller is smuggled in.
    bob.post(
        f"/listing/{pks['KW-1003']}/decide", data={"action": "dismiss", "reason": "duplicate", "csrf_token": token}
    )
    response = bob.post(
        "/seller/decide",
        data={
            "csrf_token": token,
            "marketplace": "demo",
            "seller": "nightshift_tools",
            "action": "confirm",
            "category": "can_injection",
            "note": "same seller, same kit",
            "listing_pk": [str(pks["KW-1003"]), str(pks["KW-1004"]), str(pks["KW-1001"])],
            "next": f"/listing/{pks['KW-1004']}",
        },
    )
    assert response.status_code == 303
    rows = decisions_in(path)
    assert [(r["listing_pk"], r["action"]) for r in rows] == [(pks["KW-1003"], "dismiss"), (pks["KW-1004"], "confirm")]
    assert rows[1]["note"] == "same seller, same kit"
    assert db.verify(db.connect(path)).problems == []


def test_listing_page_offers_bulk_decision_for_seller_with_several_open_listings(bob, desk):
    _, _, pks = desk
    page = bob.get(f"/listing/{pks['KW-1004']}").text
    assert "Decide all 2 open listings by seller <bdi>nightshift_tools</bdi>" in page


# ---------------------------------------------------------------- queue


def queue_titles(client, **params):
    page = client.get("/", query_string=params).text
    return re.findall(r'data-pk="(\d+)"', page), page


def test_queue_orders_by_risk_then_score_and_hides_unflagged(bob, desk):
    _, _, pks = desk
    order, page = queue_titles(bob)
    expected = [
        "KW-1001",
        "KW-1003",
        "KW-1002",
        "KW-1005",
        "KW-1004",
    ]  # critical 96, critical 94, high 91, high 88, medium
    assert order == [str(pks[i]) for i in expected]
    assert "Faraday pouch" not in page
    assert re.search(r'Open <span class="count">5</span>', page)


def test_queue_filters(bob, desk):
    _, _, pks = desk
    assert queue_titles(bob, category="can_injection")[0] == [str(pks["KW-1003"])]
    assert queue_titles(bob, seller="autokeys_direct")[0] == [str(pks["KW-1001"]), str(pks["KW-1002"])]
    assert queue_titles(bob, marketplace="elsewhere")[0] == []
    assert queue_titles(bob, q="headlight")[0] == [str(pks["KW-1003"])]  # description words are searched too
    assert queue_titles(bob, q="all keys lost")[0] == [str(pks["KW-1002"])]
    assert queue_titles(bob, q='"NEAR( AND')[0] == []  # FTS syntax from users cannot break the query
    # first_seen: KW-1004 is 9 days old, KW-1005 16; KW-1001 was first captured 3 days ago.
    recent = queue_titles(bob, since=_days_ago(4))[0]
    assert str(pks["KW-1004"]) not in recent and str(pks["KW-1001"]) in recent
    assert queue_titles(bob, until=_days_ago(10))[0] == [str(pks["KW-1005"])]
    order, page = queue_titles(bob, since="not-a-date")
    assert len(order) == 5 and "Ignored the from date" in page


def _days_ago(days):
    import datetime

    return (datetime.datetime.now(datetime.UTC) - datetime.timedelta(days=days)).date().isoformat()


def test_queue_status_tabs_follow_decisions(bob, desk):
    _, _, pks = desk
    token = token_of(bob, "/")
    bob.post(
        f"/listing/{pks['KW-1001']}/decide", data={"action": "confirm", "category": "relay_attack", "csrf_token": token}
    )
    bob.post(f"/listing/{pks['KW-1002']}/decide", data={"action": "escalate", "csrf_token": token})
    open_rows, page = queue_titles(bob)
    assert str(pks["KW-1001"]) not in open_rows and str(pks["KW-1002"]) in open_rows
    assert re.search(r'Confirmed <span class="count">1</span>', page)
    assert queue_titles(bob, status="confirmed")[0] == [str(pks["KW-1001"])]
    assert queue_titles(bob, status="escalated")[0] == [str(pks["KW-1002"])]
    assert len(queue_titles(bob, status="all")[0]) == 5


# ---------------------------------------------------------------- listing and captured page


def test_listing_page_shows_evidence_with_highlights_escaped(bob, desk):
    _, path, pks = desk
    page = bob.get(f"/listing/{pks['KW-1001']}").text
    assert '<mark class="" title="keyless entry relay">Keyless Entry Relay</mark>' in page
    assert '<mark class="" title="relay box">relay box</mark>' in page
    store = db.connect(path)
    hashes = [r["sha256"] for r in store.query("SELECT sha256 FROM captures WHERE listing_pk = ?", [pks["KW-1001"]])]
    assert len(hashes) == 2 and all(h in page for h in hashes)
    assert "Other listings by this seller" in page and "Universal OBD2 Key Programmer" in page
    assert "first seen" in page and "classification" in page
    assert re.search(r'<iframe class="capture" sandbox=""', page)
    hostile = bob.get(f"/listing/{pks['KW-1005']}").text
    assert "<script>alert" not in hostile
    assert "&lt;script&gt;alert(&#39;not from us&#39;)&lt;/script&gt;" in hostile


def test_unknown_listing_is_404(bob):
    assert bob.get("/listing/9999").status_code == 404


def test_captured_page_is_served_sandboxed(bob, desk):
    _, path, pks = desk
    store = db.connect(path)
    capture_id = store.conn.execute("SELECT id FROM captures WHERE listing_pk = ?", [pks["KW-1005"]]).fetchone()[0]
    response = bob.get(f"/capture/{capture_id}/page")
    assert response.status_code == 200
    csp = [d.strip() for d in response.headers["Content-Security-Policy"].split(";")]
    assert "sandbox" in csp  # a bare sandbox: no allow-scripts, no allow-same-origin, no allow-forms
    assert not any("allow-" in d for d in csp)
    assert "default-src 'none'" in csp
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Content-Type"].startswith("text/html")
    assert HOSTILE_MARKER.encode() in response.data  # served as captured, byte for byte
    body = store.conn.execute("SELECT body_size, sha256 FROM captures WHERE id = ?", [capture_id]).fetchone()
    import hashlib

    assert hashlib.sha256(response.data).hexdigest() == body[1] and len(response.data) == body[0]
    assert bob.get("/capture/9999/page").status_code == 404


def test_app_pages_send_strict_csp_and_safe_cookies(desk):
    app, _, _ = desk
    client = app.test_client()
    response = login(client, "bob")
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
    page = client.get("/")
    csp = page.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp and "unsafe-eval" not in csp
    assert "frame-ancestors 'none'" in csp
    assert page.headers["X-Content-Type-Options"] == "nosniff"
    # No inline scripts or styles that the CSP would block (and so no reason to weaken it).
    assert not re.search(r"<script(?![^>]*\bsrc=)", page.text)
    assert " style=" not in page.text and "<style" not in page.text


def test_secret_key_is_persisted_beside_the_database(desk):
    app, path, _ = desk
    key_file = path.with_name(path.name + ".secret")
    assert key_file.exists()
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    client = app.test_client()
    login(client, "bob")
    # A restarted app (same database) keeps sessions valid: the key was read back, not regenerated.
    restarted = create_app(path, TESTING=True)
    assert restarted.secret_key == app.secret_key
    other = restarted.test_client()
    other.set_cookie("keywatch_session", client.get_cookie("keywatch_session").value)
    assert other.get("/").status_code == 200


def _reworded_by_someone_else(path, listing_id="KW-1001"):
    """A newer capture of a sample listing that no longer matches the watchlist and names another seller."""
    store = db.connect(path)
    try:
        listing = db.get_listing(store, "demo", listing_id)
        item = make_item(
            listing_id,
            marketplace="demo",
            url=listing["url"],
            response_url=listing["url"],
            request_url=listing["url"],
            title="Car key case, leather",
            description="A leather case for your car key.",
            seller="someone_else",
            fetched_at=db.utc_now(),
            classification={"flagged": False, "category": None, "risk": None, "score": 3.0, "matches": []},
        )
        db.save_capture(store, item)
    finally:
        store.close()


def test_a_dropped_flag_and_a_changed_seller_are_shown_on_the_listing_and_marked_in_the_queue(bob, desk):
    _, path, pks = desk
    pk = pks["KW-1001"]
    page = bob.get(f"/listing/{pk}").text
    assert 'id="flag-dropped"' not in page and 'id="seller-changed"' not in page
    _reworded_by_someone_else(path)

    page = bob.get(f"/listing/{pk}").text
    assert 'id="flag-dropped"' in page and "No longer matches" in page
    # The seller of record stays; the newest capture's seller is shown beside it.
    assert "autokeys_direct" in page and 'id="seller-changed"' in page and "someone_else" in page
    # The highlights still show the flagged capture's words, not the reworded page.
    title = re.search(r"<h1 class=\"listing-title\".*?</h1>", page, re.S).group(0)
    assert ">Keyless Entry Relay</mark>" in title, title

    row = re.search(rf'<tr id="row-{pk}".*?</tr>', bob.get("/?status=all").text, re.S).group(0)
    assert "no longer matches" in row and "now <bdi>someone_else</bdi>" in row
    other = re.search(rf'<tr id="row-{pks["KW-1002"]}".*?</tr>', bob.get("/?status=all").text, re.S).group(0)
    assert "no longer matches" not in other and "someone_else" not in other


# ---------------------------------------------------------------- dashboard and audit


def test_dashboard_counts_this_weeks_hits_and_decisions(bob, desk):
    _, path, pks = desk
    token = token_of(bob, "/")
    bob.post(
        f"/listing/{pks['KW-1001']}/decide", data={"action": "confirm", "category": "relay_attack", "csrf_token": token}
    )
    store = db.connect(path)
    db.record_status(store, pks["KW-1001"], "removed", db.utc_now(), detail="seller took it down")
    page = bob.get("/dashboard").text
    # Within 7 days: KW-1001 (first captured 3 days ago), KW-1002 (3), KW-1003 (1); not KW-1004 (9), KW-1005 (16).
    tiles = dict((label.strip(), int(n)) for n, label in re.findall(r'<span class="n">(\d+)</span>([^<]+)</div>', page))
    assert tiles == {"new hits": 3, "decisions": 1, "confirmed": 1, "removals seen": 1}
    assert "<svg" in page and "Weekly new hits" in page
    assert "Compliance report" in page


def test_audit_page_lists_every_decision(bob, desk):
    _, _, pks = desk
    token = token_of(bob, "/")
    bob.post(
        f"/listing/{pks['KW-1002']}/decide", data={"action": "escalate", "note": "ask the team", "csrf_token": token}
    )
    page = bob.get("/audit").text
    assert "demo:<bdi>KW-1002</bdi>" in page and "pending → escalated" in page and "ask the team" in page


def test_purged_page_is_explained_not_framed(bob, desk):
    import datetime

    from db.purge import purge_dismissed

    _, path, pks = desk
    pk = pks["KW-1004"]
    bob.post(
        f"/listing/{pk}/decide",
        data={"action": "dismiss", "reason": "false_positive", "csrf_token": token_of(bob, "/")},
    )
    store = db.connect(path)
    capture_id = store.conn.execute("SELECT id FROM captures WHERE listing_pk = ?", [pk]).fetchone()[0]
    later = datetime.datetime.now(datetime.UTC) + datetime.timedelta(days=2)
    assert purge_dismissed(store, 1, "test", now=later).listings
    page = bob.get(f"/listing/{pk}").text
    assert "purged under the retention policy" in page and "<iframe" not in page
    assert ">purged<" in page  # in the capture history too
    assert bob.get(f"/capture/{capture_id}/page").status_code == 404


def test_bulk_confirm_with_unknown_category_is_refused(bob, desk):
    _, path, pks = desk
    response = bob.post(
        "/seller/decide",
        data={
            "csrf_token": token_of(bob, "/"),
            "marketplace": "demo",
            "seller": "nightshift_tools",
            "action": "confirm",
            "category": "toaster",
            "listing_pk": [str(pks["KW-1003"]), str(pks["KW-1004"])],
        },
    )
    assert response.status_code == 400
    assert decisions_in(path) == []


def test_every_route_but_login_and_static_needs_a_login(desk):
    """Walks the URL map, so a route added later without @login_required fails here."""
    app, _, _ = desk
    client = app.test_client()
    token = token_of(client)
    checked = 0
    for rule in app.url_map.iter_rules():
        if rule.endpoint in ("static", "auth.login", "auth.logout"):
            continue
        url = rule.rule.replace("<int:pk>", "1").replace("<int:capture_id>", "1").replace("<name>", "bob")
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            response = client.open(url, method=method, data={"csrf_token": token} if method == "POST" else None)
            assert response.status_code == 302 and response.headers["Location"].startswith("/login"), (method, url)
            checked += 1
    assert checked >= 9


def test_dashboard_links_the_compliance_report_which_renders_without_scripts(bob):
    assert 'href="/report"' in bob.get("/dashboard").text
    page = bob.get("/report?since=2026-01-01")
    assert page.status_code == 200
    assert "<script" not in page.text.lower()
    assert page.headers["Content-Security-Policy"].startswith("default-src 'none'")
    assert bob.get("/report?since=not-a-date").status_code == 400


# ---------------------------------------------------------------- review-desk polish (issue 6 follow-up)


def tab_counts(html):
    """{status: count} from the queue's status tabs, wherever they appear in `html`."""
    nav = re.search(r'<nav class="tabs" id="status-tabs"[^>]*>(.*?)</nav>', html, re.S)
    assert nav, "no status tabs"
    return {label.lower(): int(n) for label, n in re.findall(r'>(\w+) <span class="count">(\d+)</span>', nav.group(1))}


def test_an_htmx_decision_updates_the_tab_counts_out_of_band(bob, desk):
    _, path, pks = desk
    token = token_of(bob, "/")
    before = tab_counts(bob.get("/").text)
    assert before["open"] == 5 and before["confirmed"] == 0
    response = bob.post(
        f"/listing/{pks['KW-1001']}/decide",
        data={"action": "confirm", "category": "relay_attack", "next": "/?status=open"},
        headers={"HX-Request": "true", "X-CSRF-Token": token},
    )
    assert response.status_code == 200
    # The row swaps in place; the counts ride along in a <template> (a <nav> cannot follow a <tr> otherwise).
    assert response.text.lstrip().startswith(f'<tr id="row-{pks["KW-1001"]}"')
    assert re.search(r'<template>\s*<nav class="tabs" id="status-tabs" hx-swap-oob="true"', response.text)
    after = tab_counts(response.text)
    assert after == {**before, "open": 4, "pending": 4, "confirmed": 1}
    assert after == tab_counts(bob.get("/").text)


def test_the_out_of_band_counts_keep_the_views_filters(bob, desk):
    _, _, pks = desk
    token = token_of(bob, "/")
    filtered = "/?status=open&q=lishi"
    before = tab_counts(bob.get(filtered).text)
    assert before["all"] == 1
    response = bob.post(
        f"/listing/{pks['KW-1004']}/decide",
        data={"action": "escalate", "next": filtered},
        headers={"HX-Request": "true", "X-CSRF-Token": token},
    )
    after = tab_counts(response.text)
    assert after["all"] == 1 and after["escalated"] == 1 and after["pending"] == 0
    assert 'href="/?status=confirmed&amp;q=lishi"' in response.text  # tab links keep the search


def test_queue_rows_say_which_statuses_the_view_holds(bob):
    # keys.js drops a decided row from the view on the next j/k when its status is not one of these.
    assert 'data-view-statuses="pending escalated"' in bob.get("/").text
    assert 'data-view-statuses="pending"' in bob.get("/?status=pending").text
    assert 'data-view-statuses="pending escalated confirmed dismissed"' in bob.get("/?status=all").text
    assert re.search(r'<tr id="row-\d+" class="row review-pending" data-status="pending"', bob.get("/").text)


def _session_of(client):
    return client.get_cookie("keywatch_session").value


def test_a_post_after_logout_elsewhere_goes_to_login_with_a_message(desk):
    app, path, pks = desk
    tab = app.test_client()
    assert login(tab, "bob").status_code == 303
    token = token_of(tab, "/")
    other_tab = app.test_client()
    other_tab.set_cookie("keywatch_session", _session_of(tab))
    assert other_tab.post("/logout", data={"csrf_token": token}).status_code == 303
    # The first tab still holds the old cookie (user, session id and token) and posts a decision from its page.
    response = tab.post(f"/listing/{pks['KW-1001']}/decide", data={"action": "escalate", "csrf_token": token})
    assert response.status_code == 302 and response.headers["Location"] == "/login"
    assert "Your session has ended" in tab.get("/login").text
    assert decisions_in(path) == []


def test_a_post_after_the_cookie_was_cleared_goes_to_login_not_a_400(desk):
    """Logging out in another tab clears the shared cookie: the next POST arrives with no session at all."""
    app, path, pks = desk
    client = app.test_client()
    assert login(client, "bob").status_code == 303
    token = token_of(client, "/")
    assert client.post("/logout", data={"csrf_token": token}).status_code == 303
    client.delete_cookie("keywatch_session")
    response = client.post(f"/listing/{pks['KW-1001']}/decide", data={"action": "escalate", "csrf_token": token})
    assert response.status_code == 302 and response.headers["Location"] == "/login"
    assert "Your session has ended" in client.get("/login").text
    htmx = client.post(
        f"/listing/{pks['KW-1001']}/decide",
        data={"action": "escalate"},
        headers={"HX-Request": "true", "X-CSRF-Token": token},
    )
    assert htmx.status_code == 401 and htmx.headers["HX-Redirect"] == "/login"
    assert decisions_in(path) == []


def test_an_htmx_post_from_a_disabled_account_gets_hx_redirect_and_changes_nothing(alice, desk):
    app, path, pks = desk
    bob = app.test_client()
    assert login(bob, "bob").status_code == 303
    bob_token = token_of(bob, "/")
    assert alice.post("/users/bob/disable", data={"csrf_token": token_of(alice, "/users")}).status_code == 303
    response = bob.post(
        f"/listing/{pks['KW-1001']}/decide",
        data={"action": "confirm", "category": "relay_attack"},
        headers={"HX-Request": "true", "X-CSRF-Token": bob_token},
    )
    assert response.status_code == 401 and response.headers["HX-Redirect"] == "/login"
    assert "Your session has ended" in bob.get("/login").text
    assert decisions_in(path) == []
    # A logged-in user with a wrong token is still a plain 400: that is a forgery, not an ended session.
    assert alice.post(f"/listing/{pks['KW-1001']}/decide", data={"action": "escalate"}).status_code == 400


def test_date_filters_ask_for_iso_dates(bob):
    page = bob.get("/?since=2026-11-01").text
    since = re.search(r'<input [^>]*name="since"[^>]*>', page).group(0)
    until = re.search(r'<input [^>]*name="until"[^>]*>', page).group(0)
    for field in (since, until):
        assert 'type="text"' in field and 'placeholder="YYYY-MM-DD"' in field
        assert r'pattern="\d{4}-\d{2}-\d{2}"' in field
    assert 'value="2026-11-01"' in since


@pytest.mark.parametrize(
    "since, message",
    [
        ("28/11/2026", "Ignored the from date '28/11/2026': use YYYY-MM-DD"),
        ("2026-02-30", "Ignored the from date '2026-02-30': there is no such day"),
    ],
)
def test_a_bad_date_is_a_clear_flash_and_is_ignored(bob, since, message):
    page = bob.get("/", query_string={"since": since}).text
    assert message in html.unescape(page)
    assert len(re.findall(r'<tr id="row-', page)) == 5  # ignored, not applied


def test_a_date_range_that_ends_before_it_starts_is_flagged(bob):
    page = bob.get("/?since=2026-11-20&until=2026-11-01").text
    assert "The from date 2026-11-20 is after the to date 2026-11-01" in page


def test_a_cross_site_post_cannot_overwrite_the_session_cookie(desk):
    """A forged cross-site POST arrives without the SameSite=Lax cookie: its refusal must not set a new
    cookie (a flash would), or any site could log a reviewer out by posting a form at the desk."""
    app, path, pks = desk
    client = app.test_client()
    for headers in (
        {"Sec-Fetch-Site": "cross-site", "Origin": "https://evil.example"},
        {"Origin": "https://evil.example"},
    ):
        response = client.post(f"/listing/{pks['KW-1001']}/decide", data={"action": "escalate"}, headers=headers)
        assert response.status_code == 302 and response.headers["Location"] == "/login"
        assert "Set-Cookie" not in response.headers
    same_site = client.post(
        f"/listing/{pks['KW-1001']}/decide",
        data={"action": "escalate"},
        headers={"Sec-Fetch-Site": "same-origin", "Origin": "http://localhost"},
    )
    assert "Set-Cookie" in same_site.headers  # the message for one's own stale tab still arrives
    assert decisions_in(path) == []
