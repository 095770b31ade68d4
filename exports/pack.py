"""Evidence-pack files: the manifest, SHA256SUMS, writing the ZIP atomically, and verifying a pack.

A pack is a flat ZIP. `manifest.json` lists every other file except `SHA256SUMS` (size and SHA-256);
`SHA256SUMS` lists every file including `manifest.json`, in the format `sha256sum -c` reads, so a
recipient can check the unzipped folder with nothing but coreutils.
"""

import hashlib
import json
import re
import zipfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path

from common.atomic import atomic_output
from exports import safezip
from exports.safezip import label, read_zip

MANIFEST = "manifest.json"
SUMS = "SHA256SUMS"
MANIFEST_FORMAT = "keywatch-pack/1"
# manifest.json and SHA256SUMS are read whole (and the manifest parsed): a pack may not make them larger.
MAX_INDEX_SIZE = 4 << 20
# Captured pages, screenshots and photos are content-addressed: captures/<sha256>.html must hash to its own name.
CONTENT_ADDRESSED = re.compile(r"^(?:captures|screenshots|photos)/([0-9a-f]{64})\.[a-z0-9]+$")


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def build_manifest(files: dict[str, bytes], **header) -> bytes:
    """`manifest.json` for `files` (name -> bytes): `header` fields first, then every file, sorted."""
    entries = [{"path": name, "size": len(data), "sha256": sha256_hex(data)} for name, data in sorted(files.items())]
    manifest = {"format": MANIFEST_FORMAT, **header, "files": entries}
    return (json.dumps(manifest, indent=2, ensure_ascii=False) + "\n").encode("utf-8")


def build_sums(files: dict[str, bytes]) -> bytes:
    """`SHA256SUMS` in sha256sum's text format: `<hex>  <name>` per line, sorted by name."""
    return "".join(f"{sha256_hex(data)}  {name}\n" for name, data in sorted(files.items())).encode("ascii")


def _check_name(name: str) -> None:
    # A pack name must unzip to the same relative path everywhere and be one sha256sum token.
    if len(name) > safezip.MAX_NAME or not safezip.SAFE_NAME.fullmatch(name):
        raise ValueError(f"unsafe file name in pack: {name!r}")


def _check_limits(files: dict[str, bytes]) -> None:
    """A pack verify_pack would refuse is never written: the limits are the reader's (exports.safezip)."""
    if len(files) > safezip.MAX_ENTRIES:
        raise ValueError(
            f"the pack would hold {len(files):,} files, more than a pack may have "
            f"({safezip.MAX_ENTRIES:,}): export fewer listings at a time (by seller, say)"
        )
    if _json_items(files[MANIFEST]) > _max_manifest_items():
        raise ValueError(
            "the pack's manifest.json would hold more items than a pack may have: export fewer listings at a time"
        )
    for name in (MANIFEST, SUMS):
        if len(files[name]) > MAX_INDEX_SIZE:
            raise ValueError(
                f"the pack's {name} would be {len(files[name]):,} bytes, more than a pack may have "
                f"({MAX_INDEX_SIZE:,}): export fewer listings at a time"
            )
    total = sum(map(len, files.values()))
    if total > safezip.MAX_TOTAL_SIZE or any(len(d) > safezip.MAX_ENTRY_SIZE for d in files.values()):
        raise ValueError(
            f"the pack would hold {total:,} bytes, more than a pack may have: export fewer listings at a time"
        )


def _compression(name: str, data: bytes) -> int:
    if name.endswith(".gz"):
        return zipfile.ZIP_STORED  # gzip already: deflating it again gains nothing
    # A seller's page (or a title repeated through listings.json) can deflate a thousandfold: stored, it can
    # never look like a zip bomb to verify_pack.
    if len(data) > safezip.RATIO_FLOOR and len(data) > safezip.MAX_RATIO * len(zlib.compress(data)):
        return zipfile.ZIP_STORED
    return zipfile.ZIP_DEFLATED


def _zip_time() -> tuple:
    # ZIP stores local wall-clock time without a zone; UTC keeps the entries' dates unambiguous.
    import time

    return time.gmtime()[:6]


@dataclass(frozen=True)
class WrittenPack:
    path: Path
    sha256: str  # of the ZIP file itself: what the notice record keeps
    manifest_sha256: str
    files: int


def write_pack(out: Path, files: dict[str, bytes], **manifest_header) -> WrittenPack:
    """Write `files` plus manifest.json and SHA256SUMS to the ZIP `out`.

    The ZIP is written to a temporary file beside `out` and renamed into place, so `out` is either the
    complete pack or untouched.
    """
    for name in files:
        _check_name(name)
        if name in (MANIFEST, SUMS):
            raise ValueError(f"{name} is written by the pack builder itself")
    manifest = build_manifest(files, **manifest_header)
    everything = {**files, MANIFEST: manifest}
    everything[SUMS] = build_sums(everything)
    _check_limits(everything)

    out = Path(out)
    with atomic_output(out) as raw, zipfile.ZipFile(raw, "w", zipfile.ZIP_DEFLATED) as zf:
        for name in sorted(everything):
            info = zipfile.ZipInfo(name, date_time=_zip_time())
            info.compress_type = _compression(name, everything[name])
            info.external_attr = 0o644 << 16  # readable by whoever unpacks it (the default is owner-only)
            zf.writestr(info, everything[name])
    digest = sha256_file(out)
    return WrittenPack(out, digest, sha256_hex(manifest), len(everything))


@dataclass
class PackReport:
    """What `verify_pack` found: `problems` is empty when the pack is intact."""

    files: int = 0
    problems: list[str] = field(default_factory=list)
    manifest: dict = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.problems


def parse_sums(text: str) -> dict[str, str]:
    """Parse a SHA256SUMS file (text or binary mode markers) into name -> hex digest."""
    sums = {}
    for lineno, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        digest, sep, name = line.partition(" ")
        if not sep or not re.fullmatch(r"[0-9a-fA-F]{64}", digest) or name[:1] not in (" ", "*"):
            raise ValueError(f"{SUMS}:{lineno}: not a sha256sum line: {line!r}")
        sums[name[1:]] = digest.lower()
    return sums


def verify_pack(path: Path) -> PackReport:
    """Re-hash every file in the ZIP at `path` against both manifest.json and SHA256SUMS.

    Names every file that differs, is missing, or is not listed (extra). The ZIP is read as hostile input
    (exports.safezip): an unsafe entry is named and nothing is inflated. Raises ValueError if `path` is not a
    readable ZIP at all.
    """
    report = PackReport()
    contents = read_zip(path, keep={MANIFEST: MAX_INDEX_SIZE, SUMS: MAX_INDEX_SIZE})
    report.files = len(contents.hashes)
    problems = report.problems
    problems += contents.problems
    if problems:
        return report
    hashes = {n: d for n, d in contents.hashes.items() if n != SUMS}
    listed = None
    if MANIFEST not in contents.kept:
        problems.append(f"{MANIFEST}: missing")
    else:
        try:
            report.manifest, listed = read_manifest(contents.kept[MANIFEST])
        except ValueError as exc:
            problems.append(f"{MANIFEST}: unreadable ({label(str(exc))})")

    if SUMS not in contents.kept:
        problems.append(f"{SUMS}: missing")
    else:
        try:
            sums = parse_sums(contents.kept[SUMS].decode("utf-8"))
        except (UnicodeDecodeError, ValueError) as exc:
            problems.append(f"{SUMS}: unreadable ({label(str(exc))})")
        else:
            for problem in _compare(sums, hashes, SUMS):
                name = problem.split(": ", 1)[0]
                problems.append(_blame_sums(problem, name, sums, hashes, listed))
                if name == MANIFEST and problem.startswith(f"{MANIFEST}: SHA-256 differs"):
                    # Nothing else vouches for manifest.json: without the store either side may have changed.
                    problems.append(f"{SUMS}: its line for {MANIFEST} disagrees with it (one of the two was changed)")
            # sha256sum reads some changes as the same list (a '*' mode marker, upper-case hex, blank lines):
            # the file must still be byte for byte what the pack builder wrote.
            canonical = "".join(f"{digest}  {n}\n" for n, digest in sorted(sums.items())).encode("utf-8")
            if contents.kept[SUMS] != canonical:
                problems.append(f"{SUMS}: not byte for byte as written (its text was changed)")

    if listed is not None:
        actual = {n: d for n, d in hashes.items() if n != MANIFEST}
        problems += _compare({n: e["sha256"] for n, e in listed.items()}, actual, MANIFEST)
        problems += [
            f"{n}: size {contents.sizes[n]} but {MANIFEST} says {e['size']}"
            for n, e in sorted(listed.items())
            if n in actual and e["size"] != contents.sizes[n]
        ]
    for name, digest in sorted(contents.hashes.items()):
        named = CONTENT_ADDRESSED.match(name)
        if named and digest != named.group(1):
            problems.append(f"{name}: content does not hash to its own name ({digest})")
    return report


def read_manifest(data: bytes) -> tuple[dict, dict[str, dict]]:
    """manifest.json as (the whole manifest, path -> file entry); ValueError says what is wrong with it."""
    if _json_items(data) > _max_manifest_items():
        raise ValueError(f"more items than the manifest of a pack of {safezip.MAX_ENTRIES:,} files has")
    try:
        manifest = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise ValueError(f"not JSON: {exc}") from None
    except RecursionError:
        raise ValueError("nested too deeply to be a manifest") from None
    if not isinstance(manifest, dict) or not isinstance(manifest.get("files"), list):
        raise ValueError("not a JSON object with a list of files")
    if not isinstance(manifest.get("notice_number", ""), str):
        raise ValueError("notice_number is not text")
    listed = {}
    for i, e in enumerate(manifest["files"]):
        if not (
            isinstance(e, dict)
            and isinstance(e.get("path"), str)
            and isinstance(e.get("sha256"), str)
            and type(e.get("size")) is int
        ):
            raise ValueError(f"files[{i}] is not a {{path, size, sha256}} entry")
        if e["path"] in listed:
            raise ValueError(f"files[{i}]: {e['path']} is listed twice")
        listed[e["path"]] = e
    return manifest, listed


def _max_manifest_items() -> int:
    return 5 * safezip.MAX_ENTRIES + 1000  # four per file, and the header's


def _json_items(data: bytes) -> int:
    """About how many values parsing `data` as JSON would make: the objects, arrays and commas outside strings.

    Parsing multiplies memory some forty times for tiny items ("[{},{},...]"); a manifest has about four items
    per file, so counting first keeps a 4 MiB manifest from costing hundreds of MB.
    """
    unescaped = data.replace(b"\\\\", b"").replace(b'\\"', b"")  # no escaped quote left to end a string early
    items, in_string = 0, False
    for start in range(0, len(unescaped), 1 << 16):  # in slices: splitting it all at once costs memory too
        parts = unescaped[start : start + (1 << 16)].split(b'"')
        items += sum(p.count(b"{") + p.count(b"[") + p.count(b",") for p in parts[in_string::2])
        in_string ^= (len(parts) - 1) % 2 == 1
    return items


def _blame_sums(problem: str, name: str, sums: dict, hashes: dict, listed: dict | None) -> str:
    """Where the pack and manifest.json agree about `name`, it is SHA256SUMS that was changed: say so."""
    if listed is None or name == MANIFEST:
        return problem
    in_pack, in_manifest = name in hashes, name in listed
    if in_pack and in_manifest and listed[name].get("sha256") == hashes[name]:
        if name in sums:
            return f"{SUMS}: its line for {name} does not match that file, which matches {MANIFEST}"
        return f"{SUMS}: has no line for {name}, which is in the pack and in {MANIFEST}"
    if not in_pack and not in_manifest:
        return f"{SUMS}: lists {name}, which is neither in the pack nor in {MANIFEST}"
    return problem


def _compare(expected: dict[str, str], actual: dict[str, str], source: str) -> list[str]:
    problems = []
    for name in sorted(expected.keys() | actual.keys()):
        if name not in actual:
            problems.append(f"{name}: listed in {source} but missing from the pack")
        elif name not in expected:
            problems.append(f"{name}: extra file, not listed in {source}")
        elif expected[name] != actual[name]:
            problems.append(f"{name}: SHA-256 differs from {source} ({actual[name]} != {expected[name]})")
    return problems
