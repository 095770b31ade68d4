"""Canonical JSON and hashing: the byte-exact rules an examiner needs to recompute every hash.

Canonical JSON here is RFC 8785 (JCS) restricted to the values the store holds: object keys sorted,
no insignificant whitespace, UTF-8, non-ASCII characters written as themselves, and numbers that are
whole written without a fraction (SQLite may hand back 87.0 for a score stored as 87).
"""

import hashlib
import json
import math
from datetime import UTC, datetime

GENESIS = "0" * 64

# One encoder, not one per call as json.dumps builds when given options (it keeps nothing between calls).
_ENCODER = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
_AS_THEY_ARE = frozenset({str, int, bool, type(None)})  # by exact type: what _normalise returns unchanged
_TEXT = frozenset({str})


def _normalise(value):
    kind = type(value)
    # The values a record holds, by exact type first: most of what the chain hashes is text and whole numbers.
    if kind is str or kind is int or kind is bool or value is None:
        return value
    if kind is dict and _TEXT.issuperset(map(type, value)):
        if _AS_THEY_ARE.issuperset(map(type, value.values())):
            return value  # a row of text and whole numbers, as most are: nothing to normalise
        return {k: v if type(v) in _AS_THEY_ARE else _normalise(v) for k, v in value.items()}
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(f"cannot hash non-finite number {value!r}")
        if value.is_integer() and abs(value) < 2**53:
            return int(value)
        return value
    if isinstance(value, dict):
        return {str(k): _normalise(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_normalise(v) for v in value]
    if isinstance(value, (bytes, bytearray, memoryview)):
        raise TypeError("raw bytes are never hashed as JSON: hash them and store the digest")
    return value


def canonical_json(value) -> bytes:
    """The canonical UTF-8 encoding of `value` (sorted keys, no whitespace)."""
    return _ENCODER.encode(_normalise(value)).encode("utf-8")


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def link_hash(prev_hash: str, content_hash: str) -> str:
    """A chain link: sha256 over the ASCII hex of the previous hash followed by this record's content hash."""
    return sha256_hex((prev_hash + content_hash).encode("ascii"))


def utc_now() -> str:
    return format_utc(datetime.now(UTC))


def format_utc(moment: datetime) -> str:
    """UTC, ISO 8601, always with microseconds: `2026-11-28T11:12:00.123456Z`."""
    moment = moment.astimezone(UTC)
    if moment.year < 1000:  # strftime writes such a year unpadded, isoformat would pad it: stored as it always was
        return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    # The same text as strftime's, at half its cost: the store's writer formats five times per capture.
    return moment.isoformat(timespec="microseconds")[:-6] + "Z"


def normalise_utc(text: str) -> str:
    """Parse an ISO 8601 time that names its offset and return it in the store's UTC form."""
    try:
        moment = datetime.fromisoformat(str(text).replace("Z", "+00:00"))
    except ValueError:
        raise ValueError(f"not an ISO 8601 time: {text!r}") from None
    if moment.tzinfo is None:
        raise ValueError(f"time without a UTC offset: {text!r}")
    try:
        return format_utc(moment)
    except OverflowError:  # 0001-01-01T00:00+01:00 is a valid time whose UTC instant falls before year 1
        raise ValueError(f"time out of range once in UTC: {text!r}") from None
