"""Where the model's features stand in the original text: the spans an explanation shows a reviewer.

A word feature is found by the matcher's words of each field (their cache rows or stems), a raw word
("r:" feature) by splitting the original text at white space as the model read it; either way the
span is mapped back through normalisation to the text as captured.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from classifier.rules import Match, RuleResult

EXPLAIN_SPANS = 3  # places in the text shown per n-gram
RAW_WORD = re.compile(r"\S+")  # what str.split() splits out (both split at str.isspace() characters)


def word_places(
    rules: RuleResult, by_field: list, first, rest: list, feature: str, category: str, push: float
) -> list[Match]:
    """Up to EXPLAIN_SPANS spans of the original text where a feature's words occur: `first`
    followed by `rest`, looked for in each field's words (cache rows or stems, as `by_field` holds)."""
    width = len(rest)
    found: list[Match] = []
    for scan, words in zip(rules.scans, by_field):
        times = words.count(first)
        if not times:
            continue
        bounds = scan.bounds  # word k runs from bounds[2k] to bounds[2k + 1]
        offsets, original, field = scan.norm.offsets, scan.norm.original, scan.field
        shifted = field in rules.shifts
        i = -1
        for _ in range(times):
            i = words.index(first, i + 1)
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


def raw_word_places(rules: RuleResult, feature: str, category: str, push: float) -> list[Match]:
    """Up to EXPLAIN_SPANS spans of the original text where a raw word (feature "r:" + word) occurs."""
    word = feature[2:]
    found: list[Match] = []
    for scan in rules.scans:
        original = scan.norm.original
        lowered = original.lower()
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
