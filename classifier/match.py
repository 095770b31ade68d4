"""Find watchlist phrases in one field of a listing.

Every phrase of the watchlist (category terms, device/target words, exclusions, contexts,
cues) is normalised once into a *key*: its words joined without spaces ("keyless repeater"
-> "keylessrepeater"). A field's words are joined the same way from each start position,
walking forward only while the joined text is still the prefix of some key. So
"keyless repeater", "keyless-repeater", "KeylessRepeater" and "k e y l e s s  r e p e a t e r"
all produce the same key, and the walk costs a few set look-ups per word.

Misspelt words ("progammer", "repeator") are corrected against the watchlist's vocabulary with
rapidfuzz (one `extractOne` per distinct unknown word, cached), and the match keeps the
similarity as its score.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

from rapidfuzz import fuzz, process

from classifier.normalise import WORD, Normalised, normalise, stem, word_matches, words

MAX_WALK = 40  # words joined from one start: enough for a fully letter-spaced phrase
CACHE_LIMIT = 200_000
FUZZY_CHOICES = 3
CATEGORY_KINDS = ("term", "maker", "claim", "device", "target")
STRONG_KINDS = ("term", "maker", "claim")  # evidence on its own; device and target words only together


@dataclass(frozen=True, slots=True, eq=False)  # identity hashing: entries are built once
class Entry:
    """One watchlist phrase: `kind` is term|maker|claim|device|target|exclusion|context|cue|disguise|negation."""

    kind: str
    owner: str  # category id, context id, or cue group index
    term: str  # as written in the watchlist


class Hit(NamedTuple):
    entry: Entry
    field: str
    first: int  # token index of the first word
    last: int  # token index of the last word (inclusive)
    start: int  # span in the ORIGINAL field text
    end: int
    score: float


class FieldScan:
    """One field's normalised text, words (stemmed) and the watchlist phrases found in it."""

    __slots__ = ("field", "norm", "words", "hits", "_spans")

    def __init__(self, field: str, norm: Normalised, raw_words: list[str]):
        self.field = field
        self.norm = norm
        self.words = raw_words  # as written (unstemmed), for the letter-spacing check
        self.hits: list[Hit] = []
        self._spans: list | None = None

    @property
    def spans(self) -> list:
        """Each word's regex match (.start()/.end() in the normalised text), found only when needed."""
        if self._spans is None:
            self._spans = word_matches(self.norm)
        return self._spans

    def gap_text(self, left_token: int, right_token: int) -> str:
        """The normalised text between the end of one word and the start of a later one."""
        return self.norm.text[self.spans[left_token].end() : self.spans[right_token].start()]


class Matcher:
    def __init__(self, watchlist):
        self.index: dict[str, list[Entry]] = {}
        self._words: list[list[str]] = []
        for cat in watchlist.categories.values():
            for term in cat.strong_terms:
                self._add(term, Entry("term", cat.id, term))
            for term in cat.makers:
                self._add(term, Entry("maker", cat.id, term))
            for term in cat.all_claims:
                self._add(term, Entry("claim", cat.id, term))
            for term in cat.device_words:
                self._add(term, Entry("device", cat.id, term))
            for term in cat.target_words:
                self._add(term, Entry("target", cat.id, term))
            for term in cat.exclusions:
                self._add(term, Entry("exclusion", cat.id, term))
        self.contexts = {ctx.id: ctx for ctx in watchlist.contexts}
        for ctx in watchlist.contexts:
            for term in ctx.terms:
                self._add(term, Entry("context", ctx.id, term))
        for term in watchlist.disguise_cues:
            self._add(term, Entry("disguise", "", term))
        for side in ("before", "after"):
            for term in getattr(watchlist, f"negations_{side}"):
                self._add(term, Entry("negation", side, term))
        for number, group in enumerate(watchlist.cues):
            for word in group.words:
                self._add(word, Entry("cue", str(number), word))
        self.prefixes = {key[:i] for key in self.index for i in range(1, len(key) + 1)}
        settings = watchlist.settings
        self.min_length = settings["fuzzy_min_length"]
        self.cutoff = settings["fuzzy_cutoff"]
        self.ignore = watchlist.fuzzy_ignore
        # the fuzzy vocabulary: watchlist words and whole keys long enough to misspell safely
        vocab = set()
        for key in self.index:
            if len(key) >= self.min_length and key.isalpha():
                vocab.add(key)
        for term_words in self._words:
            vocab.update(w for w in term_words if len(w) >= self.min_length and w.isalpha())
        self.vocab = sorted(vocab)
        self.known = vocab | set(self.index)
        self._fuzzy_cache: dict[str, tuple[tuple[str, float], ...]] = {}
        self._info_cache: dict[str, tuple] = {}
        self._shortlists: dict[tuple[str, str, int], list[str]] = {}
        self._by_first: dict[str, list[str]] = {}
        self._by_last: dict[str, list[str]] = {}
        for w in self.vocab:
            self._by_first.setdefault(w[0], []).append(w)
            self._by_last.setdefault(w[-1], []).append(w)

    def _add(self, term: str, entry: Entry) -> None:
        term_words = words(normalise(term))
        if not term_words:
            return
        self._words.append(term_words)
        entries = self.index.setdefault("".join(term_words), [])
        if not any((e.kind, e.owner, e.term) == (entry.kind, entry.owner, entry.term) for e in entries):
            entries.append(entry)

    def correct(self, word: str) -> tuple[tuple[str, float], ...]:
        """The watchlist words `word` may be a misspelling of, best first, with their similarity.

        Several candidates are kept because the nearest word is not always the one that
        completes a phrase ("repeator" is nearer Romanian "repetor" than "repeater").
        """
        try:
            return self._fuzzy_cache[word]
        except KeyError:
            pass
        found: tuple[tuple[str, float], ...] = ()
        if word not in self.ignore:
            best = process.extract(
                word, self._choices(word), scorer=fuzz.ratio, score_cutoff=self.cutoff, limit=FUZZY_CHOICES
            )
            found = tuple((choice, round(score, 1)) for choice, score, _ in best)
        if len(self._fuzzy_cache) >= CACHE_LIMIT:
            self._fuzzy_cache.clear()
        self._fuzzy_cache[word] = found
        return found

    def _word_info(self, word: str):
        """(forms, starters) for a raw word: its stem or the watchlist words it may be a
        misspelling of, and those of them that can start a phrase."""
        info = self._info_cache.get(word)
        if info is None:
            stemmed = stem(word)
            if len(stemmed) >= self.min_length and stemmed not in self.known and stemmed.isalpha():
                forms = self.correct(stemmed) or ((stemmed, 100.0),)
            else:
                forms = ((stemmed, 100.0),)
            # (all forms, forms that can start a phrase, the single form when there is just one)
            info = (forms, tuple(f for f in forms if f[0] in self.prefixes), forms[0] if len(forms) == 1 else None)
            if len(self._info_cache) >= CACHE_LIMIT:
                self._info_cache.clear()
            self._info_cache[word] = info
        return info

    @staticmethod
    def _walk(info, index, prefixes, found, i, j, joined, score):
        """Join words i..j onwards trying every form of each word (misspelt words have several)."""
        n = len(info)
        stack = [(j, joined, score)]
        while stack:
            j, joined, score = stack.pop()
            if joined in index:
                key = (i, j, joined)
                if found.get(key, -1.0) < score:
                    found[key] = score
            nxt = j + 1
            if nxt < n and nxt - i < MAX_WALK:
                for form, s in info[nxt][0]:
                    longer = joined + form
                    if longer in prefixes:
                        stack.append((nxt, longer, min(score, s)))

    def _choices(self, word: str) -> list[str]:
        """The vocabulary words worth comparing with `word`: those sharing its first or its last
        letter (typos rarely change both) and whose length can reach the cut-off (ratio =
        2*matches/(len1+len2), so the shorter must be >= r/(2-r) of the longer). Calling
        rapidfuzz on this shortlist is several times faster than on the whole vocabulary."""
        key = (word[0], word[-1], len(word))
        choices = self._shortlists.get(key)
        if choices is None:
            r = self.cutoff / 100
            low, high = len(word) * r / (2 - r), len(word) * (2 - r) / r
            first, last = word[0], word[-1]
            choices = [w for w in self._by_first.get(first, ()) if low <= len(w) <= high]
            choices += [w for w in self._by_last.get(last, ()) if low <= len(w) <= high and w[0] != first]
            self._shortlists[key] = choices
        return choices

    def scan(self, text: str, field: str) -> FieldScan:
        """Every watchlist phrase in `text`, with spans in the original text."""
        norm = normalise(text)
        found_words = WORD.findall(norm.text)
        scan = FieldScan(field, norm, found_words)
        prefixes, index = self.prefixes, self.index
        # each word's possible forms (its stem, or the watchlist words it may be a misspelling
        # of) and those that can start a phrase; cached, as words repeat across listings
        cache = self._info_cache
        info = [cache.get(w) or self._word_info(w) for w in found_words]
        n = len(info)
        found: dict[tuple[int, int, str], float] = {}
        for i, (_, starters, _) in enumerate(info):
            if not starters:
                continue
            if len(starters) == 1:
                # the common case: one form per word, walked without a stack
                joined, score = starters[0]
                j = i
                while True:
                    if joined in index:
                        key = (i, j, joined)
                        if found.get(key, -1.0) < score:
                            found[key] = score
                    j += 1
                    if j >= n or j - i >= MAX_WALK:
                        break
                    one = info[j][2]
                    if one is None:
                        self._walk(info, index, prefixes, found, i, j - 1, joined, score)
                        break
                    joined += one[0]
                    if joined not in prefixes:
                        break
                    if one[1] < score:
                        score = one[1]
            else:
                for form, score in starters:
                    self._walk(info, index, prefixes, found, i, i, form, score)
        if found:
            positions = scan.spans
            hits = scan.hits
            offsets = norm.offsets
            for (i, j, joined), score in found.items():
                start, end = positions[i].start(), positions[j].end()
                if offsets is not None:
                    start, end = offsets[start], offsets[end - 1] + 1
                cuts = None
                for entry in index[joined]:
                    if entry.kind not in CATEGORY_KINDS:
                        if cuts is None:
                            cuts = _cuts_through_spelled_word(found_words, i, j)
                        if cuts:
                            continue
                    hits.append(Hit(entry, field, i, j, start, end, score))
            hits.sort(key=hit_order)
        return scan


def hit_order(hit: Hit) -> tuple[int, int]:
    return hit.first, hit.last


def _cuts_through_spelled_word(found_words: list[str], first: int, last: int) -> bool:
    """True when a match starts or ends inside a run of single letters ("K.E.Y.L.E.S.S R.E.P").

    Such a run has lost its word boundaries, so "...S S R..." is not the word "ssr". Only
    device terms may match there; innocent contexts and cues must not.
    """
    if len(found_words[first]) == 1 and first > 0 and len(found_words[first - 1]) == 1:
        return True
    if len(found_words[last]) == 1 and last + 1 < len(found_words) and len(found_words[last + 1]) == 1:
        return True
    return False
