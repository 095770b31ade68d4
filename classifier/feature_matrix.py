"""The training feature matrix: the features classifier.model.Model computes for a listing, built for many
listings at once so scikit-learn can fit on them (classifier.train).

    feats = featurise(rows, watchlist, categories, writers)   # each listing's words, pairs and rules flags, once
    vectoriser = Vectoriser(feats, train_rows)                # vocabulary and idf from those rows
    x = vectoriser.matrix(feats, rows)                        # sparse; a row is what Model.predict scores

Model and Vectoriser must agree to the last digit: `keywatch train --check` and the tests catch a drift.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass, field

from scipy import sparse

from classifier.evaluate import AMBIGUOUS
from classifier.model import _padded_ngrams, char_ngrams, listing_words, pairs, raw_words
from classifier.rules import has_innocent_evidence, weigh
from classifier.watchlist import Watchlist

MIN_DF = 2  # an n-gram must occur in at least this many training listings
MAX_WORDS = 20_000  # the most frequent words and word pairs kept
MAX_CHARS = 60_000  # the most frequent character n-grams kept (of 74,000 seen in 2+ listings, model 7)
MAX_RAW = 60_000  # the most frequent raw character n-grams kept
ROUND = 6  # decimals kept in the model file (idf here, weights in train)


@dataclass
class Featurised:
    rows: list[dict]
    labels: list[str]
    words: list  # (field, stemmed words) per field, per row
    rule_flags: list  # (rules category or None, rules score) per row
    innocent: list[bool] = field(default_factory=list)  # the rules found innocent evidence (a context, exclusion, cue)
    writers: list[str] = field(default_factory=list)  # who wrote each listing (writer_of its corpus)
    raw: list[Counter] = field(default_factory=list)  # {raw word: count} per row (model.raw_words)
    # Counted once per listing, not once per fold: {word or pair feature: count}, {word: count}, {word: n-grams}
    names: list[Counter] = field(init=False)
    tokens: list[Counter] = field(init=False)
    grams: dict[str, Counter] = field(init=False)
    raw_grams: dict[str, Counter] = field(init=False)
    word_counts: list[int] = field(init=False)

    def __post_init__(self):
        self.tokens = [Counter(_tokens(ws)) for ws in self.words]
        self.names = [Counter(["w:" + w for w in _tokens(ws)] + pairs(ws)) for ws in self.words]
        self.grams = {w: Counter(char_ngrams(w)) for counts in self.tokens for w in counts}
        self.raw_grams = {w: Counter(_padded_ngrams(w)) for counts in self.raw for w in counts}
        self.word_counts = [len(_tokens(ws)) for ws in self.words]  # as classify counts them (rules_alone_words)


def featurise(rows: list[dict], wl: Watchlist, categories: list[str], writers: list[str] | None = None) -> Featurised:
    writers = writers or [""] * len(rows)
    writers = [w for r, w in zip(rows, writers) if r["category"] != AMBIGUOUS]
    rows = [r for r in rows if r["category"] != AMBIGUOUS]
    words, flags, innocent, raw = [], [], [], []
    for row in rows:
        rules = weigh(row["title"], row["description"], wl)
        words.append(listing_words(rules))
        raw.append(Counter(raw_words(rules)))
        cat, score = rules.best()
        flags.append((cat if score >= wl.settings["flag_threshold"] else None, score))
        innocent.append(has_innocent_evidence(rules))
    labels = [r["category"] for r in rows]
    return Featurised(rows, labels, words, flags, innocent, writers, raw)


def _tokens(words) -> list[str]:
    return [w for _, stems in words for w in stems]


def _vocabulary(docs: list, limit: int) -> tuple[list[str], dict[str, int]]:
    """The features found in at least MIN_DF listings, the `limit` most frequent, and their document frequency."""
    df: dict[str, int] = {}
    for names in docs:
        for name in set(names):
            df[name] = df.get(name, 0) + 1
    kept = sorted((n for n, d in df.items() if d >= MIN_DF), key=lambda n: (-df[n], n))[:limit]
    return kept, df


def _unit(block: dict[int, float]) -> dict[int, float]:
    norm = math.sqrt(sum(v * v for v in block.values()))
    return {i: v / norm for i, v in block.items()} if norm else {}


class Vectoriser:
    """Builds the feature matrix exactly as classifier.model.Model.predict computes a listing's features:
    three TF-IDF blocks (character n-grams; words and pairs; raw character n-grams), each of unit length."""

    def __init__(self, feats: Featurised, rows: list[int]):
        vocab, df = _vocabulary([feats.names[i] for i in rows], MAX_WORDS)
        chars, char_df = _vocabulary([[g for w in feats.tokens[i] for g in feats.grams[w]] for i in rows], MAX_CHARS)
        raw, raw_df = _vocabulary([["r:" + g for w in feats.raw[i] for g in feats.raw_grams[w]] for i in rows], MAX_RAW)
        df.update(char_df)
        df.update(raw_df)
        self.names = sorted(vocab + chars + raw)
        self.index = {n: i for i, n in enumerate(self.names)}
        n = len(rows)
        self.idf = [round(math.log((1 + n) / (1 + df[name])) + 1, ROUND) for name in self.names]  # as stored
        self._grams: dict[str, Counter] = {}
        self._raw_grams: dict[str, Counter] = {}

    def _word_grams(self, word: str, feats: Featurised) -> Counter:
        grams = self._grams.get(word)
        if grams is None:
            index = self.index
            grams = self._grams[word] = Counter({index[g]: k for g, k in feats.grams[word].items() if g in index})
        return grams

    def _raw_word_grams(self, word: str, feats: Featurised) -> Counter:
        grams = self._raw_grams.get(word)
        if grams is None:
            index = self.index
            grams = Counter({index["r:" + g]: k for g, k in feats.raw_grams[word].items() if "r:" + g in index})
            self._raw_grams[word] = grams
        return grams

    def _row(self, feats: Featurised, r: int) -> dict[int, float]:
        block: dict[int, float] = {}
        for name, count in feats.names[r].items():
            i = self.index.get(name)
            if i is not None:
                block[i] = count * self.idf[i]
        row = _unit(block)
        # the blocks share no feature
        row.update(self._ngram_block(feats.tokens[r], lambda w: self._word_grams(w, feats)))
        row.update(self._ngram_block(feats.raw[r], lambda w: self._raw_word_grams(w, feats)))
        return row

    def _ngram_block(self, words: Counter, grams_of) -> dict[int, float]:
        """The n-grams of words, counted and idf-weighted, over a length that takes the words' vectors as
        apart (what Model computes from one cached number per word)."""
        block: dict[int, float] = {}
        square = 0.0
        for w, count in words.items():
            for i, k in grams_of(w).items():
                block[i] = block.get(i, 0.0) + count * k * self.idf[i]
                square += (count * k * self.idf[i]) ** 2
        return {i: v / math.sqrt(square) for i, v in block.items()}

    def matrix(self, feats: Featurised, rows: list[int]):
        data, cols, indptr = [], [], [0]
        for r in rows:
            row = self._row(feats, r)
            for i in sorted(row):
                cols.append(i)
                data.append(row[i])
            indptr.append(len(cols))
        return sparse.csr_matrix((data, cols, indptr), shape=(len(rows), len(self.names)))
