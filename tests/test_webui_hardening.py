"""Review desk hardening found in the independent review: redirects, links, secret key, login races."""

import threading

import pytest

import db
from db import accounts
from tests.support.desk import USERS, login, make_desk, token_of
from webui import create_app, security

pytestmark = pytest.mark.usefixtures("fast_password_hashes")


@pytest.mark.parametrize(
    "target",
    [
        "/\t/evil.example",
        "/\n/evil.example",
        "/\r\n/evil.example",
        "/ /evil.example",
        "/\x0b/evil.example",
        "/\\evil.example",
        "//evil.example",
        "https://evil.example/",
    ],
)
def test_login_never_redirects_off_site_or_fails_on_a_crafted_next(desk, target):
    app, _, _ = desk
    client = app.test_client()
    response = client.post(
        "/login",
        data={"username": "alice", "password": USERS["alice"][1], "csrf_token": token_of(client), "next": target},
    )
    assert response.status_code == 303
    assert response.headers["Location"] == "/"


def test_a_local_next_is_still_followed(desk):
    app, _, pks = desk
    client = app.test_client()
    response = client.post(
        "/login",
        data={
            "username": "alice",
            "password": USERS["alice"][1],
            "csrf_token": token_of(client),
            "next": "/?q=relay&status=all",
        },
    )
    assert response.headers["Location"] == "/?q=relay&status=all"


def test_a_captured_javascript_url_is_not_made_a_link(tmp_path):
    from tests.support.items import make_item

    path = tmp_path / "k.sqlite"
    make_desk(path)
    store = db.connect(path)
    item = make_item("JS-1", url="javascript:alert(document.cookie)", marketplace="demo_market")
    capture_id = db.save_capture(store, item)
    pk = store.conn.execute("SELECT listing_pk FROM captures WHERE id = ?", [capture_id]).fetchone()[0]
    store.conn.close()
    client = create_app(path, TESTING=True).test_client()
    login(client, "alice")
    page = client.get(f"/listing/{pk}").text
    assert 'href="javascript:' not in page
    assert "javascript:alert(document.cookie)" in page  # still shown, as text
    assert 'href="http' in client.get("/listing/1").text  # an ordinary URL still is a link


def test_a_half_written_secret_file_is_refused_not_used_as_an_empty_key(tmp_path):
    path = tmp_path / "k.sqlite"
    (tmp_path / "k.sqlite.secret").write_text("")
    with pytest.raises(RuntimeError, match="32-byte"):
        security.load_secret_key(path)


def test_concurrent_first_starts_agree_on_one_secret_key(tmp_path):
    path = tmp_path / "k.sqlite"
    keys, threads = [], [threading.Thread(target=lambda: keys.append(security.load_secret_key(path))) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(keys) == 8 and len(set(keys)) == 1 and len(keys[0]) == 32
    assert [p.name for p in tmp_path.iterdir() if "secret" in p.name] == ["k.sqlite.secret"]


def test_parallel_wrong_passwords_cannot_exceed_the_failure_limit(desk, monkeypatch):
    """Threads of the server each checking the count before any failure was recorded let them all through."""
    import time

    from webui import auth

    real_check = auth.check_password

    def slow_check(*args):  # a production argon2 hash takes about half a second: the window a guesser uses
        time.sleep(0.3)
        return real_check(*args)

    monkeypatch.setattr(auth, "check_password", slow_check)
    app, path, _ = desk
    limit = app.config["LOGIN_MAX_FAILURES"]
    statuses, barrier = [], threading.Barrier(12)

    def guess():
        client = app.test_client()
        token = token_of(client)
        barrier.wait()
        statuses.append(
            client.post(
                "/login", data={"username": "alice", "password": "wrong-password-x", "csrf_token": token}
            ).status_code
        )

    threads = [threading.Thread(target=guess) for _ in range(12)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert statuses.count(401) == limit
    assert statuses.count(429) == 12 - limit


def test_login_still_works_and_resets_the_count_after_failures(desk):
    app, path, _ = desk
    client = app.test_client()
    for _ in range(app.config["LOGIN_MAX_FAILURES"] - 1):
        assert login(client, "alice", "not-the-password").status_code == 401
    assert login(client, "alice").status_code == 303
    store = db.connect(path)
    assert accounts.recent_failures(store, "alice", "127.0.0.1", 900) == 0


def test_a_cookie_copied_before_logout_no_longer_works(desk):
    app, _, _ = desk
    client = app.test_client()
    assert login(client, "alice").status_code == 303
    stolen = client.get_cookie("keywatch_session").value
    assert client.get("/").status_code == 200
    client.post("/logout", data={"csrf_token": token_of(client, "/")})
    replay = app.test_client()
    replay.set_cookie("keywatch_session", stolen)
    response = replay.get("/")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_each_login_gets_a_new_session_id(desk):
    app, _, _ = desk
    client = app.test_client()
    login(client, "alice")
    first = client.get_cookie("keywatch_session").value
    client.post("/logout", data={"csrf_token": token_of(client, "/")})
    login(client, "alice")
    assert client.get_cookie("keywatch_session").value != first
    assert client.get("/").status_code == 200


def test_a_response_that_does_not_change_the_session_sends_no_cookie(desk):
    # Otherwise a slow response (a photo) re-sends the session as it was when it was asked for, and overwrites
    # the cookie a decision set meanwhile: its flash message was lost (a flaky browser test showed it).
    app, _, pks = desk
    client = app.test_client()
    login(client, "alice")
    assert client.get("/").status_code == 200
    for url in ("/", f"/listing/{pks['KW-1001']}"):
        response = client.get(url)
        assert response.status_code == 200 and "Set-Cookie" not in response.headers, url


def test_web_decisions_record_the_channel_and_address(desk):
    app, path, pks = desk
    client = app.test_client()
    login(client, "alice", ip="10.0.0.7")
    pk = pks["KW-1002"]
    response = client.post(
        f"/listing/{pk}/decide",
        data={"action": "escalate", "csrf_token": token_of(client, "/")},
        environ_base={"REMOTE_ADDR": "10.0.0.7"},
    )
    assert response.status_code == 303
    store = db.connect(path)
    assert store.conn.execute("SELECT via FROM decisions WHERE listing_pk = ?", [pk]).fetchone()[0] == "web 10.0.0.7"
    assert "web 10.0.0.7" in client.get("/audit").text


@pytest.mark.parametrize(
    "content_type, served",
    [
        ("image/svg+xml", "text/plain"),  # an SVG can carry script: never rendered as SVG
        ("text/xml", "text/plain"),  # nor XML with an xml-stylesheet
        ("application/xhtml+xml; charset=utf-8", "text/html; charset=utf-8"),
        ("TEXT/HTML; Charset=ISO-8859-1", "text/html; charset=iso-8859-1"),
        (None, "text/html"),
    ],
)
def test_captured_pages_of_any_type_are_sandboxed_on_get_and_head(tmp_path, content_type, served):
    from tests.support.items import make_item

    path = tmp_path / "k.sqlite"
    make_desk(path)
    store = db.connect(path)
    body = b"<svg xmlns='http://www.w3.org/2000/svg'><script>alert(1)</script></svg>"
    capture_id = db.save_capture(
        store, make_item("T-1", body=body, headers={"Content-Type": [content_type]} if content_type else {})
    )
    store.conn.close()
    client = create_app(path, TESTING=True).test_client()
    login(client, "alice")
    for response in (client.get(f"/capture/{capture_id}/page"), client.head(f"/capture/{capture_id}/page")):
        assert response.status_code == 200
        assert response.headers["Content-Security-Policy"].startswith("sandbox;")
        assert response.headers["Content-Type"] == served
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert response.headers["Content-Disposition"] == "inline"
    assert client.get(f"/capture/{capture_id}/page").data == body


def test_captured_page_route_needs_a_login_even_for_head(desk):
    app, _, _ = desk
    response = app.test_client().head("/capture/1/page")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_highlights_stay_on_the_classified_text_after_a_recheck_finds_the_page_gone(tmp_path):
    from tests.support.items import CLASSIFIED, make_item

    path = tmp_path / "k.sqlite"
    make_desk(path)
    store = db.connect(path)
    description = "Two-unit relay box, boxed"
    classification = {
        **CLASSIFIED,
        "matches": [
            {
                "term": "relay box",
                "category": "relay_attack",
                "field": "description",
                "start": 9,
                "end": 18,
                "text": "relay box",
                "score": 100.0,
                "excluded_by": None,
            }
        ],
    }
    first = db.save_capture(
        store,
        make_item(
            "G-1", description=description, classification=classification, fetched_at="2026-11-01T10:00:00.000000Z"
        ),
    )
    db.save_capture(
        store,
        make_item(
            "G-1",
            title="",
            description=None,
            classification=None,
            status=404,
            listing_status="removed",
            body=b"<html>gone</html>",
            fetched_at="2026-11-08T10:00:00.000000Z",
        ),
    )
    pk = store.conn.execute("SELECT listing_pk FROM captures WHERE id = ?", [first]).fetchone()[0]
    store.conn.close()
    client = create_app(path, TESTING=True).test_client()
    login(client, "alice")
    page = client.get(f"/listing/{pk}").text
    assert 'title="relay box">relay box</mark>' in page
    assert "(no description captured)" not in page
