"""The learned layer: a linear model over the listing's character and word n-grams.

Features of a listing (the same functions serve training, classifier.train, and classifying),
read from the *normalised* words the rules' matcher split (so `K3YL3SS` is `keyless`, and a
Cyrillic look-alike reads as Latin), in two blocks, each TF-IDF weighted and scaled to unit
length (as scikit-learn's TfidfVectorizer does):
- character 2-5-grams of each word padded with spaces (char_wb): spelling variants and
  inflections share most of them ("przekaznik", "przekaznika"); a number has none;
- words and pairs of adjacent words (never crossing from title to description);
- character 2-5-grams of each *raw* word: the text as written, lower-cased, split at white
  space, punctuation and all ("r:" n-grams, as the TF-IDF baseline reads it): what
  normalisation folds away (a script, a spelling, the punctuation around a model number)
  still says something, and text the matcher does not split into words (Chinese, Japanese,
  Thai) is read at all.
The rules' evidence is not a feature: a model that reads the rules' scores learns to copy
them, and misses what they miss (a device described by what it does). The rules' say comes in
where classify() combines the two.

A block's share of the score is a sum of per-word parts over the block's length, so each
distinct word's (and raw word's) part is computed once and cached; that keeps the model cheap, and lets an
explanation say exactly how much each word and word pair pushed the probability.

The model is a multinomial logistic regression whose probabilities are calibrated by one
temperature fitted on k-fold predictions. It is stored as data, never as a pickle: a JSON file
with the vocabulary, idf, weights, temperature, flag thresholds and where it came from. Scoring
needs only numpy.
"""

from __future__ import annotations

import hashlib
import json
import math
import struct
from collections import Counter
from dataclasses import dataclass
from itertools import repeat
from pathlib import Path
from typing import Any

import numpy as np

from classifier.explanation import Scored, places, top_pushes
from classifier.flag_rule import FlagRule
from classifier.narrow import lower
from classifier.new_rows import CHAR_BLOCK, RAW_BLOCK, NewRows
from classifier.normalise import stem
from classifier.rules import Match, RuleResult

FORMAT = "keywatch-model/2"
CHAR_NGRAMS = (2, 5)
_CACHE_LIMIT = 100_000


class ModelError(ValueError):
    """A model file that cannot be used; the message names the file."""


def model_path_for(watchlist_path: Path) -> Path:
    """The model trained for a watchlist sits beside it: watchlist.yaml -> watchlist.model.json."""
    return Path(watchlist_path).with_suffix(".model.json")


def char_ngrams(word: str) -> list[str]:
    """The character n-gram features of one word ("c:" + n-gram of " word "). A number has none:
    prices, SKUs and phone numbers are new in nearly every listing, and their digits say nothing
    (the number itself is still a word feature: "433", "868")."""
    return ["c:" + g for g in _padded_ngrams(word)]


def _padded_ngrams(word: str) -> list[str]:
    if word.isdigit():
        return []
    padded = f" {word} "
    low, high = CHAR_NGRAMS
    return [padded[i : i + n] for n in range(low, high + 1) for i in range(len(padded) - n + 1)]


def raw_ngrams(word: str) -> list[str]:
    """The raw character n-gram features of one raw word (lower-cased, as written): "r:" + n-gram."""
    return ["r:" + g for g in _padded_ngrams(word)]


def raw_words(rules: RuleResult) -> list[str]:
    """The raw words of a listing: the text the rules read, split at white space, each lower-cased."""
    return [w for scan in rules.scans for w in lower(scan.norm.original).split()]


def listing_words(rules: RuleResult) -> list[tuple[str, list[str]]]:
    """(field, stemmed words) for title and description, as the matcher split them."""
    return [(scan.field, [stem(w) for w in scan.words]) for scan in rules.scans]


def pairs(words: list[tuple[str, list[str]]]) -> list[str]:
    """The word pair features ("b:") of a listing, in order; pairs never cross from title to description."""
    return [f"b:{a} {b}" for _, stems in words for a, b in zip(stems, stems[1:])]


@dataclass(init=False)  # __init__ written out: compiled, it is native code (see rules.Match)
class Prediction:
    probabilities: dict[str, float]  # class -> calibrated probability ("none" included)
    category: str  # the likeliest device category
    probability: float  # its probability
    device_probability: float  # 1 - P(none)
    scored: Scored  # the batch it was scored with, which explain() reads
    listing: int  # its place in that batch

    def __init__(
        self,
        probabilities: dict[str, float],
        category: str,
        probability: float,
        device_probability: float,
        scored: Scored,
        listing: int,
    ) -> None:
        self.probabilities = probabilities
        self.category = category
        self.probability = probability
        self.device_probability = device_probability
        self.scored = scored
        self.listing = listing


class Model:
    """A trained model loaded from its JSON file (see classifier.train for how it is made).

    Each word met is cached once (one row per stem): its character n-grams (index, count x idf)
    and their share of the logits, and its word feature. Scoring a listing sums the cached shares
    of its words, weighted by their counts, over the character block's length, and adds the word
    block (known words and pairs, count x idf, over that block's length). predict_many() does
    that for a batch of listings with a handful of numpy calls in all, whatever their number and length.
    """

    def __init__(self, data: dict, path: Path | None = None):
        self.path = path
        # Not the parsed file itself: its weights and idf as Python floats would stay alive beside the arrays made
        # from them (about 80 MB for model 17's 280,000 n-grams).
        self.training_info: dict = data["training_set"]
        self.kfold: dict = data.get("kfold", {})  # its out-of-fold figures, as `train` measured them
        self.classes: list[str] = data["classes"]
        self.categories: list[str] = [c for c in self.classes if c != "none"]
        self.none = self.classes.index("none")
        self.names: list[str] = data["ngrams"]
        self.index = {name: i for i, name in enumerate(self.names)}
        self.idf = np.asarray(data["idf"], dtype=float)
        weights = np.asarray(data["weights"], dtype=float)  # classes x ngrams
        if weights.shape != (len(self.classes), len(self.names)) or len(self.idf) != len(self.names):
            raise ValueError("weights, idf and n-grams do not fit together")
        self.w = np.ascontiguousarray(weights.T)  # ngrams x classes
        self.intercept = np.asarray(data["intercept"], dtype=float)
        self.device_indices = [i for i in range(len(self.classes)) if i != self.none]
        self.pair_index = {tuple(n[2:].split(" ")): i for i, n in enumerate(self.names) if n.startswith("b:")}
        # A listing's word pairs are looked up for a whole batch at once in numpy: each word of a
        # pair n-gram has a number, each pair n-gram the code first * size + second, sorted
        pair_words = sorted({w for pair in self.pair_index for w in pair})
        self._pair_word = {w: i for i, w in enumerate(pair_words)}
        self._pair_size = max(1, len(pair_words))
        codes = np.array(
            [self._pair_word[a] * self._pair_size + self._pair_word[b] for a, b in self.pair_index], dtype=np.int64
        )
        order = np.argsort(codes)
        self._pair_codes = codes[order]
        self._pair_ngrams = np.fromiter(self.pair_index.values(), dtype=np.intp, count=len(codes))[order]
        self.char_index = {n[2:]: i for i, n in enumerate(self.names) if n.startswith("c:")}
        self.raw_index = {n[2:]: i for i, n in enumerate(self.names) if n.startswith("r:")}  # none: an older model
        self.temperature = float(data["temperature"])
        self.threshold = float(data["threshold"])
        self.flag_rule = FlagRule(
            self.threshold,
            float(data.get("threshold_innocent", self.threshold)),
            math.inf if data["rules_alone"] is None else float(data["rules_alone"]),  # null: the rules never alone
            # older models: the rules' named device flagged whatever the model said, in any listing
            float(data.get("rules_alone_floor", 0.0)),
            int(data.get("rules_alone_words", 0)),
        )
        self.version = data["version"]
        self.training_set = data["training_set"]["hash"]
        self._clear()

    def _clear(self) -> None:
        self._word_rows: dict[str, int] = {}  # word as the matcher split it -> its row
        self._stem_rows: dict[str, int] = {}  # stem -> its row; bounded by _CACHE_LIMIT
        self._raw_rows: dict[str, int] = {}  # raw word (raw_words) -> its row
        self._stems: list[str] = []  # by row: the stem, or for a raw word's row the raw word
        self._raw: list[bool] = []  # by row: a raw word's
        k = len(self.classes)
        # by row: its character n-grams' share of the logits, its word feature's (idf x weights), its raw
        # n-grams' (a raw word's row has only these), then the squared lengths of the three vectors
        self._rows = np.zeros((_CACHE_LIMIT, 3 * k + 3))
        self._row_pair_word = np.full(_CACHE_LIMIT, -1, dtype=np.int64)  # by row: its number in pair n-grams
        self._new = NewRows()

    @property
    def info(self) -> dict:
        """What a classification records about the model that made it."""
        return {"version": self.version, "training_set": self.training_set, "threshold": self.threshold}

    def _word(self, raw: str) -> int:
        """The cache row of a word; one row per stem, so "key" and "keys" are one feature as in training.
        Its numbers are computed with the other new rows', in _fill_new_rows (classifier.new_rows)."""
        w = stem(raw)
        row = self._stem_rows.get(w)
        if row is None:
            row = len(self._stems)
            grams = Counter(map(self.char_index.get, _padded_ngrams(w)))
            grams.pop(None, None)  # n-grams not in the vocabulary
            new = self._new
            if grams:
                new.add_grams(row, CHAR_BLOCK, grams)
            i = self.index.get("w:" + w)
            if i is not None:
                new.add_word(row, i)
            pair_word = self._pair_word.get(w)
            if pair_word is not None:
                new.add_pair_word(row, pair_word)
            self._stem_rows[w] = row
            self._stems.append(w)
            self._raw.append(False)
        self._word_rows[raw] = row
        return row

    def _raw_word(self, word: str) -> int:
        """The cache row of a raw word: its raw n-grams' share of the logits and squared length (_fill_new_rows)."""
        row = self._raw_rows.get(word)
        if row is not None:  # met earlier in the same listing
            return row
        row = len(self._stems)
        grams = Counter(map(self.raw_index.get, _padded_ngrams(word)))
        grams.pop(None, None)
        if grams:
            self._new.add_grams(row, RAW_BLOCK, grams)
        self._raw_rows[word] = row
        self._stems.append(word)
        self._raw.append(True)
        return row

    def _fill_new_rows(self) -> None:
        """The numbers of the rows made since the last call (classifier.new_rows), before a batch is scored."""
        stop = len(self._stems)
        if self._new.first_row < stop:
            self._new.fill(stop, self._rows, self._row_pair_word, self.idf, self.w)
            self._new = NewRows(stop)

    def _features(self, rules: RuleResult, raw: list[str]) -> tuple[list[int], list[list[int]], list[int]]:
        """A listing's word rows (one per word, repeats included), the same by field, and its raw words'
        rows. Its word pairs are looked up in _score, for the whole batch at once (_pair_ngrams_of)."""
        word_rows, raw_rows = self._word_rows, self._raw_rows
        # Any: the cached rows (ints) pass through as they are; typed int, compiled code would unbox each one and
        # box it again to append it
        tokens: list[Any] = []
        fields: list[list[Any]] = []
        row: Any
        for scan in rules.scans:
            found: list[Any] = []
            for w in scan.words:
                row = word_rows.get(w)
                if row is None:
                    row = self._word(w)
                found.append(row)
            tokens += found
            fields.append(found)
        raw_found: list[Any] = []
        for w in raw:
            row = raw_rows.get(w)
            if row is None:
                row = self._raw_word(w)
            raw_found.append(row)
        return tokens, fields, raw_found

    def _pair_ngrams_one(self, fields: list[list[int]]) -> list[int]:
        """_pair_ngrams_of for one listing, by dictionary (a dozen numpy calls cost more for one
        listing): each pair's n-gram index in text order, -1 for a pair not in the vocabulary."""
        stems, pair_get = self._stems, self.pair_index.get
        out: list[int] = []
        for rows in fields:
            field_stems = list(map(stems.__getitem__, rows))
            out += map(pair_get, zip(field_stems, field_stems[1:]), _NOT_FOUND)
        return out

    def _pair_ngrams_of(self, batch: list[tuple], words: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The pair n-grams of a batch's listings: (n-gram index, listing) of every pair of adjacent
        words in the vocabulary, in text order (pairs never cross from title to description). `words`:
        the listings' word rows (their features' first lists) one after the other."""
        field_sizes = [len(f) for features in batch for f in features[1]]
        ids = self._row_pair_word.take(words)
        first, second = ids[:-1], ids[1:]
        ok = (first >= 0) & (second >= 0)
        ends = np.cumsum(field_sizes) - 1  # the last word of a field pairs with nothing after it
        ok[ends[(ends >= 0) & (ends < len(ok))]] = False
        at = np.flatnonzero(ok)
        codes = first[at] * self._pair_size + second[at]
        place = np.searchsorted(self._pair_codes, codes)
        known = place < len(self._pair_codes)
        known[known] = self._pair_codes[place[known]] == codes[known]
        listing_of = np.repeat(np.arange(len(batch)), [len(f[0]) for f in batch])
        return self._pair_ngrams[place[known]], listing_of[at[known]]

    def predict(self, rules: RuleResult) -> Prediction:
        """Calibrated probabilities for one listing (classes: "none" and every category)."""
        return self.predict_many([rules])[0]

    def predict_many(self, results: list[RuleResult]) -> list[Prediction]:
        """predict() for each listing, scored together: the per-listing work is looking its words up
        in the cache; counting them and the arithmetic run once per batch, in numpy."""
        out: list[Prediction] = []
        pending: list[tuple] = []
        for rules in results:
            raw = raw_words(rules) if self.raw_index else []
            if len(self._stems) + sum(len(scan.words) for scan in rules.scans) + len(raw) > _CACHE_LIMIT:
                out += self._score(pending)  # before the rows those listings use are dropped
                pending = []
                self._clear()
            pending.append(self._features(rules, raw))
        return out + self._score(pending)

    def _score(self, batch: list[tuple]) -> list[Prediction]:
        """Predictions for listings' features (see _features), in order.

        Each block's length: the character block takes the words' n-gram vectors as apart (one
        cached number per word instead of summing n-grams per listing); the word block is words,
        then pairs."""
        if not batch:
            return []
        self._fill_new_rows()
        n, k, vocabulary = len(batch), len(self.classes), len(self.names)
        if n == 1:  # one listing (classify()): a Counter is quicker than np.unique's overhead
            counted, counted_pairs = Counter(batch[0][0] + batch[0][2]), Counter(self._pair_ngrams_one(batch[0][1]))
            counted_pairs.pop(-1, None)  # not an n-gram
            rows = np.fromiter(counted, dtype=np.intp, count=len(counted))
            word_counts = np.fromiter(counted.values(), dtype=float, count=len(counted))
            pairs_found = np.fromiter(counted_pairs, dtype=np.intp, count=len(counted_pairs))
            pair_counts = np.fromiter(counted_pairs.values(), dtype=float, count=len(counted_pairs))
        else:
            # each listing's distinct words (cache rows) and known pairs (n-grams), counted; keyed by
            # listing * size + index, so one np.unique counts and orders them listing by listing
            # (each listing's words, then its raw words: one conversion of Python ints to numpy for both uses)
            sizes = [len(f[0]) + len(f[2]) for f in batch]
            flat: list[int] = []
            for features in batch:
                flat += features[0]
                flat += features[2]
            keys = _int64_array(flat)
            word_sizes = [size for f in batch for size in (len(f[0]), len(f[2]))]
            is_word = np.repeat(np.tile(np.array([True, False]), n), word_sizes)
            pair_ngrams, pair_listings = self._pair_ngrams_of(batch, keys[is_word])
            keys = keys + np.repeat(np.arange(0, n * _CACHE_LIMIT, _CACHE_LIMIT, dtype=np.int64), sizes)
            words, word_counts = np.unique(keys, return_counts=True)
            rows = words % _CACHE_LIMIT
            keys = pair_ngrams.astype(np.int64) + pair_listings.astype(np.int64) * vocabulary
            pairs, pair_counts = np.unique(keys, return_counts=True)
            pairs_found = pairs % vocabulary
        row_counts = word_counts.astype(float, copy=False)
        # take() gathers rows several times quicker than indexing with an array (the same values)
        cached = self._rows.take(rows, axis=0)
        by_row = cached * row_counts[:, None]
        by_row[:, 3 * k :] *= row_counts[:, None]  # squared lengths: count squared
        pair_values = self.idf.take(pairs_found) * pair_counts
        by_pair = np.empty((len(pairs_found), k + 1))
        np.multiply(pair_values[:, None], self.w.take(pairs_found, axis=0), out=by_pair[:, :k])
        np.multiply(pair_values, pair_values, out=by_pair[:, k])
        if n == 1:
            word_bounds, pair_bounds = [0, len(rows)], [0, len(pairs_found)]
            word_sums, pair_sums = by_row.sum(axis=0, keepdims=True), by_pair.sum(axis=0, keepdims=True)
        else:
            word_bounds = np.searchsorted(words, np.arange(0, (n + 1) * _CACHE_LIMIT, _CACHE_LIMIT)).tolist()
            pair_bounds = np.searchsorted(pairs, np.arange(0, (n + 1) * vocabulary, vocabulary)).tolist()
            word_sums, pair_sums = _sum_by_listing(by_row, word_bounds, n), _sum_by_listing(by_pair, pair_bounds, n)
        norms = np.empty((n, 3))
        norms[:, 0] = word_sums[:, 3 * k]
        np.add(word_sums[:, 3 * k + 1], pair_sums[:, k], out=norms[:, 1])
        norms[:, 2] = word_sums[:, 3 * k + 2]
        np.sqrt(norms, out=norms)
        norms[norms == 0] = 1.0
        char_norms, word_norms, raw_norms = norms[:, 0:1], norms[:, 1:2], norms[:, 2:3]
        by_words = word_sums[:, k : 2 * k] + pair_sums[:, :k]
        logits = self.intercept + word_sums[:, :k] / char_norms + by_words / word_norms
        logits += word_sums[:, 2 * k : 3 * k] / raw_norms
        exps = np.exp((logits - logits.max(axis=1, keepdims=True)) / self.temperature)
        scores = exps / exps.sum(axis=1, keepdims=True)
        probabilities = scores.tolist()
        devices = self.device_indices
        # the likeliest device category; on a tie the first, as argmax takes the first largest
        bests = np.asarray(devices)[scores[:, devices].argmax(axis=1)].tolist()
        scored = Scored(
            rows,
            row_counts,
            cached,
            norms,
            word_bounds,
            pairs_found,
            pair_values,
            pair_bounds,
            self._stems,  # explain_many() reads them after a later batch may have cleared the cache
            self._raw,
            [features[1] for features in batch],
        )
        classes, none = self.classes, self.none
        return [
            Prediction(dict(zip(classes, p)), classes[best], p[best], 1 - p[none], scored, i)
            for i, (p, best) in enumerate(zip(probabilities, bests))
        ]

    def explain(self, rules: RuleResult, prediction: Prediction, category: str) -> list[Match]:
        """The words, raw words and word pairs that pushed `category` most against "none" (in log-odds),
        with their places in the text. A word's push is its character n-grams' and its word feature's; a
        raw word's its raw n-grams'."""
        return self.explain_many([(rules, prediction, category)])[0]

    def explain_many(self, flagged: list[tuple[RuleResult, Prediction, str]]) -> list[list[Match]]:
        """explain() for each (rules, prediction, category), the pushes of a batch's listings found together:
        a dozen numpy calls for the batch instead of as many for each listing."""
        out: list[list[Match]] = [[] for _ in flagged]
        by_batch: dict[int, list[int]] = {}  # predictions scored together share their arrays
        for at, (_, prediction, _) in enumerate(flagged):
            by_batch.setdefault(id(prediction.scored), []).append(at)
        for ats in by_batch.values():
            scored = flagged[ats[0]][1].scored
            listings = [flagged[at][1].listing for at in ats]
            columns = [self.classes.index(flagged[at][2]) for at in ats]
            tops = top_pushes(scored, listings, columns, self.w, self.none, self.names)
            for at, listing, top in zip(ats, listings, tops):
                rules, _, category = flagged[at]
                out[at] = places(rules, top, scored.fields[listing], scored.stems, category)
        return out


_NOT_FOUND = repeat(-1)  # dict.get's default, for map()


def _int64_array(values: list[int]) -> np.ndarray:
    """np.array(values, dtype=np.int64), read-only: struct packs Python ints at C speed, where numpy converts
    each through its generic per-element path (np.fromiter, np.array: about 2.5 times the instructions)."""
    return np.frombuffer(struct.pack(f"{len(values)}q", *values), dtype=np.int64)


def _sum_by_listing(values: np.ndarray, bounds: list[int], n: int) -> np.ndarray:
    """The sum of values[bounds[i]:bounds[i + 1]] for each of n listings (rows in listing order)."""
    starts = [bounds[i] for i in range(n) if bounds[i + 1] > bounds[i]]
    if len(starts) == n:
        return np.add.reduceat(values, starts, axis=0)
    out = np.zeros((n, values.shape[1]))
    if starts:
        out[[i for i in range(n) if bounds[i + 1] > bounds[i]]] = np.add.reduceat(values, starts, axis=0)
    return out


def load_model(path: str | Path) -> Model:
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
        data = json.loads(text)
    except OSError as exc:
        raise ModelError(f"{path}: cannot read the model: {exc.strerror or exc}") from None
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise ModelError(f"{path}: not a keywatch model ({exc})") from None
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise ModelError(f"{path}: not a keywatch model (expected format {FORMAT})")
    version = data.get("version")
    if not _text_has_version(text, version) and version != content_version(data):
        raise ModelError(f"{path}: the model's content does not match its version (edited by hand?)")
    try:
        return Model(data, path)
    except (KeyError, TypeError, ValueError, IndexError, AttributeError) as exc:
        raise ModelError(f"{path}: not a usable keywatch model ({type(exc).__name__}: {exc})") from None


def content_version(data: dict) -> str:
    """The model's version: the first 16 hex digits of the SHA-256 of everything else in it."""
    body = {k: v for k, v in data.items() if k != "version"}
    return hashlib.sha256(_canonical(body).encode()).hexdigest()[:16]


def model_text(data: dict) -> str:
    """The model file's text: the canonical JSON its version is the hash of, with the version among its keys. Read
    back, the text without the version is the body's canonical JSON, so loading checks the version on the text as
    read (_text_has_version) instead of serialising 13 MB again (0.45 s of every process that loads the model)."""
    return _canonical(data) + "\n"


def _canonical(data: dict) -> str:
    return json.dumps(data, sort_keys=True, separators=(",", ":"))


def _text_has_version(text: str, version) -> bool:
    """Whether `text` is model_text of a body whose version is `version`; False for a file laid out otherwise
    (written by hand, or before model 9), which load_model then checks the slow way."""
    if not isinstance(version, str):
        return False
    body = text.removesuffix("\n").replace(f',"version":{json.dumps(version)}', "", 1)
    return hashlib.sha256(body.encode()).hexdigest()[:16] == version
