"""`keywatch export --network N`: only a confirmed network; its links and evidence in the manifest, network.json and
the notice. The compliance report counts networks and finds removed sellers reappearing under a linked account."""

import json
import zipfile

import pytest
from click.testing import CliRunner

import db
from db import network_decisions
from db import networks as stored
from db.accounts import add_user
from db.decisions import decide_many
from exports.report import compliance, render_markdown
from keywatch.cli import cli
from keywatch.networks_job import recompute
from tests.support.items import make_item


@pytest.fixture
def path(tmp_path):
    path = tmp_path / "kw.sqlite"
    store = db.connect(path)
    add_user(store, "rita", "not-a-real-hash")
    first = make_item("1", seller="alpha", description="ring 07700 900123", fetched_at="2026-10-01T09:00:00Z")
    pks = [
        db.save_capture(store, first),
        db.save_capture(store, make_item("2", seller="bravo", description="call +44 7700 900 123")),
        db.save_capture(store, make_item("3", seller="nobody", description="unrelated")),
    ]
    listing_pks = [row["pk"] for row in store.query("SELECT pk FROM listings ORDER BY pk")]
    decide_many(store, listing_pks, "rita", "confirm", category="relay_attack")
    assert pks
    store.close()
    recompute(path)
    return path


def export(path, out, *args):
    return CliRunner().invoke(cli, ["export", "--db", str(path), "--out", str(out), *args])


def only_network(path) -> dict:
    with db.read_only(path) as store:
        [network] = stored.list_networks(store)
    return network


def test_an_unconfirmed_network_cannot_be_exported(path, tmp_path):
    network = only_network(path)
    result = export(path, tmp_path / "pack.zip", "--network", network["id"])
    assert result.exit_code == 1 and "is not confirmed" in result.output
    assert not (tmp_path / "pack.zip").exists()
    assert "no network 'Nnothing'" in export(path, tmp_path / "pack.zip", "--network", "Nnothing").output


def test_a_confirmed_network_s_pack_carries_its_links_and_evidence(path, tmp_path):
    network = only_network(path)
    store = db.connect(path)
    network_decisions.decide_network(store, "rita", "confirm", network_id=network["id"], note="same number")
    store.close()
    out = tmp_path / "pack.zip"
    result = export(path, out, "--network", network["id"])
    assert result.exit_code == 0, result.output
    with zipfile.ZipFile(out) as pack:
        manifest = json.loads(pack.read("manifest.json"))
        document = json.loads(pack.read("network.json"))
        listings = json.loads(pack.read("listings.json"))["listings"]
        notice = pack.read("notice.html").decode()
        assert pack.read("notice.pdf").startswith(b"%PDF")
    assert manifest["scope"] == f"network:{network['id']}"
    assert manifest["network"]["sellers"] == ["demo_market:alpha", "demo_market:bravo"]
    assert manifest["network"]["confirmed"]["user"] == "rita"
    [link] = manifest["network"]["links"]
    assert link["kind"] == "phone" and link["evidence"]["first"]["seller"] == "demo_market:alpha"
    assert document["network"] == manifest["network"]
    assert sorted(x["listing_id"] for x in listings) == ["1", "2"]  # not the unrelated seller's
    assert "The seller network" in notice and "+447700900123" in notice
    assert CliRunner().invoke(cli, ["verify-pack", str(out)]).exit_code == 0


def test_the_report_counts_networks_and_finds_a_removed_seller_reappearing(path):
    store = db.connect(path)
    alpha = next(store.query("SELECT pk FROM listings WHERE seller = 'alpha'"))["pk"]
    db.record_status(store, alpha, "removed", "2026-11-10T00:00:00.000000Z")
    db.save_capture(store, make_item("4", seller="bravo", description="back again", fetched_at="2026-11-20T00:00:00Z"))
    store.close()
    recompute(path)
    with db.read_only(path) as store:
        data = compliance(store)
    found = data["networks"]
    assert (found["networks"], found["sellers"], found["largest"], found["multi_marketplace"]) == (1, 2, 2, 0)
    [again] = found["reappearances"]
    assert again["removed_seller"] == "demo_market:alpha" and again["reappeared_as"] == "demo_market:bravo"
    assert again["listing"] == "demo_market:4"
    assert "## Seller networks" in render_markdown(data)
