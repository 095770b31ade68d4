"""Retailers: retailers.yaml, `keywatch retailer add|list|import`, and the notices tables' migrations."""

import json
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

import db
from common.yamlfile import ConfigError
from db import notices, retailers
from exports.retailers import load_retailers
from keywatch.commands import notify

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def cli():
    group = click.Group(commands={c.name: c for c in notify.commands})
    runner = CliRunner()
    return lambda *args: runner.invoke(group, [str(a) for a in args], catch_exceptions=False)


# a recorded notice's fields, but its number
_NOTICE = {
    "created_at": "2026-03-01T00:00:00.000000Z",
    "recipient": {"name": "x"},
    "scope": "marketplace:demo",
    "review_status": "confirmed",
    "listing_pks": [],
    "pack_name": "p.zip",
    "pack_sha256": "0" * 64,
    "manifest_sha256": "1" * 64,
    "chain_head": "2" * 64,
}


def test_the_example_retailers_yaml_loads():
    retailers = load_retailers(ROOT / "retailers.yaml")
    assert len(retailers) >= 2
    assert any(not r.seller_ids for r in retailers), "the example should show a marketplace operator entry"
    assert all(r.marketplace and r.name for r in retailers)


@pytest.mark.parametrize(
    "text, line, message",
    [
        ("retailers:\n  - name: A\n    marketplace: demo\n  - name: B\n", 4, "'marketplace' is required"),
        ("retailers:\n  - name: A\n    marketplace: demo\n    email: nope\n", 2, "has no '@'"),
        ("retailers:\n  - name: A\n    marketplace: demo\n    sellers: [x]\n", 2, "unknown field(s) sellers"),
        (
            "retailers:\n  - name: A\n    marketplace: demo\n  - name: A\n    marketplace: demo\n",
            4,
            "duplicate retailer",
        ),
        ("retailers:\n  - name: A\n    marketplace: demo\n    reporting_url: ftp://x\n", 2, "http(s) URL"),
        ("retailers:\n  - name: A\n   marketplace: demo\n", 3, "not valid YAML"),
    ],
)
def test_bad_retailers_yaml_is_one_line_naming_the_line(tmp_path, text, line, message):
    path = tmp_path / "retailers.yaml"
    path.write_text(text)
    with pytest.raises(ConfigError) as error:
        load_retailers(path)
    assert str(error.value).startswith(f"{path}:{line}: ") and message in str(error.value)


def test_import_list_and_reimport(tmp_path, cli):
    store_path = tmp_path / "s.sqlite"
    result = cli("retailer", "import", ROOT / "retailers.yaml", "--db", store_path)
    assert result.exit_code == 0 and "new" in result.output
    count = len(load_retailers(ROOT / "retailers.yaml"))
    listed = json.loads(cli("retailer", "list", "--json", "--db", store_path).output)
    assert len(listed) == count
    again = cli("retailer", "import", ROOT / "retailers.yaml", "--db", store_path)
    assert f"0 new, {count} updated" in again.output
    assert len(json.loads(cli("retailer", "list", "--json", "--db", store_path).output)) == count


def test_import_of_a_bad_file_changes_nothing(tmp_path, cli):
    store_path = tmp_path / "s.sqlite"
    bad = tmp_path / "r.yaml"
    bad.write_text("retailers:\n  - name: A\n    marketplace: demo\n  - name: B\n    marketplace: [\n")
    result = cli("retailer", "import", bad, "--db", store_path)
    assert result.exit_code == 1 and result.output.startswith(f"Error: {bad}:") and "Traceback" not in result.output
    # A file that parses but gives one seller to two retailers: all of it or none of it.
    clash = tmp_path / "clash.yaml"
    clash.write_text(
        "retailers:\n  - name: A\n    marketplace: demo\n    seller_ids: [s1]\n"
        "  - name: B\n    marketplace: demo\n    seller_ids: [S1]\n"
    )
    result = cli("retailer", "import", clash, "--db", store_path)
    assert result.exit_code == 1 and "already belongs to retailer 'A'" in result.output
    assert retailers.list_retailers(db.connect(store_path)) == []


def test_add_and_update(tmp_path, cli):
    store_path = tmp_path / "s.sqlite"
    ok = cli(
        "retailer",
        "add",
        "Shop",
        "--marketplace",
        "demo",
        "--seller",
        "a",
        "--seller",
        "b",
        "--email",
        "x@shop.example",
        "--address",
        "1 Road\\nTown",
        "--db",
        store_path,
    )
    assert ok.exit_code == 0, ok.output
    again = cli("retailer", "add", "Shop", "--marketplace", "demo", "--db", store_path)
    assert again.exit_code == 1 and "already exists" in again.output
    updated = cli("retailer", "add", "Shop", "--marketplace", "demo", "--seller", "c", "--update", "--db", store_path)
    assert updated.exit_code == 0
    store = db.connect(store_path)
    shop = retailers.get_retailer(store, "Shop")
    assert shop["seller_ids"] == ["c"] and shop["email"] == ""
    assert retailers.retailer_for_seller(store, "demo", "C")["name"] == "Shop"
    assert retailers.retailer_for_seller(store, "demo", "a") is None
    bad = cli("retailer", "add", "X", "--marketplace", "demo", "--email", "nope", "--db", store_path)
    assert bad.exit_code == 1 and "has no '@'" in bad.output


def test_migrations_apply_once_and_notice_numbers_count_per_year(tmp_path):
    store = db.connect(tmp_path / "s.sqlite")
    db.connection.apply_migrations(store)  # idempotent
    assert {"retailers", "retailer_sellers", "notices"} <= set(store.table_names())
    assert notices.next_notice_number(store, "KW", 2026) == "KW-2026-0001"
    base = {**_NOTICE, "retailer_id": None, "marketplace": "demo"}
    with db.write_transaction(store):
        notices.record_notice(store, {**base, "number": "KW-2026-0009"})
        notices.record_notice(store, {**base, "number": "KW-2025-0100"})
    assert notices.next_notice_number(store, "KW", 2026) == "KW-2026-0010"
    assert notices.next_notice_number(store, "KW", 2027) == "KW-2027-0001"
    assert notices.next_notice_number(store, "OTHER", 2026) == "OTHER-2026-0001"
    assert db.verify(store).ok


@pytest.mark.parametrize("command", [c.name for c in notify.commands])
def test_every_command_has_help(cli, command):
    result = cli(command, "--help")
    assert result.exit_code == 0 and len(result.output.split("\n\n")[1].strip()) > 20
    group = next(c for c in notify.commands if c.name == command)
    for sub in getattr(group, "commands", {}).values():
        assert sub.help and len(sub.help) > 20, f"{command} {sub.name} has no help"


def test_the_next_notice_number_reads_one_range_of_the_number_index(tmp_path):
    store = db.connect(tmp_path / "s.sqlite")
    sent: list[str] = []
    store.conn.set_trace_callback(sent.append)
    notices.next_notice_number(store, "KW", 2026)
    store.conn.set_trace_callback(None)
    (sql,) = [s for s in sent if "FROM notices" in s]
    plan = " ".join(row[3] for row in store.conn.execute("EXPLAIN QUERY PLAN " + sql))
    assert plan.startswith("SEARCH notices USING COVERING INDEX") and "number>" in plan, plan


def test_notice_numbers_of_other_prefixes_and_forms_are_not_counted(tmp_path):
    store = db.connect(tmp_path / "s.sqlite")
    base = _NOTICE
    for number in ("KW-2026-0003", "KW-2026-0040-copy", "kw-2026-0500", "KW-20260-0900", "KW-2026-", "KWX-2026-0700"):
        notices.record_notice(store, {**base, "number": number})
    assert notices.next_notice_number(store, "KW", 2026) == "KW-2026-0004"
