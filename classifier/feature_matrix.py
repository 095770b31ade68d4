"""The training feature matrix: the features classifier.model.Model computes for a listing, built for many
listings at once so scikit-learn can fit on them (classifier.train).

    feats = featurise(rows, watchlist, categories, writers)   # each listing's words, pairs and rules flags, once
    vectoriser = Vectoriser(feats, train_rows)                # vocabulary and idf from those rows
    x = vectoriser.matrix(feats, rows)                        # sparse; a row is what Model.predict scores

Each block's features are counted once per featurised set, as sparse matrices (`Block`); a fold's vocabulary, idf
and matrix are then a few sparse products, not a walk over every listing's n-grams per fold (that took 16 of each
fit's 40 CPU-seconds, model 8). Model and Vectoriser must agree (to rounding): `keywatch train --check` and the
tests catch a drift.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np
from scipy import sparse

from classifier.evaluate import AMBIGUOUS
from classifier.model import _padded_ngrams, char_ngrams, listing_words, pairs, raw_words
from classifier.rules import has_innocent_evidence, weigh
from classifier.watchlist import Watchlist

MIN_DF = 2  # an n-gram must occur in at least this many training listings
# The most frequent words and word pairs, character n-grams and raw character n-grams kept. Twice model 16's
# 20,000 / 60,000 / 60,000 since model 17: on model 16's data with phase 17 and written_bg_train, k-fold by writer
# at its best thresholds P 0.9722 R 0.9624 against 0.9706 / 0.9607 (on model 15's data +0.0017 / +0.0020; four times
# gained nothing more), for a model file twice the size (about 28 MB, 8.5 MB compressed in git).
MAX_WORDS = 40_000
MAX_CHARS = 120_000
MAX_RAW = 120_000
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
    word_counts: list[int] = field(init=False)

    def __post_init__(self):
        self.word_counts = [len(_tokens(ws)) for ws in self.words]  # as classify counts them (rules_alone_words)

    @cached_property
    def blocks(self) -> list[Block]:
        """The three TF-IDF blocks, counted over every row: words and pairs, character n-grams, raw n-grams."""
        tokens = [Counter(_tokens(ws)) for ws in self.words]
        names = [Counter(["w:" + w for w in _tokens(ws)] + pairs(ws)) for ws in self.words]
        return [
            Block.of_features(names),
            Block.of_word_ngrams(tokens, lambda w: Counter(char_ngrams(w))),
            Block.of_word_ngrams(self.raw, lambda w: Counter("r:" + g for g in _padded_ngrams(w))),
        ]


@dataclass
class Block:
    """One TF-IDF block of a featurised set, counted once: `counts[r, j]` is how often feature `names[j]` (sorted)
    occurs in listing r. A listing's squared length before the idf is `squares[r]` . idf²: for the n-gram blocks,
    the sum over its distinct words of count² x the word's n-gram counts squared (the words' vectors taken as
    apart, as Model computes it); for words and pairs, the usual one."""

    names: list[str]
    counts: sparse.csr_matrix  # listings x features
    units: sparse.csr_matrix  # listings x units (distinct words, or the features themselves): counts squared
    unit_features: sparse.csr_matrix  # units x features: each unit's feature counts squared

    @classmethod
    def of_features(cls, per_row: list[Counter]) -> Block:
        names = sorted({n for counts in per_row for n in counts})
        counts = _matrix(per_row, {n: j for j, n in enumerate(names)})
        return cls(names, counts, counts.power(2), sparse.identity(len(names), format="csr"))

    @classmethod
    def of_word_ngrams(cls, per_row: list[Counter], ngrams_of) -> Block:
        words = sorted({w for counts in per_row for w in counts})
        grams = [ngrams_of(w) for w in words]
        names = sorted({g for counts in grams for g in counts})
        units = _matrix(per_row, {w: j for j, w in enumerate(words)})
        unit_features = _matrix(grams, {n: j for j, n in enumerate(names)})
        return cls(names, (units @ unit_features).tocsr(), units.power(2), unit_features.power(2))

    def vocabulary(self, rows: list[int], limit: int) -> tuple[np.ndarray, np.ndarray]:
        """The features (indices) found in at least MIN_DF of the rows, the `limit` most frequent (ties by name),
        and their document frequency."""
        df = self.counts[rows].getnnz(axis=0)
        found = np.flatnonzero(df >= MIN_DF)
        kept = found[np.lexsort((found, -df[found]))][:limit]
        return kept, df[kept]


def _matrix(per_row: list[Counter], index: dict[str, int]) -> sparse.csr_matrix:
    cols = [index[name] for counts in per_row for name in counts]
    data = [float(k) for counts in per_row for k in counts.values()]
    indptr = np.cumsum([0] + [len(counts) for counts in per_row])
    out = sparse.csr_matrix((data, cols, indptr), shape=(len(per_row), len(index)))
    out.sort_indices()
    return out


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


class Vectoriser:
    """Builds the feature matrix exactly as classifier.model.Model.predict computes a listing's features:
    three TF-IDF blocks (words and pairs; character n-grams; raw character n-grams), each of unit length."""

    def __init__(self, feats: Featurised, rows: list[int]):
        kept = [block.vocabulary(rows, limit) for block, limit in zip(feats.blocks, (MAX_WORDS, MAX_CHARS, MAX_RAW))]
        df = {
            block.names[j]: d for block, (js, ds) in zip(feats.blocks, kept) for j, d in zip(js.tolist(), ds.tolist())
        }
        self.names = sorted(df)
        self.index = {n: i for i, n in enumerate(self.names)}
        n = len(rows)
        self.idf = [round(math.log((1 + n) / (1 + df[name])) + 1, ROUND) for name in self.names]  # as stored

    def matrix(self, feats: Featurised, rows: list[int]) -> sparse.csr_matrix:
        """The rows' features, in the order of `names`; features the vocabulary lacks count nothing."""
        idf = np.array(self.idf)
        out = sparse.csr_matrix((len(rows), len(self.names)))
        for block in feats.blocks:
            found = [(j, self.index[name]) for j, name in enumerate(block.names) if name in self.index]
            js, cols = np.array([j for j, _ in found], dtype=np.intp), np.array([c for _, c in found], dtype=np.intp)
            # a block's features moved to their columns, weighted by their idf (one product per entry: exact)
            place = sparse.csr_matrix((idf[cols], (js, cols)), shape=(len(block.names), len(self.names)))
            squared_idf = np.zeros(len(block.names))
            squared_idf[js] = idf[cols] ** 2
            squares = block.units[rows] @ (block.unit_features @ squared_idf)
            scale = np.divide(1.0, np.sqrt(squares), out=np.zeros(len(rows)), where=squares > 0)
            out = out + sparse.diags(scale) @ (block.counts[rows] @ place)
        out.sort_indices()
        return out.tocsr()
