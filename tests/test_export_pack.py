"""The pack format on its own (no database): manifest, SHA256SUMS, atomic writing, verify_pack."""

import hashlib
import json
import shutil
import subprocess
import zipfile

import pytest

from exports.pack import MANIFEST, SUMS, parse_sums, verify_pack, write_pack

PAGE = b"<html>\x00\xff raw bytes</html>"
FILES = {
    "listings.csv": b"url,title\nhttp://127.0.0.1/item/1,Relay box\n",
    f"captures/{hashlib.sha256(PAGE).hexdigest()}.html": PAGE,
    "notice.pdf": b"%PDF-1.4 not really",
}


def rewrite_zip(src, dst, change):
    """Copy a ZIP, letting `change(name, data)` return new bytes, or None to drop the file."""
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w") as zout:
        for name in zin.namelist():
            data = change(name, zin.read(name))
            if data is not None:
                zout.writestr(name, data)
    return dst


@pytest.fixture
def pack(tmp_path):
    out = tmp_path / "pack.zip"
    written = write_pack(out, FILES, notice_number="KW-2026-0001", chain_head="c" * 64)
    assert written.sha256 == hashlib.sha256(out.read_bytes()).hexdigest()
    assert out.stat().st_mode & 0o044, "packs are for sharing, not private temp files"
    with zipfile.ZipFile(out) as zf:
        assert written.manifest_sha256 == hashlib.sha256(zf.read(MANIFEST)).hexdigest()
    return out


def test_manifest_and_sums_cover_every_file(pack):
    with zipfile.ZipFile(pack) as zf:
        contents = {n: zf.read(n) for n in zf.namelist()}
    assert set(contents) == set(FILES) | {MANIFEST, SUMS}
    manifest = json.loads(contents[MANIFEST])
    assert manifest["notice_number"] == "KW-2026-0001" and manifest["chain_head"] == "c" * 64
    assert {e["path"]: (e["size"], e["sha256"]) for e in manifest["files"]} == {
        n: (len(d), hashlib.sha256(d).hexdigest()) for n, d in FILES.items()
    }
    sums = parse_sums(contents[SUMS].decode())
    assert sums == {n: hashlib.sha256(d).hexdigest() for n, d in contents.items() if n != SUMS}
    report = verify_pack(pack)
    assert report.ok, report.problems
    assert report.files == len(FILES) + 2


@pytest.mark.skipif(not shutil.which("sha256sum"), reason="coreutils sha256sum not installed")
def test_sha256sum_checks_the_unzipped_folder(pack, tmp_path):
    folder = tmp_path / "unzipped"
    with zipfile.ZipFile(pack) as zf:
        zf.extractall(folder)
    ok = subprocess.run(["sha256sum", "-c", "--strict", SUMS], cwd=folder, capture_output=True, text=True)
    assert ok.returncode == 0, ok.stdout + ok.stderr
    (folder / "listings.csv").write_bytes(b"changed")
    bad = subprocess.run(["sha256sum", "-c", SUMS], cwd=folder, capture_output=True, text=True)
    assert bad.returncode != 0 and "listings.csv: FAILED" in bad.stdout


def test_changed_file_is_named(pack, tmp_path):
    bad = rewrite_zip(
        pack, tmp_path / "bad.zip", lambda n, d: d.replace(b"Relay", b"Relax") if n == "listings.csv" else d
    )
    report = verify_pack(bad)
    assert not report.ok
    assert all(p.startswith("listings.csv:") for p in report.problems), report.problems
    assert len(report.problems) == 2  # against manifest.json and against SHA256SUMS


def test_a_capture_must_hash_to_its_name(tmp_path):
    # Even a pack whose manifest and sums were rebuilt around a swapped page is caught by the page's name.
    swapped = {**FILES, "captures/" + "a" * 64 + ".html": b"<html>other page</html>"}
    write_pack(tmp_path / "p.zip", swapped)
    problems = verify_pack(tmp_path / "p.zip").problems
    assert problems == [
        "captures/"
        + "a" * 64
        + ".html: content does not hash to its own name ("
        + hashlib.sha256(b"<html>other page</html>").hexdigest()
        + ")"
    ]


def test_changed_manifest_is_caught_by_sums(pack, tmp_path):
    bad = rewrite_zip(
        pack, tmp_path / "bad.zip", lambda n, d: d.replace(b"KW-2026-0001", b"KW-2026-0002") if n == MANIFEST else d
    )
    # Nothing but SHA256SUMS vouches for the manifest, so both are named: either may be the one changed.
    assert [p.split(":")[0] for p in verify_pack(bad).problems] == [MANIFEST, SUMS]


def test_extra_and_missing_files_are_named(pack, tmp_path):
    def add(name, data):
        return data

    extra = rewrite_zip(pack, tmp_path / "extra.zip", add)
    with zipfile.ZipFile(extra, "a") as zf:
        zf.writestr("captures/evil.html", b"<script>")
    problems = verify_pack(extra).problems
    assert problems and all(p.startswith("captures/evil.html: extra file") for p in problems)

    missing = rewrite_zip(pack, tmp_path / "missing.zip", lambda n, d: None if n == "notice.pdf" else d)
    problems = verify_pack(missing).problems
    assert problems and all(p.startswith("notice.pdf:") and "missing" in p for p in problems)

    no_sums = rewrite_zip(pack, tmp_path / "nosums.zip", lambda n, d: None if n == SUMS else d)
    assert verify_pack(no_sums).problems == [f"{SUMS}: missing"]


def test_not_a_zip(tmp_path):
    path = tmp_path / "x.zip"
    path.write_bytes(b"not a zip")
    with pytest.raises(ValueError, match="not a readable ZIP"):
        verify_pack(path)


def test_failed_write_leaves_nothing(tmp_path, monkeypatch):
    out = tmp_path / "pack.zip"
    out.write_bytes(b"previous pack")
    real_writestr, written = zipfile.ZipFile.writestr, []

    def fail_on_third_file(self, name, data, *args, **kwargs):
        if len(written) == 2:
            raise OSError("disk full")
        written.append(name)
        return real_writestr(self, name, data, *args, **kwargs)

    monkeypatch.setattr(zipfile.ZipFile, "writestr", fail_on_third_file)
    with pytest.raises(OSError, match="disk full"):
        write_pack(out, FILES)
    assert len(written) == 2  # it really failed half-way through the ZIP
    assert out.read_bytes() == b"previous pack"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["pack.zip"]


@pytest.mark.parametrize("name", ["../evil", "/abs", "a b.txt", MANIFEST, SUMS])
def test_unsafe_or_reserved_names_are_refused(tmp_path, name):
    with pytest.raises(ValueError):
        write_pack(tmp_path / "p.zip", {name: b"x"})
    assert not (tmp_path / "p.zip").exists()


@pytest.mark.parametrize(
    "title",
    [
        '=HYPERLINK("http://x")',
        " =1+1",
        "\n=1+1",
        "\u3000=1",
        "\uff1dSUM(A1)",
        "\uff0b1",
        "@SUM(A1)",
        "\t=1",
        "\r=1",
        "-2+3",
        "  +44 key",
    ],
)
def test_csv_cells_that_a_spreadsheet_would_run_are_prefixed(title):
    from exports.listings import _cell

    assert _cell(title) == "'" + title


@pytest.mark.parametrize("title", ["Relay box = 2 units", "Key programmer", "", "£249 - boxed", "1=1"])
def test_ordinary_csv_cells_are_left_alone(title):
    from exports.listings import _cell

    assert _cell(title) == title


def test_every_single_byte_change_of_every_file_is_named(pack, tmp_path):
    """Flip each byte of each file in turn (SHA256SUMS included): verify_pack must name that file every time."""
    with zipfile.ZipFile(pack) as zf:
        originals = {name: zf.read(name) for name in zf.namelist()}
    missed = []
    for victim, data in originals.items():
        for i in range(len(data)):
            changed = bytearray(data)
            changed[i] ^= 0x01 if chr(data[i]) not in " *" else 0x0A  # ' ' <-> '*' is sha256sum's mode marker
            bad = tmp_path / "bad.zip"
            with zipfile.ZipFile(bad, "w") as zout:
                for name, content in originals.items():
                    zout.writestr(name, bytes(changed) if name == victim else content)
            problems = verify_pack(bad).problems
            if not any(p.startswith(victim + ":") for p in problems):
                missed.append((victim, i, chr(data[i]), problems))
    assert missed == []


@pytest.mark.parametrize(
    "change",
    [
        lambda t: t.replace(b"  ", b" *", 1),  # sha256sum's binary-mode marker: same list to sha256sum
        lambda t: t.replace(
            next(bytes([c]) for c in t[:64] if c in b"abcdef"),  # upper-case hex
            next(bytes([c]) for c in t[:64] if c in b"abcdef").upper(),
            1,
        ),
        lambda t: t + b"\n",  # a blank line
    ],
)
def test_equivalent_rewrites_of_sha256sums_are_still_changes(pack, tmp_path, change):
    bad = rewrite_zip(pack, tmp_path / "bad.zip", lambda n, d: change(d) if n == SUMS else d)
    assert [p.split(":")[0] for p in verify_pack(bad).problems] == [SUMS]


def test_a_sums_line_changed_is_blamed_on_sha256sums_not_the_file(pack, tmp_path):
    def change(name, data):
        if name != SUMS:
            return data
        first = data.split(b"\n")[0]
        return data.replace(first, (b"0" if first[:1] != b"0" else b"1") + first[1:], 1)

    problems = verify_pack(rewrite_zip(pack, tmp_path / "bad.zip", change)).problems
    assert len(problems) == 1 and problems[0].startswith(f"{SUMS}: its line for captures/")


def test_files_unpack_readable_for_everyone(pack):
    with zipfile.ZipFile(pack) as zf:
        assert {(info.external_attr >> 16) & 0o777 for info in zf.infolist()} == {0o644}


def test_a_pack_of_hostile_but_genuine_content_never_looks_like_a_bomb(tmp_path):
    """A seller can make a page (or a title in listings.json) that deflates a thousandfold; the pack that
    quotes it must still verify, so the writer stores such a file rather than deflate it."""
    from exports.safezip import MAX_RATIO, RATIO_FLOOR

    dense = b"A" * (RATIO_FLOOR + 1)
    out = tmp_path / "pack.zip"
    write_pack(out, {"listings.json": dense, "captures.warc.gz": b"\x1f\x8b" + bytes(100)})
    report = verify_pack(out)
    assert report.ok, report.problems
    with zipfile.ZipFile(out) as zf:
        info = zf.getinfo("listings.json")
        assert info.file_size <= MAX_RATIO * info.compress_size
        assert zf.getinfo("captures.warc.gz").compress_type == zipfile.ZIP_STORED  # gzip already


def test_a_pack_too_big_for_verify_pack_is_never_written(tmp_path, monkeypatch):
    from exports import safezip

    monkeypatch.setattr(safezip, "MAX_ENTRIES", 5)
    with pytest.raises(ValueError, match="more than a pack may have"):
        write_pack(tmp_path / "p.zip", {f"f{i}.txt": b"x" for i in range(4)})
    assert not (tmp_path / "p.zip").exists()
