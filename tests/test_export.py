"""`keywatch export` and `keywatch verify-pack` on a real test store: contents, hashes, tampering, notices."""

import csv
import hashlib
import io
import json
import zipfile

import click
import pytest
from click.testing import CliRunner
from test_export_pack import rewrite_zip
from warcio.archiveiterator import ArchiveIterator

import db
from db import accounts, decisions
from exports import export as export_module
from exports.pack import MANIFEST, SUMS, parse_sums
from keywatch.commands import notify
from tests.support.items import make_item
from tests.support.notices import notices_in

RETAILERS = """\
retailers:
  - name: Keyless Pro Tools Ltd
    marketplace: demo
    seller_ids: [keyless_pro_tools]
    email: compliance@keyless.example
    address: |
      Unit 4
      Luton
    reporting_url: http://127.0.0.1:8001/report
  - name: Demo Market Trust & Safety
    marketplace: demo
    email: tns@demo.example
"""


@pytest.fixture
def cli():
    # Only this area's commands: these tests must not depend on the other command modules importing.
    group = click.Group(commands={c.name: c for c in notify.commands})
    runner = CliRunner()
    return lambda *args: runner.invoke(group, [str(a) for a in args], catch_exceptions=False)


@pytest.fixture
def store_path(tmp_path, cli):
    """A store with five listings: three by keyless_pro_tools (two confirmed, one dismissed), one confirmed by
    another seller, one pending; listing 1001 was captured twice; one title is a formula and one is HTML."""
    path = tmp_path / "store.sqlite"
    store = db.connect(path)
    items = [
        make_item(
            "1001",
            marketplace="demo",
            seller="keyless_pro_tools",
            title='=HYPERLINK("http://evil")',
            body=b"<html>\xff\xfe first capture of 1001 <script>alert(1)</script></html>",
            fetched_at="2026-03-01T10:00:00.000001Z",
        ),
        make_item(
            "1001",
            marketplace="demo",
            seller="keyless_pro_tools",
            title="Relay box v2",
            body=b"<html>second capture of 1001</html>",
            fetched_at="2026-03-02T10:00:00.000001Z",
        ),
        make_item(
            "1002",
            marketplace="demo",
            seller="Keyless_Pro_Tools",
            title="<b>Key programmer</b> & more",
            fetched_at="2026-03-01T11:00:00.000001Z",
        ),
        make_item("1003", marketplace="demo", seller="keyless_pro_tools", fetched_at="2026-03-01T12:00:00.000001Z"),
        make_item("2001", marketplace="demo", seller="other_seller", fetched_at="2026-03-01T13:00:00.000001Z"),
        make_item("2002", marketplace="demo", seller="other_seller", fetched_at="2026-03-01T14:00:00.000001Z"),
    ]
    for item in items:
        db.save_capture(store, item)
    accounts.add_user(store, "alice", "not-a-real-hash")
    pk = {lid: db.get_listing(store, "demo", lid)["pk"] for lid in ("1001", "1002", "1003", "2001")}
    decisions.decide(store, pk["1001"], "alice", "confirm", category="relay_attack", note="seen twice")
    decisions.decide(store, pk["1001"], "alice", "note", note="seller also on other sites")
    decisions.decide(store, pk["1002"], "alice", "escalate")
    decisions.decide(store, pk["1002"], "alice", "confirm", category="key_programmer")
    decisions.decide(store, pk["1003"], "alice", "dismiss", reason="false_positive")
    decisions.decide(store, pk["2001"], "alice", "confirm", category="relay_attack")
    store.conn.close()
    retailers = tmp_path / "retailers.yaml"
    retailers.write_text(RETAILERS)
    assert cli("retailer", "import", retailers, "--db", path).exit_code == 0
    return path


def read_zip(path):
    with zipfile.ZipFile(path) as zf:
        return {n: zf.read(n) for n in zf.namelist()}


@pytest.fixture
def pack(tmp_path, store_path, cli):
    out = tmp_path / "pack.zip"
    result = cli("export", "--retailer", "Keyless Pro Tools Ltd", "--out", out, "--db", store_path)
    assert result.exit_code == 0, result.output
    assert "KW-" in result.output
    return out


def test_pack_holds_exactly_the_confirmed_listings_of_the_retailer(pack):
    files = read_zip(pack)
    listings = json.loads(files["listings.json"])["listings"]
    # 1003 is dismissed, 2001 belongs to another seller; seller names match case-insensitively (1002).
    assert [x["listing_id"] for x in listings] == ["1001", "1002"]
    first = listings[0]
    assert first["title"] == "Relay box v2" and first["category"] == "relay_attack"
    assert first["decision"]["user"] == "alice" and first["decision"]["review_status"] == "confirmed"
    assert first["decision"]["note"] == "seen twice"
    assert first["decision"]["notes"][0]["note"] == "seller also on other sites"
    assert first["classifier"]["reasons"] == ["'relay box' matched \"Relay box\" in title, score 100"]
    assert first["status"] == "live" and first["first_seen"] == "2026-03-01T10:00:00.000001Z"
    assert first["last_seen"] == "2026-03-02T10:00:00.000001Z"
    assert len(first["captures"]) == 2
    assert listings[1]["decision"]["action"] == "confirm" and listings[1]["category"] == "key_programmer"

    rows = list(csv.DictReader(io.StringIO(files["listings.csv"].decode("utf-8-sig"))))
    assert [r["listing_id"] for r in rows] == ["1001", "1002"]
    assert rows[1]["title"] == "<b>Key programmer</b> & more"
    assert rows[0]["capture_sha256"].split() == [c["sha256"] for c in first["captures"]]


def test_formula_titles_are_defused_in_csv_only(tmp_path, store_path, cli):
    # The formula title was the first capture's; the index shows the newest. Confirm the other seller's listing
    # with a formula title to see the CSV cell prefixed, the JSON exact.
    store = db.connect(store_path)
    db.save_capture(
        store,
        make_item(
            "2001", marketplace="demo", seller="other_seller", title="=1+1", fetched_at="2026-03-05T10:00:00.000001Z"
        ),
    )
    store.conn.close()
    out = tmp_path / "other.zip"
    assert cli("export", "--seller", "demo:other_seller", "--out", out, "--db", store_path).exit_code == 0
    files = read_zip(out)
    assert json.loads(files["listings.json"])["listings"][0]["title"] == "=1+1"
    row = next(csv.DictReader(io.StringIO(files["listings.csv"].decode("utf-8-sig"))))
    assert row["title"] == "'=1+1"


def test_captured_pages_are_the_exact_bytes(pack, store_path):
    files = read_zip(pack)
    listings = json.loads(files["listings.json"])["listings"]
    captures = [c for x in listings for c in x["captures"]]
    assert len(captures) == 3
    for capture in captures:
        body = files[capture["file"]]
        assert capture["file"] == f"captures/{capture['sha256']}.html"
        assert hashlib.sha256(body).hexdigest() == capture["sha256"] and len(body) == capture["size"]
    assert b"<html>\xff\xfe first capture of 1001 <script>alert(1)</script></html>" in files.values()


def test_every_file_matches_the_manifest_and_sums(pack, store_path):
    files = read_zip(pack)
    manifest = json.loads(files[MANIFEST])
    listed = {e["path"]: e for e in manifest["files"]}
    assert set(listed) == set(files) - {MANIFEST, SUMS}
    for name, entry in listed.items():
        assert entry["sha256"] == hashlib.sha256(files[name]).hexdigest(), name
        assert entry["size"] == len(files[name])
    sums = parse_sums(files[SUMS].decode())
    assert set(sums) == set(files) - {SUMS}
    assert all(sums[n] == hashlib.sha256(files[n]).hexdigest() for n in sums)
    store = db.connect(store_path)
    notice = notices_in(store)[0]
    # The manifest's chain head is the store's head just before the notice's own chain record.
    seq = store.conn.execute(
        "SELECT seq FROM chain WHERE record_type = 'notice' AND record_id = ?", [notice["id"]]
    ).fetchone()[0]
    prev = store.conn.execute("SELECT hash FROM chain WHERE seq = ?", [seq - 1]).fetchone()[0]
    assert manifest["store"]["chain_head"] == prev == notice["chain_head"]
    assert manifest["notice_number"] == notice["number"]
    assert manifest["tools"]["warcio"] and manifest["tools"]["reportlab"] and manifest["tools"]["python"]
    assert manifest["created_at"].endswith("Z")


def test_warc_reads_back_with_matching_digests(pack):
    files = read_zip(pack)
    listings = json.loads(files["listings.json"])["listings"]
    expected = {c["sha256"] for x in listings for c in x["captures"]}
    seen = set()
    for record in ArchiveIterator(io.BytesIO(files["captures.warc.gz"])):
        if record.rec_type != "response":
            continue
        body = record.content_stream().read()
        digest = hashlib.sha256(body).hexdigest()
        assert files[f"captures/{digest}.html"] == body
        assert record.rec_headers.get_header("WARC-Payload-Digest").startswith("sha256:")
        seen.add(digest)
    assert seen == expected


def test_notice_is_recorded_chained_and_the_store_still_verifies(pack, store_path):
    store = db.connect(store_path)
    [notice] = notices_in(store)
    assert notice["number"].startswith("KW-") and notice["number"].endswith("-0001")
    assert notice["pack_sha256"] == hashlib.sha256(pack.read_bytes()).hexdigest()
    assert notice["manifest_sha256"] == hashlib.sha256(read_zip(pack)[MANIFEST]).hexdigest()
    assert notice["recipient"]["name"] == "Keyless Pro Tools Ltd" and notice["listing_count"] == 2
    assert store.conn.execute("SELECT count(*) FROM chain WHERE record_type = 'notice'").fetchone()[0] == 1
    result = db.verify(store)
    assert result.ok, result.summary()
    with pytest.raises(Exception, match="append-only"):
        store.conn.execute("UPDATE notices SET pack_sha256 = 'x'")


def test_letter_is_numbered_and_names_the_listings(pack):
    html = read_zip(pack)["notice.html"].decode()
    number = json.loads(read_zip(pack)[MANIFEST])["notice_number"]
    assert number in html and "Keyless Pro Tools Ltd" in html
    assert "http://127.0.0.1:8000/item/1002" in html
    # Listing text is hostile input: escaped, never markup.
    assert "&lt;b&gt;Key programmer&lt;/b&gt; &amp; more" in html and "<b>Key programmer" not in html


def test_numbers_increase_and_packs_are_never_overwritten(tmp_path, pack, store_path, cli):
    before = pack.read_bytes()
    again = cli("export", "--retailer", "Keyless Pro Tools Ltd", "--out", pack, "--db", store_path)
    assert again.exit_code == 1 and "already exists" in again.output
    assert pack.read_bytes() == before
    second = cli("export", "--marketplace", "demo", "--out", tmp_path / "market.zip", "--db", store_path)
    assert second.exit_code == 0, second.output
    store = db.connect(store_path)
    numbers = [n["number"] for n in notices_in(store)]
    assert [n[-4:] for n in numbers] == ["0001", "0002"]
    market = notices_in(store)[1]
    # --marketplace covers every seller and is addressed to the operator's entry (no seller ids).
    assert market["recipient"]["name"] == "Demo Market Trust & Safety" and market["listing_count"] == 3


def test_failed_export_records_nothing_and_writes_nothing(tmp_path, store_path, cli, monkeypatch):
    def broken_pdf(context):
        raise RuntimeError("renderer crashed")

    monkeypatch.setattr(export_module, "render_pdf", broken_pdf)
    out = tmp_path / "pack.zip"
    with pytest.raises(RuntimeError):
        cli("export", "--retailer", "Keyless Pro Tools Ltd", "--out", out, "--db", store_path)
    assert not out.exists()
    # Nothing but the store (with SQLite's -wal and -shm while a connection is open) and the retailers file.
    sqlite_files = {"store.sqlite-shm", "store.sqlite-wal"}
    assert sorted(p.name for p in tmp_path.iterdir() if p.name not in sqlite_files) == [
        "retailers.yaml",
        "store.sqlite",
    ]
    store = db.connect(store_path)
    assert notices_in(store) == []
    assert store.conn.execute("SELECT count(*) FROM chain WHERE record_type = 'notice'").fetchone()[0] == 0


def test_failure_after_the_notice_row_rolls_it_back(tmp_path, store_path, monkeypatch):
    # The last step (linking the ZIP into place) fails after the notice row was inserted: both must vanish.
    def no_link(src, dst):
        raise PermissionError("read-only folder")

    monkeypatch.setattr(export_module.os, "link", no_link)
    monkeypatch.setattr(export_module.os, "replace", no_link)
    store = db.connect(store_path)
    target = export_module.resolve_target(store, retailer="Keyless Pro Tools Ltd")
    from exports.office import load_office

    with pytest.raises(PermissionError):
        export_module.export_pack(store, target, tmp_path / "pack.zip", office=load_office())
    assert notices_in(store) == [] and not (tmp_path / "pack.zip").exists()
    assert not [p for p in tmp_path.iterdir() if "staging" in p.name]


@pytest.mark.parametrize(
    "args, message",
    [
        (["--retailer", "Nobody"], "no retailer named 'Nobody'"),
        (["--seller", "no-colon"], "MARKETPLACE:SELLER"),
        (["--retailer", "Keyless Pro Tools Ltd", "--marketplace", "demo"], "exactly one of"),
        ([], "exactly one of"),
        (["--seller", "demo:nobody_sells_here"], "no confirmed listings for seller:demo:nobody_sells_here"),
        (["--retailer", "Keyless Pro Tools Ltd", "--status", "escalated"], "no escalated listings"),
    ],
)
def test_bad_selections_are_one_line_errors(tmp_path, store_path, cli, args, message):
    out = tmp_path / "x.zip"
    result = cli("export", *args, "--out", out, "--db", store_path)
    assert result.exit_code == 1 and message in result.output, result.output
    assert result.output.count("\n") == 1 and "Traceback" not in result.output
    assert not out.exists()
    assert notices_in(db.connect(store_path)) == []


def test_missing_store_is_an_error_not_a_new_file(tmp_path, cli):
    result = cli("export", "--marketplace", "demo", "--out", tmp_path / "x.zip", "--db", tmp_path / "none.sqlite")
    assert result.exit_code == 1 and "no evidence store" in result.output
    assert not (tmp_path / "none.sqlite").exists()


def test_bad_office_config_is_a_one_line_error(tmp_path, store_path, cli):
    office = tmp_path / "office.yaml"
    office.write_text("name: Office\naddress: here\nemail: a@b.example\nlegal_paragraph: x: y\nphone: 1\n")
    result = cli(
        "export", "--marketplace", "demo", "--out", tmp_path / "x.zip", "--db", store_path, "--office-config", office
    )
    assert result.exit_code == 1 and f"{office}:4" in result.output and "not valid YAML" in result.output


# ---------------------------------------------------------------- verify-pack


def test_verify_pack_passes_an_intact_pack(pack, store_path, cli):
    result = cli("verify-pack", pack, "--db", store_path)
    assert result.exit_code == 0, result.output
    assert "OK" in result.output and "the ZIP matches notice" in result.output


@pytest.mark.parametrize("victim", ["listings.csv", "notice.pdf", "captures.warc.gz", "capture"])
def test_verify_pack_names_a_changed_file(tmp_path, pack, cli, victim):
    files = read_zip(pack)
    if victim == "capture":
        victim = next(n for n in files if n.startswith("captures/") and n.endswith(".html"))

    def flip_one_byte(name, data):
        if name != victim:
            return data
        return data[:10] + bytes([data[10] ^ 1]) + data[11:]

    bad = rewrite_zip(pack, tmp_path / "bad.zip", flip_one_byte)
    result = cli("verify-pack", bad, "--db", tmp_path / "no-store.sqlite")
    assert result.exit_code == 1
    assert f"{victim}: SHA-256 differs" in result.output and "FAILED" in result.output
    assert not (tmp_path / "no-store.sqlite").exists()


def test_verify_pack_names_extra_and_missing_files(tmp_path, pack, cli):
    extra = rewrite_zip(pack, tmp_path / "extra.zip", lambda n, d: d)
    with zipfile.ZipFile(extra, "a") as zf:
        zf.writestr("captures/planted.html", b"<html>not evidence</html>")
    result = cli("verify-pack", extra, "--db", tmp_path / "none.sqlite")
    assert result.exit_code == 1 and "captures/planted.html: extra file" in result.output

    missing = rewrite_zip(pack, tmp_path / "missing.zip", lambda n, d: None if n == "listings.json" else d)
    result = cli("verify-pack", missing, "--db", tmp_path / "none.sqlite")
    assert result.exit_code == 1 and "listings.json: listed in" in result.output and "missing" in result.output


def test_verify_pack_catches_a_consistently_rewritten_pack_against_the_store(tmp_path, pack, store_path, cli):
    # Change a file AND rewrite manifest.json and SHA256SUMS to match: only the recorded notice can tell.
    from exports.pack import write_pack

    files = {n: d for n, d in read_zip(pack).items() if n not in (MANIFEST, SUMS)}
    manifest = json.loads(read_zip(pack)[MANIFEST])
    files["listings.csv"] = files["listings.csv"].replace(b"Relay box v2", b"Bluetooth speaker")
    forged = tmp_path / "forged.zip"
    write_pack(forged, files, **{k: v for k, v in manifest.items() if k not in ("format", "files")})
    alone = cli("verify-pack", forged, "--db", tmp_path / "none.sqlite")
    assert alone.exit_code == 0  # self-consistent: the pack alone cannot show it
    against_store = cli("verify-pack", forged, "--db", store_path)
    assert against_store.exit_code == 1 and "differs from notice" in against_store.output


def test_verify_pack_rejects_a_non_zip(tmp_path, cli):
    bogus = tmp_path / "x.zip"
    bogus.write_text("hello")
    result = cli("verify-pack", bogus)
    assert result.exit_code == 1 and "not a readable ZIP" in result.output


def test_concurrent_exports_get_distinct_numbers(tmp_path, store_path):
    # Two exports at once, each with its own connection (as two processes would): the write lock serialises
    # them, so each gets its own number and the chain stays linear.
    import threading

    from exports.office import load_office

    office, errors, results = load_office(), [], []

    def run(i):
        try:
            store = db.connect(store_path)
            target = export_module.resolve_target(store, marketplace="demo")
            results.append(export_module.export_pack(store, target, tmp_path / f"p{i}.zip", office=office).number)
        except Exception as exc:  # surfaced below
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert sorted(n[-4:] for n in results) == ["0001", "0002", "0003", "0004"]
    store = db.connect(store_path)
    assert db.verify(store).ok
    packs = {n["pack_sha256"] for n in notices_in(store)}
    assert packs == {hashlib.sha256((tmp_path / f"p{i}.zip").read_bytes()).hexdigest() for i in range(4)}


def test_unwritable_destination_is_a_one_line_error(tmp_path, store_path, cli):
    # The "folder" is a file: writing the pack fails with an OSError (works even when tests run as root).
    not_a_folder = tmp_path / "file"
    not_a_folder.write_text("x")
    result = cli("export", "--marketplace", "demo", "--out", not_a_folder / "p.zip", "--db", store_path)
    assert result.exit_code == 1 and "cannot write" in result.output and "no notice recorded" in result.output
    assert result.output.count("\n") == 1
    assert notices_in(db.connect(store_path)) == []


def test_verify_pack_does_not_change_the_store(tmp_path, pack, store_path, cli):
    # An examiner's check against the store must leave the file as it was.
    store = db.connect(store_path)
    store.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    store.close()
    before = store_path.read_bytes()
    assert cli("verify-pack", pack, "--db", store_path).exit_code == 0
    assert store_path.read_bytes() == before


def test_export_refuses_to_quote_an_edited_listing_index(tmp_path, store_path, cli):
    """The letter and listings.csv quote the listings index: an edited title must not reach a retailer."""
    store = db.connect(store_path)
    store.execute("UPDATE listings SET title = 'A harmless phone case' WHERE listing_id = '1002'")
    store.conn.close()
    out = tmp_path / "pack.zip"
    result = cli("export", "--retailer", "Keyless Pro Tools Ltd", "--out", out, "--db", store_path)
    assert result.exit_code == 1
    assert "index column(s) title disagree with the chained evidence" in result.output
    assert "keywatch verify" in result.output and not out.exists()
    assert notices_in(db.connect(store_path)) == []
