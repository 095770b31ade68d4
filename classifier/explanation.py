"""Why the model flagged a listing: the words, raw words and word pairs that pushed its category most against
"none" (in log-odds), and where they stand in the text.

A word's push is its character n-grams' and its word feature's share of the logits, a raw word's its raw
n-grams', a pair's its weight, each over its block's length (classifier.model). The pushes of a batch's flagged
listings are found together, in a dozen numpy calls for the batch (one listing, as classify() has, takes slices and
np.partition); then each listing's top EXPLAIN_TOP are named and found in its text (classifier.feature_places).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Final

import numpy as np

from classifier.feature_places import positions, raw_word_places, word_places
from classifier.rules import Match, RuleResult

EXPLAIN_TOP: Final = 5  # n-grams listed per flag


def top_pushes(
    scored: Scored, listings: list[int], columns: list[int], w: np.ndarray, none: int, names: list[str]
) -> list[list[tuple]]:
    """For each listing of a batch and its category's column, the EXPLAIN_TOP features that pushed it most
    against "none" (column `none`; `w` is the model's weights, n-grams x classes, `names` its n-grams): (name,
    push, cache row or None for a pair), largest first, ties by name."""
    k, m = w.shape[1], len(listings)
    c: Any  # a listing's column and lengths: numbers for one listing, arrays by word (and pair) for several
    pair_column: Any
    char_norm: Any
    word_norm: Any
    raw_norm: Any
    pair_norm: Any
    if m == 1:  # one listing (classify()): slices and numbers, a dozen numpy calls fewer than for a batch
        i = listings[0]
        word_at = np.arange(scored.word_bounds[i], scored.word_bounds[i + 1])
        pair_at = np.arange(scored.pair_bounds[i], scored.pair_bounds[i + 1])
        word_owner, pair_owner = np.zeros(len(word_at), dtype=np.intp), np.zeros(len(pair_at), dtype=np.intp)
        c = pair_column = columns[0]
        char_norm, word_norm, raw_norm = scored.norms[i].tolist()
        pair_norm = word_norm
    else:
        word_at, word_owner = _ranges(scored.word_bounds, listings)
        pair_at, pair_owner = _ranges(scored.pair_bounds, listings)
        norms = scored.norms[listings]
        column = np.asarray(columns, dtype=np.intp)
        c, pair_column, listing_norms = column[word_owner], column[pair_owner], norms[word_owner]
        char_norm, word_norm, raw_norm = listing_norms[:, 0], listing_norms[:, 1], listing_norms[:, 2]
        pair_norm = norms[pair_owner, 1]
    # the six cached numbers each word's push needs, read from the flat array (not whole rows); take() is
    # indexing with an array, quicker
    shares, at = scored.cached.ravel(), word_at * scored.cached.shape[1]
    by_word = scored.row_counts.take(word_at) * (
        (shares.take(at + c) - shares.take(at + none)) / char_norm
        + (shares.take(at + (k + c)) - shares.take(at + (k + none))) / word_norm
        + (shares.take(at + (2 * k + c)) - shares.take(at + (2 * k + none))) / raw_norm
    )
    pairs = scored.pairs_found.take(pair_at)
    by_pair = scored.pair_values.take(pair_at) * (w[pairs, pair_column] - w[pairs, none])
    by_pair /= pair_norm
    pushes = np.concatenate((by_word, by_pair))
    # Only positive pushes are named, and of those only each listing's largest EXPLAIN_TOP (ties with the
    # last included): at least the EXPLAIN_TOP-th largest, its floor
    owners = np.concatenate((word_owner, pair_owner))
    positive = np.flatnonzero(pushes > 0)
    owner, push = owners[positive], pushes[positive]
    floors = _floors(push, owner, m)
    candidates = positive[push >= floors[owner]]
    n_words = len(word_at)
    words = candidates[candidates < n_words]
    rows = scored.rows[word_at[words]].tolist()
    pair_ngrams = pairs[candidates[len(words) :] - n_words].tolist()
    values, of_listing = pushes[candidates].tolist(), owners[candidates].tolist()
    stems, is_raw, names = scored.stems, scored.is_raw, names
    found: list[list[tuple]] = [[] for _ in listings]
    for i, (value, listing) in enumerate(zip(values, of_listing)):
        if i < len(rows):
            row = rows[i]
            found[listing].append((("r:" if is_raw[row] else "w:") + stems[row], value, row))
        else:
            found[listing].append((names[pair_ngrams[i - len(rows)]], value, None))
    return [sorted(push, key=_push_order)[:EXPLAIN_TOP] for push in found]


def places(rules: RuleResult, top: list[tuple], field_rows: list[list[int]], stems: list[str], category: str):
    """The places in the text of a listing's top pushes (top_pushes), as matches of kind "ngram"."""
    words = [(name, row) for name, _, row in top if row is not None and not name.startswith("r:")]
    rows_at = positions(field_rows, {row for _, row in words}) if words else []
    field_stems, stems_at = None, []
    pairs = [name[2:].split(" ") for name, _, row in top if row is None]
    if pairs:
        field_stems = [list(map(stems.__getitem__, r)) for r in field_rows]
        stems_at = positions(field_stems, {first for first, *_ in pairs})
    out: list[Match] = []
    for name, value, row in top:
        push = round(value, 3)
        if name.startswith("r:"):
            out += raw_word_places(rules, name, category, push)
        elif row is not None:  # a word: found by its cache row (one per stem) among the listing's rows
            out += word_places(rules, field_rows, [at.get(row, []) for at in rows_at], [], name, category, push)
        else:
            first, *rest = name[2:].split(" ")
            first_at = [at.get(first, []) for at in stems_at]
            out += word_places(rules, field_stems or [], first_at, rest, name, category, push)
    return out


def _floors(push: np.ndarray, owner: np.ndarray, m: int) -> np.ndarray:
    """Each of m listings' EXPLAIN_TOP-th largest push (0 when it has no more than EXPLAIN_TOP), from the pushes and
    their listings: for several, the pushes sorted by size, then (stably) by listing."""
    if m == 1:
        top = len(push) - EXPLAIN_TOP
        return np.array([np.partition(push, top)[top] if top > 0 else 0.0])
    by_push = np.argsort(-push)
    owner_type = np.uint16 if m <= 1 << 16 else np.intp  # numpy sorts 16-bit integers stably by radix
    order = by_push[np.argsort(owner[by_push].astype(owner_type), kind="stable")]
    sizes = np.bincount(owner, minlength=m)
    floors = np.zeros(m)
    many = np.flatnonzero(sizes > EXPLAIN_TOP)
    floors[many] = push[order[(np.cumsum(sizes) - sizes)[many] + EXPLAIN_TOP - 1]]
    return floors


def _push_order(push: tuple) -> tuple:
    return -push[1], push[0]


def _ranges(bounds: list[int], listings: list[int]) -> tuple[np.ndarray, np.ndarray]:
    """The positions bounds[i] to bounds[i + 1] of each listing i of `listings`, one after the other, and
    for each position which of them it belongs to (its index in `listings`)."""
    starts = np.asarray([bounds[i] for i in listings], dtype=np.intp)
    sizes = np.asarray([bounds[i + 1] - bounds[i] for i in listings], dtype=np.intp)
    owner = np.repeat(np.arange(len(listings)), sizes)
    return np.arange(len(owner)) + np.repeat(starts - (np.cumsum(sizes) - sizes), sizes), owner


@dataclass
class Scored:
    """A scored batch's arrays, which the explanation reads: each listing's distinct cache rows (words and raw words)
    from word_bounds[i] to word_bounds[i + 1], with their counts and cached rows, and its pair n-grams likewise;
    the three blocks' lengths by listing; and each listing's word rows by field."""

    rows: np.ndarray
    row_counts: np.ndarray
    cached: np.ndarray
    norms: np.ndarray
    word_bounds: list[int]
    pairs_found: np.ndarray
    pair_values: np.ndarray
    pair_bounds: list[int]
    stems: list[str]
    is_raw: list[bool]
    fields: list[list[list[int]]]
