"""Evidence-pack files: the manifest, SHA256SUMS, writing the ZIP atomically, and verifying a pack.

A pack is a flat ZIP. `manifest.json` lists every other file except `SHA256SUMS` (size and SHA-256);
`SHA256SUMS` lists every file including `manifest.json`, in the format `sha256sum -c` reads, so a
recipient can check the unzipped folder with nothing but coreutils.
"""

import hashlib
import json
import re
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

from db.atomic import atomic_output

MANIFEST = "manifest.json"
SUMS = "SHA256SUMS"
MANIFEST_FORMAT = "keywatch-pack/1"
# Captured pages are content-addressed: captures/<sha256>.html must hash to its own name.
CONTENT_ADDRESSED = re.compile(r"^captures/([0-9a-f]{64})\.[a-z0-9]+$")


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
    entries = [
        {"path": name, "size": len(data), "sha256": sha256_hex(data)}
        for name, data in sorted(files.items())
    ]
    manifest = {"format": MANIFEST_FORMAT, **header, "files": entries}
    return (json.dumps(manifest, indent=2, ensure_ascii=False) + "\n").encode("utf-8")


def build_sums(files: dict[str, bytes]) -> bytes:
    """`SHA256SUMS` in sha256sum's text format: `<hex>  <name>` per line, sorted by name."""
    return "".join(f"{sha256_hex(data)}  {name}\n" for name, data in sorted(files.items())).encode("ascii")


def _check_name(name: str) -> None:
    # A pack name must unzip to the same relative path everywhere and be one sha256sum token.
    if (not name or name.startswith("/") or "\\" in name or ".." in name.split("/")
            or any(c.isspace() for c in name)):
        raise ValueError(f"unsafe file name in pack: {name!r}")


def _zip_time() -> tuple:
    # ZIP stores local wall-clock time without a zone; UTC keeps the entries' dates unambiguous.
    import time

    return time.gmtime()[:6]


@dataclass(frozen=True)
class WrittenPack:
    path: Path
    sha256: str            # of the ZIP file itself: what the notice record keeps
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

    out = Path(out)
    with atomic_output(out) as raw, zipfile.ZipFile(raw, "w", zipfile.ZIP_DEFLATED) as zf:
        for name in sorted(everything):
            info = zipfile.ZipInfo(name, date_time=_zip_time())
            info.compress_type = zipfile.ZIP_DEFLATED
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
        if not sep or not re.fullmatch(r"[0-9a-fA-F]{64}", digest) or not name[:1] in (" ", "*"):
            raise ValueError(f"{SUMS}:{lineno}: not a sha256sum line: {line!r}")
        sums[name[1:]] = digest.lower()
    return sums


def verify_pack(path: Path) -> PackReport:
    """Re-hash every file in the ZIP at `path` against both manifest.json and SHA256SUMS.

    Names every file that differs, is missing, or is not listed (extra). Raises ValueError if `path` is
    not a readable ZIP at all.
    """
    report = PackReport()
    try:
        with zipfile.ZipFile(path) as zf:
            infos = [i for i in zf.infolist() if not i.is_dir()]
            names = [i.filename for i in infos]
            contents = {name: zf.read(name) for name in names}
    except (zipfile.BadZipFile, OSError) as exc:
        raise ValueError(f"{path}: not a readable ZIP ({exc})") from exc
    report.files = len(contents)
    problems = report.problems
    duplicates = sorted({n for n in names if names.count(n) > 1})
    problems += [f"{n}: appears more than once in the ZIP" for n in duplicates]

    hashes = {n: sha256_hex(d) for n, d in contents.items() if n != SUMS}
    listed = None
    if MANIFEST not in contents:
        problems.append(f"{MANIFEST}: missing")
    else:
        try:
            report.manifest = json.loads(contents[MANIFEST])
            listed = {e["path"]: e for e in report.manifest["files"]}
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            problems.append(f"{MANIFEST}: unreadable ({exc})")

    if SUMS not in contents:
        problems.append(f"{SUMS}: missing")
    else:
        try:
            sums = parse_sums(contents[SUMS].decode("utf-8"))
        except (UnicodeDecodeError, ValueError) as exc:
            problems.append(f"{SUMS}: unreadable ({exc})")
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
            if contents[SUMS] != canonical:
                problems.append(f"{SUMS}: not byte for byte as written (its text was changed)")

    if listed is not None:
        actual = {n: d for n, d in contents.items() if n not in (MANIFEST, SUMS)}
        problems += _compare({n: e.get("sha256") for n, e in listed.items()},
                             {n: sha256_hex(d) for n, d in actual.items()}, MANIFEST)
        problems += [
            f"{n}: size {len(actual[n])} but {MANIFEST} says {e.get('size')}"
            for n, e in sorted(listed.items()) if n in actual and e.get("size") != len(actual[n])
        ]
    for name, data in sorted(contents.items()):
        named = CONTENT_ADDRESSED.match(name)
        if named and sha256_hex(data) != named.group(1):
            problems.append(f"{name}: content does not hash to its own name ({sha256_hex(data)})")
    return report


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
