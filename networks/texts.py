"""Near-identical descriptions: one seller's text copied by another, with a word or two changed.

A description becomes a set of word shingles (SHINGLE words in a row, after folding case, accents and
punctuation). Shingles that many sellers share are marketplace boilerplate ("returns accepted within 30 days",
a postage template) and are dropped before comparing; what is left is compared by MinHash with LSH
(datasketch), so only likely pairs are checked, and a candidate pair counts when the exact Jaccard similarity
of the two shingle sets is at least JACCARD_MIN. A description with fewer than MIN_SHINGLES shingles left
says too little to link anyone.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
import zlib
from collections import Counter, defaultdict
from collections.abc import Iterator

import numpy as np
from datasketch import MinHash, MinHashLSH

SHINGLE = 3
JACCARD_MIN = 0.6
MIN_SHINGLES = 8
NUM_PERM = 64
# LSH proposes pairs well below JACCARD_MIN, so that a pair just above it is rarely missed (LSH is probabilistic:
# at its own threshold it finds about half; here 21 bands of 3 rows miss about 1 in 400 pairs near JACCARD_MIN,
# tests/test_networks_links.py); the exact Jaccard check then decides.
LSH_THRESHOLD = 0.3
_WORDS = re.compile(r"[^\W_]+")


def words(text: str) -> list[str]:
    if text.isascii():  # nothing to fold but case: the common case, and 20 times faster
        return _WORDS.findall(text.lower())
    folded = unicodedata.normalize("NFKD", unicodedata.normalize("NFKC", text or "").casefold())
    return _WORDS.findall("".join(c for c in folded if not unicodedata.combining(c)))


def read(text: str) -> tuple[str, set[str]]:
    """(key, shingles) of a description: texts that differ only in case, accents or punctuation share a key."""
    tokens = words(text)
    key = hashlib.sha256(" ".join(tokens).encode()).hexdigest()[:24]
    if len(tokens) < SHINGLE:
        return key, ({" ".join(tokens)} if tokens else set())
    return key, {" ".join(tokens[i : i + SHINGLE]) for i in range(len(tokens) - SHINGLE + 1)}


def similar_groups(docs: dict[str, tuple[set[str], set[str]]], boilerplate_sellers: int) -> list[list[str]]:
    """Groups of near-identical documents. `docs`: {text key: (shingles, seller keys using it)}. A shingle used
    by `boilerplate_sellers` or more sellers is boilerplate and ignored."""
    shingles_of: dict[str, set[str]] = defaultdict(set)  # seller -> every shingle it wrote
    for shingle_set, sellers in docs.values():
        for seller in sellers:
            shingles_of[seller].update(shingle_set)
    sellers_using: Counter[str] = Counter()
    for shingle_set in shingles_of.values():
        sellers_using.update(shingle_set)
    boilerplate = {shingle for shingle, n in sellers_using.items() if n >= boilerplate_sellers}
    kept = {key: frozenset(shingle_set - boilerplate) for key, (shingle_set, _sellers) in docs.items()}
    kept = {key: s for key, s in kept.items() if len(s) >= MIN_SHINGLES}
    keys = sorted(kept)
    # CRC-32 as the shingle hash: stable across runs like datasketch's default (SHA-1), and far cheaper.
    sketches = MinHash.bulk([[s.encode() for s in kept[key]] for key in keys], num_perm=NUM_PERM, hashfunc=zlib.crc32)
    parent = {key: key for key in keys}

    def root(key: str) -> str:
        while parent[key] != key:
            parent[key] = parent[parent[key]]
            key = parent[key]
        return key

    hashvalues = np.array([sketch.hashvalues for sketch in sketches], dtype=np.uint64).reshape(len(keys), NUM_PERM)
    for bucket in _shared_buckets(hashvalues):
        for n, i in enumerate(bucket):
            for j in bucket[:n]:
                if root(keys[i]) != root(keys[j]):  # joined already: comparing again could change nothing
                    a, b = kept[keys[i]], kept[keys[j]]
                    if len(a & b) / len(a | b) >= JACCARD_MIN:
                        parent[root(keys[i])] = root(keys[j])
    groups: dict[str, list[str]] = defaultdict(list)
    for key in keys:
        groups[root(key)].append(key)
    return [sorted(group) for group in groups.values() if len(group) > 1 or len(docs[group[0]][1]) > 1]


def _shared_buckets(hashvalues: np.ndarray) -> Iterator[list[int]]:
    """The rows that share an LSH band, bucket by bucket, each bucket as a list of row numbers.

    The bands are the ones datasketch's MinHashLSH chooses for LSH_THRESHOLD; bucketing them with numpy, all rows
    at once, does what its insert and query do one document at a time, at a fraction of the cost (most of the
    recompute's time went there). A band's values are folded into one 64-bit key: two different bands that fold
    alike only propose a pair the exact Jaccard check then refuses.
    """
    for start, end in MinHashLSH(threshold=LSH_THRESHOLD, num_perm=NUM_PERM).hashranges:
        folded = np.zeros(len(hashvalues), dtype=np.uint64)
        for column in range(start, end):
            folded = folded * np.uint64(0x100000001B3) ^ hashvalues[:, column]
        order = np.argsort(folded, kind="stable")
        ordered = folded[order]
        starts = np.flatnonzero(np.concatenate(([True], ordered[1:] != ordered[:-1])))
        sizes = np.diff(np.append(starts, len(ordered)))
        for begin, size in zip(starts[sizes > 1].tolist(), sizes[sizes > 1].tolist()):
            yield order[begin : begin + size].tolist()
