"""The whole notice workflow on the demo marketplace: crawl, confirm, export, the seller removes a listing,
re-crawl, and the compliance report counts the removal. Real crawls (subprocess) against 127.0.0.1."""

import csv
import io
import json
import zipfile
from pathlib import Path

import click
from click.testing import CliRunner
from warcio.archiveiterator import ArchiveIterator

import db
from db import accounts, decisions
from exports.report import compliance
from keywatch.commands import notify
from tests.support.cli import run_keywatch
from tests.test_export_letter import pdftotext

ROOT = Path(__file__).resolve().parent.parent
SELLER = "keyless_pro_tools"  # the retailers.yaml example's "Keyless Pro Tools Ltd"


def test_demo_pack_and_removal_in_the_report(demo_market, tmp_path):
    db_path = tmp_path / "demo.sqlite"
    crawl = ("crawl", "demo_market", "-a", f"base_url={demo_market.url}", "--db", db_path, "-s", "LOG_LEVEL=WARNING")
    run_keywatch(*crawl)

    store = db.connect(db_path)
    accounts.add_user(store, "alice", "not-a-real-hash")
    hits = [h for h in db.hits(store) if h["seller"] == SELLER]
    assert len(hits) >= 2, "the demo catalogue should have several hits by this seller"
    decisions.decide_many(store, [h["listing_pk"] for h in hits], "alice", "confirm", category="relay_attack")
    store.close()

    group = click.Group(commands={c.name: c for c in notify.commands})
    runner = CliRunner()

    def cli(*args):
        result = runner.invoke(group, [str(a) for a in args], catch_exceptions=False)
        return result

    assert cli("retailer", "import", ROOT / "retailers.yaml", "--db", db_path).exit_code == 0
    pack = tmp_path / "pack.zip"
    exported = cli("export", "--retailer", "Keyless Pro Tools Ltd", "--out", pack, "--db", db_path)
    assert exported.exit_code == 0, exported.output
    assert cli("verify-pack", pack, "--db", db_path).exit_code == 0

    with zipfile.ZipFile(pack) as zf:
        files = {n: zf.read(n) for n in zf.namelist()}
    rows = list(csv.DictReader(io.StringIO(files["listings.csv"].decode("utf-8-sig"))))
    assert {r["listing_id"] for r in rows} == {h["listing_id"] for h in hits}
    assert all(r["seller"] == SELLER and r["reasons"] for r in rows)
    records = json.loads(files["listings.json"])["listings"]
    responses = [r for r in ArchiveIterator(io.BytesIO(files["captures.warc.gz"])) if r.rec_type == "response"]
    assert len(responses) == sum(len(x["captures"]) for x in records)
    text = " ".join(pdftotext(files["notice.pdf"], tmp_path).split())
    assert all(h["listing_id"] in text for h in hits)

    # Tampering with the pack is caught.
    tampered = tmp_path / "tampered.zip"
    with zipfile.ZipFile(tampered, "w") as zf:
        for name, data in files.items():
            zf.writestr(name, data.replace(b"relay_attack", b"phone_case") if name == "listings.json" else data)
    bad = cli("verify-pack", tampered, "--db", tmp_path / "none.sqlite")
    assert bad.exit_code == 1 and "listings.json: SHA-256 differs" in bad.output

    # The seller takes one listing down; the next crawl's re-check records it.
    gone = hits[0]["listing_id"]
    demo_market.remove(gone, how="410")
    run_keywatch(*crawl)
    store = db.connect(db_path)
    data = compliance(store)
    [row] = [r for r in data["rows"] if r["retailer"] == "Keyless Pro Tools Ltd"]
    assert (row["notified"], row["removed"], row["still_live"]) == (len(hits), 1, len(hits) - 1)
    assert row["median_days_to_removal"] == 0.0  # seconds after the notice, in days to two decimals
    [removed] = [x for x in data["listings"] if x["state"] == "removed" and x["retailer"] == row["retailer"]]
    assert removed["listing_id"] == gone and removed["removed_at"] > removed["notified_at"]
    assert db.verify(store).ok
