"""A reviewer confirms a listing as one of the watchlist's categories: the watchlist the desk or command was given,
never a built-in list, and a watchlist that cannot be read is a clear error, not a silent fallback."""

import pytest
from click.testing import CliRunner

import db
from classifier import WatchlistError
from db import accounts
from keywatch.commands.review import review_command, serve
from tests.support.items import make_item
from webui import create_app

ONE_CATEGORY = """\
categories:
  toy_drone:
    label: Toy drone jammer
    risk: low
    risk_reason: a category only these tests have
    note: for tests
    terms: [drone jammer kit]
    search_terms: [drone]
"""


@pytest.fixture
def watchlists(tmp_path):
    (tmp_path / "one.yaml").write_text(ONE_CATEGORY, encoding="utf-8")
    (tmp_path / "broken.yaml").write_text("categories:\n  - [unclosed\n", encoding="utf-8")
    return tmp_path / "one.yaml", tmp_path / "broken.yaml"


@pytest.fixture
def store_path(tmp_path):
    path = tmp_path / "k.sqlite"
    store = db.connect(path)
    db.save_capture(store, make_item("C-1"))
    accounts.add_user(store, "alice", "not-a-real-hash")
    store.close()
    return path


def decide(store_path, category, *watchlist):
    args = ["demo_market:C-1", "--confirm", category, "--user", "alice", "--db", str(store_path), *map(str, watchlist)]
    return CliRunner().invoke(review_command, args)


def test_review_confirms_only_categories_of_the_watchlist_given(store_path, watchlists):
    one, _ = watchlists
    refused = decide(store_path, "relay_attack", "--watchlist", one)
    assert refused.exit_code == 1 and "unknown category 'relay_attack'" in refused.output
    assert f"in {one}; one of: toy_drone" in refused.output
    assert decide(store_path, "toy_drone", "--watchlist", one).exit_code == 0
    assert decide(store_path, "relay_attack").exit_code == 0  # the default watchlist has it


def test_an_unreadable_watchlist_is_a_clear_error_not_a_fallback(store_path, watchlists, monkeypatch):
    _, broken = watchlists
    monkeypatch.setenv("KEYWATCH_WATCHLIST", str(broken))
    result = decide(store_path, "relay_attack")
    assert result.exit_code == 1 and f"Error: {broken}:3: not valid YAML" in result.output, result.output
    assert "Traceback" not in result.output
    with db.read_only(store_path) as store:
        assert list(store.query("SELECT * FROM decisions")) == []


def test_the_desk_offers_the_categories_of_its_watchlist(tmp_path, watchlists):
    one, broken = watchlists
    app = create_app(tmp_path / "desk.sqlite", watchlist_path=one, TESTING=True)
    assert app.config["CATEGORY_LABELS"] == {"toy_drone": "Toy drone jammer"}
    with pytest.raises(WatchlistError, match=f"{broken}:3: not valid YAML"):
        create_app(tmp_path / "desk.sqlite", watchlist_path=broken, TESTING=True)


def test_serve_refuses_a_broken_watchlist_before_it_starts(tmp_path, watchlists):
    _, broken = watchlists
    result = CliRunner().invoke(serve, ["--db", str(tmp_path / "k.sqlite"), "--watchlist", str(broken)])
    assert result.exit_code == 1 and f"Error: {broken}:3: not valid YAML" in result.output
    assert "Traceback" not in result.output
