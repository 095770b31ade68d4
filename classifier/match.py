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

from collections.abc import Iterator
from dataclasses import dataclass
from operator import itemgetter
from typing import Final, NamedTuple

from rapidfuzz import fuzz, process

from classifier.normalise import Normalised, normalise, stem, words, words_and_bounds

MAX_WALK: Final = 40  # words joined from one start: enough for a fully letter-spaced phrase
CACHE_LIMIT = 200_000
FUZZY_CHOICES: Final = 3
CATEGORY_KINDS: Final = ("term", "maker", "claim", "device", "target")
STRONG_KINDS: Final = ("term", "maker", "claim")  # evidence on its own; device and target words only together

Form = tuple[str, float]  # a word as it may be read (its stem, or a watchlist word it may misspell) and the similarity


class WordInfo:
    """What the walk needs of a word as written, cached: its forms, those of them that can start a phrase, and its
    only form and its similarity when it has just one (single None: several). A class, so that the compiled walk
    (setup.py) reads each field directly; a tuple's were unpacked and type-checked whole at every read."""

    __slots__ = ("forms", "starters", "single", "single_score")

    def __init__(self, forms: tuple[Form, ...], starters: tuple[Form, ...]) -> None:
        self.forms = forms
        self.starters = starters
        self.single: str | None = forms[0][0] if len(forms) == 1 else None
        self.single_score: float = forms[0][1] if len(forms) == 1 else 0.0


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

    __slots__ = ("field", "norm", "words", "hits", "kinds", "evidence", "_bounds", "_spans")

    def __init__(self, field: str, norm: Normalised, found_words: list[str], bounds: list[int] | None = None):
        self.field = field
        self.norm = norm
        self.words = found_words  # as written (unstemmed), for the letter-spacing check
        self.hits: list[Hit] = []
        self.kinds: set[str] = set()  # the kinds of entry among the hits (maybe more), so the rules skip what is absent
        self.evidence: set[str] = set()  # categories with a term, maker, claim or device word among the hits
        self._bounds = bounds  # None: found when first needed
        self._spans: WordSpans | None = None

    @property
    def bounds(self) -> list[int]:
        """Word k runs from bounds[2k] to bounds[2k + 1] in the normalised text (found only when needed)."""
        if self._bounds is None:
            # Each word is the first occurrence of itself from the end of the one before: what lies between
            # two words is no part of any word, so it cannot hold the start of one. Compiled (setup.py), a
            # find per word; the bounds end with the text's length (as the gap after the last word ends).
            text = self.norm.text
            bounds: list[int] = []
            end = 0
            for word in self.words:
                start = text.find(word, end)
                end = start + len(word)
                bounds.append(start)
                bounds.append(end)
            bounds.append(len(text))
            self._bounds = bounds
        return self._bounds

    @property
    def spans(self) -> WordSpans:
        """Each word's span: spans[k].start()/.end() in the normalised text (as a regex match has)."""
        if self._spans is None:
            self._spans = WordSpans(self.bounds)
        return self._spans

    def gap_text(self, left_token: int, right_token: int) -> str:
        """The normalised text between the end of one word and the start of a later one."""
        bounds = self.bounds
        return self.norm.text[bounds[2 * left_token + 1] : bounds[2 * right_token]]


class Span(NamedTuple):
    begin: int
    stop: int

    def start(self) -> int:
        return self.begin

    def end(self) -> int:
        return self.stop


class WordSpans:
    """The words' spans, each made when asked for (the model's explanation asks for a few)."""

    __slots__ = ("_bounds",)

    def __init__(self, bounds: list[int]):
        self._bounds = bounds

    def __len__(self) -> int:
        return len(self._bounds) // 2

    def __getitem__(self, k: int) -> Span:
        if not 0 <= k < len(self):
            raise IndexError(k)
        return Span(self._bounds[2 * k], self._bounds[2 * k + 1])

    def __iter__(self) -> Iterator[Span]:  # compiled (setup.py), a class does not iterate by __getitem__ alone
        return map(self.__getitem__, range(len(self)))


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
        # keys whose entries are all category evidence (never dropped inside a spelled-out word)
        self.all_category = {
            key for key, entries in self.index.items() if all(e.kind in CATEGORY_KINDS for e in entries)
        }
        self.key_kinds = {key: {e.kind for e in entries} for key, entries in self.index.items()}
        self.key_evidence = {
            key: {e.owner for e in entries if e.kind in CATEGORY_KINDS and e.kind != "target"}
            for key, entries in self.index.items()
        }
        # what _hits needs of a key, in one look-up: its entries, their kinds, the categories they are
        # evidence for, and whether they are all category evidence
        self._key_facts = {
            key: (entries, self.key_kinds[key], self.key_evidence[key], key in self.all_category)
            for key, entries in self.index.items()
        }
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
        self._info_cache: dict[str, WordInfo] = {}
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

    def _word_info(self, word: str) -> WordInfo:
        """What the walk needs of a raw word (WordInfo): its stem or the watchlist words it may be a
        misspelling of, and those of them that can start a phrase."""
        info = self._info_cache.get(word)
        if info is None:
            stemmed = stem(word)
            forms: tuple[Form, ...]
            if len(stemmed) >= self.min_length and stemmed not in self.known and stemmed.isalpha():
                forms = self.correct(stemmed) or ((stemmed, 100.0),)
            else:
                forms = ((stemmed, 100.0),)
            info = WordInfo(forms, tuple(f for f in forms if f[0] in self.prefixes))
            if len(self._info_cache) >= CACHE_LIMIT:
                self._info_cache.clear()
            self._info_cache[word] = info
        return info

    @staticmethod
    def _walk(
        info: list[WordInfo],
        index: dict[str, list[Entry]],
        prefixes: set[str],
        found: dict[tuple[int, int, str], float],
        i: int,
        j: int,
        joined: str,
        score: float,
    ) -> None:
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
                for form, s in info[nxt].forms:
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
        found_words, bounds = words_and_bounds(norm.text)
        scan = FieldScan(field, norm, found_words, bounds)
        # each word's possible forms (its stem, or the watchlist words it may be a misspelling
        # of) and those that can start a phrase; cached, as words repeat across listings
        cached = self._info_cache
        info: list[WordInfo] = []
        for w in scan.words:
            known = cached.get(w)
            info.append(known if known is not None else self._word_info(w))
        found = self._found(info)
        if found:
            self._hits(scan, found)
        return scan

    def _found(self, info: list[WordInfo]) -> dict[tuple[int, int, str], float]:
        """{(first word, last word, key): score} of every key the words spell, in text order."""
        index, prefixes = self.index, self.prefixes
        n = len(info)
        found: dict[tuple[int, int, str], float] = {}
        for i in range(n):
            starters = info[i].starters  # the word's forms that can start a phrase
            if not starters:
                continue
            if len(starters) > 1:
                for form, score in starters:
                    self._walk(info, index, prefixes, found, i, i, form, score)
                continue
            # the common case: one form per word, walked without a stack; each (i, j) is met once
            joined, score = starters[0]
            j = i
            while True:
                if joined in index:
                    found[(i, j, joined)] = score
                j += 1
                if j >= n or j - i >= MAX_WALK:
                    break
                nxt = info[j]
                one = nxt.single
                if one is None:
                    self._walk(info, index, prefixes, found, i, j - 1, joined, score)
                    break
                joined += one
                if joined not in prefixes:
                    break
                if nxt.single_score < score:
                    score = nxt.single_score
        return found

    def _hits(self, scan: FieldScan, found: dict[tuple[int, int, str], float]) -> None:
        bounds = scan.bounds
        offsets = scan.norm.offsets
        found_words, field, hits = scan.words, scan.field, scan.hits
        add, kinds, evidence, key_facts = hits.append, scan.kinds, scan.evidence, self._key_facts
        # found is nearly always in text order already (only words read several ways are walked otherwise):
        # then the sort, stable, would change nothing, and is skipped
        in_order, last_i, last_j = True, -1, -1
        for (i, j, joined), score in found.items():
            if i < last_i or (i == last_i and j < last_j):
                in_order = False
            last_i, last_j = i, j
            entries, key_kinds, key_evidence, all_category = key_facts[joined]
            kinds |= key_kinds
            if key_evidence:
                evidence |= key_evidence
            start, end = bounds[2 * i], bounds[2 * j + 1]
            if offsets is not None:
                start, end = offsets[start], offsets[end - 1] + 1
            if all_category:
                for entry in entries:
                    add(_new_hit(Hit, (entry, field, i, j, start, end, score)))
                continue
            cuts = _cuts_through_spelled_word(found_words, i, j)
            for entry in entries:
                if entry.kind in CATEGORY_KINDS or not cuts:
                    add(_new_hit(Hit, (entry, field, i, j, start, end, score)))
        if not in_order:
            hits.sort(key=hit_order)


_new_hit = tuple.__new__  # a Hit without the keyword-handling __new__ of NamedTuple: scans make many
hit_order = itemgetter(2, 3)  # (first, last): a Hit's place in the text


def _cuts_through_spelled_word(found_words: list[str], first: int, last: int) -> bool:
    """True when a match starts or ends inside a run of single letters ("K.E.Y.L.E.S.S R.E.P").

    Such a run has lost its word boundaries, so "...S S R..." is not the word "ssr". Only
    device terms may match there; innocent contexts and cues must not. A Chinese character or
    kana is a one-character word by nature (normalise.WORD), not a spelled-out letter: cues
    such as "対策" (countermeasure) must match in a run of them.
    """
    if _spelled(found_words[first]) and first > 0 and _spelled(found_words[first - 1]):
        return True
    if _spelled(found_words[last]) and last + 1 < len(found_words) and _spelled(found_words[last + 1]):
        return True
    return False


def _spelled(word: str) -> bool:
    """A single Latin letter or digit: a piece of a word spelled out letter by letter."""
    return len(word) == 1 and word.isascii()
