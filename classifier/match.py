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

from rapidfuzz import fuzz, process

from classifier.normalise import Normalised, normalise, tokens

MAX_WALK = 40  # words joined from one start: enough for a fully letter-spaced phrase
CACHE_LIMIT = 200_000
FUZZY_CHOICES = 3
CATEGORY_KINDS = ("term", "device", "target")


@dataclass(frozen=True, slots=True)
class Entry:
    """One watchlist phrase: `kind` is term|device|target|exclusion|context|cue|disguise."""

    kind: str
    owner: str  # category id, context id, or cue group index
    term: str   # as written in the watchlist


@dataclass(frozen=True, slots=True)
class Hit:
    entry: Entry
    field: str
    first: int  # token index of the first word
    last: int   # token index of the last word (inclusive)
    start: int  # span in the ORIGINAL field text
    end: int
    score: float


@dataclass(slots=True)
class FieldScan:
    field: str
    norm: Normalised
    words: list[tuple[str, int, int]]
    hits: list[Hit]

    def gap_text(self, left_token: int, right_token: int) -> str:
        """The normalised text between the end of one word and the start of a later one."""
        return self.norm.text[self.words[left_token][2]: self.words[right_token][1]]


class Matcher:
    def __init__(self, watchlist):
        self.index: dict[str, list[Entry]] = {}
        self._words: list[list[str]] = []
        for cat in watchlist.categories.values():
            for term in cat.strong_terms:
                self._add(term, Entry("term", cat.id, term))
            for term in cat.device_words:
                self._add(term, Entry("device", cat.id, term))
            for term in cat.target_words:
                self._add(term, Entry("target", cat.id, term))
            for term in cat.exclusions:
                self._add(term, Entry("exclusion", cat.id, term))
        for ctx in watchlist.contexts:
            for term in ctx.terms:
                self._add(term, Entry("context", ctx.id, term))
        for term in watchlist.disguise_cues:
            self._add(term, Entry("disguise", "", term))
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

    def _add(self, term: str, entry: Entry) -> None:
        words = [w for w, _, _ in tokens(normalise(term))]
        if not words:
            return
        self._words.append(words)
        entries = self.index.setdefault("".join(words), [])
        if entry not in entries:
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
            best = process.extract(word, self.vocab, scorer=fuzz.ratio, score_cutoff=self.cutoff, limit=FUZZY_CHOICES)
            found = tuple((choice, round(score, 1)) for choice, score, _ in best)
        if len(self._fuzzy_cache) >= CACHE_LIMIT:
            self._fuzzy_cache.clear()
        self._fuzzy_cache[word] = found
        return found

    def scan(self, text: str, field: str) -> FieldScan:
        """Every watchlist phrase in `text`, with spans in the original text."""
        norm = normalise(text)
        words = tokens(norm)
        known, prefixes, index = self.known, self.prefixes, self.index
        # each word's possible forms: itself, or the watchlist words it may be a misspelling of
        forms: list[tuple[tuple[str, float], ...]] = []
        for w, _, _ in words:
            if len(w) >= self.min_length and w not in known and w.isalpha():
                forms.append(self.correct(w) or ((w, 100.0),))
            else:
                forms.append(((w, 100.0),))
        n = len(forms)
        found: dict[tuple[Entry, int, int], float] = {}
        for i in range(n):
            stack = [(i, form, score) for form, score in forms[i] if form in prefixes]
            while stack:
                j, joined, score = stack.pop()
                for entry in index.get(joined, ()):
                    key = (entry, i, j)
                    if found.get(key, -1.0) < score:
                        found[key] = score
                nxt = j + 1
                if nxt < n and nxt - i < MAX_WALK:
                    for form, s in forms[nxt]:
                        longer = joined + form
                        if longer in prefixes:
                            stack.append((nxt, longer, min(score, s)))
        hits = []
        for (entry, i, j), score in found.items():
            if entry.kind not in CATEGORY_KINDS and _cuts_through_spelled_word(words, i, j):
                continue
            start, end = norm.original_span(words[i][1], words[j][2])
            hits.append(Hit(entry, field, i, j, start, end, score))
        hits.sort(key=lambda h: (h.first, h.last))
        return FieldScan(field, norm, words, hits)


def _cuts_through_spelled_word(words, first: int, last: int) -> bool:
    """True when a match starts or ends inside a run of single letters ("K.E.Y.L.E.S.S R.E.P").

    Such a run has lost its word boundaries, so "...S S R..." is not the word "ssr". Only
    device terms may match there; innocent contexts and cues must not.
    """
    if len(words[first][0]) == 1 and first > 0 and len(words[first - 1][0]) == 1:
        return True
    if len(words[last][0]) == 1 and last + 1 < len(words) and len(words[last + 1][0]) == 1:
        return True
    return False
