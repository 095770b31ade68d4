"""`keywatch networks`: recompute, then list as a table, jsonl or csv; hostile seller text stays inert."""

import csv
import io
import json

from click.testing import CliRunner

import db
from keywatch.cli import cli
from tests.support.items import make_item


def store_with_a_network(path, seller_b="bravo"):
    store = db.connect(path)
    db.save_capture(
        store, make_item("1", seller="alpha", description="ring 07700 900123", fetched_at="2026-10-01T09:00:00Z")
    )
    db.save_capture(store, make_item("2", seller=seller_b, description="call 0 7 7 0 0 9 0 0 1 2 3"))
    db.save_capture(store, make_item("3", seller="charlie", description='=HYPERLINK("x") nothing to share'))
    store.close()


def run(*args):
    return CliRunner().invoke(cli, ["networks", *args])


def test_jsonl_is_one_object_per_network_with_the_issue_s_keys(tmp_path):
    path = tmp_path / "kw.sqlite"
    store_with_a_network(path)
    result = run("--db", str(path), "--format", "jsonl")
    assert result.exit_code == 0, result.output
    [line] = [line for line in result.stdout.splitlines() if line.startswith("{")]
    network = json.loads(line)
    assert {"id", "sellers", "listings", "links"} <= set(network)
    assert network["sellers"] == ["demo_market:alpha", "demo_market:bravo"]
    assert network["listings"] == ["demo_market:1", "demo_market:2"]
    [link] = network["links"]
    assert (link["a"], link["b"], link["kind"], link["weight"]) == (
        "demo_market:alpha",
        "demo_market:bravo",
        "phone",
        0.9,
    )
    assert link["evidence"]["first"]["seller"] == "demo_market:alpha"


def test_table_and_csv(tmp_path):
    path = tmp_path / "kw.sqlite"
    store_with_a_network(path)
    table = run("--db", str(path))
    assert table.exit_code == 0 and "2 sellers on 1 marketplace(s), 2 listings, unconfirmed" in table.stdout
    assert "phone" in table.stdout and "+447700900123" in table.stdout
    assert "networks: 1 of 2 sellers, 1 links" in table.stderr
    rows = list(csv.DictReader(io.StringIO(run("--db", str(path), "--format", "csv", "--stored").stdout)))
    assert [(r["a"], r["b"], r["kind"], r["first_seller"]) for r in rows] == [
        ("demo_market:alpha", "demo_market:bravo", "phone", "demo_market:alpha")
    ]


def test_seller_text_cannot_drive_the_terminal(tmp_path):
    path = tmp_path / "kw.sqlite"
    store_with_a_network(path, seller_b="bravo\x1b]0;owned\x07\u202e")
    out = run("--db", str(path)).stdout
    assert "\x1b" not in out and "\u202e" not in out and "\\x1b" in out


def test_a_missing_store_is_a_one_line_error(tmp_path):
    result = run("--db", str(tmp_path / "nothing.sqlite"))
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert not (tmp_path / "nothing.sqlite").exists()


def review(path, *args):
    return CliRunner().invoke(cli, ["review-network", *args, "--user", "alice", "--db", str(path)])


def stored_network(path):
    lines = [line for line in run("--db", str(path), "--stored", "--format", "jsonl").stdout.splitlines() if line]
    return [json.loads(line) for line in lines]


def store_with_a_reviewer(path):
    from db import accounts
    from webui.auth import hash_password

    store_with_a_network(path)
    store = db.connect(path)
    accounts.add_user(store, "alice", hash_password("correct horse battery"), role="reviewer")
    store.close()
    run("--db", str(path))


def test_a_network_is_confirmed_from_the_command_line_and_the_decision_is_chained(tmp_path, fast_password_hashes):
    path = tmp_path / "kw.sqlite"
    store_with_a_reviewer(path)
    [network] = stored_network(path)
    assert network["status"] == "unconfirmed"

    result = review(path, network["id"], "--confirm", "--note", "same phone")
    assert result.exit_code == 0 and f"network {network['id']} confirmed by alice" in result.stdout
    assert stored_network(path)[0]["status"] == "confirmed"
    assert CliRunner().invoke(cli, ["verify", "--db", str(path)]).exit_code == 0

    [link] = network["links"]
    refused = review(path, network["id"], "--reject-link", link["id"])  # a rejection needs a reason
    assert refused.exit_code == 1 and "needs a note" in refused.output and "Traceback" not in refused.output
    rejected = review(path, network["id"], "--reject-link", link["id"], "--note", "a courier's number")
    assert rejected.exit_code == 0 and f"link {link['id']} rejected by alice" in rejected.stdout
    assert stored_network(path) == []  # its only link rejected, the network is gone after the recompute
    restored = review(path, network["id"], "--restore-link", link["id"])
    assert restored.exit_code == 0 and "restored" in restored.stdout
    assert [n["id"] for n in stored_network(path)] == [network["id"]]


def test_a_network_decision_names_one_action_and_a_known_network(tmp_path, fast_password_hashes):
    path = tmp_path / "kw.sqlite"
    store_with_a_reviewer(path)
    assert review(path, "N123", "--confirm", "--reject-link", "L1").exit_code == 2
    assert review(path, "N123").exit_code == 2
    unknown = review(path, "Nnothing", "--confirm")
    assert unknown.exit_code == 1 and "no network 'Nnothing'" in unknown.output
