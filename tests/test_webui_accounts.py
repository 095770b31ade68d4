"""Accounts on the review desk (issue 10): sessions end for good, password change and reset, user names that
cannot pass for another user, and the client address behind a trusted reverse proxy."""

import html
import sqlite3

import pytest

import db
from db import accounts
from tests.support.desk import USERS, logged_in, login, make_desk, token_of
from webui import create_app

pytestmark = pytest.mark.usefixtures("fast_password_hashes")


def is_logged_in(client) -> bool:
    return client.get("/").status_code == 200


# ---------------------------------------------------------------- sessions end for good


def test_re_enabling_an_account_does_not_revive_sessions_from_before_it_was_disabled(desk):
    app = desk.app
    alice, bob = logged_in(app, "alice"), logged_in(app, "bob")
    stolen = bob.get_cookie("keywatch_session").value
    users = token_of(alice, "/users")
    assert alice.post("/users/bob/disable", data={"csrf_token": users}).status_code == 303
    assert alice.post("/users/bob/disable", data={"csrf_token": users, "enable": "1"}).status_code == 303
    replay = app.test_client()
    replay.set_cookie("keywatch_session", stolen)
    assert not is_logged_in(replay)
    assert not is_logged_in(bob)
    assert is_logged_in(logged_in(app, "bob"))  # a fresh login works again


def test_disabling_ends_the_sessions_in_the_store(tmp_path):
    store = db.connect(tmp_path / "k.sqlite")
    accounts.add_user(store, "carol", "$argon2id$not-a-real-hash")
    sid = accounts.start_session(store, "carol")
    accounts.set_disabled(store, "carol", True)
    accounts.set_disabled(store, "carol", False)
    assert not accounts.session_active(store, sid, "carol", 3600)


# ---------------------------------------------------------------- changing one's own password


def change(client, current, new, confirm=None, token=None):
    return client.post(
        "/account/password",
        data={
            "csrf_token": token if token is not None else token_of(client, "/account/password"),
            "current_password": current,
            "new_password": new,
            "confirm_password": confirm if confirm is not None else new,
        },
        follow_redirects=True,
    )


def test_a_user_changes_their_own_password_and_their_other_sessions_end(desk):
    app = desk.app
    here, elsewhere = logged_in(app, "bob"), logged_in(app, "bob")
    page = here.get("/account/password")
    assert page.status_code == 200 and 'name="current_password"' in page.text
    assert 'href="/account/password"' in here.get("/").text  # reachable from every page
    response = change(here, USERS["bob"][1], "a-brand-new-password")
    assert "Password changed" in response.text
    assert is_logged_in(here)  # this browser carries on, with a new session
    assert not is_logged_in(elsewhere)
    assert login(app.test_client(), "bob").status_code == 401
    assert login(app.test_client(), "bob", "a-brand-new-password").status_code == 303


@pytest.mark.parametrize(
    "current, new, confirm, message",
    [
        ("not-the-password", "a-brand-new-password", None, "current password is wrong"),
        (USERS["bob"][1], "short", None, "at least 10 characters"),
        (USERS["bob"][1], "a-brand-new-password", "a-different-password", "do not match"),
    ],
)
def test_a_password_change_is_refused_with_a_reason(desk, current, new, confirm, message):
    app = desk.app
    here, elsewhere = logged_in(app, "bob"), logged_in(app, "bob")
    response = change(here, current, new, confirm)
    assert message in response.text
    assert is_logged_in(here) and is_logged_in(elsewhere)
    assert login(app.test_client(), "bob").status_code == 303  # the old password still works


def test_a_password_change_needs_the_csrf_token(desk):
    app = desk.app
    bob = logged_in(app, "bob")
    assert change(bob, USERS["bob"][1], "a-brand-new-password", token="forged").status_code == 400
    assert login(app.test_client(), "bob").status_code == 303


def test_guessing_the_current_password_is_throttled_like_a_login(desk):
    """A stolen session must not become a way round the login throttle."""
    app = desk.app
    bob = logged_in(app, "bob")
    for _ in range(app.config["LOGIN_MAX_FAILURES"]):
        assert "current password is wrong" in change(bob, "a-wrong-guess", "a-brand-new-password").text
    response = change(bob, USERS["bob"][1], "a-brand-new-password")
    assert response.status_code == 429 and "Too many failed attempts" in response.text
    # Not changed (checked from another address: this one is locked out for a while, as after bad logins).
    assert login(app.test_client(), "bob", "a-brand-new-password", ip="10.1.2.3").status_code == 401


# ---------------------------------------------------------------- an administrator's reset


def reset(admin, name, new):
    return admin.post(
        f"/users/{name}/password",
        data={"csrf_token": token_of(admin, "/users"), "new_password": new},
        follow_redirects=True,
    )


def test_an_admin_resets_a_password_and_that_users_sessions_end(desk):
    app = desk.app
    alice, bob = logged_in(app, "alice"), logged_in(app, "bob")
    assert 'action="/users/bob/password"' in alice.get("/users").text
    assert "Password of bob reset" in reset(alice, "bob", "bobs-new-password").text
    assert not is_logged_in(bob)
    assert login(app.test_client(), "bob").status_code == 401
    assert login(app.test_client(), "bob", "bobs-new-password").status_code == 303
    assert is_logged_in(alice)


def test_only_admins_reset_and_not_their_own_password_without_the_current_one(desk):
    app = desk.app
    bob = logged_in(app, "bob")
    response = bob.post("/users/alice/password", data={"csrf_token": token_of(bob, "/"), "new_password": "x" * 12})
    assert response.status_code == 403
    alice = logged_in(app, "alice")
    assert "change your own password" in reset(alice, "alice", "alices-new-password").text.lower()
    assert "at least 10 characters" in reset(alice, "bob", "short").text
    assert "no such user" in reset(alice, "nobody", "a-long-password").text
    assert login(app.test_client(), "alice").status_code == 303
    assert login(app.test_client(), "bob").status_code == 303


def account_changes_in(path) -> list[tuple]:
    store = db.connect(path)
    try:
        rows = store.query("SELECT account, change, actor, via FROM account_changes ORDER BY id")
        return [tuple(row.values()) for row in rows]
    finally:
        store.close()


def test_who_reset_or_changed_whose_password_is_recorded_and_shown_to_admins(desk):
    app, path = desk.app, desk.path
    alice, bob = logged_in(app, "alice"), logged_in(app, "bob")
    before = account_changes_in(path)
    reset(alice, "bob", "bobs-new-password")
    bob = logged_in(app, "bob", "bobs-new-password")
    change(bob, "bobs-new-password", "bobs-third-password")
    disable = {"csrf_token": token_of(alice, "/users")}
    alice.post("/users/bob/disable", data=disable)
    alice.post("/users/bob/disable", data={**disable, "enable": "1"})
    assert account_changes_in(path)[len(before) :] == [
        ("bob", "password reset", "alice", "web 127.0.0.1"),
        ("bob", "password changed", "bob", "web 127.0.0.1"),
        ("bob", "disabled", "alice", "web 127.0.0.1"),
        ("bob", "enabled", "alice", "web 127.0.0.1"),
    ]
    page = html.unescape(alice.get("/users").text)
    assert "Account changes" in page and "password reset" in page and "password changed" in page
    assert "Account changes" not in bob.get("/users").text  # administrators only (403)


def test_the_record_of_account_changes_cannot_be_edited(desk):
    store = db.connect(desk.path)
    try:
        for sql in ("UPDATE account_changes SET actor = 'mallory'", "DELETE FROM account_changes"):
            with pytest.raises(sqlite3.IntegrityError, match="append-only"):
                store.execute(sql)
    finally:
        store.close()


# ---------------------------------------------------------------- user names that pass for another


@pytest.mark.parametrize(
    "name, message",
    [
        ("\u0430dmin", "ASCII"),  # Cyrillic а: reads as "admin"
        ("b\u043eb", "ASCII"),  # Cyrillic о in an existing name
        ("ａｄｍｉｎ", "ASCII"),  # fullwidth letters
        ("Alice", "looks like the existing user 'alice'"),
        ("a1ice", "looks like the existing user 'alice'"),
        ("b0b", "looks like the existing user 'bob'"),
    ],
)
def test_user_names_that_look_like_another_are_refused(desk, name, message):
    app, path = desk.app, desk.path
    alice = logged_in(app, "alice")
    page = alice.post(
        "/users",
        data={"csrf_token": token_of(alice, "/users"), "name": name, "password": "a-long-password", "role": "admin"},
        follow_redirects=True,
    )
    assert message in html.unescape(page.text)
    assert [u.name for u in accounts.list_users(db.connect(path))] == ["alice", "bob"]


def test_plain_distinct_names_are_still_accepted(tmp_path):
    store = db.connect(tmp_path / "k.sqlite")
    for name in ("alice", "alice.smith", "a.smith@pcc.example", "bob_2", "carol-ward"):
        accounts.add_user(store, name, "$argon2id$not-a-real-hash")
    assert len(accounts.list_users(store)) == 5


# ---------------------------------------------------------------- behind a reverse proxy


def proxied(app, forwarded_for):
    return {"REMOTE_ADDR": "127.0.0.1", "HTTP_X_FORWARDED_FOR": forwarded_for, "HTTP_X_FORWARDED_PROTO": "https"}


def login_via_proxy(app, name, password, client_ip):
    client = app.test_client()
    token = token_of(client)
    return client, client.post(
        "/login",
        data={"username": name, "password": password, "csrf_token": token},
        environ_base=proxied(app, client_ip),
    )


def test_behind_a_trusted_proxy_each_client_is_seen_by_its_own_address(tmp_path):
    path = tmp_path / "k.sqlite"
    pks = make_desk(path)
    app = create_app(path, TESTING=True, TRUSTED_PROXIES=1)
    for _ in range(app.config["LOGIN_MAX_FAILURES"]):
        assert login_via_proxy(app, "bob", "wrong-password", "203.0.113.9")[1].status_code == 401
    assert login_via_proxy(app, "bob", USERS["bob"][1], "203.0.113.9")[1].status_code == 429
    # Another reviewer behind the same proxy is not locked out with the guesser.
    bob, response = login_via_proxy(app, "bob", USERS["bob"][1], "198.51.100.4")
    assert response.status_code == 303
    response = bob.post(
        f"/listing/{pks['KW-1001']}/decide",
        environ_base=proxied(app, "198.51.100.4"),
        data={"action": "escalate", "csrf_token": token_of(bob, "/")},
    )
    assert response.status_code == 303
    store = db.connect(path)
    assert store.conn.execute("SELECT via FROM decisions").fetchone()[0] == "web 198.51.100.4"
    ips = {r[0] for r in store.conn.execute("SELECT ip FROM login_attempts")}
    assert ips == {"203.0.113.9", "198.51.100.4"}


def test_a_spoofed_forwarded_for_is_ignored_when_no_proxy_is_trusted(desk):
    app, path = desk.app, desk.path
    assert app.config["TRUSTED_PROXIES"] == 0
    login_via_proxy(app, "bob", USERS["bob"][1], "203.0.113.9")
    assert [r[0] for r in db.connect(path).conn.execute("SELECT ip FROM login_attempts")] == ["127.0.0.1"]


def test_only_the_trusted_number_of_hops_is_believed(tmp_path):
    """With one proxy, a client's own X-Forwarded-For entry (left of the proxy's) cannot choose its address."""
    path = tmp_path / "k.sqlite"
    make_desk(path)
    app = create_app(path, TESTING=True, TRUSTED_PROXIES=1)
    login_via_proxy(app, "bob", "wrong-password", "10.9.9.9, 203.0.113.9")
    assert [r[0] for r in db.connect(path).conn.execute("SELECT ip FROM login_attempts")] == ["203.0.113.9"]
