"""Undo the tricks sellers use to dodge filters, keeping a map back to the original text.

`normalise()` folds a field to plain lowercase Latin letters and digits: NFKC/NFKD
compatibility forms (full-width, 𝐛𝐨𝐥𝐝, ⓒⓘⓡⓒⓛⓔⓓ), case, accents, Cyrillic/Greek look-alikes,
regional-indicator emoji letters, leetspeak (r3lay, pr0gramm3r) and zero-width characters.
Emoji and other decoration become spaces. Words written in real Cyrillic (they hold a letter
with no Latin look-alike, such as л, я, ш) are transliterated instead, so Russian listings match
Russian watchlist terms ("ретранслятор" -> "retranslyator") and do not fall apart into
look-alike fragments. `tokens()` then splits it into words, with
plurals folded ("boxes" -> "box"); words split into letters ("R E L A Y", "k.e.y") are
handled by the matcher, which joins adjacent tokens.

Every normalised character remembers the index of the original character it came from,
so a match found in the normalised text maps back to an exact span of the original.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import accumulate, chain, repeat
from typing import cast

from classifier.narrow import leet_beside_letter, lower
from classifier.narrow import words_and_bounds as narrow_words

# Cyrillic and Greek letters that look like Latin ones (lowercase; casefolding runs first).
HOMOGLYPHS = {
    # Cyrillic
    "а": "a",
    "в": "b",
    "е": "e",
    "ё": "e",
    "з": "3",
    "и": "u",
    "й": "u",
    "к": "k",
    "м": "m",
    "н": "h",
    "о": "o",
    "р": "p",
    "с": "c",
    "т": "t",
    "у": "y",
    "х": "x",
    "ѕ": "s",
    "і": "i",
    "ї": "i",
    "ј": "j",
    "ԁ": "d",
    "ԛ": "q",
    "ԝ": "w",
    "һ": "h",
    "ь": "b",
    "ӏ": "l",
    "ɡ": "g",
    # Greek
    "α": "a",
    "β": "b",
    "γ": "y",
    "ε": "e",
    "η": "n",
    "ι": "i",
    "κ": "k",
    "μ": "u",
    "ν": "v",
    "ο": "o",
    "ρ": "p",
    "τ": "t",
    "υ": "u",
    "χ": "x",
    "ω": "w",
    "ς": "s",
    "σ": "o",
    "δ": "d",
    # Latin letters NFKD does not decompose
    "ł": "l",
    "đ": "d",
    "ø": "o",
    "æ": "ae",
    "œ": "oe",
    "ı": "i",
    "ŀ": "l",
    "ħ": "h",
    "ŧ": "t",
    "ð": "d",
    "þ": "th",
    "ſ": "s",
    "ɑ": "a",
    "ɩ": "i",
    "ʀ": "r",
    "ᴋ": "k",
    "ᴇ": "e",
    "ʏ": "y",
}

# Capitals whose lowercase form looks different from the Latin letter they imitate
# (Greek Υ looks like Y but lowercases to υ, which looks like u): mapped before casefolding.
UPPER_HOMOGLYPHS = {
    "Υ": "y",
    "У": "y",
    "Ү": "y",
    "Ν": "n",
    "Η": "h",
    "Н": "h",
    "В": "b",
    "Β": "b",
    "Ρ": "p",
    "Р": "p",
    "Χ": "x",
    "Х": "x",
    "Μ": "m",
    "М": "m",
    "Τ": "t",
    "Т": "t",
    "Κ": "k",
    "К": "k",
    "Ζ": "z",
    "Ι": "i",
    "І": "i",
    "Α": "a",
    "А": "a",
    "Ε": "e",
    "Е": "e",
    "Ο": "o",
    "О": "o",
    "С": "c",
    "Ѕ": "s",
    "Ј": "j",
}

# Cyrillic letters with no Latin look-alike: a word holding one is real Cyrillic, not a disguise.
CYRILLIC_ONLY = frozenset("бгджзийлпфцчшщъыьэюяєїґ")
TRANSLITERATION = {
    "а": "a",
    "б": "b",
    "в": "v",
    "г": "g",
    "д": "d",
    "е": "e",
    "ё": "e",
    "ж": "zh",
    "з": "z",
    "и": "i",
    "й": "i",
    "к": "k",
    "л": "l",
    "м": "m",
    "н": "n",
    "о": "o",
    "п": "p",
    "р": "r",
    "с": "s",
    "т": "t",
    "у": "u",
    "ф": "f",
    "х": "kh",
    "ц": "ts",
    "ч": "ch",
    "ш": "sh",
    "щ": "shch",
    "ъ": "",
    "ы": "y",
    "ь": "",
    "э": "e",
    "ю": "yu",
    "я": "ya",
    "і": "i",
    "ї": "i",
    "є": "e",
    "ґ": "g",
}
_CYRILLIC = re.compile(r"[\u0400-\u04ff]")
_LETTERS = re.compile(r"[^\W\d_]+")

# Leetspeak, one character for one so the offsets stay valid.
LEET_DIGITS = {"0": "o", "1": "i", "3": "e", "4": "a", "5": "s", "7": "t"}
LEET_SYMBOLS = {"@": "a", "$": "s", "!": "i", "|": "l", "€": "e", "£": "l"}

_WORD = re.compile(r"[a-z0-9@$!|€£]+")
# Model numbers keep their digits: im508, hu66, k518, x300, 433mhz, 12v, 4g.
_MODEL_NUMBER = re.compile(r"[a-z]{0,6}\d{2,}[a-z]{0,3}|\d+[a-z]{1,3}|\d+[a-z]+\d+|[a-z]\d")
# A word of the normalised text: a run of Latin letters and digits (every Latin-like script is folded to them), a
# run of Arabic, Hebrew, Devanagari or Hangul letters, or one Chinese character or kana: those are written without
# spaces between words, so each character is a word and the model's word pairs are its character bigrams. Before
# 2026-12-01 only the first kind counted, and a Chinese, Japanese, Korean or Arabic listing had no features at all.
WORD = re.compile(
    r"[a-z0-9]+"
    r"|[\u0590-\u05ff\u0600-\u06ff\u0750-\u077f\u0900-\u097f\u1100-\u11ff\u3130-\u318f\uac00-\ud7af]+"
    r"|[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uff66-\uff9f]"
)
GAPS_AND_WORDS = re.compile(f"({WORD.pattern})")  # split(): gap, word, gap, word, ..., gap

# each character's replacement, ASCII ones ready (lowercase), others as they are met
_fold_cache: dict[str, str] = {chr(c): chr(c).lower() for c in range(128)}


def _fold_char(char: str) -> str:
    """The normalised replacement for one original character ('' to drop it, ' ' to split)."""
    cached = _fold_cache.get(char)
    if cached is not None:
        return cached
    code = ord(char)
    if 0x1F1E6 <= code <= 0x1F1FF:  # regional indicator letters 🇦..🇿 spell words in emoji
        out = chr(ord("a") + code - 0x1F1E6)
    elif char in UPPER_HOMOGLYPHS:
        out = UPPER_HOMOGLYPHS[char]
    else:
        pieces = []
        for part in unicodedata.normalize("NFKD", char):
            for low in part.casefold():
                category = unicodedata.category(low)
                if category == "Mn" or category == "Cf":  # accents, zero-width joiners/spaces
                    continue
                low = HOMOGLYPHS.get(low, low)
                # A spacing mark is part of its word: the vowel signs of Devanagari and other Indic scripts.
                if category[0] in "LN" or category == "Mc" or low in LEET_SYMBOLS or low.isascii():
                    pieces.append(low)
                else:  # emoji, dingbats, box drawing, ...: decoration that separates words
                    pieces.append(" ")
        out = "".join(pieces)
    _fold_cache[char] = out
    return out


@dataclass(frozen=True, slots=True, init=False)
class Normalised:
    """A normalised field and the original index of each of its characters."""

    original: str
    text: str
    offsets: tuple[int, ...] | None  # None: identical positions (plain ASCII input)

    def __init__(self, original: str, text: str, offsets: tuple[int, ...] | None) -> None:
        # written out, so that mypyc compiles it (the one @dataclass generates runs interpreted); frozen, hence
        # object.__setattr__
        object.__setattr__(self, "original", original)
        object.__setattr__(self, "text", text)
        object.__setattr__(self, "offsets", offsets)

    def original_span(self, start: int, end: int) -> tuple[int, int]:
        """Map the normalised slice [start, end) to the matching slice of the original."""
        if self.offsets is None:
            return start, end
        return self.offsets[start], self.offsets[end - 1] + 1


_LEET_RUN = re.compile(r"[013457@$!|€£]+")
# a leet character with a letter on either side (written so the regex scans for the character
# first: an alternation of two-character classes is several times slower)
_LEET_PAIR = re.compile(r"[013457@$!|€£](?:(?<=[a-z].)|(?=[a-z]))")
_WORD_CHARS = frozenset("abcdefghijklmnopqrstuvwxyz0123456789@$!|€£")


def _leety_words(text: str):
    """(start, word) for each word holding a letter next to a leet character."""
    last_end = -1
    for pair in _LEET_PAIR.finditer(text):
        if pair.start() < last_end:
            continue
        start, end = pair.start(), pair.end()
        while start > 0 and text[start - 1] in _WORD_CHARS:
            start -= 1
        while end < len(text) and text[end] in _WORD_CHARS:
            end += 1
        last_end = end
        yield start, text[start:end]


def _deleet(text: str) -> str:
    """Replace leet characters inside words that are mostly letters: r3lay, pr0gramm3r, emula70r.

    A run of leet characters is replaced when letters (or the word's edge) sit on both sides
    of it; model numbers (im508, hu66, 433mhz) keep their digits.
    """
    if leet_beside_letter(text) is False:  # None: text past U+00FF, which the regex decides
        return text
    chars = None
    for word_start, w in _leety_words(text):
        if _MODEL_NUMBER.fullmatch(w) or sum(c.isalpha() for c in w) < 2:
            continue
        for run in _LEET_RUN.finditer(w):
            a, b = run.span()
            left = w[a - 1] if a else ""
            right = w[b] if b < len(w) else ""
            edge_ok = (left.isalpha() and right.isalpha()) or (
                (left.isalpha() or right.isalpha())
                and not (left.isdigit() or right.isdigit())
                and all(c in LEET_DIGITS for c in run.group())
            )
            if edge_ok:
                if chars is None:
                    chars = list(text)
                for i in range(a, b):
                    c = w[i]
                    chars[word_start + i] = LEET_DIGITS.get(c) or LEET_SYMBOLS[c]
    return text if chars is None else "".join(chars)


_NON_ASCII = re.compile(r"[^\x00-\x7f]+")
_stem_cache: dict[str, str] = {}


def _cyrillic_words(text: str) -> list[tuple[int, int]]:
    """The [start, end) spans of the words written in real Cyrillic (see CYRILLIC_ONLY)."""
    found = []
    for word in _LETTERS.finditer(text):
        w = word.group().lower()
        if not any("a" <= c <= "z" for c in w) and any(c in CYRILLIC_ONLY for c in w):
            found.append(word.span())
    return found


_ASCII_BYTES = bytes(range(128))
# Non-ASCII characters that fold to one ASCII character, or to themselves ("£"), and are not Cyrillic
# (words in real Cyrillic are transliterated); True or False per character met
_plain_char: dict[str, bool] = {}


def _is_plain(char: str) -> bool:
    plain = _plain_char.get(char)
    if plain is None:
        out = _fold_char(char)
        plain = _plain_char[char] = (
            len(out) == 1 and (out.isascii() or out == char) and out.lower() == out and not _CYRILLIC.match(char)
        )
    return plain


def normalise(text: str) -> Normalised:
    """Fold `text` for matching; see the module docstring for what is undone."""
    text = text or ""
    if text.isascii():
        return Normalised(text, _deleet(text.lower()), None)
    # Mostly ASCII with a few plain characters (a "£", "【", "é"): each is replaced by its folding,
    # the rest lowercased in one call, as the general path below would do character by character.
    # Deleting the ASCII bytes from the UTF-8 leaves the other characters; far quicker than a regex.
    others = set(text.encode("utf-8", "surrogatepass").translate(None, _ASCII_BYTES).decode("utf-8", "surrogatepass"))
    if all(map(_is_plain, others)):
        folded = text
        for char in others:
            out = _fold_char(char)
            if out != char:
                folded = folded.replace(char, out)
        return Normalised(text, _deleet(lower(folded)), None)
    return _normalise_general(text)


def _normalise_general(text: str) -> Normalised:
    """normalise() for any non-ASCII text."""
    cyrillic = _cyrillic_words(text) if _CYRILLIC.search(text) else None
    if cyrillic:
        return _normalise_slow(text, cyrillic)
    # ASCII stretches fold in bulk (lower() keeps their length); only the rest goes char by char.
    # While every character folds to exactly one, positions are unchanged and need no table.
    pieces: list[str] = []
    pos = 0
    same_length = True
    fold = _fold_char
    for run in _NON_ASCII.finditer(text):
        start, end = run.span()
        if start > pos:
            pieces.append(text[pos:start].lower())
        for char in run.group():
            out = _fold_cache.get(char) or fold(char)
            if len(out) != 1:
                same_length = False
            pieces.append(out)
        pos = end
    pieces.append(text[pos:].lower())
    if same_length:
        return Normalised(text, _deleet("".join(pieces)), None)
    return _normalise_slow(text, ())


def _normalise_slow(text: str, cyrillic: Sequence[tuple[int, int]]) -> Normalised:
    """With an offset table, for text whose length changes when folded: each character's
    replacement is looked up (cached), Cyrillic words are transliterated, and each original
    index is repeated as many times as its replacement has characters."""
    cached = list(map(_fold_cache.get, text))
    outs: list[str] = (
        [_fold_char(c) if out is None else out for out, c in zip(cached, text)]
        if None in cached
        else cast("list[str]", cached)
    )
    for start, end in cyrillic:
        outs[start:end] = map(_transliterate, text[start:end])
    offsets = tuple(chain.from_iterable(map(repeat, range(len(text)), map(len, outs))))
    return Normalised(text, _deleet("".join(outs)), offsets)


_translit_cache: dict[str, str] = {}


def _transliterate(char: str) -> str:
    out = _translit_cache.get(char)
    if out is None:
        out = _translit_cache[char] = "".join(TRANSLITERATION.get(c, c) for c in char.lower())
    return out


def stem(word: str) -> str:
    """Fold English plurals so 'relay boxes' matches 'relay box' and 'keys' matches 'key'."""
    if len(word) > 4 and (word.endswith(("xes", "zes", "ches", "shes"))):
        return word[:-2]
    if len(word) > 3 and word[-1] == "s" and word[-2] not in "su" and not word[-2].isdigit():
        if word.endswith("is"):
            return word
        return word[:-1]
    return word


def words(norm: Normalised) -> list[str]:
    """The stemmed words of a normalised field (the fast path; see `tokens` for positions)."""
    return _stems(split_words(norm.text))


def _stems(found: list[str]) -> list[str]:
    cache = _stem_cache
    if len(cache) > 500_000:
        cache.clear()
    out = list(map(cache.get, found))
    if None in out:
        for i, word in enumerate(found):
            if out[i] is None:
                out[i] = cache[word] = stem(word)
    return cast("list[str]", out)


def split_words(text: str) -> list[str]:
    """The words of a normalised text, as WORD.findall(text) finds them (unstemmed); see words_and_bounds."""
    return words_and_bounds(text)[0]


def words_and_bounds(text: str) -> tuple[list[str], list[int] | None]:
    """The words of a normalised text, as WORD.findall(text) finds them (unstemmed), and their bounds: word k runs
    from bounds[2k] to bounds[2k + 1], the last bound is len(text). Text with no character past U+00FF (nearly
    every listing in a Latin script) has words of one kind only, runs of [a-z0-9], which classifier.narrow cuts out
    without the regex (that tries its three kinds of word at every position of every gap); other text takes the
    regex, and bounds None: the caller finds them when it needs them (match.FieldScan.bounds)."""
    found = narrow_words(text)
    if found is None:
        return WORD.findall(text), None
    return found


def word_matches(norm: Normalised) -> list[re.Match]:
    """The regex match of each word of `words(norm)`: .start()/.end() in normalised positions."""
    return list(WORD.finditer(norm.text))


def tokens(norm: Normalised) -> list[tuple[str, int, int]]:
    """The words of a normalised field as (stemmed word, start, end) in normalised positions."""
    parts = GAPS_AND_WORDS.split(norm.text)
    bounds = list(accumulate(map(len, parts)))  # word k runs from bounds[2k] to bounds[2k + 1]
    return list(zip(_stems(parts[1::2]), bounds[0::2], bounds[1::2]))
