"""`keywatch verify-pack` on ZIPs made to hurt it: bombs, unsafe names, odd entries, odd manifests, odd stores.

Every case ends in exit 1 with one clear line naming the problem, never a traceback; memory stays bounded.
The ZIPs are written by hand (`handmade_zip`) so that their headers say exactly what the attacker wants.
"""

import struct
import subprocess
import sys
import zlib
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from exports.pack import build_manifest, build_sums
from keywatch.commands import notify

ROOT = Path(__file__).resolve().parent.parent
STORED, DEFLATED = 0, 8
UNIX = 3
S_IFREG, S_IFLNK = 0o100000, 0o120000


def entry(name, content=b"", *, method=STORED, data=None, size=None, crc=None, flags=0, mode=S_IFREG | 0o644):
    """One ZIP entry; `data` is the bytes stored (default: `content`, stored or deflated), `size` what the
    headers claim it inflates to (default: the truth)."""
    if data is None:
        data = content if method == STORED else _deflate(content)
    return {
        "name": name,
        "data": data,
        "method": method,
        "flags": flags,
        "mode": mode,
        "crc": zlib.crc32(content) if crc is None else crc,
        "size": len(content) if size is None else size,
    }


def _deflate(content: bytes) -> bytes:
    squeeze = zlib.compressobj(9, zlib.DEFLATED, -15)
    return squeeze.compress(content) + squeeze.flush()


def zeros_deflated(mib: int) -> bytes:
    """A deflate stream of `mib` MiB of zeros, made in milliseconds: one fully flushed block repeated (a full
    flush leaves nothing for the next block to refer back to), then an empty final block."""
    squeeze = zlib.compressobj(9, zlib.DEFLATED, -15)
    block = squeeze.compress(bytes(1 << 20)) + squeeze.flush(zlib.Z_FULL_FLUSH)
    return block * mib + b"\x03\x00"


def handmade_zip(path, entries, *, offsets=None):
    """A ZIP file exactly as described: local headers, data, central directory, end record.

    `offsets` (entry index -> index of an earlier entry) makes a central record point at another entry's data.
    """
    out, central, where = bytearray(), bytearray(), []
    for i, e in enumerate(entries):
        name = e["name"].encode("utf-8") if isinstance(e["name"], str) else e["name"]
        flags = e["flags"] | 0x800  # names are UTF-8
        where.append(len(out))
        out += (
            struct.pack(
                "<4s5H3L2H",
                b"PK\x03\x04",
                20,
                flags,
                e["method"],
                0,
                0x21,
                e["crc"],
                len(e["data"]),
                e["size"],
                len(name),
                0,
            )
            + name
            + e["data"]
        )
        offset = where[(offsets or {}).get(i, i)]
        central += (
            struct.pack(
                "<4s6H3L5H2L",
                b"PK\x01\x02",
                (UNIX << 8) | 20,
                20,
                flags,
                e["method"],
                0,
                0x21,
                e["crc"],
                len(e["data"]),
                e["size"],
                len(name),
                0,
                0,
                0,
                0,
                e["mode"] << 16,
                offset,
            )
            + name
        )
    end = struct.pack("<4s4H2LH", b"PK\x05\x06", 0, 0, len(entries), len(entries), len(central), len(out), 0)
    Path(path).write_bytes(bytes(out + central + end))
    return Path(path)


def consistent_pack(path, files: dict, *, extra_entries=(), **options):
    """A pack whose manifest.json and SHA256SUMS agree with `files` (name -> bytes), as a forger would make it."""
    manifest = build_manifest(files, notice_number="KW-2026-0001")
    listed = {**files, "manifest.json": manifest}
    listed["SHA256SUMS"] = build_sums(listed)
    return handmade_zip(path, [entry(n, d, **options) for n, d in listed.items()] + list(extra_entries))


@pytest.fixture
def verify():
    group = click.Group(commands={c.name: c for c in notify.commands})
    runner = CliRunner()

    def run(pack, *args):
        result = runner.invoke(group, ["verify-pack", str(pack), *map(str, args)], catch_exceptions=False)
        assert result.exit_code == 1, result.output
        assert "Traceback" not in result.output and "OK" not in result.output
        return result.output

    return run


def test_a_forged_consistent_pack_still_verifies(tmp_path):
    """The hand-made ZIP is a fair pack: the tests below fail because of what each one changes, nothing else."""
    pack = consistent_pack(tmp_path / "p.zip", {"listings.csv": b"a,b\n", "notice.pdf": b"%PDF"})
    result = CliRunner().invoke(
        click.Group(commands={c.name: c for c in notify.commands}),
        ["verify-pack", str(pack), "--db", str(tmp_path / "none.sqlite")],
    )
    assert result.exit_code == 0 and "OK, 4 files" in result.output, result.output


@pytest.mark.parametrize(
    "name, why",
    [
        ("../../x", "unsafe file name"),
        ("/abs", "unsafe file name"),
        ("captures/../../etc/cron.d/x", "unsafe file name"),
        ("C:/Windows/x", "unsafe file name"),
        ("a\\..\\..\\b", "unsafe file name"),
        ("./hidden", "unsafe file name"),
        ("x\x1b]0;owned\x07", "unsafe file name"),
        ("a" * 300, "unsafe file name"),
    ],
)
def test_unsafe_names_are_refused_even_when_the_manifest_lists_them(tmp_path, verify, name, why):
    output = verify(consistent_pack(tmp_path / "p.zip", {"listings.csv": b"a,b\n", name: b"planted"}))
    assert why in output
    assert "\x1b" not in output  # names are printed with control characters shown, not obeyed


def test_a_symlink_is_refused(tmp_path, verify):
    pack = consistent_pack(
        tmp_path / "p.zip",
        {"listings.csv": b"a,b\n"},
        extra_entries=[entry("notice.pdf", b"/etc/passwd", mode=S_IFLNK | 0o777)],
    )
    assert "notice.pdf: a symbolic link" in verify(pack)


@pytest.mark.parametrize("second", ["listings.csv", "LISTINGS.csv"])
def test_duplicate_names_are_refused(tmp_path, verify, second):
    """Unzipping keeps only one of two entries with one name (or, on Windows and macOS, names differing only in
    case): which one depends on the tool, so the pack cannot be checked."""
    pack = consistent_pack(tmp_path / "p.zip", {"listings.csv": b"a,b\n"}, extra_entries=[entry(second, b"forged")])
    assert "listings.csv: more than one entry of this name" in verify(pack)


def test_an_encrypted_entry_is_refused(tmp_path, verify):
    pack = handmade_zip(tmp_path / "p.zip", [entry("listings.csv", b"a,b\n", flags=0x1)])
    assert "listings.csv: encrypted" in verify(pack)


def test_an_unknown_compression_method_is_refused(tmp_path, verify):
    pack = handmade_zip(tmp_path / "p.zip", [entry("listings.csv", b"a,b\n", method=99, data=b"????")])
    assert "listings.csv: compression method 99" in verify(pack)


@pytest.mark.parametrize("method", [12, 14])  # bzip2, lzma: zipfile reads them, packs never use them
def test_compression_methods_packs_never_use_are_refused(tmp_path, verify, method):
    pack = handmade_zip(tmp_path / "p.zip", [entry("listings.csv", b"a,b\n", method=method, data=b"BZh9")])
    assert f"listings.csv: compression method {method}" in verify(pack)


def test_a_corrupt_deflate_stream_is_named(tmp_path, verify):
    good = _deflate(b"listing data " * 100)
    pack = handmade_zip(
        tmp_path / "p.zip",
        [entry("listings.csv", b"listing data " * 100, method=DEFLATED, data=b"\xff\xff" + good[2:])],
    )
    assert "listings.csv: unreadable" in verify(pack)


def test_a_wrong_crc_is_named(tmp_path, verify):
    pack = handmade_zip(tmp_path / "p.zip", [entry("listings.csv", b"a,b\n", crc=1234)])
    assert "listings.csv: unreadable" in verify(pack)


def test_an_entry_reaching_past_the_end_of_the_file_is_refused(tmp_path, verify):
    e = entry("listings.csv", b"a,b\n")
    pack = handmade_zip(tmp_path / "p.zip", [e])
    data = pack.read_bytes()
    # The central record claims 1 GB of stored data that the file does not have.
    at = data.index(b"PK\x01\x02") + 20
    pack.write_bytes(data[:at] + struct.pack("<2L", 1 << 30, 1 << 30) + data[at + 8 :])
    assert "listings.csv: " in verify(pack)


def test_entries_sharing_their_bytes_are_refused(tmp_path, verify):
    """The overlapping-entries bomb: many central records pointing at one compressed stream."""
    content = b"x" * 10_000
    entries = [entry(f"captures/{i}.html", content, method=DEFLATED) for i in range(3)]
    pack = handmade_zip(tmp_path / "p.zip", entries, offsets={1: 0, 2: 0})
    assert "overlaps" in verify(pack)


def test_a_bomb_entry_is_refused_from_its_headers(tmp_path, verify):
    stream = zeros_deflated(1024)  # 1 GiB of zeros in about 1 MB
    pack = handmade_zip(
        tmp_path / "p.zip", [entry("captures.warc.gz", method=DEFLATED, data=stream, size=1 << 30, crc=0)]
    )
    assert pack.stat().st_size < 1_100_000
    assert "captures.warc.gz: inflates" in verify(pack)


@pytest.mark.parametrize(
    "manifest, why",
    [
        (b"[" * 100_000 + b"]" * 100_000, "manifest.json: unreadable"),  # RecursionError in json
        (b'{"files": {"listings.csv": 1}}', "manifest.json: unreadable"),
        (b'{"files": [{"path": 5, "size": 4, "sha256": "x"}]}', "manifest.json: unreadable"),
        (b'{"files": [{"path": ["listings.csv"], "size": 4, "sha256": "x"}]}', "manifest.json: unreadable"),
        (b'{"files": [], "notice_number": {"$ne": 1}}', "manifest.json: unreadable"),
        (b'{"files": [{"path": "listings.csv", "size": NaN, "sha256": "x"}]}', "manifest.json: unreadable"),
        (b'"just a string"', "manifest.json: unreadable"),
        (b"[" + b"{}," * 1_300_000 + b"{}]", "manifest.json: unreadable"),  # 4 MB of tiny objects
        (b"\xff\xfe{}", "manifest.json: unreadable"),
    ],
)
def test_an_odd_manifest_is_named_not_a_traceback(tmp_path, verify, manifest, why):
    files = {"listings.csv": b"a,b\n", "manifest.json": manifest}
    files["SHA256SUMS"] = build_sums(files)
    pack = handmade_zip(tmp_path / "p.zip", [entry(n, d) for n, d in files.items()])
    store = tmp_path / "store.sqlite"
    import db

    db.connect(store).conn.close()  # a real store at hand: the notice number is looked up in it
    assert why in verify(pack, "--db", store)


@pytest.mark.parametrize("content", [b"not a database at all" * 100, b"SQLite format 3\x00" + b"\xff" * 4000])
def test_db_that_is_not_a_store_is_one_clear_line(tmp_path, verify, content):
    pack = consistent_pack(tmp_path / "p.zip", {"listings.csv": b"a,b\n"})
    fake = tmp_path / "store.sqlite"
    fake.write_bytes(content)
    output = verify(pack, "--db", fake)
    assert f"{fake}" in output and "not a keywatch evidence store" in output
    assert fake.read_bytes() == content


# The child reports its own peak (VmHWM belongs to the memory image exec made). The rusage of a child is no
# good here: Linux carries the pre-exec high-water mark across exec, and Python starts children with vfork,
# so it would count the memory of this test process.
PEAK_REPORTER = """
import atexit, runpy, sys
def report():
    peak = next(line for line in open("/proc/self/status") if line.startswith("VmHWM:"))
    sys.stderr.write("\\npeak-kib " + peak.split()[1] + "\\n")
atexit.register(report)
sys.argv[0] = "keywatch"
runpy.run_module("keywatch", run_name="__main__")
"""


def run_measured(*args) -> tuple[int, str, int]:
    """Run `keywatch ARGS` in a child process: its exit code, its stderr, and its peak RSS in KiB."""
    if not Path("/proc/self/status").exists():
        pytest.skip("measuring peak memory needs Linux /proc")
    proc = subprocess.run(
        [sys.executable, "-c", PEAK_REPORTER, *map(str, args)],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        timeout=300,
    )
    stderr, _, peak = proc.stderr.rpartition("\npeak-kib ")
    return proc.returncode, stderr, int(peak)


@pytest.mark.parametrize("shape", ["one entry", "many entries", "manifest flood"])
def test_a_zip_bomb_runs_in_bounded_memory(tmp_path, shape):
    """About 1 MB that inflates to 1 GiB: refused from its headers (one entry) or hashed as a stream (many
    entries, each small enough to pass); the old verify-pack read it all into memory (2-4 GB). A manifest.json of
    40 MiB of '{},' (a few hundred KB deflated) took 1.5 GB to parse."""
    if shape == "manifest flood":
        entries = [entry("manifest.json", b"[" + b"{}," * ((40 << 20) // 3) + b"{}]", method=DEFLATED)]
    elif shape == "one entry":
        entries = [entry("captures.warc.gz", method=DEFLATED, data=zeros_deflated(1024), size=1 << 30, crc=0)]
    else:
        part = bytes(32 << 20)
        data, crc = _deflate(part), zlib.crc32(part)
        entries = [
            entry(f"captures/{i:02d}.html", method=DEFLATED, data=data, size=len(part), crc=crc) for i in range(32)
        ]
    pack = handmade_zip(tmp_path / "bomb.zip", entries)
    assert pack.stat().st_size < 1_200_000
    code, stderr, peak_kib = run_measured("verify-pack", pack, "--db", tmp_path / "none.sqlite")
    assert code == 1 and "Traceback" not in stderr, stderr
    assert peak_kib < 200 * 1024, f"peak RSS {peak_kib // 1024} MiB"


def test_a_name_that_is_not_utf8_is_one_clear_line(tmp_path, verify):
    pack = handmade_zip(tmp_path / "p.zip", [entry(b"\xff\xfe.csv", b"a,b\n")])  # flagged UTF-8, is not
    assert "not a readable ZIP" in verify(pack)
