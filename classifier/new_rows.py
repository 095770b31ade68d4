"""The model's cache rows for words met for the first time, filled for a whole batch at once.

The model (classifier.model) keeps one cache row per word it has met: the word's share of the logits and
squared lengths, so scoring a listing only sums rows. A listing brings two or three words never met (prices,
SKUs); one word at a time, numpy's own cost per call was most of a new word's. So the words' n-grams and
features are collected here as plain lists while the batch's listings are read, and `fill` computes all their
rows in a handful of numpy calls, before the batch is scored.
"""

from __future__ import annotations

from collections import Counter

import numpy as np

# a row's n-gram shares: columns block * k to (block + 1) * k, its squared length at 3 * k + block
CHAR_BLOCK, RAW_BLOCK = 0, 2


class NewRows:
    """What the rows made since the last fill need: their n-grams and counts, word features and numbers in
    pair n-grams, as flat lists (rows from first_row on)."""

    def __init__(self, first_row: int = 0):
        self.first_row = first_row
        self.gram_rows: list[int] = []  # rows with n-grams in the vocabulary
        self.blocks: list[int] = []  # by those rows: CHAR_BLOCK or RAW_BLOCK
        self.sizes: list[int] = []  # by those rows: how many distinct n-grams
        self.grams: list[int] = []  # the n-grams, row after row
        self.counts: list[int] = []
        self.word_rows: list[int] = []  # rows whose word is a word feature
        self.word_ngrams: list[int] = []
        self.pair_rows: list[int] = []  # rows whose word is part of a pair n-gram
        self.pair_words: list[int] = []

    def add_grams(self, row: int, block: int, grams: Counter) -> None:
        self.gram_rows.append(row)
        self.blocks.append(block)
        self.sizes.append(len(grams))
        self.grams += grams
        self.counts += grams.values()

    def add_word(self, row: int, ngram: int) -> None:
        """The row's word is the word feature `ngram`."""
        self.word_rows.append(row)
        self.word_ngrams.append(ngram)

    def add_pair_word(self, row: int, number: int) -> None:
        """The row's word is part of pair n-grams, as word `number` (Model._pair_word)."""
        self.pair_rows.append(row)
        self.pair_words.append(number)

    def fill(self, stop: int, rows: np.ndarray, row_pair_word: np.ndarray, idf: np.ndarray, w: np.ndarray) -> None:
        """Write the numbers of rows first_row to `stop` into the cache's arrays; `w` is ngrams x classes."""
        first, k = self.first_row, w.shape[1]
        rows[first:stop] = 0.0
        row_pair_word[first:stop] = -1
        if self.pair_rows:
            row_pair_word[self.pair_rows] = self.pair_words
        if self.word_rows:
            # take(): indexing with an array, several times quicker (the same values)
            i = np.asarray(self.word_ngrams, dtype=np.intp)
            word_idf = idf.take(i)
            rows[self.word_rows, k : 2 * k] = word_idf[:, None] * w.take(i, axis=0)
            rows[self.word_rows, 3 * k + 1] = word_idf**2
        if self.gram_rows:
            idx = np.asarray(self.grams, dtype=np.intp)
            values = idf.take(idx) * np.asarray(self.counts, dtype=float)
            sizes = np.asarray(self.sizes, dtype=np.intp)
            starts = np.cumsum(sizes) - sizes  # each row's first n-gram (every row has one or more)
            gram_rows, blocks = np.asarray(self.gram_rows), np.asarray(self.blocks)
            # each row's shares go to its block's columns, its squared length to its block's
            rows[gram_rows[:, None], blocks[:, None] * k + np.arange(k)] = np.add.reduceat(
                values[:, None] * w.take(idx, axis=0), starts, axis=0
            )
            rows[gram_rows, 3 * k + blocks] = np.add.reduceat(values * values, starts)
