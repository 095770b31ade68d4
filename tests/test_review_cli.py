"""`keywatch serve`, `keywatch user ...` and `keywatch review ...` through click's CliRunner."""

import pytest
from click.testing import CliRunner

import db
from db import accounts
from keywatch.commands.review import is_loopback, review_command, serve, user
from tests.support.desk import decisions_in, make_desk

pytestmark = pytest.mark.usefixtures("fast_password_hashes")


@pytest.fixture
def store_path(tmp_path):
    path = tmp_path / "keywatch.sqlite"
    make_desk(path)
    return path


def run(command, args, input=None):
    return CliRunner().invoke(command, [str(a) for a in args], input=input, catch_exceptions=False)


def test_user_add_with_password_on_stdin_stores_an_argon2id_hash(tmp_path):
    path = tmp_path / "new.sqlite"  # user add creates the store if needed
    result = run(user, ["add", "carol", "--role", "admin", "--password-stdin", "--db", path], input="a-long-password\n")
    assert result.exit_code == 0, result.output
    store = db.connect(path)
    row = next(store.query("SELECT * FROM users WHERE name = 'carol'"))
    assert row["role"] == "admin" and row["password_hash"].startswith("$argon2id$")
    assert "a-long-password" not in row["password_hash"]


def test_user_add_prompts_twice(tmp_path):
    path = tmp_path / "k.sqlite"
    result = run(
        user, ["add", "dave", "--db", path], input="first-password\nother-password\nfirst-password\nfirst-password\n"
    )
    assert result.exit_code == 0, result.output
    assert "do not match" in result.output
    assert accounts.get_user(db.connect(path), "dave").role == "reviewer"


@pytest.mark.parametrize(
    "args, stdin, message",
    [
        (["add", "bob", "--password-stdin"], "another-password\n", "already exists"),
        (["add", "erin", "--password-stdin"], "short\n", "at least 10 characters"),
        (["add", "bad name", "--password-stdin"], "long-enough-pw\n", "user names are"),
        (["add", "frank", "--password-stdin"], "\n", "no password on standard input"),
        (["disable", "nobody"], None, "no such user"),
    ],
)
def test_user_errors_are_one_line(store_path, args, stdin, message):
    result = CliRunner().invoke(user, args + ["--db", str(store_path)], input=stdin)
    assert result.exit_code == 1
    assert message in result.output and "Traceback" not in result.output


def test_user_list_disable_enable(store_path):
    listing = run(user, ["list", "--db", store_path]).output.splitlines()
    assert [line.split("\t")[:3] for line in listing] == [["alice", "admin", "active"], ["bob", "reviewer", "active"]]
    assert run(user, ["disable", "bob", "--db", store_path]).exit_code == 0
    assert "bob\treviewer\tdisabled" in run(user, ["list", "--db", store_path]).output
    assert run(user, ["enable", "bob", "--db", store_path]).exit_code == 0
    assert "bob\treviewer\tactive" in run(user, ["list", "--db", store_path]).output


def test_review_records_decisions_with_audit_trail_and_chain(store_path):
    result = run(
        review_command,
        [
            "demo:KW-1001",
            "--confirm",
            "relay_attack",
            "--note",
            "matches the kit seen in Solihull",
            "--user",
            "bob",
            "--db",
            store_path,
        ],
    )
    assert result.exit_code == 0, result.output
    assert "pending -> confirmed" in result.output
    run(review_command, ["demo:KW-1002", "--dismiss", "legitimate_trade_seller", "--user", "alice", "--db", store_path])
    run(review_command, ["demo:KW-1003", "--escalate", "--user", "alice", "--db", store_path])
    run(review_command, ["demo:KW-1003", "--note", "called the team", "--user", "bob", "--db", store_path])
    rows = decisions_in(store_path)
    assert [
        (r["user"], r["action"], r["category"], r["reason"], r["status_before"], r["status_after"]) for r in rows
    ] == [
        ("bob", "confirm", "relay_attack", None, "pending", "confirmed"),
        ("alice", "dismiss", None, "legitimate_trade_seller", "pending", "dismissed"),
        ("alice", "escalate", None, None, "pending", "escalated"),
        ("bob", "note", None, None, "escalated", "escalated"),
    ]
    assert rows[0]["note"] == "matches the kit seen in Solihull"
    store = db.connect(store_path)
    assert store.conn.execute("SELECT count(*) FROM chain WHERE record_type = 'decision'").fetchone()[0] == 4
    assert db.verify(store).problems == []


@pytest.mark.parametrize(
    "args, message",
    [
        (["demo:KW-1001", "--user", "bob"], "choose one of"),
        (["demo:KW-1001", "--confirm", "relay_attack", "--escalate", "--user", "bob"], "choose one of"),
        (["demo:KW-1001", "--dismiss", "because", "--user", "bob"], "Invalid value for '--dismiss'"),
        (["demo:KW-1001", "--dismiss", "other", "--user", "bob"], "needs a note"),
        (["demo:KW-1001", "--confirm", "toaster", "--user", "bob"], "unknown category 'toaster'"),
        (["demo:KW-9999", "--escalate", "--user", "bob"], "no listing demo:KW-9999"),
        (["KW-1001", "--escalate", "--user", "bob"], "expected MARKETPLACE:LISTING_ID"),
        (["demo:KW-1001", "--escalate", "--user", "mallory"], "no active user 'mallory'"),
    ],
)
def test_review_errors_are_clear_and_record_nothing(store_path, args, message):
    result = CliRunner().invoke(review_command, args + ["--db", str(store_path)])
    assert result.exit_code in (1, 2), result.output
    assert message in result.output and "Traceback" not in result.output
    assert decisions_in(store_path) == []


def test_review_refuses_a_missing_database(tmp_path):
    result = CliRunner().invoke(
        review_command, ["demo:1", "--escalate", "--user", "bob", "--db", str(tmp_path / "none.sqlite")]
    )
    assert result.exit_code == 1 and "no evidence store" in result.output
    assert not (tmp_path / "none.sqlite").exists()


def test_disabled_user_cannot_record_decisions(store_path):
    run(user, ["disable", "bob", "--db", store_path])
    result = CliRunner().invoke(
        review_command, ["demo:KW-1001", "--escalate", "--user", "bob", "--db", str(store_path)]
    )
    assert result.exit_code == 1 and "no active user 'bob'" in result.output


def test_is_loopback():
    assert all(is_loopback(h) for h in ("127.0.0.1", "127.5.0.1", "::1", "localhost"))
    assert not any(is_loopback(h) for h in ("0.0.0.0", "192.168.1.10", "::", "example.org"))


@pytest.fixture
def fake_waitress(monkeypatch):
    calls = []
    import waitress

    monkeypatch.setattr(waitress, "serve", lambda app, **kw: calls.append((app, kw)))
    return calls


def test_serve_binds_loopback_by_default_without_warning(store_path, fake_waitress):
    result = CliRunner().invoke(serve, ["--db", str(store_path)])
    assert result.exit_code == 0, result.output
    ((app, kwargs),) = fake_waitress
    assert kwargs["host"] == "127.0.0.1" and kwargs["port"] == 8000
    assert app.config["DB_PATH"] == store_path
    assert "WARNING" not in result.output


def test_serve_warns_when_bound_beyond_this_machine(store_path, fake_waitress):
    result = CliRunner().invoke(
        serve, ["--db", str(store_path), "--host", "0.0.0.0", "--port", "8123", "--secure-cookies"]
    )
    assert result.exit_code == 0
    assert "WARNING: listening on 0.0.0.0" in result.output
    ((app, kwargs),) = fake_waitress
    assert kwargs["port"] == 8123 and app.config["SESSION_COOKIE_SECURE"] is True


def test_serve_tells_how_to_create_the_first_user(tmp_path, fake_waitress):
    path = tmp_path / "crawled.sqlite"
    db.connect(path).close()  # a store a crawl made: no accounts yet
    result = CliRunner().invoke(serve, ["--db", str(path)])
    assert result.exit_code == 0 and "keywatch user add NAME --role admin" in result.output


def test_serve_leaves_no_file_behind_for_a_store_that_does_not_exist(tmp_path, fake_waitress):
    """A store that does not exist is not created: a typo in --db (or a start that then cannot bind its port)
    leaves no file behind."""
    missing = tmp_path / "typo.sqlite"
    result = CliRunner().invoke(serve, ["--db", str(missing)])
    assert result.exit_code == 1 and isinstance(result.exception, SystemExit), result.output
    assert f"no evidence store at {missing}" in result.output
    assert f"keywatch user add NAME --role admin --db {missing}" in result.output
    assert fake_waitress == [] and list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    "command, args",
    [(serve, []), (user, []), (user, ["add"]), (user, ["list"]), (user, ["disable"]), (review_command, [])],
)
def test_every_command_has_help(command, args):
    result = CliRunner().invoke(command, args + ["--help"])
    assert result.exit_code == 0 and "Usage:" in result.output


def test_cli_decisions_say_they_came_from_the_command_line_and_as_whom(tmp_path):
    """`keywatch review --user alice` takes no password: the audit trail must show it was the CLI, and who ran it."""
    import getpass

    from click.testing import CliRunner

    import db
    from db import accounts
    from keywatch.cli import cli
    from tests.support.items import make_item

    path = tmp_path / "k.sqlite"
    store = db.connect(path)
    db.save_capture(store, make_item("C-1"))
    accounts.add_user(store, "alice", "not-a-real-hash")
    store.conn.close()
    result = CliRunner().invoke(cli, ["review", "demo_market:C-1", "--escalate", "--user", "alice", "--db", str(path)])
    assert result.exit_code == 0, result.output
    store = db.connect(path)
    [(via,)] = store.conn.execute("SELECT via FROM decisions").fetchall()
    assert via.startswith(f"cli {getpass.getuser()}@")
    assert db.verify(store).ok
    store.execute("DROP TRIGGER decisions_no_update")
    store.execute("UPDATE decisions SET via = 'web 127.0.0.1'")
    assert "decision 1" in str(db.verify(store).first)


# ---------------------------------------------------------------- issue 10: passwords, names, clear errors


def test_a_password_that_is_not_utf8_on_stdin_is_one_clear_line(store_path):
    result = CliRunner().invoke(
        user, ["add", "erin", "--password-stdin", "--db", str(store_path)], input=b"caf\xe9-password\n"
    )
    assert result.exit_code == 1 and isinstance(result.exception, SystemExit), result.output
    assert "not valid UTF-8" in result.output
    assert accounts.get_user(db.connect(store_path), "erin") is None


def test_serve_on_a_port_in_use_is_one_clear_line(store_path):
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = CliRunner().invoke(serve, ["--db", str(store_path), "--port", str(port)])
    assert result.exit_code == 1 and isinstance(result.exception, SystemExit), result.output
    assert f"cannot listen on 127.0.0.1:{port}" in result.output


def test_serve_trusts_a_reverse_proxy_only_when_told(store_path, fake_waitress, monkeypatch):
    from werkzeug.middleware.proxy_fix import ProxyFix

    assert CliRunner().invoke(serve, ["--db", str(store_path)]).exit_code == 0
    assert CliRunner().invoke(serve, ["--db", str(store_path), "--trusted-proxies", "1"]).exit_code == 0
    monkeypatch.setenv("KEYWATCH_TRUSTED_PROXIES", "2")
    result = CliRunner().invoke(serve, ["--db", str(store_path), "--host", "0.0.0.0"])
    (default, _), (one, _), (two, _) = fake_waitress
    assert default.config["TRUSTED_PROXIES"] == 0 and not isinstance(default.wsgi_app, ProxyFix)
    assert one.config["TRUSTED_PROXIES"] == 1 and isinstance(one.wsgi_app, ProxyFix)
    assert two.wsgi_app.x_for == 2
    # Listening beyond this machine while trusting X-Forwarded-For lets a direct client forge its address.
    assert "forge" in result.output


def login_session(store_path, name):
    store = db.connect(store_path)
    try:
        return accounts.start_session(store, name)
    finally:
        store.close()


def session_alive(store_path, name, sid):
    store = db.connect(store_path)
    try:
        return accounts.session_active(store, sid, name, 3600)
    finally:
        store.close()


def password_ok(store_path, name, password):
    from webui.auth import check_password

    store = db.connect(store_path)
    try:
        return check_password(store, name, password)
    finally:
        store.close()


def test_user_passwd_asks_for_the_current_password_and_ends_sessions(store_path):
    from tests.support.desk import USERS

    sid = login_session(store_path, "bob")
    wrong = CliRunner().invoke(
        user,
        ["passwd", "bob", "--password-stdin", "--db", str(store_path)],
        input="not-the-password\nbobs-new-password\n",
    )
    assert wrong.exit_code == 1 and "current password is wrong" in wrong.output
    assert session_alive(store_path, "bob", sid) and password_ok(store_path, "bob", USERS["bob"][1])
    result = run(
        user, ["passwd", "bob", "--password-stdin", "--db", store_path], input=f"{USERS['bob'][1]}\nbobs-new-password\n"
    )
    assert result.exit_code == 0 and "Changed the password of bob" in result.output
    assert not session_alive(store_path, "bob", sid)
    assert password_ok(store_path, "bob", "bobs-new-password")
    prompted = run(
        user, ["passwd", "bob", "--db", store_path], input="bobs-new-password\nthird-password-x\nthird-password-x\n"
    )
    assert prompted.exit_code == 0 and password_ok(store_path, "bob", "third-password-x")


def test_user_reset_password_sets_a_new_one_and_ends_sessions(store_path):
    sid = login_session(store_path, "bob")
    result = run(user, ["reset-password", "bob", "--password-stdin", "--db", store_path], input="reset-by-admin-1\n")
    assert result.exit_code == 0 and "Reset the password of bob" in result.output
    assert not session_alive(store_path, "bob", sid)
    assert password_ok(store_path, "bob", "reset-by-admin-1")
    for args, stdin, message in (
        (["nobody"], "a-long-password\n", "no such user"),
        (["bob"], "short\n", "at least 10 characters"),
    ):
        failed = CliRunner().invoke(
            user, ["reset-password", *args, "--password-stdin", "--db", str(store_path)], input=stdin
        )
        assert failed.exit_code == 1 and message in failed.output


def test_account_changes_from_the_command_line_say_so_and_as_whom(store_path):
    import getpass

    run(user, ["reset-password", "bob", "--password-stdin", "--db", store_path], input="reset-by-admin-1\n")
    run(user, ["passwd", "bob", "--password-stdin", "--db", store_path], input="reset-by-admin-1\nbobs-own-choice\n")
    run(user, ["add", "carol", "--password-stdin", "--db", store_path], input="carols-password\n")
    store = db.connect(store_path)
    rows = list(store.query("SELECT account, change, actor, via FROM account_changes ORDER BY id DESC LIMIT 3"))
    store.close()
    assert [(r["account"], r["change"], r["actor"]) for r in reversed(rows)] == [
        ("bob", "password reset", None),
        ("bob", "password changed", "bob"),
        ("carol", "created (reviewer)", None),
    ]
    assert all(r["via"].startswith(f"cli {getpass.getuser()}@") for r in rows)


def test_user_disable_ends_sessions_for_good(store_path):
    sid = login_session(store_path, "bob")
    run(user, ["disable", "bob", "--db", store_path])
    run(user, ["enable", "bob", "--db", store_path])
    assert not session_alive(store_path, "bob", sid)


@pytest.mark.parametrize("name, message", [("\u0430dmin", "ASCII"), ("B0B", "looks like the existing user 'bob'")])
def test_user_add_refuses_look_alike_names(store_path, name, message):
    result = CliRunner().invoke(
        user, ["add", name, "--password-stdin", "--db", str(store_path)], input="a-long-password\n"
    )
    assert result.exit_code == 1 and message in result.output
