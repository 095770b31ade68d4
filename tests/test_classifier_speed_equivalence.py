"""The classifier's fast paths give exactly what the plain ways of computing the same thing give.

The rules' spans are evidence shown to reviewers: a faster tokeniser, offset table or batch call
must not move them. Each test compares a fast path with a straightforward reference on hostile text.
(bench/classify_golden.py checks whole classifications against a stored run, before and after.)
"""

import importlib
import json
from itertools import chain
from pathlib import Path

import numpy as np
import pytest

from classifier import classify, load_watchlist
from classifier.classify import classify_many
from classifier.narrow import leet_beside_letter, lower
from classifier.normalise import (
    _LEET_PAIR,
    _LETTERS,
    CYRILLIC_ONLY,
    TRANSLITERATION,
    WORD,
    _cyrillic_words,
    _deleet,
    _fold_char,
    _normalise_slow,
    normalise,
    split_words,
    stem,
    tokens,
    words_and_bounds,
)
from tests.support.corpora import readable_corpora

ROOT = Path(__file__).resolve().parents[1]

HOSTILE = [
    "",
    "   ",
    "--x--",
    "Keyless Repeater 2 box set, 433MHz, £1,200.00",
    "k.e.y.l.e.s.s r.e.p.e.a.t.e.r",
    "Кеуless Rеpеаtеr глушилка ретранслятор ключ",
    "rel\u200bay b\u200cox for VW/Audi ✅ 🔥 fast",
    "Schlüsselprogrammiergerät Straße æsthetic Œuvre ﬁne",
    "🇷🇪🇱🇦🇾 box ＲＥＬＡＹ 𝐛𝐨𝐱 ⓡⓔⓛⓐⓨ",
    "r3lay b0x pr0gramm3r 3mula70r gr@bber im508 hu66",
    "ключ-программатор для Тойоты, кеу prоgrаmmеr, ΚΕΥLΕSS",
    "a\u0301b\u0301c\u0301 ñandú ǅemal",
]


def corpus_texts(limit: int) -> list[tuple[str, str]]:
    rows = []
    for path in readable_corpora():
        lines = path.read_text(encoding="utf-8").splitlines()
        rows += [json.loads(line) for line in lines[:limit] if line.strip()]
    return [(r.get("title") or "", r.get("description") or "") for r in rows]


def all_texts() -> list[str]:
    return HOSTILE + [text for pair in corpus_texts(40) for text in pair]


def reference_normalise(text: str) -> tuple[str, tuple[int, ...]]:
    """The character-by-character way: each character folded (or transliterated, inside a word
    written in real Cyrillic), its original index repeated once per character it became."""
    cyrillic = set()
    for word in _LETTERS.finditer(text):
        w = word.group().lower()
        if not any("a" <= c <= "z" for c in w) and any(c in CYRILLIC_ONLY for c in w):
            cyrillic.update(range(word.start(), word.end()))
    pieces, offsets = [], []
    for index, char in enumerate(text):
        if index in cyrillic:
            out = "".join(TRANSLITERATION.get(c, c) for c in char.lower())
        else:
            out = char.lower() if char.isascii() else _fold_char(char)
        pieces.append(out)
        offsets += [index] * len(out)
    return _deleet("".join(pieces)), tuple(offsets)


def test_the_offset_table_matches_the_character_by_character_reference():
    for text in all_texts():
        fast = _normalise_slow(text, _cyrillic_words(text))
        assert (fast.text, fast.offsets) == reference_normalise(text), text


def test_normalised_text_maps_back_like_the_reference():
    for text in all_texts():
        norm = normalise(text)
        expected_text, offsets = reference_normalise(text)
        assert norm.text == expected_text, text
        assert [norm.original_span(i, i + 1)[0] for i in range(len(norm.text))] == list(offsets), text


def test_tokens_are_the_words_the_regex_finds():
    for text in all_texts():
        norm = normalise(text)
        assert tokens(norm) == [(stem(m.group()), m.start(), m.end()) for m in WORD.finditer(norm.text)], text


def test_split_words_finds_the_words_the_regex_finds():
    """split_words reads text with no character past U+00FF without the regex; both kinds of text."""
    extra = ["ªº¹²³ µ ß ÿ x£1 €5 日本語abc", "abc\u0100def", "tab\tnew\nline\x1c\x1fend", "UPPER lower 9"]
    for text in all_texts() + extra:
        for candidate in (normalise(text).text, text):
            assert split_words(candidate) == WORD.findall(candidate), candidate
            found, bounds = words_and_bounds(candidate)
            assert found == WORD.findall(candidate), candidate
            spans = [m.span() for m in WORD.finditer(candidate)]
            assert bounds is None or bounds == [i for span in spans for i in span] + [len(candidate)], candidate


def test_lower_and_the_leet_check_give_what_str_lower_and_the_regex_give():
    extra = ["".join(map(chr, range(256))), "ÀÉÎÕÜ Ÿ ß µ £5 R3LAY 7a a7 x€y İ", "Straße ŁÓDŹ", "a|b !c d@ $e"]
    for text in all_texts() + extra:
        assert lower(text) == text.lower(), text
        beside = leet_beside_letter(lower(text))
        assert beside is None or beside == bool(_LEET_PAIR.search(lower(text))), text
    assert leet_beside_letter("price £5, sku 12345") is False and leet_beside_letter("r3lay")
    assert leet_beside_letter("€5 r3lay") is None


@pytest.fixture(scope="module")
def wl():
    return load_watchlist(ROOT / "watchlist.yaml")


@pytest.mark.parametrize("text", HOSTILE + ["not for use as a relay. anti-theft: blocks relay attacks; jammers"])
def test_word_positions_and_gaps_are_the_regex_spans(wl, text):
    scan = wl.matcher.scan(text, "description")
    spans = list(WORD.finditer(scan.norm.text))
    assert scan.words == [m.group() for m in spans]
    assert scan.bounds[0::2][: len(spans)] == [m.start() for m in spans]
    assert scan.bounds[1::2] == [m.end() for m in spans]
    assert len(scan.spans) == len(spans)
    assert [(s.start(), s.end()) for s in scan.spans] == [m.span() for m in spans]
    for left in range(len(spans)):
        for right in range(left + 1, min(left + 4, len(spans))):
            assert scan.gap_text(left, right) == scan.norm.text[spans[left].end() : spans[right].start()]


@pytest.mark.parametrize("mode", ["rules", "combined"])
def test_classify_many_gives_what_classify_gives_one_by_one(wl, mode):
    listings = corpus_texts(25) + [(text, text) for text in HOSTILE]
    one_by_one = [classify(title, description, wl, mode=mode).to_dict() for title, description in listings]
    assert [c.to_dict() for c in classify_many(listings, wl, mode=mode)] == one_by_one
    assert any(c["flagged"] for c in one_by_one) and not all(c["flagged"] for c in one_by_one)


def test_classify_many_is_the_same_across_batches_and_a_cleared_word_cache(monkeypatch):
    """Batches end mid-run and the model's word cache fills and is cleared between listings of one
    batch: the results must not depend on where either happens."""
    classify_module = importlib.import_module("classifier.classify")  # the package exports a function of that name
    model_module = importlib.import_module("classifier.model")
    from classifier.model import listing_words, raw_words
    from classifier.rules import weigh

    listings = corpus_texts(25) + [(text, text) for text in HOSTILE]
    usual = load_watchlist(ROOT / "watchlist.yaml")
    expected = [classify(title, description, usual).to_dict() for title, description in listings]
    monkeypatch.setattr(classify_module, "BATCH_LISTINGS", 7)
    monkeypatch.setattr(model_module, "_CACHE_LIMIT", 400)
    small = load_watchlist(ROOT / "watchlist.yaml")
    assert [c.to_dict() for c in classify_many(listings, small)] == expected
    # the cache really was cleared mid-run, twice or more: it holds at most 400 rows (one per word met since it
    # was last cleared), and the listings need over 800 (the compiled Model's methods cannot be wrapped to count)
    weighed = [weigh(title, description, usual) for title, description in listings]
    needed = {w for rules in weighed for _, stems in listing_words(rules) for w in stems}
    needed |= {w for rules in weighed for w in raw_words(rules)}
    assert len(needed) > 2 * 400 and len(small.model._stems) <= 400


def test_a_batch_of_one_and_a_batch_of_many_score_the_same(wl):
    from classifier.rules import weigh

    listings = corpus_texts(10) + [(text, text) for text in HOSTILE]
    weighed = [weigh(title, description, wl) for title, description in listings]
    together = wl.model.predict_many(weighed)
    for rules, batched in zip(weighed, together):
        alone = wl.model.predict(rules)
        assert alone.probabilities == pytest.approx(batched.probabilities, rel=1e-12, abs=1e-15)
        assert alone.category == batched.category


def test_a_batch_looks_up_the_word_pairs_training_counts(wl):
    """The batch's pair n-grams (found in numpy over word rows) are exactly those of the training's
    features (classifier.model.pairs), listing by listing: none crosses from title to description,
    and empty fields shift nothing."""
    from collections import Counter

    from classifier.model import listing_words, pairs, raw_words
    from classifier.rules import weigh

    model = wl.model
    # a pair of two different words: "b:1 1" repeated would count overlapping pairs too
    first, second = next(
        words
        for words in (name[2:].split(" ") for name in model.names if name.startswith("b:"))
        if words[0] != words[1]
    )
    listings = [
        (f"x {first}", f"{second} y"),  # a known pair only across the fields: not a feature
        ("", f"{first} {second} {first} {second}"),
        (f"{first} {second}", ""),
        ("", ""),
        (f"{first}", f"{first} {second}"),
    ] + corpus_texts(10)
    weighed = [weigh(title, description, wl) for title, description in listings]
    features = [model._features(rules, raw_words(rules)) for rules in weighed]
    words = np.fromiter(chain.from_iterable(f[0] for f in features), dtype=np.intp)
    ngrams, owners = model._pair_ngrams_of(features, words)
    found = [Counter() for _ in listings]
    for ngram, owner in zip(ngrams.tolist(), owners.tolist()):
        found[owner][ngram] += 1
    for rules, got, one in zip(weighed, found, features):
        expected = Counter(model.index[p] for p in pairs(listing_words(rules)) if p in model.index)
        assert got == expected
        assert Counter(i for i in model._pair_ngrams_one(one[1]) if i >= 0) == expected
    assert found[0] == Counter() and found[1][model.index[f"b:{first} {second}"]] == 2
