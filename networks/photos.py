"""The same photo shown by several sellers: exact copies and near copies (re-encoded, resized, watermarked).

Two photos are one picture when their 64-bit dHashes differ in at most DHASH_MAX bits and their pHashes in at
most PHASH_MAX bits. Calibrated on the demo's photos and their watermarked copies (tests/test_networks_photos.py):
every watermarked copy is caught; the demo's drawings are so plain (flat colours, one box) that a few different
ones also fall within it, which is why both hashes must agree. Real product photos carry far more detail.

The index never compares all pairs: each distinct dHash is cut into DHASH_MAX + 1 bands, and by the pigeonhole
principle two hashes within DHASH_MAX bits agree exactly on at least one band, so only photos sharing a band
value are compared (hash-prefix buckets, one dictionary per band).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

DHASH_MAX = 4
PHASH_MAX = 14
BITS = 64


def _bands(bits: int = BITS, count: int = DHASH_MAX + 1) -> list[tuple[int, int]]:
    """(shift, mask) of `count` bands covering the hash."""
    sizes = [bits // count + (1 if i < bits % count else 0) for i in range(count)]
    bands, shift = [], 0
    for size in sizes:
        bands.append((shift, (1 << size) - 1))
        shift += size
    return bands


BANDS = _bands()


def near_pairs(hashes: Iterable[tuple[int, int]]) -> list[tuple[int, int]]:
    """Index pairs (i < j) of distinct (dhash, phash) entries that are one picture."""
    entries = list(hashes)
    buckets: list[dict[int, list[int]]] = [defaultdict(list) for _ in BANDS]
    pairs = set()
    for i, (dhash, phash) in enumerate(entries):
        candidates = set()
        for (shift, mask), bucket in zip(BANDS, buckets):
            key = (dhash >> shift) & mask
            candidates.update(bucket[key])
            bucket[key].append(i)
        for j in candidates:
            other_d, other_p = entries[j]
            if (dhash ^ other_d).bit_count() <= DHASH_MAX and (phash ^ other_p).bit_count() <= PHASH_MAX:
                pairs.add((j, i))
    return sorted(pairs)


def parse_hash(text: str | None) -> int | None:
    """imagehash's hex string (16 digits for a 64-bit hash) as an int; None when missing or not one."""
    if not isinstance(text, str) or len(text) != BITS // 4:
        return None
    try:
        return int(text, 16)
    except ValueError:
        return None
