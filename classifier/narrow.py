"""Quick ways for text with no character past U+00FF (nearly every listing in a Latin script), by byte tables.

Such text encodes to Latin-1 one byte per character, and bytes.translate maps each byte through a 256-byte table at
C speed, where str methods look characters up in the Unicode tables and a regex tries its pattern at every
position. Each function gives what the general way gives (tests/test_classifier_speed_equivalence.py); for other
text it says it cannot tell (None), or takes the general way itself.
"""

from __future__ import annotations

# Each byte as words_and_bounds reads it: a byte of a word ([a-z0-9], normalise.WORD's only kind below U+0100) as
# it is, any other a space.
_WORD_BYTES = bytes(c if 0x61 <= c <= 0x7A or 0x30 <= c <= 0x39 else 0x20 for c in range(256))
# Each byte as leet_beside_letter reads it: a letter "a", a leet character "1" (normalise._LEET_PAIR's), any other a
# space.
_LEET_CLASSES = bytes(0x61 if 0x61 <= c <= 0x7A else 0x31 if chr(c) in "013457@$!|£" else 0x20 for c in range(256))
# Each byte lower-cased: each character up to U+00FF lower-cases to one of them (the tests check all 256).
_LOWER_LATIN1 = bytes(ord(chr(c).lower()) for c in range(256))


def _latin1(text: str) -> bytes | None:
    try:
        return text.encode("latin-1")
    except UnicodeEncodeError:
        return None


def lower(text: str) -> str:
    """text.lower(), several times quicker for text past ASCII within U+00FF ("£", "é")."""
    if text.isascii():
        return text.lower()
    narrow = _latin1(text)
    if narrow is None:
        return text.lower()
    return narrow.translate(_LOWER_LATIN1).decode("latin-1")


def leet_beside_letter(text: str) -> bool | None:
    """Whether a leet character has a letter beside it (normalise._LEET_PAIR finds something), by two substring
    searches; None for text past U+00FF ("€", other scripts)."""
    narrow = _latin1(text)
    if narrow is None:
        return None
    classes = narrow.translate(_LEET_CLASSES)
    return b"a1" in classes or b"1a" in classes


def words_and_bounds(text: str) -> tuple[list[str], list[int]] | None:
    """The runs of [a-z0-9] in `text` and their bounds (word k runs from bounds[2k] to bounds[2k + 1], the last
    bound is len(text)), in one pass; None for text past U+00FF."""
    narrow = _latin1(text)
    if narrow is None:
        return None
    found: list[str] = []
    bounds: list[int] = []
    start = 0
    # cut at every single space, so that each piece's place is the one before it plus its length and a space
    for piece in narrow.translate(_WORD_BYTES).decode("ascii").split(" "):
        if piece:
            found.append(piece)
            bounds.append(start)
            start += len(piece)
            bounds.append(start)
        start += 1
    bounds.append(len(text))
    return found, bounds
