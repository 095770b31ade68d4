"""The same or a look-alike seller name on two marketplaces.

A name is folded (case, accents, compatibility forms), look-alike characters are read as the letters they imitate
(0 -> o, 1 -> l, 3 -> e, 4 -> a, 5 -> s, 7 -> t, @ -> a, $ -> s) and everything but letters and digits is dropped, so
"KeyTools_UK", "keytools.uk" and "k3ytools-uk" are one name. Two folded names of at least MIN_LENGTH characters
match when equal or when rapidfuzz's ratio is at least RATIO_MIN. Only names on different marketplaces are compared
(on one marketplace a name is unique by definition), and names are grouped by their first letters before fuzzy
comparison, so it never compares all pairs. A name is a weak signal (anyone can pick any name): it never links on
its own (networks/scoring.py).
"""

from __future__ import annotations

import unicodedata
from collections import defaultdict

from rapidfuzz import fuzz

MIN_LENGTH = 6
RATIO_MIN = 92
BLOCK = 3  # names are compared only within the group of their first BLOCK folded characters
_LOOK_ALIKES = str.maketrans({"0": "o", "1": "l", "3": "e", "4": "a", "5": "s", "7": "t", "@": "a", "$": "s"})


def fold(name: str) -> str:
    text = unicodedata.normalize("NFKD", unicodedata.normalize("NFKC", name or "").casefold())
    text = "".join(c for c in text if not unicodedata.combining(c)).translate(_LOOK_ALIKES)
    return "".join(c for c in text if c.isalnum())


def name_pairs(seller_keys: list[str]) -> list[tuple[str, str, str]]:
    """(a, b, folded name) for sellers on different marketplaces whose names match; a < b."""
    blocks: dict[str, list[tuple[str, str, str]]] = defaultdict(list)
    for key in seller_keys:
        marketplace, _, name = key.partition(":")
        folded = fold(name)
        if len(folded) >= MIN_LENGTH:
            blocks[folded[:BLOCK]].append((key, marketplace, folded))
    pairs = []
    for members in blocks.values():
        for i, (key, marketplace, folded) in enumerate(members):
            for other_key, other_marketplace, other_folded in members[i + 1 :]:
                if marketplace == other_marketplace:
                    continue
                if folded == other_folded or fuzz.ratio(folded, other_folded) >= RATIO_MIN:
                    a, b = sorted((key, other_key))
                    pairs.append((a, b, min(folded, other_folded)))
    return pairs
