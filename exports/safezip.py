"""Reading a ZIP that someone else made, and may have made to hurt its reader.

Everything the central directory tells is judged before a byte is inflated: every name a plain relative
path, every entry a plain file (no symbolic links), unencrypted, stored or deflated, lying inside the file
without sharing bytes with another entry, and declared sizes within limits. The declared size is binding:
zipfile stops inflating there and fails the entry's CRC check if the stream wanted to go on. So a zip bomb is
refused from its headers (it declares what it inflates to), and the entries that pass are read as streams,
one 1 MiB block at a time.

Memory is then bounded by the limits below, whatever the ZIP holds: the blocks and the few small entries asked
for whole (`keep`). zipfile's own list of entries grows with the central directory (a few hundred bytes an
entry, so a few times the size of the directory itself); more than MAX_ENTRIES are refused unread.
"""

import hashlib
import re
import stat
import struct
import zipfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path

from exports.display import shown

MAX_ENTRIES = 10_000
MAX_ENTRY_SIZE = 4 << 30
MAX_TOTAL_SIZE = 16 << 30
# Deflate inflates at most ~1032 times; a pack's own files come nowhere near 100 above this size (the pack
# writer stores a file uncompressed rather than let it look like a bomb).
MAX_RATIO = 100
RATIO_FLOOR = 64 << 20
BLOCK = 1 << 20

# A name every unzip tool writes to the same relative path, and sha256sum reads as one token: ASCII letters,
# digits, '.', '_', '-'; no empty, hidden, '.' or '..' part; no drive letter, backslash or leading '/'.
_PART = r"[A-Za-z0-9_-][A-Za-z0-9._-]*"
SAFE_NAME = re.compile(rf"{_PART}(?:/{_PART})*")
MAX_NAME = 255
METHODS = (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED)
LOCAL_HEADER = 30  # bytes before an entry's name in its local header

# What inflating a crafted entry can raise, besides the BadZipFile of a failed CRC.
READ_ERRORS = (
    zipfile.BadZipFile,
    zlib.error,
    EOFError,
    OSError,
    RuntimeError,
    NotImplementedError,
    ValueError,
    struct.error,
    OverflowError,
)


def label(name: str) -> str:
    """A name as a problem line shows it: control characters visible, long names cut."""
    return shown(name, 120, None)


@dataclass
class ZipContents:
    """What `read_zip` found: each file's size and SHA-256, the bytes of the files asked for, and problems."""

    sizes: dict[str, int] = field(default_factory=dict)
    hashes: dict[str, str] = field(default_factory=dict)
    kept: dict[str, bytes] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)


def read_zip(path: Path, keep: dict[str, int]) -> ZipContents:
    """Hash every file of the ZIP at `path`; keep whole the files named in `keep` (name -> largest size allowed).

    If the central directory shows anything unsafe, nothing is inflated and `problems` says what, one line per
    finding. Raises ValueError if `path` is not a ZIP that can be opened at all.
    """
    try:
        zf = zipfile.ZipFile(path)
    except (zipfile.LargeZipFile, UnicodeDecodeError, *READ_ERRORS) as exc:
        raise ValueError(f"{path}: not a readable ZIP ({label(str(exc))})") from None
    with zf:
        contents = ZipContents()
        contents.problems = structure_problems(zf.infolist(), Path(path).stat().st_size, keep)
        if not contents.problems:
            for info in zf.infolist():
                if not info.is_dir():
                    _read_entry(zf, info, info.filename in keep, contents)
        return contents


def structure_problems(infos: list[zipfile.ZipInfo], archive_size: int, keep: dict[str, int]) -> list[str]:
    """Every problem that the central directory shows, without inflating anything."""
    if len(infos) > MAX_ENTRIES:
        return [f"the ZIP has {len(infos):,} entries, more than a pack may have ({MAX_ENTRIES:,})"]
    problems, seen = [], {}
    for info in infos:
        name = info.orig_filename  # zipfile cuts `filename` at a NUL byte; the name as stored must be judged
        problems += [f"{label(name)}: {why}" for why in _entry_problems(info, keep)]
        # Windows and macOS unzip names that differ only in case to the same file.
        key = name.casefold()
        if key in seen and not info.is_dir():
            problems.append(f"{label(seen[key])}: more than one entry of this name (unzipping keeps only one)")
        seen.setdefault(key, name)
    problems += _overlaps(infos, archive_size)
    total = sum(i.file_size for i in infos)
    if total > MAX_TOTAL_SIZE:
        problems.append(f"the ZIP declares {total:,} bytes in all, more than a pack may hold ({MAX_TOTAL_SIZE:,})")
    return problems


def _entry_problems(info: zipfile.ZipInfo, keep: dict[str, int]):
    name = info.orig_filename
    bare = name[:-1] if info.is_dir() else name
    if len(name) > MAX_NAME or not SAFE_NAME.fullmatch(bare):
        yield "unsafe file name (absolute, '..', hidden, or characters a pack never uses)"
    kind = stat.S_IFMT(info.external_attr >> 16) if info.create_system == 3 else 0
    if stat.S_ISLNK(kind):
        yield "a symbolic link, not a file"
    elif kind and not (stat.S_ISREG(kind) or stat.S_ISDIR(kind)):
        yield "not a plain file"
    if info.flag_bits & 0x41:  # traditional or strong encryption
        yield "encrypted (a pack is never encrypted)"
    if info.compress_type not in METHODS:
        yield f"compression method {info.compress_type} (a pack's files are stored or deflated)"
    if info.file_size > keep.get(name, MAX_ENTRY_SIZE):
        limit = keep.get(name, MAX_ENTRY_SIZE)
        yield f"declares {info.file_size:,} bytes, more than a pack's {name} may have ({limit:,})"
    elif info.file_size > RATIO_FLOOR and info.file_size > MAX_RATIO * info.compress_size:
        yield (
            f"inflates {info.file_size // max(info.compress_size, 1):,} times ({info.compress_size:,} to "
            f"{info.file_size:,} bytes): refused as a zip bomb"
        )


def _overlaps(infos: list[zipfile.ZipInfo], archive_size: int) -> list[str]:
    """Entries whose bytes reach past the file or into the next entry (the overlapping-entries bomb reuses one
    compressed stream for many entries). The name's length is left out: the check can only err towards OK."""
    problems = []
    ordered = sorted(infos, key=lambda i: i.header_offset)
    for info, following in zip(ordered, ordered[1:] + [None]):
        end = info.header_offset + LOCAL_HEADER + info.compress_size
        if following is not None and end > following.header_offset:
            problems.append(
                f"{label(info.orig_filename)}: overlaps the bytes of {label(following.orig_filename)} "
                "(a ZIP built to inflate the same data many times)"
            )
        elif end > archive_size:
            problems.append(f"{label(info.orig_filename)}: its data runs past the end of the file")
    return problems


def _read_entry(zf: zipfile.ZipFile, info: zipfile.ZipInfo, keep: bool, contents: ZipContents) -> None:
    digest, size, parts = hashlib.sha256(), 0, []
    try:
        with zf.open(info) as stream:
            while block := stream.read(BLOCK):
                digest.update(block)
                size += len(block)
                if keep:
                    parts.append(block)
    except READ_ERRORS as exc:
        contents.problems.append(f"{label(info.filename)}: unreadable ({label(str(exc))})")
        return
    contents.sizes[info.filename] = size
    contents.hashes[info.filename] = digest.hexdigest()
    if keep:
        contents.kept[info.filename] = b"".join(parts)
