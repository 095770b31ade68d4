"""Where the model's features stand in the original text: the spans an explanation shows a reviewer.

A word feature is found by the matcher's words of each field (their cache rows or stems), a raw word
("r:" feature) by splitting the original text at white space as the model read it; either way the
span is mapped back through normalisation to the text as captured.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Final

from classifier.narrow import lower
from classifier.rules import Match, RuleResult

EXPLAIN_SPANS: Final = 3  # places in the text shown per n-gram
RAW_WORD = re.compile(r"\S+")  # what str.split() splits out (both split at str.isspace() characters)


def word_places(
    rules: RuleResult, by_field: list, places: list[list[int]], rest: list, feature: str, category: str, push: float
) -> list[Match]:
    """Up to EXPLAIN_SPANS spans of the original text where a feature's words occur: its first word, at `places`
    (for each field, its positions among the words `by_field` holds: cache rows or stems; see positions), followed
    by `rest`."""
    width = len(rest)
    found: list[Match] = []
    for scan, words, at in zip(rules.scans, by_field, places):
        if not at:
            continue
        bounds = scan.bounds  # word k runs from bounds[2k] to bounds[2k + 1]
        offsets, original, field = scan.norm.offsets, scan.norm.original, scan.field
        shifted = field in rules.shifts
        for i in at:
            if not width or words[i + 1 : i + 1 + width] == rest:
                start, stop = bounds[2 * i], bounds[2 * (i + width) + 1]
                if offsets is not None:  # as Normalised.original_span
                    start, stop = offsets[start], offsets[stop - 1] + 1
                text = original[start:stop]
                if shifted:
                    start, stop = rules.original_span(field, start, stop)
                found.append(Match(feature, category, field, start, stop, text, push, "ngram"))
                if len(found) >= EXPLAIN_SPANS:
                    return found
    return found


def positions(by_field: list, wanted: set) -> list[dict]:
    """For each field, where each `wanted` word stands among its words (cache rows or stems), in order: one
    pass over the listing's words for all the words an explanation names."""
    out: list[dict] = []
    for words in by_field:
        at: dict = {}
        for i, word in enumerate(words):
            if word in wanted:
                at.setdefault(word, []).append(i)
        out.append(at)
    return out


def raw_word_places(rules: RuleResult, feature: str, category: str, push: float) -> list[Match]:
    """Up to EXPLAIN_SPANS spans of the original text where a raw word (feature "r:" + word) occurs."""
    word = feature[2:]
    found: list[Match] = []
    for scan in rules.scans:
        original = scan.norm.original
        lowered = lower(original)
        if word not in lowered:
            continue
        for start, stop in raw_spans(original, lowered, word):
            text = original[start:stop]
            start, stop = rules.original_span(scan.field, start, stop)
            found.append(Match(feature, category, scan.field, start, stop, text, push, "ngram"))
            if len(found) >= EXPLAIN_SPANS:
                return found
    return found


def raw_spans(original: str, lowered: str, word: str) -> Iterator[tuple[int, int]]:
    """Where `word` stands as a whole raw word in `original` (`lowered` is original.lower())."""
    if len(lowered) != len(original):  # a letter lower-cased to two ("İ"): positions differ, split again
        yield from ((m.start(), m.end()) for m in RAW_WORD.finditer(original) if m.group().lower() == word)
        return
    start = lowered.find(word)
    while start >= 0:  # lower() turns no letter into none, so equal lengths keep every position
        stop = start + len(word)
        if (start == 0 or lowered[start - 1].isspace()) and (stop == len(lowered) or lowered[stop].isspace()):
            yield start, stop
        start = lowered.find(word, start + 1)
